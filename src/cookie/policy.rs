//! Cookie attributes: the policy that decides them, its prefix rules, and
//! the checks that refuse, when the policy is built, every configuration a
//! browser would silently drop or ignore.
//!
//! HttpOnly is always sent: a sealed session value is of no use to
//! scripts, and only to an attacker's (OWASP Session Management Cheat
//! Sheet, ASVS 5.0 3.3.4).

use std::sync::Arc;

use crate::codec::DEFAULT_COOKIE_NAME;
use crate::cookie::chunks::{self, ChunkLimits};
use crate::cookie::grammar::{is_av_octet, is_token};
use crate::error::ConfigError;

/// Browsers ignore (Chromium) or reject the cookie for (Firefox) a Path or
/// Domain value longer than this (RFC 6265bis §5.6 step 6; Chromium
/// `kMaxCookieAttributeValueSize`, Firefox `kMaxBytesPerPath/Domain`).
pub const MAX_ATTRIBUTE_VALUE_LEN: usize = 1024;

/// The longest Max-Age a browser honours: 400 days, 34 560 000 seconds
/// (RFC 6265bis §5.5: the cap "SHOULD NOT" exceed 400 days; Chromium caps
/// here since M104). Persistent cookies are clamped to it.
pub const MAX_COOKIE_AGE_SECS: u64 = 400 * 24 * 60 * 60;

const _: () = assert!(MAX_COOKIE_AGE_SECS == 34_560_000);

/// The `SameSite` attribute (RFC 6265bis §4.1.2.7). Always sent
/// explicitly; browsers' defaults differ.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SameSite {
    /// Never sent on cross-site requests. Safest against CSRF, but a user
    /// following a link from another site arrives logged out. RFC 6265bis
    /// §8.8.2 suggests two cookies for that: a `Lax` one to read the
    /// session and a `Strict` one whose absence forces re-authentication
    /// before state-changing actions (two policies with two names).
    Strict,
    /// Sent on cross-site top-level navigations with safe methods only.
    /// The default: it keeps links into the site working while blocking
    /// cross-site form posts.
    #[default]
    Lax,
    /// Sent on every request, including cross-site subresources. Needs
    /// Secure; use it only for embedded (iframe) apps, with a CSRF token.
    None,
}

impl SameSite {
    /// The attribute value as written: `Strict`, `Lax` or `None`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Strict => "Strict",
            Self::Lax => "Lax",
            Self::None => "None",
        }
    }
}

/// Whether the browser keeps the cookie after it closes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Persistence {
    /// No Max-Age and no Expires: the browser drops the cookie when the
    /// session ends. The default (OWASP: "highly recommended to use
    /// non-persistent cookies"; SP 800-63B-4 §5.1).
    #[default]
    BrowserSession,
    /// "Remember me": Max-Age and Expires follow the session's absolute
    /// deadline, clamped to [`MAX_COOKIE_AGE_SECS`]. The server still
    /// enforces every deadline itself; the browser's expiry is a courtesy.
    UntilExpiry,
}

/// A name prefix with browser-enforced rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Prefix {
    None,
    /// `__Secure-`: Secure.
    Secure,
    /// `__Http-` (layered-cookies draft): Secure and HttpOnly.
    Http,
    /// `__Host-`: Secure, `Path=/`, no Domain.
    Host,
    /// `__Host-Http-` (layered-cookies draft): the `__Host-` rules and
    /// HttpOnly.
    HostHttp,
}

/// The prefixes a browser may recognise, longest first within a family.
const PREFIXES: [(&str, Prefix); 4] = [
    ("__Host-Http-", Prefix::HostHttp),
    ("__Host-", Prefix::Host),
    ("__Secure-", Prefix::Secure),
    ("__Http-", Prefix::Http),
];

