//! The service both actix-web middlewares wrap around the app: the
//! session's load and write, or the CSRF check.

use core::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, forward_ready};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpMessage, HttpResponse};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::Middleware;
use super::csrf::csrf;
use crate::session::response::{VARY_COOKIE, log_invalid_header};

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

impl<S, B, T> Service<ServiceRequest> for Wrapped<S, T>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
    T: Serialize + DeserializeOwned + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Future = BoxedResponse<B>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let service = Rc::clone(&self.service);
        if self.csrf {
            let allow = self.config.allow_without_session;
            return Box::pin(csrf::<S, B, T>(service, req, allow));
        }
        let sessions = self.config.sessions.clone();
        Box::pin(async move {
            #[cfg(feature = "tracing")]
            sessions.hint_plain_http(|name| req.headers().get(name).map(HeaderValue::as_bytes));
            let fields = req
                .headers()
                .get_all(header::COOKIE)
                .map(HeaderValue::as_bytes);
            let session = sessions.load_for_handler::<T>(fields).await;
            req.extensions_mut().insert(session.clone());
            let mut res = service.call(req).await?;
            let has_cache_control = res.headers().contains_key(header::CACHE_CONTROL);
            let out = session.response_headers_async(has_cache_control).await;
            let headers = res.headers_mut();
            let written = out.ok().and_then(|out| {
                let values = out.set_cookies.into_iter().map(HeaderValue::try_from);
                let values = values.collect::<Result<Vec<_>, _>>().ok();
                if values.is_none() {
                    log_invalid_header();
                }
                Some((values?, out.cache_control, out.vary_cookie))
            });
            let Some((set_cookies, cache_control, vary_cookie)) = written else {
                return Ok(bare(res, StatusCode::INTERNAL_SERVER_ERROR));
            };
            for value in set_cookies {
                headers.append(header::SET_COOKIE, value);
            }
            if let Some(policy) = cache_control {
                drop(headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(policy)));
            }
            if vary_cookie {
                headers.append(header::VARY, HeaderValue::from_static(VARY_COOKIE));
            }
            Ok(res.map_into_left_body())
        })
    }
}

/// The response replaced by an empty one with `status`.
pub(crate) fn bare<B, X>(
    res: ServiceResponse<X>,
    status: StatusCode,
) -> ServiceResponse<EitherBody<B>> {
    res.into_response(HttpResponse::new(status))
        .map_into_right_body()
}
