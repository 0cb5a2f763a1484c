//! CSRF tokens bound to a session, masked per response.
//!
//! SameSite is defence in depth, not CSRF protection (OWASP Session
//! Management Cheat Sheet, "SameSite Attribute"; RFC 6265bis §8.8). A CSRF
//! token is derived from the session id with a keyed function, so it costs
//! no cookie bytes and needs no storage (`docs/FORMAT.md` §7):
//!
//! `raw = XChaCha20-Poly1305 ciphertext of 32 zero bytes (the keystream from block counter 1) under the key's CSRF subkey, nonce = "csrf/v2\0" || session id`
//! `token = base64url(mask || raw XOR mask)`, with a fresh random 32-byte mask
//!
//! ChaCha20 is a pseudorandom function of its nonce; without the key a
//! token cannot be computed, and a token of one session is useless for
//! another. The mask makes every rendering different, so a page compressed
//! beside attacker-chosen text does not reveal a fixed secret byte by byte
//! (BREACH). Verification unmasks, accepts a token derived under any key in
//! the ring (so a rotation does not break forms already rendered), and
//! compares in constant time (`subtle`).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use subtle::ConstantTimeEq;

use crate::error::Result;
use crate::seal::aead::{Cipher, NONCE_LEN, keystream32};
use crate::session::meta::{SESSION_ID_LEN, SessionId};

/// The nonce prefix of the derivation under the CSRF subkey.
const LABEL: &[u8; NONCE_LEN - SESSION_ID_LEN] = b"csrf/v2\0";

/// Length of the raw token and of the mask, in bytes.
const RAW_LEN: usize = 32;

/// Length of a token in characters: mask and masked token, 64 bytes in
/// base64url.
pub const CSRF_TOKEN_LEN: usize = 86;

const _: () = assert!(CSRF_TOKEN_LEN == (2 * RAW_LEN * 4).div_ceil(3));

fn derive(csrf: &Cipher, id: &SessionId) -> [u8; RAW_LEN] {
    let mut nonce = [0u8; NONCE_LEN];
    nonce[..LABEL.len()].copy_from_slice(LABEL);
    nonce[LABEL.len()..].copy_from_slice(id.as_bytes());
    keystream32(csrf, &nonce)
}

/// `raw` masked with `mask`, encoded.
fn masked(raw: &[u8; RAW_LEN], mask: &[u8; RAW_LEN]) -> String {
    let mut out = [0u8; 2 * RAW_LEN];
    out[..RAW_LEN].copy_from_slice(mask);
    for (o, (r, m)) in out[RAW_LEN..].iter_mut().zip(raw.iter().zip(mask)) {
        *o = r ^ m;
    }
    URL_SAFE_NO_PAD.encode(out)
}

/// A fresh rendering of `id`'s token under `csrf` (a CSRF subkey).
pub(crate) fn token(csrf: &Cipher, id: &SessionId) -> Result<String> {
    let mut mask = [0u8; RAW_LEN];
    crate::seal::random::fill(&mut mask)?;
    Ok(masked(&derive(csrf, id), &mask))
}

/// Whether `presented` is a rendering of `id`'s token under one of `csrfs`.
/// The presented text is untrusted: wrong lengths and bad base64 are
/// simply `false`.
pub(crate) fn verify<'a>(
    csrfs: impl Iterator<Item = &'a Cipher>,
    id: &SessionId,
    presented: &str,
) -> bool {
    if presented.len() != CSRF_TOKEN_LEN {
        return false;
    }
    let mut bytes = [0u8; 2 * RAW_LEN + 1];
    let Ok(n) = URL_SAFE_NO_PAD.decode_slice(presented, &mut bytes) else {
        return false;
    };
    if n != 2 * RAW_LEN {
        return false;
    }
    let mut raw = [0u8; RAW_LEN];
    for (r, (m, x)) in raw
        .iter_mut()
        .zip(bytes[..RAW_LEN].iter().zip(&bytes[RAW_LEN..n]))
    {
        *r = m ^ x;
    }
    let mut ok = subtle::Choice::from(0);
    for csrf in csrfs {
        ok |= derive(csrf, id).ct_eq(&raw);
    }
    ok.into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::key::Key;
    use crate::seal::aead::{CSRF_SUBKEY_LABEL, subkey};

    fn csrf_of(key: &Key) -> Cipher {
        subkey(&Cipher::new(key), &CSRF_SUBKEY_LABEL)
    }

    /// Known answers computed with libsodium (PyNaCl) from the definitions
    /// in `docs/FORMAT.md` §5 and §7.
    #[test]
    fn known_answers_match_an_independent_implementation() {
        let key = Key::from_bytes(&(0u8..32).collect::<Vec<u8>>()).unwrap();
        let id = SessionId::from_bytes([0x11; 16]);
        let mask = [0x5a; RAW_LEN];
        assert_eq!(masked(&derive(&csrf_of(&key), &id), &mask), KAT_TOKEN);
        assert_eq!(key.fingerprint(), KAT_FINGERPRINT);
    }

    const KAT_TOKEN: &str =
        "WlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlqP-O9ic4oZfAvAioRYre6XXAsfc5n1XhK_PI1JBNXEMQ";
    const KAT_FINGERPRINT: &str = "6416e9f9d5cab6cb";

    #[test]
    fn every_rendering_differs_and_verifies() {
        let key = Key::from_bytes(&[3; 32]).unwrap();
        let csrf = csrf_of(&key);
        let id = SessionId::from_bytes([1; 16]);
        let a = token(&csrf, &id).unwrap();
        let b = token(&csrf, &id).unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), CSRF_TOKEN_LEN);
        for t in [&a, &b] {
            assert!(verify([&csrf].into_iter(), &id, t));
            assert!(!verify(
                [&csrf].into_iter(),
                &SessionId::from_bytes([2; 16]),
                t
            ));
        }
        // Another key's subkey, the AEAD key itself, garbage, truncation.
        let other = csrf_of(&Key::from_bytes(&[4; 32]).unwrap());
        assert!(!verify([&other].into_iter(), &id, &a));
        let aead_key_token = masked(&derive(&Cipher::new(&key), &id), &[0; RAW_LEN]);
        assert!(!verify([&csrf].into_iter(), &id, &aead_key_token));
        assert!(!verify([&csrf].into_iter(), &id, &a[..CSRF_TOKEN_LEN - 1]));
        assert!(!verify(
            [&csrf].into_iter(),
            &id,
            &"A".repeat(CSRF_TOKEN_LEN)
        ));
        assert!(!verify([&csrf].into_iter(), &id, ""));
        // Any key in the ring verifies.
        assert!(verify([&other, &csrf].into_iter(), &id, &a));
    }
}
