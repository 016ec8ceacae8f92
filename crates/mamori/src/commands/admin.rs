//! The administrative commands: API keys, DRP agents, webhook subscriptions, the privacy
//! report. Each acts as the operator, through core's operations (decided and ledgered).

use super::*;

pub(super) async fn apikey(paths: &Paths, command: ApikeyCommand) -> anyhow::Result<()> {
    let ctx = Context::open(paths).await?;
    match command {
        ApikeyCommand::Create { role, name } => {
            let (id, token) = ctx
                .vault
                .create_api_key(&context::operator(), &role, &name)
                .await?;
            eprintln!("created key {id} for role {role}; store it now, it is not shown again:");
            println!("{token}");
        }
        ApikeyCommand::List => {
            for k in ctx.vault.list_api_keys(&context::operator()).await? {
                let state = if k.revoked { "revoked" } else { "active" };
                println!("{}\t{}\t{}\t{}", k.id, k.role, state, k.name);
            }
        }
        ApikeyCommand::Revoke { id } => {
            ctx.vault.revoke_api_key(&context::operator(), &id).await?;
            println!("revoked {id}");
        }
    }
    Ok(())
}

pub(super) async fn report(paths: &Paths, json: bool) -> anyhow::Result<()> {
    let ctx = Context::open(paths).await?;
    let report = ctx.vault.privacy_report(&context::operator()).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", mamori_core::report::to_markdown(&report));
    }
    Ok(())
}

/// `mamori vendor secret|tasks`: tab-separated lines of ids, names, codes and times.
pub(super) async fn vendor(paths: &Paths, command: VendorCommand) -> anyhow::Result<()> {
    let ctx = Context::open(paths).await?;
    let operator = context::operator();
    match command {
        VendorCommand::Secret { vendor } => {
            let secret = ctx.vault.vendor_secret(&operator, &vendor).await?;
            eprintln!("confirmation secret of {vendor} (give it to the vendor only):");
            println!("{secret}");
        }
        VendorCommand::Tasks { open } => {
            for t in ctx.vault.vendor_tasks(&operator, open).await? {
                let state = match (&t.confirmed_at, t.overdue) {
                    (Some(at), _) => format!("confirmed {at}"),
                    (None, true) => "overdue".to_string(),
                    (None, false) => "open".to_string(),
                };
                let kind = t.kind;
                println!(
                    "{}\t{}\t{kind}\t{}\t{}\t{state}",
                    t.id, t.vendor, t.subject, t.due_at
                );
            }
        }
    }
    Ok(())
}

pub(super) async fn agent(paths: &Paths, command: AgentCommand) -> anyhow::Result<()> {
    let ctx = Context::open(paths).await?;
    let operator = context::operator();
    match command {
        AgentCommand::Add {
            id,
            name,
            verify_key,
        } => {
            ctx.vault
                .register_agent(&operator, &id, &name, &verify_key)
                .await?;
            println!("registered agent {id}");
        }
        AgentCommand::List => {
            for a in ctx.vault.list_agents(&operator).await? {
                let state = match (a.removed_ms, a.paused_ms) {
                    (Some(_), _) => "removed",
                    (None, Some(_)) => "paused",
                    (None, None) => "active",
                };
                println!("{}\t{}\t{}", a.id, state, a.name);
            }
        }
        AgentCommand::Remove { id } => {
            ctx.vault.remove_agent(&operator, &id).await?;
            println!("removed agent {id}");
        }
        AgentCommand::Pause { id } => {
            ctx.vault.pause_agent(&operator, &id).await?;
            println!("paused agent {id}: its tokens are refused until `mamori agent resume {id}`");
        }
        AgentCommand::Resume { id } => {
            ctx.vault.resume_agent(&operator, &id).await?;
            println!("resumed agent {id}");
        }
    }
    Ok(())
}

pub(super) async fn webhook(
    cli: &Cli,
    paths: &Paths,
    command: WebhookCommand,
) -> anyhow::Result<()> {
    // The receiver for trying subscriptions out needs no data directory.
    if let WebhookCommand::Listen { on, secret } = command {
        return listen::run(&on, secret).await;
    }
    let mut ctx = Context::open(paths).await?;
    // Subscriptions are checked against the same outbound rules the server sends under.
    ctx.vault.outbound = Arc::new(load_config(cli)?.outbound()?);
    let operator = context::operator();
    match command {
        WebhookCommand::Add { url, events } => {
            let (info, secret) = ctx.vault.add_webhook(&operator, &url, &events).await?;
            eprintln!(
                "subscribed {} to {}; signing secret (shown once):",
                info.url,
                info.event_types.join(",")
            );
            println!("{}\t{secret}", info.id);
        }
        WebhookCommand::List => {
            for w in ctx.vault.list_webhooks(&operator).await? {
                let status = w.last_status.map_or("-".to_string(), |s| s.to_string());
                let paused =
                    (w.paused_at.as_deref()).map_or(String::new(), |t| format!("\tpaused={t}"));
                println!(
                    "{}\t{}\t{}\tcursor={}\tattempts={}\tlast_status={status}{paused}",
                    w.id,
                    w.url,
                    w.event_types.join(","),
                    w.cursor,
                    w.attempts
                );
            }
        }
        WebhookCommand::Remove { id } => {
            ctx.vault.remove_webhook(&operator, &id).await?;
            println!("removed {id}");
        }
        WebhookCommand::Pause { id } => {
            ctx.vault.pause_webhook(&operator, &id).await?;
            println!("paused {id}: nothing is sent until `mamori webhook resume {id}`");
        }
        WebhookCommand::Resume { id } => {
            ctx.vault.resume_webhook(&operator, &id).await?;
            println!("resumed {id}: what was held is sent, in order");
        }
        WebhookCommand::RotateSecret { id, grace } => {
            let (_, secret) = ctx
                .vault
                .rotate_webhook_secret(&operator, &id, grace)
                .await?;
            eprintln!("new signing secret for {id} (shown once):");
            println!("{secret}");
        }
        WebhookCommand::Replay { id, from } => {
            ctx.vault.replay_webhook(&operator, &id, from).await?;
            println!("{id} will deliver again from event {from}");
        }
        WebhookCommand::Listen { .. } => anyhow::bail!("`webhook listen` opens no database"),
    }
    Ok(())
}

