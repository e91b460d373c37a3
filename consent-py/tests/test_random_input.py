"""Property: whatever a script passes — random text (with NUL, control characters,
lone surrogates, SQL metacharacters), wrong types, naive or extreme datetimes — the
ledger answers with a value or a clear exception from the documented families
(``ConsentError``, ``TypeError``, ``ValueError``), never anything else, and it still
verifies afterwards."""

from __future__ import annotations

import unicodedata
from datetime import datetime, timedelta, timezone
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from consent_ledger import MAX_ID_LEN, ConsentError, InvalidArgument, Ledger

from support import NOTICE, examples, new_ledger, register_all

ALLOWED = (ConsentError, TypeError, ValueError)

texts = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["wellbeing.share-external", "ljmu.wellbeing", "NHS", "'; DROP TABLE events; --", "\x00", ""]),
)
anything: st.SearchStrategy[Any] = st.one_of(
    texts,
    st.none(),
    st.integers(),
    st.floats(allow_nan=True),
    st.binary(max_size=20),
    st.lists(st.integers(), max_size=3),
)
times: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.datetimes(timezones=st.just(timezone.utc)),
    st.datetimes(),  # naive: refused, never guessed
    st.sampled_from([datetime.min.replace(tzinfo=timezone.utc), datetime.max.replace(tzinfo=timezone.utc)]),
    anything,
)


def attempt(call: Any, *args: Any, **kwargs: Any) -> None:
    try:
        call(*args, **kwargs)
    except ALLOWED:
        pass


@settings(max_examples=examples(150), deadline=None)
@given(
    subject=anything,
    purpose=anything,
    recipient=anything,
    notice=st.one_of(st.tuples(texts, texts), anything),
    method=anything,
    recorded_by=anything,
    effective_at=times,
    at=times,
    evidence=st.one_of(st.none(), st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=3), anything),
)
def test_hostile_arguments_get_clear_errors(
    subject: Any,
    purpose: Any,
    recipient: Any,
    notice: Any,
    method: Any,
    recorded_by: Any,
    effective_at: Any,
    at: Any,
    evidence: Any,
) -> None:
    with new_ledger() as ledger:
        register_all(ledger)
        attempt(
            ledger.give,
            subject,
            purpose,
            notice=notice,
            method=method,
            recipient=recipient,
            recorded_by=recorded_by,
            effective_at=effective_at,
            evidence=evidence,
        )
        attempt(ledger.withdraw, subject, purpose, recipient=recipient, effective_at=effective_at)
        attempt(ledger.status, subject, purpose, recipient=recipient, at=at, as_known_at=at)
        attempt(ledger.history, subject)
        attempt(ledger.changes_since, subject, 10)
        assert ledger.verify().ok


def test_hostile_values_are_stored_and_returned_intact() -> None:
    hostile = "'; DROP TABLE events; -- \x00\x1b[31m\u202e\U0001f600 " + "z" * (1 << 20)
    with new_ledger() as ledger:
        register_all(ledger)
        when = datetime(2024, 10, 1, tzinfo=timezone.utc)
        event = ledger.give(
            "s-hostile",
            "wellbeing.share-external",
            recipient="NHS",
            notice=("ljmu.wellbeing", "2024-09"),
            method="paper",
            effective_at=when,
            evidence={"note": hostile},
        )
        assert ledger.event(event.id).evidence == {"note": hostile}
        assert ledger.status("s-hostile", "wellbeing.share-external", recipient="NHS", at=when + timedelta(days=1)).permits


SHARE = "wellbeing.share-external"

ids = st.one_of(
    st.text(max_size=12),
    # Letters with accents, composed and decomposed, and white space at the edges.
    st.text(st.sampled_from("aeo\u00e9\u0301\u0308 \t\u00a0\u3000\u200b7"), max_size=8),
    st.builds(lambda s: unicodedata.normalize("NFD", s), st.text(max_size=8)),
)


def must_refuse(subject: str) -> bool:
    """What the ledger is documented to refuse: empty, too long, a control character,
    white space at either end, or not in NFC."""
    return (
        subject == ""
        or len(subject.encode("utf-8", "surrogatepass")) > MAX_ID_LEN
        or any(unicodedata.category(c) == "Cc" for c in subject)
        or subject.strip() != subject
        or unicodedata.normalize("NFC", subject) != subject
    )


@settings(max_examples=examples(300), deadline=None)
@given(subject=ids)
@example("770001 ")
@example(unicodedata.normalize("NFD", "Jos\u00e9"))
@example("Jos\u00e9")
@example("\u200bzero-width")
def test_ids_round_trip_exactly_or_are_refused(subject: str) -> None:
    """An id the ledger accepts comes back exactly as given (no trimming, no
    normalising behind the caller's back); one it refuses raises InvalidArgument, for
    the append and for the question, and appends nothing."""
    with new_ledger() as ledger:
        register_all(ledger)
        size = ledger.head().size
        try:
            event = ledger.give(subject, SHARE, notice=NOTICE, method="portal", source_id=subject)
        except InvalidArgument:
            assert ledger.head().size == size
            # Python's Unicode tables may be older than the ledger's: judge only ids
            # whose every character Python knows.
            if all(unicodedata.category(c) != "Cn" for c in subject):
                assert must_refuse(subject), f"refused {subject!r}"
            try:
                ledger.status(subject, SHARE, "NHS")
            except InvalidArgument:
                pass
            else:
                raise AssertionError(f"status accepted {subject!r}, which give refused")
            return
        assert not must_refuse(subject), f"accepted {subject!r}"
        assert event.subject == subject and event.source_id == subject
        assert ledger.head().size == size + 1
        assert [e.subject for e in ledger.history(subject)] == [subject]
        assert ledger.status(subject, SHARE, "NHS").permits
        assert subject in ledger.consenting(SHARE, "NHS")
