//! RFC 6962 Merkle tree hashing, proofs and proof verification (verification as in RFC 9162 §2.1).

use sha2::{Digest, Sha256};

pub type Hash = [u8; 32];

/// SHA-256 of the empty string: the root of the empty tree.
pub const EMPTY_ROOT: Hash = [
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
    0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
];

pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(data);
    h.finalize().into()
}

pub fn node_hash(left: &[u8], right: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The largest power of two strictly smaller than `n` (n ≥ 2).
fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1u64 << (63 - (n - 1).leading_zeros())
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("index or size out of range for this tree")]
    OutOfRange,
    #[error("proof does not verify")]
    Invalid,
    /// The tree keeps only block roots in memory: read the leaf hashes of this block
    /// ([`MerkleTree::block_range`]) from storage, check them with [`MerkleTree::check_block`]
    /// and try again with them in [`Blocks`].
    #[error("the leaf hashes of block {0} must be read from storage first")]
    LeavesNeeded(u64),
    /// Leaf hashes read back for a block do not hash to the root the tree holds for it.
    #[error("the stored leaves of block {0} do not match the tree")]
    BlockMismatch(u64),
}

/// Every complete perfect subtree of a list of hashes, level by level: `levels[k][i]` is the hash
/// of items `[i·2ᵏ, (i+1)·2ᵏ)`. Any root and any proof is then a few lookups plus at most one hash
/// per level for the ragged right edge.
#[derive(Debug, Clone, Default)]
struct Levels {
    levels: Vec<Vec<Hash>>,
}

impl Levels {
    fn len(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }

    fn push(&mut self, hash: Hash) {
        if self.levels.is_empty() {
            self.levels.push(Vec::new());
        }
        self.levels[0].push(hash);
        let mut level = 0;
        while self.levels[level].len().is_multiple_of(2) {
            let n = self.levels[level].len();
            let parent = node_hash(&self.levels[level][n - 2], &self.levels[level][n - 1]);
            if self.levels.len() == level + 1 {
                self.levels.push(Vec::new());
            }
            self.levels[level + 1].push(parent);
            level += 1;
        }
    }

    fn truncate(&mut self, len: u64) {
        for (k, level) in self.levels.iter_mut().enumerate() {
            level.truncate((len >> k) as usize);
        }
    }

    fn clear(&mut self) {
        self.levels.iter_mut().for_each(Vec::clear);
    }

    fn item(&self, index: u64) -> Option<Hash> {
        self.levels.first()?.get(index as usize).copied()
    }

    /// MTH of items `[start, end)` for a range that the RFC's recursion produces.
    fn range_hash(&self, start: u64, end: u64) -> Hash {
        let n = end - start;
        if n.is_power_of_two() && start.is_multiple_of(n) {
            let k = n.trailing_zeros() as usize;
            return self.levels[k][(start >> k) as usize];
        }
        let k = split_point(n);
        node_hash(
            &self.range_hash(start, start + k),
            &self.range_hash(start + k, end),
        )
    }
}

/// Leaves per block of the ledger's tree, as a power of two: 256 leaves (8 KiB of hashes to
/// read back for a proof) per 32 bytes kept in memory.
pub const DEFAULT_BLOCK_BITS: u32 = 8;

/// An append-only RFC 6962 Merkle tree whose memory does not grow with every leaf.
///
/// Leaves are grouped in aligned blocks of 2ᵇ. In memory are the roots of the complete blocks
/// (with every subtree above them) and the leaves of the one open block — so appending and the
/// current root never touch storage, and a ledger of a billion events needs 250 MB, not 64 GB.
/// A proof or a past root that reaches inside a complete block answers
/// [`ProofError::LeavesNeeded`]; the caller reads that block's leaf hashes from storage, checks
/// them against the block root ([`MerkleTree::check_block`]) and tries again.
#[derive(Debug, Clone)]
pub struct MerkleTree {
    block_bits: u32,
    /// One item per complete block: its root.
    blocks: Levels,
    /// The leaves of the open block (fewer than 2ᵇ).
    open: Levels,
}

impl Default for MerkleTree {
    fn default() -> Self {
        MerkleTree::new()
    }
}

