//! The properties the fuzz targets in `fuzz/` check, shared with the
//! regression tests in `tests/fuzz_regressions.rs`: one source, so an input
//! the fuzzer reports replays here under a plain `cargo test`.
//!
//! A violated property panics (that is how libFuzzer learns of it). A
//! refusal the crate is allowed to make is never a panic.

pub mod cookie_header;
pub mod grammar;
pub mod open;
pub mod policy;
pub mod reference;
pub mod roundtrip;
pub mod set_cookie;
