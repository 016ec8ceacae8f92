//! Core's results as the wire shows them (`mamori-proto`): one conversion per type, so the API
//! document, the privacy center's download and the outbox cannot describe a thing two ways.

use mamori_proto::subjects::{
    AccessEvent, ConsentDecision, ConsentHistoryEntry, RecordBody, SubjectBody, SubjectExport,
};

use crate::access_log::AccessEntry;
use crate::consent::{ConsentRow, HistoryEntry};
use crate::export::Export;
use crate::vault::{RecordView, SubjectView};
use crate::{format_id, format_time};

impl From<SubjectView> for SubjectBody {
    fn from(v: SubjectView) -> Self {
        SubjectBody {
            id: v.id,
            created_at: v.created_at,
            data: v.data,
        }
    }
}

impl From<RecordView> for RecordBody {
    fn from(r: RecordView) -> Self {
        RecordBody {
            id: r.id,
            category: r.category,
            created_at: r.created_at,
            data: r.data,
        }
    }
}

impl From<&AccessEntry> for AccessEvent {
    fn from(e: &AccessEntry) -> Self {
        let (allowed, reason) = match &e.event.outcome {
            mamori_ledger::Outcome::Allowed => (true, None),
            mamori_ledger::Outcome::Denied { reason } => (false, Some(reason.clone())),
        };
        AccessEvent {
            event: e.index,
            at: format_time(e.event.time_ms),
            role: e.event.role.clone(),
            purpose: e.event.purpose.clone(),
            action: e.event.action.clone(),
            categories: e.event.categories.clone(),
            allowed,
            reason,
            recipient: e.event.recipient.clone(),
        }
    }
}

/// A consent row as a decision (a function: the row is the store's type, the decision proto's).
pub fn consent_decision(c: &ConsentRow) -> ConsentDecision {
    ConsentDecision {
        purpose: c.purpose.clone(),
        channel: c.channel.clone(),
        granted: c.granted,
        source: c.source.clone(),
        notice_version: c.notice_version.clone(),
        decided_at: format_time(c.created_ms),
    }
}

impl From<&HistoryEntry> for ConsentHistoryEntry {
    fn from(h: &HistoryEntry) -> Self {
        ConsentHistoryEntry {
            receipt_id: format_id(&h.row.id),
            decision: consent_decision(&h.row),
            receipt: h.receipt.clone(),
        }
    }
}

impl Export {
    /// The whole export as one document (the API's answer; the download's files are its parts).
    pub fn document(&self) -> SubjectExport {
        let subject = SubjectBody::from(self.subject.clone());
        SubjectExport {
            id: subject.id,
            created_at: subject.created_at,
            data: subject.data,
            records: self.records.iter().cloned().map(RecordBody::from).collect(),
            consents: self.consents.iter().map(consent_decision).collect(),
            consent_history: self.history.iter().map(ConsentHistoryEntry::from).collect(),
            access_log: self.access_log.iter().map(AccessEvent::from).collect(),
            disclosures: (self.disclosures.iter())
                .map(|d| mamori_proto::subjects::DisclosureEntry {
                    vendor: d.vendor.clone(),
                    countries: d.countries.clone(),
                    purpose: d.purpose.clone(),
                    categories: d.categories.clone(),
                    disclosed_at: d.at.clone(),
                })
                .collect(),
        }
    }
}
