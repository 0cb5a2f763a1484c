//! `SessionHandle`: one request's session, shared by the adapter and the
//! handler, framework-free.
//!
//! An adapter calls [`SessionHandle::load`] with the request's `Cookie`
//! header values, hands clones to the handler, and after the handler calls
//! [`SessionHandle::finish`] to get the `Set-Cookie` headers the response
//! needs: none when nothing changed and no renewal is due.

use core::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::cookie::request::CarriedCookies;
use crate::cookie::set_cookie::SetCookie;
use crate::error::{ErrorKind, Result};
use crate::keys::key::KeyId;
use crate::session::meta::SessionMeta;
use crate::session::sessions::SessionCookies;

struct State<T> {
    data: Option<T>,
    meta: Option<SessionMeta>,
    carried: CarriedCookies,
    stale: CarriedCookies,
    refusal: Option<ErrorKind>,
    refused_key_id: Option<KeyId>,
    /// The data or metadata changed since the request's cookie was read.
    dirty: bool,
    /// `open` asked for a re-seal (renewal interval, non-primary key).
    reseal_due: bool,
    /// Set-Cookie headers already computed by `flush` and not invalidated
    /// since.
    flushed: Option<Vec<SetCookie>>,
}

/// One request's session. Cheap to clone; clones share the state.
///
/// `T` is the app's session type. A request without a valid session starts
/// with no data ([`SessionHandle::get`] is `None`); inserting data starts a
/// new session when the response is written.
///
/// ```
/// use sealed_session::{CookiePolicy, KeyId, Keyring, SessionCodec, SessionCookies, SessionHandle};
/// use std::sync::Arc;
/// let cookies = Arc::new(SessionCookies::new(
///     SessionCodec::builder(Keyring::generate(KeyId(1))?),
///     CookiePolicy::default(),
/// )?);
/// // Request 1: no cookie; the handler stores a counter.
/// let handle = SessionHandle::<u32>::load(&cookies, []);
/// handle.insert(1);
/// let set = handle.finish()?;
/// let cookie = format!("{}={}", set[0].name(), set[0].value());
/// // Request 2: the browser sends it back.
/// let handle = SessionHandle::<u32>::load(&cookies, [cookie.as_str()]);
/// assert_eq!(handle.get(), Some(1));
/// assert!(handle.finish()?.is_empty(), "nothing changed: no Set-Cookie");
/// # Ok::<(), sealed_session::Error>(())
/// ```
pub struct SessionHandle<T> {
    cookies: Arc<SessionCookies>,
    state: Arc<Mutex<State<T>>>,
}

impl<T> Clone for SessionHandle<T> {
    fn clone(&self) -> Self {
        Self {
            cookies: Arc::clone(&self.cookies),
            state: Arc::clone(&self.state),
        }
    }
}

impl<T> fmt::Debug for SessionHandle<T> {
    /// Shows whether a session is present, never its data or id.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("SessionHandle")
            .field("present", &state.data.is_some())
            .field("dirty", &state.dirty)
            .field("refusal", &state.refusal)
            .finish_non_exhaustive()
    }
}

impl<T: Serialize + DeserializeOwned> SessionHandle<T> {
    /// Reads the session from a request's `Cookie` header values. Never
    /// fails: a missing, malformed, forged, expired, revoked or replayed
    /// cookie reads as "no session" ([`SessionHandle::refusal`] says why,
    /// for logs), and its cookies are removed when the response is written
    /// unless a new session replaces them.
    pub fn load<'a>(
        cookies: &Arc<SessionCookies>,
        cookie_headers: impl IntoIterator<Item = &'a str>,
    ) -> Self {
        let cookies = Arc::clone(cookies);
        let outcome = cookies.open::<T>(cookie_headers);
        let stale = outcome.stale();
        let refused_key_id = outcome.refused_key_id();
        let (data, meta, reseal_due) = match outcome.session {
            Some(opened) => {
                let due = opened.reseal_due().is_some();
                (Some(opened.data), Some(opened.meta), due)
            }
            None => (None, None, false),
        };
        Self {
            cookies,
            state: Arc::new(Mutex::new(State {
                data,
                meta,
                carried: outcome.carried,
                stale,
                refusal: outcome.refusal,
                refused_key_id,
                dirty: false,
                reseal_due,
                flushed: None,
            })),
        }
    }

    /// Computes the response's `Set-Cookie` headers now, so a handler can
    /// react to [`ErrorKind::TooLarge`] (for example with a 413) instead
    /// of the adapter failing after the handler. [`SessionHandle::finish`]
    /// reuses the result unless the session changes again.
    ///
    /// # Errors
    /// As for [`SessionHandle::finish`].
    pub fn flush(&self) -> Result<()> {
        let mut state = self.lock();
        let out = self.compute(&mut state)?;
        state.flushed = Some(out);
        Ok(())
    }

    /// The `Set-Cookie` headers for the response, at most one per cookie
    /// name:
    ///
    /// - data present and changed, regenerated, new, or due for renewal:
    ///   the sealed cookie (or chunks), plus removals of names it no longer
    ///   uses;
    /// - no data, but the request carried cookies of ours (logout, or a
    ///   refused cookie): removals for each;
    /// - otherwise nothing, or removals of stale chunks.
    ///
    /// # Errors
    /// [`ErrorKind::TooLarge`] if the session no longer fits the cookie
    /// budget; [`ErrorKind::Rng`] if a nonce or session id cannot be drawn.
    pub fn finish(&self) -> Result<Vec<SetCookie>> {
        let mut state = self.lock();
        if let Some(out) = state.flushed.take() {
            return Ok(out);
        }
        self.compute(&mut state)
    }

    fn compute(&self, state: &mut State<T>) -> Result<Vec<SetCookie>> {
        let Some(data) = &state.data else {
            return Ok(self.cookies.remove(&state.carried));
        };
        let meta = match &state.meta {
            Some(meta) => meta,
            None => {
                state.dirty = true;
                state.meta.insert(self.cookies.codec().new_session(None)?)
            }
        };
        if state.dirty || state.reseal_due {
            self.cookies.seal(meta, data, &state.carried)
        } else {
            Ok(self.cookies.remove(&state.stale))
        }
    }
}

