//! Writes and checks the committed seed corpora (`corpus/<target>/seed-*`).
//!
//! ```text
//! cargo run --manifest-path fuzz/Cargo.toml --example seeds -- write [TARGET...]
//! cargo run --manifest-path fuzz/Cargo.toml --example seeds -- check
//! cargo run --manifest-path fuzz/Cargo.toml --example seeds -- stats [DIR]
//! ```
//!
//! `write` replaces every `seed-*` file. `open` seeds are real values sealed
//! by the crate under the target's fixed keys and clock, one per outcome,
//! and every value of `tests/vectors/v1.json`; `open_sealed` seeds are
//! their plaintexts (the vectors' too) plus hostile claims. `cookie_header`
//! seeds are Cookie headers written with the target's placeholders
//! (genuine values, chunk sets, duplicates, odd spacing) and the vectors'
//! values under the cookie name. Each file name starts with the outcome the
//! target must see, which `check` verifies (so a change to the format or
//! the defaults that makes the seeds stale fails CI instead of silently
//! costing the fuzzer its depth). `roundtrip` and `set_cookie` seeds are
//! byte strings, found with a fixed PRNG, that decode into configurations
//! reaching each outcome (for `set_cookie`, named after it and checked).
//! `stats` counts how far the inputs of a roundtrip or set_cookie corpus
//! get.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use arbitrary::{Arbitrary, Unstructured};
use sealed_session::SessionCodec;
use sealed_session_fuzz::checks::cookie_header;
use sealed_session_fuzz::checks::open::{
    self, KEYS, NOW, OLDER, SeedData, codec_at, keyring, single_key_ring,
};
use sealed_session_fuzz::checks::reference::{self, ALPHABET, Claims, Verdict, alphabet_index};
use sealed_session_fuzz::checks::roundtrip::{self, Reached};
use sealed_session_fuzz::checks::set_cookie;
use sealed_session_fuzz::{RoundtripInput, SetCookieInput};

type Made = Result<String, sealed_session::Error>;

fn data() -> SeedData {
    SeedData {
        user: "ada".into(),
        roles: vec!["admin".into(), "ops".into()],
        visits: 7,
        theme: Some("dark".into()),
    }
}

fn at(offset: i64) -> SessionCodec {
    codec_at(keyring(), NOW.saturating_add_signed(offset))
}

fn custom(name: &str, purpose: &str) -> Made {
    SessionCodec::builder(keyring())
        .cookie_name(name)
        .purpose(purpose)
        .clock(std::sync::Arc::new(sealed_session::ManualClock::at_unix(
            i64::try_from(NOW).unwrap_or(0),
        )))
        .build()
        .unwrap_or_else(|e| panic!("fixed configuration: {e}"))
        .seal(&data())
}

/// The largest `SeedData` that still fits one cookie.
fn largest() -> Made {
    let codec = at(-10);
    let mut d = data();
    let (mut lo, mut hi) = (0usize, 5000usize);
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        d.user = "u".repeat(mid);
        if codec.seal(&d).is_ok() {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    d.user = "u".repeat(lo);
    codec.seal(&d)
}

/// One entry of `tests/vectors/v1.json`.
struct Vector {
    id: String,
    value: String,
    plaintext: Vec<u8>,
}

/// The string after `"key": "` on a line of the vectors file (values are
/// base64url, hex or plain ids: no escapes).
fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let rest = line.trim().strip_prefix(&format!("\"{key}\": \""))?;
    rest.split_once('"').map(|(v, _)| v)
}

/// The published test vectors, read line by line (the file is written one
/// field per line by `src/vectors.rs`).
fn vectors() -> Result<Vec<Vector>, Box<dyn std::error::Error>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors/v1.json");
    let text = fs::read_to_string(&path)?;
    let mut out: Vec<Vector> = Vec::new();
    for line in text.lines() {
        if let Some(id) = field(line, "id") {
            out.push(Vector {
                id: id.to_owned(),
                value: String::new(),
                plaintext: Vec::new(),
            });
        } else if let (Some(v), Some(last)) = (field(line, "value"), out.last_mut()) {
            v.clone_into(&mut last.value);
        } else if let (Some(hex), Some(last)) = (field(line, "plaintext_hex"), out.last_mut()) {
            last.plaintext = (0..hex.len() / 2)
                .filter_map(|i| u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok())
                .collect();
        }
    }
    if out.len() < 20 || out.iter().filter(|v| !v.value.is_empty()).count() < 20 {
        return Err(format!("{}: expected the v1 vectors", path.display()).into());
    }
    Ok(out)
}

