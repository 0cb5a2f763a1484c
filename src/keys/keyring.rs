//! `Keyring`: one primary key that seals, older keys that only open.

use core::fmt;
use core::str::FromStr;

use zeroize::Zeroizing;

use crate::error::{ConfigError, Result};
use crate::keys::key::{Key, KeyId};
use crate::seal::aead::Cipher;

#[derive(Clone)]
pub(crate) struct Entry {
    pub(crate) id: KeyId,
    pub(crate) key: Key,
    pub(crate) cipher: Cipher,
    /// The key's CSRF subkey (key separation).
    pub(crate) csrf: Cipher,
}

/// An ordered set of keys: the first is the **primary**, the only one that
/// seals; every key opens values whose header names its id.
///
/// Opening selects the key by the id in the value's header: one AEAD
/// attempt per value, never a trial over the ring, and an unknown id costs
/// no AEAD call.
///
/// # Staged rotation
///
/// Rotation that logs nobody out takes three deploys:
///
/// 1. **Add** the new key as open-only on every server
///    ([`Keyring::add_open_only`]); servers still seal with the old key, but
///    all of them can already open the new key's values.
/// 2. **Promote** it ([`Keyring::promote`]); new seals use it, and values
///    under the old key still open, reporting a non-primary key so the
///    caller re-seals them.
/// 3. Once the longest session lifetime has passed, **retire** the old key
///    ([`Keyring::remove`]). Every value sealed under it is then refused.
///
/// [`Keyring::next_rotation_stage`] computes the next of these steps.
///
/// # The string form
///
/// Operators keep a keyring in one environment variable or secret-manager
/// entry: comma-separated `id:key` entries, primary first, each key as
/// base64url (43 characters) or hex (64 characters).
///
/// ```
/// use sealed_session::{Key, KeyId, Keyring};
/// let ring = Keyring::new(KeyId(1), Key::generate());
/// let text = ring.to_secret_string();
/// let parsed: Keyring = text.parse()?;
/// assert_eq!(parsed.primary_id(), KeyId(1));
/// // Errors name the entry, never the key.
/// let err = "1:not-a-key".parse::<Keyring>().unwrap_err();
/// assert!(!err.to_string().contains("not-a-key"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Keyring {
    entries: Vec<Entry>,
}

/// One step of a staged rotation, as computed by
/// [`Keyring::next_rotation_stage`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RotationStep {
    /// A new open-only key was added under this id.
    Added(KeyId),
    /// This key became the primary.
    Promoted(KeyId),
    /// This old key was removed; values sealed under it no longer open.
    Retired(KeyId),
}

impl Keyring {
    /// A keyring with one key, which is the primary.
    #[must_use]
    pub fn new(id: KeyId, key: Key) -> Self {
        Self {
            entries: vec![entry(id, key)],
        }
    }

    /// A keyring with one freshly generated key under `id`.
    ///
    /// # Errors
    /// [`ErrorKind::Rng`](crate::ErrorKind::Rng) if the operating system's
    /// generator fails.
    pub fn generate(id: KeyId) -> Result<Self> {
        Ok(Self::new(id, Key::try_generate()?))
    }

    /// Adds a key that opens but does not seal (stage 1 of a rotation).
    ///
    /// # Errors
    /// [`ConfigError`](crate::ConfigError) if `id` is already in
    /// the ring.
    pub fn add_open_only(&mut self, id: KeyId, key: Key) -> Result<(), ConfigError> {
        if self.get(id).is_some() {
            return Err(ConfigError::owned(format!("duplicate key id {id}")));
        }
        self.entries.push(entry(id, key));
        Ok(())
    }

    /// Makes `id` the primary (stage 2 of a rotation); the former primary
    /// stays in the ring as open-only.
    ///
    /// # Errors
    /// [`ConfigError`](crate::ConfigError) if `id` is not in the
    /// ring.
    pub fn promote(&mut self, id: KeyId) -> Result<(), ConfigError> {
        let index = self.index(id)?;
        let promoted = self.entries.remove(index);
        self.entries.insert(0, promoted);
        Ok(())
    }

