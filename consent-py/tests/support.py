"""Helpers shared by the tests: the backend they run on, times and a small welfare
registry after docs/RULES.md (``wellbeing.share-external`` lists the recipients NHS,
SFE and landlord, so every question about it names one; the wellbeing notice covers
``wellbeing.*``, the JMSU notice ``jmsu.*``).

The same tests run on SQLite (the default: files, or in memory) and, with
``CONSENT_TEST_BACKEND=postgres``, on the PostgreSQL server ``CONSENT_TEST_PG_URL``
names (``make test-postgres``), each ledger in a schema of its own,
``consent_test_<pid>_<n>``. A test gets a ledger's location from
:func:`ledger_location` (a new file, or a new schema) and opens it with
:func:`open_ledger`, or takes :func:`new_ledger` where it does not matter where the
ledger lives; a test about SQLite files is marked ``@pytest.mark.file_only(reason)``
and skipped on PostgreSQL with that reason (conftest.py)."""

from __future__ import annotations

import itertools
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Optional, Union

from consent_ledger import Ledger, Notice

#: Whether the suite runs on PostgreSQL.
ON_POSTGRES = os.environ.get("CONSENT_TEST_BACKEND") == "postgres"
#: The pseudonym key of the suite's PostgreSQL ledgers (nothing lies beside a schema).
TEST_KEY = bytes([0x5E]) * 32

_schemas = itertools.count()


def ledger_location(tmp_path: Path, name: str = "consent.db") -> str:
    """A new ledger's location: ``tmp_path / name``, or on PostgreSQL the server's URL
    naming a schema no other test uses."""
    if not ON_POSTGRES:
        return str(tmp_path / name)
    url = os.environ.get("CONSENT_TEST_PG_URL")
    if not url:
        raise RuntimeError("CONSENT_TEST_BACKEND=postgres needs CONSENT_TEST_PG_URL")
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}schema=consent_test_{os.getpid()}_{next(_schemas)}"


def is_postgres(location: Union[str, Path]) -> bool:
    return str(location).startswith(("postgresql://", "postgres://"))


def open_ledger(location: Union[str, Path], **options: Any) -> Ledger:
    """``Ledger(location, **options)``, given the suite's key when a PostgreSQL ledger
    is opened without one."""
    if is_postgres(location) and "key" not in options and "key_file" not in options:
        options["key"] = TEST_KEY
    return Ledger(location, **options)


def examples(n: int) -> int:
    """How many Hypothesis examples a property runs whose every example makes a new
    ledger: ``n`` on SQLite; on PostgreSQL, where each is a new schema, a sixth (at least
    20), as ``PROPTEST_CASES`` is lowered for the Rust suite there."""
    return max(20, n // 6) if ON_POSTGRES else n


def new_ledger(*, key: Optional[bytes] = None, time_zone: Optional[str] = None) -> Ledger:
    """A new ledger for a test that is not about where it lives: in memory on SQLite,
    in a schema of its own on PostgreSQL."""
    if not ON_POSTGRES:
        return Ledger.in_memory(key=key, time_zone=time_zone)
    return Ledger(ledger_location(Path()), key=key or TEST_KEY, time_zone=time_zone)


UTC = timezone.utc

WELLBEING_NOTICE = "Student Advice and Wellbeing privacy notice: we may share ... with your consent."
JMSU_NOTICE_TEXT = "JMSU privacy policy: with your consent we use your details for ..."


def at(text: str) -> datetime:
    """`2024-10-01T09:00` (UTC) as an aware datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def register_all(ledger: Ledger) -> Notice:
    ledger.register_purpose(
        "wellbeing.share-external",
        "Sharing with external bodies",
        "LJMU",
        recipients=["NHS", "SFE", "landlord"],
        withdrawal_method="Email the wellbeing team",
    )
    ledger.register_purpose(
        "wellbeing.special-category",
        "Medical and disability information",
        "LJMU",
        special_category="a",
    )
    ledger.register_purpose(
        "jmsu.data-sharing", "LJMU to JMSU feed", "LJMU", effect_delay=timedelta(hours=24)
    )
    ledger.register_purpose("jmsu.project.rag", "RAG week project", "JMSU", validity="academic_year")
    ledger.register_purpose(
        "engagement", "My Engagement analytics", "LJMU", lawful_basis="legitimate_interests"
    )
    ledger.register_notice(
        "jmsu.privacy", "2024-09", "JMSU privacy policy", text=JMSU_NOTICE_TEXT, controller="JMSU",
        purposes=["jmsu.*"],
    )
    return ledger.register_notice(
        "ljmu.wellbeing", "2024-09", "Wellbeing notice", text=WELLBEING_NOTICE,
        controller="LJMU Student Advice and Wellbeing", purposes=["wellbeing.*"],
    )


NOTICE = ("ljmu.wellbeing", "2024-09")
"""Covers ``wellbeing.*``."""
JMSU_NOTICE = ("jmsu.privacy", "2024-09")
"""Covers ``jmsu.*``."""
