//! The `roundtrip` target: any payload under any configuration.
//!
//! Properties, for every configuration and payload:
//!
//! - `build` fails exactly when its documented conditions say so, with
//!   [`ConfigError`](crate::ConfigError).
//! - `seal` fails exactly when the value would be longer than
//!   `max_value_len`, with [`ErrorKind::TooLarge`] and the sizes; otherwise
//!   the value has the length the format predicts and only base64url
//!   characters.
//! - `open(seal(x)) == x` at the same instant, with fresh metadata, no
//!   re-seal due, and `open_raw` returning the postcard bytes of `x`; the
//!   reference opener agrees on every claim.
//! - `seal_session_raw` of those bytes opens to `x` again, one generation later.
//! - The value does not open under another purpose or cookie name, and
//!   opens with a re-seal request under a keyring where its key is no
//!   longer the primary.
//! - Changing one character of the value makes it fail to open.

use std::fmt::Debug;
use std::sync::Arc;

use sealed_session::{
    ErrorKind, Key, KeyId, Keyring, Lifetime, ManualClock, ResealReason, SealKind, SessionCodec,
    SessionCodecBuilder,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::reference::{self, ALPHABET, Claims, Limits, MIN_CHARS, Verdict};

/// Browsers' name plus value limit (RFC 6265bis §5.6 step 5).
const NAME_VALUE_LIMIT: usize = 4096;

/// One configuration of the codec.
#[derive(Clone, Debug)]
pub struct Config {
    /// The cookie name (may be invalid: `build` must refuse it).
    pub cookie_name: String,
    /// The purpose label (may be invalid).
    pub purpose: String,
    /// The time limits (may be inconsistent).
    pub lifetime: Lifetime,
    /// The clock, in Unix seconds; out-of-range instants included.
    pub now: i64,
    /// `max_value_len`, if set.
    pub max_value_len: Option<usize>,
    /// The primary key: its id, and the byte its 32 bytes repeat.
    pub primary: (u32, u8),
    /// Another key, id and byte, added open-only (a duplicate id is a
    /// configuration error).
    pub older: Option<(u32, u8)>,
    /// Which character to change, and how, for the tamper check.
    pub tamper: (u16, u8),
}

/// How far an input got; the corpus tools count these.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reached {
    /// The keyring refused the second key (a duplicate id).
    KeyringRefused,
    /// `build` refused the configuration.
    BuildRefused,
    /// `seal` refused the payload as too large.
    TooLarge,
    /// The value was sealed and every round-trip check ran.
    RoundTrip,
}

/// Whether `s` is an RFC 9110 `token` (§5.6.2), written independently of
/// the crate's grammar module.
pub fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

fn builder(config: &Config, ring: Keyring) -> SessionCodecBuilder {
    let mut b = SessionCodec::builder(ring)
        .cookie_name(config.cookie_name.clone())
        .purpose(config.purpose.clone())
        .lifetime(config.lifetime)
        .clock(Arc::new(ManualClock::at_unix(config.now)));
    if let Some(len) = config.max_value_len {
        b = b.max_value_len(len);
    }
    b
}

fn key(byte: u8) -> Key {
    Key::from_bytes(&[byte; 32]).unwrap_or_else(|e| panic!("32 bytes are a key: {e}"))
}

