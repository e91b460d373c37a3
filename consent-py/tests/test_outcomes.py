""""New or already on record", as the core decides it inside the write (docs/NAMES.md:
"an append that may already be on record", "a registration that may already be
current"): ``register_purpose_outcome``, ``register_notice_outcome`` and
``register_downstream_outcome`` return ``Registered(value, new)``; ``append_outcome`` and
``append_many_outcome`` ``Appended(event, new)``; on a ``Ledger`` and in a ``Batch``.
Runs on both backends."""

from __future__ import annotations

import dataclasses
import pickle
import threading
from typing import Callable, List, Tuple, Union

import pytest
from support import JMSU_NOTICE, NOTICE, at, open_ledger

from consent_ledger import (
    Appended,
    Batch,
    BatchError,
    Conflict,
    Downstream,
    Ledger,
    NewEvent,
    Notice,
    Purpose,
    Registered,
    UnknownPurpose,
)

SHARE = "wellbeing.share-external"
TEXT = "JMSU events notice: with your consent we tell you about events."
#: Where the outcome forms are: a ledger, or a batch.
Recorder = Union[Ledger, Batch]


def _events_purpose(b: Recorder, title: str = "JMSU events") -> Registered[Purpose]:
    return b.register_purpose_outcome("jmsu.events", title, "JMSU")


def _row(i: int) -> NewEvent:
    return NewEvent("given", f"s{i}", "jmsu.data-sharing", notice=JMSU_NOTICE, method="portal",
                    source_id=f"row-{i}", effective_at=at("2024-10-01T09:00"))


# ---- the misuser's cases first -----------------------------------------------------


