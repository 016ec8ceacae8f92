//! One kind of records ("orders", "support requests") from "My data", all of them, a page at a
//! time, newest first: "My data" shows the newest of each kind, this page the rest. Read as the
//! person through the access decision, each page ledgered (`record.list`).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use mamori_core::vault::{page_cursor, parse_page_cursor};
use mamori_policy::{Language, RIGHTS_PURPOSE};
use mamori_proto::ErrorCode;
use serde::Deserialize;

use crate::AppState;
use crate::privacy::{html_page, page_language};
use crate::privacy_center::{RecordData, Strings, record_data, signed_in, strings};
use crate::problem::ApiError;

/// Records per page.
const PAGE: usize = 20;

struct Words {
    intro: &'static str,
    older: &'static str,
    back: &'static str,
}

fn words(lang: Language) -> Words {
    match lang {
        Language::En => Words {
            intro: "Every record of this kind that we hold about you, newest first.",
            older: "Older records",
            back: "Back to My data",
        },
        Language::Ja => Words {
            intro: "お客様について保存しているこの種類の記録すべてです（新しい順）。",
            older: "さらに前の記録",
            back: "マイデータに戻る",
        },
        Language::Fr => Words {
            intro: "Tous les enregistrements de ce type que nous détenons sur vous, du plus récent au plus ancien.",
            older: "Enregistrements plus anciens",
            back: "Retour à Mes données",
        },
    }
}

#[derive(Template)]
#[template(path = "records.html")]
struct RecordsPage {
    lang: &'static str,
    s: Strings,
    w: Words,
    organisation: String,
    title: String,
    records: Vec<RecordData>,
    /// The next page's address, when there are older records.
    older: Option<String>,
}

#[derive(Deserialize)]
pub struct RecordsQuery {
    kind: Option<String>,
    /// Where the previous page ended (its "Older records" link says).
    before: Option<String>,
    lang: Option<String>,
}

/// `GET /privacy/me/records?kind=orders[&before=…]`.
pub async fn my_records(
    State(s): State<AppState>,
    query: Result<Query<RecordsQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
) -> Response {
    let Ok(Query(q)) = query else {
        return ApiError::bad_request(
            ErrorCode::InvalidQuery,
            "query parameters: kind, before, lang",
        )
        .into_response();
    };
    let policy = &s.vault.policy;
    let lang = page_language(policy, q.lang.as_deref());
    let (subject, actor) = match signed_in(&s, &headers, lang).await {
        Ok(session) => session,
        Err(r) => return r,
    };
    let Some(category) = q.kind.as_deref().and_then(|k| policy.category(k)) else {
        return ApiError::Plain {
            status: StatusCode::NOT_FOUND,
            code: ErrorCode::UnknownKind,
            detail: "no such kind of record in the policy".into(),
            field: Some("kind".into()),
        }
        .into_response();
    };
    let before = match q.before.as_deref().map(parse_page_cursor) {
        None => None,
        Some(Some(cursor)) => Some(cursor),
        Some(None) => {
            return ApiError::bad_request(
                ErrorCode::InvalidCursor,
                "`before` must be the value an \"Older records\" link carries",
            )
            .into_response();
        }
    };
    let read = s
        .vault
        .record_page(
            &actor,
            RIGHTS_PURPOSE,
            &subject,
            &category.name,
            before,
            PAGE as i64 + 1,
        )
        .await;
    let mut records = match read {
        Ok(records) => records,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let more = records.len() > PAGE;
    records.truncate(PAGE);
    let older = records.last().filter(|_| more).map(|last| {
        format!(
            "/privacy/me/records?kind={}&before={}&lang={}",
            category.name,
            page_cursor(last),
            lang.code()
        )
    });
    let page = RecordsPage {
        lang: lang.code(),
        s: strings(lang),
        w: words(lang),
        organisation: policy.organisation.name.clone(),
        title: category.label.get(lang).to_string(),
        records: records
            .iter()
            .map(|r| record_data(category, r, lang))
            .collect(),
        older,
    };
    html_page(page.render())
}
