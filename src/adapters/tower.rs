//! A [`tower`](https://docs.rs/tower) layer: load the session before the
//! inner service, write its cookies after it.
//!
//! [`SessionLayer<T>`] reads every `Cookie` header of the request, puts a
//! [`SessionHandle<T>`] into the request's extensions, calls the inner
//! service, then appends the `Set-Cookie` headers that
//! [`SessionHandle::finish`] asks for, and only those: none when the
//! session did not change and no renewal or re-seal is due.
//!
//! - A missing, malformed, forged, expired, revoked or replayed cookie is
//!   "no session": the handler sees an empty handle, the response removes
//!   the refused cookies (unless a new session replaces them), and the
//!   client is never told why. With the `tracing` feature, each refusal is
//!   logged with its kind and key id (never the value or the session id).
//! - A response that sets or removes a cookie gets `Cache-Control:
//!   no-store` unless it already has a `Cache-Control`.
//! - If the cookies cannot be written ([`ErrorKind::TooLarge`]: the
//!   session outgrew the cookie budget and the handler did not check with
//!   [`SessionHandle::flush`]), the response is replaced by a bare `500
//!   Internal Server Error` (and, with `tracing`, an error event) rather
//!   than sent with a stale cookie.
//!
//! Handlers reach the handle through the request's extensions; with axum,
//! use the [`Session`](crate::axum::Session) extractor.
//!
//! [`ErrorKind::TooLarge`]: crate::ErrorKind::TooLarge

use core::fmt;
use core::future::Future;
use core::marker::PhantomData;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::sync::Arc;

use ::http::{Request, Response, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tower_layer::Layer;
use tower_service::Service;

use crate::session::handle::SessionHandle;
use crate::session::sessions::SessionCookies;

/// Loads a [`SessionHandle<T>`] into each request's extensions and writes
/// the session's cookies into each response. `T` is the app's session
/// type; extractors look the handle up by it, so they must name the same
/// `T`.
///
/// ```
/// use std::sync::Arc;
/// use sealed_session::tower::SessionLayer;
/// use sealed_session::{CookiePolicy, Keyring, SessionCodec, SessionCookies};
///
/// #[derive(Default, serde::Serialize, serde::Deserialize)]
/// struct MySession { user: Option<String> }
///
/// let keyring: Keyring = Keyring::generate(sealed_session::KeyId(1))?;
/// let cookies = Arc::new(SessionCookies::new(
///     SessionCodec::builder(keyring),
///     CookiePolicy::default(),
/// )?);
/// let layer = SessionLayer::<MySession>::new(cookies);
/// // router.layer(layer), ServiceBuilder::new().layer(layer), ...
/// # let _ = layer;
/// # Ok::<(), sealed_session::Error>(())
/// ```
pub struct SessionLayer<T> {
    cookies: Arc<SessionCookies>,
    session: PhantomData<fn() -> T>,
}

impl<T> SessionLayer<T> {
    /// A layer sealing sessions of type `T` with `cookies` (the codec, its
    /// keyring and clock, and the cookie policy). Share one
    /// [`SessionCookies`] between all the layers of an app.
    #[must_use]
    pub const fn new(cookies: Arc<SessionCookies>) -> Self {
        Self {
            cookies,
            session: PhantomData,
        }
    }
}

impl<T> Clone for SessionLayer<T> {
    fn clone(&self) -> Self {
        Self::new(Arc::clone(&self.cookies))
    }
}

impl<T> fmt::Debug for SessionLayer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionLayer")
            .field("session", &core::any::type_name::<T>())
            .field("cookies", &self.cookies)
            .finish()
    }
}

impl<S, T> Layer<S> for SessionLayer<T> {
    type Service = SessionService<S, T>;

    fn layer(&self, inner: S) -> Self::Service {
        SessionService {
            inner,
            cookies: Arc::clone(&self.cookies),
            session: PhantomData,
        }
    }
}

/// The service [`SessionLayer`] wraps around an inner service.
pub struct SessionService<S, T> {
    inner: S,
    cookies: Arc<SessionCookies>,
    session: PhantomData<fn() -> T>,
}

impl<S: Clone, T> Clone for SessionService<S, T> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            cookies: Arc::clone(&self.cookies),
            session: PhantomData,
        }
    }
}

impl<S, T> fmt::Debug for SessionService<S, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionService")
            .field("session", &core::any::type_name::<T>())
            .field("cookies", &self.cookies)
            .finish_non_exhaustive()
    }
}

