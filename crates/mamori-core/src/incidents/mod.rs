//! The incident register (`admin = ["incidents"]`): what happened, how bad, where the response
//! stands, and an append-only timeline of who did what when. Each step is decided by the one
//! access decision and ledgered (`incident.open`, `.list`, `.read`, `.note`, `.status`,
//! `.severity`, `.link`), allowed or denied. Titles and notes are free text, so they are sealed
//! under the keyring before they reach the database and never enter the ledger, the outbox or
//! a log. Every change names the version it read: two people changing one incident at once
//! cannot both win (409 `concurrent_update`).

mod containment;
mod deadlines;
mod drills;
pub mod extensions;
pub mod impact;
pub mod notice_sending;
mod notice_words;
mod notices;
pub mod regulator;
pub mod signals;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mamori_policy::AdminPermission;
use mamori_proto::ErrorCode;
use mamori_proto::incidents::{
    AddEntry, EntryKind, Extension, Incident, IncidentDetail, IncidentKind, IncidentLink,
    IncidentSeverity, IncidentStatus, LinkKind, OpenIncident, TimelineEntry,
};
use mamori_proto::outbox::{EventType, IncidentOpened};
use mamori_store::{Change, IncidentEntryRow, IncidentRow, JobError};

use crate::access::Permission;
use crate::error::{CoreError, Result};
use crate::vault::{Actor, Vault};
use crate::{format_id, format_time, new_id};

const INCIDENTS: Permission = Permission::Admin(AdminPermission::Incidents);

/// What a new incident starts from.
pub(super) struct Opening<'a> {
    pub(super) title: &'a str,
    pub(super) kind: IncidentKind,
    pub(super) severity: IncidentSeverity,
    pub(super) detected_ms: i64,
    pub(super) by: &'a str,
    pub(super) drill: bool,
    /// `open` when staff open it; `draft` when the signals do.
    pub(super) status: IncidentStatus,
}

/// Titles are short; notes say what was done.
const TITLE_MAX: usize = 200;
const NOTE_MAX: usize = 4_000;

fn invalid(field: &str, why: &str) -> CoreError {
    CoreError::invalid(ErrorCode::InvalidValue, field, why)
}

fn not_found() -> CoreError {
    CoreError::Missing {
        code: ErrorCode::IncidentNotFound,
        message: "no incident has this id".into(),
    }
}

/// Free text the staff write: trimmed, 1..=`max` characters, no control characters but line
/// breaks and tabs.
fn free_text(field: &str, text: &str, max: usize) -> Result<String> {
    let text = text.trim();
    if text.is_empty() {
        return Err(invalid(field, "must not be empty"));
    }
    if text.chars().count() > max {
        return Err(CoreError::invalid(
            ErrorCode::TextTooLong,
            field,
            format!("at most {max} characters"),
        ));
    }
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\t' | '\r'))
    {
        return Err(invalid(field, "control characters are not accepted"));
    }
    Ok(text.to_string())
}

/// The status and severity rows carry codes the wire types parse; a row another version wrote
/// with an unknown code reads as the most cautious value.
fn status_of(code: &str) -> IncidentStatus {
    IncidentStatus::parse(code).unwrap_or(IncidentStatus::Open)
}

fn severity_of(code: &str) -> IncidentSeverity {
    IncidentSeverity::parse(code).unwrap_or(IncidentSeverity::Critical)
}

impl Vault {
    /// `incident.opened` for the events feed and webhooks: ids and codes only.
    pub(super) fn announce_opened(&self, row: &IncidentRow) -> Change {
        let opened = IncidentOpened {
            incident: format_id(&row.id),
            kind: row.kind.clone(),
            severity: row.severity.clone(),
            reported_by: row.reported_by.clone(),
            drill: row.drill,
        };
        self.announce(EventType::IncidentOpened, None, &opened)
    }

    fn seal_note(&self, label: &str, id: &[u8; 16], seq: i64, text: &str) -> Vec<u8> {
        let aad = [&id[..], &seq.to_be_bytes()].concat();
        self.keyring.seal_secret(label, &aad, text.as_bytes())
    }