/// `(file name, value)` for every `open` seed.
fn open_seeds(vectors: &[Vector]) -> Result<Vec<(String, String)>, sealed_session::Error> {
    let d = data();
    let mut seeds: Vec<(&str, Made)> = vec![
        ("ok-fresh", at(-10).seal(&d)),
        ("ok-renewal-due", at(-400).seal(&d)),
        (
            "ok-older-key",
            codec_at(single_key_ring(OLDER.0, &OLDER.1), NOW - 10).seal(&d),
        ),
        ("ok-single-use", at(-10).seal_single_use(&d)),
        ("ok-sealed-within-skew", at(30).seal(&d)),
        ("ok-largest", largest()),
        (
            "ok-empty-data",
            at(-10).seal(&SeedData {
                user: String::new(),
                roles: vec![],
                visits: 0,
                theme: None,
            }),
        ),
        ("idle_expired-old-seal", at(-31 * 60).seal(&d)),
        ("not_yet_valid-future", at(120).seal(&d)),
        ("expired-single-use", at(-11 * 60).seal_single_use(&d)),
        ("payload_mismatch-other-type", at(-10).seal(&42u64)),
        (
            "unauthenticated-other-purpose",
            custom("__Host-session", "pre-auth"),
        ),
        (
            "unauthenticated-other-name",
            custom("__Host-other", "session"),
        ),
        (
            "unauthenticated-unknown-key",
            codec_at(single_key_ring(9, &[0x99; 32]), NOW - 10).seal(&d),
        ),
        ("malformed-too-long", Ok("A".repeat(4083))),
    ];
    // Subject, generation and trailing bytes need the session metadata.
    let codec = at(-100);
    let meta = codec.new_session(Some("user-42"))?;
    seeds.push(("ok-subject", codec.seal_session(&meta, &d)));
    let later = at(-50);
    let opened = later.open::<SeedData>(&codec.seal(&d)?)?;
    seeds.push(("ok-generation-1", later.seal_session(&opened.meta, &d)));
    let mut bytes = postcard::to_allocvec(&d).unwrap_or_default();
    bytes.push(0);
    seeds.push((
        "payload_mismatch-trailing-byte",
        later.seal_session_raw(&opened.meta, &bytes),
    ));
    // Created 13 hours ago, re-sealed a minute ago: past the absolute limit.
    let created = at(-13 * 3600).new_session(None)?;
    seeds.push(("expired-absolute", at(-60).seal_session(&created, &d)));

    // Each deadline at its last accepted second and at its first refused
    // one (deadlines are exclusive, FORMAT.md §4), so the differential
    // check pins the boundaries too.
    let l = *at(0).lifetime();
    let [absolute, idle, renew, skew, window] = [
        l.absolute,
        l.idle,
        l.renew_after,
        l.skew,
        l.single_use_window,
    ]
    .map(|d| d.whole_seconds());
    let created_at = |offset: i64| -> Made {
        let meta = at(offset).new_session(None)?;
        at(-10).seal_session(&meta, &d)
    };
    seeds.extend([
        ("ok-idle-last-second", at(1 - idle).seal(&d)),
        ("idle_expired-at-deadline", at(-idle).seal(&d)),
        ("ok-renewal-not-yet-due", at(1 - renew).seal(&d)),
        ("ok-renewal-due-now", at(-renew).seal(&d)),
        ("ok-skew-at-limit", at(skew).seal(&d)),
        ("not_yet_valid-skew-plus-one", at(skew + 1).seal(&d)),
        ("ok-absolute-last-second", created_at(1 - absolute)),
        ("expired-absolute-at-deadline", created_at(-absolute)),
        (
            "ok-single-use-last-second",
            at(1 - window).seal_single_use(&d),
        ),
        (
            "expired-single-use-at-deadline",
            at(-window).seal_single_use(&d),
        ),
    ]);

    // Malformed variants of a real value.
    let fresh = at(-10).seal(&d)?;
    let mut variants = vec![
        ("malformed-version-2", format!("B{}", &fresh[1..])),
        ("malformed-padding", format!("{fresh}=")),
        (
            "malformed-standard-alphabet",
            format!("{}+{}", &fresh[..10], &fresh[11..]),
        ),
        ("malformed-too-short", fresh[..59].to_owned()),
        ("malformed-one-char-over", format!("{}A", &fresh[..60])),
    ];
    if fresh.len() % 4 != 0 {
        let last = fresh.as_bytes()[fresh.len() - 1];
        let index = usize::from(alphabet_index(last).unwrap_or(0)) | 1;
        let noncanonical = format!(
            "{}{}",
            &fresh[..fresh.len() - 1],
            char::from(ALPHABET[index])
        );
        variants.push(("malformed-noncanonical-tail", noncanonical));
    }
    seeds.extend(variants.into_iter().map(|(n, v)| (n, Ok(v))));

    let mut named: Vec<(String, String)> = seeds
        .into_iter()
        .map(|(name, value)| Ok((format!("seed-{name}"), value?)))
        .collect::<Result<_, sealed_session::Error>>()?;
    // The vectors, under the target's own keys: refused, at the step their
    // shape reaches.
    for v in vectors
        .iter()
        .filter(|v| !v.value.is_empty() && v.value.len() <= 4096)
    {
        named.push((
            format!("seed-{}-vector-{}", outcome(&v.value), v.id),
            v.value.clone(),
        ));
    }
    Ok(named)
}

