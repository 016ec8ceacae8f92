//! The request register's words: kinds, states, sources and reasons (the Data Rights Protocol's
//! codes) as staff read them, in English, Japanese and French.

use mamori_policy::Language;

/// A wire code of a request (its kind, state, source, denial or extension reason) in `lang`;
/// the code itself if it has no words here.
pub(crate) fn label(lang: Language, code: &str) -> String {
    let (en, ja, fr) = match code {
        "access" => ("Access", "開示", "Accès"),
        "portability" => ("Portability", "データポータビリティ", "Portabilité"),
        "rectification" => ("Correction", "訂正", "Rectification"),
        "erasure" => ("Erasure", "削除", "Effacement"),
        "restriction" => ("Restriction", "利用制限", "Limitation"),
        "objection" => ("Objection", "異議", "Opposition"),
        "opt_out_of_sale" => (
            "Opt-out of sale or sharing",
            "販売・共有のオプトアウト",
            "Opposition à la vente ou au partage",
        ),
        "open" => ("Open", "受付", "Ouverte"),
        "in_progress" => ("In progress", "対応中", "En cours"),
        "fulfilled" => ("Fulfilled", "完了", "Traitée"),
        "denied" => ("Denied", "拒否", "Refusée"),
        "revoked" => ("Withdrawn", "取り下げ", "Retirée"),
        "expired" => ("Expired", "期限切れ", "Expirée"),
        "privacy_center" => (
            "Privacy center",
            "プライバシーセンター",
            "Espace confidentialité",
        ),
        "staff" => ("Staff", "スタッフ", "Équipe"),
        "agent" => ("Authorised agent", "授権代理人", "Mandataire"),
        "suspected_fraud" => ("Suspected fraud", "不正の疑い", "Fraude présumée"),
        "insufficient_verification" => (
            "Identity not verified",
            "本人確認が不十分",
            "Identité non vérifiée",
        ),
        "no_match" => (
            "No matching customer",
            "該当するお客様なし",
            "Aucun client correspondant",
        ),
        "claim_not_covered" => ("Right not covered", "対象外の権利", "Droit non couvert"),
        "outside_jurisdiction" => ("Outside the jurisdiction", "管轄外", "Hors juridiction"),
        "too_many_requests" => ("Too many requests", "請求が多すぎる", "Trop de demandes"),
        "other" => ("Other", "その他", "Autre"),
        "complexity" => ("Complexity", "複雑さ", "Complexité"),
        "number_of_requests" => ("Number of requests", "請求件数", "Nombre de demandes"),
        "legal_hold" => ("A legal hold", "訴訟ホールド", "Une conservation légale"),
        "privacy_center_sign_in" => (
            "Signed in to the privacy center",
            "プライバシーセンターへのサインイン",
            "Connexion à l’espace confidentialité",
        ),
        "id_document" => ("Identity document", "本人確認書類", "Pièce d’identité"),
        "call_back" => (
            "Called back on the account's number",
            "登録番号への折り返し電話",
            "Rappel au numéro du compte",
        ),
        "account_details" => (
            "Account details only they know",
            "本人しか知らない登録情報",
            "Détails du compte connus d’eux seuls",
        ),
        other => return other.to_string(),
    };
    match lang {
        Language::En => en,
        Language::Ja => ja,
        Language::Fr => fr,
    }
    .to_string()
}

/// The words of the verification step.
pub(crate) struct VerifyWords {
    pub(crate) identity: &'static str,
    pub(crate) not_verified: &'static str,
    pub(crate) heading: &'static str,
    pub(crate) intro: &'static str,
    pub(crate) how: &'static str,
    pub(crate) record: &'static str,
}

pub(crate) fn verify_words(lang: Language) -> VerifyWords {
    match lang {
        Language::En => VerifyWords {
            identity: "Identity",
            not_verified: "not verified yet",
            heading: "Verify who is asking",
            intro: "This request did not come through the privacy center or an agent: check that the requester is the person before you answer it (or deny it as not verified).",
            how: "How you checked",
            record: "Record the check",
        },
        Language::Ja => VerifyWords {
            identity: "本人確認",
            not_verified: "未確認",
            heading: "請求者の本人確認",
            intro: "この請求はプライバシーセンターや代理人を通じたものではありません。回答する前に、請求者が本人であることを確認してください（確認できない場合は拒否します）。",
            how: "確認方法",
            record: "確認を記録",
        },
        Language::Fr => VerifyWords {
            identity: "Identité",
            not_verified: "pas encore vérifiée",
            heading: "Vérifier qui demande",
            intro: "Cette demande n’est pas venue par l’espace confidentialité ni par un mandataire\u{a0}: vérifiez que le demandeur est bien la personne avant d’y répondre (ou refusez-la, identité non vérifiée).",
            how: "Comment vous avez vérifié",
            record: "Enregistrer la vérification",
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mamori_proto::{
        DenialReason, ExtensionReason, RequestKind, RequestSource, RequestState, VerifiedBy,
    };

    /// Every code the register can show has words in each language.
    #[test]
    fn every_request_code_has_words() {
        let codes = (RequestKind::ALL.iter().map(|k| k.as_str()))
            .chain(RequestState::ALL.iter().map(|s| s.as_str()))
            .chain(RequestSource::ALL.iter().map(|s| s.as_str()))
            .chain(DenialReason::ALL.iter().map(|r| r.as_str()))
            .chain(ExtensionReason::ALL.iter().map(|r| r.as_str()))
            .chain(VerifiedBy::ALL.iter().map(|v| v.as_str()));
        for code in codes {
            for lang in [Language::En, Language::Ja, Language::Fr] {
                assert_ne!(label(lang, code), code, "{code} in {lang:?}");
            }
        }
    }
}
