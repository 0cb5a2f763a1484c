//! The `base64_engines` target's property: `base64`'s SIMD engine (the
//! crate's `simd-base64` feature, `unsafe` code reading the untrusted
//! cookie) agrees with the portable engine the crate uses by default, on
//! every input, for decoding and encoding, with the crate's strict
//! configuration (no padding, non-zero trailing bits refused).

use std::sync::LazyLock;

use base64::Engine as _;
use base64::engine::Simd;
use base64::engine::general_purpose::{NO_PAD, URL_SAFE_NO_PAD};

static SIMD: LazyLock<Simd> = LazyLock::new(|| Simd::url_safe(NO_PAD));

/// The alphabet, to turn fuzzer bytes into mostly valid text.
const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Both engines decode `text` to the same bytes, or both refuse it, with
/// `decode` and with `decode_slice` into a buffer of the crate's size.
fn same_decode(text: &str) {
    let portable = URL_SAFE_NO_PAD.decode(text).ok();
    let simd = SIMD.decode(text).ok();
    assert_eq!(simd, portable, "decode of {} characters", text.len());
    let mut a = vec![0u8; text.len() * 3 / 4 + 3];
    let mut b = a.clone();
    let pa = URL_SAFE_NO_PAD.decode_slice(text, &mut a).ok();
    let pb = SIMD.decode_slice(text, &mut b).ok();
    assert_eq!(pa, pb, "decode_slice length");
    if let Some(n) = pa {
        assert_eq!(a[..n], b[..n], "decode_slice bytes");
    }
}

/// Runs the property on raw fuzzer bytes: as text; as the encoding of the
/// bytes (valid); and as that encoding with one character replaced, one
/// cut off, or one appended, where the engines' fast paths and their
/// fallbacks meet.
pub fn check(data: &[u8]) {
    same_decode(&String::from_utf8_lossy(data));
    let encoded = URL_SAFE_NO_PAD.encode(data);
    assert_eq!(SIMD.encode(data), encoded, "encode of {} bytes", data.len());
    same_decode(&encoded);
    if let [at, with, ..] = data {
        let mut bytes = encoded.clone().into_bytes();
        if !bytes.is_empty() {
            let i = usize::from(*at) % bytes.len();
            // Half the time an alphabet character, else any ASCII.
            bytes[i] = if with & 1 == 0 {
                ALPHABET[usize::from(with >> 2)]
            } else {
                with & 0x7f
            };
            same_decode(&String::from_utf8_lossy(&bytes));
            same_decode(&encoded[..encoded.len() - 1]);
        }
        same_decode(&format!(
            "{encoded}{}",
            char::from(ALPHABET[usize::from(*with) % 64])
        ));
    }
}
