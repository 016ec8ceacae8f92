//! Draft reports to regulators: per law, the contents it requires, filled in from the register
//! (when the business became aware, the kind of incident, containment steps and their dates,
//! people and categories from the prepared notices) and marked where staff must complete them
//! (likely consequences, cause). Counts and category names only: no title, no note, no person.
//! Ledgered as `incident.regulator_draft`.

use std::collections::BTreeMap;

use mamori_policy::Language;
use mamori_policy::breach_duties;
use mamori_proto::ErrorCode;
use mamori_proto::incidents::{EntryKind, IncidentKind, LinkKind};

use super::{INCIDENTS, not_found};
use crate::error::{CoreError, Result};
use crate::format_time;
use crate::vault::{Actor, Vault};

/// A draft: its title, the law's source, and sections of lines (Markdown inline text).
#[derive(Debug, Clone)]
pub struct RegulatorDraft {
    pub title: String,
    pub source: String,
    pub sections: Vec<(String, Vec<String>)>,
}

/// Marks a line staff must complete (shown bold in Markdown, highlighted in HTML).
const TO_COMPLETE: char = '\u{25b6}';

#[derive(Clone, Copy, PartialEq)]
enum Part {
    Controller,
    Awareness,
    Nature,
    Data,
    Consequences,
    Cause,
    SecondaryDamage,
    Measures,
    People,
    Recurrence,
}

/// The contents each law asks of a report to its authority.
fn parts(law: &str) -> Option<(&'static str, &'static [Part])> {
    use Part::*;
    Some(match law {
        "gdpr" => (
            "GDPR Art. 33(3)",
            &[
                Controller,
                Awareness,
                Nature,
                Data,
                Consequences,
                Measures,
                People,
            ],
        ),
        "lgpd" => (
            "Resolution CD/ANPD 15/2024 Art. 6",
            &[
                Controller,
                Awareness,
                Nature,
                Data,
                Cause,
                Consequences,
                Measures,
                People,
            ],
        ),
        "appi" => (
            "APPI Enforcement Rules Art. 8",
            &[
                Controller,
                Awareness,
                Nature,
                Data,
                Cause,
                SecondaryDamage,
                People,
                Measures,
                Recurrence,
            ],
        ),
        "ccpa" => (
            "California Civil Code §1798.82",
            &[Controller, Awareness, Nature, Data, Measures, People],
        ),
        "hipaa" => (
            "45 CFR §164.408",
            &[Controller, Awareness, Nature, Data, Measures, People],
        ),
        "pci" => (
            "PCI DSS v4.0 Req. 12.10",
            &[Controller, Awareness, Nature, Data, Measures],
        ),
        _ => return None,
    })
}

fn pick(lang: Language, words: [&'static str; 3]) -> &'static str {
    match lang {
        Language::En => words[0],
        Language::Ja => words[1],
        Language::Fr => words[2],
    }
}

fn heading(part: Part, lang: Language) -> &'static str {
    use Part::*;
    pick(
        lang,
        match part {
            Controller => ["Who is reporting", "報告者", "Responsable du traitement"],
            Awareness => [
                "When we became aware",
                "事態の把握",
                "Prise de connaissance",
            ],
            Nature => [
                "Nature of the incident",
                "事態の概要",
                "Nature de la violation",
            ],
            Data => [
                "Data and people concerned",
                "対象となるデータと本人の数",
                "Données et personnes concernées",
            ],
            Consequences => [
                "Likely consequences",
                "想定される影響",
                "Conséquences probables",
            ],
            Cause => ["Cause", "発生原因", "Cause"],
            SecondaryDamage => [
                "Secondary damage",
                "二次被害又はそのおそれの有無",
                "Dommages secondaires",
            ],
            Measures => [
                "Measures taken and proposed",
                "実施した措置と予定する措置",
                "Mesures prises et envisagées",
            ],
            People => ["People told", "本人への対応", "Personnes informées"],
            Recurrence => [
                "Preventing recurrence",
                "再発防止策",
                "Prévention de la récurrence",
            ],
        },
    )
}

fn to_complete(lang: Language, what: Part) -> String {
    let label = pick(lang, ["To complete", "要記入", "À compléter"]);
    let colon = pick(lang, [": ", "：", "\u{202f}: "]);
    format!("{TO_COMPLETE}{label}{colon}{}", heading(what, lang))
}

/// The kind's name for people (drafts and the console say it the same way).
pub fn kind_name(kind: IncidentKind, lang: Language) -> &'static str {
    use IncidentKind::*;
    pick(
        lang,
        match kind {
            LostDevice => [
                "Lost or stolen device",
                "端末の紛失・盗難",
                "Appareil perdu ou volé",
            ],
            LeakedCredential => [
                "Leaked credential",
                "認証情報の漏えい",
                "Identifiant divulgué",
            ],
            VendorBreach => [
                "Breach at a service provider",
                "委託先での侵害",
                "Violation chez un prestataire",
            ],
            MisdirectedEmail => ["Misdirected message", "誤送信", "Message mal adressé"],
            UnauthorisedAccess => ["Unauthorised access", "不正アクセス", "Accès non autorisé"],
            Ransomware => ["Ransomware", "ランサムウェア", "Rançongiciel"],
            Other => ["Other", "その他", "Autre"],
        },
    )
}

