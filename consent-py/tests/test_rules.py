"""The rules of issue 11 through Python, on the LJMU registry (examples/ljmu/registry.toml):
recipients are registry ids, a purpose that lists recipients is asked about one, a
material change needs renewal, objections and their overruling, the institution's
calendar, validity counted from a start, notices cover purposes, erasure (unknown ids,
force, preview, bulk, readmission), the feed as known at a moment, the subject's copy
as HTML, loading a registry, and evidence that is not JSON."""

from __future__ import annotations

import hashlib
import html
import json
import re
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Iterator
from uuid import UUID

import pytest
from support import ledger_location, new_ledger, open_ledger

from consent_ledger import (
    Actor,
    BulkErasure,
    Conflict,
    CourseYear,
    ErasurePreview,
    ErasureResult,
    EventKind,
    HashCheck,
    InvalidArgument,
    InvalidConsent,
    InvalidTime,
    LawfulBasis,
    Ledger,
    NotFound,
    RegistryEntryKind,
    State,
    StorageError,
    SubjectErased,
    UnknownRecipient,
)

UTC = timezone.utc
BST = timezone(timedelta(hours=1), "BST")
REGISTRY = Path(__file__).resolve().parents[2] / "examples" / "ljmu" / "registry.toml"

SHARE = "wellbeing.share-external"
FEED = "jmsu.data-sharing"
ENGAGEMENT = "engagement.monitoring"
VOICE = "jmsu.project.student-voice"
REP = "jmsu.course-rep"
WELLBEING = ("ljmu.wellbeing", "1")
JMSU = ("jmsu.privacy", "1")
INTERNATIONAL = ("ljmu.international-relations", "1")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def ljmu(tmp_path: Path) -> Iterator[Ledger]:
    """A ledger (a file, or a schema on PostgreSQL) with the shipped LJMU registry."""
    with open_ledger(ledger_location(tmp_path, "ljmu.db")) as ledger:
        ledger.load_registry(REGISTRY)
        yield ledger


# ---- R1: recipients are registry ids ---------------------------------------------------------


def test_a_question_naming_an_unlisted_recipient_is_refused_with_the_valid_ids(ljmu: Ledger) -> None:
    ljmu.give("s1", SHARE, recipient="nhs", notice=WELLBEING, method="in_person", recorded_by="staff:ab12")
    for ask in (
        lambda: ljmu.status("s1", SHARE, "NHS"),
        lambda: ljmu.status("s1", SHARE, "NHS", at=utc(2024, 10, 1)),
        lambda: ljmu.consenting(SHARE, "the press"),
    ):
        with pytest.raises(UnknownRecipient) as info:
            ask()
        error = info.value
        assert error.code == 6 and isinstance(error, ValueError)
        assert "student-finance-england, nhs, landlord" in str(error)
        assert error.listed == ("student-finance-england", "nhs", "landlord") and error.purpose == SHARE
    # A purpose with no recipients accepts none, anywhere.
    with pytest.raises(UnknownRecipient, match="lists none") as none:
        ljmu.status("s1", "jmsu.marketing", "JMSU")
    assert none.value.listed == () and none.value.recipient == "JMSU"
    with pytest.raises(UnknownRecipient):
        ljmu.give("s1", "jmsu.marketing", recipient="JMSU", notice=JMSU, method="portal")


def test_nhs_is_not_nhs(ljmu: Ledger) -> None:
    """Registry ids compared exactly: ``nhs`` is the NHS; ``NHS`` is no recipient."""
    ljmu.give("s1", SHARE, notice=WELLBEING, method="in_person", effective_at=utc(2024, 10, 1))
    w = ljmu.withdraw("s1", SHARE, recipient="nhs", effective_at=utc(2024, 10, 10))
    assert w.recipient == "nhs"
    assert ljmu.status("s1", SHARE, "nhs").state is State.WITHDRAWN
    assert ljmu.status("s1", SHARE, "landlord").state is State.GIVEN
    with pytest.raises(UnknownRecipient, match="`NHS`"):
        ljmu.status("s1", SHARE, "NHS")
    with pytest.raises(UnknownRecipient):
        ljmu.give("s2", SHARE, recipient="NHS", notice=WELLBEING, method="in_person")
    with pytest.raises(UnknownRecipient):
        ljmu.refuse("s2", SHARE, recipient="NHS", notice=WELLBEING, method="in_person")
    assert ljmu.history("s2") == []
    # A withdrawal is never refused: one naming `NHS` ends consent for every recipient,
    # keeping the text as written.
    ljmu.give("s3", SHARE, notice=WELLBEING, method="in_person", effective_at=utc(2024, 10, 1))
    loose = ljmu.withdraw("s3", SHARE, recipient="NHS", effective_at=utc(2024, 10, 10))
    assert loose.kind is EventKind.WITHDRAWN and loose.recipient is None
    assert loose.details == {"unlisted_recipient": "NHS"}
    for recipient in ("student-finance-england", "nhs", "landlord"):
        assert ljmu.status("s3", SHARE, recipient).state is State.WITHDRAWN


