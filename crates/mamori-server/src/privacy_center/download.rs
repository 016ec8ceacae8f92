//! "Download my data": core's export as a zip of JSON and CSV.

use super::*;

/// "Download my data": a zip of JSON and CSV files with every field, record and consent the
/// person has, read as the person (each read ledgered). Built in memory: one person's data.
pub async fn download(
    State(s): State<AppState>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = page_language(&s.vault.policy, q.lang.as_deref());
    let (subject, actor) = match signed_in(&s, &headers, lang).await {
        Ok(session) => session,
        Err(r) => return r,
    };
    let export = match s.vault.export_own(&actor, &subject).await {
        Ok(export) => export,
        Err(e) => return crate::problem::ApiError::from(e).into_response(),
    };
    match crate::export::zip(&export) {
        Ok(bytes) => {
            let mut r = bytes.into_response();
            let h = r.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/zip"),
            );
            h.insert(
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("attachment; filename=\"my-data.zip\""),
            );
            r
        }
        Err(e) => {
            tracing::error!(error = %e, "export archive failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
