//! The training course's own words in English, Japanese and French (the policy supplies the
//! labels of purposes and categories). Sources: the guidance privacy regulators give staff who
//! handle personal data (identity checks before disclosure, reporting incidents at once, the
//! need-to-know rule), written here in our own words.

use crate::Language;

pub(crate) struct Words {
    pub(crate) colon: &'static str,
    pub(crate) list_separator: &'static str,
    pub(crate) nothing: &'static str,
    pub(crate) your_role: &'static str,
    pub(crate) role_intro: fn(&str, &str) -> String,
    pub(crate) purposes_intro: &'static str,
    pub(crate) may_view: &'static str,
    pub(crate) may_change: &'static str,
    pub(crate) may_delete: &'static str,
    pub(crate) refused_and_recorded: &'static str,
    pub(crate) verify_heading: &'static str,
    pub(crate) verify: &'static [&'static str],
    pub(crate) incident_heading: &'static str,
    pub(crate) incident: &'static [&'static str],
    pub(crate) never_heading: &'static str,
    pub(crate) never: &'static [&'static str],
    pub(crate) may_question: fn(&str, &str, &str) -> String,
    pub(crate) yes: &'static str,
    pub(crate) only_with_consent: &'static str,
    pub(crate) no: &'static str,
    pub(crate) caller_question: &'static str,
    pub(crate) caller_read: &'static str,
    pub(crate) caller_verify: &'static str,
    pub(crate) caller_email: &'static str,
    pub(crate) incident_question: &'static str,
    pub(crate) incident_wait: &'static str,
    pub(crate) incident_report: &'static str,
    pub(crate) incident_fix: &'static str,
}

pub(crate) fn words(lang: Language) -> Words {
    match lang {
        Language::En => EN,
        Language::Ja => JA,
        Language::Fr => FR,
    }
}

const EN: Words = Words {
    colon: ": ",
    list_separator: ", ",
    nothing: "nothing",
    your_role: "Your role and the data it touches",
    role_intro: |name, description| format!("You act in the {name} role: {description}."),
    purposes_intro: "You may use customers' data only for these purposes, and only for the one you name when you open a record:",
    may_view: "You may see",
    may_change: "You may change",
    may_delete: "You may delete",
    refused_and_recorded: "Anything else is refused. Every view, change and refusal is recorded in the ledger with your name, role and purpose, and the customer can see that staff in your role looked at their data.",
    verify_heading: "Checking who is asking",
    verify: &[
        "Give out or change a customer's data only to the customer, once their identity is proven: they sign in to the privacy center with a code sent to the address or phone we hold.",
        "A name, an order number or a confident voice is not proof. Never send data to a new address someone gives you on the phone or by e-mail.",
        "Someone acting for a customer (an authorised agent) must come through the request register with a signed request; pass such requests to the privacy office.",
    ],
    incident_heading: "Spotting and reporting an incident",
    incident: &[
        "An incident is any time customers' data may have reached someone who should not have it, been changed or lost: an e-mail to the wrong person, a lost laptop, a shared password, an odd export, a suspicious request.",
        "Report it to the privacy office at once, even if you are unsure or it was your own mistake. Deadlines to tell the regulator can be as short as 72 hours; hiding or fixing it quietly makes it worse.",
    ],
    never_heading: "What never to do",
    never: &[
        "Never look up a customer out of curiosity, for a friend, or for anything other than the purpose you name.",
        "Never copy customers' data into spreadsheets, chats, personal e-mail or tools the policy does not list.",
        "Never share your password, recovery codes or session; never sign in for someone else.",
        "Never use data collected for one purpose for another, such as support data for marketing.",
    ],
    may_question: |role, category, purpose| {
        format!("May the {role} role see “{category}” for “{purpose}”?")
    },
    yes: "Yes",
    only_with_consent: "Only if the person has consented",
    no: "No",
    caller_question: "Someone phones, gives a customer's full name and order number, and asks for the delivery address on the order. What do you do?",
    caller_read: "Read it out: they know the order number",
    caller_verify: "Do not give it; ask them to sign in to the privacy center, where their identity is checked",
    caller_email: "Send it to the e-mail address they give you",
    incident_question: "You notice that yesterday you sent a customer's order details to the wrong customer. What do you do?",
    incident_wait: "Wait and see whether anyone complains",
    incident_report: "Report it to the privacy office now",
    incident_fix: "Ask the recipient to delete it and say nothing",
};

