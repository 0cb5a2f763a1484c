//! Replay guard: single-use seals and superseded session values.
//!
//! A sealed cookie carries no freshness on its own (RFC 6265bis §8.3): a
//! copy replays until it expires. A replay guard adds the state needed to
//! refuse (1) a single-use value presented twice, and (2) a session value
//! presented after the session was re-sealed and a short grace has passed:
//! two copies of the cookie are in use, so the whole session ends (as
//! refresh-token reuse detection revokes the token family), whichever copy
//! came back first.

use core::fmt;
use std::collections::{BTreeSet, HashMap};
use std::sync::{Mutex, MutexGuard, PoisonError};

use time::OffsetDateTime;

use crate::error::{Error, ErrorKind, Result};
use crate::freshness::clock::{from_unix_seconds, unix_seconds};
use crate::session::meta::SessionId;

/// What a replay guard knows of a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionRecord {
    /// Nothing recorded: never re-sealed, or forgotten.
    Unknown,
    /// The newest re-seal: its generation and when it was first sealed,
    /// and when the generation before it was.
    Sealed {
        /// The highest generation re-sealed.
        generation: u32,
        /// When that generation was first sealed: from then on, values of
        /// the generation before it are superseded.
        at: OffsetDateTime,
        /// When the generation before it was first sealed (`None` when
        /// that re-seal was not recorded): from then on, every older value
        /// is superseded. Without it a value two re-seals behind would be
        /// judged by the newest re-seal and kept in its grace for as long
        /// as the session kept re-sealing.
        before: Option<OffsetDateTime>,
    },
    /// Ended: a superseded value came back after the grace, so every value
    /// of this session is refused until its deadline.
    Ended,
}

/// State for refusing replays. Implement it over a shared store (Redis, a
/// database) for a fleet; [`MemoryReplayGuard`] serves one process.
///
/// All methods take the current time so implementations never read a clock
/// of their own.
pub trait ReplayGuard: Send + Sync + fmt::Debug {
    /// Records the use of single-use value `id`, which stays refusable
    /// until `until`.
    ///
    /// Returns `Ok(true)` on the first use and `Ok(false)` on any later one.
    ///
    /// # Errors
    /// [`ErrorKind::StoreFull`] when the use cannot be recorded: the guard
    /// must refuse rather than forget, or the value could be used twice.
    fn consume(&self, id: &SessionId, until: OffsetDateTime, now: OffsetDateTime) -> Result<bool>;

    /// Records that session `id` was re-sealed at `at` as `generation`; the
    /// record may be dropped after `until` (the session's deadline). Keeps
    /// the highest generation seen with the earliest time it was sealed,
    /// and the time of the one before it when that one is `generation - 1`
    /// (see [`SessionRecord::Sealed`]); never revives an ended session.
    fn supersede(&self, id: &SessionId, generation: u32, at: OffsetDateTime, until: OffsetDateTime);

    /// What is recorded for session `id` at `now`.
    fn session(&self, id: &SessionId, now: OffsetDateTime) -> SessionRecord;

    /// Ends session `id` until `until` (its deadline): every value of it is
    /// refused from now on.
    fn end(&self, id: &SessionId, until: OffsetDateTime, now: OffsetDateTime);
}

/// Records keyed by session id that expire, with eviction in expiry order:
/// each insert does a bounded amount of work (a few map and ordered-set
/// operations), never a scan.
struct Pool<V> {
    capacity: usize,
    records: HashMap<SessionId, (u64, V)>,
    by_expiry: BTreeSet<(u64, SessionId)>,
}

impl<V> Pool<V> {
    fn new(capacity: usize) -> Self {
        Self {
            capacity,
            records: HashMap::new(),
            by_expiry: BTreeSet::new(),
        }
    }

    fn get(&self, id: &SessionId, now: u64) -> Option<&V> {
        self.records
            .get(id)
            .and_then(|(until, v)| (*until > now).then_some(v))
    }

    fn remove(&mut self, id: &SessionId) {
        if let Some((until, _)) = self.records.remove(id) {
            self.by_expiry.remove(&(until, *id));
        }
    }

