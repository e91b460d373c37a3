//! "New or already on record", decided by the core inside the write: registrations
//! ([`Registered`]) and batch appends ([`Appended`]) say whether they appended, so no
//! caller compares the log's size before and after. Runs on either backend (the
//! shared suite: `CONSENT_TEST_BACKEND=postgres`).
mod common;

use common::*;
use consent_core::*;

fn downstream(id: &str) -> DownstreamDef {
    DownstreamDef::new(id, "JMSU CRM", "JMSU", ["jmsu.marketing"])
}

/// The misuser's case first: a caller that would read the head around the call is
/// fooled by any other append in between; the outcome is not. Here the log grows
/// between a registration and its repeat, and the repeat still says "unchanged", and
/// a changed definition right after says "new" with nothing else to compare.
#[test]
fn a_purpose_is_new_once_then_unchanged_then_new_again_when_it_changes() {
    let (l, _) = ledger_at("2024-10-02T10:00:00Z");
    let def = PurposeDef::new("jmsu.events", "JMSU events", "JMSU");
    let first = l.register_purpose_outcome(def.clone()).unwrap();
    assert!(first.new, "a first registration appends");
    assert_eq!(first.value.version, 1);

    l.append(give("s1", "jmsu.marketing")).unwrap();
    let size = l.head().unwrap().size;
    let again = l.register_purpose_outcome(def.clone()).unwrap();
    assert!(!again.new, "an unchanged definition appends nothing");
    assert_eq!(again.value, first.value, "the version on record comes back");
    assert_eq!(l.head().unwrap().size, size, "nothing was appended");

    let mut changed = def;
    changed.title = "JMSU events and socials".into();
    let next = l.register_purpose_outcome(changed).unwrap();
    assert!(next.new, "a changed definition is a new version");
    assert_eq!(next.value.version, 2);
    assert_eq!(l.head().unwrap().size, size + 1);
}

#[test]
fn a_notice_is_new_once_then_unchanged_and_a_different_text_is_a_conflict() {
    let (l, _) = ledger_at("2024-10-02T10:00:00Z");
    let def = NoticeDef::from_text("jmsu.events", "2024-10", "Events notice", "text one")
        .covering("JMSU", ["jmsu.*"]);
    let first = l.register_notice_outcome(def.clone()).unwrap();
    assert!(first.new);
    let size = l.head().unwrap().size;
    let again = l.register_notice_outcome(def).unwrap();
    assert!(!again.new);
    assert_eq!(again.value, first.value);
    assert_eq!(l.head().unwrap().size, size);

    let other = NoticeDef::from_text("jmsu.events", "2024-10", "Events notice", "text two")
        .covering("JMSU", ["jmsu.*"]);
    let err = l.register_notice_outcome(other).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
    assert_eq!(
        l.head().unwrap().size,
        size,
        "a refused notice appends nothing"
    );
}

#[test]
fn a_downstream_is_new_once_then_unchanged() {
    let (l, _) = ledger_at("2024-10-02T10:00:00Z");
    let by = Actor::staff("registry");
    let first = l
        .register_downstream_outcome(downstream("jmsu.crm"), by.clone())
        .unwrap();
    assert!(first.new);
    let again = l
        .register_downstream_outcome(downstream("jmsu.crm"), by)
        .unwrap();
    assert!(!again.new);
    assert_eq!(again.value.seq, first.value.seq);
}

/// Inside a batch the answer counts what the batch itself appended: a registration
/// repeated in the same batch is unchanged, and a source id given twice is one event.
#[test]
fn a_batch_says_what_it_appended_including_repeats_inside_it() {
    let (l, _) = ledger_at("2024-10-02T10:00:00Z");
    let batch = l.batch().unwrap();
    let def = PurposeDef::new("jmsu.events", "JMSU events", "JMSU");
    assert!(batch.register_purpose_outcome(def.clone()).unwrap().new);
    assert!(!batch.register_purpose_outcome(def).unwrap().new);
    let notice = NoticeDef::from_text("jmsu.events", "2024-10", "Events notice", "text")
        .covering("JMSU", ["jmsu.*"]);
    assert!(batch.register_notice_outcome(notice.clone()).unwrap().new);
    assert!(!batch.register_notice_outcome(notice).unwrap().new);
    let by = Actor::staff("registry");
    assert!(
        batch
            .register_downstream_outcome(downstream("jmsu.crm"), by.clone())
            .unwrap()
            .new
    );
    assert!(
        !batch
            .register_downstream_outcome(downstream("jmsu.crm"), by)
            .unwrap()
            .new
    );
    let row = give("s1", "jmsu.marketing").source_id("form-1");
    let first = batch.append_outcome(row.clone()).unwrap();
    let repeat = batch.append_outcome(row).unwrap();
    assert!(first.new && !repeat.new);
    assert_eq!(first.event, repeat.event);
    batch.commit().unwrap();
}

