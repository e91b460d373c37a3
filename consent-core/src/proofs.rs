//! The ledger as a Merkle log: heads, and inclusion and consistency proofs (`verify`,
//! which recomputes every hash from the stored rows, is in `verify/`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::canonical::parse_hash;
use crate::error::{Error, Result};
use crate::ledger::{Inner, Ledger};
use crate::merkle::{self, Hash};
use crate::notice::hex_hash;
use crate::store::RawRow;

/// A signed-off state of the log: its size and root hash. Written `SIZE:ROOTHEX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Head {
    /// Number of events.
    pub size: u64,
    /// RFC 9162 Merkle tree hash of those events.
    #[serde(with = "hex_hash")]
    pub root: Hash,
}

impl fmt::Display for Head {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.size, hex::encode(self.root))
    }
}

impl FromStr for Head {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let (size, root) = s
            .trim()
            .split_once(':')
            .ok_or_else(|| Error::invalid("a head is written SIZE:ROOTHEX"))?;
        let size = size
            .parse()
            .map_err(|_| Error::invalid("a head's size must be a number"))?;
        Ok(Head {
            size,
            root: parse_hash(root)?,
        })
    }
}

/// Proof that an event is leaf `leaf_index` of the tree of `tree_size` leaves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InclusionProof {
    /// The event's sequence number.
    pub leaf_index: u64,
    /// Size of the tree proven against.
    pub tree_size: u64,
    /// SHA-256(0x00 || canonical event).
    #[serde(with = "hex_hash")]
    pub leaf_hash: Hash,
    /// Audit path, bottom-up, as hex.
    #[serde(with = "hex_hashes")]
    pub path: Vec<Hash>,
    /// Root of the tree of `tree_size`, read in the same snapshot as the path.
    #[serde(with = "hex_hash")]
    pub root: Hash,
}

impl InclusionProof {
    /// The head this proof was made against.
    pub fn head(&self) -> Head {
        Head {
            size: self.tree_size,
            root: self.root,
        }
    }

    /// Checks that `event` — its canonical bytes (docs/FORMAT.md §3.3), as
    /// [`Ledger::canonical_event`] gives them — is leaf `leaf_index` of the tree whose
    /// head is `head`. The proof is bound to its event: the leaf hash is recomputed
    /// from the bytes and the leaf index must equal the event's `seq`, so the proof
    /// of one event can never be taken for another's.
    ///
    /// # Errors
    /// [`InvalidArgument`](crate::ErrorKind::InvalidArgument) when `event` is not one
    /// well-formed canonical encoding or `head` is of another size than the proof's
    /// tree; [`ProofRejected`](crate::ErrorKind::ProofRejected) when anything else
    /// does not hold (the bytes, the leaf index, the path, the root).
    pub fn verify(&self, event: &[u8], head: &Head) -> Result<()> {
        let decoded = crate::canonical::decode(event)?;
        if merkle::leaf_hash(event) != self.leaf_hash {
            return Err(Error::ProofRejected(merkle::ProofError::NotThisEvent(
                "the event's bytes do not hash to the proof's leaf",
            )));
        }
        if u64::try_from(decoded.seq).ok() != Some(self.leaf_index) {
            return Err(Error::ProofRejected(merkle::ProofError::NotThisEvent(
                "the proof's leaf index is not the event's sequence number",
            )));
        }
        if head.size != self.tree_size {
            return Err(Error::invalid(format!(
                "the proof is for a tree of {} events, the head has {}",
                self.tree_size, head.size
            )));
        }
        Ok(merkle::verify_inclusion(
            self.leaf_index,
            self.tree_size,
            &self.leaf_hash,
            &self.path,
            &head.root,
        )?)
    }
}

/// Proof that the tree of `old_size` is a prefix of the tree of `new_size`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsistencyProof {
    /// Old size.
    pub old_size: u64,
    /// New size.
    pub new_size: u64,
    /// Proof hashes, as hex.
    #[serde(with = "hex_hashes")]
    pub path: Vec<Hash>,
}

impl ConsistencyProof {
    /// Checks the proof between two heads.
    ///
    /// # Errors
    /// [`InvalidArgument`](crate::ErrorKind::InvalidArgument) when the heads' sizes are
    /// not the proof's; [`ProofRejected`](crate::ErrorKind::ProofRejected) when the
    /// proof does not lead from one root to the other.
    pub fn verify(&self, old: &Head, new: &Head) -> Result<()> {
        if old.size != self.old_size || new.size != self.new_size {
            return Err(Error::invalid("the heads' sizes differ from the proof's"));
        }
        Ok(merkle::verify_consistency(
            old.size, new.size, &old.root, &new.root, &self.path,
        )?)
    }
}

