//! [tower-sessions](https://docs.rs/tower-sessions) 0.14: a layer that
//! gives handlers a `tower_sessions::Session` (the type axum-login and
//! axum-messages take) whose record is sealed into this crate's cookies.
//!
//! [`Sessions::tower_sessions_layer`] replaces `SessionManagerLayer`. For
//! each request it puts a `tower_sessions::Session` into the request's
//! extensions, backed by a store that holds no sessions of its own: the
//! record is the request's cookie, opened when a handler first reads the
//! session, and whatever the handler saves is sealed into the response's
//! cookies by the crate's own write path. So key rotation, expiry and
//! renewal inside the value, chunking, both size budgets and the
//! refusal of bad cookies ("no session") apply as with
//! [`Sessions::layer`](crate::Sessions::layer). The crate's handle,
//! [`Session<JsonRecord>`](crate::Session), is in the extensions too: it
//! gives the CSRF token ([`Session::csrf_token`](crate::Session::csrf_token)),
//! and [`Sessions::csrf::<JsonRecord>()`](crate::Sessions::csrf) is the
//! CSRF layer (with the cross-origin check) in front of the handlers.
//!
//! What tower-sessions calls do here:
//!
//! - `insert`, `get::<T>`, `remove`, `clear`: on the record, as usual; a
//!   changed record is sealed after the handler (or when the handler calls
//!   `session.save()`, which then reports a session too large for the
//!   cookie budgets as an error, like [`Session::flush`](crate::Session::flush);
//!   a handler that answers it must put the record back as it was, or the
//!   layer's own save fails too and the response is a 500).
//! - `cycle_id`: a new sealed session id and creation time, the data kept;
//!   the response replaces the old cookie. With a freshness store
//!   ([`SessionsBuilder::store`](crate::SessionsBuilder::store)) the old id
//!   is revoked, so a copy of the old cookie is refused.
//! - `flush`, `delete`: the response removes the cookies (every chunk);
//!   with a freshness store the session id is revoked too. Without one, a
//!   copy of the cookie stays valid until it expires, as with
//!   [`Session::clear`](crate::Session::clear).
//! - Expiry: see the table in [`UnsupportedExpiry`]'s module docs and
//!   [`TowerSessionsLayer::with_expiry`].
//! - `Session::id()` is not the sealed session's id (which stays inside the
//!   value: use [`Session<JsonRecord>::meta`](crate::Session::meta)): it is
//!   `Some(Id(0))` while the request's cookie is unread, `None` when there
//!   is no session, and a random id after a new session is saved.
//!
//! Failures after the handler (the record does not fit, an expiry that
//! cannot be honoured, the freshness store is down) answer a bare `500`,
//! as [`Sessions::layer`](crate::Sessions::layer) does.
//!
//! # Versions
//!
//! The layer speaks tower-sessions 0.14 (`tower-sessions-core` 0.14), the
//! version axum-login 0.18 and axum-messages 0.8 depend on. tower-sessions
//! 0.15's `Session` is another type: a handler or crate that extracts it
//! finds none under this layer and answers its own "missing layer" 500.
//! Keep the app on tower-sessions 0.14 (`cargo tree -i tower-sessions-core`
//! shows one version) until those crates move; the feature moves with
//! them, in a release that says so.

use core::fmt;
use core::task::{Context, Poll};
use std::sync::Arc;

use ::http::header::COOKIE;
use ::http::{HeaderValue, Request, Response, StatusCode};
use tower_service::Service;
use tower_sessions_core::Expiry;
use tower_sessions_core::session::Id;

use crate::adapters::tower::{ResponseFuture, Wrapped};
use crate::session::handle::Session;
use crate::session::sessions::Sessions;

mod expiry;
mod record;
mod store;

pub use expiry::UnsupportedExpiry;
pub use record::JsonRecord;
use store::RequestStore;

impl Sessions {
    /// The layer that gives each request a `tower_sessions::Session`
    /// sealed into these sessions' cookies, in place of tower-sessions'
    /// `SessionManagerLayer` (see [the module](crate::tower_sessions)).
    ///
    /// ```
    /// use axum::{Router, routing::get};
    /// use sealed_session::{KeyId, Keyring, Sessions};
    ///
    /// async fn count(session: tower_sessions::Session) -> String {
    ///     let n: u64 = session.get("n").await.ok().flatten().unwrap_or(0);
    ///     let _ = session.insert("n", n + 1).await;
    ///     format!("visit {}", n + 1)
    /// }
    ///
    /// let sessions = Sessions::builder(Keyring::generate(KeyId(1))?).build()?;
    /// let app: Router = Router::new()
    ///     .route("/", get(count))
    ///     .layer(sessions.tower_sessions_layer());
    /// # let _ = app;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn tower_sessions_layer(&self) -> TowerSessionsLayer {
        TowerSessionsLayer {
            sessions: self.clone(),
            expiry: None,
        }
    }
}

/// Gives each request a `tower_sessions::Session` sealed into cookies;
/// made by [`Sessions::tower_sessions_layer`].
#[derive(Clone)]
pub struct TowerSessionsLayer {
    sessions: Sessions,
    expiry: Option<Expiry>,
}

