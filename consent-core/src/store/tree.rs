//! The `tree` table: the stored hashes of the log's complete subtrees (see
//! [`crate::merkle`]), read by the tree algorithms through [`HashStore`].
//!
//! Which subtrees are stored (docs/FORMAT.md §2, schema 3): every one of
//! [`TREE_MIN_LEVEL`] and above, and the lower ones only inside the open block — the
//! last, incomplete run of 2^[`TREE_MIN_LEVEL`] leaves. A row per event for ever would
//! cost a fifth of the file; so when a block completes, its node at
//! [`TREE_MIN_LEVEL`] is stored and the rows below it are deleted. A node below that
//! level in a completed block is recomputed from its (at most 16) events. Every event
//! stays covered by a stored hash: the newest ones by their own rows.

use rusqlite::params;
use rusqlite::types::ValueRef;

use super::db::Backend;
use super::row::ALL;
use super::schema::TREE_MIN_LEVEL;
use super::{RawRow, Store};
use crate::error::{Error, Result};
use crate::merkle::{self, Hash, HashStore};

static LEAVES: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT {} FROM events WHERE seq >= ?1 AND seq < ?2 ORDER BY seq",
        ALL.as_str()
    )
});

/// `INSERT INTO tree` of 1, 2, … 64 rows (a leaf stores at most one row per level).
static INSERT_NODES: std::sync::LazyLock<Vec<String>> = std::sync::LazyLock::new(|| {
    (1..=64)
        .map(|n| {
            let rows: Vec<String> = (0..n)
                .map(|i| format!("(?{}, ?{}, ?{})", 3 * i + 1, 3 * i + 2, 3 * i + 3))
                .collect();
            format!(
                "INSERT INTO tree(level, idx, hash) VALUES {}",
                rows.join(", ")
            )
        })
        .collect()
});

/// The `tree` table as a [`HashStore`]: a stored row where there is one, else (below
/// [`TREE_MIN_LEVEL`], outside the open block) the hash recomputed from the events.
pub(crate) struct TreeTable<'s> {
    store: &'s Store,
    /// Whether the nodes kept from committed transactions may answer (appends).
    kept: bool,
}

impl HashStore for TreeTable<'_> {
    type Error = Error;
    fn stored_hash(&mut self, level: u32, index: u64) -> Result<Hash> {
        let store = self.store;
        if let Some(h) = store.known.borrow().nodes.get(&(level, index)) {
            return Ok(*h);
        }
        if self.kept {
            if let Some(h) = store.nodes.borrow().get(&(level, index)) {
                return Ok(*h);
            }
        }
        let h: Option<Vec<u8>> = store.query_row(
            "SELECT hash FROM tree WHERE level = ?1 AND idx = ?2",
            params![level, index as i64],
            |r| r.get(0),
        )?;
        let h = match h {
            Some(h) => h,
            None if level < TREE_MIN_LEVEL => {
                let first = index << level;
                return Ok(merkle::complete_root(
                    &store.leaf_hashes(first, first + (1 << level))?,
                ));
            }
            None => {
                return Err(Error::Corrupt(format!(
                    "tree hash ({level}, {index}) is missing"
                )))
            }
        };
        let h: Hash = h
            .try_into()
            .map_err(|_| Error::Corrupt(format!("tree hash ({level}, {index}) is not 32 bytes")))?;
        if self.kept && store.writing.get() {
            store.known.borrow_mut().nodes.insert((level, index), h);
        }
        Ok(h)
    }
}

