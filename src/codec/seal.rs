//! Sealing: new sessions, re-seals, single-use values, and the size check
//! made before any plaintext is written.

use serde::Serialize;

use crate::codec::SessionCodec;
use crate::error::{Error, ErrorKind, Result};
use crate::freshness::clock::from_unix_seconds;
use crate::seal::aead::NONCE_LEN;
use crate::seal::envelope::{self, Sealing};
use crate::seal::payload::{self, Claims, Data, RawPayload, Value};
use crate::session::meta::{SESSION_ID_LEN, SealKind, SessionId, SessionMeta};

impl SessionCodec {
    /// Seals `data` as a new session (no subject) and returns the cookie
    /// value.
    ///
    /// # Errors
    /// [`ErrorKind::TooLarge`](crate::ErrorKind::TooLarge) if the value would exceed
    /// [`SessionCodec::max_value_len`](crate::SessionCodec::max_value_len); [`ErrorKind::PayloadMismatch`](crate::ErrorKind::PayloadMismatch) if
    /// `data` does not serialize; [`ErrorKind::Rng`](crate::ErrorKind::Rng) if the generator fails.
    pub fn seal<T: Serialize + ?Sized>(&self, data: &T) -> Result<String> {
        // What `new_session(None)` then `seal_session` do, with one clock read
        // and one draw from the generator for both the id and the nonce.
        let now = self.clock.unix_now();
        let mut random = [0u8; SESSION_ID_LEN + NONCE_LEN];
        crate::seal::random::fill(&mut random)?;
        let sid = core::array::from_fn(|i| random[i]);
        let nonce = core::array::from_fn(|i| random[SESSION_ID_LEN + i]);
        let claims = self.new_claims(now, SealKind::Session, None, sid);
        self.seal_with_nonce(&nonce, &claims, &Value(data))
    }

    /// Seals `data` for the session `meta` (from [`SessionCodec::open`](crate::SessionCodec::open),
    /// [`SessionCodec::new_session`](crate::SessionCodec::new_session) or [`SessionCodec::regenerate`](crate::SessionCodec::regenerate)) with
    /// the primary key and a fresh random nonce. The id, creation time and
    /// absolute deadline are kept; the seal time is now (the creation time
    /// if the clock reads earlier than that). An opened session's
    /// generation goes up by one, and with a replay guard the previous value
    /// is marked superseded.
    ///
    /// # Errors
    /// As for [`SessionCodec::seal`](crate::SessionCodec::seal).
    pub fn seal_session<T: Serialize + ?Sized>(
        &self,
        meta: &SessionMeta,
        data: &T,
    ) -> Result<String> {
        self.seal_session_data(meta, &Value(data))
    }

    pub(crate) fn seal_session_data(&self, meta: &SessionMeta, data: &impl Data) -> Result<String> {
        let now = self.clock.unix_now();
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
    /// one-time confirmations), to be opened with
    /// [`SessionCodec::open_single_use`](crate::SessionCodec::open_single_use),
    /// never with `open`: the two kinds do not stand in for each other. It
    /// opens once within
    /// [`Lifetime::single_use_window`](crate::Lifetime::single_use_window),
    /// and never again.
    ///
    /// # Errors
    /// [`ErrorKind::NotConfigured`](crate::ErrorKind::NotConfigured) if no replay guard is configured (a single-use
    /// value cannot be enforced without one); otherwise as for
    /// [`SessionCodec::seal`](crate::SessionCodec::seal).
    pub fn seal_single_use<T: Serialize + ?Sized>(&self, data: &T) -> Result<String> {
        if self.replay.is_none() && !self.deferred {
            return Err(Error::with(
                ErrorKind::NotConfigured,
                "single-use seals need a replay guard or a freshness store: add one with SessionCodecBuilder::replay_guard or SessionsBuilder::store",
            ));
        }
        let now = self.clock.unix_now();
        let meta = self.fresh(now, SealKind::SingleUse, None)?;
        self.seal_claims(&meta.claims, &Value(data))
    }

    pub(super) fn seal_claims(&self, claims: &Claims, data: &impl Data) -> Result<String> {
        let mut nonce = [0u8; NONCE_LEN];
        crate::seal::random::fill(&mut nonce)?;
        self.seal_with_nonce(&nonce, claims, data)
    }

    /// Seals `payload` verbatim as the app's data for the session `meta`,
    /// exactly as [`SessionCodec::seal_session`](crate::SessionCodec::seal_session) would seal a value whose postcard
    /// encoding is `payload`. For tools that handle payloads as bytes (the
    /// CLI, other languages' test suites); apps use `seal_session`.
    ///
    /// # Errors
    /// As for [`SessionCodec::seal`](crate::SessionCodec::seal).
    pub fn seal_session_raw(&self, meta: &SessionMeta, payload: &[u8]) -> Result<String> {
        self.seal_session_data(meta, &RawPayload(payload))
    }

    /// The deterministic seal path behind [`SessionCodec::seal`](crate::SessionCodec::seal); the nonce
    /// is the caller's, so this stays private (tests and vectors only).
    /// The size is checked before any plaintext is written.
    pub(super) fn seal_with_nonce(
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
        payload::write(claims, data, &mut sealing)?;
        sealing.seal(&slot.cipher, &slot.aad)
    }
}
