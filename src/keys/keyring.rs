//! `Keyring`: one primary key that seals, older keys that only open.

use core::fmt;
use core::str::FromStr;

use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::error::{ConfigError, Result};
use crate::freshness::clock::{from_unix_seconds, unix_seconds};
use crate::freshness::lifetime::{Lifetime, secs};
use crate::keys::key::{Key, KeyId};
use crate::seal::aead::Cipher;

#[derive(Clone)]
pub(crate) struct Entry {
    pub(crate) id: KeyId,
    pub(crate) key: Key,
    pub(crate) cipher: Cipher,
    /// The key's CSRF subkey (key separation).
    pub(crate) csrf: Cipher,
    /// For an open-only key: when it stopped sealing (Unix seconds), if
    /// known. Values under it are refused once the idle timeout and the
    /// skew have passed since.
    pub(crate) demoted: Option<u64>,
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
///    caller re-seals them. The old key records the time it stopped
///    sealing.
/// 3. Once the idle timeout and the clock skew have passed since then,
///    **retire** the old key ([`Keyring::remove`]): every live session has
///    been re-sealed under the new one by then (a session not re-sealed
///    within the idle timeout is dead anyway). Until it is retired, the
///    codec already refuses values under it from that moment on, whatever
///    they claim inside, so a leaked old key stops working within one idle
///    timeout of its demotion.
///
/// [`Keyring::next_rotation_stage`] computes the next of these steps and
/// will not retire a key early unless forced.
///
/// # The string form
///
/// Operators keep a keyring in one environment variable or secret-manager
/// entry: comma-separated `id:key` entries, primary first, each key as
/// base64url (43 characters) or hex (64 characters). An open-only key may
/// carry the time it stopped sealing, in Unix seconds: `id:key@1764000000`
/// (0.1's strings, without it, still parse).
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

    /// Adds a key that no longer seals, with the time it stopped sealing:
    /// values under it are refused once the idle timeout and the skew have
    /// passed since `demoted`.
    ///
    /// # Errors
    /// [`ConfigError`] if `id` is already in the ring.
    pub fn add_demoted(
        &mut self,
        id: KeyId,
        key: Key,
        demoted: OffsetDateTime,
    ) -> Result<(), ConfigError> {
        self.add_open_only(id, key)?;
        if let Some(e) = self.entries.last_mut() {
            e.demoted = Some(unix_seconds(demoted));
        }
        Ok(())
    }

    /// When the open-only key `id` stopped sealing, if the ring records it.
    #[must_use]
    pub fn demoted_at(&self, id: KeyId) -> Option<OffsetDateTime> {
        self.entries
            .iter()
            .find(|e| e.id == id)
            .and_then(|e| e.demoted)
            .map(from_unix_seconds)
    }

