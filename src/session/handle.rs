//! [`Session<T>`]: one request's session, shared by the adapter and the
//! handler, framework-free. The axum and actix-web adapters hand this very
//! type to handlers as their extractor.
//!
//! An adapter calls [`Session::load`] with the request's `Cookie` header
//! values, hands clones to the handler, and after the handler calls
//! [`Session::finish`] to get the `Set-Cookie` headers the response
//! needs: none when nothing changed and no renewal is due.

use core::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde::Serialize;
use serde::de::DeserializeOwned;
use time::OffsetDateTime;

use crate::cookie::attributes::Persistence;
use crate::cookie::request::CarriedCookies;
use crate::cookie::set_cookie::SetCookie;
use crate::error::{ErrorKind, Result};
use crate::keys::key::KeyId;
use crate::seal::payload::{RawPayload, Value};
use crate::session::meta::{SessionId, SessionMeta};
use crate::session::read::ReadOutcome;
use crate::session::sessions::Sessions;

/// The request's `Cookie` fields, joined by `;`, and how to open them: run
/// on the handler's first look at the session (see [`Session::lazy`]).
struct Pending<T> {
    cookies: String,
    open: fn(&Sessions, &str) -> ReadOutcome<Option<T>>,
}

struct State<T> {
    /// The request's cookies, not opened yet.
    pending: Option<Pending<T>>,
    data: Option<T>,
    meta: Option<SessionMeta>,
    carried: CarriedCookies,
    stale: CarriedCookies,
    refusal: Option<ErrorKind>,
    refused_key_id: Option<KeyId>,
    refused_session_id: Option<SessionId>,
    /// The data or metadata changed since the request's cookie was read.
    dirty: bool,
    /// `open` asked for a re-seal (renewal interval, non-primary key).
    reseal_due: bool,
    /// The handler looked at the session (its data, id or token).
    read: bool,
    /// The request's cookie could not be checked (the store is down): the
    /// response writes no cookie, so it survives the outage.
    hold: bool,
    /// The re-seal this response wrote of an opened session, for the
    /// freshness store: id, new generation, seal time, deadline.
    superseded: Option<(SessionId, u32, OffsetDateTime, OffsetDateTime)>,
    /// Chosen for this response by [`Session::set_persistence`].
    persistence: Option<Persistence>,
    /// Set-Cookie headers already computed by `flush` and not invalidated
    /// since.
    flushed: Option<Vec<SetCookie>>,
}

impl<T> State<T> {
    const fn empty() -> Self {
        Self {
            pending: None,
            data: None,
            meta: None,
            carried: CarriedCookies::none(),
            stale: CarriedCookies::none(),
            refusal: None,
            refused_key_id: None,
            refused_session_id: None,
            dirty: false,
            read: false,
            hold: false,
            superseded: None,
            reseal_due: false,
            persistence: None,
            flushed: None,
        }
    }

    /// Takes in what the request's cookies held.
    fn apply(&mut self, outcome: ReadOutcome<Option<T>>) {
        self.stale = outcome.stale();
        self.refused_key_id = outcome.refused_key_id();
        self.refused_session_id = outcome.refused_session_id();
        self.refusal = outcome.refusal;
        self.carried = outcome.carried;
        if let Some(opened) = outcome.session {
            self.reseal_due = opened.reseal_due().is_some();
            self.data = opened.data;
            self.meta = Some(opened.meta);
        }
    }
}

/// One request's session: what handlers read and change. Cheap to clone;
/// clones share the state.
///
/// `T` is the app's session type. A request without a valid session starts
/// with no data ([`Session::get`] is `None`); inserting data starts a
/// new session when the response is written. In axum and actix-web this
/// type is the extractor (`async fn show(session: Session<Cart>)`), put
/// in place by the layer or middleware from [`Sessions`].
///
/// ```
/// use sealed_session::{KeyId, Keyring, Session, Sessions};
/// let sessions = Sessions::builder(Keyring::generate(KeyId(1))?).build()?;
/// // Request 1: no cookie; the handler stores a counter.
/// let session = Session::<u32>::load(&sessions, []);
/// session.insert(1);
/// let set = session.finish()?;
/// let cookie = format!("{}={}", set[0].name(), set[0].value());
/// // Request 2: the browser sends it back.
/// let session = Session::<u32>::load(&sessions, [cookie.as_str()]);
/// assert_eq!(session.get(), Some(1));
/// assert!(session.finish()?.is_empty(), "nothing changed: no Set-Cookie");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Session<T> {
    sessions: Sessions,
    state: Arc<Mutex<State<T>>>,
}

