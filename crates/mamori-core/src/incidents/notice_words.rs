//! The words of a notice to a person an incident affected, in English, Japanese and French, each
//! with its typography: what happened, which of their data and when, what the business has
//! done, what they can do, whom to contact. Built from codes, the policy's labels and the
//! business's own advice; never from another person's data.

use mamori_policy::Language;
use mamori_proto::incidents::IncidentKind;

/// What a notice says, filled in for one person.
pub struct NoticeFacts<'a> {
    pub organisation: &'a str,
    pub contact: &'a str,
    pub kind: IncidentKind,
    /// Calendar days (`2026-12-07`).
    pub detected_day: &'a str,
    pub first_day: &'a str,
    pub last_day: &'a str,
    /// The policy's labels of the person's categories, in the notice's language.
    pub categories: Vec<&'a str>,
    /// Containment steps taken (codes of `ContainmentAction`).
    pub steps: Vec<&'a str>,
    /// The business's advice in this language, if it wrote some.
    pub advice: Option<&'a str>,
    /// Where the person reads the notice again.
    pub privacy_center: &'a str,
}

fn what_happened(kind: IncidentKind, lang: Language) -> &'static str {
    use IncidentKind::*;
    match (lang, kind) {
        (Language::En, LostDevice) => "a device holding your data was lost or stolen",
        (Language::En, LeakedCredential) => "an access credential to our systems was exposed",
        (Language::En, VendorBreach) => "one of our service providers had a security breach",
        (Language::En, MisdirectedEmail) => {
            "a message with your data was sent to the wrong recipient"
        }
        (Language::En, UnauthorisedAccess) => "someone accessed your data without authorisation",
        (Language::En, Ransomware) => "our systems were attacked by ransomware",
        (Language::En, Other) => "a security incident affected your data",
        (Language::Ja, LostDevice) => "お客様のデータを含む端末の紛失または盗難がありました",
        (Language::Ja, LeakedCredential) => "当社システムへのアクセス用の認証情報が漏えいしました",
        (Language::Ja, VendorBreach) => "当社の委託先でセキュリティ侵害が発生しました",
        (Language::Ja, MisdirectedEmail) => {
            "お客様のデータを含むメッセージが誤った宛先に送信されました"
        }
        (Language::Ja, UnauthorisedAccess) => "お客様のデータへの不正なアクセスがありました",
        (Language::Ja, Ransomware) => "当社のシステムがランサムウェアによる攻撃を受けました",
        (Language::Ja, Other) => "お客様のデータに関わるセキュリティ上の事故が発生しました",
        (Language::Fr, LostDevice) => "un appareil contenant vos données a été perdu ou volé",
        (Language::Fr, LeakedCredential) => "un identifiant d’accès à nos systèmes a été divulgué",
        (Language::Fr, VendorBreach) => "l’un de nos prestataires a subi une violation de sécurité",
        (Language::Fr, MisdirectedEmail) => {
            "un message contenant vos données a été envoyé au mauvais destinataire"
        }
        (Language::Fr, UnauthorisedAccess) => {
            "une personne a accédé à vos données sans autorisation"
        }
        (Language::Fr, Ransomware) => "nos systèmes ont été attaqués par un rançongiciel",
        (Language::Fr, Other) => "un incident de sécurité a touché vos données",
    }
}

fn step(code: &str, lang: Language) -> &'static str {
    match (lang, code) {
        (Language::En, "revoke_api_key") => "We revoked the access key involved.",
        (Language::En, "disable_staff") => "We disabled the staff account involved.",
        (Language::En, _) => "We took steps to stop it.",
        (Language::Ja, "revoke_api_key") => "関係するアクセスキーを無効にしました。",
        (Language::Ja, "disable_staff") => "関係する従業員のアカウントを停止しました。",
        (Language::Ja, _) => "被害を止めるための措置を講じました。",
        (Language::Fr, "revoke_api_key") => "Nous avons révoqué la clé d’accès en cause.",
        (Language::Fr, "disable_staff") => {
            "Nous avons désactivé le compte du membre du personnel en cause."
        }
        (Language::Fr, _) => "Nous avons pris des mesures pour y mettre fin.",
    }
}

