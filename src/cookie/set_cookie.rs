//! One `Set-Cookie` header: the crate's checked name, value and
//! attributes, rendered by the `cookie` crate.

use core::fmt;
use std::sync::Arc;

use time::{Duration, OffsetDateTime};

use crate::cookie::attributes::{Attributes, MAX_COOKIE_AGE_SECS, SameSite};
use crate::cookie::grammar::{is_cookie_octet, is_token};

/// Whether the browser keeps the cookie, and for how long.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Lifespan {
    /// No Max-Age, no Expires.
    BrowserSession,
    /// `Max-Age=secs` and `Expires=at` (`at` is omitted when it cannot be
    /// written as a four-digit year).
    For { secs: u64, at: OffsetDateTime },
    /// An empty value, `Max-Age=0` and the epoch as Expires.
    Removal,
}

impl Lifespan {
    /// A persistent lifespan ending at `until`, seen from `now`: Max-Age is
    /// the whole seconds left, at least 0 and at most 400 days (clamped, as
    /// RFC 6265bis §5.5 says browsers do), and Expires is `now + Max-Age`.
    pub(crate) fn until(until: OffsetDateTime, now: OffsetDateTime) -> Self {
        let left = (until - now).whole_seconds();
        let secs = u64::try_from(left).unwrap_or(0).min(MAX_COOKIE_AGE_SECS);
        let at = i64::try_from(secs)
            .ok()
            .and_then(|s| now.checked_add(Duration::seconds(s)))
            .unwrap_or(now);
        Self::For { secs, at }
    }
}

/// One `Set-Cookie` header field for a response.
///
/// Get the field value with [`SetCookie::header_value`] (rendered by the
/// `cookie` crate in its fixed order: `name=value; HttpOnly; SameSite=..;
/// Partitioned; Secure; Path=..; Domain=..; Max-Age=..; Expires=..`, each
/// attribute at most once, absent ones left out), or the same cookie as a
/// [`cookie::Cookie`] with [`SetCookie::to_cookie`]. The name, value and
/// attributes are this crate's, checked against RFC 6265bis when the
/// policy was built.
///
/// The value is a bearer credential: `Debug` redacts it, and there is no
/// `Display`, so it does not end up in logs by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct SetCookie {
    name: String,
    value: String,
    lifespan: Lifespan,
    attributes: Arc<Attributes>,
    header: String,
}

impl SetCookie {
    /// The rendered header value, taking it out of the cookie.
    #[cfg_attr(
        not(any(feature = "http", feature = "actix-web")),
        allow(dead_code, reason = "for the adapters")
    )]
    pub(crate) fn into_header_value(self) -> String {
        self.header
    }

    /// Renders a cookie. The caller guarantees that `name` is a token and
    /// `value` is made of cookie-octets (checked in debug builds); the
    /// attributes were validated when the policy was built.
    pub(crate) fn new(
        name: String,
        value: String,
        lifespan: Lifespan,
        attributes: Arc<Attributes>,
    ) -> Self {
        debug_assert!(is_token(&name));
        debug_assert!(value.bytes().all(is_cookie_octet));
        let header = rendered(&name, &value, lifespan, &attributes).to_string();
        Self {
            name,
            value,
            lifespan,
            attributes,
            header,
        }
    }

    /// The removal cookie for `name`: the same Path, Domain, Secure,
    /// SameSite and Partitioned as the cookie it replaces (a browser only
    /// overwrites a cookie with the same name, domain and path, and a
    /// partitioned one only from a partitioned Set-Cookie), an empty value,
    /// `Max-Age=0` and `Expires=Thu, 01 Jan 1970 00:00:00 GMT`.
    pub(crate) fn removal(name: String, attributes: Arc<Attributes>) -> Self {
        Self::new(name, String::new(), Lifespan::Removal, attributes)
    }

    /// The cookie name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The cookie value (empty for a removal). It is a bearer credential:
    /// do not log it.
    #[must_use]
    pub fn value(&self) -> &str {
        &self.value
    }

    /// Whether this cookie deletes the browser's copy (`Max-Age=0`).
    #[must_use]
    pub fn is_removal(&self) -> bool {
        self.lifespan == Lifespan::Removal
    }

    /// The Max-Age in seconds: `None` for a browser-session cookie, `Some(0)`
    /// for a removal, at most 400 days otherwise.
    #[must_use]
    pub fn max_age(&self) -> Option<u64> {
        match self.lifespan {
            Lifespan::BrowserSession => None,
            Lifespan::For { secs, .. } => Some(secs),
            Lifespan::Removal => Some(0),
        }
    }

    /// The Expires instant, if the header carries one.
    #[must_use]
    pub fn expires(&self) -> Option<OffsetDateTime> {
        match self.lifespan {
            Lifespan::BrowserSession => None,
            Lifespan::For { at, .. } => four_digit_year(at).then_some(at),
            Lifespan::Removal => Some(OffsetDateTime::UNIX_EPOCH),
        }
    }

    /// The `Set-Cookie` field value, for example
    /// `__Host-session=AbC...; HttpOnly; SameSite=Lax; Secure; Path=/`.
    /// It matches the server grammar of RFC 6265bis §4.1.1.
    #[must_use]
    pub fn header_value(&self) -> &str {
        &self.header
    }

    /// The `Cookie` request header a browser with no other cookies sends
    /// back after storing `set`: `name=value` for each cookie that is not a
    /// removal, in order, joined by `; ` (RFC 6265bis §5.8.3). For tests,
    /// benches and server-to-server calls that replay a response's cookies.
    ///
    /// ```
    /// use sealed_session::{KeyId, Keyring, SetCookie, Sessions};
    ///
    /// let sessions = Sessions::builder(Keyring::generate(KeyId(1))?).build()?;
    /// let meta = sessions.codec().new_session(None)?;
    /// let set = sessions.seal(&meta, &7u32, &sessions.open::<u32>([]).carried)?;
    /// let header = SetCookie::cookie_header(&set);
    /// assert!(header.starts_with("__Host-session="));
    /// assert_eq!(sessions.open::<u32>([header.as_str()]).session.unwrap().data, 7);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn cookie_header(set: &[Self]) -> String {
        let mut header = String::new();
        for c in set.iter().filter(|c| !c.is_removal()) {
            if !header.is_empty() {
                header.push_str("; ");
            }
            header.push_str(&c.name);
            header.push('=');
            header.push_str(&c.value);
        }
        header
    }

    /// The same cookie as a [`cookie::Cookie`], for frameworks that take
    /// one: the cookie [`SetCookie::header_value`] renders.
    #[must_use]
    pub fn to_cookie(&self) -> cookie::Cookie<'static> {
        rendered(&self.name, &self.value, self.lifespan, &self.attributes).into_owned()
    }
}

