//! Time is passed in: a `Clock` trait, the system clock, and a manual clock
//! for tests, so no test sleeps.

use core::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use time::OffsetDateTime;

/// A source of the current time. Implementations must be cheap: the codec
/// reads the clock once per seal and once per open.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current time.
    fn now(&self) -> OffsetDateTime;

    /// The current time in whole Unix seconds, as the wire format carries
    /// it (instants before 1970 read as 0). Every seal and open reads the
    /// clock through this; the default goes through [`Clock::now`].
    /// Override it only to skip the calendar conversion, and keep it equal
    /// to `now()`'s seconds.
    ///
    /// ```
    /// use sealed_session::{Clock, ManualClock};
    /// let clock = ManualClock::at_unix(1_700_000_000);
    /// assert_eq!(clock.unix_now(), 1_700_000_000);
    /// ```
    fn unix_now(&self) -> u64 {
        unix_seconds(self.now())
    }
}

/// The system's wall clock (UTC).
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }

    fn unix_now(&self) -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    }
}

/// A clock that moves only when told to; clones share the same time.
///
/// ```
/// use sealed_session::{Clock, ManualClock};
/// let clock = ManualClock::at_unix(1_700_000_000);
/// let shared = clock.clone();
/// clock.advance(time::Duration::seconds(90));
/// assert_eq!(shared.now().unix_timestamp(), 1_700_000_090);
/// ```
#[derive(Clone, Debug)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    /// A clock stopped at `unix_seconds`.
    #[must_use]
    pub fn at_unix(unix_seconds: i64) -> Self {
        Self(Arc::new(AtomicI64::new(unix_seconds)))
    }

    /// Sets the time, in Unix seconds.
    pub fn set_unix(&self, unix_seconds: i64) {
        self.0.store(unix_seconds, Ordering::SeqCst);
    }

    /// Moves the time by `by` (whole seconds; may be negative).
    pub fn advance(&self, by: time::Duration) {
        self.0.fetch_add(by.whole_seconds(), Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        let secs = self.0.load(Ordering::SeqCst);
        OffsetDateTime::from_unix_timestamp(secs).unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }

    fn unix_now(&self) -> u64 {
        // Through `now`, so a time `time` cannot hold reads as the epoch
        // here too.
        unix_seconds(self.now())
    }
}

/// Unix seconds as the unsigned count the wire format carries; instants
/// before 1970 read as 0.
pub(crate) fn unix_seconds(t: OffsetDateTime) -> u64 {
    u64::try_from(t.unix_timestamp()).unwrap_or(0)
}

/// The inverse of [`unix_seconds`]; out-of-range values saturate at the
/// largest instant `time` represents.
pub(crate) fn from_unix_seconds(secs: u64) -> OffsetDateTime {
    i64::try_from(secs)
        .ok()
        .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
        .unwrap_or_else(|| time::PrimitiveDateTime::MAX.assume_utc())
}
