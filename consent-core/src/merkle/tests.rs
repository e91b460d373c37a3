//! Tests of the tree algorithms and proofs, against a naive RFC 6962 reference.

use std::sync::OnceLock;

use proptest::prelude::*;

use super::proof::{consistency_ranges, inclusion_ranges};
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
