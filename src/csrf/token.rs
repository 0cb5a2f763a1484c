//! CSRF tokens bound to a session.
//!
//! SameSite is defence in depth, not CSRF protection (OWASP Session
//! Management Cheat Sheet, "SameSite Attribute"; RFC 6265bis §8.8). A CSRF
//! token is derived from the session id with a keyed function, so it costs
//! no cookie bytes and needs no storage:
//!
//! `token = base64url(XChaCha20 keystream[0..32] under the primary key, nonce = "csrf/v1\0" || session id)`
//!
//! ChaCha20 is a pseudorandom function of its nonce; without the key a token
//! cannot be computed, and a token of one session is useless for another.
//! Verification accepts a token derived under any key in the ring (so a
//! rotation does not break forms already rendered) and compares in constant
//! time (`subtle`).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use subtle::ConstantTimeEq;

use crate::seal::aead::{Cipher, NONCE_LEN, keystream32};
use crate::session::meta::{SESSION_ID_LEN, SessionId};

/// The nonce prefix that separates CSRF derivations from seal nonces (which
/// are random: a collision has probability 2^-192 per seal).
const LABEL: &[u8; NONCE_LEN - SESSION_ID_LEN] = b"csrf/v1\0";

/// Length of a token in characters (32 bytes in base64url).
pub const CSRF_TOKEN_LEN: usize = 43;

fn derive(cipher: &Cipher, id: &SessionId) -> [u8; 32] {
    let mut nonce = [0u8; NONCE_LEN];
    nonce[..LABEL.len()].copy_from_slice(LABEL);
    nonce[LABEL.len()..].copy_from_slice(id.as_bytes());
    keystream32(cipher, &nonce)
}

pub(crate) fn token(cipher: &Cipher, id: &SessionId) -> String {
    URL_SAFE_NO_PAD.encode(derive(cipher, id))
}

/// Whether `presented` is the token of `id` under one of `ciphers`. The
/// presented text is untrusted: wrong lengths and bad base64 are simply
/// `false`.
pub(crate) fn verify<'a>(
    ciphers: impl Iterator<Item = &'a Cipher>,
    id: &SessionId,
    presented: &str,
) -> bool {
    if presented.len() != CSRF_TOKEN_LEN {
        return false;
    }
    let mut bytes = [0u8; 33];
    let Ok(32) = URL_SAFE_NO_PAD.decode_slice(presented, &mut bytes) else {
        return false;
    };
    let mut ok = subtle::Choice::from(0);
    for cipher in ciphers {
        ok |= derive(cipher, id).ct_eq(&bytes[..32]);
    }
    ok.into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::key::Key;

    /// Known answers computed with libsodium (PyNaCl) from the definitions
    /// in `docs/FORMAT.md` §5 and §7.
    #[test]
    fn known_answers_match_an_independent_implementation() {
        let key = Key::from_bytes(&(0u8..32).collect::<Vec<u8>>()).unwrap();
        let cipher = Cipher::new(&key);
        let id = SessionId::from_bytes([0x11; 16]);
        assert_eq!(
            token(&cipher, &id),
            "yCd-_fGKd0NdzMj_bqALDjcx2M2cXK19lRU0G8vUkIs"
        );
        assert_eq!(key.fingerprint(), "2fef87fa28aa9b1d");
    }
}
