//! Opening: the order of checks (`docs/FORMAT.md`), from the length to
//! the replay guard. Nothing is deserialized before the tag verifies.

use serde::de::DeserializeOwned;
use time::OffsetDateTime;

use crate::codec::{Opened, ResealReason, SessionCodec};
use crate::error::{Error, ErrorKind, Result};
use crate::freshness::clock::{from_unix_seconds, unix_seconds};
use crate::freshness::lifetime::secs;
use crate::freshness::replay::SessionRecord;
use crate::keys::key::KeyId;
use crate::seal::envelope::{Plaintext, Untrusted};
use crate::seal::payload;
use crate::session::meta::{SealKind, SessionId, SessionMeta};

impl SessionCodec {
    /// Opens a session cookie value. A single-use value is refused
    /// ([`ErrorKind::WrongKind`]): open those with
    /// [`SessionCodec::open_single_use`], so neither can stand in for the
    /// other.
    ///
    /// Checks, in order: length, base64url, version (no AEAD call for any
    /// of these); the key id (an unknown id makes no AEAD call); the tag;
    /// the crate-owned fields; the kind; skew, absolute and idle deadlines;
    /// the revocation hook; the app's data (which must use every byte); the
    /// replay guard. Nothing is deserialized before the tag verifies.
    ///
    /// # Errors
    /// Every error means "no session"; [`Error::kind`] says why, for logs.
    pub fn open<T: DeserializeOwned>(&self, value: &str) -> Result<Opened<T>> {
        self.open_kind(value, SealKind::Session, payload::decode_data::<T>)
    }

    /// Opens a single-use value ([`SessionCodec::seal_single_use`]) and
    /// consumes it: it opens once within its window, and never again. A
    /// session cookie value is refused ([`ErrorKind::WrongKind`]), so a
    /// user cannot hand in their own cookie where a link token is expected.
    ///
    /// # Errors
    /// As for [`SessionCodec::open`]; [`ErrorKind::Replayed`] the second
    /// time, and always without a replay guard.
    pub fn open_single_use<T: DeserializeOwned>(&self, value: &str) -> Result<Opened<T>> {
        self.open_kind(value, SealKind::SingleUse, payload::decode_data::<T>)
    }

    /// [`SessionCodec::open_single_use`] with the app's data as raw
    /// postcard bytes, for tools.
    ///
    /// # Errors
    /// As for [`SessionCodec::open_single_use`], except
    /// [`ErrorKind::PayloadMismatch`], which cannot occur.
    pub fn open_single_use_raw(&self, value: &str) -> Result<Opened<Vec<u8>>> {
        self.open_raw_kind(value, SealKind::SingleUse)
    }

    /// [`SessionCodec::open`](crate::SessionCodec::open) with the app's data decoded by `decode`,
    /// which sees the authenticated bytes after the claims.
    pub(crate) fn open_decoding<T>(
        &self,
        value: &str,
        decode: impl FnOnce(&[u8]) -> Result<T>,
    ) -> Result<Opened<T>> {
        self.open_kind(value, SealKind::Session, decode)
    }

    fn open_kind<T>(
        &self,
        value: &str,
        kind: SealKind,
        decode: impl FnOnce(&[u8]) -> Result<T>,
    ) -> Result<Opened<T>> {
        self.open_with(value, kind, false, |plaintext, start| {
            decode(&plaintext.as_slice()[start..])
        })
    }

    fn open_raw_kind(&self, value: &str, kind: SealKind) -> Result<Opened<Vec<u8>>> {
        self.open_with(value, kind, false, |plaintext, start| {
            Ok(plaintext.into_tail(start))
        })
    }

    /// Opens a cookie value like [`SessionCodec::open`](crate::SessionCodec::open), but returns the
    /// app's data as the raw postcard bytes instead of deserializing them.
    ///
    /// # Errors
    /// As for [`SessionCodec::open`](crate::SessionCodec::open), except
    /// [`ErrorKind::PayloadMismatch`](crate::ErrorKind::PayloadMismatch), which cannot occur.
    pub fn open_raw(&self, value: &str) -> Result<Opened<Vec<u8>>> {
        self.open_raw_kind(value, SealKind::Session)
    }

    /// A session value opened up to, not including, its freshness checks
    /// (revocation, replay), which the caller makes against its
    /// [`FreshnessStore`](crate::FreshnessStore).
    pub(crate) fn open_deferred<T>(
        &self,
        value: &str,
        kind: SealKind,
        decode: impl FnOnce(&[u8]) -> Result<T>,
    ) -> Result<Opened<T>> {
        self.open_with(value, kind, true, |plaintext, start| {
            decode(&plaintext.as_slice()[start..])
        })
    }

