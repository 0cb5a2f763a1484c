#!/usr/bin/env python3
"""An independent opener for the sealed-session v1 format, written from
docs/FORMAT.md alone, checked against tests/vectors/v1.json.

It uses libsodium (PyNaCl) for XChaCha20-Poly1305 and nothing from the Rust
crate, so it shows the written spec and the vectors agree.

    pip install pynacl && python3 tools/check_vectors.py

The opener performs the checks of FORMAT.md section 4 in their numbered
order (1, 2, 3, 4, 5, 5a, 6, 7, 7a, 8, ..., 14) and reports the step that
refuses a value along with the error kind. Every vector is checked with the
settings, keyring, cookie name, purpose, opener kind, app data type and
fresh replay guard the "Test vectors" section of FORMAT.md describes:

- a `valid` vector must open, its plaintext must equal `plaintext_hex`, its
  data must decode as the type `data` names with every byte used (step 13),
  and it must be due for a re-seal exactly when `reseal_due` is true;
- an `invalid` vector must be refused as `reason` at step `check`.

It prints `ok   <id>: ...` or `FAIL <id>: <what differed>` per vector, then
`N passed, M failed`, and exits 1 if anything failed.
"""

import json
import pathlib
import re
import sys

from nacl.bindings import crypto_aead_xchacha20poly1305_ietf_decrypt
from nacl.exceptions import CryptoError

ROOT = pathlib.Path(__file__).resolve().parent.parent

# The v1 defaults the vectors are checked with (FORMAT.md, "Test vectors").
SETTINGS = dict(absolute=43200, idle=1800, renew_after=300, skew=60, single_use_window=600, grace=30)

U64_MAX = 2**64 - 1
U32_MAX = 2**32 - 1

# What each step of section 4 refuses a value as (the table's third column;
# the spelling is the vectors' `reason`). Step 12 (revocation) is listed for
# completeness: no revocation hook is configured here.
STEP_REASON = {
    "1": "malformed",
    "2": "malformed",
    "3": "malformed",
    "4": "malformed",
    "5": "unauthenticated",
    "5a": "unauthenticated",
    "6": "unauthenticated",
    "7": "invalid_claims",
    "7a": "wrong_kind",
    "8": "not_yet_valid",
    "9": "invalid_claims",
    "10": "expired",
    "11": "idle_expired",
    "12": "revoked",
    "13": "payload_mismatch",
    "14": "replayed",
}

SESSION, SINGLE_USE = 0, 1


class Refused(Exception):
    """The opener refused a value at `step` of section 4, as `reason`."""

    def __init__(self, step, detail):
        self.step = step
        self.reason = STEP_REASON[step]
        self.detail = detail
        super().__init__(f"step {step} ({self.reason}): {detail}")


class ConfigError(Exception):
    """A vector describes a keyring or opener the spec does not allow."""


# Saturating u64 time arithmetic (section 4: sums never wrap).
def sat_add(a, b):
    return min(a + b, U64_MAX)


def sat_sub(a, b):
    # The spec only defines saturating sums; `now - sealed` can be negative
    # for a value sealed within the skew in the future, and is taken as 0.
    return max(a - b, 0)


# ------------------------------------------------- strict base64url (§1)

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
B64_VALUE = {c: i for i, c in enumerate(ALPHABET)}


def b64url_decode_strict(text):
    """Base64url without padding, decoded by the rules of section 1.
    Returns the bytes, or None for any text those rules refuse."""
    values = []
    for c in text:
        v = B64_VALUE.get(c)
        # Outside the alphabet: `+`, `/`, the padding `=`, whitespace
        # (a trailing newline included), anything non-ASCII.
        if v is None:
            return None
        values.append(v)
    rem = len(values) % 4
    if rem == 1:  # no byte string encodes to a length of 1 mod 4
        return None
    # Non-canonical trailing bits: the bits of the last character that no
    # byte uses must be zero (low 4 bits for a 2-char group, low 2 for 3).
    if rem == 2 and values[-1] & 0x0F:
        return None
    if rem == 3 and values[-1] & 0x03:
        return None
    out = bytearray()
    acc = bits = 0
    for v in values:
        acc = (acc << 6) | v
        bits += 6
        if bits >= 8:
            bits -= 8
            out.append(acc >> bits)
            acc &= (1 << bits) - 1
    return bytes(out)


