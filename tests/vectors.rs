//! The published test vectors, `tests/vectors/v1.json`: generated from the
//! deterministic seal path and checked against the public `open`.
//!
//! `cargo test vectors` checks the file: every vector's verdict, every valid
//! vector's plaintext, and that re-sealing each valid vector's plaintext
//! with its nonce reproduces its value byte for byte, so any change to the
//! format fails here unless the format version changes too.
//! `SEALED_SESSION_WRITE_VECTORS=1 cargo test vectors` rewrites the file.

#![allow(
    clippy::unwrap_used,
    reason = "a generator and checker of test data: a failure is a test failure"
)]

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use time::Duration;

use sealed_session::{
    FORMAT_VERSION as VERSION, Key, KeyId, Keyring, Lifetime, ManualClock, MemoryReplayGuard,
    ReplayGuard as _, SessionCodec, SessionId, VectorClaims as Claims,
};

const NONCE_LEN: usize = 24;
/// Version and key id (FORMAT.md §1).
const HEADER_LEN: usize = 1 + 4;
/// Header, nonce and tag.
const OVERHEAD: usize = HEADER_LEN + NONCE_LEN + 16;

/// Characters of the base64url text of `n` bytes, unpadded.
const fn encoded_len(n: usize) -> usize {
    (4 * n).div_ceil(3)
}

#[path = "vectors/edges.rs"]
mod edges;

const PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/v1.json");
const FORMAT: &str = "sealed-session/v1";
const NOW: u64 = 1_764_000_000;

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct File {
    format: String,
    vectors: Vec<Vector>,
}

#[derive(Debug, Serialize, Deserialize, PartialEq, Clone)]
struct VKey {
    id: u32,
    /// base64url (43 characters) or hex (64).
    key: String,
    primary: bool,
    /// Open-only keys: when the key stopped sealing (FORMAT.md step 5a).
    #[serde(skip_serializing_if = "Option::is_none")]
    demoted: Option<u64>,
}

/// A re-seal record in the replay guard before the vector is opened
/// (FORMAT.md section 4.1).
#[derive(Debug, Serialize, Deserialize, PartialEq, Clone)]
struct Reseal {
    /// The session id, 32 hex digits.
    sid: String,
    generation: u32,
    at: u64,
}

#[derive(Debug, Serialize, Deserialize, PartialEq, Clone)]
struct Vector {
    id: String,
    description: String,
    keys: Vec<VKey>,
    cookie_name: String,
    purpose: String,
    /// The opener to use: `session` or `single_use` (FORMAT.md step 7a).
    kind: String,
    now: u64,
    value: String,
    expect: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    plaintext_hex: Option<String>,
    /// Valid vectors: the app's type the data decodes as, using every byte
    /// (step 13), or `opaque` (step 13 not checkable).
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<String>,
    /// Valid vectors: whether the opener finds the value due for a re-seal
    /// (FORMAT.md section 4, after the table).
    #[serde(skip_serializing_if = "Option::is_none")]
    reseal_due: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    /// Invalid vectors: the step of FORMAT.md section 4 that refuses it.
    #[serde(skip_serializing_if = "Option::is_none")]
    check: Option<String>,
    /// Re-seals recorded in the fresh replay guard before opening.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    reseals: Vec<Reseal>,
    /// The guard already accepted this value once (single-use replay).
    #[serde(default, skip_serializing_if = "core::ops::Not::not")]
    presented_before: bool,
}

/// The app types the vectors' data is described by.
const DATA_STRING_U32: &str = "(String, u32)";
const DATA_UNIT: &str = "()";
const DATA_OPAQUE: &str = "opaque";

/// What the data of a valid vector is: the first type it decodes as with
/// every byte used.
fn data_type(payload: &[u8]) -> &'static str {
    if payload.is_empty() {
        DATA_UNIT
    } else if decodes_whole::<(String, u32)>(payload) {
        DATA_STRING_U32
    } else {
        DATA_OPAQUE
    }
}

fn decodes_whole<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> bool {
    matches!(postcard::take_from_bytes::<T>(bytes), Ok((_, [])))
}

