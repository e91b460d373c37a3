"""The two backends from Python (docs/POSTGRES.md): a ledger copied between a file and
a PostgreSQL schema with the same head, and PostgreSQL URLs that open nothing (no
server, a bad schema name, the key beside), each a clear exception, never a crash.
The URLs need no server and run on either backend; the copies go to a file and, on
PostgreSQL, to a new schema too."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Dict

import pytest
from support import NOTICE, ON_POSTGRES, TEST_KEY, is_postgres, ledger_location, open_ledger

from consent_ledger import (
    Actor,
    Conflict,
    Head,
    InvalidArgument,
    Ledger,
    NotALedger,
    PseudonymKeyError,
    State,
    StorageError,
)

SHARE = "wellbeing.share-external"
#: A server that is not there: a socket folder without one.
NOWHERE = "postgresql://consent@/postgres?host=/nonexistent-consent-socket"


def key_of(location: str) -> Dict[str, Any]:
    """How the ledger at `location` (made by the `ledger_at` fixture) gets its key."""
    return {"key": TEST_KEY} if is_postgres(location) else {"key_file": f"{location}.key"}


def test_a_copy_has_the_same_head_and_answers_the_same(ledger_at: str, tmp_path: Path) -> None:
    with open_ledger(ledger_at) as ledger:
        ledger.give("s1", SHARE, notice=NOTICE, method="portal", evidence={"form": 7})
        ledger.give("s2", SHARE, recipient="NHS", notice=NOTICE, method="paper")
        ledger.withdraw("s2", SHARE, recipient="NHS")
        ledger.erase_subject("s2", "retention ended", recorded_by=Actor.system("retention"))
        head = ledger.head()
        # Another file on SQLite; on PostgreSQL a new schema, then a file from it.
        dests = [ledger_location(tmp_path, "copy.db"), str(tmp_path / "copy-file.db")]
        for dest in dests:
            copied = ledger.copy_to(dest, busy_timeout=5, synchronous="normal")
            assert isinstance(copied, Head) and copied == head
            with pytest.raises(Conflict):
                ledger.copy_to(dest)
        assert not os.path.exists(f"{dests[1]}.key")  # no key is copied
    for dest in dests:
        # The same key: the copy answers as its source did.
        with Ledger(dest, create=False, **key_of(ledger_at)) as copy:
            assert copy.head() == head and copy.verify(raise_on_failure=True).ok
            assert copy.status("s1", SHARE, "NHS").permits
            assert copy.status("s2", SHARE, "NHS").state is State.ERASED
            assert [e.evidence for e in copy.history("s1")] == [{"form": 7}]
        if not is_postgres(dest):
            # A file with no key file beside: read-only, it still verifies.
            with Ledger(dest, read_only=True) as copy:
                assert copy.verify().head == head


def test_a_ledger_in_memory_copies_to_a_file(tmp_path: Path) -> None:
    with Ledger.in_memory(key=TEST_KEY) as memory:
        memory.register_purpose("p", "P", "LJMU")
        memory.withdraw("s1", "p")
        head = memory.head()
        assert memory.copy_to(tmp_path / "from-memory.db") == head
    with Ledger(tmp_path / "from-memory.db", key=TEST_KEY, create=False) as copy:
        assert copy.head() == head and copy.status("s1", "p").state is State.WITHDRAWN


def test_copy_to_refuses_what_is_not_a_place_for_a_ledger(ledger_at: str, tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database" * 100)
    with open_ledger(ledger_at) as ledger:
        with pytest.raises(NotALedger):
            ledger.copy_to(junk)
        assert junk.read_bytes() == b"not a database" * 100
        with pytest.raises(NotALedger):
            ledger.copy_to(tmp_path)  # a folder
        with pytest.raises(InvalidArgument, match="schema `Bad-Name`"):
            ledger.copy_to(f"{NOWHERE}&schema=Bad-Name")
        with pytest.raises(StorageError, match="cannot connect"):
            ledger.copy_to(f"{NOWHERE}&schema=copy", busy_timeout=5)
        with pytest.raises(TypeError):
            ledger.copy_to(7)  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            ledger.copy_to(tmp_path / "x.db", busy_timeout="soon")  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            ledger.copy_to(tmp_path / "x.db", synchronous=False)  # type: ignore[arg-type]
    assert not (tmp_path / "x.db").exists()


def test_postgresql_urls_that_open_nothing() -> None:
    # The default key is the file beside the ledger: a schema has no beside.
    with pytest.raises(PseudonymKeyError, match="as a file or as bytes") as key:
        Ledger(f"{NOWHERE}&schema=ledger")
    assert key.value.code == 23
    # A schema name that would need quoting, or is PostgreSQL's own.
    for schema in ("Bad-Name", "pg_catalog", "1st", ""):
        with pytest.raises(InvalidArgument, match="schema") as bad:
            Ledger(f"{NOWHERE}&schema={schema}", key=TEST_KEY)
        assert isinstance(bad.value, ValueError) and bad.value.code == 2
    # No server: an unknown host, a socket folder without one. No password is shown.
    with pytest.raises(StorageError, match="cannot connect") as unknown:
        Ledger("postgresql://consent@no-such-host.invalid/postgres?schema=ledger", key=TEST_KEY, busy_timeout=5)
    assert isinstance(unknown.value, OSError) and unknown.value.code == 20
    with pytest.raises(StorageError, match="cannot connect") as refused:
        Ledger("postgresql://consent:s3cret@/postgres?host=/nonexistent-consent-socket", key=TEST_KEY, busy_timeout=5)
    assert "s3cret" not in str(refused.value)
    # What only a file has.
    with pytest.raises(InvalidArgument, match="max_pages"):
        Ledger(f"{NOWHERE}&schema=ledger", key=TEST_KEY, max_pages=40)


@pytest.mark.skipif(not ON_POSTGRES, reason="needs the PostgreSQL server")
def test_a_bad_schema_name_on_the_server_and_the_password_in_repr(tmp_path: Path) -> None:
    server = os.environ["CONSENT_TEST_PG_URL"]
    sep = "&" if "?" in server else "?"
    with pytest.raises(InvalidArgument, match="schema `Bad-Name`"):
        Ledger(f"{server}{sep}schema=Bad-Name", key=TEST_KEY)
    # The test server trusts its socket: a password in the URL is ignored there, but
    # never shown by repr.
    location = ledger_location(tmp_path)
    with_password = re.sub(r"^(postgres(?:ql)?://[^:@/]+)@", r"\1:s3cret@", location)
    if with_password == location:
        pytest.skip("the server's URL names no user to add a password to")
    with Ledger(with_password, key=TEST_KEY) as ledger:
        assert "s3cret" not in repr(ledger) and ":***@" in repr(ledger)
        assert ledger.path == with_password
