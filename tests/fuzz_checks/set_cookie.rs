//! The `set_cookie` target: any cookie policy configuration, payload size,
//! clock and carried names.
//!
//! Properties, for every case:
//!
//! - `CookiePolicyBuilder::build` accepts exactly the configurations the
//!   rules allow, restated independently in [`PolicyConfig::valid`] (the
//!   restatement `tests/cookies.rs` checks with proptest), and otherwise
//!   refuses with [`ConfigError`](crate::ConfigError) and a message that does not
//!   contain the name, path or domain (each checked when it holds a
//!   character no message uses). `Sessions::new` refuses only
//!   an invalid lifetime. The built policy reports what it was given.
//! - `seal` (or `seal_with` another persistence) refuses with
//!   [`ErrorKind::TooLarge`] exactly when no layout holds the value, and
//!   then reports sizes; otherwise it returns the layout the rules predict
//!   (one cookie if it fits, else the fewest chunks, each filled in order),
//!   then a removal for every carried name the layout does not use, and
//!   nothing else: at most one header per name. A layout whose lines
//!   exceed the Set-Cookie budget is also `TooLarge`, with the lines'
//!   length and the budget; removals that do not fit after the new
//!   cookies are left out, in order.
//! - Every header, from `seal` and from `remove`, matches the RFC 6265bis
//!   §4.1.1 grammar, parses back with the `cookie` crate to the same name,
//!   value and attributes, has name + value ≤ 4096 and Max-Age ≤ 34 560 000,
//!   the Expires that goes with Max-Age and the clock, and a Debug without
//!   the value. The new cookies fit the header budget, and their Max-Age is
//!   the time left to the absolute deadline (persistent) or absent.
//! - The new cookies, sent back, open to the same data exactly when the
//!   reference time checks say the value is still good, and `carried` is
//!   the layout's names.
//! - `remove` yields one removal per carried name, as many as fit the
//!   Set-Cookie budget, and nothing else.

use std::collections::HashSet;
use std::sync::Arc;

use sealed_session::{
    CarriedCookies, ErrorKind, Lifetime, ManualClock, Persistence, SessionCodec, Sessions,
    SetCookie,
};
use time::OffsetDateTime;

use super::open::keyring;
use super::policy::{self, MAX_AGE_LIMIT, PolicyConfig};
use super::reference::{Claims, Limits};

/// The largest instant `time` represents by default (9999-12-31T23:59:59Z).
const MAX_TIMESTAMP: i64 = 253_402_300_799;

/// One case: a policy configuration and what to seal under it.
#[derive(Clone, Debug)]
pub struct Case {
    /// The policy's configuration (may be invalid).
    pub policy: PolicyConfig,
    /// The codec's lifetime (may be invalid).
    pub lifetime: Lifetime,
    /// The clock when sealing, Unix seconds (any `i64`).
    pub now: i64,
    /// How long before `now` the session was created, in seconds.
    pub age: u32,
    /// Bytes of app data.
    pub payload_len: usize,
    /// The names the request carried: `NAME`, and a bit per chunk index.
    pub carried: (bool, u64),
    /// `seal_with` this persistence (`true`: until expiry) instead of
    /// `seal`.
    pub persistence: Option<bool>,
}

/// How far a case got; the seeds tool counts these.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reached {
    /// `CookiePolicyBuilder::build` refused.
    PolicyRefused,
    /// `Sessions::new` refused (the lifetime).
    CodecRefused,
    /// `seal` refused the value as too large.
    TooLarge,
    /// One cookie.
    Single,
    /// Two or more chunks.
    Chunked,
}

/// The app data of a case: `len` bytes.
pub fn payload(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| u8::try_from(i * 31 % 251).unwrap_or(0))
        .collect()
}

