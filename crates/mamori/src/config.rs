//! The operator's configuration file (`mamori.toml` in the data directory, or `--config`):
//! how messages reach people, TLS, and request deadlines. Every part is optional; unknown keys
//! are errors, so a typo never silently drops a setting.

use mamori_core::incidents::extensions::BreachTargets;
use mamori_core::incidents::signals::SignalSettings;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, bail};
use mamori_core::requests::{Deadlines, Period};
use mamori_policy::Jurisdiction;
use mamori_server::messaging::{HttpTextSender, Messaging, SmtpMailer};
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where people reach the privacy center, for links in messages (default: http://LISTEN).
    pub public_url: Option<String>,
    /// A command that prints the master key (a secrets manager's CLI, e.g. `vault kv get -field=key
    /// secret/mamori`), used instead of `master.key`; `MAMORI_MASTER_KEY` still comes first.
    pub key_command: Option<String>,
    pub mail: Option<MailConfig>,
    pub sms: Option<SmsConfig>,
    pub tls: Option<TlsConfig>,
    pub drp: Option<DrpConfig>,
    pub outbound: Option<OutboundConfig>,
    pub ledger: Option<LedgerConfig>,
    pub keys: Option<KeysConfig>,
    pub backup: Option<BackupConfig>,
    /// Per jurisdiction: `gdpr = { answer = "1m", extended = "3m" }`.
    #[serde(default)]
    pub deadlines: BTreeMap<String, DeadlineConfig>,
    /// The business's own periods for telling people of a breach, per law and recipient:
    /// `[breach_deadlines.gdpr] authority = "48h"`. Stricter than the law is a target; longer
    /// is accepted with a warning (the law still binds).
    #[serde(default)]
    pub breach_deadlines: BTreeMap<String, BTreeMap<String, String>>,
    /// Automatic signals opening draft incidents (on unless `enabled = false`).
    pub signals: Option<SignalsConfig>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignalsConfig {
    pub enabled: Option<bool>,
    /// Signal an actor reading more people in the last hour than this many times its hourly
    /// average over the day before (default 5)…
    pub reads_factor: Option<f64>,
    /// …and at least this many (default 50).
    pub reads_min: Option<usize>,
    /// Signal this many denied attempts in an hour (default 200).
    pub denials_per_hour: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailConfig {
    /// lettre's SMTP URL: `smtp://relay:25`, `smtp://user:pass@host:587?tls=required`,
    /// `smtps://user:pass@host:465`.
    pub smtp_url: String,
    /// The sender: `"Kitsune Goods <privacy@kitsune-goods.example>"`.
    pub from: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmsConfig {
    /// The gateway: `POST URL` with `{"to": "+33…", "text": "…"}`.
    pub url: String,
    /// The environment variable holding the gateway's bearer token (kept out of this file).
    pub token_env: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DrpConfig {
    /// This business's id in the Data Rights Protocol service directory.
    pub business_id: Option<String>,
    /// How many days an agent's pair-wise token is good for (default 90).
    pub token_days: Option<u32>,
}

/// Where the ledger's signed heads are anchored outside the database.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LedgerConfig {
    /// The append-only heads file (default: `ledger-heads.jsonl` in the data directory); best
    /// on another disk or a mount another machine keeps.
    pub heads: Option<PathBuf>,
}

/// Key epochs: how often they rotate and how long a retired one is kept.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeysConfig {
    /// A new key epoch this often (default `"1d"`; `"12h"`, `"7d"`).
    pub rotate_every: Option<String>,
    /// A retired epoch is destroyed this long after (default `"30d"`): backups older than this
    /// (plus one rotation) can no longer be opened by anyone.
    pub horizon: Option<String>,
}

/// Backups `serve` takes on its own.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupConfig {
    /// The directory backups go to (best on another disk or machine).
    pub to: PathBuf,
    /// How often (default `"1d"`).
    pub every: Option<String>,
    /// How many are kept (default 30); the key horizon is `every × keep` unless `[keys] horizon`
    /// says otherwise.
    pub keep: Option<usize>,
}

/// Where Mamori's own requests (webhooks, DRP callbacks) may go besides the public internet.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboundConfig {
    /// Networks allowed although internal, e.g. `["10.1.0.0/16", "127.0.0.1"]`; plain http://
    /// is accepted only to these.
    #[serde(default)]
    pub allow: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    pub cert: PathBuf,
    pub key: PathBuf,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeadlineConfig {
    /// `"30d"`, `"6w"`, `"1m"`.
    pub answer: String,
    /// The furthest one extension may go; absent: no extension.
    pub extended: Option<String>,
}

impl Config {
    /// Reads `path`; a missing file is an empty configuration unless it was named explicitly.
    pub fn load(path: &Path, explicit: bool) -> anyhow::Result<Config> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => {
                return Ok(Config::default());
            }
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        let config: Config =
            toml::from_str(&text).with_context(|| format!("in {}", path.display()))?;
        config.deadlines()?;
        config.breach_targets()?;
        config.signals()?;
        config.outbound()?;
        config.epoch_schedule()?;
        config.backup_schedule("")?;
        Ok(config)
    }

    /// The outbound rules: public https only, plus the networks `[outbound] allow` names.
    pub fn outbound(&self) -> anyhow::Result<mamori_core::outbound::Outbound> {
        let allow = self.outbound.as_ref().map_or(&[][..], |o| &o.allow[..]);
        mamori_core::outbound::Outbound::allowing(allow)
            .map_err(|e| anyhow::anyhow!("outbound.allow: {e}"))
    }

    /// Backups on a schedule, if `[backup]` asks for them.
    pub fn backup_schedule(
        &self,
        database_url: &str,
    ) -> anyhow::Result<Option<mamori_core::keys::backup_schedule::BackupSchedule>> {
        let Some(backup) = &self.backup else {
            return Ok(None);
        };
        let every = match &backup.every {
            Some(every) => parse_duration(every, "backup.every")?,
            None => std::time::Duration::from_secs(86_400),
        };
        if every < std::time::Duration::from_secs(60) {
            bail!("backup.every must be at least one minute");
        }
        let keep = backup.keep.unwrap_or(30);
        if keep == 0 {
            bail!("backup.keep must be at least 1");
        }
        Ok(Some(mamori_core::keys::backup_schedule::BackupSchedule {
            to: backup.to.clone(),
            every,
            keep,
            database_url: database_url.to_string(),
        }))
    }

    /// The key epochs' rotation interval and horizon (defaults: one day, and 30 days or the
    /// span of the backups kept).
    pub fn epoch_schedule(&self) -> anyhow::Result<mamori_core::keys::EpochSchedule> {
        let mut schedule = mamori_core::keys::EpochSchedule::default();
        let kept = (self.backup_schedule("")?).map(|b| {
            b.every
                .saturating_mul(u32::try_from(b.keep).unwrap_or(u32::MAX))
        });
        if let Some(kept) = kept {
            schedule.horizon = kept;
        }
        if let Some(keys) = &self.keys {
            if let Some(every) = &keys.rotate_every {
                schedule.every = parse_duration(every, "keys.rotate_every")?;
            }
            if let Some(horizon) = &keys.horizon {
                schedule.horizon = parse_duration(horizon, "keys.horizon")?;
                if let Some(kept) = kept.filter(|k| schedule.horizon < *k) {
                    bail!(
                        "keys.horizon ({}) is shorter than the backups kept span (backup.every × keep = {}): the oldest could not be opened",
                        humantime::format_duration(schedule.horizon),
                        humantime::format_duration(kept)
                    );
                }
            }
        }
        // Backups kept for less than a day rotate as often as the horizon asks.
        if self.keys.as_ref().is_none_or(|k| k.rotate_every.is_none()) {
            schedule.every = schedule.every.min(schedule.horizon);
        }
        if schedule.every < std::time::Duration::from_secs(60) {
            bail!("keys.rotate_every must be at least one minute");
        }
        if schedule.horizon < schedule.every {
            bail!("keys.horizon must be at least keys.rotate_every");
        }
        Ok(schedule)
    }

    pub fn deadlines(&self) -> anyhow::Result<Deadlines> {
        let mut deadlines = Deadlines::default();
        for (name, d) in &self.deadlines {
            let Some((_, law)) = Jurisdiction::ALL.iter().find(|(n, _)| n == name) else {
                bail!("deadlines.{name}: unknown jurisdiction (use gdpr, ccpa, lgpd or appi)");
            };
            let period = |text: &str, key: &str| {
                Period::parse(text).with_context(|| {
                    format!("deadlines.{name}.{key} = {text:?}: write days, weeks or months, like \"30d\", \"6w\", \"1m\"")
                })
            };
            let answer = period(&d.answer, "answer")?;
            let extended = d
                .extended
                .as_deref()
                .map(|e| period(e, "extended"))
                .transpose()?;
            deadlines
                .set(*law, answer, extended)
                .map_err(|e| anyhow::anyhow!("deadlines.{name}: {e}"))?;
        }
        Ok(deadlines)
    }

    /// The breach-notification periods configured, and a warning for each that gives more
    /// time than the law.
    pub fn breach_targets(&self) -> anyhow::Result<(BreachTargets, Vec<String>)> {
        let mut targets = BreachTargets::default();
        let mut warnings = vec![];
        for (law, duties) in &self.breach_deadlines {
            for (recipient, within) in duties {
                let warning = (targets.set(law, recipient, within))
                    .map_err(|e| anyhow::anyhow!("breach_deadlines.{law}.{recipient}: {e}"))?;
                warnings.extend(warning);
            }
        }
        Ok((targets, warnings))
    }

    /// The signals' thresholds; None when turned off.
    pub fn signals(&self) -> anyhow::Result<Option<SignalSettings>> {
        let mut settings = SignalSettings::default();
        let Some(c) = &self.signals else {
            return Ok(Some(settings));
        };
        if c.enabled == Some(false) {
            return Ok(None);
        }
        if let Some(f) = c.reads_factor {
            if !(f.is_finite() && f >= 1.0) {
                bail!("signals.reads_factor must be a number of at least 1");
            }
            settings.reads_factor = f;
        }
        if let Some(n) = c.reads_min {
            if n == 0 {
                bail!("signals.reads_min must be at least 1");
            }
            settings.reads_min = n;
        }
        if let Some(n) = c.denials_per_hour {
            if n == 0 {
                bail!("signals.denials_per_hour must be at least 1");
            }
            settings.denials_per_hour = n;
        }
        Ok(Some(settings))
    }

    /// The transports configured (each one missing fails its messages, and says so in the log).
    pub fn messaging(&self, listen: &str) -> anyhow::Result<Messaging> {
        let public_url = self
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{listen}"));
        let mut messaging = Messaging::none(&public_url);
        if let Some(mail) = &self.mail {
            let mailer = SmtpMailer::new(&mail.smtp_url, &mail.from).map_err(anyhow::Error::msg)?;
            messaging.mailer = Arc::new(mailer);
        }
        if let Some(sms) = &self.sms {
            let token = match &sms.token_env {
                Some(var) => Some(
                    std::env::var(var)
                        .with_context(|| format!("sms.token_env: {var} is not set"))?,
                ),
                None => None,
            };
            messaging.texter =
                Arc::new(HttpTextSender::new(&sms.url, token).map_err(anyhow::Error::msg)?);
        }
        Ok(messaging)
    }
}

