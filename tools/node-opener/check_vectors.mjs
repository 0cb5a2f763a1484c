// Usage: cd tools/node-opener && npm ci && node check_vectors.mjs
//
// An independent opener for sealed-session v1 values, written from
// docs/FORMAT.md alone, checked against tests/vectors/v1.json and the known
// answers of FORMAT.md sections 5 (key fingerprint) and 7 (CSRF token).
// Prints `ok   <id>` or `FAIL <id>: <what differed>` per check, then
// `N passed, M failed`; exits 1 if anything failed.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const VECTORS = join(HERE, '..', '..', 'tests', 'vectors', 'v1.json');

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true });
const hex = (b) => Buffer.from(b).toString('hex');

// ---------------------------------------------------------------- errors

// Error kinds of FORMAT.md section 4, spelled as the vectors spell `reason`.
class Refused extends Error {
  constructor(reason, detail) {
    super(`${reason}: ${detail}`);
    this.reason = reason;
    this.detail = detail;
  }
}
const refuse = (reason, detail) => {
  throw new Refused(reason, detail);
};

// ------------------------------------------------- strict base64url (§1)

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const DECODE = new Int8Array(128).fill(-1);
for (let i = 0; i < 64; i++) DECODE[ALPHABET.charCodeAt(i)] = i;

/** Strict base64url without padding; returns null for any refused text. */
function b64urlDecodeStrict(s) {
  if (typeof s !== 'string') return null;
  if (s.length % 4 === 1) return null;
  const vals = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const v = c < 128 ? DECODE[c] : -1; // rejects '+', '/', '=', whitespace, non-ASCII
    if (v < 0) return null;
    vals[i] = v;
  }
  const full = Math.floor(s.length / 4);
  const rem = s.length % 4;
  const out = new Uint8Array(full * 3 + (rem === 0 ? 0 : rem - 1));
  let o = 0;
  let i = 0;
  for (let g = 0; g < full; g++, i += 4) {
    const n = (vals[i] << 18) | (vals[i + 1] << 12) | (vals[i + 2] << 6) | vals[i + 3];
    out[o++] = n >> 16;
    out[o++] = (n >> 8) & 0xff;
    out[o++] = n & 0xff;
  }
  if (rem === 2) {
    if (vals[i + 1] & 0x0f) return null; // non-canonical trailing bits
    out[o++] = (vals[i] << 2) | (vals[i + 1] >> 4);
  } else if (rem === 3) {
    if (vals[i + 2] & 0x03) return null; // non-canonical trailing bits
    out[o++] = (vals[i] << 2) | (vals[i + 1] >> 4);
    out[o++] = ((vals[i + 1] & 0x0f) << 4) | (vals[i + 2] >> 2);
  }
  return out;
}

function b64urlEncode(bytes) {
  let s = '';
  let i = 0;
  for (; i + 3 <= bytes.length; i += 3) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    s += ALPHABET[n >> 18] + ALPHABET[(n >> 12) & 63] + ALPHABET[(n >> 6) & 63] + ALPHABET[n & 63];
  }
  const rem = bytes.length - i;
  if (rem === 1) {
    const n = bytes[i] << 16;
    s += ALPHABET[n >> 18] + ALPHABET[(n >> 12) & 63];
  } else if (rem === 2) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8);
    s += ALPHABET[n >> 18] + ALPHABET[(n >> 12) & 63] + ALPHABET[(n >> 6) & 63];
  }
  return s;
}

// ------------------------------------------------------------ keys (§5)

/** A key's text form: 43 chars of strict base64url, or 64 hex digits. */
function parseKeyText(text) {
  if (typeof text !== 'string') throw new Error('key is not a string');
  if (text.length === 43) {
    const k = b64urlDecodeStrict(text);
    if (!k || k.length !== 32) throw new Error('key: bad base64url');
    return k;
  }
  if (text.length === 64 && /^[0-9a-fA-F]{64}$/.test(text)) return Uint8Array.from(Buffer.from(text, 'hex'));
  throw new Error(`key: neither 43 base64url nor 64 hex characters (${text.length})`);
}

