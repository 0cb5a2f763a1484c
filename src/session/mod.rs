//! The request-level session: a session's identity and metadata, the
//! configured [`Sessions`](sessions::SessionCookies) object and the handle
//! adapters give handlers.

pub(crate) mod handle;
pub(crate) mod meta;
pub(crate) mod sessions;