/// What a draft is made from.
struct Facts<'a> {
    law: &'a str,
    row: &'a mamori_store::IncidentRow,
    entries: &'a [mamori_store::IncidentEntryRow],
    notices: &'a [mamori_store::NoticeRow],
}

impl Vault {
    /// The draft report to `law`'s authority, in `lang`.
    pub async fn regulator_draft(
        &self,
        actor: &Actor,
        id: &[u8; 16],
        law: &str,
        lang: Language,
    ) -> Result<RegulatorDraft> {
        let (source, wanted) = parts(law).ok_or_else(|| {
            CoreError::invalid(
                ErrorCode::InvalidValue,
                "jurisdiction",
                "one of gdpr, lgpd, appi, ccpa, hipaa, pci",
            )
        })?;
        self.grant_and_ledger(actor, INCIDENTS, "incident.regulator_draft")
            .await?;
        let row = self.store.incident(id).await?.ok_or_else(not_found)?;
        let entries = self.store.incident_entries(id).await?;
        let notices = self.store.incident_notices(id).await?;
        let draft = Facts {
            law,
            row: &row,
            entries: &entries,
            notices: &notices,
        };
        let mut sections = vec![];
        for part in wanted {
            let lines = self.draft_part(*part, &draft, lang);
            sections.push((heading(*part, lang).to_string(), lines));
        }
        self.mark_milestone(id, super::drills::DRAFT).await?;
        let title = pick(
            lang,
            [
                "Personal data breach report (draft)",
                "個人データ漏えい等の報告（案）",
                "Notification de violation de données (projet)",
            ],
        );
        Ok(RegulatorDraft {
            title: title.to_string(),
            source: source.to_string(),
            sections,
        })
    }