/** Keyring from a vector's `keys`: primary first; ids are u32 and distinct. */
function buildKeyring(keys) {
  const primaries = keys.filter((k) => k.primary === true);
  if (primaries.length !== 1) throw new Error(`keyring needs exactly one primary, got ${primaries.length}`);
  const ordered = [...primaries, ...keys.filter((k) => k.primary !== true)];
  const byId = new Map();
  for (const k of ordered) {
    if (!Number.isInteger(k.id) || k.id < 0 || k.id > 0xffffffff) throw new Error(`key id ${k.id} is not a u32`);
    if (byId.has(k.id)) throw new Error(`duplicate key id ${k.id}`);
    byId.set(k.id, parseKeyText(k.key));
  }
  return { primaryId: ordered[0].id, byId };
}

function zeroPadded24(label) {
  const b = utf8.encode(label);
  if (b.length > 24) throw new Error('label longer than 24 bytes');
  const n = new Uint8Array(24);
  n.set(b);
  return n;
}

/**
 * Keystream block used by §5 and §7: the first 32 bytes of the
 * XChaCha20-Poly1305 ciphertext of 32 zero bytes with empty associated data
 * (the spec's parenthetical definition; see the report about "block counter 0").
 */
function keystream32(key, nonce24) {
  return xchacha20poly1305(key, nonce24).encrypt(new Uint8Array(32)).subarray(0, 32);
}

const subkey = (key, label) => keystream32(key, zeroPadded24(label));
const csrfSubkey = (key) => subkey(key, 'sealed-session/csrf-key');
const fpSubkey = (key) => subkey(key, 'sealed-session/fp-key');

function fingerprintUnder(k) {
  const tag = xchacha20poly1305(k, zeroPadded24('sealed-session/fp'), utf8.encode('sealed-session key fingerprint')).encrypt(
    new Uint8Array(0),
  );
  return hex(tag.subarray(0, 8));
}
const fingerprint = (key) => fingerprintUnder(fpSubkey(key));

// ----------------------------------------------------------- CSRF (§7)

function csrfRaw(key, sid) {
  if (sid.length !== 16) throw new Error('sid must be 16 bytes');
  const nonce = new Uint8Array(24);
  nonce.set(utf8.encode('csrf/v2'), 0); // 7 bytes, then one zero byte
  nonce.set(sid, 8);
  return keystream32(csrfSubkey(key), nonce);
}

function csrfMask(raw, mask) {
  const out = new Uint8Array(64);
  out.set(mask, 0);
  for (let i = 0; i < 32; i++) out[32 + i] = raw[i] ^ mask[i];
  return b64urlEncode(out);
}

function constantTimeEqual(a, b) {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
}

function csrfVerify(keyring, sid, token) {
  if (typeof token !== 'string' || token.length !== 86) return false;
  const b = b64urlDecodeStrict(token);
  if (!b || b.length !== 64) return false;
  const presented = new Uint8Array(32);
  for (let i = 0; i < 32; i++) presented[i] = b[i] ^ b[32 + i];
  let ok = false;
  for (const key of keyring.byId.values()) ok = constantTimeEqual(presented, csrfRaw(key, sid)) || ok;
  return ok;
}

// ------------------------------------------------- postcard claims (§3)

class Reader {
  constructor(bytes) {
    this.b = bytes;
    this.i = 0;
  }
  byte(what) {
    if (this.i >= this.b.length) refuse('invalid_claims', `truncated at ${what}`);
    return this.b[this.i++];
  }
  bytes(n, what) {
    if (this.b.length - this.i < n) refuse('invalid_claims', `truncated at ${what}`);
    const s = this.b.subarray(this.i, this.i + n);
    this.i += n;
    return s;
  }
  /** Unsigned LEB128 of at most maxBytes bytes whose value fits in `bits`. */
  varint(bits, maxBytes, what) {
    let v = 0n;
    for (let k = 0; k < maxBytes; k++) {
      const byte = this.byte(what);
      v |= BigInt(byte & 0x7f) << BigInt(7 * k);
      if ((byte & 0x80) === 0) {
        if (v >> BigInt(bits)) refuse('invalid_claims', `${what}: varint overflows u${bits}`);
        return v;
      }
    }
    refuse('invalid_claims', `${what}: varint longer than ${maxBytes} bytes`);
  }
  rest() {
    const s = this.b.subarray(this.i);
    this.i = this.b.length;
    return s;
  }
}

