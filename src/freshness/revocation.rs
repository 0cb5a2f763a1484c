//! Revocation hooks: ending sessions before they expire.
//!
//! Without a hook, a copied cookie stays valid until its idle or absolute
//! deadline (RFC 6265bis §8.3: sealing gives no freshness). A hook is
//! consulted after authentication and the time checks.

use core::fmt;
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use time::OffsetDateTime;

use crate::error::{Error, ErrorKind, Result};
use crate::freshness::clock::unix_seconds;
use crate::freshness::lifetime::{Lifetime, secs};
use crate::session::meta::{SessionId, SessionMeta};

/// Decides whether an authenticated session has been revoked.
///
/// Implement it over any store. Key per-session decisions by
/// [`SessionMeta::id`] (the decoded session id), never by the cookie string,
/// which has many encodings of one session.
pub trait Revocation: Send + Sync + fmt::Debug {
    /// Whether `session` is revoked at `now`.
    fn is_revoked(&self, session: &SessionMeta, now: OffsetDateTime) -> bool;
}

#[derive(Default)]
struct State {
    /// subject → sessions created strictly before this (Unix seconds) are revoked.
    not_before: HashMap<String, u64>,
    /// session id → revoked until this (Unix seconds; its deadline).
    denied: HashMap<SessionId, u64>,
}

/// A bounded, thread-safe, in-memory [`Revocation`] for one process and
/// for tests: "log out everywhere" per subject, and a per-session deny
/// list.
///
/// ```
/// use sealed_session::{MemoryRevocation, SessionId};
/// use time::OffsetDateTime;
/// let revoked = MemoryRevocation::new(10_000);
/// // Password change: every session of user 42 created before now ends.
/// revoked.revoke_subject("42", OffsetDateTime::now_utc())?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct MemoryRevocation {
    capacity: usize,
    /// Allowed clock skew between servers, whole seconds.
    skew: u64,
    /// How long a subject's revocation can matter after its time: the
    /// skew, the absolute lifetime, and the skew again.
    horizon: u64,
    state: Mutex<State>,
}

impl fmt::Debug for MemoryRevocation {
    /// Counts only: subjects are user ids.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        f.debug_struct("MemoryRevocation")
            .field("capacity", &self.capacity)
            .field("skew", &self.skew)
            .field("subjects", &state.not_before.len())
            .field("denied_sessions", &state.denied.len())
            .finish()
    }
}

impl MemoryRevocation {
    /// Holds at most `capacity` subjects plus `capacity` denied sessions,
    /// for sessions under [`Lifetime::default`].
    #[must_use]
    pub fn new(capacity: usize) -> Self {
        Self::for_lifetime(capacity, &Lifetime::default())
    }

