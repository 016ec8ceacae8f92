//! Requests through core, on the vault's clock: a deadline is announced once as it comes near.

use std::time::Duration;

use mamori_core::requests::NewRequest;

use super::*;

const DAY: Duration = Duration::from_secs(86_400);

pub(crate) async fn deadlines_are_reminded_once_as_they_come_near(core: Core) {
    let person = someone(&core, "deadline@example.com").await;
    let request = NewRequest {
        kind: "access".into(),
        subject: Some(person),
        jurisdiction: "lgpd".into(),
        source: "staff".into(),
        received_ms: None,
    };
    let opened = core
        .vault
        .open_request(&actor("privacy_officer"), request)
        .await
        .unwrap();
    // LGPD answers within 15 days, counted to the end of a calendar day.
    let days_left = (opened.due_ms - core.vault.now_ms()) as f64 / 86_400_000.0;
    assert!((14.0..=15.0).contains(&days_left), "{days_left}");
    assert_eq!(core.vault.send_due_reminders().await.unwrap(), 0, "not yet");
    core.clock.advance(11 * DAY);
    assert_eq!(
        core.vault.send_due_reminders().await.unwrap(),
        0,
        "four days left"
    );
    core.clock.advance(2 * DAY);
    assert_eq!(
        core.vault.send_due_reminders().await.unwrap(),
        1,
        "two days left"
    );
    core.clock.advance(DAY);
    assert_eq!(
        core.vault.send_due_reminders().await.unwrap(),
        0,
        "once per deadline"
    );
    let feed = core
        .vault
        .events_after(&actor("privacy_officer"), 0, 100)
        .await
        .unwrap();
    let reminders: Vec<_> = feed
        .iter()
        .filter(|e| e.kind == "request.due_soon")
        .collect();
    assert_eq!(reminders.len(), 1);
    assert_eq!(reminders[0].data["id"], mamori_core::format_id(&opened.id));
}
