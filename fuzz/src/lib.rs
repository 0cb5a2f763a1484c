//! Input generators for the fuzz targets, and the checks they run.
//!
//! The checks live in the crate's `tests/fuzz_checks/` and are included
//! here by path, so the regression tests in `tests/fuzz_regressions.rs` run
//! exactly the code the fuzzer runs. This file only turns fuzzer bytes into
//! inputs: payloads, configurations, cookie names, lifetimes.

#![forbid(unsafe_code)]

use std::collections::BTreeMap;

use arbitrary::{Arbitrary, Result, Unstructured};
use sealed_session::Lifetime;
use serde::{Deserialize, Serialize};
use time::Duration;

pub mod base64_engines;
#[path = "../../tests/fuzz_checks/mod.rs"]
pub mod checks;

use checks::policy::PolicyConfig;
use checks::roundtrip::Config;
use checks::set_cookie::Case;
use sealed_session::SameSite;

/// An app's session data, with the shapes postcard encodes differently:
/// strings, sequences, maps, options, enums, signed and unsigned varints,
/// 128-bit integers, chars and raw bytes.
#[derive(Arbitrary, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payload {
    /// A user name.
    pub user: String,
    /// Roles.
    pub roles: Vec<String>,
    /// An unsigned counter (varint).
    pub visits: u64,
    /// A signed value (zigzag varint).
    pub delta: i32,
    /// An optional string.
    pub theme: Option<String>,
    /// Booleans.
    pub flags: Vec<bool>,
    /// A map.
    pub prefs: BTreeMap<String, Pref>,
    /// Raw bytes.
    pub blob: Vec<u8>,
    /// Wide integers and a char.
    pub wide: (u128, i64, char),
    /// Nested options and enums.
    pub nested: Option<Vec<Option<Pref>>>,
}

/// An enum with unit, tuple and struct variants.
#[derive(Arbitrary, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Pref {
    /// Unit variant.
    Off,
    /// Newtype variant.
    Level(u8),
    /// Struct variant.
    Named {
        /// A name.
        name: String,
        /// A weight.
        weight: i16,
    },
    /// Tuple variant.
    Pair(u32, Option<String>),
    /// A char.
    Letter(char),
}

/// The `roundtrip` target's input.
#[derive(Debug)]
pub struct RoundtripInput {
    /// The codec's configuration.
    pub config: Config,
    /// The data to seal.
    pub payload: Payload,
}

impl<'a> Arbitrary<'a> for RoundtripInput {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        Ok(Self {
            config: config(u)?,
            payload: Payload::arbitrary(u)?,
        })
    }
}

/// RFC 9110 §5.6.2 `tchar`: the characters of a cookie name.
const TCHARS: &[u8] =
    b"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Prefixes with meaning to browsers (RFC 6265bis §4.1.3, layered-cookies).
const PREFIXES: &[&str] = &["", "__Host-", "__Secure-", "__Host-Http-", "__Http-"];

/// A cookie name: usually a token, with or without a prefix, rarely long
/// enough to reach the 4096-byte limit; one time in sixteen any string.
pub fn cookie_name(u: &mut Unstructured<'_>) -> Result<String> {
    if u.ratio(1, 16)? {
        return String::arbitrary(u);
    }
    let mut name = (*u.choose(PREFIXES)?).to_owned();
    let len = if u.ratio(1, 16)? {
        u.int_in_range(0..=4200)?
    } else {
        u.int_in_range(0..=24)?
    };
    for _ in 0..len {
        name.push(char::from(*u.choose(TCHARS)?));
    }
    Ok(name)
}

/// A purpose label: usually a plain one, sometimes any string, sometimes
/// around the 255-byte limit.
pub fn purpose(u: &mut Unstructured<'_>) -> Result<String> {
    Ok(match u.int_in_range(0..=3)? {
        0 => (*u.choose(&["session", "pre-auth", "oauth-state", "csrf", "é"])?).to_owned(),
        1 => "p".repeat(u.int_in_range(250..=260)?),
        _ => String::arbitrary(u)?,
    })
}

/// A duration: a usual value, a small or any number of seconds, or one
/// with a fraction of a second.
pub fn duration(u: &mut Unstructured<'_>) -> Result<Duration> {
    const USUAL: &[i64] = &[
        0, 1, 2, 30, 59, 60, 120, 299, 300, 600, 900, 1800, 3600, 43_200, 86_400, 2_592_000,
        34_560_000,
    ];
    Ok(match u.int_in_range(0..=4)? {
        0 | 1 => Duration::seconds(*u.choose(USUAL)?),
        2 => Duration::seconds(u.int_in_range(-5..=100_000)?),
        3 => Duration::new(
            u.int_in_range(-2..=5)?,
            u.int_in_range(-999_999_999..=999_999_999)?,
        ),
        _ => Duration::new(
            i64::arbitrary(u)?,
            u.int_in_range(-999_999_999..=999_999_999)?,
        ),
    })
}

