//! The v1 wire format as bytes: `version | key id | nonce | ciphertext | tag`,
//! written as base64url without padding. See `docs/FORMAT.md`.

use base64::Engine;
use zeroize::Zeroize as _;

use crate::error::{ConfigError, Error, ErrorKind, Result};
use crate::keys::key::KeyId;
use crate::seal::aead::{Cipher, NONCE_LEN, TAG_LEN};

/// The format version byte this crate writes and reads.
pub(crate) const VERSION: u8 = 1;
/// Version byte plus the 4-byte big-endian key id.
pub(crate) const HEADER_LEN: usize = 1 + 4;
/// Bytes a sealed value adds to its plaintext before base64: 45.
pub(crate) const OVERHEAD: usize = HEADER_LEN + NONCE_LEN + TAG_LEN;
/// Where the ciphertext starts.
const BODY: usize = HEADER_LEN + NONCE_LEN;

const _: () = assert!(
    OVERHEAD <= 48,
    "issue #2 caps the fixed overhead at 48 bytes"
);

/// The base64url engine, strict in both builds: no padding, and non-zero
/// trailing bits refused.
#[cfg(not(feature = "simd-base64"))]
fn base64url() -> &'static impl Engine {
    &base64::engine::general_purpose::URL_SAFE_NO_PAD
}

/// The base64url engine, strict in both builds: no padding, and non-zero
/// trailing bits refused. With `simd-base64`, AVX2 or NEON when the CPU
/// has it (detected once), else the portable code.
#[cfg(feature = "simd-base64")]
fn base64url() -> &'static impl Engine {
    use base64::engine::{Simd, general_purpose::NO_PAD};
    static ENGINE: std::sync::LazyLock<Simd> = std::sync::LazyLock::new(|| Simd::url_safe(NO_PAD));
    &*ENGINE
}

/// The number of base64url characters (no padding) that encode `n` bytes.
pub(crate) const fn encoded_len(n: usize) -> usize {
    (n * 4).div_ceil(3)
}

/// The shortest possible sealed value, in characters.
pub(crate) const MIN_ENCODED_LEN: usize = encoded_len(OVERHEAD);

/// The associated data for `key_id`: the header followed by the cookie name
/// and the purpose, each prefixed by its length as a big-endian `u16`.
/// Lengths make the encoding unambiguous: `("ab", "c")` and `("a", "bc")`
/// differ.
pub(crate) fn associated_data(
    key_id: KeyId,
    name: &str,
    purpose: &str,
) -> Result<Vec<u8>, ConfigError> {
    let name_len =
        u16::try_from(name.len()).map_err(|_| ConfigError::new("the cookie name is too long"))?;
    let purpose_len =
        u16::try_from(purpose.len()).map_err(|_| ConfigError::new("the purpose is too long"))?;
    let mut aad = Vec::with_capacity(HEADER_LEN + 4 + name.len() + purpose.len());
    aad.extend_from_slice(&header(key_id));
    aad.extend_from_slice(&name_len.to_be_bytes());
    aad.extend_from_slice(name.as_bytes());
    aad.extend_from_slice(&purpose_len.to_be_bytes());
    aad.extend_from_slice(purpose.as_bytes());
    Ok(aad)
}

fn header(key_id: KeyId) -> [u8; HEADER_LEN] {
    let id = key_id.0.to_be_bytes();
    [VERSION, id[0], id[1], id[2], id[3]]
}

/// An envelope being sealed: header and nonce written, then room for
/// exactly the plaintext and the tag. The buffer is sized once and never
/// grows, so no copy of the plaintext is left behind by a reallocation; if
/// it is dropped before [`Sealing::seal`] encrypts it (an error, or a panic
/// in the app's `Serialize`), the plaintext is wiped.
#[derive(Debug)]
pub(crate) struct Sealing {
    bytes: SecretBytes,
    /// Where the plaintext ends: `BODY` plus the length given to `new`.
    end: usize,
}

impl Sealing {
    /// A buffer for a value of `plaintext_len` plaintext bytes, with room
    /// for all of it and the tag, so it never reallocates (which would
    /// leave an unwiped copy of the plaintext in freed memory).
    pub(crate) fn new(key_id: KeyId, nonce: &[u8; NONCE_LEN], plaintext_len: usize) -> Self {
        let mut bytes = Vec::with_capacity(OVERHEAD + plaintext_len);
        bytes.extend_from_slice(&header(key_id));
        bytes.extend_from_slice(nonce);
        Self {
            bytes: SecretBytes(bytes),
            end: BODY + plaintext_len,
        }
    }

