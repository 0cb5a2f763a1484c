//! The cookie layer end to end: policies, Set-Cookie output, Cookie header
//! reading, chunking. Time comes from a `ManualClock`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a panic in a test helper is a failed test"
)]

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use cookie::Cookie;
use proptest::prelude::*;
use sealed_session::{
    CarriedCookies, CookiePolicy, CookiePolicyBuilder, DEFAULT_COOKIE_HEADER_BUDGET,
    DEFAULT_SET_COOKIE_BUDGET, ErrorKind, KeyId, Keyring, Lifetime, MAX_CANDIDATES_PER_NAME,
    ManualClock, Persistence, SameSite, SessionCodec, SessionMeta, Sessions, SetCookie,
};
use time::{Duration, OffsetDateTime};

const T0: i64 = 1_700_000_000;
const EPOCH: &str = "Thu, 01 Jan 1970 00:00:00 GMT";

// ---------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------

struct Env {
    clock: ManualClock,
    keyring: Keyring,
    lifetime: Lifetime,
    cookies: Sessions,
}

fn env(policy: CookiePolicy) -> Env {
    env_with(policy, Lifetime::default())
}

fn env_with(policy: CookiePolicy, lifetime: Lifetime) -> Env {
    let clock = ManualClock::at_unix(T0);
    let keyring = Keyring::generate(KeyId(7)).unwrap();
    let cookies = Sessions::builder(keyring.clone())
        .lifetime(lifetime)
        .clock(Arc::new(clock.clone()))
        .cookie(policy)
        .build()
        .unwrap();
    Env {
        clock,
        keyring,
        lifetime,
        cookies,
    }
}

impl Env {
    /// The length of the sealed value for `meta` and `data`, whatever the
    /// policy's limits.
    fn value_len(&self, meta: &SessionMeta, data: &Vec<u8>) -> usize {
        SessionCodec::builder(self.keyring.clone())
            .cookie_name(self.cookies.policy().name())
            .lifetime(self.lifetime)
            .clock(Arc::new(self.clock.clone()))
            .max_value_len(1 << 20)
            .build()
            .unwrap()
            .seal_session(meta, data)
            .unwrap()
            .len()
    }

    /// The largest payload whose sealed value has at most `target`
    /// characters, for a fresh session's metadata.
    fn payload_for(&self, meta: &SessionMeta, target: usize) -> Vec<u8> {
        let (mut lo, mut hi) = (0usize, 1 << 16);
        while lo < hi {
            let mid = (lo + hi).div_ceil(2);
            if self.value_len(meta, &payload(mid)) <= target {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        payload(lo)
    }
}

fn payload(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| u8::try_from(i * 31 % 251).unwrap())
        .collect()
}

/// What a browser would hold after applying Set-Cookie headers (one host,
/// one path).
#[derive(Clone, Debug, Default)]
struct Jar(BTreeMap<String, String>);

impl Jar {
    fn apply(&mut self, set: &[SetCookie]) {
        let mut names = HashSet::new();
        for c in set {
            assert!(names.insert(c.name().to_owned()), "A4: one per name");
            if c.is_removal() {
                self.0.remove(c.name());
            } else {
                self.0.insert(c.name().to_owned(), c.value().to_owned());
            }
        }
    }

    fn header(&self) -> String {
        self.pairs().join("; ")
    }

