//! Inclusion and consistency proofs (RFC 9162 §2.1.3, §2.1.4): made from a
//! [`HashStore`], and checked by [`verify_inclusion`] and [`verify_consistency`],
//! which need no store.

use super::{empty_root, node_hash, split, subtree_hash, Hash, HashStore};

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

/// RFC 9162 inclusion proof (audit path) for leaf `index` in a tree of `size` leaves.
///
/// The outer `Result` carries the store's errors, the inner one the caller's:
/// `index >= size` gives [`ProofError::IndexOutOfRange`]; this function never panics
/// (beyond what the store does when `size` exceeds the log). Hashes are ordered from the
/// leaf's sibling up to the child of the root, as RFC 9162 §2.1.3.1 prescribes.
///
/// # Errors
/// The outer error is the store's ([`HashStore::stored_hash`]); the inner is
/// [`ProofError::IndexOutOfRange`].
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
///
/// # Errors
/// The outer error is the store's ([`HashStore::stored_hash`]); the inner is
/// [`ProofError::SizeOrder`] or [`ProofError::EmptyOldTree`].
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
///
/// # Errors
/// [`ProofError::IndexOutOfRange`] when `index >= size`;
/// [`ProofError::WrongProofLength`] when the proof has more or fewer hashes than the
/// sizes call for; [`ProofError::RootMismatch`] when it does not lead to `root`.
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
///
/// # Errors
/// Those above, and [`ProofError::WrongProofLength`] for a proof of the wrong number
/// of hashes, [`ProofError::OldRootMismatch`] or [`ProofError::RootMismatch`] when it
/// does not reproduce `old_root` or lead to `new_root`.
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

/// Leaf ranges whose MTHs form the inclusion path of `index` in a tree of `size`
/// (`index < size`), leaf's sibling first: RFC 9162 §2.1.3.1 `PATH(m, D[n])`, unrolled.
///
/// Shared by the prover (which hashes the ranges) and the verifiers (whose expected
/// proof length is the number of ranges), so the two cannot disagree on the shape.
pub(super) fn inclusion_ranges(index: u64, size: u64) -> Vec<(u64, u64)> {
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
pub(super) fn consistency_ranges(old: u64, new: u64) -> Vec<(u64, u64)> {
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