    /// Stores `v` for `id` until `until`. A new id needs room: the record
    /// that expires first goes if it has expired, or, with `evict_live`,
    /// even if it has not; `false` if no room could be made.
    fn insert(&mut self, id: SessionId, until: u64, v: V, now: u64, evict_live: bool) -> bool {
        if self.records.contains_key(&id) {
            self.remove(&id);
        } else {
            // Drop up to two expired records per insert: amortized, the
            // pool never holds many more dead records than live ones.
            for _ in 0..2 {
                match self.by_expiry.first().copied() {
                    Some((at, old)) if at <= now => self.remove(&old),
                    _ => break,
                }
            }
            if self.records.len() >= self.capacity {
                match self.by_expiry.first().copied() {
                    Some((_, old)) if evict_live => self.remove(&old),
                    _ => return false,
                }
            }
        }
        self.records.insert(id, (until, v));
        self.by_expiry.insert((until, id));
        true
    }
}

#[derive(Clone, Copy)]
enum Session {
    Sealed {
        generation: u32,
        at: u64,
        before: Option<u64>,
    },
    Ended,
}

/// A thread-safe, bounded, in-memory [`ReplayGuard`] for one process.
///
/// Single-use values and session records are kept apart, each at most
/// `capacity` of them, each under its own lock, so a flood of one kind
/// cannot evict the other:
///
/// - single-use values: records whose window has passed make room; when
///   all are live a new one is **refused** ([`ErrorKind::StoreFull`]),
///   never forgotten;
/// - session records (re-seals, ended sessions): when full, the one that
///   expires first gives way. Losing one only weakens copy detection for
///   that session.
///
/// ```
/// use sealed_session::{MemoryReplayGuard, ReplayGuard, SessionId};
/// use time::{Duration, OffsetDateTime};
/// let guard = MemoryReplayGuard::new(1000);
/// let id = SessionId::random()?;
/// let now = OffsetDateTime::now_utc();
/// assert!(guard.consume(&id, now + Duration::minutes(10), now)?);
/// assert!(!guard.consume(&id, now + Duration::minutes(10), now)?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct MemoryReplayGuard {
    single_use: Mutex<Pool<()>>,
    sessions: Mutex<Pool<Session>>,
}

impl fmt::Debug for MemoryReplayGuard {
    /// Counts only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let single_use = lock(&self.single_use);
        let sessions = lock(&self.sessions);
        f.debug_struct("MemoryReplayGuard")
            .field("capacity", &single_use.capacity)
            .field("single_use", &single_use.records.len())
            .field("sessions", &sessions.records.len())
            .finish()
    }
}

/// A panic while holding a lock cannot leave a pool inconsistent in a way
/// that matters (a record is at worst kept or lost), so a poisoned lock is
/// usable.
fn lock<V>(pool: &Mutex<Pool<V>>) -> MutexGuard<'_, Pool<V>> {
    pool.lock().unwrap_or_else(PoisonError::into_inner)
}

impl MemoryReplayGuard {
    /// A guard holding at most `capacity` single-use records and
    /// `capacity` session records.
    #[must_use]
    pub fn new(capacity: usize) -> Self {
        Self {
            single_use: Mutex::new(Pool::new(capacity)),
            sessions: Mutex::new(Pool::new(capacity)),
        }
    }

    /// How many records are held now, of both kinds.
    #[must_use]
    pub fn len(&self) -> usize {
        lock(&self.single_use).records.len() + lock(&self.sessions).records.len()
    }

    /// Whether no records are held.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl ReplayGuard for MemoryReplayGuard {
    fn consume(&self, id: &SessionId, until: OffsetDateTime, now: OffsetDateTime) -> Result<bool> {
        let now = unix_seconds(now);
        let mut pool = lock(&self.single_use);
        if pool.get(id, now).is_some() {
            return Ok(false);
        }
        if pool.insert(*id, unix_seconds(until), (), now, false) {
            Ok(true)
        } else {
            Err(Error::new(ErrorKind::StoreFull))
        }
    }

    fn supersede(
        &self,
        id: &SessionId,
        generation: u32,
        at: OffsetDateTime,
        until: OffsetDateTime,
    ) {
        let at = unix_seconds(at);
        let mut pool = lock(&self.sessions);
        let record = match pool.get(id, at) {
            Some(Session::Ended) => return,
            None => next_record(None, generation, at),
            Some(Session::Sealed {
                generation: g,
                at: a,
                before: b,
            }) => next_record(Some((*g, *a, *b)), generation, at),
        };
        if let Some(record) = record {
            pool.insert(*id, unix_seconds(until), record, at, true);
        }
    }

    fn session(&self, id: &SessionId, now: OffsetDateTime) -> SessionRecord {
        match lock(&self.sessions).get(id, unix_seconds(now)) {
            None => SessionRecord::Unknown,
            Some(Session::Ended) => SessionRecord::Ended,
            Some(Session::Sealed {
                generation,
                at,
                before,
            }) => SessionRecord::Sealed {
                generation: *generation,
                at: from_unix_seconds(*at),
                before: before.map(from_unix_seconds),
            },
        }
    }

