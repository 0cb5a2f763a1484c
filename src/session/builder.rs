//! [`SessionsBuilder`]: every setting of a [`Sessions`], each in one place.

use std::sync::Arc;

use crate::codec::SessionCodecBuilder;
use crate::cookie::attributes::{MAX_COOKIE_AGE_SECS, Persistence};
use crate::cookie::policy::CookiePolicy;
use crate::csrf::origin::CrossOrigin;
use crate::error::ConfigError;
use crate::freshness::clock::Clock;
use crate::freshness::lifetime::Lifetime;
use crate::freshness::replay::ReplayGuard;
use crate::freshness::revocation::Revocation;
use crate::freshness::store::{FreshnessStore, StorePolicy};
use crate::keys::keyring::Keyring;
use crate::session::sessions::Sessions;

/// Configures [`Sessions`]: the keyring (given to
/// [`Sessions::builder`]), the cookie policy, lifetimes, the purpose label,
/// the clock and the freshness hooks. Each setting has one place: the
/// cookie name and the size budget belong to the [`CookiePolicy`], the
/// deadlines to the [`Lifetime`]. [`SessionsBuilder::build`] checks them
/// together and names both settings of any pair that contradict.
///
/// ```
/// use sealed_session::{CookiePolicy, KeyId, Keyring, Lifetime, Sessions};
///
/// let sessions = Sessions::builder(Keyring::generate(KeyId(1))?)
///     .cookie(CookiePolicy::builder().chunked(3).build()?)
///     .lifetime(Lifetime::aal2())
///     .build()?;
/// assert_eq!(sessions.policy().name(), "__Host-session");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
#[must_use]
pub struct SessionsBuilder {
    codec: SessionCodecBuilder,
    policy: CookiePolicy,
    cross_origin: CrossOrigin,
    store: Option<Arc<dyn FreshnessStore>>,
    store_policy: StorePolicy,
}

impl SessionsBuilder {
    pub(crate) fn new(keyring: Keyring) -> Self {
        Self {
            codec: crate::codec::SessionCodec::builder(keyring),
            policy: CookiePolicy::default(),
            cross_origin: CrossOrigin::default(),
            store: None,
            store_policy: StorePolicy::default(),
        }
    }

    /// The cookie's name, attributes, persistence, chunking and size
    /// budget. Default [`CookiePolicy::default`] (`__Host-session`,
    /// Secure, HttpOnly, SameSite=Lax, one cookie, browser session).
    pub fn cookie(mut self, policy: CookiePolicy) -> Self {
        self.policy = policy;
        self
    }

    /// How the CSRF layers tell a cross-site request from the app's own
    /// (trusted origins, a proxy's forwarded host). Default
    /// [`CrossOrigin::new`]: `Sec-Fetch-Site`, then `Origin` against `Host`.
    pub fn cross_origin(mut self, cross_origin: CrossOrigin) -> Self {
        self.cross_origin = cross_origin;
        self
    }

    /// Time limits. Default [`Lifetime::default`].
    pub fn lifetime(mut self, lifetime: Lifetime) -> Self {
        self.codec = self.codec.lifetime(lifetime);
        self
    }

    /// An app-chosen purpose label bound into every value (see
    /// [`SessionCodecBuilder::purpose`]). Default
    /// [`DEFAULT_PURPOSE`](crate::DEFAULT_PURPOSE).
    pub fn purpose(mut self, purpose: impl Into<String>) -> Self {
        self.codec = self.codec.purpose(purpose);
        self
    }

