//! The `cookie_header` target: arbitrary `Cookie` header values through
//! `Sessions::open` (lenient parsing, duplicate names, chunk joining)
//! and `Sessions::remove`.
//!
//! The input's first byte picks one of [`POLICIES`] (all named [`NAME`]:
//! chunked with a large header budget, chunked with the default one, not
//! chunked); the rest, as lossy UTF-8, is split on NUL into header values.
//! Placeholder characters ([`PLACEHOLDERS`]) stand for the cookie name and
//! for real values sealed once, at start-up, under the `open` target's
//! keyring and clock: two whole values, the three chunks of one chunked
//! value and the two chunks of another, an idle-expired value, values for
//! another purpose and under an unknown key id, and hostile claims behind a
//! valid tag. So the fuzzer builds headers with genuine seals, duplicates
//! and chunk sets from a few bytes.
//!
//! Properties, for every input:
//!
//! - `open` never panics.
//! - No forgery: a returned session is one of the genuinely sealed values
//!   (same data, session id, seal time and key).
//! - A small reference reader ([`Expected`]), written from the documented
//!   rules, lists the candidates `open` must try: the first
//!   [`MAX_CANDIDATES_PER_NAME`] values of `NAME` short enough for one
//!   cookie, and the chunk sets `NAME.0 .. NAME.(n-1)` for `n` from the
//!   longest gap-free run down to 2, as long as every combination of
//!   duplicates up to that `n` fits the candidate limit (the order within
//!   the limit is not documented, so nothing is claimed past it). If one of
//!   them is a genuine value, a session is returned, and it is at least as
//!   new as every genuine value among them.
//! - `carried` is exactly the set of names `NAME` and `NAME.k` (k < 64)
//!   the header carried.
//! - `refusal` is `Some` exactly when there is no session and `carried` is
//!   not empty; an idle-expired candidate that must be tried outranks
//!   malformed and unauthenticated ones; a refusal after authentication or
//!   of an authentic envelope names a key id, and no refusal names none.
//! - `stale` is empty without a session, and a strict subset of `carried`
//!   with one.
//! - `remove(&carried)` yields one removal per carried name, nothing else,
//!   each a well-formed removal header.
//! - No Debug output of the outcome or of the removals contains a sealed
//!   value's text, nor a name or value of the input at least [`ECHO_MIN`]
//!   characters long that is not fixed text (`Fixture::vocabulary`).

use std::collections::BTreeSet;
use std::sync::{Arc, LazyLock};

use sealed_session::{
    CarriedCookies, ErrorKind, KeyId, MAX_CANDIDATES_PER_NAME, ManualClock, ResealReason, SameSite,
    Sessions,
};

use super::open::{NOW, OLDER, PRIMARY, keyring};
use super::policy::{self, PolicyConfig};
use super::reference::{self, Claims};

/// The cookie name of every policy.
pub const NAME: &str = "__Host-session";

/// Chunk indices a request can carry that the reader tracks.
pub const TRACKED_CHUNKS: usize = 64;

/// Header values are split on this character.
pub const SEPARATOR: char = '\0';

/// At most this many placeholders for values are expanded per input (each
/// is up to 4 KiB); later ones stay as they are.
pub const MAX_EXPANSIONS: usize = 32;

/// Input names and values shorter than this are not looked for in Debug
/// output: short ones can match fixed text such as our cookie names.
pub const ECHO_MIN: usize = 24;

/// The policies the first byte picks from: `(max_chunks, header budget)`.
pub const POLICIES: [(usize, usize); 3] = [
    (4, 16_384),
    (4, sealed_session::DEFAULT_COOKIE_HEADER_BUDGET),
    (1, sealed_session::DEFAULT_COOKIE_HEADER_BUDGET),
];

/// What a placeholder stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slot {
    /// The cookie name, [`NAME`].
    Name,
    /// Chunk `.1` of sealed value number `.0` in [`Fixture::sealed`]
    /// (chunk 0 of a whole value is the value).
    Value(usize, usize),
}

