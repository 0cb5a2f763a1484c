//! `sealed-session`: the operator's command line. Its flags, output and exit
//! statuses are a contract that scripts rely on; `docs/CLI.md` states it.
//!
//! Thin by design: parse flags, call the library, print. Keys are read from
//! an environment variable or standard input, never from arguments (process
//! listings show arguments), and are printed only by `keygen` and
//! `keyring rotate`, whose job that is.

#![forbid(unsafe_code)]

use std::io::{self, Read as _, Write as _};
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};
use sealed_session::{
    CookiePolicy, DEFAULT_COOKIE_NAME, DEFAULT_PURPOSE, ErrorKind, FORMAT_VERSION, KeyId, Keyring,
    Lifetime, MAX_CHUNKS, MAX_NAME_VALUE_LEN, ManualClock, MemoryReplayGuard, ResealReason,
    RotationStep, SealKind, SessionCodec, SessionCodecBuilder, Sessions,
};
use serde::Serialize;
use time::Duration;
use zeroize::Zeroizing;

/// Exit status: success; for `open`, the value is valid.
const EXIT_OK: u8 = 0;
/// Exit status: `open` refused the value (see `ErrorKind::is_refusal`).
const EXIT_REFUSED: u8 = 1;
/// Exit status: usage error or malformed input. clap exits with 2 on usage
/// errors, so every input problem shares it.
const EXIT_INPUT: u8 = 2;
/// Exit status: the system failed (random number generator, output).
const EXIT_FAILURE: u8 = 3;

/// The latest instant `--now` accepts, 9999-12-31T23:59:59Z: the `time`
/// crate (without `large-dates`) represents nothing later, and a clock that
/// cannot represent `--now` would silently read as 1970.
const MAX_UNIX: i64 = 253_402_300_799;

/// Longest keyring read from standard input. A keyring entry is at most 75
/// characters (`4294967295:` and a 64-digit hex key), so this holds
/// hundreds; the bound lets the buffer be allocated once and zeroized.
const MAX_KEYRING_LEN: usize = 64 * 1024;

const EXIT_STATUS_HELP: &str = "\
Exit status:
  0  success; for `open`, the value is valid
  1  `open` refused the value: unauthenticated, expired, idle_expired,
     not_yet_valid, revoked, replayed
  2  usage error or malformed input: bad flags, a missing or bad keyring,
     a value that is not a sealed value at all (error `malformed`),
     a payload that is not hex or too large to seal
  3  the system failed: random number generator, writing the output";

const ABOUT_CLI: &str = r#"Operate sealed-session cookies: generate and rotate keys, open and seal
values.

Keyrings are read from an environment variable (--env, default
SESSION_KEYS) or from standard input (--stdin), never from arguments, and
are printed only by `keygen` and `keyring rotate`. The keyring string is
`id:key,id:key,...`, primary first, each key in base64url (43 characters)
or hex (64 characters)."#;

const ABOUT_OPEN: &str = r#"Open a cookie value and print what it holds, as JSON on stdout.

A valid value prints {"valid":true,...} and exits 0. A refused or malformed
one prints {"valid":false,"error":"<kind>","message":"<text>"} and exits 1
(refused) or 2 (error "malformed": not a sealed value at all).

The CLI has no access to your servers' replay store or revocation hook: a
single-use value opens if it is authentic and within its window, and no
value is reported revoked."#;

const ABOUT_SEAL: &str = r#"Seal payload bytes into a new session's cookie value and print it.

PAYLOAD_HEX is the postcard encoding of the app's session data, in hex, as
`open` prints it under "payload_hex"; it is sealed verbatim. The session
gets a fresh random id and generation 0, and is created and sealed at
--now."#;

const ABOUT_CHECK: &str = r#"Print one line per key, primary first: `<id> <role> <fingerprint>`, where
role is `primary` or `open-only` and the fingerprint is 16 hex digits that
tell keys apart without revealing them. Never prints a key."#;

const ABOUT_ROTATE: &str = r#"Print the keyring after the next step of a staged rotation on stdout, and
a one-line description of the step on stderr. Run it once per deploy:

1. add: a new key (highest id + 1) joins as open-only;
2. promote: the newest key becomes the primary, the old one stays open-only;
3. retire: once the longest session lifetime has passed, the oldest
   open-only key is removed, and values sealed under it stop opening."#;