mod hex_hashes {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[[u8; 32]], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(v.iter().map(hex::encode))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<[u8; 32]>, D::Error> {
        Vec::<String>::deserialize(d)?
            .iter()
            .map(|s| crate::canonical::parse_hash(s).map_err(serde::de::Error::custom))
            .collect()
    }
}

impl Ledger {
    /// The current head: (size, root). Keep it elsewhere to detect a rewritten tail later.
    ///
    /// # Errors
    /// The [ledger's errors](crate#errors).
    pub fn head(&self) -> Result<Head> {
        self.read(None, |inner, _| inner.head())
    }

    /// Inclusion proof of an event in the tree of `tree_size` (default: the current head).
    ///
    /// # Errors
    /// [`NotFound`](crate::ErrorKind::NotFound) for an unknown event;
    /// [`InvalidArgument`](crate::ErrorKind::InvalidArgument) when `tree_size` is
    /// beyond the log or does not include the event; the [ledger's errors](crate#errors).
    pub fn prove_inclusion(&self, event: Uuid, tree_size: Option<u64>) -> Result<InclusionProof> {
        self.read(None, |inner, _| {
            let store = &inner.store;
            let row = raw_row(inner, event)?;
            let seq = row.seq as u64;
            let leaf = row.canonical().leaf_hash();
            let size = tree_size.unwrap_or(store.size()?);
            if size > store.size()? {
                return Err(Error::invalid(format!(
                    "the ledger has fewer than {size} events"
                )));
            }
            let mut tree = store.tree();
            let path = merkle::inclusion_proof(seq, size, &mut tree)?
                .map_err(|e| Error::invalid(format!("cannot prove inclusion: {e}")))?;
            let root = merkle::root(size, &mut tree)?;
            Ok(InclusionProof {
                leaf_index: seq,
                tree_size: size,
                leaf_hash: leaf,
                path,
                root,
            })
        })
    }

    /// The canonical bytes of an event (docs/FORMAT.md §3.3): what its leaf hash
    /// covers. A receipt can carry them so its readable fields can be checked.
    ///
    /// # Errors
    /// [`NotFound`](crate::ErrorKind::NotFound) for an unknown event; the [ledger's errors](crate#errors).
    pub fn canonical_event(&self, event: Uuid) -> Result<Vec<u8>> {
        self.read(None, |inner, _| {
            Ok(raw_row(inner, event)?.canonical().encode())
        })
    }

    /// Consistency proof from an earlier head to `new_size` (default: now). Fails if
    /// the ledger's root at the old size differs from the old head's.
    ///
    /// # Errors
    /// [`InvalidArgument`](crate::ErrorKind::InvalidArgument) when `old` is larger than
    /// `new_size` or `new_size` is beyond the log;
    /// [`Corrupt`](crate::ErrorKind::Corrupt) when the log's root at `old.size` is not
    /// `old.root` (the log was rewritten, or the head is not this ledger's); the
    /// [ledger's errors](crate#errors).
    pub fn prove_consistency(
        &self,
        old: &Head,
        new_size: Option<u64>,
    ) -> Result<(ConsistencyProof, Head)> {
        self.read(None, |inner, _| {
            let store = &inner.store;
            let size = store.size()?;
            let new_size = new_size.unwrap_or(size);
            if old.size > new_size || new_size > size {
                return Err(Error::invalid(format!(
                    "sizes out of range: old {}, new {new_size}, ledger {size}",
                    old.size
                )));
            }
            let mut tree = store.tree();
            if merkle::root(old.size, &mut tree)? != old.root {
                return Err(Error::Corrupt(format!(
                    "the ledger's root at size {} differs from the given head: the log was rewritten",
                    old.size
                )));
            }
            let path = merkle::consistency_proof(old.size, new_size, &mut tree)?
                .map_err(|e| Error::invalid(format!("cannot prove consistency: {e}")))?;
            let new_head = Head {
                size: new_size,
                root: merkle::root(new_size, &mut tree)?,
            };
            Ok((
                ConsistencyProof {
                    old_size: old.size,
                    new_size,
                    path,
                },
                new_head,
            ))
        })
    }
}

impl Inner {
    /// The current head.
    pub(crate) fn head(&self) -> Result<Head> {
        let size = self.store.size()?;
        Ok(Head {
            size,
            root: self.store.root(size)?,
        })
    }
}

fn raw_row(inner: &Inner, event: Uuid) -> Result<RawRow> {
    inner
        .store
        .raw_event(event)?
        .ok_or_else(|| Error::NotFound(format!("event {event}")))
}