impl<T> SessionHandle<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        // Each method leaves the state consistent before it can panic, so a
        // poisoned lock still holds usable data.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn mutate<R>(&self, f: impl FnOnce(&mut State<T>) -> R) -> R {
        let mut state = self.lock();
        state.dirty = true;
        state.flushed = None;
        f(&mut state)
    }

    /// A copy of the session data, if there is a session.
    #[must_use]
    pub fn get(&self) -> Option<T>
    where
        T: Clone,
    {
        self.lock().data.clone()
    }

    /// Runs `f` on the session data without copying it.
    pub fn with<R>(&self, f: impl FnOnce(Option<&T>) -> R) -> R {
        f(self.lock().data.as_ref())
    }

    /// Stores `data`, starting a session if there is none. The cookie is
    /// written with the response.
    pub fn insert(&self, data: T) {
        self.mutate(|s| s.data = Some(data));
    }

    /// Changes the session data in place, starting a session with
    /// `T::default()` if there is none.
    pub fn update<R>(&self, f: impl FnOnce(&mut T) -> R) -> R
    where
        T: Default,
    {
        self.mutate(|s| f(s.data.get_or_insert_with(T::default)))
    }

    /// Ends the session and returns its data: the response removes the
    /// cookie (and every chunk of it the request carried).
    ///
    /// Removing the browser's cookie does not revoke copies; with a
    /// [`Revocation`](crate::Revocation) store, also revoke
    /// [`SessionHandle::meta`]'s id (taken before this call).
    pub fn remove(&self) -> Option<T> {
        self.mutate(|s| {
            s.meta = None;
            s.data.take()
        })
    }

    /// Ends the session, like [`SessionHandle::remove`] without returning
    /// the data (logout).
    pub fn clear(&self) {
        let _ = self.remove();
    }

    /// Gives the session a new id and creation time, keeping its data, for
    /// login and privilege changes (session fixation, OWASP "Renew the
    /// Session ID After Any Privilege Level Change"). `subject` (for
    /// example the user id) is sealed beside the data for revocation hooks;
    /// `None` keeps the current one.
    ///
    /// # Errors
    /// [`ErrorKind::Rng`] if the operating system's generator fails.
    pub fn regenerate(&self, subject: Option<&str>) -> Result<()> {
        let codec = self.cookies.codec();
        let mut state = self.lock();
        let meta = match &state.meta {
            Some(meta) => codec.regenerate(meta, subject)?,
            None => codec.new_session(subject)?,
        };
        state.meta = Some(meta);
        state.dirty = true;
        state.flushed = None;
        Ok(())
    }

    /// The session's metadata (id, times, subject), once it has one: an
    /// opened session, or a new one after [`SessionHandle::regenerate`] or
    /// [`SessionHandle::flush`].
    #[must_use]
    pub fn meta(&self) -> Option<SessionMeta> {
        self.lock().meta.clone()
    }

    /// Why the request's cookie was refused, if it carried one of ours and
    /// it did not open. For logs and metrics only: the request is treated as
    /// having no session.
    #[must_use]
    pub fn refusal(&self) -> Option<ErrorKind> {
        self.lock().refusal
    }

    /// The key id named by the refused cookie, when
    /// [`SessionHandle::refusal`] is set and the value had a readable
    /// header; see
    /// [`ReadOutcome::refused_key_id`](crate::ReadOutcome::refused_key_id).
    /// Safe to log, unlike the value or the session id.
    #[must_use]
    pub fn refused_key_id(&self) -> Option<KeyId> {
        self.lock().refused_key_id
    }

    /// The CSRF token of the current session, creating the session's
    /// metadata if there is none yet (a token needs a session id).
    ///
    /// # Errors
    /// [`ErrorKind::Rng`] if a new session id cannot be drawn.
    pub fn csrf_token(&self) -> Result<String> {
        let codec = self.cookies.codec();
        let mut state = self.lock();
        if state.meta.is_none() {
            state.meta = Some(codec.new_session(None)?);
            state.dirty = true;
            state.flushed = None;
        }
        Ok(state
            .meta
            .as_ref()
            .map(|meta| codec.csrf_token(meta))
            .unwrap_or_default())
    }

    /// Whether `presented` is the current session's CSRF token (constant
    /// time). `false` without a session.
    #[must_use]
    pub fn verify_csrf(&self, presented: &str) -> bool {
        let state = self.lock();
        state
            .meta
            .as_ref()
            .is_some_and(|meta| self.cookies.codec().verify_csrf(meta, presented))
    }
}
