//! `SessionCodec` and its builder: `seal` and `open`, the main entry point.

use core::fmt;
use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;
use time::OffsetDateTime;

use crate::cookie::grammar::is_token;
use crate::error::{ConfigError, Error, ErrorKind, Result};
use crate::freshness::clock::{Clock, SystemClock, from_unix_seconds, unix_seconds};
use crate::freshness::lifetime::{Lifetime, secs};
use crate::freshness::replay::ReplayGuard;
use crate::freshness::revocation::Revocation;
use crate::keys::key::KeyId;
use crate::keys::keyring::Keyring;
use crate::seal::aead::{Cipher, NONCE_LEN};
use crate::seal::envelope::{self, Plaintext, Sealing, Untrusted};
use crate::seal::payload::{self, Claims, Data, RawPayload, Value};
use crate::session::meta::{SESSION_ID_LEN, SealKind, SessionId, SessionMeta};

#[cfg(feature = "internal-vectors")]
mod deterministic;
#[cfg(feature = "internal-vectors")]
#[doc(hidden)]
pub use deterministic::VectorClaims;

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
struct Slot {
    id: KeyId,
    cipher: Cipher,
    aad: Box<[u8]>,
}

/// Seals session data into cookie values and opens them again.
///
/// Build it once with [`SessionCodec::builder`] and share it (it is
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
}

/// Configures a [`SessionCodec`].
#[derive(Clone)]
#[must_use]
pub struct SessionCodecBuilder {
    keyring: Keyring,
    name: String,
    purpose: String,
    pub(crate) lifetime: Lifetime,
    max_value_len: Option<usize>,
    clock: Arc<dyn Clock>,
    revocation: Option<Arc<dyn Revocation>>,
    replay: Option<Arc<dyn ReplayGuard>>,
}

impl SessionCodecBuilder {
    /// The cookie name, prefix included; bound into every value's
    /// associated data, so a value sealed for one cookie never opens as
    /// another. Default [`DEFAULT_COOKIE_NAME`].
    pub fn cookie_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// An app-chosen purpose label (for example `session`, `pre-auth`,
    /// `oauth-state`), bound into the associated data. Default
    /// [`DEFAULT_PURPOSE`].
    pub fn purpose(mut self, purpose: impl Into<String>) -> Self {
        self.purpose = purpose.into();
        self
    }

    /// Time limits. Default [`Lifetime::default`].
    pub fn lifetime(mut self, lifetime: Lifetime) -> Self {
        self.lifetime = lifetime;
        self
    }

    /// The clock. Default [`SystemClock`]; tests pass a
    /// [`ManualClock`](crate::ManualClock).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// A revocation hook, consulted on every open after the time checks.
    pub fn revocation(mut self, revocation: Arc<dyn Revocation>) -> Self {
        self.revocation = Some(revocation);
        self
    }

    /// A replay guard: enables single-use seals and refuses superseded
    /// values after their grace period.
    pub fn replay_guard(mut self, guard: Arc<dyn ReplayGuard>) -> Self {
        self.replay = Some(guard);
        self
    }

    /// The longest value `open` decodes and `seal` produces, in
    /// characters. Default: `4096 - cookie name length`, so name plus value
    /// fit one browser cookie. Chunking raises it to its own cap.
    pub fn max_value_len(mut self, len: usize) -> Self {
        self.max_value_len = Some(len);
        self
    }

