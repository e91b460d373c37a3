//! The ledger's schema on PostgreSQL (docs/POSTGRES.md): its tables (the SQLite
//! schema of the same version, column for column, with PostgreSQL's types), telling a
//! ledger from anything else in the schema, creating one, and the roles that may use
//! it.
//!
//! As on SQLite, the schema is part of the format: a schema whose catalog differs
//! from what this text creates by a single object (a trigger, a rule, a policy, a
//! view, an index, a changed column) is refused. Text columns are `COLLATE "C"`, so
//! rows come in byte order, as SQLite's BINARY collation gives them: the derived check
//! of `verify` merges them with its own byte-ordered keys.

use rusqlite::params;

use super::{first_is, PgConn};
use crate::error::{Error, Result};
use crate::options::LedgerOptions;
use crate::store::row::COLUMNS;
use crate::store::schema::{FORMAT_NAME, INDEXES_V4, SCHEMA_VERSION};
use crate::store::Found;

/// The tables other than `events` (whose columns come from `COLUMNS`), the indexes,
/// and the one function of the narrow erasure path.
const TABLES_V3: &str = r#"
CREATE TABLE meta(key TEXT COLLATE "C" PRIMARY KEY, value TEXT COLLATE "C" NOT NULL);
CREATE INDEX events_by_subject ON events(subject, purpose) WHERE subject IS NOT NULL;
CREATE INDEX events_by_erased_key ON events(subject_key) WHERE subject IS NULL AND subject_key IS NOT NULL;
CREATE UNIQUE INDEX events_by_source ON events(source_key) WHERE source_key IS NOT NULL;
CREATE TABLE tree(level BIGINT NOT NULL, idx BIGINT NOT NULL, hash BYTEA NOT NULL,
                  PRIMARY KEY(level, idx));
CREATE TABLE purposes(id TEXT COLLATE "C" NOT NULL, version BIGINT NOT NULL, seq BIGINT NOT NULL,
                      registered_at BIGINT NOT NULL, def TEXT COLLATE "C" NOT NULL,
                      PRIMARY KEY(id, version));
CREATE TABLE notices(id TEXT COLLATE "C" NOT NULL, version TEXT COLLATE "C" NOT NULL, seq BIGINT NOT NULL,
                     registered_at BIGINT NOT NULL, def TEXT COLLATE "C" NOT NULL,
                     PRIMARY KEY(id, version));
CREATE TABLE current(purpose TEXT COLLATE "C" NOT NULL, subject TEXT COLLATE "C" NOT NULL,
                     recipient TEXT COLLATE "C" NOT NULL, state TEXT COLLATE "C" NOT NULL,
                     seq BIGINT NOT NULL, event_id BYTEA NOT NULL, since BIGINT NOT NULL, until BIGINT,
                     last_effective BIGINT NOT NULL,
                     PRIMARY KEY(purpose, subject, recipient));
CREATE TABLE erased(subject_key BYTEA PRIMARY KEY, seq BIGINT NOT NULL);
CREATE TABLE checkpoints(size BIGINT PRIMARY KEY, note TEXT COLLATE "C" NOT NULL);
"#;

// `complete_block` below spells the block size: 2^4 events.
const _: () = assert!(crate::store::TREE_MIN_LEVEL == 4);

/// The two narrow paths (docs/POSTGRES.md "Roles"), each run with the owner's rights
/// by a role granted EXECUTE on it. `blank_subject`, the erasure path, is the only way
/// to change a stored event, never granted to the role that appends.
/// `complete_block` deletes the rows below level 4 of a completed block of 16 events
/// (docs/FORMAT.md §2 `tree`), and only once the block's level-4 node is stored and
/// its last event is in the log: the role that appends needs no DELETE on `tree`, so
/// it cannot replace a node that roots are computed from.
const BLANK_SUBJECT: &str = "
CREATE FUNCTION complete_block(p_first BIGINT) RETURNS BIGINT
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, {schema}, pg_temp AS $$
WITH gone AS (
    DELETE FROM tree
    WHERE level < 4 AND idx >= (p_first >> level::int) AND idx < ((p_first + 16) >> level::int)
      AND p_first >= 0 AND p_first % 16 = 0
      AND EXISTS (SELECT 1 FROM tree t WHERE t.level = 4 AND t.idx = p_first >> 4)
      AND (SELECT max(seq) FROM events) >= p_first + 15
    RETURNING 1)
