//! Each system's app called as a service, in process (`src/in_process.rs`):
//! no TCP and no HTTP parsing, so what is left is the framework, the
//! session layer and the handler, and the figures are far steadier than
//! over HTTP.
//!
//! Ids: `request/<system>/<route>`, systems as in `src/lib.rs`, routes
//! `read`, `write` and `none`; `core/open` and `core/seal`, what the
//! sealed-session routes spend in the crate's core. A layer's own time on
//! a route is its system's time minus its framework's floor (`none`,
//! `actix_none`) on that route, minus the open and seal the route does:
//! `python3 table.py` prints it.
//!
//! ```sh
//! cd benches/e2e && cargo bench --bench in_process && python3 table.py
//! ```

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use sealed_session_e2e::SYSTEMS;
use sealed_session_e2e::in_process::{ROUTES, caller, core_op};

fn core(c: &mut Criterion) {
    let mut group = c.benchmark_group("core");
    for op in ["open", "seal"] {
        let mut f = core_op(op);
        group.bench_function(op, |b| b.iter(&mut f));
    }
    group.finish();
}

fn requests(c: &mut Criterion) {
    let mut group = c.benchmark_group("request");
    for system in SYSTEMS {
        let mut call = caller(system);
        for route in ROUTES {
            group.bench_function(BenchmarkId::new(system, route), |b| {
                b.iter(|| black_box(call(black_box(route))));
            });
        }
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = core, requests
}
criterion_main!(benches);
