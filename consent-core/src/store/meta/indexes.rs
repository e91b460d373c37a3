//! Every index compared with its table, by sequential reads only: the part of
//! `PRAGMA integrity_check` that `quick_check` leaves out, which SQLite does with one
//! random index lookup per row and index.
//!
//! The table is read once in its own order; each index is read in its own order
//! through a covering query. An index is sound when its entries are strictly in
//! order (so a lookup finds them), its unique keys differ, and it holds exactly one
//! entry per row its `WHERE` admits, carrying that row's values — as SQLite counts
//! them, so an entry a query cannot reach is counted too.
//!
//! `events` rows are found by rowid (the table's keys, kept in memory by position).
//! The other tables (schema 3) have no index but their primary key, the table's own
//! b-tree: each is read in that order and its keys must ascend strictly, which
//! `integrity_check` checks and `quick_check` does not.

use rusqlite::types::ValueRef;
use rusqlite::Row;

use super::keys::{encode, OrderCheck};
use crate::error::Result;
use crate::store::db::Backend;
use crate::store::Store;

/// The columns of `events` the indexes hold or filter on, as the table scan selects
/// them.
const EVENT_COLUMNS: [&str; 8] = [
    "seq",
    "id",
    "subject",
    "purpose",
    "subject_key",
    "source_key",
    "kind",
    "effect_deadline",
];
/// How many columns the table scan reads.
const N: usize = EVENT_COLUMNS.len();
const SUBJECT: usize = 2;
const SUBJECT_KEY: usize = 4;
const SOURCE_KEY: usize = 5;
const KIND: usize = 6;
const EFFECT_DEADLINE: usize = 7;

/// Whether a row's `kind` is a downstream system's (the `WHERE` of
/// `events_of_downstreams`).
fn of_downstreams(kind: ValueRef<'_>) -> bool {
    matches!(
        kind,
        ValueRef::Text(b"downstream_registered" | b"downstream_acknowledged")
    )
}

