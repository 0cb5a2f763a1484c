//! The actix-web 4 adapter: [`SessionMiddleware`] reads the session from
//! each request and writes it into the response; the [`Session`]
//! extractor hands it to handlers.
//!
//! All session logic lives in [`SessionHandle`] and [`SessionCookies`];
//! this module only moves header values between actix and them.
//!
//! ```no_run
//! use std::sync::Arc;
//!
//! use actix_web::{App, HttpServer, web};
//! use sealed_session::actix::{Session, SessionMiddleware};
//! use sealed_session::{CookiePolicy, Keyring, SessionCodec, SessionCookies};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Clone, Default, Serialize, Deserialize)]
//! struct Visits {
//!     count: u64,
//! }
//!
//! async fn index(session: Session<Visits>) -> String {
//!     let count = session.update(|v| {
//!         v.count += 1;
//!         v.count
//!     });
//!     format!("visit {count}")
//! }
//!
//! #[actix_web::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let keyring: Keyring = std::env::var("SESSION_KEYS")?.parse()?;
//!     let cookies = Arc::new(SessionCookies::new(
//!         SessionCodec::builder(keyring),
//!         CookiePolicy::default(),
//!     )?);
//!     HttpServer::new(move || {
//!         App::new()
//!             .wrap(SessionMiddleware::<Visits>::new(Arc::clone(&cookies)))
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
use std::borrow::Cow;
use std::future::{Future, Ready, ready};
use std::ops::Deref;
use std::pin::Pin;
use std::sync::Arc;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::cookie::set_cookie::SetCookie;
use crate::session::handle::SessionHandle;
use crate::session::sessions::SessionCookies;

/// Middleware that gives every request a [`SessionHandle<T>`] and writes
/// the session's cookies into the response.
///
/// For each request it:
///
/// 1. reads every `Cookie` header value with [`SessionHandle::load`]. A
///    missing, tampered, expired, revoked or replayed cookie reads as "no
///    session": the handler runs without one and the response removes the
///    refused cookie, with no error status and no reason in the response
///    (with the `tracing` feature, a `debug` event records the
///    [`ErrorKind`](crate::ErrorKind), never the value or session id);
/// 2. stores the handle in the request's extensions, where [`Session<T>`]
///    finds it;
/// 3. after the inner service answers, appends the `Set-Cookie` headers of
///    [`SessionHandle::finish`] (at most one per cookie name: nothing when
///    the session is unchanged and no renewal is due), and
///    `Cache-Control: no-store` when it appended any and the response has
///    no `Cache-Control` of its own.
///
/// If [`SessionHandle::finish`] fails (the session outgrew the cookie
/// budget and the handler did not check with [`SessionHandle::flush`], or
/// the operating system's random generator failed), the handler's response
/// is replaced with a bare `500 Internal Server Error` rather than sent
/// without the cookie the handler meant to set; with the `tracing` feature
/// an `error` event records the error kind.
///
/// An error returned by the inner service itself (not a handler's error
/// response, which actix has already turned into a response, but a
/// middleware's `Err`) is passed on untouched, without session cookies.
///
/// `T` is the app's session type; the [`Session<T>`] extractor must name
/// the same `T`. The middleware holds the [`SessionCookies`] in an `Arc`
/// and is cheap to clone, so build it inside the `HttpServer::new`
/// closure.
///
/// ```no_run
/// use std::sync::Arc;
///
/// use actix_web::App;
/// use sealed_session::actix::SessionMiddleware;
/// use sealed_session::{CookiePolicy, Keyring, SessionCodec, SessionCookies};
///
/// let keyring: Keyring = std::env::var("SESSION_KEYS")?.parse()?;
/// let cookies = Arc::new(SessionCookies::new(
///     SessionCodec::builder(keyring),
///     CookiePolicy::default(),
/// )?);
/// let app = App::new().wrap(SessionMiddleware::<String>::new(cookies));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct SessionMiddleware<T> {
    cookies: Arc<SessionCookies>,
    // `fn() -> T`: the middleware owns no `T`, so it is `Send + Sync`
    // whatever `T` is.
    session: PhantomData<fn() -> T>,
}

impl<T> SessionMiddleware<T> {
    /// A middleware reading and writing sessions of type `T` with
    /// `cookies` (its codec, keys, lifetimes and cookie policy).
    ///
    /// ```no_run
    /// # use std::sync::Arc;
    /// # use sealed_session::{CookiePolicy, KeyId, Keyring, SessionCodec, SessionCookies};
    /// use sealed_session::actix::SessionMiddleware;
    /// # let cookies = Arc::new(SessionCookies::new(
    /// #     SessionCodec::builder(Keyring::generate(KeyId(1))?),
    /// #     CookiePolicy::default(),
    /// # )?);
    /// let middleware = SessionMiddleware::<u64>::new(Arc::clone(&cookies));
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    #[must_use]
    pub fn new(cookies: Arc<SessionCookies>) -> Self {
        Self {
            cookies,
            session: PhantomData,
        }
    }
}