    fn end(&self, id: &SessionId, until: OffsetDateTime, now: OffsetDateTime) {
        let now = unix_seconds(now);
        lock(&self.sessions).insert(*id, unix_seconds(until), Session::Ended, now, true);
    }
}

/// The record after a re-seal as `generation` at `at`, given the current
/// one (`generation`, `at`, `before`); `None` keeps the current one (the
/// re-seal is older). The Redis store's script does the same.
fn next_record(
    current: Option<(u32, u64, Option<u64>)>,
    generation: u32,
    at: u64,
) -> Option<Session> {
    let (at, before) = match current {
        None => (at, None),
        Some((g, _, _)) if generation < g => return None,
        // Another re-seal of the same generation (two requests at once):
        // the first one is when the older values were superseded.
        Some((g, a, b)) if generation == g => (at.min(a), b),
        Some((g, a, _)) if generation == g.saturating_add(1) => (at, Some(a)),
        // Re-seals in between were not recorded: their times are unknown.
        Some(_) => (at, None),
    };
    Some(Session::Sealed {
        generation,
        at,
        before,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_000_000 + s).unwrap()
    }

    fn id(n: u8) -> SessionId {
        SessionId([n; 16])
    }

    #[test]
    fn single_use_is_refused_when_full_rather_than_forgotten() {
        let g = MemoryReplayGuard::new(2);
        assert!(g.consume(&id(1), t(100), t(0)).unwrap());
        assert!(g.consume(&id(2), t(100), t(0)).unwrap());
        assert_eq!(
            g.consume(&id(3), t(100), t(0)).unwrap_err().kind(),
            ErrorKind::StoreFull
        );
        assert!(
            !g.consume(&id(1), t(100), t(1)).unwrap(),
            "still remembered"
        );
        // Once their windows pass, room is made.
        assert!(g.consume(&id(3), t(200), t(100)).unwrap());
        assert!(g.consume(&id(4), t(200), t(100)).unwrap());
        assert_eq!(g.len(), 2);
    }

    #[test]
    fn session_records_keep_the_highest_generation_and_evict_the_soonest() {
        let g = MemoryReplayGuard::new(2);
        g.supersede(&id(1), 3, t(10), t(1000));
        g.supersede(&id(1), 2, t(20), t(1000));
        let sealed = |generation, at| SessionRecord::Sealed {
            generation,
            at,
            before: None,
        };
        assert_eq!(g.session(&id(1), t(30)), sealed(3, t(10)));
        g.supersede(&id(2), 1, t(30), t(2000));
        // Full: a new record evicts the one that expires first.
        g.supersede(&id(3), 1, t(40), t(900));
        assert_eq!(g.session(&id(1), t(40)), SessionRecord::Unknown);
        assert_eq!(g.session(&id(2), t(40)), sealed(1, t(30)));
        assert_eq!(g.session(&id(3), t(40)), sealed(1, t(40)));
        // Past its deadline a record is gone.
        assert_eq!(g.session(&id(3), t(900)), SessionRecord::Unknown);
    }

    #[test]
    fn an_ended_session_stays_ended() {
        let g = MemoryReplayGuard::new(4);
        g.supersede(&id(1), 1, t(10), t(1000));
        g.end(&id(1), t(1000), t(20));
        g.supersede(&id(1), 9, t(30), t(1000));
        assert_eq!(g.session(&id(1), t(40)), SessionRecord::Ended);
        assert_eq!(g.session(&id(1), t(1000)), SessionRecord::Unknown);
    }

    /// A flood of one kind cannot push out the other (0.1 kept both in one
    /// map, and a flood of session records evicted nothing single-use, but
    /// a flood of single-use values filled the map for session records).
    #[test]
    fn a_flood_of_one_kind_leaves_the_other_alone() {
        let g = MemoryReplayGuard::new(8);
        g.supersede(&id(200), 1, t(0), t(5000));
        for n in 0..8 {
            assert!(g.consume(&id(n), t(5000), t(0)).unwrap());
        }
        for n in 100..150 {
            g.supersede(&id(n), 1, t(0), t(6000));
        }
        for n in 0..8 {
            assert!(
                !g.consume(&id(n), t(5000), t(1)).unwrap(),
                "single-use {n} kept"
            );
        }
        assert_eq!(g.len(), 16);
        // The session record expiring first was the one evicted.
        assert_eq!(g.session(&id(200), t(1)), SessionRecord::Unknown);
    }
}