    /// Makes `id` the primary (stage 2 of a rotation) at `now`; the former
    /// primary stays in the ring as open-only, recording `now` as the time
    /// it stopped sealing.
    ///
    /// # Errors
    /// [`ConfigError`](crate::ConfigError) if `id` is not in the
    /// ring.
    pub fn promote(&mut self, id: KeyId, now: OffsetDateTime) -> Result<(), ConfigError> {
        let index = self.index(id)?;
        if index == 0 {
            return Ok(());
        }
        let mut promoted = self.entries.remove(index);
        promoted.demoted = None;
        self.entries[0].demoted = Some(unix_seconds(now));
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
            if let Some(t) = e.demoted {
                out.push('@');
                out.push_str(&t.to_string());
            }
        }
        out
    }

    /// The earliest time the open-only key `id` may be retired under
    /// `lifetime`: when it stopped sealing, plus the idle timeout and the
    /// skew. `None` if the ring does not record when it stopped sealing.
    #[must_use]
    pub fn retirable_at(&self, id: KeyId, lifetime: &Lifetime) -> Option<OffsetDateTime> {
        self.entries
            .iter()
            .find(|e| e.id == id)
            .and_then(|e| e.demoted)
            .map(|t| from_unix_seconds(retire_after(t, lifetime)))
    }

    /// The keyring after the next step of a staged rotation at `now`, and
    /// that step:
    ///
    /// - an open-only key newer (higher id) than the primary is promoted,
    ///   and the former primary records `now` as the time it stopped
    ///   sealing;
    /// - otherwise, an open-only key older than the primary is retired (the
    ///   lowest id first), but only once the idle timeout and the skew of
    ///   `lifetime` have passed since it stopped sealing: before that, live
    ///   sessions may still carry it. `force` retires it anyway (emergency
    ///   rotation of a leaked key: those sessions end);
    /// - otherwise a new key is added as open-only, under the highest id
    ///   plus one.
    ///
    /// ```
    /// use sealed_session::{KeyId, Keyring, Lifetime, RotationStep};
    /// use time::{Duration, OffsetDateTime};
    /// let lifetime = Lifetime::default(); // idle 30 min, skew 60 s
    /// let t = OffsetDateTime::now_utc();
    /// let ring = Keyring::generate(KeyId(1))?;
    /// let (ring, step) = ring.next_rotation_stage(t, &lifetime, false)?;
    /// assert_eq!(step, RotationStep::Added(KeyId(2)));
    /// let (ring, step) = ring.next_rotation_stage(t, &lifetime, false)?;
    /// assert_eq!(step, RotationStep::Promoted(KeyId(2)));
    /// // A second deploy right after would sign out idle users: refused.
    /// assert!(ring.next_rotation_stage(t + Duration::minutes(5), &lifetime, false).is_err());
    /// let later = t + Duration::minutes(31);
    /// let (ring, step) = ring.next_rotation_stage(later, &lifetime, false)?;
    /// assert_eq!(step, RotationStep::Retired(KeyId(1)));
    /// assert_eq!(ring.ids().collect::<Vec<_>>(), [KeyId(2)]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`ConfigError`](crate::ConfigError) if a key would be retired too
    /// early (the message says when it may be) or its stop time is not
    /// recorded (a 0.1 keyring string), unless `force`; if the highest id
    /// is `u32::MAX`; or if a new key is needed and the operating system's
    /// generator fails.
    pub fn next_rotation_stage(
        &self,
        now: OffsetDateTime,
        lifetime: &Lifetime,
        force: bool,
    ) -> Result<(Self, RotationStep), ConfigError> {
        let mut next = self.clone();
        let primary = self.primary_id();
        let others = self.entries[1..].iter();
        if let Some(newest) = others
            .clone()
            .map(|e| e.id)
            .filter(|id| *id > primary)
            .max()
        {
            next.promote(newest, now)?;
            return Ok((next, RotationStep::Promoted(newest)));
        }
        if let Some(oldest) = others.min_by_key(|e| e.id) {
            let id = oldest.id;
            if !force {
                let Some(demoted) = oldest.demoted else {
                    return Err(ConfigError::owned(format!(
                        "key {id} has no recorded time it stopped sealing, so it cannot be \
                         retired safely; wait the idle timeout after its promotion, then force it"
                    )));
                };
                let at = retire_after(demoted, lifetime);
                if unix_seconds(now) < at {
                    return Err(ConfigError::owned(format!(
                        "key {id} stopped sealing at {demoted} (Unix seconds); sessions under it \
                         may live until {at}, the idle timeout and skew later: retire it then, \
                         or force it to end them now"
                    )));
                }
            }
            next.remove(id)?;
            return Ok((next, RotationStep::Retired(id)));
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

/// When a key that stopped sealing at `demoted` may go: every value under
/// it is past its idle deadline, even from a server whose clock ran ahead.
pub(crate) fn retire_after(demoted: u64, lifetime: &Lifetime) -> u64 {
    demoted
        .saturating_add(secs(lifetime.idle))
        .saturating_add(secs(lifetime.skew))
}

fn entry(id: KeyId, key: Key) -> Entry {
    let cipher = Cipher::new(&key);
    let csrf = crate::seal::aead::subkey(&cipher, &crate::seal::aead::CSRF_SUBKEY_LABEL);
    Entry {
        id,
        key,
        cipher,
        csrf,
        demoted: None,
    }
}

impl FromStr for Keyring {
    type Err = ConfigError;

    /// Parses `id:key,id:key@time,...`, primary first; `@time` (Unix
    /// seconds, open-only keys only) is when a key stopped sealing.
    /// Whitespace around entries is ignored. Errors name the entry by position and never include key
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
            let (key, demoted) = match key.split_once('@') {
                Some((key, t)) => (key, Some(t)),
                None => (key, None),
            };
            let key: Key = key.trim().parse().map_err(|e: ConfigError| {
                ConfigError::owned(format!("keyring entry {position}: {}", e.message()))
            })?;
            let demoted = demoted
                .map(|t| {
                    t.trim()
                        .parse::<i64>()
                        .ok()
                        .and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok())
                        .filter(|t| *t >= OffsetDateTime::UNIX_EPOCH)
                        .ok_or_else(|| {
                            ConfigError::owned(format!(
                                "keyring entry {position}: the time after @ is not Unix seconds"
                            ))
                        })
                })
                .transpose()?;
            let added = match (ring.as_mut(), demoted) {
                (None, None) => {
                    ring = Some(Self::new(id, key));
                    Ok(())
                }
                (None, Some(_)) => Err(ConfigError::new(
                    "the primary key seals: only open-only keys carry @time",
                )),
                (Some(ring), None) => ring.add_open_only(id, key),
                (Some(ring), Some(t)) => ring.add_demoted(id, key, t),
            };
            added.map_err(|e| {
                ConfigError::owned(format!("keyring entry {position}: {}", e.message()))
            })?;
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
            ring.promote(KeyId(9), OffsetDateTime::UNIX_EPOCH)
                .unwrap_err()
                .to_string()
                .starts_with("invalid configuration")
        );
        let debug = format!("{ring:?}");
        assert_eq!(debug, "Keyring { primary: KeyId(1), ids: [KeyId(1)] }");
    }

    #[test]
    fn rotation_cycles_add_promote_retire() {
        let lifetime = Lifetime::default();
        let mut now = OffsetDateTime::from_unix_timestamp(1_764_000_000).unwrap();
        let mut ring = Keyring::generate(KeyId(7)).unwrap();
        let mut steps = Vec::new();
        for _ in 0..6 {
            // One deploy per idle timeout and skew: every retirement is due.
            now += lifetime.idle + lifetime.skew;
            let (next, step) = ring.next_rotation_stage(now, &lifetime, false).unwrap();
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

    /// 0.1 retired the old key on the first call after a promotion, so two
    /// quick deploys signed out every idle user. Now the time it stopped
    /// sealing travels in the keyring string, and retiring waits for the
    /// idle timeout and the skew unless forced.
    #[test]
    fn retiring_waits_for_the_idle_timeout_unless_forced() {
        let lifetime = Lifetime::default();
        let t = OffsetDateTime::from_unix_timestamp(1_764_000_000).unwrap();
        let (ring, _) = Keyring::generate(KeyId(1))
            .unwrap()
            .next_rotation_stage(t, &lifetime, false)
            .unwrap();
        let (ring, step) = ring.next_rotation_stage(t, &lifetime, false).unwrap();
        assert_eq!(step, RotationStep::Promoted(KeyId(2)));
        assert_eq!(ring.demoted_at(KeyId(1)), Some(t));
        // The string form carries it, and parses back.
        let text = ring.to_secret_string();
        assert!(
            text.ends_with("@1764000000"),
            "the open-only entry is stamped"
        );
        let ring: Keyring = text.parse().unwrap();
        assert_eq!(ring.demoted_at(KeyId(1)), Some(t));
        let due = t + lifetime.idle + lifetime.skew;
        assert_eq!(ring.retirable_at(KeyId(1), &lifetime), Some(due));
        let err = ring
            .next_rotation_stage(due - time::Duration::seconds(1), &lifetime, false)
            .unwrap_err()
            .to_string();
        assert!(err.contains("key 1 stopped sealing at 1764000000"), "{err}");
        let (forced, step) = ring.next_rotation_stage(t, &lifetime, true).unwrap();
        assert_eq!(step, RotationStep::Retired(KeyId(1)));
        assert_eq!(forced.ids().collect::<Vec<_>>(), [KeyId(2)]);
        let (_, step) = ring.next_rotation_stage(due, &lifetime, false).unwrap();
        assert_eq!(step, RotationStep::Retired(KeyId(1)));
        // A 0.1 string has no stop time: retiring needs force.
        let legacy: Keyring = format!("2:{},1:{}", "A".repeat(43), "Q".repeat(43))
            .parse()
            .unwrap();
        assert!(legacy.next_rotation_stage(due, &lifetime, false).is_err());
        assert!(legacy.next_rotation_stage(due, &lifetime, true).is_ok());
        // Only open-only keys carry a stop time.
        let err = format!("1:{}@5", "A".repeat(43))
            .parse::<Keyring>()
            .unwrap_err();
        assert!(err.to_string().contains("only open-only keys"), "{err}");
        for bad in ["@x", "@-5", "@"] {
            let text = format!("2:{},1:{}{bad}", "A".repeat(43), "Q".repeat(43));
            assert!(text.parse::<Keyring>().is_err(), "{bad}");
        }
    }
}
