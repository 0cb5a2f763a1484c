//! The extra cost per request of a freshness store, on the adapters' path
//! (`Session::load_async`, then `finish_async`), for a request that opens a
//! session:
//!
//! - `none`: no store (stateless);
//! - `memory`: `MemoryStore`;
//! - `redis`: `RedisStore` on loopback, every request a cache miss;
//! - `redis+cache`: `CachedStore` in front of it, answering from the cache;
//! - `redis renewal`: `RedisStore`, every request re-sealing the session
//!   (the check, then the re-seal recorded).
//!
//! ```sh
//! redis-server --port 6390 --bind 127.0.0.1 --save '' --daemonize yes
//! SESSION_BENCH_REDIS_URL=redis://127.0.0.1:6390/ \
//!     cargo bench --bench store --features redis -- 20000
//! ```
//!
//! The systems run in interleaved rounds in one process, so they are
//! compared under the same load. Printed per system: the median and p99
//! wall time per request, and the Redis round trips per request (script
//! calls, from `INFO commandstats`). The optional argument is the number
//! of requests per system.

#![allow(
    clippy::expect_used,
    clippy::print_stdout,
    reason = "a benchmark whose setup fails has nothing to measure; it prints its figures"
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use sealed_session::{
    CachedStore, FreshnessStore, KeyId, Keyring, ManualClock, MemoryStore, RedisOptions,
    RedisStore, Session, Sessions, SetCookie,
};

/// The systems, in the order they run in each round.
const SYSTEMS: [&str; 5] = ["none", "memory", "redis", "redis+cache", "redis renewal"];
const ROUNDS: usize = 10;

struct System {
    sessions: Sessions,
    cookie: String,
    times: Vec<Duration>,
    redis_calls: u64,
}

/// One request: open the session, read it, write the response's cookies.
async fn request(sessions: &Sessions, cookie: &str) -> usize {
    let session = Session::<String>::load_async(sessions, [cookie]).await;
    assert!(session.get().is_some(), "the session opens");
    session.finish_async().await.expect("finish").len()
}

fn cookie_of(sessions: &Sessions) -> String {
    let session = Session::<String>::load(sessions, []);
    session.insert("user-42".to_owned());
    SetCookie::cookie_header(&session.finish().expect("finish"))
}

/// Script calls (`EVAL`, `EVALSHA`) the server has run: each is one round
/// trip, and on this path the store sends nothing else (the commands a
/// script runs inside the server are not counted).
async fn script_calls(con: &mut redis::aio::MultiplexedConnection) -> u64 {
    let info: String = redis::cmd("INFO")
        .arg("commandstats")
        .query_async(con)
        .await
        .expect("INFO");
    info.lines()
        .filter(|l| l.starts_with("cmdstat_eval:") || l.starts_with("cmdstat_evalsha:"))
        .filter_map(|l| {
            l.split_once("calls=")?
                .1
                .split(',')
                .next()?
                .parse::<u64>()
                .ok()
        })
        .sum()
}

/// The `per_mille`-th of 1000 (nearest rank) of sorted times.
fn percentile(sorted: &[Duration], per_mille: usize) -> Duration {
    let rank = (sorted.len() * per_mille).div_ceil(1000);
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let per_system: usize = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with("--"))
        .map_or(20_000, |n| n.parse().expect("requests per system"));
    let url = std::env::var("SESSION_BENCH_REDIS_URL")
        .expect("SESSION_BENCH_REDIS_URL: a redis-server to measure against");
    let keyring = Keyring::generate(KeyId(1)).expect("keyring");
    let prefix = format!(
        "bench-{}:",
        sealed_session::SessionId::random().expect("id").to_hex()
    );
    let redis = Arc::new(
        RedisStore::connect(&url, RedisOptions::default().prefix(prefix))
            .await
            .expect("connect to SESSION_BENCH_REDIS_URL"),
    );
    let stores: [Option<Arc<dyn FreshnessStore>>; 5] = [
        None,
        Some(Arc::new(MemoryStore::new(
            10_000,
            &sealed_session::Lifetime::default(),
        ))),
        Some(redis.clone()),
        Some(Arc::new(CachedStore::new(
            redis.clone(),
            Duration::from_secs(3600),
            10_000,
        ))),
        Some(redis),
    ];
    let renewal = SYSTEMS.len() - 1;
    let mut systems: Vec<System> = Vec::new();
    for (i, store) in stores.into_iter().enumerate() {
        let clock = ManualClock::at_unix(time::OffsetDateTime::now_utc().unix_timestamp());
        let mut b = Sessions::builder(keyring.clone()).clock(Arc::new(clock.clone()));
        if let Some(store) = store {
            b = b.store(store);
        }
        let sessions = b.build().expect("sessions");
        let cookie = cookie_of(&sessions);
        if i == renewal {
            // Past its renewal time: every request re-seals it (and, the
            // clock standing still, the old value stays in its grace).
            clock.advance(time::Duration::minutes(6));
        }
        systems.push(System {
            sessions,
            cookie,
            times: Vec::with_capacity(per_system),
            redis_calls: 0,
        });
    }
    let client = redis::Client::open(url.as_str()).expect("redis url");
    let mut con = client
        .get_multiplexed_async_connection()
        .await
        .expect("redis connection");
    // Warm up (connections, the cache, the allocator), and check that each
    // system does what it is named for.
    for (i, s) in systems.iter().enumerate() {
        for _ in 0..200 {
            let written = request(&s.sessions, &s.cookie).await;
            assert_eq!(written > 0, i == renewal, "{}", SYSTEMS[i]);
        }
    }
    let per_round = per_system / ROUNDS;
    for _ in 0..ROUNDS {
        for s in &mut systems {
            let before = script_calls(&mut con).await;
            for _ in 0..per_round {
                let started = Instant::now();
                std::hint::black_box(request(&s.sessions, &s.cookie).await);
                s.times.push(started.elapsed());
            }
            s.redis_calls += script_calls(&mut con).await - before;
        }
    }
    let base = {
        let mut t = systems[0].times.clone();
        t.sort_unstable();
        percentile(&t, 500)
    };
    println!(
        "{:<14} {:>10} {:>10} {:>14} {:>16}",
        "system", "median", "p99", "median - none", "round trips/req"
    );
    for (name, s) in SYSTEMS.iter().zip(&mut systems) {
        s.times.sort_unstable();
        let median = percentile(&s.times, 500);
        let p99 = percentile(&s.times, 990);
        println!(
            "{:<14} {:>8.1}µs {:>8.1}µs {:>12.1}µs {:>16.2}",
            name,
            median.as_secs_f64() * 1e6,
            p99.as_secs_f64() * 1e6,
            (median.as_secs_f64() - base.as_secs_f64()) * 1e6,
            s.redis_calls as f64 / s.times.len() as f64
        );
    }
}