fn parse_duration(text: &str, key: &str) -> anyhow::Result<std::time::Duration> {
    humantime::parse_duration(text).map_err(|e| {
        anyhow::anyhow!("{key} = {text:?}: {e} (write it like \"1d\", \"12h\", \"30d\")")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> anyhow::Result<Config> {
        let dir = std::env::temp_dir().join(format!("mamori-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let path = dir.join(format!("{:x}.toml", rand_name(text)));
        std::fs::write(&path, text)?;
        let loaded = Config::load(&path, true);
        let _ = std::fs::remove_file(&path);
        loaded
    }

    fn rand_name(text: &str) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        text.hash(&mut h);
        h.finish()
    }

    // The SMTP pool lives on the Tokio runtime, as in the server.
    #[tokio::test]
    async fn a_full_configuration_is_read() {
        let c = parse(
            r#"
public_url = "https://privacy.example.com"
[mail]
smtp_url = "smtp://127.0.0.1:2525"
from = "Shop <privacy@shop.example>"
[sms]
url = "https://sms.example/send"
[tls]
cert = "/etc/mamori/cert.pem"
key = "/etc/mamori/key.pem"
[deadlines]
appi = { answer = "7d", extended = "21d" }
"#,
        )
        .unwrap();
        let d = c.deadlines().unwrap();
        assert_eq!(
            d.of(Jurisdiction::Appi),
            (Period::Days(7), Some(Period::Days(21)))
        );
        let m = c.messaging("127.0.0.1:8080").unwrap();
        assert_eq!(m.public_url, "https://privacy.example.com");
    }

    #[test]
    fn breach_deadlines_are_targets_and_longer_ones_are_warned_about() {
        let c = parse("[breach_deadlines.gdpr]\nauthority = \"48h\"\npeople = \"2d\"\n").unwrap();
        let (_, warnings) = c.breach_targets().unwrap();
        assert_eq!(
            warnings.len(),
            1,
            "the law asks people without undue delay: {warnings:?}"
        );
        assert!(
            warnings[0].contains("breach_deadlines.gdpr.people")
                && warnings[0].contains("GDPR Art. 34")
        );
        let (_, warnings) = parse("[breach_deadlines.lgpd]\nauthority = \"5bd\"\n")
            .unwrap()
            .breach_targets()
            .unwrap();
        assert!(warnings[0].contains("3bd"), "{warnings:?}");
        for (text, says) in [
            (
                "[breach_deadlines.mars]\nauthority = \"1d\"\n",
                "not a law of the table",
            ),
            (
                "[breach_deadlines.gdpr]\nmedia = \"1d\"\n",
                "gdpr names these recipients: authority, people",
            ),
            (
                "[breach_deadlines.gdpr]\nauthority = \"soon\"\n",
                "is not a period",
            ),
        ] {
            let e = format!("{:#}", parse(text).unwrap_err());
            assert!(e.contains(says), "{text}: {e}");
        }
    }

    #[test]
    fn signals_are_on_by_default_and_their_thresholds_are_checked() {
        let on = parse("").unwrap().signals().unwrap().unwrap();
        assert_eq!((on.reads_min, on.denials_per_hour), (50, 200));
        let off = parse("[signals]\nenabled = false\n").unwrap();
        assert!(off.signals().unwrap().is_none());
        let set = parse("[signals]\nreads_factor = 3.0\nreads_min = 10\n").unwrap();
        assert_eq!(set.signals().unwrap().unwrap().reads_min, 10);
        for (text, says) in [
            ("[signals]\nreads_factor = 0.5\n", "reads_factor"),
            ("[signals]\nreads_min = 0\n", "reads_min"),
            ("[signals]\nwhat = 1\n", "unknown field"),
        ] {
            let e = format!("{:#}", parse(text).unwrap_err());
            assert!(e.contains(says), "{text}: {e}");
        }
    }

    /// The README's example configuration is a valid one, and says what it shows.
    #[test]
    fn the_readme_example_parses() {
        let readme = include_str!("../../../README.md");
        let section = &readme[readme.find("### The configuration file").unwrap()..];
        let start = section.find("```toml\n").unwrap() + "```toml\n".len();
        let example = &section[start..start + section[start..].find("```").unwrap()];
        let c = parse(example).unwrap();
        assert!(c.key_command.is_some());
        let schedule = c.epoch_schedule().unwrap();
        assert_eq!(
            schedule.horizon,
            std::time::Duration::from_secs(30 * 86_400)
        );
        let backups = c.backup_schedule("sqlite://x").unwrap().unwrap();
        assert_eq!((backups.keep, backups.every.as_secs()), (30, 86_400));
        // Without [keys], the horizon is what the backups kept span.
        let short = parse("[backup]\nto = \"/b\"\nevery = \"1h\"\nkeep = 6").unwrap();
        let schedule = short.epoch_schedule().unwrap();
        assert_eq!(
            (schedule.horizon.as_secs(), schedule.every.as_secs()),
            (6 * 3_600, 6 * 3_600)
        );
    }

    #[tokio::test]
    async fn mistakes_are_named() {
        let cases = [
            (
                "[mail]\nsmtp_url = \"smtp://x\"\nform = \"a\"",
                "unknown field `form`",
            ),
            (
                "[deadlines]\nhipaa = { answer = \"30d\" }",
                "unknown jurisdiction",
            ),
            (
                "[deadlines]\ngdpr = { answer = \"one month\" }",
                "deadlines.gdpr.answer",
            ),
            (
                "[deadlines]\ngdpr = { answer = \"2m\", extended = \"30d\" }",
                "longer than",
            ),
            ("tls = 3", "invalid type"),
            ("[keys]\nrotate_every = \"daily\"", "keys.rotate_every"),
            (
                "[keys]\nrotate_every = \"2d\"\nhorizon = \"1d\"",
                "keys.horizon",
            ),
            ("[keys]\nrotate_every = \"5s\"", "at least one minute"),
            ("[backup]\nevery = \"1d\"", "missing field `to`"),
            ("[backup]\nto = \"/b\"\nkeep = 0", "backup.keep"),
            (
                "[backup]\nto = \"/b\"\nkeep = 40\n[keys]\nhorizon = \"30d\"",
                "shorter than the backups",
            ),
            ("[backup]\nevery = \"1d\"", "missing field `to`"),
            ("[backup]\nto = \"/b\"\nkeep = 0", "backup.keep"),
            (
                "[backup]\nto = \"/b\"\nkeep = 40\n[keys]\nhorizon = \"30d\"",
                "shorter than the backups",
            ),
        ];
        for (text, expected) in cases {
            let e = format!("{:#}", parse(text).unwrap_err());
            assert!(e.contains(expected), "{text}: {e}");
        }
        let c = parse("[mail]\nsmtp_url = \"ftp://x\"\nfrom = \"a@b.example\"").unwrap();
        let e = c
            .messaging("x")
            .err()
            .expect("bad scheme refused")
            .to_string();
        assert!(e.contains("mail.smtp_url"), "{e}");
        assert!(Config::load(Path::new("/nonexistent/mamori.toml"), false).is_ok());
        assert!(Config::load(Path::new("/nonexistent/mamori.toml"), true).is_err());
    }
}
