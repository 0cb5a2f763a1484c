//! Cookie attributes: the policy that decides them, its prefix rules, and
//! the checks that refuse, when the policy is built, every configuration a
//! browser would silently drop or ignore.
//!
//! HttpOnly is always sent: a sealed session value is of no use to
//! scripts, and only to an attacker's (OWASP Session Management Cheat
//! Sheet, ASVS 5.0 3.3.4).

use std::sync::Arc;

use crate::codec::DEFAULT_COOKIE_NAME;
use crate::cookie::attributes::{Attributes, Persistence, SameSite};
use crate::cookie::chunks::{self, ChunkLimits};
use crate::cookie::policy_builder::CookiePolicyBuilder;
use crate::cookie::response_budget::DEFAULT_SET_COOKIE_BUDGET;

/// How the session cookie is named and which attributes it carries: a
/// validated, immutable configuration. Build it with
/// [`CookiePolicy::builder`]; the defaults are the secure choice.
///
/// | setting | default | why |
/// |---|---|---|
/// | name | `__Host-session` | the `__Host-` prefix makes browsers refuse the cookie unless it is Secure, host-only and `Path=/`, so a sibling subdomain cannot set or shadow it (RFC 6265bis §4.1.3.2) |
/// | Secure | on | RFC 6265bis §8.3; ASVS 5.0 3.3.1 |
/// | HttpOnly | always | ASVS 5.0 3.3.4 |
/// | SameSite | `Lax` | sent explicitly (ASVS 5.0 3.3.2); `Strict` is an option |
/// | Path | `/` | required by `__Host-` |
/// | Domain | none (host-only) | required by `__Host-` |
/// | Partitioned | off | CHIPS, for embedded use only |
/// | persistence | browser session | no Max-Age/Expires unless "remember me" |
/// | chunking | off | one cookie; values past 4096 bytes are refused |
/// | `Set-Cookie` budget | 3072 bytes per response | fits nginx's default 4 KiB buffer for an upstream's response header ([`DEFAULT_SET_COOKIE_BUDGET`](crate::DEFAULT_SET_COOKIE_BUDGET)) |
///
/// ```
/// use sealed_session::{CookiePolicy, SameSite};
///
/// let default = CookiePolicy::default();
/// assert_eq!(default.name(), "__Host-session");
///
/// let strict = CookiePolicy::builder().same_site(SameSite::Strict).build()?;
/// assert_eq!(strict.same_site(), SameSite::Strict);
///
/// // `__Host-` cookies cannot carry a Domain: refused when built.
/// assert!(CookiePolicy::builder().shared_with_subdomains_of("example.com").build().is_err());
/// let shared = CookiePolicy::builder()
///     .name("__Secure-session")
///     .shared_with_subdomains_of("example.com")
///     .build()?;
/// assert_eq!(shared.domain(), Some("example.com"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CookiePolicy {
    pub(crate) name: Box<str>,
    pub(crate) attributes: Arc<Attributes>,
    pub(crate) persistence: Persistence,
    pub(crate) limits: ChunkLimits,
    pub(crate) set_cookie_budget: usize,
}

impl Default for CookiePolicy {
    /// The secure defaults listed on [`CookiePolicy`].
    fn default() -> Self {
        Self {
            name: DEFAULT_COOKIE_NAME.into(),
            attributes: Arc::new(Attributes {
                path: "/".into(),
                domain: None,
                secure: true,
                same_site: SameSite::Lax,
                partitioned: false,
            }),
            persistence: Persistence::BrowserSession,
            limits: ChunkLimits::new(
                DEFAULT_COOKIE_NAME.len(),
                1,
                chunks::DEFAULT_COOKIE_HEADER_BUDGET,
            ),
            set_cookie_budget: DEFAULT_SET_COOKIE_BUDGET,
        }
    }
}

impl CookiePolicy {
    /// A builder holding the defaults listed on [`CookiePolicy`].
    pub fn builder() -> CookiePolicyBuilder {
        CookiePolicyBuilder::new()
    }

    /// The cookie name, prefix included. Chunks are named `NAME.0`,
    /// `NAME.1`, ...
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The Path attribute.
    #[must_use]
    pub fn path(&self) -> &str {
        &self.attributes.path
    }

    /// The Domain attribute, if any (none means host-only).
    #[must_use]
    pub fn domain(&self) -> Option<&str> {
        self.attributes.domain.as_deref()
    }

    /// Whether cookies carry Secure (true unless
    /// [`CookiePolicyBuilder::allow_insecure_http`] was used).
    #[must_use]
    pub fn secure(&self) -> bool {
        self.attributes.secure
    }

    /// The SameSite attribute.
    #[must_use]
    pub fn same_site(&self) -> SameSite {
        self.attributes.same_site
    }

