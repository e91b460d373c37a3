//! The ledger as a Merkle log: heads, inclusion and consistency proofs, and
//! `verify`, which recomputes every hash from the stored rows.

use std::fmt;
use std::str::FromStr;

use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::canonical::{parse_hash, personal_digest};
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

    /// Checks the proof against a head of the same size.
    /// A head of another size is an [`Error::InvalidArgument`]; a proof that does not
    /// lead to the head's root is [`Error::ProofRejected`].
    pub fn verify(&self, head: &Head) -> Result<()> {
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
}

impl VerifyReport {
    fn bad(size: u64, seq: u64, problem: String) -> Self {
        VerifyReport {
            size,
            ok: false,
            first_bad_seq: Some(seq),
            problem: Some(problem),
            head: None,
        }
    }
}

impl Ledger {
    /// Inclusion proof of an event in the tree of `tree_size` (default: the current head).
    pub fn prove_inclusion(&self, event: Uuid, tree_size: Option<u64>) -> Result<InclusionProof> {
        self.read_conn(|conn| {
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
        self.read_conn(|conn| Ok(raw_row(conn, event)?.canonical().encode()))
    }

    /// Consistency proof from an earlier head to `new_size` (default: now). Fails if
    /// the ledger's root at the old size differs from the old head's.
    pub fn prove_consistency(
        &self,
        old: &Head,
        new_size: Option<u64>,
    ) -> Result<(ConsistencyProof, Head)> {
        self.read_conn(|conn| {
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
        self.read_conn(|conn| verify_conn(conn, &mut progress))
    }

    /// [`Ledger::verify`], and also checks that the log still extends `head`: catches
    /// a truncated tail or a tail rewritten with a consistent new chain.
    pub fn verify_against(&self, head: &Head) -> Result<VerifyReport> {
        self.read_conn(|conn| {
            let report = verify_conn(conn, &mut |_, _| {})?;
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

fn verify_conn(conn: &Connection, progress: &mut dyn FnMut(u64, u64)) -> Result<VerifyReport> {
    let size = store::size(conn)?;
    let count: i64 = conn.query_row("SELECT count(*) FROM events", [], |r| r.get(0))?;
    // Every row's canonical encoding, recomputed; the leaf hashes are compared with
    // the stored ones a chunk at a time (one range read per 2^16 events).
    let sql = format!("SELECT {EVENT_COLUMNS} FROM events ORDER BY seq");
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query([])?;
    let mut expected: u64 = 0;
    let mut level: Vec<Hash> = Vec::new();
    let mut spill = LevelCheck::new(conn);
    let mut row_problem = None;
    while let Some(r) = rows.next()? {
        let row = RawRow::from_row(r)?;
        if row.seq != expected as i64 {
            let why = format!("event {expected} is missing (next row has seq {})", row.seq);
            row_problem = Some((expected, why));
            break;
        }
        if let Some(problem) = check_row(&row) {
            row_problem = Some((expected, problem));
            break;
        }
        level.push(row.canonical().leaf_hash());
        expected += 1;
        if level.len() == 1 << 16 {
            spill.feed(&mut level, expected - (1 << 16))?;
            if let Some((seq, why)) = spill.first_bad.take() {
                return Ok(VerifyReport::bad(size, seq, why));
            }
            progress(expected, size);
        }
    }
    let base = expected - level.len() as u64;
    if let Some((seq, why)) = row_problem {
        // A bad leaf earlier in the same chunk comes first.
        spill.check_range(0, base, &level)?;
        let (seq, why) = spill.first_bad.take().unwrap_or((seq, why));
        return Ok(VerifyReport::bad(size, seq, why));
    }
    if count as u64 != size {
        return Ok(VerifyReport::bad(
            size,
            expected,
            "row count differs from the highest sequence number".into(),
        ));
    }
    spill.feed(&mut level, base)?;
    if let Some((seq, why)) = spill.first_bad {
        return Ok(VerifyReport::bad(size, seq, why));
    }
    // Tree rows beyond what `size` implies were forged.
    let extra: Option<(i64, i64)> = conn
        .query_row(
            "SELECT CAST(level AS INTEGER), CAST(idx AS INTEGER) FROM tree \
             WHERE typeof(level) != 'integer' OR typeof(idx) != 'integer' OR level < 0 OR level > 63 \
             OR idx < 0 OR idx >= (?1 >> level) OR typeof(hash) != 'blob' OR length(hash) != 32 \
             ORDER BY level LIMIT 1",
            params![size as i64],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    if let Some((lvl, idx)) = extra {
        let seq = u64::try_from(idx)
            .ok()
            .zip(u32::try_from(lvl).ok())
            .and_then(|(i, l)| i.checked_shl(l))
            .unwrap_or(size);
        return Ok(VerifyReport::bad(
            size,
            seq.min(size),
            format!("tree hash ({lvl}, {idx}) lies beyond the log"),
        ));
    }
    match crate::ledger::check_derived(conn) {
        Ok(None) => {}
        Ok(Some((seq, why))) => return Ok(VerifyReport::bad(size, seq, why)),
        // The log is intact but a derived table cannot even be read back.
        Err(
            e @ (Error::Storage(_)
            | Error::Corrupt(_)
            | Error::InvalidArgument(_)
            | Error::InvalidTime(_)),
        ) => {
            return Ok(VerifyReport {
                size,
                ok: false,
                first_bad_seq: None,
                problem: Some(format!("a table derived from the log is unreadable: {e}")),
                head: None,
            })
        }
        Err(e) => return Err(e),
    }
    let root = merkle::root(size, &mut TreeTable(conn))?;
    progress(size, size);
    Ok(VerifyReport {
        size,
        ok: true,
        first_bad_seq: None,
        problem: None,
        head: Some(Head { size, root }),
    })
}

/// Row checks beyond the leaf hash: storage types, and personal fields against their digest.
fn check_row(row: &RawRow) -> Option<String> {
    let seq = row.seq;
    if let Some(column) = row.malformed {
        return Some(format!(
            "event {seq}: column `{column}` holds a value of the wrong type or invalid UTF-8"
        ));
    }
    if let Some(salt) = &row.salt {
        let d = personal_digest(
            salt,
            row.subject.as_deref(),
            row.source_id.as_deref(),
            row.evidence.as_deref(),
        );
        if row.personal_digest.as_deref() != Some(&d[..]) {
            return Some(format!(
                "event {seq}: personal fields do not match their digest"
            ));
        }
    } else if row.subject.is_some() || row.source_id.is_some() || row.evidence.is_some() {
        return Some(format!(
            "event {seq}: personal fields present without their salt"
        ));
    }
    None
}

/// Checks interior tree hashes a chunk of leaves at a time: for each complete aligned
/// subtree inside the chunk, recomputes its hash and compares it with the stored one.
/// Chunks are aligned to 2^16 leaves, so subtrees spanning chunks are checked through
/// the carried `stack` of chunk roots.
struct LevelCheck<'c> {
    conn: &'c Connection,
    /// Roots of complete 2^16-leaf chunks not yet combined: (level, index, hash).
    stack: Vec<(u32, u64, Hash)>,
    first_bad: Option<(u64, String)>,
}

impl<'c> LevelCheck<'c> {
    fn new(conn: &'c Connection) -> Self {
        LevelCheck {
            conn,
            stack: Vec::new(),
            first_bad: None,
        }
    }

    fn check(&mut self, level: u32, idx: u64, hash: &Hash) -> Result<()> {
        self.check_range(level, idx, std::slice::from_ref(hash))
    }

    /// Compares `hashes` with the stored hashes at (`level`, `first`..), read in one
    /// range query.
    fn check_range(&mut self, level: u32, first: u64, hashes: &[Hash]) -> Result<()> {
        if self.first_bad.is_some() || hashes.is_empty() {
            return Ok(());
        }
        let mut stmt = self.conn.prepare_cached(
            "SELECT idx, hash FROM tree WHERE level = ?1 AND idx >= ?2 AND idx < ?3 ORDER BY idx",
        )?;
        let end = first + hashes.len() as u64;
        let mut rows = stmt.query(params![level, first as i64, end as i64])?;
        let mut expected = first;
        let mut bad_at = None;
        while let Some(r) = rows.next()? {
            let idx = match r.get_ref(0)? {
                rusqlite::types::ValueRef::Integer(n) => n as u64,
                _ => u64::MAX,
            };
            let ok = idx == expected
                && matches!(r.get_ref(1)?, rusqlite::types::ValueRef::Blob(b) if b == &hashes[(idx - first) as usize][..]);
            if !ok {
                bad_at = Some(expected);
                break;
            }
            expected += 1;
        }
        if bad_at.is_none() && expected < end {
            bad_at = Some(expected);
        }
        if let Some(idx) = bad_at {
            let seq = idx << level;
            self.first_bad = Some((
                seq,
                format!(
                    "tree hash ({level}, {idx}) covering events from {seq} is wrong or missing"
                ),
            ));
        }
        Ok(())
    }

    /// `leaves` start at `base` (a multiple of 2^16, or the tail). Checks them and every
    /// complete subtree above them; drains `leaves`.
    fn feed(&mut self, leaves: &mut Vec<Hash>, base: u64) -> Result<()> {
        let mut cur = std::mem::take(leaves);
        self.check_range(0, base, &cur)?;
        let mut level = 0u32;
        let start = base;
        while cur.len() > 1 {
            let next: Vec<Hash> = cur
                .chunks_exact(2)
                .map(|pair| merkle::node_hash(&pair[0], &pair[1]))
                .collect();
            self.check_range(level + 1, start >> (level + 1), &next)?;
            level += 1;
            cur = next;
            if self.first_bad.is_some() {
                return Ok(());
            }
        }
        if let [root] = cur[..] {
            if level == 16 {
                // A complete chunk: combine with earlier chunk roots of the same level.
                let mut node = (level, base >> level, root);
                while let Some(&(l, i, h)) = self.stack.last() {
                    if l != node.0 || i + 1 != node.1 || i % 2 != 0 {
                        break;
                    }
                    self.stack.pop();
                    let parent = (l + 1, i / 2, merkle::node_hash(&h, &node.2));
                    self.check(parent.0, parent.1, &parent.2)?;
                    node = parent;
                }
                self.stack.push(node);
            }
        }
        Ok(())
    }
}
