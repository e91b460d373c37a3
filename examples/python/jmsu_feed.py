"""The nightly LJMU -> JMSU feed: which students may be sent to the students' union,
with the ledger head that answered, so the extract can later be shown to rest on
consents in force; and the opt-outs the feed must honour within 24 hours.

Run it with the package installed (``make develop``): ``python examples/python/jmsu_feed.py``.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from consent_ledger import Actor, Ledger, State

UTC = timezone.utc
PURPOSE = "jmsu.data-sharing"


def main() -> None:
    with Ledger.in_memory() as ledger:
        ledger.register_purpose(
            PURPOSE, "Student data shared with JMSU", "LJMU", effect_delay=timedelta(hours=24),
            withdrawal_method="Change it in the My LJMU portal",
        )
        notice = ledger.register_notice("ljmu.it-registration", "2024-08", "IT account registration notice",
                                        text="At registration you may opt in to sharing your details with JMSU.")

        # Registration week: opt-ins arrive from the portal, all or nothing.
        september = datetime(2024, 9, 16, 9, 0, tzinfo=UTC)
        with ledger.batch() as batch:
            for n in range(1, 6):
                batch.give(f"student-{n}", PURPOSE, notice=notice, method="portal",
                           recorded_by=Actor.system("my-ljmu"), effective_at=september + timedelta(minutes=n),
                           source_id=f"portal-optin-{n}")
        last_feed = ledger.head()

        # Student 2 opts out in October.
        opt_out = ledger.withdraw("student-2", PURPOSE, method="portal", recorded_by=Actor.system("my-ljmu"),
                                  effective_at=datetime(2024, 10, 7, 18, 0, tzinfo=UTC))

        # Tonight's feed: who may be sent, and the evidence that answered.
        tonight = ledger.consenting(PURPOSE)
        print(f"send {len(tonight)} students to JMSU: {', '.join(tonight.subject_ids)} (head {tonight.head})")
        assert tonight.subject_ids == ("student-1", "student-3", "student-4", "student-5")

        # The feed of 1 October was lawful for student 2.
        assert "student-2" in ledger.consenting(PURPOSE, at=datetime(2024, 10, 1, tzinfo=UTC))

        # Changes since the last feed: the opt-outs to honour, with their deadlines.
        for event in ledger.changes_since(last_feed):
            if event.kind == "withdrawn":
                print(f"opt-out: {event.subject} — JMSU must have acted by {event.effect_deadline:%Y-%m-%d %H:%M} UTC")
        assert opt_out.effect_deadline == datetime(2024, 10, 8, 18, 0, tzinfo=UTC)
        assert ledger.status("student-2", PURPOSE).state is State.WITHDRAWN

        # Last feed's head is still a prefix of the log: nothing was rewritten since.
        assert ledger.verify_against(last_feed, raise_on_failure=True).ok


if __name__ == "__main__":
    main()