    fn pairs(&self) -> Vec<String> {
        self.0.iter().map(|(n, v)| format!("{n}={v}")).collect()
    }
}

fn set_names(set: &[SetCookie]) -> Vec<(&str, bool)> {
    set.iter().map(|c| (c.name(), c.is_removal())).collect()
}

// ---------------------------------------------------------------------
// A checker for the server grammar of RFC 6265bis §4.1.1, and the policy
// rules restated; shared with the fuzz targets (tests/fuzz_checks/).
// ---------------------------------------------------------------------

#[path = "fuzz_checks/grammar.rs"]
pub mod grammar;
#[path = "fuzz_checks/policy.rs"]
pub mod policy;

use policy::{PolicyConfig as Config, check_header};

// ---------------------------------------------------------------------
// Defaults and attributes
// ---------------------------------------------------------------------

#[test]
fn the_default_header_is_exactly_the_secure_one() {
    let e = env(CookiePolicy::default());
    let meta = e.cookies.codec().new_session(None).unwrap();
    let set = e
        .cookies
        .seal(&meta, &"hello", &CarriedCookies::none())
        .unwrap();
    assert_eq!(set.len(), 1);
    let c = &set[0];
    assert_eq!(
        c.header_value(),
        format!(
            "__Host-session={}; HttpOnly; SameSite=Lax; Secure; Path=/",
            c.value()
        )
    );
    for absent in ["Domain", "Max-Age", "Expires", "Partitioned"] {
        assert!(!c.header_value().contains(absent));
    }
    assert!(c.value().bytes().all(grammar::is_cookie_octet));
    assert_eq!(c.max_age(), None);
    check_header(c, &e.cookies);
    let dbg = format!("{c:?}");
    assert!(!dbg.contains(c.value()), "Debug redacts the value");
}

#[test]
fn every_attribute_is_rendered_in_a_fixed_order() {
    let policy = CookiePolicy::builder()
        .name("__Secure-s")
        .path("/app")
        .shared_with_subdomains_of("example.com")
        .same_site(SameSite::None)
        .partitioned(true)
        .persistence(Persistence::UntilExpiry)
        .build()
        .unwrap();
    let e = env(policy);
    let meta = e.cookies.codec().new_session(None).unwrap();
    let set = e
        .cookies
        .seal(&meta, &1u8, &CarriedCookies::none())
        .unwrap();
    let c = &set[0];
    let expires = "Wed, 15 Nov 2023 10:13:20 GMT"; // T0 + 12 h
    assert_eq!(
        c.header_value(),
        format!(
            "__Secure-s={}; HttpOnly; SameSite=None; Partitioned; Secure; Path=/app; \
             Domain=example.com; Max-Age=43200; Expires={expires}",
            c.value()
        )
    );
    check_header(c, &e.cookies);
}

#[test]
fn insecure_development_cookies_drop_secure_only() {
    let policy = CookiePolicy::builder()
        .name("dev-session")
        .allow_insecure_http()
        .build()
        .unwrap();
    let e = env(policy);
    let meta = e.cookies.codec().new_session(None).unwrap();
    let set = e
        .cookies
        .seal(&meta, &1u8, &CarriedCookies::none())
        .unwrap();
    assert_eq!(
        set[0].header_value(),
        format!(
            "dev-session={}; HttpOnly; SameSite=Lax; Path=/",
            set[0].value()
        )
    );
    check_header(&set[0], &e.cookies);
}

#[test]
fn persistent_cookies_follow_the_absolute_deadline() {
    let policy = CookiePolicy::builder()
        .persistence(Persistence::UntilExpiry)
        .build()
        .unwrap();
    let e = env(policy);
    let meta = e.cookies.codec().new_session(None).unwrap();
    let set = e
        .cookies
        .seal(&meta, &1u8, &CarriedCookies::none())
        .unwrap();
    assert_eq!(set[0].max_age(), Some(12 * 3600));
    let until = OffsetDateTime::from_unix_timestamp(T0 + 12 * 3600).unwrap();
    assert_eq!(set[0].expires(), Some(until));
    assert!(
        set[0]
            .header_value()
            .ends_with("; Max-Age=43200; Expires=Wed, 15 Nov 2023 10:13:20 GMT")
    );
    check_header(&set[0], &e.cookies);

    // Twenty minutes later, re-sealing keeps the same deadline: Max-Age
    // shrinks.
    e.clock.advance(Duration::minutes(20));
    let mut jar = Jar::default();
    jar.apply(&set);
    let read = e.cookies.open::<u8>([jar.header().as_str()]);
    let opened = read.session.unwrap();
    let set = e
        .cookies
        .seal(&opened.meta, &opened.data, &read.carried)
        .unwrap();
    assert_eq!(set.len(), 1);
    assert_eq!(set[0].max_age(), Some(12 * 3600 - 20 * 60));
    assert_eq!(set[0].expires(), Some(until));

    // Per call, the policy's default can be overridden both ways.
    let set = e
        .cookies
        .seal_with(
            &opened.meta,
            &1u8,
            &read.carried,
            Persistence::BrowserSession,
        )
        .unwrap();
    assert_eq!(set[0].max_age(), None);
    let plain = env(CookiePolicy::default());
    let meta = plain.cookies.codec().new_session(None).unwrap();
    let set = plain
        .cookies
        .seal_with(
            &meta,
            &1u8,
            &CarriedCookies::none(),
            Persistence::UntilExpiry,
        )
        .unwrap();
    assert_eq!(set[0].max_age(), Some(12 * 3600));
}

#[test]
fn persistent_cookies_are_clamped_to_400_days() {
    let mut lifetime = Lifetime::aal1();
    lifetime.absolute = Duration::days(500);
    let policy = CookiePolicy::builder()
        .persistence(Persistence::UntilExpiry)
        .build()
        .unwrap();
    let e = env_with(policy, lifetime);
    let meta = e.cookies.codec().new_session(None).unwrap();
    let set = e
        .cookies
        .seal(&meta, &1u8, &CarriedCookies::none())
        .unwrap();
    assert_eq!(set[0].max_age(), Some(34_560_000));
    assert_eq!(
        set[0].expires(),
        Some(OffsetDateTime::from_unix_timestamp(T0 + 34_560_000).unwrap())
    );
    assert!(set[0].header_value().contains("Max-Age=34560000;"));
    check_header(&set[0], &e.cookies);
}

#[test]
fn removal_cookies_match_the_original() {
    let policies = [
        CookiePolicy::default(),
        CookiePolicy::builder()
            .name("__Secure-s")
            .path("/app")
            .shared_with_subdomains_of("example.com")
            .same_site(SameSite::Strict)
            .build()
            .unwrap(),
        CookiePolicy::builder()
            .same_site(SameSite::None)
            .partitioned(true)
            .persistence(Persistence::UntilExpiry)
            .build()
            .unwrap(),
        CookiePolicy::builder()
            .name("dev")
            .allow_insecure_http()
            .build()
            .unwrap(),
    ];
    for policy in policies {
        let e = env(policy);
        let meta = e.cookies.codec().new_session(None).unwrap();
        let set = e
            .cookies
            .seal(&meta, &1u8, &CarriedCookies::none())
            .unwrap();
        let original = Cookie::parse(set[0].header_value().to_owned()).unwrap();
        let mut jar = Jar::default();
        jar.apply(&set);
        let read = e.cookies.open::<u8>([jar.header().as_str()]);
        let removals = e.cookies.remove(&read.carried);
        assert_eq!(removals.len(), 1);
        let r = &removals[0];
        assert!(r.is_removal());
        check_header(r, &e.cookies);
        let h = r.header_value();
        assert!(h.starts_with(&format!("{}=; ", original.name())), "{h}");
        assert!(h.contains(&format!("; Max-Age=0; Expires={EPOCH}")), "{h}");
        let parsed = Cookie::parse(h.to_owned()).unwrap();
        assert_eq!(parsed.name(), original.name());
        assert_eq!(parsed.value(), "");
        assert_eq!(parsed.path(), original.path());
        assert_eq!(parsed.domain(), original.domain());
        assert_eq!(parsed.secure(), original.secure());
        assert_eq!(parsed.partitioned(), original.partitioned());
        assert_eq!(parsed.max_age(), Some(Duration::ZERO));
        assert_eq!(parsed.expires_datetime(), Some(OffsetDateTime::UNIX_EPOCH));
        jar.apply(&removals);
        assert!(jar.0.is_empty());
    }
    let e = env(CookiePolicy::default());
    assert!(e.cookies.remove(&CarriedCookies::none()).is_empty());
}

// ---------------------------------------------------------------------
// Validation rules: each has a failing and a passing case
// ---------------------------------------------------------------------

#[test]
fn every_validation_rule_has_a_failing_and_a_passing_case() {
    let b = CookiePolicy::builder;
    let cases: Vec<(&str, CookiePolicyBuilder, CookiePolicyBuilder)> = vec![
        ("name is a token", b().name("a b"), b().name("session")),
        ("name is not empty", b().name(""), b().name("s")),
        ("name has no ;", b().name("a;b"), b().name("a.b")),
        ("__Host- needs Path=/", b().path("/app"), b().path("/")),
        (
            "__Host- has no Domain",
            b().shared_with_subdomains_of("example.com"),
            b().name("__Secure-s")
                .shared_with_subdomains_of("example.com"),
        ),
        (
            "__Host- needs Secure",
            b().allow_insecure_http(),
            b().name("s").allow_insecure_http(),
        ),
        (
            "__Secure- needs Secure",
            b().name("__Secure-s").allow_insecure_http(),
            b().name("__Secure-s"),
        ),
        (
            "__Http- needs Secure",
            b().name("__Http-s").allow_insecure_http(),
            b().name("__Http-s"),
        ),
        (
            "exact __Host- spelling",
            b().name("__host-s"),
            b().name("__Host-s"),
        ),
        (
            "exact __Secure- spelling",
            b().name("__SECURE-s"),
            b().name("__Secure-s"),
        ),
        (
            "Domain only without a prefix or with __Secure-",
            b().name("__Host-Http-s")
                .shared_with_subdomains_of("example.com"),
            b().name("s").shared_with_subdomains_of("example.com"),
        ),
        (
            "SameSite=None needs Secure",
            b().name("s")
                .allow_insecure_http()
                .same_site(SameSite::None),
            b().name("s").same_site(SameSite::None),
        ),
        (
            "Partitioned needs Secure",
            b().name("s").allow_insecure_http().partitioned(true),
            b().name("s").partitioned(true),
        ),
        (
            "Path has no ;",
            b().name("s").path("/a;Domain=evil.com"),
            b().name("s").path("/a b"),
        ),
        (
            "Path has no CTL",
            b().name("s").path("/a\r\nSet-Cookie: x=y"),
            b().name("s").path("/a"),
        ),
        (
            "Path at most 1024 bytes",
            b().name("s").path(format!("/{}", "p".repeat(1024))),
            b().name("s").path(format!("/{}", "p".repeat(1023))),
        ),
        (
            "Path starts with /",
            b().name("s").path("app"),
            b().name("s").path("/app"),
        ),
        (
            "Domain has no ;",
            b().name("s")
                .shared_with_subdomains_of("example.com;Path=/x"),
            b().name("s").shared_with_subdomains_of("example.com"),
        ),
        (
            "Domain has no CTL",
            b().name("s").shared_with_subdomains_of("example.com\r\n"),
            b().name("s").shared_with_subdomains_of("www.example.com"),
        ),
        (
            "Domain at most 1024 bytes",
            b().name("s").shared_with_subdomains_of("a".repeat(1025)),
            b().name("s")
                .shared_with_subdomains_of(format!("{}.com", "a".repeat(63))),
        ),
        (
            "Domain has no leading dot",
            b().name("s").shared_with_subdomains_of(".example.com"),
            b().name("s").shared_with_subdomains_of("example.com"),
        ),
        ("chunk cap at least 2", b().chunked(0), b().chunked(2)),
        ("chunk cap at most 16", b().chunked(17), b().chunked(16)),
        (
            "header budget holds a sealed value",
            b().cookie_header_budget(64),
            b().cookie_header_budget(200),
        ),
    ];
    for (rule, bad, good) in cases {
        let err = bad.build().expect_err(rule);
        assert!(
            err.to_string().starts_with("invalid configuration"),
            "{rule}"
        );
        let msg = err.to_string();
        for input in ["evil", "Set-Cookie", "\r", "example"] {
            assert!(!msg.contains(input), "{rule}: message echoes input: {msg}");
        }
        good.build().unwrap_or_else(|e| panic!("{rule}: {e}"));
    }
}

// ---------------------------------------------------------------------
// Size and chunking
// ---------------------------------------------------------------------

/// Seals `data` for a fresh session and checks every header.
fn seal_fresh(e: &Env, data: &Vec<u8>) -> sealed_session::Result<Vec<SetCookie>> {
    let meta = e.cookies.codec().new_session(None).unwrap();
    let set = e.cookies.seal(&meta, data, &CarriedCookies::none())?;
    for c in &set {
        check_header(c, &e.cookies);
    }
    Ok(set)
}

/// Opens the cookies in `set` sent in several orders and header splits.
fn assert_round_trips(e: &Env, set: &[SetCookie], data: &Vec<u8>) {
    let mut jar = Jar::default();
    jar.apply(set);
    let pairs = jar.pairs();
    let joined = pairs.join("; ");
    let reversed = pairs.iter().rev().cloned().collect::<Vec<_>>().join(";");
    let interleaved = pairs
        .iter()
        .flat_map(|p| ["theme=dark".to_owned(), p.clone()])
        .collect::<Vec<_>>()
        .join(" ;  ");
    let layouts: Vec<Vec<&str>> = vec![
        vec![&joined],
        vec![&reversed],
        vec![&interleaved],
        pairs.iter().map(String::as_str).collect(),
        pairs.iter().rev().map(String::as_str).collect(),
    ];
    for headers in layouts {
        let read = e.cookies.open::<Vec<u8>>(headers.iter().copied());
        assert_eq!(read.refusal, None);
        assert_eq!(&read.session.as_ref().expect("opens").data, data);
        assert!(read.stale().is_empty());
    }
}

#[test]
fn unchunked_values_stop_at_one_cookie() {
    let e = env(CookiePolicy::builder()
        .set_cookie_budget(1 << 20)
        .build()
        .unwrap());
    let meta = e.cookies.codec().new_session(None).unwrap();
    let limit = 4096 - "__Host-session".len();
    let fits = e.payload_for(&meta, limit);
    let set = seal_fresh(&e, &fits).unwrap();
    assert_eq!(set_names(&set), [("__Host-session", false)]);
    assert!(set[0].value().len() > limit - 3 && set[0].value().len() <= limit);
    assert_round_trips(&e, &set, &fits);

    let mut over = fits.clone();
    over.push(0);
    let err = seal_fresh(&e, &over).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TooLarge);
    let (size, limit) = err.size_and_limit().unwrap();
    assert_eq!(limit, 4096);
    assert!(size > 4096);
    assert!(err.to_string().contains("limit 4096"));
}

