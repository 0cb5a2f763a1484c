//! [`SessionCodec`](crate::SessionCodec): seals session data into cookie values and opens them
//! again. This file holds the type and session creation; `seal.rs` and
//! `open.rs` the two directions, `builder.rs` the settings.

use core::fmt;
use std::sync::Arc;

use time::OffsetDateTime;

use crate::error::Result;
use crate::freshness::clock::Clock;
use crate::freshness::lifetime::{Lifetime, secs};
use crate::freshness::replay::ReplayGuard;
use crate::freshness::revocation::Revocation;
use crate::keys::key::KeyId;
use crate::seal::aead::Cipher;
use crate::seal::envelope::{self};
use crate::seal::payload::Claims;
use crate::session::meta::{SESSION_ID_LEN, SealKind, SessionId, SessionMeta};

mod builder;
#[cfg(feature = "internal-vectors")]
mod deterministic;
mod open;
mod opened;
mod seal;

pub use builder::SessionCodecBuilder;
#[cfg(feature = "internal-vectors")]
#[doc(hidden)]
pub use deterministic::VectorClaims;
pub(crate) use open::log_ended;
pub use opened::{Opened, ResealReason};

/// The default cookie name: the `__Host-` prefix makes browsers require
/// Secure, `Path=/` and no Domain (RFC 6265bis §4.1.3.2).
pub const DEFAULT_COOKIE_NAME: &str = "__Host-session";
/// The default purpose label bound into the associated data.
pub const DEFAULT_PURPOSE: &str = "session";
/// Browsers ignore a cookie whose name plus value exceed 4096 octets
/// (RFC 6265bis §5.6 step 5, §5.7 step 4; Chromium
/// `kMaxCookieNamePlusValueSize`, Firefox `kMaxBytesPerCookie`).
pub const MAX_NAME_VALUE_LEN: usize = 4096;
/// The format version this crate writes, and the only one `open` accepts:
/// the first byte of every sealed value (`docs/FORMAT.md`).
pub const FORMAT_VERSION: u8 = envelope::VERSION;

/// One key, ready to use with this codec's associated data.
#[derive(Clone)]
pub(crate) struct Slot {
    id: KeyId,
    cipher: Cipher,
    /// The key's CSRF subkey.
    csrf: Cipher,
    /// For a key that stopped sealing: values under it are refused from
    /// this Unix second on (its stop time, the idle timeout and the skew).
    open_until: Option<u64>,
    aad: Box<[u8]>,
}

/// Seals session data into cookie values and opens them again.
///
/// Build it once with [`SessionCodec::builder`](crate::SessionCodec::builder) and share it (it is
/// `Send + Sync`; wrap it in an `Arc`).
///
/// ```
/// use sealed_session::{Keyring, KeyId, SessionCodec};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Serialize, Deserialize, PartialEq, Debug)]
/// struct Visit { user: String, count: u32 }
///
/// let codec = SessionCodec::builder(Keyring::generate(KeyId(1))?).build()?;
/// let value = codec.seal(&Visit { user: "ada".into(), count: 1 })?;
/// let opened = codec.open::<Visit>(&value)?;
/// assert_eq!(opened.data, Visit { user: "ada".into(), count: 1 });
/// assert!(opened.reseal_due().is_none());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct SessionCodec {
    slots: Box<[Slot]>,
    name: Box<str>,
    purpose: Box<str>,
    pub(crate) lifetime: Lifetime,
    max_value_len: usize,
    clock: Arc<dyn Clock>,
    revocation: Option<Arc<dyn Revocation>>,
    replay: Option<Arc<dyn ReplayGuard>>,
    /// Freshness is checked by the caller against a store: the public
    /// synchronous openers refuse rather than skip it.
    deferred: bool,
}

impl SessionCodec {
    /// The cookie name the codec binds.
    #[must_use]
    pub fn cookie_name(&self) -> &str {
        &self.name
    }

