//! The installation's security posture (`mamori doctor`, and the console's posture page): each
//! check a [`Finding`] with a severity and a [`Fact`] — what was found, as ids and numbers, never
//! a person's data — said in English, Japanese or French by [`words`].
//!
//! What the vault can see (API keys, staff, webhooks, the ledger, the clock) is checked here,
//! after one access decision (`admin = ["keys"]`: posture belongs to those who run the
//! installation) and one ledger event, `posture.check`. What only the machine can see (file
//! modes, the filesystem, the configuration, backups, the key store) is an [`Installation`] the
//! binary provides: the CLI runs it for `mamori doctor`, and gives it to the server so the
//! console shows the same findings.

mod checks;
pub(crate) mod vendors;
pub mod words;

use mamori_policy::AdminPermission;
use serde::Serialize;

use crate::access::Permission;
use crate::error::Result;
use crate::vault::{Actor, Vault};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Ok,
    Low,
    Medium,
    High,
}

/// Which file a mode finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    MasterKey,
    KeyStore,
    Database,
}

/// What a check found: ids, paths, numbers — words come from [`words::say`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fact {
    FilesPrivate,
    FileOpen {
        file: FileKind,
        path: String,
        mode: u32,
    },
    DataDirectoryOpen {
        path: String,
        mode: u32,
    },
    LocalFilesystem {
        kind: String,
    },
    NetworkFilesystem {
        kind: String,
    },
    NoPublicUrl,
    PublicUrlHttps {
        url: String,
    },
    PublicUrlClear {
        url: String,
    },
    NoBackupSchedule,
    NoBackupYet {
        to: String,
    },
    BackupOverdue {
        to: String,
        days: i64,
    },
    BackupFresh {
        to: String,
        hours: i64,
    },
    KeysRotating {
        epochs: usize,
    },
    KeysNotRotating {
        kept: usize,
    },
    NotOpen {
        why: String,
    },
    NoOldApiKeys,
    OldApiKeys {
        names: Vec<String>,
    },
    PeopleRolesTakeNoKeys {
        roles: Vec<String>,
    },
    RefusedKeys {
        keys: Vec<String>,
    },
    EveryoneHasFactor,
    StaffWithoutFactor {
        staff: Vec<String>,
    },
    EveryoneTrained,
    Untrained {
        staff: Vec<String>,
    },
    WebhooksDeliver,
    WebhooksFailing {
        ids: Vec<String>,
    },
    LedgerMatches,
    LedgerBroken {
        why: String,
    },
    ClockAgrees,
    ClockBehind {
        seconds: i64,
    },
    DrillRecently {
        days: i64,
    },
    /// No tabletop drill for `days` (None: never).
    NoRecentDrill {
        days: Option<i64>,
    },
    VendorContractsCurrent {
        count: usize,
    },
    /// Contracts ending within a month: the vendors with their end dates.
    VendorContractsEnding {
        vendors: Vec<String>,
    },
    /// Vendors whose contract ended or has not started.
    VendorContractsNotCurrent {
        vendors: Vec<String>,
    },
    VendorReviewsCurrent {
        count: usize,
    },
    /// Vendors never reviewed, or not for more than a year.
    VendorReviewsDue {
        vendors: Vec<String>,
    },
    VendorReviewsFailed {
        vendors: Vec<String>,
    },
}

/// One thing checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub severity: Severity,
    pub fact: Fact,
}

impl Finding {
    pub fn new(severity: Severity, fact: Fact) -> Finding {
        Finding { severity, fact }
    }

    /// The check's stable name (`--json`, the console's row ids).
    pub fn check(&self) -> &'static str {
        use Fact::*;
        match &self.fact {
            FilesPrivate => "files",
            FileOpen { file, .. } => match file {
                FileKind::MasterKey => "master_key",
                FileKind::KeyStore => "key_store",
                FileKind::Database => "database_files",
            },
            DataDirectoryOpen { .. } => "data_directory",
            LocalFilesystem { .. } | NetworkFilesystem { .. } => "network_filesystem",
            NoPublicUrl | PublicUrlHttps { .. } | PublicUrlClear { .. } => "public_url",
            NoBackupSchedule | NoBackupYet { .. } | BackupOverdue { .. } | BackupFresh { .. } => {
                "backups"
            }
            KeysRotating { .. } | KeysNotRotating { .. } => "key_rotation",
            NotOpen { .. } => "installation",
            NoOldApiKeys | OldApiKeys { .. } => "api_keys",
            PeopleRolesTakeNoKeys { .. } | RefusedKeys { .. } => "staff_controls",
            EveryoneHasFactor | StaffWithoutFactor { .. } => "staff_mfa",
            EveryoneTrained | Untrained { .. } => "staff_training",
            WebhooksDeliver | WebhooksFailing { .. } => "webhooks",
            LedgerMatches | LedgerBroken { .. } => "ledger",
            ClockAgrees | ClockBehind { .. } => "clock",
            DrillRecently { .. } | NoRecentDrill { .. } => "drills",
            VendorContractsCurrent { .. }
            | VendorContractsEnding { .. }
            | VendorContractsNotCurrent { .. } => "vendor_contracts",
            VendorReviewsCurrent { .. } | VendorReviewsDue { .. } | VendorReviewsFailed { .. } => {
                "vendor_reviews"
            }
        }
    }
}

/// What only the machine running Mamori can check: file modes, the filesystem, the
/// configuration, backups and the key store. The binary implements it.
pub trait Installation: Send + Sync {
    fn findings(&self, now_ms: i64) -> Vec<Finding>;
}

/// Most severe first; equal severities keep their order.
pub fn most_severe_first(findings: &mut [Finding]) {
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
}

impl Vault {
    /// Every check: the installation's (when the binary gave one) and the vault's, most severe first.
    /// Decided (`admin = ["keys"]`) and ledgered as `posture.check`, allowed or denied.
    pub async fn posture(&self, actor: &Actor) -> Result<Vec<Finding>> {
        let permission = Permission::Admin(AdminPermission::Keys);
        self.grant_and_ledger(actor, permission, "posture.check")
            .await?;
        let now_ms = self.now_ms();
        let mut out = (self.installation.as_ref()).map_or_else(Vec::new, |i| i.findings(now_ms));
        out.extend(self.vault_findings(now_ms).await?);
        most_severe_first(&mut out);
        Ok(out)
    }
}
