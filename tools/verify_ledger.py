#!/usr/bin/env python3
"""Independent checker of a consent-ledger file (file format version 4), written only from
docs/FORMAT.md.

Uses nothing but the Python standard library (sqlite3, hashlib, hmac, json, argparse,
unicodedata). It runs every step of FORMAT.md §8: the schema, `meta` and
`PRAGMA integrity_check`; the log in order, in chunks of 2^16 events; per row the
storage types, the personal digest, the kind, the values (explicit, method,
recorded_by, times, no pseudonyms on the ledger's own events, schema-1 source keys),
the encoding and place, the `ledger_configured` event, record times, the registry
events, erasure rules E1, E2 and E8 (readmissions), the purpose version a subject event
names and (with the key) E7; every leaf and interior hash of the tree and no row more;
E3-E6; the downstream systems' registrations and acknowledgements (§13); the derived tables `purposes`, `notices`, `erased` and `current` rebuilt from
the log; and, with --head, the root at an earlier size. The seq it names is the one §8
"The seq to name" gives; within a chunk a bad row and the first bad leaf come before
interior hashes.

    verify_ledger.py LEDGER [--head SIZE:ROOTHEX] [--key-file PATH]

Prints "OK SIZE:ROOTHEX" (then "SIMULATED" when the ledger's clock is simulated) and
exits 0, or prints "BAD seq N: why" (or "BAD: why" when no single event is to blame)
and exits 1. A usage error (a bad --head or key file) exits 2.

The file is opened read-only (`file:PATH?mode=ro`) and is not changed.
"""

import argparse
import base64
import binascii
import hashlib
import hmac
import json
import sqlite3
import sys
import unicodedata

SCHEMA_VERSION = 4
FORMAT_NAME = b"consent-ledger"

# §2, verbatim.
SCHEMA_SQL = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value) WITHOUT ROWID;
CREATE TABLE events(
    seq             INTEGER PRIMARY KEY,
    id              BLOB NOT NULL UNIQUE,
    kind            TEXT NOT NULL,
    subject         TEXT,
    salt            BLOB,
    personal_digest BLOB,
    purpose         TEXT,
    purpose_version INTEGER,
    recipient       TEXT,
    notice_id       TEXT,
    notice_version  TEXT,
    notice_sha256   BLOB,
    explicit        INTEGER NOT NULL,
    method          TEXT,
    recorded_by     TEXT NOT NULL,
    effective_at    INTEGER NOT NULL,
    recorded_at     INTEGER NOT NULL,
    expires_at      INTEGER,
    effect_deadline INTEGER,
    source_id       TEXT,
    evidence        TEXT,
    target          BLOB,
    details         TEXT,
    subject_key     BLOB,
    source_key      BLOB,
    encoding        INTEGER NOT NULL
);
CREATE INDEX events_by_subject ON events(subject, purpose) WHERE subject IS NOT NULL;
CREATE INDEX events_by_erased_key ON events(subject_key) WHERE subject IS NULL AND subject_key IS NOT NULL;
CREATE UNIQUE INDEX events_by_source ON events(source_key) WHERE source_key IS NOT NULL;
CREATE INDEX events_of_downstreams ON events(seq) WHERE kind IN ('downstream_registered', 'downstream_acknowledged');
CREATE INDEX events_with_deadline ON events(seq) WHERE effect_deadline IS NOT NULL;
CREATE TABLE tree(level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL,
                  PRIMARY KEY(level, idx)) WITHOUT ROWID;
CREATE TABLE purposes(id TEXT NOT NULL, version INTEGER NOT NULL, seq INTEGER NOT NULL,
                      registered_at INTEGER NOT NULL, def TEXT NOT NULL,
                      PRIMARY KEY(id, version)) WITHOUT ROWID;
CREATE TABLE notices(id TEXT NOT NULL, version TEXT NOT NULL, seq INTEGER NOT NULL,
                     registered_at INTEGER NOT NULL, def TEXT NOT NULL,
                     PRIMARY KEY(id, version)) WITHOUT ROWID;
CREATE TABLE current(purpose TEXT NOT NULL, subject TEXT NOT NULL, recipient TEXT NOT NULL,
                     state TEXT NOT NULL, seq INTEGER NOT NULL, event_id BLOB NOT NULL,
                     since INTEGER NOT NULL, until INTEGER, last_effective INTEGER NOT NULL,
                     PRIMARY KEY(purpose, subject, recipient)) WITHOUT ROWID;
