//! RFC 6962 / RFC 9162 Merkle tree over a log kept as "tlog-style" stored hashes.
//!
//! The ledger never rebuilds its tree. For every complete, aligned subtree it stores
//! the subtree's hash once, at `(level, index)`: level 0 index `i` is the leaf hash of
//! leaf `i`, and `(L, k)` is the hash of leaves `[k·2^L, (k+1)·2^L)`. Appending a leaf
//! adds its leaf hash plus one node for every subtree the leaf completes — about two
//! rows per leaf on average ([`hashes_to_store`]).
//!
//! Every other hash — the root of any earlier tree size, the siblings on an inclusion
//! path, the nodes of a consistency proof — is the RFC 6962 Merkle Tree Hash (MTH) of
//! some range of leaves, and for the ranges that occur in an RFC tree that range splits
//! into at most ~log₂ n stored subtrees ([`subtree_hash`]). So a root costs at most
//! `popcount(size)` reads and a proof at most ~2·log₂ n; nothing ever scans the log.
//!
//! Proofs are checked by the free functions [`verify_inclusion`] and
//! [`verify_consistency`], which need no store: they are the algorithms of RFC 9162
//! §2.1.3.2 and §2.1.4.2, so a third party can check the ledger with any RFC 9162
//! implementation, and this one can check proofs from elsewhere.
//!
//! ```
//! use consent_core::merkle::{inclusion_proof, leaf_hash, verify_inclusion, MemoryTree};
//!
//! let mut tree = MemoryTree::new();
//! for i in 0..5 {
//!     tree.push(format!("event {i}").as_bytes());
//! }
//! let root = tree.root();
//!
//! // The store of a MemoryTree cannot fail, so the outer Result is always Ok.
//! let Ok(proof) = inclusion_proof(3, 5, &mut tree);
//! let proof = proof.expect("3 < 5");
//! assert!(verify_inclusion(3, 5, &leaf_hash(b"event 3"), &proof, &root).is_ok());
//! assert!(verify_inclusion(3, 5, &leaf_hash(b"event 4"), &proof, &root).is_err());
//! ```

use std::convert::Infallible;

use sha2::{Digest, Sha256};

/// A SHA-256 hash.
pub type Hash = [u8; 32];

/// Domain-separation prefix of leaf hashes (RFC 6962 §2.1), so that no leaf can pass
/// for an interior node and vice versa (second-preimage protection).
const LEAF_PREFIX: u8 = 0x00;
/// Domain-separation prefix of interior node hashes (RFC 6962 §2.1).
const NODE_PREFIX: u8 = 0x01;

/// Leaf hash of an entry: `SHA-256(0x00 || data)`.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([LEAF_PREFIX]);
    h.update(data);
    h.finalize().into()
}

/// Interior node hash: `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([NODE_PREFIX]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// Root of the empty tree: SHA-256 of the empty string (RFC 6962 §2.1).
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// The hash of a complete subtree from its leaves (a power of two of them, at least one).
pub(crate) fn complete_root(leaves: &[Hash]) -> Hash {
    debug_assert!(leaves.len().is_power_of_two());
    let mut level = leaves.to_vec();
    while level.len() > 1 {
        level = level
            .chunks_exact(2)
            .map(|p| node_hash(&p[0], &p[1]))
            .collect();
    }
    level[0]
}

/// Source of stored hashes (the ledger's `tree` table, or a Vec in tests).
///
/// Callers of this module's functions must not ask about leaves the log does not hold
/// (a tree size above the log's size): the functions cannot know the log's size, and a
/// store may answer such a request with an error or, like [`MemoryTree`], a panic.
pub trait HashStore {
    /// Error type of the store.
    type Error;
    /// Hash of the complete subtree at (level, index). Only called for subtrees that exist.
    ///
    /// # Errors
    /// The store's own, when it cannot read the hash; they are passed on unchanged by
    /// every function of this module.
    fn stored_hash(&mut self, level: u32, index: u64) -> Result<Hash, Self::Error>;
}

/// Hashes to store when the leaf with index `n` (0-based; the tree had n leaves before) is appended:
/// returns [(0, n, leaf), (1, n>>1, ..), ...] — reads existing stored hashes of left siblings from `store`.
///
/// A node `(L, k)` becomes complete exactly when its last leaf arrives, i.e. when the
/// new leaf is the right child of a right child … of it; so one row is added per
/// trailing one bit of `n`, and each costs one read (its left sibling).
///
/// # Errors
/// Only the store's: whatever [`HashStore::stored_hash`] returns, passed on.
pub fn hashes_to_store<S: HashStore>(
    n: u64,
    leaf: Hash,
    store: &mut S,
) -> Result<Vec<(u32, u64, Hash)>, S::Error> {
    let mut rows = Vec::with_capacity(1 + n.trailing_ones() as usize);
    rows.push((0, n, leaf));
    let (mut level, mut index, mut hash) = (0u32, n, leaf);
    // While the node at (level, index) is a right child, its parent is now complete.
    while index & 1 == 1 {
        let left = store.stored_hash(level, index - 1)?;
        hash = node_hash(&left, &hash);
        level += 1;
        index >>= 1;
        rows.push((level, index, hash));
    }
    Ok(rows)
}