/// `open_sealed` seeds: the plaintext of every `open` seed that
/// authenticates, behind the byte that picks its key, and hostile claims
/// that no crate seal carries.
fn sealed_seeds(open: &[(String, String)], vectors: &[Vector]) -> Vec<(String, Vec<u8>)> {
    let mut seeds = Vec::new();
    // The vectors' plaintexts, sealed under the primary key.
    for v in vectors.iter().filter(|v| !v.plaintext.is_empty()) {
        let bytes = [vec![0], v.plaintext.clone()].concat();
        let got = open::sealed_value(&bytes).map_or_else(|| "empty".to_owned(), |x| outcome(&x));
        seeds.push((format!("seed-{got}-vector-{}", v.id), bytes));
    }
    for (name, value) in open {
        let verdict = reference::open(
            value,
            &KEYS,
            sealed_session::DEFAULT_COOKIE_NAME,
            sealed_session::DEFAULT_PURPOSE,
            usize::MAX,
        );
        if name.contains("-vector-") {
            continue;
        }
        if let Verdict::Authentic(a) = verdict {
            let choice = u8::from(a.key_id != KEYS[0].0);
            let mut bytes = vec![choice];
            bytes.extend(reference::encode_claims(&a.claims));
            bytes.extend(&a.data);
            seeds.push((name.clone(), bytes));
        }
    }
    let data = postcard::to_allocvec(&data()).unwrap_or_default();
    let claims = Claims {
        sid: [7; 16],
        created: NOW - 10,
        sealed: NOW - 10,
        expires: NOW + 3600,
        generation: 0,
        kind: 0,
        subject: None,
    };
    let hostile = |name: &str, change: &dyn Fn(&mut Claims)| {
        let mut c = claims.clone();
        change(&mut c);
        let mut bytes = vec![0];
        bytes.extend(reference::encode_claims(&c));
        bytes.extend(&data);
        (format!("seed-{name}"), bytes)
    };
    seeds.extend([
        hostile("invalid_claims-kind-2", &|c| c.kind = 2),
        hostile("invalid_claims-created-after-sealed", &|c| {
            c.created = c.sealed + 1
        }),
        hostile("not_yet_valid-sealed-max", &|c| c.sealed = u64::MAX),
        hostile("ok-expires-max", &|c| c.expires = u64::MAX),
        hostile("expired-created-zero", &|c| {
            c.created = 0;
            c.expires = u64::MAX;
        }),
        hostile("ok-generation-max", &|c| c.generation = u32::MAX),
        hostile("ok-long-subject", &|c| c.subject = Some("s".repeat(300))),
    ]);
    let mut overlong = vec![0];
    overlong.extend(reference::encode_claims(&claims));
    // `generation` 0 written as two bytes: postcard (and the reference)
    // accept a varint that is not the shortest.
    let at = 16 + 3 * 5;
    overlong.splice(at + 1..at + 2, [0x80, 0x00]);
    overlong.extend(&data);
    seeds.push(("seed-ok-overlong-varint".into(), overlong));
    let mut bad_subject = vec![0];
    bad_subject.extend(&reference::encode_claims(&claims)[..16 + 3 * 5 + 2]);
    bad_subject.extend([1, 2, 0xff, 0xfe]);
    bad_subject.extend(&data);
    seeds.push(("seed-invalid_claims-subject-not-utf8".into(), bad_subject));
    seeds.push(("seed-invalid_claims-truncated-claims".into(), vec![0; 11]));
    seeds.push(("seed-payload_mismatch-no-data".into(), {
        let mut b = vec![0];
        b.extend(reference::encode_claims(&claims));
        b
    }));
    seeds
}

