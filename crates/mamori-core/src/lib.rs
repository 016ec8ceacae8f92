//! Mamori's services. No HTTP here: the server and the CLI both call these, so every path to
//! personal data passes the same access decision ([`access::decide`]) and the same ledger.

pub mod access;
pub mod access_log;
pub mod admin;
pub mod anchor;
pub mod apikeys;
pub mod audit;
#[cfg(feature = "bench")]
mod bench_support;
pub mod clock;
pub mod consent;
pub mod consent_import;
pub mod consent_state;
pub mod correction;
pub mod disclosure_batch;
pub mod disclosures;
pub mod drp;
pub mod erasure;
pub mod erasure_journal;
pub mod error;
pub mod export;
pub mod fieldmap;
pub mod import;
pub mod incidents;
pub mod jobs;
pub mod keys;
pub mod leases;
pub mod ledger;
pub mod ledger_verify;
pub mod legal_holds;
pub mod machinery;
pub mod mail;
pub mod outbound;
pub mod outbox;
pub mod policy_compare;
pub mod posture;
pub mod provision_records;
pub mod publish;
pub mod reference;
pub mod report;
pub mod request_verification;
pub mod requests;
pub mod retention;
pub mod signin;
pub mod staff;
pub mod subject_index;
pub mod survey_dp;
pub mod survey_tokens;
pub mod surveys;
pub mod unsubscribe;
pub mod vault;
pub mod vendor_reminders;
pub mod vendor_tasks;
pub mod versions;
pub mod views;
pub mod waiting_erasures;
pub mod webhooks;

pub use error::{CoreError, Result};
pub use vault::{Actor, Vault};

/// Milliseconds since the Unix epoch, by the system's clock. Core's operations read the vault's
/// clock instead ([`Vault::now_ms`]), which tests can move.
pub fn now_ms() -> i64 {
    let now = time::OffsetDateTime::now_utc();
    (now.unix_timestamp_nanos() / 1_000_000) as i64
}

pub fn format_time(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// A new id for a subject or record: UUIDv7, so ids of rows created together sort together and
/// inserts land at the end of the B-trees instead of all over them. It reveals only the creation
/// time, which `created_at` shows anyway.
pub fn new_id() -> [u8; 16] {
    *uuid::Uuid::now_v7().as_bytes()
}

pub fn format_id(id: &[u8; 16]) -> String {
    uuid::Uuid::from_bytes(*id).to_string()
}

pub fn parse_id(text: &str) -> Option<[u8; 16]> {
    uuid::Uuid::parse_str(text).ok().map(|u| *u.as_bytes())
}
