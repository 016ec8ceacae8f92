//! A posture finding in English, Japanese or French (each with its typography: the no-break
//! space before the French colon, Japanese full-width punctuation). Commands stay as typed.

use mamori_policy::Language;

use super::{Fact, FileKind, Severity};

fn list(items: &[String], lang: Language) -> String {
    match lang {
        Language::Ja => items.join("、"),
        _ => items.join(", "),
    }
}

fn file(kind: FileKind, lang: Language) -> &'static str {
    match (kind, lang) {
        (FileKind::MasterKey, Language::En) => "the master key",
        (FileKind::MasterKey, Language::Ja) => "マスター鍵",
        (FileKind::MasterKey, Language::Fr) => "la clé maîtresse",
        (FileKind::KeyStore, Language::En) => "the key store",
        (FileKind::KeyStore, Language::Ja) => "鍵ストア",
        (FileKind::KeyStore, Language::Fr) => "le magasin de clés",
        (FileKind::Database, Language::En) => "a database file",
        (FileKind::Database, Language::Ja) => "データベースファイル",
        (FileKind::Database, Language::Fr) => "un fichier de la base",
    }
}

/// Picks the sentence of `lang`.
fn pick(lang: Language, en: String, ja: String, fr: String) -> String {
    match lang {
        Language::En => en,
        Language::Ja => ja,
        Language::Fr => fr,
    }
}

/// What was found, in `lang`.
pub fn say(fact: &Fact, lang: Language) -> String {
    (say_installation(fact, lang))
        .or_else(|| say_vendors(fact, lang))
        .unwrap_or_else(|| say_vault(fact, lang))
}

fn say_installation(fact: &Fact, lang: Language) -> Option<String> {
    use Fact::*;
    let l = lang;
    Some(match fact {
        FilesPrivate => pick(l,
            "the master key, key store and database files are readable by their owner only".into(),
            "マスター鍵・鍵ストア・データベースファイルは所有者だけが読めます".into(),
            "la clé maîtresse, le magasin de clés et les fichiers de la base ne sont lisibles que par leur propriétaire".into()),
        FileOpen { file: k, path, mode } => pick(l,
            format!("{} {path} can be read by others (mode {mode:o})", file(*k, l)),
            format!("{}（{path}）を他のユーザーが読めます（モード {mode:o}）", file(*k, l)),
            format!("{} {path} est lisible par d’autres (mode {mode:o})", file(*k, l))),
        DataDirectoryOpen { path, mode } => pick(l,
            format!("{path} can be listed by others (mode {mode:o})"),
            format!("{path} の中身を他のユーザーが一覧できます（モード {mode:o}）"),
            format!("{path} peut être listé par d’autres (mode {mode:o})")),
        LocalFilesystem { kind } => pick(l,
            format!("the data directory is on {kind}"),
            format!("データディレクトリは {kind} 上にあります"),
            format!("le répertoire des données est sur {kind}")),
        NetworkFilesystem { kind } => pick(l,
            format!("the SQLite database is on a network filesystem ({kind}): its locks and syncs are not reliable there"),
            format!("SQLite データベースがネットワークファイルシステム（{kind}）上にあります。ロックと同期が信頼できません"),
            format!("la base SQLite est sur un système de fichiers réseau ({kind})\u{a0}: ses verrous et synchronisations n’y sont pas fiables")),
        NoPublicUrl => pick(l,
            "no public_url: links in e-mails point at the listening address".into(),
            "public_url が未設定です。メール内のリンクは待ち受けアドレスを指します".into(),
            "pas de public_url\u{a0}: les liens des courriels pointent vers l’adresse d’écoute".into()),
        PublicUrlHttps { url } => pick(l,
            format!("links go out as {url}"),
            format!("リンクは {url} として送られます"),
            format!("les liens partent en {url}")),
        PublicUrlClear { url } => pick(l,
            format!("public_url {url} is not https: sign-in codes and sessions would travel in clear"),
            format!("public_url {url} が https ではありません。サインインコードとセッションが平文で流れます"),
            format!("public_url {url} n’est pas en https\u{a0}: codes de connexion et sessions circuleraient en clair")),
        NoBackupSchedule => pick(l,
            "no scheduled backups".into(),
            "定期バックアップが設定されていません".into(),
            "aucune sauvegarde planifiée".into()),
        NoBackupYet { to } => pick(l,
            format!("no backup in {to} yet"),
            format!("{to} にはまだバックアップがありません"),
            format!("encore aucune sauvegarde dans {to}")),
        BackupOverdue { to, days } => pick(l,
            format!("the newest backup in {to} is {days} days old: overdue"),
            format!("{to} の最新のバックアップは {days} 日前のもので、期限を過ぎています"),
            format!("la sauvegarde la plus récente dans {to} date de {days} jours\u{a0}: en retard")),
        BackupFresh { to, hours } => pick(l,
            format!("the newest backup in {to} is {hours} hours old"),
            format!("{to} の最新のバックアップは {hours} 時間前のものです"),
            format!("la sauvegarde la plus récente dans {to} date de {hours} heures")),
        KeysRotating { epochs } => pick(l,
            format!("{epochs} key epochs, rotating as configured"),
            format!("鍵エポック {epochs} 個、設定どおりに更新されています"),
            format!("{epochs} époques de clés, renouvelées comme configuré")),
        KeysNotRotating { kept } => pick(l,
            format!("key epochs are not rotating as configured ({kept} retired past the horizon): erasures reach old copies later"),
            format!("鍵エポックが設定どおりに更新されていません（期限を過ぎた退役エポック {kept} 個）。消去が古い複製に及ぶのが遅れます"),
            format!("les époques de clés ne sont pas renouvelées comme configuré ({kept} retirées au-delà de l’horizon)\u{a0}: les effacements atteignent plus tard les anciennes copies")),
        NotOpen { why } => pick(l,
            format!("the installation does not open, so its keys, API keys, webhooks and ledger were not checked: {why}"),
            format!("インストールを開けないため、鍵・API キー・Webhook・台帳は確認していません：{why}"),
            format!("l’installation ne s’ouvre pas, ses clés, clés d’API, webhooks et registre n’ont donc pas été vérifiés\u{a0}: {why}")),
        _ => return None,
    })
}

