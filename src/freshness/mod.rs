//! Time and freshness: the clock, lifetimes (absolute, idle, renewal,
//! skew), the replay guard, revocation, and the async store a fleet shares
//! them through (in memory, or on Redis).

pub(crate) mod cache;
pub(crate) mod clock;
pub(crate) mod lifetime;
#[cfg(feature = "redis")]
pub(crate) mod redis_store;
pub(crate) mod replay;
pub(crate) mod revocation;
pub(crate) mod store;
