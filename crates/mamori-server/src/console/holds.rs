//! `/console/admin/holds`: for roles with `admin = ["retention"]`, the legal holds in force, placing
//! one — on a customer (found by a ledgered lookup for the rights purpose), on a category for
//! everyone, or both; a sensitive step, since it keeps data past retention and erasure — and lifting
//! one (what it kept waiting is then carried out by the sweep).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use mamori_core::CoreError;
use mamori_core::legal_holds::HoldRequest;
use mamori_crypto::LookupKind;
use mamori_policy::{Language, RIGHTS_PURPOSE};
use mamori_proto::holds::{HoldReason, LegalHold};
use serde::Deserialize;

use super::forms::{DAY_MS, Posted, console_form, day_start_ms, posted, refusal_line};
use super::home::{Frame, frame};
use super::requests::{Proof, sensitive_actor};
use super::{Signed, signed_in, with_status};
use crate::AppState;
use crate::privacy::page_language;
use crate::privacy_center::holds::reason;

#[derive(Template)]
#[template(path = "console_holds.html")]
struct HoldsPage {
    f: Frame,
    hw: HoldWords,
    holds: Vec<LegalHold>,
    reasons: Vec<(&'static str, &'static str)>,
    categories: Vec<String>,
    lang: Language,
    status: Option<&'static str>,
    error: Option<String>,
}

impl HoldsPage {
    fn reason_of(&self, h: &LegalHold) -> &'static str {
        reason(h.reason, self.lang)
    }
}

pub(crate) struct HoldWords {
    heading: &'static str,
    manage: &'static str,
    held: &'static str,
    everyone: &'static str,
    all_data: &'static str,
    until: &'static str,
    until_lifted: &'static str,
    placed: &'static str,
    place_heading: &'static str,
    place_intro: &'static str,
    customer: &'static str,
    category: &'static str,
    reason_label: &'static str,
    place_button: &'static str,
    placed_status: &'static str,
    lift: &'static str,
    lifted: &'static str,
}

const EN: HoldWords = HoldWords {
    heading: "Legal holds",
    manage: "Place and lift legal holds",
    held: "Held",
    everyone: "everyone",
    all_data: "all their data",
    until: "Until",
    until_lifted: "until lifted",
    placed: "Placed",
    place_heading: "Place a hold",
    place_intro: "A hold keeps what it covers past its retention and past an erasure request, which then waits; the person sees on My data that something is kept and why. Give a customer, a category, or both.",
    customer: "The customer's e-mail, phone (+…) or external id (empty: everyone)",
    category: "Category",
    reason_label: "Reason",
    place_button: "Place the hold",
    placed_status: "Hold placed.",
    lift: "Lift",
    lifted: "Hold lifted: what it kept waiting is carried out by the next sweep.",
};

const JA: HoldWords = HoldWords {
    heading: "訴訟ホールド",
    manage: "訴訟ホールドの設定と解除",
    held: "対象",
    everyone: "全員",
    all_data: "すべてのデータ",
    until: "期限",
    until_lifted: "解除まで",
    placed: "設定日時",
    place_heading: "ホールドを設定",
    place_intro: "ホールドは対象のデータを保存期間や削除請求を超えて保全し、削除は待機します。本人はマイデータで、何がなぜ保全されているかを確認できます。お客様、区分、またはその両方を指定してください。",
    customer: "お客様のメールアドレス、電話番号（+…）または外部ID（空欄：全員）",
    category: "区分",
    reason_label: "理由",
    place_button: "ホールドを設定する",
    placed_status: "ホールドを設定しました。",
    lift: "解除",
    lifted: "ホールドを解除しました。待機していた処理は次のスイープで実行されます。",
};

const FR: HoldWords = HoldWords {
    heading: "Conservations légales",
    manage: "Placer et lever des conservations légales",
    held: "Conservé",
    everyone: "tout le monde",
    all_data: "toutes ses données",
    until: "Jusqu’au",
    until_lifted: "jusqu’à levée",
    placed: "Placée le",
    place_heading: "Placer une conservation",
    place_intro: "Une conservation garde ce qu’elle couvre au-delà de sa durée de conservation et d’une demande d’effacement, qui attend alors\u{a0}; la personne voit sur Mes données ce qui est gardé et pourquoi. Indiquez un client, une catégorie, ou les deux.",
    customer: "L’e-mail, le téléphone (+…) ou l’identifiant externe du client (vide\u{a0}: tout le monde)",
    category: "Catégorie",
    reason_label: "Motif",
    place_button: "Placer la conservation",
    placed_status: "Conservation placée.",
    lift: "Lever",
    lifted: "Conservation levée\u{a0}: ce qu’elle faisait attendre est exécuté au prochain balayage.",
};

pub(crate) fn hold_words(lang: Language) -> HoldWords {
    match lang {
        Language::En => EN,
        Language::Ja => JA,
        Language::Fr => FR,
    }
}

pub(crate) fn manage_link(lang: Language) -> &'static str {
    hold_words(lang).manage
}