/// Rows of `events` sharing which index entries they have (two indexes hold the same
/// columns of the same rows): the columns, in this order, and which rows.
struct Group {
    cols: &'static [usize],
    admits: fn(&[ValueRef<'_>; N]) -> bool,
}

const GROUPS: [Group; 6] = [
    Group {
        cols: &[1],
        admits: |_| true,
    },
    Group {
        cols: &[2, 3],
        admits: |v| v[SUBJECT] != ValueRef::Null,
    },
    Group {
        cols: &[4],
        admits: |v| v[SUBJECT] == ValueRef::Null && v[SUBJECT_KEY] != ValueRef::Null,
    },
    Group {
        cols: &[5],
        admits: |v| v[SOURCE_KEY] != ValueRef::Null,
    },
    Group {
        cols: &[0],
        admits: |v| of_downstreams(v[KIND]),
    },
    Group {
        cols: &[0],
        admits: |v| v[EFFECT_DEADLINE] != ValueRef::Null,
    },
];

/// An index of `events`: its name, its group, its key columns in index order, its
/// `WHERE` (as the schema text has it), and whether its keys are unique.
struct EventIndex {
    name: &'static str,
    group: usize,
    cols: &'static [usize],
    filter: &'static str,
    unique: bool,
}

/// Every index of `events` in the schema (a test holds this list to the schema's).
const EVENT_INDEXES: [EventIndex; 6] = [
    EventIndex {
        name: "sqlite_autoindex_events_1",
        group: 0,
        cols: &[1],
        filter: "",
        unique: true,
    },
    EventIndex {
        name: "events_by_subject",
        group: 1,
        cols: &[2, 3],
        filter: "WHERE subject IS NOT NULL",
        unique: false,
    },
    EventIndex {
        name: "events_by_erased_key",
        group: 2,
        cols: &[4],
        filter: "WHERE subject IS NULL AND subject_key IS NOT NULL",
        unique: false,
    },
    EventIndex {
        name: "events_by_source",
        group: 3,
        cols: &[5],
        filter: "WHERE source_key IS NOT NULL",
        unique: true,
    },
    EventIndex {
        name: "events_of_downstreams",
        group: 4,
        cols: &[0],
        filter: "WHERE kind IN ('downstream_registered', 'downstream_acknowledged')",
        unique: false,
    },
    EventIndex {
        name: "events_with_deadline",
        group: 5,
        cols: &[0],
        filter: "WHERE effect_deadline IS NOT NULL",
        unique: false,
    },
];

/// Every `WITHOUT ROWID` table of the schema and its primary key, in key order (a test
/// holds this list to the schema's).
const KEYED_TABLES: [(&str, &str); 7] = [
    ("meta", "key"),
    ("checkpoints", "size"),
    ("tree", "level, idx"),
    ("purposes", "id, version"),
    ("notices", "id, version"),
    ("current", "purpose, subject, recipient"),
    ("erased", "subject_key"),
];

/// The index entries `events` rows call for, by row position.
struct EventKeys {
    /// Rowids in table order (ascending: `quick_check` checks it).
    rowids: Vec<i64>,
    /// Whether rowid `i` is at position `i` for every row (the usual case).
    dense: bool,
    /// Encoded keys of every group, one after the other.
    arena: Vec<u8>,
    /// Per group and position: where its key starts in `arena`, `usize::MAX` if the
    /// group does not admit the row.
    starts: [Vec<usize>; GROUPS.len()],
}

impl EventKeys {
    fn position(&self, rowid: i64) -> Option<usize> {
        if self.dense {
            usize::try_from(rowid)
                .ok()
                .filter(|&p| p < self.rowids.len())
        } else {
            self.rowids.binary_search(&rowid).ok()
        }
    }
}

/// Index entries checked a batch at a time, in index order: the order first, then
/// each entry against its row's key. The rows' keys are reached at random, so each
/// pass over a batch does one kind of lookup, letting the processor overlap their
/// cache misses instead of waiting on one per SQLite step.
struct EntryCheck<'k> {
    keys: &'k EventKeys,
    starts: &'k [usize],
    order: OrderCheck,
    /// Whether a row's entry was seen, by position.
    seen: Vec<bool>,
    /// The batch: keys in index order, and in the group's order when that differs.
    ordered: Vec<u8>,
    key: Vec<u8>,
    /// Per entry: its rowid and where its keys end.
    entries: Vec<(i64, usize, usize)>,
    /// Per entry: its row's position and where the row's key starts in the arena
    /// (`usize::MAX`: the row has none), `None` if no row has its rowid.
    slots: Vec<Option<(usize, usize)>>,
    /// The first problem, in index order.
    problem: Option<String>,
}

/// Entries per batch.
const BATCH: usize = 256;

impl<'k> EntryCheck<'k> {
    fn new(keys: &'k EventKeys, index: &EventIndex) -> Self {
        EntryCheck {
            keys,
            starts: &keys.starts[index.group],
            order: OrderCheck::new(index.cols.len(), index.unique),
            seen: vec![false; keys.rowids.len()],
            ordered: Vec::new(),
            key: Vec::new(),
            entries: Vec::with_capacity(BATCH),
            slots: Vec::with_capacity(BATCH),
            problem: None,
        }
    }

    /// Ends the entry whose keys were just encoded into `ordered` (and `key`).
    fn push(&mut self, rowid: i64) {
        self.entries
            .push((rowid, self.ordered.len(), self.key.len()));
        if self.entries.len() == BATCH {
            self.settle();
        }
    }

    /// Checks the batch and empties it.
    fn settle(&mut self) {
        // The first entry out of order, with its problem.
        let mut first: Option<(usize, String)> = None;
        let mut at = 0;
        for (i, &(rowid, end, _)) in self.entries.iter().enumerate() {
            if let Some(why) = self.order.next(&self.ordered[at..end], rowid) {
                first.get_or_insert_with(|| (i, format!("{why} (row {rowid})")));
            }
            at = end;
        }
        // Each entry's row, and where that row's key starts.
        self.slots.clear();
        for &(rowid, _, _) in &self.entries {
            let slot = self.keys.position(rowid).map(|p| (p, self.starts[p]));
            self.slots.push(slot);
        }
        let (mut at_ordered, mut at_key) = (0, 0);
        for (i, (&(rowid, end, key_end), slot)) in self.entries.iter().zip(&self.slots).enumerate()
        {
            let key = if self.key.is_empty() {
                &self.ordered[at_ordered..end]
            } else {
                &self.key[at_key..key_end]
            };
            (at_ordered, at_key) = (end, key_end);
            let matches = slot.is_some_and(|(p, s)| {
                let fresh = !std::mem::replace(&mut self.seen[p], true);
                fresh && s != usize::MAX && self.keys.arena.get(s..s + key.len()) == Some(key)
            });
            if !matches && first.as_ref().is_none_or(|(j, _)| i < *j) {
                first = Some((
                    i,
                    format!("an entry for row {rowid} differs from the table"),
                ));
            }
        }
        if let Some((_, why)) = first {
            self.problem.get_or_insert(why);
        }
        self.entries.clear();
        self.ordered.clear();
        self.key.clear();
    }
}

/// A value of a row, read without failing (an unreadable value counts as NULL, and
/// `quick_check` has vouched for the record already).
fn value<'r>(r: &'r Row<'_>, i: usize) -> ValueRef<'r> {
    r.get_ref(i).unwrap_or(ValueRef::Null)
}

impl Store {
    /// Every index compared with its table (see the module doc): one line per index
    /// that disagrees, naming it; empty when all agree.
    pub(crate) fn index_problems(&self) -> Result<Vec<String>> {
        let mut problems = Vec::new();
        if self.backend() == Backend::Postgres {
            // PostgreSQL's own indexes are its to keep (`amcheck` checks them); the
            // rows `verify` reads come from the tables.
            return Ok(problems);
        }
        self.check_table_order(&mut problems)?;
        self.check_event_indexes(&mut problems)?;
        Ok(problems)
    }

