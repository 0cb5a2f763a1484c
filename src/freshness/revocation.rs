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
    state: Mutex<State>,
}

impl fmt::Debug for MemoryRevocation {
    /// Counts only: subjects are user ids.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        f.debug_struct("MemoryRevocation")
            .field("capacity", &self.capacity)
            .field("subjects", &state.not_before.len())
            .field("denied_sessions", &state.denied.len())
            .finish()
    }
}

impl MemoryRevocation {
    /// Holds at most `capacity` subjects plus `capacity` denied sessions.
    #[must_use]
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
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

    /// Revokes every session of `subject` created strictly before
    /// `not_before` ("log out everywhere", password change, account
    /// disabled). A later call with an earlier time does not undo it.
    ///
    /// # Errors
    /// [`ErrorKind::StoreFull`] if `capacity` subjects are already held.
    pub fn revoke_subject(&self, subject: &str, not_before: OffsetDateTime) -> Result<()> {
        let t = unix_seconds(not_before);
        let mut state = self.lock();
        if let Some(existing) = state.not_before.get_mut(subject) {
            *existing = (*existing).max(t);
            return Ok(());
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
            .is_some_and(|nb| session.claims.created < *nb)
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
