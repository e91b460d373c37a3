"""A Student Advice and Wellbeing script: record a student's explicit consent to share
with the NHS, record their withdrawal, and answer whether earlier and later shares were
lawful — with the evidence to show for it.

Run it with the package installed (``make develop``): ``python examples/python/welfare.py``.
It writes a throwaway ledger in a temporary folder, loads the LJMU registry
(``examples/ljmu/registry.toml``; set ``CONSENT_SEEDS`` to the folder of the notice texts
to have their hashes checked too) and checks its own answers.
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

from consent_ledger import Actor, Ledger, Method, State, UnknownRecipient

UTC = timezone.utc
REGISTRY = Path(__file__).resolve().parents[1] / "ljmu" / "registry.toml"
PURPOSE = "wellbeing.share-external"
NHS = "nhs"  # recipients are the registry's ids, spelt exactly


def main(folder: Path) -> None:
    with Ledger(folder / "wellbeing.db") as ledger:
        # The registry: what the data is for, who it goes to, and what the student was told.
        ledger.load_registry(REGISTRY, texts=os.environ.get("CONSENT_SEEDS"))
        purpose = ledger.purpose(PURPOSE)
        print(f"{purpose.id}: {purpose.title} ({purpose.controller}); recipients {', '.join(purpose.recipients)}")
        notice = ledger.notice("ljmu.wellbeing", "1")
        assert notice.covers(PURPOSE)

        # 1 October: at an appointment the student signs a consent form naming the NHS;
        # the adviser types it in on 4 October.
        grant = ledger.give(
            "student-4711",
            PURPOSE,
            recipient=NHS,
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
            recipient=NHS,
            method=Method.EMAIL,
            recorded_by=Actor.staff("adviser-ab12"),
            effective_at=datetime(2024, 10, 10, 9, 0, tzinfo=UTC),
        )
        print("recorded:", withdrawal)
        print("downstream systems must stop by", withdrawal.effect_deadline)

        # Was the share with the NHS on 3 October lawful? Withdrawal is not retroactive.
        shared = datetime(2024, 10, 3, 14, 0, tzinfo=UTC)
        then = ledger.status("student-4711", PURPOSE, recipient=NHS, at=shared)
        print(f"share with the NHS on {shared:%d %B %Y}: {then.state} -> lawful: {then.permits}")
        assert then.state is State.GIVEN and then.permits
        assert then.event_id == grant.id and then.notice == notice.ref
        # The purpose as it stood when the grant was given: the version the answer names.
        assert ledger.purpose(PURPOSE, version=then.granted_under_version) == purpose

        # And a share on 15 October?
        later = ledger.status("student-4711", PURPOSE, recipient=NHS, at=datetime(2024, 10, 15, tzinfo=UTC))
        print(f"share with the NHS on 15 October 2024: {later.state} -> lawful: {later.permits}")
        assert later.state is State.WITHDRAWN and not later.permits

        # The consent named the NHS, not Student Finance England.
        sfe = ledger.status("student-4711", PURPOSE, recipient="student-finance-england", at=shared)
        print(f"share with Student Finance England on {shared:%d %B %Y}: {sfe.state} -> lawful: {sfe.permits}")
        assert sfe.state is State.NEVER_ASKED and not sfe.permits

        # "NHS" is not a registry id: the question is refused, naming the valid ones,
        # rather than answered "never asked" about a recipient that does not exist.
        try:
            ledger.status("student-4711", PURPOSE, recipient="NHS", at=shared)
        except UnknownRecipient as e:
            print("refused:", e)
            assert e.listed == purpose.recipients
        else:
            raise AssertionError("a misspelt recipient was answered")

        # Before the form was typed in (4 October) the ledger could not have said yes.
        known_then = ledger.status(
            "student-4711", PURPOSE, recipient=NHS, at=shared, as_known_at=grant.recorded_at - timedelta(seconds=1)
        )
        assert known_then.state is State.NEVER_ASKED

        # Evidence: the ledger is intact, and the grant is provably in it. The proof is
        # checked against the grant's own canonical bytes: it proves that event, no other.
        head = ledger.head()
        report = ledger.verify(raise_on_failure=True)
        assert not report.simulated
        ledger.prove_inclusion(grant).verify(ledger.canonical_event(grant), head)
        print(f"ledger verified: {report.size} events, head {head}")

        # The student's subject-access copy, as portable JSON and as a page to read.
        export = ledger.export_subject("student-4711")
        document = json.dumps(export.to_dict(json_safe=True), indent=2)
        assert json.loads(document)["subject"] == "student-4711"
        print(f"subject-access copy: {len(export.events)} events, {len(document)} bytes of JSON")
        page = folder / "student-4711.html"
        page.write_text(ledger.export_subject_html("student-4711"), encoding="utf-8")
        assert "1 October 2024 at 12:15 (BST)" in page.read_text(encoding="utf-8")
        print(f"subject-access copy as HTML: {page.stat().st_size} bytes, times in {ledger.time_zone}")


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        main(Path(tmp))
