//! The service both actix-web middlewares wrap around the app: the
//! session's load and write, or the CSRF check.

use core::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, forward_ready};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpMessage, HttpResponse};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::Middleware;
use super::csrf::csrf;
use crate::session::handle::Session;
use crate::session::response::{ResponseHeaders, VARY_COOKIE, log_invalid_header};

/// The service either middleware wraps around the app.
pub struct Wrapped<S, T> {
    pub(super) service: Rc<S>,
    pub(super) config: Middleware<T>,
    pub(super) csrf: bool,
}

impl<S, T> fmt::Debug for Wrapped<S, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wrapped")
            .field("csrf", &self.csrf)
            .finish_non_exhaustive()
    }
}

type BoxedResponse<B> =
    Pin<Box<dyn Future<Output = Result<ServiceResponse<EitherBody<B>>, actix_web::Error>>>>;

pin_project_lite::pin_project! {
    /// The future of a [`Wrapped`] call. For the session middleware
    /// without a freshness store, it is the app's future and then the
    /// session's cookies written: nothing allocated for it. With a store,
    /// and for the CSRF middleware (which may read the body), the whole
    /// call is boxed.
    pub struct WrappedFuture<F, T, B> {
        #[pin]
        step: Step<F, T, B>,
    }
}

pin_project_lite::pin_project! {
    #[project = StepProj]
    enum Step<F, T, B> {
        Direct {
            #[pin]
            inner: F,
            session: Session<T>,
        },
        Boxed {
            call: BoxedResponse<B>,
        },
    }
}

impl<F, T, B> WrappedFuture<F, T, B> {
    fn boxed(call: BoxedResponse<B>) -> Self {
        Self {
            step: Step::Boxed { call },
        }
    }
}

impl<F, T, B> Future for WrappedFuture<F, T, B>
where
    F: Future<Output = Result<ServiceResponse<B>, actix_web::Error>>,
    T: Serialize + DeserializeOwned,
{
    type Output = Result<ServiceResponse<EitherBody<B>>, actix_web::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().step.project() {
            StepProj::Direct { inner, session } => {
                let res = core::task::ready!(inner.poll(cx))?;
                let has_cache_control = res.headers().contains_key(header::CACHE_CONTROL);
                let out = session.response_headers(has_cache_control);
                Poll::Ready(Ok(with_headers(res, out)))
            }
            StepProj::Boxed { call } => call.as_mut().poll(cx),
        }
    }
}

impl<F, T, B> fmt::Debug for WrappedFuture<F, T, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WrappedFuture").finish_non_exhaustive()
    }
}

impl<S, B, T> Service<ServiceRequest> for Wrapped<S, T>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
    T: Serialize + DeserializeOwned + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Future = WrappedFuture<S::Future, T, B>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        if self.csrf {
            let service = Rc::clone(&self.service);
            let allow = self.config.allow_without_session;
            return WrappedFuture::boxed(Box::pin(csrf::<S, B, T>(service, req, allow)));
        }
        let sessions = &self.config.sessions;
        #[cfg(feature = "tracing")]
        sessions.hint_plain_http(|name| req.headers().get(name).map(HeaderValue::as_bytes));
        if sessions.store().is_some() {
            let service = Rc::clone(&self.service);
            let sessions = sessions.clone();
            return WrappedFuture::boxed(Box::pin(async move {
                let fields = req
                    .headers()
                    .get_all(header::COOKIE)
                    .map(HeaderValue::as_bytes);
                let session = sessions.load_for_handler::<T>(fields).await;
                req.extensions_mut().insert(session.clone());
                let res = service.call(req).await?;
                let has_cache_control = res.headers().contains_key(header::CACHE_CONTROL);
                let out = session.response_headers_async(has_cache_control).await;
                Ok(with_headers(res, out))
            }));
        }
        let fields = req
            .headers()
            .get_all(header::COOKIE)
            .map(HeaderValue::as_bytes);
        let session = sessions.load_lazy::<T>(fields);
        req.extensions_mut().insert(session.clone());
        WrappedFuture {
            step: Step::Direct {
                inner: self.service.call(req),
                session,
            },
        }
    }
}

/// `res` with the headers the core computed, all or none; a bare 500 if
/// they cannot be written (the response must not go out without the
/// handler's change).
fn with_headers<B>(
    mut res: ServiceResponse<B>,
    out: crate::Result<ResponseHeaders>,
) -> ServiceResponse<EitherBody<B>> {
    let Ok(out) = out else {
        return bare(res, StatusCode::INTERNAL_SERVER_ERROR);
    };
    // The first value apart from the rest, as in the http adapter: one
    // cookie needs no list.
    let mut values = out.set_cookies.into_iter().map(HeaderValue::try_from);
    let first = values.next().transpose();
    let rest: Result<Vec<HeaderValue>, _> = values.collect();
    let (Ok(first), Ok(rest)) = (first, rest) else {
        log_invalid_header();
        return bare(res, StatusCode::INTERNAL_SERVER_ERROR);
    };
    let headers = res.headers_mut();
    for value in first.into_iter().chain(rest) {
        headers.append(header::SET_COOKIE, value);
    }
    if let Some(policy) = out.cache_control {
        drop(headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(policy)));
    }
    if out.vary_cookie {
        headers.append(header::VARY, HeaderValue::from_static(VARY_COOKIE));
    }
    res.map_into_left_body()
}

/// The response replaced by an empty one with `status`.
pub(crate) fn bare<B, X>(
    res: ServiceResponse<X>,
    status: StatusCode,
) -> ServiceResponse<EitherBody<B>> {
    res.into_response(HttpResponse::new(status))
        .map_into_right_body()
}