/// A rolled-back batch leaves nothing on record: what it called new is new again.
#[test]
fn after_a_rollback_the_same_registration_is_new_again() {
    let (l, _) = ledger_at("2024-10-02T10:00:00Z");
    let def = PurposeDef::new("jmsu.events", "JMSU events", "JMSU");
    let batch = l.batch().unwrap();
    assert!(batch.register_purpose_outcome(def.clone()).unwrap().new);
    batch.rollback().unwrap();
    assert!(l.register_purpose_outcome(def).unwrap().new);
}

/// An import retried after it committed is all "already on record", in whole batches
/// and in chunks; a retry of a partly committed run adds only the rest.
#[test]
fn an_idempotent_batch_retry_is_all_already_on_record() {
    let (l, _) = ledger_at("2024-10-02T10:00:00Z");
    let rows = |n: usize| {
        (0..n)
            .map(|i| give(&format!("s{i}"), "jmsu.marketing").source_id(format!("row-{i}")))
            .collect::<Vec<_>>()
    };
    let first = l.append_many_outcome(rows(3)).unwrap();
    assert!(first.iter().all(|a| a.new));
    let size = l.head().unwrap().size;
    let retry = l.append_many_outcome(rows(3)).unwrap();
    assert!(retry.iter().all(|a| !a.new), "a retry appends nothing");
    assert_eq!(
        retry.iter().map(|a| &a.event).collect::<Vec<_>>(),
        first.iter().map(|a| &a.event).collect::<Vec<_>>()
    );
    assert_eq!(l.head().unwrap().size, size);

    // The first 3 of 7 are on record: chunks of 2 add exactly the other 4.
    let chunked = l.append_chunked_outcome(rows(7), 2).unwrap();
    let new: Vec<bool> = chunked.iter().map(|a| a.new).collect();
    assert_eq!(new, [false, false, false, true, true, true, true]);
    assert_eq!(l.head().unwrap().size, size + 4);
    let again = l.append_chunked_outcome(rows(7), 2).unwrap();
    assert!(again.iter().all(|a| !a.new));
}

/// A chunked run stopped by a bad row reports the outcomes of the chunks it committed.
#[test]
fn a_stopped_chunked_run_reports_what_it_committed() {
    let (l, _) = ledger_at("2024-10-02T10:00:00Z");
    let mut rows: Vec<NewEvent> = (0..4)
        .map(|i| give(&format!("s{i}"), "jmsu.marketing").source_id(format!("row-{i}")))
        .collect();
    rows.push(give("s9", "no.such.purpose"));
    let err = l.append_chunked_outcome(rows, 2).unwrap_err();
    assert_eq!(err.error.kind(), ErrorKind::UnknownPurpose);
    assert_eq!(err.committed.len(), 4);
    assert!(err.committed.iter().all(|a| a.new));
    // The plain form keeps its shape: the events, not the outcomes.
    let plain: ChunkedError = l
        .append_chunked(vec![give("s9", "no.such.purpose")], 2)
        .unwrap_err();
    assert!(plain.committed.is_empty());
}

/// The token forms (for bindings that keep the batch in a handle of their own) say the
/// same as [`Batch`]'s: a repeat inside the batch is not new, and after a rollback the
/// same registration is new again.
#[test]
fn the_token_forms_say_what_the_batch_appended() {
    let (l, _) = ledger_at("2024-10-02T10:00:00Z");
    let def = PurposeDef::new("jmsu.events", "JMSU events", "JMSU");
    let notice = NoticeDef::from_text("jmsu.events", "2024-10", "Events notice", "text")
        .covering("JMSU", ["jmsu.*"]);
    let by = Actor::staff("registry");
    let token = l.begin_batch().unwrap();
    assert!(
        l.register_purpose_outcome_in(&token, def.clone())
            .unwrap()
            .new
    );
    assert!(
        !l.register_purpose_outcome_in(&token, def.clone())
            .unwrap()
            .new
    );
    assert!(
        l.register_notice_outcome_in(&token, notice.clone())
            .unwrap()
            .new
    );
    assert!(!l.register_notice_outcome_in(&token, notice).unwrap().new);
    let crm = || downstream("jmsu.crm");
    assert!(
        l.register_downstream_outcome_in(&token, crm(), by.clone())
            .unwrap()
            .new
    );
    assert!(
        !l.register_downstream_outcome_in(&token, crm(), by)
            .unwrap()
            .new
    );
    let row = give("s1", "jmsu.marketing").source_id("form-1");
    let first = l.append_outcome_in(&token, row.clone()).unwrap();
    let repeat = l.append_outcome_in(&token, row).unwrap();
    assert!(first.new && !repeat.new);
    assert_eq!(first.event, repeat.event);
    l.rollback_batch(token).unwrap();
    assert!(l.register_purpose_outcome(def).unwrap().new);
}

