//! Crash test: writer processes append concurrently to one ledger file and are killed
//! with SIGKILL at random moments; after every round the ledger must reopen, verify,
//! and hold every acknowledged event exactly once.
//!
//! `CONSENT_SOAK_ROUNDS` (default 20) and `CONSENT_SOAK_WRITERS` (default 3) set the size.

use std::collections::{HashMap, HashSet};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use consent_core::{Actor, DownstreamDef, Ledger, State};
use consent_reliability::{count, register_all, Ack, CRASH_FEED, PURPOSES};
use rand::{rngs::StdRng, Rng, SeedableRng};
use rusqlite::Connection;

fn spawn(ledger: &std::path::Path, log: &std::path::Path, tag: &str, seed: u64) -> Child {
    Command::new(env!("CARGO_BIN_EXE_writer"))
        .arg(ledger)
        .arg(log)
        .arg(tag)
        .arg(seed.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn writer")
}

/// Waits until the log has grown by at least `lines` or `limit` passed.
fn wait_for_progress(log: &std::path::Path, before: usize, lines: usize, limit: Duration) {
    let start = Instant::now();
    while start.elapsed() < limit {
        let n = std::fs::read_to_string(log)
            .map(|t| t.lines().count())
            .unwrap_or(0);
        if n >= before + lines {
            return;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn killed_writers_lose_no_acknowledged_event() {
    let rounds = count("CONSENT_SOAK_ROUNDS", 20);
    let writers = count("CONSENT_SOAK_WRITERS", 3);
    let seed = count("CONSENT_SOAK_SEED", rand::random::<u32>() as u64);
    eprintln!("crash test: {rounds} rounds, {writers} writers, seed {seed}");
    let mut rng = StdRng::seed_from_u64(seed);
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("ledger.db");
    {
        let l = Ledger::open(&ledger).unwrap();
        register_all(&l).unwrap();
        // The writers also acknowledge for a downstream, as feed consumers would.
        l.register_downstream(
            DownstreamDef::new(
                CRASH_FEED,
                "Crash feed",
                "JMSU",
                PURPOSES[..3].iter().copied(),
            ),
            Actor::staff("dpo"),
        )
        .unwrap();
    }
    let logs: Vec<_> = (0..writers)
        .map(|w| dir.path().join(format!("w{w}.log")))
        .collect();
    let mut killed_mid_run = 0u64;
    let mut unlogged_total = 0u64;
    for round in 0..rounds {
        let before: Vec<usize> = logs
            .iter()
            .map(|p| {
                std::fs::read_to_string(p)
                    .map(|t| t.lines().count())
                    .unwrap_or(0)
            })
            .collect();
        let mut children: Vec<Child> = (0..writers)
            .map(|w| spawn(&ledger, &logs[w as usize], &format!("w{w}"), rng.random()))
            .collect();
        // Let at least one writer acknowledge something, then kill each at a random moment.
        wait_for_progress(&logs[0], before[0], 1, Duration::from_secs(10));
        for child in children.iter_mut() {
            std::thread::sleep(Duration::from_millis(rng.random_range(0..60)));
            if child.try_wait().unwrap().is_none() {
                killed_mid_run += 1;
            }
            child.kill().unwrap(); // SIGKILL on Unix
        }
        for mut child in children {
            let status = child.wait().unwrap();
            // A writer that stopped by itself failed: show why.
            if status.code().is_some() {
                let mut err = String::new();
                use std::io::Read;
                child
                    .stderr
                    .take()
                    .unwrap()
                    .read_to_string(&mut err)
                    .unwrap();
                panic!("round {round}: a writer exited by itself ({status}): {err}");
            }
        }

        // Reopen after the crash, as the next process would.
        let l = Ledger::open(&ledger).unwrap();
        let report = l.verify().unwrap();
        assert!(report.ok, "round {round}: verify after SIGKILL: {report:?}");
        let acks: Vec<Ack> = logs
            .iter()
            .flat_map(|p| Ack::parse_log(&std::fs::read_to_string(p).unwrap_or_default()))
            .collect();
        let conn = Connection::open(&ledger).unwrap();
        let mut stmt = conn
            .prepare("SELECT count(*) FROM events WHERE id = ?1")
            .unwrap();
        let mut seen = HashSet::new();
        for a in &acks {
            assert!(
                seen.insert(a.id),
                "round {round}: event {} logged twice",
                a.id
            );
            let n: i64 = stmt
                .query_row([&a.id.as_bytes()[..]], |r| r.get(0))
                .unwrap();
            assert_eq!(
                n, 1,
                "round {round}: acknowledged event {} ({} {}) is present {n} times",
                a.id, a.kind, a.subject
            );
            let e = l.event(a.id).unwrap();
            assert_eq!(e.kind.as_str(), a.kind);
            assert_eq!(e.subject.unwrap_or_default(), a.subject);
        }
        // Every logged acknowledgement of the downstream is one of its recorded ones,
        // and its feed continues after the highest `up_to` recorded.
        let recorded = l.acknowledgements(CRASH_FEED).unwrap();
        let recorded_ids: HashSet<_> = recorded.iter().map(|a| a.id).collect();
        let logged_acks: Vec<&Ack> = acks
            .iter()
            .filter(|a| a.kind == "downstream_acknowledged")
            .collect();
        for a in &logged_acks {
            assert!(
                recorded_ids.contains(&a.id),
                "round {round}: acknowledgement {} lost",
                a.id
            );
        }
        let cursor = recorded.iter().filter_map(|a| a.up_to).max();
        assert_eq!(
            l.feed(CRASH_FEED, None, 1).unwrap().since,
            cursor.map_or(0, |c| c + 1),
            "round {round}: the cursor"
        );
        l.deadlines(None).unwrap();
        // Every subject event in the ledger was acknowledged, except those of the one
        // operation per writer that the kill cut between commit and log.
        let in_db: i64 = conn
            .query_row(
                "SELECT count(*) FROM events WHERE subject IS NOT NULL",
                [],
                |r| r.get(0),
            )
            .unwrap();
        let unlogged = in_db as u64 - (acks.len() - logged_acks.len()) as u64;
        assert!(
            unlogged <= writers * 5 * (round + 1),
            "round {round}: {unlogged} events were never acknowledged"
        );
        unlogged_total = unlogged;
        // An acknowledged withdrawal that is the subject's last event decides its status.
        let mut last: HashMap<(String, String), (u64, &Ack)> = HashMap::new();
        for a in acks.iter().filter(|a| !a.subject.is_empty()) {
            let seq = l.event(a.id).unwrap().seq;
            let k = (a.subject.clone(), a.purpose.clone());
            if last.get(&k).is_none_or(|(s, _)| *s < seq) {
                last.insert(k, (seq, a));
            }
        }
        for ((subject, purpose), (seq, a)) in &last {
            let max: i64 = conn
                .query_row(
                    "SELECT max(seq) FROM events WHERE subject = ?1 AND purpose = ?2",
                    [subject, purpose],
                    |r| r.get(0),
                )
                .unwrap();
            if max as u64 == *seq && a.kind == "withdrawn" {
                assert_eq!(
                    l.status(subject, purpose, None).unwrap().state,
                    State::Withdrawn,
                    "round {round}: {subject} {purpose}"
                );
            }
        }
        drop(stmt);
        drop(conn);
        l.close().unwrap();
    }
    let l = Ledger::open(&ledger).unwrap();
    let size = l.verify().unwrap().size;
    let all: Vec<Ack> = logs
        .iter()
        .flat_map(|p| Ack::parse_log(&std::fs::read_to_string(p).unwrap_or_default()))
        .collect();
    let acks = all.len();
    let downstream = all
        .iter()
        .filter(|a| a.kind == "downstream_acknowledged")
        .count();
    assert!(
        rounds < 5 || downstream > 0,
        "no writer ever acknowledged for the downstream"
    );
    println!(
        "crash test: {rounds} rounds survived, {killed_mid_run} writers killed mid-run, {acks} acknowledged events all present once \
         ({downstream} of them a downstream's acknowledgements; {unlogged_total} committed but cut before logging), ledger size {size}"
    );
}
