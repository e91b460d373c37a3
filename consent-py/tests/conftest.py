"""Fixtures: a ledger (in memory, or a file) with the welfare registry."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest
from support import register_all

from consent_ledger import Ledger


@pytest.fixture
def ledger() -> Iterator[Ledger]:
    with Ledger.in_memory() as ledger:
        register_all(ledger)
        yield ledger


@pytest.fixture
def ledger_file(tmp_path: Path) -> Path:
    path = tmp_path / "consent.db"
    with Ledger(path) as ledger:
        register_all(ledger)
    return path

