#!/usr/bin/env python3
"""The standalone receipt verifier (tools/receipt-verifier.html) as a student would use
it: real receipts made by the `consent` CLI, opened in headless Chromium, the verdict
read from the page. Every tampered variant must be refused with its reason; the page
must log no console error; a screenshot of the genuine verdict is kept.

Usage: receipt_verifier_browser.py CONSENT_BINARY OUT_DIR   (run by `make test-browser`)
Stdlib only.
"""

from __future__ import annotations

import base64
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "tools" / "receipt-verifier.html"
REGISTRY = ROOT / "examples" / "ljmu" / "registry.toml"


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    sys.exit("receipt_verifier_browser: no chromium on PATH (tools/tests/browser.sh installs it)")


class Cli:
    """The `consent` binary on one simulated ledger."""

    def __init__(self, binary: str, work: Path) -> None:
        self.binary = binary
        self.ledger = work / "ledger.db"

    def run(self, now: str, *args: str, check: bool = True) -> str:
        env = dict(os.environ, CONSENT_LEDGER=str(self.ledger), CONSENT_NOW=now)
        out = subprocess.run([self.binary, *args], env=env, capture_output=True, text=True)
        if check and out.returncode != 0:
            raise SystemExit(f"consent {' '.join(args)} failed ({out.returncode}): {out.stderr}")
        return out.stdout


def verdict(browser: str, page: Path, fragment: dict[str, object], shot: Path | None = None) -> tuple[str | None, str, str]:
    """Opens `page` with `fragment`; returns (the verdict's data-ok, its text, console errors)."""
    query = urllib.parse.urlencode(fragment, doseq=True, quote_via=urllib.parse.quote)
    url = page.as_uri() + "#" + query
    args = [
        browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--enable-logging=stderr", "--v=0", "--virtual-time-budget=10000",
    ]
    if shot is not None:
        args += [f"--screenshot={shot}", "--window-size=1000,1700"]
    else:
        args += ["--dump-dom"]
    run = subprocess.run(args + [url], capture_output=True, text=True, timeout=120)
    console = "\n".join(
        line for line in run.stderr.splitlines()
        if "CONSOLE" in line and ("Uncaught" in line or "error" in line.lower())
    )
    if shot is not None:
        return None, "", console
    m = re.search(r'<div id="verdict" data-ok="(true|false|unconfirmed)">(.*?)</div>\s*(?:<!--.*?-->\s*)?<script', run.stdout, re.S)
    if not m:
        raise SystemExit(f"no verdict on the page:\n{run.stdout[-2000:]}\n{run.stderr[-2000:]}")
    text = html.unescape(re.sub(r"<[^>]+>", " | ", m.group(2)))
    return m.group(1), re.sub(r"[ |]{3,}", " | ", text), console


