//! An opener written from `docs/FORMAT.md` alone, for differential checks.
//!
//! It shares no code with the crate's envelope, base64 or claims decoding:
//! only the AEAD primitive (`chacha20poly1305`) is common. The fuzz targets
//! compare its verdict with the crate's on every input, so a disagreement
//! about any rule of the format (strict base64url, version, key lookup, the
//! associated data, the claims layout, the order of checks) is a failure.

use chacha20poly1305::aead::{AeadInOut, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use sealed_session::ErrorKind;

/// FORMAT.md §1: version, key id, nonce and tag lengths.
const VERSION: u8 = 1;
const HEADER: usize = 1 + 4;
const NONCE: usize = 24;
const TAG: usize = 16;
/// FORMAT.md §4 step 2: the encoding of the 45 fixed bytes.
pub const MIN_CHARS: usize = 60;

/// The base64url alphabet of RFC 4648 §5.
pub const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// The crate-owned fields (FORMAT.md §3), decoded by hand.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claims {
    /// Session id.
    pub sid: [u8; 16],
    /// Unix seconds of creation.
    pub created: u64,
    /// Unix seconds of this seal.
    pub sealed: u64,
    /// Unix seconds of the absolute deadline.
    pub expires: u64,
    /// Re-seal counter.
    pub generation: u32,
    /// 0 = session, 1 = single-use.
    pub kind: u8,
    /// Optional subject.
    pub subject: Option<String>,
}

/// A value that authenticated and whose claims decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authentic {
    /// The key id from the header.
    pub key_id: u32,
    /// The crate-owned fields.
    pub claims: Claims,
    /// The app's data: every plaintext byte after the claims.
    pub data: Vec<u8>,
}

/// Where the reference opener stopped: steps 1 to 7 of FORMAT.md §4.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Refused before the time checks, as this kind.
    Refused(ErrorKind),
    /// Authenticated, claims decoded; the time rules come next.
    Authentic(Authentic),
}

/// The index of a base64url character, if it is one.
pub fn alphabet_index(c: u8) -> Option<u8> {
    ALPHABET
        .iter()
        .position(|a| *a == c)
        .and_then(|i| u8::try_from(i).ok())
}

/// Strict base64url without padding (FORMAT.md §1, "Decoding rules").
pub fn decode_base64url(text: &[u8]) -> Option<Vec<u8>> {
    if text.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    for c in text {
        acc = (acc << 6) | u32::from(alphabet_index(*c)?);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((acc >> bits) & 0xff).to_le_bytes()[0]);
            acc &= (1 << bits) - 1;
        }
    }
    // Leftover bits (2 or 4) must be zero: one text form per byte string.
    (acc == 0).then_some(out)
}

/// Base64url without padding (RFC 4648 §5).
pub fn encode_base64url(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(encoded_len(bytes.len()));
    for chunk in bytes.chunks(3) {
        let mut group = [0u8; 3];
        group[..chunk.len()].copy_from_slice(chunk);
        let n = u32::from_be_bytes([0, group[0], group[1], group[2]]);
        for i in 0..=chunk.len() {
            let index = (n >> (18 - 6 * i)) & 0x3f;
            out.push(char::from(ALPHABET[usize::try_from(index).unwrap_or(0)]));
        }
    }
    out
}

/// Seals `plaintext` as FORMAT.md describes, under `key` with id `key_id`,
/// for the cookie `name` and `purpose`, with the caller's `nonce`: what a
/// sealer holding the key (another implementation, or an attacker with a
/// stolen key) can produce. The crate's own API never seals arbitrary
/// claims.
///
/// # Panics
/// Never for a cookie-sized plaintext (the AEAD's limit is 256 GiB).
pub fn seal(
    plaintext: &[u8],
    (key_id, key): (u32, [u8; 32]),
    name: &str,
    purpose: &str,
    nonce: [u8; NONCE],
) -> String {
    let mut envelope = vec![VERSION];
    envelope.extend_from_slice(&key_id.to_be_bytes());
    envelope.extend_from_slice(&nonce);
    let body = envelope.len();
    envelope.extend_from_slice(plaintext);
    let aead = XChaCha20Poly1305::new(&key.into());
    let aad = associated_data(key_id, name, purpose);
    let tag = aead
        .encrypt_inout_detached(&XNonce::from(nonce), &aad, envelope[body..].as_mut().into())
        .unwrap_or_else(|_| panic!("a cookie-sized plaintext is within the AEAD's limits"));
    envelope.extend_from_slice(&tag);
    encode_base64url(&envelope)
}