/// What `ManualClock::at_unix(t)` reads: `t`, or the epoch where `time`
/// cannot hold it.
fn clock_reading(t: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(t).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// Unix seconds as the format carries them: before 1970 reads as 0.
fn format_seconds(t: OffsetDateTime) -> u64 {
    u64::try_from(t.unix_timestamp()).unwrap_or(0)
}

/// The carried names as a `CarriedCookies`, and as names.
fn carried(case: &Case, name: &str) -> (CarriedCookies, Vec<String>) {
    let (single, mask) = case.carried;
    let mut set = CarriedCookies::none();
    let mut names = Vec::new();
    if single {
        set = set.with_single();
        names.push(name.to_owned());
    }
    for k in 0..64 {
        if mask & (1 << k) != 0 {
            set = set.with_chunk(k);
            names.push(format!("{name}.{k}"));
        }
    }
    (set, names)
}

/// Whether `text` could be mistaken for part of a fixed message: a short
/// one, or one made only of the characters the builder's messages (and
/// `Error`'s Debug) use. libFuzzer learns strings from the comparisons
/// below and would otherwise send, say, a domain that is a piece of the
/// domain rule's message.
fn message_like(text: &str) -> bool {
    text.len() < 16
        || text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || " ,;:_-=/.{}\"()".contains(c))
}

/// Checks that an error message says nothing of the configured strings
/// (those with a character no message uses; see [`message_like`]).
fn check_message(err: &sealed_session::ConfigError, config: &PolicyConfig) {
    let texts = [
        Some(config.name.as_str()),
        Some(config.path.as_str()),
        config.domain.as_deref(),
    ];
    for shown in [err.to_string(), format!("{err:?}")] {
        for text in texts.into_iter().flatten() {
            if !message_like(text) {
                assert!(!shown.contains(text), "the error echoes the configuration");
            }
        }
    }
}

