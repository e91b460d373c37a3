//! The PostgreSQL backend: one ledger shared by many hosts, in a schema of a database
//! the institution already runs (docs/POSTGRES.md).
//!
//! The store's SQL is the same as on SQLite (`db.rs`); this module holds what differs:
//! the connection (a URL, the ledger's schema on the search path, timeouts,
//! durability), statements prepared once per connection, scans through a cursor,
//! transactions and the lock that serialises appenders across hosts, and errors
//! mapped to the ledger's kinds. The schema, its check and the roles are in
//! `schema.rs`.
//!
//! Appends from many hosts are serialised by a transaction-scoped advisory lock taken
//! first in every write transaction (READ COMMITTED): every statement after it sees
//! every append committed before it, so `max(seq) + 1` is the next position and no
//! two writers compute the same one; the lock ends with the transaction, also when
//! the client dies (the server rolls back and releases it). A `SERIALIZABLE` write
//! with retries was the alternative; under contention every append but one would be
//! retried, redoing its hashing, where the lock queues them once.

mod pipeline;
mod schema;
mod tls;
mod value;

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

use rusqlite::types::Value;
use rusqlite::ToSql;
use tokio::runtime::Runtime;
use tokio_postgres::{Client, Statement};

use pipeline::{Answer, Outcome, Pending, Pipeline};
pub use schema::{apply_grants, grants_sql, Access};
pub(crate) use schema::{check as check_schema, create as create_schema, is_empty};
use value::translate;

use super::Found;
use crate::error::{Error, Result};
use crate::options::{LedgerOptions, Synchronous};

/// The schema a ledger lives in when its URL names none.
pub const DEFAULT_SCHEMA: &str = "consent";

/// Rows fetched per round trip when a scan streams through a cursor.
const FETCH: usize = 1024;

/// Whether `location` names a PostgreSQL ledger (a `postgresql://` or `postgres://`
/// URL) rather than a file.
pub fn is_postgres_url(location: &str) -> bool {
    location.starts_with("postgresql://") || location.starts_with("postgres://")
}

/// A connection to the ledger's schema on a PostgreSQL server.
///
/// Inside a transaction, statements whose answer is not needed at once (the writes
/// of an append, savepoints, the lock) and reads asked for ahead ([`PgConn::prefetch`])
/// wait in a [`Pipeline`] and travel with the next statement that must be answered,
/// in one round trip (`pipeline.rs` says what happens when one of them fails).
pub(crate) struct PgConn {
    /// Drives the connection, on this thread, while a request is waited for.
    rt: Runtime,
    client: Client,
    /// The connection's task, run to its end on close.
    task: Option<tokio::task::JoinHandle<()>>,
    /// Statements prepared on this connection, by their SQL as the store writes it.
    statements: RefCell<HashMap<String, Statement>>,
    /// What waits for the next round trip, and reads answered ahead.
    pipeline: RefCell<Pipeline>,
    /// Whether a transaction is open (begun by the store).
    in_tx: Cell<bool>,
    /// Names the next cursor.
    cursors: Cell<u64>,
    /// The ledger's schema (its tables, its lock).
    pub(crate) schema: String,
}

/// A URL taken apart: what tokio-postgres parses, the ledger's schema, and the
/// TLS settings (which the crate would not honour as libpq does: `tls.rs`).
#[derive(Debug)]
struct Location {
    url: String,
    schema: String,
    tls: tls::Tls,
}

/// Takes the ledger's own parameters (`schema`, `sslmode`, `sslrootcert`) out of `url`.
fn split_url(url: &str) -> Result<Location> {
    let (base, query) = split_query(url);
    let query = query.unwrap_or("");
    let mut schema = None;
    let mut tls = tls::Tls::default();
    let mut rest = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if key == "schema" {
            schema = Some(value.to_string());
        } else if !tls.take(key, value)? {
            rest.push(pair);
        }
    }
    let schema = schema.unwrap_or_else(|| DEFAULT_SCHEMA.to_string());
    check_schema_name(&schema)?;
    let url = if rest.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", rest.join("&"))
    };
    Ok(Location { url, schema, tls })
}