/// Unsigned LEB128, as postcard writes `u64` (at most 10 bytes).
fn varint(input: &mut &[u8], max_bytes: usize) -> Option<u64> {
    let mut value: u64 = 0;
    for i in 0..max_bytes {
        let (&byte, rest) = input.split_first()?;
        *input = rest;
        let shift = 7 * u32::try_from(i).ok()?;
        let part = u64::from(byte & 0x7f);
        value |= part.checked_shl(shift)?;
        if part.checked_shl(shift)? >> shift != part {
            return None;
        }
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

fn take<'a>(input: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
    if input.len() < n {
        return None;
    }
    let (head, rest) = input.split_at(n);
    *input = rest;
    Some(head)
}

/// Decodes the claims (FORMAT.md §3) and returns them with the rest.
pub fn decode_claims(mut input: &[u8]) -> Option<(Claims, &[u8])> {
    let input = &mut input;
    let sid = take(input, 16)?.try_into().ok()?;
    let created = varint(input, 10)?;
    let sealed = varint(input, 10)?;
    let expires = varint(input, 10)?;
    let generation = u32::try_from(varint(input, 5)?).ok()?;
    let kind = take(input, 1)?[0];
    let subject = match take(input, 1)?[0] {
        0 => None,
        1 => {
            let len = usize::try_from(varint(input, 10)?).ok()?;
            Some(String::from_utf8(take(input, len)?.to_vec()).ok()?)
        }
        _ => return None,
    };
    let claims = Claims {
        sid,
        created,
        sealed,
        expires,
        generation,
        kind,
        subject,
    };
    Some((claims, input))
}

/// Appends `value` as unsigned LEB128.
pub fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    loop {
        let low = value.to_le_bytes()[0] & 0x7f;
        value >>= 7;
        if value == 0 {
            out.push(low);
            return;
        }
        out.push(low | 0x80);
    }
}

/// Encodes the claims as a sealer must (shortest varints).
pub fn encode_claims(claims: &Claims) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    out.extend_from_slice(&claims.sid);
    put_varint(&mut out, claims.created);
    put_varint(&mut out, claims.sealed);
    put_varint(&mut out, claims.expires);
    put_varint(&mut out, u64::from(claims.generation));
    out.push(claims.kind);
    match &claims.subject {
        None => out.push(0),
        Some(s) => {
            out.push(1);
            put_varint(&mut out, s.len() as u64);
            out.extend_from_slice(s.as_bytes());
        }
    }
    out
}

/// The associated data of FORMAT.md §2.
pub fn associated_data(key_id: u32, name: &str, purpose: &str) -> Vec<u8> {
    let mut aad = vec![VERSION];
    aad.extend_from_slice(&key_id.to_be_bytes());
    for part in [name.as_bytes(), purpose.as_bytes()] {
        let len = u16::try_from(part.len()).unwrap_or(u16::MAX);
        aad.extend_from_slice(&len.to_be_bytes());
        aad.extend_from_slice(part);
    }
    aad
}

/// The number of characters that encode `n` bytes (no padding).
pub const fn encoded_len(n: usize) -> usize {
    (n * 4).div_ceil(3)
}

/// The bytes a sealed value adds to its plaintext.
pub const OVERHEAD: usize = HEADER + NONCE + TAG;

