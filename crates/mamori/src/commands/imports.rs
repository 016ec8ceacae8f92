//! `mamori import --file F --purpose P` (people) and `mamori import consents --file F`.

use super::*;

pub(super) async fn consents(
    paths: &Paths,
    file: &Path,
    role: &str,
    rejects: Option<PathBuf>,
) -> anyhow::Result<()> {
    let ctx = Context::open(paths).await?;
    let s = import::run_consents(&ctx.vault, file, role, rejects).await?;
    println!(
        "imported {} consent records, rejected {} rows",
        s.imported, s.rejected
    );
    Ok(())
}

pub(super) async fn people(
    paths: &Paths,
    file: Option<PathBuf>,
    purpose: Option<String>,
    role: String,
    batch: usize,
    rejects: Option<PathBuf>,
) -> anyhow::Result<()> {
    let (Some(file), Some(purpose)) = (file, purpose) else {
        anyhow::bail!(
            "give --file F.csv|F.jsonl and --purpose P (or `mamori import consents --file F.csv`)"
        );
    };
    let ctx = Context::open(paths).await?;
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
    Ok(())
}
