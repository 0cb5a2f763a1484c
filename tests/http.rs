//! The `http` adapter: a session read from a `HeaderMap` and written back
//! into one.

#![cfg(feature = "http")]
#![allow(clippy::unwrap_used, reason = "test code: a panic is a failed test")]

use std::sync::Arc;

use http::header::{CACHE_CONTROL, COOKIE, SET_COOKIE};
use http::{HeaderMap, HeaderValue};
use sealed_session::http::{load, open, write};
use sealed_session::{CookiePolicy, ErrorKind, KeyId, Keyring, ManualClock, Sessions};

fn cookies(chunks: usize) -> Sessions {
    Sessions::builder(Keyring::generate(KeyId(1)).unwrap())
        .clock(Arc::new(ManualClock::at_unix(1_764_000_000)))
        .cookie(
            CookiePolicy::builder()
                .chunked(chunks)
                .set_cookie_budget(1 << 20)
                .build()
                .unwrap(),
        )
        .build()
        .unwrap()
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
    write(&h, &mut response).unwrap();
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
    write(&load::<u8>(&cookies(1), &HeaderMap::new()), &mut response).unwrap();
    assert!(response.is_empty());

    let c = cookies(1);
    let h = load::<u8>(&c, &HeaderMap::new());
    h.insert(1);
    let mut response = HeaderMap::new();
    response.insert(
        CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=0"),
    );
    write(&h, &mut response).unwrap();
    assert_eq!(response[CACHE_CONTROL], "private, max-age=0");
    assert_eq!(response.get_all(CACHE_CONTROL).iter().count(), 1);
}

#[test]
fn chunks_in_separate_cookie_fields_are_joined() {
    let c = cookies(4);
    let h = load::<String>(&c, &HeaderMap::new());
    h.insert("x".repeat(5000));
    let mut response = HeaderMap::new();
    write(&h, &mut response).unwrap();
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
    let mut response = HeaderMap::new();
    write(&h, &mut response).unwrap();
    let set = response[SET_COOKIE].to_str().unwrap();
    let ours = set.split(';').next().unwrap();
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
    write(&h, &mut response).unwrap();
    let removal = response[SET_COOKIE].to_str().unwrap();
    assert!(removal.starts_with("__Host-session=;"), "{removal}");
    assert!(removal.contains("Max-Age=0"));
    assert_eq!(response[CACHE_CONTROL], "no-store");
}

/// A response that depends on a session is kept out of shared caches:
/// `Vary: Cookie` and `private` (`no-store` when it sets a cookie), unless
/// the app chose its own `Cache-Control`. One that never saw a session gets
/// nothing.
#[test]
fn responses_that_depend_on_a_session_are_private() {
    let c = cookies(1);
    // Untouched, no cookie: nothing added.
    let mut response = HeaderMap::new();
    write(&load::<u8>(&c, &HeaderMap::new()), &mut response).unwrap();
    assert!(response.is_empty());
    // Read, no cookie: private.
    let h = load::<u8>(&c, &HeaderMap::new());
    let _ = h.get();
    let mut response = HeaderMap::new();
    write(&h, &mut response).unwrap();
    assert_eq!(response[CACHE_CONTROL], "private");
    assert_eq!(response[http::header::VARY], "Cookie");
    // Sets a cookie: no-store.
    let h = load::<u8>(&c, &HeaderMap::new());
    h.insert(1);
    let mut response = HeaderMap::new();
    write(&h, &mut response).unwrap();
    assert_eq!(response[CACHE_CONTROL], "no-store");
    assert_eq!(response[http::header::VARY], "Cookie");
    // Carried a cookie, handler never looked: still private, and the app's
    // own Vary is kept beside ours.
    let request = cookie_fields(&response);
    let h = load::<u8>(&c, &request);
    let mut response = HeaderMap::new();
    response.insert(
        http::header::VARY,
        HeaderValue::from_static("Accept-Encoding"),
    );
    write(&h, &mut response).unwrap();
    assert_eq!(response[CACHE_CONTROL], "private");
    let vary: Vec<_> = response.get_all(http::header::VARY).iter().collect();
    assert_eq!(vary, ["Accept-Encoding", "Cookie"]);
    // The app's own Cache-Control wins.
    let h = load::<u8>(&c, &request);
    let _ = h.get();
    let mut response = HeaderMap::new();
    response.insert(
        CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=60"),
    );
    write(&h, &mut response).unwrap();
    assert_eq!(response[CACHE_CONTROL], "public, max-age=60");
}