/// The placeholder characters. Tab, LF and CR are left alone.
pub const PLACEHOLDERS: [(char, Slot); 14] = [
    ('\u{1}', Slot::Name),
    ('\u{2}', Slot::Value(V, 0)),
    ('\u{3}', Slot::Value(W, 0)),
    ('\u{4}', Slot::Value(C, 0)),
    ('\u{5}', Slot::Value(C, 1)),
    ('\u{6}', Slot::Value(C, 2)),
    ('\u{7}', Slot::Value(D, 0)),
    ('\u{8}', Slot::Value(D, 1)),
    ('\u{b}', Slot::Value(E, 0)),
    ('\u{c}', Slot::Value(X, 0)),
    ('\u{e}', Slot::Value(H, 0)),
    ('\u{f}', Slot::Value(K, 0)),
    ('\u{10}', Slot::Value(V, 1)),
    ('\u{11}', Slot::Value(V, 2)),
];

/// Index of a whole value that opens (sealed 10 s ago, primary key).
pub const V: usize = 0;
/// Another whole value that opens (20 s ago, the older key).
pub const W: usize = 1;
/// A value that opens, in three chunks under the first policy (5 s ago,
/// the newest).
pub const C: usize = 2;
/// A value that opens, in two chunks (15 s ago).
pub const D: usize = 3;
/// A value idle for 31 minutes: authentic, refused as idle-expired.
pub const E: usize = 4;
/// A value sealed for another purpose: unauthenticated.
pub const X: usize = 5;
/// Claims of an unknown kind behind a valid tag: malformed after the tag.
pub const H: usize = 6;
/// A value naming key id 9, which the ring does not hold.
pub const K: usize = 7;

/// One value sealed at start-up.
#[derive(Clone, Debug)]
pub struct Sealed {
    /// The whole value.
    pub value: String,
    /// Its pieces: the chunks the first policy writes. A value that fits
    /// one cookie has three: itself, then its two halves, for chunk sets
    /// the crate never writes but reads.
    pub pieces: Vec<String>,
    /// The app data (raw payload bytes).
    pub data: Vec<u8>,
    /// The claims.
    pub claims: Claims,
    /// The key id.
    pub key_id: u32,
    /// `None` if it opens, else the refusal.
    pub refusal: Option<ErrorKind>,
}

/// Everything sealed and built once per process.
#[derive(Debug)]
pub struct Fixture {
    /// One `Sessions` per entry of [`POLICIES`].
    pub cookies: Vec<Sessions>,
    /// The same policies as restated configurations.
    pub configs: Vec<PolicyConfig>,
    /// The values, indexed by [`V`], [`W`], ...
    pub sealed: Vec<Sealed>,
    /// `NAME.k` for every tracked `k`.
    pub chunk_names: Vec<String>,
    /// Debug text the outcome and removals may show whatever the input
    /// (digit runs written as `0`): removals of every name, carried sets,
    /// refusals, key ids, re-seal reasons and the genuine sessions' meta.
    pub vocabulary: String,
}

/// The fixture, built on first use.
pub static FIXTURE: LazyLock<Fixture> = LazyLock::new(Fixture::new);

fn config(max_chunks: usize, budget: usize) -> PolicyConfig {
    PolicyConfig {
        name: NAME.to_owned(),
        path: "/".to_owned(),
        domain: None,
        same_site: SameSite::Lax,
        partitioned: false,
        insecure: false,
        persistent: false,
        max_chunks,
        budget,
        // Reading is bounded by the request side alone.
        set_cookie_budget: 1 << 20,
    }
}

/// Bytes `0, 1, 2, ...` offset by `seed`: data of a given size.
fn data(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| u8::try_from(i % 251).unwrap_or(0).wrapping_add(seed))
        .collect()
}

