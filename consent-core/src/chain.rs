//! The ledger as a Merkle log: heads, inclusion and consistency proofs, and
//! `verify`, which recomputes every hash from the stored rows.

use std::fmt;
use std::str::FromStr;

use rusqlite::{Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::canonical::parse_hash;
use crate::error::{Error, Result};
use crate::ledger::Ledger;
use crate::merkle::{self, Hash};
use crate::notice::hex_hash;
use crate::store::{self, RawRow, TreeTable, EVENT_COLUMNS};

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
    /// A head of another size is an [`Error::InvalidArgument`]; anything that does not
    /// hold is [`Error::ProofRejected`].
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
    /// Heads of other sizes are an [`Error::InvalidArgument`]; a failing proof is
    /// [`Error::ProofRejected`].
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

/// Result of [`Ledger::verify`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyReport {
    /// Events checked.
    pub size: u64,
    /// Whether every hash matched.
    pub ok: bool,
    /// The first sequence number found bad.
    pub first_bad_seq: Option<u64>,
    /// Why it is bad.
    pub problem: Option<String>,
    /// The head recomputed from the rows (when the log is intact).
    pub head: Option<Head>,
    /// Whether the ledger was created as a simulation: its record times come from a
    /// simulated clock, not the system's.
    #[serde(default)]
    pub simulated: bool,
}

impl VerifyReport {
    pub(crate) fn bad(size: u64, seq: u64, problem: String) -> Self {
        VerifyReport {
            size,
            ok: false,
            first_bad_seq: Some(seq),
            problem: Some(problem),
            head: None,
            simulated: false,
        }
    }
}

impl Ledger {
    /// Inclusion proof of an event in the tree of `tree_size` (default: the current head).
    pub fn prove_inclusion(&self, event: Uuid, tree_size: Option<u64>) -> Result<InclusionProof> {
        self.read_conn(|conn, _| {
            let (seq, leaf) = leaf_of(conn, event)?;
            let size = tree_size.unwrap_or(store::size(conn)?);
            if size > store::size(conn)? {
                return Err(Error::invalid(format!(
                    "the ledger has fewer than {size} events"
                )));
            }
            let mut tree = TreeTable(conn);
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
    pub fn canonical_event(&self, event: Uuid) -> Result<Vec<u8>> {
        self.read_conn(|conn, _| Ok(raw_row(conn, event)?.canonical().encode()))
    }

    /// Consistency proof from an earlier head to `new_size` (default: now). Fails if
    /// the ledger's root at the old size differs from the old head's.
    pub fn prove_consistency(
        &self,
        old: &Head,
        new_size: Option<u64>,
    ) -> Result<(ConsistencyProof, Head)> {
        self.read_conn(|conn, _| {
            let size = store::size(conn)?;
            let new_size = new_size.unwrap_or(size);
            if old.size > new_size || new_size > size {
                return Err(Error::invalid(format!(
                    "sizes out of range: old {}, new {new_size}, ledger {size}",
                    old.size
                )));
            }
            let mut tree = TreeTable(conn);
            if merkle::root(old.size, &mut tree)? != old.root {
                return Err(Error::Corrupt(format!(
                    "the ledger's root at size {} differs from the given head: the log was rewritten",
                    old.size
                )));
            }
            let path = merkle::consistency_proof(old.size, new_size, &mut tree)?
                .map_err(|e| Error::invalid(format!("cannot prove consistency: {e}")))?;
            let new_head = Head { size: new_size, root: merkle::root(new_size, &mut tree)? };
            Ok((ConsistencyProof { old_size: old.size, new_size, path }, new_head))
        })
    }

    /// Recomputes every leaf from its row and every stored tree hash from the leaves,
    /// and names the first bad sequence number. One pass over the rows, constant memory.
    pub fn verify(&self) -> Result<VerifyReport> {
        self.verify_with_progress(|_, _| {})
    }

    /// [`Ledger::verify`] calling `progress(done, total)` every 64k events.
    pub fn verify_with_progress(&self, mut progress: impl FnMut(u64, u64)) -> Result<VerifyReport> {
        self.read_conn(|conn, key| crate::verify::verify_conn(conn, key, &mut progress))
    }

    /// [`Ledger::verify`], and also checks that the log still extends `head`: catches
    /// a truncated tail or a tail rewritten with a consistent new chain.
    pub fn verify_against(&self, head: &Head) -> Result<VerifyReport> {
        self.read_conn(|conn, key| {
            let report = crate::verify::verify_conn(conn, key, &mut |_, _| {})?;
            if !report.ok {
                return Ok(report);
            }
            if report.size < head.size {
                return Ok(VerifyReport::bad(
                    report.size,
                    report.size,
                    format!("the ledger has {} events but the head has {}: the tail was truncated", report.size, head.size),
                ));
            }
            let root = merkle::root(head.size, &mut TreeTable(conn))?;
            if root != head.root {
                // A head holds one root, so it cannot say which of its events changed:
                // the report names none rather than guess.
                return Ok(VerifyReport {
                    size: report.size,
                    ok: false,
                    first_bad_seq: None,
                    problem: Some(format!(
                        "the root at size {} differs from the head: some of its first {} events were rewritten",
                        head.size, head.size
                    )),
                    head: report.head,
                    simulated: report.simulated,
                });
            }
            Ok(report)
        })
    }
}

fn raw_row(conn: &Connection, event: Uuid) -> Result<RawRow> {
    let sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE id = ?1");
    conn.prepare_cached(&sql)?
        .query_row([&event.as_bytes()[..]], RawRow::from_row)
        .optional()?
        .ok_or_else(|| Error::NotFound(format!("event {event}")))
}

fn leaf_of(conn: &Connection, event: Uuid) -> Result<(u64, Hash)> {
    let row = raw_row(conn, event)?;
    Ok((row.seq as u64, row.canonical().leaf_hash()))
}
