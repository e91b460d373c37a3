//! Known-answer tests of the Merkle proof verifiers against the RFC 6962 vectors of
//! transparency-dev/merkle.
//!
//! The vectors are copied into this repository, with their licence, under
//! `tests/vectors/rfc6962/` (see the README there). A missing folder or file fails the
//! test: it counts the vectors it checked against [`INCLUSION_VECTORS`] and
//! [`CONSISTENCY_VECTORS`], so a check that did not run cannot pass.
//!
//! Each vector says whether a verifier must accept it (`wantErr: false`) or reject it.
//! The vectors were written for a verifier over byte strings; ours takes typed 32-byte
//! hashes, so a few vectors cannot be passed as they are. How those are handled:
//! - a leaf hash or proof hash that is not 32 bytes of base64 rejects the vector (the
//!   reference verifier checks the leaf hash length, and such garbage only appears in
//!   vectors that must be rejected);
//! - a root that is not 32 bytes is replaced by a stand-in 32-byte value derived from
//!   its bytes. The reference verifier never interprets a root, it only compares it
//!   byte for byte, and the stand-in keeps exactly that: equal inputs give equal
//!   stand-ins, and no stand-in equals a real hash. One vector needs this:
//!   `consistency/additional/sizes-are-equal-one-and-proof-is-empty.json`, where two
//!   equal 12-byte "roots" must be accepted for a consistency check of equal sizes.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use consent_core::merkle::{
    consistency_proof, inclusion_proof, root, verify_consistency, verify_inclusion, Hash,
    MemoryTree,
};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Where the vectors are: in the repository, so that a clone on its own runs them.
fn vectors_dir() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/vectors/rfc6962"
    ))
}

/// How many vectors of each kind the folder holds (transparency-dev/merkle at the
/// commit named in the README).
const INCLUSION_VECTORS: usize = 98;
const CONSISTENCY_VECTORS: usize = 98;

/// All `*.json` files under `dir`, recursively, in a stable order.
fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for entry in entries {
            let path = entry
                .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
                .path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|ext| ext == "json") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// One vector file, with accessors that fail the test on a malformed file (as opposed
/// to a garbage hash, which is part of what the vectors test).
struct Vector {
    name: String,
    json: Value,
}

impl Vector {
    fn load(path: &Path, base: &Path) -> Self {
        let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let json = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{}: invalid JSON: {e}", path.display()));
        let name = path
            .strip_prefix(base)
            .unwrap_or(path)
            .display()
            .to_string();
        Self { name, json }
    }

    fn field(&self, key: &str) -> &Value {
        self.json
            .get(key)
            .unwrap_or_else(|| panic!("{}: no field {key:?}", self.name))
    }

    fn u64(&self, key: &str) -> u64 {
        self.field(key)
            .as_u64()
            .unwrap_or_else(|| panic!("{}: {key:?} is not a u64", self.name))
    }

    fn want_err(&self) -> bool {
        self.field("wantErr")
            .as_bool()
            .unwrap_or_else(|| panic!("{}: wantErr is not a bool", self.name))
    }

    /// The bytes of a base64 field; `None` if the text is not base64.
    fn bytes(&self, key: &str) -> Option<Vec<u8>> {
        let text = self
            .field(key)
            .as_str()
            .unwrap_or_else(|| panic!("{}: {key:?} is not a string", self.name));
        STANDARD.decode(text).ok()
    }

    /// A field that must hold a hash; `None` if it does not hold 32 bytes.
    fn hash(&self, key: &str) -> Option<Hash> {
        self.bytes(key)?.try_into().ok()
    }

    /// A root, or its stand-in if it is not 32 bytes of base64 (see the module docs).
    fn root(&self, key: &str) -> Hash {
        let text = self
            .field(key)
            .as_str()
            .unwrap_or_else(|| panic!("{}: {key:?} is not a string", self.name));
        match self.hash(key) {
            Some(hash) => hash,
            None => Sha256::new()
                .chain_update(b"stand-in for a root that is not a 32-byte hash:")
                .chain_update(text.as_bytes())
                .finalize()
                .into(),
        }
    }

    /// The proof; `null` is an empty proof (Go's nil slice). `None` if an element is
    /// not 32 bytes of base64.
    fn proof(&self) -> Option<Vec<Hash>> {
        match self.field("proof") {
            Value::Null => Some(Vec::new()),
            Value::Array(items) => items
                .iter()
                .map(|item| {
                    let text = item
                        .as_str()
                        .unwrap_or_else(|| panic!("{}: proof item is not a string", self.name));
                    STANDARD.decode(text).ok()?.try_into().ok()
                })
                .collect(),
            other => panic!("{}: proof is {other}", self.name),
        }
    }
}

/// What the verifiers made of one kind of vector.
#[derive(Default)]
struct Tally {
    accepted: usize,
    rejected: usize,
    /// Of the rejected: how many could not even be passed to the verifier.
    undecodable: usize,
    /// Vectors whose proof this module also generated, identically.
    regenerated: usize,
    /// Vectors where the verifier disagreed with `wantErr`.
    wrong: Vec<String>,
}