    /// Whether cookies carry Partitioned (CHIPS).
    #[must_use]
    pub fn partitioned(&self) -> bool {
        self.attributes.partitioned
    }

    /// Whether cookies persist by default.
    #[must_use]
    pub const fn persistence(&self) -> Persistence {
        self.persistence
    }

    /// The most cookies one value is split over; 1 when chunking is off.
    #[must_use]
    pub const fn max_chunks(&self) -> usize {
        self.limits.max_chunks()
    }

    /// The most bytes this policy's cookies may add to a request's `Cookie`
    /// header (each `name=value` plus a two-byte `; ` separator).
    #[must_use]
    pub const fn cookie_header_budget(&self) -> usize {
        self.limits.header_budget()
    }

    /// The most bytes of `Set-Cookie` header lines (`Set-Cookie: `, the
    /// value, CRLF) this policy's cookies may add to one response; see
    /// [`CookiePolicyBuilder::set_cookie_budget`].
    #[must_use]
    pub const fn set_cookie_budget(&self) -> usize {
        self.set_cookie_budget
    }

    /// The longest sealed value, in characters, this policy can carry:
    /// one cookie's worth, or with chunking the most that fits the chunk
    /// count and the header budget. This bounds what is read from a
    /// request; what is written is also bounded by the
    /// [`set_cookie_budget`](Self::set_cookie_budget), which by default is
    /// the tighter of the two.
    #[must_use]
    pub fn max_value_len(&self) -> usize {
        self.limits.max_value_len()
    }

    pub(crate) const fn attributes(&self) -> &Arc<Attributes> {
        &self.attributes
    }

