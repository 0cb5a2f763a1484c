//! A [`tower`](https://docs.rs/tower) layer: load the session before the
//! inner service, write its cookies after it.
//!
//! [`Sessions::layer`] gives a [`SessionLayer<T>`]. For each request it
//! puts a [`Session<T>`](crate::Session) into the request's extensions (where the axum
//! extractor finds it), calls the inner service, then writes what
//! [`crate::http::write`] asks for: nothing when the session did not
//! change and no renewal or re-seal is due.
//!
//! - A missing, malformed, forged, expired, revoked or replayed cookie is
//!   "no session": the handler sees an empty session, the response removes
//!   the refused cookies (unless a new session replaces them), and the
//!   client is never told why. With the `tracing` feature, each refusal is
//!   logged with its kind and key id (never the value or the session id).
//! - A response that sets or removes a cookie gets `Cache-Control:
//!   no-store` unless it already has a `Cache-Control`.
//! - If the cookies cannot be written ([`ErrorKind::TooLarge`]: the
//!   session outgrew the cookie budget and the handler did not check with
//!   [`Session::flush`](crate::Session::flush)), the response is replaced by a bare `500
//!   Internal Server Error` (and, with `tracing`, an error event) rather
//!   than sent without the change the handler made.
//!
//! [`ErrorKind::TooLarge`]: crate::ErrorKind::TooLarge

use core::fmt;
use core::future::Future;
use core::marker::PhantomData;
use core::pin::Pin;
use core::task::{Context, Poll};

use ::http::{Request, Response, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tower_layer::Layer;
use tower_service::Service;

use crate::session::sessions::Sessions;

impl Sessions {
    /// The tower layer that gives each request a [`Session<T>`](crate::Session) and writes
    /// its cookies into the response. `T` is the app's session type;
    /// extractors look the session up by it, so they must name the same
    /// `T`.
    ///
    /// ```
    /// use sealed_session::{KeyId, Keyring, Sessions};
    ///
    /// #[derive(Default, serde::Serialize, serde::Deserialize)]
    /// struct MySession { user: Option<String> }
    ///
    /// let sessions = Sessions::builder(Keyring::generate(KeyId(1))?).build()?;
    /// let layer = sessions.layer::<MySession>();
    /// // router.layer(layer), ServiceBuilder::new().layer(layer), ...
    /// # let _ = layer;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn layer<T>(&self) -> SessionLayer<T> {
        SessionLayer {
            sessions: self.clone(),
            session: PhantomData,
        }
    }
}

/// Loads a [`Session<T>`](crate::Session) into each request's extensions and writes the
/// session's cookies into each response; made by [`Sessions::layer`].
pub struct SessionLayer<T> {
    sessions: Sessions,
    session: PhantomData<fn() -> T>,
}

impl<T> Clone for SessionLayer<T> {
    fn clone(&self) -> Self {
        self.sessions.layer()
    }
}

impl<T> fmt::Debug for SessionLayer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionLayer")
            .field("session", &core::any::type_name::<T>())
            .field("sessions", &self.sessions)
            .finish()
    }
}

impl<S, T> Layer<S> for SessionLayer<T> {
    type Service = SessionService<S, T>;

    fn layer(&self, inner: S) -> Self::Service {
        SessionService {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service [`SessionLayer`] wraps around an inner service.
pub struct SessionService<S, T> {
    inner: S,
    layer: SessionLayer<T>,
}

impl<S: Clone, T> Clone for SessionService<S, T> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            layer: self.layer.clone(),
        }
    }
}

impl<S, T> fmt::Debug for SessionService<S, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionService")
            .field("layer", &self.layer)
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
        let session = crate::http::load::<T>(&self.layer.sessions, request.headers());
        request.extensions_mut().insert(session.clone());
        // The clone that was polled ready serves this request; a fresh
        // clone stays behind for the next one (tower's usual idiom).
        let clone = self.inner.clone();
        let mut inner = core::mem::replace(&mut self.inner, clone);
        Box::pin(async move {
            let mut response = inner.call(request).await?;
            if crate::http::write(&session, response.headers_mut()).is_err() {
                response = Response::new(ResBody::default());
                *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            }
            Ok(response)
        })
    }
}