SELECT count(*) FROM gone
$$;
REVOKE ALL ON FUNCTION complete_block(BIGINT) FROM PUBLIC;
CREATE FUNCTION blank_subject(p_subject TEXT, p_pseudonym BYTEA) RETURNS BIGINT
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, {schema}, pg_temp AS $$
WITH blanked AS (
    UPDATE events SET subject = NULL, source_id = NULL, evidence = NULL, salt = NULL,
                      subject_key = p_pseudonym
    WHERE subject = p_subject
    RETURNING 1)
SELECT count(*) FROM blanked
$$;
REVOKE ALL ON FUNCTION blank_subject(TEXT, BYTEA) FROM PUBLIC;
";

/// A column's SQLite type as PostgreSQL's.
fn pg_type(sqlite: &str) -> String {
    sqlite
        .replace("INTEGER", "BIGINT")
        .replace("BLOB", "BYTEA")
        .replace("TEXT", "TEXT COLLATE \"C\"")
}

/// The schema text of the current version for schema `schema`.
fn schema_text(schema: &str) -> String {
    let columns: Vec<String> = COLUMNS
        .iter()
        .map(|c| format!("    {} {}", c.name, pg_type(c.sql)))
        .collect();
    format!(
        "CREATE TABLE events(\n{}\n);\n{TABLES_V3}{INDEXES_V4}{}",
        columns.join(",\n"),
        BLANK_SUBJECT.replace("{schema}", schema)
    )
}

/// The catalog of the ledger's schema as one line per object, in a spelling that does
/// not depend on how it was created: what [`check`] compares.
const DESCRIBE: &str = r#"
SELECT line FROM (SELECT kind || ' ' || name || ': ' || detail AS line FROM (
    SELECT 'relation' AS kind, c.relname::text AS name,
           c.relkind::text || CASE WHEN c.relrowsecurity THEN ' row-security' ELSE '' END || ' ('
           || coalesce(string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
                  || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
                  || coalesce(' collate ' || nullif(co.collname::text, 'default'), ''),
                  ', ' ORDER BY a.attnum), '') || ')' AS detail
    FROM pg_class c
    LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    LEFT JOIN pg_collation co ON co.oid = a.attcollation
    WHERE c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = $1::text) AND c.relkind <> 'i'
    GROUP BY c.relname, c.relkind, c.relrowsecurity
    UNION ALL
    SELECT 'index', i.relname::text, replace(pg_get_indexdef(i.oid), $1::text || '.', '')
    FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
    WHERE i.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = $1::text)
    UNION ALL
    SELECT 'trigger', t.tgname::text, pg_get_triggerdef(t.oid)
    FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
    WHERE c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = $1::text) AND NOT t.tgisinternal
    UNION ALL
    SELECT 'rule', r.rulename::text, pg_get_ruledef(r.oid)
    FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class
    WHERE c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = $1::text) AND c.relkind <> 'v'
    UNION ALL
    SELECT 'policy', p.polname::text, c.relname::text
    FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid
    WHERE c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = $1::text)
    UNION ALL
    SELECT 'function', p.proname::text, pg_get_function_identity_arguments(p.oid)
           || CASE WHEN p.prosecdef THEN ' security definer' ELSE '' END
           || ' set ' || coalesce(array_to_string(p.proconfig, ','), '') || ' ' || md5(p.prosrc)
    FROM pg_proc p WHERE p.pronamespace = (SELECT oid FROM pg_namespace WHERE nspname = $1::text)
) d) l ORDER BY line COLLATE "C"
"#;

