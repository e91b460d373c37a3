"""The nightly LJMU -> JMSU feed: which students may be sent to the students' union,
with the ledger head that answered, so the extract can later be shown to rest on
consents in force; and JMSU's side: its filtered feed, acting on the opt-outs it must
honour within 24 hours, and acknowledging them (the ledger reports what is overdue).

The purpose ``jmsu.data-sharing`` lists its recipient, ``JMSU``, so the feed asks about
JMSU by name: a student who opted out of sharing *with JMSU* is then left out. Asking
without the recipient is refused rather than answered, because such an answer would
not see that opt-out.

Run it with the package installed (``make develop``): ``python examples/python/jmsu_feed.py``.
It loads the LJMU registry (``examples/ljmu/registry.toml``; set ``CONSENT_SEEDS`` to the
folder of the notice texts to have their hashes checked too) and checks its own answers.
"""

from __future__ import annotations

import os
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from consent_ledger import Actor, Ledger, State, UnknownRecipient

UTC = timezone.utc
REGISTRY = Path(__file__).resolve().parents[1] / "ljmu" / "registry.toml"
PURPOSE = "jmsu.data-sharing"
JMSU = "JMSU"
NOTICE = ("jmsu.privacy", "1")


def main() -> None:
    with Ledger.in_memory() as ledger:
        ledger.load_registry(REGISTRY, texts=os.environ.get("CONSENT_SEEDS"))
        purpose = ledger.purpose(PURPOSE)
        assert purpose.recipients == (JMSU,) and purpose.effect_delay == timedelta(hours=24)
        portal = Actor.system("my-ljmu")

        # Registration week: opt-ins arrive from the portal, all or nothing.
        september = datetime(2024, 9, 16, 9, 0, tzinfo=UTC)
        with ledger.batch() as batch:
            for n in range(1, 6):
                batch.give(f"student-{n}", PURPOSE, notice=NOTICE, method="portal", recorded_by=portal,
                           effective_at=september + timedelta(minutes=n), source_id=f"portal-optin-{n}")
        last_feed = ledger.consenting(PURPOSE, JMSU)
        assert last_feed.subject_ids == ("student-1", "student-2", "student-3", "student-4", "student-5")
        time.sleep(0.01)  # (in real life: the next day)

        # Student 2 opts out of sharing with JMSU in October; student 4 withdraws
        # from the purpose altogether.
        opt_out = ledger.withdraw("student-2", PURPOSE, recipient=JMSU, method="portal", recorded_by=portal,
                                  effective_at=datetime(2024, 10, 7, 18, 0, tzinfo=UTC))
        ledger.withdraw("student-4", PURPOSE, method="portal", recorded_by=portal,
                        effective_at=datetime(2024, 10, 8, 9, 0, tzinfo=UTC))

        # Tonight's feed asks about JMSU by name.
        try:
            ledger.consenting(PURPOSE)
        except UnknownRecipient as e:
            print("refused:", e)
        else:
            raise AssertionError("a feed without its recipient was answered")
        tonight = ledger.consenting(PURPOSE, JMSU)
        print(f"send {len(tonight)} students to JMSU: {', '.join(tonight.subject_ids)} (head {tonight.head})")
        assert tonight.subject_ids == ("student-1", "student-3", "student-5")

        # The feed of 1 October was lawful for students 2 and 4.
        october = ledger.consenting(PURPOSE, JMSU, at=datetime(2024, 10, 1, tzinfo=UTC))
        assert "student-2" in october and "student-4" in october

        # The last feed, reproduced exactly as the ledger knew it when it answered.
        again = ledger.consenting(PURPOSE, JMSU, at=last_feed.at, as_known_at=last_feed.as_known_at)
        assert again.subject_ids == last_feed.subject_ids

        # JMSU's side of the loop: its own feed (registered as `jmsu.feed` by the
        # registry) shows only jmsu.data-sharing events for JMSU, never other purposes.
        # Read, act, acknowledge: the ledger keeps the cursor and watches the deadlines.
        jmsu_system = Actor.system("jmsu-feed")
        page = ledger.feed("jmsu.feed")
        assert {item.purpose for item in page} == {PURPOSE}
        deleted = []
        for item in page:
            if item.kind == "withdrawn":
                print(f"opt-out: {item.subject}: act by {item.act_by:%Y-%m-%d %H:%M} UTC "
                      f"(legal effect deadline {item.effect_deadline:%Y-%m-%d %H:%M} UTC)")
                deleted.append(item.subject)  # (in real life: delete the student's record)
        assert deleted == ["student-2", "student-4"]
        # The opt-outs carry effective times long past, but JMSU could not act on them
        # before the ledger knew them: its deadlines count from when they were
        # recorded, so they are pending, not overdue (the events' legal effect
        # deadlines stay as recorded). The monitoring watches them.
        withdrawn = {item.seq for item in page if item.kind == "withdrawn"}
        assert ledger.overdue() == []
        assert {d.seq for d in ledger.pending()} == withdrawn
        act_by = {item.seq: item.act_by for item in page if item.kind == "withdrawn"}
        for d in ledger.pending():
            print(f"JMSU must act on #{d.seq} by {d.deadline:%Y-%m-%d %H:%M} UTC")
            assert d.deadline == act_by[d.seq], "the feed item says when, as the deadline"
        ledger.acknowledge("jmsu.feed", up_to=page.items[-1].seq, recorded_by=jmsu_system)
        assert ledger.pending() == [] and len(ledger.feed("jmsu.feed")) == 0
        in_time = [d for d in ledger.deadlines() if d.state == "acknowledged"]
        print(f"{len(in_time)} opt-outs acknowledged in time (kept for the DPO's report)")
        assert {d.seq for d in in_time} == withdrawn
        assert opt_out.effect_deadline == datetime(2024, 10, 8, 18, 0, tzinfo=UTC)
        assert ledger.status("student-2", PURPOSE, JMSU).state is State.WITHDRAWN

        # The last feed's head is still a prefix of the log: nothing was rewritten since.
        assert ledger.verify_against(last_feed.head, raise_on_failure=True).ok


if __name__ == "__main__":
    main()