CREATE TABLE erased(subject_key BLOB PRIMARY KEY, seq INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE checkpoints(size INTEGER PRIMARY KEY, note TEXT NOT NULL) WITHOUT ROWID;
"""

# §2 `events`: every column, its one storage type, whether NULL is allowed (the
# schema's NOT NULL), and the byte length a BLOB must have.
TEXT, BLOB, INTEGER = "text", "blob", "integer"
EVENT_COLUMNS = [
    # name, type, nullable, blob length
    ("seq", INTEGER, False, None),
    ("id", BLOB, False, 16),
    ("kind", TEXT, False, None),
    ("subject", TEXT, True, None),
    ("salt", BLOB, True, 16),
    ("personal_digest", BLOB, True, 32),
    ("purpose", TEXT, True, None),
    ("purpose_version", INTEGER, True, None),
    ("recipient", TEXT, True, None),
    ("notice_id", TEXT, True, None),
    ("notice_version", TEXT, True, None),
    ("notice_sha256", BLOB, True, 32),
    ("explicit", INTEGER, False, None),
    ("method", TEXT, True, None),
    ("recorded_by", TEXT, False, None),
    ("effective_at", INTEGER, False, None),
    ("recorded_at", INTEGER, False, None),
    ("expires_at", INTEGER, True, None),
    ("effect_deadline", INTEGER, True, None),
    ("source_id", TEXT, True, None),
    ("evidence", TEXT, True, None),
    ("target", BLOB, True, 16),
    ("details", TEXT, True, None),
    ("subject_key", BLOB, True, 32),
    ("source_key", BLOB, True, 32),
    ("encoding", INTEGER, False, None),
]
EVENT_TYPES = {name: kind for name, kind, _, _ in EVENT_COLUMNS}

# §3.3: the canonical fields, in order. Encoding 2 adds the last two.
CANONICAL_1 = [
    "id", "seq", "kind", "personal_digest", "purpose", "purpose_version", "recipient",
    "notice_id", "notice_version", "notice_sha256", "explicit", "method", "recorded_by",
    "effective_at", "recorded_at", "expires_at", "effect_deadline", "target", "details",
]
CANONICAL_2 = CANONICAL_1 + ["subject_key", "source_key"]

# §13: the kinds a feed shows after a grant it showed.
ENDS_A_GRANT = {"withdrawn", "revoked", "invalidated", "objected"}
SUBJECT_KINDS = {"given", "refused", "withdrawn", "revoked", "invalidated", "objected",
                 "objection_overruled", "notice_served"}
# §13: the downstream systems' events (schema 4).
DOWNSTREAM_KINDS = {"downstream_registered", "downstream_acknowledged"}
LEDGER_KINDS = {"ledger_configured", "purpose_defined", "notice_defined", "subject_erased",
                "subject_readmitted"} | DOWNSTREAM_KINDS
KINDS = SUBJECT_KINDS | LEDGER_KINDS
# §7: the kinds that decide under basis `a`, and under any other basis.
CONSENT_DECIDING = {"given", "refused", "withdrawn", "revoked", "objected"}
OTHER_DECIDING = {"objected", "objection_overruled"}
# §7: the state a deciding event gives (its kind, but for an overruled objection).
STATE_OF = {"objection_overruled": "not_consent_based"}
BASES = {"a", "b", "c", "d", "e", "f"}

PERSONAL_DOMAIN = b"consent-ledger/personal/v1\x00"
SUBJECT_DOMAIN = b"consent-ledger/subject/v2\x00"
SOURCE_DOMAIN = b"consent-ledger/source/v2\x00"
KEY_ID_DOMAIN = b"consent-ledger/key-id/v2\x00"

CHUNK = 1 << 16
# Levels of the tree stored for a completed block of 2^TREE_MIN_LEVEL leaves (§2 `tree`).
TREE_MIN_LEVEL = 4

# §2 `method`.
METHODS = {b"portal", b"web_form", b"paper", b"email", b"feed", b"in_person", b"phone", b"api"}
# Times are within the years 1-9999 (§ Words): 0001-01-01T00:00:00Z up to
# 9999-12-31T23:59:59.999Z, in milliseconds since 1970.
TIME_MIN = -62135596800000
TIME_MAX = 253402300799999
TIME_COLUMNS = ("effective_at", "recorded_at", "expires_at", "effect_deadline")
# §8 step 3: none of these on `ledger_configured`, `purpose_defined`, `notice_defined`.
PSEUDONYMOUS = ("subject", "salt", "source_id", "evidence", "source_key", "personal_digest",
                "subject_key")
# E1, E8: none of these on a `subject_erased` or `subject_readmitted` event.
NOT_ON_ERASURE = ("subject", "salt", "source_id", "evidence", "source_key")


class Bad(Exception):
    """A finding. `seq` is the event to name, or None."""

    def __init__(self, why, seq=None):
        super().__init__(why)
        self.seq = seq


def sha256(data):
    return hashlib.sha256(data).digest()


def keyed(key, domain, text):
    return hmac.new(key, domain + text, hashlib.sha256).digest()


def field(value):
    """§3.1: absent = 00; present = 01, 4-byte big-endian length, the bytes. Values
    reach here already type-checked: bytes (TEXT as its UTF-8 bytes, or BLOB) or int."""
    if value is None:
        return b"\x00"
    if isinstance(value, int):
        data = value.to_bytes(8, "big", signed=True)
    else:
        data = value
    return b"\x01" + len(data).to_bytes(4, "big") + data


def node(left, right):
    return sha256(b"\x01" + left + right)


def mth(leaves, lo, hi):
    """§3.4: MTH of leaves[lo:hi]."""
    n = hi - lo
    if n == 0:
        return sha256(b"")
    if n == 1:
        return leaves[lo]
    k = 1
    while k * 2 < n:
        k *= 2
    return node(mth(leaves, lo, lo + k), mth(leaves, lo + k, hi))


def strict_json(data):
    """Parses JSON text strictly: UTF-8, no NaN/Infinity, no repeated key. None when
    it is not such JSON."""

    def no_constant(name):
        raise ValueError(f"{name} is not JSON")

    def pairs(items):
        obj = {}
        for k, v in items:
            if k in obj:
                raise ValueError(f"key {k!r} repeated")
            obj[k] = v
        return obj

    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        return json.loads(text, parse_constant=no_constant, object_pairs_hook=pairs)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def is_identifier(data):
    """§5: one spelling of an identifier: UTF-8, Unicode NFC, no white space at either
    end, no control character, 1-1024 bytes."""
    if not 1 <= len(data) <= 1024:
        return False
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return (unicodedata.normalize("NFC", text) == text and text == text.strip()
            and not any(unicodedata.category(ch) == "Cc" for ch in text))


def show(value):
    if isinstance(value, bytes):
        try:
            text = repr(value.decode("utf-8"))
        except UnicodeDecodeError:
            text = "x'" + value.hex() + "'"
    else:
        text = repr(value)
    return text if len(text) <= 80 else text[:76] + "...'"


def typed_select(columns):
    return ", ".join(f"typeof({c}), {c}" for c in columns)


def cells(row):
    """(typeof, value) pairs of a row read with typed_select. With text_factory = bytes
    typeof's answer is bytes too: it is decoded here."""
    return [(row[i].decode("ascii"), row[i + 1]) for i in range(0, len(row), 2)]


def typed_rows(conn, sql):
    for row in conn.execute(sql):
        yield cells(row)


def read_typed(row, columns):
    return dict(zip(columns, cells(row)))


class Event:
    """What later steps need to know of a row."""

    __slots__ = ("seq", "id", "kind", "subject", "salt", "purpose", "purpose_version",
                 "recipient", "notice_id", "notice_version", "target", "effective_at",
                 "expires_at", "recorded_at", "details", "subject_key", "source_key", "encoding",
                 "json")

    def __init__(self, seq, v):
        self.seq = seq
        self.id = v["id"]
        self.kind = v["kind"].decode("utf-8")
        self.subject = v["subject"]
        self.salt = v["salt"]
        self.purpose = v["purpose"]
        self.purpose_version = v["purpose_version"]
        self.recipient = v["recipient"]
        self.notice_id = v["notice_id"]
        self.notice_version = v["notice_version"]
        self.target = v["target"]
        self.effective_at = v["effective_at"]
        self.expires_at = v["expires_at"]
        self.recorded_at = v["recorded_at"]
        self.details = v["details"]
        self.subject_key = v["subject_key"]
        self.source_key = v["source_key"]
        self.encoding = v["encoding"]
        self.json = None

    @property
    def blanked_subject_event(self):
        return self.kind in SUBJECT_KINDS and self.salt is None


class Checker:
    def __init__(self, conn, key):
        self.conn = conn
        self.key = key
        self.key_id = sha256(KEY_ID_DOMAIN + key).hex() if key is not None else None
        self.events = []  # Event per seq, when steps 2-3 passed
        self.leaves = []
        self.simulated = False
        self.configured = None  # seq of ledger_configured
        self.config = None  # its details
        self.grant_index = None  # §13: grants by (subject, purpose) and blanked by key

    # ---------------------------------------------------------------- step 1
    def check_schema(self):
        scratch = sqlite3.connect(":memory:")
        scratch.text_factory = bytes
        scratch.executescript(SCHEMA_SQL)
        query = "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"
        want = scratch.execute(query).fetchall()
        scratch.close()
        try:
            got = self.conn.execute(query).fetchall()
        except sqlite3.DatabaseError as e:
            raise Bad(f"not a consent ledger: {e}")
        if not got:
            raise Bad("not a consent ledger: the database is empty")
        if got != want:
            version = self.meta_version_hint()
            if version is not None and version != SCHEMA_VERSION:
                raise Bad(f"not a consent ledger of schema {SCHEMA_VERSION}: meta.schema_version "
                          f"is {version!r}" + (" (open it once with the library to migrate it)"
                                                if version in (1, 2, 3) else ""))
            if not any(r[1] == b"events" for r in got):
                raise Bad("not a consent ledger: it has no events table")
            want_set, got_set = set(want), set(got)
            extra = sorted(got_set - want_set, key=lambda r: (r[0], r[1]))
            missing = sorted(want_set - got_set, key=lambda r: (r[0], r[1]))
            parts = []
            if extra:
                parts.append("unexpected or changed: "
                             + ", ".join(f"{r[0].decode()} {show(r[1])}" for r in extra))
            if missing:
                parts.append("missing or changed: "
                             + ", ".join(f"{r[0].decode()} {show(r[1])}" for r in missing))
            raise Bad("the schema differs from FORMAT.md §2 (" + "; ".join(parts) + ")")

    def meta_version_hint(self):
        try:
            row = self.conn.execute(
                "SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        except sqlite3.DatabaseError:
            return None
        return row[0] if row else None

    def check_meta(self):
        seen = {}
        for (tk, k), (tv, v) in typed_rows(
                self.conn, "SELECT typeof(key), key, typeof(value), value FROM meta"):
            if tk != TEXT:
                raise Bad(f"meta has a key of type {tk} ({show(k)})")
            seen[k] = (tv, v)
        version = seen.get(b"schema_version")
        if version is not None and version[0] == INTEGER and version[1] > SCHEMA_VERSION:
            raise Bad(f"schema version {version[1]} is newer than {SCHEMA_VERSION}: refused")
        if seen.get(b"format") != (TEXT, FORMAT_NAME):
            raise Bad(f"not a consent ledger: meta.format is {show(seen.get(b'format', (0, None))[1])}")
        if version != (INTEGER, SCHEMA_VERSION):
            raise Bad(f"meta.schema_version is {show(version[1]) if version else 'missing'}, "
                      f"not INTEGER {SCHEMA_VERSION}")
        extra = sorted(k for k in seen if k not in (b"format", b"schema_version"))
        if extra:
            raise Bad("meta has rows it must not have: " + ", ".join(show(k) for k in extra)
                      + (" (a schema-1 pepper left in the file)" if b"pepper" in extra else ""))

    def check_integrity(self):
        rows = self.conn.execute("PRAGMA integrity_check").fetchall()
        answers = [r[0].decode("utf-8", "replace") if isinstance(r[0], bytes) else str(r[0])
                   for r in rows]
        if answers != ["ok"]:
            raise Bad("PRAGMA integrity_check: " + "; ".join(answers[:5]))

    # ---------------------------------------------------------------- steps 2-4
    def committed_key_matches(self):
        """Whether the key held is the one `ledger_configured` commits to (§4): E7 is
        checked with the ledger's key only; a key with another id is itself the finding
        (at the ledger_configured event)."""
        if self.key is None:
            return False
        rows = list(typed_rows(self.conn,
                               "SELECT typeof(details), details FROM events NOT INDEXED "
                               "WHERE kind = 'ledger_configured' ORDER BY seq LIMIT 1"))
        if not rows or rows[0][0][0] != TEXT:
            return False
        d = strict_json(rows[0][0][1])
        return isinstance(d, dict) and d.get("pseudonym_key_id") == self.key_id

    def check_log(self):
        """Steps 2-4, chunk by chunk (§8 "The seq to name"). Returns the findings as
        (seq, why): those of the first chunk with one, or of the rows that belong to no
        subtree."""
        e7 = self.committed_key_matches()
        columns = [c for c, _, _, _ in EVENT_COLUMNS]
        tree = {}
        bad_tree = []  # rows at no integer position: (None, why)
        size_hint = self.conn.execute("SELECT count(*) FROM events NOT INDEXED").fetchone()[0]
        # Below TREE_MIN_LEVEL only the open block's nodes are stored (§2 `tree`): the
        # last, incomplete run of 16 leaves of the log as its highest seq sizes it.
        last = self.conn.execute("SELECT max(seq) FROM events NOT INDEXED").fetchone()[0]
        top = last + 1 if isinstance(last, int) else 0
        self.open_start = top >> TREE_MIN_LEVEL << TREE_MIN_LEVEL
        for (tl, level), (ti, idx), (th, h) in typed_rows(
                self.conn,
                "SELECT typeof(level), level, typeof(idx), idx, typeof(hash), hash FROM tree"):
            if tl != INTEGER or ti != INTEGER:
                bad_tree.append((None, f"tree row ({show(level)}, {show(idx)}) is not at an "
                                       "integer position"))
                continue
            tree[(level, idx)] = h if th == BLOB and len(h) == 32 else None
        state = RowState()
        levels = [self.leaves]  # the recomputed hashes, level by level
        position = 0
        chunk_start = 0
        bad_row = None  # (seq, why): it stops the reading
        bad_leaf = None  # the chunk's first bad leaf
        for row in self.conn.execute(
                f"SELECT {typed_select(columns)} FROM events NOT INDEXED ORDER BY seq"):
            typed = read_typed(row, columns)
            seq = typed["seq"][1]
            if seq != position:
                # A gap (or a row before 0): the missing seq is named.
                bad_row = (position, f"event {position} is missing (the next row has seq "
                                     f"{show(seq)})")
                break
            try:
                values = self.check_row(seq, typed, state, e7)
            except Bad as bad:
                bad_row = (seq, str(bad))
                break
            leaf = sha256(b"\x00" + self.canonical(values))
            stored = position >= self.open_start
            if stored and tree.get((0, position)) != leaf and bad_leaf is None:
                bad_leaf = (position, f"leaf hash (0, {position}) "
                            + ("missing" if (0, position) not in tree
                               else "differs from the event"))
            self.leaves.append(leaf)
            position += 1
            if position % CHUNK == 0:
                # The end of a chunk: its leaves, then the interior hashes it completes.
                if bad_leaf is not None:
                    return [bad_leaf]
                bad = self.check_interior(tree, levels, chunk_start, position)
                if bad is not None:
                    return [bad]
                chunk_start = position
        if bad_row is not None or bad_leaf is not None:
            # The chunk of the bad row (or of the last leaf): the smallest of its bad
            # row and its first bad leaf; its interior hashes are not compared.
            return [f for f in (bad_row, bad_leaf) if f is not None]
        size = position
        if size % CHUNK != 0:
            bad = self.check_interior(tree, levels, chunk_start, size)
            if bad is not None:
                return [bad]
        findings = []
        if size != size_hint:
            findings.append((size, f"the table holds {size_hint} rows, the log runs to {size}"))
            return findings
        # Step 4: no row but those of the complete aligned subtrees.
        for (level, idx) in tree:
            if 0 <= level <= 63 and 0 <= idx:
                if idx < (size >> level) and not self.unstored(level, idx):
                    continue  # compared above
                where = min(idx << level, size)
            else:
                where = size
            findings.append((where, f"tree row ({level}, {idx}) is no complete subtree "
                                        f"of the log of {size}"))
        for _, why in bad_tree:
            findings.append((size, why))
        return findings

    def unstored(self, level, idx):
        """A node below TREE_MIN_LEVEL in a completed block: recomputed, never stored."""
        return level < TREE_MIN_LEVEL and (idx << level) < self.open_start

    def check_interior(self, tree, levels, chunk_start, end):
        """Step 4 for one chunk: the interior hashes `(L, k)` whose subtree ends in
        [chunk_start, end), recomputed from the leaves, lowest level first. The first
        bad one as (k << L, why), or None."""
        level = 1
        while (1 << level) <= end:
            if len(levels) <= level:
                levels.append([])
            below, here = levels[level - 1], levels[level]
            while len(here) < (end >> level):
                i = len(here)
                here.append(node(below[2 * i], below[2 * i + 1]))
            for k in range(chunk_start >> level, end >> level):
                if self.unstored(level, k):
                    continue
                if tree.get((level, k)) != here[k]:
                    return (k << level, f"tree hash ({level}, {k}) "
                            + ("missing" if (level, k) not in tree else "wrong"))
            level += 1
        return None

    def check_row(self, seq, typed, state, e7):
        """Step 3 for one row. Returns its values (TEXT as UTF-8 bytes), or raises Bad."""
        v = {}
        for name, kind, nullable, length in EVENT_COLUMNS:
            t, value = typed[name]
            if t == "null":
                if not nullable:
                    raise Bad(f"{name} is NULL")
                v[name] = None
                continue
            if t != kind:
                raise Bad(f"{name} holds {t.upper()}, not {kind.upper()}")
            if kind == TEXT:
                try:
                    value.decode("utf-8")
                except UnicodeDecodeError:
                    raise Bad(f"{name} is TEXT that is not UTF-8")
            if length is not None and len(value) != length:
                raise Bad(f"{name} is {len(value)} bytes, not {length}")
            v[name] = value

        # §3.2: the personal digest, or a blanked row.
        if v["salt"] is not None:
            digest = sha256(PERSONAL_DOMAIN + field(v["salt"]) + field(v["subject"])
                            + field(v["source_id"]) + field(v["evidence"]))
            if v["personal_digest"] != digest:
                raise Bad("the personal fields do not match their digest")
        elif any(v[c] is not None for c in ("subject", "source_id", "evidence")):
            raise Bad("personal fields present without their salt (a blanked row keeps none)")

        try:
            kind = v["kind"].decode("utf-8")
        except UnicodeDecodeError:  # checked above; kept for clarity
            raise Bad("kind is not UTF-8")
        if kind not in KINDS:
            raise Bad(f"unknown kind {kind!r}")
        self.check_values(kind, v)
        ev = Event(seq, v)

        # §4.1: encoding and place.
        encoding = v["encoding"]
        if encoding not in (1, 2):
            raise Bad(f"encoding {encoding} is neither 1 nor 2")
        if kind == "ledger_configured":
            if state.configured is not None:
                raise Bad(f"a second ledger_configured event (the first is {state.configured})")
            if encoding != 2:
                raise Bad("the ledger_configured event has encoding 1")
            self.check_configured(seq, v)
            state.configured = seq
            state.clock = self.config["clock"]
        elif state.configured is None:
            if encoding != 1:
                raise Bad("an encoding-2 row before the ledger_configured event")
        elif encoding != 2:
            raise Bad("an encoding-1 row after the ledger_configured event")

        # §4.2: record time.
        recorded = v["recorded_at"]
        if state.configured is not None and state.clock == "system":
            if state.last_recorded is not None and recorded < state.last_recorded:
                raise Bad(f"record time {recorded} is before the previous one "
                          f"({state.last_recorded}) on a ledger with the system clock")
        if state.configured is not None:
            state.last_recorded = recorded

        if kind == "purpose_defined":
            self.check_purpose_defined(ev, v, state)
        elif kind == "notice_defined":
            self.check_notice_defined(ev, v, state)
        elif kind == "subject_erased":
            self.check_erasure(ev, v, state)
        elif kind == "subject_readmitted":
            self.check_readmission(ev, v, state)
        elif kind == "downstream_registered":
            self.check_downstream_registered(ev, v, state)
        elif kind == "downstream_acknowledged":
            self.check_downstream_acknowledged(ev, v, state)
        elif kind in SUBJECT_KINDS:
            self.check_subject_event(v, e7, state)
        if kind not in SUBJECT_KINDS and v["source_id"] is not None and e7:
            # E7 also covers "every row with a source_id", whatever its kind.
            if v["source_key"] != keyed(self.key, SOURCE_DOMAIN, v["source_id"]):
                raise Bad("E7: source_key is not the keyed pseudonym of source_id")
        self.events.append(ev)
        return v

    @staticmethod
    def check_values(kind, v):
        """§8 step 3, "values": the value rules every row keeps."""
        if v["explicit"] not in (0, 1):
            raise Bad(f"explicit is {v['explicit']}, neither 0 nor 1")
        if v["method"] is not None and v["method"] not in METHODS:
            raise Bad(f"method {show(v['method'])} is none of FORMAT.md §2's")
        by = v["recorded_by"]
        if by != b"subject":
            prefix, colon, actor = by.partition(b":")
            if not colon or prefix not in (b"staff", b"system") or not is_identifier(actor):
                raise Bad(f"recorded_by {show(by)} is not subject, staff:<id> or system:<id>")
        if kind == "objection_overruled" and not by.startswith(b"staff:"):
            raise Bad(f"an objection_overruled event recorded by {show(by)}, not staff:<id>")
        for c in TIME_COLUMNS:
            t = v[c]
            if t is not None and not TIME_MIN <= t <= TIME_MAX:
                raise Bad(f"{c} {t} is outside the years 1-9999")
        # `id` and `target` are 16 bytes: checked with the storage types.
        if kind in ("ledger_configured", "purpose_defined", "notice_defined") \
                or kind in DOWNSTREAM_KINDS:
            present = [c for c in PSEUDONYMOUS if v[c] is not None]
            if present:
                raise Bad(f"a {kind} event has {', '.join(present)}")
        if kind in DOWNSTREAM_KINDS:
            # §13: no field of a consent event; recorded by staff or a system.
            consent_fields = ["purpose", "purpose_version", "recipient", "notice_id",
                              "notice_version", "notice_sha256", "method", "expires_at",
                              "effect_deadline"]
            if kind == "downstream_registered":
                consent_fields.append("target")
            present = [c for c in consent_fields if v[c] is not None]
            if present or v["explicit"] != 0:
                raise Bad(f"a {kind} event has {', '.join(present) or 'explicit'}")
            if by == b"subject":
                raise Bad(f"a {kind} event recorded by the subject, not staff or a system")
        if (v["encoding"] == 1 and v["salt"] is not None and v["source_id"] is None
                and v["source_key"] is not None):
            raise Bad("an unblanked encoding-1 row without a source_id has a source_key")

    def check_configured(self, seq, v):
        d = strict_json(v["details"]) if v["details"] is not None else None
        if not isinstance(d, dict):
            raise Bad("the ledger_configured event's details are not a JSON object")
        required = {"format", "schema_version", "clock", "pseudonym_key_id"}
        migration = {"migrated_from", "erased_before_migration"}
        missing = required - d.keys()
        if missing:
            raise Bad(f"ledger_configured lacks {', '.join(sorted(missing))}")
        if d["format"] != "consent-ledger":
            raise Bad(f"ledger_configured.format is {d['format']!r}")
        # The schema the ledger was created under (hashed; a migration keeps it).
        if not is_int(d["schema_version"]) or d["schema_version"] not in (2, 3, SCHEMA_VERSION):
            raise Bad(f"ledger_configured.schema_version is {d['schema_version']!r}")
        if d["clock"] not in ("system", "simulated"):
            raise Bad(f"ledger_configured.clock is {d['clock']!r}")
        # An IANA name; this checker has no tz database of its own to look it up in.
        if "time_zone" in d and not (isinstance(d["time_zone"], str) and d["time_zone"]):
            raise Bad(f"ledger_configured.time_zone is {d['time_zone']!r}, not a zone name")
        kid = d["pseudonym_key_id"]
        if not (isinstance(kid, str) and len(kid) == 64
                and all(c in "0123456789abcdef" for c in kid)):
            raise Bad("ledger_configured.pseudonym_key_id is not 64 lowercase hex digits")
        if seq == 0:
            if migration & d.keys():
                raise Bad("ledger_configured at seq 0 says it was migrated")
        else:
            # After schema-1 rows: a migration.
            if d.keys() & migration != migration:
                raise Bad("ledger_configured after schema-1 rows lacks migrated_from or "
                          "erased_before_migration")
            if not is_int(d["migrated_from"]) or d["migrated_from"] != 1:
                raise Bad(f"ledger_configured.migrated_from is {d['migrated_from']!r}, not 1")
            if d["clock"] != "system":
                raise Bad("a migrated ledger's clock is not \"system\"")
            ebm = d["erased_before_migration"]
            if not isinstance(ebm, list) or not all(
                    isinstance(e, list) and len(e) == 2 and all(is_int(x) for x in e)
                    for e in ebm):
                raise Bad("erased_before_migration is not a list of [row seq, erasure seq]")
            if any(a >= b for a, b in zip(ebm, ebm[1:])):
                raise Bad("erased_before_migration is not ascending")
        if self.key_id is not None and kid != self.key_id:
            raise Bad(f"the key held (id {self.key_id}) is not the ledger's (id {kid})")
        self.config = d
        self.configured = seq
        self.simulated = d["clock"] == "simulated"

    def check_purpose_defined(self, ev, v, state):
        pid, version, details = v["purpose"], v["purpose_version"], v["details"]
        if pid is None:
            raise Bad("purpose_defined lacks the purpose id")
        if version is None:
            raise Bad("purpose_defined lacks the version")
        d = strict_json(details) if details is not None else None
        if not isinstance(d, dict) or not isinstance(d.get("id"), str):
            raise Bad("purpose_defined lacks a JSON purpose definition")
        if d["id"].encode("utf-8") != pid:
            raise Bad(f"purpose_defined defines {d['id']!r}, not {show(pid)}")
        if d.get("lawful_basis") not in BASES:
            raise Bad(f"purpose_defined has lawful_basis {d.get('lawful_basis')!r}, not a-f")
        last = state.purpose_versions.get(pid, 0)
        if version != last + 1:
            raise Bad(f"purpose {show(pid)} version {version} follows version {last}"
                      + (" (a version skipped)" if version > last + 1 else ""))
        state.purpose_versions[pid] = version
        ev.json = d

    def check_downstream_registered(self, ev, v, state):
        """§13: a registration's details, its version, and purposes defined before it."""
        d = strict_json(v["details"]) if v["details"] is not None else None
        keys = {"id", "version", "name", "controller", "purposes", "recipient", "retired"}
        if not isinstance(d, dict) or not {"id", "version", "name", "controller",
                                           "purposes"} <= d.keys() or d.keys() - keys:
            raise Bad("downstream_registered: the details are not a registration")
        # Identifiers in the one spelling of §5; names non-blank, no control character.
        ids = [d["id"]] + ([d["recipient"]] if d.get("recipient") is not None else [])
        texts = [d["name"], d["controller"]]
        purposes = d["purposes"]
        if (not all(isinstance(t, str) and is_identifier(t.encode("utf-8", "surrogatepass"))
                    for t in ids)
                or not all(isinstance(t, str) and t.strip()
                           and not any(unicodedata.category(ch) == "Cc" for ch in t)
                           for t in texts)
                or not is_int(d["version"]) or d["version"] < 1
                or not isinstance(purposes, list) or not purposes
                or not all(isinstance(p, str) and is_identifier(p.encode("utf-8", "surrogatepass"))
                           for p in purposes)
                or len(set(purposes)) != len(purposes)
                or not isinstance(d.get("retired", False), bool)):
            raise Bad("downstream_registered: the details are not a registration")
        for p in purposes:
            if p.encode("utf-8") not in state.purpose_versions:
                raise Bad(f"downstream_registered names purpose {p!r}, which no earlier "
                          "purpose_defined event defines")
        versions = state.downstreams.setdefault(d["id"], [])
        if d["version"] != len(versions) + 1:
            raise Bad(f"downstream {d['id']!r} version {d['version']} follows version "
                      f"{len(versions)}")
        versions.append((ev.seq, d))
        ev.json = d

    def check_downstream_acknowledged(self, ev, v, state):
        """§13: an acknowledgement names a registered downstream and an earlier seq, or
        (its target) one event; the target is checked once the whole log is read."""
        d = strict_json(v["details"]) if v["details"] is not None else None
        if (not isinstance(d, dict) or not isinstance(d.get("downstream"), str)
                or d.keys() - {"downstream", "up_to"}):
            raise Bad("downstream_acknowledged: the details are not an acknowledgement")
        if d["downstream"] not in state.downstreams:
            raise Bad(f"downstream_acknowledged names downstream {d['downstream']!r}, which "
                      "no earlier downstream_registered event registers")
        up_to = d.get("up_to")
        if (up_to is None) == (v["target"] is None):
            raise Bad("downstream_acknowledged names either up_to or a target, not both")
        if up_to is not None and not (is_int(up_to) and 0 <= up_to < ev.seq):
            raise Bad(f"downstream_acknowledged up_to {up_to!r} is not an earlier event")
        ev.json = d

    def check_ack_targets(self):
        """§13: an acknowledgement's target is an earlier event its downstream's feed
        showed. Returns findings (seq, why)."""
        findings = []
        by_id = None
        versions = {}
        for e in self.events:
            if e.kind == "downstream_registered":
                versions.setdefault(e.json["id"], []).append((e.seq, e.json))
            if e.kind != "downstream_acknowledged" or e.target is None:
                continue
            if by_id is None:
                by_id = {x.id: x for x in self.events}
            t = by_id.get(e.target)
            mine = versions[e.json["downstream"]]
            shown = t is not None and t.seq < e.seq and (
                any(self.feed_shows(mine, self.events[s])
                    for s in (strict_json(t.details) or {}).get("erased_seqs", [])
                    if is_int(s) and 0 <= s < len(self.events))
                if t.kind == "subject_erased" else self.feed_shows(mine, t))
            if not shown:
                findings.append((e.seq, "downstream_acknowledged: its target is no earlier "
                                        "event of the downstream's feed"))
        return findings

    @staticmethod
    def feed_covers(d, purpose, recipient):
        """§13: whether version `d`, retired or not, covers an event of this purpose and
        recipient: one of its purposes, and no recipient of its own, or the event's
        recipient NULL or equal to it."""
        mine = d.get("recipient")
        return (purpose is not None and purpose.decode("utf-8") in d["purposes"]
                and (mine is None or recipient is None or recipient.decode("utf-8") == mine))

    @staticmethod
    def in_force(versions, seq):
        """§13: the version in force at `seq`: the last registered before it, or the
        first."""
        return ([d for s, d in versions if s < seq] or [versions[0][1]])[-1]

    def feed_admits(self, versions, seq, kind, purpose, recipient):
        """§13: whether the version in force at `seq` admits an event of this kind,
        purpose and recipient: a grant, or an event ending consent, that it covers;
        never anything of a retired version."""
        d = self.in_force(versions, seq)
        return ((kind == "given" or kind in ENDS_A_GRANT) and not d.get("retired", False)
                and self.feed_covers(d, purpose, recipient))

    def earlier_grants(self, e):
        """§13: the grants before `e` of its subject and purpose: by subject while `e`
        keeps it; once blanked, by `subject_key` among blanked rows, after the latest
        `subject_readmitted` of that key before `e`."""
        if self.grant_index is None:
            by_subject, by_key = {}, {}
            for g in self.events:
                if g.kind == "given" and g.subject is not None:
                    by_subject.setdefault((g.subject, g.purpose), []).append(g)
                elif (g.subject is None and g.subject_key is not None
                      and g.kind in ("given", "subject_readmitted")):
                    by_key.setdefault(g.subject_key, []).append(g)
            self.grant_index = (by_subject, by_key)
        by_subject, by_key = self.grant_index
        if e.subject is not None:
            return [g for g in by_subject.get((e.subject, e.purpose), []) if g.seq < e.seq]
        grants = []
        for g in by_key.get(e.subject_key, []) if e.subject_key is not None else []:
            if g.seq >= e.seq:
                break
            if g.kind == "subject_readmitted":
                grants = []
            elif g.purpose == e.purpose:
                grants.append(g)
        return grants

    def feed_shows(self, versions, e):
        """§13: whether the downstream with these versions shows the subject event `e`:
        a grant its version in force admits; an event ending consent that its version
        in force admits, after a grant G of the same subject, purpose and recipient
        scope that the feed showed; or, when its version in force does not admit it
        (retired, narrowed), one that version's recipient filter lets through, ending a
        grant the feed showed and still holds: per recipient scope, the latest grant
        before it, shown, whose version covers it. Never a refusal, a served notice or
        an overruled objection."""
        if e.kind == "given":
            return self.feed_admits(versions, e.seq, e.kind, e.purpose, e.recipient)
        if e.kind not in ENDS_A_GRANT:
            return False
        same_scope = [g for g in self.earlier_grants(e)
                      if g.recipient is None or e.recipient is None or g.recipient == e.recipient]
        if self.feed_admits(versions, e.seq, e.kind, e.purpose, e.recipient):
            return any(self.feed_admits(versions, g.seq, "given", g.purpose, g.recipient)
                       for g in same_scope)
        now = self.in_force(versions, e.seq)
        mine = now.get("recipient")
        if mine is not None and e.recipient is not None and e.recipient.decode("utf-8") != mine:
            return False
        latest = {}
        for g in same_scope:
            latest[g.recipient] = g
        return any(self.feed_admits(versions, g.seq, "given", g.purpose, g.recipient)
                   and self.feed_covers(self.in_force(versions, g.seq), e.purpose, e.recipient)
                   for g in latest.values())

    def check_notice_defined(self, ev, v, state):
        nid, version, details = v["notice_id"], v["notice_version"], v["details"]
        if nid is None:
            raise Bad("notice_defined lacks the notice id")
        if version is None:
            raise Bad("notice_defined lacks the version")
        d = strict_json(details) if details is not None else None
        if not isinstance(d, dict):
            raise Bad("notice_defined lacks a JSON notice definition")
        if not (isinstance(d.get("id"), str) and d["id"].encode("utf-8") == nid
                and isinstance(d.get("version"), str) and d["version"].encode("utf-8") == version):
            raise Bad(f"notice_defined defines {d.get('id')!r} version {d.get('version')!r}, "
                      f"not {show(nid)} version {show(version)}")
        if (nid, version) in state.notices:
            raise Bad(f"notice {show(nid)} version {show(version)} is defined again "
                      f"(first at {state.notices[(nid, version)]})")
        state.notices[(nid, version)] = ev.seq

    def check_erasure(self, ev, v, state):
        """E1 and E2. The length of `erased_seqs` is checked with E3."""
        d = strict_json(v["details"]) if v["details"] is not None else None
        marker = v["subject_key"]
        if not isinstance(d, dict):
            raise Bad("E1: subject_erased details are not a JSON object")
        reason = d.get("reason")
        if not isinstance(reason, str) or reason == "":
            raise Bad("E1: subject_erased lacks a non-empty text reason")
        if not is_int(d.get("events_erased")):
            raise Bad("E1: subject_erased lacks an integer events_erased")
        present = [c for c in NOT_ON_ERASURE if v[c] is not None]
        if present:
            raise Bad(f"E1: subject_erased has {', '.join(present)}")
        if v["encoding"] == 2:
            if marker is None:
                raise Bad("E1: subject_erased has no 32-byte subject_key")
            seqs = d.get("erased_seqs")
            if not isinstance(seqs, list) or not all(is_int(s) for s in seqs):
                raise Bad("E1: subject_erased lacks an integer array erased_seqs")
            if any(a >= b for a, b in zip(seqs, seqs[1:])):
                raise Bad("E1: erased_seqs is not strictly ascending")
        else:
            hexed = d.get("subject_key")
            if not isinstance(hexed, str):
                raise Bad("E1: schema-1 subject_erased lacks details.subject_key")
            if marker is None or hexed != marker.hex():
                raise Bad("E1: details.subject_key is not the lowercase hex of the "
                          "subject_key column")
        # E2: erased again only once a readmission ended the marker's last erasure.
        if state.markers.get(marker) is not None:
            raise Bad(f"E2: the same marker as the erasure at {state.markers[marker]}, which "
                      "no readmission ended")
        state.markers[marker] = ev.seq
        ev.json = d

    def check_readmission(self, ev, v, state):
        """E8: a readmission names, in hashed fields, the erasure in force of its marker,
        and ends it."""
        present = [c for c in NOT_ON_ERASURE + ("personal_digest",) if v[c] is not None]
        if present:
            raise Bad(f"E8: subject_readmitted has {', '.join(present)}")
        marker = v["subject_key"]
        if v["encoding"] != 2 or marker is None:
            raise Bad("E8: subject_readmitted lacks a hashed 32-byte subject_key (encoding 2)")
        d = strict_json(v["details"]) if v["details"] is not None else None
        if not isinstance(d, dict):
            raise Bad("E8: subject_readmitted details are not a JSON object")
        reason = d.get("reason")
        if not isinstance(reason, str) or reason == "":
            raise Bad("E8: subject_readmitted lacks a non-empty text reason")
        ends = d.get("erasure_seq")
        in_force = state.markers.get(marker)
        if not is_int(ends) or in_force is None or ends != in_force:
            raise Bad(f"E8: subject_readmitted names erasure {ends!r}; its marker's erasure in "
                      f"force is {in_force!r}")
        state.markers[marker] = None
        ev.json = d

    def check_subject_event(self, v, e7, state):
        if v["purpose"] is None or v["purpose_version"] is None:
            raise Bad("a subject event lacks purpose or purpose_version")
        defined = state.purpose_versions.get(v["purpose"], 0)
        if not 1 <= v["purpose_version"] <= defined:
            raise Bad(f"the event names version {v['purpose_version']} of purpose "
                      f"{show(v['purpose'])}, which no earlier purpose_defined event defined")
        if v["encoding"] == 2 and v["subject_key"] is None:
            raise Bad("an encoding-2 subject event lacks its 32-byte subject_key")
        blanked = v["salt"] is None
        if not blanked:
            if (v["source_id"] is None) != (v["source_key"] is None):
                raise Bad("source_id and source_key are not both present or both absent")
            if v["encoding"] == 1 and v["subject_key"] is not None:
                raise Bad("an unblanked encoding-1 row has a subject_key")
        if e7:
            if not blanked and v["encoding"] == 2 and v["subject"] is not None:
                if v["subject_key"] != keyed(self.key, SUBJECT_DOMAIN, v["subject"]):
                    raise Bad("E7: subject_key is not the keyed pseudonym of the subject")
            if v["source_id"] is not None:
                if v["source_key"] != keyed(self.key, SOURCE_DOMAIN, v["source_id"]):
                    raise Bad("E7: source_key is not the keyed pseudonym of source_id")

    @staticmethod
    def canonical(v):
        fields = CANONICAL_2 if v["encoding"] == 2 else CANONICAL_1
        return bytes([v["encoding"]]) + b"".join(field(v[c]) for c in fields)

    # ---------------------------------------------------------------- step 6
    def check_erasures(self):
        """E3-E6. Returns findings (seq, why)."""
        findings = []
        size = len(self.events)
        ev = self.events
        erasures = [e for e in ev if e.kind == "subject_erased"]
        timeline = self.marker_events()

        def clamp(*seqs):
            """The smaller of the seqs that name events."""
            real = [s for s in seqs if is_int(s) and 0 <= s < size]
            return min(real) if real else None

        # E3.
        listed = {}
        for er in erasures:
            if er.encoding != 2:
                continue
            n = er.json["events_erased"]
            if len(er.json["erased_seqs"]) != n:
                findings.append((er.seq, f"E3: erasure {er.seq} lists "
                                         f"{len(er.json['erased_seqs'])} seqs, events_erased "
                                         f"says {n}"))
            # What came before the marker's last readmission was an earlier erasure's.
            previous = standing(timeline, er.subject_key, er.seq)
            floor = previous.seq if previous is not None else -1
            for s in er.json["erased_seqs"]:
                where = clamp(s, er.seq)
                if s >= er.seq or s < 0:
                    findings.append((where, f"E3: erasure {er.seq} lists {s}, not an earlier "
                                            "event"))
                    continue
                if s <= floor:
                    findings.append((where, f"E3: erasure {er.seq} lists {s}, which precedes "
                                            f"its marker's readmission at {floor}"))
                    continue
                row = ev[s]
                if not row.blanked_subject_event:
                    findings.append((where, f"E3: erasure {er.seq} lists {s}, which is not a "
                                            "blanked subject event"))
                elif row.subject_key != er.subject_key:
                    findings.append((where, f"E3: erasure {er.seq} lists {s}, whose "
                                            "subject_key is not its marker"))
                if listed.get(s, er.seq) != er.seq:
                    findings.append((where, f"E3: {s} is listed by erasures {listed[s]} and "
                                            f"{er.seq}"))
                else:
                    listed[s] = er.seq

        # E5 (and the table E4 uses).
        before = {}
        lc = self.configured
        if self.config is not None and "erased_before_migration" in self.config:
            per_erasure = {}
            for r, e in self.config["erased_before_migration"]:
                where = clamp(r, e)
                if where is None:
                    where = lc
                ok = True
                if not (0 <= r < size and ev[r].blanked_subject_event):
                    findings.append((where, f"E5: erased_before_migration names {r}, not a "
                                            "blanked subject event"))
                    ok = False
                elif ev[r].source_key is not None:
                    findings.append((where, f"E5: erased_before_migration names {r}, which "
                                            "has a source_key"))
                    ok = False
                if not (0 <= e < size and ev[e].kind == "subject_erased"):
                    findings.append((where, f"E5: erased_before_migration names {e}, not a "
                                            "subject_erased event"))
                    ok = False
                if ok:
                    before.setdefault(r, []).append(e)
                    if r < e:
                        per_erasure[e] = per_erasure.get(e, 0) + 1
            for er in erasures:
                if er.encoding != 1:
                    continue
                n = per_erasure.get(er.seq, 0)
                if n != er.json["events_erased"]:
                    findings.append((er.seq, f"E5: erased_before_migration accounts for {n} "
                                             f"rows before erasure {er.seq}, it says "
                                             f"{er.json['events_erased']}"))

        # E4 and E6.
        for row in ev:
            if row.kind not in SUBJECT_KINDS:
                continue
            if row.salt is None:
                if row.seq in listed:
                    continue
                if any(ev[e].encoding == 1 and ev[e].subject_key == row.subject_key
                       for e in before.get(row.seq, ())):
                    continue
                # Appended while its marker's erasure was in force.
                st = standing(timeline, row.subject_key, row.seq)
                if row.encoding == 2 and st is not None and st.kind == "subject_erased":
                    continue
                findings.append((row.seq, "E4: a blanked subject event no erasure accounts for"))
            elif row.subject_key is not None and row.subject_key in timeline:
                # Only after a readmission that no later erasure followed.
                last = timeline[row.subject_key][-1]
                if not (last.kind == "subject_readmitted" and last.seq < row.seq):
                    findings.append((row.seq, "E6: an event that keeps its subject has the "
                                              f"marker of erasure or readmission {last.seq}"))
        return findings

    def marker_events(self):
        """Every erasure and readmission, per marker, in log order."""
        timeline = {}
        for e in self.events:
            if e.kind in ("subject_erased", "subject_readmitted"):
                timeline.setdefault(e.subject_key, []).append(e)
        return timeline

    def check_derived(self):
        """§7. Returns findings (seq, why)."""
        findings = []

        def own(cell):
            """§8: a stored row's own `seq` if that is a non-negative integer, else 0."""
            t, s = cell
            return s if t == INTEGER and s >= 0 else 0

        def values(key):
            return tuple(v for _, v in key)

        # purposes and notices.
        purposes, notices, erased = {}, {}, {}
        bases = {}
        for e in self.events:
            if e.kind == "purpose_defined":
                key = ((TEXT, e.purpose), (INTEGER, e.purpose_version))
                purposes[key] = (e.seq, [(INTEGER, e.seq), (INTEGER, e.recorded_at),
                                         (TEXT, e.details)])
                bases[e.purpose] = e.json["lawful_basis"]
            elif e.kind == "notice_defined":
                key = ((TEXT, e.notice_id), (TEXT, e.notice_version))
                notices[key] = (e.seq, [(INTEGER, e.seq), (INTEGER, e.recorded_at),
                                        (TEXT, e.details)])

        # erased: the markers whose last erasure no readmission ended.
        for marker, events in self.marker_events().items():
            last = events[-1]
            if last.kind == "subject_erased":
                erased[(BLOB, marker)] = (last.seq, [(INTEGER, last.seq)])

        for table in ("purposes", "notices"):
            rebuilt = purposes if table == "purposes" else notices
            # The event that defines an (id, version), by value whatever the types.
            defines = {values(key): seq for key, (seq, _) in rebuilt.items()}
            stored = {}
            for c in typed_rows(
                    self.conn,
                    f"SELECT {typed_select(['id', 'version', 'seq', 'registered_at', 'def'])} "
                    f"FROM {table}"):
                stored[(c[0], c[1])] = c[2:]
            for key, (seq, want) in rebuilt.items():
                got = stored.get(key)
                if got is None:
                    findings.append((seq, f"{table}: the row of event {seq} is missing"))
                elif got != want:
                    findings.append((seq, f"{table}: the row of event {seq} differs"))
            for key, got in stored.items():
                if key in rebuilt:
                    continue  # compared above
                # §8: a registry row that differs from the log is named by the event
                # that defines its (id, version), else by its own seq, else 0.
                where = defines.get(values(key), own(got[0]))
                findings.append((where, f"{table}: row ({show(key[0][1])}, "
                                        f"{show(key[1][1])}) is defined by no event "
                                        "(or has a key of the wrong type)"))

        # erased: named by the erasure's seq; a row no event records by its own seq.
        by_marker = {key[1]: seq for key, (seq, _) in erased.items()}
        stored = {}
        for c in typed_rows(
                self.conn, "SELECT typeof(subject_key), subject_key, typeof(seq), seq FROM erased"):
            stored[c[0]] = c[1:]
        for key, (seq, want) in erased.items():
            got = stored.get(key)
            if got != want:
                findings.append((seq, f"erased: the row of erasure {seq} is "
                                      + ("missing" if got is None else "different")))
        for key, got in stored.items():
            if key not in erased:
                where = by_marker.get(key[1], own(got[0]))
                findings.append((where, "erased: a row no erasure records (or a marker of "
                                        "the wrong type)"))

        # current.
        rebuilt = self.fold(bases)
        cols = ["subject", "purpose", "recipient", "state", "seq", "event_id", "since",
                "until", "last_effective"]
        stored = {}
        for c in typed_rows(self.conn, f"SELECT {typed_select(cols)} FROM current"):
            stored[tuple(c[:3])] = c[3:]
        for key, want in rebuilt.items():
            got = stored.get(key)
            seq = want[1][1]
            if got is None:
                findings.append((seq, f"current: the row {self.show_key(key)} is missing"))
            elif got != want:
                findings.append((seq, f"current: the row {self.show_key(key)} differs "
                                      "from the log"))
        by_value = {values(key): want[1][1] for key, want in rebuilt.items()}
        for key, got in stored.items():
            if not current_row_sound(key, got):
                # §8: a stored row of the wrong types or values is named by the rebuilt
                # row with the same subject, purpose and recipient, else by its own seq
                # if a non-negative integer, else 0.
                findings.append((by_value.get(values(key), own(got[1])),
                                 f"current: the row {self.show_key(key)} has a value of the "
                                 "wrong type or out of range"))
            elif key not in rebuilt:
                findings.append((own(got[1]), f"current: the row {self.show_key(key)} "
                                                "has no events"))
        return findings

    @staticmethod
    def show_key(key):
        return "(" + ", ".join(show(v) for _, v in key) + ")"

    def fold(self, bases):
        """§7 `current`: both folds of every group, the one of the final basis kept."""
        groups = {}  # (subject, purpose) -> {"a": {recipient: row}, "other": {...}}
        for e in self.events:
            if e.kind not in SUBJECT_KINDS or e.salt is None or e.subject is None:
                continue
            g = groups.setdefault((e.subject, e.purpose), {"a": {}, "other": {}})
            for basis, rows in g.items():
                fold_event(rows, e, basis == "a")
        out = {}
        for (subject, purpose), g in groups.items():
            rows = g["a"] if bases.get(purpose) == "a" else g["other"]
            for recipient, r in rows.items():
                key = ((TEXT, subject), (TEXT, purpose), (TEXT, recipient))
                out[key] = [
                    (TEXT, r["state"].encode("utf-8")),
                    (INTEGER, r["seq"]),
                    (BLOB, r["event_id"]),
                    (INTEGER, r["since"]),
                    (INTEGER, r["until"]) if r["until"] is not None else ("null", None),
                    (INTEGER, r["last_effective"]),
                ]
        return out

    # ---------------------------------------------------------------- all
    def check_checkpoints(self, size):
        """§8 step 7: each stored note parses as a checkpoint of its size, which the
        log holds (size, and the root at that size)."""
        good = None
        rows = [((ts.decode(), at), (tn.decode(), note)) for ts, at, tn, note in self.conn.execute(
            "SELECT typeof(size), size, typeof(note), note FROM checkpoints NOT INDEXED")]
        for (ts, at), (tn, note) in sorted(rows, key=lambda r: (r[0][0] != INTEGER, r[0][1] if r[0][0] == INTEGER else 0)):
            if ts != INTEGER or tn != TEXT or at < 0:
                raise Bad("a stored checkpoint row is not a size and a note text")
            try:
                note = note.decode("utf-8")
            except UnicodeDecodeError:
                raise Bad(f"the checkpoint stored for size {at} is not UTF-8") from None
            split = note.rfind("\n\n")
            lines = note[:split + 1].split("\n")[:-1] if split >= 0 else []
            try:
                cp_size, cp_root = int(lines[1]), base64.b64decode(lines[2], validate=True)
            except (IndexError, ValueError, binascii.Error):
                raise Bad(f"the checkpoint stored for size {at} is not a checkpoint") from None
            if len(lines) < 3 or str(cp_size) != lines[1] or cp_size != at or len(cp_root) != 32:
                raise Bad(f"the checkpoint stored for size {at} is not a checkpoint of that size")
            if cp_size > size:
                raise Bad(f"the log has {size} events but kept a checkpoint of size {cp_size}: "
                          "its tail was truncated")
            if mth(self.leaves, 0, cp_size) != cp_root:
                where = f"; an event among seq {good}..{cp_size - 1} was changed" if good is not None else ""
                raise Bad(f"the log was rewritten before size {cp_size}{where}")
            good = cp_size

    def run(self, head):
        self.check_schema()
        self.check_meta()
        self.check_integrity()
        findings = self.check_log()
        if findings:
            raise Bad(*min_finding(findings))
        size = len(self.leaves)
        # Step 5.
        if size > 0 and self.configured is None:
            raise Bad("the log has no ledger_configured event")
        # Step 6.
        findings = self.check_erasures() + self.check_ack_targets() + self.check_derived()
        if findings:
            raise Bad(*min_finding(findings))
        root = mth(self.leaves, 0, size)
        # Step 7: the log holds every checkpoint it kept (signatures need the log's
        # key and Ed25519, which the standard library lacks: not checked here).
        self.check_checkpoints(size)
        # Step 8.
        if head is not None:
            head_size, head_root = head
            if size < head_size:
                raise Bad(f"the ledger has {size} events, the head {head_size}: its tail was "
                          "truncated", size)
            if mth(self.leaves, 0, head_size) != head_root:
                raise Bad(f"the root at size {head_size} differs from the head: the log was "
                          "rewritten")
        return size, root


class RowState:
    """What step 3 carries from row to row."""

    def __init__(self):
        self.configured = None
        self.clock = None
        self.last_recorded = None
        self.purpose_versions = {}
        # §13: downstream id -> [(seq, registration)], in order.
        self.downstreams = {}
        self.notices = {}
        self.markers = {}  # marker -> seq of its erasure in force; None once readmitted


def standing(timeline, marker, seq):
    """The last erasure or readmission of `marker` before `seq`, or None."""
    last = None
    for e in timeline.get(marker, ()):
        if e.seq >= seq:
            break
        last = e
    return last


def fold_event(rows, e, consent):
    """Folds event `e` into the rows (recipient -> row) of one group under one basis."""
    decides = e.kind in (CONSENT_DECIDING if consent else OTHER_DECIDING)
    if e.recipient is None:
        targets = list(rows)
        if b"" not in rows:
            targets.append(b"")
    else:
        targets = [e.recipient]
        if e.recipient not in rows and b"" in rows:
            rows[e.recipient] = dict(rows[b""])
    for recipient in targets:
        r = rows.get(recipient)
        if decides:
            if r is not None and e.effective_at < r["since"]:
                r["last_effective"] = max(r["last_effective"], e.effective_at)
            else:
                rows[recipient] = {
                    "state": STATE_OF.get(e.kind, e.kind),
                    "seq": e.seq,
                    "event_id": e.id,
                    "since": e.effective_at,
                    "until": e.expires_at if e.kind == "given" else None,
                    "last_effective": (max(r["last_effective"], e.effective_at)
                                       if r is not None else e.effective_at),
                }
        elif (e.kind == "invalidated" and r is not None and r["state"] == "given"
              and (e.target is None or e.target == r["event_id"])):
            r["state"] = "invalidated"
            r["seq"] = e.seq
            r["event_id"] = e.id
            r["until"] = None


STATES = {b"given", b"refused", b"withdrawn", b"revoked", b"objected", b"invalidated",
          b"not_consent_based"}


def current_row_sound(key, cells):
    """A stored `current` row has the types and values §2 and §7 give it: TEXT subject,
    purpose and recipient; a known state; an event's seq and 16-byte id; INTEGER times
    (`until` NULL or INTEGER)."""
    (ts, _), (tp, _), (tr, _) = key
    (tst, state), (tq, seq), (te, eid), (tsi, _), (tu, _), (tl, _) = cells
    return (ts == tp == tr == tst == TEXT and state in STATES
            and tq == INTEGER and seq >= 0 and te == BLOB and len(eid) == 16
            and tsi == INTEGER and tu in (INTEGER, "null") and tl == INTEGER)


def min_finding(findings):
    seq, why = min(findings, key=lambda f: (f[0] is None, f[0] if f[0] is not None else 0))
    return why, seq


def open_ro(path):
    # A URI names the file: escape what a URI would read otherwise.
    quoted = path.replace("%", "%25").replace("?", "%3f").replace("#", "%23")
    conn = sqlite3.connect(f"file:{quoted}?mode=ro", uri=True)
    conn.text_factory = bytes
    try:
        conn.execute("PRAGMA trusted_schema = OFF")
        conn.execute("PRAGMA query_only = ON")
    except sqlite3.DatabaseError:
        pass
    return conn


def parse_head(text):
    size, _, root = text.strip().partition(":")
    try:
        root_bytes = bytes.fromhex(root)
        if len(root_bytes) != 32 or int(size) < 0:
            raise ValueError
        return int(size), root_bytes
    except ValueError:
        raise argparse.ArgumentTypeError("a head is SIZE:ROOTHEX (64 hex digits)")


def read_key(path):
    """§1: 64 hex digits and a newline."""
    with open(path, "rb") as f:
        data = f.read()
    text = data[:-1] if data.endswith(b"\n") else data
    if len(text) != 64 or any(c not in b"0123456789abcdefABCDEF" for c in text):
        raise ValueError(f"{path} is not a pseudonym key (64 hex digits and a newline)")
    return bytes.fromhex(text.decode("ascii"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("ledger")
    parser.add_argument("--head", type=parse_head, help="SIZE:ROOTHEX published earlier")
    parser.add_argument("--key-file", help="the pseudonym key (§5): checks E7 and the key id")
    args = parser.parse_args()
    key = None
    if args.key_file is not None:
        try:
            key = read_key(args.key_file)
        except (OSError, ValueError) as e:
            parser.error(str(e))
    try:
        conn = open_ro(args.ledger)
    except sqlite3.Error as e:
        print(f"BAD: cannot open {args.ledger}: {e}")
        return 1
    checker = Checker(conn, key)
    try:
        size, root = checker.run(args.head)
    except Bad as bad:
        where = f" seq {bad.seq}" if bad.seq is not None else ""
        print(f"BAD{where}: {bad}")
        return 1
    except sqlite3.DatabaseError as e:
        print(f"BAD: not a consent ledger, or unreadable: {e}")
        return 1
    finally:
        conn.close()
    print(f"OK {size}:{root.hex()}")
    if checker.simulated:
        print("SIMULATED")
    return 0


if __name__ == "__main__":
    sys.exit(main())
