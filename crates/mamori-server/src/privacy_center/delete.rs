//! "Delete my account": shows exactly what goes at once and what a legal obligation makes the
//! business keep (which categories, why, until when), asks for confirmation, then erases
//! (mamori_core::erasure) and confirms with a reference number.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use mamori_core::erasure::ErasurePlan;
use mamori_policy::{Language, Policy, RIGHTS_PURPOSE};
use serde::Deserialize;

use crate::AppState;
use crate::privacy::{html_page, page_language};
use crate::privacy_center::holds::{HoldsView, holds_view};
use crate::privacy_center::{
    LangQuery, PageForm, SignedInForm, clear_session_cookie, csrf_token, page_form, signed_in,
    with_cookie,
};
use mamori_core::waiting_erasures::OwnErasure;

pub(crate) struct Strings {
    /// What follows a label: ": ", "：" in Japanese, " : " (narrow no-break space) in French.
    colon: &'static str,
    nav: &'static str,
    center: &'static str,
    my_data: &'static str,
    notice: &'static str,
    title: &'static str,
    intro: &'static str,
    erased_title: &'static str,
    erased_also: &'static str,
    nothing_erased: &'static str,
    kept_title: &'static str,
    kept_intro: &'static str,
    nothing_kept: &'static str,
    kept_until: &'static str,
    kept_for: &'static str,
    confirm_label: &'static str,
    delete: &'static str,
    cancel: &'static str,
    must_confirm: &'static str,
    done_title: &'static str,
    done_intro: &'static str,
    reference: &'static str,
    done_kept: &'static str,
}

fn strings(lang: Language) -> Strings {
    match lang {
        Language::En => Strings {
            colon: ": ",
            nav: "Privacy center",
            center: "Privacy center",
            my_data: "My data",
            notice: "Privacy notice",
            title: "Delete my account",
            intro: "Deleting your account erases your personal data for good. It cannot be undone.",
            erased_title: "What we erase at once",
            erased_also: "Your choices and your sign-in end too: nobody can find you by your e-mail address or phone number any more.",
            nothing_erased: "Everything we hold about you must be kept for now (see below).",
            kept_title: "What the law requires us to keep",
            kept_intro: "We must keep these for a while. We lock them away: they are used only for the reason shown, and erased on the date shown.",
            nothing_kept: "Nothing: no law requires us to keep any of your data.",
            kept_until: "Kept until",
            kept_for: "Only for",
            confirm_label: "I understand that my account and the data above are erased and that this cannot be undone.",
            delete: "Delete my account",
            cancel: "Keep my account",
            must_confirm: "Tick the box to confirm that you want your account deleted.",
            done_title: "Your account is deleted",
            done_intro: "We have erased your data and signed you out.",
            reference: "Reference number of your request",
            done_kept: "We keep only the following, locked away, until the date shown:",
        },
        Language::Ja => Strings {
            colon: "：",
            nav: "プライバシーセンター",
            center: "プライバシーセンター",
            my_data: "マイデータ",
            notice: "プライバシー通知",
            title: "アカウントの削除",
            intro: "アカウントを削除すると、お客様の個人データは完全に消去されます。元に戻すことはできません。",
            erased_title: "ただちに消去するもの",
            erased_also: "同意の設定とサインインも終了し、メールアドレスや電話番号でお客様を検索することはできなくなります。",
            nothing_erased: "現在お預かりしているデータは、すべて当面の保存が必要です（下記参照）。",
            kept_title: "法令により保存が必要なもの",
            kept_intro: "以下は一定期間保存する義務があります。厳重に保管し、記載の目的にのみ使用し、記載の日付に消去します。",
            nothing_kept: "ありません。法令上保存が必要なデータはありません。",
            kept_until: "保存期限",
            kept_for: "利用目的",
            confirm_label: "アカウントと上記のデータが消去され、元に戻せないことを理解しました。",
            delete: "アカウントを削除する",
            cancel: "削除しない",
            must_confirm: "削除するには、確認のチェックボックスにチェックを入れてください。",
            done_title: "アカウントを削除しました",
            done_intro: "お客様のデータを消去し、サインアウトしました。",
            reference: "ご請求の受付番号",
            done_kept: "以下のみ、記載の日付まで厳重に保管します。",
        },
        Language::Fr => Strings {
            colon: "\u{202f}: ",
            nav: "Centre de confidentialité",
            center: "Centre de confidentialité",
            my_data: "Mes données",
            notice: "Avis de confidentialité",
            title: "Supprimer mon compte",
            intro: "Supprimer votre compte efface définitivement vos données personnelles. C'est irréversible.",
            erased_title: "Ce que nous effaçons tout de suite",
            erased_also: "Vos choix et votre connexion prennent fin aussi : plus personne ne peut vous retrouver par votre adresse e-mail ou votre numéro de téléphone.",
            nothing_erased: "Tout ce que nous détenons sur vous doit être conservé pour l'instant (voir ci-dessous).",
            kept_title: "Ce que la loi nous oblige à conserver",
            kept_intro: "Nous devons conserver ces données un certain temps. Elles sont mises sous clé : utilisées uniquement pour la raison indiquée, et effacées à la date indiquée.",
            nothing_kept: "Rien : aucune loi ne nous oblige à conserver vos données.",
            kept_until: "Conservé jusqu'au",
            kept_for: "Uniquement pour",
            confirm_label: "Je comprends que mon compte et les données ci-dessus sont effacés et que c'est irréversible.",
            delete: "Supprimer mon compte",
            cancel: "Garder mon compte",
            must_confirm: "Cochez la case pour confirmer que vous voulez supprimer votre compte.",
            done_title: "Votre compte est supprimé",
            done_intro: "Nous avons effacé vos données et vous avons déconnecté.",
            reference: "Numéro de référence de votre demande",
            done_kept: "Nous ne conservons que ce qui suit, sous clé, jusqu'à la date indiquée :",
        },
    }
}

