"""Values: enums, records (repr, to_dict, frozen, pickle) and time conversion."""

from __future__ import annotations

import copy
import dataclasses
import json
import pickle
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from support import NOTICE, UTC, at, new_ledger

import consent_ledger
from consent_ledger import (
    AcademicYear,
    Actor,
    ActorKind,
    CourseYear,
    ErasureResult,
    EventKind,
    Head,
    InvalidArgument,
    InvalidTime,
    LawfulBasis,
    Ledger,
    Method,
    State,
    Status,
)

SHARE = "wellbeing.share-external"


def test_public_names() -> None:
    assert sorted(consent_ledger.__all__) == sorted(set(consent_ledger.__all__))
    for name in consent_ledger.__all__:
        assert hasattr(consent_ledger, name), name
    assert consent_ledger.__version__ == "0.2.0"
    assert consent_ledger.SCHEMA_VERSION == 4 and consent_ledger.MAX_ID_LEN == 1024


def test_enums_are_text() -> None:
    assert State.GIVEN == "given" and str(State.NEVER_ASKED) == "never_asked"
    assert f"{Method.WEB_FORM}" == "web_form" and f"{EventKind.GIVEN:>7}" == "  given"
    assert State("withdrawn") is State.WITHDRAWN
    assert LawfulBasis("a") is LawfulBasis.CONSENT and LawfulBasis(" E ") is LawfulBasis.PUBLIC_TASK
    assert LawfulBasis.LEGITIMATE_INTERESTS.letter == "f"
    with pytest.raises(ValueError):
        LawfulBasis("z")
    assert json.dumps({"state": State.GIVEN}) == '{"state": "given"}'


def test_actor() -> None:
    assert Actor.parse("subject") == Actor.subject() == Actor(ActorKind.SUBJECT)
    assert Actor.parse("staff:ab:12") == Actor.staff("ab:12")
    assert str(Actor.system("sis")) == "system:sis"
    with pytest.raises(InvalidArgument):
        Actor.parse("robot:1")
    assert repr(Actor.staff("x")) == "Actor(kind='staff', id='x')"


def test_records_repr_and_to_dict(ledger: Ledger) -> None:
    e = ledger.give("s1", SHARE, recipient="NHS", notice=NOTICE, method="paper",
                    effective_at=at("2024-10-01T09:00"), evidence={"form": 1})
    text = repr(e)
    assert text.startswith("Event(id=UUID('") and "kind='given'" in text
    assert "effective_at=2024-10-01T09:00:00.000Z" in text and "source_id" not in text
    d = e.to_dict()
    assert d["kind"] == "given" and d["id"] == e.id and d["effective_at"] == at("2024-10-01T09:00")
    assert d["recorded_by"] == {"kind": "subject", "id": None}
    assert d["notice"]["version"] == "2024-09" and d["evidence"] == {"form": 1}
    safe = json.loads(json.dumps(e.to_dict(json_safe=True)))
    assert safe["id"] == str(e.id) and safe["effective_at"] == "2024-10-01T09:00:00.000Z"
    status = ledger.status("s1", SHARE, "NHS")
    assert repr(status).startswith("Status(purpose='wellbeing.share-external'")
    assert "state='given'" in repr(status)
    p = ledger.purpose("jmsu.data-sharing")
    assert p.to_dict(json_safe=True)["effect_delay"] == 86400.0
    assert ledger.purpose("jmsu.project.rag").to_dict()["validity"] == {"end_month": 7, "end_day": 31}
    assert "recipients" not in repr(p)


def test_evidence_is_read_only_and_records_pickle(ledger: Ledger) -> None:
    e = ledger.give("s1", SHARE, notice=NOTICE, method="portal", evidence={"a": [1, 2]})
    assert e.evidence is not None
    with pytest.raises(TypeError):
        e.evidence["a"] = 3  # type: ignore[index]
    for clone in (pickle.loads(pickle.dumps(e)), copy.deepcopy(e)):
        assert clone == e and clone.evidence == {"a": [1, 2]}
        with pytest.raises(TypeError):
            clone.evidence["b"] = 1  # type: ignore[index]
    status = ledger.status("s1", SHARE, "NHS")
    assert pickle.loads(pickle.dumps(status)) == status


