//! Arbitrary `Cookie` header values, with placeholders for genuine seals
//! and their chunks, through `Sessions::open` and `remove`.
//! The property is in `tests/fuzz_checks/cookie_header.rs`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use sealed_session_fuzz::checks::cookie_header;

fuzz_target!(|data: &[u8]| cookie_header::check(data));