# ---- R2: the JMSU feed trap -------------------------------------------------------------------


def test_the_jmsu_feed_must_name_jmsu_and_then_leaves_out_who_withdrew(ljmu: Ledger) -> None:
    for n in (1, 2, 3):
        ljmu.give(f"student-{n}", FEED, notice=JMSU, method="portal", effective_at=utc(2024, 9, 16, 9, n))
    ljmu.withdraw("student-2", FEED, recipient="JMSU", method="portal", effective_at=utc(2024, 10, 7, 18))
    with pytest.raises(UnknownRecipient, match=r"ask about one of them \(valid ids: JMSU\)") as info:
        ljmu.consenting(FEED)
    assert info.value.recipient is None and info.value.listed == ("JMSU",)
    with pytest.raises(UnknownRecipient):
        ljmu.consenting(FEED, at=utc(2024, 10, 1))
    with pytest.raises(UnknownRecipient):
        ljmu.status("student-2", FEED)
    tonight = ljmu.consenting(FEED, "JMSU")
    assert tonight.subject_ids == ("student-1", "student-3") and tonight.recipient == "JMSU"
    assert "student-2" in ljmu.consenting(FEED, "JMSU", at=utc(2024, 10, 1))
    assert ljmu.status("student-2", FEED, "JMSU").state is State.WITHDRAWN


# ---- R4: objections -----------------------------------------------------------------------------


def test_a_withdrawal_on_legitimate_interests_is_an_objection_a_person_may_overrule(ljmu: Ledger) -> None:
    assert ljmu.purpose(ENGAGEMENT).lawful_basis is LawfulBasis.LEGITIMATE_INTERESTS
    assert ljmu.status("s1", ENGAGEMENT).state is State.NOT_CONSENT_BASED
    objection = ljmu.withdraw("s1", ENGAGEMENT, method="email", effective_at=utc(2024, 11, 1))
    assert objection.kind is EventKind.OBJECTED and objection.details == {"asked_as": "withdrawn"}
    after = ljmu.status("s1", ENGAGEMENT)
    assert after.state is State.OBJECTED and not after.permits and after.event_id == objection.id
    # A person decides, not the student or a system.
    for actor in ("subject", "system:engagement", Actor.system("x")):
        with pytest.raises(InvalidArgument, match="staff"):
            ljmu.overrule_objection("s1", ENGAGEMENT, recorded_by=actor)
    overruled = ljmu.overrule_objection(
        "s1", ENGAGEMENT, recorded_by=Actor.staff("dpo"), effective_at=utc(2024, 11, 15),
        evidence={"grounds": "safeguarding: attendance monitoring required by the sponsor"},
    )
    assert overruled.kind is EventKind.OBJECTION_OVERRULED
    now = ljmu.status("s1", ENGAGEMENT)
    assert now.state is State.NOT_CONSENT_BASED and now.permits and now.event_id == overruled.id
    # Between the objection and the overruling it did not permit.
    assert not ljmu.status("s1", ENGAGEMENT, at=utc(2024, 11, 10)).permits
    # Only an objection in force can be overruled, and never under consent.
    with pytest.raises(InvalidArgument, match="no objection"):
        ljmu.overrule_objection("s1", ENGAGEMENT, recorded_by="staff:dpo")
    with pytest.raises(InvalidArgument):
        ljmu.overrule_objection("s2", ENGAGEMENT, recorded_by="staff:dpo")
    ljmu.object("s3", "jmsu.marketing")
    with pytest.raises(InvalidConsent, match="rests on consent"):
        ljmu.overrule_objection("s3", "jmsu.marketing", recorded_by="staff:dpo")
    # A new objection after the overruling stops processing again.
    ljmu.object("s1", ENGAGEMENT, effective_at=utc(2024, 12, 1))
    assert ljmu.status("s1", ENGAGEMENT).state is State.OBJECTED


# ---- R3: material change ------------------------------------------------------------------------


