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

#[path = "../../tests/fuzz_checks/mod.rs"]
pub mod checks;

use checks::roundtrip::Config;

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
