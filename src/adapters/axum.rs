//! [axum](https://docs.rs/axum): the [`Session<T>`] extractor and the
//! [`RequireCsrf<T>`] layer, on top of [`SessionLayer<T>`](crate::tower::SessionLayer).
//!
//! ```no_run
//! use std::sync::Arc;
//! use axum::{Router, routing::{get, post}};
//! use sealed_session::axum::{RequireCsrf, Session};
//! use sealed_session::tower::SessionLayer;
//! use sealed_session::{CookiePolicy, Keyring, SessionCodec, SessionCookies};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Clone, Default, Serialize, Deserialize)]
//! struct Visits { count: u64 }
//!
//! // Every request: read, change, and the layer writes the cookie.
//! async fn count(session: Session<Visits>) -> String {
//!     let n = session.update(|v| { v.count += 1; v.count });
//!     format!("visit {n}; csrf token {}", session.csrf_token().unwrap_or_default())
//! }
//!
//! // POSTs reach this only with the session's CSRF token (RequireCsrf).
//! async fn reset(session: Session<Visits>) -> &'static str {
//!     session.clear();
//!     "bye"
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let keyring: Keyring = std::env::var("SESSION_KEYS")?.parse()?;
//! let cookies = Arc::new(SessionCookies::new(
//!     SessionCodec::builder(keyring),
//!     CookiePolicy::default(),
//! )?);
//! let app = Router::new()
//!     .route("/", get(count))
//!     .route("/reset", post(reset))
//!     .route_layer(RequireCsrf::<Visits>::new())
//!     .layer(SessionLayer::<Visits>::new(cookies));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! axum::serve(listener, app).await?;
//! # Ok(()) }
//! ```

use core::convert::Infallible;
use core::fmt;
use core::future::Future;
use core::marker::PhantomData;
use core::ops::Deref;
use core::pin::Pin;
use core::task::{Context, Poll};

use ::http::request::Parts;
use ::http::{HeaderValue, Method, StatusCode, header};
use axum_core::body::Body;
use axum_core::extract::{FromRequest, FromRequestParts, Request};
use axum_core::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tower_layer::Layer;
use tower_service::Service;

use crate::session::handle::SessionHandle;

/// The name of the request header that carries a CSRF token, for
/// JavaScript clients: `x-csrf-token`.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// The name of the form field that carries a CSRF token, for HTML forms:
/// `csrf`.
pub const CSRF_FIELD: &str = "csrf";

/// The request's session, as an extractor: a [`SessionHandle<T>`] (it
/// derefs to one) put there by [`SessionLayer<T>`](crate::tower::SessionLayer), which writes the
/// cookie after the handler returns.
///
/// Read with [`get`](SessionHandle::get) or [`with`](SessionHandle::with);
/// change with [`insert`](SessionHandle::insert) or
/// [`update`](SessionHandle::update); end with
/// [`remove`](SessionHandle::remove) or [`clear`](SessionHandle::clear)
/// (logout); on login, [`regenerate`](SessionHandle::regenerate). A
/// request whose cookie was refused has an empty session, never an error.
///
/// Without the layer (or with a layer for another `T`), extraction fails
/// with [`MissingSessionLayer`], a 500 whose message says how to fix the
/// router.
pub struct Session<T>(
    /// The request's handle (shared with the layer: changes made through
    /// it are what the response writes).
    pub SessionHandle<T>,
);

impl<T> Session<T> {
    /// The handle itself, for passing on to code that is not a handler.
    #[must_use]
    pub fn into_inner(self) -> SessionHandle<T> {
        self.0
    }
}

impl<T> Deref for Session<T> {
    type Target = SessionHandle<T>;

    fn deref(&self) -> &SessionHandle<T> {
        &self.0
    }
}

impl<T> Clone for Session<T> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<T> fmt::Debug for Session<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Session").field(&self.0).finish()
    }
}

impl<S, T> FromRequestParts<S> for Session<T>
where
    S: Send + Sync,
    T: Send + 'static,
{
    type Rejection = MissingSessionLayer;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<SessionHandle<T>>()
            .cloned()
            .map(Self)
            .ok_or_else(MissingSessionLayer::of::<T>)
    }
}

