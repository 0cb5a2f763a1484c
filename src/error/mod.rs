//! The crate's error type.
//!
//! One opaque [`Error`] carries an [`ErrorKind`] for logs and metrics. Every
//! kind raised while opening a cookie means the same thing to the caller:
//! there is no session. Messages are fixed strings or numbers chosen by the
//! crate; they never contain a cookie value, a plaintext, a session id or
//! key bytes.

use core::fmt;

mod config;

pub use config::ConfigError;

use crate::keys::key::KeyId;
use crate::session::meta::SessionId;

/// Why an operation failed. Use it for logs and metrics; the caller's
/// behaviour for every kind raised by `open` is "no session".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The value is not a well-formed sealed value: too long, too short,
    /// not canonical base64url, or an unknown format version. Raised only
    /// before the tag is checked: no AEAD call was made.
    Malformed,
    /// The value did not authenticate: unknown key id, wrong key, wrong
    /// cookie name or purpose, or any modified byte. These are deliberately
    /// one kind.
    Unauthenticated,
    /// The value authenticated, but its crate-owned fields do not decode or
    /// contradict each other (an unknown seal kind, created after sealed).
    /// Whoever made it holds the key it names: a bug in another sealer, or
    /// a leaked key. Never raised before the tag verifies.
    InvalidClaims,
    /// The value authenticated, but it is a single-use value where a
    /// session was expected, or the other way round: neither can stand in
    /// for the other.
    WrongKind,
    /// The value authenticated, but its payload does not deserialize as the
    /// requested type (for example, the app changed its session type in a
    /// deploy). Start a fresh session.
    PayloadMismatch,
    /// The session's absolute lifetime has passed.
    Expired,
    /// The value was not re-sealed within the idle timeout.
    IdleExpired,
    /// The value's seal or creation time lies further in the future than
    /// the allowed clock skew.
    NotYetValid,
    /// The revocation hook refused the session.
    Revoked,
    /// The replay guard refused the value: a single-use value presented
    /// again, or a superseded value presented after its grace period.
    Replayed,
    /// The sealed value would not fit the configured size budget.
    TooLarge,
    /// Sealing: the app's data did not serialize (its `Serialize` impl
    /// failed, or wrote a different length the second time).
    Serialize,
    /// Sealing: the cipher refused the message. Unreachable within the
    /// cookie size limits; reported rather than assumed away.
    Encrypt,
    /// An adapter could not turn a header the crate rendered into its
    /// framework's header type. Unreachable (every value is rendered from
    /// the RFC 6265bis server grammar); reported rather than assumed away.
    InvalidHeader,
    /// The freshness store failed or timed out while a request was read,
    /// and its policy is [`StorePolicy::FailClosed`](crate::StorePolicy):
    /// no session until the store answers again.
    StoreUnavailable,
    /// The operation needs a setting this codec was built without (a
    /// single-use seal needs a replay guard).
    NotConfigured,
    /// The operating system's random number generator failed.
    Rng,
    /// A bounded store (replay guard, revocation list) is full and refused
    /// to record more, rather than forget.
    StoreFull,
}