fn say_vault(fact: &Fact, lang: Language) -> String {
    use Fact::*;
    let l = lang;
    match fact {
        NoOldApiKeys => pick(l,
            "no API key is older than a year".into(),
            "1年より古い API キーはありません".into(),
            "aucune clé d’API n’a plus d’un an".into()),
        OldApiKeys { names } => pick(l,
            format!("API keys older than a year: {}", list(names, l)),
            format!("1年より古い API キー：{}", list(names, l)),
            format!("clés d’API de plus d’un an\u{a0}: {}", list(names, l))),
        PeopleRolesTakeNoKeys { roles } if roles.is_empty() => pick(l,
            "no role asks for MFA or training, so API keys act for every role".into(),
            "多要素認証や研修を求めるロールはありません。API キーはどのロールでも使えます".into(),
            "aucun rôle n’exige de second facteur ni de formation\u{a0}: les clés d’API agissent pour tous".into()),
        PeopleRolesTakeNoKeys { roles } => pick(l,
            format!("roles whose people need MFA or training take no API keys: {}", list(roles, l)),
            format!("多要素認証や研修が必要なロールは API キーを受け付けません：{}", list(roles, l)),
            format!("les rôles qui exigent un second facteur ou une formation n’acceptent pas de clé d’API\u{a0}: {}", list(roles, l))),
        RefusedKeys { keys } => pick(l,
            format!("API keys of roles that ask for MFA or training are refused at every use: {}", list(keys, l)),
            format!("多要素認証や研修を求めるロールの API キーは使うたびに拒否されます：{}", list(keys, l)),
            format!("les clés d’API de rôles qui exigent un second facteur ou une formation sont refusées à chaque usage\u{a0}: {}", list(keys, l))),
        EveryoneHasFactor => pick(l,
            "every enrolled member of staff whose role asks for MFA has a second factor".into(),
            "多要素認証を求めるロールの登録済みスタッフは全員、第二要素を持っています".into(),
            "chaque membre du personnel inscrit dont le rôle exige un second facteur en a un".into()),
        StaffWithoutFactor { staff } => pick(l,
            format!("staff whose role asks for MFA but who have no second factor (they cannot act): {}", list(staff, l)),
            format!("多要素認証が必要なのに第二要素のないスタッフ（操作できません）：{}", list(staff, l)),
            format!("personnel dont le rôle exige un second facteur mais qui n’en a aucun (il ne peut pas agir)\u{a0}: {}", list(staff, l))),
        EveryoneTrained => pick(l,
            "every enrolled member of staff holds the training their role asks for".into(),
            "登録済みスタッフは全員、ロールが求める研修を修了しています".into(),
            "chaque membre du personnel inscrit a suivi la formation que son rôle exige".into()),
        Untrained { staff } => pick(l,
            format!("staff whose role asks for training they do not hold (they cannot act): {}", list(staff, l)),
            format!("ロールが求める研修を修了していないスタッフ（操作できません）：{}", list(staff, l)),
            format!("personnel sans la formation que son rôle exige (il ne peut pas agir)\u{a0}: {}", list(staff, l))),
        WebhooksDeliver => pick(l,
            "every webhook subscription delivers".into(),
            "すべての Webhook 購読が配信できています".into(),
            "chaque abonnement webhook est livré".into()),
        WebhooksFailing { ids } => pick(l,
            format!("webhook subscriptions failing: {}", list(ids, l)),
            format!("配信に失敗している Webhook 購読：{}", list(ids, l)),
            format!("abonnements webhook en échec\u{a0}: {}", list(ids, l))),
        LedgerMatches => pick(l,
            "the ledger matches its latest signed head".into(),
            "台帳は最新の署名付きヘッドと一致しています".into(),
            "le registre correspond à sa dernière tête signée".into()),
        LedgerBroken { why } => pick(l,
            format!("the ledger does not match its latest signed head: {why}"),
            format!("台帳が最新の署名付きヘッドと一致しません：{why}"),
            format!("le registre ne correspond plus à sa dernière tête signée\u{a0}: {why}")),
        ClockAgrees => pick(l,
            "the clock agrees with the ledger".into(),
            "時計は台帳と一致しています".into(),
            "l’horloge concorde avec le registre".into()),
        ClockBehind { seconds } => pick(l,
            format!("the clock is {seconds} s behind the ledger's latest signed head"),
            format!("時計が台帳の最新の署名付きヘッドより {seconds} 秒遅れています"),
            format!("l’horloge retarde de {seconds}\u{a0}s sur la dernière tête signée du registre")),
        DrillRecently { days } => pick(l,
            format!("the last tabletop drill was {days} days ago"),
            format!("最後の机上訓練は{days}日前です"),
            format!("le dernier exercice sur table date de {days}\u{a0}jours")),
        NoRecentDrill { days: Some(days) } => pick(l,
            format!("no tabletop drill for {days} days: rehearse at least every six months"),
            format!("{days}日間、机上訓練が行われていません。少なくとも半年に一度は実施してください"),
            format!("aucun exercice sur table depuis {days}\u{a0}jours\u{a0}: entraînez-vous au moins tous les six mois")),
        NoRecentDrill { days: None } => pick(l,
            "no tabletop drill has been run yet: rehearse at least every six months".into(),
            "机上訓練はまだ一度も行われていません。少なくとも半年に一度は実施してください".into(),
            "aucun exercice sur table n’a encore eu lieu\u{a0}: entraînez-vous au moins tous les six mois".into()),
        _ => String::new(),
    }
}