struct Frame {
    subject: &'static str,
    opening: &'static str,
    happened: &'static str,
    aware: &'static str,
    which: &'static str,
    between: &'static str,
    done: &'static str,
    investigating: &'static str,
    can_do: &'static str,
    generic_advice: &'static str,
    contact: &'static str,
    again: &'static str,
    /// A label's colon: "Label: text", "ラベル：テキスト", "Libellé : texte".
    colon: &'static str,
    list: &'static str,
}

const EN: Frame = Frame {
    subject: "a security incident concerning your data",
    opening: "is writing to tell you about a security incident that concerned your personal data.",
    happened: "What happened",
    aware: "We became aware of it on",
    which: "Which of your data",
    between: "accessed between {first} and {last}",
    done: "What we have done",
    investigating: "We are investigating and have taken steps to stop it.",
    can_do: "What you can do",
    generic_advice: "Be wary of messages that ask for your password or payment details, even if they seem to come from us, and tell us of anything unusual.",
    contact: "Whom to contact",
    again: "You can read this notice again in your privacy center",
    colon: ": ",
    list: ", ",
};

const JA: Frame = Frame {
    subject: "お客様のデータに関するセキュリティ事故のお知らせ",
    opening: "より、お客様の個人データに関わるセキュリティ上の事故についてお知らせいたします。",
    happened: "発生した事象",
    aware: "当社が事象を把握した日",
    which: "対象となるお客様のデータ",
    between: "{first}から{last}までの間にアクセスされました",
    done: "当社の対応",
    investigating: "現在調査を進めており、被害を止めるための措置を講じました。",
    can_do: "お客様にお願いしたいこと",
    generic_advice: "当社を装ったものを含め、パスワードや支払い情報を求めるメッセージにご注意ください。不審な点があれば当社までご連絡ください。",
    contact: "お問い合わせ先",
    again: "このお知らせはプライバシーセンターでいつでもご確認いただけます",
    colon: "：",
    list: "、",
};

const FR: Frame = Frame {
    subject: "un incident de sécurité concernant vos données",
    opening: "vous informe d’un incident de sécurité qui a concerné vos données personnelles.",
    happened: "Ce qui s’est passé",
    aware: "Nous en avons eu connaissance le",
    which: "Vos données concernées",
    between: "consultées entre le {first} et le {last}",
    done: "Ce que nous avons fait",
    investigating: "Nous enquêtons et avons pris des mesures pour y mettre fin.",
    can_do: "Ce que vous pouvez faire",
    generic_advice: "Méfiez-vous des messages qui vous demandent votre mot de passe ou vos coordonnées bancaires, même s’ils semblent venir de nous, et signalez-nous tout ce qui vous paraît inhabituel.",
    contact: "Qui contacter",
    again: "Vous pouvez relire cet avis dans votre espace de confidentialité",
    colon: "\u{202f}: ",
    list: ", ",
};

fn frame(lang: Language) -> &'static Frame {
    match lang {
        Language::En => &EN,
        Language::Ja => &JA,
        Language::Fr => &FR,
    }
}

