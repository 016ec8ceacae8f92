//! Retention of live data by the clock: fields expire their category's retention after the
//! person was last active, records after they were made; a person with nothing left is erased.

use std::time::Duration;

use mamori_core::retention::RetentionReport;
use mamori_crypto::LookupKind;
use mamori_proto::ErrorCode;

use super::*;

const DAY: Duration = Duration::from_secs(86_400);

async fn create(core: &Core, data: serde_json::Value) -> [u8; 16] {
    let data = serde_json::from_value(data).unwrap();
    let id = (core.vault)
        .create_subject(&actor("service"), "customer_support", None, &data)
        .await
        .unwrap();
    mamori_core::parse_id(&id).unwrap()
}

async fn add_order(core: &Core, id: &[u8; 16]) {
    let order = serde_json::json!({"order_number": "K-1", "total": 10, "currency": "EUR"});
    let order = serde_json::from_value(order).unwrap();
    (core.vault)
        .add_record(&actor("service"), "order_fulfilment", id, "orders", &order)
        .await
        .unwrap();
}

async fn found(core: &Core, email: &str) -> usize {
    (core.vault)
        .lookup(
            &actor("service"),
            "order_fulfilment",
            LookupKind::Email,
            email,
        )
        .await
        .unwrap()
        .len()
}

async fn sweep(core: &Core, dry_run: bool) -> RetentionReport {
    let officer = actor("privacy_officer");
    core.vault.sweep_retention(&officer, dry_run).await.unwrap()
}

async fn is_gone(core: &Core, id: &[u8; 16]) -> bool {
    let read = (core.vault)
        .read_subject(&actor("privacy_officer"), "data_subject_rights", id)
        .await;
    read.is_err_and(|e| e.code() == ErrorCode::SubjectNotFound)
}

pub(crate) async fn retention_drops_expired_fields_and_erases_whom_nothing_is_left_of(core: Core) {
    // Contact (3 years) and a support ticket (2 years); the other has an order (7 years).
    let dormant = create(&core, serde_json::json!({"contact": {"name": "Ada", "email": "dormant@example.com"}, "support_tickets": {"subject": "Late parcel", "status": "open"}})).await;
    let buyer = serde_json::json!({"contact": {"name": "Bo", "email": "buyer@example.com"}});
    let buyer = create(&core, buyer).await;
    add_order(&core, &buyer).await;
    assert!(
        sweep(&core, false).await.is_empty(),
        "nothing has expired yet"
    );

    core.clock.advance(DAY * (2 * 365 + 2));
    let report = sweep(&core, false).await;
    assert_eq!(
        (report.people_erased, report.categories.len()),
        (0, 1),
        "{report:?}"
    );
    assert_eq!(report.categories["support_tickets"].people, 1);
    assert_eq!(
        found(&core, "dormant@example.com").await,
        1,
        "contact stays 3 years"
    );

    core.clock.advance(DAY * 366);
    let planned = sweep(&core, true).await;
    assert_eq!(planned.people_erased, 1, "{planned:?}");
    assert_eq!(planned.categories["contact"].people, 2);
    assert_eq!(
        found(&core, "buyer@example.com").await,
        1,
        "a dry run changes nothing"
    );
    let done = sweep(&core, false).await;
    assert_eq!(
        (done.people_erased, done.categories),
        (1, planned.categories)
    );
    assert!(is_gone(&core, &dormant).await);
    assert_eq!(found(&core, "dormant@example.com").await, 0);
    assert_eq!(
        found(&core, "buyer@example.com").await,
        0,
        "the contact went, and its index"
    );
    let orders = core.store.newest_records(&buyer).await.unwrap();
    assert_eq!(orders.len(), 1, "the order is kept seven years");

    core.clock.advance(DAY * (4 * 365 + 5));
    let last = sweep(&core, false).await;
    // Erased as a whole (its records are noise without the key, and purged later).
    assert_eq!(last.people_erased, 1, "{last:?}");
    assert_eq!(last.categories["orders"].people, 1, "{last:?}");
    assert!(is_gone(&core, &buyer).await);
    let refused = core.vault.sweep_retention(&actor("service"), true).await;
    assert_eq!(refused.unwrap_err().code(), ErrorCode::PermissionNotGranted);
}

