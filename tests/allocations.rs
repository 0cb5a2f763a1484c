//! Heap allocations per seal and per open, counted by a counting global
//! allocator (`stats_alloc`; the `unsafe impl GlobalAlloc` lives there,
//! since `unsafe_code` is forbidden in every target of this package).
//!
//! The counts are exact and deterministic, so they are asserted: a change
//! that adds an allocation to the hot path fails here. This is a
//! `harness = false` test so that no test-runner thread allocates while a
//! count is running.

#![allow(
    clippy::unwrap_used,
    reason = "a test without the harness: a failed setup should stop it"
)]

use std::alloc::System;

use sealed_session::{KeyId, Keyring, SessionCodec};
use serde::{Deserialize, Serialize};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// The typical session of the benches.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Session {
    user_id: u64,
    name: String,
    roles: Vec<String>,
    csrf: [u8; 32],
    issued_at: u64,
}

fn session() -> Session {
    Session {
        user_id: 4_200_042,
        name: "Ada Lovelace-Kin".to_owned(),
        roles: vec!["admin".to_owned(), "editor".to_owned(), "viewer".to_owned()],
        csrf: [7; 32],
        issued_at: 1_764_000_000,
    }
}

/// Allocations (reallocations included) made by `f`.
fn allocations<R>(f: impl FnOnce() -> R) -> (usize, R) {
    let region = Region::new(GLOBAL);
    let out = f();
    let stats = region.change();
    (stats.allocations + stats.reallocations, out)
}

struct Check {
    passed: usize,
    failed: usize,
}

impl Check {
    fn expect(&mut self, what: &str, got: usize, want: usize) {
        let verdict = if got == want { "ok" } else { "FAILED" };
        println!("{what:<52} {got:>2} allocations (expected {want}) ... {verdict}");
        if got == want {
            self.passed += 1;
        } else {
            self.failed += 1;
        }
    }
}

fn main() {
    let codec = SessionCodec::builder(Keyring::generate(KeyId(1)).unwrap())
        .build()
        .unwrap();
    let s = session();
    let payload = vec![b'x'; 256];
    let meta = codec.new_session(None).unwrap();
    // Warm up: one-time initialisation (CPU feature detection, the
    // generator) is not part of a seal.
    let value = codec.seal(&s).unwrap();
    codec.open::<Session>(&value).unwrap();

    // What the app's own type allocates when it is deserialized: the
    // floor for any `open` that returns it.
    let encoded = postcard::to_allocvec(&s).unwrap();
    let (own, _) = allocations(|| postcard::from_bytes::<Session>(&encoded).unwrap());

    let mut check = Check {
        passed: 0,
        failed: 0,
    };
    // Seal: the sealing buffer, sized once, and the returned String.
    let (n, value) = allocations(|| codec.seal(&s).unwrap());
    check.expect("seal (new session, typical struct)", n, 2);
    let (n, _) = allocations(|| codec.seal_session(&meta, &s).unwrap());
    check.expect("reseal (typical struct)", n, 2);
    let (n, raw) = allocations(|| codec.seal_session_raw(&meta, &payload).unwrap());
    check.expect("seal_session_raw (256 bytes)", n, 2);
    let big = vec![b'x'; 2900];
    let (n, _) = allocations(|| codec.seal_session_raw(&meta, &big).unwrap());
    check.expect("seal_session_raw (2900 bytes)", n, 2);

    // Open: the decoded buffer, plus whatever the app's type owns.
    let (n, opened) = allocations(|| codec.open::<Session>(&value).unwrap());
    assert_eq!(opened.data, s);
    check.expect(
        &format!("open (typical struct, which owns {own})"),
        n,
        1 + own,
    );
    let (n, opened) = allocations(|| codec.open_raw(&raw).unwrap());
    assert_eq!(opened.data, payload);
    check.expect("open_raw (256 bytes, buffer handed back)", n, 1);
    let small = codec.seal(&7u64).unwrap();
    let (n, _) = allocations(|| codec.open::<u64>(&small).unwrap());
    check.expect("open (u64)", n, 1);

    // A refused value allocates nothing before the base64 check, and
    // nothing is left behind after it.
    let (n, _) = allocations(|| codec.open::<u64>("AQAAAAE-not-a-real-value").unwrap_err());
    check.expect("open (malformed, refused by length)", n, 0);

    println!(
        "\nallocations: {} passed, {} failed",
        check.passed, check.failed
    );
    if check.failed > 0 {
        std::process::exit(1);
    }
}
