//! Key epochs by the clock: the first run re-wraps keys from before epochs, a new epoch starts
//! each day and takes every live key with it, and a retired epoch is destroyed once the horizon
//! has passed — after which a data key wrapped under it (as an old copy holds it) opens no more.

use std::time::Duration;

use mamori_core::keys::EpochSchedule;
use mamori_core::keys::epoch_store::{EpochStore, FILE};
use mamori_crypto::{CryptoError, wrapped_epoch};

use super::*;

const DAY: Duration = Duration::from_secs(86_400);

pub(crate) async fn key_epochs_rotate_rewrap_and_expire_by_the_clock(core: Core) {
    let before = someone(&core, "before-epochs@example.com").await;
    let wrapped = async || {
        let row = core.store.subject(&before).await.unwrap().unwrap();
        row.wrapped_dek.unwrap()
    };
    let legacy = wrapped().await;
    assert_eq!(wrapped_epoch(&legacy), None);

    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(EpochStore::at(dir.path().join(FILE)));
    store.load(&core.keyring, core.vault.now_ms()).unwrap();
    let mut vault = core.vault.clone();
    vault.key_epochs = Some(store.clone());
    let schedule = EpochSchedule::default();
    let rotate = async || vault.scheduled_key_rotation(&schedule).await.unwrap();

    let first = rotate().await;
    assert_eq!(
        (first.started, first.current, first.rewrapped),
        (None, 1, 1)
    );
    let under_one = wrapped().await;
    assert_eq!(wrapped_epoch(&under_one), Some(1));
    vault.flush_ledger().await.unwrap();
    let ledgered = vault.ledger_size();
    assert_eq!(rotate().await.rewrapped, 0);
    vault.flush_ledger().await.unwrap();
    assert_eq!(
        vault.ledger_size(),
        ledgered,
        "a run with nothing to do ledgers nothing"
    );

    core.clock.advance(DAY);
    let second = rotate().await;
    assert_eq!((second.started, second.rewrapped), (Some(2), 1));
    assert_eq!(wrapped_epoch(&wrapped().await), Some(2));
    // Someone new is wrapped under the current epoch from the start.
    let later = someone(&core, "later@example.com").await;
    let row = core.store.subject(&later).await.unwrap().unwrap();
    assert_eq!(wrapped_epoch(&row.wrapped_dek.unwrap()), Some(2));

    core.clock.advance(DAY * 29);
    let kept = rotate().await;
    assert_eq!((kept.started, kept.destroyed.clone()), (Some(3), vec![]));
    core.clock.advance(DAY);
    let expired = rotate().await;
    assert_eq!((expired.started, expired.destroyed), (Some(4), vec![1]));
    assert_eq!(
        core.keyring
            .unwrap_subject_key(&before, &under_one)
            .unwrap_err(),
        CryptoError::UnknownEpoch(1),
        "an old copy's key opens no more"
    );
    assert_eq!(vault.keys_under_missing_epochs().await.unwrap(), 0);
    let read = vault
        .read_subject(&actor("service"), "order_fulfilment", &before)
        .await;
    assert!(read.is_ok(), "the live person is still readable");
}

/// Backups on a schedule: one at once (none known), the next only when `every` has passed,
/// the oldest beyond `keep` deleted, and each one opens again with the keys of the day.
pub(crate) async fn scheduled_backups_are_taken_when_due_and_the_oldest_pruned(core: Core) {
    use mamori_core::keys::backup::open_backup;
    use mamori_core::keys::backup_schedule::{BackupMonitor, BackupSchedule};
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(EpochStore::at(dir.path().join(FILE)));
    store.load(&core.keyring, core.vault.now_ms()).unwrap();
    let backups = dir.path().join("backups");
    std::fs::create_dir(&backups).unwrap();
    let schedule = BackupSchedule {
        to: backups.clone(),
        every: Duration::from_secs(3_600),
        keep: 2,
        database_url: core.url.clone(),
    };
    let monitor = BackupMonitor::new(schedule);
    let mut vault = core.vault.clone();
    vault.key_epochs = Some(store);
    someone(&core, "backed-up@example.com").await;
    let files = || {
        let mut names: Vec<_> = (std::fs::read_dir(&backups).unwrap())
            .map(|e| e.unwrap().path())
            .collect();
        names.sort();
        names
    };
    assert_eq!(monitor.state(vault.now_ms()).last_good_ms, None);
    vault.scheduled_backup(&monitor).await.unwrap();
    let first = files();
    assert_eq!(first.len(), 1);
    vault.scheduled_backup(&monitor).await.unwrap();
    assert_eq!(files().len(), 1, "not due yet");
    for _ in 0..2 {
        core.clock.advance(Duration::from_secs(3_600));
        vault.scheduled_backup(&monitor).await.unwrap();
    }
    let kept = files();
    assert_eq!(kept.len(), 2);
    assert!(!kept.contains(&first[0]), "the oldest is deleted");
    let state = monitor.state(vault.now_ms());
    assert_eq!((state.overdue, state.last_failure), (false, None));
    core.clock.advance(Duration::from_secs(3 * 3_600));
    assert!(monitor.state(vault.now_ms()).overdue);
    let opened = dir.path().join("opened");
    let manifest = open_backup(&core.keyring, &kept[1], &opened, |_| {}).unwrap();
    assert_eq!(manifest.epoch, 1);
    assert!(std::fs::metadata(&opened).unwrap().len() > 0);
}
