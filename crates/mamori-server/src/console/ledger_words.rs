//! The ledger proof page's words, in English, Japanese and French.

use mamori_policy::Language;

pub(crate) struct LedgerWords {
    pub(crate) proof_heading: &'static str,
    pub(crate) leaf_hash: &'static str,
    pub(crate) audit_path: &'static str,
    pub(crate) proof_ok: &'static str,
    pub(crate) proof_bad: &'static str,
    pub(crate) key_id: &'static str,
    pub(crate) signature: &'static str,
    pub(crate) consistency_heading: &'static str,
    pub(crate) consistency_intro: &'static str,
    pub(crate) head_size: &'static str,
    pub(crate) head_root: &'static str,
    pub(crate) check: &'static str,
    pub(crate) consistent_ok: &'static str,
    pub(crate) consistent_bad: &'static str,
    pub(crate) not_under_head: &'static str,
    pub(crate) back: &'static str,
}

const EN: LedgerWords = LedgerWords {
    proof_heading: "Inclusion proof",
    leaf_hash: "Leaf hash",
    audit_path: "Audit path",
    proof_ok: "This event is in the ledger under its signed head: the signature and the proof check.",
    proof_bad: "The proof does NOT check against the signed head. Run mamori ledger verify and treat this as an incident.",
    key_id: "Signing key",
    signature: "Signature",
    consistency_heading: "Consistency with an earlier head",
    consistency_intro: "Give a signed head you kept (its size, and its root in hex): the ledger must extend it, nothing before it changed or removed.",
    head_size: "Size",
    head_root: "Root (64 hex digits)",
    check: "Check",
    consistent_ok: "The ledger extends that head: nothing before it was changed or removed.",
    consistent_bad: "The ledger does NOT extend that head. Run mamori ledger verify and treat this as an incident.",
    not_under_head: "Nothing to prove: that is not under the latest signed head (check the size, or wait for the next head).",
    back: "Back to the ledger",
};

const JA: LedgerWords = LedgerWords {
    proof_heading: "包含証明",
    leaf_hash: "リーフハッシュ",
    audit_path: "監査パス",
    proof_ok: "このイベントは署名付きヘッドの下で台帳に含まれています。署名と証明を確認しました。",
    proof_bad: "署名付きヘッドに対して証明が一致しません。mamori ledger verify を実行し、インシデントとして扱ってください。",
    key_id: "署名鍵",
    signature: "署名",
    consistency_heading: "以前のヘッドとの一貫性",
    consistency_intro: "保存しておいた署名付きヘッド（サイズと16進のルート）を入力してください。台帳はそれを拡張していなければならず、それ以前の内容が変更・削除されていてはなりません。",
    head_size: "サイズ",
    head_root: "ルート（16進64桁）",
    check: "確認",
    consistent_ok: "台帳はそのヘッドを拡張しています。それ以前の内容は変更・削除されていません。",
    consistent_bad: "台帳はそのヘッドを拡張していません。mamori ledger verify を実行し、インシデントとして扱ってください。",
    not_under_head: "証明する対象がありません。最新の署名付きヘッドの範囲外です（サイズを確認するか、次のヘッドを待ってください）。",
    back: "台帳に戻る",
};

const FR: LedgerWords = LedgerWords {
    proof_heading: "Preuve d’inclusion",
    leaf_hash: "Hachage de la feuille",
    audit_path: "Chemin d’audit",
    proof_ok: "Cet événement figure au registre sous sa tête signée\u{a0}: la signature et la preuve sont vérifiées.",
    proof_bad: "La preuve n’est PAS vérifiée par la tête signée. Lancez mamori ledger verify et traitez-le comme un incident.",
    key_id: "Clé de signature",
    signature: "Signature",
    consistency_heading: "Cohérence avec une tête antérieure",
    consistency_intro: "Donnez une tête signée que vous avez gardée (sa taille et sa racine en hexadécimal)\u{a0}: le registre doit la prolonger, sans rien avoir modifié ni supprimé avant elle.",
    head_size: "Taille",
    head_root: "Racine (64 chiffres hexadécimaux)",
    check: "Vérifier",
    consistent_ok: "Le registre prolonge cette tête\u{a0}: rien n’a été modifié ni supprimé avant elle.",
    consistent_bad: "Le registre ne prolonge PAS cette tête. Lancez mamori ledger verify et traitez-le comme un incident.",
    not_under_head: "Rien à prouver\u{a0}: ce n’est pas sous la dernière tête signée (vérifiez la taille, ou attendez la prochaine tête).",
    back: "Retour au registre",
};

pub(crate) fn ledger_words(lang: Language) -> LedgerWords {
    match lang {
        Language::Ja => JA,
        Language::Fr => FR,
        Language::En => EN,
    }
}
