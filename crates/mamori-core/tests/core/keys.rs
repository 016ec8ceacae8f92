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
