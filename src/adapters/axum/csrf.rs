//! The axum CSRF layer: [`Sessions::csrf`](crate::Sessions::csrf), the shared check of
//! `crate::csrf::check` around axum's body.

use core::convert::Infallible;
use core::fmt;
use core::future::Future;
use core::marker::PhantomData;
use core::pin::Pin;
use core::task::{Context, Poll};

use ::http::{HeaderValue, StatusCode};
use axum_core::body::Body;
use axum_core::extract::{FromRequest, Request};
use axum_core::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tower_service::Service;

use super::MissingSessionLayer;
use crate::adapters::tower::Wrapped;
use crate::csrf::check::CsrfStep;
use crate::session::handle::Session;
use crate::session::sessions::Sessions;

impl Sessions {
    /// The CSRF layer: refuses, with a bare `403 Forbidden` before the
    /// handler runs, requests with unsafe methods (anything but GET, HEAD
    /// and OPTIONS) that do not carry the session's CSRF token in the
    /// [`CSRF_HEADER`](crate::CSRF_HEADER) header or the [`CSRF_FIELD`](crate::CSRF_FIELD)
    /// field of an urlencoded form (read within axum's body limit, then
    /// handed on unchanged). Put it inside [`Sessions::layer`](crate::Sessions::layer) (add it
    /// first). The token is [`Session::csrf_token`](crate::Session::csrf_token); the comparison is
    /// constant-time. A request with no session is refused too, unless
    /// [`RequireCsrf::allow_without_session`] is set. SameSite is defence in
    /// depth, not CSRF protection (OWASP Session Management Cheat Sheet).
    #[must_use]
    pub const fn csrf<T>(&self) -> RequireCsrf<T> {
        RequireCsrf::new()
    }
}

/// The CSRF layer made by [`Sessions::csrf`](crate::Sessions::csrf).
pub struct RequireCsrf<T> {
    allow_without_session: bool,
    session: PhantomData<fn() -> T>,
}

impl<T> RequireCsrf<T> {
    /// The same layer as [`Sessions::csrf`](crate::Sessions::csrf), for code that has no
    /// [`Sessions`](crate::Sessions) at hand (the check reads the session the layer put in
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
    /// forms from a page that calls [`Session::csrf_token`](crate::Session::csrf_token) instead: the
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

crate::adapters::tower::wrapping_layer!(RequireCsrf);

/// The service [`RequireCsrf`] wraps around an inner service.
pub type RequireCsrfService<S, T> = Wrapped<S, RequireCsrf<T>>;

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
        self.poll_inner(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let mut inner = self.take_ready();
        let allow = self.layer.allow_without_session;
        Box::pin(async move {
            let Some(session) = request.extensions().get::<Session<T>>().cloned() else {
                return Ok(MissingSessionLayer::of::<T>().into_response());
            };
            let headers = request.headers();
            let header = |name: &str| headers.get(name).map(HeaderValue::as_bytes);
            let step = session.csrf_step(request.method().as_str(), header, allow);
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
