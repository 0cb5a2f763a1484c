//! Replay guard: single-use seals and superseded session values.
//!
//! A sealed cookie carries no freshness on its own (RFC 6265bis §8.3): a
//! copy replays until it expires. A replay guard adds the state needed to
//! refuse (1) a single-use value presented twice, and (2) a session value
//! presented after the session was re-sealed and a short grace has passed,
//! which suggests the cookie was copied.

use core::fmt;
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use time::OffsetDateTime;

use crate::error::{Error, ErrorKind, Result};
use crate::freshness::clock::unix_seconds;
use crate::session::meta::SessionId;

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
    /// the highest generation seen.
    fn supersede(&self, id: &SessionId, generation: u32, at: OffsetDateTime, until: OffsetDateTime);

    /// The highest generation recorded for `id` and when it was sealed.
    fn latest(&self, id: &SessionId, now: OffsetDateTime) -> Option<(u32, OffsetDateTime)>;
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    generation: u32,
    at: u64,
    until: u64,
    single_use: bool,
}

/// A thread-safe, bounded, in-memory [`ReplayGuard`] for one process.
///
/// - At most `capacity` entries; entries whose window has passed are
///   dropped when room is needed.
/// - Full of live entries: a single-use value is **refused**
///   ([`ErrorKind::StoreFull`]); a superseded-session record replaces the
///   live superseded record that expires first, or is not kept if every
///   entry is single-use. Losing such a record only weakens copy detection
///   for that session.
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
    capacity: usize,
    entries: Mutex<HashMap<SessionId, Entry>>,
}

impl fmt::Debug for MemoryReplayGuard {
    /// Counts only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        f.debug_struct("MemoryReplayGuard")
            .field("capacity", &self.capacity)
            .field("entries", &entries.len())
            .finish()
    }
}

impl MemoryReplayGuard {
    /// A guard holding at most `capacity` entries.
    #[must_use]
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// How many entries are held now.
    #[must_use]
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no entries are held.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<SessionId, Entry>> {
        // A panic while holding the lock cannot leave the map inconsistent
        // (every update is a single insert), so a poisoned lock is usable.
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Makes room for one new entry; false if none could be made.
fn make_room(
    map: &mut HashMap<SessionId, Entry>,
    capacity: usize,
    now: u64,
    evict_superseded: bool,
) -> bool {
    if map.len() < capacity {
        return true;
    }
    map.retain(|_, e| e.until > now);
    if map.len() < capacity {
        return true;
    }
    if !evict_superseded {
        return false;
    }
    let victim = map
        .iter()
        .filter(|(_, e)| !e.single_use)
        .min_by_key(|(_, e)| e.until)
        .map(|(id, _)| *id);
    match victim {
        Some(id) => {
            map.remove(&id);
            true
        }
        None => false,
    }
}

impl ReplayGuard for MemoryReplayGuard {
    fn consume(&self, id: &SessionId, until: OffsetDateTime, now: OffsetDateTime) -> Result<bool> {
        let now = unix_seconds(now);
        let mut map = self.lock();
        if map.get(id).is_some_and(|e| e.until > now) {
            return Ok(false);
        }
        if !map.contains_key(id) && !make_room(&mut map, self.capacity, now, true) {
            return Err(Error::new(ErrorKind::StoreFull));
        }
        map.insert(
            *id,
            Entry {
                generation: 0,
                at: now,
                until: unix_seconds(until),
                single_use: true,
            },
        );
        Ok(true)
    }

    fn supersede(
        &self,
        id: &SessionId,
        generation: u32,
        at: OffsetDateTime,
        until: OffsetDateTime,
    ) {
        let at = unix_seconds(at);
        let mut map = self.lock();
        match map.get_mut(id) {
            Some(e) if e.single_use => {}
            Some(e) => {
                if generation >= e.generation {
                    e.generation = generation;
                    e.at = at;
                }
            }
            None => {
                if make_room(&mut map, self.capacity, at, true) {
                    map.insert(
                        *id,
                        Entry {
                            generation,
                            at,
                            until: unix_seconds(until),
                            single_use: false,
                        },
                    );
                }
            }
        }
    }

    fn latest(&self, id: &SessionId, now: OffsetDateTime) -> Option<(u32, OffsetDateTime)> {
        let now = unix_seconds(now);
        let map = self.lock();
        map.get(id)
            .filter(|e| !e.single_use && e.until > now)
            .map(|e| {
                (
                    e.generation,
                    crate::freshness::clock::from_unix_seconds(e.at),
                )
            })
    }
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
        assert_eq!(g.len(), 1);
    }

    #[test]
    fn superseded_records_keep_the_highest_generation_and_evict_first() {
        let g = MemoryReplayGuard::new(2);
        g.supersede(&id(1), 3, t(10), t(1000));
        g.supersede(&id(1), 2, t(20), t(1000));
        assert_eq!(g.latest(&id(1), t(30)), Some((3, t(10))));
        assert!(g.consume(&id(2), t(500), t(30)).unwrap());
        // Full: a new superseded record evicts the superseded one, never the single-use one.
        g.supersede(&id(3), 1, t(40), t(900));
        assert_eq!(g.latest(&id(1), t(40)), None);
        assert_eq!(g.latest(&id(3), t(40)), Some((1, t(40))));
        assert!(!g.consume(&id(2), t(500), t(41)).unwrap());
    }
}
