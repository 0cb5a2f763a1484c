//! The v1 wire format as bytes: `version | key id | nonce | ciphertext | tag`,
//! written as base64url without padding. See `docs/FORMAT.md`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use zeroize::Zeroizing;

use crate::aead::{Cipher, NONCE_LEN, TAG_LEN};
use crate::error::{Error, ErrorKind, Result};
use crate::key::KeyId;

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
pub(crate) fn associated_data(key_id: KeyId, name: &str, purpose: &str) -> Result<Vec<u8>> {
    let name_len = u16::try_from(name.len())
        .map_err(|_| Error::with(ErrorKind::Config, "the cookie name is too long"))?;
    let purpose_len = u16::try_from(purpose.len())
        .map_err(|_| Error::with(ErrorKind::Config, "the purpose is too long"))?;
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

/// A buffer that already holds the header and nonce; the caller appends the
/// plaintext and then calls [`seal`].
pub(crate) fn start(key_id: KeyId, nonce: &[u8; NONCE_LEN], capacity: usize) -> Vec<u8> {
    let mut buf = Vec::with_capacity(OVERHEAD + capacity);
    buf.extend_from_slice(&header(key_id));
    buf.extend_from_slice(nonce);
    buf
}

/// Encrypts the plaintext that follows the header and nonce in `buf`,
/// appends the tag and returns the base64url text. The plaintext copy in
/// `buf` is overwritten by ciphertext, and `buf` is zeroized when dropped.
pub(crate) fn seal(cipher: &Cipher, aad: &[u8], buf: Vec<u8>) -> Result<String> {
    let mut buf = Zeroizing::new(buf);
    let (head, body) = buf.split_at_mut(BODY);
    let mut nonce = [0u8; NONCE_LEN];
    nonce.copy_from_slice(&head[HEADER_LEN..]);
    let tag = cipher.seal(&nonce, aad, body)?;
    buf.extend_from_slice(&tag);
    Ok(URL_SAFE_NO_PAD.encode(buf.as_slice()))
}

/// A decoded value whose tag has not been checked yet.
#[derive(Debug)]
pub(crate) struct Untrusted {
    bytes: Zeroizing<Vec<u8>>,
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
        let bytes = Zeroizing::new(
            URL_SAFE_NO_PAD
                .decode(value)
                .map_err(|_| Error::with(ErrorKind::Malformed, "not canonical base64url"))?,
        );
        if bytes[0] != VERSION {
            return Err(Error::with(ErrorKind::Malformed, "unknown format version"));
        }
        Ok(Self { bytes })
    }

    /// The key id from the header.
    pub(crate) fn key_id(&self) -> KeyId {
        let mut id = [0u8; 4];
        id.copy_from_slice(&self.bytes[1..HEADER_LEN]);
        KeyId(u32::from_be_bytes(id))
    }

    /// Authenticates with `cipher` and `aad` (which must be the associated
    /// data for [`Self::key_id`]) and returns the plaintext.
    pub(crate) fn open(mut self, cipher: &Cipher, aad: &[u8]) -> Result<Plaintext> {
        let len = self.bytes.len();
        let (head, rest) = self.bytes.split_at_mut(BODY);
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

/// Authenticated plaintext; zeroized on drop.
#[derive(Debug)]
pub(crate) struct Plaintext {
    bytes: Zeroizing<Vec<u8>>,
    end: usize,
}

impl Plaintext {
    pub(crate) fn as_slice(&self) -> &[u8] {
        &self.bytes[BODY..self.end]
    }
}
