//! The in-process cache of "status now" answers stays coherent: with writes through
//! another handle in this process, with another process, with the clock (a grant's
//! expiry, a registration ahead of a simulated clock, a clock moved back), with
//! batches, erasure and registry changes. Each question is asked twice before the
//! change, so that its answer is cached when the change happens.

mod common;

use std::path::Path;

use common::*;
use consent_core::*;

const M: &str = "jmsu.marketing";

fn file_ledger(dir: &Path) -> Ledger {
    let l = Ledger::open(dir.join("ledger.db")).unwrap();
    register_all(&l);
    l
}

fn clocked(dir: &Path, at: &str) -> (Ledger, Clock) {
    let clock = Clock::new(at);
    let l = Ledger::open_with(dir.join("ledger.db"), clock.options()).unwrap();
    register_all(&l);
    (l, clock)
}

/// Asks twice (the second answer comes from the cache) and returns the state.
fn state(l: &Ledger, subject: &str, purpose: &str) -> State {
    let first = l.status(subject, purpose, None).unwrap();
    let second = l.status(subject, purpose, None).unwrap();
    assert_eq!(first.state, second.state);
    second.state
}

#[test]
fn a_withdrawal_through_another_handle_in_this_process_is_seen_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let l = file_ledger(dir.path());
    l.append(give("s1", M)).unwrap();
    l.append(give("s2", M)).unwrap();
    assert_eq!(state(&l, "s1", M), State::Given);
    let many = [("s1", M, None), ("s2", M, None)];
    assert!(l.status_many(&many).unwrap().iter().all(|s| s.permits()));

    let other = Ledger::open(dir.path().join("ledger.db")).unwrap();
    other.append(NewEvent::withdraw("s1", M)).unwrap();
    let s = l.status("s1", M, None).unwrap();
    assert_eq!(s.state, State::Withdrawn);
    assert_eq!(s.as_known_at, s.at);
    assert_eq!(
        l.status_many(&many)
            .unwrap()
            .iter()
            .map(|s| s.state)
            .collect::<Vec<_>>(),
        [State::Withdrawn, State::Given]
    );
    // And again after the cache refilled.
    assert_eq!(state(&l, "s1", M), State::Withdrawn);
    other.append(give("s1", M)).unwrap();
    assert_eq!(l.status("s1", M, None).unwrap().state, State::Given);
}

#[test]
fn a_write_by_a_plain_sqlite_connection_is_seen_at_once() {
    // Not a supported way to change a ledger, but the cheapest proof that any commit
    // by any connection empties the cache: a hand-made row in `current`.
    let dir = tempfile::tempdir().unwrap();
    let l = file_ledger(dir.path());
    l.append(give("s1", M)).unwrap();
    assert_eq!(state(&l, "s1", M), State::Given);
    let raw = rusqlite::Connection::open(dir.path().join("ledger.db")).unwrap();
    raw.execute(
        "UPDATE current SET state = 'withdrawn' WHERE subject = 's1'",
        [],
    )
    .unwrap();
    assert_eq!(l.status("s1", M, None).unwrap().state, State::Withdrawn);
}

/// Child half of [`a_withdrawal_by_another_process_is_seen_at_once`].
#[test]
fn child_withdraws() {
    let (Ok(path), Ok(subject)) = (
        std::env::var("CONSENT_CACHE_CHILD_LEDGER"),
        std::env::var("CONSENT_CACHE_CHILD_SUBJECT"),
    ) else {
        return; // Only does work when started by the test below.
    };
    let l = Ledger::open(path).unwrap();
    l.append(NewEvent::withdraw(subject, M)).unwrap();
}

#[test]
fn a_withdrawal_by_another_process_is_seen_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let l = file_ledger(dir.path());
    l.append(give("s1", M)).unwrap();
    l.append(give("s2", M)).unwrap();
    for subject in ["s1", "s2"] {
        assert_eq!(state(&l, subject, M), State::Given);
        let exe = std::env::current_exe().unwrap();
        let ok = std::process::Command::new(&exe)
            .args(["--exact", "child_withdraws", "--test-threads=1"])
            .env("CONSENT_CACHE_CHILD_LEDGER", dir.path().join("ledger.db"))
            .env("CONSENT_CACHE_CHILD_SUBJECT", subject)
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap()
            .success();
        assert!(ok);
        assert_eq!(l.status(subject, M, None).unwrap().state, State::Withdrawn);
    }
}

#[test]
fn a_cached_grant_expires_when_its_until_passes() {
    let dir = tempfile::tempdir().unwrap();
    let (l, clock) = clocked(dir.path(), "2024-10-01T10:00:00Z");
    l.append(give("s1", M).expires_at(t("2024-10-01T11:00:00Z")))
        .unwrap();
    assert_eq!(state(&l, "s1", M), State::Given);
    clock.set("2024-10-01T10:59:59.999Z");
    let s = l.status("s1", M, None).unwrap();
    assert_eq!(
        (s.state, s.at),
        (State::Given, t("2024-10-01T10:59:59.999Z"))
    );
    clock.set("2024-10-01T11:00:00Z");
    let s = l.status("s1", M, None).unwrap();
    assert_eq!(s.state, State::Expired);
    assert_eq!(s.since, Some(t("2024-10-01T11:00:00Z")));
    assert_eq!(state(&l, "s1", M), State::Expired);
    // The expiry answer is not served to a clock moved back before the expiry.
    clock.set("2024-10-01T10:30:00Z");
    assert_eq!(state(&l, "s1", M), State::Given);
}

