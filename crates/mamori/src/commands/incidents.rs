//! `mamori incident open|list|show|add`: the incident register from the command line, as the
//! operator (through the one door, ledgered like the API).

use anyhow::Context as _;
use mamori_proto::incidents::{
    AddEntry, Contain, ContainmentAction, Extension, IncidentDetail, IncidentKind, IncidentLink,
    IncidentSeverity, IncidentStatus, LinkKind, OpenIncident,
};

use crate::cli::{DrillCommand, IncidentCommand};
use crate::context::{self, Context, Paths};

/// A wire value named on the command line, or an error listing the accepted ones.
fn one_of<T: Copy>(
    flag: &str,
    text: &str,
    parse: fn(&str) -> Option<T>,
    all: &[T],
    name: fn(T) -> &'static str,
) -> anyhow::Result<T> {
    parse(text).with_context(|| {
        let known: Vec<&str> = all.iter().map(|v| name(*v)).collect();
        format!("{flag} must be one of {}", known.join(", "))
    })
}

pub(super) fn rfc3339_ms(text: &str) -> anyhow::Result<i64> {
    let t = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)?;
    Ok(i64::try_from(t.unix_timestamp_nanos() / 1_000_000)?)
}

fn link(text: &str) -> anyhow::Result<IncidentLink> {
    let (kind, id) = text
        .split_once(':')
        .context("--link is KIND:ID (api_key:ID, staff:ID or vendor:NAME)")?;
    let kind = one_of(
        "--link's kind",
        kind,
        LinkKind::parse,
        LinkKind::ALL,
        LinkKind::as_str,
    )?;
    Ok(IncidentLink {
        kind,
        id: id.to_string(),
    })
}

fn print_detail(d: &IncidentDetail) {
    let i = &d.incident;
    println!("{}  {}", i.id, i.title);
    println!(
        "kind {}  severity {}  status {}  detected {}  version {}{}",
        i.kind,
        i.severity,
        i.status,
        i.detected_at,
        i.version,
        if i.drill { "  (drill)" } else { "" }
    );
    for e in &d.timeline {
        let mut said = vec![format!("{:>3}  {}  {}  {}", e.seq, e.at, e.by, e.kind)];
        said.extend(e.status.map(|s| format!("status {s}")));
        said.extend(e.severity.map(|s| format!("severity {s}")));
        said.extend(e.link.as_ref().map(|l| format!("{} {}", l.kind, l.id)));
        said.extend(
            (e.extension.as_ref())
                .map(|x| format!("{}:{} until {}", x.jurisdiction, x.recipient, x.until)),
        );
        said.extend(e.note.as_ref().map(|n| format!("— {n}")));
        println!("{}", said.join("  "));
    }
}

/// A wire value of `$ty` named by `$flag`.
macro_rules! wire {
    ($flag:expr, $ty:ty, $text:expr) => {
        one_of($flag, $text, <$ty>::parse, <$ty>::ALL, <$ty>::as_str)
    };
}

fn entry(
    version: i64,
    note: Option<String>,
    status: Option<String>,
    severity: Option<String>,
    linked: Option<String>,
    extend: Option<(String, String)>,
) -> anyhow::Result<AddEntry> {
    let extend = match extend {
        Some((duty, until)) => {
            let (jurisdiction, recipient) = duty
                .split_once(':')
                .context("--extend is LAW:RECIPIENT, e.g. gdpr:authority")?;
            Some(Extension {
                jurisdiction: jurisdiction.into(),
                recipient: recipient.into(),
                until,
            })
        }
        None => None,
    };
    Ok(AddEntry {
        extend,
        version,
        note,
        status: (status.as_deref())
            .map(|s| wire!("--status", IncidentStatus, s))
            .transpose()?,
        severity: (severity.as_deref())
            .map(|s| wire!("--severity", IncidentSeverity, s))
            .transpose()?,
        link: linked.as_deref().map(link).transpose()?,
    })
}

fn print_list(incidents: &[mamori_proto::incidents::Incident]) {
    for i in incidents {
        println!(
            "{}  {}  {}  {}  detected {}  {}",
            i.id, i.status, i.severity, i.kind, i.detected_at, i.title
        );
    }
}

