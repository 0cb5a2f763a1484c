//! The [`http`] crate's types: read the session from a request's
//! [`HeaderMap`], write its `Set-Cookie` headers into a response's.
//!
//! Every framework built on `http` (axum, hyper, tonic, ...) can use these
//! three functions; the [`tower`](crate::tower) and [`axum`](crate::axum)
//! adapters are built on them.
//!
//! ```
//! use std::sync::Arc;
//! use http::HeaderMap;
//! use sealed_session::{CookiePolicy, KeyId, Keyring, SessionCodec, SessionCookies};
//!
//! let cookies = Arc::new(SessionCookies::new(
//!     SessionCodec::builder(Keyring::generate(KeyId(1))?),
//!     CookiePolicy::default(),
//! )?);
//! // Request 1 carries no cookie; the handler starts a session.
//! let session = sealed_session::http::load::<u32>(&cookies, &HeaderMap::new());
//! session.insert(1);
//! let mut response = HeaderMap::new();
//! sealed_session::http::append_set_cookies(&mut response, &session.finish()?);
//! assert_eq!(response["cache-control"], "no-store");
//!
//! // Request 2: the browser sends the cookie back.
//! let set = response["set-cookie"].to_str().unwrap_or_default();
//! let pair = set.split(';').next().unwrap_or_default();
//! let mut request = HeaderMap::new();
//! request.insert(http::header::COOKIE, pair.parse().map_err(|_| "a valid header")?);
//! let session = sealed_session::http::load::<u32>(&cookies, &request);
//! assert_eq!(session.get(), Some(1));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::borrow::Cow;
use std::sync::Arc;

use ::http::header::{CACHE_CONTROL, COOKIE, SET_COOKIE};
use ::http::{HeaderMap, HeaderValue};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::cookie::set_cookie::SetCookie;
use crate::session::handle::SessionHandle;
use crate::session::sessions::{ReadOutcome, SessionCookies};

/// Every `Cookie` header value of a request, in order (HTTP/2 and HTTP/3
/// send one field per cookie; HTTP/1.1 one field for all).
///
/// A value with bytes outside visible ASCII (another app's cookie holding
/// UTF-8, say) is read lossily rather than dropped, so our cookies beside it
/// are still found; ours are always ASCII.
#[must_use]
pub fn cookie_header_values(headers: &HeaderMap) -> Vec<Cow<'_, str>> {
    headers
        .get_all(COOKIE)
        .iter()
        .map(|value| String::from_utf8_lossy(value.as_bytes()))
        .collect()
}

/// [`SessionCookies::open`] on a request's headers: the session, if one
/// authenticated, and what the request carried. Never fails.
#[must_use]
pub fn open<T: DeserializeOwned>(cookies: &SessionCookies, headers: &HeaderMap) -> ReadOutcome<T> {
    let values = cookie_header_values(headers);
    cookies.open(values.iter().map(AsRef::as_ref))
}

/// [`SessionHandle::load`] on a request's headers: the handle a handler
/// reads and changes, and whose [`SessionHandle::finish`] gives the
/// response's `Set-Cookie` headers. Never fails: a missing or refused
/// cookie is "no session" ([`SessionHandle::refusal`] says why).
#[must_use]
pub fn load<T: Serialize + DeserializeOwned>(
    cookies: &Arc<SessionCookies>,
    headers: &HeaderMap,
) -> SessionHandle<T> {
    let values = cookie_header_values(headers);
    SessionHandle::load(cookies, values.iter().map(AsRef::as_ref))
}

