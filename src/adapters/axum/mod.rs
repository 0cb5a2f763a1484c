//! [axum](https://docs.rs/axum): [`Session<T>`](crate::Session) is the extractor, and
//! [`Sessions::csrf`](crate::Sessions::csrf) gives the CSRF layer, on top of
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

use core::fmt;

use ::http::request::Parts;
use ::http::{HeaderValue, StatusCode, header};
use axum_core::body::Body;
use axum_core::extract::{FromRequestParts, OptionalFromRequestParts};
use axum_core::response::{IntoResponse, Response};

use crate::session::handle::Session;

mod csrf;

pub use csrf::{CsrfFuture, RequireCsrf, RequireCsrfService};

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

/// A setup error: a [`Session<T>`](crate::Session) (or the CSRF layer) ran on a request
/// that did not pass through [`Sessions::layer`](crate::Sessions::layer) with the same `T`. As a
/// response it is a `500 Internal Server Error` carrying the fix in its
/// body (the session type's name, nothing from the request).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MissingSessionLayer {
    session_type: &'static str,
}

impl MissingSessionLayer {
    pub(crate) fn of<T>() -> Self {
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