/// A setup error: a [`Session<T>`] (or [`RequireCsrf<T>`]) ran on a
/// request that did not pass through a [`SessionLayer<T>`](crate::tower::SessionLayer) with the same
/// `T`. As a response it is a `500 Internal Server Error` carrying the fix
/// in its body (the session type's name, nothing from the request).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MissingSessionLayer {
    session_type: &'static str,
}

impl MissingSessionLayer {
    fn of<T>() -> Self {
        Self {
            session_type: core::any::type_name::<T>(),
        }
    }
}

impl fmt::Display for MissingSessionLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.session_type;
        write!(
            f,
            "sealed_session::axum::Session<{t}> needs sealed_session::tower::SessionLayer<{t}> \
             on the router (same T): add `.layer(SessionLayer::<{t}>::new(cookies))` after the \
             routes that use it"
        )
    }
}

impl core::error::Error for MissingSessionLayer {}

impl IntoResponse for MissingSessionLayer {
    fn into_response(self) -> Response {
        let mut response = Response::new(Body::from(self.to_string()));
        *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        response
    }
}

/// Refuses requests with unsafe methods (anything but GET, HEAD, OPTIONS
/// and TRACE) that do not carry the session's CSRF token, with a bare
/// `403 Forbidden`, before the handler runs. Safe methods pass unchecked:
/// they must not change state.
///
/// The token is [`SessionHandle::csrf_token`]; put it in forms as the
/// hidden field [`CSRF_FIELD`] (`csrf`) or send it from scripts in the
/// [`CSRF_HEADER`] (`x-csrf-token`) header. The header is tried first; the
/// form field is read only from `application/x-www-form-urlencoded`
/// bodies (buffered within axum's body limit, then handed on unchanged to
/// the handler); for other bodies (JSON, multipart), send the header. The
/// comparison is constant-time ([`SessionHandle::verify_csrf`]).
///
/// A request with no session has no token to match and is refused too,
/// unless [`RequireCsrf::allow_without_session`] is set: a cross-site
/// `POST` under `SameSite=Lax` arrives without the cookie, so it looks
/// like "no session", and letting it through would let another site
/// replace the user's session.
///
/// Apply it inside [`SessionLayer<T>`](crate::tower::SessionLayer), to the routes it guards:
/// `Router::route_layer(RequireCsrf::<T>::new())` for the routes added
/// before it, or `post(handler).layer(..)` for one route. SameSite is
/// defence in depth, not CSRF protection (OWASP Session Management Cheat
/// Sheet); this check is the protection.
pub struct RequireCsrf<T> {
    allow_without_session: bool,
    session: PhantomData<fn() -> T>,
}

impl<T> RequireCsrf<T> {
    /// The check for every unsafe request, sessions or not.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            allow_without_session: false,
            session: PhantomData,
        }
    }

    /// Lets unsafe requests that carry no session through unchecked; a
    /// request with a session must still carry its token. For a login
    /// route reached by users who have no session yet.
    ///
    /// # Warning
    ///
    /// Such a request can come from another site (login CSRF: the user is
    /// signed in to the attacker's account). Use it only where starting a
    /// session is all such a request can do, and prefer serving the login
    /// form from a page that starts a session first (calling
    /// [`SessionHandle::csrf_token`] does), so the form carries a token.
    #[must_use]
    pub const fn allow_without_session(mut self) -> Self {
        self.allow_without_session = true;
        self
    }
}

impl<T> Default for RequireCsrf<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Clone for RequireCsrf<T> {
    fn clone(&self) -> Self {
        Self {
            allow_without_session: self.allow_without_session,
            session: PhantomData,
        }
    }
}

impl<T> fmt::Debug for RequireCsrf<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequireCsrf")
            .field("session", &core::any::type_name::<T>())
            .field("allow_without_session", &self.allow_without_session)
            .finish()
    }
}

impl<S, T> Layer<S> for RequireCsrf<T> {
    type Service = RequireCsrfService<S, T>;

    fn layer(&self, inner: S) -> Self::Service {
        RequireCsrfService {
            inner,
            allow_without_session: self.allow_without_session,
            session: PhantomData,
        }
    }
}

/// The service [`RequireCsrf`] wraps around an inner service.
pub struct RequireCsrfService<S, T> {
    inner: S,
    allow_without_session: bool,
    session: PhantomData<fn() -> T>,
}

