//! Any payload under any configuration: `open(seal(x)) == x` and more.
//! The property is in `tests/fuzz_checks/roundtrip.rs`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use sealed_session_fuzz::RoundtripInput;
use sealed_session_fuzz::checks::roundtrip;

fuzz_target!(|input: RoundtripInput| {
    let _ = roundtrip::check(&input.config, &input.payload);
});
