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

/// Source of stored hashes (the ledger's `tree` table, or a Vec in tests).
///
/// Callers of this module's functions must not ask about leaves the log does not hold
/// (a tree size above the log's size): the functions cannot know the log's size, and a
/// store may answer such a request with an error or, like [`MemoryTree`], a panic.
pub trait HashStore {
    /// Error type of the store.
    type Error;
    /// Hash of the complete subtree at (level, index). Only called for subtrees that exist.
    fn stored_hash(&mut self, level: u32, index: u64) -> Result<Hash, Self::Error>;
}

/// Why a proof was rejected, or could not be produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProofError {
    /// The leaf index is not below the tree size.
    #[error("leaf index {index} is out of range for a tree of size {size}")]
    IndexOutOfRange {
        /// The leaf index asked about.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// The old tree of a consistency proof is larger than the new one.
    #[error("old tree size {old_size} is larger than new tree size {new_size}")]
    SizeOrder {
        /// The old tree size.
        old_size: u64,
        /// The new tree size.
        new_size: u64,
    },
    /// A consistency proof from the empty tree was asked for or offered. Every tree
    /// extends the empty one, so such a proof proves nothing; RFC 9162 defines
    /// consistency proofs only for `0 < old_size`, and the transparency-dev vectors
    /// reject it.
    #[error("a consistency proof from the empty tree (to size {new_size}) is meaningless")]
    EmptyOldTree {
        /// The new tree size.
        new_size: u64,
    },
    /// The proof has more or fewer hashes than the tree sizes call for.
    #[error("proof has {actual} hashes, expected {expected}")]
    WrongProofLength {
        /// The number of hashes the sizes call for.
        expected: usize,
        /// The number of hashes given.
        actual: usize,
    },
    /// The proof leads to a different root than the one given (the tree root of an
    /// inclusion proof, the new root of a consistency proof).
    #[error("the proof does not lead to the given root")]
    RootMismatch,
    /// The consistency proof does not reproduce the given old root.
    #[error("the proof does not lead to the given old root")]
    OldRootMismatch,
    /// The proof is not about the event it was offered for (leaf hash or index).
    #[error("the proof is not about this event: {0}")]
    NotThisEvent(&'static str),
}

/// Hashes to store when the leaf with index `n` (0-based; the tree had n leaves before) is appended:
/// returns [(0, n, leaf), (1, n>>1, ..), ...] — reads existing stored hashes of left siblings from `store`.
///
/// A node `(L, k)` becomes complete exactly when its last leaf arrives, i.e. when the
/// new leaf is the right child of a right child … of it; so one row is added per
/// trailing one bit of `n`, and each costs one read (its left sibling).
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

/// RFC 9162 inclusion proof (audit path) for leaf `index` in a tree of `size` leaves.
///
/// The outer `Result` carries the store's errors, the inner one the caller's:
/// `index >= size` gives [`ProofError::IndexOutOfRange`]; this function never panics
/// (beyond what the store does when `size` exceeds the log). Hashes are ordered from the
/// leaf's sibling up to the child of the root, as RFC 9162 §2.1.3.1 prescribes.
pub fn inclusion_proof<S: HashStore>(
    index: u64,
    size: u64,
    store: &mut S,
) -> Result<Result<Vec<Hash>, ProofError>, S::Error> {
    if index >= size {
        return Ok(Err(ProofError::IndexOutOfRange { index, size }));
    }
    let ranges = inclusion_ranges(index, size);
    collect_hashes(&ranges, store).map(Ok)
}

/// RFC 9162 consistency proof between tree sizes `old_size` <= `new_size`.
///
/// The outer `Result` carries the store's errors, the inner one the caller's:
/// `old_size > new_size` gives [`ProofError::SizeOrder`], and `0 == old_size < new_size`
/// gives [`ProofError::EmptyOldTree`], since [`verify_consistency`] would reject any
/// such proof. Equal sizes give an empty proof. Never panics (beyond what the store
/// does when `new_size` exceeds the log).
pub fn consistency_proof<S: HashStore>(
    old_size: u64,
    new_size: u64,
    store: &mut S,
) -> Result<Result<Vec<Hash>, ProofError>, S::Error> {
    if old_size > new_size {
        return Ok(Err(ProofError::SizeOrder { old_size, new_size }));
    }
    if old_size == new_size {
        return Ok(Ok(Vec::new()));
    }
    if old_size == 0 {
        return Ok(Err(ProofError::EmptyOldTree { new_size }));
    }
    let ranges = consistency_ranges(old_size, new_size);
    collect_hashes(&ranges, store).map(Ok)
}

/// Verifies an inclusion proof (RFC 9162 §2.1.3.2): `leaf` is the leaf hash of entry
/// `index` in the tree of `size` leaves whose root is `root`.
///
/// A tree of one leaf needs an empty proof and `root == leaf`.
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf: &Hash,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    // Checked up front for a precise error; the RFC's own checks on `sn` below then
    // cannot fail, but stay as the RFC has them.
    let expected = inclusion_ranges(index, size).len();
    let wrong_length = ProofError::WrongProofLength {
        expected,
        actual: proof.len(),
    };
    if proof.len() != expected {
        return Err(wrong_length);
    }

    let (mut fnode, mut snode) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if snode == 0 {
            return Err(wrong_length);
        }
        if fnode & 1 == 1 || fnode == snode {
            r = node_hash(p, &r);
            // Skip the levels where this node has no right sibling (the right border).
            while fnode & 1 == 0 && fnode != 0 {
                fnode >>= 1;
                snode >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 {
        return Err(wrong_length);
    }
    if r != *root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// Verifies a consistency proof (RFC 9162 §2.1.4.2): the tree of `new_size` leaves with
/// root `new_root` extends the tree of `old_size` leaves with root `old_root`.
///
/// Edge cases, as the RFC 6962 vectors of transparency-dev/merkle expect:
/// - `old_size > new_size` is [`ProofError::SizeOrder`];
/// - equal sizes need an empty proof and equal roots; for size 0 both roots must be
///   [`empty_root`], the only root an empty tree has;
/// - `0 == old_size < new_size` is [`ProofError::EmptyOldTree`], whatever the proof:
///   a client that trusts only the empty tree has nothing to check and needs no proof.
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError> {
    if old_size > new_size {
        return Err(ProofError::SizeOrder { old_size, new_size });
    }
    if old_size == new_size {
        if !proof.is_empty() {
            return Err(ProofError::WrongProofLength {
                expected: 0,
                actual: proof.len(),
            });
        }
        if old_size == 0 && *old_root != empty_root() {
            return Err(ProofError::OldRootMismatch);
        }
        if old_root != new_root {
            return Err(ProofError::RootMismatch);
        }
        return Ok(());
    }
    if old_size == 0 {
        return Err(ProofError::EmptyOldTree { new_size });
    }
    // Here 0 < old_size < new_size, so the proof has at least one hash (the RFC's step 1
    // "fail on an empty path" is part of this check).
    let expected = consistency_ranges(old_size, new_size).len();
    let wrong_length = ProofError::WrongProofLength {
        expected,
        actual: proof.len(),
    };
    if proof.len() != expected {
        return Err(wrong_length);
    }

    // Step 2: when the old tree is a complete subtree of the new one, the proof omits
    // it and the old root itself is the starting point.
    let (seed, rest) = if old_size.is_power_of_two() {
        (old_root, proof)
    } else {
        (&proof[0], &proof[1..])
    };
    let (mut fnode, mut snode) = (old_size - 1, new_size - 1);
    while fnode & 1 == 1 {
        fnode >>= 1;
        snode >>= 1;
    }
    let (mut fr, mut sr) = (*seed, *seed);
    for c in rest {
        if snode == 0 {
            return Err(wrong_length);
        }
        if fnode & 1 == 1 || fnode == snode {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while fnode & 1 == 0 && fnode != 0 {
                fnode >>= 1;
                snode >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 {
        return Err(wrong_length);
    }
    if fr != *old_root {
        return Err(ProofError::OldRootMismatch);
    }
    if sr != *new_root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// RFC 6962's `k`: the largest power of two strictly below `n` (`n >= 2`), where the
/// tree of `n` leaves splits into its left and right subtree.
fn split(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1 << (n - 1).ilog2()
}

/// Leaf ranges whose MTHs form the inclusion path of `index` in a tree of `size`
/// (`index < size`), leaf's sibling first: RFC 9162 §2.1.3.1 `PATH(m, D[n])`, unrolled.
///
/// Shared by the prover (which hashes the ranges) and the verifiers (whose expected
/// proof length is the number of ranges), so the two cannot disagree on the shape.
fn inclusion_ranges(index: u64, size: u64) -> Vec<(u64, u64)> {
    let (mut lo, mut hi) = (0, size);
    let mut ranges = Vec::new();
    while hi - lo > 1 {
        let mid = lo + split(hi - lo);
        if index < mid {
            ranges.push((mid, hi));
            hi = mid;
        } else {
            ranges.push((lo, mid));
            lo = mid;
        }
    }
    ranges.reverse();
    ranges
}

/// Leaf ranges whose MTHs form the consistency proof from `old` to `new` leaves
/// (`0 < old < new`), bottom first: RFC 9162 §2.1.4.1 `PROOF(m, D[n])`, unrolled.
fn consistency_ranges(old: u64, new: u64) -> Vec<(u64, u64)> {
    let (mut lo, mut hi) = (0, new);
    // The RFC's `b`: whether [lo, hi) is still a prefix of the new tree, in which
    // case the old tree's root is known to the verifier and not sent.
    let mut prefix = true;
    let mut ranges = Vec::new();
    // Invariant: lo < old <= hi, so the loop ends with old == hi before hi - lo < 1.
    while old != hi {
        let mid = lo + split(hi - lo);
        if old <= mid {
            ranges.push((mid, hi));
            hi = mid;
        } else {
            ranges.push((lo, mid));
            lo = mid;
            prefix = false;
        }
    }
    if !prefix {
        ranges.push((lo, hi));
    }
    ranges.reverse();
    ranges
}

/// MTHs of `ranges`, in order.
fn collect_hashes<S: HashStore>(
    ranges: &[(u64, u64)],
    store: &mut S,
) -> Result<Vec<Hash>, S::Error> {
    ranges
        .iter()
        .map(|&(lo, hi)| subtree_hash(lo, hi, store))
        .collect()
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

#[cfg(test)]
mod tests {
    use std::sync::OnceLock;

    use proptest::prelude::*;

    use super::*;

    /// RFC 6962 §2.1 MTH straight from the definition: the reference the stored-hash
    /// code must agree with.
    fn naive_mth(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => empty_root(),
            1 => leaves[0],
            n => {
                let k = naive_split(n);
                node_hash(&naive_mth(&leaves[..k]), &naive_mth(&leaves[k..]))
            }
        }
    }

    fn naive_split(n: usize) -> usize {
        let mut k = 1;
        while k * 2 < n {
            k *= 2;
        }
        k
    }

    /// RFC 9162 §2.1.3.1 PATH(m, D[n]), recursive as written there.
    fn naive_path(m: usize, leaves: &[Hash]) -> Vec<Hash> {
        let n = leaves.len();
        if n == 1 {
            return Vec::new();
        }
        let k = naive_split(n);
        if m < k {
            let mut p = naive_path(m, &leaves[..k]);
            p.push(naive_mth(&leaves[k..]));
            p
        } else {
            let mut p = naive_path(m - k, &leaves[k..]);
            p.push(naive_mth(&leaves[..k]));
            p
        }
    }

    /// RFC 9162 §2.1.4.1 SUBPROOF(m, D[n], b), recursive as written there.
    fn naive_subproof(m: usize, leaves: &[Hash], b: bool) -> Vec<Hash> {
        let n = leaves.len();
        if m == n {
            return if b {
                Vec::new()
            } else {
                vec![naive_mth(leaves)]
            };
        }
        let k = naive_split(n);
        if m <= k {
            let mut p = naive_subproof(m, &leaves[..k], b);
            p.push(naive_mth(&leaves[k..]));
            p
        } else {
            let mut p = naive_subproof(m - k, &leaves[k..], false);
            p.push(naive_mth(&leaves[..k]));
            p
        }
    }

    fn leaf_data(i: u64) -> Vec<u8> {
        format!("leaf {i}").into_bytes()
    }

    fn build(n: u64) -> (MemoryTree, Vec<Hash>) {
        let mut tree = MemoryTree::new();
        let mut leaves = Vec::new();
        for i in 0..n {
            assert_eq!(tree.push(&leaf_data(i)), i);
            leaves.push(leaf_hash(&leaf_data(i)));
        }
        (tree, leaves)
    }

    fn ok<T>(r: Result<T, Infallible>) -> T {
        let Ok(v) = r;
        v
    }

    fn log2_ceil(n: u64) -> usize {
        (64 - n.saturating_sub(1).leading_zeros()) as usize
    }

    /// Counts reads, to hold the module to its O(log n) promise.
    struct Counting<'a> {
        tree: &'a mut MemoryTree,
        reads: usize,
    }

    impl HashStore for Counting<'_> {
        type Error = Infallible;

        fn stored_hash(&mut self, level: u32, index: u64) -> Result<Hash, Infallible> {
            self.reads += 1;
            self.tree.stored_hash(level, index)
        }
    }

    /// The same tampering for both proof kinds: every bit-flip position, every dropped
    /// hash, an extra hash at each end.
    fn tampered(proof: &[Hash]) -> Vec<Vec<Hash>> {
        let mut out = Vec::new();
        for i in 0..proof.len() {
            let mut p = proof.to_vec();
            p[i][i % 32] ^= 1 << (i % 8);
            out.push(p);
            let mut p = proof.to_vec();
            p.remove(i);
            out.push(p);
        }
        let mut p = proof.to_vec();
        p.push(leaf_hash(b"extra"));
        out.push(p);
        let mut p = proof.to_vec();
        p.insert(0, leaf_hash(b"extra"));
        out.push(p);
        out
    }

    #[test]
    fn known_answers() {
        // RFC 6962 reference test data (also the transparency-dev vectors' tree).
        assert_eq!(
            hex::encode(empty_root()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            hex::encode(leaf_hash(b"")),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
        );
        let mut tree = MemoryTree::new();
        for leaf in [
            "",
            "00",
            "10",
            "2021",
            "3031",
            "40414243",
            "5051525354555657",
            "606162636465666768696a6b6c6d6e6f",
        ] {
            tree.push(&hex::decode(leaf).unwrap());
        }
        assert_eq!(
            hex::encode(tree.root()),
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
        );
        assert_eq!(MemoryTree::new().root(), empty_root());
    }

    #[test]
    fn roots_match_naive_mth() {
        let (mut big, leaves) = build(70);
        for size in 1..=70u64 {
            let want = naive_mth(&leaves[..size as usize]);
            assert_eq!(build(size).0.root(), want, "MemoryTree of size {size}");
            assert_eq!(ok(root(size, &mut big)), want, "prefix of size {size}");
        }
        assert_eq!(ok(root(0, &mut big)), empty_root());
    }

    #[test]
    fn subtree_hash_of_any_range_is_its_mth() {
        // Includes ranges that are not aligned, which the proofs never use.
        let (mut tree, leaves) = build(40);
        for lo in 0..=40u64 {
            for hi in lo..=40u64 {
                let want = naive_mth(&leaves[lo as usize..hi as usize]);
                assert_eq!(ok(subtree_hash(lo, hi, &mut tree)), want, "[{lo}, {hi})");
            }
        }
    }

    #[test]
    fn hashes_to_store_rows() {
        let (mut tree, leaves) = build(300);
        for n in 0..300u64 {
            let rows = ok(hashes_to_store(n, leaves[n as usize], &mut tree));
            assert_eq!(rows.len(), 1 + n.trailing_ones() as usize, "n = {n}");
            for (i, &(level, index, hash)) in rows.iter().enumerate() {
                assert_eq!(level as usize, i);
                assert_eq!(index, n >> level);
                let (lo, hi) = ((index << level) as usize, ((index + 1) << level) as usize);
                assert_eq!(hi as u64, n + 1, "row must end at the new leaf");
                assert_eq!(hash, naive_mth(&leaves[lo..hi]), "n = {n}, row {i}");
            }
        }
    }

    #[test]
    fn reads_are_logarithmic() {
        let (mut tree, _) = build(2100);
        for n in 1..=2100u64 {
            let mut store = Counting {
                tree: &mut tree,
                reads: 0,
            };
            ok(root(n, &mut store));
            let bound = 2 * (63 - n.leading_zeros() as usize) + 2;
            assert!(store.reads <= bound, "root({n}): {} reads", store.reads);
            assert_eq!(store.reads, n.count_ones() as usize, "root({n})");
        }
        // Proofs: each sibling is one stored subtree, except the single right-border one.
        let bound = |n: u64| 2 * log2_ceil(n) + 2;
        for n in (1..=2100u64).step_by(7) {
            for m in (0..n).step_by(13) {
                let mut store = Counting {
                    tree: &mut tree,
                    reads: 0,
                };
                ok(inclusion_proof(m, n, &mut store)).unwrap();
                assert!(
                    store.reads <= bound(n),
                    "inclusion({m}, {n}): {} reads",
                    store.reads
                );
                let mut store = Counting {
                    tree: &mut tree,
                    reads: 0,
                };
                ok(consistency_proof(m + 1, n, &mut store)).unwrap();
                assert!(
                    store.reads <= bound(n),
                    "consistency({m}+1, {n}): {} reads",
                    store.reads
                );
            }
        }
    }

    #[test]
    fn inclusion_proofs_all_sizes() {
        let (mut tree, leaves) = build(70);
        for size in 1..=70u64 {
            let root_hash = naive_mth(&leaves[..size as usize]);
            for index in 0..size {
                let leaf = &leaves[index as usize];
                let proof = ok(inclusion_proof(index, size, &mut tree)).unwrap();
                assert_eq!(proof, naive_path(index as usize, &leaves[..size as usize]));
                assert_eq!(
                    verify_inclusion(index, size, leaf, &proof, &root_hash),
                    Ok(())
                );

                for bad in tampered(&proof) {
                    assert!(verify_inclusion(index, size, leaf, &bad, &root_hash).is_err());
                }
                let other = leaf_hash(b"not a leaf");
                assert!(verify_inclusion(index, size, &other, &proof, &root_hash).is_err());
                assert!(verify_inclusion(index, size, leaf, &proof, &other).is_err());
                if index + 1 < size {
                    assert!(verify_inclusion(index + 1, size, leaf, &proof, &root_hash).is_err());
                }
            }
            assert_eq!(
                ok(inclusion_proof(size, size, &mut tree)),
                Err(ProofError::IndexOutOfRange { index: size, size })
            );
        }
    }

    #[test]
    fn consistency_proofs_all_sizes() {
        let (mut tree, leaves) = build(40);
        for new in 1..=40u64 {
            let new_root = naive_mth(&leaves[..new as usize]);
            for old in 1..=new {
                let old_root = naive_mth(&leaves[..old as usize]);
                let proof = ok(consistency_proof(old, new, &mut tree)).unwrap();
                let want = naive_subproof(old as usize, &leaves[..new as usize], true);
                assert_eq!(proof, want, "({old}, {new})");
                assert_eq!(
                    verify_consistency(old, new, &old_root, &new_root, &proof),
                    Ok(())
                );

                for bad in tampered(&proof) {
                    let r = verify_consistency(old, new, &old_root, &new_root, &bad);
                    assert!(r.is_err(), "tampered ({old}, {new}) accepted");
                }
                let other = leaf_hash(b"not a root");
                assert!(verify_consistency(old, new, &other, &new_root, &proof).is_err());
                assert!(verify_consistency(old, new, &old_root, &other, &proof).is_err());
                if old != new {
                    // Swapped roots.
                    assert!(verify_consistency(old, new, &new_root, &old_root, &proof).is_err());
                }
            }
            assert_eq!(
                ok(consistency_proof(0, new, &mut tree)),
                Err(ProofError::EmptyOldTree { new_size: new })
            );
            assert_eq!(
                ok(consistency_proof(new + 1, new, &mut tree)),
                Err(ProofError::SizeOrder {
                    old_size: new + 1,
                    new_size: new
                })
            );
        }
        assert_eq!(ok(consistency_proof(0, 0, &mut tree)), Ok(Vec::new()));
    }

    #[test]
    fn verifier_edge_cases() {
        let e = empty_root();
        let a = leaf_hash(b"a");
        let b = leaf_hash(b"b");

        // Inclusion.
        assert_eq!(
            verify_inclusion(0, 0, &a, &[], &a),
            Err(ProofError::IndexOutOfRange { index: 0, size: 0 })
        );
        assert_eq!(verify_inclusion(0, 1, &a, &[], &a), Ok(()));
        assert_eq!(
            verify_inclusion(0, 1, &a, &[], &b),
            Err(ProofError::RootMismatch)
        );
        assert_eq!(
            verify_inclusion(0, 1, &a, &[a], &a),
            Err(ProofError::WrongProofLength {
                expected: 0,
                actual: 1
            })
        );
        assert!(verify_inclusion(u64::MAX, 8, &a, &[a, a, a], &a).is_err());
        let root2 = node_hash(&a, &b);
        assert_eq!(verify_inclusion(1, 2, &b, &[a], &root2), Ok(()));
        assert_eq!(verify_inclusion(0, 2, &a, &[b], &root2), Ok(()));

        // Consistency: equal sizes.
        assert_eq!(verify_consistency(0, 0, &e, &e, &[]), Ok(()));
        assert_eq!(
            verify_consistency(0, 0, &a, &a, &[]),
            Err(ProofError::OldRootMismatch)
        );
        assert_eq!(
            verify_consistency(0, 0, &e, &a, &[]),
            Err(ProofError::RootMismatch)
        );
        assert!(verify_consistency(0, 0, &e, &e, &[e]).is_err());
        assert_eq!(verify_consistency(5, 5, &a, &a, &[]), Ok(()));
        assert_eq!(
            verify_consistency(5, 5, &a, &b, &[]),
            Err(ProofError::RootMismatch)
        );
        assert!(verify_consistency(5, 5, &a, &a, &[a]).is_err());
        // From the empty tree: never.
        assert_eq!(
            verify_consistency(0, 1, &e, &a, &[]),
            Err(ProofError::EmptyOldTree { new_size: 1 })
        );
        assert!(verify_consistency(0, 1, &e, &a, &[a]).is_err());
        // Order and length.
        assert_eq!(
            verify_consistency(2, 1, &a, &b, &[]),
            Err(ProofError::SizeOrder {
                old_size: 2,
                new_size: 1
            })
        );
        assert_eq!(
            verify_consistency(1, 2, &a, &root2, &[]),
            Err(ProofError::WrongProofLength {
                expected: 1,
                actual: 0
            })
        );
        assert_eq!(verify_consistency(1, 2, &a, &root2, &[b]), Ok(()));
        assert_eq!(
            verify_consistency(1, 2, &b, &root2, &[b]),
            Err(ProofError::RootMismatch)
        );
    }

    #[test]
    fn huge_sizes_do_not_overflow() {
        // Only the shape is computed; the hashes are garbage, so all are rejected.
        let h = [7u8; 32];
        for size in [u64::MAX, u64::MAX - 1, 1 << 63, (1 << 63) + 1] {
            for index in [0, 1, size / 2, size - 1] {
                let len = inclusion_ranges(index, size).len();
                assert!(len <= 64);
                let proof = vec![h; len];
                assert_eq!(
                    verify_inclusion(index, size, &h, &proof, &h),
                    Err(ProofError::RootMismatch)
                );
            }
            for old in [1, 2, 3, size / 2, size - 1] {
                let len = consistency_ranges(old, size).len();
                assert!((1..=65).contains(&len));
                let proof = vec![h; len];
                assert!(verify_consistency(old, size, &h, &h, &proof).is_err());
            }
        }
    }

    /// One tree of 5000 leaves, shared by the property tests: the stored hashes of a
    /// tree also serve every smaller size.
    fn shared_tree() -> &'static (MemoryTree, Vec<Hash>) {
        static TREE: OnceLock<(MemoryTree, Vec<Hash>)> = OnceLock::new();
        TREE.get_or_init(|| build(5000))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn random_sizes_up_to_5000(size in 1u64..=5000, index_seed: u64, old_seed: u64) {
            let (tree, leaves) = shared_tree();
            let mut tree = tree.clone();
            let index = index_seed % size;
            let old = 1 + old_seed % size;
            let new_root = naive_mth(&leaves[..size as usize]);
            let old_root = naive_mth(&leaves[..old as usize]);

            prop_assert_eq!(ok(root(size, &mut tree)), new_root);

            let proof = ok(inclusion_proof(index, size, &mut tree)).unwrap();
            let leaf = &leaves[index as usize];
            prop_assert_eq!(verify_inclusion(index, size, leaf, &proof, &new_root), Ok(()));
            if let Some(last) = proof.len().checked_sub(1) {
                let mut bad = proof.clone();
                bad[last][0] ^= 0x80;
                prop_assert!(verify_inclusion(index, size, leaf, &bad, &new_root).is_err());
            }

            let proof = ok(consistency_proof(old, size, &mut tree)).unwrap();
            prop_assert_eq!(
                verify_consistency(old, size, &old_root, &new_root, &proof),
                Ok(())
            );
            if let Some(first) = proof.first() {
                let mut bad = proof.clone();
                bad[0] = node_hash(first, first);
                prop_assert!(verify_consistency(old, size, &old_root, &new_root, &bad).is_err());
            }
        }
    }

    proptest! {
        /// Whatever a remote party sends, the verifiers answer and never panic.
        #[test]
        fn verifiers_never_panic(
            a: u64,
            b: u64,
            len in 0usize..70,
            byte: u8,
        ) {
            let h = [byte; 32];
            let proof = vec![h; len];
            let _ = verify_inclusion(a, b, &h, &proof, &h);
            let _ = verify_consistency(a, b, &h, &h, &proof);
            let (small, big) = (a.min(b), a.max(b));
            let _ = verify_inclusion(small, big, &h, &proof, &h);
            let _ = verify_consistency(small, big, &h, &h, &proof);
            // Proofs of the right length, so the RFC loops run on arbitrary sizes.
            if small < big {
                let proof = vec![h; inclusion_ranges(small, big).len()];
                let _ = verify_inclusion(small, big, &h, &proof, &h);
                if small > 0 {
                    let proof = vec![h; consistency_ranges(small, big).len()];
                    let _ = verify_consistency(small, big, &h, &h, &proof);
                }
            }
        }
    }
}