def test_two_writers_registering_the_same_definition_see_one_new(ledger_at: str) -> None:
    """Comparing the head before and after is fooled by the other writer; the outcome
    is decided inside each registration's transaction: exactly one call is new."""
    ledgers = [open_ledger(ledger_at) for _ in range(4)]
    start = threading.Barrier(len(ledgers))
    outcomes: List[Tuple[bool, bool]] = []

    def register(ledger: Ledger) -> None:
        start.wait()
        purpose = ledger.register_purpose_outcome("jmsu.events", "JMSU events", "JMSU")
        event = ledger.append_outcome(_row(1))
        outcomes.append((purpose.new, event.new))

    threads = [threading.Thread(target=register, args=(ledger,)) for ledger in ledgers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for ledger in ledgers:
        ledger.close()
    assert sorted(p for p, _ in outcomes) == [False, False, False, True]
    assert sorted(e for _, e in outcomes) == [False, False, False, True]
    with open_ledger(ledger_at) as ledger:
        assert [p.version for p in ledger.purpose_versions("jmsu.events")] == [1]


def test_a_repeat_is_unchanged_even_when_the_log_grew_in_between(ledger: Ledger) -> None:
    first = _events_purpose(ledger)
    ledger.give("s1", SHARE, recipient="NHS", notice=NOTICE, method="portal")
    head = ledger.head()
    again = _events_purpose(ledger)
    assert (again.value, again.new) == (first.value, False)
    assert ledger.head() == head


# ---- registrations on a ledger -----------------------------------------------------


def test_a_purpose_is_new_then_unchanged_then_new_again_when_it_changes(ledger: Ledger) -> None:
    head = ledger.head()
    first = _events_purpose(ledger)
    assert isinstance(first, Registered) and isinstance(first.value, Purpose)
    assert first.new is True and first.value.version == 1
    assert ledger.head().size == head.size + 1
    purpose, new = _events_purpose(ledger)
    assert (purpose, new) == (first.value, False)
    assert ledger.head().size == head.size + 1
    changed = _events_purpose(ledger, "JMSU events and socials")
    assert changed.new and changed.value.version == 2 and changed.value.title == "JMSU events and socials"
    assert ledger.head().size == head.size + 2
    # The plain form is the outcome's value.
    assert ledger.register_purpose("jmsu.events", "JMSU events and socials", "JMSU") == changed.value


def test_a_notice_is_new_then_unchanged_and_other_content_is_a_conflict(ledger: Ledger) -> None:
    def register(text: str) -> Registered[Notice]:
        return ledger.register_notice_outcome("jmsu.events", "2024-10", "Events notice", text=text,
                                              controller="JMSU", purposes=["jmsu.*"])

    first = register(TEXT)
    assert isinstance(first.value, Notice) and first.new
    head = ledger.head()
    again = register(TEXT)
    assert (again.value, again.new) == (first.value, False)
    with pytest.raises(Conflict):
        register("another text")
    assert ledger.head() == head


def test_a_downstream_is_new_then_unchanged_then_a_new_version(ledger: Ledger) -> None:
    def register(purposes: List[str]) -> Registered[Downstream]:
        return ledger.register_downstream_outcome("jmsu.crm", name="JMSU CRM", controller="JMSU",
                                                  purposes=purposes, recorded_by="staff:dpo-01")

    first = register(["jmsu.data-sharing"])
    assert isinstance(first.value, Downstream) and first.new and first.value.version == 1
    head = ledger.head()
    again = register(["jmsu.data-sharing"])
    assert (again.value, again.new) == (first.value, False)
    assert ledger.head() == head
    wider = register(["jmsu.data-sharing", "jmsu.project.rag"])
    assert wider.new and wider.value.version == 2
    with pytest.raises(UnknownPurpose):
        register(["no.such.purpose"])


def test_the_outcome_forms_check_their_arguments_as_the_plain_ones(ledger: Ledger) -> None:
    head = ledger.head()
    with pytest.raises(TypeError, match="recipients"):
        ledger.register_purpose_outcome("p", "P", "LJMU", recipients="NHS")
    with pytest.raises(TypeError, match="exactly one of text= or sha256="):
        ledger.register_notice_outcome("n", "1", "N", controller="LJMU", purposes=["p"])
    with pytest.raises(TypeError, match="purposes"):
        ledger.register_downstream_outcome("d", name="D", controller="LJMU", purposes="p", recorded_by="subject")
    with pytest.raises(TypeError, match=r"NewEvent\(\*\*row\)"):
        ledger.append_many_outcome([{"kind": "given"}])  # type: ignore[list-item]
    assert ledger.head() == head


# ---- many appends on a ledger ------------------------------------------------------


def test_append_many_outcome_says_which_rows_a_retry_added(ledger: Ledger) -> None:
    first = ledger.append_many_outcome([_row(i) for i in range(3)])
    assert all(isinstance(a, Appended) and a.new for a in first)
    head = ledger.head()
    retry = ledger.append_many_outcome([_row(i) for i in range(3)])
    assert [(a.event, a.new) for a in retry] == [(a.event, False) for a in first]
    assert ledger.head() == head
    # The first three of five are on record: only the last two are new.
    more = ledger.append_many_outcome([_row(i) for i in range(5)])
    assert [a.new for a in more] == [False, False, False, True, True]
    assert ledger.head().size == head.size + 2


def test_append_many_outcome_is_all_or_nothing(ledger: Ledger) -> None:
    ledger.append_many_outcome([_row(0)])
    head = ledger.head()
    # A changed row under a source id on record refuses the whole call.
    with pytest.raises(Conflict):
        ledger.append_many_outcome([_row(1), dataclasses.replace(_row(0), method="paper")])
    assert ledger.head() == head
    assert ledger.append_many_outcome([_row(1)])[0].new


# ---- in a batch --------------------------------------------------------------------


def _downstream(b: Recorder) -> Registered[Downstream]:
    return b.register_downstream_outcome(
        "jmsu.crm", name="JMSU CRM", controller="JMSU", purposes=["jmsu.data-sharing"], recorded_by="staff:dpo-01"
    )


def _notice(b: Recorder) -> Registered[Notice]:
    return b.register_notice_outcome(
        "jmsu.events", "2024-10", "Events notice", text=TEXT, controller="JMSU", purposes=["jmsu.*"]
    )


#: Each of the batch's ways of saying "new": one call, made twice in a row.
OUTCOMES: List[Tuple[str, Callable[[Recorder], bool]]] = [
    ("purpose", lambda b: _events_purpose(b).new),
    ("notice", lambda b: _notice(b).new),
    ("downstream", lambda b: _downstream(b).new),
    ("event", lambda b: b.append_outcome(_row(1)).new),
]


@pytest.mark.parametrize(("what", "call"), OUTCOMES, ids=[w for w, _ in OUTCOMES])
def test_a_repeat_inside_a_batch_is_not_new(ledger: Ledger, what: str, call: Callable[[Recorder], bool]) -> None:
    with ledger.batch() as batch:
        assert call(batch) is True, f"the first {what} in the batch is new"
        assert call(batch) is False, f"the {what} repeated in the batch is not"
    # Committed: on the ledger it is on record.
    assert call(ledger) is False


@pytest.mark.parametrize(("what", "call"), OUTCOMES, ids=[w for w, _ in OUTCOMES])
def test_after_a_rollback_it_is_new_again(ledger: Ledger, what: str, call: Callable[[Recorder], bool]) -> None:
    head = ledger.head()
    batch = ledger.batch()
    assert call(batch) is True
    batch.rollback()
    assert ledger.head() == head
    assert call(ledger) is True, f"the rolled-back {what} left nothing on record"


def test_a_batch_retrying_what_is_on_record_appends_nothing(ledger: Ledger) -> None:
    stored = ledger.append_outcome(_row(1)).event
    _events_purpose(ledger)
    head = ledger.head()
    with ledger.batch() as batch:
        event, new = batch.append_outcome(_row(1))
        assert (event, new) == (stored, False)
        assert not _events_purpose(batch).new
        assert batch.append_outcome(_row(2)).new
    assert ledger.head().size == head.size + 1


def test_the_outcomes_of_a_batch_land_with_it(ledger: Ledger) -> None:
    with ledger.batch() as batch:
        purpose = _events_purpose(batch).value
        downstream = batch.register_downstream("jmsu.crm", name="JMSU CRM", controller="JMSU",
                                               purposes=["jmsu.data-sharing"], recorded_by="staff:dpo-01")
        notice = _notice(batch).value
    assert ledger.purpose("jmsu.events") == purpose
    assert ledger.downstream("jmsu.crm") == downstream
    assert ledger.notice("jmsu.events", "2024-10") == notice


def test_an_ended_batch_refuses_the_outcome_forms(ledger: Ledger) -> None:
    batch = ledger.batch()
    batch.commit()
    head = ledger.head()
    for _, call in OUTCOMES:
        with pytest.raises(BatchError):
            call(batch)
    assert ledger.head() == head


def test_a_refused_outcome_in_a_batch_raises_as_the_plain_form(ledger: Ledger) -> None:
    with ledger.batch() as batch:
        batch.append_outcome(_row(1))
        with pytest.raises(Conflict):
            batch.append_outcome(dataclasses.replace(_row(1), method="paper"))
        with pytest.raises(TypeError, match=r"NewEvent\(\*\*row\)"):
            batch.append_outcome({"kind": "given"})  # type: ignore[arg-type]
        batch.rollback()


def test_registered_unpacks_and_pickles() -> None:
    with Ledger.in_memory() as ledger:
        outcome = ledger.register_purpose_outcome("p", "P", "LJMU")
    assert pickle.loads(pickle.dumps(outcome)) == outcome
    value, new = outcome
    assert (value, new) == (outcome.value, outcome.new) == (outcome[0], outcome[1])
    assert repr(outcome).startswith("Registered(value=Purpose(")