/// Runs the property on one case and says how far it got.
///
/// # Panics
/// When the property is violated.
#[allow(clippy::too_many_lines, reason = "one property, read top to bottom")]
pub fn check(case: &Case) -> Reached {
    let config = &case.policy;

    // build: exactly the valid configurations.
    let built = config.builder().build();
    let valid = config.valid();
    let policy = match built {
        Ok(policy) => {
            assert!(valid, "build accepted an invalid configuration: {config:?}");
            policy
        }
        Err(err) => {
            assert!(!valid, "build refused a valid configuration: {err}");
            assert!(err.to_string().starts_with("invalid configuration"));
            check_message(&err, config);
            return Reached::PolicyRefused;
        }
    };
    assert_eq!(policy.name(), config.name);
    assert_eq!(policy.path(), config.path);
    assert_eq!(policy.domain(), config.domain.as_deref());
    assert_eq!(policy.secure(), !config.insecure);
    assert_eq!(policy.same_site(), config.same_site);
    assert_eq!(policy.partitioned(), config.partitioned);
    assert_eq!(policy.persistence(), config.persistence());
    assert_eq!(policy.max_chunks(), config.max_chunks);
    assert_eq!(policy.cookie_header_budget(), config.budget);
    assert_eq!(policy.max_value_len(), config.max_value_len());

    let created_at = case.now.saturating_sub(i64::from(case.age));
    let clock = ManualClock::at_unix(created_at);
    let codec = Sessions::builder(keyring())
        .lifetime(case.lifetime)
        .clock(Arc::new(clock.clone()));
    // Refused: an invalid lifetime, or "remember me" with an idle timeout
    // longer than a browser keeps a cookie (400 days).
    let conflict = policy.persistence() == Persistence::UntilExpiry
        && case.lifetime.idle > time::Duration::days(400);
    let valid = case.lifetime.validate().is_ok() && !conflict;
    let cookies = match codec.cookie(policy).build() {
        Ok(cookies) => {
            assert!(valid, "built a refusable configuration");
            cookies
        }
        Err(err) => {
            assert!(!valid, "new refused: {err}");
            assert!(err.to_string().starts_with("invalid configuration"));
            return Reached::CodecRefused;
        }
    };
    assert_eq!(cookies.codec().cookie_name(), config.name);
    assert_eq!(cookies.codec().max_value_len(), config.max_value_len());
    let meta = cookies
        .codec()
        .new_session(None)
        .unwrap_or_else(|e| panic!("new_session: {e}"));
    clock.set_unix(case.now);
    let data = payload(case.payload_len);

    // The value's length, whatever the policy's limits.
    let unbounded = SessionCodec::builder(keyring())
        .cookie_name(config.name.clone())
        .lifetime(case.lifetime)
        .clock(Arc::new(clock.clone()))
        .max_value_len(1 << 20)
        .build()
        .unwrap_or_else(|e| panic!("unbounded codec: {e}"));
    let value_len = unbounded
        .seal_session(&meta, &data)
        .unwrap_or_else(|e| panic!("unbounded reseal: {e}"))
        .len();

    let (carried_in, carried_names) = carried(case, &config.name);
    let persistence = match case.persistence {
        None => config.persistence(),
        Some(true) => Persistence::UntilExpiry,
        Some(false) => Persistence::BrowserSession,
    };
    let result = match case.persistence {
        None => cookies.seal(&meta, &data, &carried_in),
        Some(_) => cookies.seal_with(&meta, &data, &carried_in, persistence),
    };
    let Some(count) = config.layout(value_len) else {
        let err = result.err().unwrap_or_else(|| {
            panic!("sealed a value of {value_len} characters past every layout")
        });
        assert_eq!(err.kind(), ErrorKind::TooLarge, "{err}");
        let n = config.name.len();
        assert_eq!(
            err.size_and_limit(),
            Some((n + value_len, n + config.max_value_len()))
        );
        return Reached::TooLarge;
    };

    // Max-Age: the time left to the absolute deadline, clamped.
    let now = clock_reading(case.now);
    let created = format_seconds(clock_reading(created_at));
    let absolute = Limits::of(&case.lifetime).absolute;
    let deadline = i64::try_from(created.saturating_add(absolute))
        .unwrap_or(i64::MAX)
        .min(MAX_TIMESTAMP);
    let left = i128::from(deadline) - i128::from(now.unix_timestamp());
    let max_age = u64::try_from(left.clamp(0, i128::from(MAX_AGE_LIMIT))).unwrap_or(0);
    let expected_age = (persistence == Persistence::UntilExpiry).then_some(max_age);
    let expires = expected_age.is_some_and(|age| policy::expected_expires(now, age).is_some());

    // The layout's cookies, then removals of the other carried names as
    // long as their lines fit the Set-Cookie budget after the new ones.
    let used: Vec<String> = if count == 1 {
        vec![config.name.clone()]
    } else {
        (0..count).map(|k| format!("{}.{k}", config.name)).collect()
    };
    let lens: Vec<usize> = (0..count)
        .map(|k| {
            if k + 1 < count {
                config.chunk_max(k)
            } else {
                value_len - (0..k).map(|j| config.chunk_max(j)).sum::<usize>()
            }
        })
        .collect();
    let written: usize = used
        .iter()
        .zip(&lens)
        .map(|(name, &len)| config.line_len(name.len(), len, expected_age, expires))
        .sum();
    if written > config.set_cookie_budget {
        let err = result.err().unwrap_or_else(|| {
            panic!("sealed {written} bytes of Set-Cookie lines past the response budget")
        });
        assert_eq!(err.kind(), ErrorKind::TooLarge, "{err}");
        assert_eq!(
            err.size_and_limit(),
            Some((written, config.set_cookie_budget))
        );
        return Reached::TooLarge;
    }
    let set = result.unwrap_or_else(|e| panic!("seal refused a value that fits: {e}"));
    let removed: Vec<&String> = within_budget(
        config,
        written,
        carried_names.iter().filter(|n| !used.contains(n)),
    );
    let names: Vec<&str> = set.iter().map(|c| c.name()).collect();
    let want: Vec<&str> = used
        .iter()
        .chain(removed.iter().copied())
        .map(String::as_str)
        .collect();
    assert_eq!(names, want, "the headers of seal");
    let mut unique = HashSet::new();
    assert!(
        set.iter().all(|c| unique.insert(c.name())),
        "one header per name"
    );

    let (fresh, removals) = set.split_at(count);
    let lines: usize = set
        .iter()
        .map(|c| "Set-Cookie: \r\n".len() + c.header_value().len())
        .sum();
    assert!(
        lines <= config.set_cookie_budget,
        "past the Set-Cookie budget"
    );
    let mut header_bytes = 0;
    for (k, c) in fresh.iter().enumerate() {
        assert!(!c.is_removal());
        assert!(!c.value().is_empty());
        if k + 1 < count {
            assert_eq!(c.value().len(), config.chunk_max(k), "chunks fill in order");
        }
        assert_eq!(c.max_age(), expected_age);
        policy::check_header(c, &cookies);
        header_bytes += c.name().len() + c.value().len() + policy::PAIR_OVERHEAD;
    }
    assert!(header_bytes <= config.budget, "past the header budget");
    assert_eq!(
        fresh.iter().map(|c| c.value().len()).sum::<usize>(),
        value_len
    );
    for r in removals {
        assert!(r.is_removal());
        policy::check_header(r, &cookies);
    }

    // Sent back, the cookies open exactly when the time checks allow.
    let header = SetCookie::cookie_header(fresh);
    let read = cookies.open_raw([header.as_str()]);
    // `seal_session` writes the seal time as now, or the creation time if the
    // clock went back past it.
    let claims = Claims {
        sid: *meta.id().as_bytes(),
        created,
        sealed: format_seconds(now).max(created),
        expires: created.saturating_add(absolute),
        generation: 0,
        kind: 0,
        subject: None,
    };
    let got: Vec<String> = removals_names(&cookies.remove(&read.carried));
    assert_eq!(got, used, "carried after reading back");
    match (
        Limits::of(&case.lifetime).check(&claims, format_seconds(now)),
        &read.session,
    ) {
        (Ok(_), Some(opened)) => {
            let raw = postcard::to_allocvec(&data).unwrap_or_default();
            assert_eq!(opened.data, raw, "read back other data");
            assert_eq!(read.refusal, None);
        }
        (Err(kind), None) => assert_eq!(read.refusal, Some(kind)),
        (want, _) => panic!("read back {:?}, the time checks say {want:?}", read.refusal),
    }

    // remove: one removal per carried name while they fit the Set-Cookie
    // budget, nothing else.
    let removals = cookies.remove(&carried_in);
    let fitting: Vec<String> = within_budget(config, 0, carried_names.iter())
        .into_iter()
        .cloned()
        .collect();
    assert_eq!(removals_names(&removals), fitting);
    for r in &removals {
        assert!(r.is_removal());
        policy::check_header(r, &cookies);
    }
    if count == 1 {
        Reached::Single
    } else {
        Reached::Chunked
    }
}

/// The first of `names` whose removal lines fit the Set-Cookie budget
/// after `used` bytes.
fn within_budget<'a>(
    config: &PolicyConfig,
    mut used: usize,
    names: impl Iterator<Item = &'a String>,
) -> Vec<&'a String> {
    let mut out = Vec::new();
    for name in names {
        // An empty value, Max-Age=0 and the epoch as Expires.
        let line = config.line_len(name.len(), 0, Some(0), true);
        if used + line > config.set_cookie_budget {
            break;
        }
        used += line;
        out.push(name);
    }
    out
}

fn removals_names(set: &[sealed_session::SetCookie]) -> Vec<String> {
    set.iter().map(|c| c.name().to_owned()).collect()
}