/// Appends one `Set-Cookie` field per cookie in `set` (the result of one
/// [`SessionHandle::finish`] or one [`SessionCookies`] call, which holds
/// at most one per name), and, when it appended any and the response has
/// no `Cache-Control` of its own, adds `Cache-Control: no-store`, so no
/// shared cache stores a response that carries a session (OWASP Session
/// Management Cheat Sheet, "Web Content Caching"). An app that sets its own
/// `Cache-Control` keeps it.
///
/// `Set-Cookie` fields the response already carries are left alone: do not
/// set the session's cookie names by hand as well (RFC 6265bis §4.1.1
/// forbids two fields with one name).
///
/// Each [`SetCookie::header_value`] is valid field content (the crate
/// renders it from the RFC 6265bis §4.1.1 server grammar), so none is
/// skipped.
pub fn append_set_cookies(headers: &mut HeaderMap, set: &[SetCookie]) {
    let mut appended = false;
    for cookie in set {
        if let Ok(value) = HeaderValue::from_str(cookie.header_value()) {
            headers.append(SET_COOKIE, value);
            appended = true;
        }
    }
    if appended && !headers.contains_key(CACHE_CONTROL) {
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::SessionCodec;
    use crate::cookie::policy::CookiePolicy;
    use crate::error::ErrorKind;
    use crate::freshness::clock::ManualClock;
    use crate::keys::key::KeyId;
    use crate::keys::keyring::Keyring;

    fn cookies(chunks: usize) -> Arc<SessionCookies> {
        let codec = SessionCodec::builder(Keyring::generate(KeyId(1)).unwrap())
            .clock(Arc::new(ManualClock::at_unix(1_764_000_000)));
        let policy = CookiePolicy::builder().chunked(chunks).build().unwrap();
        Arc::new(SessionCookies::new(codec, policy).unwrap())
    }

    /// The request headers a browser sends back after `response`, one
    /// `Cookie` field per cookie (as HTTP/2 does).
    fn cookie_fields(response: &HeaderMap) -> HeaderMap {
        let mut request = HeaderMap::new();
        for set in response.get_all(SET_COOKIE) {
            let text = set.to_str().unwrap();
            let pair = text.split(';').next().unwrap();
            if !text.contains("Max-Age=0") {
                request.append(COOKIE, pair.parse().unwrap());
            }
        }
        request
    }

    #[test]
    fn round_trip_with_no_store() {
        let c = cookies(1);
        let h = load::<String>(&c, &HeaderMap::new());
        assert_eq!(h.get(), None);
        h.insert("ada".into());
        let mut response = HeaderMap::new();
        append_set_cookies(&mut response, &h.finish().unwrap());
        assert_eq!(response.get_all(SET_COOKIE).iter().count(), 1);
        assert_eq!(response[CACHE_CONTROL], "no-store");
        let request = cookie_fields(&response);
        assert_eq!(load::<String>(&c, &request).get().as_deref(), Some("ada"));
        let read = open::<String>(&c, &request);
        assert_eq!(read.session.unwrap().data, "ada");
    }

    #[test]
    fn nothing_to_write_adds_no_headers_and_app_cache_control_is_kept() {
        let mut response = HeaderMap::new();
        append_set_cookies(&mut response, &[]);
        assert!(response.is_empty());

        let c = cookies(1);
        let h = load::<u8>(&c, &HeaderMap::new());
        h.insert(1);
        let mut response = HeaderMap::new();
        response.insert(
            CACHE_CONTROL,
            HeaderValue::from_static("private, max-age=0"),
        );
        append_set_cookies(&mut response, &h.finish().unwrap());
        assert_eq!(response[CACHE_CONTROL], "private, max-age=0");
        assert_eq!(response.get_all(CACHE_CONTROL).iter().count(), 1);
    }

    #[test]
    fn chunks_in_separate_cookie_fields_are_joined() {
        let c = cookies(4);
        let h = load::<String>(&c, &HeaderMap::new());
        h.insert("x".repeat(5000));
        let mut response = HeaderMap::new();
        append_set_cookies(&mut response, &h.finish().unwrap());
        let request = cookie_fields(&response);
        assert_eq!(request.get_all(COOKIE).iter().count(), 2);
        let h = load::<String>(&c, &request);
        assert_eq!(h.get().map(|s| s.len()), Some(5000));
    }

    #[test]
    fn non_ascii_neighbours_do_not_hide_the_session() {
        let c = cookies(1);
        let h = load::<u8>(&c, &HeaderMap::new());
        h.insert(7);
        let set = h.finish().unwrap();
        let ours = format!("{}={}", set[0].name(), set[0].value());
        let mut raw = b"theme=gr\xc3\xbcn; legacy=\xe9t\xe9; ".to_vec();
        raw.extend_from_slice(ours.as_bytes());
        let mut request = HeaderMap::new();
        request.append(COOKIE, HeaderValue::from_bytes(&raw).unwrap());
        request.append(COOKIE, HeaderValue::from_bytes(b"x=\xff").unwrap());
        assert_eq!(load::<u8>(&c, &request).get(), Some(7));
    }

    #[test]
    fn refused_cookie_reads_as_no_session_and_is_removed() {
        let c = cookies(1);
        let mut request = HeaderMap::new();
        request.insert(
            COOKIE,
            HeaderValue::from_static("__Host-session=AQAAAAFnot-sealed"),
        );
        let h = load::<u8>(&c, &request);
        assert_eq!(h.get(), None);
        assert_eq!(h.refusal(), Some(ErrorKind::Malformed));
        let mut response = HeaderMap::new();
        append_set_cookies(&mut response, &h.finish().unwrap());
        let removal = response[SET_COOKIE].to_str().unwrap();
        assert!(removal.starts_with("__Host-session=;"), "{removal}");
        assert!(removal.contains("Max-Age=0"));
        assert_eq!(response[CACHE_CONTROL], "no-store");
    }
}
