//! The incident pages' words, in English, Japanese and French, and the names of kinds,
//! severities, statuses and timeline entries.

use mamori_policy::Language;
use mamori_proto::incidents::{
    ContainmentAction, EntryKind, IncidentKind, IncidentSeverity, IncidentStatus,
};

pub(crate) struct IncidentWords {
    pub(crate) heading: &'static str,
    pub(crate) open_heading: &'static str,
    pub(crate) open_intro: &'static str,
    pub(crate) title: &'static str,
    pub(crate) kind: &'static str,
    pub(crate) severity: &'static str,
    pub(crate) status: &'static str,
    pub(crate) detected: &'static str,
    pub(crate) detected_hint: &'static str,
    pub(crate) open_button: &'static str,
    pub(crate) opened: &'static str,
    pub(crate) timeline: &'static str,
    pub(crate) at: &'static str,
    pub(crate) by: &'static str,
    pub(crate) entry: &'static str,
    pub(crate) add_heading: &'static str,
    pub(crate) note: &'static str,
    pub(crate) move_to: &'static str,
    pub(crate) revise: &'static str,
    pub(crate) unchanged: &'static str,
    pub(crate) add_button: &'static str,
    pub(crate) added: &'static str,
    pub(crate) stale: &'static str,
    pub(crate) closed: &'static str,
    pub(crate) drill: &'static str,
    pub(crate) version: &'static str,
    pub(crate) contain_heading: &'static str,
    pub(crate) contain_intro: &'static str,
    pub(crate) step: &'static str,
    pub(crate) target: &'static str,
    pub(crate) contain_button: &'static str,
    pub(crate) contained: &'static str,
    pub(crate) new_secret: &'static str,
    pub(crate) deadlines: &'static str,
    pub(crate) deadlines_intro: &'static str,
    pub(crate) law: &'static str,
    pub(crate) recipient: &'static str,
    pub(crate) due: &'static str,
    pub(crate) asap: &'static str,
    pub(crate) overdue: &'static str,
    pub(crate) hours_left: &'static str,
    pub(crate) drill_heading: &'static str,
    pub(crate) drill_intro: &'static str,
    pub(crate) scenario: &'static str,
    pub(crate) drill_button: &'static str,
    pub(crate) extended_from: &'static str,
    pub(crate) configured: &'static str,
    pub(crate) extend: &'static str,
    pub(crate) extend_until: &'static str,
}

const EN: IncidentWords = IncidentWords {
    heading: "Incidents",
    open_heading: "Open an incident",
    open_intro: "Say what happened in a few words; the title is kept sealed. Legal clocks run from when the business became aware of it.",
    title: "Title",
    kind: "Kind",
    severity: "Severity",
    status: "Status",
    detected: "Became aware (UTC)",
    detected_hint: "Empty: now.",
    open_button: "Open the incident",
    opened: "Incident opened.",
    timeline: "Timeline",
    at: "When",
    by: "Who",
    entry: "Entry",
    add_heading: "Add to the timeline",
    note: "Note",
    move_to: "Move the status to",
    revise: "Revise the severity to",
    unchanged: "unchanged",
    add_button: "Add the entry",
    added: "Entry added.",
    stale: "Someone changed this incident since you opened it: read it again, then add your entry.",
    closed: "This incident is closed; its timeline takes no more entries.",
    drill: "Drill",
    version: "Version",
    contain_heading: "Contain",
    contain_intro: "Revoke a key or disable a member of staff now; the step is recorded here, linked.",
    step: "Step",
    target: "Key or staff id",
    contain_button: "Take the step",
    contained: "Done, and recorded on the timeline.",
    new_secret: "The subscription’s new signing secret (Standard Webhooks), shown this once — give it to its receiver:",
    deadlines: "Who must be told, by when",
    deadlines_intro: "Each law's duties, counted from when the business became aware. A summary for planning, not legal advice: each duty's legal source is in GET /v1/incidents/ID/deadlines.",
    law: "Law",
    recipient: "Whom",
    due: "Due",
    asap: "as soon as possible",
    overdue: "overdue",
    hours_left: "hours left",
    drill_heading: "Rehearse",
    drill_intro: "A tabletop drill opens an incident marked as a drill: work it like a real one; nothing real is sent. Its report is at GET /v1/incidents/ID/drill-report.",
    scenario: "Scenario",
    drill_button: "Start the drill",
    extended_from: "extended from",
    configured: "your own target (mamori.toml)",
    extend: "Extend a deadline (say why in the note)",
    extend_until: "Extended to (UTC)",
};

