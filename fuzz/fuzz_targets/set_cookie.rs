//! Any cookie policy configuration, payload size, clock and carried names:
//! `build` refuses exactly the invalid ones, and every `Set-Cookie` from
//! `seal` and `remove` is well-formed. The property is in
//! `tests/fuzz_checks/set_cookie.rs`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use sealed_session_fuzz::SetCookieInput;
use sealed_session_fuzz::checks::set_cookie;

fuzz_target!(|input: SetCookieInput| {
    let _ = set_cookie::check(&input.0);
});
