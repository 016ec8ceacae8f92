//! `mamori serve` and `mamori demo`: the server on a data directory, refused over a ledger it
//! cannot trust, drained on SIGTERM or Ctrl-C.

use super::*;

/// The ledger's heads file in the data directory, unless `[ledger] heads` names another.
pub(super) const HEADS_FILE: &str = "ledger-heads.jsonl";
/// The exit code of a server that will not run over a ledger it cannot trust.
const EXIT_LEDGER_UNTRUSTED: u8 = 3;
/// The exit code of a server refusing a database whose key epochs were destroyed.
pub(super) const EXIT_DESTROYED_EPOCHS: u8 = 4;

pub(super) async fn serve_command(
    cli: &Cli,
    paths: &Paths,
    limits: &LimitArgs,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
) -> anyhow::Result<ExitCode> {
    let config = load_config(cli)?;
    context::check_writable(paths)?;
    let mut ctx = Context::open(paths).await?;
    ctx.vault.deadlines = Arc::new(config.deadlines()?);
    let (targets, warnings) = config.breach_targets()?;
    for warning in warnings {
        tracing::warn!("{warning}");
        eprintln!("warning: {warning}");
    }
    ctx.vault.breach_targets = Arc::new(targets);
    ctx.vault.outbound = Arc::new(config.outbound()?);
    if let Some(days) = config.drp.as_ref().and_then(|d| d.token_days) {
        if days == 0 {
            anyhow::bail!("drp.token_days must be at least 1");
        }
        ctx.vault.drp_token_ttl = std::time::Duration::from_secs(u64::from(days) * 86_400);
    }
    let tls = match (tls_cert, tls_key, &config.tls) {
        (Some(cert), Some(key), _) => Some((cert, key)),
        (_, _, Some(t)) => Some((t.cert.clone(), t.key.clone())),
        _ => None,
    };
    let heads = config
        .ledger
        .as_ref()
        .and_then(|l| l.heads.clone())
        .unwrap_or_else(|| cli.data.join(HEADS_FILE));
    let key_rotation = config.epoch_schedule()?;
    // The console's posture page shows what `mamori doctor` checks of this machine.
    ctx.vault.installation = Some(Arc::new(crate::doctor::Machine::new(paths, &config)?));
    if let Some(schedule) = config.backup_schedule(&paths.database)? {
        std::fs::create_dir_all(&schedule.to)
            .with_context(|| format!("creating the backup directory {}", schedule.to.display()))?;
        let monitor = mamori_core::keys::backup_schedule::BackupMonitor::new(schedule);
        ctx.vault.backups = Some(Arc::new(monitor));
    }
    let signals = config.signals()?;
    let options = mamori_server::ServeOptions {
        messaging: Some(config.messaging(&cli.listen)?),
        tls,
        drp_business_id: config.drp.and_then(|d| d.business_id),
        heads_file: Some(heads.clone()),
        purge_erased: true,
        key_rotation: Some(key_rotation),
        retention_sweep: true,
        signals,
    };
    if let Some(code) = refuse_untrusted_ledger(&ctx, &heads).await? {
        return Ok(code);
    }
    if let Some(code) = refuse_destroyed_epochs(&ctx).await? {
        return Ok(code);
    }
    serve(ctx, &cli.listen, limits.limits(), options, heads).await?;
    Ok(ExitCode::SUCCESS)
}

pub(super) async fn demo_command(
    cli: &Cli,
    paths: &Paths,
    customers: usize,
    limits: &LimitArgs,
) -> anyhow::Result<ExitCode> {
    context::init(paths).await?;
    let mut ctx = Context::open(paths).await?;
    let config = load_config(cli)?;
    ctx.vault.installation = Some(Arc::new(crate::doctor::Machine::new(paths, &config)?));
    // The demo's webhook receivers run on this machine (`mamori webhook listen`).
    ctx.vault.outbound = Arc::new(mamori_core::outbound::Outbound::loopback());
    let policy_text = std::fs::read_to_string(&paths.policy)
        .with_context(|| format!("reading {}", paths.policy.display()))?;
    // The demo's notice is the published one, so consents name a version.
    ctx.vault
        .publish_policy(&context::operator(), &policy_text)
        .await?;
    demo::prepare(&ctx, customers, &cli.listen).await?;
    // No mail server in the demo: sign-in codes appear at /privacy/demo/outbox.
    let limits = mamori_server::Limits {
        demo_outbox: true,
        ..limits.limits()
    };
    let heads = cli.data.join(HEADS_FILE);
    let options = mamori_server::ServeOptions {
        messaging: Some(mamori_server::messaging::Messaging::none(&format!(
            "http://{}",
            cli.listen
        ))),
        tls: None,
        drp_business_id: None,
        heads_file: Some(heads.clone()),
        purge_erased: true,
        key_rotation: Some(mamori_core::keys::EpochSchedule::default()),
        retention_sweep: true,
        // The demo's people are made up and its keys read them all at once: no signals.
        signals: None,
    };
    if let Some(code) = refuse_untrusted_ledger(&ctx, &heads).await? {
        return Ok(code);
    }
    serve(ctx, &cli.listen, limits, options, heads).await?;
    Ok(ExitCode::SUCCESS)
}