impl ErrorKind {
    /// A short, stable, lowercase name for metrics labels.
    ///
    /// ```
    /// assert_eq!(sealed_session::ErrorKind::IdleExpired.as_str(), "idle_expired");
    /// ```
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Malformed => "malformed",
            Self::Unauthenticated => "unauthenticated",
            Self::PayloadMismatch => "payload_mismatch",
            Self::Expired => "expired",
            Self::IdleExpired => "idle_expired",
            Self::NotYetValid => "not_yet_valid",
            Self::Revoked => "revoked",
            Self::Replayed => "replayed",
            Self::InvalidClaims => "invalid_claims",
            Self::WrongKind => "wrong_kind",
            Self::TooLarge => "too_large",
            Self::Serialize => "serialize",
            Self::Encrypt => "encrypt",
            Self::InvalidHeader => "invalid_header",
            Self::StoreUnavailable => "store_unavailable",
            Self::NotConfigured => "not_configured",
            Self::Rng => "rng",
            Self::StoreFull => "store_full",
        }
    }

    /// Whether this kind means "the presented cookie gives no session"
    /// (as opposed to a setup or operating-system failure).
    #[must_use]
    pub const fn is_refusal(self) -> bool {
        matches!(
            self,
            Self::Malformed
                | Self::Unauthenticated
                | Self::InvalidClaims
                | Self::WrongKind
                | Self::PayloadMismatch
                | Self::Expired
                | Self::IdleExpired
                | Self::NotYetValid
                | Self::Revoked
                | Self::Replayed
                | Self::StoreUnavailable
        )
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Detail {
    None,
    Static(&'static str),
    Size { size: usize, limit: usize },
    SetCookieSize { size: usize, limit: usize },
}

/// The crate's error: a kind plus a crate-written detail.
///
/// `Display` is lowercase without a trailing period and never includes
/// attacker-supplied or secret data.
#[derive(Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    detail: Detail,
    session: Option<SessionId>,
    key_id: Option<KeyId>,
}

impl Error {
    pub(crate) const fn new(kind: ErrorKind) -> Self {
        Self {
            kind,
            detail: Detail::None,
            session: None,
            key_id: None,
        }
    }

    pub(crate) const fn with(kind: ErrorKind, detail: &'static str) -> Self {
        Self {
            kind,
            detail: Detail::Static(detail),
            session: None,
            key_id: None,
        }
    }

    pub(crate) const fn too_large(size: usize, limit: usize) -> Self {
        Self {
            kind: ErrorKind::TooLarge,
            detail: Detail::Size { size, limit },
            session: None,
            key_id: None,
        }
    }

    /// The response's `Set-Cookie` lines would exceed the policy's
    /// response budget.
    pub(crate) const fn set_cookie_too_large(size: usize, limit: usize) -> Self {
        Self {
            kind: ErrorKind::TooLarge,
            detail: Detail::SetCookieSize { size, limit },
            session: None,
            key_id: None,
        }
    }

    pub(crate) const fn for_session(mut self, id: SessionId) -> Self {
        self.session = Some(id);
        self
    }

    pub(crate) const fn with_key_id(mut self, id: KeyId) -> Self {
        self.key_id = Some(id);
        self
    }

    /// For a refused value whose header could be read: the key id it names.
    /// A number the sender chose (it may name no key in the ring), safe to
    /// log; `None` when the value was refused before its header was read
    /// (too long, too short, bad base64, unknown version).
    #[must_use]
    pub const fn key_id(&self) -> Option<KeyId> {
        self.key_id
    }

    /// The kind, for logs, metrics and branching.
    #[must_use]
    pub const fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// For [`ErrorKind::Replayed`] and [`ErrorKind::Revoked`], the
    /// authenticated session id, so the app can end that session (a replayed
    /// superseded value suggests the cookie was copied). Do not log it in
    /// the clear.
    #[must_use]
    pub const fn session_id(&self) -> Option<&SessionId> {
        self.session.as_ref()
    }

    /// For [`ErrorKind::TooLarge`]: the size in bytes and the limit it
    /// exceeded. Either the cookie name plus the sealed value against the
    /// longest the policy carries, or the response's `Set-Cookie` header
    /// lines against the policy's
    /// [`set_cookie_budget`](crate::CookiePolicy::set_cookie_budget) (the
    /// message says which).
    #[must_use]
    pub const fn size_and_limit(&self) -> Option<(usize, usize)> {
        match self.detail {
            Detail::Size { size, limit } | Detail::SetCookieSize { size, limit } => {
                Some((size, limit))
            }
            _ => None,
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Deliberately the same text as Display: no session id.
        write!(f, "Error({self})")
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            ErrorKind::Malformed => "malformed sealed value",
            ErrorKind::Unauthenticated => "sealed value failed authentication",
            ErrorKind::PayloadMismatch => "sealed payload does not match the session type",
            ErrorKind::Expired => "session past its absolute lifetime",
            ErrorKind::IdleExpired => "session past its idle timeout",
            ErrorKind::NotYetValid => "sealed value is from the future beyond the allowed skew",
            ErrorKind::Revoked => "session revoked",
            ErrorKind::Replayed => "sealed value replayed",
            ErrorKind::WrongKind => "sealed value is of the other kind (session or single-use)",
            ErrorKind::InvalidClaims => {
                "sealed value authenticated but its crate-owned fields are invalid"
            }
            ErrorKind::TooLarge => "sealed cookie too large",
            ErrorKind::Serialize => "session data does not serialize",
            ErrorKind::Encrypt => "the cipher refused to seal",
            ErrorKind::InvalidHeader => "a rendered header is not a valid header value",
            ErrorKind::StoreUnavailable => "freshness store unavailable",
            ErrorKind::NotConfigured => "operation not configured",
            ErrorKind::Rng => "operating system random number generator failed",
            ErrorKind::StoreFull => "bounded store is full",
        };
        f.write_str(kind)?;
        match &self.detail {
            Detail::None => Ok(()),
            Detail::Static(s) => write!(f, ": {s}"),
            Detail::Size { size, limit } => {
                write!(f, ": {size} bytes, limit {limit}")
            }
            Detail::SetCookieSize { size, limit } => write!(
                f,
                ": set-cookie headers of {size} bytes exceed the response budget of {limit} bytes"
            ),
        }
    }
}

impl core::error::Error for Error {}

impl From<ErrorKind> for Error {
    fn from(kind: ErrorKind) -> Self {
        Self::new(kind)
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = core::result::Result<T, E>;
