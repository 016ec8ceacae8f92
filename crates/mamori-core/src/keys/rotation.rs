//! Rotating key epochs: start a new epoch when the current one is due, re-wrap every data key
//! still under an older epoch (or under the master key, from before epochs), and destroy the
//! retired epochs the backup horizon has passed. Each step is safe to interrupt: the store's
//! file is replaced whole, every re-wrap is a compare-and-set on the wrapped bytes, and the next
//! run carries on from what the database holds.

use std::time::Duration;

use mamori_crypto::{epoch_floor, first_epoch_floor};
use mamori_policy::AdminPermission;
use mamori_store::{Change, WrappedKeys};

use crate::access::Permission;
use crate::admin::Granted;
use crate::error::{CoreError, Result};
use crate::ledger::Item;
use crate::vault::{Actor, Vault};

/// Data keys re-wrapped per commit.
const REWRAP_PAGE: i64 = 500;

/// How often epochs rotate and how long a retired one is kept.
#[derive(Debug, Clone, Copy)]
pub struct EpochSchedule {
    /// A new epoch starts when the current one is this old (default one day).
    pub every: Duration,
    /// A retired epoch is destroyed this long after it was retired (default 30 days): the
    /// backup horizon. A copy of the database is noise at most `every + horizon` after it was
    /// taken.
    pub horizon: Duration,
}

impl Default for EpochSchedule {
    fn default() -> EpochSchedule {
        EpochSchedule {
            every: Duration::from_secs(86_400),
            horizon: Duration::from_secs(30 * 86_400),
        }
    }
}

/// What one rotation did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RotationReport {
    /// The epoch started by this run, if one was due.
    pub started: Option<u32>,
    /// The epoch new keys are wrapped under.
    pub current: u32,
    /// Data keys moved to the current epoch.
    pub rewrapped: u64,
    /// Epochs destroyed by this run.
    pub destroyed: Vec<u32>,
    /// Retired epochs kept until the horizon passes.
    pub retired: Vec<u32>,
}