function decodeClaims(plaintext) {
  const r = new Reader(plaintext);
  const sid = r.bytes(16, 'sid');
  const created = r.varint(64, 10, 'created');
  const sealed = r.varint(64, 10, 'sealed');
  const expires = r.varint(64, 10, 'expires');
  const generation = r.varint(32, 5, 'generation');
  const kind = r.byte('kind');
  const tag = r.byte('subject');
  let subject = null;
  if (tag === 1) {
    // String length: postcard's usize varint; 64-bit, so at most 10 bytes.
    const len = r.varint(64, 10, 'subject length');
    if (len > BigInt(plaintext.length)) refuse('invalid_claims', 'subject length beyond the plaintext');
    const s = r.bytes(Number(len), 'subject');
    try {
      subject = utf8Strict.decode(s);
    } catch {
      refuse('invalid_claims', 'subject is not UTF-8');
    }
  } else if (tag !== 0) {
    refuse('invalid_claims', `subject option tag ${tag}`);
  }
  if (kind !== 0 && kind !== 1) refuse('invalid_claims', `kind ${kind}`);
  return { claims: { sid, created, sealed, expires, generation, kind, subject }, data: r.rest() };
}

// ------------------------------------------------------- replay guard

/** A replay guard (§4 step 14, §4.1, §6). Fresh per vector. */
class ReplayGuard {
  constructor() {
    this.singleUse = new Map(); // sid hex -> deadline
    this.sessions = new Map(); // sid hex -> { ended, G, at, before, deadline }
  }
  check(claims, now, deadline, graceSecs) {
    const id = hex(claims.sid);
    if (claims.kind === 1) {
      const seen = this.singleUse.get(id);
      if (seen !== undefined && now < seen) refuse('replayed', 'single-use value presented again');
      this.singleUse.set(id, deadline);
      return;
    }
    const rec = this.sessions.get(id);
    if (!rec || now >= rec.deadline) return;
    const end = (why) => {
      rec.ended = true;
      refuse('replayed', why);
    };
    if (rec.ended) refuse('replayed', 'session ended');
    const g = claims.generation;
    if (g >= rec.G) return;
    if (g === rec.G - 1n) {
      if (now >= rec.at + graceSecs) end('superseded (G-1) past the grace');
    } else if (g === rec.G - 2n) {
      if (now >= (rec.before ?? rec.at) + graceSecs) end('superseded (G-2) past the grace');
    } else {
      end('superseded (G-3 or lower)');
    }
  }
}

// ------------------------------------------------------------ opener (§4)

const V1_DEFAULTS = {
  absolute: 43200n,
  idle: 1800n,
  renewAfter: 300n,
  skew: 60n,
  singleUseWindow: 600n,
  grace: 30n,
};

