//! `base64`'s SIMD engine against the portable one, differentially: the
//! gate for the crate's `simd-base64` feature. The property is in
//! `fuzz/src/base64_engines.rs`.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sealed_session_fuzz::base64_engines::check(data));
