//! `Key` (a 32-byte secret) and `KeyId`.

use core::fmt;
use core::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::error::{ConfigError, Result};

/// Length of a key in bytes: XChaCha20-Poly1305 takes a 256-bit key
/// (RFC 8439 §2.8; draft-irtf-cfrg-xchacha-03 §2).
pub const KEY_LEN: usize = 32;

/// Length of a key written as base64url without padding.
const KEY_B64_LEN: usize = 43;
/// Length of a key written as hex.
const KEY_HEX_LEN: usize = 64;

/// A 32-byte secret key.
///
/// - `Debug` prints no key bytes and there is no `Display`.
/// - Equality is constant-time ([`subtle`]).
/// - The bytes are zeroized on drop.
///
/// Keys must come from a CSPRNG ([`Key::generate`]) or from a string that
/// holds such bytes; there is deliberately no way to derive one from a
/// password.
///
/// ```
/// use sealed_session::Key;
/// let key = Key::generate();
/// let text = key.to_base64url();
/// let again: Key = text.parse()?;
/// assert_eq!(key, again);
/// assert!(!format!("{key:?}").contains(text.as_str()));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Key([u8; KEY_LEN]);

// Written out rather than derived: the derive needs `zeroize_derive` and a
// second `syn` in every build.
impl Zeroize for Key {
    fn zeroize(&mut self) {
        self.0.zeroize();
    }
}

impl Drop for Key {
    fn drop(&mut self) {
        self.zeroize();
    }
}

impl ZeroizeOnDrop for Key {}

impl Key {
    /// A fresh key from the operating system's CSPRNG.
    ///
    /// # Errors
    /// [`ErrorKind::Rng`](crate::ErrorKind::Rng) if the operating system's generator fails.
    pub fn try_generate() -> Result<Self> {
        let mut bytes = [0u8; KEY_LEN];
        crate::seal::random::fill(&mut bytes)?;
        let key = Self(bytes);
        bytes.zeroize();
        Ok(key)
    }

    /// A fresh key from the operating system's CSPRNG.
    ///
    /// # Panics
    /// If the operating system's generator fails; see [`Key::try_generate`]
    /// for the fallible form.
    #[must_use]
    #[allow(
        clippy::expect_used,
        reason = "documented panic; try_generate is the fallible form"
    )]
    pub fn generate() -> Self {
        Self::try_generate().expect("the OS random number generator failed")
    }

    /// A key from exactly 32 bytes.
    ///
    /// # Errors
    /// [`ConfigError`](crate::ConfigError) if `bytes` is not 32 bytes long.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ConfigError> {
        let array: [u8; KEY_LEN] = bytes.try_into().map_err(|_| {
            ConfigError::owned(format!(
                "a key must be exactly {KEY_LEN} bytes, got {}",
                bytes.len()
            ))
        })?;
        Ok(Self(array))
    }

    /// A key from its base64url form (43 characters, no padding).
    ///
    /// # Errors
    /// [`ConfigError`](crate::ConfigError) if the text is not canonical base64url of 32
    /// bytes. The message never repeats the text.
    pub fn from_base64url(text: &str) -> Result<Self, ConfigError> {
        if text.len() != KEY_B64_LEN {
            return Err(ConfigError::owned(format!(
                "a base64url key must be {KEY_B64_LEN} characters, got {}",
                text.len()
            )));
        }
        let mut bytes = Zeroizing::new([0u8; KEY_LEN + 1]);
        let n = URL_SAFE_NO_PAD
            .decode_slice(text, bytes.as_mut_slice())
            .map_err(|_| ConfigError::new("a key is not valid base64url"))?;
        Self::from_bytes(&bytes[..n])
    }

    /// A key from its hex form (64 characters, either case).
    ///
    /// # Errors
    /// [`ConfigError`](crate::ConfigError) if the text is not 64 hex digits.
    pub fn from_hex(text: &str) -> Result<Self, ConfigError> {
        if text.len() != KEY_HEX_LEN {
            return Err(ConfigError::owned(format!(
                "a hex key must be {KEY_HEX_LEN} characters, got {}",
                text.len()
            )));
        }
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        hex::decode_to_slice(text, bytes.as_mut_slice())
            .map_err(|_| ConfigError::new("a key is not valid hex"))?;
        Ok(Self(*bytes))
    }

    /// The key as base64url without padding, in a buffer zeroized on drop.
    /// This is the form the keyring string and the CLI use.
    #[must_use]
    pub fn to_base64url(&self) -> Zeroizing<String> {
        Zeroizing::new(URL_SAFE_NO_PAD.encode(self.0))
    }

    /// A short, public fingerprint to tell keys apart in logs and the CLI.
    ///
    /// It is the first 8 bytes, in hex, of a Poly1305 tag computed under the
    /// key over a fixed label (see `docs/FORMAT.md`), so it reveals nothing
    /// useful about the key.
    #[must_use]
    pub fn fingerprint(&self) -> String {
        hex::encode(&crate::seal::aead::fingerprint(self)[..8])
    }

    /// A key from bytes the crate derived (a subkey).
    pub(crate) const fn from_array(bytes: [u8; KEY_LEN]) -> Self {
        Self(bytes)
    }

    pub(crate) const fn expose(&self) -> &[u8; KEY_LEN] {
        &self.0
    }
}

