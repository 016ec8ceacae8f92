//! `mamori-bench`: the performance targets of the vault, measured end to end in a throw-away
//! installation (see `bench/mod.rs`). A binary of its own, so the product binary carries no load
//! generator; `mamori bench …` runs this one, from beside itself.

mod bench;
mod surveys;
mod webhooks;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

/// Measure the performance targets in a throw-away installation (release builds only give
/// meaningful figures). Needs no data directory.
#[derive(Parser)]
#[command(name = "mamori bench", version)]
struct Args {
    /// A smaller run that finishes in under a minute.
    #[arg(long)]
    quick: bool,
    /// Smoke run for the test suite (figures not meaningful).
    #[arg(long, hide = true)]
    tiny: bool,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
    /// Subjects stored for the read test (default 1,000,000, or 100,000 with --quick).
    #[arg(long)]
    subjects: Option<u64>,
    /// Directory for the throw-away installation (default: the system temp directory).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Only the consent-check figures and their same-run baselines (for tuning that path).
    #[arg(long)]
    consent_only: bool,
    /// Only batch disclosures and the audience filter they are read against.
    #[arg(long)]
    disclosures_only: bool,
    /// Only the ledger's append rate through one writer and through two at once (what
    /// several servers on one database share).
    #[arg(long)]
    writers_only: bool,
    /// Only the audited read and the consent check as ratios to the no-op endpoint, interleaved
    /// in the same run (throughput and p99).
    #[arg(long)]
    ratios_only: bool,
    /// Responses in the survey whose results are timed (default 1,000,000, or 100,000 with
    /// --quick).
    #[arg(long)]
    survey_responses: Option<usize>,
    /// Database URL (default: SQLite in the throw-away directory). A PostgreSQL database given
    /// here must be empty; the bench fills it.
    #[arg(long, env = "MAMORI_DATABASE")]
    database: Option<String>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    mamori::log_to_stderr();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> anyhow::Result<()> {
    let figures = bench::run(bench::BenchArgs {
        quick: args.quick,
        tiny: args.tiny,
        consent_only: args.consent_only,
        disclosures_only: args.disclosures_only,
        writers_only: args.writers_only,
        ratios_only: args.ratios_only,
        subjects: args.subjects,
        dir: args.dir,
        survey_responses: args.survey_responses,
        database: args.database,
    })
    .await?;
    if args.json {
        println!("{figures}");
    } else {
        bench::print_table(&figures, &mut std::io::stdout())?;
    }
    Ok(())
}
