//! The [`http`] crate's types: read the session from a request's
//! [`HeaderMap`], write its headers into a response's. The
//! [`tower`](crate::tower) and [`axum`](crate::axum) adapters are these
//! two calls around the inner service; other `http`-based stacks (hyper,
//! tonic) can use them directly.
//!
//! ```
//! use http::HeaderMap;
//! use sealed_session::{KeyId, Keyring, Sessions};
//!
//! let sessions = Sessions::builder(Keyring::generate(KeyId(1))?).build()?;
//! // Request 1 carries no cookie; the handler starts a session.
//! let session = sealed_session::http::load::<u32>(&sessions, &HeaderMap::new());
//! session.insert(1);
//! let mut response = HeaderMap::new();
//! sealed_session::http::write(&session, &mut response)?;
//! assert_eq!(response["cache-control"], "no-store");
//!
//! // Request 2: the browser sends the cookie back.
//! let set = response["set-cookie"].to_str()?;
//! let pair = set.split(';').next().unwrap_or_default();
//! let mut request = HeaderMap::new();
//! request.insert(http::header::COOKIE, pair.parse()?);
//! let session = sealed_session::http::load::<u32>(&sessions, &request);
//! assert_eq!(session.get(), Some(1));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use ::http::header::{CACHE_CONTROL, COOKIE, SET_COOKIE, VARY};
use ::http::{HeaderMap, HeaderValue};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, ErrorKind, Result};
use crate::session::handle::Session;
use crate::session::read::ReadOutcome;
use crate::session::response::{ResponseHeaders, VARY_COOKIE, log_invalid_header};
use crate::session::sessions::Sessions;

/// The session of a request with these headers (every `Cookie` field).
/// Never fails: a missing or refused cookie is "no session"
/// ([`Session::refusal`] says why; with the `tracing` feature it is
/// logged).
#[must_use]
pub fn load<T: Serialize + DeserializeOwned>(
    sessions: &Sessions,
    headers: &HeaderMap,
) -> Session<T> {
    sessions.load_request(headers.get_all(COOKIE).iter().map(HeaderValue::as_bytes))
}

/// [`Sessions::open`] on a request's headers. Never fails.
#[must_use]
pub fn open<T: DeserializeOwned>(sessions: &Sessions, headers: &HeaderMap) -> ReadOutcome<T> {
    let values: Vec<_> = headers
        .get_all(COOKIE)
        .iter()
        .map(|v| String::from_utf8_lossy(v.as_bytes()))
        .collect();
    sessions.open(values.iter().map(AsRef::as_ref))
}

/// Writes what the response needs after the handler into its headers:
/// one `Set-Cookie` field per cookie of [`Session::finish`], and
/// `Cache-Control: no-store` when there is any and the response has no
/// `Cache-Control` of its own. `Set-Cookie` fields already present are
/// left alone: do not set the session's cookie names by hand as well.
///
/// # Errors
/// As for [`Session::finish`]; nothing is written then, and the response
/// must not be sent as it is (it would silently lose the session change):
/// answer 500, as the tower layer does. [`ErrorKind::InvalidHeader`]
/// (unreachable) if a rendered value is not a header value.
pub fn write<T: Serialize + DeserializeOwned>(
    session: &Session<T>,
    headers: &mut HeaderMap,
) -> Result<()> {
    let out = session.response_headers(headers.contains_key(CACHE_CONTROL))?;
    apply(out, headers)
}

/// [`load()`] through the freshness store, if one is configured (one round
/// trip). Both open the cookie now; the tower and axum layers open it only
/// when the handler first looks at the session.
pub async fn load_async<T: Serialize + DeserializeOwned>(
    sessions: &Sessions,
    headers: &HeaderMap,
) -> Session<T> {
    sessions
        .load_request_async(headers.get_all(COOKIE).iter().map(HeaderValue::as_bytes))
        .await
}

/// [`write()`], then, with a freshness store, the re-seal recorded in it.
///
/// # Errors
/// As for [`write()`].
pub async fn write_async<T: Serialize + DeserializeOwned>(
    session: &Session<T>,
    headers: &mut HeaderMap,
) -> Result<()> {
    let out = session
        .response_headers_async(headers.contains_key(CACHE_CONTROL))
        .await?;
    apply(out, headers)
}

/// Puts the headers the core computed into `headers`, all or none.
fn apply(out: ResponseHeaders, headers: &mut HeaderMap) -> Result<()> {
    // The first value apart from the rest: the common response sets one
    // cookie and needs no list for it (collecting none allocates nothing).
    let mut values = out.set_cookies.into_iter().map(HeaderValue::try_from);
    let first = values.next().transpose();
    let rest: core::result::Result<Vec<HeaderValue>, _> = values.collect();
    let (Ok(first), Ok(rest)) = (first, rest) else {
        log_invalid_header();
        return Err(Error::new(ErrorKind::InvalidHeader));
    };
    for value in first.into_iter().chain(rest) {
        headers.append(SET_COOKIE, value);
    }
    if let Some(policy) = out.cache_control {
        headers.insert(CACHE_CONTROL, HeaderValue::from_static(policy));
    }
    if out.vary_cookie {
        headers.append(VARY, HeaderValue::from_static(VARY_COOKIE));
    }
    Ok(())
}