/// A schema name the ledger accepts: lower-case letters, digits and `_`, starting
/// with a letter or `_`, at most 63 bytes (so it never needs quoting).
fn check_schema_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && !name.as_bytes()[0].is_ascii_digit()
        && !name.starts_with("pg_");
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "schema `{name}`: a ledger's schema name is lower-case letters, digits and `_` (not starting with a digit or `pg_`), at most 63 bytes"
        )))
    }
}

/// The schema a PostgreSQL ledger URL names: its `schema=` parameter, or
/// [`DEFAULT_SCHEMA`].
///
/// # Errors
/// [`InvalidArgument`](crate::ErrorKind::InvalidArgument) for a schema name the ledger
/// does not accept (lower-case letters, digits and `_`, not starting with a digit or
/// `pg_`, at most 63 bytes), an unknown `sslmode`, or a client-certificate parameter
/// (not supported).
pub fn url_schema(url: &str) -> Result<String> {
    split_url(url).map(|l| l.schema)
}

/// A PostgreSQL URL fit for messages and output: its password, in the user part
/// (`user:secret@`) or as a `password=` parameter, replaced by `***`. Everything a
/// ledger prints about where it lives goes through this, so a log or a terminal
/// never holds a database credential.
pub fn redact_url(url: &str) -> String {
    let (base, query) = split_query(url);
    // The user part ends at the last `@`: a password may hold `@`, `?` or `/`
    // unencoded (libpq wants them encoded, people do not always), and hiding too much
    // is safe where hiding too little is not.
    let base = match (base.find("://"), base.rfind('@')) {
        (Some(s), Some(at)) if at > s => match base[s + 3..at].split_once(':') {
            Some((user, _)) => format!("{}{user}:***{}", &base[..s + 3], &base[at..]),
            None => base.to_string(),
        },
        _ => base.to_string(),
    };
    match query {
        None => base,
        Some(q) => {
            let pairs: Vec<String> = q
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some(("password", _)) => "password=***".to_string(),
                    _ => pair.to_string(),
                })
                .collect();
            format!("{base}?{}", pairs.join("&"))
        }
    }
}

/// A URL's part before its query, and the query: the query begins at the first `?`
/// after the user part (which ends at the URL's last `@`), so a `?` in a password
/// does not start it.
fn split_query(url: &str) -> (&str, Option<&str>) {
    let from = url.rfind('@').unwrap_or(0);
    match url[from..].find('?') {
        Some(q) => (&url[..from + q], Some(&url[from + q + 1..])),
        None => (url, None),
    }
}

