//! The only file that touches `chacha20poly1305`.
//!
//! Sealing uses XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha-03) with a
//! detached 16-byte tag. The tag is compared in constant time inside
//! `chacha20poly1305` (via `subtle`), and it decrypts only after the tag
//! verifies, so no plaintext exists for a forged value.

use chacha20poly1305::aead::{AeadInOut, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

use crate::error::{Error, ErrorKind, Result};
use crate::keys::key::Key;

/// Nonce length: 192 bits, drawn at random for every seal.
pub(crate) const NONCE_LEN: usize = 24;
/// Tag length: the full Poly1305 tag; never truncated (RFC 8439 §4).
pub(crate) const TAG_LEN: usize = 16;

#[cfg(test)]
thread_local! {
    /// AEAD open calls made on this thread, so tests can assert that a
    /// check happens before any AEAD work.
    pub(crate) static OPEN_CALLS: core::cell::Cell<usize> = const { core::cell::Cell::new(0) };
}

/// One key, ready to seal and open. Zeroized on drop by
/// `chacha20poly1305`'s `zeroize` feature.
#[derive(Clone)]
pub(crate) struct Cipher(XChaCha20Poly1305);

impl Cipher {
    pub(crate) fn new(key: &Key) -> Self {
        Self(XChaCha20Poly1305::new(key.expose().into()))
    }

    /// Encrypts `buf` in place and returns the tag.
    pub(crate) fn seal(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        buf: &mut [u8],
    ) -> Result<[u8; TAG_LEN]> {
        seal_detached(&self.0, nonce, aad, buf)
    }

    /// Verifies `tag` and, only if it verifies, decrypts `buf` in place.
    pub(crate) fn open(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        buf: &mut [u8],
        tag: &[u8; TAG_LEN],
    ) -> Result<()> {
        #[cfg(test)]
        OPEN_CALLS.with(|c| c.set(c.get() + 1));
        open_detached(&self.0, nonce, aad, buf, tag)
    }
}

impl core::fmt::Debug for Cipher {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Cipher(<redacted>)")
    }
}

fn seal_detached<A: AeadInOut>(
    aead: &A,
    nonce: &[u8],
    aad: &[u8],
    buf: &mut [u8],
) -> Result<[u8; TAG_LEN]> {
    let nonce = nonce
        .try_into()
        .map_err(|_| Error::new(ErrorKind::Encrypt))?;
    let tag = aead
        .encrypt_inout_detached(nonce, aad, buf.into())
        .map_err(|_| Error::new(ErrorKind::Encrypt))?;
    let mut out = [0u8; TAG_LEN];
    out.copy_from_slice(tag.as_slice());
    Ok(out)
}

fn open_detached<A: AeadInOut>(
    aead: &A,
    nonce: &[u8],
    aad: &[u8],
    buf: &mut [u8],
    tag: &[u8; TAG_LEN],
) -> Result<()> {
    let nonce = nonce
        .try_into()
        .map_err(|_| Error::new(ErrorKind::Malformed))?;
    let tag = tag
        .as_slice()
        .try_into()
        .map_err(|_| Error::new(ErrorKind::Malformed))?;
    aead.decrypt_inout_detached(nonce, aad, buf.into(), tag)
        .map_err(|_| Error::new(ErrorKind::Unauthenticated))
}

/// 32 bytes of the XChaCha20 keystream for `nonce` under the cipher's key,
/// from block counter 1 (block 0 makes the Poly1305 key): a pseudorandom
/// function of the nonce. Computed as the AEAD ciphertext of 32 zero
/// bytes; the tag is discarded.
pub(crate) fn keystream32(cipher: &Cipher, nonce: &[u8; NONCE_LEN]) -> [u8; 32] {
    let mut block = [0u8; 32];
    // 32 bytes with empty associated data are always within the AEAD's limits.
    let _ = seal_detached(&cipher.0, nonce, &[], &mut block);
    block
}

/// `label`, zero-padded to a nonce.
const fn padded(label: &[u8]) -> [u8; NONCE_LEN] {
    let mut nonce = [0u8; NONCE_LEN];
    let mut i = 0;
    while i < label.len() {
        nonce[i] = label[i];
        i += 1;
    }
    nonce
}

/// The nonce whose keystream under a key is that key's CSRF subkey.
pub(crate) const CSRF_SUBKEY_LABEL: [u8; NONCE_LEN] = padded(b"sealed-session/csrf-key");
/// The nonce whose keystream under a key is that key's fingerprint subkey.
const FINGERPRINT_SUBKEY_LABEL: [u8; NONCE_LEN] = padded(b"sealed-session/fp-key");