const JA: IncidentWords = IncidentWords {
    heading: "インシデント",
    open_heading: "インシデントを起票",
    open_intro: "何が起きたかを短く書いてください。タイトルは暗号化して保存されます。法定の期限は、事業者が認識した時点から進みます。",
    title: "タイトル",
    kind: "種類",
    severity: "重大度",
    status: "状態",
    detected: "認識した日時（UTC）",
    detected_hint: "空欄：現在",
    open_button: "インシデントを起票する",
    opened: "インシデントを起票しました。",
    timeline: "タイムライン",
    at: "日時",
    by: "実施者",
    entry: "記録",
    add_heading: "タイムラインに追記",
    note: "メモ",
    move_to: "状態を変更",
    revise: "重大度を変更",
    unchanged: "変更なし",
    add_button: "追記する",
    added: "追記しました。",
    stale: "このインシデントは開いた後に他の人が変更しました。読み直してから追記してください。",
    closed: "このインシデントは完了しています。タイムラインには追記できません。",
    drill: "訓練",
    version: "版",
    contain_heading: "封じ込め",
    contain_intro: "API キーの失効やスタッフの無効化をすぐに行い、その記録をここに関連付けて残します。",
    step: "措置",
    target: "キーまたはスタッフのID",
    contain_button: "実行する",
    contained: "実行し、タイムラインに記録しました。",
    new_secret: "購読の新しい署名用シークレット（Standard Webhooks）は今回だけ表示します。受信側に渡してください：",
    deadlines: "誰に、いつまでに知らせるか",
    deadlines_intro: "法律ごとの義務を、事業者が認識した時点から数えています。計画のための要約であり、法的助言ではありません。各義務の法的根拠は GET /v1/incidents/ID/deadlines にあります。",
    law: "法律",
    recipient: "相手",
    due: "期限",
    asap: "できる限り速やかに",
    overdue: "期限切れ",
    hours_left: "残り時間（時間）",
    drill_heading: "訓練",
    drill_intro: "机上訓練では訓練用のインシデントを起票します。本番と同じように対応してください。実際には何も送信されません。報告は GET /v1/incidents/ID/drill-report にあります。",
    scenario: "シナリオ",
    drill_button: "訓練を始める",
    extended_from: "延長前の期限",
    configured: "自社の目標（mamori.toml）",
    extend: "期限を延長（理由をメモに記入）",
    extend_until: "延長後の期限（UTC）",
};

const FR: IncidentWords = IncidentWords {
    heading: "Incidents",
    open_heading: "Ouvrir un incident",
    open_intro: "Dites en quelques mots ce qui s’est passé\u{a0}; le titre est gardé scellé. Les délais légaux courent depuis le moment où l’entreprise en a eu connaissance.",
    title: "Titre",
    kind: "Type",
    severity: "Gravité",
    status: "État",
    detected: "Connaissance (UTC)",
    detected_hint: "Vide\u{a0}: maintenant.",
    open_button: "Ouvrir l’incident",
    opened: "Incident ouvert.",
    timeline: "Chronologie",
    at: "Quand",
    by: "Qui",
    entry: "Entrée",
    add_heading: "Ajouter à la chronologie",
    note: "Note",
    move_to: "Passer l’état à",
    revise: "Réviser la gravité à",
    unchanged: "inchangé",
    add_button: "Ajouter l’entrée",
    added: "Entrée ajoutée.",
    stale: "Quelqu’un a modifié cet incident depuis que vous l’avez ouvert\u{a0}: relisez-le, puis ajoutez votre entrée.",
    closed: "Cet incident est clos\u{a0}; sa chronologie ne prend plus d’entrée.",
    drill: "Exercice",
    version: "Version",
    contain_heading: "Confiner",
    contain_intro: "Révoquez une clé ou désactivez un membre du personnel tout de suite\u{a0}; l’étape est consignée ici, liée.",
    step: "Étape",
    target: "Identifiant de la clé ou du membre",
    contain_button: "Exécuter",
    contained: "Fait, et consigné dans la chronologie.",
    new_secret: "Le nouveau secret de signature de l’abonnement (Standard Webhooks), affiché cette seule fois — à transmettre à son destinataire\u{a0}:",
    deadlines: "Qui prévenir, et avant quand",
    deadlines_intro: "Les obligations de chaque loi, comptées depuis la prise de connaissance. Un résumé pour s’organiser, pas un avis juridique\u{a0}: la source juridique de chaque obligation est dans GET /v1/incidents/ID/deadlines.",
    law: "Loi",
    recipient: "Qui",
    due: "Échéance",
    asap: "dès que possible",
    overdue: "en retard",
    hours_left: "heures restantes",
    drill_heading: "S’exercer",
    drill_intro: "Un exercice sur table ouvre un incident marqué comme exercice\u{a0}: traitez-le comme un vrai\u{a0}; rien de réel n’est envoyé. Son bilan est dans GET /v1/incidents/ID/drill-report.",
    scenario: "Scénario",
    drill_button: "Lancer l’exercice",
    extended_from: "prolongée ; initialement le",
    configured: "votre propre objectif (mamori.toml)",
    extend: "Prolonger une échéance (dites pourquoi dans la note)",
    extend_until: "Prolongée jusqu’au (UTC)",
};

