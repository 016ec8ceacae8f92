//! The incident page's notices and reports: where the notices to people stand, a form to
//! prepare them (`POST /console/incidents/{id}/notices`, addresses read for the rights purpose),
//! and links to the draft reports to regulators (`GET /console/incidents/{id}/draft`, printable).
//! Every step goes through the vault as the member of staff (decided, ledgered).

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use mamori_core::CoreError;
use mamori_core::incidents::impact::ImpactWindow;
use mamori_policy::{Jurisdiction, Language};
use mamori_proto::incident_notices::{NoticeAdvice, NoticeState};
use serde::Deserialize;

use super::forms::{Posted, console_form, posted};
use super::incidents::{bad, detected_ms, one_page};
use super::{Signed, signed_in};
use crate::AppState;
use crate::privacy::page_language;

pub(crate) struct NoticeWords {
    pub(crate) heading: &'static str,
    pub(crate) intro: &'static str,
    pub(crate) none: &'static str,
    pub(crate) state: &'static str,
    pub(crate) people: &'static str,
    pub(crate) actors: &'static str,
    pub(crate) from: &'static str,
    pub(crate) to: &'static str,
    pub(crate) advice: &'static str,
    pub(crate) button: &'static str,
    pub(crate) prepared: &'static str,
    pub(crate) drafts: &'static str,
    pub(crate) drafts_intro: &'static str,
}

const EN: NoticeWords = NoticeWords {
    heading: "Notices to people",
    intro: "Tell the people the incident reached, each once, in their language: give the keys or staff (key:ID or staff:ID, one per line) and the window, as for the impact. Their addresses are read for answering privacy requests, each read recorded.",
    none: "No notices prepared yet.",
    state: "State",
    people: "People",
    actors: "Keys or staff",
    from: "From (UTC)",
    to: "To (UTC)",
    advice: "What people can do (optional; generic advice otherwise)",
    button: "Prepare and send the notices",
    prepared: "Notices prepared: they go out in the background, each once.",
    drafts: "Reports to regulators",
    drafts_intro: "A draft per law with the contents it requires, filled in from this incident; complete the marked parts and print it.",
};

const JA: NoticeWords = NoticeWords {
    heading: "本人への通知",
    intro: "事故の影響を受けた方に、各人の言語で一度ずつお知らせします。影響範囲と同じく、キーまたは従業員（key:ID または staff:ID、1行に1件）と期間を指定してください。宛先はプライバシーに関するご請求への対応のために読み出され、その都度記録されます。",
    none: "通知はまだ作成されていません。",
    state: "状態",
    people: "人数",
    actors: "キーまたは従業員",
    from: "開始（UTC）",
    to: "終了（UTC）",
    advice: "本人にお願いしたいこと（任意。未記入の場合は一般的な案内）",
    button: "通知を作成して送信",
    prepared: "通知を作成しました。バックグラウンドで一人一回ずつ送信されます。",
    drafts: "監督当局への報告",
    drafts_intro: "法令ごとに必要な項目を備えた報告の案を、この事故の記録から作成します。印の付いた箇所を記入して印刷してください。",
};

const FR: NoticeWords = NoticeWords {
    heading: "Avis aux personnes",
    intro: "Informez les personnes touchées par l’incident, une fois chacune, dans leur langue\u{a0}: indiquez les clés ou le personnel (key:ID ou staff:ID, un par ligne) et la période, comme pour l’impact. Leurs adresses sont lues pour répondre aux demandes relatives aux données, chaque lecture étant enregistrée.",
    none: "Aucun avis préparé pour l’instant.",
    state: "État",
    people: "Personnes",
    actors: "Clés ou personnel",
    from: "Du (UTC)",
    to: "Au (UTC)",
    advice: "Ce que les personnes peuvent faire (facultatif\u{a0}; conseils généraux sinon)",
    button: "Préparer et envoyer les avis",
    prepared: "Avis préparés\u{a0}: ils partent en arrière-plan, une fois chacun.",
    drafts: "Notifications aux autorités",
    drafts_intro: "Un projet par loi, avec le contenu qu’elle exige, rempli à partir de cet incident\u{a0}; complétez les parties signalées et imprimez-le.",
};

pub(crate) fn notice_words(lang: Language) -> NoticeWords {
    match lang {
        Language::En => EN,
        Language::Ja => JA,
        Language::Fr => FR,
    }
}

fn state_name(state: NoticeState, lang: Language) -> &'static str {
    use NoticeState::*;
    let [en, ja, fr] = match state {
        Pending => ["Waiting to be sent", "送信待ち", "En attente d’envoi"],
        Sending => ["Being sent", "送信中", "En cours d’envoi"],
        Sent => ["Sent", "送信済み", "Envoyé"],
        Uncertain => [
            "Uncertain: check the mail server",
            "不明（メールサーバーを確認）",
            "Incertain\u{a0}: vérifiez le serveur de messagerie",
        ],
        NoAddress => [
            "No e-mail address",
            "メールアドレスなし",
            "Pas d’adresse électronique",
        ],
        Erased => [
            "Erased: not told",
            "消去済み（通知なし）",
            "Effacé\u{a0}: non informé",
        ],
        Denied => [
            "Refused by the policy",
            "ポリシーにより拒否",
            "Refusé par la politique",
        ],
        Failed => [
            "Refused by the mail server",
            "メールサーバーが拒否",
            "Refusé par le serveur de messagerie",
        ],
        Drafted => [
            "Written, not sent (drill)",
            "作成のみ（訓練）",
            "Rédigé, non envoyé (exercice)",
        ],
    };
    match lang {
        Language::En => en,
        Language::Ja => ja,
        Language::Fr => fr,
    }
}

