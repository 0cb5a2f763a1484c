//! Arbitrary bytes as a cookie value, under a fixed keyring and clock.
//! The property is in `tests/fuzz_checks/open.rs`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use sealed_session_fuzz::checks::open;

fuzz_target!(|data: &[u8]| open::check(data));
