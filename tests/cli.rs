//! The `sealed-session` binary, run as scripts run it: flags, stdout,
//! stderr and exit status are its contract (`docs/CLI.md`).
#![cfg(feature = "cli")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers outside #[test] functions: a failed unwrap is a failed test"
)]

use std::io::Write as _;
use std::process::{Command, Stdio};

use sealed_session::{Key, KeyId, Keyring, Lifetime};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_sealed-session");
/// A fixed instant for `--now`: 2023-11-14T22:13:20Z.
const T: i64 = 1_700_000_000;

struct Run {
    status: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {:?}", self.stdout))
    }

    /// Asserts that no key text appears anywhere in the output.
    fn assert_no_key(&self, keys: &[&str]) {
        for key in keys {
            assert!(!self.stdout.contains(key), "stdout shows a key");
            assert!(!self.stderr.contains(key), "stderr shows a key");
        }
    }
}

/// Runs the binary with `SESSION_KEYS` set to `keys` (or unset), `stdin`
/// on standard input (or none).
fn run(args: &[&str], keys: Option<&str>, stdin: Option<&str>) -> Run {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env_remove("SESSION_KEYS")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
    if let Some(keys) = keys {
        cmd.env("SESSION_KEYS", keys);
    }
    let mut child = cmd.spawn().expect("the binary starts");
    if let Some(text) = stdin {
        let mut pipe = child.stdin.take().expect("stdin is piped");
        pipe.write_all(text.as_bytes())
            .expect("stdin accepts input");
    }
    let out = child.wait_with_output().expect("the binary runs");
    Run {
        status: out.status.code().expect("the binary exits normally"),
        stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
    }
}

fn key_text(byte: u8) -> String {
    Key::from_bytes(&[byte; 32])
        .unwrap()
        .to_base64url()
        .to_string()
}

fn fingerprint(byte: u8) -> String {
    Key::from_bytes(&[byte; 32]).unwrap().fingerprint()
}

/// A one-key ring, `3:<key>`.
fn ring3() -> String {
    format!("3:{}", key_text(3))
}

fn now(t: i64) -> String {
    t.to_string()
}

/// Seals `payload_hex` under `keys` at `T` and returns the value.
fn seal(keys: &str, payload_hex: &str, extra: &[&str]) -> String {
    let t = now(T);
    let mut args = vec!["seal", payload_hex, "--now", t.as_str()];
    args.extend_from_slice(extra);
    let out = run(&args, Some(keys), None);
    assert_eq!(out.status, 0, "seal failed: {}", out.stderr);
    let value = out.stdout.trim().to_owned();
    assert_eq!(out.stdout, format!("{value}\n"), "one line, the value");
    value
}

fn open_at(keys: &str, value: &str, t: i64, extra: &[&str]) -> Run {
    let t = now(t);
    let mut args = vec!["open", value, "--now", t.as_str()];
    args.extend_from_slice(extra);
    run(&args, Some(keys), None)
}

/// Asserts a refusal: the exit status, and `{"valid":false,"error":kind}`.
fn assert_refused(out: &Run, status: i32, kind: &str) {
    assert_eq!(out.status, status, "stdout {:?}", out.stdout);
    let json = out.json();
    assert_eq!(json["valid"], false);
    assert_eq!(json["error"], kind);
    assert!(json["message"].as_str().is_some_and(|m| !m.is_empty()));
    assert_eq!(json.as_object().unwrap().len(), 3, "valid, error, message");
}

#[test]
fn keygen_prints_a_keyring_the_library_parses() {
    let out = run(&["keygen"], None, None);
    assert_eq!(out.status, 0);
    assert!(out.stderr.is_empty());
    let text = out.stdout.strip_suffix('\n').unwrap();
    let ring: Keyring = text.parse().unwrap();
    assert_eq!(ring.ids().collect::<Vec<_>>(), [KeyId(1)]);
    assert!(text.starts_with("1:") && text.len() == 2 + 43, "{text}");

    let out = run(&["keygen", "--id", "42"], None, None);
    assert_eq!(out.status, 0);
    let other: Keyring = out.stdout.trim().parse().unwrap();
    assert_eq!(other.primary_id(), KeyId(42));
    assert_ne!(other.get(KeyId(42)), ring.get(KeyId(1)), "fresh keys");
}