    /// Checks the configuration and builds the codec.
    ///
    /// # Errors
    /// [`ConfigError`](crate::ConfigError) if the cookie name is not an RFC 9110 token,
    /// the purpose is empty or longer than 255 bytes, the lifetime is
    /// inconsistent ([`Lifetime::validate`]), or the maximum value length
    /// cannot hold a sealed value.
    pub fn build(self) -> Result<SessionCodec, ConfigError> {
        if !is_token(&self.name) || self.name.len() >= MAX_NAME_VALUE_LEN {
            return Err(ConfigError::new(
                "the cookie name must be a non-empty RFC 9110 token shorter than 4096 bytes",
            ));
        }
        if self.purpose.is_empty() || self.purpose.len() > 255 {
            return Err(ConfigError::new("the purpose must be 1 to 255 bytes"));
        }
        self.lifetime.validate()?;
        let max_value_len = self
            .max_value_len
            .unwrap_or(MAX_NAME_VALUE_LEN - self.name.len());
        if max_value_len < envelope::MIN_ENCODED_LEN {
            return Err(ConfigError::new(
                "the maximum value length cannot hold a sealed value",
            ));
        }
        let slots = self
            .keyring
            .entries()
            .iter()
            .map(|e| {
                Ok(Slot {
                    id: e.id,
                    cipher: e.cipher.clone(),
                    aad: envelope::associated_data(e.id, &self.name, &self.purpose)?
                        .into_boxed_slice(),
                })
            })
            .collect::<Result<Box<[Slot]>, ConfigError>>()?;
        Ok(SessionCodec {
            slots,
            name: self.name.into_boxed_str(),
            purpose: self.purpose.into_boxed_str(),
            lifetime: self.lifetime,
            max_value_len,
            clock: self.clock,
            revocation: self.revocation,
            replay: self.replay,
        })
    }
}

/// Why an opened value should be re-sealed before the response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ResealReason {
    /// The renewal interval has passed (rolling renewal of the idle
    /// deadline), or the sealed deadline is longer than the configuration
    /// now allows.
    Renewal,
    /// It was opened with a key that is no longer the primary (rotation).
    NonPrimaryKey,
}

/// An opened value: the app's data and the session's metadata.
#[derive(Clone, Debug)]
pub struct Opened<T> {
    /// The app's session data.
    pub data: T,
    /// The crate-owned metadata.
    pub meta: SessionMeta,
    reseal: Option<ResealReason>,
    idle_deadline: u64,
}

impl<T> Opened<T> {
    /// `Some` when the caller should re-seal this session
    /// ([`SessionCodec::seal_session`]) and send the new value, `None` when the
    /// current cookie can stay as it is.
    #[must_use]
    pub const fn reseal_due(&self) -> Option<ResealReason> {
        self.reseal
    }

    /// When this value dies if it is not re-sealed (the idle deadline,
    /// never past the absolute one).
    #[must_use]
    pub fn idle_deadline(&self) -> OffsetDateTime {
        from_unix_seconds(self.idle_deadline)
    }
}

impl SessionCodec {
    /// A builder with secure defaults: cookie [`DEFAULT_COOKIE_NAME`],
    /// purpose [`DEFAULT_PURPOSE`], [`Lifetime::default`], the system
    /// clock, no revocation hook, no replay guard.
    pub fn builder(keyring: Keyring) -> SessionCodecBuilder {
        SessionCodecBuilder {
            keyring,
            name: DEFAULT_COOKIE_NAME.to_owned(),
            purpose: DEFAULT_PURPOSE.to_owned(),
            lifetime: Lifetime::default(),
            max_value_len: None,
            clock: Arc::new(SystemClock),
            revocation: None,
            replay: None,
        }
    }

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
    /// [`SessionCodec::seal_session`].
    ///
    /// # Errors
    /// [`ErrorKind::Rng`] if the operating system's generator fails.
    pub fn new_session(&self, subject: Option<&str>) -> Result<SessionMeta> {
        let now = unix_seconds(self.clock.now());
        self.fresh(now, SealKind::Session, subject.map(str::to_owned))
    }