/// The notices section of the incident page.
pub(crate) struct NoticesBox {
    pub(crate) w: NoticeWords,
    pub(crate) people: u64,
    pub(crate) states: Vec<(&'static str, u64)>,
    /// (law code, its name) for the draft links: the policy's laws.
    pub(crate) laws: Vec<(&'static str, &'static str)>,
}

/// The notices' counts (a ledgered read) and the laws to draft for.
pub(crate) async fn notices_box(
    s: &AppState,
    signed: &Signed,
    id: &[u8; 16],
    lang: Language,
) -> mamori_core::Result<NoticesBox> {
    let actor = s
        .vault
        .staff_actor(&signed.session, "incident.notices.read")
        .await?;
    let summary = s.vault.incident_notices(&actor, id).await?;
    let laws = (s.vault.policy.organisation.jurisdictions.iter())
        .filter_map(|j| Jurisdiction::ALL.iter().find(|(_, x)| x == j))
        .map(|(code, _)| (*code, law_name(code)))
        .collect();
    Ok(NoticesBox {
        w: notice_words(lang),
        people: summary.people,
        states: (summary.by_state.iter())
            .map(|c| (state_name(c.state, lang), c.people))
            .collect(),
        laws,
    })
}

fn law_name(code: &str) -> &'static str {
    match code {
        "gdpr" => "GDPR",
        "lgpd" => "LGPD",
        "appi" => "APPI",
        "ccpa" => "California (CCPA)",
        "hipaa" => "HIPAA",
        _ => "PCI DSS",
    }
}

#[derive(Deserialize)]
pub struct NotifyForm {
    csrf: String,
    lang: Option<String>,
    #[serde(default)]
    actors: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    advice: String,
}

console_form!(NotifyForm);

/// `POST /console/incidents/{id}/notices`.
pub async fn notify(
    State(s): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    form: Result<axum::Form<NotifyForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let (lang, signed, form) = match posted(&s, &headers, form).await {
        Posted::Ours(lang, signed, form) => (lang, signed, form),
        Posted::NotOurs(lang, signed) => {
            let bad_form = Some(super::words::words(lang).bad_form.into());
            return one_page(&s, lang, &signed, &id, (None, bad_form)).await;
        }
        Posted::Answer(answer) => return answer,
    };
    let done = async {
        let incident = mamori_core::parse_id(&id).ok_or_else(|| bad("id"))?;
        let window = ImpactWindow {
            actors: (form.actors.lines())
                .map(|l| l.trim().to_string())
                .filter(|l| !l.is_empty())
                .collect(),
            from_ms: detected_ms(&form.from)?.ok_or_else(|| bad("from"))?,
            to_ms: detected_ms(&form.to)?.ok_or_else(|| bad("to"))?,
            purposes: None,
            categories: None,
        };
        let text = Some(form.advice.trim().to_string()).filter(|t| !t.is_empty());
        let advice = NoticeAdvice {
            en: text.clone().filter(|_| lang == Language::En),
            ja: text.clone().filter(|_| lang == Language::Ja),
            fr: text.filter(|_| lang == Language::Fr),
        };
        let given = advice != NoticeAdvice::default();
        let actor = (s.vault)
            .staff_actor(&signed.session, "incident.notices")
            .await?;
        let purpose = mamori_policy::RIGHTS_PURPOSE;
        (s.vault)
            .prepare_notices(
                &actor,
                &incident,
                purpose,
                &window,
                given.then_some(&advice),
                None,
            )
            .await
    };
    let result = done.await.map(|_| notice_words(lang).prepared);
    match super::incidents::said_of(result, &super::incident_words::incident_words(lang), lang) {
        Ok(said) => one_page(&s, lang, &signed, &id, said).await,
        Err(answer) => *answer,
    }
}

#[derive(Deserialize)]
pub struct DraftQuery {
    jurisdiction: Option<String>,
    lang: Option<String>,
}

/// `GET /console/incidents/{id}/draft?jurisdiction=…`: the draft report, to print.
pub async fn draft(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<DraftQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = page_language(&s.vault.policy, q.lang.as_deref());
    let signed = match signed_in(&s, &headers, lang).await {
        Ok(signed) => signed,
        Err(answer) => return answer,
    };
    let drafted = async {
        let incident = mamori_core::parse_id(&id).ok_or(CoreError::NotFound)?;
        let actor = (s.vault)
            .staff_actor(&signed.session, "incident.regulator_draft")
            .await?;
        let law = q.jurisdiction.as_deref().unwrap_or("");
        s.vault.regulator_draft(&actor, &incident, law, lang).await
    };
    match drafted.await {
        Ok(draft) => crate::api::draft_page(&draft, lang),
        Err(e) => crate::problem::ApiError::from(e).into_response(),
    }
}
