// Usage: cd tools/node-opener && npm ci && node check_vectors.mjs
//
// An independent opener for sealed-session v1 values, written from
// docs/FORMAT.md alone, checked against tests/vectors/v1.json and the known
// answers of FORMAT.md sections 5 (key fingerprint) and 7 (CSRF token).
//
// The opener performs the checks of FORMAT.md section 4 in their numbered
// order (1, 2, 3, 4, 5, 5a, 6, 7, 7a, 8, ..., 14) and reports the step that
// refuses a value along with the error kind. Every vector is checked with
// the settings, keyring, cookie name, purpose, opener kind, app data type
// and fresh replay guard of the "Test vectors" section of FORMAT.md: a
// `valid` vector must open, its plaintext must equal `plaintext_hex`, its
// data must decode as the type `data` names with every byte used (step 13),
// and it must be due for a re-seal exactly when `reseal_due` is true; an
// `invalid` vector must be refused as `reason` at step `check`.
//
// Prints `ok   <id>: ...` or `FAIL <id>: <what differed>` per check, then
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

const U64_MAX = (1n << 64n) - 1n;
const U32_MAX = 0xffffffff;

// Saturating u64 time arithmetic (section 4: sums never wrap).
const satAdd = (a, b) => (a + b > U64_MAX ? U64_MAX : a + b);
// The spec only defines saturating sums; `now - sealed` can be negative for
// a value sealed within the skew in the future, and is taken as 0.
const satSub = (a, b) => (a > b ? a - b : 0n);

// ---------------------------------------------------------------- errors

// What each step of section 4 refuses a value as (the table's third column,
// spelled as the vectors spell `reason`). Step 12 (revocation) is listed for
// completeness: no revocation hook is configured here.
const STEP_REASON = {
  1: 'malformed',
  2: 'malformed',
  3: 'malformed',
  4: 'malformed',
  5: 'unauthenticated',
  '5a': 'unauthenticated',
  6: 'unauthenticated',
  7: 'invalid_claims',
  '7a': 'wrong_kind',
  8: 'not_yet_valid',
  9: 'invalid_claims',
  10: 'expired',
  11: 'idle_expired',
  12: 'revoked',
  13: 'payload_mismatch',
  14: 'replayed',
};

/** The opener refused a value at `step` of section 4, as `reason`. */
class Refused extends Error {
  constructor(step, detail) {
    const reason = STEP_REASON[step];
    super(`step ${step} (${reason}): ${detail}`);
    this.step = String(step);
    this.reason = reason;
    this.detail = detail;
  }
}
const refuse = (step, detail) => {
  throw new Refused(step, detail);
};

