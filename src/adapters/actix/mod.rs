//! The actix-web 4 adapter: [`Sessions::middleware`](crate::Sessions::middleware) reads the session
//! from each request and writes it into the response, [`Session<T>`](crate::Session) is
//! the extractor, and [`Sessions::csrf_middleware`](crate::Sessions::csrf_middleware) refuses unsafe
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
use std::future::{Ready, ready};
use std::rc::Rc;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::session::sessions::Sessions;

mod csrf;
mod extract;
mod service;

pub use service::{Wrapped, WrappedFuture};

impl Sessions {
    /// The middleware that gives every request a [`Session<T>`](crate::Session) and writes
    /// its cookies (and `Cache-Control: no-store`, unless the handler set a
    /// `Cache-Control`) into the response. If they cannot be written (the
    /// session outgrew the budget and the handler did not check with
    /// [`Session::flush`](crate::Session::flush)), the response is replaced by a bare 500. An
    /// `Err` from the inner service passes untouched.
    #[must_use]
    pub fn middleware<T>(&self) -> SessionMiddleware<T> {
        SessionMiddleware(Middleware::new(self, false))
    }

    /// The CSRF middleware, [`Sessions::csrf`](crate::Sessions::csrf)'s check for actix-web: wrap
    /// it before [`Sessions::middleware`](crate::Sessions::middleware) (actix runs the last `wrap`
    /// first). A form body is read up to [`MAX_FORM_BYTES`](crate::MAX_FORM_BYTES) (larger: 413)
    /// and handed on unchanged.
    #[must_use]
    pub fn csrf_middleware<T>(&self) -> CsrfMiddleware<T> {
        CsrfMiddleware(Middleware::new(self, false))
    }
}

struct Middleware<T> {
    pub(super) sessions: Sessions,
    pub(super) allow_without_session: bool,
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

/// Made by [`Sessions::middleware`](crate::Sessions::middleware).
#[derive(Clone)]
pub struct SessionMiddleware<T>(Middleware<T>);

/// Made by [`Sessions::csrf_middleware`](crate::Sessions::csrf_middleware).
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