#[derive(Debug, Parser)]
#[command(
    name = "sealed-session",
    version,
    about = "Operate sealed-session cookies: generate and rotate keys, open and seal values",
    long_about = ABOUT_CLI,
    after_help = EXIT_STATUS_HELP,
    disable_help_subcommand = true
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print a new keyring with one fresh key: `N:<base64url key>`
    #[command(after_help = EXIT_STATUS_HELP)]
    Keygen {
        /// The new key's id
        #[arg(long, value_name = "N", default_value_t = 1)]
        id: u32,
    },
    /// Check a keyring or compute the next step of a key rotation
    #[command(subcommand)]
    Keyring(KeyringCommand),
    /// Open a cookie value and print what it holds, as JSON
    #[command(
        long_about = ABOUT_OPEN,
        after_help = EXIT_STATUS_HELP
    )]
    Open(OpenArgs),
    /// Seal payload bytes (hex, as `open` prints them) into a cookie value
    #[command(
        long_about = ABOUT_SEAL,
        after_help = EXIT_STATUS_HELP
    )]
    Seal(SealArgs),
}

#[derive(Debug, Subcommand)]
enum KeyringCommand {
    /// Print each key's id, role and fingerprint; never the keys
    #[command(
        long_about = ABOUT_CHECK,
        after_help = EXIT_STATUS_HELP
    )]
    Check {
        #[command(flatten)]
        keys: KeySource,
        /// Print JSON instead: {"primary":ID,"keys":[{"id":ID,"primary":BOOL,"fingerprint":HEX}]}
        #[arg(long)]
        json: bool,
    },
    /// Print the keyring after the next step of a staged rotation
    #[command(
        long_about = ABOUT_ROTATE,
        after_help = EXIT_STATUS_HELP
    )]
    Rotate {
        #[command(flatten)]
        keys: KeySource,
    },
}

/// Where the keyring comes from. Never an argument: process listings show
/// arguments to every user of the machine.
#[derive(Debug, Args)]
struct KeySource {
    /// Read the keyring from this environment variable
    #[arg(
        long,
        value_name = "NAME",
        default_value = "SESSION_KEYS",
        conflicts_with = "stdin"
    )]
    env: String,
    /// Read the keyring from standard input instead
    #[arg(long)]
    stdin: bool,
}

/// What a codec needs besides the keyring: the context bound into every
/// value, the time, and the lifetime settings.
#[derive(Debug, Args)]
struct CodecArgs {
    #[command(flatten)]
    keys: KeySource,
    /// The cookie name, prefix included (bound into the value)
    #[arg(long, value_name = "NAME", default_value = DEFAULT_COOKIE_NAME)]
    name: String,
    /// The purpose label (bound into the value)
    #[arg(long, value_name = "LABEL", default_value = DEFAULT_PURPOSE)]
    purpose: String,
    /// The current time in Unix seconds [default: the system clock]
    #[arg(
        long,
        value_name = "UNIX_SECONDS",
        value_parser = clap::value_parser!(i64).range(0..=MAX_UNIX)
    )]
    now: Option<i64>,
    /// Absolute session lifetime, from creation, in seconds
    #[arg(long, value_name = "SECONDS", default_value_t = seconds(Lifetime::default().absolute))]
    absolute: u32,
    /// Idle timeout: a value not re-sealed within this is refused, in seconds
    #[arg(long, value_name = "SECONDS", default_value_t = seconds(Lifetime::default().idle))]
    idle: u32,
    /// A value older than this is due for a re-seal, in seconds (must be shorter than --idle)
    #[arg(long, value_name = "SECONDS", default_value_t = seconds(Lifetime::default().renew_after))]
    renew_after: u32,
    /// Allowed clock skew for seal and creation times in the future, in seconds
    #[arg(long, value_name = "SECONDS", default_value_t = seconds(Lifetime::default().skew))]
    skew: u32,
}

#[derive(Debug, Args)]
struct OpenArgs {
    /// The cookie value (without `name=`); `-` reads it from standard input
    #[arg(value_name = "VALUE")]
    value: String,
    /// VALUE is a whole Cookie header (`a=1; __Host-session=...`): every
    /// cookie named --name is tried, chunks NAME.0, NAME.1, ... are joined,
    /// and the newest valid seal wins, as a server would read it
    #[arg(long)]
    header: bool,
    #[command(flatten)]
    codec: CodecArgs,
}