/// The lifetime every vector is checked under (the v1 defaults, written
/// out so a change of defaults does not change a verdict).
fn vector_lifetime() -> Lifetime {
    let mut l = Lifetime::default();
    l.absolute = Duration::hours(12);
    l.idle = Duration::minutes(30);
    l.renew_after = Duration::minutes(5);
    l.skew = Duration::seconds(60);
    l.single_use_window = Duration::minutes(10);
    l.superseded_grace = Duration::seconds(30);
    l
}

fn key_bytes(seed: u8) -> [u8; 32] {
    core::array::from_fn(|i| seed.wrapping_add(u8::try_from(i).unwrap_or(0)))
}

fn vkey(id: u32, seed: u8, primary: bool) -> VKey {
    VKey {
        id,
        key: URL_SAFE_NO_PAD.encode(key_bytes(seed)),
        primary,
        demoted: None,
    }
}

fn unix(t: u64) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(i64::try_from(t).unwrap()).unwrap()
}

fn keyring(keys: &[VKey]) -> Keyring {
    let primary = keys.iter().find(|k| k.primary).unwrap();
    let mut ring = Keyring::new(KeyId(primary.id), primary.key.parse().unwrap());
    for k in keys.iter().filter(|k| !k.primary) {
        let key = k.key.parse::<Key>().unwrap();
        match k.demoted {
            Some(d) => ring.add_demoted(KeyId(k.id), key, unix(d)),
            None => ring.add_open_only(KeyId(k.id), key),
        }
        .unwrap();
    }
    ring
}

fn codec(keys: &[VKey], name: &str, purpose: &str, now: u64, max: Option<usize>) -> SessionCodec {
    codec_with(
        keys,
        name,
        purpose,
        now,
        max,
        Arc::new(MemoryReplayGuard::new(16)),
    )
}

fn codec_with(
    keys: &[VKey],
    name: &str,
    purpose: &str,
    now: u64,
    max: Option<usize>,
    guard: Arc<MemoryReplayGuard>,
) -> SessionCodec {
    let clock = ManualClock::at_unix(i64::try_from(now).unwrap());
    let mut b = SessionCodec::builder(keyring(keys))
        .cookie_name(name)
        .purpose(purpose)
        .lifetime(vector_lifetime())
        .clock(Arc::new(clock))
        .replay_guard(guard);
    if let Some(max) = max {
        b = b.max_value_len(max);
    }
    b.build().unwrap()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn claims(n: u8, created: u64, sealed: u64, subject: Option<&str>) -> Claims {
    Claims {
        sid: [n; 16],
        created,
        sealed,
        expires: created + 12 * 3600,
        generation: u32::from(n % 3),
        kind: 0,
        subject: subject.map(str::to_owned),
    }
}

/// A plaintext of the app's data: a postcard `(String, u32)` padded to
/// about `size` bytes.
fn data(size: usize) -> Vec<u8> {
    let text: String = (0..size.saturating_sub(4))
        .map(|i| char::from(b'a' + u8::try_from(i % 26).unwrap()))
        .collect();
    postcard::to_allocvec(&(text, 7u32)).unwrap()
}

struct Spec<'a> {
    id: &'a str,
    description: &'a str,
    keys: Vec<VKey>,
    name: &'a str,
    purpose: &'a str,
    now: u64,
}

fn seal(
    spec_keys: &[VKey],
    name: &str,
    purpose: &str,
    nonce_seed: u8,
    c: &Claims,
    payload: &[u8],
    max: Option<usize>,
) -> String {
    let nonce = [nonce_seed; NONCE_LEN];
    codec(spec_keys, name, purpose, c.sealed, max)
        .__seal_with_nonce(&nonce, c, payload)
        .unwrap()
}

fn valid(s: Spec<'_>, value: String, c: &Claims, payload: &[u8]) -> Vector {
    let mut plaintext = postcard::to_allocvec(c).unwrap();
    plaintext.extend_from_slice(payload);
    valid_plaintext(s, value, c.kind, &plaintext, payload)
}

