//! [`CachedStore`]: a bounded local cache of a shared store's answers, so
//! most requests cost no round trip, at the price of a stated delay.

use core::fmt;
use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use time::OffsetDateTime;

use crate::freshness::replay::SessionRecord;
use crate::freshness::store::{Freshness, FreshnessStore, StoreFuture};
use crate::session::meta::{SessionId, SessionMeta};

/// A [`FreshnessStore`] in front of another: answers of `check` that say
/// "fresh" (not revoked, not ended) are kept for `ttl` per session, so a
/// busy session costs one round trip per `ttl` instead of one per request.
/// Everything else goes to the inner store: writes, consumption of
/// single-use values (never cached: they must open once), and answers that
/// refuse.
///
/// The price, stated: a revocation or a copied cookie recorded by *another*
/// instance takes effect here within `ttl` (what this instance writes
/// itself takes effect at once). So with a `ttl` of N seconds, the docs can
/// say "a revocation takes effect on every instance within N seconds".
///
/// Bounded: at most `capacity` answers, the oldest evicted first.
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use sealed_session::{CachedStore, Lifetime, MemoryStore};
/// let shared = Arc::new(MemoryStore::new(10_000, &Lifetime::default()));
/// let store = CachedStore::new(shared, Duration::from_secs(5), 10_000);
/// # let _ = store;
/// ```
pub struct CachedStore {
    inner: std::sync::Arc<dyn FreshnessStore>,
    ttl: Duration,
    capacity: usize,
    answers: Mutex<Answers>,
}

#[derive(Default)]
struct Answers {
    fresh: HashMap<SessionId, (Instant, Freshness)>,
    order: VecDeque<SessionId>,
}

impl fmt::Debug for CachedStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachedStore")
            .field("inner", &self.inner)
            .field("ttl", &self.ttl)
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

impl CachedStore {
    /// `inner`'s answers kept for `ttl`, at most `capacity` of them.
    #[must_use]
    pub fn new(inner: std::sync::Arc<dyn FreshnessStore>, ttl: Duration, capacity: usize) -> Self {
        Self {
            inner,
            ttl,
            capacity,
            answers: Mutex::new(Answers::default()),
        }
    }

    fn cached(&self, id: &SessionId) -> Option<Freshness> {
        let answers = self.answers.lock().unwrap_or_else(PoisonError::into_inner);
        answers
            .fresh
            .get(id)
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, f)| *f)
    }

    fn keep(&self, id: SessionId, answer: Freshness) {
        if self.capacity == 0 {
            return;
        }
        let mut answers = self.answers.lock().unwrap_or_else(PoisonError::into_inner);
        if answers.fresh.insert(id, (Instant::now(), answer)).is_none() {
            answers.order.push_back(id);
        }
        // `order` may hold ids forgotten since (or twice): bounding it bounds
        // both, at worst evicting an answer early.
        while answers.order.len() > self.capacity {
            if let Some(old) = answers.order.pop_front() {
                answers.fresh.remove(&old);
            }
        }
    }

    fn forget(&self, id: &SessionId) {
        let mut answers = self.answers.lock().unwrap_or_else(PoisonError::into_inner);
        answers.fresh.remove(id);
    }
}

impl FreshnessStore for CachedStore {
    fn check<'a>(
        &'a self,
        session: &'a SessionMeta,
        now: OffsetDateTime,
    ) -> StoreFuture<'a, Freshness> {
        let id = session.id();
        if let Some(answer) = self.cached(&id) {
            return Box::pin(core::future::ready(Ok(answer)));
        }
        Box::pin(async move {
            let answer = self.inner.check(session, now).await?;
            if !answer.revoked && answer.record != SessionRecord::Ended {
                self.keep(id, answer);
            }
            Ok(answer)
        })
    }

    fn consume<'a>(
        &'a self,
        id: &'a SessionId,
        until: OffsetDateTime,
        now: OffsetDateTime,
    ) -> StoreFuture<'a, bool> {
        self.inner.consume(id, until, now)
    }

    fn supersede<'a>(
        &'a self,
        id: &'a SessionId,
        generation: u32,
        at: OffsetDateTime,
        until: OffsetDateTime,
    ) -> StoreFuture<'a, ()> {
        self.forget(id);
        self.inner.supersede(id, generation, at, until)
    }

    fn end<'a>(
        &'a self,
        id: &'a SessionId,
        until: OffsetDateTime,
        now: OffsetDateTime,
    ) -> StoreFuture<'a, ()> {
        self.forget(id);
        self.inner.end(id, until, now)
    }

    fn revoke_subject<'a>(
        &'a self,
        subject: &'a str,
        not_before: OffsetDateTime,
    ) -> StoreFuture<'a, ()> {
        // Sessions are cached by id, not subject: drop every answer, so
        // this instance sees its own revocation at once.
        self.answers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .fresh
            .clear();
        self.inner.revoke_subject(subject, not_before)
    }

    fn revoke_session<'a>(
        &'a self,
        id: &'a SessionId,
        until: OffsetDateTime,
        now: OffsetDateTime,
    ) -> StoreFuture<'a, ()> {
        self.forget(id);
        self.inner.revoke_session(id, until, now)
    }
}
