//! Verifying the ledger from its stored data alone (`mamori ledger verify`): recompute every
//! leaf hash and the tree, and check every signed tree head — the database's own and a
//! witness's copy — against it. The answer names the first bad leaf or range.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use mamori_crypto::Keyring;
use mamori_ledger::{Blocks, MerkleTree, SignedTreeHead, leaf_hash};
use mamori_store::Store;

use crate::access::Permission;
use crate::error::Result;
use crate::vault::{Actor, Vault};
use mamori_policy::AdminPermission;

/// What a full verification found.
pub enum Verdict {
    Ok {
        leaves: u64,
        heads: usize,
        seconds: f64,
    },
    Failed(String),
}

/// Opens the database at `database_url` (without starting a writer) and checks it; `witnessed`
/// are heads kept outside the database.
pub async fn verify_database(
    database_url: &str,
    keyring: &Keyring,
    witnessed: Vec<SignedTreeHead>,
) -> Result<Verdict> {
    let store: Arc<dyn Store> = Arc::from(mamori_store::open(database_url).await?);
    check_with(store, keyring, witnessed, &AtomicU64::new(0)).await
}

impl Vault {
    /// Verifies the whole ledger now, as `mamori ledger verify` does, counting the leaves
    /// checked into `progress` as it goes. For `admin = ["audit"]`; decided and ledgered
    /// (`ledger.verify`). The verdict names leaves and sizes only.
    pub async fn verify_ledger_now(&self, actor: &Actor, progress: &AtomicU64) -> Result<Verdict> {
        let permission = Permission::Admin(AdminPermission::Audit);
        self.grant_and_ledger(actor, permission, "ledger.verify")
            .await?;
        check_with(self.store.clone(), &self.keyring, vec![], progress).await
    }
}

/// Rebuilds the tree from every stored leaf's data and checks each signed head against it, at
/// the moment the rebuilt tree reaches the head's size (so only the open block's leaves are
/// needed for its root, and memory stays flat however long the ledger).
///
/// Heads kept outside the database (a witness's copy) are checked the same way:
/// each must be signed by this ledger and match the stored tree at its size, so a ledger cut
/// short, with its own heads deleted, fails on the first witnessed head beyond its end.
async fn check_with(
    store: Arc<dyn Store>,
    keyring: &Keyring,
    witnessed: Vec<SignedTreeHead>,
    progress: &AtomicU64,
) -> Result<Verdict> {
    let started = Instant::now();
    let public = crate::keys::ledger_keys::history(keyring);
    let mut heads = store.heads().await?;
    let witnessed_sizes: HashSet<u64> = witnessed.iter().map(|h| h.head.size).collect();
    heads.extend(witnessed);
    heads.sort_by_key(|h| h.head.size);
    heads.dedup_by(|a, b| a.head.size == b.head.size && a.head.root == b.head.root);
    let mut tree = MerkleTree::new();
    let mut checked = 0;
    let check_heads_at = |tree: &MerkleTree, checked: &mut usize| -> Option<String> {
        while let Some(sth) = heads.get(*checked).filter(|h| h.head.size <= tree.len()) {
            if let Some(why) = head_problem(&public, sth, tree, &heads[..*checked]) {
                return Some(why);
            }
            *checked += 1;
        }
        None
    };
    if let Some(why) = check_heads_at(&tree, &mut checked) {
        return Ok(Verdict::Failed(why));
    }
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
            progress.store(tree.len(), Ordering::Relaxed);
            if let Some(why) = check_heads_at(&tree, &mut checked) {
                return Ok(Verdict::Failed(why));
            }
        }
    }
    // Heads beyond the last stored leaf: leaves they signed are gone. The largest genuine
    // witnessed head names the whole missing range (the file may hold several beyond the cut).
    if let Some(sth) = heads.get(checked) {
        let largest = heads[checked..]
            .iter()
            .rev()
            .find(|h| witnessed_sizes.contains(&h.head.size) && public.verify(h).is_ok());
        if let Some(largest) = largest {
            let size = largest.head.size;
            return Ok(Verdict::Failed(format!(
                "leaves {}..{size} are missing: the witnessed head at size {size} signed them (the ledger was cut short)",
                tree.len()
            )));
        }
        return Ok(Verdict::Failed(
            head_problem(&public, sth, &tree, &heads[..checked]).unwrap_or_default(),
        ));
    }
    Ok(Verdict::Ok {
        leaves: tree.len(),
        heads: heads.len(),
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// What is wrong with `sth` given the tree rebuilt so far (`None` if nothing); `earlier` are the
/// heads already checked, to name the range the first bad leaf is in.
fn head_problem(
    public: &mamori_ledger::KeyHistory,
    sth: &mamori_ledger::SignedTreeHead,
    tree: &MerkleTree,
    earlier: &[mamori_ledger::SignedTreeHead],
) -> Option<String> {
    if let Err(problem) = public.verify(sth) {
        return Some(format!(
            "the signature of the tree head at size {} is invalid: {problem}",
            sth.head.size
        ));
    }
    let size = sth.head.size;
    let root = (size == tree.len()).then(|| tree.root(size, &Blocks::default()).ok());
    if root.flatten() == Some(sth.head.root) {
        return None;
    }
    let from = earlier.last().map_or(0, |h| h.head.size);
    Some(format!(
        "leaves {from}..{size} do not match the signed tree head at size {size} (first bad leaf is in that range)"
    ))
}