/// A valid vector of `plaintext`, whose last bytes are the app's `payload`.
fn valid_plaintext(
    s: Spec<'_>,
    value: String,
    kind: u8,
    plaintext: &[u8],
    payload: &[u8],
) -> Vector {
    Vector {
        id: s.id.into(),
        description: s.description.into(),
        keys: s.keys,
        cookie_name: s.name.into(),
        purpose: s.purpose.into(),
        kind: if kind == 1 { "single_use" } else { "session" }.into(),
        now: s.now,
        value,
        expect: "valid".into(),
        plaintext_hex: Some(hex(plaintext)),
        data: Some(data_type(payload).into()),
        // Filled in by `generate` from the opener's verdict.
        reseal_due: None,
        reason: None,
        check: None,
        reseals: Vec::new(),
        presented_before: false,
    }
}

/// An invalid vector for the session opener, refused at step `check`.
fn invalid(s: Spec<'_>, value: String, reason: &str, check: &str) -> Vector {
    Vector {
        id: s.id.into(),
        description: s.description.into(),
        keys: s.keys,
        cookie_name: s.name.into(),
        purpose: s.purpose.into(),
        kind: "session".into(),
        now: s.now,
        value,
        expect: "invalid".into(),
        plaintext_hex: None,
        data: None,
        reseal_due: None,
        reason: Some(reason.into()),
        check: Some(check.into()),
        reseals: Vec::new(),
        presented_before: false,
    }
}

