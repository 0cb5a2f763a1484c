//! The cross-origin check of an unsafe request, framework-neutral: the
//! algorithm of Go 1.25's `net/http.CrossOriginProtection` and OWASP's
//! Fetch Metadata guidance. It needs no session, so it also stops login
//! CSRF: a cross-site form post to a sign-in route, which carries no
//! `SameSite=Lax` cookie and so looks like "no session".

use crate::error::ConfigError;

/// How the cross-origin check treats a request; set with
/// [`SessionsBuilder::cross_origin`](crate::SessionsBuilder::cross_origin).
///
/// For every method but GET, HEAD and OPTIONS, in this order:
///
/// 1. an `Origin` equal to a [trusted origin](CrossOrigin::trust_origin)
///    passes;
/// 2. `Sec-Fetch-Site: same-origin` or `none` (typed in the address bar, a
///    bookmark) passes, and any other value (`same-site`, `cross-site`) is
///    refused: every current browser sends it (Fetch Metadata, W3C);
/// 3. without `Sec-Fetch-Site`, an `Origin` whose host (and port) is not
///    the request's own is refused, as is `Origin: null`;
/// 4. a request with neither header passes: it is not from a browser that
///    could be tricked into sending it (curl, a server, a native app).
///
/// The request's own host is its `Host` header (HTTP/2's `:authority`).
/// Behind a reverse proxy that rewrites `Host`, say which headers to
/// believe with [`CrossOrigin::trust_forwarded_host`]; never do so when
/// clients can reach the app without the proxy, since anyone can send the
/// header. As in Go, the scheme is not compared: the app rarely knows
/// whether TLS ended at a proxy, and an `http://` page on the app's own
/// host is already inside its trust boundary.
///
/// A refusal is a bare 403 and, with the `tracing` feature, an `info`
/// event with its reason; it happens before the CSRF token is looked at.
///
/// ```
/// use sealed_session::CrossOrigin;
/// let check = CrossOrigin::new()
///     .trust_origin("https://admin.example.com")?
///     .trust_forwarded_host();
/// # let _ = check;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[must_use]
pub struct CrossOrigin {
    trusted: Vec<Box<str>>,
    forwarded_host: bool,
}

/// Why the check refused a request, for logs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CrossOriginRefusal {
    /// `Sec-Fetch-Site` was `cross-site`, `same-site` or unknown.
    FetchSite,
    /// No `Sec-Fetch-Site`, and the `Origin` is another host or `null`.
    Origin,
}

impl CrossOriginRefusal {
    pub(crate) const fn as_str(self) -> &'static str {
        match self {
            Self::FetchSite => "sec_fetch_site",
            Self::Origin => "origin_mismatch",
        }
    }
}

impl CrossOrigin {
    /// The default: no trusted origins, `Host` as the request's own host.
    pub fn new() -> Self {
        Self::default()
    }

    /// Lets unsafe requests whose `Origin` is exactly `origin` through
    /// (another site of yours that posts to this one).
    ///
    /// # Errors
    /// [`ConfigError`] unless `origin` is a serialized origin:
    /// `http://` or `https://`, a host, an optional port, nothing else (no
    /// path, no trailing `/`, lowercase).
    pub fn trust_origin(mut self, origin: &str) -> Result<Self, ConfigError> {
        let host = origin
            .strip_prefix("https://")
            .or_else(|| origin.strip_prefix("http://"));
        let ok = host.is_some_and(|h| {
            !h.is_empty()
                && h.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-.:[]".contains(&b))
        });
        if !ok {
            return Err(ConfigError::new(
                "CrossOrigin::trust_origin takes a serialized origin such as \
                 https://app.example.com (lowercase, no path)",
            ));
        }
        self.trusted.push(origin.into());
        Ok(self)
    }

    /// Takes the request's own host from `X-Forwarded-Host` (its first
    /// entry) when present, as set by a reverse proxy that rewrites `Host`.
    ///
    /// # Warning
    ///
    /// Only behind a proxy that always sets or strips the header: a client
    /// that reaches the app directly can send any value.
    pub const fn trust_forwarded_host(mut self) -> Self {
        self.forwarded_host = true;
        self
    }

    /// Whether forwarded headers are believed
    /// ([`CrossOrigin::trust_forwarded_host`]).
    #[cfg(all(feature = "tracing", any(feature = "tower", feature = "actix-web")))]
    pub(crate) const fn trusts_forwarded_host(&self) -> bool {
        self.forwarded_host
    }