/// The actor of scheduled rotations in the ledger.
fn scheduler() -> Actor {
    Actor {
        id: "key-rotation".into(),
        role: "system".into(),
    }
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl Vault {
    /// `mamori key rotate`: decided by the policy (`admin = ["keys"]`) and ledgered; then the
    /// rotation, started at once if `force`. `progress` hears how many keys are re-wrapped.
    pub async fn rotate_key_epochs(
        &self,
        actor: &Actor,
        schedule: &EpochSchedule,
        force: bool,
        progress: &mut (dyn FnMut(u64) + Send),
    ) -> Result<RotationReport> {
        let keys = Permission::Admin(AdminPermission::Keys);
        let granted = self.grant(actor, keys, "keys.rotate").await?;
        self.ledger.submit(vec![], vec![granted.event()]).await??;
        self.rotate_epochs(schedule, force, progress).await
    }

    /// The scheduled rotation inside `serve`: ledgered (as `key-rotation`, role `system`) only
    /// when there is something to do.
    pub async fn scheduled_key_rotation(&self, schedule: &EpochSchedule) -> Result<RotationReport> {
        let store = self.epoch_store()?;
        // Another process may have changed the store (`mamori ledger rotate-key`).
        store.install(&self.keyring).map_err(store_error)?;
        self.follow_ledger_key();
        let epochs = store.epochs().map_err(store_error)?;
        let now = self.now_ms();
        let due = epochs
            .iter()
            .find(|e| e.retired_ms.is_none())
            .is_none_or(|c| now - c.created_ms >= millis(schedule.every));
        let expired = epochs.iter().any(|e| self.past_horizon(e, schedule, now));
        let current = self.keyring.current_epoch().unwrap_or(0);
        let below = self
            .store
            .keys_wrapped_below(&epoch_floor(current), None, 1)
            .await?;
        if !due && !expired && below.is_empty() {
            return Ok(RotationReport {
                current,
                ..RotationReport::default()
            });
        }
        let granted = Granted::scheduled(&scheduler(), "keys.rotate", now);
        self.ledger.submit(vec![], vec![granted.event()]).await??;
        self.rotate_epochs(schedule, false, &mut |_| {}).await
    }

    pub(super) fn epoch_store(&self) -> Result<&crate::keys::epoch_store::EpochStore> {
        self.key_epochs
            .as_deref()
            .ok_or_else(|| CoreError::Internal("this vault has no key store".into()))
    }

    fn past_horizon(
        &self,
        epoch: &crate::keys::epoch_store::EpochEntry,
        schedule: &EpochSchedule,
        now_ms: i64,
    ) -> bool {
        epoch
            .retired_ms
            .is_some_and(|retired| now_ms - retired >= millis(schedule.horizon))
    }

    async fn rotate_epochs(
        &self,
        schedule: &EpochSchedule,
        force: bool,
        progress: &mut (dyn FnMut(u64) + Send),
    ) -> Result<RotationReport> {
        let store = self.epoch_store()?;
        let now = self.now_ms();
        let started = store
            .rotate(&self.keyring, now, millis(schedule.every), force)
            .map_err(store_error)?;
        let current = self
            .keyring
            .current_epoch()
            .ok_or_else(|| CoreError::Internal("the key store holds no epoch".into()))?;
        let rewrapped = self.rewrap_below(current, progress).await?;
        // An epoch is destroyed only if nothing in the database is still wrapped under it (a
        // process that had not yet loaded the new epoch may have written under the old one:
        // the next run re-wraps it and tries again).
        let mut still_used = std::collections::BTreeSet::new();
        for entry in store.epochs().map_err(store_error)? {
            if self.past_horizon(&entry, schedule, now) {
                let from = epoch_floor(entry.id);
                let to = epoch_floor(entry.id + 1);
                if self
                    .store
                    .count_keys_wrapped_within(&from, Some(&to))
                    .await?
                    > 0
                {
                    still_used.insert(entry.id);
                }
            }
        }
        let destroyed = store
            .destroy(&self.keyring, |e| {
                self.past_horizon(e, schedule, now) && !still_used.contains(&e.id)
            })
            .map_err(store_error)?;
        for epoch in &destroyed {
            tracing::info!(epoch, "key epoch destroyed");
        }
        if !destroyed.is_empty() {
            let event = Granted::scheduled(&scheduler(), "keys.epoch_destroyed", now).event();
            self.ledger.submit(vec![], vec![event]).await??;
        }
        let retired = (store.epochs().map_err(store_error)?.iter())
            .filter(|e| e.retired_ms.is_some())
            .map(|e| e.id)
            .collect();
        Ok(RotationReport {
            started,
            current,
            rewrapped,
            destroyed,
            retired,
        })
    }

    /// Moves every data key wrapped below `current` (older epochs, or the master key from before
    /// epochs) to `current`. Returns how many moved.
    async fn rewrap_below(
        &self,
        current: u32,
        progress: &mut (dyn FnMut(u64) + Send),
    ) -> Result<u64> {
        let floor = epoch_floor(current);
        let mut moved = 0u64;
        let mut after = None;
        loop {
            let page = self
                .store
                .keys_wrapped_below(&floor, after, REWRAP_PAGE)
                .await?;
            let Some(last) = page.last() else {
                return Ok(moved);
            };
            after = Some(last.id);
            let full = page.len() as i64 == REWRAP_PAGE;
            let rewrapped: Vec<Change> = (page.iter())
                .filter_map(|keys| self.rewrapped(keys))
                .collect();
            let count = rewrapped.len() as u64;
            // Keys with no re-key under way go in one statement per few hundred.
            let (mut changes, mut batch) = (vec![], vec![]);
            for change in rewrapped {
                match change {
                    Change::RewrapKeys {
                        id,
                        from,
                        to,
                        previous: None,
                    } => batch.push((id, from, to)),
                    other => changes.push(other),
                }
            }
            changes.push(Change::RewrapKeysBatch(batch));
            // Re-keys of held subjects change the same columns: one at a time with them. One
            // job per page: a row that changed meanwhile is skipped and found by the next run.
            let _one_at_a_time = self.rekeying.lock().await;
            let item = Item {
                changes,
                events: vec![],
            };
            let outcomes = self.ledger.submit_all(vec![item]).await?;
            if outcomes.iter().all(|o| o.is_ok()) {
                moved += count;
            }
            progress(moved);
            if !full {
                return Ok(moved);
            }
        }
    }

    /// The re-wrap of one subject's keys; `None` (logged) if a key does not open, which leaves
    /// it for the integrity checks rather than stopping every other subject's re-wrap.
    fn rewrapped(&self, keys: &WrappedKeys) -> Option<Change> {
        let rewrap = |wrapped: &[u8]| -> Option<Vec<u8>> {
            let attempt = || self.keyring.rewrap_subject_key(&keys.id, wrapped);
            let moved = match attempt() {
                Err(mamori_crypto::CryptoError::UnknownEpoch(_)) if self.reload_epochs() => {
                    attempt()
                }
                other => other,
            };
            match moved {
                Ok(to) => Some(to.unwrap_or_else(|| wrapped.to_vec())),
                Err(_) => {
                    tracing::error!(subject = %crate::format_id(&keys.id), "a data key does not open; not re-wrapped");
                    None
                }
            }
        };
        let to = rewrap(&keys.wrapped_dek)?;
        let previous = match &keys.previous_wrapped_dek {
            Some(from) => Some((from.clone(), rewrap(from)?)),
            None => None,
        };
        Some(Change::RewrapKeys {
            id: keys.id,
            from: keys.wrapped_dek.clone(),
            to,
            previous,
        })
    }

    /// Whether the database holds data keys under an epoch the key store does not have: a
    /// copy older than the backup horizon (its epochs destroyed), or one from another
    /// installation. Returns the number of such keys.
    pub async fn keys_under_missing_epochs(&self) -> Result<i64> {
        if self.key_epochs.is_none() {
            return Ok(0);
        }
        let epochs = self.epoch_store()?.epochs().map_err(store_error)?;
        let (Some(oldest), Some(newest)) = (epochs.first(), epochs.last()) else {
            return Ok(0);
        };
        let mut missing = self
            .store
            .count_keys_wrapped_within(&first_epoch_floor(), Some(&epoch_floor(oldest.id)))
            .await?;
        missing += self
            .store
            .count_keys_wrapped_within(&epoch_floor(newest.id + 1), None)
            .await?;
        // Gaps between kept epochs (destroyed out of order by hand) count too.
        for pair in epochs.windows(2) {
            if pair[1].id > pair[0].id + 1 {
                missing += self
                    .store
                    .count_keys_wrapped_within(
                        &epoch_floor(pair[0].id + 1),
                        Some(&epoch_floor(pair[1].id)),
                    )
                    .await?;
            }
        }
        Ok(missing)
    }
}

pub(super) fn store_error(e: crate::keys::epoch_store::EpochStoreError) -> CoreError {
    CoreError::Internal(e.to_string())
}
