//! One conformance suite for every `FreshnessStore`: the in-memory one, and
//! with the `redis` feature the Redis one on a real server.
//!
//! The Redis tests need `SESSION_TEST_REDIS_URL` (`.ci/run` starts a
//! throwaway `redis-server` on loopback and sets it). Without it they fail
//! when `CI=true`, and elsewhere say that they were skipped.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a panic is a failed test"
)]

use sealed_session::{
    FreshnessStore, KeyId, Keyring, Lifetime, ManualClock, MemoryStore, SessionCodec, SessionMeta,
    SessionRecord,
};
use std::sync::Arc;
use time::{Duration, OffsetDateTime};

/// A session of `subject` created at `created` (Unix seconds), as an
/// opener would see it.
fn session(subject: &str, created: i64) -> SessionMeta {
    let codec = SessionCodec::builder(Keyring::generate(KeyId(1)).unwrap())
        .clock(Arc::new(ManualClock::at_unix(created)))
        .build()
        .unwrap();
    let value = codec
        .seal_session(&codec.new_session(Some(subject)).unwrap(), &1u8)
        .unwrap();
    codec.open::<u8>(&value).unwrap().meta
}

fn at(unix: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(unix).unwrap()
}

/// The properties every store keeps. `t` is "now" in Unix seconds, close
/// to the wall clock (Redis expires keys by its own clock). `tag` keeps
/// runs apart (subjects are shared keys).
async fn conformance(store: &dyn FreshnessStore, t: i64, tag: &str) {
    let lifetime = Lifetime::default();
    let skew = lifetime.skew.whole_seconds();
    let ada = format!("ada-{tag}");
    let bob = format!("bob-{tag}");

    // Nothing recorded.
    let s = session(&ada, t - 100);
    let f = store.check(&s, at(t)).await.unwrap();
    assert!(!f.revoked);
    assert_eq!(f.record, SessionRecord::Unknown);

    // Single use: once.
    let id = s.id();
    let until = at(t + 600);
    assert!(store.consume(&id, until, at(t)).await.unwrap());
    assert!(!store.consume(&id, until, at(t + 1)).await.unwrap());

    // Re-seals keep the highest generation; ended stays ended.
    store.supersede(&id, 3, at(t - 10), until).await.unwrap();
    store.supersede(&id, 2, at(t - 5), until).await.unwrap();
    let sealed = |generation, sealed_at, before| SessionRecord::Sealed {
        generation,
        at: sealed_at,
        before,
    };
    assert_eq!(
        store.check(&s, at(t)).await.unwrap().record,
        sealed(3, at(t - 10), None)
    );
    // The next generation keeps the time of the one before it; a second
    // re-seal of one generation keeps the earliest time; a gap forgets it.
    store.supersede(&id, 4, at(t - 4), until).await.unwrap();
    store.supersede(&id, 4, at(t - 2), until).await.unwrap();
    assert_eq!(
        store.check(&s, at(t)).await.unwrap().record,
        sealed(4, at(t - 4), Some(at(t - 10)))
    );
    store.supersede(&id, 6, at(t - 1), until).await.unwrap();
    assert_eq!(
        store.check(&s, at(t)).await.unwrap().record,
        sealed(6, at(t - 1), None)
    );
    store.end(&id, until, at(t)).await.unwrap();
    store.supersede(&id, 9, at(t), until).await.unwrap();
    assert_eq!(
        store.check(&s, at(t)).await.unwrap().record,
        SessionRecord::Ended
    );

    // Subject revocation covers sessions created up to the skew after it.
    let old = session(&ada, t - 50);
    let ahead = session(&ada, t + skew - 1);
    let later = session(&ada, t + skew);
    let other = session(&bob, t - 50);
    store.revoke_subject(&ada, at(t)).await.unwrap();
    // An earlier time does not undo it.
    store.revoke_subject(&ada, at(t - 1000)).await.unwrap();
    assert!(store.check(&old, at(t)).await.unwrap().revoked);
    assert!(store.check(&ahead, at(t)).await.unwrap().revoked);
    assert!(!store.check(&later, at(t)).await.unwrap().revoked);
    assert!(!store.check(&other, at(t)).await.unwrap().revoked);

    // A denied session.
    store
        .revoke_session(&other.id(), at(t + 600), at(t))
        .await
        .unwrap();
    assert!(store.check(&other, at(t)).await.unwrap().revoked);
}