type Said = (Option<&'static str>, Option<String>);

async fn holds_page(s: &AppState, lang: Language, signed: &Signed, said: Said) -> Response {
    let f = super::with_confirm_by_passkey(s, signed, frame(s, lang, signed, "system")).await;
    let listed = match s.vault.staff_actor(&signed.session, "hold.list").await {
        Ok(actor) => s.vault.legal_holds(&actor).await,
        Err(e) => Err(e),
    };
    let holds = match listed {
        Ok(holds) => holds,
        Err(CoreError::Denied(d)) => {
            let text = format!("{} ({})", f.w.refused_by_policy, d.code());
            return super::refusal_page(s, f, text);
        }
        Err(e) => return crate::problem::ApiError::from(e).into_response(),
    };
    let code = match said.1 {
        Some(_) => StatusCode::UNPROCESSABLE_ENTITY,
        None => StatusCode::OK,
    };
    let page = HoldsPage {
        f,
        hw: hold_words(lang),
        holds,
        reasons: (HoldReason::ALL.iter())
            .map(|r| (r.as_str(), reason(*r, lang)))
            .collect(),
        categories: (s.vault.policy.categories.iter())
            .map(|c| c.name.clone())
            .collect(),
        lang,
        status: said.0,
        error: said.1,
    };
    with_status(page.render(), code)
}

#[derive(Deserialize)]
pub struct LangQuery {
    lang: Option<String>,
}

pub async fn list(
    State(s): State<AppState>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = page_language(&s.vault.policy, q.lang.as_deref());
    match signed_in(&s, &headers, lang).await {
        Ok(signed) => holds_page(&s, lang, &signed, (None, None)).await,
        Err(answer) => answer,
    }
}

#[derive(Deserialize)]
pub struct PlaceForm {
    csrf: String,
    lang: Option<String>,
    #[serde(default)]
    customer: String,
    #[serde(default)]
    category: String,
    reason: String,
    #[serde(default)]
    until: String,
    code: Option<String>,
    passkey_token: Option<String>,
    passkey_answer: Option<String>,
}

/// The hold the form asks for, the customer looked up by `actor` (decided and ledgered).
async fn hold_of(
    s: &AppState,
    actor: &mamori_core::Actor,
    form: &PlaceForm,
) -> mamori_core::Result<HoldRequest> {
    let bad = |field: &str| {
        CoreError::invalid(mamori_proto::ErrorCode::InvalidValue, field, "not accepted")
    };
    let reason = HoldReason::parse(&form.reason).ok_or_else(|| bad("reason"))?;
    let until_ms = match form.until.trim() {
        "" => None,
        day => Some(day_start_ms(day).ok_or_else(|| bad("until"))? + DAY_MS),
    };
    let subject = match form.customer.trim() {
        "" => None,
        value => {
            let kind: LookupKind = super::request_open::lookup_kind(value);
            let ids = s.vault.lookup(actor, RIGHTS_PURPOSE, kind, value).await?;
            let id = ids.first().and_then(|i| mamori_core::parse_id(i));
            Some(id.ok_or(CoreError::NotFound)?)
        }
    };
    let category = Some(form.category.trim().to_string()).filter(|c| !c.is_empty());
    Ok(HoldRequest {
        subject,
        category,
        reason,
        until_ms,
    })
}

pub async fn place(
    State(s): State<AppState>,
    headers: HeaderMap,
    form: Result<axum::Form<PlaceForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let (lang, signed, form) = match posted(&s, &headers, form).await {
        Posted::Ours(lang, signed, form) => (lang, signed, form),
        Posted::NotOurs(lang, signed) => {
            let bad = Some(super::words::words(lang).bad_form.into());
            return holds_page(&s, lang, &signed, (None, bad)).await;
        }
        Posted::Answer(answer) => return answer,
    };
    let w = super::words::words(lang);
    let proof = Proof::of(&form.code, &form.passkey_token, &form.passkey_answer);
    let placed = match sensitive_actor(&s, &signed, proof, "hold.place").await {
        Ok(Some(actor)) => match hold_of(&s, &actor, &form).await {
            Ok(hold) => s.vault.place_legal_hold(&actor, &hold).await.map(|_| ()),
            Err(e) => Err(e),
        },
        Ok(None) => return holds_page(&s, lang, &signed, (None, Some(w.wrong_code.into()))).await,
        Err(e) => Err(e),
    };
    let said = match placed {
        Ok(()) => (Some(hold_words(lang).placed_status), None),
        Err(CoreError::NotFound) => (None, Some(w.no_customer.to_string())),
        Err(e) => match refusal_line(&w, &e) {
            Some(text) => (None, Some(text)),
            None => return crate::problem::ApiError::from(e).into_response(),
        },
    };
    holds_page(&s, lang, &signed, said).await
}

#[derive(Deserialize)]
pub struct LiftForm {
    csrf: String,
    lang: Option<String>,
    hold: String,
}

/// Lifts a hold (decided and ledgered).
pub async fn lift(
    State(s): State<AppState>,
    headers: HeaderMap,
    form: Result<axum::Form<LiftForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let (lang, signed, form) = match posted(&s, &headers, form).await {
        Posted::Ours(lang, signed, form) => (lang, signed, form),
        Posted::NotOurs(lang, signed) => {
            let bad = Some(super::words::words(lang).bad_form.into());
            return holds_page(&s, lang, &signed, (None, bad)).await;
        }
        Posted::Answer(answer) => return answer,
    };
    let w = super::words::words(lang);
    let lifted = match (
        mamori_core::parse_id(&form.hold),
        s.vault.staff_actor(&signed.session, "hold.lift").await,
    ) {
        (Some(id), Ok(actor)) => s.vault.lift_legal_hold(&actor, &id).await,
        (None, Ok(_)) => Err(CoreError::invalid(
            mamori_proto::ErrorCode::InvalidId,
            "hold",
            "not a hold id",
        )),
        (_, Err(e)) => Err(e),
    };
    let said = match lifted {
        Ok(()) => (Some(hold_words(lang).lifted), None),
        Err(e) => match refusal_line(&w, &e) {
            Some(text) => (None, Some(text)),
            None => return crate::problem::ApiError::from(e).into_response(),
        },
    };
    holds_page(&s, lang, &signed, said).await
}

console_form!(PlaceForm, LiftForm);