# ------------------------------------------------------------ keys (§5)

HEX64 = re.compile(r"[0-9a-fA-F]{64}")


def parse_key_text(text):
    """A key's text form, told apart by length: 43 characters of strict
    base64url, or exactly 64 hex digits of either case."""
    if not isinstance(text, str):
        raise ConfigError("key is not a string")
    if len(text) == 43:
        key = b64url_decode_strict(text)
        if key is None or len(key) != 32:
            raise ConfigError("key: not 43 characters of strict base64url")
        return key
    # fullmatch, not `^...$`: `$` also matches before a final newline.
    if len(text) == 64 and HEX64.fullmatch(text):
        return bytes.fromhex(text)
    raise ConfigError(f"key: neither 43 base64url nor 64 hex characters ({len(text)})")


def is_uint(x, maximum):
    return isinstance(x, int) and not isinstance(x, bool) and 0 <= x <= maximum


def build_keyring(entries):
    """The keyring of a vector's `keys`: the `primary` entry first, distinct
    u32 ids; an open-only key may carry `demoted`, the primary may not."""
    primaries = [e for e in entries if e.get("primary") is True]
    if len(primaries) != 1:
        raise ConfigError(f"keyring needs exactly one primary, got {len(primaries)}")
    if "demoted" in primaries[0]:
        raise ConfigError("the primary key carries a demotion time")
    ordered = primaries + [e for e in entries if e.get("primary") is not True]
    keys = {}
    for e in ordered:
        if not is_uint(e.get("id"), U32_MAX):
            raise ConfigError(f"key id {e.get('id')!r} is not a u32")
        if e["id"] in keys:
            raise ConfigError(f"repeated key id {e['id']}")
        demoted = e.get("demoted")
        if demoted is not None and not is_uint(demoted, U64_MAX):
            raise ConfigError(f"key {e['id']}: demotion time {demoted!r} is not a u64")
        keys[e["id"]] = (parse_key_text(e["key"]), demoted)
    return ordered[0]["id"], keys


# ------------------------------------------------------- postcard (§3)


class DecodeError(Exception):
    pass


class Reader:
    """Reads postcard fields from a byte string, raising DecodeError."""

    def __init__(self, buf):
        self.buf = buf
        self.pos = 0

    def remaining(self):
        return len(self.buf) - self.pos

    def byte(self, what):
        if self.pos >= len(self.buf):
            raise DecodeError(f"ends inside {what}")
        b = self.buf[self.pos]
        self.pos += 1
        return b

    def take(self, n, what):
        if n > self.remaining():
            raise DecodeError(f"{what}: length {n} past the end")
        s = self.buf[self.pos:self.pos + n]
        self.pos += n
        return s

    def varint(self, max_bytes, last_max, what):
        """Unsigned LEB128 of at most `max_bytes` bytes; when it takes all of
        them, the last byte must be at most `last_max` (else the value is
        past the type: 0x01 for u64, 0x0F for u32)."""
        value = 0
        for i in range(max_bytes):
            b = self.byte(what)
            value |= (b & 0x7F) << (7 * i)
            if not b & 0x80:
                if i == max_bytes - 1 and b > last_max:
                    raise DecodeError(f"{what}: varint past its type")
                return value
        raise DecodeError(f"{what}: high bit set on byte {max_bytes}, the last allowed")

    def u64(self, what):
        return self.varint(10, 0x01, what)

    def u32(self, what):
        return self.varint(5, 0x0F, what)

    def usize(self, what):
        # postcard's usize: this opener takes a 64-bit platform, like u64.
        return self.varint(10, 0x01, what)

    def string(self, what):
        n = self.usize(f"{what} length")
        raw = self.take(n, what)  # refuses a length past the end
        try:
            return raw.decode("utf-8")  # strict: any invalid UTF-8 raises
        except UnicodeDecodeError:
            raise DecodeError(f"{what} is not UTF-8") from None


