//! What the PostgreSQL backend promises beyond the shared suite (which runs on it with
//! `CONSENT_TEST_BACKEND=postgres`): roles that cannot rewrite history, appenders on
//! many connections and in killed processes, a planted trigger refused, a rewritten
//! row found, and what an erasure leaves in the server's files.
//!
//! They need a server: `make test-postgres` starts a throwaway cluster and runs them
//! (they are ignored by a plain `cargo test`); CONSENT_TEST_PG_URL names another.
mod common;

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;

use common::*;
use consent_core::*;

fn server() -> String {
    std::env::var("CONSENT_TEST_PG_URL").expect("CONSENT_TEST_PG_URL names the test server")
}

/// The schema name in a URL made by `fresh_pg_schema`.
fn schema_of(at: &str) -> String {
    at.rsplit("schema=").next().unwrap().to_string()
}

/// A client of the test server as its superuser (the owner of every test schema).
fn admin() -> postgres::Client {
    postgres::Client::connect(&server(), postgres::NoTls).unwrap()
}

/// `at` connecting as `role` instead of the URL's user.
fn as_role(at: &str, role: &str) -> String {
    let (scheme, rest) = at.split_once("://").unwrap();
    let rest = match rest.split_once('@') {
        Some((_, host)) => host,
        None => rest,
    };
    format!("{scheme}://{role}@{rest}")
}

fn options(clock: &Clock) -> LedgerOptions {
    LedgerOptions {
        pseudonym_key: KeySource::Bytes([0x5e; 32]),
        ..clock.options()
    }
}

/// A new ledger in a fresh schema, its purposes registered; returns its URL.
fn new_pg_ledger(clock: &Clock) -> (Ledger, String) {
    let at = fresh_pg_schema(&server());
    let l = Ledger::open_with(&at, options(clock)).unwrap();
    register_all(&l);
    (l, at)
}

/// Creates a login role (once per run) and grants it `access` to the ledger at `at`.
fn role_with(at: &str, name: &str, access: Access) -> String {
    let role = format!("{name}_{}", std::process::id());
    let mut admin = admin();
    admin
        .batch_execute(&format!(
            "DO $$ BEGIN CREATE ROLE {role} LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;"
        ))
        .unwrap();
    admin
        .batch_execute(&grants_sql(&schema_of(at), &role, access).unwrap())
        .unwrap();
    role
}

#[test]
#[ignore = "needs PostgreSQL: make test-postgres"]
fn an_appending_role_cannot_rewrite_history() {
    let clock = Clock::new("2024-10-01T09:00:00Z");
    let (owner, at) = new_pg_ledger(&clock);
    owner.append(give("770001", "jmsu.marketing")).unwrap();
    let schema = schema_of(&at);
    let app = role_with(&at, "sis_app", Access::Append);

    // The integration host appends and asks with its own credentials...
    let l = Ledger::open_with(as_role(&at, &app), options(&clock)).unwrap();
    l.append(give("770002", "jmsu.marketing")).unwrap();
    l.append(NewEvent::withdraw("770001", "jmsu.marketing").method(Method::Portal))
        .unwrap();
    assert_eq!(
        l.status("770001", "jmsu.marketing", None).unwrap().state,
        State::Withdrawn
    );

    // ...but with those same credentials cannot change, delete or truncate an event.
    let mut raw = postgres::Client::connect(&as_role(&server(), &app), postgres::NoTls).unwrap();
    for attack in [
        format!("UPDATE {schema}.events SET kind = 'granted' WHERE seq = (SELECT max(seq) FROM {schema}.events)"),
        format!("DELETE FROM {schema}.events WHERE seq > 10"),
        format!("TRUNCATE {schema}.events"),
        format!("UPDATE {schema}.tree SET hash = hash"),
        format!("DELETE FROM {schema}.erased"),
        format!("SELECT {schema}.blank_subject('770002', '\\x00')"),
        format!("CREATE TRIGGER t BEFORE INSERT ON {schema}.events FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger()"),
        format!("DROP TABLE {schema}.checkpoints"),
    ] {
        let err = raw.batch_execute(&attack).expect_err(&attack);
        assert_eq!(
            err.code(),
            Some(&postgres::error::SqlState::INSUFFICIENT_PRIVILEGE),
            "{attack}: {err}"
        );
    }
    // Nor erase through the ledger: erasure is granted separately.
    let refused = l
        .erase_subject("770002", "retention ended", Actor::staff("dpo"))
        .unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::ReadOnly, "{refused}");
    assert_eq!(
        l.status("770002", "jmsu.marketing", None).unwrap().state,
        State::Given,
        "a refused erasure leaves nothing behind"
    );

    // The data-protection office's role may erase.
    let dpo = role_with(&at, "dpo", Access::Erase);
    let d = Ledger::open_with(as_role(&at, &dpo), options(&clock)).unwrap();
    let report = d
        .erase_subject("770002", "retention ended", Actor::staff("dpo"))
        .unwrap();
    assert_eq!(report.events_erased, 1);
    // A reader reads and verifies, and may not append.
    let reader = role_with(&at, "auditor", Access::Read);
    let r = Ledger::open_with(as_role(&at, &reader), options(&clock)).unwrap();
    let report = r.verify().unwrap();
    assert!(report.ok, "{report:?}");
    let refused = r.append(give("770003", "jmsu.marketing")).unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::ReadOnly, "{refused}");
    assert_eq!(r.head().unwrap(), owner.head().unwrap());
}

