//! A session's identity and crate-owned metadata, as sealed beside the
//! app's data.

use core::fmt;

use time::OffsetDateTime;

use crate::error::Result;
use crate::freshness::clock::from_unix_seconds;
use crate::keys::key::KeyId;
use crate::seal::payload::Claims;

/// Length of a session id: 128 bits from the OS CSPRNG (ASVS 5.0 7.2.3).
pub const SESSION_ID_LEN: usize = 16;

/// A session's 128-bit random id, kept across re-seals and replaced by
/// [`SessionCodec::regenerate`](crate::SessionCodec::regenerate).
///
/// `Debug` is redacted, so ids do not leak into logs through `{:?}`; use
/// [`SessionId::to_hex`] where the id must be shown on purpose.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId(pub(crate) [u8; SESSION_ID_LEN]);

impl SessionId {
    /// A fresh random id from the operating system's CSPRNG.
    ///
    /// # Errors
    /// [`ErrorKind::Rng`](crate::ErrorKind::Rng) if the generator fails.
    pub fn random() -> Result<Self> {
        let mut id = [0u8; SESSION_ID_LEN];
        crate::seal::random::fill(&mut id)?;
        Ok(Self(id))
    }

    /// The raw bytes, for keying a deny list or a replay store.
    #[must_use]
    pub const fn as_bytes(&self) -> &[u8; SESSION_ID_LEN] {
        &self.0
    }

    /// A id from its raw bytes (for stores that persist ids).
    #[must_use]
    pub const fn from_bytes(bytes: [u8; SESSION_ID_LEN]) -> Self {
        Self(bytes)
    }

    /// The id as 32 lowercase hex digits.
    #[must_use]
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionId(<redacted>)")
    }
}

/// Whether a value is an ordinary session or a single-use seal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SealKind {
    /// A session cookie, re-sealed as it is used.
    Session,
    /// A value accepted once within its window (OAuth state, e-mail links).
    SingleUse,
}

/// The crate-owned metadata of a session: what the codec sealed beside the
/// app's data, after it authenticated.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionMeta {
    pub(crate) claims: Claims,
    pub(crate) key_id: KeyId,
    /// Whether this came from `open` (re-sealing it supersedes a value)
    /// rather than from `new_session`/`regenerate`.
    pub(crate) opened: bool,
}

impl SessionMeta {
    /// The session id.
    #[must_use]
    pub const fn id(&self) -> SessionId {
        SessionId(self.claims.sid)
    }

    /// When the session was created (login, or the last regeneration).
    #[must_use]
    pub fn created(&self) -> OffsetDateTime {
        from_unix_seconds(self.claims.created)
    }

    /// When this value was sealed (the last re-seal).
    #[must_use]
    pub fn sealed(&self) -> OffsetDateTime {
        from_unix_seconds(self.claims.sealed)
    }

    /// The absolute deadline fixed when the session was created; no re-seal
    /// moves it.
    #[must_use]
    pub fn expires(&self) -> OffsetDateTime {
        from_unix_seconds(self.claims.expires)
    }

    /// The app-chosen subject (for example a user id), used by revocation
    /// hooks for "log out everywhere".
    #[must_use]
    pub fn subject(&self) -> Option<&str> {
        self.claims.subject.as_deref()
    }

    /// The id of the key this value was sealed with.
    #[must_use]
    pub const fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// How many times this session has been re-sealed since creation.
    #[must_use]
    pub const fn generation(&self) -> u32 {
        self.claims.generation
    }

    /// Session or single-use seal.
    #[must_use]
    pub const fn kind(&self) -> SealKind {
        self.claims.kind()
    }
}

impl fmt::Debug for SessionMeta {
    /// Times, generation and key id; the id and subject are redacted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionMeta")
            .field("id", &self.id())
            .field("created", &self.claims.created)
            .field("sealed", &self.claims.sealed)
            .field("expires", &self.claims.expires)
            .field("generation", &self.claims.generation)
            .field("kind", &self.kind())
            .field("key_id", &self.key_id)
            .field(
                "subject",
                &self.claims.subject.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}