impl Tally {
    fn total(&self) -> usize {
        self.accepted + self.rejected
    }

    fn record(&mut self, vector: &Vector, outcome: Result<(), String>) {
        let want_err = vector.want_err();
        match &outcome {
            Ok(()) => self.accepted += 1,
            Err(_) => self.rejected += 1,
        }
        if outcome.is_err() != want_err {
            let desc = vector.field("desc");
            self.wrong.push(format!(
                "{} ({desc}): wantErr {want_err}, got {outcome:?}",
                vector.name
            ));
        }
    }
}

/// The 8-leaf tree of RFC 6962's reference test data, which all the vectors' trees are
/// prefixes of: used to check that our prover emits the proofs of the happy paths.
fn reference_tree() -> MemoryTree {
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
        tree.push(&hex::decode(leaf).expect("hex"));
    }
    tree
}

/// `root(size)` of the reference tree, if it has that many leaves.
fn reference_root(tree: &mut MemoryTree, size: u64) -> Option<Hash> {
    if size > tree.size() {
        return None;
    }
    let Ok(hash) = root(size, tree);
    Some(hash)
}

fn check_inclusion(dir: &Path, base: &Path) -> Tally {
    let mut tally = Tally::default();
    let mut tree = reference_tree();
    for path in json_files(dir) {
        let v = Vector::load(&path, base);
        let (index, size) = (v.u64("leafIdx"), v.u64("treeSize"));
        let root_hash = v.root("root");
        let (Some(leaf), Some(proof)) = (v.hash("leafHash"), v.proof()) else {
            tally.undecodable += 1;
            tally.record(
                &v,
                Err("leaf hash or proof is not made of 32-byte hashes".into()),
            );
            continue;
        };
        let outcome = verify_inclusion(index, size, &leaf, &proof, &root_hash);
        if outcome.is_ok() && reference_root(&mut tree, size) == Some(root_hash) {
            let Ok(generated) = inclusion_proof(index, size, &mut tree);
            assert_eq!(
                generated,
                Ok(proof.clone()),
                "{}: our proof differs",
                v.name
            );
            tally.regenerated += 1;
        }
        tally.record(&v, outcome.map_err(|e| e.to_string()));
    }
    tally
}

fn check_consistency(dir: &Path, base: &Path) -> Tally {
    let mut tally = Tally::default();
    let mut tree = reference_tree();
    for path in json_files(dir) {
        let v = Vector::load(&path, base);
        let (old, new) = (v.u64("size1"), v.u64("size2"));
        let (old_root, new_root) = (v.root("root1"), v.root("root2"));
        let Some(proof) = v.proof() else {
            tally.undecodable += 1;
            tally.record(&v, Err("proof is not made of 32-byte hashes".into()));
            continue;
        };
        let outcome = verify_consistency(old, new, &old_root, &new_root, &proof);
        if outcome.is_ok()
            && reference_root(&mut tree, old) == Some(old_root)
            && reference_root(&mut tree, new) == Some(new_root)
        {
            let Ok(generated) = consistency_proof(old, new, &mut tree);
            assert_eq!(
                generated,
                Ok(proof.clone()),
                "{}: our proof differs",
                v.name
            );
            tally.regenerated += 1;
        }
        tally.record(&v, outcome.map_err(|e| e.to_string()));
    }
    tally
}

#[test]
fn rfc6962_vectors() {
    let base = vectors_dir();
    assert!(
        base.is_dir(),
        "rfc6962 vectors not found at {} (they belong in the repository)",
        base.display()
    );

    let mut tallies = BTreeMap::new();
    tallies.insert("inclusion", check_inclusion(&base.join("inclusion"), &base));
    tallies.insert(
        "consistency",
        check_consistency(&base.join("consistency"), &base),
    );

    for (kind, t) in &tallies {
        println!(
            "{kind}: {} accepted, {} rejected ({} of them undecodable), {} proofs regenerated",
            t.accepted, t.rejected, t.undecodable, t.regenerated
        );
    }
    let wrong: Vec<_> = tallies.values().flat_map(|t| &t.wrong).collect();
    assert!(
        wrong.is_empty(),
        "verifier disagrees with {} vectors:\n{wrong:#?}",
        wrong.len()
    );
    for (kind, t) in &tallies {
        assert!(
            t.accepted > 0 && t.rejected > 0,
            "no {kind} vectors of both kinds in {}",
            base.display()
        );
        assert!(t.regenerated > 0, "no {kind} happy path regenerated");
    }
    let (inclusion, consistency) = (tallies["inclusion"].total(), tallies["consistency"].total());
    println!("{inclusion} inclusion vectors, {consistency} consistency vectors checked");
    // Every vector file was checked: none missing, none added unnoticed.
    assert_eq!(
        (inclusion, consistency),
        (INCLUSION_VECTORS, CONSISTENCY_VECTORS),
        "vectors checked in {} (inclusion, consistency)",
        base.display()
    );
}
