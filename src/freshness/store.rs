//! Freshness state for a fleet: one async store for revocation and replay,
//! whose calls can fail ("the store is down") instead of guessing.
//!
//! A sealed cookie is stateless; "log out everywhere", single-use values
//! and copied-cookie detection are not. With many instances, that state
//! must be shared: [`FreshnessStore`] is the interface (a trait object,
//! each call a boxed future), [`MemoryStore`] the single-process
//! implementation, and with the `redis` feature
//! [`RedisStore`](crate::RedisStore) the shared one.

use core::fmt;
use core::future::Future;
use core::pin::Pin;

use time::OffsetDateTime;

use crate::freshness::lifetime::Lifetime;
use crate::freshness::replay::{MemoryReplayGuard, ReplayGuard, SessionRecord};
use crate::freshness::revocation::{MemoryRevocation, Revocation};
use crate::session::meta::{SessionId, SessionMeta};

/// Why a store call failed. Each call site applies its named failure
/// policy (`docs/` and [`StorePolicy`]); a failure is never read as "not
/// revoked" or "first use" by accident.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StoreError {
    /// The store could not be reached or answered with an error.
    Unavailable,
    /// The store did not answer within the configured time-out.
    TimedOut,
    /// A bounded store is full and refused to record more, rather than
    /// forget.
    Full,
}

impl StoreError {
    /// A short, stable, lowercase name for logs and metrics.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Unavailable => "unavailable",
            Self::TimedOut => "timed_out",
            Self::Full => "full",
        }
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Unavailable => "freshness store unavailable",
            Self::TimedOut => "freshness store timed out",
            Self::Full => "freshness store full",
        })
    }
}

impl core::error::Error for StoreError {}

/// What to do when the store fails while a request is being read.
///
/// Single-use consumption always fails closed (a value that could not be
/// recorded as used is refused: otherwise it could be used twice).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum StorePolicy {
    /// Refuse the session (the default): a revoked session must not come
    /// back because the store is down. Users are signed out while it is.
    #[default]
    FailClosed,
    /// Accept the session as if nothing were revoked or replayed: the app
    /// stays up while the store is down, and revocations and copy
    /// detection do not apply until it is back.
    FailOpen,
}

/// A boxed future of a store call.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// What the store knows about one session, answered in one round trip.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Freshness {
    /// Revoked: its subject was logged out everywhere after (or within the
    /// skew before) the session was created, or its id is denied.
    pub revoked: bool,
    /// Its newest re-seal, or that it was ended as copied.
    pub record: SessionRecord,
}

impl Freshness {
    /// Not revoked, nothing recorded.
    #[must_use]
    pub const fn fresh() -> Self {
        Self {
            revoked: false,
            record: SessionRecord::Unknown,
        }
    }
}

/// Shared freshness state: revocation ("log out everywhere", denied
/// sessions) and replay (single-use values, re-seals, ended sessions).
/// Implementations must be atomic per call and must bound every call in
/// time (a time-out is [`StoreError::TimedOut`], never a hang).
pub trait FreshnessStore: Send + Sync + fmt::Debug {
    /// Revocation and replay state of an authenticated `session`, in one
    /// round trip.
    fn check<'a>(
        &'a self,
        session: &'a SessionMeta,
        now: OffsetDateTime,
    ) -> StoreFuture<'a, Freshness>;

    /// Records the use of single-use value `id` until `until`: `true` on
    /// the first use, `false` on any later one.
    fn consume<'a>(
        &'a self,
        id: &'a SessionId,
        until: OffsetDateTime,
        now: OffsetDateTime,
    ) -> StoreFuture<'a, bool>;

    /// Records that session `id` was re-sealed at `at` as `generation`,
    /// keeping the highest, until `until`; never revives an ended session.
    fn supersede<'a>(
        &'a self,
        id: &'a SessionId,
        generation: u32,
        at: OffsetDateTime,
        until: OffsetDateTime,
    ) -> StoreFuture<'a, ()>;

    /// Ends session `id` (a copied cookie came back) until `until`.
    fn end<'a>(
        &'a self,
        id: &'a SessionId,
        until: OffsetDateTime,
        now: OffsetDateTime,
    ) -> StoreFuture<'a, ()>;

    /// Revokes every session of `subject` created before `not_before` plus
    /// the skew ("log out everywhere").
    fn revoke_subject<'a>(
        &'a self,
        subject: &'a str,
        not_before: OffsetDateTime,
    ) -> StoreFuture<'a, ()>;

    /// Revokes session `id` until `until`.
    fn revoke_session<'a>(
        &'a self,
        id: &'a SessionId,
        until: OffsetDateTime,
        now: OffsetDateTime,
    ) -> StoreFuture<'a, ()>;
}