/// Decodes, applies `f` to the bytes, re-encodes.
fn tamper(value: &str, f: impl FnOnce(&mut Vec<u8>)) -> String {
    let mut bytes = URL_SAFE_NO_PAD.decode(value).unwrap();
    f(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

#[allow(
    clippy::too_many_lines,
    reason = "one table of vectors reads best in one place"
)]
fn generate() -> File {
    const N: &str = "__Host-session";
    const P: &str = "session";
    let k1 = || vec![vkey(1, 0x00, true)];
    let spec = |id, description, keys, now| Spec {
        id,
        description,
        keys,
        name: N,
        purpose: P,
        now,
    };
    let mut v = Vec::new();

    let c = claims(1, NOW - 600, NOW - 120, None);
    let small = data(8);
    let base = seal(&k1(), N, P, 1, &c, &small, None);
    v.push(valid(
        spec("valid-small", "a short payload, key id 1", k1(), NOW),
        base.clone(),
        &c,
        &small,
    ));

    for (id, size, seed) in [
        ("valid-256", 256, 2u8),
        ("valid-1024", 1024, 3),
        ("valid-2900", 2900, 4),
    ] {
        let c = claims(seed, NOW - 3600, NOW - 10, None);
        let d = data(size);
        let value = seal(&k1(), N, P, seed, &c, &d, None);
        v.push(valid(
            spec(id, "a payload of about this many bytes", k1(), NOW),
            value,
            &c,
            &d,
        ));
    }

    // Largest value that fits: name + value = 4096 exactly. A new session
    // (generation 0: created and sealed at once).
    let c = claims(21, NOW - 60, NOW - 60, None);
    let max_chars = 4096 - N.len();
    let mut d = data(2900);
    while encoded_len(postcard::to_allocvec(&c).unwrap().len() + d.len() + OVERHEAD) < max_chars {
        d.push(0);
    }
    while encoded_len(postcard::to_allocvec(&c).unwrap().len() + d.len() + OVERHEAD) > max_chars {
        d.pop();
    }
    let value = seal(&k1(), N, P, 21, &c, &d, None);
    v.push(valid(spec("valid-max-size-new", "the longest value whose name plus value fit 4096 bytes (trailing zero bytes in the payload)", k1(), NOW), value, &c, &d));

    let ring2 = || vec![vkey(2, 0x20, true), vkey(1, 0x00, false)];
    let c = claims(6, NOW - 900, NOW - 30, Some("user-42"));
    let value = seal(&[vkey(2, 0x20, true)], N, P, 6, &c, &small, None);
    v.push(valid(
        spec(
            "valid-key-id-2-subject",
            "key id 2 is primary; a subject is sealed",
            ring2(),
            NOW,
        ),
        value,
        &c,
        &small,
    ));

    let c = claims(7, NOW - 900, NOW - 30, None);
    let old = seal(&k1(), N, P, 7, &c, &small, None);
    v.push(valid(spec("valid-open-only-key", "sealed under key 1, which is now open-only beside primary key 2; the opener should re-seal it", ring2(), NOW), old.clone(), &c, &small));

    let big = vec![vkey(u32::MAX, 0x40, true)];
    let c = claims(24, NOW - 5, NOW - 5, None);
    let value = seal(&big, N, P, 24, &c, &small, None);
    v.push(valid(
        spec(
            "valid-max-key-id-new",
            "key id 4294967295, a new session",
            big.clone(),
            NOW,
        ),
        value,
        &c,
        &small,
    ));

    let c = claims(9, NOW - 5, NOW - 5, None);
    let value = seal(&k1(), "__Host-s", "csrf", 9, &c, &[], None);
    v.push(valid(
        Spec {
            id: "valid-other-name-purpose",
            description: "cookie __Host-s, purpose csrf, empty app data",
            keys: k1(),
            name: "__Host-s",
            purpose: "csrf",
            now: NOW,
        },
        value.clone(),
        &c,
        &[],
    ));
    v.push(invalid(
        spec(
            "wrong-cookie-name",
            "the previous value presented as __Host-session",
            k1(),
            NOW,
        ),
        value.clone(),
        "unauthenticated",
        "6",
    ));
    v.push(invalid(
        Spec {
            id: "wrong-purpose",
            description: "the previous value opened with purpose session",
            keys: k1(),
            name: "__Host-s",
            purpose: "session",
            now: NOW,
        },
        value,
        "unauthenticated",
        "6",
    ));

    // Single-use values are never re-sealed: generation 0.
    let mut c = claims(27, NOW - 120, NOW - 120, None);
    c.kind = 1;
    c.expires = c.created + 600;
    let value = seal(&k1(), N, P, 27, &c, &small, None);
    v.push(valid(
        spec(
            "valid-single-use-new",
            "a single-use value (generation 0), first presentation (the opener needs a replay guard)",
            k1(),
            NOW,
        ),
        value,
        &c,
        &small,
    ));

    let c = claims(30, NOW + 30, NOW + 30, None);
    let value = seal(&k1(), N, P, 30, &c, &small, None);
    v.push(valid(
        spec(
            "valid-future-within-skew-new",
            "a new session sealed 30 s in the future, within the 60 s skew",
            k1(),
            NOW,
        ),
        value.clone(),
        &c,
        &small,
    ));
    let c12 = claims(12, NOW + 61, NOW + 61, None);
    let value = seal(&k1(), N, P, 12, &c12, &small, None);
    v.push(invalid(
        spec(
            "not-yet-valid",
            "sealed 61 s in the future, beyond the 60 s skew",
            k1(),
            NOW,
        ),
        value,
        "not_yet_valid",
        "8",
    ));

    let c = claims(13, NOW - 12 * 3600 + 1, NOW - 60, None);
    let value = seal(&k1(), N, P, 13, &c, &small, None);
    v.push(valid(
        spec(
            "valid-last-second",
            "one second before the absolute deadline",
            k1(),
            NOW,
        ),
        value,
        &c,
        &small,
    ));
    let c = claims(14, NOW - 12 * 3600, NOW - 60, None);
    let value = seal(&k1(), N, P, 14, &c, &small, None);
    v.push(invalid(
        spec(
            "expired-absolute",
            "at the absolute deadline (created 12 h ago)",
            k1(),
            NOW,
        ),
        value,
        "expired",
        "10",
    ));
    let c = claims(15, NOW - 3600, NOW - 1800, None);
    let value = seal(&k1(), N, P, 15, &c, &small, None);
    v.push(invalid(
        spec(
            "expired-idle",
            "sealed 30 min ago: at the idle deadline",
            k1(),
            NOW,
        ),
        value,
        "idle_expired",
        "11",
    ));

    let t = |id, description, value: String, reason, check| {
        invalid(spec(id, description, k1(), NOW), value, reason, check)
    };
    v.push(t(
        "version-flipped",
        "version byte 0x01 changed to 0x02",
        tamper(&base, |b| b[0] = 2),
        "malformed",
        "4",
    ));
    v.push(t(
        "key-id-unknown",
        "key id byte changed: 1 to 3, not in the ring",
        tamper(&base, |b| b[4] = 3),
        "unauthenticated",
        "5",
    ));
    v.push(invalid(
        spec(
            "key-id-relabelled",
            "a key-1 value relabelled as key 2, which is in the ring",
            ring2(),
            NOW,
        ),
        tamper(&old, |b| b[4] = 2),
        "unauthenticated",
        "6",
    ));
    v.push(t(
        "nonce-flipped",
        "one bit of the nonce flipped",
        tamper(&base, |b| b[HEADER_LEN + 3] ^= 0x10),
        "unauthenticated",
        "6",
    ));
    v.push(t(
        "ciphertext-flipped",
        "one bit of the ciphertext flipped",
        tamper(&base, |b| b[HEADER_LEN + NONCE_LEN + 2] ^= 1),
        "unauthenticated",
        "6",
    ));
    v.push(t(
        "tag-flipped",
        "one bit of the tag flipped",
        tamper(&base, |b| {
            let n = b.len();
            b[n - 1] ^= 0x80;
        }),
        "unauthenticated",
        "6",
    ));
    v.push(t(
        "truncated",
        "the last byte of the tag removed",
        tamper(&base, |b| {
            b.pop();
        }),
        "unauthenticated",
        "6",
    ));
    v.push(t(
        "too-short",
        "shorter than version, key id, nonce and tag",
        base[..40].to_owned(),
        "malformed",
        "2",
    ));
    v.push(t(
        "empty",
        "the empty string",
        String::new(),
        "malformed",
        "2",
    ));
    v.push(invalid(
        spec(
            "wrong-key",
            "sealed under another key with the same id",
            vec![vkey(1, 0x80, true)],
            NOW,
        ),
        base.clone(),
        "unauthenticated",
        "6",
    ));
    let mut noncanonical = base.clone();
    let last = noncanonical.pop().unwrap();
    // Set the unused low bits of the final character (same decoded bytes).
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let pos = alphabet
        .iter()
        .position(|c| char::from(*c) == last)
        .unwrap();
    let unused_bits = match base.len() % 4 {
        2 => 4,
        3 => 2,
        _ => 0,
    };
    assert!(
        unused_bits > 0,
        "pick a value whose length leaves unused bits"
    );
    noncanonical.push(char::from(alphabet[pos | 1]));
    v.push(t("non-canonical-base64", "the unused low bits of the last character set: decodes to the same bytes with a lenient decoder", noncanonical, "malformed", "3",));
    v.push(t(
        "padding",
        "base64 padding appended",
        format!("{base}=="),
        "malformed",
        "3",
    ));
    v.push(t(
        "standard-alphabet",
        "a character outside the base64url alphabet",
        base.replacen(|c: char| c.is_ascii_alphabetic(), "+", 1),
        "malformed",
        "3",
    ));
    let c = claims(16, NOW - 60, NOW - 60, None);
    let value = seal(&k1(), N, P, 16, &c, &data(3100), Some(8000));
    assert!(value.len() > 4096 - N.len());
    v.push(t(
        "over-long",
        "a real seal longer than 4096 minus the name length: refused before decoding",
        value,
        "malformed",
        "1",
    ));
    let mut c = claims(17, NOW - 60, NOW - 60, None);
    c.kind = 2;
    let value = seal(&k1(), N, P, 17, &c, &small, None);
    v.push(t(
        "unknown-seal-kind",
        "authenticates, but the kind field is 2",
        value,
        "invalid_claims",
        "7",
    ));

    edges::push(&mut v, &base, &old);

    assert_eq!(VERSION, 1);
    for vector in v.iter_mut().filter(|v| v.expect == "valid") {
        if let Ok(opened) = open_vector(vector) {
            vector.reseal_due = Some(opened.reseal_due().is_some());
        }
    }
    File {
        format: FORMAT.into(),
        vectors: v,
    }
}

