"""The scripts in examples/python/ and the Python snippets of the READMEs run (and check
their own answers), so they cannot rot."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.file_only("the examples and snippets keep their ledgers in files")

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples" / "python").glob("*.py"))


def run(args: list[str], cwd: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-W", "error", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr


def python_snippet(readme: Path, section: str) -> str:
    """The first ```python block after the heading `section` (before the next heading)."""
    text = readme.read_text(encoding="utf-8")
    start = text.index(section)
    end = text.find("\n#", start + len(section))
    found = re.search(r"```python\n(.*?)```", text[start : end if end != -1 else len(text)], re.S)
    assert found, f"no Python snippet under {section!r} in {readme}"
    return found.group(1)


def test_there_are_examples() -> None:
    assert {p.name for p in EXAMPLES} >= {"welfare.py", "jmsu_feed.py"}


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(script: Path, tmp_path: Path) -> None:
    run([str(script)], tmp_path)


def test_the_readme_snippet_runs_against_the_shipped_registry(tmp_path: Path) -> None:
    """README.md's "From Python" runs from the repository root: here a copy of its
    `examples/ljmu/registry.toml`, so the ledger it creates lands in a temporary folder.
    Twice: the registry and the source id make a second run append nothing."""
    (tmp_path / "examples" / "ljmu").mkdir(parents=True)
    shutil.copy(ROOT / "examples" / "ljmu" / "registry.toml", tmp_path / "examples" / "ljmu")
    snippet = tmp_path / "readme.py"
    snippet.write_text(python_snippet(ROOT / "README.md", "## From Python"))
    run([str(snippet)], tmp_path)
    assert (tmp_path / "consent.db").exists() and (tmp_path / "consent.db.key").exists()
    run([str(snippet)], tmp_path)
    run(["-c", "from consent_ledger import Ledger\n"
               "with Ledger('consent.db', create=False) as l:\n"
               "    assert len(l.history('student-1')) == 1, l.history('student-1')\n"], tmp_path)


def test_the_package_readme_snippet_runs(tmp_path: Path) -> None:
    snippet = tmp_path / "readme.py"
    snippet.write_text(python_snippet(ROOT / "consent-py" / "README.md", "# consent-ledger for Python"))
    run([str(snippet)], tmp_path)