    /// The purpose label the codec binds.
    #[must_use]
    pub fn purpose(&self) -> &str {
        &self.purpose
    }

    /// The time limits in force.
    #[must_use]
    pub const fn lifetime(&self) -> &Lifetime {
        &self.lifetime
    }

    /// The longest value, in characters, that `open` decodes and `seal`
    /// produces.
    #[must_use]
    pub const fn max_value_len(&self) -> usize {
        self.max_value_len
    }

    /// The current time from the codec's clock.
    #[must_use]
    pub fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    /// Metadata for a new session: a fresh random id, created now, with the
    /// absolute deadline from the lifetime. Seal it with
    /// [`SessionCodec::seal_session`](crate::SessionCodec::seal_session).
    ///
    /// # Errors
    /// [`ErrorKind::Rng`](crate::ErrorKind::Rng) if the operating system's generator fails.
    pub fn new_session(&self, subject: Option<&str>) -> Result<SessionMeta> {
        let now = self.clock.unix_now();
        self.fresh(now, SealKind::Session, subject.map(str::to_owned))
    }

    /// New metadata for an existing session, for login and privilege
    /// changes (session fixation): a new id and creation time, the same
    /// subject unless `subject` replaces it. Seal it with
    /// [`SessionCodec::seal_session`](crate::SessionCodec::seal_session); with a revocation hook, also revoke the
    /// old id.
    ///
    /// ```
    /// # use sealed_session::{Keyring, KeyId, SessionCodec};
    /// # let codec = SessionCodec::builder(Keyring::generate(KeyId(1))?).build()?;
    /// let opened = codec.open::<u32>(&codec.seal(&7u32)?)?;
    /// let meta = codec.regenerate(&opened.meta, Some("user-42"))?;
    /// assert_ne!(meta.id(), opened.meta.id());
    /// let value = codec.seal_session(&meta, &opened.data)?;
    /// assert_eq!(codec.open::<u32>(&value)?.meta.subject(), Some("user-42"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`ErrorKind::Rng`](crate::ErrorKind::Rng) if the operating system's generator fails.
    pub fn regenerate(&self, meta: &SessionMeta, subject: Option<&str>) -> Result<SessionMeta> {
        let subject = subject
            .map(str::to_owned)
            .or_else(|| meta.claims.subject.clone());
        let now = self.clock.unix_now();
        self.fresh(now, meta.kind(), subject)
    }

    fn fresh(&self, now: u64, kind: SealKind, subject: Option<String>) -> Result<SessionMeta> {
        Ok(SessionMeta {
            claims: self.new_claims(now, kind, subject, SessionId::random()?.0),
            key_id: self.slots[0].id,
            opened: false,
        })
    }

    fn new_claims(
        &self,
        now: u64,
        kind: SealKind,
        subject: Option<String>,
        sid: [u8; SESSION_ID_LEN],
    ) -> Claims {
        let window = match kind {
            SealKind::Session => self.lifetime.absolute,
            SealKind::SingleUse => self.lifetime.single_use_window,
        };
        Claims {
            sid,
            created: now,
            sealed: now,
            expires: now.saturating_add(secs(window)),
            generation: 0,
            kind: Claims::kind_byte(kind),
            subject,
        }
    }
}

impl SessionCodec {
    /// The CSRF token of `session`: 86 base64url characters, a fresh random
    /// mask and the session's token under the primary key's CSRF subkey
    /// masked with it (`docs/FORMAT.md` §7). Each call gives another string
    /// that verifies, so a compressed page never shows a fixed secret
    /// (BREACH). Put it in forms or a header; check it with
    /// [`SessionCodec::verify_csrf`](crate::SessionCodec::verify_csrf) on
    /// every unsafe method. It stops verifying when the session id changes
    /// (regeneration).
    ///
    /// ```
    /// # use sealed_session::{Keyring, KeyId, SessionCodec};
    /// let codec = SessionCodec::builder(Keyring::generate(KeyId(1))?).build()?;
    /// let a = codec.new_session(None)?;
    /// let b = codec.new_session(None)?;
    /// let token = codec.csrf_token(&a)?;
    /// assert_ne!(token, codec.csrf_token(&a)?, "masked afresh each time");
    /// assert!(codec.verify_csrf(&a, &token));
    /// assert!(!codec.verify_csrf(&b, &token));
    /// assert!(!codec.verify_csrf(&a, ""));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`ErrorKind::Rng`](crate::ErrorKind::Rng) if the mask cannot be drawn.
    pub fn csrf_token(&self, session: &SessionMeta) -> Result<String> {
        crate::csrf::token::token(&self.slots[0].csrf, &session.id())
    }