/// The outcome a seed's name promises: `ok` or an error kind.
fn promised(file_name: &str) -> &str {
    let rest = file_name.trim_start_matches("seed-");
    rest.split_once('-').map_or(rest, |(outcome, _)| outcome)
}

fn outcome(value: &str) -> String {
    // Each kind has its opener; a seed is named by the one for its kind.
    let codec = codec_at(keyring(), NOW);
    let opened = match codec.open::<SeedData>(value) {
        Err(e) if e.kind() == sealed_session::ErrorKind::WrongKind => {
            codec.open_single_use::<SeedData>(value).map(|_| ())
        }
        other => other.map(|_| ()),
    };
    match opened {
        Ok(()) => "ok".to_owned(),
        Err(e) => e.kind().as_str().to_owned(),
    }
}

/// A xorshift64* generator: a fixed sequence, so `write` is reproducible.
struct Prng(u64);

impl Prng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next().to_le_bytes()[0]).collect()
    }
}

fn reach(input: &[u8]) -> Option<Reached> {
    let input = RoundtripInput::arbitrary_take_rest(Unstructured::new(input)).ok()?;
    Some(roundtrip::check(&input.config, &input.payload))
}

/// Byte strings of several sizes that get through the whole round trip,
/// and one that stops at each earlier refusal.
fn roundtrip_seeds() -> Vec<(String, Vec<u8>)> {
    let mut prng = Prng(0x5eed_5eed_5eed_5eed);
    let mut seeds = Vec::new();
    let mut wanted: Vec<(Reached, usize)> = [48, 96, 160, 256, 400, 640, 1024, 2048, 4000]
        .into_iter()
        .map(|n| (Reached::RoundTrip, n))
        .collect();
    wanted.extend([
        (Reached::BuildRefused, 128),
        (Reached::TooLarge, 4000),
        (Reached::KeyringRefused, 128),
    ]);
    for (target, size) in wanted {
        for _ in 0..100_000 {
            let candidate = prng.bytes(size);
            if reach(&candidate) == Some(target) {
                let name = format!("seed-{target:?}-{size}").to_lowercase();
                seeds.push((name, candidate));
                break;
            }
        }
    }
    seeds
}

