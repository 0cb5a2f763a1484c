//! Seals and opens per second from one and from two threads sharing one
//! codec: with no lock on the hot path, two threads on two idle cores
//! take half the time per operation.
//!
//! ```sh
//! cargo bench --bench throughput
//! ```
//!
//! Ids: `throughput/seal/<threads>`, `throughput/open/<threads>`. The time
//! reported is wall time per operation over all threads; compare 1 and 2
//! on a quiet machine (each thread needs a core of its own).

#![allow(
    clippy::expect_used,
    reason = "a benchmark whose setup fails has nothing to measure"
)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use sealed_session::SessionCodec;

mod common;
use common::{Session, session};

const THREADS: [u64; 2] = [1, 2];

/// Wall time for `iters` operations split over `threads` scoped threads.
fn split(iters: u64, threads: u64, op: impl Fn() + Sync) -> Duration {
    let start = Instant::now();
    std::thread::scope(|scope| {
        for t in 0..threads {
            let share = iters / threads + u64::from(t < iters % threads);
            let op = &op;
            scope.spawn(move || {
                for _ in 0..share {
                    op();
                }
            });
        }
    });
    start.elapsed()
}

fn throughput(c: &mut Criterion) {
    let codec: SessionCodec = common::codec();
    let s: Session = session();
    let meta = common::meta(&codec);
    let value = codec.seal(&s).expect("seal");
    let mut group = c.benchmark_group("throughput");
    group.throughput(Throughput::Elements(1));
    for threads in THREADS {
        group.bench_function(BenchmarkId::new("seal", threads), |b| {
            b.iter_custom(|iters| {
                split(iters, threads, || {
                    black_box(common::ss_seal_session(&codec, &meta, black_box(&s)));
                })
            });
        });
        group.bench_function(BenchmarkId::new("open", threads), |b| {
            b.iter_custom(|iters| {
                split(iters, threads, || {
                    black_box(codec.open::<Session>(black_box(&value)).expect("open"));
                })
            });
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30)
        .configure_from_args();
    targets = throughput
}
criterion_main!(benches);