    /// Removes an open-only key (stage 3 of a rotation). Values sealed under
    /// it no longer open.
    ///
    /// # Errors
    /// [`ConfigError`](crate::ConfigError) if `id` is not in the
    /// ring or is the primary.
    pub fn remove(&mut self, id: KeyId) -> Result<(), ConfigError> {
        let index = self.index(id)?;
        if index == 0 {
            return Err(ConfigError::owned(format!(
                "key {id} is the primary; promote another key first"
            )));
        }
        self.entries.remove(index);
        Ok(())
    }

    /// The id of the key that seals.
    #[must_use]
    pub fn primary_id(&self) -> KeyId {
        self.primary().id
    }

    /// All key ids, primary first.
    pub fn ids(&self) -> impl ExactSizeIterator<Item = KeyId> + '_ {
        self.entries.iter().map(|e| e.id)
    }

    /// The key under `id`, if present.
    #[must_use]
    pub fn get(&self, id: KeyId) -> Option<&Key> {
        self.entries.iter().find(|e| e.id == id).map(|e| &e.key)
    }

    /// The keyring in its string form, primary first, in a buffer zeroized
    /// on drop. Treat it as the secret it is.
    #[must_use]
    pub fn to_secret_string(&self) -> Zeroizing<String> {
        let mut out = Zeroizing::new(String::new());
        for (i, e) in self.entries.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&e.id.to_string());
            out.push(':');
            out.push_str(&e.key.to_base64url());
        }
        out
    }

    /// The keyring after the next step of a staged rotation, and that step:
    ///
    /// - an open-only key newer (higher id) than the primary is promoted;
    /// - otherwise, an open-only key older than the primary is retired
    ///   (the lowest id first);
    /// - otherwise a new key is added as open-only, under the highest id
    ///   plus one.
    ///
    /// ```
    /// use sealed_session::{KeyId, Keyring, RotationStep};
    /// let ring = Keyring::generate(KeyId(1))?;
    /// let (ring, step) = ring.next_rotation_stage()?;
    /// assert_eq!(step, RotationStep::Added(KeyId(2)));
    /// let (ring, step) = ring.next_rotation_stage()?;
    /// assert_eq!(step, RotationStep::Promoted(KeyId(2)));
    /// let (ring, step) = ring.next_rotation_stage()?;
    /// assert_eq!(step, RotationStep::Retired(KeyId(1)));
    /// assert_eq!(ring.ids().collect::<Vec<_>>(), [KeyId(2)]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`ErrorKind::Rng`](crate::ErrorKind::Rng) if a new key is needed and
    /// the generator fails; [`ConfigError`](crate::ConfigError)
    /// if the highest id is `u32::MAX`.
    pub fn next_rotation_stage(&self) -> Result<(Self, RotationStep), ConfigError> {
        let mut next = self.clone();
        let primary = self.primary_id();
        let others = self.entries[1..].iter().map(|e| e.id);
        if let Some(newest) = others.clone().filter(|id| *id > primary).max() {
            next.promote(newest)?;
            return Ok((next, RotationStep::Promoted(newest)));
        }
        if let Some(oldest) = others.min() {
            next.remove(oldest)?;
            return Ok((next, RotationStep::Retired(oldest)));
        }
        let highest = self.ids().max().unwrap_or(primary);
        let id = highest
            .0
            .checked_add(1)
            .map(KeyId)
            .ok_or_else(|| ConfigError::owned("key ids are exhausted".to_owned()))?;
        let key = Key::try_generate().map_err(|_| {
            ConfigError::new("the operating system's random number generator failed")
        })?;
        next.add_open_only(id, key)?;
        Ok((next, RotationStep::Added(id)))
    }

    pub(crate) fn primary(&self) -> &Entry {
        // Invariant: a keyring always holds at least its primary; every
        // constructor makes one and `remove` refuses to take it.
        &self.entries[0]
    }

    pub(crate) fn entries(&self) -> &[Entry] {
        &self.entries
    }

    fn index(&self, id: KeyId) -> Result<usize, ConfigError> {
        self.entries
            .iter()
            .position(|e| e.id == id)
            .ok_or_else(|| ConfigError::owned(format!("key id {id} is not in the keyring")))
    }
}

fn entry(id: KeyId, key: Key) -> Entry {
    let cipher = Cipher::new(&key);
    let csrf = crate::seal::aead::subkey(&cipher, &crate::seal::aead::CSRF_SUBKEY_LABEL);
    Entry {
        id,
        key,
        cipher,
        csrf,
    }
}

impl FromStr for Keyring {
    type Err = ConfigError;