struct Kept {
    name: String,
    label: String,
    until: String,
    /// The keeping period that gives the date, in words ("7 years").
    period: String,
    /// The holding purposes: label and why.
    reasons: Vec<(String, String)>,
}

struct PlanView {
    erased: Vec<(String, String)>,
    kept: Vec<Kept>,
}

fn plan_view(policy: &Policy, plan: &ErasurePlan, lang: Language) -> PlanView {
    let label = |c: usize| policy.categories[c].label.get(lang).to_string();
    PlanView {
        erased: plan
            .erased
            .iter()
            .map(|c| (policy.categories[c].name.clone(), label(c)))
            .collect(),
        kept: plan
            .kept
            .iter()
            .map(|k| Kept {
                name: policy.categories[k.category].name.clone(),
                label: label(k.category),
                // The calendar date is what a person can act on; the instant is in the API.
                until: mamori_core::format_time(k.until_ms)
                    .get(..10)
                    .unwrap_or_default()
                    .to_string(),
                period: match (
                    lang,
                    mamori_policy::notice::duration_text(k.period.days, lang),
                ) {
                    (Language::Ja, period) => format!("（{period}）"),
                    (_, period) => format!(" ({period})"),
                },
                reasons: k
                    .purposes
                    .iter()
                    .map(|&p| {
                        let p = &policy.purposes[p];
                        (
                            p.label.get(lang).to_string(),
                            p.description.get(lang).to_string(),
                        )
                    })
                    .collect(),
            })
            .collect(),
    }
}

#[derive(Template)]
#[template(path = "delete.html")]
struct DeletePage {
    lang: &'static str,
    s: Strings,
    organisation: String,
    csrf: String,
    plan: PlanView,
    error: Option<&'static str>,
    holds: HoldsView,
}

#[derive(Template)]
#[template(path = "delete_waiting.html")]
struct WaitingPage {
    lang: &'static str,
    s: Strings,
    organisation: String,
    holds: HoldsView,
    reference: String,
}

