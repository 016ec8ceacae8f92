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
}

/// An append-only Merkle tree kept in memory as every complete perfect subtree, level by level:
/// `levels[k][i]` is the hash of leaves `[i·2ᵏ, (i+1)·2ᵏ)`. Any root and any proof is then a few
/// lookups plus at most one hash per level for the ragged right edge.
#[derive(Debug, Clone, Default)]
pub struct MerkleTree {
    levels: Vec<Vec<Hash>>,
}

impl MerkleTree {
    pub fn new() -> Self {
        MerkleTree {
            levels: vec![Vec::new()],
        }
    }

    pub fn len(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn push_leaf_hash(&mut self, hash: Hash) {
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

    /// Forgets every leaf from `size` on (used to undo appends whose transaction failed).
    pub fn truncate(&mut self, size: u64) {
        for (k, level) in self.levels.iter_mut().enumerate() {
            level.truncate((size >> k) as usize);
        }
    }

    pub fn leaf(&self, index: u64) -> Option<Hash> {
        self.levels.first()?.get(index as usize).copied()
    }

    /// MTH(D[start:end]) for a range that the RFC's recursion produces.
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

    /// The root of the first `size` leaves.
    pub fn root(&self, size: u64) -> Result<Hash, ProofError> {
        match size {
            0 => Ok(EMPTY_ROOT),
            s if s <= self.len() => Ok(self.range_hash(0, s)),
            _ => Err(ProofError::OutOfRange),
        }
    }

    /// RFC 6962 §2.1.1 audit path for leaf `index` in the tree of the first `size` leaves.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, ProofError> {
        if index >= size || size > self.len() {
            return Err(ProofError::OutOfRange);
        }
        let mut proof = Vec::new();
        self.path(index, 0, size, &mut proof);
        Ok(proof)
    }

    fn path(&self, m: u64, start: u64, end: u64, out: &mut Vec<Hash>) {
        let n = end - start;
        if n == 1 {
            return;
        }
        let k = split_point(n);
        if m < k {
            self.path(m, start, start + k, out);
            out.push(self.range_hash(start + k, end));
        } else {
            self.path(m - k, start + k, end, out);
            out.push(self.range_hash(start, start + k));
        }
    }

    /// RFC 6962 §2.1.2 consistency proof between the trees of `first` and `second` leaves.
    pub fn consistency_proof(&self, first: u64, second: u64) -> Result<Vec<Hash>, ProofError> {
        if first == 0 || first > second || second > self.len() {
            return Err(ProofError::OutOfRange);
        }
        let mut proof = Vec::new();
        self.subproof(first, 0, second, true, &mut proof);
        Ok(proof)
    }

    fn subproof(&self, m: u64, start: u64, end: u64, complete: bool, out: &mut Vec<Hash>) {
        let n = end - start;
        if m == n {
            if !complete {
                out.push(self.range_hash(start, end));
            }
            return;
        }
        let k = split_point(n);
        if m <= k {
            self.subproof(m, start, start + k, complete, out);
            out.push(self.range_hash(start + k, end));
        } else {
            self.subproof(m - k, start + k, end, false, out);
            out.push(self.range_hash(start, start + k));
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

    fn tree(n: u64) -> (MerkleTree, Vec<Hash>) {
        let mut t = MerkleTree::new();
        let leaves: Vec<Hash> = (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        for l in &leaves {
            t.push_leaf_hash(*l);
        }
        (t, leaves)
    }

    #[test]
    fn empty_root_is_sha256_of_nothing() {
        assert_eq!(EMPTY_ROOT, <[u8; 32]>::from(Sha256::digest(b"")));
    }

    proptest! {
        #[test]
        fn roots_match_the_rfc_definition(n in 1u64..300) {
            let (t, leaves) = tree(n);
            for size in 0..=n {
                prop_assert_eq!(t.root(size).unwrap(), mth(&leaves[..size as usize]));
            }
        }

        #[test]
        fn every_inclusion_proof_verifies(n in 1u64..200, seed in any::<u64>()) {
            let (t, leaves) = tree(n);
            let size = 1 + seed % n;
            let index = (seed / 7) % size;
            let proof = t.inclusion_proof(index, size).unwrap();
            let root = t.root(size).unwrap();
            prop_assert!(verify_inclusion(index, size, &leaves[index as usize], &proof, &root).is_ok());
            let wrong = (index + 1) % size;
            if wrong != index {
                prop_assert!(verify_inclusion(wrong, size, &leaves[index as usize], &proof, &root).is_err());
            }
        }

        #[test]
        fn every_consistency_proof_verifies(n in 2u64..200, seed in any::<u64>()) {
            let (t, _) = tree(n);
            let second = 1 + seed % n;
            let first = 1 + (seed / 13) % second;
            let proof = t.consistency_proof(first, second).unwrap();
            let (r1, r2) = (t.root(first).unwrap(), t.root(second).unwrap());
            prop_assert!(verify_consistency(first, second, &r1, &r2, &proof).is_ok());
            if first < second {
                let mut bad = proof.clone();
                bad[0][0] ^= 1;
                prop_assert!(verify_consistency(first, second, &r1, &r2, &bad).is_err());
            }
        }
    }

    #[test]
    fn truncate_undoes_appends() {
        let (mut t, leaves) = tree(37);
        let before = t.root(20).unwrap();
        t.truncate(20);
        assert_eq!(t.len(), 20);
        assert_eq!(t.root(20).unwrap(), before);
        for l in &leaves[20..] {
            t.push_leaf_hash(*l);
        }
        assert_eq!(t.root(37).unwrap(), mth(&leaves));
    }
}
