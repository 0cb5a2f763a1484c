//! Time and freshness: the clock, lifetimes (absolute, idle, renewal,
//! skew), the replay guard and revocation.

pub(crate) mod clock;
pub(crate) mod lifetime;
pub(crate) mod replay;
pub(crate) mod revocation;
