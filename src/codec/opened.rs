//! [`Opened`](crate::Opened): a value that passed every check, and why it may be due
//! for a re-seal.

use time::OffsetDateTime;

use crate::freshness::clock::from_unix_seconds;
use crate::session::meta::SessionMeta;

/// Why an opened value should be re-sealed before the response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ResealReason {
    /// The renewal interval has passed (rolling renewal of the idle
    /// deadline), or the sealed deadline is longer than the configuration
    /// now allows.
    Renewal,
    /// It was opened with a key that is no longer the primary (rotation).
    NonPrimaryKey,
}

/// An opened value: the app's data and the session's metadata.
#[derive(Clone, Debug)]
pub struct Opened<T> {
    /// The app's session data.
    pub data: T,
    /// The crate-owned metadata.
    pub meta: SessionMeta,
    pub(super) reseal: Option<ResealReason>,
    pub(super) idle_deadline: u64,
}

impl<T> Opened<T> {
    /// `Some` when the caller should re-seal this session
    /// ([`SessionCodec::seal_session`](crate::SessionCodec::seal_session)) and send the new value, `None` when the
    /// current cookie can stay as it is.
    #[must_use]
    pub const fn reseal_due(&self) -> Option<ResealReason> {
        self.reseal
    }

    /// When this value dies if it is not re-sealed (the idle deadline,
    /// never past the absolute one).
    #[must_use]
    pub fn idle_deadline(&self) -> OffsetDateTime {
        from_unix_seconds(self.idle_deadline)
    }
}
