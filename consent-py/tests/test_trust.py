"""Signed checkpoints, witnesses and receipts (issue 13) from Python: a round trip
(keys, checkpoint, two witnesses, a receipt checked without the ledger), a forged
note, another key with the log's name, a quorum not met, a changed receipt, a witness
refusing a rollback and a fork, a log rewritten after it was signed, bad arguments."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Tuple

import pytest
from support import JMSU_NOTICE, new_ledger, open_ledger, register_all

from consent_ledger import (
    CheckedReceipt,
    EventKind,
    InvalidArgument,
    Ledger,
    NotFound,
    PseudonymKeyError,
    QuorumNotMet,
    ReceiptRejected,
    SignedCheckpoint,
    SignedNoteRejected,
    Witness,
    WitnessRefused,
    check_receipt,
    generate_signing_key,
    signing_key_verifier,
)
from consent_ledger._native import ERROR_CLASSES

ORIGIN = "ljmu.ac.uk/consent"
PURPOSE = "jmsu.project.rag"


@dataclasses.dataclass
class Keys:
    folder: Path
    log: str
    dpo: str
    su: str

    def file(self, name: str) -> Path:
        return self.folder / f"{name}.key"


@pytest.fixture
def keys(tmp_path: Path) -> Keys:
    log = generate_signing_key(tmp_path / "log.key", ORIGIN)
    dpo = generate_signing_key(tmp_path / "dpo.key", "dpo.ljmu.ac.uk/witness", witness=True)
    su = generate_signing_key(tmp_path / "su.key", "su.ljmu.ac.uk/witness", witness=True)
    return Keys(tmp_path, log, dpo, su)


def witnesses(keys: Keys) -> Tuple[Witness, Witness]:
    dpo = Witness(keys.folder / "dpo-state", keys.file("dpo"), {ORIGIN: keys.log})
    su = Witness(keys.folder / "su-state", keys.file("su"), [keys.log])
    return dpo, su


def test_keys(keys: Keys) -> None:
    assert keys.log.startswith(ORIGIN + "+")
    assert signing_key_verifier(keys.file("log")) == keys.log
    assert signing_key_verifier(keys.file("dpo"), witness=True) == keys.dpo
    assert os.stat(keys.file("log")).st_mode & 0o777 == 0o600
    with pytest.raises(PseudonymKeyError):  # never replaced
        generate_signing_key(keys.file("log"), ORIGIN)
    with pytest.raises(PseudonymKeyError):  # a log key is not a witness key
        signing_key_verifier(keys.file("log"), witness=True)
    with pytest.raises(InvalidArgument):
        generate_signing_key(keys.folder / "bad.key", "a name with spaces")


def test_round_trip(ledger: Ledger, keys: Keys) -> None:
    event = ledger.give("s1", PURPOSE, notice=JMSU_NOTICE, method="portal")
    with pytest.raises(NotFound):  # no checkpoint yet
        ledger.receipt(event)
    signed = ledger.sign_checkpoint(keys.file("log"))
    assert isinstance(signed, SignedCheckpoint)
    assert signed.origin == ORIGIN and signed.head == ledger.head() and str(signed) == signed.note
    with pytest.raises(dataclasses.FrozenInstanceError):
        signed.note = "x"  # type: ignore[misc]

    dpo, su = witnesses(keys)
    assert dpo.latest(ORIGIN) is None
    ledger.add_cosignatures(dpo.cosign(signed))  # first use: on trust
    merged = ledger.add_cosignatures(su.cosign(signed.note))
    assert "dpo.ljmu.ac.uk/witness" in merged.note and "su.ljmu.ac.uk/witness" in merged.note
    assert dpo.latest(ORIGIN) == signed.head
    assert dpo.verifier_key == keys.dpo
    assert ledger.checkpoints() == (merged,) and ledger.latest_checkpoint() == merged

    verdict = ledger.check_checkpoint(merged, keys.log, [keys.dpo, keys.su], quorum=2)
    assert verdict and verdict.finding is None and verdict.head == signed.head
    assert [c.name for c in verdict.cosignatures] == ["dpo.ljmu.ac.uk/witness", "su.ljmu.ac.uk/witness"]
    assert all(c.timestamp is not None and c.timestamp.tzinfo is not None for c in verdict.cosignatures)
    report = ledger.verify_checkpoints(keys.log, [keys.dpo, keys.su], quorum=2)
    assert report and report.checked == 1 and report.last_good_size == signed.head.size

    receipt = ledger.receipt(event.id)
    assert json.loads(receipt)["format"] == "consent-ledger/receipt/v2"
    checked = check_receipt(receipt, keys.log, [keys.dpo, keys.su])  # quorum: all of them
    assert isinstance(checked, CheckedReceipt)
    assert checked.event_id == event.id and checked.kind is EventKind.GIVEN and checked.seq == event.seq
    assert checked.purpose == PURPOSE and checked.subject_checked and not checked.simulated
    assert checked.head == signed.head and len(checked.cosignatures) == 2 and checked.proved
    assert checked.layout == "iso27560" and checked.readable
    with pytest.raises(TypeError):
        checked.readable["x"] = 1  # type: ignore[index]
    kantara = ledger.receipt(event, checkpoint=signed, layout="kantara")
    assert check_receipt(kantara, keys.log).layout == "kantara"
    with pytest.raises(InvalidArgument):
        ledger.receipt(event, layout="pdf")


def test_forged_and_wrong_key(ledger: Ledger, keys: Keys) -> None:
    ledger.give("s1", PURPOSE, notice=JMSU_NOTICE, method="portal")
    note = ledger.sign_checkpoint(keys.file("log")).note
    origin, size, rest = note.split("\n", 2)
    forged = "\n".join([origin, str(int(size) + 1), rest])
    with pytest.raises(SignedNoteRejected) as e:
        ledger.check_checkpoint(forged, keys.log)
    assert e.value.code == 24 and ERROR_CLASSES[24] == "SignedNoteRejected"
    impostor = generate_signing_key(keys.folder / "impostor.key", ORIGIN)
    with pytest.raises(SignedNoteRejected):
        ledger.check_checkpoint(note, impostor)
    report = ledger.verify_checkpoints(impostor)
    assert not report and report.first_bad_size == int(size) and report.problem
    with pytest.raises(InvalidArgument):
        ledger.check_checkpoint(note, "not a key")
    with pytest.raises(TypeError):
        ledger.check_checkpoint(note, keys.log, keys.dpo)  # one string, not a list


def test_quorum_not_met(ledger: Ledger, keys: Keys) -> None:
    event = ledger.give("s1", PURPOSE, notice=JMSU_NOTICE, method="portal")
    signed = ledger.sign_checkpoint(keys.file("log"))
    dpo, _ = witnesses(keys)
    ledger.add_cosignatures(dpo.cosign(signed))
    with pytest.raises(QuorumNotMet) as e:
        ledger.check_checkpoint(signed.note, keys.log, [keys.dpo, keys.su], quorum=2)
    assert e.value.code == 25
    receipt = ledger.receipt(event)
    with pytest.raises(ReceiptRejected, match="cosignatures"):
        check_receipt(receipt, keys.log, [keys.dpo, keys.su], quorum=2)
    assert check_receipt(receipt, keys.log, [keys.dpo, keys.su], quorum=1).cosignatures[0].name.startswith("dpo")
    with pytest.raises(InvalidArgument):
        check_receipt(receipt, keys.log, [keys.dpo], quorum=-1)


def test_receipt_checked_without_the_ledger_and_changed(keys: Keys) -> None:
    with new_ledger() as ledger:
        register_all(ledger)
        event = ledger.give("s1", PURPOSE, notice=JMSU_NOTICE, method="portal")
        ledger.sign_checkpoint(keys.file("log"))
        receipt = ledger.receipt(event)
    # The ledger is gone: the keys are enough.
    assert check_receipt(receipt, keys.log).event_id == event.id
    doc = json.loads(receipt)
    doc["subject"]["id"] = "s2"
    with pytest.raises(ReceiptRejected) as e:
        check_receipt(json.dumps(doc), keys.log)
    assert e.value.code == 27
    with pytest.raises(InvalidArgument):
        check_receipt("{", keys.log)


def test_witness_refuses_a_rollback_and_a_fork(ledger: Ledger, keys: Keys) -> None:
    ledger.give("s1", PURPOSE, notice=JMSU_NOTICE, method="portal")
    first = ledger.sign_checkpoint(keys.file("log"))
    dpo, _ = witnesses(keys)
    dpo.cosign(first)
    ledger.give("s2", PURPOSE, notice=JMSU_NOTICE, method="portal")
    grown = ledger.sign_checkpoint(keys.file("log"))
    with pytest.raises(WitnessRefused) as e:
        dpo.cosign(grown)
    assert e.value.kind == "proof-required" and e.value.code == 26
    old = dpo.latest(ORIGIN)
    assert old is not None
    proof, _ = ledger.prove_consistency(old, grown.head.size)
    assert dpo.cosign(grown, proof).startswith(ORIGIN)
    with pytest.raises(WitnessRefused) as e:
        dpo.cosign(first)
    assert e.value.kind == "rollback" and e.value.evidence and os.path.exists(e.value.evidence)
    assert str(first.head.size) in str(e.value) and str(grown.head.size) in str(e.value)

    with new_ledger() as other:  # the same key signing another history
        register_all(other)
        other.give("s1", PURPOSE, notice=JMSU_NOTICE, method="portal")
        other.give("s3", PURPOSE, notice=JMSU_NOTICE, method="portal")
        forked = other.sign_checkpoint(keys.file("log"))
    assert forked.head.size == grown.head.size and forked.head != grown.head
    with pytest.raises(WitnessRefused) as e:
        dpo.cosign(forked)
    assert e.value.kind == "fork" and e.value.evidence
    unknown = Witness(keys.folder / "w3", keys.file("su"), {"other.example/log": keys.log})
    with pytest.raises(WitnessRefused) as e:
        unknown.cosign(first)
    assert e.value.kind == "unknown-log"


def test_a_rewritten_log_fails_its_checkpoint(ledger_at: str, keys: Keys) -> None:
    with open_ledger(ledger_at) as ledger:
        ledger.give("s1", PURPOSE, notice=JMSU_NOTICE, method="portal")
        signed = ledger.sign_checkpoint(keys.file("log"))
    # A later checkpoint of a longer log: the earlier one still holds.
    with open_ledger(ledger_at) as ledger:
        ledger.give("s2", PURPOSE, notice=JMSU_NOTICE, method="portal")
        verdict = ledger.check_checkpoint(signed, keys.log)
        assert verdict and verdict.ledger_size == signed.head.size + 1
    # The same key over a shorter history of the "same" log: truncated.
    with new_ledger() as short:
        verdict = short.check_checkpoint(signed, keys.log)
        assert not verdict and verdict.finding == "truncated" and verdict.problem


def test_bad_arguments(ledger: Ledger, keys: Keys) -> None:
    with pytest.raises(TypeError):
        ledger.sign_checkpoint(3)  # type: ignore[arg-type]
    with pytest.raises(PseudonymKeyError):
        ledger.sign_checkpoint(keys.file("dpo"))  # a witness key
    with pytest.raises(PseudonymKeyError):
        Witness(keys.folder / "w", keys.file("log"), [keys.log])  # a log key
    with pytest.raises(SignedNoteRejected):
        Witness(keys.folder / "w", keys.file("dpo"), [keys.dpo])  # a witness key as a log's
    with pytest.raises(TypeError):
        Witness(keys.folder / "w", keys.file("dpo"), keys.log)
    with pytest.raises(SignedNoteRejected):
        ledger.add_cosignatures("not a note")
    with pytest.raises(TypeError):
        check_receipt(b"{}", keys.log)  # type: ignore[arg-type]
    with pytest.raises(ValueError):  # InvalidArgument is a ValueError
        ledger.check_checkpoint("x\n", keys.log, quorum=-1)
