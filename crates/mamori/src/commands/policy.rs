//! `mamori policy check|publish|versions|diff|records`.

use super::*;

pub(super) async fn run(paths: &Paths, command: PolicyCommand) -> anyhow::Result<ExitCode> {
    match command {
        PolicyCommand::Check { file } => return check(&file),
        PolicyCommand::Publish => publish(paths).await?,
        PolicyCommand::Versions => {
            let ctx = Context::open(paths).await?;
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
        PolicyCommand::Diff { old, new } => diff(&old, &new)?,
        PolicyCommand::Records { lang, format } => records(paths, &lang, &format).await?,
    }
    Ok(ExitCode::SUCCESS)
}

/// `mamori policy records`: the records of processing, decided and ledgered like the API's.
async fn records(paths: &Paths, lang: &str, format: &str) -> anyhow::Result<()> {
    let Some(language) = mamori_policy::Language::parse(lang) else {
        anyhow::bail!("--lang is en, ja or fr");
    };
    if !["md", "json", "csv"].contains(&format) {
        anyhow::bail!("--format is md, json or csv");
    }
    let ctx = Context::open(paths).await?;
    let r = (ctx.vault)
        .records_of_processing(&context::operator(), language)
        .await?;
    match format {
        "json" => println!("{}", serde_json::to_string_pretty(&r)?),
        "csv" => {
            let mut out = csv::Writer::from_writer(std::io::stdout());
            for row in mamori_policy::records::activity_rows(&r) {
                out.write_record(&row)?;
            }
            out.flush()?;
        }
        _ => print!("{}", mamori_policy::records::to_markdown(&r)),
    }
    Ok(())
}

fn check(file: &Path) -> anyhow::Result<ExitCode> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    match mamori_policy::Policy::parse(&file.display().to_string(), &text) {
        Ok(p) => {
            println!(
                "{}: ok ({} categories, {} purposes, {} roles)",
                file.display(),
                p.categories.len(),
                p.purposes.len(),
                p.roles.len()
            );
            for role in &p.roles {
                println!("  role {}: {}", role.name, who_acts(role));
            }
        }
        Err(e) => {
            eprintln!("{e}");
            return Ok(ExitCode::FAILURE);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// How people and API keys may act in a role: what require_mfa, require_training and machine
/// mean together.
fn who_acts(role: &mamori_policy::Role) -> String {
    let people = match (role.require_mfa, role.require_training) {
        (true, true) => {
            "people sign in with a second factor and act while their training is current"
        }
        (true, false) => "people sign in with a second factor",
        (false, true) => "people act while their training is current",
        (false, false) => "people sign in with a second factor (the console always asks for one)",
    };
    let keys = match (role.machine, role.key_refusal()) {
        (true, _) => "API keys act (declared for machines: no sensitive category is viewed)",
        (false, Some(_)) => "API keys are refused (they carry no second factor or training)",
        (false, None) => "API keys act",
    };
    format!("{people}; {keys}")
}

async fn publish(paths: &Paths) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&paths.policy)
        .with_context(|| format!("reading {}", paths.policy.display()))?;
    let ctx = Context::open(paths).await?;
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
    Ok(())
}

fn diff(old: &Path, new: &Path) -> anyhow::Result<()> {
    let old = context::load_policy(old)?;
    let new = context::load_policy(new)?;
    let changes = mamori_policy::diff::diff(&old, &new);
    if changes.is_empty() {
        println!("no changes that affect people's data");
    }
    for c in &changes {
        let mark = if c.widens { "widens " } else { "narrows" };
        println!("{mark}  {}", c.text());
    }
    if changes.iter().any(|c| c.widens) {
        println!("\nSome changes widen processing: people's earlier consent does not cover them.");
    }
    Ok(())
}
