//! The tree check of `verify`: every stored tree hash recomputed from the leaves, a
//! chunk of 2^16 leaves at a time. Below [`TREE_MIN_LEVEL`] only the open block's
//! nodes are stored (docs/FORMAT.md §2): a completed block is vouched for by its node.

use crate::error::Result;
use crate::merkle::{self, Hash};
use crate::store::{Store, TREE_MIN_LEVEL};

/// Checks interior tree hashes a chunk of leaves at a time: for each complete aligned
/// subtree inside the chunk, recomputes its hash and compares it with the stored one.
/// Chunks are aligned to 2^16 leaves, so subtrees spanning chunks are checked through
/// the carried `stack` of chunk roots.
pub(super) struct LevelCheck<'s> {
    store: &'s Store,
    /// The first leaf of the open block: nodes below [`TREE_MIN_LEVEL`] are stored from
    /// there on only.
    open: u64,
    /// Roots of complete 2^16-leaf chunks not yet combined: (level, index, hash).
    stack: Vec<(u32, u64, Hash)>,
    pub(super) first_bad: Option<(u64, String)>,
}

impl<'s> LevelCheck<'s> {
    /// A check of the tree of a log of `size` leaves.
    pub(super) fn new(store: &'s Store, size: u64) -> Self {
        LevelCheck {
            store,
            open: size >> TREE_MIN_LEVEL << TREE_MIN_LEVEL,
            stack: Vec::new(),
            first_bad: None,
        }
    }

    fn check(&mut self, level: u32, idx: u64, hash: &Hash) -> Result<()> {
        self.check_range(level, idx, std::slice::from_ref(hash))
    }

    /// Compares `hashes` with the stored hashes at (`level`, `first`..), read in one
    /// range query.
    pub(super) fn check_range(&mut self, level: u32, first: u64, hashes: &[Hash]) -> Result<()> {
        let (first, hashes) = if level < TREE_MIN_LEVEL {
            // Only the open block's nodes are stored this low.
            let from = (self.open >> level).max(first);
            let skip = ((from - first) as usize).min(hashes.len());
            (from, &hashes[skip..])
        } else {
            (first, hashes)
        };
        if self.first_bad.is_some() || hashes.is_empty() {
            return Ok(());
        }
        let end = first + hashes.len() as u64;
        let mut expected = first;
        let mut bad_at = None;
        self.store.each_tree_row(level, first, end, |idx, hash| {
            let idx = idx.map_or(u64::MAX, |n| n as u64);
            let ok = idx == expected && hash == Some(&hashes[(idx - first) as usize][..]);
            if !ok {
                bad_at = Some(expected);
                return false;
            }
            expected += 1;
            true
        })?;
        if bad_at.is_none() && expected < end {
            bad_at = Some(expected);
        }
        if let Some(idx) = bad_at {
            let seq = idx << level;
            self.first_bad = Some((
                seq,
                format!(
                    "tree hash ({level}, {idx}) over events {seq} to {} is wrong or missing: \
                     that hash or one of those events was altered",
                    seq + (1 << level) - 1
                ),
            ));
        }
        Ok(())
    }

    /// The leaf check of `leaves` starting at `base` (a multiple of 2^16): a completed
    /// block's level-[`TREE_MIN_LEVEL`] node stands for its leaves, the open block's
    /// leaves are compared one by one. Blocks come in log order, so the first finding
    /// is the smallest seq.
    pub(super) fn check_leaves(&mut self, base: u64, leaves: &[Hash]) -> Result<()> {
        let block = 1 << TREE_MIN_LEVEL;
        let complete = ((self.open.saturating_sub(base)) as usize).min(leaves.len()) / block;
        let nodes: Vec<Hash> = leaves[..complete * block]
            .chunks_exact(block)
            .map(merkle::complete_root)
            .collect();
        self.check_range(TREE_MIN_LEVEL, base >> TREE_MIN_LEVEL, &nodes)?;
        self.check_range(0, base, leaves)
    }

    /// `leaves` start at `base` (a multiple of 2^16, or the tail). Checks them and every
    /// complete subtree above them; drains `leaves`.
    pub(super) fn feed(&mut self, leaves: &mut Vec<Hash>, base: u64) -> Result<()> {
        let mut cur = std::mem::take(leaves);
        self.check_leaves(base, &cur)?;
        let mut level = 0u32;
        let start = base;
        while cur.len() > 1 {
            let next: Vec<Hash> = cur
                .chunks_exact(2)
                .map(|pair| merkle::node_hash(&pair[0], &pair[1]))
                .collect();
            // `check_leaves` has already compared the level-4 nodes of this chunk.
            if level + 1 != TREE_MIN_LEVEL {
                self.check_range(level + 1, start >> (level + 1), &next)?;
            }
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
