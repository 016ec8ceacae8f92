//! An incident's impact from the ledger, timed against `ledger verify` over the same leaves in
//! the same run (issue 21: at most 2× its time): the service key's accesses over the whole
//! ledger, the widest window one actor can have.

use std::time::Instant;

use mamori::context::{self, Context, Paths};
use mamori_core::incidents::impact::ImpactWindow;
use mamori_proto::incidents::{IncidentKind, IncidentSeverity, OpenIncident};

/// (people reached, leaves scanned, seconds).
pub(super) async fn impact_of_the_service_key(paths: &Paths) -> anyhow::Result<(u64, u64, f64)> {
    let ctx = Context::open(paths).await?;
    let operator = context::operator();
    let keys = ctx.vault.list_api_keys(&operator).await?;
    let service = (keys.iter())
        .find(|k| k.role == "service")
        .ok_or_else(|| anyhow::anyhow!("the bench made no service key"))?;
    let open = OpenIncident {
        title: "Bench: the service key leaked".into(),
        kind: IncidentKind::LeakedCredential,
        severity: IncidentSeverity::High,
        detected_at: None,
    };
    let incident = ctx
        .vault
        .open_incident(&operator, &open, None, false)
        .await?;
    let id = mamori_core::parse_id(&incident.id).expect("an incident id");
    let window = ImpactWindow {
        actors: vec![format!("key:{}", service.id)],
        from_ms: 0,
        to_ms: ctx.vault.now_ms() + 3_600_000,
        purposes: None,
        categories: None,
    };
    let started = Instant::now();
    let impact = ctx.vault.incident_impact(&operator, &id, &window).await?;
    let seconds = started.elapsed().as_secs_f64();
    ctx.vault.flush_ledger().await?;
    Ok((impact.people, impact.leaves_scanned, seconds))
}
