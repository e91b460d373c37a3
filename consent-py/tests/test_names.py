"""The words of docs/NAMES.md in Python: ``synchronous=`` (``durable=`` deprecated),
``append_outcome``, a purpose and a notice by version."""

from __future__ import annotations

import dataclasses
import warnings
from datetime import datetime
from pathlib import Path
from typing import Any, Dict

import pytest
from support import NOTICE, TEST_KEY, at, is_postgres, ledger_location, open_ledger

from consent_ledger import (
    Appended,
    Conflict,
    Event,
    InvalidArgument,
    InvalidTime,
    Ledger,
    NewEvent,
    NotFound,
    UnknownNotice,
    UnknownPurpose,
)

SHARE = "wellbeing.share-external"


# ---- synchronous= (was durable=) -----------------------------------------------------


@pytest.mark.parametrize("synchronous", ["full", "normal"])
def test_synchronous_opens_and_copies(ledger_at: str, tmp_path: Path, synchronous: str) -> None:
    with open_ledger(ledger_at, synchronous=synchronous) as ledger:
        ledger.give("s1", SHARE, recipient="NHS", notice=NOTICE, method="portal")
        head = ledger.copy_to(tmp_path / "copy.db", synchronous=synchronous)
    key: Dict[str, Any] = {"key": TEST_KEY} if is_postgres(ledger_at) else {"key_file": f"{ledger_at}.key"}
    with Ledger(tmp_path / "copy.db", create=False, **key) as copy:
        assert copy.head() == head and copy.status("s1", SHARE, "NHS").permits


@pytest.mark.parametrize("bad", ["FULL", "off", "", "extra"])
def test_an_unknown_synchronous_is_refused_before_anything_is_opened(tmp_path: Path, bad: str) -> None:
    path = tmp_path / "never.db"
    with pytest.raises(InvalidArgument, match="synchronous"):
        Ledger(path, synchronous=bad)  # type: ignore[arg-type]
    assert not path.exists()
    with Ledger.in_memory() as ledger:
        with pytest.raises(InvalidArgument, match="synchronous"):
            ledger.copy_to(tmp_path / "copy.db", synchronous=bad)  # type: ignore[arg-type]
    assert not (tmp_path / "copy.db").exists()


def test_synchronous_must_be_text(tmp_path: Path) -> None:
    for bad in (True, 1, b"full"):
        with pytest.raises(TypeError, match="synchronous"):
            Ledger(tmp_path / "x.db", synchronous=bad)  # type: ignore[arg-type]
    assert not (tmp_path / "x.db").exists()


@pytest.mark.parametrize(("durable", "synchronous"), [(True, "full"), (False, "normal")])
def test_durable_still_works_for_one_release_with_a_warning_at_the_caller(
    tmp_path: Path, durable: bool, synchronous: str
) -> None:
    location = ledger_location(tmp_path)
    with pytest.warns(DeprecationWarning, match=f'synchronous="{synchronous}"') as caught:
        ledger = open_ledger(location, durable=durable)
    # The warning names the call that used the old word (here, support.open_ledger).
    assert all(w.filename.endswith("support.py") for w in caught)
    with ledger:
        ledger.register_purpose("p", "P", "LJMU")
        with pytest.warns(DeprecationWarning, match="durable= is deprecated") as caught:
            ledger.copy_to(tmp_path / "copy.db", durable=durable)
        assert [w.filename for w in caught] == [__file__]