impl Fixture {
    fn new() -> Self {
        let configs: Vec<PolicyConfig> = POLICIES.iter().map(|&(m, b)| config(m, b)).collect();
        let cookies: Vec<Sessions> = configs
            .iter()
            .map(|c| {
                let policy = c
                    .builder()
                    .build()
                    .unwrap_or_else(|e| panic!("fixed policy: {e}"));
                assert_eq!(policy.max_value_len(), c.max_value_len());
                let codec = Sessions::builder(keyring()).clock(Arc::new(ManualClock::at_unix(
                    i64::try_from(NOW).unwrap_or(i64::MAX),
                )));
                codec
                    .cookie(policy)
                    .build()
                    .unwrap_or_else(|e| panic!("fixed configuration: {e}"))
            })
            .collect();
        let chunked = &configs[0];
        let seal = |n: u8,
                    sealed_ago: u64,
                    key: (u32, [u8; 32]),
                    purpose: &str,
                    len: usize,
                    change: &dyn Fn(&mut Claims)| {
            let mut claims = Claims {
                sid: [n; 16],
                created: NOW - 3000,
                sealed: NOW - sealed_ago,
                expires: NOW - 3000 + 12 * 3600,
                generation: u32::from(n),
                kind: 0,
                subject: n.is_multiple_of(2).then(|| format!("user-{n}")),
            };
            change(&mut claims);
            let data = data(len, n);
            let plaintext = [reference::encode_claims(&claims), data.clone()].concat();
            let value = reference::seal(&plaintext, key, NAME, purpose, [n; 24]);
            // The chunks the first policy writes: each filled to 4096 bytes
            // of name plus value, the last one shorter (CookiePolicyBuilder::
            // chunked, "Layout").
            let mut pieces = Vec::new();
            match chunked.layout(value.len()) {
                Some(1) => {
                    let half = value.len() / 2;
                    pieces.push(value.clone());
                    pieces.push(value[..half].to_owned());
                    pieces.push(value[half..].to_owned());
                }
                Some(count) => {
                    let mut rest = value.as_str();
                    for k in 0..count {
                        let take = if k + 1 == count {
                            rest.len()
                        } else {
                            chunked.chunk_max(k)
                        };
                        let (head, tail) = rest.split_at(take);
                        pieces.push(head.to_owned());
                        rest = tail;
                    }
                }
                None => panic!("fixture value too long"),
            }
            Sealed {
                value,
                pieces,
                data,
                claims,
                key_id: key.0,
                refusal: None,
            }
        };
        let purpose = sealed_session::DEFAULT_PURPOSE;
        let mut sealed = vec![
            seal(1, 10, PRIMARY, purpose, 40, &|_| {}),
            seal(2, 20, OLDER, purpose, 70, &|_| {}),
            seal(3, 5, PRIMARY, purpose, 6_600, &|_| {}),
            seal(4, 15, PRIMARY, purpose, 3_700, &|_| {}),
            seal(5, 31 * 60, PRIMARY, purpose, 40, &|_| {}),
            seal(6, 10, PRIMARY, "pre-auth", 40, &|_| {}),
            seal(7, 10, PRIMARY, purpose, 40, &|c| c.kind = 2),
            seal(8, 10, (9, [0x99; 32]), purpose, 40, &|_| {}),
        ];
        sealed[E].refusal = Some(ErrorKind::IdleExpired);
        sealed[X].refusal = Some(ErrorKind::Unauthenticated);
        sealed[H].refusal = Some(ErrorKind::InvalidClaims);
        sealed[K].refusal = Some(ErrorKind::Unauthenticated);
        assert_eq!(sealed[C].pieces.len(), 3, "C is three chunks");
        assert_eq!(sealed[D].pieces.len(), 2, "D is two chunks");
        // The fixture itself: each value opens, or is refused, as intended.
        for s in &sealed {
            let got = cookies[0].codec().open_raw(&s.value);
            match (&got, s.refusal) {
                (Ok(o), None) => assert_eq!(o.data, s.data),
                (Err(e), Some(kind)) => assert_eq!(e.kind(), kind),
                _ => panic!("fixture value {:?}: {:?}", s.refusal, got.err()),
            }
        }
        let chunk_names = (0..TRACKED_CHUNKS).map(|k| format!("{NAME}.{k}")).collect();
        let vocabulary = vocabulary(&cookies, &sealed);
        Self {
            cookies,
            configs,
            sealed,
            chunk_names,
            vocabulary,
        }
    }

    fn expand(&self, slot: Slot) -> &str {
        match slot {
            Slot::Name => NAME,
            Slot::Value(i, piece) => &self.sealed[i].pieces[piece],
        }
    }
}