def test_a_material_change_needs_renewal(ljmu: Ledger) -> None:
    ljmu.give("s1", SHARE, notice=WELLBEING, method="in_person", effective_at=utc(2024, 10, 1))
    ljmu.give("s2", SHARE, recipient="nhs", notice=WELLBEING, method="in_person", effective_at=utc(2024, 10, 1))
    v1 = ljmu.purpose(SHARE)
    assert v1.version == 1 and v1.material_change == () and not v1.is_material_change
    # A new title is not material.
    v2 = ljmu.register_purpose(
        SHARE, "Sharing with organisations outside the University", v1.controller,
        withdrawal_method=v1.withdrawal_method, recipients=v1.recipients,
    )
    assert v2.version == 2 and v2.material_change == ()
    assert ljmu.status("s2", SHARE, "nhs").state is State.GIVEN
    # A new recipient is.
    v3 = ljmu.register_purpose(
        SHARE, v2.title, v2.controller, withdrawal_method=v2.withdrawal_method,
        recipients=[*v2.recipients, "police"],
    )
    assert v3.version == 3 and v3.material_change == ("recipients",) and v3.is_material_change
    status = ljmu.status("s2", SHARE, "nhs")
    assert status.state is State.NEEDS_RENEWAL and not status.permits
    assert status.granted_under_version == 1 and status.purpose_version == 3
    assert status.since == v3.registered_at and status.event_id is not None
    assert ljmu.status("s1", SHARE, "police").state is State.NEEDS_RENEWAL
    assert ljmu.consenting(SHARE, "nhs").subject_ids == ()
    # Before the change the grant permitted (and still does, asked about then).
    then = ljmu.status("s2", SHARE, "nhs", at=utc(2024, 10, 2))
    assert then.state is State.GIVEN and then.purpose_version == 1 and then.granted_under_version == 1
    # A new grant renews.
    renewed = ljmu.give("s2", SHARE, recipient="nhs", notice=WELLBEING, method="in_person")
    assert renewed.purpose_version == 3
    again = ljmu.status("s2", SHARE, "nhs")
    assert again.state is State.GIVEN and again.granted_under_version == 3
    assert ljmu.consenting(SHARE, "nhs").subject_ids == ("s2",)
    # The owner may declare a change the fields do not show.
    v4 = ljmu.register_purpose(
        SHARE, v3.title, v3.controller, withdrawal_method=v3.withdrawal_method, recipients=v3.recipients,
        renew_consent=True,
    )
    assert v4.renew_consent and v4.material_change == ("declared",)
    assert ljmu.status("s2", SHARE, "nhs").state is State.NEEDS_RENEWAL
    assert [p.material_change for p in ljmu.purposes() if p.id == SHARE] == [(), (), ("recipients",), ("declared",)]
    # A new controller, lawful basis or special category are material too.
    ljmu.register_purpose("p", "P", "LJMU")
    assert ljmu.register_purpose("p", "P", "JMSU").material_change == ("controller",)
    assert ljmu.register_purpose("p", "P", "JMSU", special_category="a").material_change == ("special_category",)
    assert ljmu.register_purpose("p", "P", "JMSU", special_category="a", lawful_basis="f").material_change == (
        "lawful_basis",)
    with pytest.raises(TypeError):
        ljmu.register_purpose("p", "P", "JMSU", renew_consent="yes")  # type: ignore[arg-type]


# ---- R5: the institution's calendar -------------------------------------------------------------


def test_the_academic_year_ends_at_midnight_in_liverpool() -> None:
    """The registration form says "for the academic year (August to July)": at 00:45
    BST on 1 August 2025 a 2024-25 consent no longer permits, though it is still
    31 July in UTC; and a form signed at 00:30 BST on 1 August lasts to the next July."""
    with Ledger.in_memory(simulated_now=utc(2024, 10, 1, 12)) as ledger:
        assert ledger.is_simulated and ledger.verify().simulated
        ledger.load_registry(REGISTRY)
        assert ledger.time_zone == "Europe/London"
        grant = ledger.give("s1", VOICE, notice=JMSU, method="web_form")
        assert grant.expires_at == datetime(2025, 8, 1, 0, 0, tzinfo=BST) == utc(2025, 7, 31, 23)

        ledger.set_simulated_now(datetime(2025, 7, 31, 23, 59, tzinfo=BST))
        assert ledger.status("s1", VOICE).permits
        assert "s1" in ledger.consenting(VOICE)

        ledger.set_simulated_now(datetime(2025, 8, 1, 0, 45, tzinfo=BST))  # 23:45 on 31 July in UTC
        late = ledger.status("s1", VOICE)
        assert late.state is State.EXPIRED and not late.permits
        assert late.since == utc(2025, 7, 31, 23)
        assert ledger.consenting(VOICE).subject_ids == ()

        # A form signed at 00:30 BST on 1 August belongs to the new year: to July 2026.
        signed = datetime(2025, 8, 1, 0, 30, tzinfo=BST)
        ledger.set_simulated_now(datetime(2025, 8, 4, 10, tzinfo=BST))
        fresh = ledger.give("s2", VOICE, notice=JMSU, method="paper", effective_at=signed, recorded_by="staff:jb")
        assert fresh.expires_at == datetime(2026, 8, 1, 0, 0, tzinfo=BST)
        assert ledger.status("s2", VOICE, at=datetime(2026, 7, 31, 23, 59, tzinfo=BST)).permits
        assert ledger.status("s2", VOICE, at=datetime(2026, 8, 1, 0, 1, tzinfo=BST)).state is State.EXPIRED

        # The simulation's clock: only a simulation has one, and it takes aware times.
        with pytest.raises(InvalidTime, match="naive"):
            ledger.set_simulated_now(datetime(2025, 8, 1))
    with new_ledger() as real:
        assert not real.is_simulated
        with pytest.raises(InvalidArgument, match="simulated"):
            real.set_simulated_now(utc(2025, 8, 1))