#[tokio::test]
async fn the_memory_store_keeps_every_property() {
    let store = MemoryStore::new(64, &Lifetime::default());
    conformance(&store, OffsetDateTime::now_utc().unix_timestamp(), "memory").await;
}

#[cfg(feature = "redis")]
mod redis {
    use std::time::Duration as StdDuration;

    use sealed_session::{RedisOptions, RedisStore, StoreError};

    use super::*;

    /// The test server's URL, or `None` (and a note) outside CI.
    fn url() -> Option<String> {
        match std::env::var("SESSION_TEST_REDIS_URL") {
            Ok(url) => Some(url),
            Err(_) if std::env::var_os("CI").is_some() => {
                panic!("SESSION_TEST_REDIS_URL is not set: CI must run these against a real Redis")
            }
            Err(_) => {
                eprintln!("SKIPPED: set SESSION_TEST_REDIS_URL to run the Redis store tests");
                None
            }
        }
    }

    fn prefix() -> String {
        format!(
            "test-{}:",
            sealed_session::SessionId::random().unwrap().to_hex()
        )
    }

    #[tokio::test]
    async fn the_redis_store_keeps_every_property() {
        let Some(url) = url() else { return };
        let store = RedisStore::connect(&url, RedisOptions::default().prefix(prefix()))
            .await
            .unwrap();
        conformance(&store, OffsetDateTime::now_utc().unix_timestamp(), "redis").await;
    }

    /// Two stores with one prefix share their state, as two instances of
    /// an app do: a single-use value used on one is refused on the other,
    /// "log out everywhere" on one reaches the other.
    #[tokio::test]
    async fn two_instances_share_one_state() {
        let Some(url) = url() else { return };
        let prefix = prefix();
        let a = RedisStore::connect(&url, RedisOptions::default().prefix(&prefix))
            .await
            .unwrap();
        let b = RedisStore::connect(&url, RedisOptions::default().prefix(&prefix))
            .await
            .unwrap();
        let t = OffsetDateTime::now_utc().unix_timestamp();
        let s = session("carol", t - 10);
        assert!(a.consume(&s.id(), at(t + 60), at(t)).await.unwrap());
        assert!(!b.consume(&s.id(), at(t + 60), at(t)).await.unwrap());
        b.revoke_subject("carol", at(t)).await.unwrap();
        assert!(a.check(&s, at(t)).await.unwrap().revoked);
        // Another prefix is another app.
        let c = RedisStore::connect(&url, RedisOptions::default().prefix(prefix.clone() + "x"))
            .await
            .unwrap();
        assert!(!c.check(&s, at(t)).await.unwrap().revoked);
    }

    /// Two instances on one Redis, through the request-level API.
    #[tokio::test]
    async fn two_instances_on_one_redis() {
        let Some(url) = url() else { return };
        let store = RedisStore::connect(&url, RedisOptions::default().prefix(prefix()))
            .await
            .unwrap();
        let store: Arc<dyn FreshnessStore> = Arc::new(store);
        super::request_path::fleet(store.clone(), "frank").await;
        super::request_path::single_use_across(store).await;
    }

