//! A hint for the commonest deployment mistake: the session cookie is
//! `Secure` (the default), but the site is served over plain HTTP on a
//! real name. Browsers do not store a `Secure` cookie from such a page
//! (RFC 6265bis §5.7 step 13; `http://localhost` and `127.0.0.1` are
//! secure contexts and exempt), so no session ever sticks, and nothing
//! says why. The adapters call [`Sessions::hint_plain_http`] on every
//! request; with the `tracing` feature it logs one warning per
//! [`Sessions`], the first time a request shows it came over plain HTTP:
//!
//! - its `Origin` is `http://` and a host that is not loopback (browsers
//!   send `Origin` on every form post and script request that is not a
//!   plain GET), or
//! - the app trusts forwarded headers
//!   ([`CrossOrigin::trust_forwarded_host`](crate::CrossOrigin::trust_forwarded_host))
//!   and the request has `X-Forwarded-Proto: http` and a non-loopback
//!   host.
//!
//! The warning names neither header's value: both are the client's.

use crate::session::sessions::Sessions;

impl Sessions {
    /// Logs the plain-HTTP hint once, if the request shows it (see the
    /// module's docs); `header` looks a request header up by its lowercase
    /// name. Costs a flag check once the hint was given or when the cookie
    /// is not `Secure`.
    pub(crate) fn hint_plain_http<'a>(&self, header: impl Fn(&str) -> Option<&'a [u8]>) {
        if self.policy().secure()
            && !self.plain_http_hinted()
            && self.came_over_plain_http(&header)
            && self.first_plain_http_hint()
        {
            tracing::warn!(
                "sealed_session: a request came over plain HTTP to a host that is not \
                 loopback, but the session cookie is Secure: browsers will not store it, \
                 so no session will stick. Serve the site over HTTPS (behind a proxy, \
                 have it set X-Forwarded-Proto); for local development only, use \
                 http://localhost or CookiePolicy::builder().allow_insecure_http()"
            );
        }
    }

    /// Whether the request's headers show plain HTTP to a non-loopback
    /// host.
    pub(crate) fn came_over_plain_http<'a>(
        &self,
        header: &impl Fn(&str) -> Option<&'a [u8]>,
    ) -> bool {
        let text = |name| header(name).and_then(|v| core::str::from_utf8(v).ok());
        if let Some(host) = text("origin").and_then(|o| o.strip_prefix("http://")) {
            return !is_loopback(host);
        }
        if !self.cross_origin().trusts_forwarded_host() {
            return false;
        }
        let proto = text("x-forwarded-proto").map(|p| p.split(',').next().unwrap_or("").trim());
        let host = text("x-forwarded-host")
            .or_else(|| text("host"))
            .map(|h| h.split(',').next().unwrap_or("").trim());
        matches!((proto, host), (Some(p), Some(h)) if p.eq_ignore_ascii_case("http") && !is_loopback(h))
    }
}

/// Whether `authority` (`host[:port]`) is a loopback name or address,
/// which browsers treat as a secure context over plain HTTP.
fn is_loopback(authority: &str) -> bool {
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    };
    // Compared without lowering case into a new string: this runs on
    // requests until the hint is given, on the client's header.
    let host = host.trim_end_matches('.');
    let suffix = host
        .len()
        .checked_sub(".localhost".len())
        .and_then(|i| host.get(i..));
    host.eq_ignore_ascii_case("localhost")
        || suffix.is_some_and(|s| s.eq_ignore_ascii_case(".localhost"))
        || host == "::1"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cookie::policy::CookiePolicy;
    use crate::csrf::CrossOrigin;
    use crate::keys::key::KeyId;
    use crate::keys::keyring::Keyring;

    fn sessions(trust_forwarded: bool) -> Sessions {
        let mut cross = CrossOrigin::new();
        if trust_forwarded {
            cross = cross.trust_forwarded_host();
        }
        Sessions::builder(Keyring::generate(KeyId(1)).unwrap())
            .cross_origin(cross)
            .build()
            .unwrap()
    }

    fn plain(s: &Sessions, headers: &[(&str, &str)]) -> bool {
        s.came_over_plain_http(&|name: &str| {
            headers
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.as_bytes())
        })
    }

    #[test]
    fn plain_http_is_told_from_origin_and_trusted_forwarded_headers() {
        let s = sessions(false);
        assert!(plain(&s, &[("origin", "http://app.example")]));
        assert!(plain(&s, &[("origin", "http://app.example:8080")]));
        for secure in [
            "https://app.example",
            "http://localhost:3000",
            "http://LOCALHOST",
            "http://dev.localhost",
            "http://dev.LocalHost.",
            "http://127.0.0.1:3000",
            "http://127.9.9.9",
            "http://[::1]:3000",
            "null",
        ] {
            assert!(!plain(&s, &[("origin", secure)]), "{secure}");
        }
        assert!(!plain(&s, &[]));
        // Forwarded headers count only when the app trusts them.
        let proxied = [("x-forwarded-proto", "http"), ("host", "app.example")];
        assert!(!plain(&s, &proxied));
        let t = sessions(true);
        assert!(plain(&t, &proxied));
        assert!(plain(
            &t,
            &[
                ("x-forwarded-proto", "HTTP, https"),
                ("x-forwarded-host", "app.example")
            ]
        ));
        assert!(!plain(
            &t,
            &[("x-forwarded-proto", "https"), ("host", "app.example")]
        ));
        assert!(!plain(
            &t,
            &[("x-forwarded-proto", "http"), ("host", "localhost:8080")]
        ));
    }

    /// One warning per `Sessions`, the first time, naming no header value.
    #[test]
    fn the_hint_is_logged_once_and_names_no_header() {
        use std::sync::{Arc, Mutex};

        use crate::session::response::tests::Recorder;

        let s = sessions(false);
        let events = Arc::new(Mutex::new(Vec::new()));
        tracing::subscriber::with_default(Recorder(Arc::clone(&events)), || {
            let at = |origin: &'static str| {
                move |name: &str| (name == "origin").then_some(origin.as_bytes())
            };
            s.hint_plain_http(at("https://secret-host.example"));
            s.hint_plain_http(at("http://localhost:3000"));
            assert!(!s.plain_http_hinted());
            s.hint_plain_http(at("http://secret-host.example"));
            s.hint_plain_http(at("http://secret-host.example"));
            s.hint_plain_http(at("http://other.example"));
        });
        let events = events.lock().unwrap();
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(events[0].0, tracing::Level::WARN);
        assert!(events[0].1.contains("plain HTTP"), "{}", events[0].1);
        assert!(
            !events[0].1.contains("secret-host"),
            "never the client's header"
        );
    }

    #[test]
    fn an_insecure_policy_gets_no_hint() {
        let s = Sessions::builder(Keyring::generate(KeyId(1)).unwrap())
            .cookie(
                CookiePolicy::builder()
                    .name("session")
                    .allow_insecure_http()
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap();
        s.hint_plain_http(|name| (name == "origin").then_some(&b"http://app.example"[..]));
        assert!(!s.plain_http_hinted());
    }
}