    /// The check; `header` looks a request header up by its lowercase
    /// name.
    pub(crate) fn check<'a>(
        &self,
        method: &str,
        header: impl Fn(&str) -> Option<&'a [u8]>,
    ) -> Result<(), CrossOriginRefusal> {
        if crate::csrf::check::is_safe_method(method) {
            return Ok(());
        }
        let origin = header("origin");
        if origin.is_some_and(|o| self.trusted.iter().any(|t| t.as_bytes() == o)) {
            return Ok(());
        }
        if let Some(site) = header("sec-fetch-site") {
            return match site {
                b"same-origin" | b"none" => Ok(()),
                _ => Err(CrossOriginRefusal::FetchSite),
            };
        }
        let Some(origin) = origin else {
            return Ok(());
        };
        let forwarded = self
            .forwarded_host
            .then(|| header("x-forwarded-host"))
            .flatten()
            .map(|v| v.split(|b| *b == b',').next().unwrap_or_default());
        let own = forwarded.or_else(|| header("host")).map(trim);
        match (origin_host(origin), own) {
            (Some(theirs), Some(own)) if theirs.eq_ignore_ascii_case(own) => Ok(()),
            _ => Err(CrossOriginRefusal::Origin),
        }
    }
}

/// The `host[:port]` of a serialized origin (`scheme://host[:port]`);
/// `None` for `null` or anything else.
fn origin_host(origin: &[u8]) -> Option<&[u8]> {
    let rest = origin
        .strip_prefix(b"https://")
        .or_else(|| origin.strip_prefix(b"http://"))?;
    (!rest.is_empty() && !rest.contains(&b'/')).then_some(rest)
}

fn trim(v: &[u8]) -> &[u8] {
    v.trim_ascii()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(c: &CrossOrigin, method: &str, headers: &[(&str, &str)]) -> Result<(), &'static str> {
        c.check(method, |name| {
            headers
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.as_bytes())
        })
        .map_err(CrossOriginRefusal::as_str)
    }

    const HOST: (&str, &str) = ("host", "app.example:8443");

    #[test]
    fn fetch_metadata_decides_when_present() {
        let c = CrossOrigin::new();
        for site in ["same-origin", "none"] {
            assert_eq!(check(&c, "POST", &[HOST, ("sec-fetch-site", site)]), Ok(()));
        }
        for site in ["same-site", "cross-site", "bogus", ""] {
            assert_eq!(
                check(&c, "POST", &[HOST, ("sec-fetch-site", site)]),
                Err("sec_fetch_site"),
                "{site}"
            );
        }
        // A matching Origin does not rescue a cross-site fetch.
        let both = [
            HOST,
            ("sec-fetch-site", "cross-site"),
            ("origin", "https://app.example:8443"),
        ];
        assert_eq!(check(&c, "POST", &both), Err("sec_fetch_site"));
        // Safe methods are never checked.
        for m in ["GET", "HEAD", "OPTIONS"] {
            assert_eq!(
                check(&c, m, &[HOST, ("sec-fetch-site", "cross-site")]),
                Ok(())
            );
        }
        assert_eq!(
            check(&c, "TRACE", &[HOST, ("sec-fetch-site", "cross-site")]),
            Err("sec_fetch_site")
        );
    }

    #[test]
    fn origin_decides_without_fetch_metadata() {
        let c = CrossOrigin::new();
        for same in ["https://app.example:8443", "http://APP.example:8443"] {
            assert_eq!(
                check(&c, "POST", &[HOST, ("origin", same)]),
                Ok(()),
                "{same}"
            );
        }
        for foreign in [
            "https://evil.example",
            "https://app.example",
            "https://app.example:8443.evil",
            "null",
            "https://app.example:8443/path",
            "app.example:8443",
        ] {
            assert_eq!(
                check(&c, "POST", &[HOST, ("origin", foreign)]),
                Err("origin_mismatch"),
                "{foreign}"
            );
        }
        assert_eq!(
            check(&c, "POST", &[("origin", "https://app.example:8443")]),
            Err("origin_mismatch"),
            "no Host to compare with"
        );
        // Neither header: not a browser.
        assert_eq!(check(&c, "POST", &[HOST]), Ok(()));
        assert_eq!(check(&c, "DELETE", &[]), Ok(()));
    }

    #[test]
    fn trusted_origins_and_forwarded_hosts_are_opt_in() {
        let proxied = [
            ("host", "10.0.0.7:3000"),
            ("x-forwarded-host", "app.example, proxy.internal"),
            ("origin", "https://app.example"),
        ];
        assert_eq!(
            check(&CrossOrigin::new(), "POST", &proxied),
            Err("origin_mismatch")
        );
        let behind = CrossOrigin::new().trust_forwarded_host();
        assert_eq!(check(&behind, "POST", &proxied), Ok(()));

        let admin = [
            HOST,
            ("origin", "https://admin.example"),
            ("sec-fetch-site", "same-site"),
        ];
        assert_eq!(
            check(&CrossOrigin::new(), "POST", &admin),
            Err("sec_fetch_site")
        );
        let trusting = CrossOrigin::new()
            .trust_origin("https://admin.example")
            .unwrap();
        assert_eq!(check(&trusting, "POST", &admin), Ok(()));

        for bad in [
            "https://Admin.example",
            "https://a.example/",
            "ftp://a",
            "https://",
            "a.example",
        ] {
            assert!(CrossOrigin::new().trust_origin(bad).is_err(), "{bad}");
        }
    }
}