/// Opens a vector with the opener of its kind, after recording its
/// re-seals and earlier presentation in a fresh replay guard.
fn open_vector(v: &Vector) -> sealed_session::Result<sealed_session::Opened<Vec<u8>>> {
    let guard = Arc::new(MemoryReplayGuard::new(16));
    for r in &v.reseals {
        let sid: [u8; 16] = ::hex::decode(&r.sid).unwrap().try_into().unwrap();
        let until = unix(r.at + 86_400);
        guard.supersede(&SessionId::from_bytes(sid), r.generation, unix(r.at), until);
    }
    let c = codec_with(&v.keys, &v.cookie_name, &v.purpose, v.now, None, guard);
    let open = |value: &str| {
        if v.kind == "single_use" {
            c.open_single_use_raw(value)
        } else {
            c.open_raw(value)
        }
    };
    if v.presented_before {
        open(&v.value).unwrap();
    }
    let opened = open(&v.value)?;
    Ok(opened)
}

/// The kind each step of FORMAT.md section 4 refuses as.
const STEPS: &[(&str, &str)] = &[
    ("1", "malformed"),
    ("2", "malformed"),
    ("3", "malformed"),
    ("4", "malformed"),
    ("5", "unauthenticated"),
    ("5a", "unauthenticated"),
    ("6", "unauthenticated"),
    ("7", "invalid_claims"),
    ("7a", "wrong_kind"),
    ("8", "not_yet_valid"),
    ("9", "invalid_claims"),
    ("10", "expired"),
    ("11", "idle_expired"),
    ("12", "revoked"),
    ("13", "payload_mismatch"),
    ("14", "replayed"),
];