/// The description [`DESCRIBE`] gives of a schema this library created (version 3),
/// `{schema}` standing for its name. Frozen: a test creates a schema and compares.
const EXPECTED_V3: &str = "\
function blank_subject: p_subject text, p_pseudonym bytea security definer set search_path=pg_catalog, {schema}, pg_temp d230808f7785e25140bbe6e4350037a6
function complete_block: p_first bigint security definer set search_path=pg_catalog, {schema}, pg_temp 7b2522b36eee6e7b29da8c4425608b8d
index checkpoints_pkey: CREATE UNIQUE INDEX checkpoints_pkey ON checkpoints USING btree (size)
index current_pkey: CREATE UNIQUE INDEX current_pkey ON current USING btree (purpose, subject, recipient)
index erased_pkey: CREATE UNIQUE INDEX erased_pkey ON erased USING btree (subject_key)
index events_by_erased_key: CREATE INDEX events_by_erased_key ON events USING btree (subject_key) WHERE ((subject IS NULL) AND (subject_key IS NOT NULL))
index events_by_source: CREATE UNIQUE INDEX events_by_source ON events USING btree (source_key) WHERE (source_key IS NOT NULL)
index events_by_subject: CREATE INDEX events_by_subject ON events USING btree (subject, purpose) WHERE (subject IS NOT NULL)
index events_id_key: CREATE UNIQUE INDEX events_id_key ON events USING btree (id)
index events_pkey: CREATE UNIQUE INDEX events_pkey ON events USING btree (seq)
index meta_pkey: CREATE UNIQUE INDEX meta_pkey ON meta USING btree (key)
index notices_pkey: CREATE UNIQUE INDEX notices_pkey ON notices USING btree (id, version)
index purposes_pkey: CREATE UNIQUE INDEX purposes_pkey ON purposes USING btree (id, version)
index tree_pkey: CREATE UNIQUE INDEX tree_pkey ON tree USING btree (level, idx)
relation checkpoints: r (size bigint not null, note text not null collate C)
relation current: r (purpose text not null collate C, subject text not null collate C, recipient text not null collate C, state text not null collate C, seq bigint not null, event_id bytea not null, since bigint not null, until bigint, last_effective bigint not null)
relation erased: r (subject_key bytea not null, seq bigint not null)
relation events: r (seq bigint not null, id bytea not null, kind text not null collate C, subject text collate C, salt bytea, personal_digest bytea, purpose text collate C, purpose_version bigint, recipient text collate C, notice_id text collate C, notice_version text collate C, notice_sha256 bytea, explicit bigint not null, method text collate C, recorded_by text not null collate C, effective_at bigint not null, recorded_at bigint not null, expires_at bigint, effect_deadline bigint, source_id text collate C, evidence text collate C, target bytea, details text collate C, subject_key bytea, source_key bytea, encoding bigint not null)
relation meta: r (key text not null collate C, value text not null collate C)
relation notices: r (id text not null collate C, version text not null collate C, seq bigint not null, registered_at bigint not null, def text not null collate C)
relation purposes: r (id text not null collate C, version bigint not null, seq bigint not null, registered_at bigint not null, def text not null collate C)
relation tree: r (level bigint not null, idx bigint not null, hash bytea not null)
";

/// The lines version 4 adds to [`EXPECTED_V3`]: the indexes of
/// [`crate::store::schema::INDEXES_V4`].
const EXPECTED_V4_MORE: &str = "\
index events_of_downstreams: CREATE INDEX events_of_downstreams ON events USING btree (seq) WHERE (kind = ANY (ARRAY['downstream_registered'::text, 'downstream_acknowledged'::text]))
index events_with_deadline: CREATE INDEX events_with_deadline ON events USING btree (seq) WHERE (effect_deadline IS NOT NULL)
";

/// The catalog of `schema`, one line per object.
fn describe(conn: &PgConn) -> Result<Vec<String>> {
    let rows = conn.query(DESCRIBE, params![conn.schema], None)?;
    Ok(rows
        .into_iter()
        .map(|r| match r.into_iter().next() {
            Some(rusqlite::types::Value::Text(t)) => t,
            _ => String::new(),
        })
        .collect())
}