impl<T> Clone for SessionMiddleware<T> {
    fn clone(&self) -> Self {
        Self {
            cookies: Arc::clone(&self.cookies),
            session: PhantomData,
        }
    }
}

impl<T> fmt::Debug for SessionMiddleware<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionMiddleware")
            .field("cookie", &self.cookies.policy().name())
            .finish_non_exhaustive()
    }
}

impl<S, B, T> Transform<S, ServiceRequest> for SessionMiddleware<T>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
    S::Future: 'static,
    B: MessageBody,
    T: Serialize + DeserializeOwned + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Transform = SessionService<S, T>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(SessionService {
            service,
            cookies: Arc::clone(&self.cookies),
            session: PhantomData,
        }))
    }
}

/// The service [`SessionMiddleware`] wraps around the app. `App::wrap`
/// builds it; applications name it only when they compose services by
/// hand.
///
/// ```no_run
/// use std::sync::Arc;
///
/// use actix_web::HttpResponse;
/// use actix_web::dev::{ServiceRequest, Transform, fn_service};
/// use sealed_session::actix::SessionMiddleware;
/// # use sealed_session::{CookiePolicy, KeyId, Keyring, SessionCodec, SessionCookies};
///
/// # async fn wrap() -> Result<(), Box<dyn std::error::Error>> {
/// # let cookies = Arc::new(SessionCookies::new(
/// #     SessionCodec::builder(Keyring::generate(KeyId(1))?),
/// #     CookiePolicy::default(),
/// # )?);
/// let inner = fn_service(|req: ServiceRequest| async {
///     Ok::<_, actix_web::Error>(req.into_response(HttpResponse::Ok().finish()))
/// });
/// // What `App::wrap` does.
/// let service = SessionMiddleware::<u64>::new(cookies)
///     .new_transform(inner)
///     .await
///     .map_err(|()| "SessionMiddleware always builds")?;
/// # Ok(()) }
/// ```
pub struct SessionService<S, T> {
    service: S,
    cookies: Arc<SessionCookies>,
    session: PhantomData<fn() -> T>,
}

impl<S, T> fmt::Debug for SessionService<S, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionService")
            .field("cookie", &self.cookies.policy().name())
            .finish_non_exhaustive()
    }
}

type BoxedResponse<B> =
    Pin<Box<dyn Future<Output = Result<ServiceResponse<EitherBody<B>>, actix_web::Error>>>>;

impl<S, B, T> Service<ServiceRequest> for SessionService<S, T>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
    S::Future: 'static,
    B: MessageBody,
    T: Serialize + DeserializeOwned + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Future = BoxedResponse<B>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        // Lossy: a non-UTF-8 byte in another cookie must not hide ours.
        let values: Vec<Cow<'_, str>> = req
            .headers()
            .get_all(header::COOKIE)
            .map(|v| String::from_utf8_lossy(v.as_bytes()))
            .collect();
        let handle = SessionHandle::<T>::load(&self.cookies, values.iter().map(|v| &**v));
        drop(values);
        if let Some(kind) = handle.refusal() {
            trace_refusal(kind, handle.refused_key_id());
        }
        req.extensions_mut().insert(handle.clone());
        let response = self.service.call(req);
        Box::pin(async move {
            let mut res = response.await?;
            match handle.finish() {
                Ok(set) => match append_cookies(res.headers_mut(), &set) {
                    Ok(()) => Ok(res.map_into_left_body()),
                    Err(()) => Ok(bare_500(res)),
                },
                Err(e) => {
                    trace_write_failure(&e);
                    Ok(bare_500(res))
                }
            }
        })
    }
}

