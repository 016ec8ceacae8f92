//! `mamori ledger verify`: recompute every leaf hash and the tree from stored event data, and
//! check every signed tree head against it. Exits non-zero naming the first bad leaf.

use std::process::ExitCode;
use std::time::Instant;

use mamori_ledger::{Event, HeadSigner, MerkleTree, leaf_hash, verify_head};

use crate::context::StoreContext;

pub async fn run(ctx: &StoreContext) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let public = HeadSigner::from_seed(&ctx.keyring.ledger_signing_seed()).public_key();
    let heads = ctx.store.heads().await?;
    let mut tree = MerkleTree::new();
    loop {
        let leaves = ctx.store.leaves(tree.len(), 50_000).await?;
        if leaves.is_empty() {
            break;
        }
        for leaf in leaves {
            if leaf.index != tree.len() {
                eprintln!("ledger verify: FAILED: leaf {} is missing", tree.len());
                return Ok(ExitCode::FAILURE);
            }
            let hash = leaf_hash(&leaf.data);
            if hash != leaf.hash || Event::from_leaf_data(&leaf.data).is_err() {
                eprintln!(
                    "ledger verify: FAILED: leaf {} was altered (its stored data no longer matches its hash)",
                    leaf.index
                );
                return Ok(ExitCode::FAILURE);
            }
            tree.push_leaf_hash(hash);
        }
    }
    for sth in &heads {
        if !verify_head(&public, sth) {
            eprintln!(
                "ledger verify: FAILED: the signature of the tree head at size {} is invalid",
                sth.head.size
            );
            return Ok(ExitCode::FAILURE);
        }
        if tree.root(sth.head.size).ok() != Some(sth.head.root) {
            let from = heads
                .iter()
                .map(|h| h.head.size)
                .filter(|s| *s < sth.head.size)
                .max()
                .unwrap_or(0);
            eprintln!(
                "ledger verify: FAILED: leaves {from}..{} do not match the signed tree head at size {} (first bad leaf is in that range)",
                sth.head.size, sth.head.size
            );
            return Ok(ExitCode::FAILURE);
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "ledger verify: ok — {} leaves, {} signed heads checked in {:.2}s ({:.0} leaves/s)",
        tree.len(),
        heads.len(),
        elapsed,
        tree.len() as f64 / elapsed.max(1e-9)
    );
    Ok(ExitCode::SUCCESS)
}
