//! Legal holds as the person sees them (My data, Delete my account): what is kept, why and until
//! when, in each language's words and typography. Built here, shown by the templates.

use mamori_core::legal_holds::HoldsOnPerson;
use mamori_policy::{Language, Policy};
use mamori_proto::holds::{HoldReason, LegalHold};

/// The holds section: a heading, one line per hold, and the waiting erasure if there is one.
pub(crate) struct HoldsView {
    pub(crate) title: &'static str,
    pub(crate) lines: Vec<String>,
    pub(crate) waiting: Option<String>,
    /// On the delete page: what confirming does while a hold keeps the person.
    pub(crate) if_confirmed: &'static str,
    /// The title of the page that says the erasure waits.
    pub(crate) registered: &'static str,
}

impl HoldsView {
    pub(crate) fn is_empty(&self) -> bool {
        self.lines.is_empty() && self.waiting.is_none()
    }
}

pub(crate) fn reason(reason: HoldReason, lang: Language) -> &'static str {
    use HoldReason::*;
    match (lang, reason) {
        (Language::En, Litigation) => "a lawsuit",
        (Language::En, RegulatoryInquiry) => "a regulator's inquiry",
        (Language::En, LawEnforcement) => "a request from the police or a court",
        (Language::En, TaxAudit) => "a tax audit",
        (Language::En, InternalInvestigation) => "an internal investigation",
        (Language::Ja, Litigation) => "訴訟",
        (Language::Ja, RegulatoryInquiry) => "監督当局による調査",
        (Language::Ja, LawEnforcement) => "警察または裁判所からの要請",
        (Language::Ja, TaxAudit) => "税務調査",
        (Language::Ja, InternalInvestigation) => "社内調査",
        (Language::Fr, Litigation) => "un litige",
        (Language::Fr, RegulatoryInquiry) => "une enquête d'une autorité de contrôle",
        (Language::Fr, LawEnforcement) => "une demande de la police ou d'un tribunal",
        (Language::Fr, TaxAudit) => "un contrôle fiscal",
        (Language::Fr, InternalInvestigation) => "une enquête interne",
    }
}

/// "Orders: kept because of a legal hold (a tax audit) until 2027-01-31."
fn line(policy: &Policy, hold: &LegalHold, lang: Language) -> String {
    let what = match hold.category.as_deref().and_then(|c| policy.category(c)) {
        Some(c) => c.label.get(lang).to_string(),
        None => match lang {
            Language::En => "All your data".into(),
            Language::Ja => "お客様のすべてのデータ".into(),
            Language::Fr => "Toutes vos données".into(),
        },
    };
    let why = reason(hold.reason, lang);
    // The calendar day is what a person can act on; the instant is in the API.
    let day = hold.until.as_deref().and_then(|t| t.get(..10));
    match (lang, day) {
        (Language::En, Some(day)) => {
            format!("{what}: kept because of a legal hold ({why}) until {day}.")
        }
        (Language::En, None) => {
            format!("{what}: kept because of a legal hold ({why}) until the hold is lifted.")
        }
        (Language::Ja, Some(day)) => {
            format!("{what}：法的保全（{why}）のため、{day}まで保存します。")
        }
        (Language::Ja, None) => {
            format!("{what}：法的保全（{why}）のため、保全が解除されるまで保存します。")
        }
        (Language::Fr, Some(day)) => format!(
            "{what}\u{202f}: conservation imposée par un gel juridique ({why}) jusqu'au {day}."
        ),
        (Language::Fr, None) => format!(
            "{what}\u{202f}: conservation imposée par un gel juridique ({why}) jusqu'à sa levée."
        ),
    }
}

fn waiting(reference: &str, lang: Language) -> String {
    match lang {
        Language::En => format!(
            "Your request to delete your account (reference {reference}) waits for the legal hold to end: we erase your data as soon as it does."
        ),
        Language::Ja => format!(
            "アカウント削除のご請求（受付番号 {reference}）は、法的保全の終了を待っています。終了しだい、お客様のデータを消去します。"
        ),
        Language::Fr => format!(
            "Votre demande de suppression de compte (référence {reference}) attend la fin du gel juridique\u{202f}: nous effacerons vos données dès sa levée."
        ),
    }
}

pub(crate) fn holds_view(policy: &Policy, holds: &HoldsOnPerson, lang: Language) -> HoldsView {
    let (title, if_confirmed, registered) = match lang {
        Language::En => (
            "Kept because of a legal hold",
            "If you confirm, we register your request and erase your account as soon as the legal hold ends.",
            "Your request is registered",
        ),
        Language::Ja => (
            "法的保全により保存しているもの",
            "確認すると、ご請求を受け付け、法的保全が終了しだいアカウントを削除します。",
            "ご請求を受け付けました",
        ),
        Language::Fr => (
            "Conservé en raison d'un gel juridique",
            "Si vous confirmez, nous enregistrons votre demande et supprimons votre compte dès la levée du gel juridique.",
            "Votre demande est enregistrée",
        ),
    };
    HoldsView {
        title,
        lines: holds.holds.iter().map(|h| line(policy, h, lang)).collect(),
        waiting: holds.waiting_erasure.as_deref().map(|r| waiting(r, lang)),
        if_confirmed,
        registered,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_has_words_in_every_language() {
        for r in HoldReason::ALL {
            let words: Vec<&str> = [Language::En, Language::Ja, Language::Fr]
                .into_iter()
                .map(|l| reason(*r, l))
                .collect();
            assert!(words.iter().all(|w| !w.is_empty()));
            assert_ne!(words[0], words[2]);
        }
    }
}
