//! The console's security posture: what `mamori doctor` checks of the vault, in the page's
//! language, most severe first; decided (`admin = ["keys"]`) and ledgered as `posture.check`.

use std::time::Duration;

use reqwest::StatusCode;

use crate::common::TestApp;
use crate::staff_sign_in::{console_get, signed_in_as};

/// The events ledgered since `before`, as (role, action, allowed).
async fn actions_since(app: &TestApp, before: u64) -> Vec<(String, String, bool)> {
    let mut leaves = app.store.stream_leaves(before);
    let mut out = vec![];
    while let Some(batch) = leaves.recv().await {
        for leaf in batch.unwrap() {
            let event = mamori_ledger::Event::from_leaf_data(&leaf.data).unwrap();
            let allowed = matches!(event.outcome, mamori_ledger::Outcome::Allowed);
            out.push((event.role, event.action, allowed));
        }
    }
    out
}

pub async fn the_console_shows_the_security_posture(app: TestApp) {
    let (cookie, _) = signed_in_as(&app, "po@staff.example", "privacy_officer").await;
    let (_, page) = console_get(&app, &cookie, "/console/admin/system").await;
    assert!(page.contains("id=\"posture-link\""), "{page}");
    let before = crate::ledger_size(&app).await;
    let (status, page) = console_get(&app, &cookie, "/console/admin/posture").await;
    assert_eq!(status, StatusCode::OK);
    let events = actions_since(&app, before).await;
    assert!(
        events.iter().any(|(role, action, allowed)| {
            role == "privacy_officer" && action == "posture.check" && *allowed
        }),
        "{events:?}"
    );
    for check in [
        "ledger",
        "clock",
        "api_keys",
        "webhooks",
        "staff_training",
        "staff_mfa",
        "drills",
    ] {
        assert!(
            page.contains(&format!("id=\"check-{check}\"")),
            "{check}: {page}"
        );
    }
    assert!(
        page.contains("the ledger matches its latest signed head"),
        "{page}"
    );
    assert!(page.contains("id=\"posture-high\">0<"), "{page}");
    assert!(
        page.contains("no tabletop drill has been run yet"),
        "{page}"
    );
    // The test server was given no machine checks, and says so.
    assert!(page.contains("id=\"machine-unchecked\""), "{page}");
    let (_, page) = console_get(&app, &cookie, "/console/admin/posture?lang=ja").await;
    assert!(
        page.contains("セキュリティ態勢")
            && page.contains("台帳は最新の署名付きヘッドと一致しています"),
        "{page}"
    );
    let (_, page) = console_get(&app, &cookie, "/console/admin/posture?lang=fr").await;
    assert!(
        page.contains("Posture de sécurité") && page.contains("le registre correspond"),
        "{page}"
    );

    // A year later the test's API keys are old: a low finding naming them, listed before the
    // findings that are fine.
    app.clock.advance(Duration::from_secs(366 * 86_400));
    let (cookie, _) = signed_in_as(&app, "po2@staff.example", "privacy_officer").await;
    let (_, page) = console_get(&app, &cookie, "/console/admin/posture").await;
    let row = page.find("id=\"check-api_keys\" class=\"severity-low\"");
    assert!(row.is_some(), "{page}");
    assert!(row < page.find("id=\"check-ledger\""), "most severe first");
    assert!(page.contains("API keys older than a year"), "{page}");
}

pub async fn roles_without_keys_are_refused_the_posture(app: TestApp) {
    let (support, _) = signed_in_as(&app, "sup@staff.example", "support").await;
    let (_, page) = console_get(&app, &support, "/console/admin/system").await;
    assert!(!page.contains("id=\"posture-link\""), "no link for support");
    let before = crate::ledger_size(&app).await;
    let (status, page) = console_get(&app, &support, "/console/admin/posture?lang=ja").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(page.contains("permission_not_granted"), "{page}");
    assert!(!page.contains("id=\"posture\""), "{page}");
    let events = actions_since(&app, before).await;
    assert!(
        events.iter().any(|(role, action, allowed)| {
            role == "support" && action == "posture.check" && !allowed
        }),
        "the refusal is ledgered: {events:?}"
    );
}