/// A subkey for one purpose (key separation, `docs/FORMAT.md` §5): the
/// first 32 bytes of the keystream under the key, with the purpose's fixed
/// label as the nonce. The AEAD key itself only ever seals and opens
/// values; random seal nonces collide with a fixed label with probability
/// 2^-192 per seal.
pub(crate) fn subkey(cipher: &Cipher, label: &[u8; NONCE_LEN]) -> Cipher {
    let bytes = zeroize::Zeroizing::new(keystream32(cipher, label));
    Cipher::new(&Key::from_array(*bytes))
}

/// Label the fingerprint tag is computed over.
const FINGERPRINT_LABEL: &[u8] = b"sealed-session key fingerprint";

/// The Poly1305 tag of an empty message under the key's fingerprint
/// subkey, with the nonce `"sealed-session/fp"` zero-padded to 24 bytes and
/// [`FINGERPRINT_LABEL`] as associated data.
pub(crate) fn fingerprint(key: &Key) -> [u8; TAG_LEN] {
    let fp = subkey(&Cipher::new(key), &FINGERPRINT_SUBKEY_LABEL);
    let nonce = padded(b"sealed-session/fp");
    // An empty message with a short AAD is always within the AEAD's limits.
    seal_detached(&fp.0, &XNonce::from(nonce), FINGERPRINT_LABEL, &mut []).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chacha20poly1305::ChaCha20Poly1305;

    /// Hex with whitespace between groups, as the RFCs print it.
    fn unhex(s: &str) -> Vec<u8> {
        let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        hex::decode(s).unwrap()
    }

    const SUNSCREEN: &[u8] = b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.";

    fn key_80_9f() -> Vec<u8> {
        (0x80u8..=0x9f).collect()
    }

    /// Seals the RFC 8439 "sunscreen" plaintext with `seal`, checks the
    /// ciphertext and tag against the published ones, and opens it back.
    fn sunscreen_kat(
        seal: impl FnOnce(&mut [u8]) -> [u8; TAG_LEN],
        open: impl FnOnce(&mut [u8], &[u8; TAG_LEN]),
        ciphertext_hex: &str,
        tag_hex: &str,
    ) {
        let mut buf = SUNSCREEN.to_vec();
        let tag = seal(&mut buf);
        assert_eq!(buf, unhex(ciphertext_hex));
        assert_eq!(tag.to_vec(), unhex(tag_hex));
        open(&mut buf, &tag);
        assert_eq!(buf, SUNSCREEN);
    }

    /// RFC 8439 §2.8.2, through the same detached wrapper the crate uses.
    #[test]
    fn rfc8439_2_8_2() {
        let aead = ChaCha20Poly1305::new_from_slice(&key_80_9f()).unwrap();
        let nonce = unhex("07000000 4041424344454647");
        let aad = unhex("50515253c0c1c2c3c4c5c6c7");
        sunscreen_kat(
            |buf| seal_detached(&aead, &nonce, &aad, buf).unwrap(),
            |buf, tag| open_detached(&aead, &nonce, &aad, buf, tag).unwrap(),
            "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6
             3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36
             92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc
             3ff4def08e4b7a9de576d26586cec64b6116",
            "1ae10b594f09e26a7e902ecbd0600691",
        );
    }

    /// draft-irtf-cfrg-xchacha-03 Appendix A.3.1, through [`Cipher`].
    #[test]
    fn xchacha_a3_1() {
        let key = Key::from_bytes(&key_80_9f()).unwrap();
        let cipher = Cipher::new(&key);
        let nonce: [u8; NONCE_LEN] = unhex("404142434445464748494a4b4c4d4e4f5051525354555657")
            .try_into()
            .unwrap();
        let aad = unhex("50515253c0c1c2c3c4c5c6c7");
        sunscreen_kat(
            |buf| cipher.seal(&nonce, &aad, buf).unwrap(),
            |buf, tag| cipher.open(&nonce, &aad, buf, tag).unwrap(),
            "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb
             731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b452
             2f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff9
             21f9664c97637da9768812f615c68b13b52e",
            "c0875924c1c7987947deafd8780acf49",
        );
    }

    #[test]
    fn forged_tag_leaves_ciphertext_untouched() {
        let cipher = Cipher::new(&Key::from_bytes(&[1; 32]).unwrap());
        let nonce = [9u8; NONCE_LEN];
        let mut buf = b"attack at dawn".to_vec();
        let mut tag = cipher.seal(&nonce, b"ad", &mut buf).unwrap();
        let sealed = buf.clone();
        tag[0] ^= 1;
        let err = cipher.open(&nonce, b"ad", &mut buf, &tag).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unauthenticated);
        assert_eq!(buf, sealed, "no plaintext is released on a forged tag");
    }
}