    /// Appends `bytes` to the plaintext, without first zeroing the room.
    ///
    /// # Errors
    /// [`ErrorKind::Serialize`] past the length given to `new`.
    pub(crate) fn append(&mut self, bytes: &[u8]) -> Result<()> {
        if bytes.len() > self.room() {
            return Err(Error::new(ErrorKind::Serialize));
        }
        self.bytes.0.extend_from_slice(bytes);
        Ok(())
    }

    /// The plaintext bytes still to append.
    pub(crate) fn room(&self) -> usize {
        self.end - self.bytes.0.len()
    }

    /// Appends `n` zero bytes to the plaintext and returns them, for
    /// encoders that write into a slice.
    ///
    /// # Errors
    /// [`ErrorKind::Serialize`] past the length given to `new`.
    pub(crate) fn append_zeroed(&mut self, n: usize) -> Result<&mut [u8]> {
        let start = self.bytes.0.len();
        if n > self.room() {
            return Err(Error::new(ErrorKind::Serialize));
        }
        self.bytes.0.resize(start + n, 0);
        Ok(&mut self.bytes.0[start..])
    }

    /// Encrypts the plaintext in place, appends the tag and returns the
    /// base64url text. What is left in the buffer is the value itself, so
    /// it is freed without wiping.
    ///
    /// # Errors
    /// [`ErrorKind::Serialize`] if less plaintext was appended than `new`
    /// was told; otherwise as the cipher's seal.
    pub(crate) fn seal(mut self, cipher: &Cipher, aad: &[u8]) -> Result<String> {
        let buf = &mut self.bytes.0;
        if buf.len() != self.end {
            return Err(Error::new(ErrorKind::Serialize));
        }
        let (head, body) = buf.split_at_mut(BODY);
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&head[HEADER_LEN..]);
        let tag = cipher.seal(&nonce, aad, body)?;
        buf.extend_from_slice(&tag);
        let value = base64url().encode(buf.as_slice());
        drop(core::mem::take(buf));
        Ok(value)
    }
}

/// A decoded value whose tag has not been checked yet.
#[derive(Debug)]
pub(crate) struct Untrusted {
    bytes: SecretBytes,
}

impl Untrusted {
    /// Decodes `value`, checking in this order, with no AEAD call for any
    /// failure: length at most `max_len`, length at least the overhead,
    /// canonical base64url without padding, version byte.
    pub(crate) fn decode(value: &str, max_len: usize) -> Result<Self> {
        if value.len() > max_len {
            return Err(Error::with(ErrorKind::Malformed, "value too long"));
        }
        if value.len() < MIN_ENCODED_LEN {
            return Err(Error::with(ErrorKind::Malformed, "value too short"));
        }
        let mut bytes = SecretBytes(Vec::with_capacity(base64::decoded_len_estimate(
            value.len(),
        )));
        base64url()
            .decode_vec(value, &mut bytes.0)
            .map_err(|_| Error::with(ErrorKind::Malformed, "not canonical base64url"))?;
        if bytes.0[0] != VERSION {
            return Err(Error::with(ErrorKind::Malformed, "unknown format version"));
        }
        Ok(Self { bytes })
    }

    /// The key id from the header.
    pub(crate) fn key_id(&self) -> KeyId {
        let mut id = [0u8; 4];
        id.copy_from_slice(&self.bytes.0[1..HEADER_LEN]);
        KeyId(u32::from_be_bytes(id))
    }

    /// Authenticates with `cipher` and `aad` (which must be the associated
    /// data for [`Self::key_id`]) and returns the plaintext.
    pub(crate) fn open(mut self, cipher: &Cipher, aad: &[u8]) -> Result<Plaintext> {
        let len = self.bytes.0.len();
        let (head, rest) = self.bytes.0.split_at_mut(BODY);
        let (body, tag) = rest.split_at_mut(len - BODY - TAG_LEN);
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&head[HEADER_LEN..]);
        let mut tag_bytes = [0u8; TAG_LEN];
        tag_bytes.copy_from_slice(tag);
        cipher.open(&nonce, aad, body, &tag_bytes)?;
        Ok(Plaintext {
            bytes: self.bytes,
            end: len - TAG_LEN,
        })
    }
}