#[derive(Template)]
#[template(path = "deleted.html")]
struct DeletedPage {
    lang: &'static str,
    s: Strings,
    organisation: String,
    plan: PlanView,
    reference: String,
}

async fn confirmation_page(
    s: &AppState,
    headers: &HeaderMap,
    lang: Language,
    error: Option<&'static str>,
) -> Response {
    let (subject, actor) = match signed_in(s, headers, lang).await {
        Ok(session) => session,
        Err(r) => return r,
    };
    let plan = match s.vault.erasure_plan(&actor, RIGHTS_PURPOSE, &subject).await {
        Ok(plan) => plan,
        Err(e) => return crate::problem::ApiError::from(e).into_response(),
    };
    let holds = match s.vault.holds_on(&actor, &subject).await {
        Ok(holds) => holds_view(&s.vault.policy, &holds, lang),
        Err(e) => return crate::problem::ApiError::from(e).into_response(),
    };
    let (csrf, set) = csrf_token(s, headers);
    let page = DeletePage {
        lang: lang.code(),
        s: strings(lang),
        organisation: s.vault.policy.organisation.name.clone(),
        csrf,
        plan: plan_view(&s.vault.policy, &plan, lang),
        error,
        holds,
    };
    let mut r = with_cookie(html_page(page.render()), set);
    if error.is_some() {
        *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    r
}

/// The confirmation page: what goes, what stays and why.
pub async fn delete_form(
    State(s): State<AppState>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = page_language(&s.vault.policy, q.lang.as_deref());
    confirmation_page(&s, &headers, lang, None).await
}

#[derive(Deserialize)]
pub struct DeleteForm {
    csrf: String,
    lang: Option<String>,
    /// The tick box: `yes` when ticked (absent otherwise).
    confirm: Option<String>,
}

page_form!(DeleteForm);

/// Erases the account once confirmed, and says what was kept.
pub async fn delete_account(
    State(s): State<AppState>,
    headers: HeaderMap,
    SignedInForm {
        form,
        lang,
        subject,
        actor,
    }: SignedInForm<DeleteForm>,
) -> Response {
    if form.confirm.as_deref() != Some("yes") {
        let must_confirm = strings(lang).must_confirm;
        return confirmation_page(&s, &headers, lang, Some(must_confirm)).await;
    }
    let (plan, request) = match s.vault.erase_own_account(&actor, &subject).await {
        Ok(OwnErasure::Erased(plan, request)) => (plan, request),
        Ok(OwnErasure::Waiting(request)) => {
            return waiting_page(&s, &actor, &subject, lang, request.reference).await;
        }
        Err(e) => return crate::problem::ApiError::from(e).into_response(),
    };
    let page = DeletedPage {
        lang: lang.code(),
        s: strings(lang),
        organisation: s.vault.policy.organisation.name.clone(),
        plan: plan_view(&s.vault.policy, &plan, lang),
        reference: mamori_core::reference::format_reference(request.reference),
    };
    // The session is already revoked with the account; the browser forgets it too.
    with_cookie(html_page(page.render()), Some(clear_session_cookie()))
}

/// The page after confirming while a legal hold keeps the person: the request is registered and
/// waits; the account and the session stay.
async fn waiting_page(
    s: &AppState,
    actor: &mamori_core::vault::Actor,
    subject: &[u8; 16],
    lang: Language,
    reference: i64,
) -> Response {
    let holds = match s.vault.holds_on(actor, subject).await {
        Ok(holds) => holds_view(&s.vault.policy, &holds, lang),
        Err(e) => return crate::problem::ApiError::from(e).into_response(),
    };
    let page = WaitingPage {
        lang: lang.code(),
        s: strings(lang),
        organisation: s.vault.policy.organisation.name.clone(),
        holds,
        reference: mamori_core::reference::format_reference(reference),
    };
    html_page(page.render())
}
