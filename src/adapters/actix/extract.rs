//! [`Session<T>`](crate::Session) as an actix-web extractor, and the setup error when no
//! session middleware ran.

use core::fmt;
use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpMessage, HttpRequest, ResponseError};

use crate::session::handle::Session;

impl<T: 'static> FromRequest for Session<T> {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, actix_web::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let found = req.extensions().get::<Self>().cloned();
        ready(found.ok_or_else(|| MissingMiddleware(core::any::type_name::<T>()).into()))
    }
}

/// A [`Session<T>`](crate::Session) (or the CSRF middleware) ran where no
/// [`Sessions::middleware`](crate::Sessions::middleware) with the same `T` did: a 500 whose message
/// says how to fix the app.
#[derive(Debug)]
pub(super) struct MissingMiddleware(pub(super) &'static str);

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