/// The vendor register's findings.
fn say_vendors(fact: &Fact, lang: Language) -> Option<String> {
    use Fact::*;
    let l = lang;
    Some(match fact {
        VendorContractsCurrent { count } => pick(
            l,
            format!("the contracts of all {count} vendors are current"),
            format!("委託先など{count}社すべての契約が有効です"),
            format!("les contrats des {count}\u{a0}prestataires sont en vigueur"),
        ),
        VendorContractsEnding { vendors } => pick(
            l,
            format!("vendor contracts end within a month: {}", list(vendors, l)),
            format!("1か月以内に契約が終了する提供先：{}", list(vendors, l)),
            format!(
                "des contrats de prestataires finissent d’ici un mois\u{a0}: {}",
                list(vendors, l)
            ),
        ),
        VendorContractsNotCurrent { vendors } => pick(
            l,
            format!(
                "vendors without a current contract may receive no data: {}",
                list(vendors, l)
            ),
            format!(
                "有効な契約のない提供先にはデータを渡せません：{}",
                list(vendors, l)
            ),
            format!(
                "des prestataires sans contrat en vigueur ne peuvent rien recevoir\u{a0}: {}",
                list(vendors, l)
            ),
        ),
        VendorReviewsCurrent { count } => pick(
            l,
            format!("all {count} vendors were reviewed within a year"),
            format!("{count}社すべてが1年以内に安全管理の確認を受けています"),
            format!("les {count}\u{a0}prestataires ont été évalués depuis moins d’un an"),
        ),
        VendorReviewsDue { vendors } => pick(
            l,
            format!(
                "vendors not reviewed for more than a year, or never: {}",
                list(vendors, l)
            ),
            format!(
                "1年以上（または一度も）安全管理の確認をしていない提供先：{}",
                list(vendors, l)
            ),
            format!(
                "prestataires non évalués depuis plus d’un an, ou jamais\u{a0}: {}",
                list(vendors, l)
            ),
        ),
        VendorReviewsFailed { vendors } => pick(
            l,
            format!(
                "vendors whose last security review failed: {}",
                list(vendors, l)
            ),
            format!(
                "直近の安全管理の確認で不合格となった提供先：{}",
                list(vendors, l)
            ),
            format!(
                "prestataires dont la dernière évaluation de sécurité a échoué\u{a0}: {}",
                list(vendors, l)
            ),
        ),
        _ => return None,
    })
}

