//! The `tree` table: the stored hashes of every complete subtree (see
//! [`crate::merkle`]), read by the tree algorithms through [`HashStore`].

use rusqlite::types::ValueRef;
use rusqlite::{params, OptionalExtension};

use super::Store;
use crate::error::{Error, Result};
use crate::merkle::{self, Hash, HashStore};

/// The `tree` table as a [`HashStore`].
pub(crate) struct TreeTable<'s>(&'s Store);

impl HashStore for TreeTable<'_> {
    type Error = Error;
    fn stored_hash(&mut self, level: u32, index: u64) -> Result<Hash> {
        let mut stmt = self
            .0
            .conn
            .prepare_cached("SELECT hash FROM tree WHERE level = ?1 AND idx = ?2")?;
        let h: Option<Vec<u8>> = stmt
            .query_row(params![level, index as i64], |r| r.get(0))
            .optional()?;
        let h =
            h.ok_or_else(|| Error::Corrupt(format!("tree hash ({level}, {index}) is missing")))?;
        h.try_into()
            .map_err(|_| Error::Corrupt(format!("tree hash ({level}, {index}) is not 32 bytes")))
    }
}

impl Store {
    /// The stored tree, for the algorithms of [`crate::merkle`].
    pub(crate) fn tree(&self) -> TreeTable<'_> {
        TreeTable(self)
    }

    /// The root of the tree of the first `size` events.
    pub(crate) fn root(&self, size: u64) -> Result<Hash> {
        merkle::root(size, &mut self.tree())
    }

    /// Stores the tree hashes for a new leaf.
    pub(super) fn append_leaf(&self, seq: u64, leaf: Hash) -> Result<()> {
        let rows = merkle::hashes_to_store(seq, leaf, &mut self.tree())?;
        let mut stmt = self
            .conn
            .prepare_cached("INSERT INTO tree(level, idx, hash) VALUES (?1, ?2, ?3)")?;
        for (level, idx, hash) in rows {
            stmt.execute(params![level, idx as i64, &hash[..]])?;
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
        let mut stmt = self.conn.prepare_cached(
            "SELECT idx, hash FROM tree WHERE level = ?1 AND idx >= ?2 AND idx < ?3 ORDER BY idx",
        )?;
        let mut rows = stmt.query(params![level, first as i64, end as i64])?;
        while let Some(r) = rows.next()? {
            let idx = match r.get_ref(0)? {
                ValueRef::Integer(n) => Some(n),
                _ => None,
            };
            let hash = match r.get_ref(1)? {
                ValueRef::Blob(b) => Some(b),
                _ => None,
            };
            if !f(idx, hash) {
                break;
            }
        }
        Ok(())
    }

    /// The lowest tree row that a log of `size` events cannot hold (beyond it, or
    /// malformed), as its (level, idx) where those are integers.
    pub(crate) fn stray_tree_row(&self, size: u64) -> Result<Option<(Option<i64>, Option<i64>)>> {
        Ok(self
            .conn
            .query_row(
                "SELECT CASE typeof(level) WHEN 'integer' THEN level END, \
                 CASE typeof(idx) WHEN 'integer' THEN idx END FROM tree \
                 WHERE typeof(level) != 'integer' OR typeof(idx) != 'integer' OR level < 0 OR level > 63 \
                 OR idx < 0 OR idx >= (?1 >> level) OR typeof(hash) != 'blob' OR length(hash) != 32 \
                 ORDER BY level LIMIT 1",
                params![size as i64],
                |r| Ok((r.get::<_, Option<i64>>(0)?, r.get::<_, Option<i64>>(1)?)),
            )
            .optional()?)
    }
}