    fn open_note(&self, label: &str, id: &[u8; 16], seq: i64, sealed: &[u8]) -> Result<String> {
        let aad = [&id[..], &seq.to_be_bytes()].concat();
        let plain = (self.keyring)
            .open_secret(label, &aad, sealed)
            .map_err(|_| CoreError::Integrity)?;
        String::from_utf8(plain.to_vec()).map_err(|_| CoreError::Integrity)
    }

    /// A new incident's row and its first timeline entry (`opened`, by whom and when).
    pub(super) fn new_incident(&self, o: &Opening) -> (IncidentRow, IncidentEntryRow) {
        let (id, now) = (new_id(), self.now_ms());
        let incident = IncidentRow {
            id,
            kind: o.kind.as_str().into(),
            severity: o.severity.as_str().into(),
            status: o.status.as_str().into(),
            title_sealed: self.seal_note("incident-title", &id, 0, o.title),
            detected_ms: o.detected_ms,
            reported_by: o.by.to_string(),
            drill: o.drill,
            version: 1,
            created_ms: now,
            updated_ms: now,
        };
        let opened = IncidentEntryRow {
            incident_id: id,
            seq: 1,
            at_ms: now,
            actor: o.by.to_string(),
            kind: EntryKind::Opened.as_str().into(),
            status: Some(o.status.as_str().into()),
            severity: Some(o.severity.as_str().into()),
            link_kind: None,
            link_id: None,
            note_sealed: None,
            until_ms: None,
        };
        (incident, opened)
    }

    /// Opens an incident (a drill when `drill`): its first timeline entry says who and when.
    pub async fn open_incident(
        &self,
        actor: &Actor,
        open: &OpenIncident,
        detected_ms: Option<i64>,
        drill: bool,
    ) -> Result<Incident> {
        let title = free_text("title", &open.title, TITLE_MAX)?;
        let now = self.now_ms();
        let detected_ms = detected_ms.unwrap_or(now);
        if detected_ms > now + 60_000 {
            return Err(CoreError::invalid(
                ErrorCode::InvalidTime,
                "detected_at",
                "must not be in the future",
            ));
        }
        let granted = self.grant(actor, INCIDENTS, "incident.open").await?;
        let opening = Opening {
            title: &title,
            kind: open.kind,
            severity: open.severity,
            detected_ms,
            by: &actor.id,
            drill,
            status: IncidentStatus::Open,
        };
        let (incident, opened) = self.new_incident(&opening);
        let announced = self.announce_opened(&incident);
        let change = Change::InsertIncident {
            incident: incident.clone(),
            opened,
        };
        self.ledger
            .submit(vec![change, announced], vec![granted.event()])
            .await??;
        self.incident_view(&incident, vec![])
    }

    /// The register, newest first (a ledgered read).
    pub async fn incidents(&self, actor: &Actor) -> Result<Vec<Incident>> {
        self.grant_and_ledger(actor, INCIDENTS, "incident.list")
            .await?;
        let mut out = vec![];
        for row in self.store.incidents().await? {
            let entries = self.store.incident_entries(&row.id).await?;
            out.push(self.incident_view(&row, self.entries_links(&entries)?)?);
        }
        Ok(out)
    }

    /// One incident and its whole timeline (a ledgered read).
    pub async fn incident(&self, actor: &Actor, id: &[u8; 16]) -> Result<IncidentDetail> {
        self.grant_and_ledger(actor, INCIDENTS, "incident.read")
            .await?;
        self.incident_detail(id).await
    }

    async fn incident_detail(&self, id: &[u8; 16]) -> Result<IncidentDetail> {
        let row = self.store.incident(id).await?.ok_or_else(not_found)?;
        let entries = self.store.incident_entries(id).await?;
        let timeline = (entries.iter())
            .map(|e| self.entry_view(e))
            .collect::<Result<Vec<_>>>()?;
        Ok(IncidentDetail {
            incident: self.incident_view(&row, self.entries_links(&entries)?)?,
            timeline,
            new_secret: None,
        })
    }