/// What to do about it, in `lang` (commands as typed); None when nothing is to be done.
pub fn fix(fact: &Fact, lang: Language) -> Option<String> {
    use Fact::*;
    let l = lang;
    Some(match fact {
        FileOpen { path, .. } => format!("chmod 600 {path}"),
        DataDirectoryOpen { path, .. } => format!("chmod 700 {path}"),
        NetworkFilesystem { .. } => pick(l,
            "move --data to a local disk, or use PostgreSQL (--database postgres://…)".into(),
            "--data をローカルディスクに移すか、PostgreSQL を使ってください（--database postgres://…）".into(),
            "placez --data sur un disque local, ou utilisez PostgreSQL (--database postgres://…)".into()),
        NoPublicUrl | PublicUrlClear { .. } => pick(l,
            "set public_url = \"https://…\" in mamori.toml (TLS at your reverse proxy)".into(),
            "mamori.toml に public_url = \"https://…\" を設定してください（TLS はリバースプロキシで）".into(),
            "indiquez public_url = \"https://…\" dans mamori.toml (TLS au proxy inverse)".into()),
        NoBackupSchedule => pick(l,
            "add [backup] to = \"DIR\" to mamori.toml (see README, Backups and restore)".into(),
            "mamori.toml に [backup] to = \"DIR\" を追加してください（README「Backups and restore」参照）".into(),
            "ajoutez [backup] to = \"DIR\" à mamori.toml (voir le README, Backups and restore)".into()),
        NoBackupYet { to } => format!("mamori backup --to {to}/"),
        BackupOverdue { .. } => pick(l,
            "check that mamori serve runs and can write there (its log says why)".into(),
            "mamori serve が動いていて書き込めるか確認してください（理由はログにあります）".into(),
            "vérifiez que mamori serve tourne et peut y écrire (son journal dit pourquoi)".into()),
        KeysNotRotating { .. } => "mamori key rotate".into(),
        NotOpen { .. } => pick(l,
            "fix the findings above, then run mamori doctor again".into(),
            "上の指摘を直してから、もう一度 mamori doctor を実行してください".into(),
            "corrigez les points ci-dessus, puis relancez mamori doctor".into()),
        OldApiKeys { .. } => "mamori apikey create --role R --name N; mamori apikey revoke ID".into(),
        RefusedKeys { .. } => pick(l,
            "mamori apikey revoke ID (automation: a role declared machine = true)".into(),
            "mamori apikey revoke ID（自動処理には machine = true のロールを）".into(),
            "mamori apikey revoke ID (pour l’automatisation\u{a0}: un rôle déclaré machine = true)".into()),
        StaffWithoutFactor { .. } => "mamori staff reset ID".into(),
        Untrained { .. } => pick(l,
            "they take it in the console: /console/training".into(),
            "コンソールの /console/training で受講してもらってください".into(),
            "à suivre dans la console\u{a0}: /console/training".into()),
        WebhooksFailing { .. } => "mamori webhook list; mamori webhook replay ID --from SEQ".into(),
        LedgerBroken { .. } => "mamori ledger verify".into(),
        ClockBehind { .. } => "timedatectl set-ntp true".into(),
        NoRecentDrill { .. } => "mamori drill start lost_laptop".into(),
        VendorContractsEnding { .. } | VendorContractsNotCurrent { .. } => pick(l,
            "renew the contract and update [vendors.NAME] contract in the policy, or remove the vendor".into(),
            "契約を更新してポリシーの [vendors.NAME] の contract を直すか、提供先を削除してください".into(),
            "renouvelez le contrat et mettez à jour contract dans [vendors.NAME] de la politique, ou retirez le prestataire".into()),
        VendorReviewsDue { .. } | VendorReviewsFailed { .. } => pick(l,
            "review the vendor's security and record it: review = { on = …, result = \"passed\" }".into(),
            "提供先の安全管理を確認し、review = { on = …, result = \"passed\" } と記録してください".into(),
            "évaluez la sécurité du prestataire et consignez-la\u{a0}: review = { on = …, result = \"passed\" }".into()),
        _ => return None,
    })
}

