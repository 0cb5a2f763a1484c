//! A cookie policy's configuration with its rules restated independently of
//! the crate (`src/attributes.rs`, `src/chunks.rs`), and the check every
//! emitted `Set-Cookie` must pass. Shared by `tests/cookies.rs` (its
//! proptests) and the `set_cookie` fuzz target.

use cookie::Cookie;
use sealed_session::{
    CookiePolicy, CookiePolicyBuilder, Persistence, SameSite, Sessions, SetCookie,
};
use time::{Duration, OffsetDateTime};

use super::grammar;

/// Browsers' limit on a cookie's name plus value (RFC 6265bis §5.6 step 5).
pub const NAME_VALUE_LIMIT: usize = 4096;
/// The longest Max-Age a browser honours, 400 days (RFC 6265bis §5.5).
pub const MAX_AGE_LIMIT: u64 = 34_560_000;
/// The shortest sealed value (docs/FORMAT.md: header, nonce and tag).
pub const MIN_SEALED_CHARS: usize = 60;
/// The largest chunk cap (`sealed_session::MAX_CHUNKS`, restated).
pub const MAX_CHUNK_CAP: usize = 16;
/// Attribute values longer than this are dropped by browsers (RFC 6265bis
/// §5.6 step 6).
pub const MAX_ATTRIBUTE_LEN: usize = 1024;
/// Bytes a pair adds to the Cookie header beyond name and value: `=` and
/// the `; ` before the next pair.
pub const PAIR_OVERHEAD: usize = 3;

/// Everything a `CookiePolicyBuilder` can be given. Any field may be
/// invalid: `build` must then refuse.
#[derive(Clone, Debug)]
pub struct PolicyConfig {
    /// The cookie name.
    pub name: String,
    /// The Path attribute.
    pub path: String,
    /// The Domain attribute.
    pub domain: Option<String>,
    /// SameSite.
    pub same_site: SameSite,
    /// Partitioned.
    pub partitioned: bool,
    /// `allow_insecure_http` was called.
    pub insecure: bool,
    /// `Persistence::UntilExpiry` by default.
    pub persistent: bool,
    /// `chunked(max_chunks)`, called unless it is 1.
    pub max_chunks: usize,
    /// `cookie_header_budget`.
    pub budget: usize,
    /// `set_cookie_budget`.
    pub set_cookie_budget: usize,
}

/// The length of a chunk suffix `.k`.
pub fn suffix_len(k: usize) -> usize {
    1 + k.to_string().len()
}

impl PolicyConfig {
    /// The builder for this configuration.
    pub fn builder(&self) -> CookiePolicyBuilder {
        let mut b = CookiePolicy::builder()
            .name(self.name.clone())
            .path(self.path.clone())
            .same_site(self.same_site)
            .partitioned(self.partitioned)
            .cookie_header_budget(self.budget)
            .set_cookie_budget(self.set_cookie_budget)
            .persistence(self.persistence());
        if let Some(d) = &self.domain {
            b = b.shared_with_subdomains_of(d.clone());
        }
        if self.insecure {
            b = b.allow_insecure_http();
        }
        if self.max_chunks != 1 {
            b = b.chunked(self.max_chunks);
        }
        b
    }

    /// The default persistence.
    pub const fn persistence(&self) -> Persistence {
        if self.persistent {
            Persistence::UntilExpiry
        } else {
            Persistence::BrowserSession
        }
    }

    /// Whether chunking is on.
    pub const fn chunking(&self) -> bool {
        self.max_chunks > 1
    }

    /// The longest value the single cookie may carry: name plus value
    /// within 4096 bytes, and the pair within the header budget.
    pub fn single_max(&self) -> usize {
        let n = self.name.len();
        NAME_VALUE_LIMIT
            .saturating_sub(n)
            .min(self.budget.saturating_sub(n + PAIR_OVERHEAD))
    }

    /// The longest value chunk `k` may carry: its name plus value within
    /// 4096 bytes.
    pub fn chunk_max(&self, k: usize) -> usize {
        NAME_VALUE_LIMIT.saturating_sub(self.name.len() + suffix_len(k))
    }

