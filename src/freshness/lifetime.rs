//! Absolute, idle, renewal, replay-window and skew decisions.
//!
//! Every check reads fields from inside the seal, after authentication;
//! the browser's Max-Age is never trusted to end a session.

use time::Duration;

use crate::error::{ConfigError, Error, ErrorKind, Result};
use crate::seal::payload::Claims;
use crate::session::meta::SealKind;

/// Time limits for sessions and single-use seals.
///
/// | setting | default | source |
/// |---|---|---|
/// | `absolute` | 12 h | NIST SP 800-63B-4 §2.3.3 (AAL3: at most 12 h, SHALL); within §2.2.3 (AAL2: 24 h); OWASP Session Management Cheat Sheet "Absolute Timeout" (4–8 h office apps) |
/// | `idle` | 30 min | ASVS 4.0.3 3.3.2 / SP 800-63B-3 §4.2.3 (AAL2: 30 min); within SP 800-63B-4 §2.2.3 (AAL2: 1 h); OWASP "Idle Timeout" (15–30 min low risk) |
/// | `renew_after` | 5 min | OWASP "Renewal Timeout"; bounds idle precision to 25–30 min while writing the cookie at most every 5 min |
/// | `skew` | 60 s | RFC 7519 §4.1.4 ("a small leeway … no more than a few minutes") |
/// | `single_use_window` | 10 min | crate choice: OAuth state and confirmation links |
/// | `superseded_grace` | 30 s | crate choice: requests already in flight when a value was re-sealed |
///
/// Presets for the NIST assurance levels: [`Lifetime::aal1`],
/// [`Lifetime::aal2`], [`Lifetime::aal3`].
///
/// ```
/// use sealed_session::Lifetime;
/// use time::Duration;
/// let l = Lifetime::default();
/// assert_eq!(l.absolute, Duration::hours(12));
/// assert_eq!(l.idle, Duration::minutes(30));
/// // The struct is non-exhaustive: start from a preset and set fields.
/// let mut strict = Lifetime::aal3();
/// strict.idle = Duration::minutes(10);
/// assert!(strict.validate().is_ok());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Lifetime {
    /// Counted from the session's creation, unchanged by re-seals.
    pub absolute: Duration,
    /// A value not re-sealed within this is refused.
    pub idle: Duration,
    /// A value older than this is due for a re-seal (rolling renewal).
    pub renew_after: Duration,
    /// How far in the future a seal or creation time may be (clock skew
    /// between servers).
    pub skew: Duration,
    /// Lifetime of single-use seals.
    pub single_use_window: Duration,
    /// With a replay guard: how long a superseded value stays valid after
    /// its session was re-sealed.
    pub superseded_grace: Duration,
}

impl Default for Lifetime {
    fn default() -> Self {
        Self {
            absolute: Duration::hours(12),
            idle: Duration::minutes(30),
            renew_after: Duration::minutes(5),
            skew: Duration::seconds(60),
            single_use_window: Duration::minutes(10),
            superseded_grace: Duration::seconds(30),
        }
    }
}

impl Lifetime {
    /// NIST SP 800-63B-4 §2.1.3 (AAL1): reauthentication at most every 30
    /// days; no inactivity limit is required, 24 h is used here.
    #[must_use]
    pub fn aal1() -> Self {
        Self {
            absolute: Duration::days(30),
            idle: Duration::hours(24),
            renew_after: Duration::hours(1),
            ..Self::default()
        }
    }

    /// NIST SP 800-63B-4 §2.2.3 (AAL2): 24 h overall, 1 h inactivity.
    #[must_use]
    pub fn aal2() -> Self {
        Self {
            absolute: Duration::hours(24),
            idle: Duration::hours(1),
            renew_after: Duration::minutes(5),
            ..Self::default()
        }
    }

    /// NIST SP 800-63B-4 §2.3.3 (AAL3): 12 h overall (SHALL), 15 min
    /// inactivity.
    #[must_use]
    pub fn aal3() -> Self {
        Self {
            absolute: Duration::hours(12),
            idle: Duration::minutes(15),
            renew_after: Duration::minutes(2),
            ..Self::default()
        }
    }