/// `mamori retention sweep [--dry-run]`: counts per category, never values.
pub(super) async fn retention_sweep(paths: &Paths, dry_run: bool) -> anyhow::Result<()> {
    let ctx = Context::open(paths).await?;
    let report = ctx
        .vault
        .sweep_retention(&context::operator(), dry_run)
        .await?;
    ctx.vault.flush_ledger().await?;
    let verb = if dry_run { "would be erased" } else { "erased" };
    println!("{} people {verb} as a whole", report.people_erased);
    for (category, count) in &report.categories {
        println!(
            "{category}: {} people's data, {} records {verb}",
            count.people, count.records
        );
    }
    if report.is_empty() {
        println!("nothing has passed its retention");
    }
    Ok(())
}

/// `mamori hold add|list|lift`.
pub(super) async fn hold(paths: &Paths, command: HoldCommand) -> anyhow::Result<()> {
    use mamori_proto::holds::HoldReason;
    let ctx = Context::open(paths).await?;
    let operator = context::operator();
    match command {
        HoldCommand::Add {
            subject,
            category,
            reason,
            until,
        } => {
            let reason = HoldReason::parse(&reason).with_context(|| {
                let known: Vec<&str> = HoldReason::ALL.iter().map(|r| r.as_str()).collect();
                format!("--reason must be one of {}", known.join(", "))
            })?;
            let subject = (subject.as_deref())
                .map(|s| mamori_core::parse_id(s).context("--subject is not a subject id"))
                .transpose()?;
            let until_ms = until.as_deref().map(day_end_ms).transpose()?;
            let request = mamori_core::legal_holds::HoldRequest {
                subject,
                category,
                reason,
                until_ms,
            };
            let hold = ctx.vault.place_legal_hold(&operator, &request).await?;
            println!("{}", hold.id);
        }
        HoldCommand::List => {
            for hold in ctx.vault.legal_holds(&operator).await? {
                println!(
                    "{}  {}  subject {}  category {}  until {}  placed {}",
                    hold.id,
                    hold.reason,
                    hold.subject.as_deref().unwrap_or("(any)"),
                    hold.category.as_deref().unwrap_or("(all)"),
                    hold.until.as_deref().unwrap_or("lifted"),
                    hold.placed_at
                );
            }
        }
        HoldCommand::Lift { id } => {
            let id = mamori_core::parse_id(&id).context("not a hold id")?;
            ctx.vault.lift_legal_hold(&operator, &id).await?;
            println!("lifted");
        }
    }
    ctx.vault.flush_ledger().await?;
    Ok(())
}

/// The end of a day (YYYY-MM-DD, UTC) in Unix milliseconds.
fn day_end_ms(day: &str) -> anyhow::Result<i64> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let date = time::Date::parse(day, &format).context("--until is a day, YYYY-MM-DD")?;
    let end = date.next_day().unwrap_or(date).midnight().assume_utc();
    Ok(end.unix_timestamp() * 1000)
}

/// The staff id and the one-time enrolment link, to send to the person.
fn print_link(invited: &mamori_core::staff::StaffInvitation, base: &str) {
    println!("{}", invited.staff.id);
    println!(
        "enrolment link (once, until {}): {}/console/enrol?token={}",
        mamori_core::format_time(invited.expires_ms),
        base.trim_end_matches('/'),
        invited.token
    );
}

/// `mamori staff invite|list|disable|reset`.
pub(super) async fn staff(cli: &Cli, paths: &Paths, command: StaffCommand) -> anyhow::Result<()> {
    let ctx = Context::open(paths).await?;
    let operator = context::operator();
    match command {
        StaffCommand::Invite {
            email,
            role,
            base_url,
        } => {
            let base = match base_url {
                Some(base) => base,
                None => load_config(cli)?.public_url.unwrap_or_default(),
            };
            let invited = ctx.vault.invite_staff(&operator, &email, &role).await?;
            print_link(&invited, &base);
        }
        StaffCommand::Reset { id, base_url } => {
            let base = match base_url {
                Some(base) => base,
                None => load_config(cli)?.public_url.unwrap_or_default(),
            };
            let reset = ctx.vault.reset_staff(&operator, &id).await?;
            print_link(&reset, &base);
        }
        StaffCommand::Disable { id } => {
            let staff = ctx.vault.disable_staff(&operator, &id).await?;
            println!(
                "{} ({}) is disabled: they cannot sign in, and their sessions have ended",
                staff.id, staff.role
            );
        }
        StaffCommand::List => {
            for s in ctx.vault.list_staff(&operator).await? {
                let state = match (s.enrolled, s.disabled) {
                    (_, true) => "disabled",
                    (true, false) => "enrolled",
                    (false, false) => "invited",
                };
                println!(
                    "{}  {}  {}  {state}  since {}",
                    s.id, s.role, s.email, s.invited_at
                );
            }
        }
    }
    ctx.vault.flush_ledger().await?;
    Ok(())
}