#[test]
fn chunk_counts_change_at_each_boundary() {
    let policy = CookiePolicy::builder()
        .chunked(4)
        .cookie_header_budget(1 << 16)
        .set_cookie_budget(1 << 20)
        .build()
        .unwrap();
    let e = env(policy);
    let name = "__Host-session";
    let single = 4096 - name.len();
    let per_chunk = 4096 - name.len() - 2;
    assert_eq!(e.cookies.policy().max_value_len(), 4 * per_chunk);
    assert_eq!(e.cookies.codec().max_value_len(), 4 * per_chunk);
    let meta = e.cookies.codec().new_session(None).unwrap();
    let boundaries = [
        (single, 1),
        (2 * per_chunk, 2),
        (3 * per_chunk, 3),
        (4 * per_chunk, 4),
    ];
    for (limit, count) in boundaries {
        let at = e.payload_for(&meta, limit);
        let set = seal_fresh(&e, &at).unwrap();
        assert_eq!(set.len(), count, "at {limit}");
        let total: usize = set.iter().map(|c| c.value().len()).sum();
        assert!(total <= limit && total + 3 > limit);
        if count == 1 {
            assert_eq!(set[0].name(), name);
        } else {
            for (k, c) in set.iter().enumerate() {
                assert_eq!(c.name(), format!("{name}.{k}"));
                assert!(c.name().len() + c.value().len() <= 4096);
            }
        }
        assert_round_trips(&e, &set, &at);

        let mut past = at.clone();
        past.push(1);
        match seal_fresh(&e, &past) {
            Ok(set) => {
                assert_eq!(set.len(), count + 1, "past {limit}");
                assert_round_trips(&e, &set, &past);
            }
            Err(err) => {
                assert_eq!(count, 4, "only past the cap");
                assert_eq!(err.kind(), ErrorKind::TooLarge);
                assert_eq!(err.size_and_limit().unwrap().1, name.len() + 4 * per_chunk);
            }
        }
    }
}

