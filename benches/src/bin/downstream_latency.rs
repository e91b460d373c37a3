//! What a downstream system's calls cost on a large ledger (`make bench-downstream`):
//! a page of its feed from its cursor, an acknowledgement (a write, under the writer
//! lock), and every deadline.
//!
//! ```text
//! downstream_latency [SIZE...]     default: 100000 1000000 (CONSENT_BENCH_SIZES too)
//! ```
//!
//! For each size, a copy of the benches' ledger fixture (`ledger_fixture`) gets a
//! downstream registered on `jmsu.data-sharing` (for JMSU) at its end, then
//! `CONSENT_DOWNSTREAM_ROUNDS` (default 30) rounds of: append a grant and a withdrawal
//! of one student, read the feed from the cursor (two items), acknowledge up to the last
//! seq, and ask every deadline. Prints one JSON object per size with the median and
//! 90th percentile of each call in milliseconds. Run it on two builds to compare.

use std::time::{Duration, Instant};

use consent_benches::harness::{env_usize, print_json, quantile};
use consent_benches::{sizes, work_copy};
use consent_core::{Ack, Actor, DownstreamDef, Ledger, Method, NewEvent};
use serde_json::json;

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn summary(v: &[f64]) -> serde_json::Value {
    json!({"p50_ms": quantile(v, 0.5), "p90_ms": quantile(v, 0.9)})
}

fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .map(|a| a.replace('_', "").parse().expect("a size"))
        .collect();
    let sizes = if !args.is_empty() {
        args
    } else if std::env::var_os("CONSENT_BENCH_SIZES").is_some() {
        sizes()
    } else {
        vec![100_000, 1_000_000]
    };
    let rounds = env_usize("CONSENT_DOWNSTREAM_ROUNDS", 30);
    for n in sizes {
        let path = work_copy(n, "downstream");
        let l = Ledger::open(&path).expect("open the fixture copy");
        let dpo = Actor::staff("dpo");
        let feed_system = Actor::system("jmsu-feed");
        l.register_downstream(
            DownstreamDef::new("bench.feed", "Bench feed", "LJMU", ["jmsu.data-sharing"]),
            dpo,
        )
        .expect("register");
        // Start the cursor at the end of the log: each round's page is its two events.
        let end = l.head().expect("head").size - 1;
        l.acknowledge("bench.feed", Ack::UpTo(end), feed_system.clone())
            .expect("first acknowledgement");
        let (mut feed, mut ack, mut deadlines) = (Vec::new(), Vec::new(), Vec::new());
        for r in 0..rounds {
            let subject = format!("bench-{r}");
            l.append(
                NewEvent::give(&subject, "jmsu.data-sharing")
                    .notice("ljmu.it-registration", "2024-09")
                    .method(Method::Portal),
            )
            .expect("grant");
            l.append(NewEvent::withdraw(&subject, "jmsu.data-sharing"))
                .expect("withdrawal");
            let t = Instant::now();
            let page = l.feed("bench.feed", None, 100).expect("feed");
            feed.push(ms(t.elapsed()));
            assert_eq!(page.items.len(), 2, "the round's grant and withdrawal");
            let last = page.items[1].seq;
            let t = Instant::now();
            l.acknowledge("bench.feed", Ack::UpTo(last), feed_system.clone())
                .expect("acknowledge");
            ack.push(ms(t.elapsed()));
            let t = Instant::now();
            let all = l.deadlines(None).expect("deadlines");
            deadlines.push(ms(t.elapsed()));
            assert_eq!(all.len(), r + 1, "one deadline per round");
        }
        print_json(json!({
            "bench": "downstream_latency",
            "events": n,
            "rounds": rounds,
            "feed_from_cursor": summary(&feed),
            "acknowledge": summary(&ack),
            "deadlines": summary(&deadlines),
        }));
        l.close().expect("close");
        consent_benches::remove_db(&path);
    }
}
