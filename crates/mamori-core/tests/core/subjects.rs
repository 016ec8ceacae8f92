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