def decode_claims(plaintext):
    """The claims of section 3, in order; returns them and the data bytes."""
    r = Reader(plaintext)
    c = {"sid": r.take(16, "sid")}
    c["created"] = r.u64("created")
    c["sealed"] = r.u64("sealed")
    c["expires"] = r.u64("expires")
    c["generation"] = r.u32("generation")
    c["kind"] = r.byte("kind")
    if c["kind"] not in (SESSION, SINGLE_USE):
        raise DecodeError(f"kind {c['kind']}")
    tag = r.byte("subject tag")
    if tag == 0:
        c["subject"] = None
    elif tag == 1:
        c["subject"] = r.string("subject")
    else:
        raise DecodeError(f"subject option tag {tag}")
    return c, plaintext[r.pos:]


APP_TYPES = ("opaque", "()", "(String, u32)")


def decode_app_data(app_type, data):
    """Step 13 for the app types the vectors name: the data must decode as
    the type and use every byte. `opaque` data is not checked."""
    if app_type == "opaque":
        return data
    r = Reader(data)
    if app_type == "()":
        value = ()
    elif app_type == "(String, u32)":
        value = (r.string("String"), r.u32("u32"))
    else:
        raise ValueError(f"unknown app data type {app_type!r}")
    if r.remaining():
        raise DecodeError(f"{r.remaining()} trailing bytes after {app_type}")
    return value


# -------------------------------------------------- replay guard (§4.1, §6)


class ReplayGuard:
    """Step 14. A record is kept until the deadline it is given (`None`:
    for the guard's life, here one vector), then forgotten."""

    def __init__(self):
        self.single_use = {}  # sid -> deadline (section 6)
        self.sessions = {}  # sid -> dict(G, at, before, ended, until) (section 4.1)

    def _session(self, sid, now):
        rec = self.sessions.get(sid)
        if rec is not None and rec["until"] is not None and now >= rec["until"]:
            del self.sessions[sid]  # past the session's deadline
            return None
        return rec

    def record_reseal(self, sid, generation, at, until=None):
        """Section 4.1: session `sid` was re-sealed to `generation` at `at`."""
        rec = self._session(sid, at)
        if rec is None:
            self.sessions[sid] = dict(G=generation, at=at, before=None, ended=False, until=until)
        elif rec["ended"] or generation < rec["G"]:
            pass  # an ended record stays ended; a lower generation changes nothing
        elif generation == rec["G"]:
            rec["at"] = min(rec["at"], at)  # `at` is when G was *first* sealed
        elif generation == rec["G"] + 1:
            rec.update(G=generation, at=at, before=rec["at"])
        else:  # further ahead: G - 1 was not recorded
            rec.update(G=generation, at=at, before=None)

    def check(self, claims, now, deadline, grace):
        """Refuses (step 14) a replayed single-use value, or a session value
        whose session was ended or that is superseded past the grace."""
        sid = claims["sid"]
        if claims["kind"] == SINGLE_USE:
            seen_until = self.single_use.get(sid)
            if seen_until is not None and now < seen_until:
                raise Refused("14", "single-use value presented again")
            self.single_use[sid] = deadline  # accepted once, until the deadline
            return
        rec = self._session(sid, now)
        if rec is None:
            return  # no record: nothing to narrow
        if rec["ended"]:
            raise Refused("14", "the session was ended")
        g, G = claims["generation"], rec["G"]
        if g >= G:
            return
        if g == G - 1:
            superseded_at = rec["at"]
        elif g == G - 2:
            superseded_at = rec["before"] if rec["before"] is not None else rec["at"]
        else:
            rec["ended"] = True
            raise Refused("14", f"generation {g} is 3 or more behind {G}: session ended")
        if now >= sat_add(superseded_at, grace):
            rec["ended"] = True
            raise Refused("14", f"generation {g} superseded at {superseded_at}, past the grace: session ended")
        # within the grace: a superseded value still opens


# ------------------------------------------------------------ opener (§4)

# RFC 9110 tchar: visible ASCII except the separators.
TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