#[test]
fn the_default_header_budget_caps_chunked_values() {
    let policy = CookiePolicy::builder()
        .chunked(sealed_session::DEFAULT_MAX_CHUNKS)
        .set_cookie_budget(1 << 20)
        .build()
        .unwrap();
    let e = env(policy);
    let name = "__Host-session";
    // Two chunks, each `name.k=value` plus "; ".
    let max = DEFAULT_COOKIE_HEADER_BUDGET - 2 * (name.len() + 2 + 3);
    assert_eq!(e.cookies.policy().max_value_len(), max);
    let meta = e.cookies.codec().new_session(None).unwrap();
    let at = e.payload_for(&meta, max);
    let set = seal_fresh(&e, &at).unwrap();
    assert_eq!(set.len(), 2);
    let header_bytes: usize = set
        .iter()
        .map(|c| c.name().len() + 1 + c.value().len() + 2)
        .sum();
    assert!(header_bytes <= DEFAULT_COOKIE_HEADER_BUDGET);
    assert_round_trips(&e, &set, &at);
    let mut past = at;
    past.push(1);
    let err = seal_fresh(&e, &past).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TooLarge);
    assert_eq!(err.size_and_limit().unwrap().1, name.len() + max);
}

#[test]
fn layout_changes_remove_stale_cookies() {
    let policy = CookiePolicy::builder()
        .chunked(4)
        .cookie_header_budget(1 << 16)
        .set_cookie_budget(1 << 20)
        .build()
        .unwrap();
    let e = env(policy);
    let n = "__Host-session";
    let mut jar = Jar::default();

    let meta = e.cookies.codec().new_session(None).unwrap();
    let set = e
        .cookies
        .seal(&meta, &payload(10), &CarriedCookies::none())
        .unwrap();
    assert_eq!(set_names(&set), [(n, false)]);
    jar.apply(&set);

    // single -> 3 chunks: the single cookie is removed.
    let steps: [(usize, Vec<(String, bool)>); 4] = [
        (
            9000,
            vec![
                (format!("{n}.0"), false),
                (format!("{n}.1"), false),
                (format!("{n}.2"), false),
                (n.to_owned(), true),
            ],
        ),
        // 3 -> 2 chunks: .2 is removed.
        (
            5000,
            vec![
                (format!("{n}.0"), false),
                (format!("{n}.1"), false),
                (format!("{n}.2"), true),
            ],
        ),
        // 2 chunks -> single: both chunks are removed.
        (
            10,
            vec![
                (n.to_owned(), false),
                (format!("{n}.0"), true),
                (format!("{n}.1"), true),
            ],
        ),
        // single -> single: nothing to remove.
        (20, vec![(n.to_owned(), false)]),
    ];
    for (step, (size, expected)) in steps.into_iter().enumerate() {
        e.clock.advance(Duration::seconds(10));
        let read = e.cookies.open::<Vec<u8>>([jar.header().as_str()]);
        let opened = read.session.unwrap_or_else(|| panic!("step {step}"));
        let set = e
            .cookies
            .seal(&opened.meta, &payload(size), &read.carried)
            .unwrap();
        let got: Vec<(String, bool)> = set
            .iter()
            .map(|c| (c.name().to_owned(), c.is_removal()))
            .collect();
        assert_eq!(got, expected, "step {step}");
        for c in &set {
            check_header(c, &e.cookies);
        }
        jar.apply(&set);
        let read = e.cookies.open::<Vec<u8>>([jar.header().as_str()]);
        assert_eq!(read.session.as_ref().unwrap().data, payload(size));
        assert!(read.stale().is_empty());
    }
}

