//! `mamori`: the command line. Every command that touches personal data goes through the same
//! core services (and so the same access decision and ledger) as the HTTP API.

use mamori::{config, context, demo, import, listen, scrub, verify};

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use clap::Parser;

use mamori::cli::*;
use mamori::context::Context;

/// Commands that print and end (not the servers) stop quietly when the reader of their output
/// goes away (`mamori survey results … | head`), as Unix tools do, instead of panicking on
/// `println!`. Rust ignores SIGPIPE by default; the servers keep that, so a closed connection
/// can never stop them.
fn quiet_on_closed_pipe(command: &Command) {
    #[cfg(unix)]
    if !matches!(
        command,
        Command::Serve { .. } | Command::Demo { .. } | Command::Webhook { .. }
    ) {
        // SAFETY: restores the default disposition of one signal before any thread starts.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    quiet_on_closed_pipe(&cli.command);
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("MAMORI_LOG")
                .unwrap_or_else(|_| "info,sqlx=error".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let paths = context::Paths::new(&cli.data, cli.database.clone(), cli.policy.clone());
    match cli.command {
        Command::Init => {
            context::init(&paths).await?;
            println!("initialised {}", paths.data.display());
        }
        Command::Serve {
            limits,
            tls_cert,
            tls_key,
        } => {
            let config = load_config(cli.config.as_deref(), &cli.data)?;
            context::check_writable(&paths)?;
            let mut ctx = Context::open(&paths).await?;
            ctx.vault.deadlines = Arc::new(config.deadlines()?);
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
            let options = mamori_server::ServeOptions {
                messaging: Some(config.messaging(&cli.listen)?),
                tls,
                drp_business_id: config.drp.and_then(|d| d.business_id),
                heads_file: Some(heads.clone()),
                purge_erased: true,
            };
            if let Some(code) = refuse_untrusted_ledger(&ctx, &heads).await? {
                return Ok(code);
            }
            serve(ctx, &cli.listen, limits.limits(), options, heads).await?;
        }
        Command::Demo { customers, limits } => {
            context::init(&paths).await?;
            let mut ctx = Context::open(&paths).await?;
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
            let options = mamori_server::ServeOptions {
                messaging: Some(mamori_server::messaging::Messaging::none(&format!(
                    "http://{}",
                    cli.listen
                ))),
                tls: None,
                drp_business_id: None,
                heads_file: Some(cli.data.join(HEADS_FILE)),
                purge_erased: true,
            };
            let heads = cli.data.join(HEADS_FILE);
            if let Some(code) = refuse_untrusted_ledger(&ctx, &heads).await? {
                return Ok(code);
            }
            serve(ctx, &cli.listen, limits, options, heads).await?;
        }
        Command::Policy {
            command: PolicyCommand::Check { file },
        } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            match mamori_policy::Policy::parse(&file.display().to_string(), &text) {
                Ok(p) => println!(
                    "{}: ok ({} categories, {} purposes, {} roles)",
                    file.display(),
                    p.categories.len(),
                    p.purposes.len(),
                    p.roles.len()
                ),
                Err(e) => {
                    eprintln!("{e}");
                    return Ok(ExitCode::FAILURE);
                }
            }
        }
        Command::Policy {
            command: PolicyCommand::Publish,
        } => {
            let text = std::fs::read_to_string(&paths.policy)
                .with_context(|| format!("reading {}", paths.policy.display()))?;
            let ctx = Context::open(&paths).await?;
            match ctx
                .vault
                .publish_policy(&context::operator(), &text)
                .await?
            {
                mamori_core::publish::Published::New { version } => {
                    println!("published {} as version v{version}", paths.policy.display())
                }
                mamori_core::publish::Published::Unchanged { version } => {
                    println!(
                        "unchanged: {} is already version v{version}",
                        paths.policy.display()
                    )
                }
            }
        }
        Command::Policy {
            command: PolicyCommand::Versions,
        } => {
            let ctx = Context::open(&paths).await?;
            for v in ctx.vault.policy_versions(&context::operator()).await? {
                println!(
                    "v{}\t{}\t{}\t{}",
                    v.version,
                    mamori_core::format_time(v.published_ms),
                    hex::encode(&v.hash[..8]),
                    v.actor
                );
            }
        }
        Command::Policy {
            command: PolicyCommand::Diff { old, new },
        } => {
            let old = context::load_policy(&old)?;
            let new = context::load_policy(&new)?;
            let changes = mamori_policy::diff::diff(&old, &new);
            if changes.is_empty() {
                println!("no changes that affect people's data");
            }
            for c in &changes {
                let mark = if c.widens { "widens " } else { "narrows" };
                println!("{mark}  {}", c.text);
            }
            if changes.iter().any(|c| c.widens) {
                println!(
                    "\nSome changes widen processing: people's earlier consent does not cover them."
                );
            }
        }
        Command::Apikey { command } => {
            let ctx = Context::open(&paths).await?;
            match command {
                ApikeyCommand::Create { role, name } => {
                    let (id, token) = ctx
                        .vault
                        .create_api_key(&context::operator(), &role, &name)
                        .await?;
                    eprintln!(
                        "created key {id} for role {role}; store it now, it is not shown again:"
                    );
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
        }
        Command::Report { json } => {
            let ctx = Context::open(&paths).await?;
            let report = ctx.vault.privacy_report(&context::operator()).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{}", mamori_core::report::to_markdown(&report));
            }
        }
        Command::Survey { command } => {
            let ctx = Context::open(&paths).await?;
            let operator = context::operator();
            match command {
                SurveyCommand::Create { file } => {
                    let text = std::fs::read_to_string(&file)
                        .with_context(|| format!("reading {}", file.display()))?;
                    let survey = mamori_core::surveys::Survey::from_toml(&ctx.vault.policy, &text)?;
                    let stored = ctx.vault.create_survey(&operator, survey).await?;
                    let slug = &stored.survey.definition.slug;
                    println!("created survey {slug}: /survey/{slug}");
                }
                SurveyCommand::List => {
                    for v in ctx.vault.list_surveys(&context::operator()).await? {
                        let state = if v.is_open(mamori_core::surveys::today()) {
                            "open"
                        } else {
                            "closed"
                        };
                        let budget = match v.survey.definition.results {
                            mamori_core::surveys::ResultsMode::Exact => String::new(),
                            mamori_core::surveys::ResultsMode::DifferentialPrivacy => {
                                let b = ctx.vault.survey_budget(&v).await?;
                                format!("\tε spent {:.3} of {}", b.spent, b.total)
                            }
                        };
                        let access = match v.survey.definition.access {
                            mamori_core::surveys::Access::Open => String::new(),
                            mamori_core::surveys::Access::Invited => {
                                let (sent, issued) = ctx.vault.survey_invitation_counts(&v).await?;
                                format!("\tinvited: {sent}, tokens issued: {issued}")
                            }
                        };
                        println!(
                            "{}\t{state}\t{} questions{access}{budget}",
                            v.survey.definition.slug,
                            v.survey.definition.questions.len()
                        );
                    }
                }
                SurveyCommand::Results { slug, by } => {
                    let results = ctx
                        .vault
                        .survey_results(&operator, &slug, by.as_deref())
                        .await?;
                    println!("{}", serde_json::to_string_pretty(&results)?);
                }
                SurveyCommand::Close { slug } => {
                    ctx.vault.close_survey(&operator, &slug).await?;
                    println!("closed survey {slug}");
                }
                SurveyCommand::Release { slug, epsilon } => {
                    let release = ctx
                        .vault
                        .release_survey_results(&operator, &slug, epsilon)
                        .await?;
                    println!("{}", serde_json::to_string_pretty(&release)?);
                }
                SurveyCommand::Invite {
                    slug,
                    subjects,
                    base_url,
                } => {
                    let mut ids = Vec::with_capacity(subjects.len());
                    for text in &subjects {
                        ids.push(
                            mamori_core::parse_id(text)
                                .with_context(|| format!("{text} is not a subject id (a UUID)"))?,
                        );
                    }
                    use mamori_core::survey_tokens::Invitation;
                    let base = base_url.trim_end_matches('/');
                    for done in ctx.vault.invite_to_survey(&operator, &slug, &ids).await? {
                        match done {
                            Invitation::Sent { subject, code } => println!(
                                "{}\t{base}/survey/{slug}#invitation={code}",
                                mamori_core::format_id(&subject)
                            ),
                            Invitation::Refused { subject, reason } => {
                                println!("{}\trefused: {reason}", mamori_core::format_id(&subject))
                            }
                        }
                    }
                }
            }
        }
        Command::Agent { command } => {
            let ctx = Context::open(&paths).await?;
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
                    for a in ctx.vault.list_agents(&context::operator()).await? {
                        let state = if a.removed_ms.is_some() {
                            "removed"
                        } else {
                            "active"
                        };
                        println!("{}\t{}\t{}", a.id, state, a.name);
                    }
                }
                AgentCommand::Remove { id } => {
                    ctx.vault.remove_agent(&operator, &id).await?;
                    println!("removed agent {id}");
                }
            }
        }
        Command::Import {
            kind:
                Some(ImportKind::Consents {
                    file,
                    role,
                    rejects,
                }),
            ..
        } => {
            let ctx = Context::open(&paths).await?;
            let s = import::run_consents(&ctx.vault, &file, &role, rejects).await?;
            println!(
                "imported {} consent records, rejected {} rows",
                s.imported, s.rejected
            );
        }
        Command::Import {
            kind: None,
            file,
            purpose,
            role,
            batch,
            rejects,
        } => {
            let (Some(file), Some(purpose)) = (file, purpose) else {
                anyhow::bail!(
                    "give --file F.csv|F.jsonl and --purpose P (or `mamori import consents --file F.csv`)"
                );
            };
            let ctx = Context::open(&paths).await?;
            let args = import::ImportArgs {
                file,
                purpose,
                role,
                batch,
                rejects,
                progress: true,
            };
            let s = import::run(&ctx.vault, args).await?;
            println!(
                "imported {} subjects, rejected {} rows, in {:.1} s ({:.0} rows/s){}",
                s.imported,
                s.rejected,
                s.seconds,
                s.rows as f64 / s.seconds.max(1e-9),
                if s.skipped > 0 {
                    format!("; {} rows were done by an earlier run", s.skipped)
                } else {
                    String::new()
                }
            );
        }
        Command::Bench { args } => return run_bench(cli.database.as_deref(), &args),
        Command::Scrub {
            spans,
            modes,
            hash_key_env,
        } => {
            let scrubber = scrub::scrubber(&modes, hash_key_env.as_deref())?;
            let stdin = std::io::stdin().lock();
            let stdout = std::io::BufWriter::new(std::io::stdout().lock());
            scrub::run(&scrubber, spans, stdin, stdout)?;
        }
        Command::Webhook {
            command: WebhookCommand::Listen { on, secret },
        } => listen::run(&on, secret).await?,
        Command::Webhook { command } => {
            let mut ctx = Context::open(&paths).await?;
            // Subscriptions are checked against the same outbound rules the server sends under.
            ctx.vault.outbound =
                Arc::new(load_config(cli.config.as_deref(), &cli.data)?.outbound()?);
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
                        println!(
                            "{}\t{}\t{}\tcursor={}\tattempts={}\tlast_status={status}",
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
                WebhookCommand::Replay { id, from } => {
                    ctx.vault.replay_webhook(&operator, &id, from).await?;
                    println!("{id} will deliver again from event {from}");
                }
                WebhookCommand::Listen { .. } => unreachable!("handled without a database"),
            }
        }
        Command::Ledger {
            command: LedgerCommand::Verify { witness },
        } => {
            return verify::run(&paths, witness.as_deref()).await;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `mamori bench`: the load generator is a binary of its own, `mamori-bench`, built beside this
/// one, so the product carries none of it. Its exit code is the command's.
fn run_bench(database: Option<&str>, args: &[String]) -> anyhow::Result<ExitCode> {
    let bench = std::env::current_exe()?.with_file_name("mamori-bench");
    anyhow::ensure!(
        bench.is_file(),
        "`mamori bench` runs the load generator `{}`, which is not there; build it with `cargo build --release -p mamori-bench`",
        bench.display()
    );
    let mut command = std::process::Command::new(&bench);
    if let Some(database) = database {
        command.args(["--database", database]);
    }
    let status = command.args(args).status()?;
    Ok(match status.code() {
        Some(0) => ExitCode::SUCCESS,
        Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        None => ExitCode::FAILURE,
    })
}

/// The ledger's heads file in the data directory, unless `[ledger] heads` names another.
const HEADS_FILE: &str = "ledger-heads.jsonl";
/// The exit code of a server that will not run over a ledger it cannot trust.
const EXIT_LEDGER_UNTRUSTED: u8 = 3;

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

async fn serve(
    ctx: Context,
    listen: &str,
    limits: mamori_server::Limits,
    options: mamori_server::ServeOptions,
    heads: PathBuf,
) -> anyhow::Result<()> {
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

fn load_config(
    explicit: Option<&std::path::Path>,
    data: &std::path::Path,
) -> anyhow::Result<config::Config> {
    match explicit {
        Some(path) => config::Config::load(path, true),
        None => config::Config::load(&data.join("mamori.toml"), false),
    }
}