/// Steps 1 to 7 of FORMAT.md §4 for `value`, with `keys` as the keyring,
/// the cookie `name` and `purpose`, and `max_len` as the length limit.
pub fn open(
    value: &str,
    keys: &[(u32, [u8; 32])],
    name: &str,
    purpose: &str,
    max_len: usize,
) -> Verdict {
    use Verdict::Refused;
    let text = value.as_bytes();
    if text.len() > max_len || text.len() < MIN_CHARS {
        return Refused(ErrorKind::Malformed);
    }
    let Some(mut bytes) = decode_base64url(text) else {
        return Refused(ErrorKind::Malformed);
    };
    if bytes[0] != VERSION {
        return Refused(ErrorKind::Malformed);
    }
    let key_id = u32::from_be_bytes([bytes[1], bytes[2], bytes[3], bytes[4]]);
    let Some((_, key)) = keys.iter().find(|(id, _)| *id == key_id) else {
        return Refused(ErrorKind::Unauthenticated);
    };
    let aead = XChaCha20Poly1305::new(key.into());
    let aad = associated_data(key_id, name, purpose);
    let body_end = bytes.len() - TAG;
    let (head, rest) = bytes.split_at_mut(HEADER + NONCE);
    let (body, tag) = rest.split_at_mut(body_end - HEADER - NONCE);
    let mut nonce = [0u8; NONCE];
    nonce.copy_from_slice(&head[HEADER..]);
    let Ok(tag) = (&*tag).try_into() else {
        return Refused(ErrorKind::Malformed);
    };
    if aead
        .decrypt_inout_detached(&XNonce::from(nonce), &aad, body.into(), tag)
        .is_err()
    {
        return Refused(ErrorKind::Unauthenticated);
    }
    match decode_claims(body) {
        Some((claims, data)) if claims.kind <= 1 => Verdict::Authentic(Authentic {
            key_id,
            claims,
            data: data.to_vec(),
        }),
        _ => Refused(ErrorKind::InvalidClaims),
    }
}

/// The time limits of FORMAT.md §4, in whole seconds.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// `absolute`.
    pub absolute: u64,
    /// `idle`.
    pub idle: u64,
    /// `renew_after`.
    pub renew_after: u64,
    /// `skew`.
    pub skew: u64,
    /// `single_use_window`.
    pub single_use_window: u64,
}

impl Limits {
    /// Whole seconds of each duration; negative reads as 0.
    pub fn of(l: &sealed_session::Lifetime) -> Self {
        let s = |d: time::Duration| u64::try_from(d.whole_seconds()).unwrap_or(0);
        Self {
            absolute: s(l.absolute),
            idle: s(l.idle),
            renew_after: s(l.renew_after),
            skew: s(l.skew),
            single_use_window: s(l.single_use_window),
        }
    }

    /// The deadline of step 10.
    pub fn deadline(&self, c: &Claims) -> u64 {
        let window = if c.kind == 1 {
            self.single_use_window
        } else {
            self.absolute
        };
        c.expires.min(c.created.saturating_add(window))
    }

    /// Steps 8 to 11 at `now`: whether the value is due for a re-seal.
    ///
    /// # Errors
    /// The refusal of the first step that fails.
    pub fn check(&self, c: &Claims, now: u64) -> Result<bool, ErrorKind> {
        let latest = now.saturating_add(self.skew);
        if c.sealed > latest || c.created > latest {
            return Err(ErrorKind::NotYetValid);
        }
        if c.created > c.sealed {
            return Err(ErrorKind::InvalidClaims);
        }
        if now >= self.deadline(c) {
            return Err(ErrorKind::Expired);
        }
        if c.kind == 1 {
            return Ok(false);
        }
        if now >= c.sealed.saturating_add(self.idle) {
            return Err(ErrorKind::IdleExpired);
        }
        Ok(now.saturating_sub(c.sealed) >= self.renew_after || c.expires > self.deadline(c))
    }
}
