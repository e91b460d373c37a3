"""Downstream systems from Python: registration, the filtered feed, acknowledgements
refused with nothing written, and deadlines. Runs on both backends (support.new_ledger)."""

from datetime import datetime, timedelta, timezone

import pytest

from consent_ledger import (
    DeadlineState,
    EventKind,
    FeedPage,
    InvalidArgument,
    Ledger,
    NotFound,
    UnknownPurpose,
)

from support import JMSU_NOTICE, NOTICE, new_ledger, register_all


def _ledger():
    ledger = new_ledger()
    register_all(ledger)
    ledger.register_downstream(
        "jmsu.feed", name="JMSU feed", controller="JMSU", purposes=["jmsu.data-sharing"],
        recorded_by="staff:dpo-01",
    )
    return ledger


def test_the_feed_shows_only_its_purpose_and_the_cursor_follows_acks():
    ledger = _ledger()
    mine = ledger.give("770001", "jmsu.data-sharing", notice=JMSU_NOTICE, method="portal")
    ledger.give("770001", "wellbeing.share-external", recipient="NHS", notice=NOTICE, method="paper")
    page = ledger.feed("jmsu.feed")
    assert isinstance(page, FeedPage)
    assert [i.id for i in page] == [mine.id]
    assert page.items[0].kind is EventKind.GIVEN and page.items[0].subject == "770001"
    ack = ledger.acknowledge("jmsu.feed", up_to=mine.seq, recorded_by="system:jmsu-feed")
    assert ack.up_to == mine.seq and ack.target is None
    assert len(ledger.feed("jmsu.feed")) == 0
    assert ledger.feed("jmsu.feed", since=0).items[0].id == mine.id
    assert [d.id for d in ledger.downstreams()] == ["jmsu.feed"]
    assert ledger.acknowledgements("jmsu.feed")[0].seq == ack.seq
    assert ledger.verify().ok


def test_bad_acknowledgements_write_nothing():
    ledger = _ledger()
    other = ledger.give("770001", "wellbeing.share-external", recipient="NHS", notice=NOTICE, method="paper")
    head = ledger.head()
    with pytest.raises(NotFound):
        ledger.acknowledge("no.such", up_to=0, recorded_by="system:x")
    with pytest.raises(InvalidArgument):
        ledger.acknowledge("jmsu.feed", up_to=head.size, recorded_by="system:x")
    with pytest.raises(InvalidArgument):
        ledger.acknowledge("jmsu.feed", event=other, recorded_by="system:x")
    with pytest.raises(InvalidArgument):
        ledger.acknowledge("jmsu.feed", up_to=0, recorded_by="subject")
    with pytest.raises(InvalidArgument):
        ledger.acknowledge("jmsu.feed", recorded_by="system:x")
    # A lone surrogate cannot reach the ledger as UTF-8: refused by Python's codec.
    with pytest.raises(ValueError):
        ledger.acknowledge("jmsu\udcff", up_to=0, recorded_by="system:x")
    with pytest.raises(TypeError):
        ledger.acknowledge("jmsu.feed", up_to="3", recorded_by="system:x")  # type: ignore[arg-type]
    with pytest.raises(UnknownPurpose):
        ledger.register_downstream(
            "x", name="X", controller="C", purposes=["no.such"], recorded_by="staff:dpo-01"
        )
    with pytest.raises(TypeError):
        ledger.register_downstream(
            "x", name="X", controller="C", purposes="jmsu.data-sharing", recorded_by="staff:dpo-01"
        )
    assert ledger.head() == head


def test_a_withdrawal_typed_in_late_is_pending_then_acknowledged_late():
    """Signed two days ago, typed in now: the downstream's deadline counts from now
    (the legal effect deadline stays as recorded); a day and a half later it is overdue,
    and an acknowledgement after that is kept as late."""
    now = datetime(2024, 10, 5, 9, tzinfo=timezone.utc)
    ledger = Ledger.in_memory(simulated_now=now)
    register_all(ledger)
    ledger.register_downstream(
        "jmsu.feed", name="JMSU feed", controller="JMSU", purposes=["jmsu.data-sharing"],
        recorded_by="staff:dpo-01",
    )
    ledger.give("770001", "jmsu.data-sharing", notice=JMSU_NOTICE, method="portal",
                effective_at=now - timedelta(days=3))
    w = ledger.withdraw("770001", "jmsu.data-sharing", effective_at=now - timedelta(days=2))
    assert w.effect_deadline == now - timedelta(days=1)
    # The feed item says when the downstream must act: from when the ledger learnt it.
    [item] = [i for i in ledger.feed("jmsu.feed") if i.seq == w.seq]
    assert item.effect_deadline == w.effect_deadline and item.act_by == now + timedelta(days=1)
    assert ledger.overdue() == []
    [pending] = ledger.pending()
    assert pending.seq == w.seq and pending.deadline == now + timedelta(days=1)
    ledger.set_simulated_now(now + timedelta(days=1, hours=12))
    [overdue] = ledger.overdue()
    assert overdue.seq == w.seq and overdue.state is DeadlineState.OVERDUE
    assert overdue.late_by == timedelta(hours=12)
    # The DPO's report carries it, as data.
    report = ledger.report()
    assert report["verification"]["ok"] is True
    [row] = report["downstream"]
    assert (row["downstream"], row["event_seq"], row["state"]) == ("jmsu.feed", w.seq, "overdue")
    with pytest.raises(InvalidArgument):
        ledger.report(now, now)
    ledger.acknowledge("jmsu.feed", event=w, recorded_by="system:jmsu-feed")
    assert ledger.overdue() == []
    [late] = ledger.deadlines()
    assert late.state is DeadlineState.ACKNOWLEDGED_LATE


def test_follow_waits_boundedly():
    ledger = _ledger()
    page = ledger.feed("jmsu.feed", wait=0.2)
    assert len(page) == 0 and page.next == ledger.head().size
