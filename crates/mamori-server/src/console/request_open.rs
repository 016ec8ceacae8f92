//! Recording a request that arrived by e-mail or post (`POST /console/requests`): its kind, the
//! law it falls under, the day it arrived, and — when known — the customer, found by e-mail,
//! phone or external id for the rights purpose (a decided, ledgered lookup). The vault opens it
//! (decided, ledgered, announced) with the deadline its law sets; it starts "not verified".

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mamori_core::CoreError;
use mamori_core::requests::NewRequest;
use mamori_crypto::LookupKind;
use mamori_policy::{Language, RIGHTS_PURPOSE};
use serde::Deserialize;

use super::requests::register_page;
use super::signed_in;
use crate::AppState;
use crate::privacy::page_language;

pub(crate) struct OpenWords {
    pub(crate) heading: &'static str,
    pub(crate) intro: &'static str,
    pub(crate) received_on: &'static str,
    pub(crate) customer: &'static str,
    pub(crate) customer_hint: &'static str,
    pub(crate) record: &'static str,
    pub(crate) due_filter: &'static str,
    pub(crate) within_week: &'static str,
    pub(crate) find_reference: &'static str,
}

const EN: OpenWords = OpenWords {
    heading: "Record a request received by e-mail or post",
    intro: "Its deadline follows from its law and the day it arrived. It starts not verified: check who is asking before you answer it.",
    received_on: "Received on (empty: today)",
    customer: "The customer's e-mail, phone (+…) or external id (if known)",
    customer_hint: "Looked up for the rights purpose; the lookup is in the ledger.",
    record: "Record the request",
    due_filter: "Due",
    within_week: "within a week",
    find_reference: "Reference (R-…), any state",
};

const JA: OpenWords = OpenWords {
    heading: "メールや郵便で受け付けた請求を登録",
    intro: "期限は適用法と受付日から決まります。登録時は本人確認前です。回答の前に請求者を確認してください。",
    received_on: "受付日（空欄：今日）",
    customer: "お客様のメールアドレス、電話番号（+…）または外部ID（わかる場合）",
    customer_hint: "権利行使の目的で検索し、検索は台帳に記録されます。",
    record: "請求を登録する",
    due_filter: "期限",
    within_week: "1週間以内",
    find_reference: "受付番号（R-…）、状態を問わず",
};

const FR: OpenWords = OpenWords {
    heading: "Enregistrer une demande reçue par e-mail ou par courrier",
    intro: "Son échéance découle de sa loi et du jour de réception. Elle commence non vérifiée\u{a0}: vérifiez qui la fait avant d’y répondre.",
    received_on: "Reçue le (vide\u{a0}: aujourd’hui)",
    customer: "L’e-mail, le téléphone (+…) ou l’identifiant externe du client (s’il est connu)",
    customer_hint: "Recherché pour la finalité des droits\u{a0}; la recherche figure au registre.",
    record: "Enregistrer la demande",
    due_filter: "Échéance",
    within_week: "sous une semaine",
    find_reference: "Référence (R-…), quel que soit l’état",
};

pub(crate) fn open_words(lang: Language) -> OpenWords {
    match lang {
        Language::En => EN,
        Language::Ja => JA,
        Language::Fr => FR,
    }
}

#[derive(Deserialize)]
pub struct OpenForm {
    csrf: String,
    lang: Option<String>,
    kind: String,
    jurisdiction: String,
    #[serde(default)]
    received: String,
    #[serde(default)]
    customer: String,
}

/// How a typed identifier is looked up: an address has an @, a number starts with + or a digit.
pub(super) fn lookup_kind(value: &str) -> LookupKind {
    if value.contains('@') {
        LookupKind::Email
    } else if value.starts_with('+') {
        LookupKind::Phone
    } else {
        LookupKind::ExternalId
    }
}

pub async fn open(
    State(s): State<AppState>,
    headers: HeaderMap,
    form: Result<axum::Form<OpenForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let lang = page_language(
        &s.vault.policy,
        form.as_ref().ok().and_then(|f| f.lang.as_deref()),
    );
    let signed = match signed_in(&s, &headers, lang).await {
        Ok(signed) => signed,
        Err(answer) => return answer,
    };
    let w = super::words::words(lang);
    let said = |text: &str| Some(text.to_string());
    let form = match form {
        Ok(axum::Form(f)) if signed.form_is_ours(&s, &headers, &f.csrf) => f,
        _ => return register_page(&s, lang, &signed, &Default::default(), said(w.bad_form)).await,
    };
    let received_ms = match form.received.trim() {
        "" => None,
        day => match super::forms::day_start_ms(day) {
            Some(ms) => Some(ms),
            None => {
                return register_page(&s, lang, &signed, &Default::default(), said(w.bad_value))
                    .await;
            }
        },
    };
    let opened = match s.vault.staff_actor(&signed.session, "request.open").await {
        Ok(actor) => {
            let customer = form.customer.trim();
            let subject = match customer {
                "" => Ok(None),
                value => (s.vault)
                    .lookup(&actor, RIGHTS_PURPOSE, lookup_kind(value), value)
                    .await
                    .and_then(|ids| {
                        let id = ids.first().and_then(|i| mamori_core::parse_id(i));
                        id.map(Some).ok_or(CoreError::NotFound)
                    }),
            };
            match subject {
                Ok(subject) => {
                    let new = NewRequest {
                        kind: form.kind.clone(),
                        subject,
                        jurisdiction: form.jurisdiction.clone(),
                        source: "staff".into(),
                        received_ms,
                    };
                    s.vault.open_request(&actor, new).await
                }
                Err(e) => Err(e),
            }
        }
        Err(e) => Err(e),
    };
    let error = match opened {
        Ok(row) => {
            let id = mamori_core::format_id(&row.id);
            let to = format!("/console/requests/{id}?lang={}", lang.code());
            return (StatusCode::SEE_OTHER, [(header::LOCATION, to)]).into_response();
        }
        Err(CoreError::Denied(d)) => format!("{} ({})", w.refused_by_policy, d.code()),
        Err(CoreError::NotFound) => w.no_customer.to_string(),
        Err(CoreError::Invalid { .. } | CoreError::Missing { .. }) => w.bad_value.to_string(),
        Err(e) => return crate::problem::ApiError::from(e).into_response(),
    };
    register_page(&s, lang, &signed, &Default::default(), Some(error)).await
}