    /// Adds one entry to the timeline: a note, a status moved forward, a revised severity or
    /// a link (each may carry a note), against the version the caller read.
    pub async fn add_incident_entry(
        &self,
        actor: &Actor,
        id: &[u8; 16],
        add: &AddEntry,
    ) -> Result<IncidentDetail> {
        let kind = entry_kind(add)?;
        let note = (add.note.as_deref())
            .map(|n| free_text("note", n, NOTE_MAX))
            .transpose()?;
        let action = format!("incident.{}", kind.as_str());
        let granted = self.grant(actor, INCIDENTS, &action).await?;
        let row = self.store.incident(id).await?.ok_or_else(not_found)?;
        self.check_entry(&row, add).await?;
        let until_ms = match &add.extend {
            Some(x) => Some(self.check_extension(&row, x).await?),
            None => None,
        };
        let seq = add.version + 1;
        let entry = IncidentEntryRow {
            incident_id: *id,
            seq,
            at_ms: self.now_ms(),
            actor: actor.id.clone(),
            kind: kind.as_str().into(),
            status: add.status.map(|s| s.as_str().into()),
            severity: add.severity.map(|s| s.as_str().into()),
            link_kind: (add.link.as_ref().map(|l| l.kind.as_str().into()))
                .or(add.extend.as_ref().map(|_| DUTY_LINK.into())),
            link_id: (add.link.as_ref().map(|l| self.link_id(l, id, seq))).or(add
                .extend
                .as_ref()
                .map(|x| format!("{}:{}", x.jurisdiction, x.recipient))),
            note_sealed: note.map(|n| self.seal_note("incident-note", id, seq, &n)),
            until_ms,
        };
        let change = Change::AppendIncidentEntry(entry);
        match self
            .ledger
            .submit(vec![change], vec![granted.event()])
            .await?
        {
            Ok(()) => {}
            Err(JobError::Stale) => return Err(changed_since(row.version)),
            Err(e) => return Err(e.into()),
        }
        // The change's one event covers the answer: no second read is ledgered.
        self.incident_detail(id).await
    }

    /// Refuses an entry a closed incident, an old version, a backward status or an unknown
    /// key or member of staff would make.
    async fn check_entry(&self, row: &IncidentRow, add: &AddEntry) -> Result<()> {
        if status_of(&row.status) == IncidentStatus::Closed {
            return Err(CoreError::Conflict {
                code: ErrorCode::IncidentClosed,
                message: "the incident is closed; open a new one".into(),
            });
        }
        if add.version != row.version {
            return Err(changed_since(row.version));
        }
        if let Some(status) = add.status
            && status <= status_of(&row.status)
        {
            return Err(invalid(
                "status",
                "an incident's status only moves forward: draft, open, assessing, contained, notifying, closed",
            ));
        }
        if let Some(link) = &add.link {
            self.check_link(link).await?;
        }
        Ok(())
    }

    async fn check_link(&self, link: &IncidentLink) -> Result<()> {
        let id = link.id.trim();
        let exists = match link.kind {
            LinkKind::Vendor => {
                free_text("link.id", id, TITLE_MAX)?;
                true
            }
            LinkKind::ApiKey => match crate::parse_id(id) {
                Some(key) => (self.store.api_keys().await?.iter()).any(|k| k.id == key),
                None => false,
            },
            LinkKind::Staff => match crate::parse_id(id) {
                Some(staff) => self.store.staff_member(&staff).await?.is_some(),
                None => false,
            },
            LinkKind::Webhook => match crate::parse_id(id) {
                Some(hook) => self.store.webhook(&hook).await?.is_some(),
                None => false,
            },
            LinkKind::Agent => (self.store.drp_agents().await?.iter()).any(|a| a.id == id),
        };
        if !exists {
            return Err(invalid(
                "link.id",
                "no API key, member of staff, webhook or agent has this id",
            ));
        }
        Ok(())
    }

    fn incident_view(&self, row: &IncidentRow, links: Vec<IncidentLink>) -> Result<Incident> {
        Ok(Incident {
            id: format_id(&row.id),
            title: self.open_note("incident-title", &row.id, 0, &row.title_sealed)?,
            kind: IncidentKind::parse(&row.kind).unwrap_or(IncidentKind::Other),
            severity: severity_of(&row.severity),
            status: status_of(&row.status),
            detected_at: format_time(row.detected_ms),
            reported_by: row.reported_by.clone(),
            drill: row.drill,
            version: row.version,
            opened_at: format_time(row.created_ms),
            updated_at: format_time(row.updated_ms),
            links,
        })
    }