    fn draft_part(&self, part: Part, f: &Facts, lang: Language) -> Vec<String> {
        let (row, entries, notices, law) = (f.row, f.entries, f.notices, f.law);
        let colon = pick(lang, [": ", "：", "\u{202f}: "]);
        match part {
            Part::Controller => {
                let org = &self.policy.organisation;
                vec![org.name.clone(), org.contact.clone()]
            }
            Part::Awareness => {
                let mut lines = vec![format_time(row.detected_ms)];
                let duty = breach_duties::shipped()
                    .duties
                    .iter()
                    .find(|d| d.jurisdiction == law && d.recipient.starts_with("authority"));
                if let Some(due) =
                    duty.and_then(|d| self.due_now(d, row.detected_ms, entries).due_ms)
                {
                    let label = pick(lang, ["Due", "報告期限", "Échéance"]);
                    lines.push(format!("{label}{colon}{}", format_time(due)));
                }
                lines
            }
            Part::Nature => {
                let kind = IncidentKind::parse(&row.kind).unwrap_or(IncidentKind::Other);
                let drill = pick(lang, ["(drill)", "（訓練）", "(exercice)"]);
                let mut line = kind_name(kind, lang).to_string();
                if row.drill {
                    line = format!("{line} {drill}");
                }
                vec![
                    line,
                    format!(
                        "{}{colon}{}",
                        pick(lang, ["Severity", "重大度", "Gravité"]),
                        row.severity
                    ),
                ]
            }
            Part::Data => self.draft_data(notices, law, lang, colon),
            Part::Measures => {
                let mut lines: Vec<String> = (entries.iter())
                    .filter(|e| e.kind == EntryKind::Containment.as_str())
                    .map(|e| {
                        let what = match e.link_kind.as_deref().and_then(LinkKind::parse) {
                            Some(LinkKind::ApiKey) => pick(
                                lang,
                                ["API key revoked", "APIキーを失効", "Clé d’API révoquée"],
                            ),
                            Some(LinkKind::Staff) => pick(
                                lang,
                                [
                                    "Staff account disabled",
                                    "従業員アカウントを停止",
                                    "Compte du personnel désactivé",
                                ],
                            ),
                            _ => pick(
                                lang,
                                ["Containment step", "封じ込め措置", "Mesure de confinement"],
                            ),
                        };
                        format!("{}{colon}{what}", format_time(e.at_ms))
                    })
                    .collect();
                lines.push(to_complete(lang, Part::Measures));
                lines
            }
            Part::People => {
                let sent = notices.iter().filter(|n| n.state == "sent").count();
                let label = pick(
                    lang,
                    ["Notices sent", "本人への通知（送信済み）", "Avis envoyés"],
                );
                vec![format!("{label}{colon}{sent} / {}", notices.len())]
            }
            other => vec![to_complete(lang, other)],
        }
    }

    /// People and categories concerned, from the prepared notices (counts only).
    fn draft_data(
        &self,
        notices: &[mamori_store::NoticeRow],
        law: &str,
        lang: Language,
        colon: &str,
    ) -> Vec<String> {
        if notices.is_empty() {
            return vec![to_complete(lang, Part::Data)];
        }
        let mut per: BTreeMap<&str, u64> = BTreeMap::new();
        for n in notices {
            for c in n.categories.split(',').filter(|c| !c.is_empty()) {
                *per.entry(c).or_default() += 1;
            }
        }
        let people = pick(lang, ["People", "本人の数", "Personnes"]);
        let mut lines = vec![format!("{people}{colon}{}", notices.len())];
        let covered = (notices.iter())
            .filter(|n| n.jurisdiction.as_deref() == Some(law))
            .count();
        let of_whom = pick(
            lang,
            [
                "Of whom covered by this law (by their address)",
                "うち本法の対象（住所による）",
                "Dont couverts par cette loi (selon leur adresse)",
            ],
        );
        lines.push(format!("{of_whom}{colon}{covered}"));
        for (c, n) in per {
            let label = self.policy.category(c).map_or(c, |c| c.label.get(lang));
            lines.push(format!("{label}{colon}{n}"));
        }
        lines
    }
}

impl RegulatorDraft {
    /// Each section's lines as (text, to be completed by staff).
    pub fn lines(&self) -> Vec<(String, Vec<(String, bool)>)> {
        (self.sections.iter())
            .map(|(h, lines)| {
                let lines = (lines.iter())
                    .map(|l| match l.strip_prefix(TO_COMPLETE) {
                        Some(rest) => (rest.to_string(), true),
                        None => (l.clone(), false),
                    })
                    .collect();
                (h.clone(), lines)
            })
            .collect()
    }

    /// The draft as Markdown.
    pub fn markdown(&self) -> String {
        let mut out = format!("# {}\n\n_{}_\n", self.title, self.source);
        for (heading, lines) in &self.sections {
            out.push_str(&format!("\n## {heading}\n\n"));
            for line in lines {
                match line.strip_prefix(TO_COMPLETE) {
                    Some(rest) => out.push_str(&format!("- **{rest}**\n")),
                    None => out.push_str(&format!("- {line}\n")),
                }
            }
        }
        out
    }
}