def b64url(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def flip_base64(value: str, at: int) -> str:
    """The base64 of the same bytes with the byte at `at` changed."""
    raw = bytearray(base64.b64decode(value))
    raw[at] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


def main() -> None:
    binary, out_dir = sys.argv[1], Path(sys.argv[2])
    out_dir.mkdir(parents=True, exist_ok=True)
    browser = chromium()
    work = Path(tempfile.mkdtemp(prefix="receipt-verifier-"))
    try:
        cli = Cli(binary, work)
        cli.run("2024-09-01T09:00:00Z", "init")
        cli.run("2024-09-01T09:00:00Z", "registry", "load", str(REGISTRY))
        given = json.loads(cli.run(
            "2024-10-02T10:00:00Z", "--json", "give", "S1", "jmsu.marketing",
            "--notice", "jmsu.privacy@1", "--method", "portal", "--evidence", '{"form":"opt-in"}',
        ))
        event_id = given["id"] if "id" in given else given["event"]["id"]
        # The ledger's key, an impostor's with the same name, and a witness's (the DPO's
        # office) that cosigns the checkpoint after checking it.
        log_key, other_key, dpo_key = work / "log.key", work / "other.key", work / "dpo.key"
        now = "2024-10-02T10:05:00Z"
        vkey = cli.run(now, "key", "generate", "--name", "ljmu.ac.uk/consent", "-o", str(log_key)).strip()
        wrong = cli.run(now, "key", "generate", "--name", "ljmu.ac.uk/consent", "-o", str(other_key)).strip()
        dpo = cli.run(now, "key", "generate", "--witness", "--name", "dpo.ljmu.ac.uk/witness", "-o", str(dpo_key)).strip()
        cli.run(now, "checkpoint", "--key", str(log_key))
        cosigned = work / "cosigned.note"
        cli.run(now, "witness", "cosign", "--state", str(work / "witness"), "--key", str(dpo_key),
                "--log-key", vkey, "-o", str(cosigned))
        cli.run(now, "checkpoint", "add-cosignatures", str(cosigned))
        # The page as the university publishes it: with its keys listed, so a link that
        # carries them is trusted. The page as shipped trusts no key from a link.
        trusted_page = work / "receipt-verifier.html"
        listed = json.dumps([vkey, dpo])
        trusted_page.write_text(PAGE.read_text().replace(
            '<script id="trusted-keys" type="application/json">[]</script>',
            f'<script id="trusted-keys" type="application/json">{listed}</script>'))
        receipts = {}
        for layout in ("iso27560", "kantara"):
            path = work / f"receipt-{layout}.json"
            cli.run(now, "receipt", event_id, "--format", layout, "--checkpoint", "latest", "-o", str(path))
            receipts[layout] = path.read_text()
        genuine = json.loads(receipts["iso27560"])

        def variant(change) -> str:  # type: ignore[no-untyped-def]
            doc = json.loads(receipts["iso27560"])
            change(doc)
            return json.dumps(doc)

        cases: list[tuple[str, str, dict[str, object], bool | str, str]] = [
            ("genuine", receipts["iso27560"], {"log": vkey}, True, "Student S1 gave consent"),
            ("keys from a link the page does not list", receipts["iso27560"], {"log": vkey, "page": "shipped"}, "unconfirmed", "came with the link"),
            ("kantara layout", receipts["kantara"], {"log": vkey}, True, "Student S1 gave consent"),
            ("another key with the ledger's name", receipts["iso27560"], {"log": wrong}, False, "not signed by the ledger's key"),
            ("cosigned by the witness asked for", receipts["iso27560"], {"log": vkey, "witness": dpo, "quorum": "1"}, True, "Cosigned by the witness dpo.ljmu.ac.uk/witness"),
            ("two witnesses required, one cosigned", receipts["iso27560"], {"log": vkey, "witness": dpo, "quorum": "2"}, False, "2 required"),
            ("the witness's line removed", variant(lambda d: d.update(checkpoint="\n".join(l for l in d["checkpoint"].split("\n") if "dpo.ljmu" not in l))), {"log": vkey, "witness": dpo, "quorum": "1"}, False, "1 required"),
            ("event byte changed", variant(lambda d: d["event"].update(canonical=flip_base64(d["event"]["canonical"], 40))), {"log": vkey}, False, ""),
            ("proof hash changed", variant(lambda d: d["event"]["proof"].__setitem__(0, flip_base64(d["event"]["proof"][0], 0))), {"log": vkey}, False, "proof leads elsewhere"),
            ("purpose definition changed", variant(lambda d: d["purpose"].update(canonical=flip_base64(d["purpose"]["canonical"], 60))), {"log": vkey}, False, ""),
            ("configuration dropped", variant(lambda d: d.pop("configuration")), {"log": vkey}, False, "lacks"),
            ("student id changed", variant(lambda d: d["subject"].update(id="S2")), {"log": vkey}, False, "someone else"),
            ("salt changed", variant(lambda d: d["subject"].update(salt=flip_base64(d["subject"]["salt"], 3))), {"log": vkey}, False, "someone else"),
            ("checkpoint size changed", variant(lambda d: d.update(checkpoint=d["checkpoint"].replace("\n" + d["checkpoint"].split("\n")[1] + "\n", "\n1\n", 1))), {"log": vkey}, False, ""),
            ("a key twice", receipts["iso27560"].replace('"format"', '"layout": "kantara", "format"', 1), {"log": vkey}, False, "twice"),
            ("an unknown key", variant(lambda d: d.update(extra=1)), {"log": vkey}, False, "unknown key"),
            ("version 1", json.dumps({"format": "consent-ledger/receipt/v1"}), {"log": vkey}, False, "version-1"),
            ("not JSON", "{", {"log": vkey}, False, "not JSON"),
        ]
        failures = []
        for name, text, keys, want_ok, want_text in cases:
            page = PAGE if keys.pop("page", None) == "shipped" else trusted_page
            ok, shown, console = verdict(browser, page, {"receipt": b64url(text), **keys})
            problems = []
            if ok != (want_ok if isinstance(want_ok, str) else str(want_ok).lower()):
                problems.append(f"verdict {ok}, want {want_ok}")
            if want_text and want_text not in shown:
                problems.append(f"the page does not say {want_text!r}")
            if console:
                problems.append(f"console errors: {console}")
            status = "ok  " if not problems else "FAIL"
            print(f"{status} {name}: {shown[:160]}")
            if problems:
                failures.append(f"{name}: {'; '.join(problems)}\n    page: {shown}")
        # What the student sees, kept as an artifact.
        shot = out_dir / "receipt-verifier.png"
        _, _, console = verdict(browser, trusted_page, {"receipt": b64url(receipts["iso27560"]), "log": vkey, "witness": dpo, "quorum": "1"}, shot)
        if not shot.exists() or shot.stat().st_size < 10_000:
            failures.append("no screenshot was written")
        if console:
            failures.append(f"console errors on the screenshot run: {console}")
        # The page loads nothing from anywhere.
        page = PAGE.read_text()
        if re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//", page):
            failures.append("the page refers to a network resource")
        assert genuine["format"] == "consent-ledger/receipt/v2"
        if failures:
            print("\n".join(["", "receipt verifier FAILED:"] + failures), file=sys.stderr)
            sys.exit(1)
        print(f"receipt verifier: {len(cases)} cases as expected in Chromium; screenshot {shot}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