/// A lifetime: a preset with some fields replaced.
pub fn lifetime(u: &mut Unstructured<'_>) -> Result<Lifetime> {
    let mut l = match u.int_in_range(0..=3)? {
        0 => Lifetime::default(),
        1 => Lifetime::aal1(),
        2 => Lifetime::aal2(),
        _ => Lifetime::aal3(),
    };
    for field in [
        &mut l.absolute,
        &mut l.idle,
        &mut l.renew_after,
        &mut l.skew,
        &mut l.single_use_window,
        &mut l.superseded_grace,
    ] {
        if u.ratio(1, 3)? {
            *field = duration(u)?;
        }
    }
    Ok(l)
}

/// A clock reading in Unix seconds: near today, at an edge of what `time`
/// represents, or anything.
pub fn now(u: &mut Unstructured<'_>) -> Result<i64> {
    const EDGES: &[i64] = &[
        0,
        -1,
        1,
        253_402_300_799,
        253_402_300_800,
        i64::MAX,
        i64::MIN,
    ];
    Ok(match u.int_in_range(0..=3)? {
        0 | 1 => 1_764_000_000 + i64::from(i32::arbitrary(u)?),
        2 => *u.choose(EDGES)?,
        _ => i64::arbitrary(u)?,
    })
}

/// A key id: small, at an edge, or anything.
fn key_id(u: &mut Unstructured<'_>) -> Result<u32> {
    Ok(if u.ratio(1, 2)? {
        *u.choose(&[0, 1, 2, 0x0100_0000, u32::MAX])?
    } else {
        u32::arbitrary(u)?
    })
}

/// A whole configuration.
pub fn config(u: &mut Unstructured<'_>) -> Result<Config> {
    let cookie_name = cookie_name(u)?;
    let purpose = purpose(u)?;
    let lifetime = lifetime(u)?;
    let now = now(u)?;
    let max_value_len = match u.int_in_range(0..=5)? {
        0 => Some(u.int_in_range(0..=10_000)?),
        1 => Some(usize::arbitrary(u)?),
        _ => None,
    };
    let primary = (key_id(u)?, u8::arbitrary(u)?);
    let older = if u.arbitrary()? {
        Some((key_id(u)?, u8::arbitrary(u)?))
    } else {
        None
    };
    Ok(Config {
        cookie_name,
        purpose,
        lifetime,
        now,
        max_value_len,
        primary,
        older,
        tamper: (u.arbitrary()?, u.arbitrary()?),
    })
}

/// The `set_cookie` target's input.
#[derive(Debug)]
pub struct SetCookieInput(pub Case);

impl<'a> Arbitrary<'a> for SetCookieInput {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        set_cookie_case(u).map(Self)
    }
}

/// Prefixes, exact and look-alike, for policy names.
const POLICY_PREFIXES: &[&str] = &[
    "",
    "",
    "__Host-",
    "__Host-",
    "__Secure-",
    "__Http-",
    "__Host-Http-",
    "__host-",
    "__HOST-",
    "__Host-http-",
    "__host-Http-",
    "__secure-",
    "__SECURE-",
    "__http-",
    "__Secure",
    "_Host-",
];

/// Characters a token may not contain.
const NOT_TCHAR: &[char] = &[
    ' ', ';', '=', ',', '"', '\t', '\r', '\n', '\0', '/', '(', '@', '\u{e9}', '\u{7f}',
];

/// A policy name: a prefix (or a case variant of one) and token
/// characters, sometimes with a character a token may not hold, sometimes
/// near the longest name a policy accepts; rarely the vectors' names or any
/// string.
pub fn policy_name(u: &mut Unstructured<'_>) -> Result<String> {
    match u.int_in_range(0..=15)? {
        0 => return String::arbitrary(u),
        1 => return Ok((*u.choose(&["__Host-session", "__Host-s", "session", "s"])?).to_owned()),
        _ => {}
    }
    let mut name = (*u.choose(POLICY_PREFIXES)?).to_owned();
    let len = if u.ratio(1, 12)? {
        u.int_in_range(4000..=4100)?
    } else {
        u.int_in_range(0..=24)?
    };
    for _ in 0..len {
        name.push(char::from(*u.choose(TCHARS)?));
    }
    if u.ratio(1, 8)? {
        let at = u.int_in_range(0..=name.len())?;
        name.insert(at, *u.choose(NOT_TCHAR)?);
    }
    Ok(name)
}

/// `av-octet`s, RFC 6265bis §4.1.1: what a Path may hold.
fn av_octets(u: &mut Unstructured<'_>, len: usize) -> Result<String> {
    (0..len)
        .map(|_| {
            let b: u8 = u.int_in_range(0x20..=0x7d)?;
            // Skip `;` (0x3b).
            Ok(char::from(if b >= 0x3b { b + 1 } else { b }))
        })
        .collect()
}