impl Prefix {
    /// The prefix `name` carries, or an error if it carries a look-alike
    /// (a case variant such as `__host-`, which Firefox would treat as the
    /// prefix and other browsers would not).
    fn of(name: &str) -> Result<Self, ConfigError> {
        let bytes = name.as_bytes();
        for (spelling, _) in PREFIXES {
            let p = spelling.as_bytes();
            if bytes.len() >= p.len()
                && bytes[..p.len()].eq_ignore_ascii_case(p)
                && &bytes[..p.len()] != p
            {
                return Err(ConfigError::new(
                    "the cookie name starts with a case variant of __Host-, __Secure- or __Http-; \
                     spell the prefix exactly or choose a name without one",
                ));
            }
        }
        Ok(PREFIXES
            .iter()
            .find(|(spelling, _)| name.starts_with(spelling))
            .map_or(Self::None, |(_, prefix)| *prefix))
    }

    const fn is_host(self) -> bool {
        matches!(self, Self::Host | Self::HostHttp)
    }
}

/// The validated attributes every cookie of a policy carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Attributes {
    pub(crate) path: Box<str>,
    pub(crate) domain: Option<Box<str>>,
    pub(crate) secure: bool,
    pub(crate) same_site: SameSite,
    pub(crate) partitioned: bool,
}

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
/// assert!(CookiePolicy::builder().domain("example.com").build().is_err());
/// let shared = CookiePolicy::builder()
///     .name("__Secure-session")
///     .domain("example.com")
///     .build()?;
/// assert_eq!(shared.domain(), Some("example.com"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CookiePolicy {
    name: Box<str>,
    attributes: Arc<Attributes>,
    persistence: Persistence,
    limits: ChunkLimits,
}

/// Configures a [`CookiePolicy`]; nothing is checked until
/// [`CookiePolicyBuilder::build`].
///
/// # Rules checked by [`CookiePolicyBuilder::build`]
///
/// With their sources (RFC 6265bis -22 unless stated):
///
/// | rule | source |
/// |---|---|
/// | the name is a non-empty RFC 9110 `token` | §4.1.1 |
/// | `__Host-` needs Secure, an explicit `Path=/` and no Domain | §4.1.3.2, §5.7 step 21 |
/// | `__Secure-` needs Secure | §4.1.3.1 |
/// | a name that matches a prefix case-insensitively must spell it exactly | Firefox matches prefixes case-insensitively (`CookieValidation.cpp`) |
/// | `__Http-` needs Secure and HttpOnly; `__Host-Http-` also the `__Host-` rules | draft-ietf-httpbis-layered-cookies-02 |
/// | `SameSite=None` needs Secure | §5.7 step 19; Chromium `EXCLUDE_SAMESITE_NONE_INSECURE` |
/// | `Partitioned` needs Secure | CHIPS draft (not part of 6265bis) |
/// | Path and Domain are `av-octet`s, at most 1024 bytes | §4.1.1, §5.6 step 6; Firefox rejects the whole cookie |
/// | Path starts with `/` (else the browser substitutes the default path) | §5.6.4 |
/// | Domain is a `<subdomain>` (RFC 1034 §3.5, RFC 1123 §2.1), no leading dot | §4.1.1 `domain-value` |
/// | Max-Age and Expires stay within 400 days (clamped when sealing, never refused) | §5.5 |
#[derive(Clone, Debug)]
#[must_use]
pub struct CookiePolicyBuilder {
    name: String,
    path: String,
    domain: Option<String>,
    same_site: SameSite,
    partitioned: bool,
    insecure: bool,
    persistence: Persistence,
    max_chunks: usize,
    header_budget: usize,
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
        }
    }
}