/// Authenticated plaintext; wiped on drop.
#[derive(Debug)]
pub(crate) struct Plaintext {
    bytes: SecretBytes,
    end: usize,
}

impl Plaintext {
    pub(crate) fn as_slice(&self) -> &[u8] {
        &self.bytes.0[BODY..self.end]
    }

    /// The plaintext bytes from `start` on, as a vector that reuses this
    /// buffer (no second allocation); everything else in it is wiped first.
    pub(crate) fn into_tail(mut self, start: usize) -> Vec<u8> {
        let from = BODY + start.min(self.end - BODY);
        let len = self.end - from;
        let mut bytes = core::mem::take(&mut self.bytes.0);
        bytes.copy_within(from..self.end, 0);
        bytes[len..].zeroize();
        bytes.truncate(len);
        bytes
    }
}

/// Bytes that may hold plaintext: wiped, spare capacity included, on drop.
///
/// `Zeroizing<Vec<u8>>` would do the same one volatile byte store at a
/// time (zeroize 1.9 wipes a `Vec`'s elements through an iterator); a
/// byte slice is wiped with one fill and an optimization barrier.
#[derive(Default)]
struct SecretBytes(Vec<u8>);

impl core::fmt::Debug for SecretBytes {
    /// The length only: the bytes may be plaintext.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "SecretBytes({} bytes, redacted)", self.0.len())
    }
}

impl Drop for SecretBytes {
    fn drop(&mut self) {
        // Empty ranges are skipped, not only for speed: a zero-length wipe
        // still calls `memset`, and glibc's AVX-512 `memset` then issues a
        // fully masked store, which at the dangling address of an empty
        // `Vec` takes a microcode assist (about 100 ns on the machine of
        // docs/PERFORMANCE.md).
        if !self.0.is_empty() {
            self.0.as_mut_slice().zeroize();
        }
        let spare = self.0.spare_capacity_mut();
        if !spare.is_empty() {
            spare.zeroize();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::key::Key;

    /// Debug output of every buffer type shows lengths, never bytes.
    #[test]
    fn debug_never_shows_the_bytes() {
        let cipher = Cipher::new(&Key::from_bytes(&[7; 32]).unwrap());
        let mut sealing = Sealing::new(KeyId(1), &[9; NONCE_LEN], 4);
        sealing.append(b"\xde\xad").unwrap();
        sealing
            .append_zeroed(2)
            .unwrap()
            .copy_from_slice(b"\xbe\xef");
        assert!(sealing.append(b"!").is_err(), "past the plaintext's length");
        let shown = format!("{sealing:?}");
        assert!(
            shown.contains("redacted") && !shown.contains("222"),
            "{shown}"
        );
        let value = sealing.seal(&cipher, b"aad").unwrap();
        let untrusted = Untrusted::decode(&value, 4096).unwrap();
        let plaintext = untrusted.open(&cipher, b"aad").unwrap();
        assert_eq!(plaintext.as_slice(), b"\xde\xad\xbe\xef");
        let shown = format!("{plaintext:?}");
        assert!(
            shown.contains("redacted") && !shown.contains("222"),
            "{shown}"
        );
    }

    /// With `simd-base64`, the SIMD engine agrees with the portable one on
    /// valid and damaged text (the `base64_engines` fuzz target checks the
    /// same, for longer, in CI's smoke run).
    #[cfg(feature = "simd-base64")]
    #[test]
    fn the_simd_engine_agrees_with_the_portable_one() {
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        use proptest::prelude::*;
        proptest!(|(bytes in proptest::collection::vec(any::<u8>(), 0..600), at in any::<usize>(), with in 0u8..128)| {
            let text = URL_SAFE_NO_PAD.encode(&bytes);
            prop_assert_eq!(base64url().encode(&bytes), text.clone());
            let mut damaged = text.clone().into_bytes();
            if !damaged.is_empty() {
                let i = at % damaged.len();
                damaged[i] = with;
            }
            for t in [text.clone(), String::from_utf8_lossy(&damaged).into_owned(), format!("{text}A")] {
                prop_assert_eq!(base64url().decode(&t).ok(), URL_SAFE_NO_PAD.decode(&t).ok());
            }
        });
    }
}