pub(crate) fn incident_words(lang: Language) -> IncidentWords {
    match lang {
        Language::En => EN,
        Language::Ja => JA,
        Language::Fr => FR,
    }
}

fn pick(lang: Language, said: [&'static str; 3]) -> &'static str {
    match lang {
        Language::En => said[0],
        Language::Ja => said[1],
        Language::Fr => said[2],
    }
}

pub(crate) fn kind_name(k: IncidentKind, lang: Language) -> &'static str {
    mamori_core::incidents::regulator::kind_name(k, lang)
}

pub(crate) fn severity_name(s: IncidentSeverity, lang: Language) -> &'static str {
    use IncidentSeverity::*;
    pick(
        lang,
        match s {
            Low => ["Low", "低", "Faible"],
            Medium => ["Medium", "中", "Moyenne"],
            High => ["High", "高", "Élevée"],
            Critical => ["Critical", "重大", "Critique"],
        },
    )
}

pub(crate) fn status_name(s: IncidentStatus, lang: Language) -> &'static str {
    use IncidentStatus::*;
    pick(
        lang,
        match s {
            Draft => [
                "Draft — to confirm",
                "下書き（要確認）",
                "Brouillon — à confirmer",
            ],
            Open => ["Open", "起票済み", "Ouvert"],
            Assessing => ["Assessing", "評価中", "En évaluation"],
            Contained => ["Contained", "封じ込め済み", "Maîtrisé"],
            Notifying => ["Notifying", "通知中", "Notifications en cours"],
            Closed => ["Closed", "完了", "Clos"],
        },
    )
}

pub(crate) fn entry_name(e: EntryKind, lang: Language) -> &'static str {
    use EntryKind::*;
    pick(
        lang,
        match e {
            Opened => ["Opened", "起票", "Ouverture"],
            Note => ["Note", "メモ", "Note"],
            Status => ["Status", "状態の変更", "Changement d’état"],
            Severity => ["Severity", "重大度の変更", "Révision de gravité"],
            Link => ["Linked", "関連付け", "Lien"],
            Containment => ["Containment", "封じ込め", "Confinement"],
            Notices => [
                "Notices to people prepared",
                "本人への通知を作成",
                "Avis aux personnes préparés",
            ],
            Extension => ["Deadline extended", "期限の延長", "Échéance prolongée"],
        },
    )
}

pub(crate) fn action_name(a: ContainmentAction, lang: Language) -> &'static str {
    pick(
        lang,
        match a {
            ContainmentAction::RevokeApiKey => [
                "Revoke an API key",
                "API キーを失効",
                "Révoquer une clé d’API",
            ],
            ContainmentAction::DisableStaff => [
                "Disable a member of staff",
                "スタッフを無効化",
                "Désactiver un membre du personnel",
            ],
            ContainmentAction::RemoveWebhook => [
                "Stop a webhook subscription",
                "Webhookの購読を停止",
                "Arrêter un abonnement webhook",
            ],
            ContainmentAction::RemoveAgent => [
                "Remove a rights agent",
                "代理人（DRP）を削除",
                "Retirer un agent de droits",
            ],
            ContainmentAction::PauseWebhook => [
                "Pause a webhook subscription",
                "Webhookの購読を一時停止",
                "Suspendre un abonnement webhook",
            ],
            ContainmentAction::RotateWebhookSecret => [
                "Replace a webhook’s signing secret",
                "Webhookの署名シークレットを更新",
                "Remplacer le secret de signature d’un webhook",
            ],
            ContainmentAction::PauseAgent => [
                "Pause a rights agent",
                "代理人（DRP）を一時停止",
                "Suspendre un agent de droits",
            ],
        },
    )
}

pub(crate) fn recipient_name(code: &str, lang: Language) -> &'static str {
    pick(
        lang,
        match code {
            "authority" => [
                "The supervisory authority",
                "監督機関",
                "L’autorité de contrôle",
            ],
            "authority_preliminary" => [
                "The authority (preliminary report)",
                "監督機関（速報）",
                "L’autorité (rapport préliminaire)",
            ],
            "authority_final" => [
                "The authority (final report)",
                "監督機関（確報）",
                "L’autorité (rapport final)",
            ],
            "people" => ["The people affected", "本人", "Les personnes concernées"],
            "attorney_general" => ["The Attorney General", "州司法長官", "Le procureur général"],
            "media" => ["The media", "報道機関", "Les médias"],
            "card_brands" => [
                "The acquirer and card brands",
                "アクワイアラーとカードブランド",
                "L’acquéreur et les réseaux de cartes",
            ],
            _ => ["Other", "その他", "Autre"],
        },
    )
}