/// Refuses to serve over a ledger that does not match its own latest signed head, or that no
/// longer extends the last head anchored in `heads` (leaves removed with their heads): the
/// server would otherwise sign new heads over the altered tree. Says what to do.
async fn refuse_untrusted_ledger(
    ctx: &Context,
    heads: &std::path::Path,
) -> anyhow::Result<Option<ExitCode>> {
    let problem = ctx.vault.ledger_trust_problem(heads).await?;
    let Some(why) = problem else {
        return Ok(None);
    };
    tracing::error!("{why}");
    eprintln!(
        "error: the ledger cannot be trusted: {why}.\n\
         Mamori will not serve over it. Find out what happened with\n\
         \x20 mamori --data DIR ledger verify --witness {}\n\
         then restore the database from a backup taken before the damage; see \"Ledger anchoring\"\n\
         in docs/SECURITY.md for the recovery steps.",
        heads.display()
    );
    Ok(Some(ExitCode::from(EXIT_LEDGER_UNTRUSTED)))
}

/// Refuses to serve a database holding data keys under key epochs the key store no longer has:
/// a copy older than the backup horizon (its epochs destroyed, so its people are noise), or a
/// database from another installation. Says what it is.
async fn refuse_destroyed_epochs(ctx: &Context) -> anyhow::Result<Option<ExitCode>> {
    let missing = ctx.vault.keys_under_missing_epochs().await?;
    if missing == 0 {
        return Ok(None);
    }
    eprintln!(
        "error: the database holds {missing} data keys wrapped under key epochs this installation's\n\
         key store does not have: it is a copy older than the backup horizon (those epochs were\n\
         destroyed, so what it held of people cannot be opened), or another installation's.\n\
         Mamori will not serve it. Restore a more recent backup with `mamori restore`; see\n\
         \"Backups and restore\" in README.md."
    );
    Ok(Some(ExitCode::from(EXIT_DESTROYED_EPOCHS)))
}

async fn serve(
    ctx: Context,
    listen: &str,
    limits: mamori_server::Limits,
    options: mamori_server::ServeOptions,
    heads: PathBuf,
) -> anyhow::Result<()> {
    // A database restored from an older backup still holds people erased since: erased again
    // before the first request can read them.
    let replayed =
        (ctx.vault.replay_erasure_journal().await).context("replaying the erasure journal")?;
    if replayed > 0 {
        tracing::warn!(
            replayed,
            "the database held people erased since it was backed up; they are erased again"
        );
    }
    if let Some((cert, key)) = &options.tls {
        // Checked before binding, so a bad file is a clear error rather than failed handshakes.
        mamori_server::tls_config(cert, key)
            .await
            .with_context(|| {
                format!(
                    "TLS certificate {} or key {} cannot be used",
                    cert.display(),
                    key.display()
                )
            })?;
    }
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("binding {listen}"))?;
    tracing::info!(address = %listener.local_addr()?, backend = ctx.vault.backend(), tls = options.tls.is_some(), "mamori listening");
    let stopped = ctx.vault.clone();
    mamori_server::serve_with(listener, ctx.vault, limits, options, stop_signal()).await?;
    // The last head, signed by the final commit, goes to the heads file too.
    if let Err(e) = stopped.anchor_latest_head(&heads, None).await {
        tracing::error!(error = %e, "could not anchor the last ledger head");
    }
    tracing::info!("mamori stopped: requests answered, queued ledger events committed");
    Ok(())
}

/// Ctrl-C (SIGINT) or SIGTERM — what systemd, Docker and Kubernetes send to stop a service.
/// Either drains: no new connections, in-flight requests answered, queued ledger events
/// committed, background workers stopped, exit 0.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
                tracing::info!("stopping: finishing the requests in flight");
                return;
            }
            Err(e) => tracing::warn!(error = %e, "SIGTERM cannot be caught; only Ctrl-C drains"),
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
