//! The request-level session: a session's identity and metadata, the
//! configured [`Sessions`](sessions::Sessions) object and its builder, what
//! a request's cookies held, the [`Session`](handle::Session) handlers get,
//! and what an adapter writes into a response.

pub(crate) mod builder;
pub(crate) mod fresh;
pub(crate) mod handle;
pub(crate) mod meta;
#[cfg(all(feature = "tracing", any(feature = "tower", feature = "actix-web")))]
pub(crate) mod plain_http;
pub(crate) mod read;
pub(crate) mod response;
pub(crate) mod sessions;
