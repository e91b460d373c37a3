"""Issue 12: `Status` and `Event` as native frozen records, appends without JSON,
`append_many` (all or nothing) and `status_many` (one snapshot)."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Iterator, List, Optional, Tuple
from uuid import UUID

import pytest
from support import JMSU_NOTICE, NOTICE, UTC, at, open_ledger, register_all

import consent_ledger
from consent_ledger import (
    Actor,
    Batch,
    Event,
    EventKind,
    InvalidArgument,
    InvalidTime,
    LawfulBasis,
    Ledger,
    Method,
    NewEvent,
    NoticeRef,
    Record,
    State,
    Status,
    UnknownPurpose,
    UnknownRecipient,
)

SHARE = "wellbeing.share-external"
FEED = "jmsu.data-sharing"
NOW = at("2024-10-07T12:00")


@pytest.fixture
def sim() -> Iterator[Ledger]:
    """A simulation: its clock stands still, so answers "now" compare equal."""
    with Ledger.in_memory(simulated_now=NOW) as ledger:
        register_all(ledger)
        yield ledger


def head_size(ledger: Ledger) -> int:
    return ledger.head().size


# ---- the records ---------------------------------------------------------------------


def test_records_are_the_native_classes_under_their_public_names(ledger: Ledger) -> None:
    assert consent_ledger.Status is consent_ledger._native.Status is Status
    assert consent_ledger.Event is consent_ledger._native.Event is Event
    e = ledger.give("s1", SHARE, recipient="NHS", notice=NOTICE, method="portal")
    s = ledger.status("s1", SHARE, "NHS")
    assert type(e) is Event and type(s) is Status
    assert isinstance(e, Record) and isinstance(s, Record)
    # The native layer itself hands back records: no JSON on the way out of Rust.
    raw = ledger._native.append("withdrawn", "s1", SHARE, recipient="NHS")
    assert type(raw) is Event and raw.kind is EventKind.WITHDRAWN


def test_attribute_types(ledger: Ledger) -> None:
    given = ledger.give("s1", SHARE, recipient="NHS", notice=NOTICE, method="paper", recorded_by="staff:ab12",
                        effective_at=at("2024-10-01T09:00"), expires_at=at("2025-10-01T09:00"),
                        source_id="form-1", evidence={"form": [1, {"x": None}]})
    assert isinstance(given.id, UUID) and given.id.version == 7
    assert isinstance(given.seq, int) and given.kind is EventKind.GIVEN and given.method is Method.PAPER
    assert given.subject == "s1" and given.purpose == SHARE and given.recipient == "NHS"
    assert given.purpose_version == 1 and given.explicit is False and given.erased is False
    assert given.recorded_by == Actor.staff("ab12")
    assert isinstance(given.notice, NoticeRef) and (given.notice.id, given.notice.version) == NOTICE
    assert given.effective_at == at("2024-10-01T09:00") and given.effective_at.utcoffset() == timedelta(0)
    assert isinstance(given.recorded_at, datetime) and given.recorded_at.tzinfo is not None
    assert given.expires_at == at("2025-10-01T09:00") and given.effect_deadline is None
    assert given.source_id == "form-1" and given.target is None and given.details is None
    assert isinstance(given.evidence, Mapping) and given.evidence == {"form": [1, {"x": None}]}
    with pytest.raises(TypeError):
        given.evidence["form"] = 2  # type: ignore[index]

    s = ledger.status("s1", SHARE, "NHS", at=at("2024-10-02T00:00"), as_known_at=given.recorded_at)
    assert s.state is State.GIVEN and s.lawful_basis is LawfulBasis.CONSENT and s.permits is True
    assert s.purpose == SHARE and s.recipient == "NHS" and s.purpose_version == 1
    assert s.granted_under_version == 1 and s.event_id == given.id and s.event_seq == given.seq
    assert s.since == at("2024-10-01T09:00") and s.until == at("2025-10-01T09:00")
    assert s.notice == given.notice and s.effect_deadline is None
    assert s.at == at("2024-10-02T00:00") and s.at.utcoffset() == timedelta(0)
    assert s.as_known_at == given.recorded_at
    bad = ledger.invalidate("s1", SHARE, recipient="NHS", target=given, recorded_by="staff:ab12")
    assert bad.target == given.id and isinstance(bad.target, UUID) and bad.method is None
    never = ledger.status("nobody", FEED)
    assert never.state is State.NEVER_ASKED and never.event_id is None and never.since is None
    assert never.notice is None and never.permits is False


def test_records_are_immutable_equal_and_hashable(sim: Ledger) -> None:
    e = sim.give("s1", SHARE, recipient="NHS", notice=NOTICE, method="portal")
    s = sim.status("s1", SHARE, "NHS")
    for record, name in ((e, "subject"), (s, "state"), (s, "permits"), (e, "anything_new")):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(record, name, None)
        with pytest.raises(AttributeError):
            delattr(record, name)
    assert s.state is State.GIVEN and e.subject == "s1"

    # Equal when every field is: the same answer asked twice, the same event read back.
    again = sim.status("s1", SHARE, "NHS")
    assert again == s and hash(again) == hash(s) and again is not s
    assert sim.event(e.id) == e and sim.history("s1") == [e]
    assert hash(e) == hash(e.id) and len({e, sim.event(e)}) == 1
    assert s != sim.status("s1", SHARE, "SFE") and s != e and s != "given"
    assert sim.status("s1", SHARE, "NHS", at=at("2024-10-01T00:00")) != s
    w = sim.withdraw("s1", SHARE, recipient="NHS")
    assert w != e and sim.status("s1", SHARE, "NHS") != s

    # Copies are the record itself (immutable); pickles round-trip to an equal record.
    assert copy.copy(s) is s and copy.deepcopy(e) is e
    for record in (s, e, w, sim.status("never", FEED)):
        clone = pickle.loads(pickle.dumps(record))
        assert clone == record and type(clone) is type(record) and repr(clone) == repr(record)


def test_repr_and_to_dict_as_before(sim: Ledger) -> None:
    e = sim.give("s1", SHARE, recipient="NHS", notice=NOTICE, method="portal", evidence={"a": 1})
    s = sim.status("s1", SHARE, "NHS")
    assert repr(s).startswith("Status(purpose='wellbeing.share-external', purpose_version=1,")
    assert "state='given'" in repr(s) and "until=" not in repr(s)
    assert repr(e).startswith(f"Event(id=UUID('{e.id}'), seq={e.seq}, kind='given', subject='s1'")
    d = s.to_dict()
    assert list(d) == list(Status.__match_args__)
    assert d["state"] == "given" and d["at"] == NOW and d["notice"]["id"] == NOTICE[0]
    assert s.to_dict(json_safe=True)["event_id"] == str(e.id)
    assert list(e.to_dict()) == list(Event.__match_args__)
    assert e.to_dict(json_safe=True)["evidence"] == {"a": 1}


# ---- status_many ---------------------------------------------------------------------


def test_status_many_answers_as_status_does(sim: Ledger) -> None:
    sim.give("s1", SHARE, recipient="NHS", notice=NOTICE, method="portal")
    sim.give("s1", FEED, method="portal", notice=JMSU_NOTICE)
    sim.withdraw("s2", FEED)
    sim.give("s3", SHARE, notice=NOTICE, method="portal")  # every recipient
    sim.withdraw("s3", SHARE, recipient="SFE")
    sim.object("s4", "engagement")
    questions: List[Tuple[str, str, Optional[str]]] = [
        ("s1", SHARE, "NHS"), ("s1", SHARE, "SFE"), ("s1", FEED, None), ("s2", FEED, None),
        ("s3", SHARE, "NHS"), ("s3", SHARE, "SFE"), ("s4", "engagement", None), ("s5", "engagement", None),
        ("never-asked", FEED, None), ("never-asked", SHARE, "landlord"), ("s1", SHARE, "NHS"),
    ]
    expected = [sim.status(s, p, r) for s, p, r in questions]
    assert sim.status_many(questions) == expected
    # Two-element questions, lists, and any iterable are accepted too.
    assert sim.status_many([("s1", FEED), ["s2", FEED]]) == [expected[2], expected[3]]
    assert sim.status_many(q for q in questions[:3]) == expected[:3]
    assert sim.status_many([]) == []
    states = [s.state for s in expected]
    assert states[:4] == [State.GIVEN, State.NEVER_ASKED, State.GIVEN, State.WITHDRAWN]
    assert states[4:8] == [State.GIVEN, State.WITHDRAWN, State.OBJECTED, State.NOT_CONSENT_BASED]
    assert states[8:10] == [State.NEVER_ASKED, State.NEVER_ASKED]


def test_status_many_one_invalid_question_fails_the_call(sim: Ledger) -> None:
    good = ("s1", FEED)
    with pytest.raises(UnknownPurpose):
        sim.status_many([good, ("s1", "no.such.purpose"), good])
    with pytest.raises(UnknownRecipient) as info:
        sim.status_many([good, ("s1", SHARE)])  # a purpose with recipients needs one
    assert info.value.listed == ("NHS", "SFE", "landlord")
    with pytest.raises(UnknownRecipient):
        sim.status_many([good, ("s1", SHARE, "nhs")])  # misspelt
    with pytest.raises(InvalidArgument):
        sim.status_many([good, (" s1", FEED)])  # not a normalised id


@pytest.mark.parametrize(
    ("questions", "message"),
    [
        ([("s1",)], "question 0 must be a .* tuple, not a tuple of 1"),
        ([("s1", FEED), ("s1", FEED, None, "x")], "question 1 must be .* not a tuple of 4"),
        ([(1, FEED)], "question 0: subject must be a str, not int"),
        ([("s1", None)], "question 0: purpose must be a str, not NoneType"),
        ([("s1", SHARE, b"NHS")], "question 0: recipient must be a str, not bytes"),
        (["s1"], "question 0 must be a .* tuple, not str"),
        ("s1", "not a str"),
        (None, "not iterable"),
    ],
)
def test_status_many_refuses_malformed_questions(sim: Ledger, questions: object, message: str) -> None:
    with pytest.raises(TypeError, match=message):
        sim.status_many(questions)  # type: ignore[arg-type]


# ---- append_many ---------------------------------------------------------------------


def test_append_many_lands_every_event_in_order(sim: Ledger) -> None:
    before = head_size(sim)
    events = sim.append_many([
        NewEvent("given", "s1", SHARE, recipient="NHS", notice=NOTICE, method="portal",
                 effective_at=at("2024-10-01T00:00")),
        NewEvent(EventKind.GIVEN, "s2", FEED, notice=JMSU_NOTICE, method=Method.PORTAL, evidence={"row": 2}),
        NewEvent("withdrawn", "s1", SHARE, recipient="NHS", effective_at=at("2024-10-05T00:00")),
    ])
    assert [type(e) for e in events] == [Event] * 3
    assert [e.seq for e in events] == [before, before + 1, before + 2] and head_size(sim) == before + 3
    assert [e.kind for e in events] == [EventKind.GIVEN, EventKind.GIVEN, EventKind.WITHDRAWN]
    assert events[1].evidence == {"row": 2} and events[2].effective_at == at("2024-10-05T00:00")
    assert sim.history("s1") == [events[0], events[2]]
    assert sim.status("s1", SHARE, "NHS").state is State.WITHDRAWN
    assert sim.append_many([]) == [] and head_size(sim) == before + 3


def test_append_many_is_all_or_nothing(ledger_at: str) -> None:
    with open_ledger(ledger_at) as ledger:
        head = ledger.head()
        with pytest.raises(UnknownPurpose):
            ledger.append_many([
                NewEvent("given", "s1", FEED, notice=JMSU_NOTICE, method="portal"),
                NewEvent("given", "s2", "no.such.purpose", notice=JMSU_NOTICE, method="portal"),
                NewEvent("given", "s3", FEED, notice=JMSU_NOTICE, method="portal"),
            ])
        assert ledger.head() == head
        assert ledger.history("s1") == [] and ledger.history("s3") == []
        assert ledger.status("s1", FEED).state is State.NEVER_ASKED
    with open_ledger(ledger_at) as reopened:  # and nothing reached the file (or schema)
        assert reopened.head() == head and reopened.verify().ok


@pytest.mark.parametrize(
    ("bad", "error", "message"),
    [
        (NewEvent("given", 7, FEED, notice=JMSU_NOTICE, method="portal"),  # type: ignore[arg-type]
         TypeError, r"events\[1\]: subject must be a str, not int"),
        (NewEvent("given", "s2", FEED, notice=JMSU_NOTICE, method="portal", effective_at=datetime(2024, 10, 1)),
         InvalidTime, r"events\[1\]: effective_at is a naive datetime"),
        (NewEvent("gave", "s2", FEED), InvalidArgument, r"events\[1\]: unknown event kind 'gave'"),
        (NewEvent("given", "s2", FEED, evidence={"when": datetime.now(UTC)}), InvalidArgument,
         r"events\[1\]: evidence\['when'\] is a datetime"),
        ({"kind": "given", "subject": "s2", "purpose": FEED}, TypeError,
         r"events\[1\] must be a NewEvent, not dict: NewEvent\(\*\*row\)"),
        (("given", "s2", FEED), TypeError, r"events\[1\] must be a NewEvent, not tuple"),
    ],
)
def test_append_many_refuses_bad_input_without_writing(
    sim: Ledger, bad: object, error: type, message: str
) -> None:
    head = sim.head()
    good = NewEvent("given", "s1", FEED, notice=JMSU_NOTICE, method="portal")
    with pytest.raises(error, match=message):
        sim.append_many([good, bad, good])  # type: ignore[list-item]
    assert sim.head() == head and sim.history("s1") == []


def test_append_many_wants_an_iterable_of_events(sim: Ledger) -> None:
    one = NewEvent("withdrawn", "s1", FEED)
    for wrong in (one, "s1", {"kind": "withdrawn"}):
        with pytest.raises(TypeError, match="events must be an iterable of NewEvent"):
            sim.append_many(wrong)  # type: ignore[arg-type]
    assert sim.append_many(iter([one]))[0].kind is EventKind.WITHDRAWN
    assert NewEvent(**{"kind": "withdrawn", "subject": "s1", "purpose": FEED}) == one


def test_append_many_in_a_batch(sim: Ledger) -> None:
    head = sim.head()
    with sim.batch() as batch:
        assert isinstance(batch, Batch)
        events = batch.append_many([
            NewEvent("given", "s1", FEED, notice=JMSU_NOTICE, method="portal"),
            NewEvent("withdrawn", "s2", FEED),
        ])
        assert [e.seq for e in events] == [head.size, head.size + 1]
        assert batch.head().size == head.size + 2
    assert sim.head().size == head.size + 2 and sim.status("s1", FEED).state is State.GIVEN

    # A refused event stops the call; the batch (rolled back by the with block) lands nothing.
    head = sim.head()
    with pytest.raises(UnknownPurpose), sim.batch() as batch:
        batch.give("s3", FEED, notice=JMSU_NOTICE, method="portal")
        batch.append_many([
            NewEvent("given", "s4", FEED, notice=JMSU_NOTICE, method="portal"),
            NewEvent("given", "s4", "no.such.purpose", notice=JMSU_NOTICE, method="portal"),
        ])
    assert sim.head() == head and sim.history("s3") == [] and sim.history("s4") == []


# ---- the other answers made of events -------------------------------------------------


def test_events_everywhere_are_native(sim: Ledger) -> None:
    e = sim.give("s1", FEED, notice=JMSU_NOTICE, method="portal")
    assert sim.changes_since(e.seq) == [e]
    export = sim.export_subject("s1")
    assert export.events == (e,) and export.statuses == (sim.status("s1", FEED),)
    assert export.to_dict(json_safe=True)["events"][0]["id"] == str(e.id)
    preview = sim.erasure_preview("s1")
    assert preview.events == (e,) and not preview.already_erased
    sim.erase_subject("s1", "retention", "staff:dpo")
    erased = sim.event(e.id)
    assert erased.erased and erased.subject is None and erased != e and erased.id == e.id
    back = sim.readmit_subject("s1", "returning student", "staff:dpo")
    assert type(back) is Event and back.kind is EventKind.SUBJECT_READMITTED
    assert back.details is not None and isinstance(back.details, Mapping)