/// The single-process [`FreshnessStore`]: a [`MemoryRevocation`] and a
/// [`MemoryReplayGuard`] behind the async interface. Every call answers at
/// once. Its state is lost on restart and is not shared between instances:
/// for a fleet, use a shared store.
///
/// ```
/// use sealed_session::{FreshnessStore, Lifetime, MemoryStore, SessionId};
/// # tokio_test_block_on(async {
/// let store = MemoryStore::new(10_000, &Lifetime::default());
/// let id = SessionId::random()?;
/// let now = time::OffsetDateTime::now_utc();
/// let until = now + time::Duration::minutes(10);
/// assert!(store.consume(&id, until, now).await?);
/// assert!(!store.consume(&id, until, now).await?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
/// # }
/// ```
#[derive(Debug)]
pub struct MemoryStore {
    revocation: MemoryRevocation,
    replay: MemoryReplayGuard,
}

impl MemoryStore {
    /// At most `capacity` records of each kind, for sessions under
    /// `lifetime` (its skew widens subject revocations; its absolute
    /// lifetime says when they can be forgotten).
    #[must_use]
    pub fn new(capacity: usize, lifetime: &Lifetime) -> Self {
        Self {
            revocation: MemoryRevocation::for_lifetime(capacity, lifetime),
            replay: MemoryReplayGuard::new(capacity),
        }
    }
}

fn ready<'a, T: Send + 'a>(result: Result<T, StoreError>) -> StoreFuture<'a, T> {
    Box::pin(core::future::ready(result))
}

/// The synchronous stores' `StoreFull` as the store's error.
fn full<T>(result: crate::error::Result<T>) -> Result<T, StoreError> {
    result.map_err(|_| StoreError::Full)
}

impl FreshnessStore for MemoryStore {
    fn check<'a>(
        &'a self,
        session: &'a SessionMeta,
        now: OffsetDateTime,
    ) -> StoreFuture<'a, Freshness> {
        ready(Ok(Freshness {
            revoked: self.revocation.is_revoked(session, now),
            record: self.replay.session(&session.id(), now),
        }))
    }

    fn consume<'a>(
        &'a self,
        id: &'a SessionId,
        until: OffsetDateTime,
        now: OffsetDateTime,
    ) -> StoreFuture<'a, bool> {
        ready(full(self.replay.consume(id, until, now)))
    }

    fn supersede<'a>(
        &'a self,
        id: &'a SessionId,
        generation: u32,
        at: OffsetDateTime,
        until: OffsetDateTime,
    ) -> StoreFuture<'a, ()> {
        self.replay.supersede(id, generation, at, until);
        ready(Ok(()))
    }

    fn end<'a>(
        &'a self,
        id: &'a SessionId,
        until: OffsetDateTime,
        now: OffsetDateTime,
    ) -> StoreFuture<'a, ()> {
        self.replay.end(id, until, now);
        ready(Ok(()))
    }

    fn revoke_subject<'a>(
        &'a self,
        subject: &'a str,
        not_before: OffsetDateTime,
    ) -> StoreFuture<'a, ()> {
        ready(full(self.revocation.revoke_subject(subject, not_before)))
    }

    fn revoke_session<'a>(
        &'a self,
        id: &'a SessionId,
        until: OffsetDateTime,
        now: OffsetDateTime,
    ) -> StoreFuture<'a, ()> {
        ready(full(self.revocation.revoke_session(id, until, now)))
    }
}