/// Each check's name in English, Japanese and French.
const CHECK_LABELS: [(&str, [&str; 3]); 20] = [
    (
        "files",
        [
            "Key and database files",
            "鍵とデータベースのファイル",
            "Fichiers des clés et de la base",
        ],
    ),
    ("master_key", ["Master key", "マスター鍵", "Clé maîtresse"]),
    ("key_store", ["Key store", "鍵ストア", "Magasin de clés"]),
    (
        "database_files",
        [
            "Database files",
            "データベースファイル",
            "Fichiers de la base",
        ],
    ),
    (
        "data_directory",
        [
            "Data directory",
            "データディレクトリ",
            "Répertoire des données",
        ],
    ),
    (
        "network_filesystem",
        ["Filesystem", "ファイルシステム", "Système de fichiers"],
    ),
    (
        "public_url",
        ["Public address", "公開アドレス", "Adresse publique"],
    ),
    ("backups", ["Backups", "バックアップ", "Sauvegardes"]),
    (
        "key_rotation",
        ["Key rotation", "鍵の更新", "Renouvellement des clés"],
    ),
    (
        "installation",
        ["Installation", "インストール", "Installation"],
    ),
    ("api_keys", ["API keys", "API キー", "Clés d’API"]),
    (
        "staff_controls",
        [
            "Keys of people’s roles",
            "人のロールの API キー",
            "Clés des rôles de personnes",
        ],
    ),
    (
        "staff_mfa",
        [
            "Staff second factors",
            "スタッフの第二要素",
            "Seconds facteurs du personnel",
        ],
    ),
    (
        "staff_training",
        ["Staff training", "スタッフ研修", "Formation du personnel"],
    ),
    ("webhooks", ["Webhooks", "Webhook", "Webhooks"]),
    ("ledger", ["Ledger", "台帳", "Registre"]),
    ("clock", ["Clock", "時計", "Horloge"]),
    (
        "drills",
        [
            "Incident drills",
            "インシデント対応訓練",
            "Exercices d’incident",
        ],
    ),
    (
        "vendor_contracts",
        [
            "Vendor contracts",
            "提供先との契約",
            "Contrats des prestataires",
        ],
    ),
    (
        "vendor_reviews",
        [
            "Vendor security reviews",
            "提供先の安全管理の確認",
            "Évaluations de sécurité des prestataires",
        ],
    ),
];