function makeOpener({ keyring, cookieName, purpose, kind, settings = V1_DEFAULTS, guard = null, maxLength }) {
  if (!/^[\x21-\x7e]+$/.test(cookieName)) throw new Error('cookie name must be ASCII');
  const nameBytes = utf8.encode(cookieName);
  const purposeBytes = utf8.encode(purpose);
  if (purposeBytes.length < 1 || purposeBytes.length > 255) throw new Error('purpose must be 1 to 255 bytes');
  if (kind !== 0 && kind !== 1) throw new Error('opener kind must be 0 or 1');
  const max = maxLength ?? 4096 - nameBytes.length;

  return function open(value, nowSecs) {
    const now = BigInt(nowSecs);
    // 1. length <= configured maximum
    if (value.length > max) refuse('malformed', `length ${value.length} > maximum ${max}`);
    // 2. length >= 60 characters (45 bytes)
    if (value.length < 60) refuse('malformed', `length ${value.length} < 60`);
    // 3. strict base64url
    const env = b64urlDecodeStrict(value);
    if (env === null) refuse('malformed', 'not strict base64url');
    // 4. version
    if (env[0] !== 0x01) refuse('malformed', `version ${env[0]}`);
    // 5. key id names a key in the ring
    const keyId = ((env[1] << 24) | (env[2] << 16) | (env[3] << 8) | env[4]) >>> 0;
    const key = keyring.byId.get(keyId);
    if (!key) refuse('unauthenticated', `key id ${keyId} not in the keyring`);
    // 6. one AEAD attempt under that key
    const aad = new Uint8Array(5 + 2 + nameBytes.length + 2 + purposeBytes.length);
    aad.set(env.subarray(0, 5), 0);
    let p = 5;
    aad[p++] = nameBytes.length >> 8;
    aad[p++] = nameBytes.length & 0xff;
    aad.set(nameBytes, p);
    p += nameBytes.length;
    aad[p++] = purposeBytes.length >> 8;
    aad[p++] = purposeBytes.length & 0xff;
    aad.set(purposeBytes, p);
    const nonce = env.subarray(5, 29);
    let plaintext;
    try {
      plaintext = xchacha20poly1305(key, nonce, aad).decrypt(env.subarray(29));
    } catch (e) {
      refuse('unauthenticated', `AEAD: ${e.message}`);
    }
    // 7. claims decode, kind in {0, 1}
    const { claims, data } = decodeClaims(plaintext);
    // 7a. the opener's kind
    if (claims.kind !== kind) refuse('wrong_kind', `value kind ${claims.kind}, opener kind ${kind}`);
    const { created, sealed, expires } = claims;
    // 8. not from the future beyond the skew
    if (sealed > now + settings.skew || created > now + settings.skew) refuse('not_yet_valid', `sealed ${sealed}, created ${created}`);
    // 9. created <= sealed
    if (created > sealed) refuse('invalid_claims', `created ${created} > sealed ${sealed}`);
    // 10. deadline (exclusive)
    const window = kind === 0 ? settings.absolute : settings.singleUseWindow;
    const deadline = expires < created + window ? expires : created + window;
    if (!(now < deadline)) refuse('expired', `now ${now} >= deadline ${deadline}`);
    // 11. idle (sessions only)
    if (kind === 0 && !(now < sealed + settings.idle)) refuse('idle_expired', `now ${now} >= sealed + idle ${sealed + settings.idle}`);
    // 12. revocation hook: none configured.
    // 13. data: the app type is not given by the vectors, so it is kept as
    //     opaque bytes (the checker compares the whole plaintext instead).
    // 14. replay guard
    if (guard) guard.check(claims, now, deadline, settings.grace);
    else if (kind === 1) refuse('replayed', 'single-use value without a replay guard');
    const dueForReseal =
      kind === 0 && (keyId !== keyring.primaryId || now - sealed >= settings.renewAfter || expires > created + settings.absolute);
    return { keyId, claims, data, plaintext, deadline, dueForReseal };
  };
}

// ----------------------------------------------------------------- checks

let passed = 0;
let failed = 0;
function report(id, problem) {
  if (problem) {
    failed++;
    console.log(`FAIL ${id}: ${problem}`);
  } else {
    passed++;
    console.log(`ok   ${id}`);
  }
}

/** The kind of opener for a vector: its `kind` field if it has one, else
 *  the kind byte of its expected claims, else a session opener. */
function openerKindFor(v) {
  if (v.kind === 'session' || v.kind === 0) return 0;
  if (v.kind === 'single_use' || v.kind === 'single-use' || v.kind === 1) return 1;
  if (typeof v.plaintext_hex === 'string') {
    try {
      return decodeClaims(Uint8Array.from(Buffer.from(v.plaintext_hex, 'hex'))).claims.kind;
    } catch {
      /* fall through */
    }
  }
  return 0;
}

