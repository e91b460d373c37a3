//! A writer process for the crash test: appends to a ledger until it is killed, and
//! after every acknowledgement appends the acknowledged events to its own log and
//! fsyncs it. An event is acknowledged when `append` returns (outside a batch), or
//! when `commit_batch`/`append_many` returns.
//!
//! Usage: `writer LEDGER LOG TAG SEED`

use std::io::Write;

use consent_core::{Event, Ledger, NewEvent};
use consent_reliability::{give, Ack, PURPOSES};
use rand::{rngs::StdRng, Rng, SeedableRng};

fn ack_of(e: &Event) -> Ack {
    Ack {
        id: e.id,
        kind: e.kind.as_str().into(),
        subject: e.subject.clone().unwrap_or_default(),
        purpose: e.purpose.clone().unwrap_or_default(),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, ledger, log, tag, seed] = &args[..] else {
        eprintln!("usage: writer LEDGER LOG TAG SEED");
        std::process::exit(2);
    };
    let mut rng = StdRng::seed_from_u64(seed.parse().expect("seed"));
    let l = Ledger::open(ledger).expect("open ledger");
    let mut log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .expect("open log");
    let mut record = |events: &[Event]| {
        let text: String = events.iter().map(|e| ack_of(e).line()).collect();
        log.write_all(text.as_bytes()).expect("write log");
        log.sync_data().expect("fsync log");
    };
    let mut n = 0u64;
    loop {
        n += 1;
        // Few subjects per writer, so withdrawals usually follow grants.
        let subject = format!("{tag}-s{}", rng.random_range(0..8));
        let purpose = PURPOSES[rng.random_range(0..3)];
        let source = format!("{tag}-{seed}-{n}");
        match rng.random_range(0..10) {
            0..=3 => {
                let e = l
                    .append(give(&subject, purpose).source_id(source))
                    .expect("append grant");
                record(&[e]);
            }
            4..=6 => {
                let e = l
                    .append(NewEvent::withdraw(&subject, purpose).source_id(source))
                    .expect("append withdrawal");
                record(&[e]);
            }
            7 => {
                let k = rng.random_range(2..6);
                let events = (0..k).map(|i| {
                    let s = format!("{tag}-s{}", rng.random_range(0..8));
                    if i % 2 == 0 {
                        give(&s, purpose)
                    } else {
                        NewEvent::withdraw(&s, purpose)
                    }
                });
                let done = l
                    .append_many(events.collect::<Vec<_>>())
                    .expect("append_many");
                record(&done);
            }
            _ => {
                // A batch built by hand: nothing is acknowledged before the commit.
                let batch = l.batch().expect("begin");
                let mut pending = Vec::new();
                for _ in 0..rng.random_range(1..5) {
                    let s = format!("{tag}-s{}", rng.random_range(0..8));
                    pending.push(
                        batch
                            .append(NewEvent::withdraw(&s, "jmsu.data-sharing"))
                            .expect("append in batch"),
                    );
                }
                if rng.random_bool(0.2) {
                    batch.rollback().expect("rollback");
                } else {
                    batch.commit().expect("commit");
                    record(&pending);
                }
            }
        }
    }
}
