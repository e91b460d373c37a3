"""A Student Advice and Wellbeing script: record a student's explicit consent to share
with the NHS, record their withdrawal, and answer whether earlier and later shares were
lawful — with the evidence to show for it.

Run it with the package installed (``make develop``): ``python examples/python/welfare.py``.
It writes a throwaway ledger in a temporary folder and checks its own answers.
"""

from __future__ import annotations

import json
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

from consent_ledger import Actor, Ledger, Method, State

UTC = timezone.utc
PURPOSE = "wellbeing.share-external"
NOTICE_TEXT = """\
Student Advice and Wellbeing privacy notice (September 2024).
We may share information about you with Student Finance England, the NHS or your
landlord, usually with your consent. You can withdraw consent at any time by telling
your adviser or emailing the Wellbeing team.
"""


def main(folder: Path) -> None:
    with Ledger(folder / "wellbeing.db") as ledger:
        # The registry: what the data is for, and what the student was told.
        ledger.register_purpose(
            PURPOSE,
            "Sharing with external bodies (SFE, NHS, landlords)",
            "LJMU Student Advice and Wellbeing",
            recipients=["NHS", "SFE", "landlord"],
            effect_delay=timedelta(hours=24),
            withdrawal_method="Tell your adviser, or email the Wellbeing team",
        )
        notice = ledger.register_notice(
            "ljmu.wellbeing", "2024-09", "Student Advice and Wellbeing privacy notice", text=NOTICE_TEXT
        )

        # 1 October: at an appointment the student signs a consent form naming the NHS;
        # the adviser types it in on 4 October.
        grant = ledger.give(
            "student-4711",
            PURPOSE,
            recipient="NHS",
            notice=notice,
            method=Method.PAPER,
            explicit=True,
            recorded_by=Actor.staff("adviser-ab12"),
            effective_at=datetime(2024, 10, 1, 11, 15, tzinfo=UTC),
            source_id="wellbeing-form-2024-0193",
            evidence={"form": "WB-7", "statement": "I agree to share my wellbeing plan with my GP"},
        )
        print("recorded:", grant)

        # 10 October: the student emails to withdraw.
        withdrawal = ledger.withdraw(
            "student-4711",
            PURPOSE,
            recipient="NHS",
            method=Method.EMAIL,
            recorded_by=Actor.staff("adviser-ab12"),
            effective_at=datetime(2024, 10, 10, 9, 0, tzinfo=UTC),
        )
        print("recorded:", withdrawal)
        print("downstream systems must stop by", withdrawal.effect_deadline)

        # Was the share with the NHS on 3 October lawful? Withdrawal is not retroactive.
        shared = datetime(2024, 10, 3, 14, 0, tzinfo=UTC)
        then = ledger.status("student-4711", PURPOSE, recipient="NHS", at=shared)
        print(f"share with the NHS on {shared:%d %B %Y}: {then.state} -> lawful: {then.permits}")
        assert then.state is State.GIVEN and then.permits
        assert then.event_id == grant.id and then.notice == notice.ref

        # And a share on 15 October?
        later = ledger.status("student-4711", PURPOSE, recipient="NHS", at=datetime(2024, 10, 15, tzinfo=UTC))
        print(f"share with the NHS on 15 October 2024: {later.state} -> lawful: {later.permits}")
        assert later.state is State.WITHDRAWN and not later.permits

        # The consent named the NHS, not Student Finance England.
        sfe = ledger.status("student-4711", PURPOSE, recipient="SFE", at=shared)
        print(f"share with SFE on {shared:%d %B %Y}: {sfe.state} -> lawful: {sfe.permits}")
        assert sfe.state is State.NEVER_ASKED and not sfe.permits

        # On 2 October (before the form was typed in) the ledger could not have said yes.
        known_then = ledger.status(
            "student-4711", PURPOSE, recipient="NHS", at=shared, as_known_at=datetime(2024, 10, 2, tzinfo=UTC)
        )
        assert known_then.state is State.NEVER_ASKED

        # Evidence: the ledger is intact, and the grant is provably in it. The proof is
        # checked against the grant's own canonical bytes: it proves that event, no other.
        head = ledger.head()
        report = ledger.verify(raise_on_failure=True)
        assert not report.simulated
        ledger.prove_inclusion(grant).verify(ledger.canonical_event(grant), head)
        print(f"ledger verified: {report.size} events, head {head}")

        # The student's subject-access copy, as portable JSON.
        export = ledger.export_subject("student-4711")
        document = json.dumps(export.to_dict(json_safe=True), indent=2)
        assert json.loads(document)["subject"] == "student-4711"
        print(f"subject-access copy: {len(export.events)} events, {len(document)} bytes of JSON")


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        main(Path(tmp))
