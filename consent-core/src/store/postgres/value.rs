//! Values between rusqlite's storage classes and PostgreSQL's types: a parameter is
//! sent as the type PostgreSQL inferred for its placeholder, a column comes back as
//! the storage class SQLite would have given it (BIGINT as INTEGER, BYTEA as BLOB,
//! TEXT as TEXT), so the store reads rows of both databases with one code.

use std::error::Error as StdError;

use rusqlite::types::{Value, ValueRef};
use tokio_postgres::types::{to_sql_checked, FromSql, IsNull, ToSql, Type};

type BoxError = Box<dyn StdError + Sync + Send>;

/// A parameter as rusqlite holds it, sent to PostgreSQL as the placeholder's type.
#[derive(Debug)]
pub(super) struct Param<'a>(pub ValueRef<'a>);

impl ToSql for Param<'_> {
    fn to_sql(&self, ty: &Type, out: &mut bytes::BytesMut) -> Result<IsNull, BoxError> {
        match (self.0, ty) {
            (ValueRef::Null, _) => Ok(IsNull::Yes),
            (ValueRef::Integer(n), &Type::INT8) => n.to_sql(ty, out),
            (ValueRef::Integer(n), &Type::INT4) => i32::try_from(n)?.to_sql(ty, out),
            (ValueRef::Integer(n), &Type::INT2) => i16::try_from(n)?.to_sql(ty, out),
            (ValueRef::Integer(n), &Type::BOOL) => (n != 0).to_sql(ty, out),
            (ValueRef::Real(f), &Type::FLOAT8) => f.to_sql(ty, out),
            (ValueRef::Text(t), &Type::TEXT | &Type::VARCHAR | &Type::BPCHAR | &Type::NAME) => {
                out.extend_from_slice(t);
                Ok(IsNull::No)
            }
            (ValueRef::Blob(b), &Type::BYTEA) => {
                out.extend_from_slice(b);
                Ok(IsNull::No)
            }
            (v, ty) => Err(format!(
                "a {} value cannot be bound to a parameter of type {ty}",
                v.data_type()
            )
            .into()),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// A column value read as the storage class SQLite would have given it.
pub(super) struct Cell(pub Value);

impl<'a> FromSql<'a> for Cell {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        Ok(Cell(match *ty {
            Type::INT8 => Value::Integer(i64::from_sql(ty, raw)?),
            Type::INT4 => Value::Integer(i32::from_sql(ty, raw)?.into()),
            Type::INT2 => Value::Integer(i16::from_sql(ty, raw)?.into()),
            Type::OID => Value::Integer(u32::from_sql(ty, raw)?.into()),
            Type::BOOL => Value::Integer(bool::from_sql(ty, raw)?.into()),
            Type::FLOAT8 => Value::Real(f64::from_sql(ty, raw)?),
            Type::FLOAT4 => Value::Real(f32::from_sql(ty, raw)?.into()),
            Type::BYTEA => Value::Blob(raw.to_vec()),
            Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => {
                Value::Text(String::from_sql(ty, raw)?)
            }
            _ => return Err(format!("a column of type {ty} is not read by the ledger").into()),
        }))
    }

    fn from_sql_null(_: &Type) -> Result<Self, BoxError> {
        Ok(Cell(Value::Null))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

/// Rewrites the SQL both databases share for PostgreSQL: `?N` placeholders become
/// `$N` (a bare `?` takes one more than the largest number so far, as SQLite numbers
/// it), and SQLite's planner hints (`INDEXED BY
/// name`, `NOT INDEXED`) go. Quoted text and identifiers are left as they are.
pub(super) fn translate(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut largest = 0u32;
    let mut chars = sql.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '\'' | '"' => {
                out.push(c);
                for (_, d) in chars.by_ref() {
                    out.push(d);
                    if d == c {
                        break;
                    }
                }
            }
            '?' => {
                let mut digits = String::new();
                while let Some(&(_, d)) = chars.peek() {
                    if !d.is_ascii_digit() {
                        break;
                    }
                    digits.push(d);
                    chars.next();
                }
                let n = match digits.parse::<u32>() {
                    Ok(n) => n,
                    Err(_) => largest + 1,
                };
                largest = largest.max(n);
                digits = n.to_string();
                out.push('$');
                out.push_str(&digits);
            }
            _ if starts_word(sql, i, "NOT INDEXED") => {
                for _ in 1.."NOT INDEXED".len() {
                    chars.next();
                }
            }
            _ if starts_word(sql, i, "INDEXED BY ") => {
                for _ in 1.."INDEXED BY ".len() {
                    chars.next();
                }
                // The index name.
                while chars
                    .peek()
                    .is_some_and(|&(_, d)| d.is_ascii_alphanumeric() || d == '_')
                {
                    chars.next();
                }
            }
            _ => out.push(c),
        }
    }
    out
}

/// Whether `word` starts at byte `i` of `sql` as a whole word.
fn starts_word(sql: &str, i: usize, word: &str) -> bool {
    sql[i..].starts_with(word)
        && sql[..i]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_ascii_alphanumeric() && c != '_')
}

#[cfg(test)]
mod tests {
    use super::translate;

    #[test]
    fn placeholders_and_hints() {
        assert_eq!(
            translate("SELECT a FROM t NOT INDEXED WHERE x = ?1 AND y IN (?2, '?3') LIMIT ?"),
            "SELECT a FROM t  WHERE x = $1 AND y IN ($2, '?3') LIMIT $3"
        );
        assert_eq!(
            translate("SELECT a FROM events INDEXED BY events_by_subject WHERE p = ?1"),
            "SELECT a FROM events  WHERE p = $1"
        );
        assert_eq!(translate("SELECT \"?1\" FROM t"), "SELECT \"?1\" FROM t");
    }
}