    pub(crate) const fn limits(&self) -> &ChunkLimits {
        &self.limits
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cookie::attributes::MAX_ATTRIBUTE_VALUE_LEN;

    fn refused(b: CookiePolicyBuilder) -> String {
        let err = b.build().unwrap_err();
        assert!(err.to_string().starts_with("invalid configuration"));
        err.to_string()
    }

    #[test]
    fn defaults_are_the_documented_ones() {
        let built = CookiePolicy::builder().build().unwrap();
        assert_eq!(built, CookiePolicy::default());
        assert_eq!(built.name(), "__Host-session");
        assert_eq!(built.path(), "/");
        assert_eq!(built.domain(), None);
        assert!(built.secure());
        assert_eq!(built.same_site(), SameSite::Lax);
        assert!(!built.partitioned());
        assert_eq!(built.persistence(), Persistence::BrowserSession);
        assert_eq!(built.max_chunks(), 1);
        assert_eq!(built.max_value_len(), 4096 - "__Host-session".len());
        assert_eq!(built.set_cookie_budget(), 3072);
    }

    #[test]
    fn names_must_be_tokens() {
        for bad in ["", "a b", "a;b", "a=b", "sess\u{e9}", "a\r\nb"] {
            refused(CookiePolicy::builder().name(bad));
        }
        CookiePolicy::builder()
            .name("__Host-s.id~1")
            .build()
            .unwrap();
        refused(CookiePolicy::builder().name("a".repeat(chunks::MAX_NAME_LEN + 1)));
        let longest = CookiePolicy::builder().name("a".repeat(chunks::MAX_NAME_LEN));
        // Within 4096 bytes of name and value, but not the default
        // Set-Cookie budget.
        assert!(refused(longest.clone()).contains("Set-Cookie budget"));
        longest.set_cookie_budget(8192).build().unwrap();
    }

    #[test]
    fn prefix_case_variants_are_refused() {
        for bad in [
            "__host-s",
            "__HOST-s",
            "__secure-s",
            "__SECURE-s",
            "__http-s",
            "__Host-http-s",
            "__host-Http-s",
        ] {
            let msg = refused(CookiePolicy::builder().name(bad));
            assert!(msg.contains("case variant"), "{bad}: {msg}");
            assert!(!msg.contains(bad), "no input in messages");
        }
        for good in [
            "__Host-s",
            "__Secure-s",
            "__Http-s",
            "__Host-Http-s",
            "__Hosts",
            "_host-s",
        ] {
            CookiePolicy::builder().name(good).build().unwrap();
        }
    }

    #[test]
    fn host_prefix_rules() {
        let host = || CookiePolicy::builder().name("__Host-s");
        assert!(refused(host().path("/app")).contains("Path=/"));
        assert!(refused(host().shared_with_subdomains_of("example.com")).contains("Domain"));
        assert!(refused(host().allow_insecure_http()).contains("allow_insecure_http"));
        let hh = || CookiePolicy::builder().name("__Host-Http-s");
        refused(hh().path("/app"));
        refused(hh().shared_with_subdomains_of("example.com"));
        host().build().unwrap();
        hh().build().unwrap();
    }

    #[test]
    fn secure_and_http_prefixes_need_secure() {
        for name in ["__Secure-s", "__Http-s"] {
            refused(CookiePolicy::builder().name(name).allow_insecure_http());
            CookiePolicy::builder()
                .name(name)
                .path("/app")
                .shared_with_subdomains_of("example.com")
                .build()
                .unwrap();
        }
    }

    #[test]
    fn insecure_http_is_an_explicit_unprefixed_opt_out() {
        // The default name is prefixed, so the opt-out alone is refused.
        refused(CookiePolicy::builder().allow_insecure_http());
        let dev = CookiePolicy::builder()
            .name("dev-session")
            .allow_insecure_http()
            .build()
            .unwrap();
        assert!(!dev.secure());
    }

    #[test]
    fn domain_forces_secure_prefix_or_none() {
        refused(CookiePolicy::builder().shared_with_subdomains_of("example.com"));
        CookiePolicy::builder()
            .name("__Secure-s")
            .shared_with_subdomains_of("example.com")
            .build()
            .unwrap();
        CookiePolicy::builder()
            .name("s")
            .shared_with_subdomains_of("example.com")
            .build()
            .unwrap();
    }

    #[test]
    fn same_site_none_and_partitioned_need_secure() {
        let dev = || CookiePolicy::builder().name("s").allow_insecure_http();
        assert!(refused(dev().same_site(SameSite::None)).contains("SameSite=None"));
        assert!(refused(dev().partitioned(true)).contains("Partitioned"));
        CookiePolicy::builder()
            .same_site(SameSite::None)
            .partitioned(true)
            .build()
            .unwrap();
        dev().same_site(SameSite::Strict).build().unwrap();
    }

    #[test]
    fn paths_are_checked() {
        let p = |path: &str| CookiePolicy::builder().name("s").path(path);
        for bad in ["", "app", "/a;b", "/a\r\nX: y", "/a\tb", "/\u{e9}", "/a "] {
            refused(p(bad));
        }
        let long = format!("/{}", "a".repeat(MAX_ATTRIBUTE_VALUE_LEN));
        assert!(refused(p(&long)).contains("1024"));
        p(&long[..MAX_ATTRIBUTE_VALUE_LEN]).build().unwrap();
        for good in ["/", "/app", "/a b/c", "/a=b,c\"d"] {
            p(good).build().unwrap();
        }
    }

    #[test]
    fn domains_are_checked() {
        let d = |domain: &str| {
            CookiePolicy::builder()
                .name("__Secure-s")
                .shared_with_subdomains_of(domain)
        };
        for bad in [
            "",
            ".example.com",
            "example.com.",
            "a..b",
            "-a.com",
            "a-.com",
            "a_b.com",
            "ex ample.com",
            "a;b",
            "a\r\nb",
            "b\u{fc}cher.de",
        ] {
            refused(d(bad));
        }
        refused(d(&format!("{}.com", "a".repeat(64))));
        let long = "a".repeat(MAX_ATTRIBUTE_VALUE_LEN + 1);
        assert!(refused(d(&long)).contains("1024"));
        for good in [
            "example.com",
            "a-b.example.co.uk",
            "xn--bcher-kva.de",
            "localhost",
            "10.0.0.1",
        ] {
            d(good).build().unwrap();
        }
    }

    #[test]
    fn chunk_settings_are_checked() {
        for bad in [0, 17, usize::MAX] {
            refused(CookiePolicy::builder().chunked(bad));
        }
        for good in [2, 4, 16] {
            let p = CookiePolicy::builder().chunked(good).build().unwrap();
            assert_eq!(p.max_chunks(), good);
        }
        assert!(
            refused(CookiePolicy::builder().cookie_header_budget(40)).contains("header budget")
        );
    }

    #[test]
    fn the_set_cookie_budget_must_hold_the_shortest_persistent_cookie() {
        let with = |bytes| {
            CookiePolicy::builder()
                .persistence(Persistence::UntilExpiry)
                .set_cookie_budget(bytes)
        };
        assert!(refused(with(100)).contains("Set-Cookie budget"));
        // `Set-Cookie: __Host-session=` + 60 characters + the attributes with
        // the longest Max-Age and an Expires date, + CRLF.
        let line = "Set-Cookie: __Host-session=".len()
            + crate::seal::envelope::MIN_ENCODED_LEN
            + "; HttpOnly; SameSite=Lax; Secure; Path=/; Max-Age=34560000; \
               Expires=Thu, 01 Jan 1970 00:00:00 GMT"
                .len()
            + 2;
        assert_eq!(with(line).build().unwrap().set_cookie_budget(), line);
        refused(with(line - 1));
    }
}