/** A postcard field that does not decode (step 7 or step 13 refuses it). */
class DecodeError extends Error {}
const decodeError = (detail) => {
  throw new DecodeError(detail);
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

/** A key's text form, told apart by length: 43 characters of strict
 *  base64url, or exactly 64 hex digits of either case. */
function parseKeyText(text) {
  if (typeof text !== 'string') throw new Error('key is not a string');
  if (text.length === 43) {
    const k = b64urlDecodeStrict(text);
    if (!k || k.length !== 32) throw new Error('key: not 43 characters of strict base64url');
    return k;
  }
  if (text.length === 64 && /^[0-9a-fA-F]{64}$/.test(text)) return Uint8Array.from(Buffer.from(text, 'hex'));
  throw new Error(`key: neither 43 base64url nor 64 hex characters (${text.length})`);
}

/** Keyring from a vector's `keys`: the primary first, distinct u32 ids; an
 *  open-only key may carry `demoted` (step 5a), the primary may not. */
function buildKeyring(keys) {
  const primaries = keys.filter((k) => k.primary === true);
  if (primaries.length !== 1) throw new Error(`keyring needs exactly one primary, got ${primaries.length}`);
  if ('demoted' in primaries[0]) throw new Error('the primary key carries a demotion time');
  const ordered = [...primaries, ...keys.filter((k) => k.primary !== true)];
  const byId = new Map();
  for (const k of ordered) {
    if (!Number.isInteger(k.id) || k.id < 0 || k.id > U32_MAX) throw new Error(`key id ${k.id} is not a u32`);
    if (byId.has(k.id)) throw new Error(`repeated key id ${k.id}`);
    let demoted = null;
    if (k.demoted !== undefined) {
      if (!Number.isSafeInteger(k.demoted) || k.demoted < 0) throw new Error(`key ${k.id}: demotion time ${k.demoted}`);
      demoted = BigInt(k.demoted);
    }
    byId.set(k.id, { key: parseKeyText(k.key), demoted });
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
 * Keystream block used by §5 and §7: the XChaCha20-Poly1305 ciphertext of
 * 32 zero bytes with empty associated data, tag dropped. That is the
 * XChaCha20 keystream from block counter 1 (block 0 makes the Poly1305 key),
 * as FORMAT.md section 5 says.
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
  for (const { key } of keyring.byId.values()) ok = constantTimeEqual(presented, csrfRaw(key, sid)) || ok;
  return ok;
}

// ------------------------------------------------------- postcard (§3)

class Reader {
  constructor(bytes) {
    this.b = bytes;
    this.i = 0;
  }
  remaining() {
    return this.b.length - this.i;
  }
  byte(what) {
    if (this.i >= this.b.length) decodeError(`ends inside ${what}`);
    return this.b[this.i++];
  }
  bytes(n, what) {
    if (BigInt(this.remaining()) < BigInt(n)) decodeError(`${what}: length ${n} past the end`);
    const s = this.b.subarray(this.i, this.i + Number(n));
    this.i += Number(n);
    return s;
  }
  /** Unsigned LEB128 of at most maxBytes bytes; when it takes all of them,
   *  the last byte must be at most lastMax (else the value is past the
   *  type: 0x01 for u64, 0x0F for u32). */
  varint(maxBytes, lastMax, what) {
    let v = 0n;
    for (let k = 0; k < maxBytes; k++) {
      const byte = this.byte(what);
      v |= BigInt(byte & 0x7f) << BigInt(7 * k);
      if ((byte & 0x80) === 0) {
        if (k === maxBytes - 1 && byte > lastMax) decodeError(`${what}: varint past its type`);
        return v;
      }
    }
    decodeError(`${what}: high bit set on byte ${maxBytes}, the last allowed`);
  }
  u64(what) {
    return this.varint(10, 0x01, what);
  }
  u32(what) {
    return this.varint(5, 0x0f, what);
  }
  /** postcard's usize: this opener takes a 64-bit platform, like u64. */
  usize(what) {
    return this.varint(10, 0x01, what);
  }
  string(what) {
    const len = this.usize(`${what} length`);
    const raw = this.bytes(len, what); // refuses a length past the end
    try {
      return utf8Strict.decode(raw);
    } catch {
      decodeError(`${what} is not UTF-8`);
    }
  }
  rest() {
    const s = this.b.subarray(this.i);
    this.i = this.b.length;
    return s;
  }
}

/** The claims of section 3, in order; returns them and the data bytes. */
function decodeClaims(plaintext) {
  const r = new Reader(plaintext);
  const sid = r.bytes(16, 'sid');
  const created = r.u64('created');
  const sealed = r.u64('sealed');
  const expires = r.u64('expires');
  const generation = r.u32('generation');
  const kind = r.byte('kind');
  if (kind !== 0 && kind !== 1) decodeError(`kind ${kind}`);
  const tag = r.byte('subject tag');
  let subject = null;
  if (tag === 1) subject = r.string('subject');
  else if (tag !== 0) decodeError(`subject option tag ${tag}`);
  return { claims: { sid, created, sealed, expires, generation, kind, subject }, data: r.rest() };
}

const APP_TYPES = ['opaque', '()', '(String, u32)'];

/** Step 13 for the app types the vectors name: the data must decode as
 *  the type and use every byte; `opaque` data is not checked. */
function decodeAppData(type, data) {
  if (type === 'opaque') return data;
  const r = new Reader(data);
  let value;
  if (type === '()') value = null;
  else if (type === '(String, u32)') value = [r.string('String'), r.u32('u32')];
  else throw new Error(`unknown app data type ${JSON.stringify(type)}`);
  if (r.remaining() !== 0) decodeError(`${r.remaining()} trailing bytes after ${type}`);
  return value;
}

// ---------------------------------------------- replay guard (§4.1, §6)

/** Step 14. A record is kept until the deadline it is given (null: for the
 *  guard's life, here one vector), then forgotten. */
class ReplayGuard {
  constructor() {
    this.singleUse = new Map(); // sid hex -> deadline (section 6)
    this.sessions = new Map(); // sid hex -> { G, at, before, ended, until } (section 4.1)
  }
  session(id, now) {
    const rec = this.sessions.get(id);
    if (rec && rec.until !== null && now >= rec.until) {
      this.sessions.delete(id); // past the session's deadline
      return undefined;
    }
    return rec;
  }
  /** Section 4.1: session `sid` was re-sealed to `generation` at `at`. */
  recordReseal(sid, generation, at, until = null) {
    const id = hex(sid);
    const rec = this.session(id, at);
    if (!rec) this.sessions.set(id, { G: generation, at, before: null, ended: false, until });
    else if (rec.ended || generation < rec.G) {
      // an ended record stays ended; a lower generation changes nothing
    } else if (generation === rec.G) {
      if (at < rec.at) rec.at = at; // `at` is when G was *first* sealed
    } else if (generation === rec.G + 1n) {
      Object.assign(rec, { G: generation, at, before: rec.at });
    } else {
      Object.assign(rec, { G: generation, at, before: null }); // G - 1 not recorded
    }
  }
  /** Refuses (step 14) a replayed single-use value, or a session value
   *  whose session was ended or that is superseded past the grace. */
  check(claims, now, deadline, grace) {
    const id = hex(claims.sid);
    if (claims.kind === 1) {
      const seenUntil = this.singleUse.get(id);
      if (seenUntil !== undefined && now < seenUntil) refuse(14, 'single-use value presented again');
      this.singleUse.set(id, deadline); // accepted once, until the deadline
      return;
    }
    const rec = this.session(id, now);
    if (!rec) return; // no record: nothing to narrow
    if (rec.ended) refuse(14, 'the session was ended');
    const g = claims.generation;
    if (g >= rec.G) return;
    let supersededAt;
    if (g === rec.G - 1n) supersededAt = rec.at;
    else if (g === rec.G - 2n) supersededAt = rec.before ?? rec.at;
    else {
      rec.ended = true;
      refuse(14, `generation ${g} is 3 or more behind ${rec.G}: session ended`);
    }
    if (now >= satAdd(supersededAt, grace)) {
      rec.ended = true;
      refuse(14, `generation ${g} superseded at ${supersededAt}, past the grace: session ended`);
    }
    // within the grace: a superseded value still opens
  }
}

// ------------------------------------------------------------ opener (§4)

// The v1 defaults the vectors are checked with (FORMAT.md, "Test vectors").
const V1_DEFAULTS = {
  absolute: 43200n,
  idle: 1800n,
  renewAfter: 300n,
  skew: 60n,
  singleUseWindow: 600n,
  grace: 30n,
};

// RFC 9110 tchar: visible ASCII except the separators.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function makeOpener({ keyring, cookieName, purpose, kind, appType, settings = V1_DEFAULTS, guard = null, maxLength }) {
  // Section 2: the name is a token shorter than 4096 bytes; the purpose is
  // 1 to 255 bytes of UTF-8. Anything else is refused here.
  if (typeof cookieName !== 'string' || !TOKEN.test(cookieName) || cookieName.length >= 4096)
    throw new Error(`cookie name ${JSON.stringify(cookieName)} is not an RFC 9110 token under 4096 bytes`);
  const nameBytes = utf8.encode(cookieName);
  const purposeBytes = utf8.encode(purpose);
  if (purposeBytes.length < 1 || purposeBytes.length > 255) throw new Error('purpose must be 1 to 255 bytes');
  if (kind !== 0 && kind !== 1) throw new Error('opener kind must be 0 or 1');
  if (!APP_TYPES.includes(appType)) throw new Error(`unknown app data type ${JSON.stringify(appType)}`);
  const max = maxLength ?? 4096 - nameBytes.length;

  return function open(value, nowSecs) {
    const now = BigInt(nowSecs);
    // Lengths are counted in bytes of the value as sent (all characters of
    // an acceptable value are ASCII, so bytes and characters agree).
    const length = Buffer.byteLength(value, 'utf8');
    // 1. length <= the configured maximum
    if (length > max) refuse(1, `length ${length} > maximum ${max}`);
    // 2. length >= 60 characters, the encoding of the 45 fixed bytes
    if (length < 60) refuse(2, `length ${length} < 60`);
    // 3. strict base64url (section 1)
    const env = b64urlDecodeStrict(value);
    if (env === null) refuse(3, 'not strict base64url');
    // 4. version
    if (env[0] !== 0x01) refuse(4, `version ${env[0]}`);
    // 5. the key id names a key in the keyring
    const keyId = ((env[1] << 24) | (env[2] << 16) | (env[3] << 8) | env[4]) >>> 0;
    const entry = keyring.byId.get(keyId);
    if (!entry) refuse(5, `key id ${keyId} not in the keyring`);
    // 5a. an open-only key with demotion time d opens nothing once
    //     now >= d + idle + skew
    if (entry.demoted !== null) {
      const retiredAt = satAdd(satAdd(entry.demoted, settings.idle), settings.skew);
      if (now >= retiredAt) refuse('5a', `key ${keyId} retired at ${retiredAt}`);
    }
    // 6. one AEAD attempt, under that key, with the associated data of §2
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
      plaintext = xchacha20poly1305(entry.key, nonce, aad).decrypt(env.subarray(29));
    } catch (e) {
      refuse(6, `AEAD: ${e.message}`);
    }
    // 7. the claims decode, kind in {0, 1}
    let claims, data;
    try {
      ({ claims, data } = decodeClaims(plaintext));
    } catch (e) {
      if (e instanceof DecodeError) refuse(7, e.message);
      throw e;
    }
    // 7a. the value's kind is the opener's
    if (claims.kind !== kind) refuse('7a', `value kind ${claims.kind}, opener kind ${kind}`);
    const { created, sealed, expires } = claims;
    // 8. neither sealed nor created beyond the skew in the future
    const latest = satAdd(now, settings.skew);
    if (sealed > latest || created > latest) refuse(8, `sealed ${sealed}, created ${created}, now ${now}`);
    // 9. created <= sealed
    if (created > sealed) refuse(9, `created ${created} > sealed ${sealed}`);
    // 10. now < deadline (exclusive)
    const window = kind === 0 ? settings.absolute : settings.singleUseWindow;
    const limit = satAdd(created, window);
    const deadline = expires < limit ? expires : limit;
    if (now >= deadline) refuse(10, `now ${now} >= deadline ${deadline}`);
    // 11. sessions only: now < sealed + idle
    if (kind === 0 && now >= satAdd(sealed, settings.idle))
      refuse(11, `now ${now} >= sealed + idle ${satAdd(sealed, settings.idle)}`);
    // 12. revocation hook: none configured.
    // 13. the data decodes as the app's type, using every byte
    let appData;
    try {
      appData = decodeAppData(appType, data);
    } catch (e) {
      if (e instanceof DecodeError) refuse(13, e.message);
      throw e;
    }
    // 14. replay guard; without one, every single-use value is refused
    if (guard) guard.check(claims, now, deadline, settings.grace);
    else if (kind === 1) refuse(14, 'single-use value without a replay guard');
    // Due for a re-seal (section 4, after the table): sessions only.
    const dueForReseal =
      kind === 0 &&
      (keyId !== keyring.primaryId ||
        satSub(now, sealed) >= settings.renewAfter ||
        expires > satAdd(created, settings.absolute));
    return { keyId, claims, data: appData, plaintext, deadline, dueForReseal };
  };
}