function checkVector(v) {
  let keyring;
  try {
    keyring = buildKeyring(v.keys);
  } catch (e) {
    return `bad keyring: ${e.message}`;
  }
  const kind = openerKindFor(v);
  const open = makeOpener({ keyring, cookieName: v.cookie_name, purpose: v.purpose, kind, guard: new ReplayGuard() });
  let result;
  try {
    result = open(v.value, v.now);
  } catch (e) {
    if (!(e instanceof Refused)) return `opener crashed: ${e.stack}`;
    if (v.expect === 'valid') return `refused as ${e.reason} (${e.detail}), expected valid`;
    if (e.reason !== v.reason) return `refused as ${e.reason} (${e.detail}), expected ${v.reason}`;
    return null;
  }
  if (v.expect === 'invalid') return `opened (kind ${result.claims.kind}), expected refusal as ${v.reason}`;
  if (v.expect !== 'valid') return `unknown expect ${JSON.stringify(v.expect)}`;
  const got = hex(result.plaintext);
  if (got !== String(v.plaintext_hex).toLowerCase()) return `plaintext ${got} != expected ${v.plaintext_hex}`;
  if (v.reseal_due !== result.dueForReseal) return `due for a re-seal: ${result.dueForReseal}, expected ${v.reseal_due}`;
  const dataProblem = checkData(v.data, result.data);
  if (dataProblem) return dataProblem;
  return null;
}

/** Step 13 for the app types the vectors name: the data must decode as
 *  the type and use every byte; `opaque` data is not checked. */
function checkData(type, data) {
  if (type === 'opaque') return null;
  if (type === '()') return data.length === 0 ? null : `data is ${data.length} bytes, expected ()`;
  if (type === '(String, u32)') {
    try {
      const r = new Reader(data);
      const len = r.varint(64, 10, 'string length');
      utf8Strict.decode(r.bytes(Number(len), 'string'));
      r.varint(32, 5, 'u32');
      if (r.rest().length !== 0) return 'payload_mismatch: trailing bytes after (String, u32)';
      return null;
    } catch (e) {
      return `data does not decode as (String, u32): ${e.message}`;
    }
  }
  return `unknown data type ${JSON.stringify(type)}`;
}

const doc = JSON.parse(readFileSync(VECTORS, 'utf8'));
if (doc.format !== 'sealed-session/v1') report('format', `format is ${JSON.stringify(doc.format)}`);
for (const v of doc.vectors) report(v.id, checkVector(v));

// §5 key fingerprint known answers (key 00 01 02 ... 1f).
const KAT_KEY = Uint8Array.from({ length: 32 }, (_, i) => i);
{
  const fp = fingerprint(KAT_KEY);
  report('kat-fingerprint', fp === '6416e9f9d5cab6cb' ? null : `got ${fp}, expected 6416e9f9d5cab6cb`);
  const old = fingerprintUnder(KAT_KEY);
  report('kat-fingerprint-0.1', old === '2fef87fa28aa9b1d' ? null : `got ${old}, expected 2fef87fa28aa9b1d`);
}

// §7 CSRF known answer: key 00..1f, sid 11 x 16, mask 5a x 32.
{
  const expected = 'WlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlqP-O9ic4oZfAvAioRYre6XXAsfc5n1XhK_PI1JBNXEMQ';
  const sid = new Uint8Array(16).fill(0x11);
  const token = csrfMask(csrfRaw(KAT_KEY, sid), new Uint8Array(32).fill(0x5a));
  report('kat-csrf-token', token === expected ? null : `got ${token}, expected ${expected}`);
  const ring = { primaryId: 1, byId: new Map([[1, KAT_KEY]]) };
  const otherSid = new Uint8Array(16).fill(0x12);
  const problems = [];
  if (!csrfVerify(ring, sid, expected)) problems.push('known token not accepted');
  if (csrfVerify(ring, otherSid, expected)) problems.push('token accepted for another session id');
  if (csrfVerify(ring, sid, expected.slice(0, 85) + 'R')) problems.push('non-canonical tail accepted');
  report('kat-csrf-verify', problems.length ? problems.join('; ') : null);
}

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
