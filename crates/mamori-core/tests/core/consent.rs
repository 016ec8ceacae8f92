//! Consent through core: refused until granted, each decision ledgered and announced.

use mamori_core::consent::ConsentChange;

use super::*;

fn email_marketing(granted: bool) -> ConsentChange {
    ConsentChange {
        purpose: "marketing_email".into(),
        channel: Some("email".into()),
        granted,
        source: Some("api".into()),
        notice_version: None,
    }
}

pub(crate) async fn consent_starts_refused_and_follows_each_decision(core: Core) {
    let person = someone(&core, "consent@example.com").await;
    let marketing = actor("marketing");
    let check = async || {
        let answer = core
            .vault
            .check_consent(&marketing, &person, "marketing_email", Some("email"))
            .await
            .unwrap();
        (answer.allowed, answer.reason.as_str())
    };
    assert_eq!(check().await, (false, "no_record"));
    let before = core.vault.ledger_size();
    let granted = core
        .vault
        .set_consent(&actor("service"), &person, &email_marketing(true))
        .await
        .unwrap();
    assert!(granted.allowed && granted.receipt.is_some());
    assert_eq!(check().await, (true, "granted"));
    core.vault
        .set_consent(&marketing, &person, &email_marketing(false))
        .await
        .unwrap();
    assert_eq!(check().await, (false, "withdrawn"));
    assert!(
        core.vault.ledger_size() >= before + 2,
        "each decision is ledgered"
    );
    let feed = core
        .vault
        .events_after(&actor("privacy_officer"), 0, 100)
        .await
        .unwrap();
    let changed = feed.iter().filter(|e| e.kind == "consent.changed").count();
    assert_eq!(changed, 2, "each decision is announced");
}
