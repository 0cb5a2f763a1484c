//! The `open` target: arbitrary bytes presented as a cookie value.
//!
//! Properties, for every input:
//!
//! - `open` and `open_raw` never panic, and refuse with a refusal kind,
//!   never a setup kind; the message never echoes the value.
//! - The crate's verdict equals the reference opener's
//!   ([`super::reference`], written from `docs/FORMAT.md`): the same error
//!   kind at the same step, or the same session (claims, data, key, the
//!   re-seal decision). A value opens only if the AEAD tag verifies under a
//!   key of the ring, so only real seals (the seed corpus) open.
//! - A value that opened stops opening when any one character is changed,
//!   removed or added: the text form is not malleable.
//! - A single-use value opens once per replay guard; a session value opens
//!   again with the same result.

use std::sync::Arc;

use sealed_session::{
    ErrorKind, Key, KeyId, Keyring, ManualClock, MemoryReplayGuard, Opened, ResealReason, SealKind,
    SessionCodec,
};
use serde::{Deserialize, Serialize};

use super::reference::{self, ALPHABET, Authentic, Limits, MIN_CHARS, Verdict};

/// The fixed clock, in Unix seconds (2025-11-24T14:40:00Z).
pub const NOW: u64 = 1_764_000_000;
/// The primary key: id and bytes. Public test key; never use it for real.
pub const PRIMARY: (u32, [u8; 32]) = (2, [0x22; 32]);
/// An older, open-only key (a rotation in progress).
pub const OLDER: (u32, [u8; 32]) = (1, [0x11; 32]);
/// Both keys, primary first.
pub const KEYS: [(u32, [u8; 32]); 2] = [PRIMARY, OLDER];

/// The app type the seeds carry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeedData {
    /// A user name.
    pub user: String,
    /// Some roles.
    pub roles: Vec<String>,
    /// A counter.
    pub visits: u32,
    /// An optional preference.
    pub theme: Option<String>,
}

fn key(bytes: &[u8; 32]) -> Key {
    Key::from_bytes(bytes).unwrap_or_else(|e| panic!("fixed key: {e}"))
}

/// The keyring of the target: [`PRIMARY`] seals, [`OLDER`] only opens.
///
/// # Panics
/// Never: the keys and ids are fixed and distinct.
pub fn keyring() -> Keyring {
    let mut ring = Keyring::new(KeyId(PRIMARY.0), key(&PRIMARY.1));
    ring.add_open_only(KeyId(OLDER.0), key(&OLDER.1))
        .unwrap_or_else(|e| panic!("fixed keyring: {e}"));
    ring
}

/// A key from [`KEYS`] alone as the primary, for making seeds.
pub fn single_key_ring(id: u32, bytes: &[u8; 32]) -> Keyring {
    Keyring::new(KeyId(id), key(bytes))
}

/// The codec under test: default name, purpose and lifetime, the clock
/// stopped at `now`, and a fresh replay guard (so each call is
/// independent of earlier inputs, as libFuzzer requires).
///
/// # Panics
/// Never: the configuration is fixed and valid.
pub fn codec_at(ring: Keyring, now: u64) -> SessionCodec {
    let now = i64::try_from(now).unwrap_or(i64::MAX);
    SessionCodec::builder(ring)
        .clock(Arc::new(ManualClock::at_unix(now)))
        .replay_guard(Arc::new(MemoryReplayGuard::new(16)))
        .build()
        .unwrap_or_else(|e| panic!("fixed configuration: {e}"))
}

fn codec() -> SessionCodec {
    codec_at(keyring(), NOW)
}

/// The clamping `SessionMeta`'s accessors apply to Unix seconds.
fn timestamp(secs: u64) -> i64 {
    // 9999-12-31T23:59:59Z, the largest instant `time` holds by default.
    const MAX: i64 = 253_402_300_799;
    i64::try_from(secs).map_or(MAX, |s| s.min(MAX))
}