    /// The longest value `n` chunks can carry together: each chunk within
    /// 4096 bytes, all the pairs within the header budget.
    pub fn capacity(&self, n: usize) -> usize {
        let values: usize = (0..n).map(|k| self.chunk_max(k)).sum();
        let pairs: usize = (0..n)
            .map(|k| self.name.len() + suffix_len(k) + PAIR_OVERHEAD)
            .sum();
        values.min(self.budget.saturating_sub(pairs))
    }

    /// The number of cookies a value of `len` characters is written as (1
    /// for the single cookie), or `None` if it fits no layout: one cookie if
    /// it fits, else the fewest chunks that hold it.
    pub fn layout(&self, len: usize) -> Option<usize> {
        if len <= self.single_max() {
            return Some(1);
        }
        if !self.chunking() {
            return None;
        }
        (2..=self.max_chunks.min(MAX_CHUNK_CAP)).find(|&n| self.capacity(n) >= len)
    }

    /// The longest value any layout holds.
    pub fn max_value_len(&self) -> usize {
        let chunked = if self.chunking() {
            (2..=self.max_chunks.min(MAX_CHUNK_CAP))
                .map(|n| self.capacity(n))
                .max()
                .unwrap_or(0)
        } else {
            0
        };
        self.single_max().max(chunked)
    }

    /// The bytes of one `Set-Cookie: ...\r\n` line for a cookie of this
    /// policy whose name and value have these lengths, with this Max-Age
    /// and with or without an Expires date (always the 29 characters of
    /// an IMF-fixdate).
    pub fn line_len(
        &self,
        name_len: usize,
        value_len: usize,
        max_age: Option<u64>,
        expires: bool,
    ) -> usize {
        let same_site = match self.same_site {
            SameSite::Strict => "Strict",
            SameSite::Lax => "Lax",
            _ => "None",
        };
        "Set-Cookie: ".len()
            + name_len
            + 1
            + value_len
            + "; HttpOnly".len()
            + "; SameSite=".len()
            + same_site.len()
            + if self.partitioned {
                "; Partitioned".len()
            } else {
                0
            }
            + if self.insecure { 0 } else { "; Secure".len() }
            + "; Path=".len()
            + self.path.len()
            + self
                .domain
                .as_ref()
                .map_or(0, |d| "; Domain=".len() + d.len())
            + max_age.map_or(0, |age| "; Max-Age=".len() + age.to_string().len())
            + if expires { "; Expires=".len() + 29 } else { 0 }
            + "\r\n".len()
    }

    /// The rules restated independently of the crate (the table on
    /// `CookiePolicyBuilder` and the setters' docs).
    pub fn valid(&self) -> bool {
        let n = &self.name;
        let token = !n.is_empty() && n.bytes().all(grammar::is_tchar);
        // Room for the largest chunk suffix (`.15`) and the shortest sealed
        // value within 4096 bytes, whatever the chunk cap.
        let name_fits =
            n.len() + suffix_len(MAX_CHUNK_CAP - 1) + MIN_SEALED_CHARS <= NAME_VALUE_LIMIT;
        let prefixes = ["__Host-Http-", "__Host-", "__Secure-", "__Http-"];
        let lookalike = prefixes.iter().any(|p| {
            n.as_bytes()
                .get(..p.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(p.as_bytes()) && head != p.as_bytes())
        });
        let prefixed = prefixes.iter().any(|p| n.starts_with(p));
        let host = n.starts_with("__Host-");
        let secure = !self.insecure;
        let path_ok = self.path.starts_with('/')
            && self.path.len() <= MAX_ATTRIBUTE_LEN
            && self.path.bytes().all(grammar::is_av_octet)
            && !self.path.ends_with(' ');
        let domain_ok = self.domain.as_deref().is_none_or(|d| {
            d.len() <= 253 && d.len() <= MAX_ATTRIBUTE_LEN && grammar::is_subdomain(d)
        });
        let host_rules = !host || (self.path == "/" && self.domain.is_none());
        let needs_secure = [prefixed, self.same_site == SameSite::None, self.partitioned];
        let chunks_ok = self.max_chunks == 1 || (2..=MAX_CHUNK_CAP).contains(&self.max_chunks);
        // The single cookie, or with chunking some chunk count, must hold the
        // shortest sealed value.
        let room = chunks_ok && self.max_value_len() >= MIN_SEALED_CHARS;
        // The shortest sealed value as one persistent cookie (the longest
        // Max-Age, an Expires date) fits the Set-Cookie budget.
        let line = self.line_len(n.len(), MIN_SEALED_CHARS, Some(MAX_AGE_LIMIT), true);
        let response_room = line <= self.set_cookie_budget;
        [
            token,
            name_fits,
            !lookalike,
            path_ok,
            domain_ok,
            host_rules,
            chunks_ok,
            room,
            response_room,
        ]
        .into_iter()
        .all(|ok| ok)
            && (secure || !needs_secure.contains(&true))
    }
}