impl<T> Clone for Session<T> {
    fn clone(&self) -> Self {
        Self {
            sessions: self.sessions.clone(),
            state: Arc::clone(&self.state),
        }
    }
}

impl<T> fmt::Debug for Session<T> {
    /// Shows whether a session is present, never its data or id.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.unopened();
        f.debug_struct("Session")
            .field("opened", &state.pending.is_none())
            .field("present", &state.meta.is_some())
            .field("dirty", &state.dirty)
            .field("refusal", &state.refusal)
            .finish_non_exhaustive()
    }
}

impl<T: Serialize + DeserializeOwned> Session<T> {
    /// Reads the session from a request's `Cookie` header values. Never
    /// fails: a missing, malformed, forged, expired, revoked or replayed
    /// cookie reads as "no session" ([`Session::refusal`] says why,
    /// for logs), and its cookies are removed when the response is written
    /// unless a new session replaces them.
    pub fn load<'a>(
        sessions: &Sessions,
        cookie_headers: impl IntoIterator<Item = &'a str>,
    ) -> Self {
        let outcome = sessions.open_optional::<T>(cookie_headers, false);
        Self::from_outcome(sessions, outcome)
    }

    /// The session of a request, from what its cookies held.
    pub(crate) fn from_outcome(sessions: &Sessions, outcome: ReadOutcome<Option<T>>) -> Self {
        let mut state = State::empty();
        state.apply(outcome);
        Self {
            sessions: sessions.clone(),
            state: Arc::new(Mutex::new(state)),
        }
    }

    /// The session of a request whose `Cookie` fields (joined by `;`)
    /// `open` opens when the handler first looks at the session (any
    /// method but [`Session::finish`] and [`Session::flush`]). A handler
    /// that never does costs no AEAD call, and its response writes nothing
    /// for the session: no renewal, no removal of a refused or stale
    /// cookie (the next request that looks does both).
    #[cfg(any(feature = "tower", feature = "actix-web", test))]
    pub(crate) fn lazy(
        sessions: &Sessions,
        cookies: String,
        open: fn(&Sessions, &str) -> ReadOutcome<Option<T>>,
    ) -> Self {
        let mut state = State::empty();
        state.pending = Some(Pending { cookies, open });
        Self {
            sessions: sessions.clone(),
            state: Arc::new(Mutex::new(state)),
        }
    }

    /// Computes the response's `Set-Cookie` headers now, so a handler can
    /// react to [`ErrorKind::TooLarge`] (for example with a 413) instead
    /// of the adapter failing after the handler. [`Session::finish`]
    /// reuses the result unless the session changes again.
    ///
    /// # Errors
    /// As for [`Session::finish`].
    pub fn flush(&self) -> Result<()> {
        let mut state = self.unopened();
        let out = self.compute(&mut state)?;
        state.flushed = Some(out);
        Ok(())
    }

    /// The `Set-Cookie` headers for the response, at most one per cookie
    /// name:
    ///
    /// - a session that is new, changed, regenerated or due for renewal:
    ///   the sealed cookie (or chunks), plus removals of names it no longer
    ///   uses;
    /// - no session, but the request carried cookies of ours (logout, or a
    ///   refused cookie): removals for each;
    /// - otherwise nothing, or removals of stale chunks.
    ///
    /// Under the tower/axum layer or the actix-web middleware (without a
    /// freshness store), the request's cookie is opened only when the
    /// handler first looks at the session: if it never does, the response
    /// gets nothing, renewals and removals included.
    ///
    /// # Errors
    /// [`ErrorKind::TooLarge`] if the session no longer fits the cookie
    /// budget; [`ErrorKind::Serialize`] if the data does not serialize;
    /// [`ErrorKind::Rng`] if a nonce or session id cannot be drawn.
    pub fn finish(&self) -> Result<Vec<SetCookie>> {
        let mut state = self.unopened();
        if let Some(out) = state.flushed.take() {
            return Ok(out);
        }
        self.compute(&mut state)
    }

    fn compute(&self, state: &mut State<T>) -> Result<Vec<SetCookie>> {
        if state.pending.is_some() {
            // The handler never looked: nothing of the session changed.
            return Ok(Vec::new());
        }
        if state.hold {
            // The request's cookie is left for when the store is back.
            return Ok(Vec::new());
        }
        if state.data.is_some() && state.meta.is_none() {
            state.dirty = true;
            state.meta = Some(self.sessions.codec().new_session(None)?);
        }
        let Some(meta) = &state.meta else {
            return Ok(self.sessions.remove(&state.carried));
        };
        if !(state.dirty || state.reseal_due) {
            return Ok(self.sessions.remove(&state.stale));
        }
        let persistence = state
            .persistence
            .unwrap_or_else(|| self.sessions.policy().persistence());
        if meta.opened {
            let codec = self.sessions.codec();
            let id = meta.id();
            let generation = meta.generation().saturating_add(1);
            let at = codec.now().max(meta.created());
            state.superseded = Some((id, generation, at, codec.deadline_of(meta)));
        }
        match &state.data {
            Some(data) => self
                .sessions
                .write(meta, &Value(data), &state.carried, persistence),
            // A session with an id but no data yet (a CSRF token was handed
            // out): sealed with an empty payload.
            None => self
                .sessions
                .write(meta, &RawPayload(&[]), &state.carried, persistence),
        }
    }
}

