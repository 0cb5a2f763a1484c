//! The actix-web 4 adapter: [`Sessions::middleware`] reads the session
//! from each request and writes it into the response, [`Session<T>`] is
//! the extractor, and [`Sessions::csrf_middleware`] refuses unsafe
//! requests without the session's CSRF token, with the same behaviour as
//! the axum adapter (one conformance suite runs against both).
//!
//! ```no_run
//! use actix_web::{App, HttpServer, web};
//! use sealed_session::{Keyring, Session, Sessions};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Clone, Default, Serialize, Deserialize)]
//! struct Visits { count: u64 }
//!
//! async fn index(session: Session<Visits>) -> String {
//!     let count = session.update(|v| { v.count += 1; v.count });
//!     format!("visit {count}")
//! }
//!
//! #[actix_web::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let sessions = Sessions::builder(std::env::var("SESSION_KEYS")?.parse::<Keyring>()?).build()?;
//!     HttpServer::new(move || {
//!         App::new()
//!             .wrap(sessions.csrf_middleware::<Visits>()) // inside: wrapped first
//!             .wrap(sessions.middleware::<Visits>())
//!             .route("/", web::get().to(index))
//!     })
//!     .bind(("127.0.0.1", 3000))?
//!     .run()
//!     .await?;
//!     Ok(())
//! }
//! ```

use core::fmt;
use core::marker::PhantomData;
use std::future::{Future, Ready, ready};
use std::pin::Pin;
use std::rc::Rc;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError, web};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::csrf::check::CsrfStep;
use crate::csrf::{CSRF_HEADER, MAX_FORM_BYTES};
use crate::session::handle::Session;
use crate::session::response::{ResponseHeader, log_invalid_header};
use crate::session::sessions::Sessions;

impl Sessions {
    /// The middleware that gives every request a [`Session<T>`] and writes
    /// its cookies (and `Cache-Control: no-store`, unless the handler set a
    /// `Cache-Control`) into the response. If they cannot be written (the
    /// session outgrew the budget and the handler did not check with
    /// [`Session::flush`]), the response is replaced by a bare 500. An
    /// `Err` from the inner service passes untouched.
    #[must_use]
    pub fn middleware<T>(&self) -> SessionMiddleware<T> {
        SessionMiddleware(Middleware::new(self, false))
    }

    /// The CSRF middleware, [`Sessions::csrf`]'s check for actix-web: wrap
    /// it before [`Sessions::middleware`] (actix runs the last `wrap`
    /// first). A form body is read up to [`MAX_FORM_BYTES`] (larger: 413)
    /// and handed on unchanged.
    #[must_use]
    pub fn csrf_middleware<T>(&self) -> CsrfMiddleware<T> {
        CsrfMiddleware(Middleware::new(self, false))
    }
}

struct Middleware<T> {
    sessions: Sessions,
    allow_without_session: bool,
    session: PhantomData<fn() -> T>,
}

impl<T> Middleware<T> {
    fn new(sessions: &Sessions, allow_without_session: bool) -> Self {
        let sessions = sessions.clone();
        Self {
            sessions,
            allow_without_session,
            session: PhantomData,
        }
    }
}

impl<T> Clone for Middleware<T> {
    fn clone(&self) -> Self {
        Self::new(&self.sessions, self.allow_without_session)
    }
}

/// Made by [`Sessions::middleware`].
#[derive(Clone)]
pub struct SessionMiddleware<T>(Middleware<T>);

/// Made by [`Sessions::csrf_middleware`].
#[derive(Clone)]
pub struct CsrfMiddleware<T>(Middleware<T>);

impl<T> CsrfMiddleware<T> {
    /// As [`RequireCsrf::allow_without_session`](crate::axum::RequireCsrf::allow_without_session),
    /// with the same warning: it leaves sign-in open to login CSRF.
    #[must_use]
    pub fn allow_without_session(mut self) -> Self {
        self.0.allow_without_session = true;
        self
    }
}

/// The service either middleware wraps around the app.
pub struct Wrapped<S, T> {
    service: Rc<S>,
    config: Middleware<T>,
    csrf: bool,
}

