"""Fixtures: a ledger (in memory, or a schema on PostgreSQL) with the welfare registry,
and the location of one (a file, or a schema); the ``file_only`` mark (support.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest
from support import ON_POSTGRES, ledger_location, new_ledger, open_ledger, register_all

from consent_ledger import Ledger


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "file_only(reason): about SQLite files (locks, the WAL, the key beside the file, "
        "tampering with the file): skipped on PostgreSQL, saying why",
    )


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    mark = item.get_closest_marker("file_only")
    if mark is not None and ON_POSTGRES:
        pytest.skip(f"file-only on PostgreSQL: {mark.args[0]}")


@pytest.fixture
def ledger() -> Iterator[Ledger]:
    with new_ledger() as ledger:
        register_all(ledger)
        yield ledger


@pytest.fixture
def ledger_at(tmp_path: Path) -> str:
    """Where a ledger with the welfare registry lives: a file, or a PostgreSQL URL
    (open it with ``open_ledger``)."""
    location = ledger_location(tmp_path)
    with open_ledger(location) as ledger:
        register_all(ledger)
    return location


@pytest.fixture
def ledger_file(tmp_path: Path) -> Path:
    """A ledger file with the welfare registry, for the tests about files."""
    path = tmp_path / "consent.db"
    with Ledger(path) as ledger:
        register_all(ledger)
    return path
