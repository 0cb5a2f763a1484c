//! [`CookiePolicyBuilder`]: every RFC 6265bis rule checked when the policy
//! is built.

use std::sync::Arc;

use crate::codec::DEFAULT_COOKIE_NAME;
use crate::cookie::attributes::{Attributes, MAX_ATTRIBUTE_VALUE_LEN, Persistence, SameSite};
use crate::cookie::chunks::{self, ChunkLimits};
use crate::cookie::grammar::{is_av_octet, is_token};
use crate::cookie::policy::CookiePolicy;
use crate::cookie::prefix::Prefix;
use crate::cookie::response_budget;
use crate::cookie::set_cookie::{Lifespan, SetCookie};
use crate::error::ConfigError;

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
    set_cookie_budget: usize,
}

impl CookiePolicyBuilder {
    pub(crate) fn new() -> Self {
        Self {
            name: DEFAULT_COOKIE_NAME.to_owned(),
            path: "/".to_owned(),
            domain: None,
            same_site: SameSite::Lax,
            partitioned: false,
            insecure: false,
            persistence: Persistence::BrowserSession,
            max_chunks: 1,
            header_budget: chunks::DEFAULT_COOKIE_HEADER_BUDGET,
            set_cookie_budget: response_budget::DEFAULT_SET_COOKIE_BUDGET,
        }
    }

    fn with(mut self, set: impl FnOnce(&mut Self)) -> Self {
        set(&mut self);
        self
    }

    /// The cookie name. Default `__Host-session`.
    ///
    /// It must be an RFC 9110 token of at most 4033 bytes (room for the
    /// largest chunk suffix, `.15`, and the shortest sealed value within
    /// 4096 bytes). The prefixes `__Host-`, `__Secure-`,
    /// `__Http-` and `__Host-Http-` must be spelt exactly (case-sensitive):
    /// a case variant such as `__host-` is refused, because Firefox would
    /// apply the prefix rules and other browsers would not.
    pub fn name(self, name: impl Into<String>) -> Self {
        self.with(|b| b.name = name.into())
    }

    /// The Path attribute. Default `/`, which `__Host-` requires.
    ///
    /// It must start with `/`, contain only `av-octet`s (no control
    /// characters, no `;`), not end in whitespace, and be at most
    /// [`MAX_ATTRIBUTE_VALUE_LEN`] bytes.
    pub fn path(self, path: impl Into<String>) -> Self {
        self.with(|b| b.path = path.into())
    }

    /// Sets the Domain attribute to `domain`: the browser then sends the
    /// cookie to every subdomain of it too. Default: none (host-only), the
    /// only setting safe against a hostile or compromised sibling.
    ///
    /// # Warning: cookie tossing
    ///
    /// A Domain cookie cannot use `__Host-`, and without it any subdomain
    /// of `domain` (a user-content host, a forgotten staging site, one
    /// that is taken over) can **set** a cookie with this name for the
    /// whole domain: it can toss in a session of its own (signing the
    /// visitor in as the attacker, login CSRF by cookie), or a stale one.
    /// [`Sessions::open`](crate::Sessions::open) only accepts values that
    /// authenticate under your keys, and keeps the newest, but a sibling
    /// that holds any valid session of yours can still swap it in. Use a
    /// Domain only when every host under `domain` is yours and trusted;
    /// otherwise keep the `__Host-` default and share nothing. Pick
    /// `__Secure-` for the name (ASVS 5.0 3.3.1; `__Http-` works too): it
    /// at least keeps a plain-HTTP sibling out.
    ///
    /// It must be a host name (letters, digits, hyphens and dots, RFC 1034
    /// §3.5 / RFC 1123 §2.1; internationalised names in their `xn--` form)
    /// without a leading dot, at most [`MAX_ATTRIBUTE_VALUE_LEN`] bytes.
    pub fn shared_with_subdomains_of(self, domain: impl Into<String>) -> Self {
        self.with(|b| b.domain = Some(domain.into()))
    }

    /// The SameSite attribute. Default [`SameSite::Lax`].
    /// [`SameSite::None`] needs Secure.
    pub fn same_site(self, same_site: SameSite) -> Self {
        self.with(|b| b.same_site = same_site)
    }

    /// Adds the `Partitioned` attribute (CHIPS), for apps embedded in
    /// other sites' iframes: the browser keys the cookie by the top-level
    /// site. Needs Secure; pair it with `__Host-` and [`SameSite::None`].
    /// Partitioned is defined by the CHIPS draft, not by RFC 6265bis.
    /// Default off.
    pub fn partitioned(self, partitioned: bool) -> Self {
        self.with(|b| b.partitioned = partitioned)
    }

