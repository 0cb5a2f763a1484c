//! Runs one operation of the comparison in a loop, for instruction counts
//! that stay stable on a loaded machine (timings do not):
//!
//! ```sh
//! cargo bench --bench ops --no-run
//! valgrind --tool=callgrind --collect-atstart=no --toggle-collect='ops::measured' \
//!     target/release/deps/ops-* seal sealed_session 256 10000
//! ```
//!
//! Arguments: `seal|open|seal_open`, `sealed_session|cookie_private|floor|floor_v1`,
//! `session|64|256|1024|3000`, and the number of iterations. Divide the
//! instructions reported by the number of iterations.
//! `tools/callgrind_table.sh` runs every combination.

#![allow(
    clippy::expect_used,
    reason = "a benchmark whose setup fails has nothing to measure"
)]

use std::hint::black_box;

mod common;
use common::{CookieJar, Floor, payload, session};

#[derive(Clone, Copy)]
enum Op {
    Seal,
    Open,
    SealOpen,
}

/// Every instruction counted is in here.
#[inline(never)]
fn measured(iters: u64, mut step: impl FnMut()) {
    for _ in 0..iters {
        step();
    }
}

fn main() {
    // `cargo bench` appends `--bench`; ignore flags.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let usage = "usage: ops seal|open|seal_open sealed_session|cookie_private|floor|floor_v1 session|SIZE [ITERS]";
    let [op, system, size, rest @ ..] = args.as_slice() else {
        eprintln!("{usage}");
        std::process::exit(2);
    };
    let op = match op.as_str() {
        "seal" => Op::Seal,
        "open" => Op::Open,
        "seal_open" => Op::SealOpen,
        _ => panic!("{usage}"),
    };
    let iters: u64 = rest
        .first()
        .map_or(10_000, |n| n.parse().expect("iterations"));
    let s = session();
    let raw = (size != "session").then(|| payload(size.parse().expect("size")));

    match system.as_str() {
        "sealed_session" => {
            let codec = common::codec();
            let meta = common::meta(&codec);
            let seal = || match raw {
                Some(p) => common::ss_seal_raw(&codec, &meta, p.as_bytes()),
                None => common::ss_seal_session(&codec, &meta, &s),
            };
            let open = |v: &str| match raw {
                Some(_) => {
                    black_box(common::ss_open_raw(&codec, v));
                }
                None => {
                    black_box(common::ss_open_session(&codec, v));
                }
            };
            let value = seal();
            match op {
                Op::Seal => measured(iters, || {
                    black_box(seal());
                }),
                Op::Open => measured(iters, || open(black_box(&value))),
                Op::SealOpen => measured(iters, || open(&seal())),
            }
        }
        "cookie_private" => {
            let mut jar = CookieJar::new();
            let sealed = match raw {
                Some(p) => jar.sealed(p),
                None => jar.sealed_session(&s),
            };
            match (op, raw) {
                (Op::Seal, Some(p)) => measured(iters, || {
                    black_box(jar.seal(black_box(p)));
                }),
                (Op::Seal, None) => measured(iters, || jar.seal_session(black_box(&s))),
                (Op::Open, Some(_)) => measured(iters, || {
                    black_box(jar.open(black_box(&sealed)));
                }),
                (Op::Open, None) => measured(iters, || {
                    black_box(jar.open_session(black_box(&sealed)));
                }),
                (Op::SealOpen, Some(p)) => measured(iters, || {
                    jar.seal(black_box(p));
                    black_box(jar.get_value());
                }),
                (Op::SealOpen, None) => measured(iters, || {
                    jar.seal_session(black_box(&s));
                    black_box(jar.get_session());
                }),
            }
        }
        "floor" | "floor_v1" => {
            let floor = if system == "floor" {
                Floor::new()
            } else {
                Floor::v1()
            };
            let seal = || match raw {
                Some(p) => floor.seal(p.as_bytes()),
                None => floor.seal_session(&s),
            };
            let open = |v: &str| match raw {
                Some(_) => {
                    black_box(floor.open(v));
                }
                None => {
                    black_box(floor.open_session(v));
                }
            };
            let value = seal();
            match op {
                Op::Seal => measured(iters, || {
                    black_box(seal());
                }),
                Op::Open => measured(iters, || open(black_box(&value))),
                Op::SealOpen => measured(iters, || open(&seal())),
            }
        }
        _ => panic!("{usage}"),
    }
}