impl FromStr for Key {
    type Err = ConfigError;

    /// Parses base64url (43 characters) or hex (64 characters).
    fn from_str(text: &str) -> Result<Self, ConfigError> {
        match text.len() {
            KEY_HEX_LEN => Self::from_hex(text),
            KEY_B64_LEN => Self::from_base64url(text),
            n => Err(ConfigError::owned(format!(
                "a key must be {KEY_B64_LEN} base64url or {KEY_HEX_LEN} hex characters, got {n}"
            ))),
        }
    }
}

impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl Eq for Key {}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Key(<redacted>)")
    }
}

/// A small number naming a key in a [`Keyring`](crate::Keyring); written in
/// the clear in every sealed value's header and bound into its associated
/// data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyId(pub u32);

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_lengths_are_typed_errors() {
        for n in [0, 16, 31, 33, 64] {
            let err = Key::from_bytes(&vec![7u8; n]).unwrap_err();
            assert!(err.to_string().starts_with("invalid configuration"));
        }
        assert!(Key::from_bytes(&[7u8; 32]).is_ok());
    }

    #[test]
    fn parses_base64url_and_hex_to_the_same_key() {
        let hex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
        let a: Key = hex.parse().unwrap();
        let b: Key = hex.to_uppercase().parse().unwrap();
        let c: Key = a.to_base64url().parse().unwrap();
        assert_eq!(a, b);
        assert_eq!(a, c);
        assert_eq!(a.expose()[31], 0x1f);
    }

    #[test]
    fn parse_errors_never_echo_the_text() {
        let bad = "zz0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
        let msg = bad.parse::<Key>().unwrap_err().to_string();
        assert!(!msg.contains("zz01"), "{msg}");
        // Non-canonical base64url: trailing bits set in the last character.
        let good = Key::from_bytes(&[0u8; 32]).unwrap().to_base64url();
        let mut noncanonical = good.to_string();
        noncanonical.pop();
        noncanonical.push('B');
        assert!(noncanonical.parse::<Key>().is_err());
        let msg = format!("{:?}", noncanonical.parse::<Key>());
        assert!(!msg.contains(&noncanonical), "{msg}");
    }

    #[test]
    fn debug_redacts_and_fingerprint_is_stable() {
        let key = Key::from_bytes(&[0x42; 32]).unwrap();
        assert_eq!(format!("{key:?}"), "Key(<redacted>)");
        assert_eq!(key.fingerprint(), key.clone().fingerprint());
        assert_eq!(key.fingerprint().len(), 16);
        assert_ne!(
            key.fingerprint(),
            Key::from_bytes(&[0x43; 32]).unwrap().fingerprint()
        );
    }

    #[test]
    fn generated_keys_differ() {
        assert_ne!(Key::generate(), Key::generate());
    }
}