/// Which of the steps sharing a kind refuses `v`, worked out from the
/// value itself, so a vector's `check` is tested and not only stated.
fn step_of(v: &Vector, reason: &str) -> String {
    let max = 4096 - v.cookie_name.len();
    match reason {
        "malformed" => {
            let step = if v.value.len() > max {
                "1"
            } else if v.value.len() < 60 {
                "2"
            } else {
                match URL_SAFE_NO_PAD.decode(&v.value) {
                    Err(_) => "3",
                    Ok(_) => "4",
                }
            };
            step.into()
        }
        "unauthenticated" => {
            let bytes = URL_SAFE_NO_PAD.decode(&v.value).unwrap();
            let id = u32::from_be_bytes(bytes[1..5].try_into().unwrap());
            match v.keys.iter().find(|k| k.id == id) {
                None => "5".into(),
                Some(k) if k.demoted.is_some_and(|d| v.now >= d + 1800 + 60) => "5a".into(),
                Some(_) => "6".into(),
            }
        }
        "invalid_claims" => {
            // Step 9 is the one with claims that decode.
            let step = match decoded_claims(v) {
                Some(c) if c.created > c.sealed => "9",
                _ => "7",
            };
            step.into()
        }
        other => STEPS
            .iter()
            .find(|(_, kind)| *kind == other)
            .map(|(step, _)| (*step).to_owned())
            .unwrap(),
    }
}

/// The claims of `v`'s value, if they decode (decrypting with the key its
/// header names).
fn decoded_claims(v: &Vector) -> Option<Claims> {
    let bytes = URL_SAFE_NO_PAD.decode(&v.value).ok()?;
    let id = u32::from_be_bytes(bytes[1..5].try_into().ok()?);
    let key = v.keys.iter().find(|k| k.id == id)?;
    let sealer = vec![VKey {
        primary: true,
        demoted: None,
        ..key.clone()
    }];
    let plaintext = codec(&sealer, &v.cookie_name, &v.purpose, v.now, None)
        .__open_plaintext(&v.value)
        .ok()?;
    let (claims, _) = postcard::take_from_bytes::<Claims>(&plaintext).ok()?;
    Some(claims)
}