class Opener:
    def __init__(self, keyring, cookie_name, purpose, kind, app_type, guard, settings=SETTINGS, max_length=None):
        # Section 2: the name is a token shorter than 4096 bytes; the purpose
        # is 1 to 255 bytes of UTF-8. Anything else is refused here.
        if not (isinstance(cookie_name, str) and TOKEN.fullmatch(cookie_name) and len(cookie_name) < 4096):
            raise ConfigError(f"cookie name {cookie_name!r} is not an RFC 9110 token under 4096 bytes")
        self.name = cookie_name.encode("ascii")
        self.purpose = purpose.encode("utf-8")
        if not 1 <= len(self.purpose) <= 255:
            raise ConfigError("purpose must be 1 to 255 bytes")
        if kind not in (SESSION, SINGLE_USE):
            raise ConfigError("opener kind must be session or single_use")
        if app_type not in APP_TYPES:
            raise ConfigError(f"unknown app data type {app_type!r}")
        self.primary_id, self.keys = keyring
        self.kind = kind
        self.app_type = app_type
        self.guard = guard
        self.s = settings
        self.max_length = 4096 - len(self.name) if max_length is None else max_length

    def open(self, value, now):
        """Opens one value at Unix second `now`, or raises Refused(step)."""
        s = self.s
        # Lengths are counted in bytes of the value as sent (all characters
        # of an acceptable value are ASCII, so bytes and characters agree).
        length = len(value.encode("utf-8"))
        # 1. length <= the configured maximum
        if length > self.max_length:
            raise Refused("1", f"length {length} > maximum {self.max_length}")
        # 2. length >= 60 characters, the encoding of the 45 fixed bytes
        if length < 60:
            raise Refused("2", f"length {length} < 60")
        # 3. strict base64url (section 1)
        env = b64url_decode_strict(value)
        if env is None:
            raise Refused("3", "not strict base64url")
        # 4. version
        if env[0] != 0x01:
            raise Refused("4", f"version {env[0]}")
        # 5. the key id names a key in the keyring
        key_id = int.from_bytes(env[1:5], "big")
        if key_id not in self.keys:
            raise Refused("5", f"key id {key_id} not in the keyring")
        key, demoted = self.keys[key_id]
        # 5a. an open-only key with demotion time d opens nothing once
        #     now >= d + idle + skew
        if demoted is not None:
            retired_at = sat_add(sat_add(demoted, s["idle"]), s["skew"])
            if now >= retired_at:
                raise Refused("5a", f"key {key_id} retired at {retired_at}")
        # 6. one AEAD attempt, under that key, with the associated data of §2
        aad = (
            env[:5]
            + len(self.name).to_bytes(2, "big") + self.name
            + len(self.purpose).to_bytes(2, "big") + self.purpose
        )
        nonce, body = env[5:29], env[29:]
        try:
            plaintext = crypto_aead_xchacha20poly1305_ietf_decrypt(body, aad, nonce, key)
        except CryptoError:
            raise Refused("6", "the tag does not verify") from None
        # 7. the claims decode, kind in {0, 1}
        try:
            claims, data = decode_claims(plaintext)
        except DecodeError as e:
            raise Refused("7", str(e)) from None
        # 7a. the value's kind is the opener's
        if claims["kind"] != self.kind:
            raise Refused("7a", f"value kind {claims['kind']}, opener kind {self.kind}")
        created, sealed, expires = claims["created"], claims["sealed"], claims["expires"]
        # 8. neither sealed nor created beyond the skew in the future
        if sealed > sat_add(now, s["skew"]) or created > sat_add(now, s["skew"]):
            raise Refused("8", f"sealed {sealed}, created {created}, now {now}")
        # 9. created <= sealed
        if created > sealed:
            raise Refused("9", f"created {created} > sealed {sealed}")
        # 10. now < deadline (exclusive)
        window = s["absolute"] if self.kind == SESSION else s["single_use_window"]
        deadline = min(expires, sat_add(created, window))
        if now >= deadline:
            raise Refused("10", f"now {now} >= deadline {deadline}")
        # 11. sessions only: now < sealed + idle
        if self.kind == SESSION and now >= sat_add(sealed, s["idle"]):
            raise Refused("11", f"now {now} >= sealed + idle {sat_add(sealed, s['idle'])}")
        # 12. revocation hook: none configured.
        # 13. the data decodes as the app's type, using every byte
        try:
            app_data = decode_app_data(self.app_type, data)
        except DecodeError as e:
            raise Refused("13", str(e)) from None
        # 14. replay guard; without one, every single-use value is refused
        if self.guard is not None:
            self.guard.check(claims, now, deadline, s["grace"])
        elif self.kind == SINGLE_USE:
            raise Refused("14", "single-use value without a replay guard")
        # Due for a re-seal (section 4, after the table): sessions only.
        reseal_due = self.kind == SESSION and (
            key_id != self.primary_id
            or sat_sub(now, sealed) >= s["renew_after"]
            or expires > sat_add(created, s["absolute"])
        )
        return dict(plaintext=plaintext, claims=claims, data=app_data, deadline=deadline, reseal_due=reseal_due)