/// `mamori incident …`.
pub(super) async fn incident(paths: &Paths, command: IncidentCommand) -> anyhow::Result<()> {
    let ctx = Context::open(paths).await?;
    let operator = context::operator();
    match command {
        IncidentCommand::Open {
            title,
            kind,
            severity,
            detected_at,
        } => {
            let open = OpenIncident {
                title,
                kind: wire!("--kind", IncidentKind, &kind)?,
                severity: wire!("--severity", IncidentSeverity, &severity)?,
                detected_at: None,
            };
            let detected_ms = (detected_at.as_deref())
                .map(|t| rfc3339_ms(t).context("--detected-at is not an RFC 3339 time"))
                .transpose()?;
            let vault = &ctx.vault;
            let incident = vault.open_incident(&operator, &open, detected_ms, false);
            println!("{}", incident.await?.id);
        }
        IncidentCommand::List => print_list(&ctx.vault.incidents(&operator).await?),
        IncidentCommand::Show { id } => {
            let id = mamori_core::parse_id(&id).context("not an incident id")?;
            print_detail(&ctx.vault.incident(&operator, &id).await?);
        }
        IncidentCommand::Add {
            id,
            version,
            note,
            status,
            severity,
            link: linked,
            extend,
            until,
        } => {
            let id = mamori_core::parse_id(&id).context("not an incident id")?;
            let add = entry(version, note, status, severity, linked, extend.zip(until))?;
            print_detail(&ctx.vault.add_incident_entry(&operator, &id, &add).await?);
        }
        contain @ IncidentCommand::Contain { .. } => contain_step(&ctx, contain).await?,
        IncidentCommand::Notices { id } => super::incident_notices::notices(&ctx, &id).await?,
        IncidentCommand::Draft {
            id,
            jurisdiction,
            lang,
        } => super::incident_notices::draft(&ctx, &id, &jurisdiction, &lang).await?,
        IncidentCommand::Notify(args) => super::incident_notices::notify(&ctx, args).await?,
    }
    ctx.vault.flush_ledger().await?;
    Ok(())
}

pub(super) fn print_notices(s: &mamori_proto::incident_notices::NoticeSummary) {
    println!(
        "{} people{}{}",
        s.people,
        if s.added > 0 {
            format!(" ({} added)", s.added)
        } else {
            String::new()
        },
        if s.drill { "  (drill: never sent)" } else { "" }
    );
    for c in &s.by_state {
        println!("  {:<12} {}", c.state, c.people);
    }
    for c in &s.by_category {
        println!("  category {:<18} {}", c.category, c.people);
    }
}

/// `mamori incident contain ID --version N --revoke-key|--disable-staff|--remove-webhook|… T`.
async fn contain_step(ctx: &Context, command: IncidentCommand) -> anyhow::Result<()> {
    let IncidentCommand::Contain {
        id,
        version,
        revoke_key,
        disable_staff,
        remove_webhook,
        remove_agent,
        pause_webhook,
        rotate_webhook_secret,
        pause_agent,
        note,
    } = command
    else {
        anyhow::bail!("not a containment step");
    };
    let id = mamori_core::parse_id(&id).context("not an incident id")?;
    let (action, target) = [
        (ContainmentAction::RevokeApiKey, revoke_key),
        (ContainmentAction::DisableStaff, disable_staff),
        (ContainmentAction::RemoveWebhook, remove_webhook),
        (ContainmentAction::RemoveAgent, remove_agent),
        (ContainmentAction::PauseWebhook, pause_webhook),
        (
            ContainmentAction::RotateWebhookSecret,
            rotate_webhook_secret,
        ),
        (ContainmentAction::PauseAgent, pause_agent),
    ]
    .into_iter()
    .find_map(|(action, target)| Some((action, target?)))
    .context("give one containment step (see --help)")?;
    let contain = Contain {
        version,
        action,
        target,
        note,
    };
    let operator = context::operator();
    let detail = ctx.vault.contain_incident(&operator, &id, &contain).await?;
    print_detail(&detail);
    if let Some(secret) = &detail.new_secret {
        eprintln!("the subscription's new signing secret (shown once):");
        println!("{secret}");
    }
    Ok(())
}

/// `mamori drill start|report`.
pub(super) async fn drill(paths: &Paths, command: DrillCommand) -> anyhow::Result<()> {
    let ctx = Context::open(paths).await?;
    let operator = context::operator();
    match command {
        DrillCommand::Start { scenario, lang } => {
            let lang = match lang.as_str() {
                "en" => mamori_policy::Language::En,
                "ja" => mamori_policy::Language::Ja,
                "fr" => mamori_policy::Language::Fr,
                _ => anyhow::bail!("--lang must be en, ja or fr"),
            };
            let incident = ctx.vault.start_drill(&operator, &scenario, lang).await?;
            println!("{}", incident.id);
        }
        DrillCommand::Report { id } => {
            let id = mamori_core::parse_id(&id).context("not an incident id")?;
            let r = ctx.vault.drill_report(&operator, &id).await?;
            for m in &r.milestones {
                let hours = m.hours_after_detection.unwrap_or_default();
                println!(
                    "{:<18} {:>7.1} h  {}",
                    m.milestone,
                    hours,
                    m.at.as_deref().unwrap_or("")
                );
            }
            for s in &r.skipped {
                println!("{s:<18} skipped");
            }
            for d in &r.missed {
                println!(
                    "missed: {} {} (due {})",
                    d.jurisdiction, d.recipient, d.due_at
                );
            }
        }
    }
    ctx.vault.flush_ledger().await?;
    Ok(())
}