    /// Makes cookies persistent by default ("remember me"); see
    /// [`Persistence::UntilExpiry`]. Default
    /// [`Persistence::BrowserSession`].
    pub fn persistence(self, persistence: Persistence) -> Self {
        self.with(|b| b.persistence = persistence)
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
    pub fn allow_insecure_http(self) -> Self {
        self.with(|b| b.insecure = true)
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
    /// | `Set-Cookie` lines per response | [`DEFAULT_SET_COOKIE_BUDGET`] = 3072 by default | nginx's default `proxy_buffer_size`, one 4 KiB page, less 1 KiB ([`set_cookie_budget`](Self::set_cookie_budget)) |
    ///
    /// With the default `Cookie` header budget, values up to about 7.1 KB
    /// of base64 (about 5.3 KB of sealed bytes) could be read, in at most
    /// 2 chunks; [`CookiePolicy::max_value_len`] tells the exact figure,
    /// and the codec's limit is set to it. But the default `Set-Cookie`
    /// budget lets no response write more than one cookie of about 2.9 KB:
    /// chunks need [`set_cookie_budget`](Self::set_cookie_budget) raised
    /// too, together with the proxy's limits.
    ///
    /// [`DEFAULT_SET_COOKIE_BUDGET`]: crate::DEFAULT_SET_COOKIE_BUDGET
    ///
    /// [`DEFAULT_COOKIE_HEADER_BUDGET`]: crate::DEFAULT_COOKIE_HEADER_BUDGET
    ///
    /// [`DEFAULT_MAX_CHUNKS`]: crate::DEFAULT_MAX_CHUNKS
    /// [`MAX_CHUNKS`]: crate::MAX_CHUNKS
    pub fn chunked(self, max_chunks: usize) -> Self {
        self.with(|b| b.max_chunks = max_chunks)
    }

    /// The most bytes this policy's cookies may add to a request's `Cookie`
    /// header, counting each `name=value` plus a `; ` separator. Default
    /// [`DEFAULT_COOKIE_HEADER_BUDGET`] (7168): many servers refuse a header
    /// field over 8192 octets (RFC 6265bis §4.2.1), and the app's other
    /// cookies need the rest.
    ///
    /// [`DEFAULT_COOKIE_HEADER_BUDGET`]: crate::DEFAULT_COOKIE_HEADER_BUDGET
    pub fn cookie_header_budget(self, bytes: usize) -> Self {
        self.with(|b| b.header_budget = bytes)
    }

    /// The most bytes of `Set-Cookie` header lines this policy's cookies
    /// may add to one response, each line counted as HTTP/1.1 carries it
    /// to a proxy: `Set-Cookie: `, the value with its attributes, CRLF.
    /// Default [`DEFAULT_SET_COOKIE_BUDGET`] (3072), which fits nginx's
    /// default 4 KiB buffer for an upstream's response header with 1 KiB
    /// to spare for the rest of the header.
    ///
    /// A session whose cookies would exceed it is refused when sealed
    /// ([`ErrorKind::TooLarge`](crate::ErrorKind::TooLarge), whose
    /// [`Error::size_and_limit`](crate::Error::size_and_limit) gives the
    /// lines' length and this budget), so the handler can answer 413
    /// instead of the proxy answering 502. Removals of stale cookies that
    /// do not fit after the written ones wait for a later response.
    ///
    /// Raise it only with the proxy's own limit, and with
    /// [`chunked`](Self::chunked) and
    /// [`cookie_header_budget`](Self::cookie_header_budget) to match the
    /// proxy's request-header limit (README, "Behind a reverse proxy").
    /// With the default, a value is at most about 2.9 KB of base64, so
    /// chunking needs a larger budget.
    ///
    /// ```
    /// use sealed_session::CookiePolicy;
    ///
    /// // Behind nginx with `proxy_buffer_size 16k` and
    /// // `large_client_header_buffers 4 32k`:
    /// let policy = CookiePolicy::builder()
    ///     .chunked(4)
    ///     .cookie_header_budget(16 * 1024)
    ///     .set_cookie_budget(15 * 1024)
    ///     .build()?;
    /// assert_eq!(policy.set_cookie_budget(), 15 * 1024);
    /// # Ok::<(), sealed_session::ConfigError>(())
    /// ```
    ///
    /// [`DEFAULT_SET_COOKIE_BUDGET`]: crate::DEFAULT_SET_COOKIE_BUDGET
    pub fn set_cookie_budget(self, bytes: usize) -> Self {
        self.with(|b| b.set_cookie_budget = bytes)
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
        let attributes = Arc::new(Attributes {
            path: self.path.into_boxed_str(),
            domain: self.domain.map(String::into_boxed_str),
            secure,
            same_site: self.same_site,
            partitioned: self.partitioned,
        });
        if shortest_line(&self.name, &attributes) > self.set_cookie_budget {
            return config("the Set-Cookie budget leaves no room for a sealed value");
        }
        Ok(CookiePolicy {
            name: self.name.into_boxed_str(),
            attributes,
            persistence: self.persistence,
            limits,
            set_cookie_budget: self.set_cookie_budget,
        })
    }
}

/// The header line of the shortest sealed value under `name` with the
/// longest attributes the policy writes (persistent: the 400-day Max-Age
/// and an Expires date), whatever the policy's default persistence, since
/// a "remember me" choice can pick either per session.
fn shortest_line(name: &str, attributes: &Arc<Attributes>) -> usize {
    let probe = SetCookie::new(
        name.to_owned(),
        "A".repeat(crate::seal::envelope::MIN_ENCODED_LEN),
        Lifespan::For {
            secs: crate::MAX_COOKIE_AGE_SECS,
            at: time::OffsetDateTime::UNIX_EPOCH,
        },
        Arc::clone(attributes),
    );
    response_budget::line_len(&probe)
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