/// The future of a [`SessionService`] call.
pub type ResponseFuture<R, E> = Pin<Box<dyn Future<Output = Result<R, E>> + Send>>;

impl<S, T, ReqBody, ResBody> Service<Request<ReqBody>> for SessionService<S, T>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    T: Serialize + DeserializeOwned + Send + 'static,
    ReqBody: Send + 'static,
    ResBody: Default + Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        let handle = crate::http::load::<T>(&self.cookies, request.headers());
        log_refusal(&handle);
        request.extensions_mut().insert(handle.clone());
        // The clone that was polled ready serves this request; a fresh
        // clone stays behind for the next one (tower's usual idiom).
        let clone = self.inner.clone();
        let mut inner = core::mem::replace(&mut self.inner, clone);
        Box::pin(async move {
            let mut response = inner.call(request).await?;
            match handle.finish() {
                Ok(set) => crate::http::append_set_cookies(response.headers_mut(), &set),
                Err(error) => {
                    log_write_failure(&error);
                    response = Response::new(ResBody::default());
                    *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
                }
            }
            Ok(response)
        })
    }
}

/// One event per request whose cookie was refused: the kind, and the key id
/// the value names (an attacker-chosen number; nothing else of the value).
#[cfg(feature = "tracing")]
fn log_refusal<T: Serialize + DeserializeOwned>(handle: &SessionHandle<T>) {
    use crate::error::ErrorKind;
    let Some(kind) = handle.refusal() else {
        return;
    };
    let key_id = handle.refused_key_id().map(|id| id.0);
    match kind {
        // Everyday: a session ran out, or the app changed its type.
        ErrorKind::Expired | ErrorKind::IdleExpired | ErrorKind::PayloadMismatch => {
            tracing::debug!(
                kind = kind.as_str(),
                key_id,
                "sealed_session: cookie refused, treated as no session"
            );
        }
        // Forged, damaged, revoked, replayed or from the future: worth a look.
        _ => tracing::info!(
            kind = kind.as_str(),
            key_id,
            "sealed_session: cookie refused, treated as no session"
        ),
    }
}

#[cfg(not(feature = "tracing"))]
const fn log_refusal<T: Serialize + DeserializeOwned>(_: &SessionHandle<T>) {}

#[cfg(feature = "tracing")]
fn log_write_failure(error: &crate::error::Error) {
    tracing::error!(
        kind = error.kind().as_str(),
        error = %error,
        "sealed_session: could not write the session cookie; answered 500 \
         (call SessionHandle::flush in the handler to catch too_large)"
    );
}

#[cfg(not(feature = "tracing"))]
const fn log_write_failure(_: &crate::error::Error) {}

#[cfg(all(test, feature = "tracing"))]
mod tests {
    use std::sync::Mutex;

    use ::http::HeaderMap;
    use ::http::header::COOKIE;
    use tracing::field::{Field, Visit};
    use tracing::span::{Attributes, Id, Record};
    use tracing::{Event, Level, Metadata, Subscriber};

    use super::*;
    use crate::codec::SessionCodec;
    use crate::cookie::policy::CookiePolicy;
    use crate::keys::key::KeyId;
    use crate::keys::keyring::Keyring;

    /// Records each event as its level and `name=value` fields.
    #[derive(Default)]
    struct Recorder(Arc<Mutex<Vec<(Level, String)>>>);

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
        let cookies = Arc::new(
            SessionCookies::new(
                SessionCodec::builder(Keyring::generate(KeyId(7)).unwrap()),
                CookiePolicy::default(),
            )
            .unwrap(),
        );
        let meta = cookies.codec().new_session(None).unwrap();
        let value = cookies.codec().reseal(&meta, &1u8).unwrap();
        let mid = value.len() / 2;
        let flip = if &value[mid..=mid] == "A" { "B" } else { "A" };
        let tampered = format!("{}{flip}{}", &value[..mid], &value[mid + 1..]);
        let mut headers = HeaderMap::new();
        let cookie = format!("__Host-session={tampered}");
        headers.insert(COOKIE, cookie.parse().unwrap());

        let events = Arc::new(Mutex::new(Vec::new()));
        let recorder = Recorder(Arc::clone(&events));
        tracing::subscriber::with_default(recorder, || {
            log_refusal(&crate::http::load::<u8>(&cookies, &headers));
            log_refusal(&crate::http::load::<u8>(&cookies, &HeaderMap::new()));
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