    fn entry_view(&self, e: &IncidentEntryRow) -> Result<TimelineEntry> {
        let note = (e.note_sealed.as_deref())
            .map(|sealed| self.open_note("incident-note", &e.incident_id, e.seq, sealed))
            .transpose()?;
        Ok(TimelineEntry {
            seq: e.seq,
            at: format_time(e.at_ms),
            by: e.actor.clone(),
            kind: EntryKind::parse(&e.kind).unwrap_or(EntryKind::Note),
            note,
            status: e.status.as_deref().map(status_of),
            severity: e.severity.as_deref().map(severity_of),
            link: self.entry_link(e)?,
            extension: extension_of(e),
        })
    }
}

/// The extension an entry records, if it is one.
fn extension_of(e: &IncidentEntryRow) -> Option<Extension> {
    if e.kind != EntryKind::Extension.as_str() {
        return None;
    }
    let (jurisdiction, recipient) = e.link_id.as_deref()?.split_once(':')?;
    Some(Extension {
        jurisdiction: jurisdiction.into(),
        recipient: recipient.into(),
        until: format_time(e.until_ms?),
    })
}

fn changed_since(version: i64) -> CoreError {
    CoreError::Conflict {
        code: ErrorCode::ConcurrentUpdate,
        message: format!(
            "the incident changed since it was read (it is at version {version}); read it again"
        ),
    }
}

/// How an extension's entry names its duty (`link_id` is `gdpr:authority`).
const DUTY_LINK: &str = "duty";

/// What an entry asks for: at most one of a status, a severity, a link and an extension (which
/// needs a note: its reason); a note alone otherwise.
fn entry_kind(add: &AddEntry) -> Result<EntryKind> {
    let named = [
        add.status.is_some(),
        add.severity.is_some(),
        add.link.is_some(),
        add.extend.is_some(),
    ];
    match named {
        [false, false, false, false] if add.note.is_some() => Ok(EntryKind::Note),
        [true, false, false, false] => Ok(EntryKind::Status),
        [false, true, false, false] => Ok(EntryKind::Severity),
        [false, false, true, false] => Ok(EntryKind::Link),
        [false, false, false, true] if add.note.is_some() => Ok(EntryKind::Extension),
        [false, false, false, true] => Err(invalid(
            "note",
            "an extension is recorded with its reason: give a note",
        )),
        [false, false, false, false] => Err(invalid(
            "note",
            "an entry needs a note, a status, a severity, a link or an extension",
        )),
        _ => Err(invalid(
            "status",
            "one entry changes one thing: a status, a severity, a link or a deadline (each may carry a note)",
        )),
    }
}

impl Vault {
    /// A link as stored: a key's or a staff member's id as is; a vendor's name is free text,
    /// so it is sealed like a note (base64url, the entry as associated data).
    fn link_id(&self, link: &IncidentLink, id: &[u8; 16], seq: i64) -> String {
        let text = link.id.trim();
        match link.kind {
            LinkKind::Vendor => {
                URL_SAFE_NO_PAD.encode(self.seal_note("incident-vendor", id, seq, text))
            }
            LinkKind::ApiKey | LinkKind::Staff | LinkKind::Webhook | LinkKind::Agent => {
                text.to_string()
            }
        }
    }

    fn entry_link(&self, e: &IncidentEntryRow) -> Result<Option<IncidentLink>> {
        let (Some(kind), Some(stored)) =
            (e.link_kind.as_deref().and_then(LinkKind::parse), &e.link_id)
        else {
            return Ok(None);
        };
        let id = match kind {
            LinkKind::Vendor => {
                let sealed = URL_SAFE_NO_PAD
                    .decode(stored)
                    .map_err(|_| CoreError::Integrity)?;
                self.open_note("incident-vendor", &e.incident_id, e.seq, &sealed)?
            }
            LinkKind::ApiKey | LinkKind::Staff | LinkKind::Webhook | LinkKind::Agent => {
                stored.clone()
            }
        };
        Ok(Some(IncidentLink { kind, id }))
    }

    fn entries_links(&self, entries: &[IncidentEntryRow]) -> Result<Vec<IncidentLink>> {
        let links = entries.iter().map(|e| self.entry_link(e));
        Ok(links
            .collect::<Result<Vec<_>>>()?
            .into_iter()
            .flatten()
            .collect())
    }
}
