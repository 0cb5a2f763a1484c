//! [axum](https://docs.rs/axum): [`Session<T>`] is the extractor, and
//! [`Sessions::csrf`] gives the CSRF layer, on top of
//! [`Sessions::layer`](crate::Sessions::layer).
//!
//! ```no_run
//! use axum::{Router, routing::{get, post}};
//! use sealed_session::{Keyring, Session, Sessions};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Clone, Default, Serialize, Deserialize)]
//! struct Visits { count: u64 }
//!
//! async fn count(session: Session<Visits>) -> String {
//!     let n = session.update(|v| { v.count += 1; v.count });
//!     format!("visit {n}; csrf token {}", session.csrf_token().unwrap_or_default())
//! }
//!
//! // POSTs reach this only with the session's CSRF token.
//! async fn reset(session: Session<Visits>) -> &'static str {
//!     session.clear();
//!     "bye"
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let sessions = Sessions::builder(std::env::var("SESSION_KEYS")?.parse::<Keyring>()?).build()?;
//! let app = Router::new()
//!     .route("/", get(count))
//!     .route("/reset", post(reset))
//!     .layer(sessions.csrf::<Visits>())
//!     .layer(sessions.layer::<Visits>());
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! axum::serve(listener, app).await?;
//! # Ok(()) }
//! ```

use core::convert::Infallible;
use core::fmt;
use core::future::Future;
use core::marker::PhantomData;
use core::pin::Pin;
use core::task::{Context, Poll};

use ::http::request::Parts;
use ::http::{HeaderValue, StatusCode, header};
use axum_core::body::Body;
use axum_core::extract::{FromRequest, FromRequestParts, OptionalFromRequestParts, Request};
use axum_core::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tower_layer::Layer;
use tower_service::Service;

use crate::csrf::CSRF_HEADER;
use crate::csrf::check::CsrfStep;
use crate::session::handle::Session;
use crate::session::sessions::Sessions;

impl<S: Send + Sync, T: Send + 'static> FromRequestParts<S> for Session<T> {
    type Rejection = MissingSessionLayer;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Self>()
            .cloned()
            .ok_or_else(MissingSessionLayer::of::<T>)
    }
}

/// `Option<Session<T>>`: `None` when the request has no session (no valid
/// cookie, and none started yet), for routes that only read one.
impl<S: Send + Sync, T: Send + 'static> OptionalFromRequestParts<S> for Session<T> {
    type Rejection = MissingSessionLayer;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        let session = <Self as FromRequestParts<S>>::from_request_parts(parts, state).await?;
        Ok(session.meta().is_some().then_some(session))
    }
}

/// A setup error: a [`Session<T>`] (or the CSRF layer) ran on a request
/// that did not pass through [`Sessions::layer`] with the same `T`. As a
/// response it is a `500 Internal Server Error` carrying the fix in its
/// body (the session type's name, nothing from the request).
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
            "sealed_session::Session<{t}> needs the session layer on the router (same T): \
             add `.layer(sessions.layer::<{t}>())` after the routes and layers that use it"
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

impl Sessions {
    /// The CSRF layer: refuses, with a bare `403 Forbidden` before the
    /// handler runs, requests with unsafe methods (anything but GET, HEAD
    /// and OPTIONS) that do not carry the session's CSRF token in the
    /// [`CSRF_HEADER`] header or the [`CSRF_FIELD`](crate::CSRF_FIELD)
    /// field of an urlencoded form (read within axum's body limit, then
    /// handed on unchanged). Put it inside [`Sessions::layer`] (add it
    /// first). The token is [`Session::csrf_token`]; the comparison is
    /// constant-time. A request with no session is refused too, unless
    /// [`RequireCsrf::allow_without_session`] is set. SameSite is defence in
    /// depth, not CSRF protection (OWASP Session Management Cheat Sheet).
    #[must_use]
    pub const fn csrf<T>(&self) -> RequireCsrf<T> {
        RequireCsrf::new()
    }
}

/// The CSRF layer made by [`Sessions::csrf`].
pub struct RequireCsrf<T> {
    allow_without_session: bool,
    session: PhantomData<fn() -> T>,
}

impl<T> RequireCsrf<T> {
    /// The same layer as [`Sessions::csrf`], for code that has no
    /// [`Sessions`] at hand (the check reads the session the layer put in
    /// the request).
    #[must_use]
    pub const fn new() -> Self {
        Self {
            allow_without_session: false,
            session: PhantomData,
        }
    }

    /// Lets unsafe requests that carry no session through unchecked; a
    /// request with a session must still carry its token.
    ///
    /// # Warning
    ///
    /// Such a request can come from another site: a cross-site `POST`
    /// under `SameSite=Lax` arrives without the cookie, so it reads as "no
    /// session", and whatever the route does then (signing the visitor in
    /// to the attacker's account: login CSRF) is open to any site. Serve
    /// forms from a page that calls [`Session::csrf_token`] instead: the
    /// first visit then gets a session, and its form a token.
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
            layer: self.clone(),
        }
    }
}

/// The service [`RequireCsrf`] wraps around an inner service.
pub struct RequireCsrfService<S, T> {
    inner: S,
    layer: RequireCsrf<T>,
}

impl<S: Clone, T> Clone for RequireCsrfService<S, T> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            layer: self.layer.clone(),
        }
    }
}

impl<S, T> fmt::Debug for RequireCsrfService<S, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequireCsrfService")
            .field("layer", &self.layer)
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
        let allow = self.layer.allow_without_session;
        Box::pin(async move {
            let Some(session) = request.extensions().get::<Session<T>>().cloned() else {
                return Ok(MissingSessionLayer::of::<T>().into_response());
            };
            let headers = request.headers();
            let step = session.csrf_step(
                request.method().as_str(),
                headers.get(CSRF_HEADER).map(HeaderValue::as_bytes),
                headers.get(header::CONTENT_TYPE).map(HeaderValue::as_bytes),
                allow,
            );
            let request = match step {
                CsrfStep::Allow => request,
                CsrfStep::Refuse => return Ok(StatusCode::FORBIDDEN.into_response()),
                CsrfStep::ReadForm => {
                    let (parts, body) = request.into_parts();
                    let request = Request::from_parts(parts.clone(), body);
                    let body = match String::from_request(request, &()).await {
                        Ok(body) => body,
                        Err(rejection) => return Ok(rejection.into_response()),
                    };
                    if !session.csrf_form_verifies(body.as_bytes()) {
                        return Ok(StatusCode::FORBIDDEN.into_response());
                    }
                    Request::from_parts(parts, Body::from(body))
                }
            };
            Ok(inner.call(request).await.into_response())
        })
    }
}
