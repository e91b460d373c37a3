"""Helpers shared by the tests: times and a small welfare registry after docs/RULES.md
(``wellbeing.share-external`` lists the recipients NHS, SFE and landlord, so every
question about it names one; the wellbeing notice covers ``wellbeing.*``, the JMSU
notice ``jmsu.*``)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from consent_ledger import Ledger, Notice

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