/// Leaf hashes of complete blocks read back from storage for one root or proof.
#[derive(Debug, Default)]
pub struct Blocks(std::collections::HashMap<u64, Levels>);

/// The leaves of one complete block, checked against the tree's root for it.
#[derive(Debug)]
pub struct CheckedBlock {
    block: u64,
    leaves: Levels,
}

impl Blocks {
    pub fn insert(&mut self, checked: CheckedBlock) {
        self.0.insert(checked.block, checked.leaves);
    }
}

/// Where the tree stood before some appends, to undo them ([`MerkleTree::rollback`]).
#[derive(Debug)]
pub struct Mark {
    len: u64,
    open: Levels,
}

impl MerkleTree {
    pub fn new() -> Self {
        MerkleTree::with_block_bits(DEFAULT_BLOCK_BITS)
    }

    /// A tree with blocks of 2^`bits` leaves; 0 keeps every leaf in memory (never asks for any).
    pub fn with_block_bits(bits: u32) -> Self {
        assert!(bits <= 24, "blocks of at most 2^24 leaves");
        MerkleTree {
            block_bits: bits,
            blocks: Levels::default(),
            open: Levels::default(),
        }
    }

    fn block_size(&self) -> u64 {
        1 << self.block_bits
    }

    pub fn len(&self) -> u64 {
        (self.blocks.len() << self.block_bits) + self.open.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn push_leaf_hash(&mut self, hash: Hash) {
        self.open.push(hash);
        if self.open.len() == self.block_size() {
            let root = self.open.range_hash(0, self.block_size());
            self.blocks.push(root);
            self.open.clear();
        }
    }

    /// Remembers where the tree stands, to undo the appends that follow (a failed transaction).
    pub fn mark(&self) -> Mark {
        Mark {
            len: self.len(),
            open: self.open.clone(),
        }
    }

    /// Forgets every leaf appended since `mark`.
    pub fn rollback(&mut self, mark: Mark) {
        self.blocks.truncate(mark.len >> self.block_bits);
        self.open = mark.open;
    }

    /// The leaves of `block`, to read from storage when a proof asks for them.
    pub fn block_range(&self, block: u64) -> std::ops::Range<u64> {
        let start = block << self.block_bits;
        start..start + self.block_size()
    }

    /// Accepts the leaf hashes read back for a complete `block` if they hash to its root.
    pub fn check_block(&self, block: u64, leaves: &[Hash]) -> Result<CheckedBlock, ProofError> {
        let root = self.blocks.item(block).ok_or(ProofError::OutOfRange)?;
        let mut checked = Levels::default();
        leaves.iter().for_each(|l| checked.push(*l));
        if checked.len() != self.block_size() || checked.range_hash(0, checked.len()) != root {
            return Err(ProofError::BlockMismatch(block));
        }
        Ok(CheckedBlock {
            block,
            leaves: checked,
        })
    }

    /// The leaves of `block`: the open block's are in memory, others must be in `fetched`.
    fn block_leaves<'a>(
        &'a self,
        block: u64,
        fetched: &'a Blocks,
    ) -> Result<&'a Levels, ProofError> {
        if block == self.blocks.len() {
            return Ok(&self.open);
        }
        fetched.0.get(&block).ok_or(ProofError::LeavesNeeded(block))
    }

    pub fn leaf(&self, index: u64, fetched: &Blocks) -> Result<Hash, ProofError> {
        if index >= self.len() {
            return Err(ProofError::OutOfRange);
        }
        let block = index >> self.block_bits;
        let offset = index - (block << self.block_bits);
        self.block_leaves(block, fetched)?
            .item(offset)
            .ok_or(ProofError::OutOfRange)
    }

    /// MTH(D[start:end]) for a range that the RFC's recursion produces.
    fn range_hash(&self, start: u64, end: u64, fetched: &Blocks) -> Result<Hash, ProofError> {
        let n = end - start;
        let bits = self.block_bits;
        if n >= self.block_size() && n.is_power_of_two() && start.is_multiple_of(n) {
            return Ok(self.blocks.range_hash(start >> bits, end >> bits));
        }
        let block = start >> bits;
        if (end - 1) >> bits == block {
            let offset = block << bits;
            let leaves = self.block_leaves(block, fetched)?;
            return Ok(leaves.range_hash(start - offset, end - offset));
        }
        let k = split_point(n);
        Ok(node_hash(
            &self.range_hash(start, start + k, fetched)?,
            &self.range_hash(start + k, end, fetched)?,
        ))
    }

    /// The root of the first `size` leaves.
    pub fn root(&self, size: u64, fetched: &Blocks) -> Result<Hash, ProofError> {
        match size {
            0 => Ok(EMPTY_ROOT),
            s if s <= self.len() => self.range_hash(0, s, fetched),
            _ => Err(ProofError::OutOfRange),
        }
    }

    /// RFC 6962 §2.1.1 audit path for leaf `index` in the tree of the first `size` leaves.
    pub fn inclusion_proof(
        &self,
        index: u64,
        size: u64,
        fetched: &Blocks,
    ) -> Result<Vec<Hash>, ProofError> {
        if index >= size || size > self.len() {
            return Err(ProofError::OutOfRange);
        }
        let mut proof = Vec::new();
        self.path(index, 0, size, fetched, &mut proof)?;
        Ok(proof)
    }

    fn path(
        &self,
        m: u64,
        start: u64,
        end: u64,
        fetched: &Blocks,
        out: &mut Vec<Hash>,
    ) -> Result<(), ProofError> {
        let n = end - start;
        if n == 1 {
            return Ok(());
        }
        let k = split_point(n);
        if m < k {
            self.path(m, start, start + k, fetched, out)?;
            out.push(self.range_hash(start + k, end, fetched)?);
        } else {
            self.path(m - k, start + k, end, fetched, out)?;
            out.push(self.range_hash(start, start + k, fetched)?);
        }
        Ok(())
    }

    /// RFC 6962 §2.1.2 consistency proof between the trees of `first` and `second` leaves.
    pub fn consistency_proof(
        &self,
        first: u64,
        second: u64,
        fetched: &Blocks,
    ) -> Result<Vec<Hash>, ProofError> {
        if first == 0 || first > second || second > self.len() {
            return Err(ProofError::OutOfRange);
        }
        let mut proof = Vec::new();
        self.subproof(first, 0, second, true, fetched, &mut proof)?;
        Ok(proof)
    }

    fn subproof(
        &self,
        m: u64,
        start: u64,
        end: u64,
        complete: bool,
        fetched: &Blocks,
        out: &mut Vec<Hash>,
    ) -> Result<(), ProofError> {
        let n = end - start;
        if m == n {
            if !complete {
                out.push(self.range_hash(start, end, fetched)?);
            }
            return Ok(());
        }
        let k = split_point(n);
        if m <= k {
            self.subproof(m, start, start + k, complete, fetched, out)?;
            out.push(self.range_hash(start + k, end, fetched)?);
        } else {
            self.subproof(m - k, start + k, end, false, fetched, out)?;
            out.push(self.range_hash(start, start + k, fetched)?);
        }
        Ok(())
    }

    /// Runs `attempt`, reading through `read` (a range of leaf indexes → their hashes) every
    /// block it asks for; for callers whose storage answers synchronously.
    pub fn resolve<T>(
        &self,
        attempt: impl Fn(&MerkleTree, &Blocks) -> Result<T, ProofError>,
        mut read: impl FnMut(std::ops::Range<u64>) -> Vec<Hash>,
    ) -> Result<T, ProofError> {
        let mut fetched = Blocks::default();
        loop {
            match attempt(self, &fetched) {
                Err(ProofError::LeavesNeeded(block)) => {
                    let leaves = read(self.block_range(block));
                    fetched.insert(self.check_block(block, &leaves)?);
                }
                answer => return answer,
            }
        }
    }
}