#[derive(Debug, Args)]
struct SealArgs {
    /// The payload bytes in hex (may be empty: "")
    #[arg(value_name = "PAYLOAD_HEX")]
    payload: String,
    /// The session's subject (for example a user id)
    #[arg(long, value_name = "SUBJECT")]
    subject: Option<String>,
    #[command(flatten)]
    codec: CodecArgs,
}

/// A failure to report on stderr, with its exit status.
#[derive(Debug)]
struct Failure {
    status: u8,
    message: String,
}

impl Failure {
    fn input(message: impl Into<String>) -> Self {
        Self {
            status: EXIT_INPUT,
            message: message.into(),
        }
    }

    /// A library error. Its message never holds key material or input.
    fn library(error: &sealed_session::Error) -> Self {
        Self {
            status: status_for(error.kind()),
            message: error.to_string(),
        }
    }

    fn config(error: &sealed_session::ConfigError) -> Self {
        Self {
            status: EXIT_INPUT,
            message: error.to_string(),
        }
    }

    fn output(error: &io::Error) -> Self {
        Self {
            status: EXIT_FAILURE,
            message: format!("cannot write to standard output: {error}"),
        }
    }
}

/// The exit status for a library error kind. `Malformed` is input that is
/// not a sealed value at all, so it shares status 2 with other bad input,
/// although `ErrorKind::is_refusal` counts it as "no session".
fn status_for(kind: ErrorKind) -> u8 {
    match kind {
        ErrorKind::Malformed | ErrorKind::TooLarge => EXIT_INPUT,
        kind if kind.is_refusal() => EXIT_REFUSED,
        _ => EXIT_FAILURE,
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Keygen { id } => keygen(id),
        Command::Keyring(KeyringCommand::Check { keys, json }) => check(&keys, json),
        Command::Keyring(KeyringCommand::Rotate { keys }) => rotate(&keys),
        Command::Open(args) => open(&args),
        Command::Seal(args) => seal(&args),
    };
    match result {
        Ok(status) => ExitCode::from(status),
        Err(failure) => {
            // Nothing useful is left to do if stderr is gone too.
            let _ = writeln!(io::stderr(), "sealed-session: {}", failure.message);
            ExitCode::from(failure.status)
        }
    }
}

fn keygen(id: u32) -> Result<u8, Failure> {
    let ring = Keyring::generate(KeyId(id)).map_err(|e| Failure::library(&e))?;
    print_line(&ring.to_secret_string())?;
    Ok(EXIT_OK)
}

#[derive(Serialize)]
struct KeyringJson {
    primary: u32,
    keys: Vec<KeyJson>,
}

#[derive(Serialize)]
struct KeyJson {
    id: u32,
    primary: bool,
    fingerprint: String,
}

fn check(source: &KeySource, json: bool) -> Result<u8, Failure> {
    let ring = read_keyring(source)?;
    let primary = ring.primary_id();
    let keys: Vec<KeyJson> = ring
        .ids()
        .filter_map(|id| {
            ring.get(id).map(|key| KeyJson {
                id: id.0,
                primary: id == primary,
                fingerprint: key.fingerprint(),
            })
        })
        .collect();
    if json {
        print_json(&KeyringJson {
            primary: primary.0,
            keys,
        })?;
    } else {
        for key in keys {
            let role = if key.primary { "primary" } else { "open-only" };
            print_line(&format!("{} {role} {}", key.id, key.fingerprint))?;
        }
    }
    Ok(EXIT_OK)
}

fn rotate(source: &KeySource) -> Result<u8, Failure> {
    let ring = read_keyring(source)?;
    let (next, step) = ring
        .next_rotation_stage()
        .map_err(|e| Failure::config(&e))?;
    print_line(&next.to_secret_string())?;
    let description = match step {
        RotationStep::Added(id) => format!(
            "added key {id} as open-only: deploy this keyring everywhere, then rotate again to promote it"
        ),
        RotationStep::Promoted(id) => format!(
            "promoted key {id} to primary: deploy this keyring; once the longest session lifetime has passed, rotate again to retire the old key"
        ),
        RotationStep::Retired(id) => {
            format!("retired key {id}: values sealed under it no longer open")
        }
        other => format!("{other:?}"),
    };
    // The new keyring is already on stdout; a lost description is no
    // reason to report failure.
    let _ = writeln!(io::stderr(), "{description}");
    Ok(EXIT_OK)
}