/// A refused append inside a batch is undone on its own: the batch goes on, and what
/// it appended before and after lands on commit (what [`Batch::append_outcome`] and
/// [`Ledger::append_in`] promise alike).
#[test]
fn a_refused_append_in_a_batch_leaves_the_batch_usable() {
    let (l, _) = ledger_at("2024-10-02T10:00:00Z");
    let size = l.head().unwrap().size;
    let batch = l.batch().unwrap();
    assert!(
        batch
            .append_outcome(give("s1", "jmsu.marketing"))
            .unwrap()
            .new
    );
    let err = batch
        .append_outcome(give("s2", "no.such.purpose"))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownPurpose);
    assert!(
        batch
            .append_outcome(give("s3", "jmsu.marketing"))
            .unwrap()
            .new
    );
    batch.commit().unwrap();
    assert_eq!(l.head().unwrap().size, size + 2);
}

/// Two connections to one ledger (two processes, as far as SQLite or PostgreSQL can
/// tell) register the same definitions and append the same source id at the same
/// moment: each time exactly one of them says it appended, and the log holds one copy.
#[test]
fn two_connections_racing_on_one_definition_agree_on_who_appended_it() {
    use std::sync::{Arc, Barrier};
    let dir = tempfile::tempdir().unwrap();
    let path = pg_location().unwrap_or_else(|| {
        dir.path()
            .join("race.ledger")
            .to_string_lossy()
            .into_owned()
    });
    let opts = || LedgerOptions {
        pseudonym_key: KeySource::Bytes([7; 32]),
        ..LedgerOptions::default()
    };
    let setup = Ledger::open_with(&path, opts()).unwrap();
    register_all(&setup);
    let ledgers = [
        Arc::new(setup),
        Arc::new(Ledger::open_with(&path, opts()).unwrap()),
    ];
    for round in 0..20 {
        let barrier = Arc::new(Barrier::new(2));
        let racers: Vec<_> = ledgers
            .iter()
            .map(|l| {
                let (l, barrier) = (Arc::clone(l), Arc::clone(&barrier));
                std::thread::spawn(move || {
                    // Each connection has read (and cached) the registry before the race.
                    l.purposes().unwrap();
                    barrier.wait();
                    let purpose = l
                        .register_purpose_outcome(PurposeDef::new(
                            format!("race.p{round}"),
                            "Raced",
                            "JMSU",
                        ))
                        .unwrap();
                    let notice = l
                        .register_notice_outcome(
                            NoticeDef::from_text(
                                format!("race.n{round}"),
                                "1",
                                "Raced notice",
                                "text",
                            )
                            .covering("JMSU", ["race.*"]),
                        )
                        .unwrap();
                    let event = l
                        .append_outcome(
                            give(&format!("s{round}"), "jmsu.marketing")
                                .source_id(format!("race-{round}")),
                        )
                        .unwrap();
                    (purpose.new, notice.new, event.new)
                })
            })
            .collect();
        let results: Vec<_> = racers.into_iter().map(|r| r.join().unwrap()).collect();
        let count = |f: fn(&(bool, bool, bool)) -> bool| results.iter().filter(|r| f(r)).count();
        assert_eq!(count(|r| r.0), 1, "round {round}: purpose {results:?}");
        assert_eq!(count(|r| r.1), 1, "round {round}: notice {results:?}");
        assert_eq!(count(|r| r.2), 1, "round {round}: event {results:?}");
        let versions = ledgers[0]
            .purpose_versions(&format!("race.p{round}"))
            .unwrap();
        assert_eq!(versions.len(), 1, "round {round}: one version on record");
    }
}
