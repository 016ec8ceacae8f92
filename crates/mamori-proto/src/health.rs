//! Liveness and readiness on the wire: what each check found.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::codes::wire_enum;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Health {
    /// Always `ok`: the process answers.
    pub status: String,
    /// `sqlite` or `postgres`.
    pub backend: String,
    pub ledger_size: u64,
}

wire_enum! {
    /// What readiness checks.
    pub enum CheckName {
        /// The database answers a read in time.
        Database = "database",
        /// The database is still where it was opened (not deleted or replaced).
        Storage = "storage",
        /// The database's disk has room for the writes to come.
        DiskSpace = "disk_space",
        /// The ledger writer is alive and committing.
        LedgerWriter = "ledger_writer",
        /// The stored ledger passed its checks.
        LedgerIntegrity = "ledger_integrity",
    }
}

wire_enum! {
    pub enum ReadinessStatus {
        Ready = "ready",
        NotReady = "not_ready",
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Check {
    pub name: CheckName,
    pub ok: bool,
    /// Why it failed, in words (never a value of anyone's data).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Readiness {
    pub status: ReadinessStatus,
    /// The first failing check, when not ready.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failing: Option<CheckName>,
    pub checks: Vec<Check>,
    /// Scheduled backups (`[backup]` in mamori.toml), when there are any. Informative: an
    /// overdue backup does not make the server unready (it can still serve), it is for alerts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup: Option<BackupStatus>,
}

/// How scheduled backups are going.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BackupStatus {
    /// Seconds since the last good backup (absent: none yet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub age_seconds: Option<u64>,
    /// More than twice the interval has passed since the last good backup.
    pub overdue: bool,
    /// The last attempt failed (the server's log says why).
    pub last_attempt_failed: bool,
}
