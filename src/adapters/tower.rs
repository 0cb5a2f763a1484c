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

use ::http::header::COOKIE;
use ::http::{HeaderValue, Request, Response, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tower_service::Service;

use crate::session::handle::Session;
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
        let session = core::any::type_name::<T>();
        f.debug_struct("SessionLayer")
            .field("session", &session)
            .field("sessions", &self.sessions)
            .finish()
    }
}

/// `Layer` for one of this crate's layers: it wraps the inner service in
/// [`Wrapped`] with a copy of its settings.
macro_rules! wrapping_layer {
    ($layer:ident) => {
        impl<S, T> tower_layer::Layer<S> for $layer<T> {
            type Service = $crate::adapters::tower::Wrapped<S, Self>;

            fn layer(&self, inner: S) -> Self::Service {
                $crate::adapters::tower::Wrapped::new(inner, self.clone())
            }
        }
    };
}
#[cfg(feature = "axum")]
pub(crate) use wrapping_layer;

wrapping_layer!(SessionLayer);

/// The service one of this crate's tower layers wraps around an inner
/// service: the inner service and the layer's settings.
pub struct Wrapped<S, L> {
    inner: S,
    pub(crate) layer: L,
}

impl<S, L> Wrapped<S, L> {
    pub(crate) const fn new(inner: S, layer: L) -> Self {
        Self { inner, layer }
    }

    pub(crate) fn poll_inner<R>(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>>
    where
        S: Service<R>,
    {
        self.inner.poll_ready(cx)
    }

    /// The clone that was polled ready, to serve this request; a fresh
    /// clone stays behind for the next one (tower's usual idiom).
    pub(crate) fn take_ready(&mut self) -> S
    where
        S: Clone,
    {
        let clone = self.inner.clone();
        core::mem::replace(&mut self.inner, clone)
    }
}

impl<S: Clone, L: Clone> Clone for Wrapped<S, L> {
    fn clone(&self) -> Self {
        Self::new(self.inner.clone(), self.layer.clone())
    }
}

impl<S, L: fmt::Debug> fmt::Debug for Wrapped<S, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wrapped")
            .field("layer", &self.layer)
            .finish_non_exhaustive()
    }
}

/// The service [`SessionLayer`] wraps around an inner service.
pub type SessionService<S, T> = Wrapped<S, SessionLayer<T>>;

/// A boxed response future: what [`SessionService`] returns with a
/// freshness store, and the tower-sessions layer always.
pub type ResponseFuture<R, E> = Pin<Box<dyn Future<Output = Result<R, E>> + Send>>;

pin_project_lite::pin_project! {
    /// The future of a [`SessionService`] call. Without a freshness store
    /// it is the inner service's future, then the session's cookies
    /// written into the response: nothing allocated for it. With one, the
    /// whole call is boxed (the store's round trips dominate it).
    pub struct SessionFuture<F, T, R, E> {
        #[pin]
        step: Step<F, T, R, E>,
    }
}

pin_project_lite::pin_project! {
    #[project = StepProj]
    enum Step<F, T, R, E> {
        Direct {
            #[pin]
            inner: F,
            session: Session<T>,
        },
        Store {
            call: ResponseFuture<R, E>,
        },
    }
}

impl<F, T, B, E> Future for SessionFuture<F, T, Response<B>, E>
where
    F: Future<Output = Result<Response<B>, E>>,
    T: Serialize + DeserializeOwned,
    B: Default,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().step.project() {
            StepProj::Direct { inner, session } => {
                let response = core::task::ready!(inner.poll(cx))?;
                Poll::Ready(Ok(written(session, response)))
            }
            StepProj::Store { call } => call.as_mut().poll(cx),
        }
    }
}

impl<F, T, R, E> fmt::Debug for SessionFuture<F, T, R, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionFuture").finish_non_exhaustive()
    }
}

/// `response` with the session's cookies, or a bare 500 if they cannot be
/// written (the response must not go out without the handler's change).
fn written<T, B>(session: &Session<T>, mut response: Response<B>) -> Response<B>
where
    T: Serialize + DeserializeOwned,
    B: Default,
{
    if crate::http::write(session, response.headers_mut()).is_err() {
        return internal_error();
    }
    response
}

/// A bare `500 Internal Server Error`.
fn internal_error<B: Default>() -> Response<B> {
    let mut response = Response::new(B::default());
    *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    response
}

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
    type Future = SessionFuture<S::Future, T, Self::Response, Self::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.poll_inner(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        #[cfg(feature = "tracing")]
        self.layer
            .sessions
            .hint_plain_http(|name| request.headers().get(name).map(HeaderValue::as_bytes));
        let mut inner = self.take_ready();
        if self.layer.sessions.store().is_some() {
            let sessions = self.layer.sessions.clone();
            let call = Box::pin(async move {
                let fields = request
                    .headers()
                    .get_all(COOKIE)
                    .iter()
                    .map(HeaderValue::as_bytes);
                let session = sessions.load_for_handler::<T>(fields).await;
                request.extensions_mut().insert(session.clone());
                let mut response = inner.call(request).await?;
                if crate::http::write_async(&session, response.headers_mut())
                    .await
                    .is_err()
                {
                    return Ok(internal_error());
                }
                Ok(response)
            });
            return SessionFuture {
                step: Step::Store { call },
            };
        }
        let fields = request
            .headers()
            .get_all(COOKIE)
            .iter()
            .map(HeaderValue::as_bytes);
        let session = self.layer.sessions.load_lazy::<T>(fields);
        request.extensions_mut().insert(session.clone());
        SessionFuture {
            step: Step::Direct {
                inner: inner.call(request),
                session,
            },
        }
    }
}
