#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(deprecated)]
#![cfg_attr(docsrs, feature(doc_cfg))]

// The public interface is:
pub use crate::attributes::{
    CookiePolicy, CookiePolicyBuilder, MAX_ATTRIBUTE_VALUE_LEN, MAX_COOKIE_AGE_SECS, Persistence,
    SameSite,
};
pub use crate::chunks::{DEFAULT_COOKIE_HEADER_BUDGET, DEFAULT_MAX_CHUNKS, MAX_CHUNKS};
pub use crate::clock::{Clock, ManualClock, SystemClock};
pub use crate::codec::{
    DEFAULT_COOKIE_NAME, DEFAULT_PURPOSE, FORMAT_VERSION, MAX_NAME_VALUE_LEN, Opened, ResealReason,
    SessionCodec, SessionCodecBuilder,
};
pub use crate::cookie_header::{CarriedCookies, MAX_CANDIDATES_PER_NAME};
pub use crate::csrf::CSRF_TOKEN_LEN;
pub use crate::error::{Error, ErrorKind, Result};
pub use crate::handle::SessionHandle;
pub use crate::key::{KEY_LEN, Key, KeyId};
pub use crate::keyring::{Keyring, RotationStep};
pub use crate::lifetime::Lifetime;
pub use crate::replay::{MemoryReplayGuard, ReplayGuard};
pub use crate::revocation::{MemoryRevocation, Revocation};
pub use crate::session::{SESSION_ID_LEN, SealKind, SessionId, SessionMeta};
pub use crate::session_cookies::{ReadOutcome, SessionCookies};
pub use crate::set_cookie::SetCookie;

// Adapters, one file each, behind a feature named after their dependency.
#[cfg(feature = "actix-web")]
#[cfg_attr(docsrs, doc(cfg(feature = "actix-web")))]
pub mod actix;
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub mod axum;
#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub mod http;
#[cfg(feature = "tower")]
#[cfg_attr(docsrs, doc(cfg(feature = "tower")))]
pub mod tower;

mod aead;
mod attributes;
mod chunks;
mod clock;
mod codec;
mod cookie_header;
mod csrf;
mod envelope;
mod error;
mod grammar;
mod handle;
mod key;
mod keyring;
mod lifetime;
mod payload;
mod random;
mod replay;
mod revocation;
mod session;
mod session_cookies;
mod set_cookie;
#[cfg(test)]
mod vectors;