    /// As [`MemoryRevocation::new`], for sessions under `lifetime`: its
    /// skew widens each subject revocation, and its absolute lifetime says
    /// when a revocation can no longer matter and is forgotten.
    #[must_use]
    pub fn for_lifetime(capacity: usize, lifetime: &Lifetime) -> Self {
        let skew = secs(lifetime.skew);
        Self {
            capacity,
            skew,
            horizon: skew
                .saturating_add(secs(lifetime.absolute))
                .saturating_add(skew),
            state: Mutex::new(State::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // Every update is a single insert or retain; a poisoned lock holds
        // consistent data.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Revokes every session of `subject` created before `not_before`
    /// plus the clock skew ("log out everywhere", password change, account
    /// disabled): a server whose clock runs ahead of the one that revoked
    /// cannot create a session that dodges it. So a sign-in within the
    /// skew after the revocation is refused too; pass the revocation time,
    /// not a later one. A later call with an earlier time does not undo it.
    ///
    /// A subject's revocation is forgotten once no session it could refuse
    /// can still be alive (skew + absolute lifetime + skew after
    /// `not_before`), so the store never fills up for good.
    ///
    /// # Errors
    /// [`ErrorKind::StoreFull`] if `capacity` subjects whose revocations
    /// still matter are already held.
    pub fn revoke_subject(&self, subject: &str, not_before: OffsetDateTime) -> Result<()> {
        let t = unix_seconds(not_before);
        let mut state = self.lock();
        if let Some(existing) = state.not_before.get_mut(subject) {
            *existing = (*existing).max(t);
            return Ok(());
        }
        if state.not_before.len() >= self.capacity {
            // Forget what can no longer matter, seen from the newest
            // revocation time known (the store reads no clock of its own).
            let now = state.not_before.values().copied().max().unwrap_or(0).max(t);
            let horizon = self.horizon;
            state
                .not_before
                .retain(|_, nb| nb.saturating_add(horizon) > now);
        }
        if state.not_before.len() >= self.capacity {
            return Err(Error::new(ErrorKind::StoreFull));
        }
        state.not_before.insert(subject.to_owned(), t);
        Ok(())
    }

    /// Revokes one session until `until` (pass its
    /// [`SessionMeta::expires`]: after that it is refused anyway).
    ///
    /// # Errors
    /// [`ErrorKind::StoreFull`] if `capacity` live sessions are already
    /// denied.
    pub fn revoke_session(
        &self,
        id: &SessionId,
        until: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<()> {
        let now = unix_seconds(now);
        let mut state = self.lock();
        if !state.denied.contains_key(id) && state.denied.len() >= self.capacity {
            state.denied.retain(|_, until| *until > now);
            if state.denied.len() >= self.capacity {
                return Err(Error::new(ErrorKind::StoreFull));
            }
        }
        state.denied.insert(*id, unix_seconds(until));
        Ok(())
    }
}

impl Revocation for MemoryRevocation {
    fn is_revoked(&self, session: &SessionMeta, now: OffsetDateTime) -> bool {
        let now = unix_seconds(now);
        let state = self.lock();
        if state
            .denied
            .get(&session.id())
            .is_some_and(|until| *until > now)
        {
            return true;
        }
        session
            .subject()
            .and_then(|s| state.not_before.get(s))
            .is_some_and(|nb| session.claims.created < nb.saturating_add(self.skew))
    }
}

#[cfg(test)]
mod debug_tests {
    use super::*;

    #[test]
    fn debug_shows_counts_not_subjects() {
        let r = MemoryRevocation::new(4);
        r.revoke_subject("user-4242", OffsetDateTime::now_utc())
            .unwrap();
        let shown = format!("{r:?}");
        assert!(shown.contains("subjects: 1"), "{shown}");
        assert!(!shown.contains("4242"), "{shown}");
    }
}

#[cfg(test)]
mod tests {
    use time::Duration;

    use super::*;
    use crate::seal::payload::Claims;

    const T: i64 = 1_800_000_000;

    fn at(s: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(T + s).unwrap()
    }

    fn session(subject: &str, created: i64) -> SessionMeta {
        let created = u64::try_from(T + created).unwrap();
        SessionMeta {
            claims: Claims {
                sid: [9; 16],
                created,
                sealed: created,
                expires: created + 3600,
                generation: 0,
                kind: 0,
                subject: Some(subject.into()),
            },
            key_id: crate::keys::key::KeyId(1),
            opened: true,
        }
    }

    /// A session created up to the skew (60 s) after the revocation, as a
    /// server whose clock runs ahead would stamp it, is revoked too. 0.1
    /// revoked only sessions created strictly before the time.
    #[test]
    fn a_server_ahead_by_the_skew_cannot_dodge_a_revocation() {
        let r = MemoryRevocation::new(8);
        r.revoke_subject("ada", at(0)).unwrap();
        for created in [-100, 0, 30, 59] {
            assert!(r.is_revoked(&session("ada", created), at(61)), "{created}");
        }
        assert!(!r.is_revoked(&session("ada", 60), at(61)));
        assert!(!r.is_revoked(&session("bob", 0), at(61)));
    }

    /// Revocations that can no longer refuse a live session are forgotten
    /// when room is needed; 0.1 filled up for good.
    #[test]
    fn old_subject_revocations_make_room() {
        let lifetime = Lifetime {
            absolute: Duration::hours(1),
            ..Lifetime::default()
        };
        let r = MemoryRevocation::for_lifetime(2, &lifetime);
        r.revoke_subject("a", at(0)).unwrap();
        r.revoke_subject("b", at(10)).unwrap();
        let err = r.revoke_subject("c", at(20)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::StoreFull, "both still matter");
        // skew + absolute + skew after "a": nothing it could refuse lives.
        let later = at(60 + 3600 + 60);
        r.revoke_subject("c", later).unwrap();
        assert!(!r.is_revoked(&session("a", -10), later), "a forgotten");
        assert!(r.is_revoked(&session("b", 0), later), "b still held");
    }
}