/// `cookie_header` seeds: `(description, policy, header values)` written
/// with the target's placeholders (`\u{1}` the name, `\u{2}` and `\u{3}`
/// whole values, `\u{4}`-`\u{6}` and `\u{7}`-`\u{8}` chunks, ...; see
/// `PLACEHOLDERS`), then the vectors' values under the cookie name. Each
/// file name starts with the outcome.
fn cookie_header_seeds(vectors: &[Vector]) -> Vec<(String, Vec<u8>)> {
    let junk8 = "\u{1}=junk; ".repeat(8);
    let within = format!("{}\u{1}=\u{2}", "\u{1}=junk; ".repeat(7));
    let beyond = format!("{junk8}\u{1}=\u{2}");
    let cases: Vec<(&str, u8, Vec<&str>)> = vec![
        ("whole", 0, vec!["\u{1}=\u{2}"]),
        ("whole-default-budget", 1, vec!["\u{1}=\u{2}"]),
        ("whole-unchunked", 2, vec!["\u{1}=\u{2}"]),
        ("among-others", 0, vec!["theme=dark; \u{1}=\u{2}; lang=en"]),
        ("spaces-tabs", 0, vec![" \u{1} =\t\u{3} ;;novalue; x=="]),
        ("older-key", 2, vec!["\u{1}=\u{3}"]),
        (
            "three-chunks",
            0,
            vec!["\u{1}.0=\u{4}; \u{1}.1=\u{5}; \u{1}.2=\u{6}"],
        ),
        (
            "three-chunks-out-of-order",
            0,
            vec!["\u{1}.2=\u{6}; \u{1}.0=\u{4}; \u{1}.1=\u{5}"],
        ),
        (
            "three-chunks-over-budget",
            1,
            vec!["\u{1}.0=\u{4}; \u{1}.1=\u{5}; \u{1}.2=\u{6}"],
        ),
        ("chunks-unchunked", 2, vec!["\u{1}.0=\u{7}; \u{1}.1=\u{8}"]),
        (
            "chunks-one-per-header",
            0,
            vec!["\u{1}.0=\u{4}", "\u{1}.1=\u{5}", "a=b; \u{1}.2=\u{6}"],
        ),
        ("two-chunks", 1, vec!["\u{1}.0=\u{7}; \u{1}.1=\u{8}"]),
        (
            "chunks-of-two-seals",
            0,
            vec!["\u{1}.0=\u{4}; \u{1}.1=\u{8}"],
        ),
        (
            "stale-third-chunk",
            0,
            vec!["\u{1}.0=\u{7}; \u{1}.1=\u{8}; \u{1}.2=\u{6}"],
        ),
        (
            "duplicate-chunks",
            0,
            vec!["\u{1}.0=\u{7}; \u{1}.0=\u{4}; \u{1}.1=\u{5}; \u{1}.1=\u{8}; \u{1}.2=\u{6}"],
        ),
        (
            "halves-as-chunks",
            0,
            vec!["\u{1}.0=\u{10}; \u{1}.1=\u{11}"],
        ),
        ("lone-chunk-0", 0, vec!["\u{1}.0=\u{2}"]),
        (
            "duplicates",
            0,
            vec!["\u{1}=junk; \u{1}=\u{3}; \u{1}=\u{2}; \u{1}="],
        ),
        (
            "single-and-chunks",
            0,
            vec!["\u{1}=\u{2}; \u{1}.0=\u{4}; \u{1}.1=\u{5}; \u{1}.2=\u{6}"],
        ),
        ("eighth-value", 0, vec![within.as_str()]),
        ("ninth-value", 0, vec![beyond.as_str()]),
        (
            "idle-expired",
            0,
            vec!["\u{1}=junk; \u{1}=\u{b}; \u{1}=\u{c}"],
        ),
        ("other-purpose", 0, vec!["\u{1}=\u{c}"]),
        ("unknown-key", 0, vec!["\u{1}=\u{f}"]),
        ("hostile-claims", 0, vec!["\u{1}=\u{e}"]),
        ("quoted", 0, vec!["\u{1}=\"\u{2}\""]),
        (
            "odd-chunk-names",
            0,
            vec!["\u{1}.01=\u{4}; \u{1}.64=x; \u{1}.63=y; \u{1}.1a=z"],
        ),
        (
            "case-variant-name",
            0,
            vec!["__host-session=\u{2}; \u{1}x=\u{2}"],
        ),
        ("no-cookie-of-ours", 0, vec!["a=1; b=2", ""]),
    ];
    let mut seeds: Vec<(String, Vec<u8>)> = cases
        .into_iter()
        .map(|(desc, policy, headers)| {
            let bytes = cookie_header::encode(policy, &headers);
            let got = cookie_header::outcome(&bytes);
            (format!("seed-{got}-{desc}"), bytes)
        })
        .collect();
    let mut all = Vec::new();
    for v in vectors {
        let header = format!("{}={}", cookie_header::NAME, v.value);
        all.push(header.clone());
        let bytes = cookie_header::encode(0, &[header.as_str()]);
        let got = cookie_header::outcome(&bytes);
        seeds.push((format!("seed-{got}-vector-{}", v.id), bytes));
    }
    all.push("\u{1}=\u{2}".to_owned());
    let bytes = cookie_header::encode(0, &[all.join("; ").as_str()]);
    let got = cookie_header::outcome(&bytes);
    seeds.push((format!("seed-{got}-every-vector-then-whole"), bytes));
    seeds
}

