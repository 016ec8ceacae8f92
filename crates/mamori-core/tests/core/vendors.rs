//! Vendors asked to act by what happens without a request: data expiring under retention (the
//! sweep) and withdrawals imported from another system — each in the same commit as the change.

use std::time::Duration;

use mamori_core::consent::ConsentChange;
use mamori_core::consent_import::ConsentImportRow;
use mamori_proto::disclosures::Disclose;

use super::*;

async fn disclose(core: &Core, id: &[u8; 16], vendor: &str, purpose: &str) {
    let ask = Disclose {
        vendor: vendor.into(),
        purpose: purpose.into(),
        categories: vec!["contact".into()],
        records: vec![],
    };
    let service = actor("service");
    core.vault.disclose(&service, id, &ask).await.unwrap();
}

/// The person's vendor tasks: (vendor, kind, purpose, categories).
async fn tasks(core: &Core, id: &[u8; 16]) -> Vec<(String, String, Option<String>, String)> {
    let rows = core.store.subject_vendor_tasks(id).await.unwrap();
    (rows.into_iter())
        .map(|t| (t.vendor, t.kind, t.purpose, t.categories))
        .collect()
}

pub(crate) async fn expired_data_is_asked_of_the_vendors_that_received_it(core: Core) {
    let id = someone(&core, "expiring@example.com").await;
    disclose(&core, &id, "kuroneko_logistics", "order_fulfilment").await;
    let officer = actor("privacy_officer");
    core.clock
        .advance(Duration::from_secs(86_400 * (3 * 365 + 2)));
    let planned = core.vault.sweep_retention(&officer, true).await.unwrap();
    assert_eq!(planned.people_erased, 1);
    assert!(tasks(&core, &id).await.is_empty(), "a dry run asks no one");
    core.vault.sweep_retention(&officer, false).await.unwrap();
    let erase = ("kuroneko_logistics".to_string(), "erasure".to_string());
    assert_eq!(
        tasks(&core, &id).await,
        [(erase.0, erase.1, None, "contact".to_string())]
    );
    // The next sweep finds nothing more to erase, and asks no one again.
    core.vault.sweep_retention(&officer, false).await.unwrap();
    assert_eq!(tasks(&core, &id).await.len(), 1);
}

fn withdrawal(line: u64, subject: &[u8; 16], at_ms: i64) -> ConsentImportRow {
    ConsentImportRow {
        line,
        subject: mamori_core::format_id(subject),
        change: ConsentChange {
            purpose: "marketing_email".into(),
            channel: Some("email".into()),
            granted: false,
            source: Some("import".into()),
            notice_version: None,
        },
        at_ms,
    }
}

pub(crate) async fn an_imported_withdrawal_asks_vendors_to_stop(core: Core) {
    let id = someone(&core, "imported@example.com").await;
    let grant = ConsentChange {
        purpose: "marketing_email".into(),
        channel: Some("email".into()),
        granted: true,
        source: Some("api".into()),
        notice_version: None,
    };
    let service = actor("service");
    core.vault.set_consent(&service, &id, &grant).await.unwrap();
    disclose(&core, &id, "postbird", "marketing_email").await;
    // A withdrawal older than the grant joins the history only: no one is asked.
    let old = withdrawal(1, &id, core.vault.now_ms() - 86_400_000);
    let report = core
        .vault
        .import_consents(&service, vec![old])
        .await
        .unwrap();
    assert_eq!(report.imported, 1, "{:?}", report.rejected);
    assert!(tasks(&core, &id).await.is_empty());
    // Two current withdrawals in one batch: the vendor is asked once.
    let now = core.vault.now_ms() + 1;
    let rows = vec![withdrawal(1, &id, now), withdrawal(2, &id, now + 1)];
    let report = core.vault.import_consents(&service, rows).await.unwrap();
    assert_eq!(report.imported, 2, "{:?}", report.rejected);
    let stop = ("postbird".to_string(), "optout".to_string());
    let purpose = Some("marketing_email".to_string());
    assert_eq!(
        tasks(&core, &id).await,
        [(stop.0, stop.1, purpose, "contact".to_string())]
    );
}