    /// How many entries SQLite's b-tree of index `name` holds, whatever their values.
    fn index_cells(&self, name: &str) -> Result<i64> {
        Ok(self.lite()?.query_row(
            "SELECT ncell FROM dbstat('main', 1) WHERE name = ?1",
            [name],
            |r| r.get(0),
        )?)
    }

    /// Every `WITHOUT ROWID` table read in its own b-tree order holds its primary keys
    /// strictly ascending: `integrity_check` checks it, `quick_check` does not, and a
    /// lookup in a table stored out of order misses rows (a recipient's withdrawal in
    /// `current`, an erased subject in `erased`).
    fn check_table_order(&self, problems: &mut Vec<String>) -> Result<()> {
        for (table, key) in KEYED_TABLES {
            let n = key.split(", ").count();
            let mut stmt = self
                .lite()?
                .prepare(&format!("SELECT {key} FROM {table} NOT INDEXED"))?;
            let mut rows = stmt.query([])?;
            let mut check = OrderCheck::new(n, true);
            let mut buf = Vec::new();
            while let Some(r) = rows.next()? {
                buf.clear();
                for i in 0..n {
                    encode(value(r, i), &mut buf);
                }
                if let Some(why) = check.next(&buf, 0) {
                    problems.push(format!("table {table}: primary key {why}"));
                    break;
                }
            }
        }
        Ok(())
    }