macro_rules! transform {
    ($name:ident, $csrf:expr) => {
        impl<S, B, T> Transform<S, ServiceRequest> for $name<T>
        where
            S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>
                + 'static,
            B: MessageBody + 'static,
            T: Serialize + DeserializeOwned + 'static,
        {
            type Response = ServiceResponse<EitherBody<B>>;
            type Error = actix_web::Error;
            type Transform = Wrapped<S, T>;
            type InitError = ();
            type Future = Ready<Result<Self::Transform, ()>>;

            fn new_transform(&self, service: S) -> Self::Future {
                let config = self.0.clone();
                ready(Ok(Wrapped {
                    service: Rc::new(service),
                    config,
                    csrf: $csrf,
                }))
            }
        }

        impl<T> fmt::Debug for $name<T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("session", &core::any::type_name::<T>())
                    .field("allow_without_session", &self.0.allow_without_session)
                    .finish_non_exhaustive()
            }
        }
    };
}
transform!(SessionMiddleware, false);
transform!(CsrfMiddleware, true);

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
        let fields = req
            .headers()
            .get_all(header::COOKIE)
            .map(HeaderValue::as_bytes);
        let session = self.config.sessions.load_request::<T>(fields);
        req.extensions_mut().insert(session.clone());
        Box::pin(async move {
            let mut res = service.call(req).await?;
            let headers = res.headers_mut();
            let written = session
                .response_headers(headers.contains_key(header::CACHE_CONTROL))
                .ok()
                .and_then(|out| {
                    let values = out
                        .into_iter()
                        .map(|(h, v)| Some((h, HeaderValue::try_from(v).ok()?)));
                    values.collect::<Option<Vec<_>>>().or_else(|| {
                        log_invalid_header();
                        None
                    })
                });
            let Some(values) = written else {
                return Ok(bare(res, StatusCode::INTERNAL_SERVER_ERROR));
            };
            for (h, value) in values {
                match h {
                    ResponseHeader::SetCookie => headers.append(header::SET_COOKIE, value),
                    ResponseHeader::CacheControl => {
                        drop(headers.insert(header::CACHE_CONTROL, value))
                    }
                }
            }
            Ok(res.map_into_left_body())
        })
    }
}

async fn csrf<S, B, T>(
    service: Rc<S>,
    req: ServiceRequest,
    allow: bool,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
    T: 'static,
{
    let Some(session) = req.extensions().get::<Session<T>>().cloned() else {
        return Err(MissingMiddleware(core::any::type_name::<T>()).into());
    };
    let header = |name| req.headers().get(name).map(HeaderValue::as_bytes);
    let method: &Method = req.method();
    let step = session.csrf_step(
        method.as_str(),
        header(CSRF_HEADER),
        header(header::CONTENT_TYPE.as_str()),
        allow,
    );
    let req = match step {
        CsrfStep::Allow => req,
        CsrfStep::Refuse => {
            return Ok(req
                .into_response(HttpResponse::new(StatusCode::FORBIDDEN))
                .map_into_right_body());
        }
        CsrfStep::ReadForm => {
            let (http, mut payload) = req.into_parts();
            let body = web::Payload::from_request(&http, &mut payload).await?;
            let Ok(bytes) = body.to_bytes_limited(MAX_FORM_BYTES).await else {
                let res =
                    ServiceResponse::new(http, HttpResponse::new(StatusCode::PAYLOAD_TOO_LARGE));
                return Ok(res.map_into_right_body());
            };
            let bytes = bytes?;
            if !session.csrf_form_verifies(&bytes) {
                let res = ServiceResponse::new(http, HttpResponse::new(StatusCode::FORBIDDEN));
                return Ok(res.map_into_right_body());
            }
            ServiceRequest::from_parts(http, Payload::from(bytes))
        }
    };
    Ok(service.call(req).await?.map_into_left_body())
}

/// The response replaced by an empty one with `status`.
fn bare<B, X>(res: ServiceResponse<X>, status: StatusCode) -> ServiceResponse<EitherBody<B>> {
    res.into_response(HttpResponse::new(status))
        .map_into_right_body()
}

impl<T: 'static> FromRequest for Session<T> {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, actix_web::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let found = req.extensions().get::<Self>().cloned();
        ready(found.ok_or_else(|| MissingMiddleware(core::any::type_name::<T>()).into()))
    }
}

/// A [`Session<T>`] (or the CSRF middleware) ran where no
/// [`Sessions::middleware`] with the same `T` did: a 500 whose message
/// says how to fix the app.
#[derive(Debug)]
struct MissingMiddleware(&'static str);

impl fmt::Display for MissingMiddleware {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.0;
        write!(
            f,
            "sealed_session::Session<{t}> needs the session middleware wrapped around the app \
             (same session type): `.wrap(sessions.middleware::<{t}>())`, the last wrap"
        )
    }
}

impl ResponseError for MissingMiddleware {
    fn status_code(&self) -> StatusCode {
        StatusCode::INTERNAL_SERVER_ERROR
    }
}
