//! [`SessionCodecBuilder`](crate::SessionCodecBuilder): the codec's settings, checked once.

use core::fmt;
use std::sync::Arc;

use crate::codec::{DEFAULT_COOKIE_NAME, DEFAULT_PURPOSE, MAX_NAME_VALUE_LEN, SessionCodec, Slot};
use crate::cookie::grammar::is_token;
use crate::error::{ConfigError, Result};
use crate::freshness::clock::{Clock, SystemClock};
use crate::freshness::lifetime::Lifetime;
use crate::freshness::replay::ReplayGuard;
use crate::freshness::revocation::Revocation;
use crate::keys::keyring::Keyring;
use crate::seal::envelope::{self};

/// Configures a [`SessionCodec`](crate::SessionCodec).
#[derive(Clone)]
#[must_use]
pub struct SessionCodecBuilder {
    keyring: Keyring,
    name: String,
    purpose: String,
    pub(crate) lifetime: Lifetime,
    max_value_len: Option<usize>,
    clock: Arc<dyn Clock>,
    pub(crate) revocation: Option<Arc<dyn Revocation>>,
    pub(crate) replay: Option<Arc<dyn ReplayGuard>>,
    deferred: bool,
}

impl SessionCodecBuilder {
    /// Freshness is checked by the caller against a store
    /// ([`SessionsBuilder::store`](crate::SessionsBuilder::store)).
    pub(crate) const fn defer_freshness(mut self) -> Self {
        self.deferred = true;
        self
    }

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

    /// Time limits. Default [`Lifetime::default`](crate::Lifetime::default).
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
    /// inconsistent ([`Lifetime::validate`](crate::Lifetime::validate)), or the maximum value length
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
                    csrf: e.csrf.clone(),
                    open_until: e
                        .demoted
                        .map(|t| crate::keys::keyring::retire_after(t, &self.lifetime)),
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
            deferred: self.deferred,
        })
    }
}

impl SessionCodec {
    /// A builder with secure defaults: cookie [`DEFAULT_COOKIE_NAME`],
    /// purpose [`DEFAULT_PURPOSE`], [`Lifetime::default`](crate::Lifetime::default), the system
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
            deferred: false,
        }
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
