//! `mamori ledger verify`: recompute every leaf hash and the tree from stored event data, and
//! check every signed tree head against it. Exits non-zero naming the first bad leaf.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use mamori_crypto::Keyring;
use mamori_ledger::{HeadSigner, MerkleTree, leaf_hash, verify_head};
use mamori_store::Store;

use crate::context::StoreContext;

/// What a full verification found.
pub enum Verdict {
    Ok {
        leaves: u64,
        heads: usize,
        seconds: f64,
    },
    Failed(String),
}

pub async fn run(ctx: &StoreContext) -> anyhow::Result<ExitCode> {
    match check(ctx.store.clone(), &ctx.keyring).await? {
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

/// Rebuilds the tree from every stored leaf's data and checks each signed head against it.
pub async fn check(store: Arc<dyn Store>, keyring: &Keyring) -> anyhow::Result<Verdict> {
    let started = Instant::now();
    let public = HeadSigner::from_seed(&keyring.ledger_signing_seed()).public_key();
    let heads = store.heads().await?;
    let mut tree = MerkleTree::new();
    // The store streams pages on its own thread while this one hashes them.
    let mut pages = store.stream_leaves(0);
    while let Some(page) = pages.recv().await {
        for leaf in page? {
            if leaf.index != tree.len() {
                return Ok(Verdict::Failed(format!("leaf {} is missing", tree.len())));
            }
            let computed = leaf_hash(&leaf.data);
            if computed != leaf.hash {
                return Ok(Verdict::Failed(format!(
                    "leaf {} was altered (its stored data no longer matches its hash)",
                    leaf.index
                )));
            }
            tree.push_leaf_hash(computed);
        }
    }
    for sth in &heads {
        if !verify_head(&public, sth) {
            return Ok(Verdict::Failed(format!(
                "the signature of the tree head at size {} is invalid",
                sth.head.size
            )));
        }
        if tree.root(sth.head.size).ok() != Some(sth.head.root) {
            let from = heads
                .iter()
                .map(|h| h.head.size)
                .filter(|s| *s < sth.head.size)
                .max()
                .unwrap_or(0);
            return Ok(Verdict::Failed(format!(
                "leaves {from}..{} do not match the signed tree head at size {} (first bad leaf is in that range)",
                sth.head.size, sth.head.size
            )));
        }
    }
    Ok(Verdict::Ok {
        leaves: tree.len(),
        heads: heads.len(),
        seconds: started.elapsed().as_secs_f64(),
    })
}