/// A check's name (as [`super::Finding::check`] gives it), in `lang`.
pub fn check_label(check: &str, lang: Language) -> &'static str {
    let i = match lang {
        Language::En => 0,
        Language::Ja => 1,
        Language::Fr => 2,
    };
    (CHECK_LABELS.iter())
        .find(|(name, _)| *name == check)
        .map_or("", |(_, said)| said[i])
}

/// A severity's name, in `lang`.
pub fn severity_label(severity: Severity, lang: Language) -> &'static str {
    match (severity, lang) {
        (Severity::Ok, Language::En) => "OK",
        (Severity::Ok, Language::Ja) => "問題なし",
        (Severity::Ok, Language::Fr) => "OK",
        (Severity::Low, Language::En) => "Low",
        (Severity::Low, Language::Ja) => "低",
        (Severity::Low, Language::Fr) => "Faible",
        (Severity::Medium, Language::En) => "Medium",
        (Severity::Medium, Language::Ja) => "中",
        (Severity::Medium, Language::Fr) => "Moyenne",
        (Severity::High, Language::En) => "High",
        (Severity::High, Language::Ja) => "高",
        (Severity::High, Language::Fr) => "Élevée",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_fact() -> Vec<Fact> {
        use Fact::*;
        let ids = vec!["a".to_string()];
        vec![
            FilesPrivate,
            FileOpen {
                file: FileKind::MasterKey,
                path: "/k".into(),
                mode: 0o644,
            },
            DataDirectoryOpen {
                path: "/d".into(),
                mode: 0o755,
            },
            LocalFilesystem {
                kind: "ext4".into(),
            },
            NetworkFilesystem { kind: "nfs".into() },
            NoPublicUrl,
            PublicUrlHttps {
                url: "https://x".into(),
            },
            PublicUrlClear {
                url: "http://x".into(),
            },
            NoBackupSchedule,
            NoBackupYet { to: "/b".into() },
            BackupOverdue {
                to: "/b".into(),
                days: 3,
            },
            BackupFresh {
                to: "/b".into(),
                hours: 2,
            },
            KeysRotating { epochs: 2 },
            KeysNotRotating { kept: 1 },
            NotOpen { why: "x".into() },
            NoOldApiKeys,
            OldApiKeys { names: ids.clone() },
            PeopleRolesTakeNoKeys { roles: vec![] },
            PeopleRolesTakeNoKeys { roles: ids.clone() },
            RefusedKeys { keys: ids.clone() },
            EveryoneHasFactor,
            StaffWithoutFactor { staff: ids.clone() },
            EveryoneTrained,
            Untrained { staff: ids.clone() },
            WebhooksDeliver,
            WebhooksFailing { ids },
            LedgerMatches,
            LedgerBroken { why: "x".into() },
            ClockAgrees,
            ClockBehind { seconds: 90 },
            DrillRecently { days: 12 },
            NoRecentDrill { days: Some(200) },
            NoRecentDrill { days: None },
            VendorContractsCurrent { count: 2 },
            VendorContractsEnding {
                vendors: vec!["v (2027-01-01)".into()],
            },
            VendorContractsNotCurrent {
                vendors: vec!["v".into()],
            },
            VendorReviewsCurrent { count: 2 },
            VendorReviewsDue {
                vendors: vec!["v".into()],
            },
            VendorReviewsFailed {
                vendors: vec!["v".into()],
            },
        ]
    }

    #[test]
    fn every_fact_is_said_in_each_language_with_its_typography() {
        for fact in every_fact() {
            let en = say(&fact, Language::En);
            let ja = say(&fact, Language::Ja);
            let fr = say(&fact, Language::Fr);
            assert!(
                !en.is_empty() && !ja.is_empty() && !fr.is_empty(),
                "{fact:?}"
            );
            assert!(en != ja && en != fr, "{fact:?} falls back to English");
            assert!(
                !fr.contains(" :"),
                "{fact:?}: French colon needs a no-break space"
            );
            assert!(
                !ja.contains(": "),
                "{fact:?}: Japanese takes the full-width colon"
            );
            let check = super::super::Finding::new(Severity::Ok, fact.clone()).check();
            for lang in [Language::En, Language::Ja, Language::Fr] {
                assert!(!check_label(check, lang).is_empty(), "{check} has no label");
            }
        }
    }
}