fn reach_set_cookie(input: &[u8]) -> Option<set_cookie::Reached> {
    let input = SetCookieInput::arbitrary_take_rest(Unstructured::new(input)).ok()?;
    Some(set_cookie::check(&input.0))
}

/// `set_cookie` seeds: byte strings that reach each outcome, at several
/// sizes, named after it.
fn set_cookie_seeds() -> Vec<(String, Vec<u8>)> {
    use set_cookie::Reached::*;
    let mut prng = Prng(0x5e7c_00c1_e5ee_d5ee);
    let wanted = [
        (PolicyRefused, 48),
        (PolicyRefused, 128),
        (CodecRefused, 128),
        (TooLarge, 96),
        (Single, 48),
        (Single, 96),
        (Single, 160),
        (Single, 256),
        (Chunked, 96),
        (Chunked, 160),
        (Chunked, 256),
    ];
    let mut seeds = Vec::new();
    for (target, size) in wanted {
        for _ in 0..200_000 {
            let candidate = prng.bytes(size);
            if reach_set_cookie(&candidate) == Some(target) {
                let name = format!("seed-{target:?}-{size}").to_lowercase();
                seeds.push((name, candidate));
                break;
            }
        }
    }
    seeds
}

fn corpus(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(target)
}

fn replace_seeds(target: &str, seeds: &[(String, Vec<u8>)]) -> std::io::Result<()> {
    let dir = corpus(target);
    fs::create_dir_all(&dir)?;
    for entry in fs::read_dir(&dir)? {
        let path = entry?.path();
        if path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("seed-"))
        {
            fs::remove_file(path)?;
        }
    }
    for (name, bytes) in seeds {
        fs::write(dir.join(name), bytes)?;
    }
    println!("{target}: wrote {} seeds to {}", seeds.len(), dir.display());
    Ok(())
}

fn read_seeds(target: &str) -> std::io::Result<Vec<(String, Vec<u8>)>> {
    let mut seeds = Vec::new();
    for entry in fs::read_dir(corpus(target))? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("seed-") {
            seeds.push((name, fs::read(entry.path())?));
        }
    }
    seeds.sort();
    Ok(seeds)
}

/// Writes the seeds of `targets` (every target if empty).
fn write(targets: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    let all = targets.is_empty();
    let wants = |t: &str| all || targets.iter().any(|x| x == t);
    let vectors = vectors()?;
    if wants("open") || wants("open_sealed") {
        let made = open_seeds(&vectors)?;
        replace_seeds("open_sealed", &sealed_seeds(&made, &vectors))?;
        let open: Vec<_> = made.into_iter().map(|(n, v)| (n, v.into_bytes())).collect();
        replace_seeds("open", &open)?;
    }
    if wants("roundtrip") {
        replace_seeds("roundtrip", &roundtrip_seeds())?;
    }
    if wants("cookie_header") {
        replace_seeds("cookie_header", &cookie_header_seeds(&vectors))?;
    }
    if wants("set_cookie") {
        replace_seeds("set_cookie", &set_cookie_seeds())?;
    }
    check()
}

