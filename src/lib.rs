#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(deprecated)]
#![cfg_attr(docsrs, feature(doc_cfg))]

// The public interface is:
#[cfg(feature = "internal-vectors")]
#[doc(hidden)]
pub use crate::codec::VectorClaims;
pub use crate::codec::{
    DEFAULT_COOKIE_NAME, DEFAULT_PURPOSE, FORMAT_VERSION, MAX_NAME_VALUE_LEN, Opened, ResealReason,
    SessionCodec, SessionCodecBuilder,
};
pub use crate::cookie::attributes::{
    MAX_ATTRIBUTE_VALUE_LEN, MAX_COOKIE_AGE_SECS, Persistence, SameSite,
};
pub use crate::cookie::chunks::{DEFAULT_COOKIE_HEADER_BUDGET, DEFAULT_MAX_CHUNKS, MAX_CHUNKS};
pub use crate::cookie::policy::CookiePolicy;
pub use crate::cookie::policy_builder::CookiePolicyBuilder;
pub use crate::cookie::request::{CarriedCookies, MAX_CANDIDATES_PER_NAME};
pub use crate::cookie::response_budget::DEFAULT_SET_COOKIE_BUDGET;
pub use crate::cookie::set_cookie::SetCookie;
pub use crate::csrf::{CSRF_FIELD, CSRF_HEADER, CSRF_TOKEN_LEN, CrossOrigin, MAX_FORM_BYTES};
pub use crate::error::{ConfigError, Error, ErrorKind, Result};
pub use crate::freshness::cache::CachedStore;
pub use crate::freshness::clock::{Clock, ManualClock, SystemClock};
pub use crate::freshness::lifetime::Lifetime;
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use crate::freshness::redis_store::{DEFAULT_STORE_TIMEOUT, RedisOptions, RedisStore};
pub use crate::freshness::replay::{MemoryReplayGuard, ReplayGuard, SessionRecord};
pub use crate::freshness::revocation::{MemoryRevocation, Revocation};
pub use crate::freshness::store::{
    Freshness, FreshnessStore, MemoryStore, StoreError, StoreFuture, StorePolicy,
};
pub use crate::keys::key::{KEY_LEN, Key, KeyId};
pub use crate::keys::keyring::{Keyring, RotationStep};
pub use crate::session::builder::SessionsBuilder;
pub use crate::session::handle::Session;
pub use crate::session::meta::{SESSION_ID_LEN, SealKind, SessionId, SessionMeta};
pub use crate::session::read::ReadOutcome;
pub use crate::session::sessions::Sessions;

// Adapters, one file each, behind a feature named after their dependency.
#[cfg(feature = "actix-web")]
#[cfg_attr(docsrs, doc(cfg(feature = "actix-web")))]
pub use crate::adapters::actix;
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub use crate::adapters::axum;
#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub use crate::adapters::http;
#[cfg(feature = "tower")]
#[cfg_attr(docsrs, doc(cfg(feature = "tower")))]
pub use crate::adapters::tower;
#[cfg(feature = "tower-sessions")]
#[cfg_attr(docsrs, doc(cfg(feature = "tower-sessions")))]
pub use crate::adapters::tower_sessions;

// The layers, from the bottom up.
mod adapters;
mod codec;
mod cookie;
mod csrf;
mod error;
mod freshness;
mod keys;
mod seal;
mod session;