fn vocabulary(cookies: &[Sessions], sealed: &[Sealed]) -> String {
    let all = (0..TRACKED_CHUNKS).fold(
        CarriedCookies::none().with_single(),
        CarriedCookies::with_chunk,
    );
    let mut words = Vec::new();
    for c in cookies {
        words.extend(c.remove(&all).iter().map(|r| format!("{r:?}")));
        for s in sealed {
            if let Ok(opened) = c.codec().open_raw(&s.value) {
                words.push(format!("{:?}", opened.meta));
                words.push(format!("{:?}", opened.reseal_due()));
            }
        }
    }
    for carried in [CarriedCookies::none(), CarriedCookies::none().with_single()] {
        words.push(format!("{carried:?}"));
    }
    for kind in [
        ErrorKind::Malformed,
        ErrorKind::Unauthenticated,
        ErrorKind::IdleExpired,
    ] {
        words.push(format!("{:?}", Some(kind)));
    }
    words.push(format!("{:?}", Some(KeyId(0))));
    words.push(format!("{:?}", Some(ResealReason::Renewal)));
    words.push(format!("{:?}", Some(ResealReason::NonPrimaryKey)));
    words.push(format!("{:?}", None::<u8>));
    without_numbers(&words.join("\n"))
}

/// The policy index and header values an input stands for.
pub fn decode(input: &[u8]) -> (usize, Vec<String>) {
    let fixture = &*FIXTURE;
    let (policy, rest) = match input.split_first() {
        Some((&b, rest)) => (usize::from(b) % POLICIES.len(), rest),
        None => (0, input),
    };
    let text = String::from_utf8_lossy(rest);
    let mut out = String::with_capacity(text.len());
    let mut expansions = 0;
    for ch in text.chars() {
        match PLACEHOLDERS.iter().find(|(p, _)| *p == ch) {
            Some(&(_, Slot::Name)) => out.push_str(NAME),
            Some(&(_, slot)) if expansions < MAX_EXPANSIONS => {
                expansions += 1;
                out.push_str(fixture.expand(slot));
            }
            _ => out.push(ch),
        }
    }
    let headers = out.split(SEPARATOR).map(str::to_owned).collect();
    (policy, headers)
}

/// The input bytes for `policy` and header values written with
/// placeholders (the inverse of [`decode`]), for seeds and tests.
pub fn encode(policy: u8, headers: &[&str]) -> Vec<u8> {
    let mut out = vec![policy];
    out.extend(headers.join(&SEPARATOR.to_string()).bytes());
    out
}

/// `name=value` pairs as the documented rules split them: each header
/// value on `;`, the name ending at the first `=` (a piece without one is
/// skipped), spaces and tabs trimmed around both.
pub fn pairs(headers: &[String]) -> Vec<(&str, &str)> {
    headers
        .iter()
        .flat_map(|h| h.split(';'))
        .filter_map(|piece| {
            let (n, v) = piece.split_once('=')?;
            Some((n.trim_matches([' ', '\t']), v.trim_matches([' ', '\t'])))
        })
        .collect()
}

/// What the reference reader derives from a header.
#[derive(Debug, Default)]
pub struct Expected {
    /// Whether `NAME` was carried.
    pub single: bool,
    /// The `k` of every `NAME.k` carried.
    pub chunks: BTreeSet<usize>,
    /// Candidates `open` must try (whole values and joined sets).
    pub must_try: Vec<String>,
}

