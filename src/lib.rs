#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(deprecated)]
#![cfg_attr(docsrs, feature(doc_cfg))]

// The public interface is:
pub use crate::clock::{Clock, ManualClock, SystemClock};
pub use crate::codec::{
    DEFAULT_COOKIE_NAME, DEFAULT_PURPOSE, FORMAT_VERSION, MAX_NAME_VALUE_LEN, Opened, ResealReason,
    SessionCodec, SessionCodecBuilder,
};
pub use crate::csrf::CSRF_TOKEN_LEN;
pub use crate::error::{Error, ErrorKind, Result};
pub use crate::key::{KEY_LEN, Key, KeyId};
pub use crate::keyring::{Keyring, RotationStep};
pub use crate::lifetime::Lifetime;
pub use crate::replay::{MemoryReplayGuard, ReplayGuard};
pub use crate::revocation::{MemoryRevocation, Revocation};
pub use crate::session::{SESSION_ID_LEN, SealKind, SessionId, SessionMeta};

mod aead;
mod clock;
mod codec;
mod csrf;
mod envelope;
mod error;
mod grammar;
mod key;
mod keyring;
mod lifetime;
mod payload;
mod random;
mod replay;
mod revocation;
mod session;
#[cfg(test)]
mod vectors;
