//! Cookies: the RFC 6265bis grammar, name prefixes, the cookie policy,
//! `Set-Cookie` rendering, `Cookie` header parsing, chunks and the size
//! limits.

pub(crate) mod attributes;
pub(crate) mod chunks;
pub(crate) mod grammar;
pub(crate) mod policy;
pub(crate) mod policy_builder;
pub(crate) mod prefix;
pub(crate) mod request;
pub(crate) mod response_budget;
pub(crate) mod set_cookie;