impl Expected {
    /// Reads `headers` under `config` (the policy restated).
    pub fn read(headers: &[String], config: &PolicyConfig, chunk_names: &[String]) -> Self {
        let pairs = pairs(headers);
        let mut out = Self::default();
        for (name, _) in &pairs {
            if *name == NAME {
                out.single = true;
            } else if let Some(k) = chunk_names.iter().position(|c| c == name) {
                out.chunks.insert(k);
            }
        }
        // Whole values: the first few short enough for one cookie.
        out.must_try.extend(
            pairs
                .iter()
                .filter(|(n, v)| *n == NAME && v.len() <= config.single_max())
                .take(MAX_CANDIDATES_PER_NAME)
                .map(|(_, v)| (*v).to_owned()),
        );
        if !config.chunking() {
            return out;
        }
        // Chunk sets: for each index below the cap, the first few values
        // short enough for that chunk.
        let lists: Vec<Vec<&str>> = (0..config.max_chunks)
            .map(|k| {
                pairs
                    .iter()
                    .filter(|(n, v)| *n == chunk_names[k] && v.len() <= config.chunk_max(k))
                    .take(MAX_CANDIDATES_PER_NAME)
                    .map(|(_, v)| *v)
                    .collect()
            })
            .collect();
        let present = lists.iter().take_while(|l| !l.is_empty()).count();
        let mut tried = 0usize;
        for n in (2..=present).rev() {
            let combinations = lists[..n]
                .iter()
                .map(Vec::len)
                .fold(1usize, usize::saturating_mul);
            tried = tried.saturating_add(combinations);
            if tried > MAX_CANDIDATES_PER_NAME {
                break;
            }
            let mut choice = vec![0usize; n];
            loop {
                let joined: String = lists[..n].iter().zip(&choice).map(|(l, &i)| l[i]).collect();
                if joined.len() <= config.max_value_len() {
                    out.must_try.push(joined);
                }
                // Next combination.
                let mut k = n;
                loop {
                    if k == 0 {
                        break;
                    }
                    k -= 1;
                    choice[k] += 1;
                    if choice[k] < lists[k].len() {
                        break;
                    }
                    choice[k] = 0;
                }
                if choice.iter().all(|&i| i == 0) {
                    break;
                }
            }
        }
        out
    }
}

/// How the target saw an input: `ok` for a session, the refusal's
/// `ErrorKind::as_str()`, or `none` (no cookie of ours). Seed names start
/// with it.
pub fn outcome(input: &[u8]) -> String {
    let (policy, headers) = decode(input);
    let read = FIXTURE.cookies[policy].open_raw(headers.iter().map(String::as_str));
    match (read.session, read.refusal) {
        (Some(_), _) => "ok".to_owned(),
        (None, Some(kind)) => kind.as_str().to_owned(),
        (None, None) => "none".to_owned(),
    }
}

/// Runs the property on raw fuzzer bytes.
///
/// # Panics
/// When the property is violated.
pub fn check(input: &[u8]) {
    let (policy, headers) = decode(input);
    check_headers(policy, &headers);
}

