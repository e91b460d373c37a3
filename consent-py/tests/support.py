"""Helpers shared by the tests: times and the welfare registry of docs/DOMAIN.md."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from consent_ledger import Ledger, Notice

UTC = timezone.utc

WELLBEING_NOTICE = "Student Advice and Wellbeing privacy notice: we may share ... with your consent."


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
    return ledger.register_notice("ljmu.wellbeing", "2024-09", "Wellbeing notice", text=WELLBEING_NOTICE)


NOTICE = ("ljmu.wellbeing", "2024-09")
