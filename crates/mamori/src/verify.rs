//! `mamori ledger verify`: prints what [`mamori_core::ledger_verify`] found; exits non-zero
//! naming the first bad leaf. `mamori ledger rotate-key` and `mamori ledger keys`: the signing
//! keys over time.

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

/// `mamori ledger rotate-key`: a new signing key from now on (decided and ledgered).
pub async fn rotate_key(paths: &Paths) -> anyhow::Result<ExitCode> {
    let ctx = crate::context::Context::open(paths).await?;
    let id = ctx
        .vault
        .rotate_ledger_key(&crate::context::operator())
        .await?;
    ctx.vault.flush_ledger().await?;
    let grace = mamori_core::keys::ledger_keys::RETIREMENT_GRACE_MS / 60_000;
    println!("the ledger signs with key {id} from now on");
    println!(
        "the previous key's private half is gone; its heads stay valid, and a server running now signs with it for at most {grace} more minutes"
    );
    Ok(ExitCode::SUCCESS)
}

/// `mamori ledger keys`: every signing key, with when it signed (public halves only).
pub async fn keys(paths: &Paths) -> anyhow::Result<ExitCode> {
    let keyring = crate::context::keyring(paths)?;
    let when = |ms: i64| mamori_core::format_time(ms);
    for key in mamori_core::keys::ledger_keys::history(&keyring).keys() {
        let until = key.until_ms.map_or_else(|| "now".to_string(), when);
        let from = if key.from_ms == 0 {
            "the start".to_string()
        } else {
            when(key.from_ms)
        };
        println!(
            "{}  {}  from {from} until {until}",
            key.id,
            hex::encode(key.public.as_bytes())
        );
    }
    Ok(ExitCode::SUCCESS)
}