impl Store {
    /// The stored tree, for the algorithms of [`crate::merkle`].
    pub(crate) fn tree(&self) -> TreeTable<'_> {
        TreeTable {
            store: self,
            kept: false,
        }
    }

    /// The root of the tree of the first `size` events.
    pub(crate) fn root(&self, size: u64) -> Result<Hash> {
        merkle::root(size, &mut self.tree())
    }

    /// The leaf hashes of the events with `first <= seq < end`, recomputed from their
    /// canonical encodings.
    pub(crate) fn leaf_hashes(&self, first: u64, end: u64) -> Result<Vec<Hash>> {
        let mut out = Vec::with_capacity((end - first) as usize);
        self.query_each(&LEAVES, params![first as i64, end as i64], |r| {
            if r.get::<i64>(0)? != (first + out.len() as u64) as i64 {
                return Ok(false);
            }
            out.push(RawRow::read(r)?.canonical().leaf_hash());
            Ok(true)
        })?;
        if out.len() as u64 != end - first {
            let missing = first + out.len() as u64;
            return Err(Error::Corrupt(format!("event {missing} is missing")));
        }
        Ok(out)
    }

    /// Stores the tree hashes for a new leaf (its left siblings below
    /// [`TREE_MIN_LEVEL`] are rows of the open block). When it completes a block, the
    /// block's rows below that level give way to its node.
    pub(super) fn append_leaf(&self, seq: u64, leaf: Hash) -> Result<()> {
        let mut tree = TreeTable {
            store: self,
            kept: true,
        };
        let rows = merkle::hashes_to_store(seq, leaf, &mut tree)?;
        let block = 1u64 << TREE_MIN_LEVEL;
        let completes = (seq + 1).is_multiple_of(block);
        if self.writing.get() {
            // A node's hash never changes once its subtree is complete; a rollback
            // forgets these with the rest (`Known`).
            let mut known = self.known.borrow_mut();
            if known.nodes.len() > super::MAX_KEPT_NODES {
                known.nodes.clear();
            }
            known
                .nodes
                .extend(rows.iter().map(|&(level, idx, hash)| ((level, idx), hash)));
        }
        // One statement for the leaf's rows (a round trip's worth of server work each).
        let kept: Vec<(i64, i64, &[u8])> = rows
            .iter()
            .filter(|&&(level, _, _)| level >= TREE_MIN_LEVEL || !completes)
            .map(|(level, idx, hash)| (i64::from(*level), *idx as i64, &hash[..]))
            .collect();
        if !kept.is_empty() {
            let params: Vec<&dyn rusqlite::ToSql> = kept
                .iter()
                .flat_map(|(level, idx, hash)| [level as &dyn rusqlite::ToSql, idx, hash])
                .collect();
            self.execute_later(&INSERT_NODES[kept.len() - 1], &params)?;
        }
        if completes {
            let first = seq + 1 - block;
            // The block's rows below the level: at most 2^TREE_MIN_LEVEL - 1 of them.
            // On PostgreSQL through the owner's function, so that the role that
            // appends needs no DELETE on `tree` (docs/POSTGRES.md "Roles").
            match self.backend() {
                Backend::Sqlite => self.execute(
                    "DELETE FROM tree WHERE level < ?1 AND idx >= (?2 >> level) AND idx < (?3 >> level)",
                    params![TREE_MIN_LEVEL, first as i64, (seq + 1) as i64],
                )?,
                Backend::Postgres => {
                    self.execute_later("SELECT complete_block(?1)", params![first as i64])?;
                    0
                }
            };
        }
        Ok(())
    }

    /// Calls `f(idx, hash)` on the stored rows of `level` with `first <= idx < end`,
    /// in order and as stored (`None` for a value of the wrong type), until it returns
    /// false.
    pub(crate) fn each_tree_row(
        &self,
        level: u32,
        first: u64,
        end: u64,
        mut f: impl FnMut(Option<i64>, Option<&[u8]>) -> bool,
    ) -> Result<()> {
        self.query_each(
            "SELECT idx, hash FROM tree WHERE level = ?1 AND idx >= ?2 AND idx < ?3 ORDER BY idx",
            params![level, first as i64, end as i64],
            |r| {
                let idx = match r.get_ref(0)? {
                    ValueRef::Integer(n) => Some(n),
                    _ => None,
                };
                let hash = match r.get_ref(1)? {
                    ValueRef::Blob(b) => Some(b),
                    _ => None,
                };
                Ok(f(idx, hash))
            },
        )
    }

    /// The lowest tree row that a log of `size` events cannot hold (beyond it, below
    /// [`TREE_MIN_LEVEL`] outside the open block, or malformed), as its (level, idx)
    /// where those are integers.
    pub(crate) fn stray_tree_row(&self, size: u64) -> Result<Option<(Option<i64>, Option<i64>)>> {
        // PostgreSQL's columns cannot hold a value of another type; SQLite's can.
        let sql = match self.backend() {
            Backend::Sqlite => {
                "SELECT CASE typeof(level) WHEN 'integer' THEN level END, \
                 CASE typeof(idx) WHEN 'integer' THEN idx END FROM tree \
                 WHERE typeof(level) != 'integer' OR typeof(idx) != 'integer' OR level < 0 OR level > 63 \
                 OR idx < 0 OR idx >= (?1 >> level) OR typeof(hash) != 'blob' OR length(hash) != 32 \
                 OR (level < ?2 AND (idx << level) < (?1 >> ?2 << ?2)) \
                 ORDER BY level LIMIT 1"
            }
            Backend::Postgres => {
                "SELECT level, idx FROM tree \
                 WHERE level < 0 OR level > 63 \
                 OR idx < 0 OR idx >= (?1::bigint >> level::int) OR length(hash) != 32 \
                 OR (level < ?2 AND (idx << level::int) < (?1::bigint >> ?2::int << ?2::int)) \
                 ORDER BY level LIMIT 1"
            }
        };
        self.query_row(sql, params![size as i64, TREE_MIN_LEVEL], |r| {
            Ok((r.get::<Option<i64>>(0)?, r.get::<Option<i64>>(1)?))
        })
    }
}
