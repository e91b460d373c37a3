"""The Ledger API: registry, recording decisions, questions, lifecycle and batches."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import unicodedata
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from support import JMSU_NOTICE, NOTICE, UTC, WELLBEING_NOTICE, at, ledger_location, new_ledger, open_ledger

from consent_ledger import (
    AcademicYear,
    Actor,
    ActorKind,
    Batch,
    BatchError,
    Conflict,
    ConsentError,
    Event,
    EventKind,
    Head,
    InvalidArgument,
    InvalidConsent,
    InvalidTime,
    LawfulBasis,
    Ledger,
    LedgerClosed,
    Method,
    NotFound,
    NoticeRef,
    State,
    UnknownNotice,
    UnknownPurpose,
    UnknownRecipient,
)

SHARE = "wellbeing.share-external"


# ---- lifecycle ---------------------------------------------------------------------------


def test_a_ledger_persists_and_context_manager_closes(tmp_path: Path) -> None:
    path = ledger_location(tmp_path, "l.db")
    with open_ledger(path) as ledger:
        assert ledger.path == str(path)
        assert repr(ledger) == f"<Ledger {str(path)!r}>"
        ledger.register_purpose("p", "P", "LJMU")
    assert ledger.closed
    assert "(closed)" in repr(ledger)
    with pytest.raises(LedgerClosed):
        ledger.head()
    ledger.close()  # twice is fine
    with pytest.raises(LedgerClosed):
        with ledger:
            pass
    with open_ledger(str(path), busy_timeout=timedelta(seconds=5), synchronous="normal") as again:
        assert again.purpose("p").version == 1


def test_in_memory_ledger() -> None:
    ledger = Ledger.in_memory()
    assert ledger.path is None
    assert repr(ledger) == "<Ledger in memory>"
    # The ledger's own first event: its configuration.
    assert ledger.head().size == 1
    (configured,) = ledger.changes_since(0)
    assert configured.seq == 0 and configured.kind is EventKind.LEDGER_CONFIGURED
    assert configured.subject is None and configured.details is not None
    assert not ledger.is_simulated
    ledger.close()
    with pytest.raises(LedgerClosed) as info:
        ledger.purposes()
    assert isinstance(info.value, ConsentError)
    assert info.value.code == 17


def test_open_missing_file_without_create(tmp_path: Path) -> None:
    missing = ledger_location(tmp_path, "missing.db")  # or an empty schema
    with pytest.raises(NotFound):
        open_ledger(missing, create=False)
    with pytest.raises(NotFound):
        open_ledger(missing, read_only=True)
    assert not (tmp_path / "missing.db").exists()


def test_open_argument_types(tmp_path: Path) -> None:
    with pytest.raises(TypeError):
        Ledger(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Ledger(bytes(tmp_path / "x.db"))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Ledger(tmp_path / "x.db", busy_timeout="soon")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Ledger(tmp_path / "x.db", busy_timeout=-1)
    with pytest.raises(TypeError):
        Ledger(tmp_path / "x.db", erasure_wait="soon")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Ledger(tmp_path / "x.db", erasure_wait=timedelta(seconds=-1))
    with pytest.raises(TypeError):
        Ledger(tmp_path / "x.db", key="00" * 32)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument):
        Ledger(tmp_path / "x.db", key=b"short")
    with pytest.raises(TypeError):
        Ledger(tmp_path / "x.db", key=bytes(32), key_file=tmp_path / "x.key")
    with pytest.raises(TypeError):
        Ledger(tmp_path / "x.db", key_file=7)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument):
        Ledger.in_memory(key=bytes(31))
    assert not (tmp_path / "x.db").exists()


# ---- registry ----------------------------------------------------------------------------


def test_register_purpose_defaults_and_versions() -> None:
    with new_ledger() as ledger:
        p = ledger.register_purpose("jmsu.marketing", "Marketing", "JMSU")
        assert p.version == 1 and p.seq == 1
        assert p.lawful_basis is LawfulBasis.CONSENT
        assert p.validity is None and p.effect_delay == timedelta(0)
        assert p.recipients == () and p.special_category is None and not p.requires_explicit
        assert p.registered_at.tzinfo is not None
        # Unchanged: same version, nothing appended.
        assert ledger.register_purpose("jmsu.marketing", "Marketing", "JMSU") == p
        assert ledger.head().size == 2
        p2 = ledger.register_purpose("jmsu.marketing", "Marketing (events too)", "JMSU")
        assert p2.version == 2
        assert ledger.purpose("jmsu.marketing") == p2
        assert [x.version for x in ledger.purposes()] == [1, 2]


def test_register_purpose_options() -> None:
    with new_ledger() as ledger:
        p = ledger.register_purpose(
            "mobility.health", "Health data", "LJMU", lawful_basis="a", special_category="A",
            validity=timedelta(days=30), effect_delay=timedelta(hours=24),
            withdrawal_method="Email GoAbroad@ljmu.ac.uk", recipients=("partner",),
        )
        assert p.special_category == "a" and p.requires_explicit
        assert p.validity == timedelta(days=30)
        assert p.effect_delay == timedelta(hours=24)
        assert p.withdrawal_method == "Email GoAbroad@ljmu.ac.uk"
        assert p.recipients == ("partner",)
        q = ledger.register_purpose("course-rep", "Course reps", "JMSU", validity="academic_year")
        assert q.validity == AcademicYear(7, 31)
        r = ledger.register_purpose("odd", "Odd year", "JMSU", validity=AcademicYear(2, 29))
        assert r.validity == AcademicYear(end_month=2, end_day=29)
        for basis in LawfulBasis:
            got = ledger.register_purpose(f"b.{basis.letter}", "B", "LJMU", lawful_basis=basis)
            assert got.lawful_basis is basis
        assert LawfulBasis("f") is LawfulBasis.LEGITIMATE_INTERESTS


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"validity": timedelta(hours=5)}, InvalidArgument),
        ({"validity": timedelta(days=-1)}, InvalidArgument),
        ({"validity": "forever"}, InvalidArgument),
        ({"validity": 30}, TypeError),
        ({"validity": AcademicYear(2, 30)}, InvalidArgument),
        ({"effect_delay": 86400}, TypeError),
        ({"effect_delay": timedelta(milliseconds=5)}, InvalidArgument),
        ({"effect_delay": timedelta(seconds=-1)}, InvalidArgument),
        ({"special_category": "z"}, InvalidArgument),
        ({"special_category": "ab"}, InvalidArgument),
        ({"special_category": 9}, TypeError),
        ({"recipients": "NHS"}, TypeError),
        ({"recipients": [1]}, TypeError),
        ({"recipients": [""]}, InvalidArgument),
        ({"lawful_basis": "whim"}, InvalidArgument),
        ({"lawful_basis": 6}, TypeError),
        ({"withdrawal_method": None}, TypeError),
    ],
)
def test_register_purpose_rejects(kwargs: dict[str, object], error: type[Exception]) -> None:
    with new_ledger() as ledger:
        with pytest.raises(error):
            ledger.register_purpose("p", "P", "LJMU", **kwargs)  # type: ignore[arg-type]
        assert ledger.head().size == 1


def test_register_purpose_needs_ids() -> None:
    with new_ledger() as ledger:
        with pytest.raises(InvalidArgument):
            ledger.register_purpose("", "P", "LJMU")
        with pytest.raises(InvalidArgument):
            ledger.register_purpose("p", " ", "LJMU")
        with pytest.raises(TypeError):
            ledger.register_purpose(1, "P", "LJMU")  # type: ignore[arg-type]


def test_register_notice() -> None:
    with new_ledger() as ledger:
        cover: dict[str, Any] = {"controller": "JMSU", "purposes": ["jmsu.*", "clubs"]}
        n = ledger.register_notice("n", "v1", "Notice", text="hello", url="https://example.invalid/n", **cover)
        digest = hashlib.sha256(b"hello").hexdigest()
        assert n.sha256 == digest and n.language == "en-GB" and n.url == "https://example.invalid/n"
        assert n.ref == NoticeRef("n", "v1", digest)
        assert n.controller == "JMSU" and n.purposes == ("jmsu.*", "clubs")
        assert n.covers("jmsu.marketing") and n.covers("clubs") and not n.covers("jmsu") and not n.covers("mobility.health")
        # The same content again is fine; by hash (hex or bytes) too.
        assert ledger.register_notice("n", "v1", "Notice", sha256=digest.upper(), url=n.url, **cover) == n
        cy = ledger.register_notice("n", "v1-cy", "Hysbysiad", sha256=bytes(32), language="cy-GB", **cover)
        assert cy.sha256 == "00" * 32 and cy.language == "cy-GB"
        with pytest.raises(Conflict):
            ledger.register_notice("n", "v1", "Notice", text="changed", url=n.url, **cover)
        # Other purposes covered are other content too.
        with pytest.raises(Conflict):
            ledger.register_notice("n", "v1", "Notice", text="hello", url=n.url, controller="JMSU", purposes=["jmsu.*"])
        assert [x.version for x in ledger.notices()] == ["v1", "v1-cy"]
        with pytest.raises(TypeError):
            ledger.register_notice("n", "v2", "Notice", **cover)
        with pytest.raises(TypeError):
            ledger.register_notice("n", "v2", "Notice", text="a", sha256=digest, **cover)
        with pytest.raises(InvalidArgument):
            ledger.register_notice("n", "v2", "Notice", sha256="abc", **cover)
        with pytest.raises(InvalidArgument):
            ledger.register_notice("n", "v2", "Notice", sha256=b"short", **cover)
        with pytest.raises(TypeError):
            ledger.register_notice("n", "v2", "Notice", sha256=12, **cover)  # type: ignore[arg-type]
        with pytest.raises(InvalidArgument):
            ledger.register_notice("n", "v2", "", text="x", **cover)
        assert ledger.head().size == 3


def test_a_new_notice_says_whose_it_is_and_what_it_covers() -> None:
    with new_ledger() as ledger:
        # Both are required: by the signature, and by the ledger when empty.
        with pytest.raises(TypeError, match="controller"):
            ledger.register_notice("n", "1", "Notice", text="t")  # type: ignore[call-arg]
        with pytest.raises(InvalidArgument, match="controller"):
            ledger.register_notice("n", "1", "Notice", text="t", controller="", purposes=["p"])
        with pytest.raises(InvalidArgument, match="purposes"):
            ledger.register_notice("n", "1", "Notice", text="t", controller="JMSU", purposes=[])
        with pytest.raises(InvalidArgument, match="wildcard"):
            ledger.register_notice("n", "1", "Notice", text="t", controller="JMSU", purposes=["jmsu*"])
        with pytest.raises(TypeError):
            ledger.register_notice("n", "1", "Notice", text="t", controller="JMSU", purposes="jmsu.*")
        with pytest.raises(TypeError):
            ledger.register_notice("n", "1", "Notice", text="t", controller=None, purposes=["p"])  # type: ignore[arg-type]
        assert ledger.head().size == 1


def test_unknown_purpose_is_a_lookup_error(ledger: Ledger) -> None:
    with pytest.raises(UnknownPurpose) as info:
        ledger.purpose("nope")
    assert isinstance(info.value, LookupError) and info.value.code == 4
    with pytest.raises(LookupError):
        ledger.status("s1", "nope")
    with pytest.raises(UnknownPurpose):
        ledger.withdraw("s1", "nope")


# ---- recording decisions -----------------------------------------------------------------


def test_give_returns_a_typed_event(ledger: Ledger) -> None:
    signed = datetime(2024, 10, 1, 10, 30, 15, 123456, tzinfo=timezone(timedelta(hours=1)))
    e = ledger.give(
        "s1", SHARE, recipient="NHS", notice=NOTICE, method=Method.PAPER,
        recorded_by=Actor.staff("jb"), effective_at=signed, source_id="form-17",
        evidence={"form": 17, "ticked": ["nhs"]},
    )
    assert isinstance(e, Event) and isinstance(e.id, uuid.UUID)
    assert e.kind is EventKind.GIVEN and e.method is Method.PAPER
    assert e.subject == "s1" and e.purpose == SHARE and e.recipient == "NHS"
    assert e.purpose_version == 1
    assert e.notice == NoticeRef("ljmu.wellbeing", "2024-09", hashlib.sha256(WELLBEING_NOTICE.encode()).hexdigest())
    assert e.recorded_by == Actor(ActorKind.STAFF, "jb") and str(e.recorded_by) == "staff:jb"
    # Milliseconds kept, converted to UTC.
    assert e.effective_at == signed.replace(microsecond=123000)
    assert e.effective_at.tzinfo == UTC
    assert e.recorded_at > e.effective_at
    assert e.evidence == {"form": 17, "ticked": ["nhs"]}
    assert e.source_id == "form-17" and not e.explicit and not e.erased
    assert e.expires_at is None and e.effect_deadline is None and e.target is None
    assert ledger.event(e.id) == e
    assert ledger.event(e) == e
    with pytest.raises(NotFound):
        ledger.event(uuid.uuid4())
    with pytest.raises(TypeError):
        ledger.event(str(e.id))  # type: ignore[arg-type]


def test_give_accepts_registered_notice_objects_and_text(ledger: Ledger) -> None:
    (notice,) = [n for n in ledger.notices() if n.id == "ljmu.wellbeing"]
    a = ledger.give("s1", SHARE, notice=notice, method="portal", recorded_by="system:sis")
    b = ledger.give("s2", SHARE, notice=notice.ref, method="web_form", recorded_by=Actor.system("sis"))
    assert a.notice == b.notice == notice.ref
    assert a.recorded_by == b.recorded_by == Actor.system("sis")
    assert a.method is Method.PORTAL and b.method is Method.WEB_FORM


def test_special_category_needs_explicit_consent(ledger: Ledger) -> None:
    with pytest.raises(InvalidConsent) as info:
        ledger.give("s1", "wellbeing.special-category", notice=NOTICE, method="in_person")
    assert isinstance(info.value, ValueError) and "explicit" in str(info.value)
    e = ledger.give("s1", "wellbeing.special-category", notice=NOTICE, method="in_person", explicit=True)
    assert e.explicit


def test_recipient_rules(ledger: Ledger) -> None:
    with pytest.raises(UnknownRecipient) as info:
        ledger.give("s1", SHARE, recipient="the press", notice=NOTICE, method="portal")
    assert isinstance(info.value, InvalidConsent)
    assert info.value.code == 6 and info.value.purpose == SHARE and info.value.recipient == "the press"
    assert info.value.listed == ("NHS", "SFE", "landlord")
    assert "NHS, SFE, landlord" in str(info.value)
    # A withdrawal naming any recipient is still recorded: for every recipient, with
    # the text as written kept in its details.
    w = ledger.withdraw("s1", SHARE, recipient="the press")
    assert w.recipient is None and w.details == {"unlisted_recipient": "the press"}


def test_grants_need_notice_and_method(ledger: Ledger) -> None:
    with pytest.raises(InvalidConsent):
        ledger.append("given", "s1", SHARE, method="portal")
    with pytest.raises(InvalidConsent):
        ledger.append(EventKind.GIVEN, "s1", SHARE, notice=NOTICE)
    with pytest.raises(InvalidConsent):
        ledger.append("refused", "s1", SHARE)
    with pytest.raises(UnknownNotice) as info:
        ledger.give("s1", SHARE, notice=("ljmu.wellbeing", "1999"), method="portal")
    assert isinstance(info.value, LookupError)
    with pytest.raises(InvalidConsent):
        ledger.give("s1", "engagement", notice=NOTICE, method="portal")
    with pytest.raises(InvalidArgument):
        ledger.append("purpose_defined", "s1", SHARE)
    with pytest.raises(InvalidArgument):
        ledger.append("agreed", "s1", SHARE)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"subject": 7}, TypeError),
        ({"subject": ""}, InvalidArgument),
        ({"subject": "x" * 1025}, InvalidArgument),
        ({"subject": "a\nb"}, InvalidArgument),
        ({"method": 3}, TypeError),
        ({"method": "pigeon"}, InvalidArgument),
        ({"notice": "ljmu.wellbeing"}, TypeError),
        ({"notice": ("ljmu.wellbeing",)}, TypeError),
        ({"explicit": 1}, TypeError),
        ({"recorded_by": 5}, TypeError),
        ({"recorded_by": "robot"}, InvalidArgument),
        ({"recorded_by": "staff"}, InvalidArgument),
        ({"recorded_by": "subject:s1"}, InvalidArgument),
        ({"effective_at": datetime(2024, 10, 1)}, InvalidTime),
        ({"effective_at": "2024-10-01"}, TypeError),
        ({"effective_at": at("2024-10-01T00:00"), "expires_at": at("2024-09-01T00:00")}, InvalidTime),
        ({"expires_at": datetime(2025, 1, 1)}, ValueError),
        ({"evidence": ["a"]}, TypeError),
        ({"evidence": {"x": object()}}, InvalidArgument),
        ({"evidence": {"x": float("nan")}}, ValueError),
        ({"source_id": 12}, TypeError),
        ({"recipient": 12}, TypeError),
    ],
)
def test_give_rejects(ledger: Ledger, kwargs: dict[str, object], error: type[Exception]) -> None:
    args: dict[str, object] = {"subject": "s1", "notice": NOTICE, "method": "portal"}
    args.update(kwargs)
    subject = args.pop("subject")
    size = ledger.head().size
    with pytest.raises(error):
        ledger.give(subject, SHARE, **args)  # type: ignore[arg-type]
    assert ledger.head().size == size


def test_naive_datetime_is_a_value_error(ledger: Ledger) -> None:
    with pytest.raises(ValueError, match="naive"):
        ledger.status("s1", SHARE, at=datetime(2024, 10, 1))
    with pytest.raises(InvalidTime):
        ledger.withdraw("s1", SHARE, effective_at=datetime.now())


def test_source_id_is_idempotent(ledger: Ledger) -> None:
    kw = {"notice": NOTICE, "method": "paper", "source_id": "form-9", "effective_at": at("2024-10-01T09:00")}
    first = ledger.give("s1", SHARE, **kw)  # type: ignore[arg-type]
    again = ledger.give("s1", SHARE, **kw)  # type: ignore[arg-type]
    assert again == first
    assert len(ledger.history("s1")) == 1
    with pytest.raises(Conflict):
        ledger.give("s2", SHARE, **kw)  # type: ignore[arg-type]


def test_refuse_withdraw_revoke(ledger: Ledger) -> None:
    r = ledger.refuse("s1", SHARE, method="email", effective_at=at("2024-10-01T09:00"))
    assert r.kind is EventKind.REFUSED
    assert ledger.status("s1", SHARE, "NHS").state is State.REFUSED
    ledger.give("s1", SHARE, notice=NOTICE, method="email", effective_at=at("2024-10-02T09:00"))
    assert ledger.status("s1", SHARE, "NHS").permits
    rv = ledger.revoke("s1", SHARE, recorded_by="staff:dpo", effective_at=at("2024-10-03T09:00"))
    assert rv.kind is EventKind.REVOKED
    assert ledger.status("s1", SHARE, "NHS").state is State.REVOKED
    # A withdrawal with nothing on record is still recorded.
    w = ledger.withdraw("s9", SHARE, method="email", evidence={"email": "msg-1"})
    assert w.kind is EventKind.WITHDRAWN and w.method is Method.EMAIL
    assert ledger.status("s9", SHARE, "SFE").state is State.WITHDRAWN


def test_withdrawal_is_not_retroactive_and_has_a_deadline(ledger: Ledger) -> None:
    ledger.give("s1", "jmsu.data-sharing", notice=JMSU_NOTICE, method="portal", effective_at=at("2024-09-20T08:00"))
    w = ledger.withdraw("s1", "jmsu.data-sharing", method="portal", effective_at=at("2024-10-05T12:00"))
    assert w.effect_deadline == at("2024-10-06T12:00")
    before = ledger.status("s1", "jmsu.data-sharing", at=at("2024-10-01T00:00"))
    assert before.state is State.GIVEN and before.permits
    after = ledger.status("s1", "jmsu.data-sharing")
    assert after.state is State.WITHDRAWN and not after.permits
    assert after.effect_deadline == at("2024-10-06T12:00")
    assert after.since == at("2024-10-05T12:00")


def test_invalidate_is_retroactive(ledger: Ledger) -> None:
    g = ledger.give("s1", SHARE, notice=NOTICE, method="portal", effective_at=at("2024-10-01T09:00"))
    inv = ledger.invalidate("s1", SHARE, target=g, recorded_by="staff:dpo", evidence={"why": "forged"})
    assert inv.kind is EventKind.INVALIDATED and inv.target == g.id
    past = ledger.status("s1", SHARE, "NHS", at=at("2024-10-02T00:00"))
    assert past.state is State.INVALIDATED and not past.permits
    # Without a target: every earlier grant.
    ledger.give("s2", SHARE, notice=NOTICE, method="portal", effective_at=at("2024-10-01T09:00"))
    ledger.invalidate("s2", SHARE, target=None)
    assert ledger.status("s2", SHARE, "NHS", at=at("2024-10-02T00:00")).state is State.INVALIDATED
    with pytest.raises(InvalidArgument):
        ledger.invalidate("s3", SHARE, target=g.id)  # another subject's grant
    with pytest.raises(TypeError):
        ledger.invalidate("s1", SHARE, target=str(g.id))  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument):
        ledger.append("withdrawn", "s1", SHARE, target=g.id)


def test_object_and_not_consent_based(ledger: Ledger) -> None:
    before = ledger.status("s1", "engagement")
    assert before.state is State.NOT_CONSENT_BASED and before.permits
    assert before.lawful_basis is LawfulBasis.LEGITIMATE_INTERESTS
    o = ledger.object("s1", "engagement", method="email")
    assert o.kind is EventKind.OBJECTED
    after = ledger.status("s1", "engagement")
    assert after.state is State.OBJECTED and not after.permits


def test_serve_notice(ledger: Ledger) -> None:
    e = ledger.serve_notice("s1", SHARE, notice=NOTICE, method="portal")
    assert e.kind is EventKind.NOTICE_SERVED and e.notice is not None
    assert ledger.status("s1", SHARE, "NHS").state is State.NEVER_ASKED
    with pytest.raises(InvalidArgument):
        ledger.append("notice_served", "s1", SHARE)


def test_expiry_at_end_of_academic_year(ledger: Ledger) -> None:
    g = ledger.give("s1", "jmsu.project.rag", notice=JMSU_NOTICE, method="web_form", effective_at=at("2024-10-01T10:00"))
    # Midnight in Liverpool, not in UTC: 1 August 00:00 BST is 31 July 23:00 UTC.
    assert g.expires_at == at("2025-07-31T23:00")
    s = ledger.status("s1", "jmsu.project.rag", at=at("2025-07-31T22:59"))
    assert s.state is State.GIVEN and s.until == at("2025-07-31T23:00")
    assert ledger.status("s1", "jmsu.project.rag", at=at("2025-07-31T23:00")).state is State.EXPIRED
    assert ledger.status("s1", "jmsu.project.rag").state is State.EXPIRED
    custom = ledger.give("s2", "jmsu.project.rag", notice=JMSU_NOTICE, method="web_form",
                         expires_at=datetime(2100, 1, 1, tzinfo=UTC))
    assert custom.expires_at == datetime(2100, 1, 1, tzinfo=UTC)
    with pytest.raises(InvalidArgument):
        ledger.append("withdrawn", "s2", "jmsu.project.rag", expires_at=at("2030-01-01T00:00"))


def test_event_time_versus_record_time(ledger: Ledger) -> None:
    before_typing = datetime.now(UTC) - timedelta(seconds=1)
    ledger.give("s1", SHARE, notice=NOTICE, method="paper", effective_at=at("2024-10-01T09:00"))
    now = ledger.status("s1", SHARE, "NHS", at=at("2024-10-02T00:00"))
    assert now.state is State.GIVEN and now.as_known_at >= before_typing
    then = ledger.status("s1", SHARE, "NHS", at=at("2024-10-02T00:00"), as_known_at=before_typing)
    assert then.state is State.NEVER_ASKED
    assert then.as_known_at == before_typing.replace(microsecond=before_typing.microsecond // 1000 * 1000)
    # as_known_at alone asks about now.
    assert ledger.status("s1", SHARE, "NHS", as_known_at=before_typing).state is State.NEVER_ASKED


def test_status_per_recipient(ledger: Ledger) -> None:
    ledger.give("s1", SHARE, recipient="NHS", notice=NOTICE, method="in_person")
    assert ledger.status("s1", SHARE, "NHS").permits
    assert ledger.status("s1", SHARE, recipient="SFE").state is State.NEVER_ASKED
    s = ledger.status("s1", SHARE, recipient="NHS")
    assert s.recipient == "NHS" and s.purpose == SHARE and s.purpose_version == 1
    assert s.granted_under_version == 1
    assert s.notice is not None and s.event_id is not None and s.event_seq is not None


# ---- questions ---------------------------------------------------------------------------


def test_history_and_changes(ledger: Ledger) -> None:
    start = ledger.head()
    ledger.give("s1", SHARE, notice=NOTICE, method="portal")
    ledger.give("s2", SHARE, notice=NOTICE, method="portal")
    ledger.withdraw("s1", SHARE)
    assert [e.kind for e in ledger.history("s1")] == [EventKind.GIVEN, EventKind.WITHDRAWN]
    assert ledger.history("nobody") == []
    changes = ledger.changes_since(start)
    assert [e.seq for e in changes] == [start.size, start.size + 1, start.size + 2]
    assert [e.seq for e in ledger.changes_since(start.size + 1, limit=1)] == [start.size + 1]
    everything = list(ledger.iter_changes(page=2))
    assert [e.seq for e in everything] == list(range(start.size + 3))
    assert everything[0].kind is EventKind.LEDGER_CONFIGURED
    assert everything[1].kind is EventKind.PURPOSE_DEFINED and everything[1].subject is None
    assert everything[1].details is not None and everything[1].details["id"] == SHARE
    with pytest.raises(ValueError):
        ledger.changes_since(-1)
    with pytest.raises(TypeError):
        ledger.changes_since("0")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        ledger.changes_since(0, limit=1.5)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument):
        ledger.history("")


def test_consenting(ledger: Ledger) -> None:
    ledger.give("s2", SHARE, notice=NOTICE, method="portal", effective_at=at("2024-10-01T00:00"))
    ledger.give("s1", SHARE, notice=NOTICE, method="portal", effective_at=at("2024-10-01T00:00"))
    ledger.give("s3", SHARE, recipient="NHS", notice=NOTICE, method="portal", effective_at=at("2024-10-01T00:00"))
    ledger.withdraw("s2", SHARE, effective_at=at("2024-11-01T00:00"))
    now = ledger.consenting(SHARE, "SFE")
    assert now.subject_ids == ("s1",) and len(now) == 1 and "s1" in now and "s2" not in now
    assert now.head == ledger.head() and now.recipient == "SFE"
    assert now.at == now.as_known_at
    october = ledger.consenting(SHARE, "SFE", at=at("2024-10-15T00:00"))
    assert october.subject_ids == ("s1", "s2")
    assert [s.subject for s in october] == ["s1", "s2"]
    assert october.at == at("2024-10-15T00:00") and october.as_known_at > october.at
    nhs = ledger.consenting(SHARE, "NHS")
    assert nhs.subject_ids == ("s1", "s3") and nhs.recipient == "NHS"
    # A purpose that lists recipients is asked about one of them.
    with pytest.raises(UnknownRecipient):
        ledger.consenting(SHARE)
    assert ledger.consenting("jmsu.data-sharing").subject_ids == ()
    with pytest.raises(UnknownPurpose):
        ledger.consenting("nope")


def test_export_subject_is_portable(ledger: Ledger) -> None:
    ledger.give("s1", SHARE, recipient="NHS", notice=NOTICE, method="portal", evidence={"ip": "10.0.0.1"})
    ledger.withdraw("s1", "jmsu.data-sharing")
    export = ledger.export_subject("s1")
    assert export.subject == "s1" and export.format.startswith("consent-ledger/subject-export")
    assert len(export.events) == 2
    assert {p.id for p in export.purposes} == {SHARE, "jmsu.data-sharing"}
    assert [n.id for n in export.notices] == ["ljmu.wellbeing"]
    # A purpose that lists recipients is answered per recipient.
    assert {(s.purpose, s.recipient, s.state) for s in export.statuses} == {
        (SHARE, "NHS", State.GIVEN), (SHARE, "SFE", State.NEVER_ASKED), (SHARE, "landlord", State.NEVER_ASKED),
        ("jmsu.data-sharing", None, State.WITHDRAWN)}
    (nhs,) = [s for s in export.statuses if s.recipient == "NHS"]
    assert nhs.granted_under_version == 1
    assert export.head == ledger.head()
    document = json.loads(json.dumps(export.to_dict(json_safe=True)))
    assert document["events"][0]["evidence"] == {"ip": "10.0.0.1"}
    assert document["events"][0]["effective_at"].endswith("Z")
    assert document["statuses"][0]["state"] in ("given", "withdrawn")


# ---- batches ---------------------------------------------------------------------------


def test_batch_commits_together(ledger: Ledger) -> None:
    size = ledger.head().size
    with ledger.batch() as batch:
        assert isinstance(batch, Batch) and batch.ledger is ledger and not batch.ended
        for i in range(5):
            batch.give(f"s{i}", SHARE, notice=NOTICE, method="feed", recorded_by="system:sis")
        assert batch.head().size == size + 5
    assert batch.ended and "(ended)" in repr(batch)
    assert ledger.head().size == size + 5
    assert ledger.status("s4", SHARE, "landlord").permits


def test_batch_offers_every_way_of_recording(ledger: Ledger) -> None:
    with ledger.batch() as batch:
        purpose = batch.register_purpose("clubs", "Club lists", "JMSU")
        notice = batch.register_notice("jmsu.clubs", "1", "Clubs notice", text="clubs", controller="JMSU",
                                       purposes=["clubs"])
        grant = batch.give("s1", "clubs", notice=notice, method="portal")
        batch.refuse("s2", "clubs", method="portal")
        batch.serve_notice("s3", "clubs", notice=notice)
        batch.withdraw("s1", "clubs")
        batch.revoke("s4", "clubs")
        batch.invalidate("s1", "clubs", target=grant)
        batch.object("s5", "engagement")
        batch.append("withdrawn", "s6", "clubs")
    assert ledger.purpose("clubs") == purpose and notice in ledger.notices()
    assert [e.kind for e in ledger.history("s1")] == [EventKind.GIVEN, EventKind.WITHDRAWN, EventKind.INVALIDATED]
    assert ledger.status("s5", "engagement").state is State.OBJECTED


def test_batch_rolls_back_on_exception(ledger: Ledger) -> None:
    size = ledger.head().size
    with pytest.raises(InvalidConsent):
        with ledger.batch() as batch:
            batch.give("s1", SHARE, notice=NOTICE, method="feed")
            batch.give("s2", "wellbeing.special-category", notice=NOTICE, method="feed")  # not explicit
    assert batch.ended
    assert ledger.head().size == size
    assert ledger.history("s1") == []
    with pytest.raises(KeyError):
        with ledger.batch() as batch:
            batch.give("s1", SHARE, notice=NOTICE, method="feed")
            raise KeyError("caller's own error")
    assert ledger.head().size == size
    # A purpose registered in a rolled-back batch is gone, from the cache too.
    with pytest.raises(RuntimeError):
        with ledger.batch() as batch:
            batch.register_purpose("gone", "Gone", "LJMU")
            raise RuntimeError("no")
    with pytest.raises(UnknownPurpose):
        ledger.purpose("gone")


def test_explicit_commit_and_rollback(ledger: Ledger) -> None:
    size = ledger.head().size
    batch = ledger.batch()
    batch.withdraw("s1", SHARE)
    batch.rollback()
    assert batch.ended and ledger.head().size == size
    with pytest.raises(BatchError):
        batch.commit()
    with pytest.raises(BatchError):
        batch.withdraw("s1", SHARE)
    batch = ledger.batch()
    batch.withdraw("s1", SHARE)
    batch.commit()
    with pytest.raises(BatchError):
        batch.rollback()
    assert ledger.head().size == size + 1
    # Ended inside the block: the block's end does nothing more.
    with ledger.batch() as batch:
        batch.withdraw("s2", SHARE)
        batch.commit()
    assert ledger.head().size == size + 2


def test_a_dropped_batch_rolls_back(ledger: Ledger) -> None:
    size = ledger.head().size
    batch = ledger.batch()
    batch.withdraw("s1", SHARE)
    del batch
    # The ledger is free again (the test would wait for the busy timeout otherwise).
    assert ledger.head().size == size
    ledger.withdraw("s2", SHARE)
    assert ledger.head().size == size + 1


def test_a_failed_append_inside_a_batch_can_be_caught(ledger: Ledger) -> None:
    size = ledger.head().size
    with ledger.batch() as batch:
        batch.give("s1", SHARE, notice=NOTICE, method="feed")
        with pytest.raises(UnknownRecipient):
            batch.give("s2", SHARE, recipient="press", notice=NOTICE, method="feed")
        batch.give("s3", SHARE, notice=NOTICE, method="feed")
    assert ledger.head().size == size + 2


def test_the_batch_owner_cannot_call_the_ledger_directly(ledger: Ledger) -> None:
    size = ledger.head().size
    with ledger.batch() as batch:
        batch.give("s1", SHARE, notice=NOTICE, method="feed")
        with pytest.raises(BatchError) as info:
            ledger.append("withdrawn", "s2", SHARE)
        assert isinstance(info.value, RuntimeError) and info.value.code == 18
        assert "through the batch" in str(info.value)
        with pytest.raises(BatchError):
            ledger.status("s1", SHARE, "NHS")
        # Batches do not nest.
        with pytest.raises(BatchError):
            ledger.batch()
        batch.give("s3", SHARE, notice=NOTICE, method="feed")
    assert ledger.head().size == size + 2
    assert ledger.history("s2") == []
    assert len(ledger.history("s1")) == 1


def test_closing_inside_a_batch_rolls_back(tmp_path: Path) -> None:
    path = ledger_location(tmp_path, "b.db")
    ledger = open_ledger(path)
    ledger.register_purpose("p", "P", "LJMU")
    with pytest.raises(LedgerClosed):
        with ledger.batch() as batch:
            batch.withdraw("s1", "p")
            ledger.close()
            batch.withdraw("s2", "p")
    with pytest.raises(LedgerClosed):
        ledger.batch()
    with open_ledger(path) as again:
        assert again.head().size == 2


# ---- identifiers -------------------------------------------------------------------------


def test_ids_must_be_nfc_without_surrounding_white_space(ledger: Ledger) -> None:
    nfd = unicodedata.normalize("NFD", "José")
    assert nfd != "José"
    size = ledger.head().size
    for bad in ("770001 ", " 770001", "770001\t", nfd, "\u00a0s1"):
        with pytest.raises(InvalidArgument):
            ledger.give(bad, SHARE, notice=NOTICE, method="portal")
        with pytest.raises(InvalidArgument):
            ledger.status(bad, SHARE, "NHS")
        with pytest.raises(InvalidArgument):
            ledger.status(bad, SHARE, "NHS", at=at("2024-10-01T00:00"))
        with pytest.raises(InvalidArgument):
            ledger.withdraw("s1", SHARE, recipient=bad)
        with pytest.raises(InvalidArgument):
            ledger.withdraw("s1", SHARE, source_id=bad)
    assert ledger.head().size == size
    # Their normal forms are ordinary subjects, and round-trip exactly.
    for good in ("770001", "José", "Zoë Ågren-Ñúñez", "学生 42"):
        assert ledger.give(good, SHARE, notice=NOTICE, method="portal").subject == good
        assert ledger.status(good, SHARE, "NHS").permits
        assert [e.subject for e in ledger.history(good)] == [good]


def test_records_are_frozen(ledger: Ledger) -> None:
    e = ledger.withdraw("s1", SHARE)
    with pytest.raises(dataclasses.FrozenInstanceError):
        e.subject = "s2"  # type: ignore[misc]
    assert hash(e) == hash(e.id)
    assert isinstance(Head.parse(str(ledger.head())), Head)
