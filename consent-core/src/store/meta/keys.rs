//! Keys of SQLite values as the integrity checks hold them: encoded so equal keys
//! have equal bytes, and ordered as SQLite orders them (BINARY collation).

use std::cmp::Ordering;

use rusqlite::types::ValueRef;

/// Appends a value, self-delimiting: two keys of the same columns are equal exactly
/// when their encodings are.
pub(super) fn encode(v: ValueRef<'_>, out: &mut Vec<u8>) {
    let bytes = |tag: u8, b: &[u8], out: &mut Vec<u8>| {
        out.push(tag);
        out.extend_from_slice(&(b.len() as u64).to_le_bytes());
        out.extend_from_slice(b);
    };
    match v {
        ValueRef::Null => out.push(0),
        ValueRef::Integer(n) => {
            out.push(1);
            out.extend_from_slice(&n.to_le_bytes());
        }
        ValueRef::Real(f) => {
            out.push(2);
            out.extend_from_slice(&f.to_bits().to_le_bytes());
        }
        ValueRef::Text(b) => bytes(3, b, out),
        ValueRef::Blob(b) => bytes(4, b, out),
    }
}

/// Reads back one value [`encode`] wrote; the rest.
fn decode(b: &[u8]) -> (ValueRef<'_>, &[u8]) {
    let word = |b: &[u8]| u64::from_le_bytes(b[..8].try_into().unwrap_or_default());
    match b[0] {
        0 => (ValueRef::Null, &b[1..]),
        1 => (ValueRef::Integer(word(&b[1..]) as i64), &b[9..]),
        2 => (ValueRef::Real(f64::from_bits(word(&b[1..]))), &b[9..]),
        tag => {
            let n = word(&b[1..]) as usize;
            let (v, rest) = b[9..].split_at(n);
            let v = if tag == 3 {
                ValueRef::Text(v)
            } else {
                ValueRef::Blob(v)
            };
            (v, rest)
        }
    }
}

/// SQLite's order of two values under the BINARY collation: NULL, numbers, text, blobs.
fn cmp_values(a: ValueRef<'_>, b: ValueRef<'_>) -> Ordering {
    let rank = |v: &ValueRef<'_>| match v {
        ValueRef::Null => 0,
        ValueRef::Integer(_) | ValueRef::Real(_) => 1,
        ValueRef::Text(_) => 2,
        ValueRef::Blob(_) => 3,
    };
    let num = |v: &ValueRef<'_>| match *v {
        ValueRef::Integer(n) => n as f64,
        ValueRef::Real(f) => f,
        _ => 0.0,
    };
    match (a, b) {
        (ValueRef::Integer(x), ValueRef::Integer(y)) => x.cmp(&y),
        (ValueRef::Text(x), ValueRef::Text(y)) | (ValueRef::Blob(x), ValueRef::Blob(y)) => x.cmp(y),
        _ => rank(&a)
            .cmp(&rank(&b))
            .then_with(|| num(&a).partial_cmp(&num(&b)).unwrap_or(Ordering::Equal)),
    }
}

/// Compares two encoded keys of the same `n` columns, column by column.
fn cmp_keys(mut a: &[u8], mut b: &[u8], n: usize) -> Ordering {
    for _ in 0..n {
        let (x, ra) = decode(a);
        let (y, rb) = decode(b);
        match cmp_values(x, y) {
            Ordering::Equal => (a, b) = (ra, rb),
            other => return other,
        }
    }
    Ordering::Equal
}

/// Checks that entries arrive strictly in index order and, for a unique index, with
/// distinct keys. Keys are encoded without the rowid, which breaks ties.
pub(super) struct OrderCheck {
    prev: Vec<u8>,
    prev_rowid: i64,
    started: bool,
    cols: usize,
    unique: bool,
}

impl OrderCheck {
    pub(super) fn new(cols: usize, unique: bool) -> Self {
        OrderCheck {
            prev: Vec::new(),
            prev_rowid: 0,
            started: false,
            cols,
            unique,
        }
    }

    /// The problem with `key` (then `rowid`) coming next, if any.
    pub(super) fn next(&mut self, key: &[u8], rowid: i64) -> Option<&'static str> {
        let problem = if !self.started {
            None
        } else {
            match cmp_keys(&self.prev, key, self.cols) {
                Ordering::Greater => Some("entries out of order"),
                Ordering::Equal if self.unique => Some("non-unique entry"),
                Ordering::Equal if self.prev_rowid >= rowid => Some("entries out of order"),
                _ => None,
            }
        };
        self.started = true;
        self.prev.clear();
        self.prev.extend_from_slice(key);
        self.prev_rowid = rowid;
        problem
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_order_as_sqlite_orders_them() {
        use ValueRef::*;
        let vals = [
            Null,
            Integer(-3),
            Real(-2.5),
            Integer(2),
            Text(b"a"),
            Text(b"b"),
            Blob(b""),
        ];
        for (i, a) in vals.iter().enumerate() {
            for (j, b) in vals.iter().enumerate() {
                assert_eq!(cmp_values(*a, *b), i.cmp(&j), "{a:?} {b:?}");
                let (mut x, mut y) = (Vec::new(), Vec::new());
                encode(*a, &mut x);
                encode(*b, &mut y);
                assert_eq!(cmp_keys(&x, &y, 1), i.cmp(&j));
                assert_eq!(decode(&x).0, *a);
            }
        }
    }
}