/// Refuses a schema whose catalog is not exactly the one this library creates for
/// `version`: names the first object that differs.
pub(crate) fn check(conn: &PgConn, version: i64) -> Result<()> {
    // Version 4 has the tables of 3, two more indexes, and admits the downstream
    // events.
    if !(3..=SCHEMA_VERSION).contains(&version) {
        return Err(Error::Corrupt(format!(
            "schema version {version}: PostgreSQL ledgers begin at version 3"
        )));
    }
    let have = describe(conn)?;
    let more = if version >= 4 { EXPECTED_V4_MORE } else { "" };
    let mut want: Vec<String> = EXPECTED_V3
        .lines()
        .chain(more.lines())
        .filter(|l| !l.is_empty())
        .map(|l| l.replace("{schema}", &conn.schema))
        .collect();
    // As DESCRIBE orders them.
    want.sort_unstable();
    if have == want {
        return Ok(());
    }
    let extra = have.iter().find(|r| !want.contains(r));
    let missing = want.iter().find(|r| !have.contains(r));
    let why = match (extra, missing) {
        (Some(r), _) => format!("`{r}` is not part of a consent ledger"),
        (None, Some(r)) => format!("`{r}` is missing or altered"),
        (None, None) => "objects are duplicated".into(),
    };
    Err(Error::Corrupt(format!(
        "the schema `{}` is not the one this library creates: {why}; refusing to use it",
        conn.schema
    )))
}

/// Whether the ledger's schema holds no relation at all (or does not exist).
pub(crate) fn is_empty(conn: &PgConn) -> Result<bool> {
    let rows = conn.query(
        "SELECT count(*) FROM pg_class WHERE relnamespace = \
         (SELECT oid FROM pg_namespace WHERE nspname = ?1)",
        params![conn.schema],
        None,
    )?;
    Ok(first_is(&rows, 0))
}

/// Tells a consent ledger from anything else in the schema, by reading only.
pub(super) fn identify(conn: &PgConn, opts: &LedgerOptions) -> Result<Found> {
    if is_empty(conn)? {
        if opts.read_only || !opts.create {
            return Err(Error::NotFound(format!(
                "no ledger in schema `{}` of this database",
                conn.schema
            )));
        }
        return Ok(Found::Fresh);
    }
    let not_ledger = || {
        Error::NotALedger(format!(
            "schema `{}` holds tables of another application",
            conn.schema
        ))
    };
    let meta = conn
        .query(
            "SELECT key, value FROM meta WHERE key IN ('format', 'schema_version') ORDER BY key",
            &[],
            None,
        )
        .map_err(|_| not_ledger())?;
    let text = |i: usize| match meta.get(i).and_then(|r| r.get(1)) {
        Some(rusqlite::types::Value::Text(t)) => Some(t.clone()),
        _ => None,
    };
    if text(0).as_deref() != Some(FORMAT_NAME) {
        return Err(not_ledger());
    }
    let version: i64 = text(1)
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| Error::Corrupt("schema version unreadable".into()))?;
    if version > SCHEMA_VERSION {
        return Err(Error::SchemaTooNew {
            found: version,
            supported: SCHEMA_VERSION,
        });
    }
    check(conn, version)?;
    Ok(Found::Ledger(version))
}

/// Creates the schema (if need be), its tables and `meta` rows, inside the creating
/// transaction.
pub(crate) fn create(conn: &PgConn) -> Result<()> {
    let s = &conn.schema;
    // A schema made beforehand by another role would let that role, as its owner,
    // drop or replace the ledger's tables: the ledger is created only in a schema of
    // its own role's (or a role it is a member of).
    let foreign = conn.query(
        "SELECT NOT pg_has_role(nspowner, 'USAGE') FROM pg_namespace WHERE nspname = ?1",
        params![s],
        None,
    )?;
    if first_is(&foreign, 1) {
        return Err(Error::Conflict(format!(
            "schema `{s}` belongs to another role: a ledger is created in a schema its own role owns (or a new one)"
        )));
    }
    conn.batch(&format!(
        "CREATE SCHEMA IF NOT EXISTS {s}; SET LOCAL search_path TO {s}; {}",
        schema_text(s)
    ))?;
    conn.execute(
        "INSERT INTO meta(key, value) VALUES ('format', ?1), ('schema_version', ?2)",
        params![FORMAT_NAME, SCHEMA_VERSION.to_string()],
    )?;
    conn.batch(&format!("SET LOCAL search_path TO pg_catalog, {s}"))
}

/// What a role may do with a ledger (docs/POSTGRES.md "Roles").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Read everything: status, history, proofs, `verify`.
    Read,
    /// Read, and append events: INSERT only into the log's tables; the materialized
    /// state (`current`) and the open block's tree rows are its to rewrite. No UPDATE,
    /// DELETE or TRUNCATE of any event.
    Append,
    /// Append, and erase and readmit subjects: the narrow path that blanks a subject's
    /// events (a function run with the owner's rights) and the `erased` table.
    Erase,
}

