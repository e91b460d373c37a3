#!/usr/bin/env python3
"""Independent checker of a consent-ledger file, written only from docs/FORMAT.md.

Uses nothing but the standard library (sqlite3, hashlib): recomputes every personal
digest, every leaf hash, every stored tree hash and the root, and compares the root
with a head published earlier.

    verify_ledger.py LEDGER [--head SIZE:ROOTHEX]

Prints "OK SIZE:ROOTHEX" and exits 0, or prints "BAD seq N: why" (or "BAD: why" when
no single event is to blame) and exits 1.
"""

import argparse
import hashlib
import sqlite3
import sys

SUPPORTED_SCHEMA = 1
PERSONAL_DOMAIN = b"consent-ledger/personal/v1\x00"

# §3.3: the hashed columns, in order, with their types.
CANONICAL = [
    ("id", "blob"), ("seq", "int"), ("kind", "text"), ("personal_digest", "blob"),
    ("purpose", "text"), ("purpose_version", "int"), ("recipient", "text"),
    ("notice_id", "text"), ("notice_version", "text"), ("notice_sha256", "blob"),
    ("explicit", "int"), ("method", "text"), ("recorded_by", "text"),
    ("effective_at", "int"), ("recorded_at", "int"), ("expires_at", "int"),
    ("effect_deadline", "int"), ("target", "blob"), ("details", "text"),
]
PERSONAL = ["salt", "subject", "source_id", "evidence"]


class Bad(Exception):
    def __init__(self, why, seq=None):
        super().__init__(why)
        self.seq = seq


def sha256(data):
    return hashlib.sha256(data).digest()


def field(value, kind, seq, column):
    """§3.1: absent = 00; present = 01, 4-byte big-endian length, bytes."""
    if value is None:
        return b"\x00"
    if kind == "int":
        if not isinstance(value, int) or isinstance(value, bool):
            raise Bad(f"column {column} holds {type(value).__name__}, not an integer", seq)
        data = value.to_bytes(8, "big", signed=True)
    else:
        if isinstance(value, str):  # never with text_factory=bytes, kept for safety
            value = value.encode("utf-8")
        if not isinstance(value, bytes):
            raise Bad(f"column {column} holds {type(value).__name__}, not {kind}", seq)
        data = value
    return b"\x01" + len(data).to_bytes(4, "big") + data


def node(left, right):
    return sha256(b"\x01" + left + right)


def mth(leaves):
    """§3.4, RFC 9162 Merkle tree hash."""
    n = len(leaves)
    if n == 0:
        return sha256(b"")
    if n == 1:
        return leaves[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return node(mth(leaves[:k]), mth(leaves[k:]))


def check(path, head):
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as e:
        raise Bad(f"cannot open: {e}")
    # Hash the bytes as stored, whatever their encoding.
    conn.text_factory = bytes
    try:
        meta = dict(conn.execute("SELECT key, value FROM meta"))
    except sqlite3.DatabaseError as e:
        raise Bad(f"not a consent ledger: {e}")
    if meta.get(b"format", meta.get("format")) not in (b"consent-ledger", "consent-ledger"):
        raise Bad("not a consent ledger (meta.format)")
    version = meta.get(b"schema_version", meta.get("schema_version"))
    if isinstance(version, bytes):
        version = int(version) if version.isdigit() else None
    if version != SUPPORTED_SCHEMA:
        raise Bad(f"schema version {version!r} is not {SUPPORTED_SCHEMA}")

    # §4 steps 2-3: events in order, without gaps; personal digest; leaf hash.
    columns = ", ".join([c for c, _ in CANONICAL] + PERSONAL)
    stored_leaves = {}
    tree = {}
    for level, idx, h in conn.execute("SELECT level, idx, hash FROM tree"):
        tree[(level, idx)] = h
    leaves = []
    for row in conn.execute(f"SELECT {columns} FROM events ORDER BY seq"):
        values = dict(zip([c for c, _ in CANONICAL] + PERSONAL, row))
        seq = len(leaves)
        if values["seq"] != seq:
            raise Bad(f"event {seq} is missing (next row has seq {values['seq']!r})", seq)
        salt = values["salt"]
        if salt is not None:
            digest = sha256(PERSONAL_DOMAIN + field(salt, "blob", seq, "salt")
                            + field(values["subject"], "text", seq, "subject")
                            + field(values["source_id"], "text", seq, "source_id")
                            + field(values["evidence"], "text", seq, "evidence"))
            if values["personal_digest"] != digest:
                raise Bad("personal fields do not match their digest", seq)
        elif any(values[c] is not None for c in ("subject", "source_id", "evidence")):
            raise Bad("personal fields present without their salt", seq)
        canonical = b"\x01" + b"".join(field(values[c], t, seq, c) for c, t in CANONICAL)
        leaf = sha256(b"\x00" + canonical)
        if tree.get((0, seq)) != leaf:
            raise Bad("leaf hash missing or different", seq)
        leaves.append(leaf)
    size = len(leaves)

    # §4 step 4: every complete aligned subtree is stored, and nothing else.
    expected = {(0, i) for i in range(size)}
    level, hashes = 0, leaves
    while len(hashes) > 1:
        parents = [node(hashes[2 * i], hashes[2 * i + 1]) for i in range(len(hashes) // 2)]
        level += 1
        for idx, h in enumerate(parents):
            expected.add((level, idx))
            if tree.get((level, idx)) != h:
                raise Bad(f"tree hash ({level}, {idx}) wrong or missing", idx << level)
        hashes = parents
    extra = sorted(k for k in tree if k not in expected)
    if extra:
        level, idx = extra[0]
        where = idx << level if isinstance(idx, int) and isinstance(level, int) else size
        raise Bad(f"tree hash {extra[0]} lies beyond the log", min(where, size))

    root = mth(leaves)
    # §4 step 5: the log still extends the published head.
    if head is not None:
        head_size, head_root = head
        if size < head_size:
            raise Bad(f"the ledger has {size} events, the head {head_size}: tail truncated", size)
        if mth(leaves[:head_size]) != head_root:
            raise Bad(f"the root at size {head_size} differs from the head: the log was rewritten")
    return size, root


def parse_head(text):
    size, _, root = text.strip().partition(":")
    try:
        root_bytes = bytes.fromhex(root)
        if len(root_bytes) != 32 or int(size) < 0:
            raise ValueError
        return int(size), root_bytes
    except ValueError:
        raise argparse.ArgumentTypeError("a head is SIZE:ROOTHEX (64 hex digits)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("ledger")
    parser.add_argument("--head", type=parse_head, help="SIZE:ROOTHEX published earlier")
    args = parser.parse_args()
    try:
        size, root = check(args.ledger, args.head)
    except Bad as bad:
        where = f" seq {bad.seq}" if bad.seq is not None else ""
        print(f"BAD{where}: {bad}")
        return 1
    print(f"OK {size}:{root.hex()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
