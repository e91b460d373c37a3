//! The connection under the store, SQLite or PostgreSQL, behind one small query
//! interface: every table file of the store writes its SQL once, in the dialect both
//! databases share, and reads rows through [`Row`], whose values are SQLite's storage
//! classes ([`ValueRef`]) whichever database gave them.
//!
//! Parameters are rusqlite's [`ToSql`] values (`params![...]`): SQLite binds them as
//! they are; PostgreSQL gets them converted to the type its planner inferred for each
//! placeholder (`postgres/value.rs`). Placeholders are written `?N`; the PostgreSQL
//! connection rewrites them to `$N` and drops SQLite's planner hints (`INDEXED BY`,
//! `NOT INDEXED`). What the dialects do not share (SQLite's pragmas, its schema table,
//! PostgreSQL's catalog) lives in the backend's own module.

use rusqlite::types::{FromSql, FromSqlError, Value, ValueRef};
use rusqlite::{Connection, ToSql};

use super::postgres::PgConn;
use super::Store;
use crate::error::{Error, Result};

/// The database connection: a SQLite file (or memory) or a PostgreSQL server.
pub(crate) enum Db {
    /// SQLite through rusqlite.
    Lite(Connection),
    /// PostgreSQL through tokio-postgres, statements pipelined (`postgres/pipeline.rs`).
    Pg(Box<PgConn>),
}

/// One result row, from either database, read by column position.
pub(crate) enum Row<'a> {
    /// A row of a SQLite statement.
    Lite(&'a rusqlite::Row<'a>),
    /// A row fetched from PostgreSQL, its values in SQLite's storage classes.
    Pg(&'a [Value]),
}

impl Row<'_> {
    /// Column `i` as stored (its storage class and bytes), without conversion.
    pub(crate) fn get_ref(&self, i: usize) -> rusqlite::Result<ValueRef<'_>> {
        match self {
            Row::Lite(r) => r.get_ref(i),
            Row::Pg(values) => values
                .get(i)
                .map(ValueRef::from)
                .ok_or(rusqlite::Error::InvalidColumnIndex(i)),
        }
    }

    /// Column `i` converted to `T` as rusqlite converts it.
    pub(crate) fn get<T: FromSql>(&self, i: usize) -> rusqlite::Result<T> {
        match self {
            Row::Lite(r) => r.get(i),
            Row::Pg(_) => {
                let v = self.get_ref(i)?;
                T::column_result(v).map_err(|e| match e {
                    FromSqlError::InvalidType => {
                        rusqlite::Error::InvalidColumnType(i, String::new(), v.data_type())
                    }
                    other => {
                        rusqlite::Error::FromSqlConversionFailure(i, v.data_type(), Box::new(other))
                    }
                })
            }
        }
    }
}

/// Which database a store is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Backend {
    Sqlite,
    Postgres,
}

impl Store {
    /// Which database this store is on.
    pub(crate) fn backend(&self) -> Backend {
        match &self.db {
            Db::Lite(_) => Backend::Sqlite,
            Db::Pg(_) => Backend::Postgres,
        }
    }

    /// The SQLite connection; an error on PostgreSQL (for what only SQLite has).
    pub(crate) fn lite(&self) -> Result<&Connection> {
        match &self.db {
            Db::Lite(c) => Ok(c),
            Db::Pg(_) => Err(Error::Storage(
                "this operation exists only for a SQLite ledger file".into(),
            )),
        }
    }

    /// A scan of a table "in its own order", `sql` ending with the table's name and
    /// `NOT INDEXED`: SQLite reads a `WITHOUT ROWID` table's b-tree in key order (and
    /// `verify` checks that order); a PostgreSQL heap has no order, so there the
    /// scan is ordered by `key`.
    pub(crate) fn table_scan(&self, sql: &str, key: &str) -> String {
        match self.backend() {
            Backend::Sqlite => sql.to_string(),
            Backend::Postgres => format!("{sql} ORDER BY {key}"),
        }
    }