def test_the_ledgers_time_zone(tmp_path: Path) -> None:
    path = ledger_location(tmp_path, "zone.db")
    with open_ledger(path, time_zone="UTC") as ledger:
        assert ledger.time_zone == "UTC"
        ledger.register_purpose("p", "P", "LJMU", validity="academic_year")
        ledger.register_notice("n", "1", "N", text="n", controller="LJMU", purposes=["p"])
        grant = ledger.give("s1", "p", notice=("n", "1"), method="portal", effective_at=utc(2024, 10, 1))
        assert grant.expires_at == utc(2025, 8, 1)  # midnight in UTC
    with open_ledger(path) as reopened:
        assert reopened.time_zone == "UTC"
    with open_ledger(path, time_zone="UTC") as same:
        assert same.time_zone == "UTC"
    with pytest.raises(InvalidArgument, match="time zone"):
        open_ledger(path, time_zone="Europe/London")
    with pytest.raises(InvalidArgument, match="time zone"):
        Ledger.in_memory(time_zone="Mars/Olympus_Mons")
    with pytest.raises(TypeError):
        Ledger.in_memory(time_zone=0)  # type: ignore[arg-type]
    with new_ledger(time_zone="America/New_York") as ny:
        assert ny.time_zone == "America/New_York"


# ---- R6: validity counted from a start ------------------------------------------------------


def test_a_course_rep_grant_counts_from_the_course_start(ljmu: Ledger) -> None:
    assert ljmu.purpose(REP).validity == CourseYear()
    course_start = datetime(2024, 9, 23, 9, 0, tzinfo=BST)
    elected = ljmu.give(
        "rep-1", REP, notice=JMSU, method="web_form", effective_at=utc(2024, 10, 15, 12),
        validity_from=course_start,
    )
    # Until the local midnight that begins the anniversary of the course start.
    assert elected.expires_at == datetime(2025, 9, 23, 0, 0, tzinfo=BST)
    assert elected.details is not None and elected.details["validity_from"] == "2024-09-23T08:00:00.000Z"
    assert ljmu.status("rep-1", REP, at=datetime(2025, 9, 22, 23, 59, tzinfo=BST)).permits
    assert ljmu.status("rep-1", REP, at=datetime(2025, 9, 23, 0, 1, tzinfo=BST)).state is State.EXPIRED
    # Without a start: one year from the grant.
    plain = ljmu.give("rep-2", REP, notice=JMSU, method="web_form", effective_at=utc(2024, 10, 15, 12))
    assert plain.expires_at == datetime(2025, 10, 15, 0, 0, tzinfo=BST)
    # Only a grant carries a start, given as an aware datetime.
    with pytest.raises(InvalidArgument, match="validity start"):
        ljmu.append("withdrawn", "rep-1", REP, validity_from=course_start)
    with pytest.raises(InvalidTime, match="naive"):
        ljmu.give("rep-3", REP, notice=JMSU, method="web_form", validity_from=datetime(2024, 9, 23))
    with pytest.raises(TypeError):
        ljmu.give("rep-3", REP, notice=JMSU, method="web_form", validity_from="2024-09-23")  # type: ignore[arg-type]
    assert ljmu.history("rep-3") == []


def test_an_event_dated_more_than_a_year_ahead_is_refused(ljmu: Ledger) -> None:
    with pytest.raises(InvalidTime, match="more than a year"):
        ljmu.withdraw("s1", FEED, effective_at=datetime.now(UTC) + timedelta(days=400))
    assert ljmu.history("s1") == []