def test_durable_and_synchronous_together_are_refused(tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # refused before any warning is given
        with pytest.raises(TypeError, match="not both"):
            Ledger(tmp_path / "x.db", synchronous="full", durable=True)
        with Ledger.in_memory() as ledger:
            with pytest.raises(TypeError, match="not both"):
                ledger.copy_to(tmp_path / "copy.db", synchronous="normal", durable=False)
    assert not (tmp_path / "x.db").exists() and not (tmp_path / "copy.db").exists()


def test_durable_must_still_be_a_bool(tmp_path: Path) -> None:
    with pytest.warns(DeprecationWarning), pytest.raises(TypeError, match="durable must be a bool"):
        Ledger(tmp_path / "x.db", durable="yes")  # type: ignore[arg-type]
    assert not (tmp_path / "x.db").exists()


# ---- append_outcome ------------------------------------------------------------------


def test_append_outcome_says_whether_the_event_is_new(ledger: Ledger) -> None:
    row = NewEvent(
        "given", "s1", SHARE, recipient="NHS", notice=NOTICE, method="paper", source_id="form-7",
        effective_at=at("2024-10-01T09:00"),
    )
    first = ledger.append_outcome(row)
    assert isinstance(first, Appended) and isinstance(first.event, Event) and first.new is True
    assert first.event.source_id == "form-7" and first.event.recipient == "NHS"
    head = ledger.head()
    # The same row again (a retried import): the stored event, nothing written.
    event, new = ledger.append_outcome(row)
    assert (event, new) == (first.event, False)
    assert ledger.head() == head
    # Without a source id every append is new.
    assert ledger.append_outcome(NewEvent("withdrawn", "s1", SHARE)).new
    assert ledger.append_outcome(NewEvent("withdrawn", "s1", SHARE)).new
    assert ledger.head().size == head.size + 2


def test_append_outcome_refuses_as_append_does(ledger: Ledger) -> None:
    row = NewEvent("given", "s1", SHARE, recipient="NHS", notice=NOTICE, method="paper", source_id="k")
    ledger.append_outcome(row)
    head = ledger.head()
    # Other content under the same source id.
    with pytest.raises(Conflict):
        ledger.append_outcome(dataclasses.replace(row, recipient="SFE"))
    with pytest.raises(UnknownPurpose):
        ledger.append_outcome(NewEvent("withdrawn", "s1", "no.such.purpose"))
    with pytest.raises(InvalidTime):
        ledger.append_outcome(NewEvent("withdrawn", "s1", SHARE, effective_at=datetime(2024, 10, 1)))
    with pytest.raises(TypeError, match="explicit"):
        ledger.append_outcome(NewEvent("given", "s1", SHARE, explicit="yes"))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"NewEvent\(\*\*row\)"):
        ledger.append_outcome({"kind": "withdrawn", "subject": "s1", "purpose": SHARE})  # type: ignore[arg-type]
    assert ledger.head() == head


# ---- a purpose and a notice by version -----------------------------------------------


def test_a_purpose_by_version(ledger: Ledger) -> None:
    ledger.give("s1", SHARE, recipient="NHS", notice=NOTICE, method="portal")
    ledger.register_purpose(SHARE, "Sharing with external bodies", "LJMU", recipients=["NHS", "SFE"])
    status = ledger.status("s1", SHARE, "NHS")
    assert status.granted_under_version == 1 and status.purpose_version == 2
    first = ledger.purpose(SHARE, version=status.granted_under_version)
    assert first.version == 1 and first.recipients == ("NHS", "SFE", "landlord")
    assert ledger.purpose(SHARE, 2) == ledger.purpose(SHARE)
    assert [p.version for p in ledger.purpose_versions(SHARE)] == [1, 2]
    assert ledger.purpose_versions(SHARE) == [p for p in ledger.purposes() if p.id == SHARE]


def test_a_purpose_version_that_does_not_exist(ledger: Ledger) -> None:
    for version in (0, 2, 2**32, 2**64, 2**80):
        with pytest.raises(NotFound, match="no version"):
            ledger.purpose(SHARE, version)
    # An unknown id is said first, whatever the version.
    for version in (None, 1, 2**40):
        with pytest.raises(UnknownPurpose):
            ledger.purpose("no.such.purpose", version)
    with pytest.raises(UnknownPurpose):
        ledger.purpose_versions("no.such.purpose")
    with pytest.raises(InvalidArgument, match="negative"):
        ledger.purpose(SHARE, -1)
    for bad in ("1", 1.0, True):
        with pytest.raises(TypeError, match="version"):
            ledger.purpose(SHARE, bad)  # type: ignore[arg-type]


def test_a_notice_by_version(ledger: Ledger) -> None:
    notice = ledger.notice(*NOTICE)
    assert (notice.id, notice.version) == NOTICE
    assert notice in ledger.notices()
    event = ledger.give("s1", SHARE, recipient="NHS", notice=NOTICE, method="portal")
    assert event.notice is not None and ledger.notice(event.notice.id, event.notice.version).ref == event.notice
    for id, version in (("ljmu.wellbeing", "2025-09"), ("no.such.notice", "2024-09"), ("ljmu.wellbeing", "")):
        with pytest.raises(UnknownNotice):
            ledger.notice(id, version)
    with pytest.raises(TypeError):
        ledger.notice("ljmu.wellbeing", 2024)  # type: ignore[arg-type]