    /// Opens `value`; `decode` turns the authenticated plaintext, whose
    /// app's data starts at the given offset, into the app's data.
    /// `deferred`: the caller makes the freshness checks against its store;
    /// a codec built for a store refuses to open otherwise, rather than
    /// skip them.
    pub(super) fn open_with<T>(
        &self,
        value: &str,
        kind: SealKind,
        deferred: bool,
        decode: impl FnOnce(Plaintext, usize) -> Result<T>,
    ) -> Result<Opened<T>> {
        if self.deferred && !deferred {
            return Err(Error::with(
                ErrorKind::NotConfigured,
                "a FreshnessStore is configured: open through the async path \
                 (Session::load_async, the adapters)",
            ));
        }
        let untrusted = Untrusted::decode(value, self.max_value_len)?;
        let key_id = untrusted.key_id();
        self.open_untrusted(untrusted, key_id, kind, deferred, decode)
            .map_err(|e| e.with_key_id(key_id))
    }

    /// [`SessionCodec::open`](crate::SessionCodec::open) from the key lookup on; every error it returns
    /// is tagged with `key_id` by the caller.
    pub(super) fn open_untrusted<T>(
        &self,
        untrusted: Untrusted,
        key_id: KeyId,
        kind: SealKind,
        deferred: bool,
        decode: impl FnOnce(Plaintext, usize) -> Result<T>,
    ) -> Result<Opened<T>> {
        let (index, slot) = self
            .slots
            .iter()
            .enumerate()
            .find(|(_, s)| s.id == key_id)
            .ok_or_else(|| Error::new(ErrorKind::Unauthenticated))?;
        // A key that stopped sealing opens nothing once every session it
        // sealed is past its idle deadline, whatever a value claims inside:
        // a leaked old key is useless from then on. No AEAD call.
        let now = self.clock.unix_now();
        if slot.open_until.is_some_and(|until| now >= until) {
            return Err(Error::new(ErrorKind::Unauthenticated));
        }
        let plaintext = untrusted.open(&slot.cipher, &slot.aad)?;
        let (claims, data) = payload::decode_claims(plaintext.as_slice())?;
        if claims.kind() != kind {
            return Err(Error::new(ErrorKind::WrongKind));
        }
        let data_start = plaintext.as_slice().len() - data.len();
        let verdict = self.lifetime.check(&claims, now)?;
        let meta = SessionMeta {
            claims,
            key_id,
            opened: true,
        };
        let id = meta.id();
        if let Some(hook) = &self.revocation
            && hook.is_revoked(&meta, from_unix_seconds(now))
        {
            return Err(Error::new(ErrorKind::Revoked).for_session(id));
        }
        let data = decode(plaintext, data_start)?;
        if !deferred {
            self.check_replay(&meta, now)?;
        }
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

    /// Whether `meta`'s value is superseded by the re-seal `record` and its
    /// grace has passed at `now`: a copy of the cookie is in use.
    pub(crate) fn superseded(
        &self,
        meta: &SessionMeta,
        record: SessionRecord,
        now: OffsetDateTime,
    ) -> bool {
        match record {
            SessionRecord::Sealed {
                generation,
                at,
                before,
            } => {
                // When this value was superseded: by the newest re-seal if
                // it is one behind, by the one before that if two. Three or
                // more behind, it is refused at once: a browser's request
                // is that far behind only if three re-seals made a round
                // trip each while it was on its way, and no record of when
                // they happened is kept.
                let next = u64::from(meta.generation()) + 1;
                let superseded_at = match u64::from(generation) {
                    g if g == next => at,
                    g if g == next + 1 => before.unwrap_or(at),
                    g if g > next => return true,
                    _ => return false,
                };
                unix_seconds(now)
                    >= unix_seconds(superseded_at)
                        .saturating_add(secs(self.lifetime.superseded_grace))
            }
            _ => false,
        }
    }

    /// The session's deadline under the configured lifetime.
    pub(crate) fn deadline_of(&self, meta: &SessionMeta) -> OffsetDateTime {
        from_unix_seconds(self.lifetime.deadline(&meta.claims))
    }

    pub(super) fn check_replay(&self, meta: &SessionMeta, now: u64) -> Result<()> {
        let id = meta.id();
        let replayed = || Err(Error::new(ErrorKind::Replayed).for_session(id));
        match (meta.kind(), &self.replay) {
            (SealKind::SingleUse, None) => replayed(),
            (SealKind::SingleUse, Some(guard)) => {
                if guard.consume(&id, self.deadline_of(meta), from_unix_seconds(now))? {
                    Ok(())
                } else {
                    replayed()
                }
            }
            (SealKind::Session, Some(guard)) => {
                let now = from_unix_seconds(now);
                match guard.session(&id, now) {
                    SessionRecord::Ended => replayed(),
                    record if self.superseded(meta, record, now) => {
                        // Two copies of the cookie are in use: end the
                        // session, so the copy that was re-sealed stops
                        // opening too.
                        guard.end(&id, self.deadline_of(meta), now);
                        log_ended(&id);
                        replayed()
                    }
                    _ => Ok(()),
                }
            }
            (SealKind::Session, None) => Ok(()),
        }
    }
}

/// A `warn` event naming the ended session, so an operator can follow it
/// up (the id is not a credential; the cookie value never appears).
#[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
pub(crate) fn log_ended(id: &SessionId) {
    #[cfg(feature = "tracing")]
    tracing::warn!(
        session_id = %id.to_hex(),
        "sealed_session: a superseded value came back after the grace; the session is ended"
    );
}