# ---- R7: notices cover purposes -----------------------------------------------------------------


def test_a_notice_that_does_not_cover_the_purpose_is_refused(ljmu: Ledger) -> None:
    jmsu = next(n for n in ljmu.notices() if n.id == "jmsu.privacy")
    assert jmsu.controller == "JMSU" and jmsu.purposes == ("jmsu.*",)
    assert jmsu.covers(FEED) and not jmsu.covers("mobility.health")
    message = r"notice `jmsu.privacy` version 1 does not cover purpose `mobility.health` \(it covers jmsu.\*\)"
    with pytest.raises(InvalidConsent, match=message):
        ljmu.give("s1", "mobility.health", recipient="dfe", notice=JMSU, method="portal", explicit=True)
    with pytest.raises(InvalidConsent, match="does not cover"):
        ljmu.refuse("s1", "mobility.health", notice=JMSU, method="portal")
    with pytest.raises(InvalidConsent, match="does not cover"):
        ljmu.serve_notice("s1", "mobility.health", notice=JMSU)
    assert ljmu.history("s1") == []
    # The notice that covers it.
    ljmu.give("s1", "mobility.health", recipient="dfe", notice=INTERNATIONAL, method="portal", explicit=True)
    assert ljmu.status("s1", "mobility.health", "dfe").permits
    # Withdrawals are not checked (they name no notice).
    assert ljmu.withdraw("s1", "mobility.health").kind is EventKind.WITHDRAWN


# ---- R8: erasure ----------------------------------------------------------------------------------


def test_erasing_an_unknown_id_is_refused_unless_forced(ljmu: Ledger) -> None:
    size = ljmu.head().size
    with pytest.raises(NotFound, match="nothing to erase") as info:
        ljmu.erase_subject("student-9999", "retention ended", "staff:dpo")
    assert info.value.code == 10 and isinstance(info.value, LookupError)
    assert ljmu.head().size == size
    forced = ljmu.erase_subject("student-9999", "retention ended", "staff:dpo", force=True)
    assert forced.events_erased == 0 and forced.seq == size
    with pytest.raises(SubjectErased):
        ljmu.give("student-9999", FEED, notice=JMSU, method="portal")
    with pytest.raises(TypeError):
        ljmu.erase_subject("s1", "r", "staff:dpo", force=1)  # type: ignore[arg-type]


def test_erasure_preview_is_a_dry_run(ljmu: Ledger) -> None:
    grant = ljmu.give("s1", FEED, notice=JMSU, method="portal", evidence={"ip": "10.0.0.1"})
    withdrawal = ljmu.withdraw("s1", FEED, recipient="JMSU")
    size = ljmu.head().size
    preview = ljmu.erasure_preview("s1")
    assert isinstance(preview, ErasurePreview) and not preview.already_erased
    assert [e.id for e in preview.events] == [grant.id, withdrawal.id] and len(preview) == 2
    assert ljmu.head().size == size and ljmu.status("s1", FEED, "JMSU").state is State.WITHDRAWN
    assert ljmu.erasure_preview("nobody") == ErasurePreview(False, ())
    report = ljmu.erase_subject("s1", "retention ended", recorded_by="staff:dpo")
    assert report.events_erased == 2
    after = ljmu.erasure_preview("s1")
    assert after.already_erased and after.events == ()


def test_bulk_erasure_reports_every_id(ljmu: Ledger) -> None:
    for s in ("s1", "s2", "s3"):
        ljmu.give(s, FEED, notice=JMSU, method="portal")
    ljmu.erase_subject("s3", "left", "staff:dpo")
    report = ljmu.erase_subjects(["s1", "nobody", "s3", " s4", "s2"], "retention run 2031", Actor.system("retention"))
    assert isinstance(report, BulkErasure) and report.complete and len(report) == 5
    assert [(o.subject, o.result) for o in report] == [
        ("s1", ErasureResult.ERASED),
        ("nobody", ErasureResult.UNKNOWN),
        ("s3", ErasureResult.ALREADY_ERASED),
        (" s4", ErasureResult.FAILED),
        ("s2", ErasureResult.ERASED),
    ]
    first = report.outcomes[0]
    assert first.events_erased == 1 and first.seq is not None and first.error is None
    assert report.outcomes[3].error is not None and "white space" in report.outcomes[3].error
    assert report.subjects("erased") == ("s1", "s2") and report.subjects(ErasureResult.UNKNOWN) == ("nobody",)
    assert ljmu.status("s1", FEED, "JMSU").state is State.ERASED
    json.dumps(report.to_dict(json_safe=True))
    # Forced, the unknown id is erased too; a single str is not a list of ids.
    forced = ljmu.erase_subjects(["nobody"], "retention run 2031", "system:retention", force=True)
    assert forced.outcomes[0].result is ErasureResult.ERASED and forced.outcomes[0].events_erased == 0
    with pytest.raises(TypeError):
        ljmu.erase_subjects("s1", "r", "staff:dpo")
    with pytest.raises(InvalidArgument):
        ljmu.erase_subjects(["s1"], " ", "staff:dpo")
    with pytest.raises(TypeError):
        ljmu.erase_subjects([1], "r", "staff:dpo")  # type: ignore[list-item]
    assert ljmu.verify(raise_on_failure=True).ok