/// Runs the property on header values under policy number `policy`.
///
/// # Panics
/// When the property is violated.
#[allow(clippy::too_many_lines, reason = "one property, read top to bottom")]
pub fn check_headers(policy: usize, headers: &[String]) {
    let fixture = &*FIXTURE;
    let cookies = &fixture.cookies[policy];
    let config = &fixture.configs[policy];
    let want = Expected::read(headers, config, &fixture.chunk_names);
    let read = cookies.open_raw(headers.iter().map(String::as_str));

    // carried: exactly the names of ours that were sent.
    assert_eq!(read.carried.single(), want.single, "carried NAME");
    let carried: BTreeSet<usize> = read.carried.chunks().collect();
    assert_eq!(carried, want.chunks, "carried chunks");
    assert_eq!(
        read.carried.is_empty(),
        !want.single && want.chunks.is_empty()
    );

    // The genuine values `open` must try, and whether the idle-expired
    // one is among them.
    let genuine = |text: &str| {
        fixture
            .sealed
            .iter()
            .find(|s| s.refusal.is_none() && s.value == text)
    };
    let newest_required = want
        .must_try
        .iter()
        .filter_map(|t| genuine(t))
        .map(|s| (s.claims.sealed, s.claims.generation))
        .max();
    let expired_required = want.must_try.iter().any(|t| *t == fixture.sealed[E].value);

    match &read.session {
        Some(opened) => {
            let meta = &opened.meta;
            let source = fixture
                .sealed
                .iter()
                .find(|s| {
                    s.refusal.is_none()
                        && s.data == opened.data
                        && meta.id().as_bytes() == &s.claims.sid
                })
                .unwrap_or_else(|| panic!("a session that was never sealed: {meta:?}"));
            let sealed_at = u64::try_from(meta.sealed().unix_timestamp()).unwrap_or(0);
            assert_eq!(sealed_at, source.claims.sealed);
            assert_eq!(meta.generation(), source.claims.generation);
            assert_eq!(meta.key_id().0, source.key_id);
            assert_eq!(meta.subject(), source.claims.subject.as_deref());
            if let Some(newest) = newest_required {
                assert!(
                    (source.claims.sealed, source.claims.generation) >= newest,
                    "an older session won over a newer one that must be tried"
                );
            }
            assert_eq!(read.refusal, None, "a refusal beside a session");
            assert_eq!(read.refused_key_id(), None);
            let stale = read.stale();
            assert!(stale.single() <= read.carried.single());
            assert!(stale.chunks().all(|k| read.carried.chunk(k)));
            assert_ne!(stale, read.carried, "the session came from no name");
        }
        None => {
            assert_eq!(
                newest_required, None,
                "no session, though a genuine value was a candidate"
            );
            assert_eq!(read.refusal.is_some(), !read.carried.is_empty());
            assert!(read.stale().is_empty());
            match read.refusal {
                None => assert_eq!(read.refused_key_id(), None),
                Some(kind) => {
                    assert!(
                        matches!(
                            kind,
                            ErrorKind::Malformed
                                | ErrorKind::Unauthenticated
                                | ErrorKind::InvalidClaims
                                | ErrorKind::IdleExpired
                        ),
                        "refused as {kind:?}"
                    );
                    if expired_required {
                        assert_eq!(kind, ErrorKind::IdleExpired, "the furthest check wins");
                    }
                    if kind != ErrorKind::Malformed {
                        assert!(read.refused_key_id().is_some(), "{kind:?} names no key");
                    }
                }
            }
        }
    }

    // remove: one removal per carried name, in order, nothing else.
    let removals = cookies.remove(&read.carried);
    let mut names: Vec<&str> = Vec::new();
    if want.single {
        names.push(NAME);
    }
    names.extend(want.chunks.iter().map(|&k| fixture.chunk_names[k].as_str()));
    let got: Vec<&str> = removals.iter().map(|r| r.name()).collect();
    assert_eq!(got, names, "removals");
    for r in &removals {
        assert!(r.is_removal());
        policy::check_header(r, cookies);
    }

    // Nothing of the input in Debug output.
    let mut shown = vec![
        format!("{:?}", read.refusal),
        format!("{:?}", read.carried),
        format!("{:?}", read.refused_key_id()),
        format!("{:?}", read.stale()),
    ];
    shown.extend(removals.iter().map(|r| format!("{r:?}")));
    if let Some(opened) = &read.session {
        shown.push(format!("{:?}", opened.meta));
        shown.push(format!("{:?}", opened.reseal_due()));
    }
    check_no_echo(&shown, headers, fixture);
}

/// `s` with every run of ASCII digits written as `0`.
fn without_numbers(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut digits = false;
    for c in s.chars() {
        if c.is_ascii_digit() {
            if !digits {
                out.push('0');
            }
            digits = true;
        } else {
            out.push(c);
            digits = false;
        }
    }
    out
}

/// No Debug output in `shown` contains a sealed value's text (a
/// credential), nor a name or value of the input at least [`ECHO_MIN`]
/// characters long, unless that text is fixed vocabulary: the fuzzer
/// learns strings like `CarriedCookies { single: false, chu` from the
/// comparisons made here and sends them as cookie values.
fn check_no_echo(shown: &[String], headers: &[String], fixture: &Fixture) {
    for s in shown {
        for sealed in &fixture.sealed {
            for piece in &sealed.pieces {
                let head = piece.get(..ECHO_MIN).unwrap_or(piece);
                assert!(!s.contains(head), "Debug output shows a sealed value: {s}");
            }
        }
    }
    for (name, value) in pairs(headers) {
        for text in [name, value] {
            if text.len() < ECHO_MIN || !shown.iter().any(|s| s.contains(text)) {
                continue;
            }
            assert!(
                fixture.vocabulary.contains(&without_numbers(text)),
                "Debug output echoes the input: {text:?}"
            );
        }
    }
}