    /// The clock. Default [`SystemClock`](crate::SystemClock); tests pass
    /// a [`ManualClock`](crate::ManualClock).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.codec = self.codec.clock(clock);
        self
    }

    /// A freshness store shared by the fleet (revocation, single-use
    /// values, re-seals), such as [`MemoryStore`](crate::MemoryStore) or,
    /// with the `redis` feature, [`RedisStore`](crate::RedisStore). With a
    /// store, requests are read with one store round trip (the adapters
    /// and [`Session::load_async`](crate::Session::load_async) await it),
    /// and the synchronous openers refuse
    /// ([`ErrorKind::NotConfigured`](crate::ErrorKind::NotConfigured))
    /// rather than skip the store. Default: none, and everything stays
    /// stateless.
    pub fn store(mut self, store: Arc<dyn FreshnessStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// What a request gets when the store fails or times out. Default
    /// [`StorePolicy::FailClosed`]: no session.
    pub const fn store_policy(mut self, policy: StorePolicy) -> Self {
        self.store_policy = policy;
        self
    }

    /// A revocation hook, consulted on every open after the time checks.
    pub fn revocation(mut self, revocation: Arc<dyn Revocation>) -> Self {
        self.codec = self.codec.revocation(revocation);
        self
    }

    /// A replay guard: enables single-use seals and refuses superseded
    /// values after their grace period.
    pub fn replay_guard(mut self, guard: Arc<dyn ReplayGuard>) -> Self {
        self.codec = self.codec.replay_guard(guard);
        self
    }

    /// Checks every setting and builds the [`Sessions`].
    ///
    /// # Errors
    /// [`ConfigError`] if a setting is invalid on its own (as for
    /// [`SessionCodecBuilder::build`]: the purpose, the lifetime) or two
    /// contradict each other; the message names both. Today's pair:
    /// [`Persistence::UntilExpiry`] with a [`Lifetime::idle`] over 400 days
    /// (browsers cap a cookie's life at 400 days, RFC 6265bis §5.5, so the
    /// cookie would vanish before the server's idle deadline).
    pub fn build(self) -> Result<Sessions, ConfigError> {
        let lifetime = self.codec.lifetime;
        let idle = u64::try_from(lifetime.idle.whole_seconds()).unwrap_or(0);
        if self.policy.persistence() == Persistence::UntilExpiry && idle > MAX_COOKIE_AGE_SECS {
            return Err(ConfigError::new(
                "CookiePolicyBuilder::persistence(Persistence::UntilExpiry) conflicts with \
                 Lifetime::idle over 400 days: browsers drop the cookie after 400 days \
                 (RFC 6265bis §5.5); shorten Lifetime::idle",
            ));
        }
        if self.store.is_some() && (self.codec.revocation.is_some() || self.codec.replay.is_some())
        {
            return Err(ConfigError::new(
                "SessionsBuilder::store conflicts with SessionsBuilder::revocation and \
                 SessionsBuilder::replay_guard: the store holds revocation and replay state; \
                 configure one or the other",
            ));
        }
        let mut codec = self
            .codec
            .cookie_name(self.policy.name())
            .max_value_len(self.policy.max_value_len());
        if self.store.is_some() {
            codec = codec.defer_freshness();
        }
        let store = self.store.map(|s| (s, self.store_policy));
        Ok(Sessions::from_parts(
            codec.build()?,
            self.policy,
            self.cross_origin,
            store,
        ))
    }
}

#[cfg(test)]
mod tests {
    use time::Duration;

    use super::*;
    use crate::keys::key::KeyId;

    fn builder() -> SessionsBuilder {
        Sessions::builder(Keyring::generate(KeyId(1)).unwrap())
    }

    #[test]
    fn a_contradicting_pair_is_refused_naming_both_settings() {
        let mut lifetime = Lifetime {
            absolute: Duration::days(800),
            idle: Duration::days(401),
            ..Lifetime::default()
        };
        let persistent = CookiePolicy::builder()
            .persistence(Persistence::UntilExpiry)
            .build()
            .unwrap();
        let err = builder()
            .cookie(persistent.clone())
            .lifetime(lifetime)
            .build()
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("Persistence::UntilExpiry") && err.contains("Lifetime::idle"),
            "{err}"
        );
        // Each setting alone is fine.
        assert!(builder().lifetime(lifetime).build().is_ok());
        lifetime.idle = Duration::days(400);
        assert!(
            builder()
                .cookie(persistent)
                .lifetime(lifetime)
                .build()
                .is_ok()
        );
    }

    #[test]
    fn the_cookie_name_and_budget_come_from_the_policy_alone() {
        let policy = CookiePolicy::builder()
            .name("__Host-cart")
            .chunked(3)
            .build()
            .unwrap();
        let sessions = builder().cookie(policy.clone()).build().unwrap();
        assert_eq!(sessions.codec().cookie_name(), "__Host-cart");
        assert_eq!(sessions.codec().max_value_len(), policy.max_value_len());
        let err = builder().purpose("").build().unwrap_err().to_string();
        assert!(err.starts_with("invalid configuration"), "{err}");
    }
}
