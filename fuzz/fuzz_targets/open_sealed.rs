//! Arbitrary plaintext (claims and data), sealed under the `open` target's
//! keys by the reference sealer, then opened: the code after the tag.
//! The property is in `tests/fuzz_checks/open.rs` (`check_plaintext`).

#![no_main]

use libfuzzer_sys::fuzz_target;
use sealed_session_fuzz::checks::open;

fuzz_target!(|data: &[u8]| open::check_plaintext(data));
