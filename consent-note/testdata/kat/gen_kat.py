#!/usr/bin/env python3
"""Known-answer vectors for consent-note, computed independently of it.

Uses pyca/cryptography (OpenSSL's Ed25519) and the Python standard library only,
following the C2SP texts (signed-note, tlog-checkpoint, tlog-cosignature). Run from
this folder: `python3 gen_kat.py` rewrites kat.txt and kat.note; the Rust tests check
that consent-note produces and accepts exactly these bytes.

Written for this repository (not copied); the checkpoint body is the example of
c2sp.org/tlog-checkpoint (CC BY 4.0, the C2SP authors).
"""
import base64
import hashlib

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ORIGIN = "example.com/behind-the-sofa"
BODY = ORIGIN + "\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
TIMESTAMP = 1679315147  # the time in the tlog-cosignature example message


def key(name, type_byte, seed):
    private = Ed25519PrivateKey.from_private_bytes(seed)
    public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    key_id = hashlib.sha256(name.encode() + b"\n" + bytes([type_byte]) + public).digest()[:4]
    b64 = lambda b: base64.b64encode(b).decode()
    vkey = f"{name}+{key_id.hex()}+{b64(bytes([type_byte]) + public)}"
    skey = f"PRIVATE+KEY+{name}+{key_id.hex()}+{b64(bytes([type_byte]) + seed)}"
    return private, key_id, vkey, skey


def main():
    log_seed = hashlib.sha256(b"consent-note kat log").digest()
    wit_seed = hashlib.sha256(b"consent-note kat witness").digest()
    log, log_id, log_vkey, log_skey = key(ORIGIN, 0x01, log_seed)
    wit, wit_id, wit_vkey, wit_skey = key("witness.example.com/w1", 0x04, wit_seed)

    log_sig = log_id + log.sign(BODY.encode())
    message = f"cosignature/v1\ntime {TIMESTAMP}\n{BODY}".encode()
    cosig = wit_id + TIMESTAMP.to_bytes(8, "big") + wit.sign(message)

    note = (
        BODY
        + "\n"
        + f"\u2014 {ORIGIN} {base64.b64encode(log_sig).decode()}\n"
        + f"\u2014 witness.example.com/w1 {base64.b64encode(cosig).decode()}\n"
    )
    with open("kat.note", "w", encoding="utf-8", newline="\n") as f:
        f.write(note)
    with open("kat.txt", "w", encoding="utf-8", newline="\n") as f:
        f.write(f"log-skey {log_skey}\n")
        f.write(f"log-vkey {log_vkey}\n")
        f.write(f"witness-skey {wit_skey}\n")
        f.write(f"witness-vkey {wit_vkey}\n")
        f.write(f"timestamp {TIMESTAMP}\n")


if __name__ == "__main__":
    main()