#[test]
fn a_stale_higher_chunk_does_not_hide_the_current_set() {
    let policy = CookiePolicy::builder()
        .chunked(4)
        .cookie_header_budget(1 << 16)
        .set_cookie_budget(1 << 20)
        .build()
        .unwrap();
    let e = env(policy);
    let old = seal_fresh(&e, &payload(9000)).unwrap();
    assert_eq!(old.len(), 3);
    e.clock.advance(Duration::seconds(5));
    let new = seal_fresh(&e, &payload(5000)).unwrap();
    assert_eq!(new.len(), 2);
    // The browser kept old .2 (its removal was lost).
    let mut jar = Jar::default();
    jar.apply(&old);
    jar.apply(&new);
    let read = e.cookies.open::<Vec<u8>>([jar.header().as_str()]);
    assert_eq!(read.session.as_ref().unwrap().data, payload(5000));
    assert_eq!(read.stale(), CarriedCookies::none().with_chunk(2));
    let tidy = e.cookies.remove(&read.stale());
    assert_eq!(set_names(&tidy), [("__Host-session.2", true)]);
}

#[test]
fn single_and_chunked_candidates_compete_by_seal_time() {
    let policy = CookiePolicy::builder()
        .chunked(4)
        .cookie_header_budget(1 << 16)
        .set_cookie_budget(1 << 20)
        .build()
        .unwrap();
    let e = env(policy);
    let chunked_old = seal_fresh(&e, &payload(5000)).unwrap();
    e.clock.advance(Duration::seconds(5));
    let single_new = seal_fresh(&e, &payload(10)).unwrap();
    e.clock.advance(Duration::seconds(5));
    let chunked_new = seal_fresh(&e, &payload(6000)).unwrap();

    let mut jar = Jar::default();
    jar.apply(&chunked_old);
    jar.apply(&single_new);
    let read = e.cookies.open::<Vec<u8>>([jar.header().as_str()]);
    assert_eq!(read.session.as_ref().unwrap().data, payload(10));
    assert_eq!(
        read.stale(),
        CarriedCookies::none().with_chunk(0).with_chunk(1)
    );

    jar.apply(&chunked_new);
    let read = e.cookies.open::<Vec<u8>>([jar.header().as_str()]);
    assert_eq!(read.session.as_ref().unwrap().data, payload(6000));
    assert_eq!(read.stale(), CarriedCookies::none().with_single());
}

#[test]
fn chunks_from_different_seals_do_not_authenticate() {
    let policy = CookiePolicy::builder()
        .chunked(4)
        .set_cookie_budget(1 << 20)
        .build()
        .unwrap();
    let e = env(policy);
    let a = seal_fresh(&e, &payload(4000)).unwrap();
    let b = seal_fresh(&e, &payload(4000)).unwrap();
    assert_eq!((a.len(), b.len()), (2, 2));
    assert_eq!(a[0].value().len(), b[0].value().len());
    assert_ne!(a[0].value(), b[0].value());
    let pair = |c: &SetCookie| format!("{}={}", c.name(), c.value());
    for mixed in [
        [pair(&a[0]), pair(&b[1])],
        [pair(&b[0]), pair(&a[1])],
        [pair(&b[1]), pair(&a[0])],
    ] {
        let read = e.cookies.open::<Vec<u8>>(mixed.iter().map(String::as_str));
        assert!(read.session.is_none());
        assert_eq!(read.refusal, Some(ErrorKind::Unauthenticated));
        assert_eq!(
            read.carried,
            CarriedCookies::none().with_chunk(0).with_chunk(1)
        );
        let removals = e.cookies.remove(&read.carried);
        assert_eq!(
            set_names(&removals),
            [("__Host-session.0", true), ("__Host-session.1", true)]
        );
    }
    // A chunk swapped in from another seal beside the genuine one: the
    // genuine set still opens, whichever comes first.
    for headers in [
        [pair(&a[0]), pair(&b[1]), pair(&a[1])],
        [pair(&b[1]), pair(&a[1]), pair(&a[0])],
    ] {
        let read = e
            .cookies
            .open::<Vec<u8>>(headers.iter().map(String::as_str));
        assert_eq!(read.session.unwrap().data, payload(4000));
    }
}