#[test]
#[ignore = "needs PostgreSQL: make test-postgres"]
fn appenders_on_many_connections_lose_nothing_and_share_no_seq() {
    let clock = Clock::new("2024-10-01T09:00:00Z");
    let (first, at) = new_pg_ledger(&clock);
    let before = first.head().unwrap().size;
    let writers = 6;
    let each = 40;
    let handles: Vec<_> = (0..writers)
        .map(|w| {
            let at = at.clone();
            let clock = clock.clone();
            std::thread::spawn(move || {
                let l = Ledger::open_with(&at, options(&clock)).unwrap();
                (0..each)
                    .map(|i| {
                        let e = l
                            .append(
                                give(&format!("s{w}-{i}"), "jmsu.marketing")
                                    .source_id(format!("w{w}-{i}")),
                            )
                            .unwrap();
                        (e.id, e.seq)
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let acked: Vec<(uuid::Uuid, u64)> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    let seqs: HashSet<u64> = acked.iter().map(|a| a.1).collect();
    assert_eq!(seqs.len(), writers * each, "no two appends share a seq");
    let head = first.head().unwrap();
    assert_eq!(head.size, before + (writers * each) as u64);
    for (id, seq) in &acked {
        assert_eq!(first.event(*id).unwrap().seq, *seq);
    }
    let report = first.verify().unwrap();
    assert!(report.ok, "{report:?}");
}

/// The child of [`a_killed_appender_loses_nothing_acknowledged`]: appends until killed,
/// printing each acknowledged event id.
#[test]
#[ignore = "run as a child process by a_killed_appender_loses_nothing_acknowledged"]
fn child_appender() {
    let Ok(at) = std::env::var("CONSENT_CHILD_LEDGER") else {
        return;
    };
    let clock = Clock::new("2024-10-01T09:00:00Z");
    let l = Ledger::open_with(&at, options(&clock)).unwrap();
    let tag = std::process::id();
    for i in 0.. {
        let e = l
            .append(give(&format!("c{tag}-{i}"), "jmsu.marketing"))
            .unwrap();
        println!("ACK {}", e.id);
    }
}

#[test]
#[ignore = "needs PostgreSQL: make test-postgres"]
fn a_killed_appender_loses_nothing_acknowledged() {
    let clock = Clock::new("2024-10-01T09:00:00Z");
    let (l, at) = new_pg_ledger(&clock);
    let mut acked = Vec::new();
    for round in 0..4 {
        let mut children: Vec<_> = (0..3)
            .map(|_| {
                Command::new(std::env::current_exe().unwrap())
                    .args([
                        "--exact",
                        "child_appender",
                        "--include-ignored",
                        "--nocapture",
                    ])
                    .env("CONSENT_CHILD_LEDGER", &at)
                    .stdout(Stdio::piped())
                    .stderr(Stdio::null())
                    .spawn()
                    .unwrap()
            })
            .collect();
        // Read acknowledgements until each child has given some, then kill them all
        // mid-stream: some are between an insert and its commit.
        let mut readers: Vec<_> = children
            .iter_mut()
            .map(|c| BufReader::new(c.stdout.take().unwrap()).lines())
            .collect();
        for r in &mut readers {
            for _ in 0..(5 + round * 3) {
                let line = r.next().unwrap().unwrap();
                if let Some(id) = line.strip_prefix("ACK ") {
                    acked.push(id.parse::<uuid::Uuid>().unwrap());
                }
            }
        }
        for c in &mut children {
            c.kill().unwrap();
        }
        for (c, r) in children.iter_mut().zip(readers) {
            c.wait().unwrap();
            for line in r.map_while(|l| l.ok()) {
                if let Some(id) = line.strip_prefix("ACK ") {
                    acked.push(id.parse().unwrap());
                }
            }
        }
        // The server rolled back what the dead held, and released their lock.
        l.append(give(&format!("after-{round}"), "jmsu.marketing"))
            .unwrap();
    }
    for id in &acked {
        l.event(*id).unwrap();
    }
    let report = l.verify().unwrap();
    assert!(report.ok, "{report:?}");
    assert!(acked.len() >= 4 * 3 * 5);
}

#[test]
#[ignore = "needs PostgreSQL: make test-postgres"]
fn a_dropped_connection_mid_transaction_leaves_nothing_half_written() {
    let clock = Clock::new("2024-10-01T09:00:00Z");
    let (l, at) = new_pg_ledger(&clock);
    let schema = schema_of(&at);
    let head = l.head().unwrap();
    // A writer that took the lock and wrote a row, then lost its connection.
    let mut dying = postgres::Client::connect(&server(), postgres::NoTls).unwrap();
    dying
        .batch_execute(&format!(
            "BEGIN; SELECT pg_advisory_xact_lock({}, hashtext('{schema}'));
             INSERT INTO {schema}.tree VALUES (0, 999999, '\\x00');",
            0x636f_6e73
        ))
        .unwrap();
    let pid: i32 = dying
        .query_one("SELECT pg_backend_pid()", &[])
        .unwrap()
        .get(0);
    // Our append waits for the lock...
    let waiter = {
        let at = at.clone();
        let clock = clock.clone();
        std::thread::spawn(move || {
            let l = Ledger::open_with(&at, options(&clock)).unwrap();
            l.append(give("770009", "jmsu.marketing")).unwrap()
        })
    };
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(!waiter.is_finished(), "the lock serialises writers");
    // ...until the server ends the dead writer's session and rolls it back.
    admin()
        .execute("SELECT pg_terminate_backend($1)", &[&pid])
        .unwrap();
    let e = waiter.join().unwrap();
    assert_eq!(e.seq, head.size);
    let report = l.verify().unwrap();
    assert!(report.ok, "{report:?}");
}

#[test]
#[ignore = "needs PostgreSQL: make test-postgres"]
fn a_planted_trigger_or_a_rewritten_row_is_found() {
    let clock = Clock::new("2024-10-01T09:00:00Z");
    let (l, at) = new_pg_ledger(&clock);
    for i in 0..40 {
        l.append(give(&format!("77{i:04}"), "jmsu.marketing"))
            .unwrap();
    }
    let schema = schema_of(&at);
    let mut admin = admin();
    // Someone with the owner's rights rewrites a grant as a refusal.
    admin
        .batch_execute(&format!(
            "UPDATE {schema}.events SET kind = 'refused' WHERE seq = 30"
        ))
        .unwrap();
    let report = l.verify().unwrap();
    assert!(!report.ok);
    assert_eq!(
        report.first_bad_seq.map(|s| s / 16),
        Some(30 / 16),
        "{report:?}"
    );
    admin
        .batch_execute(&format!(
            "UPDATE {schema}.events SET kind = 'granted' WHERE seq = 30;
             CREATE FUNCTION {schema}.quiet() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
             CREATE TRIGGER quiet BEFORE INSERT ON {schema}.events FOR EACH ROW EXECUTE FUNCTION {schema}.quiet();"
        ))
        .unwrap();
    let refused = Ledger::open_with(&at, options(&clock)).err().unwrap();
    assert_eq!(refused.kind(), ErrorKind::Corrupt, "{refused}");
    assert!(refused.to_string().contains("quiet"), "{refused}");
}

#[test]
#[ignore = "needs PostgreSQL: make test-postgres"]
fn what_an_erasure_leaves_in_the_servers_files() {
    let clock = Clock::new("2024-10-01T09:00:00Z");
    let (l, at) = new_pg_ledger(&clock);
    let schema = schema_of(&at);
    let subject = format!("ERASE-ME-{}", std::process::id());
    l.append(give(&subject, "jmsu.marketing").source_id(format!("{subject}-src")))
        .unwrap();
    for i in 0..50 {
        l.append(give(&format!("keep{i}"), "jmsu.marketing"))
            .unwrap();
    }
    // A second subject, written last: its row lies at the lowest address of its page,
    // where pruning frees space without moving other rows over it.
    let last = format!("ERASE-LAST-{}", std::process::id());
    l.append(give(&last, "jmsu.marketing")).unwrap();
    let mut admin = admin();
    let data: String = admin.query_one("SHOW data_directory", &[]).unwrap().get(0);
    let file_of = |admin: &mut postgres::Client, table: &str| -> std::path::PathBuf {
        let rel: String = admin
            .query_one(
                &format!("SELECT pg_relation_filepath('{schema}.{table}')"),
                &[],
            )
            .unwrap()
            .get(0);
        std::path::Path::new(&data).join(rel)
    };
    let holds = |path: &std::path::Path| -> bool {
        let bytes = std::fs::read(path).unwrap_or_default();
        [&subject, &last]
            .iter()
            .any(|s| bytes.windows(s.len()).any(|w| w == s.as_bytes()))
    };
    admin.batch_execute("CHECKPOINT").unwrap();
    if std::fs::read_dir(&data).is_err() {
        // A server elsewhere (CONSENT_TEST_PG_URL): its files cannot be read from here.
        eprintln!("what_an_erasure_leaves_in_the_servers_files: {data} is not readable here; checking the erasure only");
        let report = l
            .erase_subject(&subject, "retention ended", Actor::staff("dpo"))
            .unwrap();
        assert!(report.wal_truncated, "{report:?}");
        return;
    }
    // Before: the table, its subject index and the materialized state all hold it.
    for relation in ["events", "current", "events_by_subject", "current_pkey"] {
        let f = file_of(&mut admin, relation);
        assert!(holds(&f), "{relation} holds the subject before erasure");
    }

    l.erase_subject(&last, "retention ended", Actor::staff("dpo"))
        .unwrap();
    let report = l
        .erase_subject(&subject, "retention ended", Actor::staff("dpo"))
        .unwrap();
    // The owner's erasure vacuumed `events` and `current` after it committed; other
    // tests' transactions in this database may have kept old versions a moment longer,
    // which completing the erasures waits out.
    let complete = report.wal_truncated
        || l.complete_erasures(std::time::Duration::from_secs(60))
            .unwrap();
    assert!(complete, "{report:?}");
    admin.batch_execute("CHECKPOINT").unwrap();
    // No row and no index entry holds the values any more (VACUUM removed the old
    // versions and their index entries), but the files may: VACUUM compacts a page
    // without zeroing what it frees. What this run saw is printed; rewriting the
    // tables is what removes it.
    let relations = ["events", "current", "events_by_subject", "current_pkey"];
    let before: Vec<_> = relations.iter().map(|r| file_of(&mut admin, r)).collect();
    for (r, f) in relations.iter().zip(&before) {
        eprintln!("after VACUUM, {r}'s file holds an erased id: {}", holds(f));
    }
    assert!(l.rewrite_erased().unwrap(), "VACUUM FULL as the owner");
    admin.batch_execute("CHECKPOINT").unwrap();
    for table in relations {
        let f = file_of(&mut admin, table);
        assert!(!before.contains(&f), "{table} was written into a new file");
        assert!(!holds(&f), "{table}'s new file does not hold an erased id");
    }
    for old in &before {
        assert!(!old.exists(), "the old file {} is gone", old.display());
    }
    // What remains, as docs/POSTGRES.md tells the DBA: the write-ahead log still holds
    // the values until its segments are recycled (and archives and backups for as
    // long as they are kept).
    let wal_holds = std::fs::read_dir(std::path::Path::new(&data).join("pg_wal"))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .any(|e| holds(&e.path()));
    assert!(
        wal_holds,
        "the WAL keeps the erased values until it is recycled"
    );
    let report = l.verify().unwrap();
    assert!(report.ok, "{report:?}");
}

#[test]
#[ignore = "needs PostgreSQL: make test-postgres"]
fn a_second_ledger_in_another_schema_is_independent() {
    let clock = Clock::new("2024-10-01T09:00:00Z");
    let (a, _) = new_pg_ledger(&clock);
    let (b, _) = new_pg_ledger(&clock);
    a.append(give("770001", "jmsu.marketing")).unwrap();
    assert_eq!(
        b.status("770001", "jmsu.marketing", None).unwrap().state,
        State::NeverAsked
    );
    assert_ne!(a.head().unwrap(), b.head().unwrap());
}

#[test]
#[ignore = "needs PostgreSQL: make test-postgres"]
fn a_ledger_copies_between_backends_with_the_same_head() {
    let clock = Clock::new("2024-10-01T09:00:00Z");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ljmu.db");
    let a = Ledger::open_with(&file, options(&clock)).unwrap();
    register_all(&a);
    for i in 0..37 {
        a.append(give(&format!("77{i:04}"), "jmsu.marketing").source_id(format!("src-{i}")))
            .unwrap();
    }
    a.append(give("770003", "wellbeing.share-external").recipient("NHS"))
        .unwrap();
    a.erase_subject("770001", "retention ended", Actor::staff("dpo"))
        .unwrap();
    let head = a.head().unwrap();

    // File -> PostgreSQL: the same head, every answer the same, verify passes.
    let pg = fresh_pg_schema(&server());
    let report = a.copy_to(&pg, &options(&clock)).unwrap();
    assert_eq!(report.head, head);
    assert_eq!(report.rows[0], head.size);
    let b = Ledger::open_with(&pg, options(&clock)).unwrap();
    assert_eq!(b.head().unwrap(), head);
    let verified = b.verify().unwrap();
    assert!(verified.ok, "{verified:?}");
    for (s, p, r) in [
        ("770002", "jmsu.marketing", None),
        ("770001", "jmsu.marketing", None),
        ("770003", "wellbeing.share-external", Some("NHS")),
    ] {
        assert_eq!(b.status(s, p, r).unwrap(), a.status(s, p, r).unwrap());
    }
    // The source ids came along (as keyed pseudonyms): a retry is recognised.
    let retried = b
        .append(give("770010", "jmsu.marketing").source_id("src-10"))
        .unwrap();
    assert_eq!(retried.seq, a.event(retried.id).unwrap().seq);
    assert_eq!(b.head().unwrap(), head);

    // PostgreSQL -> file: the checker of FORMAT.md applies to the copy.
    let back = dir.path().join("copy.db");
    assert_eq!(b.copy_to(&back, &options(&clock)).unwrap().head, head);
    let c = Ledger::open_with(
        &back,
        LedgerOptions {
            pseudonym_key: KeySource::None,
            read_only: true,
            ..options(&clock)
        },
    )
    .unwrap();
    assert_eq!(c.head().unwrap(), head);
    let checker =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tools/verify_ledger.py");
    let out = Command::new("python3")
        .arg(&checker)
        .arg(&back)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{said}");
    assert!(said.starts_with(&format!("OK {head}")), "{said}");

    // A destination that holds a ledger is never written into.
    let refused = a.copy_to(&pg, &options(&clock)).unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::Conflict, "{refused}");
    let refused = b.copy_to(&file, &options(&clock)).unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::Conflict, "{refused}");
    assert_eq!(b.head().unwrap(), head);
}

/// A schema of version 3 (before the downstream events) is moved to version 4 by its
/// first opening for writing: two indexes and the version number, the head unchanged;
/// a read-only opening before that is refused (docs/FORMAT.md §2.1).
#[test]
#[ignore = "needs PostgreSQL: make test-postgres"]
fn a_version_3_schema_is_migrated_to_4_with_its_head() {
    let clock = Clock::new("2024-10-01T09:00:00Z");
    let (l, at) = new_pg_ledger(&clock);
    let head = l.head().unwrap();
    l.close().unwrap();
    let schema = schema_of(&at);
    let mut admin = admin();
    admin
        .batch_execute(&format!(
            "UPDATE {schema}.meta SET value = '3' WHERE key = 'schema_version'; \
             DROP INDEX {schema}.events_of_downstreams; DROP INDEX {schema}.events_with_deadline"
        ))
        .unwrap();
    let read_only = LedgerOptions {
        read_only: true,
        ..options(&clock)
    };
    let refused = Ledger::open_with(&at, read_only).err().unwrap();
    assert_eq!(refused.kind(), ErrorKind::ReadOnly, "{refused}");
    let l = Ledger::open_with(&at, options(&clock)).unwrap();
    assert_eq!(l.head().unwrap(), head);
    assert!(l.verify().unwrap().ok);
    let version: String = admin
        .query_one(
            &format!("SELECT value FROM {schema}.meta WHERE key = 'schema_version'"),
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(version, SCHEMA_VERSION.to_string());
    let indexes: i64 = admin
        .query_one(
            "SELECT count(*) FROM pg_indexes WHERE schemaname = $1 \
             AND indexname IN ('events_of_downstreams', 'events_with_deadline')",
            &[&schema],
        )
        .unwrap()
        .get(0);
    assert_eq!(indexes, 2);
}

#[test]
#[ignore = "needs PostgreSQL: make test-postgres"]
fn a_newer_schema_or_another_applications_tables_are_refused() {
    let clock = Clock::new("2024-10-01T09:00:00Z");
    let (l, at) = new_pg_ledger(&clock);
    l.close().unwrap();
    let schema = schema_of(&at);
    let mut admin = admin();
    admin
        .batch_execute(&format!(
            "UPDATE {schema}.meta SET value = '5' WHERE key = 'schema_version'"
        ))
        .unwrap();
    let refused = Ledger::open_with(&at, options(&clock)).err().unwrap();
    assert_eq!(refused.kind(), ErrorKind::SchemaTooNew, "{refused}");
    // Another application's schema is not taken for a ledger, nor written into.
    let other = fresh_pg_schema(&server());
    let other_schema = schema_of(&other);
    admin
        .batch_execute(&format!(
            "CREATE SCHEMA {other_schema}; CREATE TABLE {other_schema}.students(id TEXT)"
        ))
        .unwrap();
    let refused = Ledger::open_with(&other, options(&clock)).err().unwrap();
    assert_eq!(refused.kind(), ErrorKind::NotALedger, "{refused}");
    let tables: i64 = admin
        .query_one(
            "SELECT count(*) FROM pg_tables WHERE schemaname = $1",
            &[&other_schema],
        )
        .unwrap()
        .get(0);
    assert_eq!(tables, 1);
    // An empty schema opened without `create` is not made a ledger either.
    let empty = fresh_pg_schema(&server());
    let refused = Ledger::open_with(
        &empty,
        LedgerOptions {
            create: false,
            ..options(&clock)
        },
    )
    .err()
    .unwrap();
    assert_eq!(refused.kind(), ErrorKind::NotFound, "{refused}");
}

#[test]
#[ignore = "needs PostgreSQL: make test-postgres"]
fn verify_reads_one_snapshot_while_other_hosts_append() {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let clock = Clock::new("2024-10-01T09:00:00Z");
    let (l, at) = new_pg_ledger(&clock);
    let stop = Arc::new(AtomicBool::new(false));
    let appended = Arc::new(AtomicUsize::new(0));
    let writer = {
        let (at, clock, stop, appended) =
            (at.clone(), clock.clone(), stop.clone(), appended.clone());
        std::thread::spawn(move || {
            let w = Ledger::open_with(&at, options(&clock)).unwrap();
            while !stop.load(Ordering::SeqCst) {
                let n = appended.load(Ordering::SeqCst);
                w.append(give(&format!("w{n}"), "jmsu.marketing")).unwrap();
                appended.fetch_add(1, Ordering::SeqCst);
            }
        })
    };
    // Every verify runs while the other host appends: from its first append until at
    // least 20 more went in, and at least 5 times.
    let mut verified = 0;
    while appended.load(Ordering::SeqCst) == 0 {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    let first = appended.load(Ordering::SeqCst);
    while verified < 5 || appended.load(Ordering::SeqCst) < first + 20 {
        let report = l.verify().unwrap();
        assert!(report.ok, "{report:?}");
        verified += 1;
    }
    stop.store(true, Ordering::SeqCst);
    writer.join().unwrap();
    let report = l.verify().unwrap();
    assert!(report.ok, "{report:?}");
    assert!(report.size as usize >= first + 20);
}

#[test]
#[ignore = "needs PostgreSQL: make test-postgres"]
fn tls_connections_are_verified() {
    let (Ok(url), Ok(ca)) = (
        std::env::var("CONSENT_TEST_PG_TLS_URL"),
        std::env::var("CONSENT_TEST_PG_TLS_CA"),
    ) else {
        // A server named by CONSENT_TEST_PG_URL alone: pg-cluster.sh did not start it.
        eprintln!("tls_connections_are_verified: no CONSENT_TEST_PG_TLS_URL; not run");
        return;
    };
    let clock = Clock::new("2024-10-01T09:00:00Z");
    // With the CA that signed the server's certificate: a ledger over TLS.
    let at = fresh_pg_schema(&url);
    let l = Ledger::open_with(&at, options(&clock)).unwrap();
    register_all(&l);
    l.append(give("770001", "jmsu.marketing")).unwrap();
    assert_eq!(
        l.status("770001", "jmsu.marketing", None).unwrap().state,
        State::Given
    );
    // Against the system's roots the throwaway CA is unknown: refused, and said why.
    let untrusted = at.replace(&format!("&sslrootcert={ca}"), "");
    assert_ne!(untrusted, at);
    let refused = Ledger::open_with(&untrusted, options(&clock))
        .err()
        .unwrap();
    assert_eq!(refused.kind(), ErrorKind::Storage, "{refused}");
    assert!(refused.to_string().contains("certificate"), "{refused}");
    // `prefer`, the default, verifies too when TLS is used.
    let preferred = untrusted.replace("sslmode=verify-full", "sslmode=prefer");
    assert!(Ledger::open_with(&preferred, options(&clock)).is_err());
    // Without TLS this server refuses TCP (its pg_hba takes only `hostssl`).
    let plain = untrusted.replace("sslmode=verify-full", "sslmode=disable");
    let refused = Ledger::open_with(&plain, options(&clock)).err().unwrap();
    assert_eq!(refused.kind(), ErrorKind::Storage, "{refused}");
    // A root file that holds no certificate is a usage error, not a silent fallback.
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "not a certificate\n").unwrap();
    let bad = at.replace(&ca, empty.to_str().unwrap());
    let refused = Ledger::open_with(&bad, options(&clock)).err().unwrap();
    assert_eq!(refused.kind(), ErrorKind::InvalidArgument, "{refused}");
}

#[test]
#[ignore = "needs PostgreSQL: make test-postgres"]
fn an_appending_role_cannot_replace_a_tree_node() {
    let clock = Clock::new("2024-10-01T09:00:00Z");
    let (owner, at) = new_pg_ledger(&clock);
    let app = role_with(&at, "tree_app", Access::Append);
    let l = Ledger::open_with(as_role(&at, &app), options(&clock)).unwrap();
    // Blocks complete as the role appends: the owner's function deletes their low rows.
    for i in 0..40 {
        l.append(give(&format!("77{i:04}"), "jmsu.marketing"))
            .unwrap();
    }
    let head = owner.head().unwrap();
    let schema = schema_of(&at);
    let mut raw = postgres::Client::connect(&as_role(&server(), &app), postgres::NoTls).unwrap();
    // The nodes roots are computed from cannot be deleted or changed by the role...
    for attack in [
        format!("DELETE FROM {schema}.tree WHERE level >= 4"),
        format!("UPDATE {schema}.tree SET hash = '\\x00' WHERE level = 4"),
    ] {
        let err = raw.batch_execute(&attack).expect_err(&attack);
        assert_eq!(
            err.code(),
            Some(&postgres::error::SqlState::INSUFFICIENT_PRIVILEGE),
            "{attack}: {err}"
        );
    }
    // ...and the function deletes nothing but the low rows of a completed block.
    for first in [0i64, 16, 32, 48, 7] {
        let n: i64 = raw
            .query_one(&format!("SELECT {schema}.complete_block($1)"), &[&first])
            .unwrap()
            .get(0);
        assert_eq!(
            n, 0,
            "block {first}: nothing left to delete, or not a completed block"
        );
    }
    let stored: i64 = raw
        .query_one(
            &format!("SELECT count(*) FROM {schema}.tree WHERE level < 4"),
            &[],
        )
        .unwrap()
        .get(0);
    assert!(stored > 0, "the open block's low rows are still there");
    assert_eq!(owner.head().unwrap(), head);
    let report = owner.verify().unwrap();
    assert!(report.ok, "{report:?}");
}

/// An append's writes wait for the next round trip (`postgres/pipeline.rs`), so an
/// append of a batch returns before the server has run them. When one of them then
/// fails, nothing of the batch may be committed: not the events before it, which
/// were acknowledged to the batch, nor those after. Here the appending role has lost
/// INSERT on `current`, so every append's last write fails on the server.
#[test]
#[ignore = "needs PostgreSQL: make test-postgres"]
fn a_write_that_fails_after_its_append_returned_loses_the_whole_batch() {
    let clock = Clock::new("2024-10-01T09:00:00Z");
    let (owner, at) = new_pg_ledger(&clock);
    owner.append(give("880000", "jmsu.marketing")).unwrap();
    let before = owner.head().unwrap();
    let app = role_with(&at, "crippled", Access::Append);
    admin()
        .batch_execute(&format!(
            "REVOKE INSERT ON {}.current FROM {app}",
            schema_of(&at)
        ))
        .unwrap();
    let l = Ledger::open_with(as_role(&at, &app), options(&clock)).unwrap();

    // In a batch: the first append returns (its writes wait); the second append's round
    // trip carries them, fails, and ends the transaction; the batch cannot commit.
    let batch = l.batch().unwrap();
    let first = batch.append(give("880001", "jmsu.marketing"));
    let second = batch.append(give("880002", "jmsu.marketing"));
    let failed = match (&first, &second) {
        (Ok(_), Err(e)) | (Err(e), _) => e,
        (Ok(_), Ok(_)) => panic!("both appends returned although no current row can be written"),
    };
    assert_eq!(failed.kind(), ErrorKind::ReadOnly, "{failed}");
    let third = batch.append(give("880003", "jmsu.marketing")).unwrap_err();
    assert_eq!(third.kind(), ErrorKind::Batch, "{third}");
    assert!(
        batch.commit().is_err(),
        "a batch whose writes failed committed"
    );
    assert_eq!(owner.head().unwrap(), before);

    // One append on its own learns of the failure before it returns (the commit travels
    // with its writes).
    let single = l.append(give("880004", "jmsu.marketing")).unwrap_err();
    assert_eq!(single.kind(), ErrorKind::ReadOnly, "{single}");
    assert_eq!(owner.head().unwrap(), before);

    // The connection is usable afterwards, and the ledger is whole.
    assert_eq!(l.head().unwrap(), before);
    for subject in ["880001", "880002", "880003", "880004"] {
        assert!(owner.history(subject).unwrap().is_empty(), "{subject}");
    }
    let report = owner.verify().unwrap();
    assert!(report.ok, "{report:?}");
}