impl From<SetCookie> for cookie::Cookie<'static> {
    fn from(set: SetCookie) -> Self {
        set.to_cookie()
    }
}

impl fmt::Debug for SetCookie {
    /// The name and attributes; the value is redacted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SetCookie")
            .field("name", &self.name)
            .field("value", &"<redacted>")
            .field("removal", &self.is_removal())
            .field("max_age", &self.max_age())
            .field("path", &self.attributes.path)
            .field("domain", &self.attributes.domain)
            .finish_non_exhaustive()
    }
}

/// The cookie the crate sends, borrowing its parts. Expires is left out
/// when its UTC year has other than four digits (RFC 6265bis §4.1.1 asks
/// for a four-digit year; Max-Age still applies).
fn rendered<'a>(
    name: &'a str,
    value: &'a str,
    lifespan: Lifespan,
    a: &'a Attributes,
) -> cookie::Cookie<'a> {
    let mut c = cookie::Cookie::new(name, value);
    c.set_path(&*a.path);
    if let Some(domain) = &a.domain {
        c.set_domain(&**domain);
    }
    match lifespan {
        Lifespan::BrowserSession => {}
        Lifespan::For { secs, at } => {
            c.set_max_age(Duration::seconds(i64::try_from(secs).unwrap_or(i64::MAX)));
            if four_digit_year(at) {
                c.set_expires(at);
            }
        }
        Lifespan::Removal => {
            c.set_max_age(Duration::ZERO);
            c.set_expires(OffsetDateTime::UNIX_EPOCH);
        }
    }
    c.set_secure(a.secure);
    c.set_http_only(true);
    c.set_same_site(match a.same_site {
        SameSite::Strict => cookie::SameSite::Strict,
        SameSite::Lax => cookie::SameSite::Lax,
        SameSite::None => cookie::SameSite::None,
    });
    if a.partitioned {
        c.set_partitioned(true);
    }
    c
}

/// Whether `at`'s UTC year has four digits, as an Expires date needs.
fn four_digit_year(at: OffsetDateTime) -> bool {
    (1000..=9999).contains(&at.to_offset(time::UtcOffset::UTC).year())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(unix: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(unix).unwrap()
    }

    fn header_for(at: OffsetDateTime) -> String {
        let attributes = Arc::new(Attributes {
            path: "/".into(),
            domain: None,
            secure: true,
            same_site: SameSite::Lax,
            partitioned: false,
        });
        let lifespan = Lifespan::For { secs: 60, at };
        SetCookie::new("n".into(), "v".into(), lifespan, attributes).into_header_value()
    }

    /// Expires in IMF-fixdate (RFC 9110 §5.6.7, its example date), in UTC
    /// whatever the offset, and left out where the year is not four digits.
    #[test]
    fn expires_is_an_imf_fixdate_or_absent() {
        let example = "n=v; HttpOnly; SameSite=Lax; Secure; Path=/; Max-Age=60; \
                       Expires=Sun, 06 Nov 1994 08:49:37 GMT";
        assert_eq!(header_for(at(784_111_777)), example);
        let offset = at(784_111_777).to_offset(time::UtcOffset::from_hms(5, 30, 0).unwrap());
        assert_eq!(header_for(offset), example);
        assert!(header_for(at(0)).ends_with("; Expires=Thu, 01 Jan 1970 00:00:00 GMT"));
        let early = header_for(at(-62_000_000_000));
        assert!(
            early.ends_with("; Max-Age=60") && !early.contains("Expires"),
            "{early}"
        );
    }

    #[test]
    fn lifespans_clamp_to_400_days_and_never_go_negative() {
        let now = at(1_700_000_000);
        let far = now + Duration::days(500);
        assert_eq!(
            Lifespan::until(far, now),
            Lifespan::For {
                secs: 34_560_000,
                at: now + Duration::days(400)
            }
        );
        let soon = now + Duration::seconds(90);
        assert_eq!(
            Lifespan::until(soon, now),
            Lifespan::For { secs: 90, at: soon }
        );
        assert_eq!(
            Lifespan::until(now - Duration::hours(1), now),
            Lifespan::For { secs: 0, at: now }
        );
    }
}