/// A request carrying 64 names of ours (the most a reader tracks; a
/// sibling subdomain or a bug can plant them) gets removals within the
/// Set-Cookie budget, the rest on later responses, until none is left.
#[test]
fn removals_stay_within_the_set_cookie_budget_over_several_responses() {
    let e = env(CookiePolicy::builder().chunked(4).build().unwrap());
    let mut jar: BTreeMap<String, String> = (0..64)
        .map(|k| (format!("__Host-session.{k}"), "x".repeat(40)))
        .collect();
    let mut responses = 0;
    while !jar.is_empty() {
        let header: Vec<String> = jar.iter().map(|(n, v)| format!("{n}={v}")).collect();
        let read = e.cookies.open::<Vec<u8>>([header.join("; ").as_str()]);
        assert!(read.session.is_none());
        let removals = e.cookies.remove(&read.carried);
        let lines: usize = removals.iter().map(|c| 14 + c.header_value().len()).sum();
        assert!(
            lines <= DEFAULT_SET_COOKIE_BUDGET,
            "{lines} bytes of removals"
        );
        assert!(!removals.is_empty(), "each response removes some");
        for r in &removals {
            assert!(r.is_removal());
            jar.remove(r.name());
        }
        responses += 1;
    }
    assert!(responses > 1, "64 removals do not fit one response");
}

#[test]
fn chunks_are_ignored_when_chunking_is_off_but_still_removed() {
    let chunked = env(CookiePolicy::builder()
        .chunked(4)
        .set_cookie_budget(1 << 20)
        .build()
        .unwrap());
    let set = seal_fresh(&chunked, &payload(5000)).unwrap();
    let mut jar = Jar::default();
    jar.apply(&set);
    // The same keys with chunking turned off.
    let off = Sessions::builder(chunked.keyring.clone())
        .clock(Arc::new(chunked.clock.clone()))
        .build()
        .unwrap();
    let read = off.open::<Vec<u8>>([jar.header().as_str()]);
    assert!(read.session.is_none());
    assert_eq!(
        read.refusal,
        Some(ErrorKind::Malformed),
        "chunks are unusable"
    );
    let meta = off.codec().new_session(None).unwrap();
    let set = off.seal(&meta, &payload(10), &read.carried).unwrap();
    assert_eq!(
        set_names(&set),
        [
            ("__Host-session", false),
            ("__Host-session.0", true),
            ("__Host-session.1", true)
        ]
    );
}

// ---------------------------------------------------------------------
// Untrusted Cookie headers
// ---------------------------------------------------------------------

#[test]
fn duplicate_names_with_garbage_around_a_valid_value() {
    let e = env(CookiePolicy::default());
    let set = seal_fresh(&e, &payload(16)).unwrap();
    let valid = set[0].value();
    let mut tampered = valid.to_owned().into_bytes();
    let last = tampered.len() - 2;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    let n = "__Host-session";
    let headers = [
        format!("{n}=garbage; a=1; {n}={valid}; {n}={tampered}; {n}="),
        format!("{n}={tampered}; {n}=\"{valid}\"; {n}={valid}; {n}=%%%"),
        format!("{n}=; {n}={}", "A".repeat(5000)),
    ];
    let read = e.cookies.open::<Vec<u8>>([headers[0].as_str()]);
    assert_eq!(read.session.unwrap().data, payload(16));
    assert_eq!(read.refusal, None);
    let read = e.cookies.open::<Vec<u8>>([headers[1].as_str()]);
    assert_eq!(read.session.unwrap().data, payload(16));
    // Split over several header values, valid one in the middle.
    let read = e.cookies.open::<Vec<u8>>([
        headers[2].as_str(),
        format!("{n}={valid}").as_str(),
        headers[0].as_str(),
    ]);
    assert_eq!(read.session.unwrap().data, payload(16));
    // Garbage only: refused, and what was carried is reported for removal.
    let read = e.cookies.open::<Vec<u8>>([headers[2].as_str()]);
    assert!(read.session.is_none());
    assert_eq!(read.refusal, Some(ErrorKind::Malformed));
    assert_eq!(read.carried, CarriedCookies::none().with_single());
    let read = e
        .cookies
        .open::<Vec<u8>>([format!("{n}={tampered}").as_str()]);
    assert_eq!(read.refusal, Some(ErrorKind::Unauthenticated));
}

#[test]
fn candidates_per_name_are_bounded() {
    let e = env(CookiePolicy::default());
    let set = seal_fresh(&e, &payload(16)).unwrap();
    let n = "__Host-session";
    let valid = format!("{n}={}", set[0].value());
    let garbage: Vec<String> = (0..MAX_CANDIDATES_PER_NAME)
        .map(|i| format!("{n}=junk{i}"))
        .collect();
    let mut within = garbage[1..].to_vec();
    within.push(valid.clone());
    let read = e.cookies.open::<Vec<u8>>(within.iter().map(String::as_str));
    assert!(read.session.is_some(), "the 8th value is examined");
    let mut beyond = garbage;
    beyond.push(valid);
    let read = e.cookies.open::<Vec<u8>>(beyond.iter().map(String::as_str));
    assert!(read.session.is_none(), "the 9th value is not");
    assert_eq!(read.refusal, Some(ErrorKind::Malformed));
}