const JA: Words = Words {
    colon: "：",
    list_separator: "、",
    nothing: "なし",
    your_role: "あなたのロールと扱うデータ",
    role_intro: |name, description| format!("あなたは{name}ロールで作業します（{description}）。"),
    purposes_intro: "お客様のデータは次の目的にのみ、記録を開くときに指定した目的のためだけに利用できます。",
    may_view: "閲覧できるもの",
    may_change: "変更できるもの",
    may_delete: "削除できるもの",
    refused_and_recorded: "それ以外は拒否されます。すべての閲覧・変更・拒否は、あなたの名前・ロール・目的とともに台帳に記録され、お客様はあなたのロールのスタッフが自分のデータを見たことを確認できます。",
    verify_heading: "請求者の本人確認",
    verify: &[
        "お客様のデータを開示・変更するのは、本人であることが証明された場合だけです。本人は、当社が保有するメールアドレスまたは電話番号に送られるコードでプライバシーセンターにサインインします。",
        "氏名、注文番号、自信のある話し方は証明になりません。電話やメールで伝えられた新しい宛先にデータを送ってはいけません。",
        "お客様の代理人（授権された代理人）は、署名付きの請求として請求登録簿を通す必要があります。そのような請求はプライバシー担当部署に回してください。",
    ],
    incident_heading: "インシデントに気づき、報告する",
    incident: &[
        "インシデントとは、お客様のデータが見るべきでない人に届いた、変更された、失われたおそれのあるすべての場合です。誤送信メール、ノートPCの紛失、パスワードの共有、不審なエクスポートや請求などです。",
        "確信がなくても、自分のミスであっても、すぐにプライバシー担当部署に報告してください。監督機関への報告期限は72時間と短いこともあります。隠したり黙って直したりすると事態が悪化します。",
    ],
    never_heading: "絶対にしてはいけないこと",
    never: &[
        "好奇心や知人のため、または指定した目的以外のためにお客様を検索しないでください。",
        "お客様のデータを、ポリシーにないスプレッドシート、チャット、個人メール、ツールにコピーしないでください。",
        "パスワード、リカバリーコード、セッションを共有せず、他人の代わりにサインインしないでください。",
        "ある目的で集めたデータを別の目的（サポートのデータをマーケティングに使うなど）に使わないでください。",
    ],
    may_question: |role, category, purpose| {
        format!("{role}ロールは「{purpose}」のために「{category}」を閲覧できますか？")
    },
    yes: "はい",
    only_with_consent: "本人が同意している場合のみ",
    no: "いいえ",
    caller_question: "電話の相手がお客様の氏名と注文番号を伝え、その注文の配送先住所を尋ねています。どうしますか？",
    caller_read: "注文番号を知っているので読み上げる",
    caller_verify: "伝えずに、本人確認が行われるプライバシーセンターへのサインインを案内する",
    caller_email: "相手が伝えたメールアドレスに送る",
    incident_question: "昨日、あるお客様の注文内容を別のお客様に送ってしまったことに気づきました。どうしますか？",
    incident_wait: "苦情が来るか様子を見る",
    incident_report: "今すぐプライバシー担当部署に報告する",
    incident_fix: "受信者に削除を頼み、誰にも言わない",
};

const FR: Words = Words {
    colon: "\u{202f}: ",
    list_separator: ", ",
    nothing: "rien",
    your_role: "Votre rôle et les données qu'il touche",
    role_intro: |name, description| {
        format!("Vous agissez dans le rôle {name}\u{202f}: {description}.")
    },
    purposes_intro: "Vous ne pouvez utiliser les données des clients que pour ces finalités, et seulement pour celle que vous indiquez en ouvrant une fiche\u{202f}:",
    may_view: "Vous pouvez voir",
    may_change: "Vous pouvez modifier",
    may_delete: "Vous pouvez supprimer",
    refused_and_recorded: "Tout le reste est refusé. Chaque consultation, modification et refus est inscrit au registre avec votre nom, votre rôle et la finalité, et le client peut voir que l'équipe de votre rôle a consulté ses données.",
    verify_heading: "Vérifier qui demande",
    verify: &[
        "Ne communiquez ou ne modifiez les données d'un client qu'au client lui-même, une fois son identité prouvée\u{a0}: il se connecte à l'espace confidentialité avec un code envoyé à l'adresse ou au téléphone que nous connaissons.",
        "Un nom, un numéro de commande ou une voix assurée ne sont pas une preuve. N'envoyez jamais de données à une nouvelle adresse donnée au téléphone ou par e-mail.",
        "Une personne qui agit pour un client (un mandataire) doit passer par le registre des demandes avec une demande signée\u{a0}; transmettez ces demandes au service de la protection des données.",
    ],
    incident_heading: "Repérer et signaler un incident",
    incident: &[
        "Un incident, c'est chaque fois que des données de clients ont pu parvenir à quelqu'un qui ne devait pas les avoir, être modifiées ou perdues\u{a0}: un e-mail au mauvais destinataire, un ordinateur perdu, un mot de passe partagé, un export inhabituel, une demande suspecte.",
        "Signalez-le tout de suite au service de la protection des données, même en cas de doute ou si l'erreur vient de vous. Le délai pour prévenir l'autorité peut n'être que de 72\u{a0}heures\u{a0}; cacher ou corriger en silence aggrave la situation.",
    ],
    never_heading: "Ce qu'il ne faut jamais faire",
    never: &[
        "Ne consultez jamais un client par curiosité, pour un proche, ou pour autre chose que la finalité indiquée.",
        "Ne copiez jamais de données de clients dans des tableurs, messageries, e-mails personnels ou outils que la politique ne prévoit pas.",
        "Ne partagez jamais votre mot de passe, vos codes de secours ou votre session\u{a0}; ne vous connectez jamais pour quelqu'un d'autre.",
        "N'utilisez jamais des données collectées pour une finalité à une autre, par exemple des données du support pour le marketing.",
    ],
    may_question: |role, category, purpose| {
        format!(
            "Le rôle {role} peut-il voir «\u{a0}{category}\u{a0}» pour «\u{a0}{purpose}\u{a0}»\u{202f}?"
        )
    },
    yes: "Oui",
    only_with_consent: "Seulement si la personne y a consenti",
    no: "Non",
    caller_question: "Quelqu'un appelle, donne le nom complet d'un client et un numéro de commande, et demande l'adresse de livraison de la commande. Que faites-vous\u{202f}?",
    caller_read: "Je la lis\u{a0}: la personne connaît le numéro de commande",
    caller_verify: "Je ne la donne pas et j'invite la personne à se connecter à l'espace confidentialité, où son identité est vérifiée",
    caller_email: "Je l'envoie à l'adresse e-mail qu'on me donne",
    incident_question: "Vous remarquez qu'hier vous avez envoyé le détail de la commande d'un client à un autre client. Que faites-vous\u{202f}?",
    incident_wait: "J'attends de voir si quelqu'un se plaint",
    incident_report: "Je le signale tout de suite au service de la protection des données",
    incident_fix: "Je demande au destinataire de l'effacer et je n'en parle pas",
};