    fn check_event_indexes(&self, problems: &mut Vec<String>) -> Result<()> {
        let mut keys = EventKeys {
            rowids: Vec::new(),
            dense: true,
            arena: Vec::new(),
            starts: Default::default(),
        };
        let sql = format!(
            "SELECT {} FROM events NOT INDEXED ORDER BY seq",
            EVENT_COLUMNS.join(", ")
        );
        let mut stmt = self.lite()?.prepare(&sql)?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let v: [ValueRef<'_>; N] = std::array::from_fn(|i| value(r, i));
            let rowid = match v[0] {
                ValueRef::Integer(n) => n,
                _ => i64::MIN,
            };
            keys.dense &= rowid == keys.rowids.len() as i64;
            keys.rowids.push(rowid);
            for (g, group) in GROUPS.iter().enumerate() {
                let start = if (group.admits)(&v) {
                    let s = keys.arena.len();
                    for &c in group.cols {
                        encode(v[c], &mut keys.arena);
                    }
                    s
                } else {
                    usize::MAX
                };
                keys.starts[g].push(start);
            }
        }
        let admitted: [usize; GROUPS.len()] =
            std::array::from_fn(|g| keys.starts[g].iter().filter(|&&s| s != usize::MAX).count());
        for index in &EVENT_INDEXES {
            let names: Vec<&str> = index.cols.iter().map(|&c| EVENT_COLUMNS[c]).collect();
            let names = names.join(", ");
            let sql = format!(
                "SELECT {names}, seq FROM events INDEXED BY {} {} ORDER BY {names}, seq",
                index.name, index.filter
            );
            let group = &GROUPS[index.group];
            let mut check = EntryCheck::new(&keys, index);
            let mut found = 0usize;
            let mut stmt = self.lite()?.prepare(&sql)?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                let mut v = [ValueRef::Null; N];
                for (i, &c) in index.cols.iter().enumerate() {
                    v[c] = value(r, i);
                    encode(v[c], &mut check.ordered);
                }
                if group.cols != index.cols {
                    for &c in group.cols {
                        encode(v[c], &mut check.key);
                    }
                }
                let rowid = match value(r, index.cols.len()) {
                    ValueRef::Integer(n) => n,
                    _ => i64::MIN,
                };
                found += 1;
                check.push(rowid);
            }
            check.settle();
            let mut problem = check.problem;
            if problem.is_none() && found != admitted[index.group] {
                problem = Some(format!(
                    "wrong # of entries ({found} for {} rows)",
                    admitted[index.group]
                ));
            }
            if problem.is_none() && self.index_cells(index.name)? != found as i64 {
                problem = Some("it holds entries no query reaches".into());
            }
            if let Some(why) = problem {
                problems.push(format!("index {}: {why}", index.name));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lists above are every index the schema creates.
    #[test]
    fn every_index_of_the_schema_is_checked() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        crate::store::schema::create_schema(&conn).unwrap();
        let mut have: Vec<String> = conn
            .prepare("SELECT name FROM sqlite_schema WHERE type = 'index' ORDER BY name")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        // The primary keys of WITHOUT ROWID tables are the tables themselves.
        have.retain(|n| {
            !KEYED_TABLES
                .iter()
                .any(|(t, _)| n == &format!("sqlite_autoindex_{t}_1"))
        });
        let keyed: Vec<String> = conn
            .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND sql LIKE '%WITHOUT ROWID%' ORDER BY name")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        let mut listed: Vec<String> = KEYED_TABLES.iter().map(|(t, _)| t.to_string()).collect();
        listed.sort();
        assert_eq!(keyed, listed);
        let mut want: Vec<String> = EVENT_INDEXES.iter().map(|i| i.name.to_string()).collect();
        want.sort();
        assert_eq!(have, want);
    }

    /// A store whose indexes hold what SQLite builds, then `tamper` run on it.
    fn tampered(tamper: &str) -> Vec<String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("l.db");
        let options = crate::options::LedgerOptions::default();
        let (store, _) = Store::open_file(&path, &options).unwrap();
        store.create_schema().unwrap();
        store.lite().unwrap()
            .execute_batch(
                "INSERT INTO events(seq, id, kind, subject, purpose, explicit, recorded_by, effective_at,
                     recorded_at, source_key, encoding)
                 VALUES (0, x'00', 'granted', 'a', 'p', 0, 'subject', 0, 0, x'01', 2),
                        (1, x'01', 'granted', 'b', 'p', 0, 'subject', 0, 0, x'02', 2),
                        (2, x'02', 'withdrawn', 'a', 'p', 0, 'subject', 0, 0, NULL, 2);
                 INSERT INTO current VALUES ('a', 'p', '', 'withdrawn', 2, x'02', 0, NULL, 0),
                                            ('b', 'p', '', 'granted', 1, x'01', 0, NULL, 0),
                                            ('a', 'q', '', 'granted', 1, x'01', 0, NULL, 0);",
            )
            .unwrap();
        store.close().unwrap();
        // Tampered as an attacker would, by another connection; then opened afresh.
        rusqlite::Connection::open(&path)
            .unwrap()
            .execute_batch(tamper)
            .unwrap();
        let (store, _) = Store::open_file(&path, &options).unwrap();
        // (`quick_check` counts the entries of an index without a `WHERE` too.)
        store.index_problems().unwrap()
    }

    /// Rebuilds index `name` of `table` with `WHERE extra`, then puts its schema text back.
    fn rebuilt(name: &str, table: &str, cols: &str, filter: &str, extra: &str) -> String {
        let and = if filter.is_empty() { "WHERE" } else { "AND" };
        format!(
            "CREATE TEMP TABLE saved AS SELECT sql FROM sqlite_schema WHERE name = '{name}';
             DROP INDEX {name}; CREATE INDEX {name} ON {table}({cols}){filter} {and} {extra};
             PRAGMA writable_schema = ON;
             UPDATE sqlite_schema SET sql = (SELECT sql FROM saved) WHERE name = '{name}';
             PRAGMA writable_schema = OFF;"
        )
    }

