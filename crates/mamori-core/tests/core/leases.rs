//! Job leases in the database: one holder at a time, taken over only once lapsed or given up,
//! the fencing token raised whenever the lease changes hands.

use mamori_core::leases::Lease;

use super::*;

pub(crate) async fn a_lease_has_one_holder_until_it_lapses_or_is_given_up(core: Core) {
    let store = &*core.store;
    let (a, b) = (
        mamori_core::leases::new_holder(),
        mamori_core::leases::new_holder(),
    );
    let now = mamori_core::now_ms();
    let first = store
        .take_lease("sweep", &a, now, now + 30_000)
        .await
        .unwrap();
    let fence = first.expect("a free lease is taken");
    assert_eq!(
        store
            .take_lease("sweep", &b, now, now + 30_000)
            .await
            .unwrap(),
        None
    );
    let renewed = store
        .take_lease("sweep", &a, now + 1, now + 30_001)
        .await
        .unwrap();
    assert_eq!(renewed, Some(fence), "renewing keeps the token");
    // Given up (a clean stop): the other takes it at once, with a higher token.
    store.release_leases(&a).await.unwrap();
    let taken = store
        .take_lease("sweep", &b, now + 2, now + 30_002)
        .await
        .unwrap();
    assert_eq!(taken, Some(fence + 1));
    // Lapsed (a crash): taken over once its time is past, not before.
    let early = store
        .take_lease("sweep", &a, now + 29_000, now + 59_000)
        .await
        .unwrap();
    assert_eq!(early, None);
    let late = store
        .take_lease("sweep", &a, now + 30_003, now + 60_003)
        .await
        .unwrap();
    assert_eq!(late, Some(fence + 2));
    // Another job's lease is its own.
    let other = store
        .take_lease("reminders", &b, now, now + 30_000)
        .await
        .unwrap();
    assert_eq!(other, Some(1));
    // The `Lease` a job holds asks the database only when its time runs short.
    let mut lease = Lease::new("index", b.clone());
    let held = lease.hold(store).await.unwrap().expect("free");
    assert!(lease.hold(store).await.unwrap().is_some());
    store.release_leases(&b).await.unwrap();
    let mut rival = Lease::new("index", a.clone());
    let overtaken = rival.hold(store).await.unwrap().expect("given up");
    assert_eq!(overtaken.fence, held.fence + 1);
    assert!(
        !lease.renew(store).await.unwrap(),
        "lost, and told so on renewal"
    );
}