impl PgConn {
    /// Connects to the ledger at `url` and tells what is there: nothing (a ledger may
    /// be created: the caller does, under the lock) or a ledger whose schema checked.
    pub(crate) fn connect(url: &str, opts: &LedgerOptions) -> Result<(PgConn, Found)> {
        let Location { url, schema, tls } = split_url(url)?;
        let mut config = tokio_postgres::Config::from_str(&url)
            .map_err(|e| Error::invalid(format!("PostgreSQL URL {}: {e}", redact_url(&url))))?;
        if config.get_application_name().is_none() {
            config.application_name("consent-ledger");
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(opts.busy_timeout.min(Duration::from_secs(30)));
        }
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Storage(format!("cannot start the PostgreSQL client: {e}")))?;
        let (client, task) = tls::connect(&rt, &mut config, &tls).map_err(|e| match e {
            Error::Storage(m) => Error::Storage(format!("{} ({m})", redact_url(&url))),
            other => other,
        })?;
        let conn = PgConn {
            rt,
            client,
            task: Some(task),
            statements: RefCell::default(),
            pipeline: RefCell::default(),
            in_tx: Cell::new(false),
            cursors: Cell::new(0),
            schema,
        };
        conn.configure(opts)?;
        let found = schema::identify(&conn, opts)?;
        Ok((conn, found))
    }

    /// Session settings: the schema first on the search path, lock waits bounded by the
    /// busy timeout, durability, read-only when asked.
    fn configure(&self, opts: &LedgerOptions) -> Result<()> {
        let millis = opts.busy_timeout.as_millis().clamp(1, i32::MAX as u128);
        let sync = match opts.synchronous {
            Synchronous::Full => "on",
            Synchronous::Normal => "off",
        };
        let mut sql = format!(
            "SET search_path TO pg_catalog, {schema}; SET lock_timeout = {millis}; \
             SET synchronous_commit = {sync}; SET client_min_messages = warning; \
             SET TIME ZONE 'UTC';",
            schema = self.schema
        );
        if opts.read_only {
            sql.push_str("SET default_transaction_read_only = on;");
        }
        self.batch(&sql)
    }

    /// The statement for `sql` prepared on this connection (once).
    fn statement(&self, sql: &str) -> Result<Statement> {
        if let Some(s) = self.statements.borrow().get(sql) {
            return Ok(s.clone());
        }
        let stmt = self
            .rt
            .block_on(self.client.prepare(&translate(sql)))
            .map_err(pg_error)?;
        self.statements
            .borrow_mut()
            .insert(sql.to_string(), stmt.clone());
        Ok(stmt)
    }

    /// The parameters as owned values (to wait in the pipeline).
    fn owned(params: &[&dyn ToSql]) -> Result<Vec<Value>> {
        use rusqlite::types::ToSqlOutput;
        params
            .iter()
            .map(|p| match p.to_sql()? {
                ToSqlOutput::Borrowed(v) => Value::try_from(v).map_err(|e| {
                    Error::Storage(format!("a parameter PostgreSQL cannot take: {e}"))
                }),
                ToSqlOutput::Owned(v) => Ok(v),
                _ => Err(Error::Storage("a parameter PostgreSQL cannot take".into())),
            })
            .collect()
    }

    /// Sends what waits in the pipeline and then `last`, in one round trip, and
    /// returns `last`'s rows (see [`Pipeline`] for a failure among the waiting).
    fn round_trip(&self, last: Pending) -> Result<Answer> {
        let waiting = self.pipeline.borrow_mut().take();
        let answers = self
            .rt
            .block_on(pipeline::send(&self.client, &waiting, &last));
        let outcome = self.pipeline.borrow_mut().settle(waiting, answers);
        match outcome {
            Outcome::Answered(Ok(answer)) => Ok(answer),
            Outcome::Answered(Err(e)) if self.in_tx.get() => {
                if self.pipeline.borrow().savepoint_sent() {
                    // The caller rolls back to the savepoint; until then the server
                    // ignores every statement.
                    self.pipeline.borrow_mut().failed = true;
                    Err(e)
                } else {
                    Err(self.lose_transaction(e))
                }
            }
            Outcome::Answered(Err(e)) => Err(e),
            // The server aborted the transaction for a statement sent ahead of an
            // answer (`pipeline.rs`).
            Outcome::TransactionLost(e) => Err(self.lose_transaction(e)),
        }
    }

    /// Ends a transaction the server aborted, so that nothing of it can be committed
    /// (no savepoint on the server could undo the failed statement alone): the caller
    /// sees no transaction any more, as after SQLite rolled one back on a full disk.
    fn lose_transaction(&self, e: Error) -> Error {
        self.pipeline.borrow_mut().discard();
        let _ = self.rt.block_on(self.client.batch_execute("ROLLBACK"));
        self.in_tx.set(false);
        e
    }

    /// The rows of a query, each as its values (at most `limit`): answered ahead if
    /// it was prefetched (and nothing written since), else in a round trip.
    pub(crate) fn query(
        &self,
        sql: &str,
        params: &[&dyn ToSql],
        limit: Option<usize>,
    ) -> Result<Vec<Vec<Value>>> {
        let values = Self::owned(params)?;
        let awaited = self.pipeline.borrow().awaits(sql, &values);
        if awaited {
            self.round_trip(Pending::Nothing)?;
        }
        let answered = self.pipeline.borrow_mut().answered(sql, &values);
        let rows = match answered {
            Some(rows) => rows,
            None => {
                let stmt = self.statement(sql)?;
                self.round_trip(Pending::Query(stmt, values))?.rows()
            }
        };
        Ok(rows.into_iter().take(limit.unwrap_or(usize::MAX)).collect())
    }

    /// Asks for a query's rows ahead, inside a transaction: they come with the next
    /// round trip, and a [`PgConn::query`] of the same SQL and parameters takes them
    /// (unless something was written in between). Outside a transaction, nothing.
    pub(crate) fn prefetch(&self, sql: &str, params: &[&dyn ToSql]) -> Result<()> {
        if !self.in_tx.get() {
            return Ok(());
        }
        let stmt = self.statement(sql)?;
        let values = Self::owned(params)?;
        self.pipeline.borrow_mut().prefetch(sql, stmt, values);
        Ok(())
    }

    /// Runs a statement; returns how many rows it changed.
    pub(crate) fn execute(&self, sql: &str, params: &[&dyn ToSql]) -> Result<usize> {
        let stmt = self.statement(sql)?;
        let values = Self::owned(params)?;
        self.pipeline.borrow_mut().wrote();
        let answer = self.round_trip(Pending::Execute(stmt, values))?;
        Ok(answer.count() as usize)
    }

    /// Runs a write whose count is not needed: inside a transaction it waits for the
    /// next round trip (a failure then ends the transaction); outside, at once.
    pub(crate) fn execute_later(&self, sql: &str, params: &[&dyn ToSql]) -> Result<()> {
        if !self.in_tx.get() {
            return self.execute(sql, params).map(|_| ());
        }
        let stmt = self.statement(sql)?;
        let values = Self::owned(params)?;
        let full = self.pipeline.borrow_mut().write(stmt, values);
        if full {
            self.round_trip(Pending::Nothing)?;
        }
        Ok(())
    }

    /// Calls `f` on every row in order until it returns false: inside a transaction
    /// through a cursor, [`FETCH`] rows at a time (no borrow of the connection is held
    /// while `f` runs, so it may query too); outside one, from one result.
    pub(crate) fn each(
        &self,
        sql: &str,
        params: &[&dyn ToSql],
        mut f: impl FnMut(&[Value]) -> Result<bool>,
    ) -> Result<()> {
        if !self.in_tx.get() {
            for row in self.query(sql, params, None)? {
                if !f(&row)? {
                    break;
                }
            }
            return Ok(());
        }
        let n = self.cursors.get() + 1;
        self.cursors.set(n);
        let cursor = format!("consent_scan_{n}");
        let declare = format!("DECLARE {cursor} NO SCROLL CURSOR FOR {}", translate(sql));
        let stmt = self
            .rt
            .block_on(self.client.prepare(&declare))
            .map_err(pg_error)?;
        self.round_trip(Pending::Execute(stmt, Self::owned(params)?))?;
        let fetch = self
            .rt
            .block_on(self.client.prepare(&format!("FETCH {FETCH} FROM {cursor}")))
            .map_err(pg_error)?;
        let scanned: Result<()> = (|| loop {
            let rows = self
                .round_trip(Pending::Query(fetch.clone(), Vec::new()))?
                .rows();
            for row in &rows {
                if !f(row)? {
                    return Ok(());
                }
            }
            if rows.len() < FETCH {
                return Ok(());
            }
        })();
        // A failed statement aborts the transaction, which the caller rolls back (the
        // cursor with it); otherwise close it now.
        let closed = self.batch(&format!("CLOSE {cursor}"));
        scanned?;
        closed
    }

    /// Runs statements without parameters (schema text, transaction control), keeping
    /// track of whether a transaction is open.
    pub(crate) fn batch(&self, sql: &str) -> Result<()> {
        let first = sql.trim_start().to_ascii_uppercase();
        if first.starts_with("ROLLBACK") && !first.starts_with("ROLLBACK TO") {
            // Nothing waiting matters any more; a BEGIN still waiting was never sent.
            let begun = self.pipeline.borrow_mut().discard();
            self.in_tx.set(false);
            if !begun {
                return Ok(());
            }
            return self
                .rt
                .block_on(self.client.batch_execute(sql))
                .map_err(pg_error);
        }
        if first.starts_with("COMMIT") && self.pipeline.borrow().failed {
            // The server would answer `ROLLBACK`: say so instead of `COMMIT`.
            return Err(self.lose_transaction(Error::Storage(
                "a statement of this transaction failed and was not rolled back to its savepoint: nothing of it was committed".into(),
            )));
        }
        self.pipeline.borrow_mut().wrote();
        let result = self
            .round_trip(Pending::Simple(sql.to_string()))
            .map(|_| ());
        if first.starts_with("BEGIN") || first.starts_with("START TRANSACTION") {
            self.in_tx.set(result.is_ok());
        } else if first.starts_with("COMMIT") {
            // Whatever happened, the server ended the transaction (or the connection).
            self.in_tx.set(false);
        }
        result
    }

    /// Transaction control whose outcome can wait for the next round trip (`BEGIN`,
    /// `SAVEPOINT`, `RELEASE`, `ROLLBACK TO`): sent with it, inside a transaction
    /// or beginning one.
    pub(crate) fn batch_later(&self, sql: &str) {
        let first = sql.trim_start().to_ascii_uppercase();
        if first.starts_with("BEGIN") {
            self.in_tx.set(true);
        }
        self.pipeline.borrow_mut().control(sql);
    }

    /// Whether a transaction is open.
    pub(crate) fn in_transaction(&self) -> bool {
        self.in_tx.get() && !self.client.is_closed()
    }

    /// Begins the write transaction and takes the ledger's lock: the one writer of
    /// this schema, whichever host it runs on, until commit or rollback (a durable
    /// commit waits for the disk while it holds the lock: docs/POSTGRES.md "Many
    /// writers" says what releasing it earlier would take).
    pub(crate) fn begin_write(&self) -> Result<()> {
        // Sent with the first statement that needs an answer: a lock that times out
        // fails that statement's round trip, and the transaction with it.
        self.batch_later("BEGIN ISOLATION LEVEL READ COMMITTED");
        self.execute_later(
            "SELECT pg_advisory_xact_lock(?1, hashtext(?2))",
            rusqlite::params![LOCK_CLASS, self.schema],
        )
    }

    /// Begins a read transaction: one snapshot for every read until its end.
    pub(crate) fn begin_read(&self) {
        self.batch_later("BEGIN ISOLATION LEVEL REPEATABLE READ");
    }

    /// After an erasure has committed: vacuums the tables that held the subject's
    /// values (`events`, `current`), so their old row versions leave every page's
    /// row directory and index, and says whether none is left (a snapshot older than
    /// the erasure, in any session of the database, keeps them until it ends; the
    /// caller retries). With `rewrite`, `VACUUM FULL` instead: the tables are written
    /// afresh into new files, so not even the free space of a page still holds the
    /// bytes — at the price of locking out every reader and writer while it runs.
    /// docs/POSTGRES.md "Erasure" says what each leaves, and where else the values
    /// remain. Only the tables' owner may vacuum them: another role gets
    /// [`Error::ReadOnly`] at once, since waiting would not help (the erasure stands;
    /// the owner's `consent complete-erasures` finishes it).
    pub(crate) fn vacuum_erased(&self, rewrite: bool) -> Result<bool> {
        if self.in_transaction() {
            return Ok(false);
        }
        let tables = rusqlite::params![
            format!("{}.events", self.schema),
            format!("{}.current", self.schema)
        ];
        let owner = self.query(
            "SELECT bool_and(pg_has_role(relowner, 'USAGE')) FROM pg_class \
             WHERE oid IN (to_regclass(?1), to_regclass(?2))",
            tables,
            None,
        )?;
        if !first_is(&owner, 1) {
            return Err(Error::ReadOnly(format!(
                "only the owner of the ledger's tables in schema `{}` may vacuum them: the erasure stands, and is completed by the owner (`consent complete-erasures`) or by autovacuum",
                self.schema
            )));
        }
        self.batch("VACUUM events, current")?;
        // What VACUUM could not remove yet (dead, but visible to an older snapshot:
        // `VACUUM FULL` would copy those into the new files too).
        let left = self.query(
            "SELECT coalesce(sum(pg_stat_get_dead_tuples(to_regclass(t))), 0)::bigint \
             FROM unnest(ARRAY[?1, ?2]) AS t",
            tables,
            None,
        )?;
        if !first_is(&left, 0) {
            return Ok(false);
        }
        if rewrite {
            self.batch("VACUUM (FULL) events, current")?;
        }
        Ok(true)
    }

    /// Closes the connection, rolling back an open transaction.
    pub(crate) fn close(self) -> Result<()> {
        if self.in_transaction() {
            let _ = self.batch("ROLLBACK");
        }
        Ok(())
    }
}

