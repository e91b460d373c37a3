#!/usr/bin/env python3
"""The DPO's report (`consent report --html`) as the DPO sees it: a known ledger made
with the `consent` CLI, its report opened in headless Chromium. The page must log no
console error (its Content-Security-Policy forbids anything fetched, so a reference to
a network or file asset is an error too), each chart must have the expected number of
series and points, its table the same figures as `--json`, and a screenshot and a
printed PDF are kept in OUT_DIR.

Usage: report_browser.py CONSENT_BINARY OUT_DIR   (run by `make test-browser`)
Stdlib only.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
from html.parser import HTMLParser
from pathlib import Path

from receipt_verifier_browser import REGISTRY, Cli, chromium

NOW = "2025-09-15T10:00:00Z"
RANGE = ("--from", "2024-09-01", "--to", "2025-09-01")
MONTHS = 12


class Charts(HTMLParser):
    """Per chart (figure[data-chart]): its kind, its SVG's role and title, and the
    points of each series (g.series[data-series] > .point)."""

    def __init__(self) -> None:
        super().__init__()
        self.charts: list[dict[str, object]] = []
        self.series: dict[str, int] | None = None
        self.current: str | None = None
        self.depth = 0
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        classes = (a.get("class") or "").split()
        if tag == "figure" and "data-chart" in a:
            self.series = {}
            self.charts.append({"kind": a["data-chart"], "series": self.series, "svg": None, "title": ""})
        elif tag == "svg" and self.charts and self.series is not None:
            self.charts[-1]["svg"] = a.get("role")
        elif tag == "g" and "series" in classes and self.series is not None:
            self.current = a.get("data-series") or ""
            self.series[self.current] = 0
            self.depth = 0
        elif tag == "g" and self.current is not None:
            self.depth += 1
        elif "point" in classes and self.current is not None and self.series is not None:
            self.series[self.current] += 1
        elif tag == "figcaption":
            self.text = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "g" and self.current is not None:
            if self.depth == 0:
                self.current = None
            else:
                self.depth -= 1
        elif tag == "figure":
            self.series = None
        elif tag == "figcaption" and self.charts:
            self.charts[-1]["title"] = "".join(self.text).strip()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def known_ledger(cli: Cli, work: Path) -> None:
    """A year of a small university: grants, a refusal, withdrawals, a lapse at the end
    of the academic year, a special-category consent, an erasure, a signed checkpoint."""
    jmsu = ("--notice", "jmsu.privacy@1", "--method", "portal")
    cli.run("2024-09-01T09:00:00Z", "init")
    cli.run("2024-09-01T09:00:00Z", "registry", "load", str(REGISTRY))
    cli.run("2024-09-10T10:00:00Z", "give", "s1", "jmsu.marketing", *jmsu)
    cli.run("2024-09-15T10:00:00Z", "give", "s3", "mobility.health", "--explicit",
            "--notice", "ljmu.international-relations@1", "--method", "paper")
    cli.run("2024-09-20T10:00:00Z", "refuse", "s6", "jmsu.marketing", *jmsu)
    cli.run("2024-10-01T10:00:00Z", "give", "s4", "jmsu.data-sharing", "--recipient", "JMSU", *jmsu)
    cli.run("2024-10-02T10:00:00Z", "give", "s2", "jmsu.marketing", *jmsu)
    cli.run("2024-10-15T10:00:00Z", "give", "s5", "jmsu.project.freshers-tasters", *jmsu)
    cli.run("2024-11-05T10:00:00Z", "withdraw", "s1", "jmsu.marketing")
    cli.run("2024-12-01T10:00:00Z", "give", "s7", "wellbeing.share-external", "--recipient", "nhs",
            "--notice", "ljmu.wellbeing@1", "--method", "paper", "--recorded-by", "staff:ab12")
    cli.run("2025-01-10T10:00:00Z", "withdraw", "s3", "mobility.health")
    # The JMSU feed (registered by the registry file) never acknowledges this opt-out:
    # its 24-hour deadline passes, and the report must say so.
    cli.run("2025-02-01T10:00:00Z", "withdraw", "s4", "jmsu.data-sharing", "--recipient", "JMSU")
    cli.run("2025-04-01T10:00:00Z", "erase", "s6", "--reason", "left", "--actor", "staff:dpo")
    key = work / "log.key"
    cli.run(NOW, "key", "generate", "--name", "ljmu.ac.uk/consent", "-o", str(key))
    cli.run(NOW, "checkpoint", "--key", str(key))


# The charts the known ledger's report must have: (kind, series, points per series).
# States: jmsu.data-sharing → JMSU; jmsu.marketing; the freshers' tasters;
# mobility.health (one chart for its six recipients, the same figures);
# wellbeing.share-external → nhs; → student-finance-england and landlord (one chart).
STATE_SERIES = ["given", "withdrawn", "refused", "expired", "needs_renewal"]
EXPECTED = (
    [("states", STATE_SERIES, MONTHS)] * 6
    + [("activity", ["grants", "withdrawals"], MONTHS)]
    + [("special", ["mobility.ethnicity", "mobility.health", "mobility.vaccination", "wellbeing.special-category"], MONTHS)]
    + [("erasures", ["erasures", "readmissions"], MONTHS)]
)


def table_row(dom: str, chart_id: str, series: str) -> list[int]:
    """The figures of one series in a chart's table."""
    m = re.search(rf'<figure class="chart" id="{re.escape(chart_id)}".*?</figure>', dom, re.S)
    assert m, f"no chart {chart_id}"
    row = re.search(rf'<tr><th scope="row">{re.escape(series)}</th>(.*?)</tr>', m.group(0), re.S)
    assert row, f"no row {series} in {chart_id}"
    return [int(x) for x in re.findall(r"<td>(\d+)</td>", row.group(1))]