/// The notice's subject line and body.
pub fn notice(facts: &NoticeFacts, lang: Language) -> (String, String) {
    let f = frame(lang);
    let c = f.colon;
    let subject = match lang {
        Language::Ja => format!("【{}】{}", facts.organisation, f.subject),
        _ => format!("{}{c}{}", facts.organisation, f.subject),
    };
    let mut happened = what_happened(facts.kind, lang).to_string();
    let end = if lang == Language::Ja { "。" } else { "." };
    happened.push_str(end);
    let between = (f.between)
        .replace("{first}", facts.first_day)
        .replace("{last}", facts.last_day);
    let which = format!(
        "{}{}",
        facts.categories.join(f.list),
        bracket(&between, lang)
    );
    let done = match facts.steps.is_empty() {
        true => f.investigating.to_string(),
        false => (facts.steps.iter())
            .map(|s| step(s, lang))
            .collect::<Vec<_>>()
            .join(if lang == Language::Ja { "" } else { " " }),
    };
    let advice = facts.advice.unwrap_or(f.generic_advice);
    let opening = match lang {
        Language::Ja => format!("{}{}", facts.organisation, f.opening),
        _ => format!("{} {}", facts.organisation, f.opening),
    };
    let body = [
        opening,
        String::new(),
        format!("{}{c}{happened}", f.happened),
        format!("{}{c}{}", f.aware, facts.detected_day),
        format!("{}{c}{which}", f.which),
        format!("{}{c}{done}", f.done),
        format!("{}{c}{advice}", f.can_do),
        format!("{}{c}{}", f.contact, facts.contact),
        String::new(),
        format!("{}{c}{}", f.again, facts.privacy_center),
    ]
    .join("\n");
    (subject, body)
}

/// The text message for a person reached only by phone: what it is and where to read it.
pub fn text_message(facts: &NoticeFacts, lang: Language) -> String {
    let org = facts.organisation;
    let link = facts.privacy_center;
    match lang {
        Language::En => {
            format!("{org}: a security incident concerned your data. Read our notice: {link}")
        }
        Language::Ja => format!(
            "{org}：お客様のデータに関わるセキュリティ事故がありました。お知らせはこちら：{link}"
        ),
        Language::Fr => format!(
            "{org}\u{202f}: un incident de sécurité a concerné vos données. Lisez notre avis\u{a0}: {link}"
        ),
    }
}

/// "(accessed between …)" in each language's brackets.
fn bracket(text: &str, lang: Language) -> String {
    match lang {
        Language::Ja => format!("（{text}）"),
        _ => format!(" ({text})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(kind: IncidentKind) -> NoticeFacts<'static> {
        NoticeFacts {
            organisation: "Shop",
            contact: "privacy@shop.example",
            kind,
            detected_day: "2026-12-01",
            first_day: "2026-11-30",
            last_day: "2026-12-01",
            categories: vec!["Contact", "Orders"],
            steps: vec!["revoke_api_key"],
            advice: None,
            privacy_center: "https://privacy.shop.example/me",
        }
    }

    #[test]
    fn every_kind_is_said_in_every_language_with_its_typography() {
        for kind in IncidentKind::ALL {
            let [en, ja, fr] = Language::ALL.map(|l| notice(&facts(*kind), l));
            assert!(en.1.contains("What happened: ") && en.1.contains("Contact, Orders"));
            assert!(ja.1.contains("発生した事象：") && ja.1.contains("Contact、Orders"));
            assert!(ja.0.starts_with("【Shop】"));
            assert!(fr.1.contains("Ce qui s’est passé\u{202f}: "));
            assert_ne!(
                what_happened(*kind, Language::En),
                what_happened(*kind, Language::Fr)
            );
            for (_, body) in [&en, &ja, &fr] {
                assert!(body.contains("privacy@shop.example") && body.contains("2026-11-30"));
            }
        }
    }

    #[test]
    fn a_text_message_is_short_and_links_to_the_notice() {
        for lang in Language::ALL {
            let text = text_message(&facts(IncidentKind::Other), lang);
            assert!(
                text.contains("https://privacy.shop.example/me") && text.chars().count() < 160,
                "{text}"
            );
        }
    }

    #[test]
    fn the_business_advice_replaces_the_generic_one() {
        let mut f = facts(IncidentKind::Other);
        f.advice = Some("Change your password.");
        let (_, body) = notice(&f, Language::En);
        assert!(body.contains("What you can do: Change your password."));
        assert!(!body.contains("Be wary"));
    }
}