def test_a_returning_student_is_readmitted(ljmu: Ledger) -> None:
    old = ljmu.give("s1", FEED, notice=JMSU, method="portal", effective_at=utc(2020, 9, 20))
    with pytest.raises(InvalidArgument, match="not erased"):
        ljmu.readmit_subject("s1", "re-enrolled", "staff:registry")
    ljmu.erase_subject("s1", "retention ended", "system:retention")
    with pytest.raises(SubjectErased):
        ljmu.give("s1", FEED, notice=JMSU, method="portal")
    with pytest.raises(InvalidArgument, match="not by the subject"):
        ljmu.readmit_subject("s1", "I am back", "subject")
    back = ljmu.readmit_subject("s1", "re-enrolled for an MSc, 2025", Actor.system("enrolment"))
    assert back.kind is EventKind.SUBJECT_READMITTED and back.subject is None
    assert back.details is not None and back.details["reason"] == "re-enrolled for an MSc, 2025"
    assert ljmu.status("s1", FEED, "JMSU").state is State.NEVER_ASKED
    new = ljmu.give("s1", FEED, notice=JMSU, method="portal")
    assert ljmu.status("s1", FEED, "JMSU").permits
    kinds = [e.kind for e in ljmu.history("s1")]
    assert kinds == [EventKind.GIVEN, EventKind.SUBJECT_ERASED, EventKind.SUBJECT_READMITTED, EventKind.GIVEN]
    history = ljmu.history("s1")
    assert history[0].id == old.id and history[0].erased and history[0].subject is None
    assert history[-1].id == new.id and history[-1].subject == "s1"
    # And erased again.
    assert ljmu.erase_subject("s1", "left again", "staff:dpo").events_erased == 1
    assert ljmu.verify(raise_on_failure=True).ok


# ---- R9: consenting as known at -----------------------------------------------------------------


def test_a_past_feed_is_reproduced_as_it_was_known() -> None:
    with Ledger.in_memory(simulated_now=utc(2024, 10, 1, 20)) as ledger:
        ledger.load_registry(REGISTRY)
        for n in (1, 2):
            ledger.give(f"student-{n}", FEED, notice=JMSU, method="portal", effective_at=utc(2024, 9, 16, 9))
        sent = ledger.consenting(FEED, "JMSU")
        assert sent.subject_ids == ("student-1", "student-2") and sent.as_known_at == utc(2024, 10, 1, 20)
        # Typed in on 3 October: student 2 had opted out on paper on 30 September.
        ledger.set_simulated_now(utc(2024, 10, 3, 9))
        ledger.withdraw("student-2", FEED, recipient="JMSU", method="paper", effective_at=utc(2024, 9, 30))
        assert ledger.consenting(FEED, "JMSU", at=sent.at).subject_ids == ("student-1",)
        again = ledger.consenting(FEED, "JMSU", at=sent.at, as_known_at=sent.as_known_at)
        assert again.subject_ids == sent.subject_ids and again.as_known_at == sent.as_known_at
        with pytest.raises(InvalidTime, match="naive"):
            ledger.consenting(FEED, "JMSU", as_known_at=datetime(2024, 10, 1))


# ---- R10: the subject's copy as HTML ------------------------------------------------------------