pub(crate) async fn retention_deletes_the_old_records_of_someone_still_active(core: Core) {
    let regular = serde_json::json!({"contact": {"name": "Cy", "email": "regular@example.com"}});
    let regular = create(&core, regular).await;
    add_order(&core, &regular).await;
    // Changes since keep the contact; only the order, seven years old, expires.
    for _ in 0..4 {
        core.clock.advance(DAY * (2 * 365));
        let data = serde_json::json!({"contact": {"name": "Cy"}});
        let data = serde_json::from_value(data).unwrap();
        (core.vault)
            .update_subject(&actor("service"), "customer_support", &regular, &data)
            .await
            .unwrap();
    }
    let report = sweep(&core, false).await;
    assert_eq!(
        (report.people_erased, report.categories["orders"].records),
        (0, 1)
    );
    assert!(
        core.store
            .newest_records(&regular)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        found(&core, "regular@example.com").await,
        1,
        "the regular stays"
    );
}

/// Legal holds: a held person's erasure is refused and the sweep leaves them alone; a category
/// held for everyone does not expire; lifting ends both. Bad holds change nothing.
pub(crate) async fn a_legal_hold_stops_erasures_and_sweeps_until_lifted(core: Core) {
    use mamori_core::legal_holds::HoldRequest;
    use mamori_proto::holds::HoldReason;
    let officer = actor("privacy_officer");
    let held = serde_json::json!({"contact": {"name": "Di", "email": "held@example.com"}, "support_tickets": {"subject": "Claim", "status": "open"}});
    let held = create(&core, held).await;
    let request = |subject, category: Option<&str>| HoldRequest {
        subject,
        category: category.map(String::from),
        reason: HoldReason::Litigation,
        until_ms: None,
    };
    let on_person = (core
        .vault
        .place_legal_hold(&officer, &request(Some(held), None)))
    .await
    .unwrap();
    let erased = core
        .vault
        .erase_subject(&officer, "data_subject_rights", &held)
        .await;
    assert_eq!(erased.unwrap_err().code(), ErrorCode::SubjectUnderLegalHold);
    core.clock.advance(DAY * (4 * 365));
    assert!(
        sweep(&core, false).await.is_empty(),
        "the sweep leaves a held person alone"
    );

    let id = mamori_core::parse_id(&on_person.id).unwrap();
    core.vault.lift_legal_hold(&officer, &id).await.unwrap();
    let everyone = request(None, Some("contact"));
    core.vault
        .place_legal_hold(&officer, &everyone)
        .await
        .unwrap();
    let report = sweep(&core, false).await;
    assert_eq!(report.people_erased, 0, "the contact is held: {report:?}");
    assert_eq!(report.categories["support_tickets"].people, 1, "{report:?}");
    assert_eq!(found(&core, "held@example.com").await, 1);
    assert_eq!(core.vault.legal_holds(&officer).await.unwrap().len(), 1);

    let bad = [
        request(None, None),
        request(None, Some("no_such_category")),
        HoldRequest {
            until_ms: Some(core.vault.now_ms() - 1),
            ..request(Some(held), None)
        },
    ];
    for hold in &bad {
        let refused = core.vault.place_legal_hold(&officer, hold).await;
        assert_eq!(
            refused.unwrap_err().code(),
            ErrorCode::InvalidValue,
            "{hold:?}"
        );
    }
    let refused = core
        .vault
        .place_legal_hold(&actor("service"), &everyone)
        .await;
    assert_eq!(refused.unwrap_err().code(), ErrorCode::PermissionNotGranted);
    let lifted_again = core.vault.lift_legal_hold(&officer, &id).await;
    assert_eq!(lifted_again.unwrap_err().code(), ErrorCode::HoldNotFound);
    assert_eq!(
        core.vault.legal_holds(&officer).await.unwrap().len(),
        1,
        "nothing changed"
    );
    core.vault
        .erase_subject(&officer, "data_subject_rights", &held)
        .await
        .unwrap();
}

