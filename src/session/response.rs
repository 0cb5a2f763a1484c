//! What every adapter does around a handler, written once and
//! framework-neutral: read the request's `Cookie` fields, log a refusal,
//! and compute the headers the response gets. Adapters only move bytes
//! between their framework's types and these functions.

#![cfg_attr(
    not(any(feature = "http", feature = "actix-web")),
    allow(
        dead_code,
        reason = "the adapters' shared half; unused without an adapter"
    )
)]

use std::borrow::Cow;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::cookie::set_cookie::SetCookie;
use crate::error::{Error, ErrorKind};
use crate::keys::key::KeyId;
use crate::session::handle::Session;
use crate::session::sessions::Sessions;

/// The headers a response gets for the session, computed once for every
/// adapter: each adapter only turns them into its framework's types.
#[derive(Debug, Default)]
pub(crate) struct ResponseHeaders {
    /// `Set-Cookie` field values, appended one per cookie.
    pub(crate) set_cookies: Vec<String>,
    /// `Cache-Control`, inserted only when the response has none.
    pub(crate) cache_control: Option<&'static str>,
    /// `Vary: Cookie`, appended beside any `Vary` the response has.
    pub(crate) vary_cookie: bool,
}

/// The `Vary` value of a response that depends on the session.
pub(crate) const VARY_COOKIE: &str = "Cookie";

impl Sessions {
    /// The session of a request whose `Cookie` fields are `fields` (every
    /// one, in order: HTTP/2 and HTTP/3 send one per cookie). A field with
    /// bytes outside visible ASCII (another app's cookie holding UTF-8) is
    /// read lossily rather than dropped, so our cookies beside it are still
    /// found; ours are always ASCII. A refusal is logged.
    #[cfg_attr(not(feature = "http"), allow(dead_code, reason = "the http adapter's"))]
    pub(crate) fn load_request<'a, T: Serialize + DeserializeOwned>(
        &self,
        fields: impl IntoIterator<Item = &'a [u8]>,
    ) -> Session<T> {
        let values: Vec<Cow<'_, str>> = fields.into_iter().map(String::from_utf8_lossy).collect();
        let session = Session::load(self, values.iter().map(AsRef::as_ref));
        if let Some(kind) = session.refusal() {
            log_refusal(kind, session.refused_key_id());
        }
        session
    }
}

impl Sessions {
    /// [`Sessions::load_request`] through the freshness store, if any.
    pub(crate) async fn load_request_async<'a, T: Serialize + DeserializeOwned>(
        &self,
        fields: impl IntoIterator<Item = &'a [u8]>,
    ) -> Session<T> {
        let values: Vec<Cow<'_, str>> = fields.into_iter().map(String::from_utf8_lossy).collect();
        let session = Session::load_async(self, values.iter().map(AsRef::as_ref)).await;
        if let Some(kind) = session.refusal() {
            log_refusal(kind, session.refused_key_id());
        }
        session
    }

    /// What the layers call: without a freshness store, the session of a
    /// request whose cookies are opened only when the handler first looks
    /// at the session ([`Session::lazy`]), so a route that never does
    /// costs no AEAD call; with one, [`Sessions::load_request_async`] (the
    /// store is asked before the handler runs).
    #[cfg(any(feature = "tower", feature = "actix-web"))]
    pub(crate) async fn load_for_handler<'a, T>(
        &self,
        fields: impl IntoIterator<Item = &'a [u8]>,
    ) -> Session<T>
    where
        T: Serialize + DeserializeOwned,
    {
        if self.store().is_some() {
            return self.load_request_async(fields).await;
        }
        self.load_lazy(fields)
    }

    /// [`Sessions::load_for_handler`] without a freshness store: the
    /// request's cookies kept as one string, opened when the handler first
    /// looks ([`Session::lazy`]).
    #[cfg(any(feature = "tower", feature = "actix-web"))]
    pub(crate) fn load_lazy<'a, T>(&self, fields: impl IntoIterator<Item = &'a [u8]>) -> Session<T>
    where
        T: Serialize + DeserializeOwned,
    {
        // One string, the fields joined by `;`: the pairs are the same as
        // field by field (RFC 9113 §8.2.3 joins split fields likewise).
        let mut cookies = String::new();
        for field in fields {
            if !cookies.is_empty() {
                cookies.push(';');
            }
            match core::str::from_utf8(field) {
                Ok(text) => cookies.push_str(text),
                Err(_) => cookies.push_str(&String::from_utf8_lossy(field)),
            }
        }
        if cookies.is_empty() {
            return Session::load(self, []);
        }
        Session::lazy(self, cookies, |sessions, cookies| {
            let outcome = sessions.open_optional::<T>([cookies], false);
            if let Some(kind) = outcome.refusal {
                log_refusal(kind, outcome.refused_key_id());
            }
            outcome
        })
    }
}

impl<T: Serialize + DeserializeOwned> Session<T> {
    /// [`Session::response_headers`], then the re-seal recorded in the
    /// freshness store, if any.
    pub(crate) async fn response_headers_async(
        &self,
        has_cache_control: bool,
    ) -> Result<ResponseHeaders, Error> {
        let out = self.response_headers(has_cache_control)?;
        self.record_superseded().await;
        Ok(out)
    }