#[test]
fn a_huge_cookie_header_is_scanned_without_decoding() {
    let e = env(CookiePolicy::builder()
        .chunked(4)
        .set_cookie_budget(1 << 20)
        .build()
        .unwrap());
    let n = "__Host-session";
    let mut header = String::new();
    for i in 0..20_000 {
        header.push_str(&format!("{n}.{}={}; ", i % 70, "B".repeat(40)));
    }
    header.push_str(&format!("{n}={}", "C".repeat(1 << 20)));
    let read = e.cookies.open::<Vec<u8>>([header.as_str()]);
    assert!(read.session.is_none());
    assert!(read.refusal.is_some());
    assert!(read.carried.single());
    assert_eq!(read.carried.chunks().count(), 64);
}

// ---------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------

fn prefix() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        4 => Just(""),
        3 => Just("__Host-"),
        2 => Just("__Secure-"),
        1 => Just("__Http-"),
        1 => Just("__Host-Http-"),
        1 => Just("__host-"),
        1 => Just("__SECURE-"),
    ]
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => (prefix(), "[a-zA-Z0-9!#$%&'*+.^_`|~-]{1,12}").prop_map(|(p, s)| format!("{p}{s}")),
        1 => "[a-z]{0,3}[ ;=,\"]?[a-z]{0,3}",
    ]
}

fn path() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => Just("/".to_owned()),
        4 => "/[ -:<-~]{0,20}",
        1 => "[ -~\t;]{0,6}",
        1 => Just(format!("/{}", "a".repeat(1024))),
    ]
}

fn domain() -> impl Strategy<Value = Option<String>> {
    prop::option::weighted(
        0.4,
        prop_oneof![
            4 => "[a-z0-9]([a-z0-9-]{0,6}[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,6}[a-z0-9])?){0,3}",
            1 => "[a-z.;_ -]{0,8}",
        ],
    )
}

fn same_site() -> impl Strategy<Value = SameSite> {
    prop_oneof![
        Just(SameSite::Strict),
        Just(SameSite::Lax),
        Just(SameSite::None)
    ]
}

fn config() -> impl Strategy<Value = Config> {
    (
        (name(), path(), domain(), same_site()),
        (
            any::<bool>(),
            prop::bool::weighted(0.2),
            any::<bool>(),
            prop_oneof![4 => Just(1usize), 4 => 2usize..=16, 1 => Just(0usize), 1 => Just(17usize)],
            prop_oneof![
                3 => Just(DEFAULT_COOKIE_HEADER_BUDGET),
                2 => 0usize..20_000,
                1 => Just(1usize << 16)
            ],
            prop_oneof![
                3 => Just(DEFAULT_SET_COOKIE_BUDGET),
                2 => 0usize..20_000,
                2 => Just(1usize << 20)
            ],
        ),
    )
        .prop_map(
            |(
                (name, path, domain, same_site),
                (partitioned, insecure, persistent, max_chunks, budget, set_cookie_budget),
            )| {
                Config {
                    name,
                    path,
                    domain,
                    same_site,
                    partitioned,
                    insecure,
                    persistent,
                    max_chunks,
                    budget,
                    set_cookie_budget,
                }
            },
        )
}