    /// Checks the settings are consistent.
    ///
    /// Only whole seconds count: the format carries Unix seconds and every
    /// check compares them, so a fraction of a second is dropped. The
    /// comparisons below are made on whole seconds for that reason.
    ///
    /// # Errors
    /// [`ConfigError`](crate::ConfigError) unless `absolute`, `idle`, `renew_after`,
    /// `single_use_window` are at least one second, `skew` and
    /// `superseded_grace` are not negative, `idle <= absolute` and
    /// `renew_after < idle` (otherwise an active user's cookie dies before
    /// it is renewed).
    pub fn validate(&self) -> Result<(), ConfigError> {
        let at_least_a_second = [
            self.absolute,
            self.idle,
            self.renew_after,
            self.single_use_window,
        ];
        // A positive duration under a second would be enforced as zero:
        // every value expired, or due for a re-seal, on arrival.
        if at_least_a_second.iter().any(|d| d.whole_seconds() < 1) {
            return Err(ConfigError::new(
                "absolute, idle, renew_after and single_use_window must be at least one second",
            ));
        }
        if self.skew.is_negative() || self.superseded_grace.is_negative() {
            return Err(ConfigError::new(
                "skew and superseded_grace must not be negative",
            ));
        }
        if secs(self.idle) > secs(self.absolute) {
            return Err(ConfigError::new("idle must not exceed absolute"));
        }
        if secs(self.renew_after) >= secs(self.idle) {
            return Err(ConfigError::new("renew_after must be shorter than idle"));
        }
        Ok(())
    }

    /// The absolute deadline in force for `claims`: the sealed one, or a
    /// shorter one if the configured lifetime was reduced since.
    pub(crate) fn deadline(&self, claims: &Claims) -> u64 {
        match claims.kind() {
            SealKind::Session => claims
                .expires
                .min(claims.created.saturating_add(secs(self.absolute))),
            SealKind::SingleUse => claims
                .expires
                .min(claims.created.saturating_add(secs(self.single_use_window))),
        }
    }

    /// The idle deadline of a session value.
    pub(crate) fn idle_deadline(&self, claims: &Claims) -> u64 {
        claims.sealed.saturating_add(secs(self.idle))
    }

    /// Checks `claims` at `now` (Unix seconds). A deadline is exclusive: a
    /// value is refused at the deadline's second.
    pub(crate) fn check(&self, claims: &Claims, now: u64) -> Result<Verdict> {
        let latest_allowed = now.saturating_add(secs(self.skew));
        if claims.sealed > latest_allowed || claims.created > latest_allowed {
            return Err(Error::new(ErrorKind::NotYetValid));
        }
        if claims.created > claims.sealed {
            return Err(Error::with(
                ErrorKind::InvalidClaims,
                "created after sealed",
            ));
        }
        if now >= self.deadline(claims) {
            return Err(Error::new(ErrorKind::Expired));
        }
        if claims.kind() == SealKind::SingleUse {
            return Ok(Verdict { renew: false });
        }
        if now >= self.idle_deadline(claims) {
            return Err(Error::new(ErrorKind::IdleExpired));
        }
        let age = now.saturating_sub(claims.sealed);
        Ok(Verdict {
            renew: age >= secs(self.renew_after) || claims.expires > self.deadline(claims),
        })
    }
}

/// What [`Lifetime::check`] found for a value it accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Verdict {
    /// The value is due for a re-seal (renewal interval passed, or its
    /// sealed deadline is longer than the configuration now allows).
    pub(crate) renew: bool,
}