fn check(v: &Vector) -> Result<(), String> {
    if v.expect == "invalid" {
        let reason = v.reason.as_deref().unwrap_or_default();
        let listed = STEPS
            .iter()
            .any(|(step, kind)| Some(*step) == v.check.as_deref() && *kind == reason);
        if !listed || v.check.as_deref() != Some(step_of(v, reason).as_str()) {
            return Err(format!("{}: step {:?} does not refuse it", v.id, v.check));
        }
    }
    let verdict = open_vector(v)
        .map_err(|e| e.kind().as_str())
        .and_then(|opened| {
            let whole = match v.data.as_deref() {
                Some(DATA_STRING_U32) => decodes_whole::<(String, u32)>(&opened.data),
                Some(DATA_UNIT) => opened.data.is_empty(),
                Some(DATA_OPAQUE) | None => true,
                Some(_) => false,
            };
            if whole {
                Ok(opened)
            } else {
                Err("payload_mismatch")
            }
        });
    match (v.expect.as_str(), verdict) {
        ("valid", Ok(opened)) => check_valid(v, &opened),
        ("invalid", Err(kind)) if Some(kind) == v.reason.as_deref() => Ok(()),
        (expect, got) => Err(format!(
            "{}: expected {expect} {:?}, got {:?}",
            v.id,
            v.reason,
            got.map(|_| "valid")
        )),
    }
}

fn check_valid(v: &Vector, opened: &sealed_session::Opened<Vec<u8>>) -> Result<(), String> {
    if v.reseal_due != Some(opened.reseal_due().is_some()) {
        return Err(format!("{}: re-seal due differs", v.id));
    }
    // The plaintext: its claims decode to what the opener found, the rest
    // is the data (compared by value, so non-minimal varints compare too).
    let plaintext = ::hex::decode(v.plaintext_hex.as_deref().unwrap_or_default()).unwrap();
    let (claims, data) = postcard::take_from_bytes::<Claims>(&plaintext).unwrap();
    if &claims != opened.meta.__claims() || data != opened.data.as_slice() {
        return Err(format!("{}: plaintext differs", v.id));
    }
    // Re-seal the plaintext with the same nonce and key: the value repeats.
    let bytes = URL_SAFE_NO_PAD.decode(&v.value).unwrap();
    let nonce: [u8; NONCE_LEN] = bytes[HEADER_LEN..HEADER_LEN + NONCE_LEN]
        .try_into()
        .unwrap();
    let kid = opened.meta.key_id();
    let sealer_keys: Vec<VKey> = v
        .keys
        .iter()
        .filter(|k| k.id == kid.0)
        .map(|k| VKey {
            primary: true,
            demoted: None,
            ..k.clone()
        })
        .collect();
    let again = codec(&sealer_keys, &v.cookie_name, &v.purpose, v.now, None)
        .__seal_plaintext_with_nonce(&nonce, &plaintext)
        .unwrap();
    if again != v.value {
        return Err(format!("{}: re-sealing does not reproduce the value", v.id));
    }
    Ok(())
}

#[test]
fn vectors_v1() {
    let generated = generate();
    if std::env::var_os("SEALED_SESSION_WRITE_VECTORS").is_some() {
        let text = serde_json::to_string_pretty(&generated).unwrap();
        std::fs::write(PATH, text + "\n").unwrap();
    }
    let text = std::fs::read_to_string(PATH).unwrap();
    let file: File = serde_json::from_str(&text).unwrap();
    assert_eq!(
        file.format, FORMAT,
        "a format change needs a new vectors file"
    );
    assert!(file.vectors.len() >= 25);
    let failures: Vec<String> = file.vectors.iter().filter_map(|v| check(v).err()).collect();
    assert!(failures.is_empty(), "{failures:#?}");
    assert_eq!(
        file, generated,
        "tests/vectors/v1.json differs from what the v1 code generates"
    );
}