    /// Parses `id:key,id:key,...`, primary first. Whitespace around entries
    /// is ignored. Errors name the entry by position and never include key
    /// material.
    fn from_str(text: &str) -> Result<Self, ConfigError> {
        let mut ring: Option<Self> = None;
        for (n, part) in text.split(',').enumerate() {
            let position = n + 1;
            let part = part.trim();
            let Some((id, key)) = part.split_once(':') else {
                return Err(ConfigError::owned(format!(
                    "keyring entry {position}: expected id:key"
                )));
            };
            let id = id.trim().parse::<u32>().map(KeyId).map_err(|_| {
                ConfigError::owned(format!(
                    "keyring entry {position}: the key id is not a number from 0 to {}",
                    u32::MAX
                ))
            })?;
            let key: Key = key.trim().parse().map_err(|e: ConfigError| {
                ConfigError::owned(format!("keyring entry {position}: {}", e.message()))
            })?;
            match ring.as_mut() {
                None => ring = Some(Self::new(id, key)),
                Some(ring) => ring.add_open_only(id, key).map_err(|e| {
                    ConfigError::owned(format!("keyring entry {position}: {}", e.message()))
                })?,
            }
        }
        ring.ok_or_else(|| ConfigError::owned("the keyring is empty".to_owned()))
    }
}

impl fmt::Debug for Keyring {
    /// Lists key ids and marks the primary; never key bytes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring")
            .field("primary", &self.primary_id())
            .field("ids", &self.ids().collect::<Vec<_>>())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const K1: &str = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE";

    #[test]
    fn parses_primary_first() {
        let hex2 = "02".repeat(32);
        let ring: Keyring = format!(" 3:{K1} , 2:{hex2}").parse().unwrap();
        assert_eq!(ring.primary_id(), KeyId(3));
        assert_eq!(ring.ids().collect::<Vec<_>>(), [KeyId(3), KeyId(2)]);
        assert_eq!(
            ring.get(KeyId(2)).unwrap(),
            &Key::from_bytes(&[2; 32]).unwrap()
        );
        let again: Keyring = ring.to_secret_string().parse().unwrap();
        assert_eq!(again.get(KeyId(3)), ring.get(KeyId(3)));
    }

    #[test]
    fn parse_errors_are_typed_and_never_echo_keys() {
        let short = &K1[..40];
        for (text, needle) in [
            ("", "expected id:key"),
            (&*format!("x:{K1}"), "key id is not a number"),
            (&*format!("1:{short}"), "entry 1"),
            (&*format!("1:{K1},1:{K1}"), "duplicate key id 1"),
            (&*format!("1:{K1},{K1}"), "entry 2: expected id:key"),
            (&*format!("-1:{K1}"), "key id"),
        ] {
            let err = text.parse::<Keyring>().unwrap_err();
            assert!(err.to_string().starts_with("invalid configuration"));
            let msg = err.to_string();
            assert!(msg.contains(needle), "{msg:?} should contain {needle:?}");
            assert_eq!(msg.matches("invalid configuration").count(), 1, "{msg}");
            assert!(!msg.contains(short), "{msg:?} echoes key material");
        }
    }

    #[test]
    fn primary_cannot_be_removed_and_debug_shows_ids_only() {
        let mut ring: Keyring = format!("1:{K1}").parse().unwrap();
        assert!(
            ring.remove(KeyId(1))
                .unwrap_err()
                .to_string()
                .starts_with("invalid configuration")
        );
        assert!(
            ring.promote(KeyId(9))
                .unwrap_err()
                .to_string()
                .starts_with("invalid configuration")
        );
        let debug = format!("{ring:?}");
        assert_eq!(debug, "Keyring { primary: KeyId(1), ids: [KeyId(1)] }");
    }

    #[test]
    fn rotation_cycles_add_promote_retire() {
        let mut ring = Keyring::generate(KeyId(7)).unwrap();
        let mut steps = Vec::new();
        for _ in 0..6 {
            let (next, step) = ring.next_rotation_stage().unwrap();
            steps.push(step);
            ring = next;
        }
        use RotationStep::*;
        assert_eq!(
            steps,
            [
                Added(KeyId(8)),
                Promoted(KeyId(8)),
                Retired(KeyId(7)),
                Added(KeyId(9)),
                Promoted(KeyId(9)),
                Retired(KeyId(8))
            ]
        );
    }
}