fn check() -> Result<(), Box<dyn std::error::Error>> {
    let mut failures = Vec::new();
    let open = read_seeds("open")?;
    for (name, bytes) in &open {
        let value = String::from_utf8_lossy(bytes);
        let got = outcome(&value);
        if got != promised(name) {
            failures.push(format!("open/{name}: opens as {got}"));
        }
        open::check_value(&value);
    }
    let opened = open.iter().filter(|(n, _)| promised(n) == "ok").count();
    println!(
        "open: {} seeds, {opened} open under keys {:?} at {NOW}",
        open.len(),
        KEYS.map(|k| k.0)
    );
    let sealed = read_seeds("open_sealed")?;
    for (name, bytes) in &sealed {
        let got = open::sealed_value(bytes).map_or_else(|| "empty".to_owned(), |v| outcome(&v));
        if got != promised(name) {
            failures.push(format!("open_sealed/{name}: opens as {got}"));
        }
        open::check_plaintext(bytes);
    }
    println!("open_sealed: {} seeds", sealed.len());
    let mut reached = BTreeMap::new();
    let round = read_seeds("roundtrip")?;
    for (_, bytes) in &round {
        *reached.entry(reach(bytes)).or_insert(0) += 1;
    }
    println!("roundtrip: {} seeds, reached {reached:?}", round.len());
    let headers = read_seeds("cookie_header")?;
    for (name, bytes) in &headers {
        let got = cookie_header::outcome(bytes);
        if got != promised(name) {
            failures.push(format!("cookie_header/{name}: reads as {got}"));
        }
        cookie_header::check(bytes);
    }
    let sessions = headers.iter().filter(|(n, _)| promised(n) == "ok").count();
    println!(
        "cookie_header: {} seeds, {sessions} give a session",
        headers.len()
    );
    if sessions == 0 {
        failures.push("cookie_header: no seed gives a session".into());
    }
    let cases = read_seeds("set_cookie")?;
    let mut set_reached = BTreeMap::new();
    for (name, bytes) in &cases {
        let got = reach_set_cookie(bytes);
        let label = got.map_or_else(|| "none".to_owned(), |r| format!("{r:?}").to_lowercase());
        if label != promised(name) {
            failures.push(format!("set_cookie/{name}: reaches {label}"));
        }
        *set_reached.entry(got).or_insert(0) += 1;
    }
    println!("set_cookie: {} seeds, reached {set_reached:?}", cases.len());
    if !set_reached.contains_key(&Some(set_cookie::Reached::Chunked)) {
        failures.push("set_cookie: no seed gets to chunked cookies".into());
    }
    if opened == 0 {
        failures.push("open: no seed opens".into());
    }
    if !reached.contains_key(&Some(Reached::RoundTrip)) {
        failures.push("roundtrip: no seed gets through the round trip".into());
    }
    if failures.is_empty() {
        return Ok(());
    }
    for f in &failures {
        eprintln!("stale seed: {f}");
    }
    Err("seeds are stale; regenerate them with `seeds write`".into())
}

/// Counts how far the inputs in `dir` get: as `set_cookie` or
/// `cookie_header` inputs (by outcome) when the directory is named after
/// that target, else as `roundtrip` inputs.
fn stats(dir: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let target = dir.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let mut reached = BTreeMap::new();
    let mut total = 0;
    for entry in fs::read_dir(dir)? {
        let bytes = fs::read(entry?.path())?;
        let level = match target {
            "set_cookie" => format!("{:?}", reach_set_cookie(&bytes)),
            "cookie_header" => cookie_header::outcome(&bytes),
            _ => format!("{:?}", reach(&bytes)),
        };
        *reached.entry(level).or_insert(0usize) += 1;
        total += 1;
    }
    println!("{}: {total} inputs", dir.display());
    for (level, n) in reached {
        println!("  {level:?}: {n}");
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("write") => write(&args[1..]),
        Some("check") => check(),
        Some("stats") => stats(
            &args
                .get(1)
                .map_or_else(|| corpus("roundtrip"), PathBuf::from),
        ),
        _ => Err("usage: seeds write [TARGET...] | check | stats [DIR]".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("seeds: {e}");
            ExitCode::FAILURE
        }
    }
}
