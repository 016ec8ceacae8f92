//! The API keys page's words, in English, Japanese and French.

use mamori_policy::Language;

pub(crate) struct KeysWords {
    pub(crate) manage: &'static str,
    pub(crate) create_heading: &'static str,
    pub(crate) create_button: &'static str,
    pub(crate) roles_note: &'static str,
    pub(crate) created: &'static str,
    pub(crate) revoke: &'static str,
    pub(crate) revoked: &'static str,
}

const EN: KeysWords = KeysWords {
    manage: "Create and revoke API keys",
    create_heading: "Create a key",
    create_button: "Create the key",
    roles_note: "Only roles that an API key can carry are offered: a role that asks its people for a second factor or training takes keys only when the policy declares it for machines.",
    created: "Key created. Copy it now: it is not shown again, and Mamori keeps only its digest.",
    revoke: "Revoke",
    revoked: "Key revoked: it is refused from now on.",
};

const JA: KeysWords = KeysWords {
    manage: "APIキーの作成と失効",
    create_heading: "キーを作成",
    create_button: "キーを作成する",
    roles_note: "APIキーに持たせられるロールだけを表示しています。二要素認証や研修を求めるロールは、ポリシーで機械用と宣言した場合に限りキーを持てます。",
    created: "キーを作成しました。今すぐコピーしてください。再表示はできず、Mamori はそのダイジェストだけを保管します。",
    revoke: "失効させる",
    revoked: "キーを失効させました。今後は拒否されます。",
};

const FR: KeysWords = KeysWords {
    manage: "Créer et révoquer des clés d’API",
    create_heading: "Créer une clé",
    create_button: "Créer la clé",
    roles_note: "Seuls les rôles qu’une clé d’API peut porter sont proposés\u{a0}: un rôle qui demande à ses membres un second facteur ou une formation ne prend de clés que si la politique le déclare pour les machines.",
    created: "Clé créée. Copiez-la maintenant\u{a0}: elle ne sera plus affichée, et Mamori n’en garde que l’empreinte.",
    revoke: "Révoquer",
    revoked: "Clé révoquée\u{a0}: elle est refusée dès maintenant.",
};

pub(crate) fn keys_words(lang: Language) -> KeysWords {
    match lang {
        Language::En => EN,
        Language::Ja => JA,
        Language::Fr => FR,
    }
}
