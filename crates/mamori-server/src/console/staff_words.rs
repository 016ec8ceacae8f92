//! The administration page's words for starting a member of staff over, in English, Japanese
//! and French.

use mamori_policy::Language;

pub(crate) struct StaffWords {
    pub(crate) reset_heading: &'static str,
    pub(crate) reset_intro: &'static str,
    pub(crate) member: &'static str,
    pub(crate) reset_button: &'static str,
    pub(crate) reset_done: &'static str,
}

const EN: StaffWords = StaffWords {
    reset_heading: "Start someone over",
    reset_intro: "For someone who lost every device and recovery code, or who comes back after being disabled: their password, sign-in methods and recovery codes are removed, their sessions end, and a new one-time link lets them enrol again.",
    member: "Member of staff",
    reset_button: "Start over",
    reset_done: "Started over. Send them this new link (valid 7 days; earlier links no longer work):",
};

const JA: StaffWords = StaffWords {
    reset_heading: "サインイン方法の再設定",
    reset_intro: "すべての端末と回復コードを失った人や、無効化の後に戻ってきた人のために、パスワード・サインイン方法・回復コードを削除し、セッションを終了して、新しい1回限りのリンクで登録し直せるようにします。",
    member: "スタッフ",
    reset_button: "再設定する",
    reset_done: "再設定しました。この新しいリンクを送ってください（7日間有効。以前のリンクは使えません）：",
};

const FR: StaffWords = StaffWords {
    reset_heading: "Faire repartir quelqu’un de zéro",
    reset_intro: "Pour qui a perdu tous ses appareils et codes de secours, ou revient après avoir été désactivé\u{a0}: son mot de passe, ses méthodes de connexion et ses codes de secours sont supprimés, ses sessions prennent fin, et un nouveau lien à usage unique lui permet de s’inscrire de nouveau.",
    member: "Membre de l’équipe",
    reset_button: "Repartir de zéro",
    reset_done: "C’est fait. Envoyez-lui ce nouveau lien (valable 7\u{a0}jours\u{a0}; les liens précédents ne fonctionnent plus)\u{a0}:",
};

pub(crate) fn staff_words(lang: Language) -> StaffWords {
    match lang {
        Language::En => EN,
        Language::Ja => JA,
        Language::Fr => FR,
    }
}