/// The SQL that grants `role` `access` to the ledger in `schema` (run by the schema's
/// owner). The role must exist.
///
/// # Errors
/// [`InvalidArgument`](crate::ErrorKind::InvalidArgument) for a schema name the ledger
/// does not accept, or a role name that is not letters, digits and `_`.
pub fn grants_sql(schema: &str, role: &str, access: Access) -> Result<String> {
    super::check_schema_name(schema)?;
    if role.is_empty() || !role.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(Error::invalid(format!(
            "role `{role}`: letters, digits and `_` only"
        )));
    }
    let r = format!("\"{role}\"");
    let mut sql = format!(
        "GRANT USAGE ON SCHEMA {schema} TO {r};\n\
         GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {r};\n"
    );
    if access != Access::Read {
        sql.push_str(&format!(
            "GRANT INSERT ON {schema}.events, {schema}.purposes, {schema}.notices TO {r};\n\
             GRANT INSERT ON {schema}.tree TO {r};\n\
             GRANT EXECUTE ON FUNCTION {schema}.complete_block(BIGINT) TO {r};\n\
             GRANT INSERT, UPDATE, DELETE ON {schema}.current TO {r};\n\
             GRANT INSERT, UPDATE (note) ON {schema}.checkpoints TO {r};\n"
        ));
    }
    if access == Access::Erase {
        sql.push_str(&format!(
            "GRANT INSERT, DELETE ON {schema}.erased TO {r};\n\
             GRANT EXECUTE ON FUNCTION {schema}.blank_subject(TEXT, BYTEA) TO {r};\n"
        ));
    }
    Ok(sql)
}

/// Grants `role` `access` to the ledger at `url` (what [`grants_sql`] prints, run in
/// one transaction), connected as the URL's user, who must own the ledger's tables:
/// only the owner can hand out rights the roles of docs/POSTGRES.md rely on, and a
/// grant by anyone else would be cut down with a mere warning. Refuses a schema that
/// is not a consent ledger (as opening one does) and a role that does not exist.
/// Returns the SQL it ran.
///
/// # Errors
/// - [`InvalidArgument`](crate::ErrorKind::InvalidArgument): as [`grants_sql`], or a
///   malformed URL;
/// - [`NotFound`](crate::ErrorKind::NotFound): no ledger in the schema, or no such
///   role; [`NotALedger`](crate::ErrorKind::NotALedger): the schema holds something
///   else;
/// - [`ReadOnly`](crate::ErrorKind::ReadOnly): the URL's user does not own the
///   ledger's tables;
/// - [`Storage`](crate::ErrorKind::Storage), [`Busy`](crate::ErrorKind::Busy): the
///   server could not be reached, or refused the grants.
pub fn apply_grants(url: &str, role: &str, access: Access) -> Result<String> {
    let opts = LedgerOptions {
        create: false,
        ..LedgerOptions::default()
    };
    let (conn, _) = PgConn::connect(url, &opts)?;
    let sql = grants_sql(&conn.schema, role, access)?;
    let granted = (|| {
        let exists = conn.query(
            "SELECT count(*) FROM pg_roles WHERE rolname = ?1",
            params![role],
            None,
        )?;
        if !first_is(&exists, 1) {
            return Err(Error::NotFound(format!(
                "role `{role}` does not exist: create it first (CREATE ROLE {role} LOGIN)"
            )));
        }
        let owner = conn.query(
            "SELECT bool_and(pg_has_role(relowner, 'USAGE')) FROM pg_class \
             WHERE relkind = 'r' AND relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = ?1)",
            params![conn.schema],
            None,
        )?;
        if !first_is(&owner, 1) {
            return Err(Error::ReadOnly(format!(
                "only the owner of the ledger's tables in schema `{}` may grant access to it: connect as that role",
                conn.schema
            )));
        }
        conn.batch("BEGIN")?;
        let ran = conn.batch(&sql).and_then(|()| conn.batch("COMMIT"));
        if ran.is_err() && conn.in_transaction() {
            let _ = conn.batch("ROLLBACK");
        }
        ran
    })();
    let closed = conn.close();
    granted?;
    closed?;
    Ok(sql)
}