/// What the reference says an opener for `kind` (0 session, 1 single-use:
/// `open_raw`, `open_single_use_raw`) must return at [`NOW`].
fn expected(
    codec: &SessionCodec,
    value: &str,
    kind: u8,
) -> Result<(Authentic, Option<ResealReason>), ErrorKind> {
    let verdict = reference::open(
        value,
        &KEYS,
        codec.cookie_name(),
        codec.purpose(),
        codec.max_value_len(),
    );
    let authentic = match verdict {
        Verdict::Refused(kind) => return Err(kind),
        Verdict::Authentic(a) => a,
    };
    if authentic.claims.kind != kind {
        return Err(ErrorKind::WrongKind);
    }
    let renew = Limits::of(codec.lifetime()).check(&authentic.claims, NOW)?;
    let reseal = if authentic.claims.kind == 1 {
        None
    } else if renew {
        Some(ResealReason::Renewal)
    } else if authentic.key_id != PRIMARY.0 {
        Some(ResealReason::NonPrimaryKey)
    } else {
        None
    };
    Ok((authentic, reseal))
}

/// Checks an error from `open` on `value`.
fn check_refusal(value: &str, err: &sealed_session::Error) {
    let kind = err.kind();
    assert!(
        kind.is_refusal(),
        "open returned a non-refusal kind {kind:?}"
    );
    if !matches!(kind, ErrorKind::Replayed | ErrorKind::Revoked) {
        assert!(err.session_id().is_none(), "{kind:?} carries a session id");
    }
    // Every refusal message of a value this long is shorter than the
    // value, so containing it would mean echoing attacker input.
    if value.len() >= MIN_CHARS {
        for text in [err.to_string(), format!("{err:?}")] {
            assert!(!text.contains(value), "the error echoes the value: {text}");
        }
    }
}

/// Checks an opened value against the reference's session.
fn check_session<T>(opened: &Opened<T>, want: &Authentic, reseal: Option<ResealReason>) {
    let meta = &opened.meta;
    let c = &want.claims;
    assert_eq!(meta.id().as_bytes(), &c.sid);
    assert_eq!(meta.created().unix_timestamp(), timestamp(c.created));
    assert_eq!(meta.sealed().unix_timestamp(), timestamp(c.sealed));
    assert_eq!(meta.expires().unix_timestamp(), timestamp(c.expires));
    assert_eq!(meta.generation(), c.generation);
    assert_eq!(meta.subject(), c.subject.as_deref());
    assert_eq!(meta.key_id(), KeyId(want.key_id));
    let kind = if c.kind == 1 {
        SealKind::SingleUse
    } else {
        SealKind::Session
    };
    assert_eq!(meta.kind(), kind);
    assert_eq!(opened.reseal_due(), reseal);
    let _ = opened.idle_deadline();
}

/// Runs the property on raw fuzzer bytes: valid UTF-8 is used as is,
/// anything else after lossy conversion.
pub fn check(input: &[u8]) {
    check_value(&String::from_utf8_lossy(input));
}

/// The `open_sealed` target: seals the input as a plaintext (claims then
/// data, any bytes) under one of the target's keys with the reference
/// sealer, then runs the `open` property on the value. This reaches what
/// `open` cannot: the claims decoder, the time checks and the data decoder
/// on authenticated but hostile plaintext, as a foreign sealer or a stolen
/// key could produce. The first byte picks the key and the nonce.
///
/// # Panics
/// When the property is violated.
pub fn check_plaintext(input: &[u8]) {
    if let Some(value) = sealed_value(input) {
        // The envelope's malleability is the `open` target's business;
        // here it would only cost executions.
        check_opened(&value, false);
    }
}

/// The value `check_plaintext` opens for `input`: the rest of the input
/// sealed under key [`KEYS`]`[first byte & 1]`, with the first byte
/// repeated as the nonce. `None` for an empty input.
pub fn sealed_value(input: &[u8]) -> Option<String> {
    let (&choice, plaintext) = input.split_first()?;
    let key = KEYS[usize::from(choice & 1)];
    let name = sealed_session::DEFAULT_COOKIE_NAME;
    let purpose = sealed_session::DEFAULT_PURPOSE;
    Some(reference::seal(plaintext, key, name, purpose, [choice; 24]))
}

/// Runs the property on one cookie value.
///
/// # Panics
/// When the property is violated.
pub fn check_value(value: &str) {
    check_opened(value, true);
}