# ----------------------------------------------------------------- checks

OPENER_KIND = {"session": SESSION, "single_use": SINGLE_USE}


def check_vector(v):
    """Returns (ok, message) for one vector."""
    try:
        if v.get("kind") not in OPENER_KIND:
            raise ConfigError(f"unknown opener kind {v.get('kind')!r}")
        required = {"valid": ("plaintext_hex", "data", "reseal_due"), "invalid": ("reason", "check")}
        if v.get("expect") not in required:
            raise ConfigError(f"unknown expect {v.get('expect')!r}")
        missing = [f for f in required[v["expect"]] if f not in v]
        if missing:
            raise ConfigError(f"an {v['expect']} vector without {', '.join(missing)}")
        # An invalid vector without `data` gets an opaque app type: step 13
        # is then not checked (see the report on the step-14 vectors).
        guard = ReplayGuard()
        for r in v.get("reseals", []):
            # The records carry no deadline; they live for this vector (the
            # session's deadline is its value's, which step 10 checks).
            guard.record_reseal(bytes.fromhex(r["sid"]), r["generation"], r["at"])
        opener = Opener(
            build_keyring(v["keys"]), v["cookie_name"], v["purpose"], OPENER_KIND[v["kind"]], v.get("data", "opaque"), guard
        )
    except (ConfigError, KeyError, ValueError) as e:
        return False, f"bad vector: {e}"

    if v.get("presented_before") is True:
        try:
            opener.open(v["value"], v["now"])
        except Refused as e:
            return False, f"first presentation refused at {e}, it must open"

    try:
        result = opener.open(v["value"], v["now"])
    except Refused as e:
        if v["expect"] == "valid":
            return False, f"refused at {e}, expected valid"
        if (e.step, e.reason) != (v.get("check"), v.get("reason")):
            return False, f"refused at {e}, expected step {v.get('check')} ({v.get('reason')})"
        return True, f"refused at {e}"

    if v["expect"] != "valid":
        return False, f"opened, expected refusal at step {v.get('check')} ({v.get('reason')})"
    problems = []
    if result["plaintext"].hex() != v["plaintext_hex"].lower():
        problems.append(f"plaintext {result['plaintext'].hex()} != expected {v['plaintext_hex']}")
    if result["reseal_due"] is not v["reseal_due"]:
        problems.append(f"due for a re-seal: {result['reseal_due']}, expected {v['reseal_due']}")
    if problems:
        return False, "; ".join(problems)
    return True, f"valid, data {v['data']}, reseal due {result['reseal_due']}"


def main():
    doc = json.loads((ROOT / "tests/vectors/v1.json").read_text())
    passed = failed = 0
    if doc.get("format") != "sealed-session/v1":
        print(f"FAIL format: {doc.get('format')!r}, expected 'sealed-session/v1'")
        failed += 1
    for v in doc["vectors"]:
        ok, message = check_vector(v)
        print(f"{'ok  ' if ok else 'FAIL'} {v['id']}: {message}")
        passed += ok
        failed += not ok
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