// ----------------------------------------------------------------- checks

let passed = 0;
let failed = 0;
/** One line per check: `ok   <id>: <what>` or `FAIL <id>: <what differed>`. */
function report(id, ok, message) {
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${id}: ${message}`);
}

const OPENER_KIND = { session: 0, single_use: 1 };

/** Checks one vector; returns [ok, message]. */
function checkVector(v) {
  let open;
  try {
    if (!(v.kind in OPENER_KIND)) throw new Error(`unknown opener kind ${JSON.stringify(v.kind)}`);
    const required = { valid: ['plaintext_hex', 'data', 'reseal_due'], invalid: ['reason', 'check'] }[v.expect];
    if (!required) throw new Error(`unknown expect ${JSON.stringify(v.expect)}`);
    const missing = required.filter((f) => v[f] === undefined);
    if (missing.length) throw new Error(`an ${v.expect} vector without ${missing.join(', ')}`);
    const guard = new ReplayGuard();
    // The records carry no deadline; they live for this vector (the
    // session's deadline is its value's, which step 10 checks).
    for (const r of v.reseals ?? []) guard.recordReseal(Buffer.from(r.sid, 'hex'), BigInt(r.generation), BigInt(r.at));
    open = makeOpener({
      keyring: buildKeyring(v.keys),
      cookieName: v.cookie_name,
      purpose: v.purpose,
      kind: OPENER_KIND[v.kind],
      // An invalid vector without `data` gets an opaque app type: step 13 is
      // then not checked (see the report on the step-14 vectors).
      appType: v.data ?? 'opaque',
      guard,
    });
  } catch (e) {
    return [false, `bad vector: ${e.message}`];
  }

  const attempt = () => {
    try {
      return { result: open(v.value, v.now) };
    } catch (e) {
      if (e instanceof Refused) return { refused: e };
      throw e;
    }
  };
  if (v.presented_before === true) {
    const first = attempt();
    if (first.refused) return [false, `first presentation refused at ${first.refused.message}, it must open`];
  }
  let outcome;
  try {
    outcome = attempt();
  } catch (e) {
    return [false, `opener crashed: ${e.stack}`];
  }
  const expected = `step ${v.check} (${v.reason})`;
  if (outcome.refused) {
    const e = outcome.refused;
    if (v.expect === 'valid') return [false, `refused at ${e.message}, expected valid`];
    if (e.step !== v.check || e.reason !== v.reason) return [false, `refused at ${e.message}, expected ${expected}`];
    return [true, `refused at ${e.message}`];
  }
  const { result } = outcome;
  if (v.expect === 'invalid') return [false, `opened, expected refusal at ${expected}`];
  const problems = [];
  const got = hex(result.plaintext);
  if (got !== String(v.plaintext_hex).toLowerCase()) problems.push(`plaintext ${got} != expected ${v.plaintext_hex}`);
  if (result.dueForReseal !== v.reseal_due)
    problems.push(`due for a re-seal: ${result.dueForReseal}, expected ${v.reseal_due}`);
  if (problems.length) return [false, problems.join('; ')];
  return [true, `valid, data ${v.data}, reseal due ${result.dueForReseal}`];
}

const doc = JSON.parse(readFileSync(VECTORS, 'utf8'));
if (doc.format !== 'sealed-session/v1') report('format', false, `format is ${JSON.stringify(doc.format)}`);
for (const v of doc.vectors) report(v.id, ...checkVector(v));

// §5 key fingerprint known answers (key 00 01 02 ... 1f).
const KAT_KEY = Uint8Array.from({ length: 32 }, (_, i) => i);
const known = (id, got, want) => report(id, got === want, got === want ? got : `got ${got}, expected ${want}`);
known('kat-fingerprint', fingerprint(KAT_KEY), '6416e9f9d5cab6cb');
known('kat-fingerprint-0.1', fingerprintUnder(KAT_KEY), '2fef87fa28aa9b1d');

// §7 CSRF known answer: key 00..1f, sid 11 x 16, mask 5a x 32.
{
  const expected = 'WlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlqP-O9ic4oZfAvAioRYre6XXAsfc5n1XhK_PI1JBNXEMQ';
  const sid = new Uint8Array(16).fill(0x11);
  known('kat-csrf-token', csrfMask(csrfRaw(KAT_KEY, sid), new Uint8Array(32).fill(0x5a)), expected);
  const ring = { primaryId: 1, byId: new Map([[1, { key: KAT_KEY, demoted: null }]]) };
  const otherSid = new Uint8Array(16).fill(0x12);
  const problems = [];
  if (!csrfVerify(ring, sid, expected)) problems.push('known token not accepted');
  if (csrfVerify(ring, otherSid, expected)) problems.push('token accepted for another session id');
  if (csrfVerify(ring, sid, expected.slice(0, 85) + 'R')) problems.push('non-canonical tail accepted');
  report('kat-csrf-verify', problems.length === 0, problems.length ? problems.join('; ') : 'accepted, and refused for another sid or a non-canonical tail');
}

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
