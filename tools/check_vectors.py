#!/usr/bin/env python3
"""An independent opener for the sealed-session v1 format, written from
docs/FORMAT.md alone, checked against tests/vectors/v1.json.

It uses libsodium (PyNaCl) for XChaCha20-Poly1305 and nothing from the Rust
crate, so it shows the written spec and the vectors agree.

    pip install pynacl && python3 tools/check_vectors.py
"""

import base64
import binascii
import json
import pathlib
import re
import struct
import sys

from nacl.bindings import crypto_aead_xchacha20poly1305_ietf_decrypt
from nacl.exceptions import CryptoError

ROOT = pathlib.Path(__file__).resolve().parent.parent
SETTINGS = dict(absolute=43200, idle=1800, skew=60, single_use=600)
B64URL = re.compile(r"^[A-Za-z0-9_-]*$")


class Refused(Exception):
    pass


def b64decode_strict(text):
    if not B64URL.match(text) or len(text) % 4 == 1:
        raise Refused("malformed")
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    # Canonical: re-encoding must give the same text (no stray trailing bits).
    if base64.urlsafe_b64encode(raw).decode().rstrip("=") != text:
        raise Refused("malformed")
    return raw


def varint(buf, pos, max_bytes):
    value, shift = 0, 0
    for i in range(max_bytes):
        if pos + i >= len(buf):
            raise Refused("invalid_claims")
        b = buf[pos + i]
        value |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return value, pos + i + 1
    raise Refused("invalid_claims")


def decode_claims(pt):
    if len(pt) < 16:
        raise Refused("invalid_claims")
    claims = {"sid": pt[:16]}
    pos = 16
    for field, width in (("created", 10), ("sealed", 10), ("expires", 10), ("generation", 5)):
        claims[field], pos = varint(pt, pos, width)
    if pos + 2 > len(pt):
        raise Refused("invalid_claims")
    claims["kind"] = pt[pos]
    pos += 1
    if claims["kind"] not in (0, 1):
        raise Refused("invalid_claims")
    tag = pt[pos]
    pos += 1
    if tag == 1:
        n, pos = varint(pt, pos, 10)
        claims["subject"] = pt[pos:pos + n].decode()
        pos += n
    elif tag != 0:
        raise Refused("invalid_claims")
    return claims, pos


def open_value(vector):
    name = vector["cookie_name"].encode()
    purpose = vector["purpose"].encode()
    value = vector["value"]
    now = vector["now"]
    if len(value) > 4096 - len(name) or len(value) < 60:
        raise Refused("malformed")
    env = b64decode_strict(value)
    if env[0] != 1:
        raise Refused("malformed")
    (key_id,) = struct.unpack(">I", env[1:5])
    keys = {k["id"]: base64.urlsafe_b64decode(k["key"] + "=") for k in vector["keys"]}
    if key_id not in keys:
        raise Refused("unauthenticated")
    aad = env[:5] + struct.pack(">H", len(name)) + name + struct.pack(">H", len(purpose)) + purpose
    nonce, body = env[5:29], env[29:]
    try:
        pt = crypto_aead_xchacha20poly1305_ietf_decrypt(body, aad, nonce, keys[key_id])
    except CryptoError:
        raise Refused("unauthenticated")
    claims, _ = decode_claims(pt)
    if claims["sealed"] > now + SETTINGS["skew"] or claims["created"] > now + SETTINGS["skew"]:
        raise Refused("not_yet_valid")
    if claims["created"] > claims["sealed"]:
        raise Refused("invalid_claims")
    window = SETTINGS["absolute"] if claims["kind"] == 0 else SETTINGS["single_use"]
    if now >= min(claims["expires"], claims["created"] + window):
        raise Refused("expired")
    if claims["kind"] == 0 and now >= claims["sealed"] + SETTINGS["idle"]:
        raise Refused("idle_expired")
    return pt


def main():
    data = json.loads((ROOT / "tests/vectors/v1.json").read_text())
    assert data["format"] == "sealed-session/v1"
    passed = failed = 0
    for v in data["vectors"]:
        try:
            pt = open_value(v)
            verdict = "valid"
            ok = v["expect"] == "valid" and binascii.hexlify(pt).decode() == v["plaintext_hex"]
        except Refused as e:
            verdict = f"invalid ({e})"
            ok = v["expect"] == "invalid" and v["reason"] == str(e)
        print(f"{'ok  ' if ok else 'FAIL'} {v['id']}: {verdict}")
        passed += ok
        failed += not ok
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