/// Root hash of the first `size` leaves.
///
/// Reads one stored subtree per one bit of `size` (at most 64), and none for size 0.
///
/// # Errors
/// Only the store's: whatever [`HashStore::stored_hash`] returns, passed on.
pub fn root<S: HashStore>(size: u64, store: &mut S) -> Result<Hash, S::Error> {
    subtree_hash(0, size, store)
}

/// Hash of leaves [lo, hi) (the MTH of that range), built from stored complete subtrees.
///
/// An empty range gives [`empty_root`]. Every range that occurs in an RFC 6962 tree —
/// `lo` a multiple of the largest power of two below `hi - lo`, which includes every
/// `lo = 0` — costs at most `popcount(hi - lo)` reads. Other ranges are answered
/// correctly too, but their MTH does not line up with the stored subtrees and may need
/// up to `hi - lo` reads; this module never asks for one.
///
/// # Errors
/// Only the store's: whatever [`HashStore::stored_hash`] returns, passed on.
///
/// # Panics
///
/// If `lo > hi`.
pub fn subtree_hash<S: HashStore>(lo: u64, hi: u64, store: &mut S) -> Result<Hash, S::Error> {
    assert!(lo <= hi, "subtree_hash: empty range [{lo}, {hi})");
    let n = hi - lo;
    if n == 0 {
        return Ok(empty_root());
    }
    if n.is_power_of_two() && lo.is_multiple_of(n) {
        let level = n.trailing_zeros();
        return store.stored_hash(level, lo >> level);
    }
    // RFC 6962 §2.1: MTH(D[n]) = HASH(0x01 || MTH(D[0:k]) || MTH(D[k:n])).
    let mid = lo + split(n);
    let left = subtree_hash(lo, mid, store)?;
    let right = subtree_hash(mid, hi, store)?;
    Ok(node_hash(&left, &right))
}

/// RFC 6962's `k`: the largest power of two strictly below `n` (`n >= 2`), where the
/// tree of `n` leaves splits into its left and right subtree.
pub(crate) fn split(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1 << (n - 1).ilog2()
}

/// A Vec-backed in-memory [`HashStore`], for tests and for callers that want to build a
/// tree in memory.
///
/// It keeps exactly the rows the ledger stores (`levels[L][k]` is the hash at `(L, k)`),
/// so it exercises the same code paths. Plain data: `Send` and `Sync`.
///
/// As a [`HashStore`] it cannot fail, but it panics when asked for a subtree it does
/// not hold, i.e. for a tree size above [`MemoryTree::size`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemoryTree {
    levels: Vec<Vec<Hash>>,
}

impl MemoryTree {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends an entry (hashed with [`leaf_hash`]) and returns its leaf index.
    pub fn push(&mut self, data: &[u8]) -> u64 {
        self.push_leaf_hash(leaf_hash(data))
    }

    /// Appends a leaf whose leaf hash is already known and returns its leaf index.
    pub fn push_leaf_hash(&mut self, leaf: Hash) -> u64 {
        let n = self.size();
        let Ok(rows) = hashes_to_store(n, leaf, self);
        for (level, index, hash) in rows {
            let level = level as usize;
            if self.levels.len() == level {
                self.levels.push(Vec::new());
            }
            debug_assert_eq!(self.levels[level].len() as u64, index);
            self.levels[level].push(hash);
        }
        n
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |leaves| leaves.len() as u64)
    }

    /// Root hash of the whole tree.
    pub fn root(&self) -> Hash {
        let Ok(hash) = root(self.size(), &mut ReadOnly(self));
        hash
    }

    fn get(&self, level: u32, index: u64) -> Hash {
        let found = self
            .levels
            .get(level as usize)
            .and_then(|row| usize::try_from(index).ok().and_then(|i| row.get(i)));
        match found {
            Some(hash) => *hash,
            None => panic!(
                "MemoryTree of {} leaves holds no subtree at ({level}, {index}): \
                 a tree size above the tree's was asked for",
                self.size()
            ),
        }
    }
}

impl HashStore for MemoryTree {
    type Error = Infallible;

    fn stored_hash(&mut self, level: u32, index: u64) -> Result<Hash, Infallible> {
        Ok(self.get(level, index))
    }
}

/// Lets `&MemoryTree` methods use the `&mut`-taking store functions.
struct ReadOnly<'a>(&'a MemoryTree);

impl HashStore for ReadOnly<'_> {
    type Error = Infallible;

    fn stored_hash(&mut self, level: u32, index: u64) -> Result<Hash, Infallible> {
        Ok(self.0.get(level, index))
    }
}

mod proof;
#[cfg(test)]
mod tests;

pub use proof::{
    consistency_proof, inclusion_proof, verify_consistency, verify_inclusion, ProofError,
};
