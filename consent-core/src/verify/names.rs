//! Strings the scan of `verify` meets on nearly every row (subjects, purposes), each
//! kept once and named by a small id, so a row costs one lookup instead of clones.

use std::collections::HashMap;

/// A hash map with a fast hasher, seeded per process: its keys come from the ledger,
/// so a fixed hash would let whoever chose them make the scan quadratic.
pub(super) type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// Distinct strings, numbered in order of first sight.
#[derive(Default)]
pub(super) struct Names {
    ids: FastMap<Box<str>, u32>,
    names: Vec<Box<str>>,
}

impl Names {
    /// The id of `name`, new if it was not seen before.
    pub(super) fn id(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = u32::try_from(self.names.len()).expect("fewer than 2^32 names");
        self.names.push(name.into());
        self.ids.insert(name.into(), id);
        id
    }

    /// The name of `id`.
    pub(super) fn name(&self, id: u32) -> &str {
        &self.names[id as usize]
    }

    /// How many names there are.
    pub(super) fn len(&self) -> usize {
        self.names.len()
    }

    /// Each id's place among the names in byte order: the order of SQLite's BINARY
    /// collation, so sorting by rank sorts as a table keyed by the names is stored.
    pub(super) fn ranks(&self) -> Vec<u32> {
        let mut by_name: Vec<u32> = (0..self.names.len() as u32).collect();
        by_name.sort_unstable_by(|a, b| self.name(*a).cmp(self.name(*b)));
        let mut rank = vec![0; by_name.len()];
        for (r, id) in by_name.into_iter().enumerate() {
            rank[id as usize] = r as u32;
        }
        rank
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_and_ranks_follow_byte_order() {
        let mut n = Names::default();
        let ids: Vec<u32> = ["b", "a", "é", "b", "B"].iter().map(|s| n.id(s)).collect();
        assert_eq!(ids, [0, 1, 2, 0, 3]);
        assert_eq!(n.name(2), "é");
        assert_eq!(n.len(), 4);
        // "B" < "a" < "b" < "é", bytewise.
        assert_eq!(n.ranks(), [2, 1, 3, 0]);
    }
}