#[test]
fn a_version_registered_ahead_of_the_clock_takes_effect_when_the_clock_reaches_it() {
    let dir = tempfile::tempdir().unwrap();
    let (l, clock) = clocked(dir.path(), "2024-10-01T10:00:00Z");
    l.append(give("s1", M)).unwrap();
    // A material change registered on 1 December; then the simulation goes back.
    clock.set("2024-12-01");
    let mut def = l.purpose(M).unwrap().def;
    def.controller = "JMSU Trading Ltd".into();
    l.register_purpose(def).unwrap();
    clock.set("2024-11-01");
    let s = l.status("s1", M, None).unwrap();
    assert_eq!((s.state, s.purpose_version), (State::Given, 1));
    assert_eq!(state(&l, "s1", M), State::Given);
    clock.set("2024-12-01");
    let s = l.status("s1", M, None).unwrap();
    assert_eq!((s.state, s.purpose_version), (State::NeedsRenewal, 2));
}

#[test]
fn a_clock_moved_back_before_the_answer_was_cached_is_not_served_from_it() {
    let dir = tempfile::tempdir().unwrap();
    let (l, clock) = clocked(dir.path(), "2024-10-01T10:00:00Z");
    l.append(give("s1", M)).unwrap();
    clock.set("2024-12-01");
    let mut def = l.purpose(M).unwrap().def;
    def.controller = "JMSU Trading Ltd".into();
    l.register_purpose(def).unwrap();
    // Cached on 1 December: needs renewal from then on...
    assert_eq!(state(&l, "s1", M), State::NeedsRenewal);
    clock.set("2024-12-02");
    assert_eq!(state(&l, "s1", M), State::NeedsRenewal);
    // ...but not before: on 1 November the grant was in force.
    clock.set("2024-11-01");
    let s = l.status("s1", M, None).unwrap();
    assert_eq!((s.state, s.purpose_version), (State::Given, 1));
    assert_eq!(s.at, t("2024-11-01"));
}

#[test]
fn batches_committed_and_rolled_back() {
    let dir = tempfile::tempdir().unwrap();
    let l = file_ledger(dir.path());
    l.append(give("s1", M)).unwrap();
    assert_eq!(state(&l, "s1", M), State::Given);
    let batch = l.batch().unwrap();
    batch.append(NewEvent::withdraw("s1", M)).unwrap();
    batch.rollback().unwrap();
    assert_eq!(state(&l, "s1", M), State::Given);
    let batch = l.batch().unwrap();
    batch.append(NewEvent::withdraw("s1", M)).unwrap();
    batch.commit().unwrap();
    assert_eq!(state(&l, "s1", M), State::Withdrawn);
    l.append_many([give("s1", M)]).unwrap();
    assert_eq!(state(&l, "s1", M), State::Given);
}

#[test]
fn in_memory_ledgers_see_their_own_writes() {
    let (l, _clock) = ledger_at("2024-10-01T10:00:00Z");
    l.append(give("s1", M)).unwrap();
    assert_eq!(state(&l, "s1", M), State::Given);
    l.append(NewEvent::withdraw("s1", M)).unwrap();
    assert_eq!(state(&l, "s1", M), State::Withdrawn);
    let batch = l.batch().unwrap();
    batch.append(give("s1", M)).unwrap();
    batch.commit().unwrap();
    assert_eq!(state(&l, "s1", M), State::Given);
}

#[test]
fn erasure_and_readmission() {
    let dir = tempfile::tempdir().unwrap();
    let l = file_ledger(dir.path());
    l.append(give("s1", M)).unwrap();
    assert_eq!(state(&l, "s1", M), State::Given);
    l.erase_subject("s1", "retention ended", Actor::staff("dpo"))
        .unwrap();
    assert_eq!(state(&l, "s1", M), State::Erased);
    l.readmit_subject("s1", "came back", Actor::staff("dpo"))
        .unwrap();
    l.append(give("s1", M)).unwrap();
    assert_eq!(state(&l, "s1", M), State::Given);
}

#[test]
fn an_erasure_by_another_handle_is_seen_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let l = file_ledger(dir.path());
    l.append(give("s1", M)).unwrap();
    assert_eq!(state(&l, "s1", M), State::Given);
    let other = Ledger::open(dir.path().join("ledger.db")).unwrap();
    other
        .erase_subject("s1", "retention ended", Actor::staff("dpo"))
        .unwrap();
    assert_eq!(l.status("s1", M, None).unwrap().state, State::Erased);
}

#[test]
fn a_new_lawful_basis_is_seen_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let l = file_ledger(dir.path());
    l.append(give("s1", M)).unwrap();
    assert_eq!(state(&l, "s1", M), State::Given);
    let other = Ledger::open(dir.path().join("ledger.db")).unwrap();
    let mut def = other.purpose(M).unwrap().def;
    def.lawful_basis = LawfulBasis::LegitimateInterests;
    other.register_purpose(def).unwrap();
    let s = l.status("s1", M, None).unwrap();
    assert_eq!(s.lawful_basis, LawfulBasis::LegitimateInterests);
    assert_eq!(s.state, State::NotConsentBased);
}

#[test]
fn many_distinct_questions_keep_being_answered() {
    // More questions than the cache holds: it is emptied and refilled, never wrong.
    let dir = tempfile::tempdir().unwrap();
    let l = file_ledger(dir.path());
    let n = 100_050;
    l.append_chunked((0..n).map(|i| give(&format!("s{i}"), M)), 10_000)
        .unwrap();
    for i in 0..n {
        assert!(l.status(&format!("s{i}"), M, None).unwrap().permits());
    }
    l.append(NewEvent::withdraw("s7", M)).unwrap();
    for i in (0..n).step_by(997).chain([7]) {
        let s = l.status(&format!("s{i}"), M, None).unwrap();
        assert_eq!(s.permits(), i != 7, "s{i}");
    }
}