/// Whole seconds of a non-negative duration (negative reads as 0).
pub(crate) fn secs(d: Duration) -> u64 {
    u64::try_from(d.whole_seconds()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(created: u64, sealed: u64, expires: u64) -> Claims {
        Claims {
            sid: [0; 16],
            created,
            sealed,
            expires,
            generation: 0,
            kind: 0,
            subject: None,
        }
    }

    const T0: u64 = 1_000_000;

    #[test]
    fn defaults_validate_and_presets_match_their_sources() {
        for l in [
            Lifetime::default(),
            Lifetime::aal1(),
            Lifetime::aal2(),
            Lifetime::aal3(),
        ] {
            l.validate().unwrap();
        }
        assert_eq!(Lifetime::aal3().absolute, Duration::hours(12));
        assert_eq!(Lifetime::aal2().idle, Duration::hours(1));
        assert_eq!(Lifetime::default().skew, Duration::seconds(60));
    }

    #[test]
    fn inconsistent_settings_are_refused() {
        let d = Lifetime::default();
        for bad in [
            Lifetime {
                idle: Duration::hours(13),
                ..d
            },
            Lifetime {
                renew_after: d.idle,
                ..d
            },
            Lifetime {
                absolute: Duration::ZERO,
                ..d
            },
            Lifetime {
                skew: Duration::seconds(-1),
                ..d
            },
        ] {
            assert!(
                bad.validate()
                    .unwrap_err()
                    .to_string()
                    .starts_with("invalid configuration")
            );
        }
    }

    #[test]
    fn absolute_boundary() {
        let l = Lifetime {
            idle: Duration::hours(12),
            renew_after: Duration::hours(1),
            ..Lifetime::default()
        };
        let abs = secs(l.absolute);
        let c = claims(T0, T0 + abs - 100, T0 + abs);
        refused_from(&l, &c, T0 + abs, ErrorKind::Expired);
    }

    /// Valid one second before `at`; refused as `kind` at `at` and after.
    fn refused_from(l: &Lifetime, c: &Claims, at: u64, kind: ErrorKind) {
        assert!(l.check(c, at - 1).is_ok());
        for now in [at, at + 1] {
            assert_eq!(l.check(c, now).unwrap_err().kind(), kind, "at {now}");
        }
    }

    #[test]
    fn a_reduced_configured_lifetime_wins_over_the_sealed_one() {
        let l = Lifetime::default();
        let c = claims(T0, T0, T0 + 100 * secs(l.absolute));
        assert!(
            l.check(&c, T0 + 10).unwrap().renew,
            "re-seal to write the shorter deadline"
        );
        let abs = secs(l.absolute);
        let c = claims(T0, T0 + abs - 10, T0 + 100 * abs);
        assert_eq!(
            l.check(&c, T0 + abs).unwrap_err().kind(),
            ErrorKind::Expired
        );
    }

    #[test]
    fn idle_and_renewal_boundaries() {
        let l = Lifetime::default();
        let idle = secs(l.idle);
        let renew = secs(l.renew_after);
        let c = claims(T0, T0, T0 + secs(l.absolute));
        assert!(!l.check(&c, T0 + renew - 1).unwrap().renew);
        assert!(l.check(&c, T0 + renew).unwrap().renew);
        assert!(l.check(&c, T0 + renew + 1).unwrap().renew);
        refused_from(&l, &c, T0 + idle, ErrorKind::IdleExpired);
    }

    #[test]
    fn skew_boundaries_both_ways() {
        let l = Lifetime::default();
        let skew = secs(l.skew);
        let c = claims(T0, T0, T0 + secs(l.absolute));
        // Sealed in the future (another server's clock runs ahead).
        assert!(l.check(&c, T0 - skew + 1).is_ok());
        assert!(l.check(&c, T0 - skew).is_ok());
        assert_eq!(
            l.check(&c, T0 - skew - 1).unwrap_err().kind(),
            ErrorKind::NotYetValid
        );
        // Our clock runs ahead: ordinary idle rules apply, no extra leeway.
        assert!(l.check(&c, T0 + secs(l.idle) - 1).is_ok());
    }

    #[test]
    fn single_use_values_skip_idle_and_never_renew() {
        let l = Lifetime::default();
        let w = secs(l.single_use_window);
        let mut c = claims(T0, T0, T0 + w);
        c.kind = 1;
        assert!(!l.check(&c, T0 + w - 1).unwrap().renew);
        assert_eq!(l.check(&c, T0 + w).unwrap_err().kind(), ErrorKind::Expired);
    }
}