/// Configurations built mostly from valid parts, so most of them build.
fn valid_config() -> impl Strategy<Value = Config> {
    (
        (
            prop_oneof![
                Just(""),
                Just("__Host-"),
                Just("__Secure-"),
                Just("__Http-"),
                Just("__Host-Http-")
            ],
            "[a-zA-Z0-9!#$%&'*+.^_`|~-]{1,24}",
            prop_oneof![Just("/".to_owned()), "/[ -:<-~]{0,30}[!-:<-~]"],
            prop::option::weighted(
                0.3,
                "[a-z0-9]([a-z0-9-]{0,6}[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,6}[a-z0-9])?){0,3}",
            ),
        ),
        (
            same_site(),
            any::<bool>(),
            prop::bool::weighted(0.1),
            any::<bool>(),
            prop_oneof![1 => Just(1usize), 2 => 2usize..=16],
            prop_oneof![
                2 => Just(DEFAULT_COOKIE_HEADER_BUDGET),
                2 => 200usize..40_000,
                1 => Just(1usize << 17)
            ],
            prop_oneof![
                2 => Just(DEFAULT_SET_COOKIE_BUDGET),
                1 => 300usize..40_000,
                2 => Just(1usize << 20)
            ],
        ),
    )
        .prop_map(
            |(
                (prefix, rest, path, domain),
                (
                    same_site,
                    partitioned,
                    insecure,
                    persistent,
                    max_chunks,
                    budget,
                    set_cookie_budget,
                ),
            )| Config {
                name: format!("{prefix}{rest}"),
                path,
                domain,
                same_site,
                partitioned,
                insecure,
                persistent,
                max_chunks,
                budget,
                set_cookie_budget,
            },
        )
        .prop_filter("the rules allow it", Config::valid)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// For any configuration, the builder accepts it exactly when the
    /// rules (restated in `PolicyConfig::valid`) allow it, and refuses it with a
    /// configuration error otherwise.
    #[test]
    fn the_builder_accepts_exactly_the_valid_configurations(cfg in config()) {
        let built = cfg.builder().build();
        prop_assert_eq!(built.is_ok(), cfg.valid(), "{:?}", built);
        if let Err(err) = built {
            prop_assert!(err.to_string().starts_with("invalid configuration"));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(160))]

    /// For any valid configuration, session size and moment: every emitted
    /// Set-Cookie matches the server grammar, parses back with the
    /// `cookie` crate with the same name, value and attributes, fits its
    /// budgets, and reads back; values past the budget are `TooLarge`.
    #[test]
    fn any_configuration_emits_well_formed_cookies(
        cfg in valid_config(),
        size in prop_oneof![0usize..600, 0usize..8_000, 0usize..40_000],
        absolute_days in prop_oneof![Just(0i64), 1i64..1000],
        elapsed in 0i64..600,
    ) {
        let policy = cfg.builder().build().unwrap();
        let mut lifetime = Lifetime::aal1();
        if absolute_days > 0 {
            lifetime.absolute = Duration::days(absolute_days);
        }
        let e = env_with(policy.clone(), lifetime);
        let data = payload(size);
        let meta = e.cookies.codec().new_session(None).unwrap();
        e.clock.advance(Duration::seconds(elapsed));
        let value_len = e.value_len(&meta, &data);
        let result = e.cookies.seal(&meta, &data, &CarriedCookies::none());
        let set = match result {
            Err(err) => {
                prop_assert_eq!(err.kind(), ErrorKind::TooLarge);
                let (size, limit) = err.size_and_limit().unwrap();
                prop_assert!(size > limit);
                // Past the longest value, or past the Set-Cookie budget.
                prop_assert!(
                    value_len > policy.max_value_len() || limit == policy.set_cookie_budget()
                );
                return Ok(());
            }
            Ok(set) => set,
        };
        prop_assert!(value_len <= policy.max_value_len());
        let mut names = HashSet::new();
        let mut header_bytes = 0;
        for c in &set {
            prop_assert!(names.insert(c.name().to_owned()));
            check_header(c, &e.cookies);
            prop_assert!(!c.is_removal());
            header_bytes += c.name().len() + 1 + c.value().len() + 2;
            let expected_age = cfg.persistent.then(|| {
                let left = lifetime.absolute.whole_seconds() - elapsed;
                u64::try_from(left.clamp(0, 34_560_000)).unwrap()
            });
            prop_assert_eq!(c.max_age(), expected_age);
        }
        prop_assert!(header_bytes <= policy.cookie_header_budget());
        let lines: usize = set.iter().map(|c| 14 + c.header_value().len()).sum();
        prop_assert!(lines <= policy.set_cookie_budget());
        prop_assert_eq!(set.iter().map(|c| c.value().len()).sum::<usize>(), value_len);

        let mut jar = Jar::default();
        jar.apply(&set);
        let read = e.cookies.open::<Vec<u8>>([jar.header().as_str()]);
        prop_assert_eq!(read.refusal, None);
        prop_assert_eq!(read.session.map(|s| s.data), Some(data));
        let removals = e.cookies.remove(&read.carried);
        prop_assert_eq!(removals.len(), set.len());
        for (r, c) in removals.iter().zip(&set) {
            prop_assert_eq!(r.name(), c.name());
            prop_assert!(r.is_removal());
            check_header(r, &e.cookies);
        }
        jar.apply(&removals);
        prop_assert!(jar.0.is_empty());
    }

}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Arbitrary Cookie headers never panic, and only names of ours are
    /// reported as carried.
    #[test]
    fn arbitrary_cookie_headers_never_panic(
        headers in prop::collection::vec(
            prop_oneof![
                ".{0,200}",
                "((__Host-session(\\.[0-9]{1,3})?|x)=[A-Za-z0-9_=\" -]{0,120}; ?){0,12}",
            ],
            0..4,
        )
    ) {
        let e = env(CookiePolicy::builder()
            .chunked(4)
            .set_cookie_budget(1 << 20)
            .build()
            .unwrap());
        let read = e.cookies.open::<Vec<u8>>(headers.iter().map(String::as_str));
        prop_assert!(read.session.is_none());
        let mentions = headers.iter().any(|h| h.contains("__Host-session"));
        prop_assert!(mentions || read.carried.is_empty());
        prop_assert_eq!(read.refusal.is_some(), !read.carried.is_empty());
        for r in e.cookies.remove(&read.carried) {
            check_header(&r, &e.cookies);
        }
    }
}

/// A sibling subdomain can set a cookie whose name is ours behind Unicode
/// whitespace (`\u{a0}__Host-session`): browsers do not hold that name to
/// the `__Host-` rules, so it can carry Domain and come from anywhere. It
/// must not be read as ours, or the sibling could sign the visitor in to
/// the attacker's session. Parsing with `cookie::Cookie::split_parse`, which
/// trims all Unicode whitespace, read it as ours (found by the
/// `cookie_header` fuzz target).
#[test]
fn prefix_lookalikes_with_unicode_space_are_not_ours() {
    let e = env(CookiePolicy::default());
    let meta = e.cookies.codec().new_session(Some("attacker")).unwrap();
    let set = e
        .cookies
        .seal(&meta, &"attacker's".to_owned(), &CarriedCookies::none())
        .unwrap();
    let value = set[0].value();
    for space in [
        "\u{a0}", "\u{b}", "\u{c}", "\u{2003}", "\u{3000}", "\r", "\n",
    ] {
        for header in [
            format!("{space}__Host-session={value}"),
            format!("__Host-session{space}={value}"),
            format!("a=b;{space}__Host-session={value}"),
        ] {
            let read = e.cookies.open::<String>([header.as_str()]);
            assert!(read.session.is_none(), "{header:?} read as ours");
            assert!(read.carried.is_empty(), "{header:?} counted as ours");
        }
    }
    // Spaces and tabs are what browsers trim: those stay ours.
    for header in [
        format!(" \t__Host-session={value}"),
        format!("a=b;  __Host-session = {value} "),
    ] {
        let read = e.cookies.open::<String>([header.as_str()]);
        assert!(read.session.is_some(), "{header:?}");
    }
}