    /// New metadata for an existing session, for login and privilege
    /// changes (session fixation): a new id and creation time, the same
    /// subject unless `subject` replaces it. Seal it with
    /// [`SessionCodec::seal_session`]; with a revocation hook, also revoke the
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
    /// [`ErrorKind::Rng`] if the operating system's generator fails.
    pub fn regenerate(&self, meta: &SessionMeta, subject: Option<&str>) -> Result<SessionMeta> {
        let subject = subject
            .map(str::to_owned)
            .or_else(|| meta.claims.subject.clone());
        let now = unix_seconds(self.clock.now());
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

    /// Seals `data` as a new session (no subject) and returns the cookie
    /// value.
    ///
    /// # Errors
    /// [`ErrorKind::TooLarge`] if the value would exceed
    /// [`SessionCodec::max_value_len`]; [`ErrorKind::PayloadMismatch`] if
    /// `data` does not serialize; [`ErrorKind::Rng`] if the generator fails.
    pub fn seal<T: Serialize + ?Sized>(&self, data: &T) -> Result<String> {
        // What `new_session(None)` then `seal_session` do, with one clock read
        // and one draw from the generator for both the id and the nonce.
        let now = unix_seconds(self.clock.now());
        let mut random = [0u8; SESSION_ID_LEN + NONCE_LEN];
        crate::seal::random::fill(&mut random)?;
        let sid = core::array::from_fn(|i| random[i]);
        let nonce = core::array::from_fn(|i| random[SESSION_ID_LEN + i]);
        let claims = self.new_claims(now, SealKind::Session, None, sid);
        self.seal_with_nonce(&nonce, &claims, &Value(data))
    }

    /// Seals `data` for the session `meta` (from [`SessionCodec::open`],
    /// [`SessionCodec::new_session`] or [`SessionCodec::regenerate`]) with
    /// the primary key and a fresh random nonce. The id, creation time and
    /// absolute deadline are kept; the seal time is now (the creation time
    /// if the clock reads earlier than that). An opened session's
    /// generation goes up by one, and with a replay guard the previous value
    /// is marked superseded.
    ///
    /// # Errors
    /// As for [`SessionCodec::seal`].
    pub fn seal_session<T: Serialize + ?Sized>(
        &self,
        meta: &SessionMeta,
        data: &T,
    ) -> Result<String> {
        self.seal_session_data(meta, &Value(data))
    }

    pub(crate) fn seal_session_data(&self, meta: &SessionMeta, data: &impl Data) -> Result<String> {
        let now = unix_seconds(self.clock.now());
        let mut claims = meta.claims.clone();
        claims.sealed = now.max(claims.created);
        claims.expires = self.lifetime.deadline(&claims);
        let opened = meta.opened;
        if opened {
            claims.generation = claims.generation.saturating_add(1);
        }
        let value = self.seal_claims(&claims, data)?;
        if let (Some(guard), true) = (&self.replay, opened && claims.kind() == SealKind::Session) {
            guard.supersede(
                &SessionId(claims.sid),
                claims.generation,
                from_unix_seconds(now),
                from_unix_seconds(claims.expires),
            );
        }
        Ok(value)
    }

    /// Seals `data` as a single-use value (OAuth state, e-mail links,
    /// one-time confirmations): it opens once within
    /// [`Lifetime::single_use_window`], and never again.
    ///
    /// # Errors
    /// [`ErrorKind::NotConfigured`] if no replay guard is configured (a single-use
    /// value cannot be enforced without one); otherwise as for
    /// [`SessionCodec::seal`].
    pub fn seal_single_use<T: Serialize + ?Sized>(&self, data: &T) -> Result<String> {
        if self.replay.is_none() {
            return Err(Error::with(
                ErrorKind::NotConfigured,
                "single-use seals need a replay guard; add one with SessionCodecBuilder::replay_guard",
            ));
        }
        let now = unix_seconds(self.clock.now());
        let meta = self.fresh(now, SealKind::SingleUse, None)?;
        self.seal_claims(&meta.claims, &Value(data))
    }

    fn seal_claims(&self, claims: &Claims, data: &impl Data) -> Result<String> {
        let mut nonce = [0u8; NONCE_LEN];
        crate::seal::random::fill(&mut nonce)?;
        self.seal_with_nonce(&nonce, claims, data)
    }

    /// Seals `payload` verbatim as the app's data for the session `meta`,
    /// exactly as [`SessionCodec::seal_session`] would seal a value whose postcard
    /// encoding is `payload`. For tools that handle payloads as bytes (the
    /// CLI, other languages' test suites); apps use `seal_session`.
    ///
    /// # Errors
    /// As for [`SessionCodec::seal`].
    pub fn seal_session_raw(&self, meta: &SessionMeta, payload: &[u8]) -> Result<String> {
        self.seal_session_data(meta, &RawPayload(payload))
    }

    /// The deterministic seal path behind [`SessionCodec::seal`]; the nonce
    /// is the caller's, so this stays private (tests and vectors only).
    /// The size is checked before any plaintext is written.
    fn seal_with_nonce(
        &self,
        nonce: &[u8; NONCE_LEN],
        claims: &Claims,
        data: &impl Data,
    ) -> Result<String> {
        let slot = &self.slots[0];
        let plaintext_len = payload::encoded_len(claims, data)?;
        let encoded = envelope::encoded_len(envelope::OVERHEAD + plaintext_len);
        if encoded > self.max_value_len {
            return Err(Error::too_large(
                self.name.len() + encoded,
                self.name.len() + self.max_value_len,
            ));
        }
        let mut sealing = Sealing::new(slot.id, nonce, plaintext_len);
        payload::encode_into(claims, data, sealing.plaintext_mut())?;
        sealing.seal(&slot.cipher, &slot.aad)
    }

    /// Opens a cookie value.
    ///
    /// Checks, in order: length, base64url, version (no AEAD call for any
    /// of these); the key id (an unknown id makes no AEAD call); the tag;
    /// the crate-owned fields; skew, absolute and idle deadlines; the
    /// revocation hook; the app's data (which must use every byte); the
    /// replay guard. Nothing is deserialized before the tag verifies.
    ///
    /// # Errors
    /// Every error means "no session"; [`Error::kind`] says why, for logs.
    pub fn open<T: DeserializeOwned>(&self, value: &str) -> Result<Opened<T>> {
        self.open_decoding(value, payload::decode_data::<T>)
    }

    /// [`SessionCodec::open`] with the app's data decoded by `decode`,
    /// which sees the authenticated bytes after the claims.
    pub(crate) fn open_decoding<T>(
        &self,
        value: &str,
        decode: impl FnOnce(&[u8]) -> Result<T>,
    ) -> Result<Opened<T>> {
        self.open_with(value, |plaintext, start| {
            decode(&plaintext.as_slice()[start..])
        })
    }

    /// Opens a cookie value like [`SessionCodec::open`], but returns the
    /// app's data as the raw postcard bytes instead of deserializing them.
    ///
    /// # Errors
    /// As for [`SessionCodec::open`], except
    /// [`ErrorKind::PayloadMismatch`], which cannot occur.
    pub fn open_raw(&self, value: &str) -> Result<Opened<Vec<u8>>> {
        self.open_with(value, |plaintext, start| Ok(plaintext.into_tail(start)))
    }

    /// Opens `value`; `decode` turns the authenticated plaintext, whose
    /// app's data starts at the given offset, into the app's data.
    fn open_with<T>(
        &self,
        value: &str,
        decode: impl FnOnce(Plaintext, usize) -> Result<T>,
    ) -> Result<Opened<T>> {
        let untrusted = Untrusted::decode(value, self.max_value_len)?;
        let key_id = untrusted.key_id();
        self.open_untrusted(untrusted, key_id, decode)
            .map_err(|e| e.with_key_id(key_id))
    }

    /// [`SessionCodec::open`] from the key lookup on; every error it returns
    /// is tagged with `key_id` by the caller.
    fn open_untrusted<T>(
        &self,
        untrusted: Untrusted,
        key_id: KeyId,
        decode: impl FnOnce(Plaintext, usize) -> Result<T>,
    ) -> Result<Opened<T>> {
        let (index, slot) = self
            .slots
            .iter()
            .enumerate()
            .find(|(_, s)| s.id == key_id)
            .ok_or_else(|| Error::new(ErrorKind::Unauthenticated))?;
        let plaintext = untrusted.open(&slot.cipher, &slot.aad)?;
        let (claims, data) = payload::decode_claims(plaintext.as_slice())?;
        let data_start = plaintext.as_slice().len() - data.len();
        let now_time = self.clock.now();
        let now = unix_seconds(now_time);
        let verdict = self.lifetime.check(&claims, now)?;
        let meta = SessionMeta {
            claims,
            key_id,
            opened: true,
        };
        let id = meta.id();
        if let Some(hook) = &self.revocation
            && hook.is_revoked(&meta, now_time)
        {
            return Err(Error::new(ErrorKind::Revoked).for_session(id));
        }
        let data = decode(plaintext, data_start)?;
        self.check_replay(&meta, now)?;
        let reseal = if meta.kind() == SealKind::SingleUse {
            None
        } else if verdict.renew {
            Some(ResealReason::Renewal)
        } else if index != 0 {
            Some(ResealReason::NonPrimaryKey)
        } else {
            None
        };
        let idle_deadline = self
            .lifetime
            .idle_deadline(&meta.claims)
            .min(self.lifetime.deadline(&meta.claims));
        Ok(Opened {
            data,
            meta,
            reseal,
            idle_deadline,
        })
    }

    fn check_replay(&self, meta: &SessionMeta, now: u64) -> Result<()> {
        let id = meta.id();
        let replayed = || Err(Error::new(ErrorKind::Replayed).for_session(id));
        match (meta.kind(), &self.replay) {
            (SealKind::SingleUse, None) => replayed(),
            (SealKind::SingleUse, Some(guard)) => {
                let until = from_unix_seconds(self.lifetime.deadline(&meta.claims));
                if guard.consume(&id, until, from_unix_seconds(now))? {
                    Ok(())
                } else {
                    replayed()
                }
            }
            (SealKind::Session, Some(guard)) => match guard.latest(&id, from_unix_seconds(now)) {
                Some((generation, at))
                    if meta.generation() < generation
                        && now
                            >= unix_seconds(at)
                                .saturating_add(secs(self.lifetime.superseded_grace)) =>
                {
                    replayed()
                }
                _ => Ok(()),
            },
            (SealKind::Session, None) => Ok(()),
        }
    }
}

impl SessionCodec {
    /// The CSRF token of `session`: 43 base64url characters derived from the
    /// session id under the primary key (see the `csrf` module docs). Put it
    /// in forms or a header; check it with [`SessionCodec::verify_csrf`] on
    /// every unsafe method. It changes when the session id does
    /// (regeneration).
    ///
    /// ```
    /// # use sealed_session::{Keyring, KeyId, SessionCodec};
    /// let codec = SessionCodec::builder(Keyring::generate(KeyId(1))?).build()?;
    /// let a = codec.new_session(None)?;
    /// let b = codec.new_session(None)?;
    /// let token = codec.csrf_token(&a);
    /// assert!(codec.verify_csrf(&a, &token));
    /// assert!(!codec.verify_csrf(&b, &token));
    /// assert!(!codec.verify_csrf(&a, ""));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn csrf_token(&self, session: &SessionMeta) -> String {
        crate::csrf::token::token(&self.slots[0].cipher, &session.id())
    }

    /// Whether `presented` is `session`'s CSRF token under any key in the
    /// ring, compared in constant time. Untrusted input: any malformed text
    /// is `false`.
    #[must_use]
    pub fn verify_csrf(&self, session: &SessionMeta, presented: &str) -> bool {
        crate::csrf::token::verify(
            self.slots.iter().map(|s| &s.cipher),
            &session.id(),
            presented,
        )
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

impl fmt::Debug for SessionCodecBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionCodecBuilder")
            .field("keyring", &self.keyring)
            .field("cookie_name", &self.name)
            .field("purpose", &self.purpose)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! The deterministic seal path, for the vectors and tamper tests.
    use super::*;

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
