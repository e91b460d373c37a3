//! Property test: random event sequences, and every `status_at` answer compared with
//! a small reference model written here from the rules of docs/RULES.md.

#![allow(clippy::needless_range_loop)] // indices are the model's subject ids

mod common;

use common::*;
use consent_core::*;
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Give {
        subject: usize,
        recipient: Option<usize>,
        eff: i64,
        expires: Option<i64>,
    },
    Refuse {
        subject: usize,
        eff: i64,
    },
    Withdraw {
        subject: usize,
        recipient: Option<usize>,
        eff: i64,
    },
    Revoke {
        subject: usize,
        eff: i64,
    },
    /// Invalidate the n-th grant so far of the subject, or every earlier one.
    Invalidate {
        subject: usize,
        nth: Option<usize>,
    },
}

const SUBJECTS: [&str; 2] = ["s-a", "s-b"];
const RECIPIENTS: [&str; 2] = ["NHS", "landlord"];
const PURPOSE: &str = "wellbeing.share-external";
const DAY: i64 = 86_400_000;
const BASE: i64 = 1_727_740_800_000; // 2024-10-01

fn op() -> impl Strategy<Value = Op> {
    let s = 0..SUBJECTS.len();
    let r = proptest::option::of(0..RECIPIENTS.len());
    let eff = 0..40i64;
    prop_oneof![
        4 => (s.clone(), r.clone(), eff.clone(), proptest::option::of(1..30i64))
            .prop_map(|(subject, recipient, eff, exp)| Op::Give { subject, recipient, eff, expires: exp.map(|d| eff + d) }),
        1 => (s.clone(), eff.clone()).prop_map(|(subject, eff)| Op::Refuse { subject, eff }),
        3 => (s.clone(), r, eff.clone()).prop_map(|(subject, recipient, eff)| Op::Withdraw { subject, recipient, eff }),
        1 => (s.clone(), eff).prop_map(|(subject, eff)| Op::Revoke { subject, eff }),
        1 => (s, proptest::option::of(0..4usize)).prop_map(|(subject, nth)| Op::Invalidate { subject, nth }),
    ]
}

/// What the model remembers of an appended event.
#[derive(Debug, Clone)]
struct Fact {
    seq: u64,
    id: uuid::Uuid,
    subject: usize,
    kind: EventKind,
    recipient: Option<usize>,
    eff: i64,
    recorded: i64,
    expires: Option<i64>,
    target: Option<uuid::Uuid>,
}

/// The reference: scan the facts the way a person would read the rules.
fn reference(
    facts: &[Fact],
    subject: usize,
    recipient: Option<usize>,
    at: i64,
    known: i64,
) -> State {
    let mut deciding: Option<&Fact> = None;
    for f in facts {
        let applies = f.subject == subject && (f.recipient.is_none() || f.recipient == recipient);
        let is_decision = matches!(
            f.kind,
            EventKind::Given | EventKind::Refused | EventKind::Withdrawn | EventKind::Revoked
        );
        if applies && is_decision && f.recorded <= known && f.eff <= at {
            let later = match deciding {
                None => true,
                Some(d) => (f.eff, f.seq) > (d.eff, d.seq),
            };
            if later {
                deciding = Some(f);
            }
        }
    }
    let Some(d) = deciding else {
        return State::NeverAsked;
    };
    match d.kind {
        EventKind::Given => {
            let invalidated = facts.iter().any(|i| {
                i.kind == EventKind::Invalidated
                    && i.subject == subject
                    && (i.recipient.is_none() || i.recipient == recipient)
                    && i.recorded <= known
                    && match i.target {
                        Some(t) => t == d.id,
                        None => i.seq > d.seq,
                    }
            });
            if invalidated {
                State::Invalidated
            } else if d.expires.is_some_and(|x| x <= at) {
                State::Expired
            } else {
                State::Given
            }
        }
        EventKind::Refused => State::Refused,
        EventKind::Withdrawn => State::Withdrawn,
        _ => State::Revoked,
    }
}