/// A Path: `/`, `/` and `av-octet`s, around the 1024-byte limit, a known
/// bad or tricky one, or any string.
pub fn policy_path(u: &mut Unstructured<'_>) -> Result<String> {
    Ok(match u.int_in_range(0..=9)? {
        0..=2 => "/".to_owned(),
        3..=5 => {
            let len = u.int_in_range(0..=30)?;
            format!("/{}", av_octets(u, len)?)
        }
        6 => format!("/{}", "a".repeat(u.int_in_range(1018..=1030)?)),
        7 => (*u.choose(&[
            "",
            "app",
            "/a;b",
            "/a\r\nX: y",
            "/a\tb",
            "/\u{e9}",
            "/a ",
            "/ ",
            "//",
            "/a b/c",
            "/a=b,c\"d",
            "/%2F",
            "/\u{7f}",
        ])?)
        .to_owned(),
        _ => String::arbitrary(u)?,
    })
}

/// A Domain: usually none; else generated labels (sometimes with a
/// leading or trailing hyphen, an empty or a 64-byte label), a known good
/// or bad one, one near the 253-byte limit, or any string.
pub fn policy_domain(u: &mut Unstructured<'_>) -> Result<Option<String>> {
    const LABEL: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789-";
    Ok(match u.int_in_range(0..=9)? {
        0..=4 => None,
        5 | 6 => {
            let labels = u.int_in_range(1..=4)?;
            let mut d = Vec::new();
            for _ in 0..labels {
                let len = if u.ratio(1, 10)? {
                    u.int_in_range(62..=64)?
                } else {
                    u.int_in_range(0..=10)?
                };
                let label: String = (0..len)
                    .map(|_| u.choose(LABEL).map(|&b| char::from(b)))
                    .collect::<Result<_>>()?;
                d.push(label);
            }
            Some(d.join("."))
        }
        7 => Some(
            (*u.choose(&[
                "example.com",
                "localhost",
                "10.0.0.1",
                "xn--bcher-kva.de",
                "EXAMPLE.com",
                ".example.com",
                "example.com.",
                "a..b",
                "-a.com",
                "a-.com",
                "a_b.com",
                "b\u{fc}cher.de",
                "",
            ])?)
            .to_owned(),
        ),
        8 => {
            let len = u.int_in_range(250..=256)?;
            let mut d = "a.".repeat(len / 2);
            d.truncate(len);
            Some(d.trim_end_matches('.').to_owned())
        }
        _ => Some(String::arbitrary(u)?),
    })
}

/// A whole `set_cookie` case.
pub fn set_cookie_case(u: &mut Unstructured<'_>) -> Result<Case> {
    let policy = PolicyConfig {
        name: policy_name(u)?,
        path: policy_path(u)?,
        domain: policy_domain(u)?,
        same_site: *u.choose(&[SameSite::Strict, SameSite::Lax, SameSite::None])?,
        partitioned: u.ratio(1, 3)?,
        insecure: u.ratio(1, 5)?,
        persistent: u.arbitrary()?,
        max_chunks: match u.int_in_range(0..=8)? {
            0..=3 => 1,
            4..=7 => u.int_in_range(2..=16)?,
            _ => *u.choose(&[0, 17, usize::MAX])?,
        },
        budget: match u.int_in_range(0..=7)? {
            0..=2 => sealed_session::DEFAULT_COOKIE_HEADER_BUDGET,
            3 | 4 => u.int_in_range(0..=20_000)?,
            5 => u.int_in_range(0..=200)?,
            6 => *u.choose(&[1 << 16, 1 << 20, usize::MAX])?,
            _ => usize::arbitrary(u)?,
        },
        set_cookie_budget: match u.int_in_range(0..=7)? {
            0..=2 => sealed_session::DEFAULT_SET_COOKIE_BUDGET,
            3 | 4 => u.int_in_range(0..=20_000)?,
            5 => u.int_in_range(0..=400)?,
            6 => *u.choose(&[1 << 16, 1 << 20, usize::MAX])?,
            _ => usize::arbitrary(u)?,
        },
    };
    let lifetime = if u.ratio(1, 8)? {
        lifetime(u)?
    } else {
        let mut l = *u.choose(&[
            Lifetime::default(),
            Lifetime::aal1(),
            Lifetime::aal2(),
            Lifetime::aal3(),
        ])?;
        if u.arbitrary()? {
            l.absolute = Duration::days(u.int_in_range(1..=1000)?);
        }
        l
    };
    Ok(Case {
        policy,
        lifetime,
        now: now(u)?,
        age: match u.int_in_range(0..=3)? {
            0 | 1 => 0,
            2 => u.int_in_range(0..=100_000)?,
            _ => u32::arbitrary(u)?,
        },
        payload_len: match u.int_in_range(0..=6)? {
            0..=2 => u.int_in_range(0..=600)?,
            3..=5 => u.int_in_range(0..=8_000)?,
            _ => u.int_in_range(0..=40_000)?,
        },
        carried: if u.ratio(1, 2)? {
            (false, 0)
        } else {
            (u.arbitrary()?, u64::arbitrary(u)?)
        },
        persistence: Option::<bool>::arbitrary(u)?,
    })
}