    /// The headers the response needs after the handler: one `Set-Cookie`
    /// per cookie [`Session::finish`] returns, and for a response that
    /// depends on a session (it sets a cookie, the request carried one of
    /// ours, or the handler read the session) `Vary: Cookie` and, unless
    /// the app set a `Cache-Control` of its own, `Cache-Control: no-store`
    /// when it sets a cookie and `private` otherwise, so no shared cache
    /// serves one visitor's session to another (OWASP Session Management
    /// Cheat Sheet, "Web Content Caching"; RFC 9111 §5.2.2.7).
    ///
    /// `Err` means the response must not go out as the handler made it
    /// (it would lose the session change): the adapter answers a bare 500.
    /// The failure is logged here.
    pub(crate) fn response_headers(
        &self,
        has_cache_control: bool,
    ) -> Result<ResponseHeaders, Error> {
        if self.untouched() {
            // The common route that never reads the session: one lock.
            return Ok(ResponseHeaders::default());
        }
        let set = self.finish().inspect_err(log_write_failure)?;
        let set_cookies: Vec<String> = set.into_iter().map(SetCookie::into_header_value).collect();
        let sets = !set_cookies.is_empty();
        let depends = sets || self.depends_on_session();
        Ok(ResponseHeaders {
            set_cookies,
            cache_control: (depends && !has_cache_control).then_some(if sets {
                "no-store"
            } else {
                "private"
            }),
            vary_cookie: depends,
        })
    }
}

/// The adapter could not turn a header the crate rendered into its
/// framework's header type. Unreachable: every value is rendered from the
/// RFC 6265bis server grammar, a subset of field content. The adapter
/// answers 500, as for any failed write.
pub(crate) fn log_invalid_header() {
    #[cfg(feature = "tracing")]
    tracing::error!("sealed_session: a rendered header is not a valid header value; answered 500");
}

/// One event per request whose cookie was refused: the kind, and the key id
/// the value names (an attacker-chosen number; nothing else of the value).
#[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
pub(crate) fn log_refusal(kind: ErrorKind, key_id: Option<KeyId>) {
    #[cfg(feature = "tracing")]
    {
        let key_id = key_id.map(|id| id.0);
        match kind {
            // Everyday: a session ran out, or the app changed its type.
            ErrorKind::Expired | ErrorKind::IdleExpired | ErrorKind::PayloadMismatch => {
                tracing::debug!(
                    kind = kind.as_str(),
                    key_id,
                    "sealed_session: cookie refused, treated as no session"
                );
            }
            // Forged, damaged, revoked, replayed or from the future.
            _ => tracing::info!(
                kind = kind.as_str(),
                key_id,
                "sealed_session: cookie refused, treated as no session"
            ),
        }
    }
}

#[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
fn log_write_failure(error: &Error) {
    // The crate's messages never carry cookie values or session ids.
    #[cfg(feature = "tracing")]
    tracing::error!(
        kind = error.kind().as_str(),
        error = %error,
        "sealed_session: could not write the session cookie; answered 500 \
         (call Session::flush in the handler to catch too_large)"
    );
}

#[cfg(all(test, feature = "tracing"))]
pub(crate) mod tests {
    use std::sync::Mutex;

    use tracing::field::{Field, Visit};
    use tracing::span::{Attributes, Id, Record};
    use tracing::{Event, Level, Metadata, Subscriber};

    use core::fmt;
    use std::sync::Arc;

    use super::*;
    use crate::keys::keyring::Keyring;

    /// Records each event as its level and `name=value` fields.
    #[derive(Default)]
    pub(crate) struct Recorder(pub(crate) Arc<Mutex<Vec<(Level, String)>>>);

    struct Fields(String);

    impl Visit for Fields {
        fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
            self.0.push_str(&format!("{}={value:?} ", field.name()));
        }
        fn record_str(&mut self, field: &Field, value: &str) {
            self.0.push_str(&format!("{}={value} ", field.name()));
        }
    }

    impl Subscriber for Recorder {
        fn enabled(&self, _: &Metadata<'_>) -> bool {
            true
        }
        fn new_span(&self, _: &Attributes<'_>) -> Id {
            Id::from_u64(1)
        }
        fn record(&self, _: &Id, _: &Record<'_>) {}
        fn record_follows_from(&self, _: &Id, _: &Id) {}
        fn event(&self, event: &Event<'_>) {
            let mut fields = Fields(String::new());
            event.record(&mut fields);
            let level = *event.metadata().level();
            // Not a #[test] fn, so no unwrap; a poisoned lock fails the test anyway.
            if let Ok(mut events) = self.0.lock() {
                events.push((level, fields.0));
            }
        }
        fn enter(&self, _: &Id) {}
        fn exit(&self, _: &Id) {}
    }

    #[test]
    fn refusals_are_logged_with_kind_and_key_id_only() {
        let sessions = Sessions::builder(Keyring::generate(KeyId(7)).unwrap())
            .build()
            .unwrap();
        let meta = sessions.codec().new_session(None).unwrap();
        let value = sessions.codec().seal_session(&meta, &1u8).unwrap();
        let mid = value.len() / 2;
        let flip = if &value[mid..=mid] == "A" { "B" } else { "A" };
        let tampered = format!("{}{flip}{}", &value[..mid], &value[mid + 1..]);
        let cookie = format!("__Host-session={tampered}");

        let events = Arc::new(Mutex::new(Vec::new()));
        let recorder = Recorder(Arc::clone(&events));
        tracing::subscriber::with_default(recorder, || {
            let _ = sessions.load_request::<u8>([cookie.as_bytes()]);
            let _ = sessions.load_request::<u8>([]);
        });
        let events = events.lock().unwrap();
        assert_eq!(events.len(), 1, "one event, for the refused cookie only");
        let (level, fields) = &events[0];
        assert_eq!(*level, Level::INFO);
        assert!(fields.contains("kind=unauthenticated"), "{fields}");
        assert!(fields.contains("key_id=7"), "{fields}");
        assert!(!fields.contains(&tampered[10..30]), "never the value");
        assert!(
            !fields.contains(&meta.id().to_hex()),
            "never the session id"
        );
    }
}