impl<S: Clone, T> Clone for RequireCsrfService<S, T> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            allow_without_session: self.allow_without_session,
            session: PhantomData,
        }
    }
}

impl<S, T> fmt::Debug for RequireCsrfService<S, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequireCsrfService")
            .field("session", &core::any::type_name::<T>())
            .field("allow_without_session", &self.allow_without_session)
            .finish_non_exhaustive()
    }
}

/// The future of a [`RequireCsrfService`] call.
pub type CsrfFuture = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

impl<S, T> Service<Request> for RequireCsrfService<S, T>
where
    S: Service<Request, Error = Infallible> + Clone + Send + 'static,
    S::Response: IntoResponse,
    S::Future: Send + 'static,
    T: Serialize + DeserializeOwned + Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = CsrfFuture;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let clone = self.inner.clone();
        let mut inner = core::mem::replace(&mut self.inner, clone);
        let allow_without_session = self.allow_without_session;
        Box::pin(async move {
            if is_safe(request.method()) {
                return Ok(inner.call(request).await.into_response());
            }
            let Some(session) = request.extensions().get::<SessionHandle<T>>().cloned() else {
                return Ok(MissingSessionLayer::of::<T>().into_response());
            };
            if allow_without_session && session.meta().is_none() {
                return Ok(inner.call(request).await.into_response());
            }
            match check(&session, request).await {
                Ok(request) => Ok(inner.call(request).await.into_response()),
                Err(refusal) => Ok(refusal),
            }
        })
    }
}

/// RFC 9110 §9.2.1.
fn is_safe(method: &Method) -> bool {
    [Method::GET, Method::HEAD, Method::OPTIONS, Method::TRACE].contains(method)
}

/// The request back if it carries the session's token, a 403 (or the body
/// reader's rejection) if not.
async fn check<T: Serialize + DeserializeOwned>(
    session: &SessionHandle<T>,
    request: Request,
) -> Result<Request, Response> {
    let forbidden = || StatusCode::FORBIDDEN.into_response();
    if let Some(token) = request.headers().get(CSRF_HEADER) {
        return match token.to_str() {
            Ok(token) if session.verify_csrf(token) => Ok(request),
            _ => Err(forbidden()),
        };
    }
    let form = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !form {
        return Err(forbidden());
    }
    let (parts, body) = request.into_parts();
    let body = String::from_request(Request::from_parts(parts.clone(), body), &())
        .await
        .map_err(IntoResponse::into_response)?;
    if form_field(&body, CSRF_FIELD).is_some_and(|token| session.verify_csrf(token)) {
        Ok(Request::from_parts(parts, Body::from(body)))
    } else {
        Err(forbidden())
    }
}

/// The first value of `name` in an urlencoded body, as sent. Tokens are
/// base64url, which form encoding leaves as it is, so no decoding is needed
/// to find a valid one; anything else fails the comparison.
fn form_field<'a>(body: &'a str, name: &str) -> Option<&'a str> {
    body.split('&')
        .filter_map(|pair| pair.split_once('='))
        .find_map(|(key, value)| (key == name).then_some(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_fields_are_found_as_sent() {
        assert_eq!(form_field("user=ada&csrf=abc-_9", "csrf"), Some("abc-_9"));
        assert_eq!(form_field("csrf=&user=ada", "csrf"), Some(""));
        assert_eq!(form_field("xcsrf=1&csrf=2&csrf=3", "csrf"), Some("2"));
        assert_eq!(form_field("user=ada", "csrf"), None);
        assert_eq!(form_field("csrf", "csrf"), None);
        assert_eq!(form_field("", "csrf"), None);
    }

    #[test]
    fn safe_methods() {
        for m in [Method::GET, Method::HEAD, Method::OPTIONS, Method::TRACE] {
            assert!(is_safe(&m));
        }
        for m in [Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
            assert!(!is_safe(&m));
        }
        let custom = Method::from_bytes(b"PURGE").unwrap();
        assert!(!is_safe(&custom));
    }

    #[test]
    fn the_setup_error_says_how_to_fix_it() {
        let e = MissingSessionLayer::of::<u32>();
        let text = e.to_string();
        assert!(text.contains("SessionLayer<u32>"), "{text}");
        assert!(
            text.contains(".layer(SessionLayer::<u32>::new(cookies))"),
            "{text}"
        );
        let response = e.into_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