impl TowerSessionsLayer {
    /// The [`Expiry`] each request's session starts with, as
    /// `SessionManagerLayer::with_expiry` sets it (a handler may change it
    /// with `set_expiry`). `OnSessionEnd` writes browser-session cookies;
    /// `OnInactivity` must equal the configured [`Lifetime::idle`](crate::Lifetime::idle);
    /// `AtDateTime` is sealed as each saved session's deadline, and must
    /// be within [`Lifetime::absolute`](crate::Lifetime::absolute) of its
    /// creation.
    ///
    /// # Errors
    /// [`UnsupportedExpiry`] for an `OnInactivity` other than the idle
    /// timeout.
    pub fn with_expiry(mut self, expiry: Expiry) -> Result<Self, UnsupportedExpiry> {
        expiry::map(Some(expiry), self.sessions.codec().lifetime())?;
        self.expiry = Some(expiry);
        Ok(self)
    }
}

impl fmt::Debug for TowerSessionsLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TowerSessionsLayer")
            .field("expiry", &self.expiry)
            .field("sessions", &self.sessions)
            .finish()
    }
}

impl<S> tower_layer::Layer<S> for TowerSessionsLayer {
    type Service = TowerSessionsService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Wrapped::new(inner, self.clone())
    }
}

/// The service [`TowerSessionsLayer`] wraps around an inner service.
pub type TowerSessionsService<S> = Wrapped<S, TowerSessionsLayer>;

/// The id a `tower_sessions::Session` starts with while the request's
/// cookie is unread: tower-sessions asks the store for it on first access.
const UNREAD: Id = Id(0);

/// Breaks the store's link to its session when the request ends, however
/// it ends (the response future may be dropped).
struct Unlink(Arc<RequestStore>);

impl Drop for Unlink {
    fn drop(&mut self) {
        self.0.link(None);
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for TowerSessionsService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    ReqBody: Send + 'static,
    ResBody: Default + Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.poll_inner(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        let sessions = self.layer.sessions.clone();
        let expiry = self.layer.expiry;
        let mut inner = self.take_ready();
        Box::pin(async move {
            #[cfg(feature = "tracing")]
            sessions.hint_plain_http(|name| request.headers().get(name).map(HeaderValue::as_bytes));
            let headers = request.headers();
            let carried = headers.contains_key(COOKIE);
            let fields = headers.get_all(COOKIE).iter().map(HeaderValue::as_bytes);
            let handle: Session<JsonRecord> = sessions.load_for_handler(fields).await;
            if let Ok(mapping) = expiry::map(expiry, sessions.codec().lifetime())
                && let Some(persistence) = mapping.persistence
            {
                handle.prefer_persistence(persistence);
            }
            let store = Arc::new(RequestStore::new(handle.clone()));
            let session = tower_sessions_core::Session::new(
                carried.then_some(UNREAD),
                Arc::clone(&store),
                expiry,
            );
            store.link(Some(session.clone()));
            let unlink = Unlink(Arc::clone(&store));
            request.extensions_mut().insert(handle.clone());
            request.extensions_mut().insert(session.clone());

            let mut response = inner.call(request).await?;
            let saved = if !session.is_modified() {
                Ok(())
            } else if session.is_empty().await {
                handle.clear();
                Ok(())
            } else if response.status().is_server_error() {
                Ok(())
            } else {
                session.save().await
            };
            drop(unlink);
            if store.deleted() {
                handle.clear();
            }
            let written = match saved {
                Ok(()) => crate::http::write_async(&handle, response.headers_mut())
                    .await
                    .is_ok(),
                Err(e) => {
                    log_save_failure(&e);
                    false
                }
            };
            if !written {
                response = Response::new(ResBody::default());
                *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            }
            Ok(response)
        })
    }
}

/// Logs a failed save: its message names settings and sizes, nothing
/// from the request.
fn log_save_failure(e: &tower_sessions_core::session::Error) {
    #[cfg(feature = "tracing")]
    tracing::error!(error = %e, "the tower-sessions record could not be sealed");
    #[cfg(not(feature = "tracing"))]
    let _ = e;
}

impl Session<JsonRecord> {
    /// Whether `expiry` can be honoured for this session as it is now
    /// (its creation time bounds `AtDateTime`; a session not started yet
    /// is bounded from now). Call it before `set_expiry` to answer the
    /// user instead of failing the save after the handler.
    ///
    /// # Errors
    /// [`UnsupportedExpiry`] as described there.
    pub fn check_expiry(&self, expiry: Option<Expiry>) -> Result<(), UnsupportedExpiry> {
        let codec = self.sessions().codec();
        let lifetime = codec.lifetime();
        let Some(at) = expiry::map(expiry, lifetime)?.deadline else {
            return Ok(());
        };
        let created = self.meta().map_or_else(|| codec.now(), |m| m.created());
        let latest = created.saturating_add(lifetime.absolute);
        if at.unix_timestamp() > latest.unix_timestamp() {
            return Err(UnsupportedExpiry::past_lifetime(latest));
        }
        Ok(())
    }
}