impl Drop for PgConn {
    /// Says goodbye to the server (a `Terminate` message, as the `postgres` crate's
    /// client does on drop) and lets the connection's task finish sending it.
    fn drop(&mut self) {
        self.client.__private_api_close();
        if let Some(task) = self.task.take() {
            let _ = self.rt.block_on(task);
        }
    }
}

/// The first key of the ledger's advisory lock (the second is the schema's hash):
/// "cons" in ASCII, so other applications' advisory locks are unlikely to meet it.
const LOCK_CLASS: i32 = 0x636f_6e73;

/// Whether the first column of the first row is the integer `want` (a count, or a
/// boolean as 0 or 1).
fn first_is(rows: &[Vec<Value>], want: i64) -> bool {
    matches!(rows.first().and_then(|r| r.first()), Some(Value::Integer(n)) if *n == want)
}

/// A fetched row as SQLite storage classes.
fn values_of(row: &tokio_postgres::Row) -> Result<Vec<Value>> {
    (0..row.len())
        .map(|i| {
            row.try_get::<_, value::Cell>(i)
                .map(|c| c.0)
                .map_err(pg_error)
        })
        .collect()
}

/// A PostgreSQL error as the ledger's kind of error.
pub(crate) fn pg_error(e: tokio_postgres::Error) -> Error {
    let msg = match e.as_db_error() {
        Some(db) => format!("PostgreSQL: {} ({})", db.message(), db.code().code()),
        None => format!("PostgreSQL: {e}"),
    };
    let Some(code) = e.code() else {
        return Error::Storage(msg);
    };
    match code.code() {
        // serialization_failure, deadlock_detected, lock_not_available, query_canceled
        "40001" | "40P01" | "55P03" | "57014" => Error::Busy(msg),
        // disk_full, insufficient_resources, out_of_memory, program_limit_exceeded
        "53100" | "53000" | "53200" => Error::Full(msg),
        // insufficient_privilege, read_only_sql_transaction
        "42501" | "25006" => Error::ReadOnly(msg),
        "XX001" | "XX002" => Error::Corrupt(msg),
        _ => Error::Storage(msg),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_schema_names() {
        assert!(is_postgres_url("postgresql://u@/db?host=/tmp"));
        assert!(is_postgres_url("postgres://h/db"));
        assert!(!is_postgres_url("ledger.db"));
        let l = split_url("postgresql://u@/db?host=/tmp&schema=uni_a&port=5433&sslmode=require")
            .unwrap();
        assert_eq!(
            (l.url.as_str(), l.schema.as_str()),
            ("postgresql://u@/db?host=/tmp&port=5433", "uni_a")
        );
        assert_eq!(l.tls.mode, tokio_postgres::config::SslMode::Require);
        let l = split_url("postgresql://u@h/db").unwrap();
        assert_eq!(
            (l.url.as_str(), l.schema.as_str()),
            ("postgresql://u@h/db", DEFAULT_SCHEMA)
        );
        for bad in ["", "A", "1a", "a-b", "a;drop", "pg_x", &"a".repeat(64)] {
            assert!(
                split_url(&format!("postgresql://h/db?schema={bad}")).is_err(),
                "{bad}"
            );
        }
        for (leaky, schema) in [
            ("postgresql://app:se?cret@db.example/ledger", DEFAULT_SCHEMA),
            ("postgresql://app:se?c@r/et@db.example/ledger?schema=x", "x"),
        ] {
            let shown = redact_url(leaky);
            assert!(!shown.contains("se?c") && !shown.contains("et@"), "{shown}");
            assert_eq!(url_schema(leaky).unwrap(), schema);
        }
        assert_eq!(
            redact_url("postgresql://app:secret@db.example/ledger"),
            "postgresql://app:***@db.example/ledger"
        );
        assert_eq!(
            redact_url("postgresql://app:p@ss@db/l?host=/s&password=x&schema=a"),
            "postgresql://app:***@db/l?host=/s&password=***&schema=a"
        );
        assert_eq!(
            redact_url("postgresql://app@/l?host=/s"),
            "postgresql://app@/l?host=/s"
        );
        assert_eq!(
            url_schema("postgresql://h/db?schema=uni_a").unwrap(),
            "uni_a"
        );
        assert_eq!(url_schema("postgresql://h/db").unwrap(), DEFAULT_SCHEMA);
        assert!(url_schema("postgresql://h/db?schema=A").is_err());
    }
}