def main() -> None:
    binary, out_dir = sys.argv[1], Path(sys.argv[2]).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    browser = chromium()
    work = Path(tempfile.mkdtemp(prefix="report-"))
    failures: list[str] = []
    try:
        cli = Cli(binary, work)
        known_ledger(cli, work)
        page = out_dir / "report.html"
        cli.run(NOW, "report", "--html", str(page), *RANGE)
        figures = json.loads(cli.run(NOW, "--json", "report", *RANGE))
        flags = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--enable-logging=stderr", "--v=0", "--virtual-time-budget=5000"]
        run = subprocess.run([browser, *flags, "--dump-dom", page.as_uri()],
                             capture_output=True, text=True, timeout=120)
        console = [line for line in run.stderr.splitlines()
                   if "CONSOLE" in line or "Content Security Policy" in line or "Refused to" in line]
        if console:
            failures.append("console errors: " + "\n".join(console))
        dom = run.stdout
        parsed = Charts()
        parsed.feed(dom)
        got = [(c["kind"], list(c["series"]), sorted(set(c["series"].values()))) for c in parsed.charts]  # type: ignore[union-attr]
        want = [(k, s, [n]) for k, s, n in EXPECTED]
        if got != want:
            failures.append("charts differ:\n  got  " + "\n       ".join(map(str, got))
                            + "\n  want " + "\n       ".join(map(str, want)))
        for c in parsed.charts:
            if c["svg"] != "img" or not c["title"]:
                failures.append(f"chart {c['kind']} lacks role=img or a title")
        # What the page says agrees with the figures, and with the ledger.
        if 'data-ok="true"' not in dom:
            failures.append("the page does not say the ledger verified")
        downstream = re.search(r'<section id="downstream">.*?</section>', dom, re.S)
        if not downstream or 'data-downstream="1"' not in downstream.group(0):
            failures.append("the downstream section does not list the one deadline")
        elif "OVERDUE" not in downstream.group(0) or "jmsu.feed" not in downstream.group(0):
            failures.append("the JMSU feed's unacknowledged opt-out is not shown as overdue")
        if [d["state"] for d in figures["downstream"]] != ["overdue"]:
            failures.append(f"--json downstream deadlines: {figures['downstream']}")
        if "ljmu.ac.uk/consent" not in dom:
            failures.append("the latest checkpoint is not shown")
        marketing = next(s for s in figures["states"] if s["purpose"] == "jmsu.marketing")
        m = re.search(r'<figure class="chart" id="([\w-]+)"[^>]*><figcaption[^>]*>jmsu\.marketing: ', dom)
        chart_id = m.group(1) if m else "?"
        for state, want_row in [("given", [1, 2, 1] + [1] * 9), ("withdrawn", [0, 0] + [1] * 10)]:
            json_row = [c[state] for c in marketing["counts"]]
            page_row = table_row(dom, chart_id, state)
            if not (json_row == page_row == want_row):
                failures.append(f"jmsu.marketing {state}: page {page_row}, JSON {json_row}, want {want_row}")
        grants = table_row(dom, "activity", "grants")
        json_grants = [a["given"] for a in figures["activity"]]
        if not (grants == json_grants == [2, 3, 0, 1] + [0] * 8):
            failures.append(f"grants per month: page {grants}, JSON {json_grants}")
        if table_row(dom, "erasures", "erasures") != [0] * 7 + [1] + [0] * 4:
            failures.append("the erasure is not in April")
        text = page.read_text()
        if re.search(r"<(script|link|img|iframe)\b", text) or re.search(r"(src|href)\s*=\s*[\"']?(https?:|file:)?//", text):
            failures.append("the page is not self-contained (a script or an external reference)")
        # What the DPO sees, and what a printer gets.
        shot, pdf = out_dir / "report.png", out_dir / "report.pdf"
        for extra in ([f"--screenshot={shot}", "--window-size=1100,2400"],
                      [f"--print-to-pdf={pdf}", "--no-pdf-header-footer"]):
            subprocess.run([browser, *flags, *extra, page.as_uri()], capture_output=True, text=True, timeout=120)
        if not shot.exists() or shot.stat().st_size < 20_000:
            failures.append("no screenshot was written")
        if not pdf.exists() or pdf.stat().st_size < 20_000 or not pdf.read_bytes().startswith(b"%PDF"):
            failures.append("no PDF was printed")
        if failures:
            print("\n".join(["report FAILED:"] + failures), file=sys.stderr)
            sys.exit(1)
        print(f"report: {len(parsed.charts)} charts with the expected series and points in Chromium, "
              f"no console error; {shot}, {pdf}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
