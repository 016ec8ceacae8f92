//! People through core: an erasure forgets every way to find the person.

use mamori_crypto::LookupKind;
use mamori_proto::ErrorCode;

use super::*;

pub(crate) async fn an_erased_person_cannot_be_found_or_consent(core: Core) {
    let person = someone(&core, "gone@example.com").await;
    let service = actor("service");
    let found = async || {
        core.vault
            .lookup(
                &service,
                "order_fulfilment",
                LookupKind::Email,
                "GONE@example.com",
            )
            .await
            .unwrap()
    };
    assert_eq!(found().await, [mamori_core::format_id(&person)]);
    let officer = actor("privacy_officer");
    core.vault
        .erase_subject(&officer, "data_subject_rights", &person)
        .await
        .unwrap();
    assert!(found().await.is_empty(), "the blind index is gone");
    let change = mamori_core::consent::ConsentChange {
        purpose: "marketing_email".into(),
        channel: Some("email".into()),
        granted: true,
        source: None,
        notice_version: None,
    };
    let refused = core.vault.set_consent(&service, &person, &change).await;
    assert_eq!(refused.unwrap_err().code(), ErrorCode::SubjectNotFound);
    // The same address is free for someone new.
    let again = someone(&core, "gone@example.com").await;
    assert_ne!(again, person);
}

/// The erasure journal: an erasure made with it is noted at once; one it missed (made while no
/// journal was kept, as after a crash before its line) is noted at the next replay, once.
pub(crate) async fn the_erasure_journal_catches_up_with_the_database(core: Core) {
    use mamori_core::erasure_journal::{ErasureJournal, FILE};
    let dir = tempfile::tempdir().unwrap();
    let journal = Arc::new(ErasureJournal::at(dir.path().join(FILE)));
    let ids = || -> Vec<[u8; 16]> {
        let entries = journal.entries().unwrap();
        entries.into_iter().map(|(id, _)| id).collect()
    };
    let (early, late) = (
        someone(&core, "early@example.com").await,
        someone(&core, "late@example.com").await,
    );
    let (officer, mut vault) = (actor("privacy_officer"), core.vault.clone());
    let erase = async |vault: &mamori_core::Vault, id| {
        (vault
            .erase_subject(&officer, "data_subject_rights", id)
            .await)
            .unwrap();
    };
    erase(&vault, &early).await;
    vault.erasure_journal = Some(journal.clone());
    erase(&vault, &late).await;
    assert_eq!(ids(), [late]);
    let replayed = vault.replay_erasure_journal().await.unwrap();
    assert_eq!((replayed, ids()), (0, vec![late, early]));
    vault.replay_erasure_journal().await.unwrap();
    assert_eq!(ids().len(), 2, "each erasure is noted once");
}