    /// Keys expire: a single-use record at its value's deadline.
    #[tokio::test]
    async fn keys_expire_with_what_they_protect() {
        let Some(url) = url() else { return };
        let store = RedisStore::connect(&url, RedisOptions::default().prefix(prefix()))
            .await
            .unwrap();
        let now = OffsetDateTime::now_utc();
        let id = sealed_session::SessionId::random().unwrap();
        let soon = now + Duration::seconds(1);
        assert!(store.consume(&id, soon, now).await.unwrap());
        tokio::time::sleep(StdDuration::from_millis(1100)).await;
        assert!(
            store
                .consume(&id, soon + Duration::seconds(60), now)
                .await
                .unwrap(),
            "the record expired at the deadline it was given"
        );
    }

    /// Nothing listens: a typed error within the time-out, never a hang.
    #[tokio::test]
    async fn an_unreachable_redis_is_an_error_not_a_hang() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let started = std::time::Instant::now();
        let err = RedisStore::connect(
            &format!("redis://127.0.0.1:{port}/"),
            RedisOptions::default().timeout(StdDuration::from_millis(50)),
        )
        .await
        .unwrap_err();
        assert!(
            matches!(err, StoreError::Unavailable | StoreError::TimedOut),
            "{err:?}"
        );
        assert!(
            started.elapsed() < StdDuration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
    }

    /// A `redis-server` of the test's own, on a free loopback port, that it
    /// can stop and restart; `None` (and a note) outside CI without the
    /// binary.
    struct OwnRedis {
        port: u16,
        dir: std::path::PathBuf,
        child: Option<std::process::Child>,
    }

    impl OwnRedis {
        fn start() -> Option<Self> {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let dir = std::env::temp_dir().join(format!("sealed-session-redis-{port}"));
            std::fs::create_dir_all(&dir).unwrap();
            let mut own = Self {
                port,
                dir,
                child: None,
            };
            if own.up().is_err() {
                assert!(
                    std::env::var_os("CI").is_none(),
                    "redis-server is missing: CI must run these against a real Redis"
                );
                eprintln!("SKIPPED: redis-server is not installed");
                return None;
            }
            Some(own)
        }

        fn up(&mut self) -> std::io::Result<()> {
            let child = std::process::Command::new("redis-server")
                .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
                .args(["--save", "", "--appendonly", "no"])
                .arg("--dir")
                .arg(&self.dir)
                .stdout(std::process::Stdio::null())
                .spawn()?;
            self.child = Some(child);
            for _ in 0..100 {
                if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                    return Ok(());
                }
                std::thread::sleep(StdDuration::from_millis(20));
            }
            panic!("redis-server did not start");
        }

        fn down(&mut self) {
            if let Some(mut child) = self.child.take() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }

        fn url(&self) -> String {
            format!("redis://127.0.0.1:{}/", self.port)
        }
    }

    impl Drop for OwnRedis {
        fn drop(&mut self) {
            self.down();
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    /// Redis stopped in the middle: every call is a typed error within the
    /// time-out (no hang, no panic); once it is back, the same store works
    /// again without a restart.
    #[tokio::test]
    async fn a_redis_that_stops_and_comes_back() {
        let Some(mut redis) = OwnRedis::start() else {
            return;
        };
        let timeout = StdDuration::from_millis(50);
        let store = RedisStore::connect(&redis.url(), RedisOptions::default().timeout(timeout))
            .await
            .unwrap();
        let t = OffsetDateTime::now_utc().unix_timestamp();
        let s = session("dave", t - 10);
        assert!(!store.check(&s, at(t)).await.unwrap().revoked);

        redis.down();
        for _ in 0..3 {
            let started = std::time::Instant::now();
            let err = store.check(&s, at(t)).await.unwrap_err();
            assert!(
                matches!(err, StoreError::Unavailable | StoreError::TimedOut),
                "{err:?}"
            );
            assert!(
                started.elapsed() < StdDuration::from_secs(1),
                "{:?}",
                started.elapsed()
            );
            let err = store.consume(&s.id(), at(t + 60), at(t)).await.unwrap_err();
            assert!(
                matches!(err, StoreError::Unavailable | StoreError::TimedOut),
                "{err:?}"
            );
        }

        redis.up().unwrap();
        let mut answered = false;
        for _ in 0..50 {
            if let Ok(f) = store.check(&s, at(t)).await {
                assert!(!f.revoked);
                answered = true;
                break;
            }
            tokio::time::sleep(StdDuration::from_millis(100)).await;
        }
        assert!(answered, "the store reconnected after Redis came back");
        assert!(store.consume(&s.id(), at(t + 60), at(t)).await.unwrap());
    }
}

/// Two instances of an app (two `Sessions`, one keyring) sharing a store,
/// through the request-level API the adapters use.
mod request_path {
    use sealed_session::{
        ErrorKind, FreshnessStore, Lifetime, ManualClock, Session, Sessions, SetCookie, StorePolicy,
    };

    use super::*;

    pub(super) fn instance(
        keyring: &Keyring,
        clock: &ManualClock,
        store: Arc<dyn FreshnessStore>,
    ) -> Sessions {
        Sessions::builder(keyring.clone())
            .clock(Arc::new(clock.clone()))
            .store(store)
            .build()
            .unwrap()
    }

    /// Log out everywhere on B, refused on A; a copied cookie replayed
    /// after its re-seal is caught on the other instance, and ends the
    /// session for both copies.
    pub(super) async fn fleet(store: Arc<dyn FreshnessStore>, subject: &str) {
        let keyring = Keyring::generate(KeyId(1)).unwrap();
        let clock = ManualClock::at_unix(OffsetDateTime::now_utc().unix_timestamp());
        let a = instance(&keyring, &clock, store.clone());
        let b = instance(&keyring, &clock, store.clone());

        // Sign in on A.
        let s = Session::<String>::load_async(&a, []).await;
        s.regenerate(Some(subject)).unwrap();
        s.insert("cart".into());
        let signed_in = SetCookie::cookie_header(&s.finish_async().await.unwrap());
        let on_b = Session::<String>::load_async(&b, [signed_in.as_str()]).await;
        assert_eq!(on_b.get().as_deref(), Some("cart"));

        // A copied cookie: the victim's re-seal on A after the renewal
        // interval; the thief comes back to B with the old value after the
        // grace.
        clock.advance(Duration::minutes(6));
        let victim = Session::<String>::load_async(&a, [signed_in.as_str()]).await;
        let renewed = SetCookie::cookie_header(&victim.finish_async().await.unwrap());
        assert!(!renewed.is_empty(), "the renewal re-sealed");
        clock.advance(Duration::seconds(31));
        let thief = Session::<String>::load_async(&b, [signed_in.as_str()]).await;
        assert_eq!(thief.refusal(), Some(ErrorKind::Replayed));
        assert!(thief.refused_session_id().is_some());
        let victim_again = Session::<String>::load_async(&a, [renewed.as_str()]).await;
        assert_eq!(
            victim_again.refusal(),
            Some(ErrorKind::Replayed),
            "both copies end"
        );

        // A fresh sign-in, then log out everywhere on B: refused on A.
        clock.advance(Duration::minutes(2));
        let s = Session::<String>::load_async(&a, []).await;
        s.regenerate(Some(subject)).unwrap();
        s.insert("again".into());
        let second = SetCookie::cookie_header(&s.finish_async().await.unwrap());
        clock.advance(Duration::seconds(61));
        store
            .revoke_subject(subject, sealed_session::Clock::now(&clock))
            .await
            .unwrap();
        let on_a = Session::<String>::load_async(&a, [second.as_str()]).await;
        assert_eq!(on_a.refusal(), Some(ErrorKind::Revoked));
        assert_eq!(on_a.get(), None);
    }

    #[tokio::test]
    async fn two_instances_on_one_memory_store() {
        let store: Arc<dyn FreshnessStore> = Arc::new(MemoryStore::new(64, &Lifetime::default()));
        fleet(store.clone(), "erin").await;
        single_use_across(store).await;
    }

    /// A single-use value consumed on A is refused on B.
    pub(super) async fn single_use_across(store: Arc<dyn FreshnessStore>) {
        let keyring = Keyring::generate(KeyId(1)).unwrap();
        let clock = ManualClock::at_unix(OffsetDateTime::now_utc().unix_timestamp());
        let a = instance(&keyring, &clock, store.clone());
        let b = instance(&keyring, &clock, store);
        let link = a
            .codec()
            .seal_single_use(&"verify ada@example.com")
            .unwrap();
        assert_eq!(
            a.open_single_use::<String>(&link).await.unwrap().data,
            "verify ada@example.com"
        );
        let err = b.open_single_use::<String>(&link).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Replayed);
        // A session cookie is no link token, through the store too.
        let cookie = a.codec().seal(&"x").unwrap();
        let err = b.open_single_use::<String>(&cookie).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::WrongKind);
    }

    /// With a store configured, the synchronous openers refuse rather than
    /// skip it; the store and the synchronous hooks cannot be combined.
    #[test]
    fn the_synchronous_path_refuses_with_a_store() {
        let keyring = Keyring::generate(KeyId(1)).unwrap();
        let clock = ManualClock::at_unix(1_764_000_000);
        let store: Arc<dyn FreshnessStore> = Arc::new(MemoryStore::new(8, &Lifetime::default()));
        let sessions = instance(&keyring, &clock, store.clone());
        let value = sessions.codec().seal(&1u8).unwrap();
        let err = sessions.codec().open::<u8>(&value).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotConfigured);
        let err = Sessions::builder(keyring)
            .store(store)
            .replay_guard(Arc::new(sealed_session::MemoryReplayGuard::new(8)))
            .build()
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("store") && err.contains("replay_guard"),
            "{err}"
        );
    }

    /// A store that fails: fail closed gives no session, fail open the
    /// session, and neither hangs or panics.
    #[tokio::test]
    async fn a_failing_store_follows_the_policy() {
        #[derive(Debug)]
        struct Down;
        impl FreshnessStore for Down {
            fn check<'a>(
                &'a self,
                _: &'a SessionMeta,
                _: OffsetDateTime,
            ) -> sealed_session::StoreFuture<'a, sealed_session::Freshness> {
                Box::pin(async { Err(sealed_session::StoreError::TimedOut) })
            }
            fn consume<'a>(
                &'a self,
                _: &'a sealed_session::SessionId,
                _: OffsetDateTime,
                _: OffsetDateTime,
            ) -> sealed_session::StoreFuture<'a, bool> {
                Box::pin(async { Err(sealed_session::StoreError::Unavailable) })
            }
            fn supersede<'a>(
                &'a self,
                _: &'a sealed_session::SessionId,
                _: u32,
                _: OffsetDateTime,
                _: OffsetDateTime,
            ) -> sealed_session::StoreFuture<'a, ()> {
                Box::pin(async { Err(sealed_session::StoreError::Unavailable) })
            }
            fn end<'a>(
                &'a self,
                _: &'a sealed_session::SessionId,
                _: OffsetDateTime,
                _: OffsetDateTime,
            ) -> sealed_session::StoreFuture<'a, ()> {
                Box::pin(async { Err(sealed_session::StoreError::Unavailable) })
            }
            fn revoke_subject<'a>(
                &'a self,
                _: &'a str,
                _: OffsetDateTime,
            ) -> sealed_session::StoreFuture<'a, ()> {
                Box::pin(async { Err(sealed_session::StoreError::Unavailable) })
            }
            fn revoke_session<'a>(
                &'a self,
                _: &'a sealed_session::SessionId,
                _: OffsetDateTime,
                _: OffsetDateTime,
            ) -> sealed_session::StoreFuture<'a, ()> {
                Box::pin(async { Err(sealed_session::StoreError::Unavailable) })
            }
        }
        let keyring = Keyring::generate(KeyId(1)).unwrap();
        let clock = ManualClock::at_unix(1_764_000_000);
        for (policy, opens) in [
            (StorePolicy::FailClosed, false),
            (StorePolicy::FailOpen, true),
        ] {
            let sessions = Sessions::builder(keyring.clone())
                .clock(Arc::new(clock.clone()))
                .store(Arc::new(Down))
                .store_policy(policy)
                .build()
                .unwrap();
            let s = Session::<u8>::load_async(&sessions, []).await;
            s.insert(1);
            // A failed re-seal record is logged, not an error.
            let cookie = SetCookie::cookie_header(&s.finish_async().await.unwrap());
            let s = Session::<u8>::load_async(&sessions, [cookie.as_str()]).await;
            assert_eq!(s.get().is_some(), opens, "{policy:?}");
            if !opens {
                assert_eq!(s.refusal(), Some(ErrorKind::StoreUnavailable));
                // The cookie is kept for when the store is back.
                assert!(
                    s.finish().unwrap().is_empty(),
                    "no removal while the store is down"
                );
                // Data stored by the handler (a visit counter) does not
                // replace it either.
                let s = Session::<u8>::load_async(&sessions, [cookie.as_str()]).await;
                s.insert(2);
                assert!(
                    s.finish().unwrap().is_empty(),
                    "no anonymous session over it"
                );
                // A sign-in during the outage gets its cookie; a sign-out
                // removes it.
                let s = Session::<u8>::load_async(&sessions, [cookie.as_str()]).await;
                s.regenerate(Some("ada")).unwrap();
                s.insert(2);
                let set = s.finish().unwrap();
                assert_eq!(set.len(), 1, "a sign-in writes its session");
                assert!(!set[0].is_removal());
                let s = Session::<u8>::load_async(&sessions, [cookie.as_str()]).await;
                s.clear();
                let set = s.finish().unwrap();
                assert!(
                    set.len() == 1 && set[0].is_removal(),
                    "a sign-out removes it"
                );
            }
            // Single-use values fail closed whatever the policy.
            let link = sessions.codec().seal_single_use(&1u8).unwrap();
            let err = sessions.open_single_use::<u8>(&link).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::StoreUnavailable, "{policy:?}");
        }
    }
}

