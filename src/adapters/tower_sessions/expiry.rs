//! How a tower-sessions [`Expiry`] maps onto this crate's lifetimes and
//! cookie persistence, and [`UnsupportedExpiry`] for what cannot be
//! honoured.
//!
//! | tower-sessions | sealed session |
//! |---|---|
//! | no expiry | the policy's [`Persistence`]; the configured [`Lifetime`] |
//! | `OnSessionEnd` | [`Persistence::BrowserSession`] (no Max-Age); the configured [`Lifetime`] still ends the session on the server |
//! | `OnInactivity(d)` | only `d` equal to [`Lifetime::idle`], which the server enforces for every session; [`Persistence::UntilExpiry`] |
//! | `AtDateTime(t)` | `t` sealed as the session's absolute deadline (the server refuses the value from `t`), at most [`Lifetime::absolute`] after its creation; [`Persistence::UntilExpiry`] (Max-Age until `t`) |

use core::fmt;

use time::{Duration, OffsetDateTime};
use tower_sessions_core::Expiry;

use crate::cookie::attributes::Persistence;
use crate::freshness::lifetime::Lifetime;

/// A tower-sessions [`Expiry`] this crate cannot honour, returned by
/// [`TowerSessionsLayer::with_expiry`](super::TowerSessionsLayer::with_expiry)
/// and [`check_expiry`](crate::Session::check_expiry); a record saved
/// with one fails to save (and the layer answers 500).
///
/// - `OnInactivity(d)` with `d` other than [`Lifetime::idle`]: the idle
///   timeout is sealed per [`Sessions`](crate::Sessions), not per session,
///   so a shorter `d` would not be enforced and a longer one would end
///   sessions early. Set `Lifetime::idle` to `d` instead.
/// - `AtDateTime(t)` past the session's creation plus
///   [`Lifetime::absolute`]: no sealed session outlives its absolute
///   lifetime.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnsupportedExpiry {
    reason: Reason,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reason {
    Inactivity { asked: Duration, idle: Duration },
    PastLifetime { latest: OffsetDateTime },
}

impl UnsupportedExpiry {
    pub(crate) const fn past_lifetime(latest: OffsetDateTime) -> Self {
        Self {
            reason: Reason::PastLifetime { latest },
        }
    }

    /// For an `AtDateTime` past the absolute lifetime: the latest date the
    /// session could be given.
    #[must_use]
    pub const fn latest_allowed(&self) -> Option<OffsetDateTime> {
        match self.reason {
            Reason::PastLifetime { latest } => Some(latest),
            Reason::Inactivity { .. } => None,
        }
    }
}

impl fmt::Display for UnsupportedExpiry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.reason {
            Reason::Inactivity { asked, idle } => write!(
                f,
                "tower-sessions Expiry::OnInactivity({} s) differs from the idle timeout \
                 sealed sessions enforce ({} s): set Lifetime::idle to it",
                asked.whole_seconds(),
                idle.whole_seconds()
            ),
            Reason::PastLifetime { latest } => write!(
                f,
                "tower-sessions Expiry::AtDateTime is past the session's absolute lifetime \
                 (latest allowed: unix {})",
                latest.unix_timestamp()
            ),
        }
    }
}

impl core::error::Error for UnsupportedExpiry {}

/// What an [`Expiry`] asks of the sealed session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Mapping {
    /// `None`: the policy's.
    pub(crate) persistence: Option<Persistence>,
    /// An absolute deadline to seal.
    pub(crate) deadline: Option<OffsetDateTime>,
}

/// The mapping of the table above; `AtDateTime` is checked against the
/// lifetime when it is sealed ([`crate::Session`]'s deadline).
pub(crate) fn map(
    expiry: Option<Expiry>,
    lifetime: &Lifetime,
) -> Result<Mapping, UnsupportedExpiry> {
    let (persistence, deadline) = match expiry {
        None => (None, None),
        Some(Expiry::OnSessionEnd) => (Some(Persistence::BrowserSession), None),
        Some(Expiry::OnInactivity(asked)) if asked == lifetime.idle => {
            (Some(Persistence::UntilExpiry), None)
        }
        Some(Expiry::OnInactivity(asked)) => {
            let idle = lifetime.idle;
            let reason = Reason::Inactivity { asked, idle };
            return Err(UnsupportedExpiry { reason });
        }
        Some(Expiry::AtDateTime(at)) => (Some(Persistence::UntilExpiry), Some(at)),
    };
    Ok(Mapping {
        persistence,
        deadline,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_expiry_maps_as_the_table_says() {
        let lifetime = Lifetime::default();
        let at = OffsetDateTime::UNIX_EPOCH + Duration::days(20_000);
        let cases = [
            (None, None, None),
            (
                Some(Expiry::OnSessionEnd),
                Some(Persistence::BrowserSession),
                None,
            ),
            (
                Some(Expiry::OnInactivity(lifetime.idle)),
                Some(Persistence::UntilExpiry),
                None,
            ),
            (
                Some(Expiry::AtDateTime(at)),
                Some(Persistence::UntilExpiry),
                Some(at),
            ),
        ];
        for (expiry, persistence, deadline) in cases {
            let want = Mapping {
                persistence,
                deadline,
            };
            assert_eq!(map(expiry, &lifetime), Ok(want), "{expiry:?}");
        }
        let longer = Expiry::OnInactivity(lifetime.idle + Duration::SECOND);
        let e = map(Some(longer), &lifetime).unwrap_err();
        assert!(e.to_string().contains("1801 s") && e.to_string().contains("1800 s"));
        assert_eq!(e.latest_allowed(), None);
        assert!(map(Some(Expiry::OnInactivity(Duration::minutes(5))), &lifetime).is_err());
    }
}
