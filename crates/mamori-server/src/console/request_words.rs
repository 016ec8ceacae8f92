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
        other => return other.to_string(),
    };
    match lang {
        Language::En => en,
        Language::Ja => ja,
        Language::Fr => fr,
    }
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use mamori_proto::{DenialReason, ExtensionReason, RequestKind, RequestSource, RequestState};

    /// Every code the register can show has words in each language.
    #[test]
    fn every_request_code_has_words() {
        let codes = (RequestKind::ALL.iter().map(|k| k.as_str()))
            .chain(RequestState::ALL.iter().map(|s| s.as_str()))
            .chain(RequestSource::ALL.iter().map(|s| s.as_str()))
            .chain(DenialReason::ALL.iter().map(|r| r.as_str()))
            .chain(ExtensionReason::ALL.iter().map(|r| r.as_str()));
        for code in codes {
            for lang in [Language::En, Language::Ja, Language::Fr] {
                assert_ne!(label(lang, code), code, "{code} in {lang:?}");
            }
        }
    }
}