/// Runs the property for `data` under `config`, and says how far it got.
///
/// # Panics
/// When the property is violated.
pub fn check<T>(config: &Config, data: &T) -> Reached
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let mut ring = Keyring::new(KeyId(config.primary.0), key(config.primary.1));
    let mut keys = vec![(config.primary.0, [config.primary.1; 32])];
    if let Some(older) = config.older {
        match ring.add_open_only(KeyId(older.0), key(older.1)) {
            Ok(()) => keys.push((older.0, [older.1; 32])),
            Err(e) => {
                assert_eq!(older.0, config.primary.0, "add_open_only refused: {e}");
                assert!(e.to_string().starts_with("invalid configuration"));
                return Reached::KeyringRefused;
            }
        }
    }

    // build: refused exactly as documented.
    let name = config.cookie_name.as_str();
    let max_value_len = config
        .max_value_len
        .unwrap_or(NAME_VALUE_LIMIT.saturating_sub(name.len()));
    let valid = is_token(name)
        && name.len() < NAME_VALUE_LIMIT
        && (1..=255).contains(&config.purpose.len())
        && config.lifetime.validate().is_ok()
        && max_value_len >= MIN_CHARS;
    let codec = match builder(config, ring.clone()).build() {
        Ok(codec) => {
            assert!(valid, "build accepted an invalid configuration");
            codec
        }
        Err(e) => {
            assert!(!valid, "build refused a valid configuration: {e}");
            assert!(e.to_string().starts_with("invalid configuration"));
            return Reached::BuildRefused;
        }
    };
    assert_eq!(codec.max_value_len(), max_value_len);

    // seal: the length is predictable, and so is TooLarge.
    let now = u64::try_from(codec.now().unix_timestamp()).unwrap_or(0);
    let limits = Limits::of(&config.lifetime);
    let claims = Claims {
        sid: [0; 16],
        created: now,
        sealed: now,
        expires: now.saturating_add(limits.absolute),
        generation: 0,
        kind: 0,
        subject: None,
    };
    let postcard = postcard::to_allocvec(data)
        .unwrap_or_else(|e| panic!("the payload type always serializes: {e}"));
    let plaintext_len = reference::encode_claims(&claims).len() + postcard.len();
    let predicted = reference::encoded_len(reference::OVERHEAD + plaintext_len);
    let value = match codec.seal(data) {
        Ok(value) => {
            assert!(predicted <= max_value_len, "sealed past max_value_len");
            value
        }
        Err(e) => {
            assert!(
                predicted > max_value_len,
                "seal refused a value that fits: {e}"
            );
            assert_eq!(e.kind(), ErrorKind::TooLarge);
            assert_eq!(
                e.size_and_limit(),
                Some((name.len() + predicted, name.len() + max_value_len))
            );
            return Reached::TooLarge;
        }
    };
    assert_eq!(value.len(), predicted);
    assert!(
        value.bytes().all(|b| ALPHABET.contains(&b)),
        "not base64url"
    );

    // The reference opener agrees on every claim and byte.
    let authentic = match reference::open(&value, &keys, name, &config.purpose, max_value_len) {
        Verdict::Authentic(a) => a,
        Verdict::Refused(kind) => panic!("the reference refuses a fresh seal as {kind:?}"),
    };
    assert_eq!(authentic.key_id, config.primary.0);
    assert_eq!(authentic.data, postcard);
    let sealed_claims = Claims {
        sid: authentic.claims.sid,
        ..claims
    };
    assert_eq!(authentic.claims, sealed_claims);

    // open(seal(x)) == x, at the same instant.
    let opened = codec
        .open::<T>(&value)
        .unwrap_or_else(|e| panic!("a fresh seal does not open: {e}"));
    assert_eq!(&opened.data, data);
    let meta = &opened.meta;
    assert_eq!(meta.id().as_bytes(), &authentic.claims.sid);
    assert_eq!(meta.created(), meta.sealed());
    assert_eq!(meta.generation(), 0);
    assert_eq!(meta.kind(), SealKind::Session);
    assert_eq!(meta.subject(), None);
    assert_eq!(meta.key_id(), KeyId(config.primary.0));
    assert_eq!(
        opened.reseal_due(),
        None,
        "a fresh seal is due for a re-seal"
    );
    let raw = codec
        .open_raw(&value)
        .unwrap_or_else(|e| panic!("open_raw refuses a fresh seal: {e}"));
    assert_eq!(raw.data, postcard);
    assert_eq!(raw.meta, opened.meta);

    // seal_session_raw of the raw bytes is the same session, one generation on.
    let resealed = codec
        .seal_session_raw(&raw.meta, &raw.data)
        .unwrap_or_else(|e| panic!("re-sealing what just opened fails: {e}"));
    let again = codec
        .open::<T>(&resealed)
        .unwrap_or_else(|e| panic!("a re-sealed value does not open: {e}"));
    assert_eq!(&again.data, data);
    assert_eq!(again.meta.id(), meta.id());
    assert_eq!(again.meta.created(), meta.created());
    assert_eq!(again.meta.generation(), 1);

    // The associated data binds the purpose and the cookie name.
    if config.purpose.len() < 255 {
        let other = Config {
            purpose: format!("{}!", config.purpose),
            ..config.clone()
        };
        expect_unauthenticated(&other, &ring, &value);
    }
    if name.len() + 1 < NAME_VALUE_LIMIT {
        let other = Config {
            cookie_name: format!("{name}!"),
            max_value_len: Some(max_value_len),
            ..config.clone()
        };
        expect_unauthenticated(&other, &ring, &value);
    }

    // Rotation: under a ring whose primary is another key, the value still
    // opens and asks to be re-sealed.
    if let Some(older) = config.older {
        let mut rotated = Keyring::new(KeyId(older.0), key(older.1));
        if rotated
            .add_open_only(KeyId(config.primary.0), key(config.primary.1))
            .is_ok()
        {
            let codec = builder(config, rotated)
                .build()
                .unwrap_or_else(|e| panic!("the same configuration, rotated: {e}"));
            let opened = codec
                .open::<T>(&value)
                .unwrap_or_else(|e| panic!("a non-primary key does not open: {e}"));
            assert_eq!(opened.reseal_due(), Some(ResealReason::NonPrimaryKey));
        }
    }

    // One changed character.
    let bytes = value.as_bytes();
    let at = usize::from(config.tamper.0) % bytes.len();
    let index = usize::from(reference::alphabet_index(bytes[at]).unwrap_or(0));
    let shift = 1 + usize::from(config.tamper.1) % 63;
    let mut changed = bytes.to_vec();
    changed[at] = ALPHABET[(index + shift) % 64];
    let changed = String::from_utf8_lossy(&changed);
    match codec.open_raw(&changed) {
        Err(e) if matches!(e.kind(), ErrorKind::Malformed | ErrorKind::Unauthenticated) => {}
        Err(e) => panic!("a changed value got past the tag: {e:?}"),
        Ok(_) => panic!("a changed value opened"),
    }
    Reached::RoundTrip
}

fn expect_unauthenticated(config: &Config, ring: &Keyring, value: &str) {
    let codec = builder(config, ring.clone())
        .build()
        .unwrap_or_else(|e| panic!("a valid configuration, one label changed: {e}"));
    match codec.open_raw(value) {
        Err(e) => assert_eq!(e.kind(), ErrorKind::Unauthenticated),
        Ok(_) => panic!("a value opened under another name or purpose"),
    }
}