/// Appends one `Set-Cookie` per entry of `set`, and `Cache-Control:
/// no-store` if there is any and the response chose no caching policy.
fn append_cookies(headers: &mut HeaderMap, set: &[SetCookie]) -> Result<(), ()> {
    if set.is_empty() {
        return Ok(());
    }
    let values = set
        .iter()
        .map(|c| HeaderValue::from_str(c.header_value()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| {
            // Unreachable in practice: the crate renders the RFC 6265bis
            // server grammar, which is a subset of a header value.
            #[cfg(feature = "tracing")]
            tracing::error!("session not written: a Set-Cookie value is not a valid header value");
        })?;
    for value in values {
        headers.append(header::SET_COOKIE, value);
    }
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    Ok(())
}

/// The handler's response replaced with an empty 500: sending it without
/// the session change the handler made would silently lose it.
fn bare_500<B>(res: ServiceResponse<B>) -> ServiceResponse<EitherBody<B>> {
    res.into_response(HttpResponse::InternalServerError().finish())
        .map_into_right_body()
}

/// The kind and the key id the refused value's header names (a number the
/// client chose; never the value or a session id).
#[cfg(feature = "tracing")]
fn trace_refusal(kind: crate::ErrorKind, key_id: Option<crate::KeyId>) {
    let key_id = key_id.map(|id| id.0);
    tracing::debug!(
        kind = kind.as_str(),
        key_id,
        "session cookie refused; no session"
    );
}

#[cfg(not(feature = "tracing"))]
const fn trace_refusal(_: crate::ErrorKind, _: Option<crate::KeyId>) {}

#[cfg(feature = "tracing")]
fn trace_write_failure(e: &crate::Error) {
    // The crate's messages never carry cookie values or session ids.
    tracing::error!(kind = e.kind().as_str(), error = %e, "session not written; answering 500");
}

#[cfg(not(feature = "tracing"))]
const fn trace_write_failure(_: &crate::Error) {}

/// The extractor for a handler's session: the request's
/// [`SessionHandle<T>`], put there by [`SessionMiddleware<T>`].
///
/// It dereferences to the handle, so a handler reads with
/// [`get`](SessionHandle::get) or [`with`](SessionHandle::with), writes
/// with [`insert`](SessionHandle::insert) or
/// [`update`](SessionHandle::update), ends the session with
/// [`clear`](SessionHandle::clear) or [`remove`](SessionHandle::remove),
/// renews its id at login with [`regenerate`](SessionHandle::regenerate),
/// and protects forms with [`csrf_token`](SessionHandle::csrf_token) and
/// [`verify_csrf`](SessionHandle::verify_csrf). The middleware writes the
/// result into the response; call [`flush`](SessionHandle::flush) first to
/// answer a session that grew too large yourself.
///
/// # Errors
/// Extraction fails with a `500 Internal Server Error` whose message
/// explains the fix when no [`SessionMiddleware<T>`] with the same `T`
/// wraps the route.
///
/// ```no_run
/// use actix_web::{HttpResponse, web};
/// use sealed_session::actix::Session;
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Clone, Default, Serialize, Deserialize)]
/// struct User {
///     name: Option<String>,
/// }
///
/// async fn login(session: Session<User>, form: web::Form<Login>) -> actix_web::Result<HttpResponse> {
///     if !session.verify_csrf(&form.csrf) {
///         return Ok(HttpResponse::Forbidden().finish());
///     }
///     // A new session id at every privilege change (session fixation).
///     session
///         .regenerate(Some(&form.user))
///         .map_err(actix_web::error::ErrorInternalServerError)?;
///     session.update(|u| u.name = Some(form.user.clone()));
///     Ok(HttpResponse::SeeOther().insert_header(("Location", "/")).finish())
/// }
///
/// async fn logout(session: Session<User>) -> HttpResponse {
///     session.clear();
///     HttpResponse::SeeOther().insert_header(("Location", "/")).finish()
/// }
///
/// #[derive(Deserialize)]
/// struct Login {
///     user: String,
///     csrf: String,
/// }
/// ```
pub struct Session<T>(SessionHandle<T>);

impl<T> Session<T> {
    /// The handle, for code that takes a [`SessionHandle`] (cheap: clones
    /// share the request's session).
    ///
    /// ```no_run
    /// # use sealed_session::actix::Session;
    /// fn visits(session: Session<u64>) -> Option<u64> {
    ///     session.into_inner().get()
    /// }
    /// ```
    #[must_use]
    pub fn into_inner(self) -> SessionHandle<T> {
        self.0
    }
}

impl<T> Clone for Session<T> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<T> fmt::Debug for Session<T> {
    /// As the handle's: whether a session is present, never its data or id.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Session").field(&self.0).finish()
    }
}

impl<T> Deref for Session<T> {
    type Target = SessionHandle<T>;

    fn deref(&self) -> &SessionHandle<T> {
        &self.0
    }
}

impl<T: 'static> FromRequest for Session<T> {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, actix_web::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let found = req.extensions().get::<SessionHandle<T>>().cloned();
        ready(found.map(Session).ok_or_else(|| {
            let e = MissingMiddleware(core::any::type_name::<T>());
            #[cfg(feature = "tracing")]
            tracing::error!("{e}");
            e.into()
        }))
    }
}

/// A [`Session<T>`] was extracted where no [`SessionMiddleware<T>`] ran.
/// Carries `T`'s type name for the message.
#[derive(Debug)]
struct MissingMiddleware(&'static str);

impl fmt::Display for MissingMiddleware {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.0;
        write!(
            f,
            "sealed_session::actix::Session<{t}> needs sealed_session::actix::SessionMiddleware<{t}> \
             wrapped around the app (same session type): \
             `.wrap(SessionMiddleware::<{t}>::new(cookies))`"
        )
    }
}

impl ResponseError for MissingMiddleware {
    fn status_code(&self) -> StatusCode {
        StatusCode::INTERNAL_SERVER_ERROR
    }
}