/// A cache in front of a shared store: a hit costs no round trip; another
/// instance's revocation takes effect within the cache's lifetime; this
/// instance's own writes at once; single-use values are never cached.
mod cache {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration as StdDuration;

    use sealed_session::{CachedStore, Freshness, StoreFuture};

    use super::*;

    /// Counts the round trips that reach the shared store.
    #[derive(Debug)]
    struct Counting {
        inner: MemoryStore,
        checks: AtomicUsize,
    }

    impl FreshnessStore for Counting {
        fn check<'a>(
            &'a self,
            s: &'a SessionMeta,
            now: OffsetDateTime,
        ) -> StoreFuture<'a, Freshness> {
            self.checks.fetch_add(1, Ordering::SeqCst);
            self.inner.check(s, now)
        }
        fn consume<'a>(
            &'a self,
            id: &'a sealed_session::SessionId,
            until: OffsetDateTime,
            now: OffsetDateTime,
        ) -> StoreFuture<'a, bool> {
            self.inner.consume(id, until, now)
        }
        fn supersede<'a>(
            &'a self,
            id: &'a sealed_session::SessionId,
            generation: u32,
            at: OffsetDateTime,
            until: OffsetDateTime,
        ) -> StoreFuture<'a, ()> {
            self.inner.supersede(id, generation, at, until)
        }
        fn end<'a>(
            &'a self,
            id: &'a sealed_session::SessionId,
            until: OffsetDateTime,
            now: OffsetDateTime,
        ) -> StoreFuture<'a, ()> {
            self.inner.end(id, until, now)
        }
        fn revoke_subject<'a>(
            &'a self,
            subject: &'a str,
            nb: OffsetDateTime,
        ) -> StoreFuture<'a, ()> {
            self.inner.revoke_subject(subject, nb)
        }
        fn revoke_session<'a>(
            &'a self,
            id: &'a sealed_session::SessionId,
            until: OffsetDateTime,
            now: OffsetDateTime,
        ) -> StoreFuture<'a, ()> {
            self.inner.revoke_session(id, until, now)
        }
    }

    #[tokio::test]
    async fn hits_cost_no_round_trip_and_revocations_arrive_within_the_ttl() {
        let shared = Arc::new(Counting {
            inner: MemoryStore::new(64, &Lifetime::default()),
            checks: AtomicUsize::new(0),
        });
        let ttl = StdDuration::from_millis(300);
        let a = CachedStore::new(shared.clone(), ttl, 16);
        let b = CachedStore::new(shared.clone(), ttl, 16);
        let t = OffsetDateTime::now_utc().unix_timestamp();
        let s = session("hana", t - 10);

        assert!(!a.check(&s, at(t)).await.unwrap().revoked);
        for _ in 0..10 {
            assert!(!a.check(&s, at(t)).await.unwrap().revoked);
        }
        assert_eq!(
            shared.checks.load(Ordering::SeqCst),
            1,
            "one round trip, then hits"
        );

        // Another instance revokes: this one still answers from its cache...
        b.revoke_subject("hana", at(t)).await.unwrap();
        assert!(!a.check(&s, at(t)).await.unwrap().revoked, "within the ttl");
        // ...and sees it once the ttl has passed.
        tokio::time::sleep(ttl + StdDuration::from_millis(50)).await;
        assert!(a.check(&s, at(t)).await.unwrap().revoked);
        // A refusing answer is not cached: every check asks again.
        let before = shared.checks.load(Ordering::SeqCst);
        assert!(a.check(&s, at(t)).await.unwrap().revoked);
        assert_eq!(shared.checks.load(Ordering::SeqCst), before + 1);

        // Its own revocation takes effect at once.
        let other = session("ivan", t - 10);
        assert!(!a.check(&other, at(t)).await.unwrap().revoked);
        a.revoke_session(&other.id(), at(t + 60), at(t))
            .await
            .unwrap();
        assert!(a.check(&other, at(t)).await.unwrap().revoked);

        // Single-use values are never cached.
        let link = session("link", t);
        assert!(a.consume(&link.id(), at(t + 60), at(t)).await.unwrap());
        assert!(!b.consume(&link.id(), at(t + 60), at(t)).await.unwrap());
    }

    #[tokio::test]
    async fn the_cache_is_bounded() {
        let shared = Arc::new(Counting {
            inner: MemoryStore::new(4096, &Lifetime::default()),
            checks: AtomicUsize::new(0),
        });
        let cache = CachedStore::new(shared.clone(), StdDuration::from_secs(60), 8);
        let t = OffsetDateTime::now_utc().unix_timestamp();
        let sessions: Vec<_> = (0..100)
            .map(|n| session(&format!("u{n}"), t - 10))
            .collect();
        for s in &sessions {
            cache.check(s, at(t)).await.unwrap();
        }
        // The first ones were evicted: asking again is a round trip.
        let before = shared.checks.load(Ordering::SeqCst);
        cache.check(&sessions[0], at(t)).await.unwrap();
        assert_eq!(shared.checks.load(Ordering::SeqCst), before + 1);
        // The last ones are still there.
        let before = shared.checks.load(Ordering::SeqCst);
        cache.check(&sessions[99], at(t)).await.unwrap();
        assert_eq!(shared.checks.load(Ordering::SeqCst), before);
    }
}