#[derive(Serialize)]
struct OpenedJson<'a> {
    valid: bool,
    version: u8,
    key_id: u32,
    session_id: String,
    created: i64,
    sealed: i64,
    expires: i64,
    idle_deadline: i64,
    generation: u32,
    kind: &'static str,
    subject: Option<&'a str>,
    reseal_due: bool,
    reseal_reason: Option<&'static str>,
    payload_hex: String,
}

#[derive(Serialize)]
struct RefusedJson {
    valid: bool,
    error: &'static str,
    message: String,
}

fn open(args: &OpenArgs) -> Result<u8, Failure> {
    let from_stdin = args.value == "-";
    if from_stdin && args.codec.keys.stdin {
        return Err(Failure::input(
            "the keyring and the value cannot both come from standard input; pass the keyring with --env",
        ));
    }
    let ring = read_keyring(&args.codec.keys)?;
    let value = if from_stdin {
        let mut text = String::new();
        io::stdin().read_to_string(&mut text).map_err(|e| {
            Failure::input(format!("cannot read the value from standard input: {e}"))
        })?;
        text.trim().to_owned()
    } else {
        args.value.clone()
    };
    // The CLI cannot see the servers' replay store; a fresh guard lets a
    // single-use value open once, as it would on first presentation.
    let result = if args.header {
        let policy = CookiePolicy::builder()
            .name(args.codec.name.as_str())
            .chunked(MAX_CHUNKS)
            .cookie_header_budget(MAX_CHUNKS * MAX_NAME_VALUE_LEN)
            .build()
            .map_err(|e| Failure::config(&e))?;
        let sessions = sessions(&args.codec, ring, policy).map_err(|e| Failure::config(&e))?;
        let outcome = sessions.open_raw([value.as_str()]);
        match (outcome.session, outcome.refusal) {
            (Some(opened), _) => Ok(opened),
            (None, Some(kind)) => Err(sealed_session::Error::from(kind)),
            (None, None) => {
                return Err(Failure::input(format!(
                    "the header carries no cookie named {} (or {}.0, {}.1, ...)",
                    args.codec.name, args.codec.name, args.codec.name
                )));
            }
        }
    } else {
        builder(&args.codec, ring, true)
            .build()
            .map_err(|e| Failure::config(&e))?
            .open_raw(&value)
    };
    match result {
        Ok(opened) => {
            let meta = &opened.meta;
            let reason = opened.reseal_due().map(|reason| match reason {
                ResealReason::Renewal => "renewal",
                ResealReason::NonPrimaryKey => "non_primary_key",
                _ => "other",
            });
            print_json(&OpenedJson {
                valid: true,
                version: FORMAT_VERSION,
                key_id: meta.key_id().0,
                session_id: meta.id().to_hex(),
                created: meta.created().unix_timestamp(),
                sealed: meta.sealed().unix_timestamp(),
                expires: meta.expires().unix_timestamp(),
                idle_deadline: opened.idle_deadline().unix_timestamp(),
                generation: meta.generation(),
                kind: match meta.kind() {
                    SealKind::Session => "session",
                    SealKind::SingleUse => "single_use",
                    _ => "other",
                },
                subject: meta.subject(),
                reseal_due: reason.is_some(),
                reseal_reason: reason,
                payload_hex: to_hex(&opened.data),
            })?;
            Ok(EXIT_OK)
        }
        Err(error) => {
            print_json(&RefusedJson {
                valid: false,
                error: error.kind().as_str(),
                message: error.to_string(),
            })?;
            Ok(status_for(error.kind()))
        }
    }
}

fn seal(args: &SealArgs) -> Result<u8, Failure> {
    let payload = from_hex(&args.payload)?;
    let ring = read_keyring(&args.codec.keys)?;
    let codec = builder(&args.codec, ring, false)
        .build()
        .map_err(|e| Failure::config(&e))?;
    let meta = codec
        .new_session(args.subject.as_deref())
        .map_err(|e| Failure::library(&e))?;
    let value = codec
        .seal_session_raw(&meta, &payload)
        .map_err(|e| Failure::library(&e))?;
    print_line(&value)?;
    Ok(EXIT_OK)
}

