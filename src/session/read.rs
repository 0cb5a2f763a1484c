//! [`ReadOutcome`]: what one request's `Cookie` headers held.

use crate::codec::Opened;
use crate::cookie::chunks::Layout;
use crate::cookie::request::CarriedCookies;
use crate::error::ErrorKind;
use crate::keys::key::KeyId;
use crate::session::meta::SessionId;

/// What [`Sessions::open`](crate::Sessions::open) found in a request.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ReadOutcome<T> {
    /// The session, if a cookie of ours authenticated and passed every
    /// check. With several (duplicate names, or a single cookie beside a
    /// chunk set), the newest seal wins.
    pub session: Option<Opened<T>>,
    /// When no session was opened but a cookie of ours was present: why it
    /// was refused, for logs and metrics (never the value). With several
    /// refused candidates, the kind from the one that got furthest: a
    /// time or freshness check (expired, revoked, ...) over
    /// [`ErrorKind::InvalidClaims`] and [`ErrorKind::WrongKind`] over
    /// [`ErrorKind::Unauthenticated`] over [`ErrorKind::Malformed`]. A
    /// name of ours with no value worth opening (longer than a browser
    /// stores, beyond the candidate limit, or chunks while chunking is off)
    /// reads as [`ErrorKind::Malformed`]. So `refusal` is `Some` exactly
    /// when `session` is `None` and `carried` is not empty; the adapter
    /// then usually sends [`Sessions::remove`](crate::Sessions::remove).
    pub refusal: Option<ErrorKind>,
    /// Which of our cookie names the request carried; pass it to
    /// [`Sessions::seal`](crate::Sessions::seal) or [`Sessions::remove`](crate::Sessions::remove).
    pub carried: CarriedCookies,
    pub(crate) used: Option<Layout>,
    pub(crate) refused_key_id: Option<KeyId>,
    pub(crate) refused_session_id: Option<SessionId>,
}

impl<T> ReadOutcome<T> {
    /// The outcome once the session that won is refused after all (by the
    /// freshness store): no session, `kind` and its id reported, what the
    /// request carried kept so the response removes it.
    pub(crate) fn refused(mut self, kind: ErrorKind) -> Self {
        if let Some(opened) = self.session.take() {
            self.refused_key_id = Some(opened.meta.key_id());
            self.refused_session_id = Some(opened.meta.id());
        }
        self.refusal = Some(kind);
        self.used = None;
        self
    }

    /// With [`ReadOutcome::refusal`] [`ErrorKind::Revoked`] or
    /// [`ErrorKind::Replayed`]: the authenticated id of the refused
    /// session, so the app can end it everywhere. Do not log it in the
    /// clear.
    #[must_use]
    pub const fn refused_session_id(&self) -> Option<SessionId> {
        self.refused_session_id
    }

    /// With [`ReadOutcome::refusal`]: the key id named in the header of the
    /// refused value it reports, when that value was well-formed enough to
    /// have one: `None` for a value refused as [`ErrorKind::Malformed`]
    /// (before the tag was checked), `Some` for every later check, including
    /// [`ErrorKind::InvalidClaims`] (whoever made it holds that key). The number is chosen
    /// by whoever made the cookie, so it is evidence, not fact: an unknown
    /// id points at a key retired too early, or at a forgery. Safe to log;
    /// nothing else of the value is.
    #[must_use]
    pub const fn refused_key_id(&self) -> Option<KeyId> {
        self.refused_key_id
    }

    /// The carried names that the opened session does not use: the chunks
    /// beside a single cookie that won, or the single cookie and chunks
    /// beyond the set that won. Empty when no session was opened (then
    /// everything carried is [`ReadOutcome::carried`]). An adapter that
    /// does not re-seal may send [`Sessions::remove`](crate::Sessions::remove) for these to
    /// tidy up.
    #[must_use]
    pub fn stale(&self) -> CarriedCookies {
        match self.used {
            None => CarriedCookies::none(),
            Some(layout) => self.carried.without(used_names(layout)),
        }
    }
}

/// The names a layout writes.
pub(crate) fn used_names(layout: Layout) -> CarriedCookies {
    match layout {
        Layout::Single => CarriedCookies::none().with_single(),
        Layout::Chunks(n) => (0..n).fold(CarriedCookies::none(), CarriedCookies::with_chunk),
    }
}

/// How far a refused candidate got, to report the most useful kind.
pub(crate) const fn rank(kind: ErrorKind) -> u8 {
    // The order of checks (FORMAT.md §4): before the tag, the tag, the
    // claims and the kind, then the time and freshness checks.
    match kind {
        ErrorKind::Malformed => 0,
        ErrorKind::Unauthenticated => 1,
        ErrorKind::InvalidClaims | ErrorKind::WrongKind => 2,
        _ => 3,
    }
}