def test_pandas_style_rows(ledger: Ledger) -> None:
    for i in range(3):
        ledger.give(f"s{i}", SHARE, notice=NOTICE, method="portal")
    rows = [e.to_dict() for e in ledger.changes_since(0) if e.subject]
    assert [r["subject"] for r in rows] == ["s0", "s1", "s2"]
    assert all(isinstance(r["recorded_at"], datetime) and r["recorded_at"].tzinfo for r in rows)


def test_times_come_back_in_utc_with_milliseconds(ledger: Ledger) -> None:
    tz = timezone(timedelta(hours=-5, minutes=-30))
    t = datetime(2024, 3, 31, 0, 59, 59, 999999, tzinfo=tz)
    e = ledger.withdraw("s1", SHARE, effective_at=t)
    assert e.effective_at == t.replace(microsecond=999000)
    assert e.effective_at.utcoffset() == timedelta(0)
    assert ledger.withdraw("s2", SHARE, effective_at=datetime(1, 1, 1, tzinfo=UTC)).effective_at.year == 1
    # An event dated more than a year after it is recorded is refused (a typo, or a
    # withdrawal that would keep consent in force until then); a question may ask
    # about any moment.
    late = datetime(9999, 12, 31, 23, 59, 59, 999000, tzinfo=UTC)
    with pytest.raises(InvalidTime, match="more than a year"):
        ledger.withdraw("s3", SHARE, effective_at=late)
    soon = datetime.now(UTC) + timedelta(days=300)
    assert ledger.withdraw("s3", SHARE, effective_at=soon).effective_at == soon.replace(
        microsecond=soon.microsecond // 1000 * 1000)
    assert ledger.status("s3", SHARE, "NHS", at=late).state is State.WITHDRAWN


def test_the_new_states_kinds_and_validity() -> None:
    assert State("needs_renewal") is State.NEEDS_RENEWAL
    assert EventKind("objection_overruled") is EventKind.OBJECTION_OVERRULED
    assert EventKind("subject_readmitted") is EventKind.SUBJECT_READMITTED
    assert ErasureResult("already_erased") is ErasureResult.ALREADY_ERASED
    with new_ledger() as ledger:
        rep = ledger.register_purpose("rep", "Course reps", "JMSU", validity="course_year")
        assert rep.validity == CourseYear() and rep.to_dict()["validity"] == {}
        assert ledger.register_purpose("rep2", "Course reps", "JMSU", validity=CourseYear()).validity == CourseYear()
        assert rep.material_change == () and rep.renew_consent is False
        with pytest.raises(InvalidArgument, match="course_year"):
            ledger.register_purpose("rep3", "Course reps", "JMSU", validity="courseyear")
        n = ledger.register_notice("n", "1", "N", text="t", controller="JMSU", purposes=["rep"])
        assert n.to_dict(json_safe=True)["purposes"] == ["rep"]
        s = ledger.status("s1", "rep")
        assert s.granted_under_version is None and "granted_under_version" in s.to_dict()
        c = ledger.consenting("rep")
        assert c.as_known_at == c.at and c.to_dict(json_safe=True)["as_known_at"].endswith("Z")


def test_head_and_misc_records() -> None:
    h = Head(3, "ab" * 32)
    assert str(h) == "3:" + "ab" * 32 and Head.parse(f" 3:{'AB' * 32} ") == h
    assert AcademicYear() == AcademicYear(7, 31)
    assert isinstance(uuid.uuid4(), uuid.UUID)
    # Status is a native frozen record now (issue 12), no longer a dataclass.
    assert not dataclasses.is_dataclass(Status) and "__dict__" not in dir(Status)


def test_package_docstring_example_runs() -> None:
    import doctest

    result = doctest.testmod(consent_ledger)
    assert result.attempted > 0 and result.failed == 0


def test_an_actor_parses_from_text_only() -> None:
    assert Actor.parse("staff:dpo") == Actor.staff("dpo")
    with pytest.raises(TypeError, match="not int"):
        Actor.parse(7)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="actor kind"):
        Actor.parse("boss")