/// The raw openers against the reference: `raw` is what the opener for
/// `kind` returned.
fn check_raw(
    value: &str,
    raw: &Result<Opened<Vec<u8>>, sealed_session::Error>,
    want: &Result<(Authentic, Option<ResealReason>), ErrorKind>,
) {
    match (raw, want) {
        (Err(err), Err(kind)) => {
            check_refusal(value, err);
            assert_eq!(err.kind(), *kind, "crate and reference disagree");
        }
        (Ok(opened), Ok((authentic, reseal))) => {
            assert_eq!(opened.data, authentic.data);
            check_session(opened, authentic, *reseal);
        }
        (Ok(_), Err(kind)) => panic!("opened a value the reference refuses as {kind:?}"),
        (Err(err), Ok(_)) => panic!("refused as {err:?} a value the reference opens"),
    }
}

fn check_opened(value: &str, malleability: bool) {
    let codec = codec();
    let want = expected(&codec, value, 0);

    // The raw openers, one per kind: the reference decides everything,
    // and at most one of them opens a value.
    let raw = codec.open_raw(value);
    check_raw(value, &raw, &want);
    let single_use_codec = self::codec();
    let single_use = single_use_codec.open_single_use_raw(value);
    check_raw(value, &single_use, &expected(&single_use_codec, value, 1));
    assert!(
        raw.is_err() || single_use.is_err(),
        "both kinds opened one value"
    );
    if let Ok(opened) = single_use {
        let again = single_use_codec
            .open_single_use_raw(value)
            .err()
            .unwrap_or_else(|| panic!("a single-use value opened twice"));
        assert_eq!(again.kind(), ErrorKind::Replayed);
        assert_eq!(again.session_id(), Some(&opened.meta.id()));
        if malleability {
            check_not_malleable(value);
        }
    }

    // The typed opener: the same, plus the app's type must decode exactly.
    let typed_codec = self::codec();
    let typed = typed_codec.open::<SeedData>(value);
    let want_typed =
        want.and_then(
            |(a, reseal)| match postcard::take_from_bytes::<SeedData>(&a.data) {
                Ok((data, [])) => Ok((a, reseal, data)),
                _ => Err(ErrorKind::PayloadMismatch),
            },
        );
    match (&typed, &want_typed) {
        (Err(err), Err(kind)) => {
            check_refusal(value, err);
            assert_eq!(err.kind(), *kind, "crate and reference disagree (typed)");
        }
        (Ok(opened), Ok((authentic, reseal, data))) => {
            assert_eq!(&opened.data, data);
            check_session(opened, authentic, *reseal);
        }
        (Ok(_), Err(kind)) => panic!("opened (typed) a value the reference refuses as {kind:?}"),
        (Err(err), Ok(_)) => panic!("refused (typed) as {err:?} a value the reference opens"),
    }

    if let Ok(opened) = raw {
        // Opening again through the same replay guard.
        let again = codec
            .open_raw(value)
            .unwrap_or_else(|e| panic!("a session value stopped opening: {e}"));
        assert_eq!(again.data, opened.data);
        assert_eq!(again.meta, opened.meta);
        if malleability {
            check_not_malleable(value);
        }
    }
}

/// Every one-character change of a value that opened must be refused
/// before or by the tag.
///
/// # Panics
/// When one does open, or fails for another reason.
pub fn check_not_malleable(value: &str) {
    let bytes = value.as_bytes();
    let mut variants = Vec::with_capacity(bytes.len() + 2);
    for (i, c) in bytes.iter().enumerate() {
        let index = usize::from(reference::alphabet_index(*c).unwrap_or(0));
        let mut changed = bytes.to_vec();
        changed[i] = ALPHABET[(index + 1 + i % 63) % 64];
        variants.push(changed);
    }
    variants.push(bytes[..bytes.len() - 1].to_vec());
    variants.push([bytes, b"A"].concat());
    for variant in variants {
        let text = String::from_utf8_lossy(&variant);
        match codec().open_raw(&text) {
            Err(e) if matches!(e.kind(), ErrorKind::Malformed | ErrorKind::Unauthenticated) => {}
            Err(e) => panic!("a changed value got past the tag: {e:?}"),
            Ok(_) => panic!("a changed value opened"),
        }
    }
}