/// "Until consent is withdrawn + 45 days": preferences stay while a consent covering them is
/// granted, go 45 days after the withdrawal even from someone active since, and 45 days after
/// the last activity from someone who never answered.
pub(crate) async fn preferences_go_after_consent_is_withdrawn(mut core: Core) {
    let from = "[categories.preferences]\nsensitivity = \"personal\"\nretention = \"2y\"\n";
    let to = "[categories.preferences]\nsensitivity = \"personal\"\nretention = \"45d\"\nretention_from = \"consent_withdrawn\"\n";
    assert!(POLICY.contains(from));
    let policy = mamori_policy::Policy::parse("policy.toml", &POLICY.replacen(from, to, 1));
    core.vault.policy = std::sync::Arc::new(policy.unwrap());
    let consent = |granted| mamori_core::consent::ConsentChange {
        purpose: "marketing_email".into(),
        channel: Some("email".into()),
        granted,
        source: Some("api".into()),
        notice_version: None,
    };
    let preferences = async |who: &str, purpose: &str, id: &[u8; 16]| {
        let data = serde_json::json!({"preferences": {"language": "fr"}});
        let data = serde_json::from_value(data).unwrap();
        let done = core
            .vault
            .update_subject(&actor(who), purpose, id, &data)
            .await;
        done.unwrap();
    };
    let service = actor("service");
    let person = |email: &str| serde_json::json!({"contact": {"name": "Em", "email": email}});
    let granted = create(&core, person("granted@example.com")).await;
    let never = create(&core, person("never@example.com")).await;
    let withdrew = create(&core, person("withdrew@example.com")).await;
    for id in [&granted, &withdrew] {
        let done = core.vault.set_consent(&service, id, &consent(true)).await;
        done.unwrap();
        preferences("service", "marketing_email", id).await;
    }
    let done = core
        .vault
        .set_consent(&service, &withdrew, &consent(false))
        .await;
    done.unwrap();
    preferences("privacy_officer", "data_subject_rights", &never).await;
    // Still active (a change on day 40), but the withdrawal was on day 0.
    core.clock.advance(DAY * 40);
    let data = serde_json::from_value(serde_json::json!({"contact": {"name": "Em"}})).unwrap();
    (core.vault)
        .update_subject(&service, "customer_support", &withdrew, &data)
        .await
        .unwrap();
    assert!(sweep(&core, false).await.is_empty());

    core.clock.advance(DAY * 10);
    let report = sweep(&core, false).await;
    assert_eq!(report.categories["preferences"].people, 2, "{report:?}");
    assert_eq!(report.people_erased, 0, "contacts stay three years");
    let has_preferences = async |id: &[u8; 16]| {
        let read = (core.vault)
            .read_subject(&actor("privacy_officer"), "data_subject_rights", id)
            .await
            .unwrap();
        read.data.contains_key("preferences")
    };
    assert!(has_preferences(&granted).await, "consent granted: kept");
    assert!(!has_preferences(&never).await && !has_preferences(&withdrew).await);

    // The last one withdraws: 45 days later their preferences go too.
    let done = core
        .vault
        .set_consent(&service, &granted, &consent(false))
        .await;
    done.unwrap();
    core.clock.advance(DAY * 44);
    assert!(sweep(&core, false).await.is_empty());
    core.clock.advance(DAY * 2);
    assert_eq!(
        sweep(&core, false).await.categories["preferences"].people,
        1
    );
    assert!(!has_preferences(&granted).await);
}