fn lifetime(args: &CodecArgs) -> Lifetime {
    let mut lifetime = Lifetime::default();
    lifetime.absolute = Duration::seconds(i64::from(args.absolute));
    lifetime.idle = Duration::seconds(i64::from(args.idle));
    lifetime.renew_after = Duration::seconds(i64::from(args.renew_after));
    lifetime.skew = Duration::seconds(i64::from(args.skew));
    lifetime
}

fn builder(args: &CodecArgs, ring: Keyring, replay_guard: bool) -> SessionCodecBuilder {
    let mut builder = SessionCodec::builder(ring)
        .cookie_name(args.name.as_str())
        .purpose(args.purpose.as_str())
        .lifetime(lifetime(args));
    if let Some(now) = args.now {
        builder = builder.clock(Arc::new(ManualClock::at_unix(now)));
    }
    if replay_guard {
        builder = builder.replay_guard(Arc::new(MemoryReplayGuard::new(1)));
    }
    builder
}

/// The same settings as [`builder`], with a replay guard, reading whole
/// `Cookie` headers under `policy`.
fn sessions(
    args: &CodecArgs,
    ring: Keyring,
    policy: CookiePolicy,
) -> Result<Sessions, sealed_session::ConfigError> {
    let mut builder = Sessions::builder(ring)
        .cookie(policy)
        .purpose(args.purpose.as_str())
        .lifetime(lifetime(args))
        .replay_guard(Arc::new(MemoryReplayGuard::new(1)));
    if let Some(now) = args.now {
        builder = builder.clock(Arc::new(ManualClock::at_unix(now)));
    }
    builder.build()
}

/// Reads and parses the keyring. The text lives in buffers zeroized on
/// drop, and errors come from the library, whose messages name entries by
/// position and never echo key material.
fn read_keyring(source: &KeySource) -> Result<Keyring, Failure> {
    let text = if source.stdin {
        let mut bytes = Zeroizing::new(Vec::with_capacity(MAX_KEYRING_LEN + 1));
        io::stdin()
            .lock()
            .take(u64::try_from(MAX_KEYRING_LEN + 1).unwrap_or(u64::MAX))
            .read_to_end(&mut bytes)
            .map_err(|e| {
                Failure::input(format!("cannot read the keyring from standard input: {e}"))
            })?;
        if bytes.len() > MAX_KEYRING_LEN {
            return Err(Failure::input(format!(
                "the keyring on standard input is longer than {MAX_KEYRING_LEN} bytes"
            )));
        }
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| Failure::input("the keyring on standard input is not UTF-8"))?;
        Zeroizing::new(text.to_owned())
    } else {
        match std::env::var(&source.env) {
            Ok(text) => Zeroizing::new(text),
            Err(std::env::VarError::NotPresent) => {
                return Err(Failure::input(format!(
                    "the environment variable {} is not set; put the keyring there or pass --stdin",
                    source.env
                )));
            }
            Err(std::env::VarError::NotUnicode(_)) => {
                return Err(Failure::input(format!(
                    "the environment variable {} is not UTF-8",
                    source.env
                )));
            }
        }
    };
    text.trim()
        .parse::<Keyring>()
        .map_err(|e| Failure::config(&e))
}

fn print_line(text: &str) -> Result<(), Failure> {
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush())
        .map_err(|e| Failure::output(&e))
}

fn print_json<T: Serialize>(value: &T) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(value).map_err(|e| Failure {
        status: EXIT_FAILURE,
        message: format!("cannot render JSON: {e}"),
    })?;
    print_line(&text)
}

/// Whole seconds of a default duration, for help text and flag defaults.
fn seconds(duration: Duration) -> u32 {
    u32::try_from(duration.whole_seconds()).unwrap_or(u32::MAX)
}

fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(2 * bytes.len());
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0xf)]));
    }
    out
}

fn from_hex(text: &str) -> Result<Vec<u8>, Failure> {
    fn digit(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    }
    if !text.len().is_multiple_of(2) {
        return Err(Failure::input(
            "the payload is not hex: it has an odd number of digits",
        ));
    }
    text.as_bytes()
        .chunks_exact(2)
        .map(|pair| match (digit(pair[0]), digit(pair[1])) {
            (Some(hi), Some(lo)) => Ok((hi << 4) | lo),
            _ => Err(Failure::input(
                "the payload is not hex: expected digits 0-9, a-f",
            )),
        })
        .collect()
}
