"""Conversions between ``datetime`` and the ledger's time (whole milliseconds, UTC).

A naive ``datetime`` is refused, never guessed: a paper form typed in on a laptop set to
BST would otherwise land an hour off.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Optional

from .errors import InvalidTime

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MS = timedelta(milliseconds=1)


def to_millis(value: Optional[datetime], what: str) -> Optional[int]:
    """``value`` as milliseconds since the epoch (sub-millisecond precision is dropped)."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise TypeError(f"{what} must be a timezone-aware datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidTime(
            f"{what} is a naive datetime; give its time zone, e.g. datetime(..., tzinfo=timezone.utc)"
        )
    return (value - EPOCH) // _MS


def from_millis(ms: Optional[int]) -> Optional[datetime]:
    """Milliseconds since the epoch as an aware UTC ``datetime`` (``None`` stays ``None``)."""
    return None if ms is None else EPOCH + timedelta(milliseconds=ms)


def from_text(text: str) -> datetime:
    """The core's ``2024-10-01T08:30:00.123Z`` as an aware UTC ``datetime``."""
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    return datetime.fromisoformat(text).astimezone(timezone.utc)


def to_text(value: datetime) -> str:
    """An aware ``datetime`` as RFC 3339 in UTC with milliseconds: ``2024-10-01T08:30:00.123Z``."""
    return value.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