#[test]
fn keyring_check_shows_ids_roles_fingerprints_and_never_keys() {
    let (k3, k2) = (key_text(3), key_text(2));
    let hex2 = "02".repeat(32);
    let keys = format!("3:{k3},2:{hex2}");
    let expected = format!(
        "3 primary {}\n2 open-only {}\n",
        fingerprint(3),
        fingerprint(2)
    );

    let out = run(&["keyring", "check"], Some(&keys), None);
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert_eq!(out.stdout, expected);
    out.assert_no_key(&[&k3, &k2, &hex2]);

    let out = run(
        &["keyring", "check", "--stdin"],
        None,
        Some(&format!("{keys}\n")),
    );
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert_eq!(out.stdout, expected);

    let mut cmd = Command::new(BIN);
    let other = cmd
        .args(["keyring", "check", "--env", "OTHER_KEYS", "--json"])
        .env_remove("SESSION_KEYS")
        .env("OTHER_KEYS", &keys)
        .output()
        .unwrap();
    assert_eq!(other.status.code(), Some(0));
    let json: Value = serde_json::from_slice(&other.stdout).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "primary": 3,
            "keys": [
                {"id": 3, "primary": true, "fingerprint": fingerprint(3)},
                {"id": 2, "primary": false, "fingerprint": fingerprint(2)},
            ]
        })
    );
    let text = String::from_utf8(other.stdout).unwrap();
    assert!(!text.contains(&k3) && !text.contains(&k2) && !text.contains(&hex2));
}

#[test]
fn rotate_adds_then_promotes_then_retires() {
    let start = format!("1:{}", key_text(1));
    let t = T.to_string();
    let step = |keys: &str| {
        let out = run(&["keyring", "rotate", "--now", &t], Some(keys), None);
        assert_eq!(out.status, 0, "{}", out.stderr);
        assert_eq!(out.stderr.lines().count(), 1, "one line: {:?}", out.stderr);
        let ring: Keyring = out.stdout.trim().parse().unwrap();
        (out.stdout.trim().to_owned(), ring, out.stderr)
    };

    let (added, ring, note) = step(&start);
    assert!(note.starts_with("added key 2 as open-only"), "{note}");
    assert_eq!(ring.ids().collect::<Vec<_>>(), [KeyId(1), KeyId(2)]);
    assert_eq!(ring.primary_id(), KeyId(1));
    assert_eq!(
        ring.get(KeyId(1)),
        Some(&Key::from_bytes(&[1; 32]).unwrap())
    );
    let new_key = ring.get(KeyId(2)).unwrap().clone();

    let (promoted, ring, note) = step(&added);
    assert!(note.starts_with("promoted key 2 to primary"), "{note}");
    assert_eq!(ring.ids().collect::<Vec<_>>(), [KeyId(2), KeyId(1)]);
    assert_eq!(ring.get(KeyId(2)), Some(&new_key));

    assert!(
        promoted.ends_with(&format!("@{T}")),
        "the old key is stamped"
    );
    // Right after the promotion, retiring would sign out idle users.
    let early = run(&["keyring", "rotate", "--now", &t], Some(&promoted), None);
    assert_eq!(early.status, 2, "{}", early.stderr);
    assert!(
        early.stderr.contains("stopped sealing at"),
        "{}",
        early.stderr
    );
    assert!(early.stdout.is_empty());
    let forced = run(
        &["keyring", "rotate", "--now", &t, "--force"],
        Some(&promoted),
        None,
    );
    assert_eq!(forced.status, 0, "{}", forced.stderr);
    assert!(forced.stderr.starts_with("retired key 1"));
    // After the idle timeout and skew (30 min + 60 s by default; the
    // servers' values can be passed with --idle and --skew) it is due.
    let due = (T + 1800 + 60).to_string();
    let out = run(&["keyring", "rotate", "--now", &due], Some(&promoted), None);
    assert_eq!(out.status, 0, "{}", out.stderr);
    let (retired, ring, note) = (
        out.stdout.trim().to_owned(),
        out.stdout.trim().parse::<Keyring>().unwrap(),
        out.stderr,
    );
    assert!(note.starts_with("retired key 1"), "{note}");
    let short = run(
        &[
            "keyring", "rotate", "--now", &t, "--idle", "0", "--skew", "0",
        ],
        Some(&promoted),
        None,
    );
    assert_eq!(short.status, 0, "{}", short.stderr);
    assert_eq!(ring.ids().collect::<Vec<_>>(), [KeyId(2)]);
    assert_eq!(ring.get(KeyId(2)), Some(&new_key));

    // The same ring from stdin gives the same kind of step.
    let out = run(&["keyring", "rotate", "--stdin"], None, Some(&retired));
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert!(out.stderr.starts_with("added key 3 as open-only"));
}

