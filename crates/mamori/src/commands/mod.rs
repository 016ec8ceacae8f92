//! What each command does: `run` hands it to the file of its kind. Every command that touches
//! personal data goes through core's operations (the same access decision and ledger as the
//! HTTP API), acting as the operator.

mod admin;
mod imports;
mod incident_notices;
mod incidents;
mod keys;
mod policy;
mod serving;
mod surveys;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;

use crate::cli::*;
use crate::context::{self, Context, Paths};
use crate::{config, demo, import, listen, scrub, verify};

/// Runs one parsed command line; its exit code.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let mut paths = Paths::new(&cli.data, cli.database.clone(), cli.policy.clone());
    if !matches!(cli.command, Command::Scrub { .. } | Command::Bench { .. }) {
        paths.key_command = load_config(&cli)?.key_command;
    }
    match cli.command.clone() {
        Command::Init => {
            context::init(&paths).await?;
            println!("initialised {}", paths.data.display());
        }
        Command::Serve {
            limits,
            tls_cert,
            tls_key,
        } => return serving::serve_command(&cli, &paths, &limits, tls_cert, tls_key).await,
        Command::Demo { customers, limits } => {
            return serving::demo_command(&cli, &paths, customers, &limits).await;
        }
        Command::Policy { command } => return policy::run(&paths, command).await,
        Command::Apikey { command } => admin::apikey(&paths, command).await?,
        Command::Report { json } => admin::report(&paths, json).await?,
        Command::Survey { command } => surveys::run(&paths, command).await?,
        Command::Agent { command } => admin::agent(&paths, command).await?,
        Command::Vendor { command } => admin::vendor(&paths, command).await?,
        Command::Import {
            kind:
                Some(ImportKind::Consents {
                    file,
                    role,
                    rejects,
                }),
            ..
        } => imports::consents(&paths, &file, &role, rejects).await?,
        Command::Import {
            kind: None,
            file,
            purpose,
            role,
            batch,
            rejects,
        } => imports::people(&paths, file, purpose, role, batch, rejects).await?,
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
        Command::Webhook { command } => admin::webhook(&cli, &paths, command).await?,
        Command::Key { command } => keys::key(&cli, &paths, command).await?,
        Command::Backup { to } => keys::backup_command(&paths, &to).await?,
        Command::Hold { command } => admin::hold(&paths, command).await?,
        Command::Incident { command } => incidents::incident(&paths, command).await?,
        Command::Drill { command } => incidents::drill(&paths, command).await?,
        Command::Staff { command } => admin::staff(&cli, &paths, command).await?,
        Command::Doctor { json } => {
            return crate::doctor::run(&paths, &load_config(&cli)?, json).await;
        }
        Command::Retention {
            command: RetentionCommand::Sweep { dry_run },
        } => admin::retention_sweep(&paths, dry_run).await?,
        Command::Restore { from } => return keys::restore_command(&paths, &from).await,
        Command::Ledger { command } => {
            return match command {
                LedgerCommand::Verify { witness } => verify::run(&paths, witness.as_deref()).await,
                LedgerCommand::RotateKey => verify::rotate_key(&paths).await,
                LedgerCommand::Keys => verify::keys(&paths).await,
            };
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The configuration file: `--config`, else `mamori.toml` in the data directory if there is one.
fn load_config(cli: &Cli) -> anyhow::Result<config::Config> {
    match cli.config.as_deref() {
        Some(path) => config::Config::load(path, true),
        None => config::Config::load(&cli.data.join("mamori.toml"), false),
    }
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
