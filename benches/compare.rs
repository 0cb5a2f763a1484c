//! Seal and open, side by side: this crate, the `cookie` crate's
//! `PrivateJar`, and the XChaCha20-Poly1305 + base64url floor, over a
//! typical session and raw payloads of 64 to 3000 bytes.
//!
//! Ids are stable so runs compare over time: `seal/<system>/<size>`,
//! `open/<system>/<size>` and `seal_open/<system>/session`, with systems
//! `sealed_session`, `cookie_private`, `floor` and `floor_v1` (the floor
//! on as many bytes as a v1 value carries; see `benches/common`), and
//! sizes `session`, `64`, `256`, `1024`, `3000`.
//!
//! ```sh
//! cargo bench --bench compare
//! python3 tools/bench_table.py   # the README table from target/criterion
//! ```
//!
//! See docs/PERFORMANCE.md for the build settings to compare.

#![allow(
    clippy::expect_used,
    reason = "a benchmark whose setup fails has nothing to measure"
)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

mod common;
use common::{CookieJar, Floor, SIZES, payload, session};

const SESSION: &str = "session";

fn seal(c: &mut Criterion) {
    let codec = common::codec();
    let meta = common::meta(&codec);
    let floor = Floor::new();
    let floor_v1 = Floor::v1();
    let mut jar = CookieJar::new();
    let s = session();
    let mut group = c.benchmark_group("seal");

    group.throughput(Throughput::Elements(1));
    group.bench_function(BenchmarkId::new("sealed_session", SESSION), |b| {
        b.iter(|| common::ss_seal_session(&codec, &meta, black_box(&s)));
    });
    group.bench_function(BenchmarkId::new("cookie_private", SESSION), |b| {
        b.iter(|| jar.seal_session(black_box(&s)));
    });
    group.bench_function(BenchmarkId::new("floor", SESSION), |b| {
        b.iter(|| floor.seal_session(black_box(&s)));
    });
    group.bench_function(BenchmarkId::new("floor_v1", SESSION), |b| {
        b.iter(|| floor_v1.seal_session(black_box(&s)));
    });

    for size in SIZES {
        let p = payload(size);
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_function(BenchmarkId::new("sealed_session", size), |b| {
            b.iter(|| common::ss_seal_raw(&codec, &meta, black_box(p.as_bytes())));
        });
        group.bench_function(BenchmarkId::new("cookie_private", size), |b| {
            b.iter(|| {
                jar.seal(black_box(p));
            });
        });
        group.bench_function(BenchmarkId::new("floor", size), |b| {
            b.iter(|| floor.seal(black_box(p.as_bytes())));
        });
        group.bench_function(BenchmarkId::new("floor_v1", size), |b| {
            b.iter(|| floor_v1.seal(black_box(p.as_bytes())));
        });
    }
    group.finish();
}

fn open(c: &mut Criterion) {
    let codec = common::codec();
    let meta = common::meta(&codec);
    let floor = Floor::new();
    let floor_v1 = Floor::v1();
    let mut jar = CookieJar::new();
    let s = session();
    let mut group = c.benchmark_group("open");

    group.throughput(Throughput::Elements(1));
    let value = common::ss_seal_session(&codec, &meta, &s);
    group.bench_function(BenchmarkId::new("sealed_session", SESSION), |b| {
        b.iter(|| common::ss_open_session(&codec, black_box(&value)));
    });
    let sealed = jar.sealed_session(&s);
    group.bench_function(BenchmarkId::new("cookie_private", SESSION), |b| {
        b.iter(|| jar.open_session(black_box(&sealed)));
    });
    let value = floor.seal_session(&s);
    group.bench_function(BenchmarkId::new("floor", SESSION), |b| {
        b.iter(|| floor.open_session(black_box(&value)));
    });
    let value = floor_v1.seal_session(&s);
    group.bench_function(BenchmarkId::new("floor_v1", SESSION), |b| {
        b.iter(|| floor_v1.open_session(black_box(&value)));
    });

    for size in SIZES {
        let p = payload(size);
        group.throughput(Throughput::Bytes(size as u64));
        let value = common::ss_seal_raw(&codec, &meta, p.as_bytes());
        group.bench_function(BenchmarkId::new("sealed_session", size), |b| {
            b.iter(|| common::ss_open_raw(&codec, black_box(&value)));
        });
        let sealed = jar.sealed(p);
        group.bench_function(BenchmarkId::new("cookie_private", size), |b| {
            b.iter(|| jar.open(black_box(&sealed)));
        });
        let value = floor.seal(p.as_bytes());
        group.bench_function(BenchmarkId::new("floor", size), |b| {
            b.iter(|| floor.open(black_box(&value)));
        });
        let value = floor_v1.seal(p.as_bytes());
        group.bench_function(BenchmarkId::new("floor_v1", size), |b| {
            b.iter(|| floor_v1.open(black_box(&value)));
        });
    }
    group.finish();
}

fn seal_open(c: &mut Criterion) {
    let codec = common::codec();
    let meta = common::meta(&codec);
    let floor = Floor::new();
    let floor_v1 = Floor::v1();
    let mut jar = CookieJar::new();
    let s = session();
    let mut group = c.benchmark_group("seal_open");
    group.throughput(Throughput::Elements(1));

    group.bench_function(BenchmarkId::new("sealed_session", SESSION), |b| {
        b.iter(|| {
            let value = common::ss_seal_session(&codec, &meta, black_box(&s));
            common::ss_open_session(&codec, &value)
        });
    });
    group.bench_function(BenchmarkId::new("cookie_private", SESSION), |b| {
        b.iter(|| {
            jar.seal_session(black_box(&s));
            jar.get_session()
        });
    });
    for (name, floor) in [("floor", &floor), ("floor_v1", &floor_v1)] {
        group.bench_function(BenchmarkId::new(name, SESSION), |b| {
            b.iter(|| {
                let value = floor.seal_session(black_box(&s));
                floor.open_session(&value)
            });
        });
    }
    group.finish();
}

fn config() -> Criterion {
    // Short by default so a full run stays near two minutes on a shared
    // machine; pass --measurement-time / --sample-size for a careful run.
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(50)
        .configure_from_args()
}

criterion_group! {
    name = benches;
    config = config();
    targets = seal, open, seal_open
}
criterion_main!(benches);