    /// Whether `presented` is `session`'s CSRF token under any key in the
    /// ring, compared in constant time. Untrusted input: any malformed text
    /// is `false`.
    #[must_use]
    pub fn verify_csrf(&self, session: &SessionMeta, presented: &str) -> bool {
        crate::csrf::token::verify(self.slots.iter().map(|s| &s.csrf), &session.id(), presented)
    }
}

impl fmt::Debug for SessionCodec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionCodec")
            .field("cookie_name", &self.name)
            .field("purpose", &self.purpose)
            .field(
                "key_ids",
                &self.slots.iter().map(|s| s.id).collect::<Vec<_>>(),
            )
            .field("lifetime", &self.lifetime)
            .field("max_value_len", &self.max_value_len)
            .field("revocation", &self.revocation.is_some())
            .field("replay_guard", &self.replay.is_some())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! The deterministic seal path, for the vectors and tamper tests.
    use super::*;
    use crate::error::ErrorKind;
    use crate::keys::keyring::Keyring;
    use crate::seal::aead::NONCE_LEN;

    fn aead_calls(f: impl FnOnce()) -> usize {
        let before = crate::seal::aead::OPEN_CALLS.with(core::cell::Cell::get);
        f();
        crate::seal::aead::OPEN_CALLS.with(core::cell::Cell::get) - before
    }

    #[test]
    fn checks_before_the_tag_make_no_aead_call() {
        let ring = Keyring::new(KeyId(1), crate::Key::from_bytes(&[1; 32]).unwrap());
        let codec = SessionCodec::builder(ring).build().unwrap();
        let value = codec.seal(&5u8).unwrap();
        assert_eq!(aead_calls(|| assert!(codec.open::<u8>(&value).is_ok())), 1);
        let mut bytes =
            base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, &value)
                .unwrap();
        bytes[4] = 9; // unknown key id
        let unknown =
            base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, &bytes);
        // Set only the unused low bits of the last character: a lenient
        // decoder would return the same bytes.
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let value = (0u8..)
            .map(|n| codec.seal(&n).unwrap())
            .find(|v| v.len() % 4 != 0)
            .unwrap();
        let mut noncanonical = value.clone().into_bytes();
        let last = noncanonical.pop().unwrap();
        let pos = ALPHABET.iter().position(|c| *c == last).unwrap();
        noncanonical.push(ALPHABET[pos | 1]);
        let noncanonical = String::from_utf8(noncanonical).unwrap();
        assert_ne!(noncanonical, value);
        for bad in [
            unknown.as_str(),
            &value[..59],
            &format!("{value}="),
            &"A".repeat(5000),
            "",
            &noncanonical,
        ] {
            let calls = aead_calls(|| {
                let err = codec.open::<u8>(bad).unwrap_err();
                assert!(matches!(
                    err.kind(),
                    ErrorKind::Malformed | ErrorKind::Unauthenticated
                ));
            });
            assert_eq!(calls, 0, "{} chars", bad.len());
        }
    }

    impl SessionCodec {
        pub(crate) fn seal_fixed(
            &self,
            nonce: &[u8; NONCE_LEN],
            claims: &Claims,
            data: &impl crate::seal::payload::Data,
        ) -> Result<String> {
            self.seal_with_nonce(nonce, claims, data)
        }
    }
}
