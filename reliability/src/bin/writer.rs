//! A writer process for the crash test: appends to a ledger until it is killed, and
//! after every acknowledgement appends the acknowledged events to its own log and
//! fsyncs it. An event is acknowledged when `append` returns (outside a batch), or
//! when `commit_batch`/`append_many` returns. Now and then it records that the
//! downstream `crash.feed` acted up to a seq (an acknowledgement of its own, logged
//! like an event with no subject), as a feed consumer on another host would.
//!
//! Usage: `writer LEDGER LOG TAG SEED`

use std::io::Write;

use consent_core::{Actor, Event, Ledger, NewEvent};
use consent_reliability::{give, Ack, CRASH_FEED, PURPOSES};
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
    let mut record = |acks: Vec<Ack>| {
        let text: String = acks.iter().map(Ack::line).collect();
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
        match rng.random_range(0..11) {
            0..=3 => {
                let e = l
                    .append(give(&subject, purpose).source_id(source))
                    .expect("append grant");
                record(vec![ack_of(&e)]);
            }
            4..=6 => {
                let e = l
                    .append(NewEvent::withdraw(&subject, purpose).source_id(source))
                    .expect("append withdrawal");
                record(vec![ack_of(&e)]);
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
                record(done.iter().map(ack_of).collect());
            }
            10 => {
                let size = l.head().expect("head").size;
                let done = l
                    .acknowledge(
                        CRASH_FEED,
                        consent_core::Ack::UpTo(rng.random_range(0..size)),
                        Actor::system(tag.as_str()),
                    )
                    .expect("acknowledge");
                record(vec![Ack {
                    id: done.id,
                    kind: "downstream_acknowledged".into(),
                    subject: String::new(),
                    purpose: String::new(),
                }]);
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
                    record(pending.iter().map(ack_of).collect());
                }
            }
        }
    }
}
