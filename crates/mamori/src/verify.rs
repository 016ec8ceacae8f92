//! `mamori ledger verify`: prints what [`mamori_core::ledger_verify`] found; exits non-zero
//! naming the first bad leaf.

use std::process::ExitCode;

use mamori_core::ledger_verify::{Verdict, verify_database};

use crate::context::Paths;

pub async fn run(paths: &Paths, witness: Option<&std::path::Path>) -> anyhow::Result<ExitCode> {
    let witnessed = match witness {
        Some(path) => {
            let heads = mamori_core::anchor::read_heads(path)
                .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
            if heads.is_empty() {
                anyhow::bail!("{} holds no signed tree heads", path.display());
            }
            heads
        }
        None => vec![],
    };
    let keyring = crate::context::keyring(paths)?;
    match verify_database(&paths.database, &keyring, witnessed).await? {
        Verdict::Ok {
            leaves,
            heads,
            seconds,
        } => {
            println!(
                "ledger verify: ok — {leaves} leaves, {heads} signed heads checked in {seconds:.2}s ({:.0} leaves/s)",
                leaves as f64 / seconds.max(1e-9)
            );
            Ok(ExitCode::SUCCESS)
        }
        Verdict::Failed(why) => {
            eprintln!("ledger verify: FAILED: {why}");
            Ok(ExitCode::FAILURE)
        }
    }
}