def test_the_subjects_copy_as_html(ljmu: Ledger) -> None:
    subject = "<b>student-4711</b>"
    ljmu.give(
        subject, SHARE, recipient="nhs", notice=WELLBEING, method="paper", recorded_by="staff:ab12",
        effective_at=datetime(2024, 10, 1, 11, 15, tzinfo=BST), evidence={"note": "<script>alert(1)</script>"},
    )
    ljmu.withdraw(subject, SHARE, recipient="nhs", method="email", effective_at=datetime(2024, 10, 10, 9, tzinfo=BST))
    page = ljmu.export_subject_html(subject)
    assert page.lstrip().lower().startswith("<!doctype html>")
    # Everything from the ledger is escaped.
    assert "<script>" not in page and "<b>student-4711</b>" not in page
    assert html.escape(subject) in page or "&lt;b&gt;student-4711&lt;/b&gt;" in page
    # Purpose and notice, with controllers, version and hash.
    share = ljmu.purpose(SHARE)
    notice = next(n for n in ljmu.notices() if n.id == "ljmu.wellbeing")
    assert html.escape(share.title) in page and html.escape(share.controller) in page
    assert html.escape(notice.title) in page and notice.sha256 in page
    # Times in the ledger's zone.
    assert "1 October 2024 at 11:15 (BST)" in page
    assert re.search(r"datetime=\"2024-10-01T11:15:00\+01:00\"", page)
    with pytest.raises(InvalidArgument):
        ljmu.export_subject_html(" s1")
    with pytest.raises(TypeError):
        ljmu.export_subject_html(7)  # type: ignore[arg-type]


# ---- R11: the registry from Python --------------------------------------------------------------


def test_load_the_shipped_registry() -> None:
    with new_ledger() as ledger:
        report = ledger.load_registry(REGISTRY)
        notices = [e for e in report if e.kind is RegistryEntryKind.NOTICE]
        purposes = [e for e in report if e.kind is RegistryEntryKind.PURPOSE]
        downstreams = [e for e in report if e.kind is RegistryEntryKind.DOWNSTREAM]
        assert [d.id for d in downstreams] == ["jmsu.feed"]
        assert len(notices) == 5 and len(purposes) == len(report) - 5 - len(downstreams) >= 15
        assert report.recorded == len(report) and all(e.new for e in report)
        assert all(e.hash is HashCheck.UNCHECKED and e.notice_version == "1" for e in notices)
        assert all(e.purpose_version == 1 and e.sha256 is None for e in purposes)
        assert {p.id for p in ledger.purposes()} == {e.id for e in purposes}
        assert ledger.purpose(FEED).recipients == ("JMSU",)
        # Loading again appends nothing.
        size = ledger.head().size
        again = ledger.load_registry(str(REGISTRY))
        assert again.recorded == 0 and ledger.head().size == size
        assert [e.seq for e in again] == [e.seq for e in report]
        json.dumps(report.to_dict(json_safe=True))


REGISTRY_TOML = """
[[notice]]
id = "clubs.privacy"
version = "2025-01"
title = "Clubs privacy notice"
controller = "JMSU"
purposes = ["clubs.*"]
text_file = "clubs.txt"
{sha}

[[purpose]]
id = "clubs.mailing"
title = "Club mailing lists"
controller = "JMSU"
lawful_basis = "a"
validity = {{ kind = "academic_year" }}
"""


def test_load_a_registry_with_its_texts(tmp_path: Path) -> None:
    text = "Clubs: we keep your email on the club's list until the end of the year.\n"
    digest = hashlib.sha256(text.encode()).hexdigest()
    texts = tmp_path / "texts"
    texts.mkdir()
    (texts / "clubs.txt").write_text(text)
    registry = tmp_path / "registry.toml"
    with new_ledger() as ledger:
        # A text that hashes to something else: refused, and nothing registered.
        registry.write_text(REGISTRY_TOML.format(sha=f'sha256 = "{"00" * 32}"'))
        size = ledger.head().size
        with pytest.raises(Conflict, match="clubs.privacy"):
            ledger.load_registry(registry, texts=texts)
        assert ledger.head().size == size and ledger.purposes() == []
        # Without a stated hash, it is computed from the text.
        registry.write_text(REGISTRY_TOML.format(sha=""))
        computed = ledger.load_registry(registry, texts=texts)
        assert computed.entries[0].hash is HashCheck.COMPUTED and computed.entries[0].sha256 == digest
        # Stated and equal: checked.
        registry.write_text(REGISTRY_TOML.format(sha=f'sha256 = "{digest}"'))
        checked = ledger.load_registry(registry, texts=texts)
        assert checked.entries[0].hash is HashCheck.CHECKED and checked.recorded == 0
        ledger.give("s1", "clubs.mailing", notice=("clubs.privacy", "2025-01"), method="web_form")
        # A texts folder asked for must hold every text.
        with pytest.raises(StorageError):
            ledger.load_registry(registry, texts=tmp_path / "nowhere")
    with new_ledger() as ledger:
        with pytest.raises(StorageError):
            ledger.load_registry(tmp_path / "missing.toml")
        (tmp_path / "bad.toml").write_text("[[purpose]]\nid = 'x'\ncolour = 'blue'\n")
        with pytest.raises(InvalidArgument):
            ledger.load_registry(tmp_path / "bad.toml")
        (tmp_path / "no-cover.toml").write_text(
            REGISTRY_TOML.format(sha=f'sha256 = "{digest}"').replace('purposes = ["clubs.*"]\n', ""))
        with pytest.raises(InvalidArgument, match="clubs.privacy"):
            ledger.load_registry(tmp_path / "no-cover.toml")
        with pytest.raises(TypeError):
            ledger.load_registry(42)  # type: ignore[arg-type]
        assert ledger.head().size == 1