fn ms(day: i64) -> Timestamp {
    Timestamp::from_millis(BASE + day * DAY).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, .. ProptestConfig::default() })]

    #[test]
    fn status_at_agrees_with_the_reference(ops in proptest::collection::vec(op(), 1..40), probes in proptest::collection::vec((0..45i64, 0..45i64), 30)) {
        let clock = Clock::new("2024-10-01");
        let ledger = new_ledger(clock.options());
        register_all(&ledger);
        let mut facts: Vec<Fact> = Vec::new();
        for (i, op) in ops.iter().enumerate() {
            // Record time moves one day per event, so "as known at" has something to see.
            let recorded = i as i64;
            clock.set(&ms(recorded).to_string());
            let (subject, ev) = match op {
                Op::Give { subject, recipient, eff, expires } => {
                    let mut e = give(SUBJECTS[*subject], PURPOSE).effective_at(ms(*eff));
                    if let Some(r) = recipient { e = e.recipient(RECIPIENTS[*r]); }
                    if let Some(x) = expires { e = e.expires_at(ms(*x)); }
                    (*subject, e)
                }
                Op::Refuse { subject, eff } => (*subject, NewEvent::new(EventKind::Refused, SUBJECTS[*subject], PURPOSE).method(Method::Email).effective_at(ms(*eff))),
                Op::Withdraw { subject, recipient, eff } => {
                    let mut e = NewEvent::withdraw(SUBJECTS[*subject], PURPOSE).effective_at(ms(*eff));
                    if let Some(r) = recipient { e = e.recipient(RECIPIENTS[*r]); }
                    (*subject, e)
                }
                Op::Revoke { subject, eff } => (*subject, NewEvent::new(EventKind::Revoked, SUBJECTS[*subject], PURPOSE).effective_at(ms(*eff))),
                Op::Invalidate { subject, nth } => {
                    let mut e = NewEvent::new(EventKind::Invalidated, SUBJECTS[*subject], PURPOSE);
                    if let Some(n) = nth {
                        let grants: Vec<_> = facts.iter().filter(|f| f.subject == *subject && f.kind == EventKind::Given).collect();
                        match grants.get(*n) {
                            Some(g) => e = e.target(g.id).recipient_opt(g.recipient.map(|r| RECIPIENTS[r])),
                            None => continue,
                        }
                    }
                    (*subject, e)
                }
            };
            let stored = ledger.append(ev).unwrap();
            facts.push(Fact {
                seq: stored.seq,
                id: stored.id,
                subject,
                kind: stored.kind,
                recipient: stored.recipient.as_deref().map(|r| RECIPIENTS.iter().position(|x| *x == r).unwrap()),
                eff: (stored.effective_at.as_millis() - BASE) / DAY,
                recorded,
                expires: stored.expires_at.map(|x| (x.as_millis() - BASE) / DAY),
                target: stored.target,
            });
        }
        for (at, known) in probes {
            for subject in 0..SUBJECTS.len() {
                // The purpose lists recipients: a question must name one (RULES.md R2).
                let err = ledger.status_at(SUBJECTS[subject], PURPOSE, None, ms(at), Some(ms(known))).unwrap_err();
                prop_assert_eq!(err.kind(), ErrorKind::UnknownRecipient);
                for recipient in [Some(0), Some(1)] {
                    let got = ledger.status_at(SUBJECTS[subject], PURPOSE, recipient.map(|r| RECIPIENTS[r]), ms(at), Some(ms(known))).unwrap();
                    let want = reference(&facts, subject, recipient, at, known);
                    prop_assert_eq!(got.state, want, "subject {} recipient {:?} at {} known {}", subject, recipient, at, known);
                }
            }
            // A past extract, as it was known then.
            let feed = ledger.consenting(PURPOSE, Some(RECIPIENTS[0]), Some(ms(at)), Some(ms(known))).unwrap();
            let want: Vec<&str> = (0..SUBJECTS.len()).filter(|s| reference(&facts, *s, Some(0), at, known) == State::Given).map(|s| SUBJECTS[s]).collect();
            let got: Vec<&str> = feed.subjects.iter().map(|s| s.subject.as_str()).collect();
            prop_assert_eq!(got, want, "feed at {} known {}", at, known);
        }
        // The materialized state answers "now" exactly as the events do. Clocks only
        // move forward, so "now" is never before the last record time.
        let last = ops.len() as i64;
        for now in [last, last + 3, 39.max(last), 44.max(last), 80] {
            clock.set(&ms(now).to_string());
            for subject in 0..SUBJECTS.len() {
                for recipient in [Some(0), Some(1)] {
                    let got = ledger.status(SUBJECTS[subject], PURPOSE, recipient.map(|r| RECIPIENTS[r])).unwrap();
                    let want = reference(&facts, subject, recipient, now, now);
                    prop_assert_eq!(got.state, want, "now={} subject {} recipient {:?}", now, subject, recipient);
                }
            }
            prop_assert_eq!(ledger.consenting(PURPOSE, None, None, None).unwrap_err().kind(), ErrorKind::UnknownRecipient);
            for recipient in [Some(0), Some(1)] {
                let feed = ledger.consenting(PURPOSE, recipient.map(|r| RECIPIENTS[r]), None, None).unwrap();
                let want: Vec<&str> = (0..SUBJECTS.len()).filter(|s| reference(&facts, *s, recipient, now, now) == State::Given).map(|s| SUBJECTS[s]).collect();
                let got: Vec<&str> = feed.subjects.iter().map(|s| s.subject.as_str()).collect();
                prop_assert_eq!(got, want, "feed now={} recipient {:?}", now, recipient);
                let past = ledger.consenting(PURPOSE, recipient.map(|r| RECIPIENTS[r]), Some(ms(now)), None).unwrap();
                prop_assert_eq!(past.subjects, feed.subjects);
            }
        }
        let report = ledger.verify().unwrap();
        prop_assert!(report.ok, "{report:?}");
    }
}

trait RecipientOpt {
    fn recipient_opt(self, r: Option<&str>) -> Self;
}

impl RecipientOpt for NewEvent {
    fn recipient_opt(self, r: Option<&str>) -> Self {
        match r {
            Some(r) => self.recipient(r),
            None => self,
        }
    }
}