impl<T> Session<T> {
    /// Writes no cookie in the response unless the handler signs in or out
    /// (the request's could not be checked; see [`Session::load_async`]).
    pub(crate) fn hold_cookies(&self) {
        self.unopened().hold = true;
    }

    /// The re-seal of an opened session the last [`Session::finish`]
    /// wrote, taken once (for the freshness store).
    pub(crate) fn take_superseded(
        &self,
    ) -> Option<(SessionId, u32, OffsetDateTime, OffsetDateTime)> {
        self.unopened().superseded.take()
    }

    /// The state, the request's cookies opened first if they are still
    /// pending (see [`Session::lazy`]).
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        let mut state = self.unopened();
        if let Some(pending) = state.pending.take() {
            state.apply((pending.open)(&self.sessions, &pending.cookies));
        }
        state
    }

    /// The state as it is, pending cookies left unopened.
    fn unopened(&self) -> MutexGuard<'_, State<T>> {
        // Each method leaves the state consistent before it can panic, so a
        // poisoned lock still holds usable data.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The state, noting that the handler read the session.
    fn read(&self) -> MutexGuard<'_, State<T>> {
        let mut state = self.lock();
        state.read = true;
        state
    }

    /// Whether the response depends on the session: the request carried a
    /// cookie of ours, or the handler read or changed the session.
    /// Whether the handler never looked at the session: its cookies are
    /// still pending, unopened, and the response needs nothing.
    pub(crate) fn untouched(&self) -> bool {
        self.unopened().pending.is_some()
    }

    pub(crate) fn depends_on_session(&self) -> bool {
        let state = self.unopened();
        state.pending.is_none() && (state.read || state.dirty || !state.carried.is_empty())
    }

    fn mutate<R>(&self, f: impl FnOnce(&mut State<T>) -> R) -> R {
        let mut state = self.lock();
        state.dirty = true;
        state.flushed = None;
        f(&mut state)
    }

    /// The [`Sessions`] this session was loaded with.
    #[must_use]
    pub fn sessions(&self) -> &Sessions {
        &self.sessions
    }

    /// A copy of the session data, if there is any.
    #[must_use]
    pub fn get(&self) -> Option<T>
    where
        T: Clone,
    {
        self.read().data.clone()
    }

    /// Runs `f` on the session data without copying it.
    pub fn with<R>(&self, f: impl FnOnce(Option<&T>) -> R) -> R {
        f(self.read().data.as_ref())
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
    /// [`Session::meta`]'s id (taken before this call).
    pub fn remove(&self) -> Option<T> {
        self.mutate(|s| {
            // Sign-out: the cookie goes even while the store is down.
            s.hold = false;
            s.meta = None;
            s.data.take()
        })
    }

    /// Ends the session, like [`Session::remove`] without returning the
    /// data (logout).
    pub fn clear(&self) {
        let _ = self.remove();
    }

    /// Gives the session a new id and creation time, keeping its data, for
    /// sign-in and privilege changes (session fixation, OWASP "Renew the
    /// Session ID After Any Privilege Level Change"). `subject` (for
    /// example the user id) is sealed beside the data for revocation hooks;
    /// `None` keeps the current one.
    ///
    /// # Errors
    /// [`ErrorKind::Rng`] if the operating system's generator fails.
    pub fn regenerate(&self, subject: Option<&str>) -> Result<()> {
        let codec = self.sessions.codec();
        let mut state = self.lock();
        let meta = match &state.meta {
            Some(meta) => codec.regenerate(meta, subject)?,
            None => codec.new_session(subject)?,
        };
        state.meta = Some(meta);
        state.dirty = true;
        state.flushed = None;
        // Sign-in: the new session is written even while the store is down.
        state.hold = false;
        Ok(())
    }

    /// Chooses how long the browser keeps the cookies this response writes
    /// (a "remember me" box at sign-in), instead of the policy's
    /// [`CookiePolicy::persistence`](crate::CookiePolicy::persistence); the
    /// session is re-sealed with this response so the choice takes effect
    /// now.
    ///
    /// The choice is not sealed into the value: a later renewal writes the
    /// policy's persistence again unless the handler of that request calls
    /// this too. Keep the choice in `T` and call this on every request
    /// where it applies.
    pub fn set_persistence(&self, persistence: Persistence) {
        self.mutate(|s| s.persistence = Some(persistence));
    }

    /// Uses `persistence` for the cookies this response writes, if it
    /// writes any (a renewal included), without making it write: the
    /// default of an adapter whose framework chooses persistence per
    /// request. Leaves pending cookies unopened.
    #[cfg(feature = "tower-sessions")]
    pub(crate) fn prefer_persistence(&self, persistence: Persistence) {
        self.unopened().persistence = Some(persistence);
    }

    /// Seals `at` as the session's absolute deadline (starting a session if
    /// there is none), so the server refuses the value from then on. The
    /// deadline can move anywhere up to the configured absolute lifetime
    /// from the session's creation, never past it: then nothing changes and
    /// the longest deadline allowed is returned as the error. A deadline
    /// already past ends the session at its next check (its cookie gets
    /// `Max-Age=0` under [`Persistence::UntilExpiry`]).
    ///
    /// # Errors
    /// [`ErrorKind::Rng`] if a new session id cannot be drawn.
    #[cfg(feature = "tower-sessions")]
    pub(crate) fn set_deadline(
        &self,
        at: OffsetDateTime,
    ) -> Result<core::result::Result<(), OffsetDateTime>> {
        let codec = self.sessions.codec();
        let mut state = self.lock();
        if state.meta.is_none() {
            state.meta = Some(codec.new_session(None)?);
            state.dirty = true;
            state.flushed = None;
        }
        let Some(meta) = state.meta.as_mut() else {
            return Ok(Ok(()));
        };
        let absolute = crate::freshness::lifetime::secs(codec.lifetime().absolute);
        let limit = meta.claims.created.saturating_add(absolute);
        let at = crate::freshness::clock::unix_seconds(at);
        if at > limit {
            return Ok(Err(crate::freshness::clock::from_unix_seconds(limit)));
        }
        if meta.claims.expires != at {
            meta.claims.expires = at;
            state.dirty = true;
            state.flushed = None;
        }
        Ok(Ok(()))
    }

    /// The session's metadata (id, times, subject), once it has one: an
    /// opened session, or a new one after [`Session::regenerate`],
    /// [`Session::csrf_token`] or [`Session::flush`].
    #[must_use]
    pub fn meta(&self) -> Option<SessionMeta> {
        self.read().meta.clone()
    }

    /// Why the request's cookie was refused, if it carried one of ours and
    /// it did not open. For logs and metrics only: the request is treated as
    /// having no session.
    #[must_use]
    pub fn refusal(&self) -> Option<ErrorKind> {
        self.lock().refusal
    }

    /// The key id named by the refused cookie, when [`Session::refusal`]
    /// is set and the value had a readable header; see
    /// [`ReadOutcome::refused_key_id`](crate::ReadOutcome::refused_key_id).
    /// Safe to log, unlike the value or the session id.
    #[must_use]
    pub fn refused_key_id(&self) -> Option<KeyId> {
        self.lock().refused_key_id
    }

    /// For a cookie refused as [`ErrorKind::Revoked`] or
    /// [`ErrorKind::Replayed`]: the authenticated id of the refused
    /// session, so the app can end it everywhere (a superseded value
    /// replayed after its grace suggests a copied cookie). Do not log it in
    /// the clear.
    #[must_use]
    pub fn refused_session_id(&self) -> Option<SessionId> {
        self.lock().refused_session_id
    }

    /// The CSRF token of the current session, starting one if there is none
    /// yet (a token needs a session id): the response then carries a cookie
    /// for it, so a form rendered on a first visit posts back with a token
    /// that verifies. Each call gives a differently masked string (so a
    /// compressed page shows no fixed secret: BREACH); all of them verify
    /// until the session id changes ([`Session::regenerate`]).
    ///
    /// # Errors
    /// [`ErrorKind::Rng`] if a new session id or the mask cannot be drawn.
    pub fn csrf_token(&self) -> Result<String> {
        let codec = self.sessions.codec();
        let mut state = self.read();
        if state.meta.is_none() {
            state.meta = Some(codec.new_session(None)?);
            state.dirty = true;
            state.flushed = None;
        }
        match &state.meta {
            Some(meta) => codec.csrf_token(meta),
            None => Ok(String::new()),
        }
    }

    /// Whether `presented` is the current session's CSRF token (constant
    /// time). `false` without a session.
    #[must_use]
    pub fn verify_csrf(&self, presented: &str) -> bool {
        let state = self.read();
        state
            .meta
            .as_ref()
            .is_some_and(|meta| self.sessions.codec().verify_csrf(meta, presented))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::keys::key::KeyId;
    use crate::keys::keyring::Keyring;

    fn sessions() -> Sessions {
        Sessions::builder(Keyring::generate(KeyId(1)).unwrap())
            .build()
            .unwrap()
    }

    /// A lazy session's cookies are opened on the handler's first look,
    /// once, and never when it does not look: then the response writes
    /// nothing for the session.
    #[test]
    fn a_lazy_session_opens_only_when_looked_at() {
        let s = sessions();
        let first = Session::<u32>::load(&s, []);
        first.insert(7);
        let cookie = SetCookie::cookie_header(&first.finish().unwrap());
        static OPENS: AtomicUsize = AtomicUsize::new(0);
        let lazy = || {
            Session::<u32>::lazy(&s, cookie.clone(), |sessions, cookies| {
                OPENS.fetch_add(1, Ordering::Relaxed);
                sessions.open_optional::<u32>([cookies], false)
            })
        };

        let untouched = lazy();
        assert!(format!("{untouched:?}").contains("opened: false"));
        assert!(!untouched.depends_on_session());
        untouched.flush().unwrap();
        assert!(untouched.finish().unwrap().is_empty());
        assert_eq!(OPENS.load(Ordering::Relaxed), 0, "never opened");

        let looked = lazy();
        assert_eq!(looked.get(), Some(7));
        assert_eq!(looked.get(), Some(7));
        assert_eq!(OPENS.load(Ordering::Relaxed), 1, "opened once");
        assert!(looked.depends_on_session());
        looked.update(|n| *n += 1);
        let set = looked.finish().unwrap();
        let again = Session::<u32>::load(&s, [SetCookie::cookie_header(&set).as_str()]);
        assert_eq!(again.get(), Some(8));
    }
}