/// The Expires a persistent cookie of `max_age` seconds carries when
/// written at `now`: `now + max_age` (or `now` where that is past what
/// `time` holds), left out when its year is not four digits
/// (RFC 6265bis §4.1.1; Max-Age still applies).
pub fn expected_expires(now: OffsetDateTime, max_age: u64) -> Option<OffsetDateTime> {
    let at = i64::try_from(max_age)
        .ok()
        .and_then(|s| now.checked_add(Duration::seconds(s)))
        .unwrap_or(now);
    (1000..=9999).contains(&at.year()).then_some(at)
}

/// Checks one emitted header against the grammar, the `cookie` crate's
/// parse, the `SetCookie` accessors and the policy of `cookies`, whose
/// clock must still read the time the header was made.
///
/// # Panics
/// When any of them disagree.
pub fn check_header(c: &SetCookie, cookies: &Sessions) {
    let policy = cookies.policy();
    let h = c.header_value();
    grammar::check(h).unwrap_or_else(|e| panic!("{e}: {h}"));
    assert!(c.name().len() + c.value().len() <= NAME_VALUE_LIMIT);
    let parsed = Cookie::parse(h).unwrap_or_else(|e| panic!("cookie crate: {e}: {h}"));
    let twin = c.to_cookie();
    for p in [&parsed, &twin] {
        assert_eq!(p.name(), c.name());
        assert_eq!(p.value(), c.value());
        assert_eq!(p.path(), Some(policy.path()));
        assert_eq!(p.domain(), policy.domain());
        assert_eq!(p.secure().unwrap_or(false), policy.secure());
        assert_eq!(p.http_only(), Some(true));
        let same_site = match policy.same_site() {
            SameSite::Strict => cookie::SameSite::Strict,
            SameSite::Lax => cookie::SameSite::Lax,
            _ => cookie::SameSite::None,
        };
        assert_eq!(p.same_site(), Some(same_site));
        assert_eq!(p.partitioned().unwrap_or(false), policy.partitioned());
        assert_eq!(
            p.max_age().map(|d| d.whole_seconds()),
            c.max_age().map(|s| i64::try_from(s).unwrap_or(i64::MAX))
        );
        assert_eq!(p.expires_datetime(), c.expires());
    }
    let expires = match c.max_age() {
        None => None,
        Some(0) if c.is_removal() => Some(OffsetDateTime::UNIX_EPOCH),
        Some(age) => expected_expires(cookies.codec().now(), age),
    };
    assert_eq!(c.expires(), expires, "{h}");
    if c.is_removal() {
        assert_eq!(c.value(), "");
        assert_eq!(c.max_age(), Some(0));
    }
    if let Some(age) = c.max_age() {
        assert!(age <= MAX_AGE_LIMIT);
    }
    if c.value().len() >= 8 {
        assert!(
            !format!("{c:?}").contains(c.value()),
            "Debug shows the value"
        );
    }
}