#[test]
fn seal_then_open_round_trips_the_payload_at_a_fixed_time() {
    let keys = ring3();
    let value = seal(&keys, "0548656C6C6F", &["--subject", "ada"]);
    let out = open_at(&keys, &value, T + 10, &[]);
    assert_eq!(out.status, 0, "{}", out.stdout);
    assert!(out.stderr.is_empty());
    out.assert_no_key(&[&key_text(3)]);
    let json = out.json();
    let session_id = json["session_id"].as_str().unwrap().to_owned();
    assert_eq!(session_id.len(), 32);
    assert!(session_id.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(
        json,
        serde_json::json!({
            "valid": true,
            "version": 1,
            "key_id": 3,
            "session_id": session_id,
            "created": T,
            "sealed": T,
            "expires": T + 12 * 3600,
            "idle_deadline": T + 30 * 60,
            "generation": 0,
            "kind": "session",
            "subject": "ada",
            "reseal_due": false,
            "reseal_reason": null,
            "payload_hex": "0548656c6c6f",
        })
    );

    // An empty payload, no subject, and the value on standard input.
    let value = seal(&keys, "", &[]);
    let t = now(T);
    let out = run(
        &["open", "-", "--now", &t],
        Some(&keys),
        Some(&format!("{value}\n")),
    );
    assert_eq!(out.status, 0, "{}", out.stdout);
    let json = out.json();
    assert_eq!(json["payload_hex"], "");
    assert_eq!(json["subject"], Value::Null);
    assert_ne!(json["session_id"], session_id, "a fresh id per seal");

    // Name, purpose and lifetime flags apply to both sides.
    let flags = [
        "--name",
        "sid",
        "--purpose",
        "admin",
        "--absolute",
        "7200",
        "--idle",
        "600",
        "--renew-after",
        "60",
        "--skew",
        "5",
    ];
    let value = seal(&keys, "07", &flags);
    let out = open_at(&keys, &value, T + 1, &flags);
    assert_eq!(out.status, 0, "{}", out.stdout);
    let json = out.json();
    assert_eq!(json["expires"], T + 7200);
    assert_eq!(json["idle_deadline"], T + 600);
    assert_eq!(json["payload_hex"], "07");
}

#[test]
fn open_reports_why_a_reseal_is_due() {
    let keys = ring3();
    let value = seal(&keys, "01", &[]);
    let renew = secs(Lifetime::default().renew_after);
    let json = open_at(&keys, &value, T + renew - 1, &[]).json();
    assert_eq!(json["reseal_due"], false);
    let out = open_at(&keys, &value, T + renew, &[]);
    assert_eq!(out.status, 0);
    assert_eq!(out.json()["reseal_due"], true);
    assert_eq!(out.json()["reseal_reason"], "renewal");

    // After a promotion, values under the old key still open but are due.
    let promoted = format!("4:{},3:{}", key_text(4), key_text(3));
    let out = open_at(&promoted, &value, T + 1, &[]);
    assert_eq!(out.status, 0, "{}", out.stdout);
    assert_eq!(out.json()["key_id"], 3);
    assert_eq!(out.json()["reseal_reason"], "non_primary_key");
}

#[test]
fn a_bad_keyring_exits_2_without_echoing_key_text() {
    let good = key_text(1);
    let secretish = "SECRETSECRETSECRETSECRETSECRETSECRETSECRE"; // 41 characters
    let bad_char = format!("{}!", &good[..42]); // 43 characters, not base64url
    let hex_bad = format!("zz{}", "ab".repeat(31)); // 64 characters, not hex
    let cases = [
        format!("1:{secretish}"),
        format!("1:{bad_char}"),
        format!("1:{hex_bad}"),
        format!("1:{good},2:{secretish}"),
        format!("x:{good}"),
        format!("1:{good},1:{good}"),
        String::new(),
    ];
    let value = seal(&ring3(), "01", &[]);
    for keys in &cases {
        for args in [
            &["keyring", "check"][..],
            &["keyring", "rotate"],
            &["open", &value],
            &["seal", "01"],
        ] {
            let out = run(args, Some(keys), None);
            assert_eq!(out.status, 2, "{args:?} with {keys:?}: {}", out.stderr);
            assert!(out.stdout.is_empty(), "{args:?}: {:?}", out.stdout);
            assert!(
                out.stderr
                    .starts_with("sealed-session: invalid configuration")
            );
            out.assert_no_key(&[secretish, &bad_char, &hex_bad, &good]);
        }
    }

    // The same through standard input.
    let out = run(
        &["keyring", "check", "--stdin"],
        None,
        Some(&format!("1:{secretish}")),
    );
    assert_eq!(out.status, 2);
    out.assert_no_key(&[secretish]);

    // No keyring at all.
    let out = run(&["keyring", "check"], None, None);
    assert_eq!(out.status, 2);
    assert!(
        out.stderr.contains("SESSION_KEYS is not set"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_truncated_value_is_malformed_and_exits_2() {
    let keys = ring3();
    let value = seal(&keys, "0548656c6c6f", &[]);
    let out = open_at(&keys, &value[..20], T, &[]);
    assert_refused(&out, 2, "malformed");
    let out = open_at(&keys, "", T, &[]);
    assert_refused(&out, 2, "malformed");
    let out = open_at(&keys, "not a sealed value at all, with spaces!", T, &[]);
    assert_refused(&out, 2, "malformed");

    // One character short: malformed base64url or a failed tag, never valid.
    let out = open_at(&keys, &value[..value.len() - 1], T, &[]);
    assert!(out.status == 1 || out.status == 2, "{}", out.stdout);
    assert_eq!(out.json()["valid"], false);
}

#[test]
fn a_flipped_byte_is_unauthenticated_and_exits_1() {
    let keys = ring3();
    let value = seal(&keys, "0548656c6c6f", &[]);
    let flip = |i: usize| {
        let mut bytes = value.clone().into_bytes();
        bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
        String::from_utf8(bytes).unwrap()
    };
    // The key id, the nonce, the ciphertext, the tag. Not the last
    // character, whose spare bits could make the text non-canonical
    // (malformed) instead.
    for i in [2, 6, 7, 10, 30, 40, value.len() - 2] {
        assert_refused(&open_at(&keys, &flip(i), T, &[]), 1, "unauthenticated");
    }
    // The version byte: refused as malformed before any AEAD call.
    assert_refused(&open_at(&keys, &flip(0), T, &[]), 2, "malformed");
}

#[test]
fn a_value_for_another_cookie_purpose_or_keyring_exits_1() {
    let keys = ring3();
    let value = seal(&keys, "01", &[]);
    for extra in [&["--name", "__Host-other"][..], &["--purpose", "pre-auth"]] {
        assert_refused(&open_at(&keys, &value, T, extra), 1, "unauthenticated");
    }
    let other_key = format!("3:{}", key_text(9));
    assert_refused(&open_at(&other_key, &value, T, &[]), 1, "unauthenticated");
    let other_id = format!("5:{}", key_text(3));
    assert_refused(&open_at(&other_id, &value, T, &[]), 1, "unauthenticated");
}

#[test]
fn time_limits_are_enforced_at_now() {
    let keys = ring3();
    let value = seal(&keys, "01", &[]);
    let idle = secs(Lifetime::default().idle);
    let skew = secs(Lifetime::default().skew);
    assert_eq!(open_at(&keys, &value, T + idle - 1, &[]).status, 0);
    assert_refused(&open_at(&keys, &value, T + idle, &[]), 1, "idle_expired");
    let longer = ["--idle", "7200"];
    assert_eq!(open_at(&keys, &value, T + idle, &longer).status, 0);
    assert_refused(
        &open_at(&keys, &value, T - skew - 1, &[]),
        1,
        "not_yet_valid",
    );
    assert_eq!(open_at(&keys, &value, T - skew, &[]).status, 0);

    // A shorter --absolute applies to values sealed with a longer one.
    let short = ["--absolute", "3600", "--idle", "3600"];
    assert_refused(&open_at(&keys, &value, T + 3600, &short), 1, "expired");
}

#[test]
fn usage_errors_exit_2_and_print_nothing_on_stdout() {
    let keys = ring3();
    let value = seal(&keys, "01", &[]);
    let cases: &[&[&str]] = &[
        &[],
        &["frobnicate"],
        &["open"],
        &["seal"],
        &["keyring"],
        &["keygen", "--id", "-1"],
        &["keygen", "--id", "4294967296"],
        &["open", &value, "--now", "yesterday"],
        &["open", &value, "--now", "-5"],
        &["open", &value, "--now", "253402300800"],
        &["open", &value, "--idle", "-1"],
        &["open", &value, "--idle", "0"],
        &["open", &value, "--idle", "300"],
        &["open", &value, "--name", "bad name"],
        &["open", &value, "--purpose", ""],
        &["keyring", "check", "--env", "X", "--stdin"],
        &["open", "-", "--stdin"],
        &["seal", "abc"],
        &["seal", "zz"],
        &["open", &value, "--key", "1:abc"],
    ];
    for args in cases {
        let out = run(args, Some(&keys), None);
        assert_eq!(out.status, 2, "{args:?}: {}", out.stderr);
        assert!(out.stdout.is_empty(), "{args:?}: {:?}", out.stdout);
        assert!(!out.stderr.is_empty(), "{args:?}");
    }
    // A payload too large for one cookie is bad input too.
    let big = "00".repeat(4000);
    let out = run(&["seal", &big], Some(&keys), None);
    assert_eq!(out.status, 2);
    assert!(out.stderr.contains("too large"), "{}", out.stderr);
}

#[test]
fn help_documents_exit_statuses_and_the_library_defaults() {
    let out = run(&["--help"], None, None);
    assert_eq!(out.status, 0);
    assert!(out.stdout.contains("Exit status:"));
    let out = run(&["open", "--help"], None, None);
    assert_eq!(out.status, 0);
    let l = Lifetime::default();
    for (flag, d) in [
        ("--absolute", l.absolute),
        ("--idle", l.idle),
        ("--renew-after", l.renew_after),
        ("--skew", l.skew),
    ] {
        let at = out.stdout.find(&format!("{flag} <SECONDS>")).unwrap();
        let default = format!("[default: {}]", d.whole_seconds());
        assert!(out.stdout[at..].contains(&default), "{flag} {default}");
    }
    assert!(out.stdout.contains("[default: __Host-session]"));
    assert!(out.stdout.contains("[default: session]"));
    assert!(out.stdout.contains("[default: SESSION_KEYS]"));
    let out = run(&["--version"], None, None);
    assert_eq!(out.status, 0);
    assert!(out.stdout.starts_with("sealed-session "));
}

fn secs(d: time::Duration) -> i64 {
    d.whole_seconds()
}

#[test]
fn a_single_use_value_opens_as_on_first_presentation() {
    // The CLI cannot see the servers' replay store (docs/CLI.md).
    let keys = ring3();
    let codec = sealed_session::SessionCodec::builder(keys.parse().unwrap())
        .replay_guard(std::sync::Arc::new(sealed_session::MemoryReplayGuard::new(
            8,
        )))
        .build()
        .unwrap();
    let value = codec.seal_single_use(&7u8).unwrap();
    // No --now: the system clock, as the library sealed it.
    let out = run(&["open", &value], Some(&keys), None);
    assert_eq!(out.status, 0, "{}", out.stdout);
    let json = out.json();
    assert_eq!(json["kind"], "single_use");
    assert_eq!(json["payload_hex"], "07");
    assert_eq!(json["reseal_due"], false);
}

#[test]
fn open_header_reads_a_whole_cookie_header_with_duplicates_and_chunks() {
    let keys = ring3();
    let value = seal(&keys, "0548656C6C6F", &[]);
    // Garbage before and after the real value, and other cookies around it.
    let header = format!(
        "theme=dark; __Host-session=AAAA; __Host-session={value}; __Host-session=garbage; b=2"
    );
    let out = open_at(&keys, &header, T + 10, &["--header"]);
    assert_eq!(out.status, 0, "{} {}", out.stdout, out.stderr);
    assert_eq!(out.json()["payload_hex"], "0548656c6c6f");
    // The same value split over two chunks, sent out of order.
    let (a, b) = value.split_at(value.len() / 2);
    let header = format!("__Host-session.1={b}; x=1; __Host-session.0={a}");
    let out = open_at(&keys, &header, T + 10, &["--header"]);
    assert_eq!(out.status, 0, "{} {}", out.stdout, out.stderr);
    assert_eq!(out.json()["payload_hex"], "0548656c6c6f");
    // Only refused candidates: the furthest check's kind, exit 1.
    let mut flipped = value.clone().into_bytes();
    flipped[70] = if flipped[70] == b'A' { b'B' } else { b'A' };
    let header = format!("__Host-session={}", String::from_utf8(flipped).unwrap());
    assert_refused(
        &open_at(&keys, &header, T + 10, &["--header"]),
        1,
        "unauthenticated",
    );
    // No cookie of ours at all: bad input, exit 2, nothing on stdout.
    let out = open_at(&keys, "theme=dark; b=2", T + 10, &["--header"]);
    assert_eq!(out.status, 2);
    assert!(out.stdout.is_empty());
    assert!(
        out.stderr.contains("no cookie named __Host-session"),
        "{}",
        out.stderr
    );
}