# ---- evidence is JSON ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("evidence", "where", "says"),
    [
        ({"signed_at": datetime(2024, 10, 1, 9, tzinfo=UTC)}, "evidence['signed_at']", ".isoformat()"),
        ({"form": {"dates": [date(2024, 10, 1)]}}, "evidence['form']['dates'][0]", ".isoformat()"),
        ({"signed_at": datetime(2024, 10, 1, 9)}, "evidence['signed_at']", "naive datetime"),
        ({"id": UUID(int=1)}, "evidence['id']", "not a JSON value"),
        ({"amount": Decimal("1.10")}, "evidence['amount']", "not a JSON value"),
        ({"tags": {"a", "b"}}, "evidence['tags']", "give a list"),
        ({"scan": b"%PDF"}, "evidence['scan']", "bytes.hex()"),
        ({"x": object()}, "evidence['x']", "not a JSON value"),
        ({"score": float("nan")}, "evidence['score']", "JSON cannot hold"),
        ({"n": 2**70}, "evidence['n']", "too large"),
        ({1: "one"}, "evidence", "keys are text"),
    ],
)
def test_evidence_that_is_not_json_is_refused_naming_where(
    ljmu: Ledger, evidence: dict[Any, Any], where: str, says: str
) -> None:
    size = ljmu.head().size
    with pytest.raises(InvalidArgument) as info:
        ljmu.give("s1", FEED, notice=JMSU, method="paper", evidence=evidence)
    message = str(info.value)
    assert message.startswith(where) and says in message, message
    assert not isinstance(info.value, TypeError)
    assert ljmu.head().size == size
    with ljmu.batch() as batch:
        with pytest.raises(InvalidArgument):
            batch.withdraw("s1", FEED, evidence=evidence)


def test_evidence_as_iso_text_is_kept_as_given(ljmu: Ledger) -> None:
    signed = datetime(2024, 10, 1, 9, 30, tzinfo=BST)
    evidence = {"signed_at": signed.isoformat(), "pages": (1, 2), "nested": {"ok": [True, None, 1.5, -(2**63)]}}
    e = ljmu.give("s1", FEED, notice=JMSU, method="paper", evidence=evidence)
    assert e.evidence == {"signed_at": "2024-10-01T09:30:00+01:00", "pages": [1, 2],
                          "nested": {"ok": [True, None, 1.5, -(2**63)]}}
    # Evidence read back from one event can be given to another.
    assert ljmu.withdraw("s1", FEED, evidence=e.evidence).evidence == e.evidence
    deep: dict[str, Any] = {}
    node = deep
    for _ in range(200):
        node["x"] = {}
        node = node["x"]
    with pytest.raises(InvalidArgument, match="nested"):
        ljmu.withdraw("s1", FEED, evidence=deep)


def test_naive_datetimes_are_refused_everywhere(ljmu: Ledger) -> None:
    naive = datetime(2024, 10, 1, 9)
    calls: list[Callable[[], object]] = [
        lambda: ljmu.give("s1", FEED, notice=JMSU, method="portal", effective_at=naive),
        lambda: ljmu.give("s1", FEED, notice=JMSU, method="portal", expires_at=naive),
        lambda: ljmu.give("s1", REP, notice=JMSU, method="portal", validity_from=naive),
        lambda: ljmu.withdraw("s1", FEED, effective_at=naive),
        lambda: ljmu.status("s1", FEED, "JMSU", at=naive),
        lambda: ljmu.status("s1", FEED, "JMSU", as_known_at=naive),
        lambda: ljmu.consenting(FEED, "JMSU", at=naive),
        lambda: ljmu.consenting(FEED, "JMSU", as_known_at=naive),
        lambda: ljmu.give("s1", FEED, notice=JMSU, method="portal", evidence={"at": naive}),
        lambda: Ledger.in_memory(simulated_now=naive),
    ]
    size = ljmu.head().size
    for call in calls:
        with pytest.raises(InvalidTime, match="naive"):
            call()
    assert ljmu.head().size == size