    /// The first row of a query (a cached statement), mapped by `f`; `None` if no row.
    pub(crate) fn query_row<T>(
        &self,
        sql: &str,
        params: &[&dyn ToSql],
        f: impl FnOnce(&Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Option<T>> {
        match &self.db {
            Db::Lite(c) => {
                let mut stmt = c.prepare_cached(sql)?;
                let mut rows = stmt.query(params)?;
                match rows.next()? {
                    Some(r) => Ok(Some(f(&Row::Lite(r))?)),
                    None => Ok(None),
                }
            }
            Db::Pg(c) => match c.query(sql, params, Some(1))?.first() {
                Some(values) => Ok(Some(f(&Row::Pg(values))?)),
                None => Ok(None),
            },
        }
    }

    /// The one row an aggregate query returns, mapped by `f`.
    pub(crate) fn query_one<T>(
        &self,
        sql: &str,
        params: &[&dyn ToSql],
        f: impl FnOnce(&Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<T> {
        self.query_row(sql, params, f)?
            .ok_or_else(|| Error::Storage(format!("no row from `{sql}`")))
    }

    /// Every row of a query (a cached statement), mapped by `f`.
    pub(crate) fn query_map<T>(
        &self,
        sql: &str,
        params: &[&dyn ToSql],
        mut f: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>> {
        match &self.db {
            Db::Lite(c) => {
                let mut stmt = c.prepare_cached(sql)?;
                let mut rows = stmt.query(params)?;
                let mut out = Vec::new();
                while let Some(r) = rows.next()? {
                    out.push(f(&Row::Lite(r))?);
                }
                Ok(out)
            }
            Db::Pg(c) => c
                .query(sql, params, None)?
                .iter()
                .map(|values| f(&Row::Pg(values)).map_err(Error::from))
                .collect(),
        }
    }

    /// Calls `f` on every row of a query in order, until it returns false. Rows are
    /// streamed: on PostgreSQL inside a transaction through a cursor, fetched in
    /// batches, so a scan of the whole log never holds it in memory, and `f` may use
    /// the store between batches.
    pub(crate) fn query_each(
        &self,
        sql: &str,
        params: &[&dyn ToSql],
        mut f: impl FnMut(&Row<'_>) -> Result<bool>,
    ) -> Result<()> {
        match &self.db {
            Db::Lite(c) => {
                let mut stmt = c.prepare_cached(sql)?;
                let mut rows = stmt.query(params)?;
                while let Some(r) = rows.next()? {
                    if !f(&Row::Lite(r))? {
                        break;
                    }
                }
                Ok(())
            }
            Db::Pg(c) => c.each(sql, params, |values| f(&Row::Pg(values))),
        }
    }

    /// Runs one statement (a cached one) that returns no rows; returns how many rows it
    /// changed.
    pub(crate) fn execute(&self, sql: &str, params: &[&dyn ToSql]) -> Result<usize> {
        match &self.db {
            Db::Lite(c) => Ok(c.prepare_cached(sql)?.execute(params)?),
            Db::Pg(c) => c.execute(sql, params),
        }
    }

    /// Runs statements without parameters (a migration's schema changes).
    pub(crate) fn batch(&self, sql: &str) -> Result<()> {
        match &self.db {
            Db::Lite(c) => Ok(c.execute_batch(sql)?),
            Db::Pg(c) => c.batch(sql),
        }
    }

    /// Runs a write whose count is not needed: on PostgreSQL, inside a transaction, it
    /// waits for the next round trip (`postgres/pipeline.rs`; a failure then ends the
    /// whole transaction); on SQLite, and outside a transaction, it runs now.
    pub(crate) fn execute_later(&self, sql: &str, params: &[&dyn ToSql]) -> Result<()> {
        match &self.db {
            Db::Lite(c) => {
                c.prepare_cached(sql)?.execute(params)?;
                Ok(())
            }
            Db::Pg(c) => c.execute_later(sql, params),
        }
    }

    /// Asks for a query's rows ahead: on PostgreSQL, inside a transaction, they come
    /// with the next round trip, and a later query of the same SQL and parameters
    /// takes them (unless something was written in between). On SQLite, whose reads
    /// cost no round trip, nothing.
    pub(crate) fn prefetch(&self, sql: &str, params: &[&dyn ToSql]) -> Result<()> {
        match &self.db {
            Db::Lite(_) => Ok(()),
            Db::Pg(c) => c.prefetch(sql, params),
        }
    }
}