impl CookiePolicy {
    /// A builder holding the defaults listed on [`CookiePolicy`].
    pub fn builder() -> CookiePolicyBuilder {
        CookiePolicyBuilder {
            name: DEFAULT_COOKIE_NAME.to_owned(),
            path: "/".to_owned(),
            domain: None,
            same_site: SameSite::Lax,
            partitioned: false,
            insecure: false,
            persistence: Persistence::BrowserSession,
            max_chunks: 1,
            header_budget: chunks::DEFAULT_COOKIE_HEADER_BUDGET,
        }
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

    /// The longest sealed value, in characters, this policy can carry:
    /// one cookie's worth, or with chunking the most that fits the chunk
    /// count and the header budget.
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

impl CookiePolicyBuilder {
    /// The cookie name. Default `__Host-session`.
    ///
    /// It must be an RFC 9110 token of at most 4033 bytes (room for the
    /// largest chunk suffix, `.15`, and the shortest sealed value within
    /// 4096 bytes). The prefixes `__Host-`, `__Secure-`,
    /// `__Http-` and `__Host-Http-` must be spelt exactly (case-sensitive):
    /// a case variant such as `__host-` is refused, because Firefox would
    /// apply the prefix rules and other browsers would not.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// The Path attribute. Default `/`, which `__Host-` requires.
    ///
    /// It must start with `/`, contain only `av-octet`s (no control
    /// characters, no `;`), not end in whitespace, and be at most
    /// [`MAX_ATTRIBUTE_VALUE_LEN`] bytes.
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    /// The Domain attribute, which shares the cookie with every subdomain.
    /// Default none (host-only).
    ///
    /// A Domain cannot be combined with `__Host-`: use `__Secure-` (the
    /// recommended choice, ASVS 5.0 3.3.1; `__Http-` works too) or a name
    /// without a prefix.
    /// Note that any subdomain can then set a cookie with the same name;
    /// [`Sessions::open`](crate::Sessions::open) tries each and
    /// keeps only one that authenticates, but a subdomain holding a valid
    /// session of its own can still swap it in.
    ///
    /// It must be a host name (letters, digits, hyphens and dots, RFC 1034
    /// §3.5 / RFC 1123 §2.1; internationalised names in their `xn--` form)
    /// without a leading dot, at most [`MAX_ATTRIBUTE_VALUE_LEN`] bytes.
    pub fn domain(mut self, domain: impl Into<String>) -> Self {
        self.domain = Some(domain.into());
        self
    }

    /// The SameSite attribute. Default [`SameSite::Lax`].
    /// [`SameSite::None`] needs Secure.
    pub const fn same_site(mut self, same_site: SameSite) -> Self {
        self.same_site = same_site;
        self
    }

    /// Adds the `Partitioned` attribute (CHIPS), for apps embedded in
    /// other sites' iframes: the browser keys the cookie by the top-level
    /// site. Needs Secure; pair it with `__Host-` and [`SameSite::None`].
    /// Partitioned is defined by the CHIPS draft, not by RFC 6265bis.
    /// Default off.
    pub const fn partitioned(mut self, partitioned: bool) -> Self {
        self.partitioned = partitioned;
        self
    }

    /// Makes cookies persistent by default ("remember me"); see
    /// [`Persistence::UntilExpiry`]. Default
    /// [`Persistence::BrowserSession`].
    pub const fn persistence(mut self, persistence: Persistence) -> Self {
        self.persistence = persistence;
        self
    }

    /// Drops the Secure attribute so the cookie works over plain HTTP.
    ///
    /// # Warning
    ///
    /// For local development only. Without Secure, anyone on the network
    /// path can read the cookie and take over the session, and a plain
    /// HTTP page can overwrite it. It cannot be combined with a prefixed
    /// name (the default `__Host-session` included: pick another name),
    /// [`SameSite::None`] or `Partitioned`, which all need Secure; the
    /// builder refuses those combinations.
    pub const fn allow_insecure_http(mut self) -> Self {
        self.insecure = true;
        self
    }

    /// Splits values longer than one cookie over `NAME.0`, `NAME.1`, ...
    /// up to `max_chunks` cookies ([`DEFAULT_MAX_CHUNKS`] is a sensible
    /// choice), within the [`cookie_header_budget`](Self::cookie_header_budget).
    /// Default off: a value that does not fit one cookie is refused with
    /// [`ErrorKind::TooLarge`](crate::ErrorKind::TooLarge).
    ///
    /// `max_chunks` must be 2 to [`MAX_CHUNKS`]; 1 turns chunking off
    /// again.
    ///
    /// # Layout
    ///
    /// A value that fits one cookie is always written as one cookie named
    /// `NAME`. Otherwise it is cut, in order, into the fewest chunks that
    /// hold it, `NAME.0` to `NAME.(n-1)` (the prefix is kept, so
    /// `__Host-session.0` has the `__Host-` guarantees), each filled to
    /// 4096 bytes of name plus value except the last. The AEAD tag covers
    /// the whole value, so chunks of different seals never authenticate
    /// together. Writing a new layout removes the names the request
    /// carried that it no longer uses; reading is described on
    /// [`Sessions::open`](crate::Sessions::open).
    ///
    /// # Limits and their sources
    ///
    /// | limit | value | source |
    /// |---|---|---|
    /// | name + value of each cookie | 4096 bytes | RFC 6265bis §5.6 step 5, §5.7 step 4; Chromium `kMaxCookieNamePlusValueSize`; Firefox `kMaxBytesPerCookie` |
    /// | bytes added to the `Cookie` header | [`DEFAULT_COOKIE_HEADER_BUDGET`] = 7168 by default | RFC 6265bis §4.2.1: servers commonly refuse header fields over 8192 octets; 1 KiB is left for other cookies |
    /// | chunks | 2 to [`MAX_CHUNKS`] (16) | crate choice; each chunk is one of the about 180 cookies a browser keeps per domain (Chromium `kDomainMaxCookies`, Firefox `network.cookie.maxPerHost`) |
    ///
    /// With the default budget, values up to about 7.1 KB of base64 (about
    /// 5.3 KB of sealed bytes) fit, in at most 2 chunks; a larger budget
    /// lets more chunks count. [`CookiePolicy::max_value_len`] tells the
    /// exact figure, and the codec's limit is set to it.
    ///
    /// [`DEFAULT_COOKIE_HEADER_BUDGET`]: crate::DEFAULT_COOKIE_HEADER_BUDGET
    ///
    /// [`DEFAULT_MAX_CHUNKS`]: crate::DEFAULT_MAX_CHUNKS
    /// [`MAX_CHUNKS`]: crate::MAX_CHUNKS
    pub const fn chunked(mut self, max_chunks: usize) -> Self {
        self.max_chunks = max_chunks;
        self
    }

    /// The most bytes this policy's cookies may add to a request's `Cookie`
    /// header, counting each `name=value` plus a `; ` separator. Default
    /// [`DEFAULT_COOKIE_HEADER_BUDGET`] (7168): many servers refuse a header
    /// field over 8192 octets (RFC 6265bis §4.2.1), and the app's other
    /// cookies need the rest.
    ///
    /// [`DEFAULT_COOKIE_HEADER_BUDGET`]: crate::DEFAULT_COOKIE_HEADER_BUDGET
    pub const fn cookie_header_budget(mut self, bytes: usize) -> Self {
        self.header_budget = bytes;
        self
    }

    /// Checks the configuration and builds the policy.
    ///
    /// # Errors
    /// [`ConfigError`](crate::ConfigError), with a message naming the rule, if any rule
    /// listed on [`CookiePolicyBuilder`] (and on its setters) is broken, if
    /// `max_chunks` is out of range, or if the name and the header budget
    /// leave no room for a sealed value. The message never contains the
    /// configured values.
    pub fn build(self) -> Result<CookiePolicy, ConfigError> {
        let config = |msg: &'static str| Err(ConfigError::new(msg));
        if !is_token(&self.name) {
            return config("the cookie name must be a non-empty RFC 9110 token");
        }
        if self.name.len() > chunks::MAX_NAME_LEN {
            return config("the cookie name is too long to leave room for a sealed value");
        }
        let prefix = Prefix::of(&self.name)?;
        let secure = !self.insecure;
        if self.insecure && prefix != Prefix::None {
            return config(
                "allow_insecure_http cannot be combined with a __Host-, __Secure- or __Http- \
                 prefixed name; choose a name without a prefix for plain-HTTP development",
            );
        }
        check_path(&self.path)?;
        if let Some(domain) = &self.domain {
            check_domain(domain)?;
        }
        if prefix.is_host() {
            if self.path != "/" {
                return config("a __Host- cookie needs Path=/");
            }
            if self.domain.is_some() {
                return config(
                    "a __Host- cookie cannot carry a Domain; use the __Secure- prefix instead",
                );
            }
        }
        if self.same_site == SameSite::None && !secure {
            return config("SameSite=None needs Secure");
        }
        if self.partitioned && !secure {
            return config("Partitioned needs Secure");
        }
        if self.max_chunks != 1 && !(2..=chunks::MAX_CHUNKS).contains(&self.max_chunks) {
            return config("max_chunks must be between 2 and 16");
        }
        let limits = ChunkLimits::new(self.name.len(), self.max_chunks, self.header_budget);
        if limits.max_value_len() < crate::seal::envelope::MIN_ENCODED_LEN {
            return config("the cookie header budget leaves no room for a sealed value");
        }
        Ok(CookiePolicy {
            name: self.name.into_boxed_str(),
            attributes: Arc::new(Attributes {
                path: self.path.into_boxed_str(),
                domain: self.domain.map(String::into_boxed_str),
                secure,
                same_site: self.same_site,
                partitioned: self.partitioned,
            }),
            persistence: self.persistence,
            limits,
        })
    }
}

fn check_attribute_value(value: &str, what: &'static str) -> Result<(), ConfigError> {
    if value.len() > MAX_ATTRIBUTE_VALUE_LEN {
        return Err(ConfigError::owned(format!(
            "the {what} is longer than {MAX_ATTRIBUTE_VALUE_LEN} bytes"
        )));
    }
    if !value.bytes().all(is_av_octet) {
        return Err(ConfigError::owned(format!(
            "the {what} contains a control character, a semicolon or a non-ASCII byte"
        )));
    }
    Ok(())
}

fn check_path(path: &str) -> Result<(), ConfigError> {
    check_attribute_value(path, "path")?;
    if !path.starts_with('/') {
        return Err(ConfigError::new("the path must start with /"));
    }
    if path.ends_with(' ') {
        // Browsers trim trailing whitespace from attribute values
        // (RFC 6265bis §5.6), so the cookie would get another path.
        return Err(ConfigError::new("the path must not end with whitespace"));
    }
    Ok(())
}

/// `<subdomain>` of RFC 1034 §3.5 as relaxed by RFC 1123 §2.1 (labels may
/// start with a digit): dot-separated labels of letters, digits and
/// hyphens, not starting or ending with a hyphen, 1 to 63 bytes each.
fn check_domain(domain: &str) -> Result<(), ConfigError> {
    check_attribute_value(domain, "domain")?;
    let label_ok = |label: &str| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    if domain.len() > 253 || !domain.split('.').all(label_ok) {
        return Err(ConfigError::new(
            "the domain must be a host name: letters, digits, hyphens and dots, \
             no leading or trailing dot, labels of at most 63 bytes",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
        CookiePolicy::builder()
            .name("a".repeat(chunks::MAX_NAME_LEN))
            .build()
            .unwrap();
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
        assert!(refused(host().domain("example.com")).contains("Domain"));
        assert!(refused(host().allow_insecure_http()).contains("allow_insecure_http"));
        let hh = || CookiePolicy::builder().name("__Host-Http-s");
        refused(hh().path("/app"));
        refused(hh().domain("example.com"));
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
                .domain("example.com")
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
        refused(CookiePolicy::builder().domain("example.com"));
        CookiePolicy::builder()
            .name("__Secure-s")
            .domain("example.com")
            .build()
            .unwrap();
        CookiePolicy::builder()
            .name("s")
            .domain("example.com")
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
        let d = |domain: &str| CookiePolicy::builder().name("__Secure-s").domain(domain);
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
}