    #[test]
    fn sound_indexes_pass() {
        assert_eq!(tampered(""), Vec::<String>::new());
    }

    #[test]
    fn an_index_missing_a_row_is_named() {
        let sql = rebuilt(
            "events_by_subject",
            "events",
            "subject, purpose",
            " WHERE subject IS NOT NULL",
            "kind != 'withdrawn'",
        );
        let p = tampered(&sql);
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(
            p[0].starts_with("index events_by_subject: wrong # of entries"),
            "{p:?}"
        );
    }

    /// An insider who drops a withdrawal's entry from `events_with_deadline` (so that
    /// no downstream deadline is ever computed for it) or an acknowledgement's from
    /// `events_of_downstreams` (so that a feed's cursor moves back) is named.
    #[test]
    fn an_index_of_deadlines_or_downstream_events_missing_a_row_is_named() {
        let deadline = rebuilt(
            "events_with_deadline",
            "events",
            "seq",
            " WHERE effect_deadline IS NOT NULL",
            "kind != 'withdrawn'",
        );
        let p = tampered(&format!(
            "UPDATE events SET effect_deadline = 5 WHERE seq = 2; {deadline}"
        ));
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(
            p[0].starts_with("index events_with_deadline: wrong # of entries (0 for 1 rows)"),
            "{p:?}"
        );
        let downstream = rebuilt(
            "events_of_downstreams",
            "events",
            "seq",
            " WHERE kind IN ('downstream_registered', 'downstream_acknowledged')",
            "seq != 1",
        );
        let p = tampered(&format!(
            "UPDATE events SET kind = 'downstream_acknowledged' WHERE seq = 1; {downstream}"
        ));
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(
            p[0].starts_with("index events_of_downstreams: wrong # of entries (0 for 1 rows)"),
            "{p:?}"
        );
        // Sound, both pass.
        assert_eq!(
            tampered(
                "UPDATE events SET effect_deadline = 5 WHERE seq = 2;
                 UPDATE events SET kind = 'downstream_acknowledged' WHERE seq = 1;"
            ),
            Vec::<String>::new()
        );
    }

    /// An entry that differs from its row many batches into an index is named by
    /// that row, and only it.
    #[test]
    fn a_wrong_entry_deep_in_an_index_is_named() {
        let index = rebuilt(
            "events_by_subject",
            "events",
            "subject, kind",
            " WHERE subject IS NOT NULL",
            "1",
        );
        let p = tampered(&format!(
            "WITH RECURSIVE n(i) AS (SELECT 3 UNION ALL SELECT i + 1 FROM n WHERE i < 1999)
             INSERT INTO events(seq, id, kind, subject, purpose, explicit, recorded_by,
                 effective_at, recorded_at, encoding)
             SELECT i, CAST(printf('%08d', i) AS BLOB), 'p', printf('s%05d', i), 'p', 0,
                 'subject', 0, 0, 2 FROM n;
             UPDATE events SET kind = purpose;
             UPDATE events SET kind = 'x' WHERE seq = 1500;
             {index}"
        ));
        assert_eq!(
            p,
            ["index events_by_subject: an entry for row 1500 differs from the table"]
        );
    }

    /// `current` rebuilt with its rows in another order under the same schema text:
    /// a lookup would miss rows; `quick_check` passes it, the order check does not.
    #[test]
    fn a_table_stored_out_of_key_order_is_named() {
        let p = tampered(
            "CREATE TEMP TABLE saved AS SELECT sql FROM sqlite_schema WHERE name = 'current';
             CREATE TABLE c2(purpose TEXT NOT NULL, subject TEXT NOT NULL, recipient TEXT NOT NULL,
                 state TEXT NOT NULL, seq INTEGER NOT NULL, event_id BLOB NOT NULL,
                 since INTEGER NOT NULL, until INTEGER, last_effective INTEGER NOT NULL,
                 PRIMARY KEY(purpose DESC, subject, recipient)) WITHOUT ROWID;
             INSERT INTO c2 SELECT * FROM current;
             DROP TABLE current;
             ALTER TABLE c2 RENAME TO current;
             PRAGMA writable_schema = ON;
             UPDATE sqlite_schema SET sql = (SELECT sql FROM saved) WHERE name = 'current';
             PRAGMA writable_schema = OFF;",
        );
        assert_eq!(
            p,
            ["table current: primary key entries out of order"],
            "{p:?}"
        );
    }
}