/// RFC 9162 §2.1.3.2: does `proof` show that `leaf` is at `index` in the tree with `root`?
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf: &[u8],
    proof: &[impl AsRef<[u8]>],
    root: &[u8],
) -> Result<(), ProofError> {
    if index >= size || leaf.len() != 32 || root.len() != 32 {
        return Err(ProofError::Invalid);
    }
    let (mut f, mut s) = (index, size - 1);
    let mut r: Hash = leaf.try_into().map_err(|_| ProofError::Invalid)?;
    for p in proof {
        let p = p.as_ref();
        if s == 0 || p.len() != 32 {
            return Err(ProofError::Invalid);
        }
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    if s == 0 && r.as_slice() == root {
        Ok(())
    } else {
        Err(ProofError::Invalid)
    }
}

/// RFC 9162 §2.1.4.2: does `proof` show that the tree (`second`, `root2`) extends (`first`, `root1`)?
/// A proof from the empty tree proves nothing and is refused.
pub fn verify_consistency(
    first: u64,
    second: u64,
    root1: &[u8],
    root2: &[u8],
    proof: &[impl AsRef<[u8]>],
) -> Result<(), ProofError> {
    if first > second {
        return Err(ProofError::Invalid);
    }
    if first == second {
        let empty_ok = first != 0 || root1 == EMPTY_ROOT.as_slice();
        return if proof.is_empty() && root1 == root2 && empty_ok {
            Ok(())
        } else {
            Err(ProofError::Invalid)
        };
    }
    if first == 0 || proof.is_empty() || root1.len() != 32 || root2.len() != 32 {
        return Err(ProofError::Invalid);
    }
    let mut nodes: Vec<&[u8]> = Vec::with_capacity(proof.len() + 1);
    if first.is_power_of_two() {
        nodes.push(root1);
    }
    nodes.extend(proof.iter().map(|p| p.as_ref()));
    if nodes.iter().any(|n| n.len() != 32) {
        return Err(ProofError::Invalid);
    }
    let (mut f, mut s) = (first - 1, second - 1);
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let mut fr: Hash = nodes[0].try_into().map_err(|_| ProofError::Invalid)?;
    let mut sr = fr;
    for c in &nodes[1..] {
        if s == 0 {
            return Err(ProofError::Invalid);
        }
        if f & 1 == 1 || f == s {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    if fr.as_slice() == root1 && sr.as_slice() == root2 && s == 0 {
        Ok(())
    } else {
        Err(ProofError::Invalid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The reference definition of MTH straight from RFC 6962, to check the level-cached tree against.
    fn mth(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => EMPTY_ROOT,
            1 => leaves[0],
            n => {
                let k = split_point(n as u64) as usize;
                node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
            }
        }
    }

    fn tree(n: u64, bits: u32) -> (MerkleTree, Vec<Hash>) {
        let mut t = MerkleTree::with_block_bits(bits);
        let leaves: Vec<Hash> = (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        for l in &leaves {
            t.push_leaf_hash(*l);
        }
        (t, leaves)
    }

    /// Runs `attempt` the way the ledger does, reading blocks from `leaves` as from storage.
    fn with_storage<T>(
        t: &MerkleTree,
        leaves: &[Hash],
        attempt: impl Fn(&MerkleTree, &Blocks) -> Result<T, ProofError>,
    ) -> Result<T, ProofError> {
        t.resolve(attempt, |range| {
            leaves[range.start as usize..(range.end as usize).min(leaves.len())].to_vec()
        })
    }

    #[test]
    fn empty_root_is_sha256_of_nothing() {
        assert_eq!(EMPTY_ROOT, <[u8; 32]>::from(Sha256::digest(b"")));
    }

    proptest! {
        #[test]
        fn roots_match_the_rfc_definition(n in 1u64..300, bits in 0u32..4) {
            let (t, leaves) = tree(n, bits);
            for size in 0..=n {
                let root = with_storage(&t, &leaves, |t, b| t.root(size, b)).unwrap();
                prop_assert_eq!(root, mth(&leaves[..size as usize]));
            }
        }

        #[test]
        fn every_inclusion_proof_verifies(n in 1u64..200, seed in any::<u64>(), bits in 0u32..4) {
            let (t, leaves) = tree(n, bits);
            let size = 1 + seed % n;
            let index = (seed / 7) % size;
            let proof = with_storage(&t, &leaves, |t, b| t.inclusion_proof(index, size, b)).unwrap();
            let root = with_storage(&t, &leaves, |t, b| t.root(size, b)).unwrap();
            let leaf = with_storage(&t, &leaves, |t, b| t.leaf(index, b)).unwrap();
            prop_assert_eq!(leaf, leaves[index as usize]);
            prop_assert!(verify_inclusion(index, size, &leaf, &proof, &root).is_ok());
            // Blocks change where the hashes come from, never the proof.
            let (all_in_memory, _) = tree(n, 0);
            prop_assert_eq!(&proof, &all_in_memory.inclusion_proof(index, size, &Blocks::default()).unwrap());
            let wrong = (index + 1) % size;
            if wrong != index {
                prop_assert!(verify_inclusion(wrong, size, &leaf, &proof, &root).is_err());
            }
        }

        #[test]
        fn every_consistency_proof_verifies(n in 2u64..200, seed in any::<u64>(), bits in 0u32..4) {
            let (t, leaves) = tree(n, bits);
            let second = 1 + seed % n;
            let first = 1 + (seed / 13) % second;
            let proof = with_storage(&t, &leaves, |t, b| t.consistency_proof(first, second, b)).unwrap();
            let r1 = with_storage(&t, &leaves, |t, b| t.root(first, b)).unwrap();
            let r2 = with_storage(&t, &leaves, |t, b| t.root(second, b)).unwrap();
            prop_assert!(verify_consistency(first, second, &r1, &r2, &proof).is_ok());
            let (all_in_memory, _) = tree(n, 0);
            prop_assert_eq!(&proof, &all_in_memory.consistency_proof(first, second, &Blocks::default()).unwrap());
            if first < second {
                let mut bad = proof.clone();
                bad[0][0] ^= 1;
                prop_assert!(verify_consistency(first, second, &r1, &r2, &bad).is_err());
            }
        }
    }

    #[test]
    fn only_the_open_block_and_block_roots_stay_in_memory() {
        let (t, leaves) = tree(1000, 4);
        // The current root needs no storage: the open block (leaves 992..1000) is in memory.
        assert_eq!(t.root(1000, &Blocks::default()).unwrap(), mth(&leaves));
        // A proof for an early leaf asks for its block, and for nothing else it can avoid.
        assert_eq!(
            t.inclusion_proof(17, 1000, &Blocks::default()),
            Err(ProofError::LeavesNeeded(1))
        );
        let mut fetched = Blocks::default();
        fetched.insert(t.check_block(1, &leaves[16..32]).unwrap());
        assert!(t.inclusion_proof(17, 1000, &fetched).is_ok());
        assert_eq!(t.blocks.len(), 62);
        assert_eq!(t.open.len(), 8);
    }

    #[test]
    fn blocks_read_back_must_match_the_tree() {
        let (t, leaves) = tree(100, 4);
        let mut altered = leaves[16..32].to_vec();
        altered[3][0] ^= 1;
        assert_eq!(
            t.check_block(1, &altered).unwrap_err(),
            ProofError::BlockMismatch(1)
        );
        assert_eq!(
            t.check_block(1, &leaves[16..31]).unwrap_err(),
            ProofError::BlockMismatch(1)
        );
        assert_eq!(
            t.check_block(1, &leaves[0..16]).unwrap_err(),
            ProofError::BlockMismatch(1)
        );
        // The open block is never read back.
        assert_eq!(
            t.check_block(6, &leaves[96..100]).unwrap_err(),
            ProofError::OutOfRange
        );
    }

    #[test]
    fn rollback_undoes_appends_across_a_block_boundary() {
        let (mut t, leaves) = tree(37, 3);
        let mark = t.mark();
        let before = t.root(37, &Blocks::default()).unwrap();
        for i in 0..20u64 {
            t.push_leaf_hash(leaf_hash(&(1000 + i).to_be_bytes()));
        }
        t.rollback(mark);
        assert_eq!(t.len(), 37);
        assert_eq!(t.root(37, &Blocks::default()).unwrap(), before);
        let mut all = leaves.clone();
        for i in 37..50u64 {
            let l = leaf_hash(&i.to_be_bytes());
            all.push(l);
            t.push_leaf_hash(l);
        }
        assert_eq!(
            with_storage(&t, &all, |t, b| t.root(50, b)).unwrap(),
            mth(&all)
        );
    }
}
