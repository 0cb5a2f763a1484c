//! The command line's flags and help texts: the contract `docs/CLI.md`
//! states.

#[allow(clippy::wildcard_imports, reason = "the binary's shared imports")]
use super::*;

/// The latest instant `--now` accepts, 9999-12-31T23:59:59Z: the `time`
/// crate (without `large-dates`) represents nothing later, and a clock that
/// cannot represent `--now` would silently read as 1970.
pub(crate) const MAX_UNIX: i64 = 253_402_300_799;

pub(crate) const EXIT_STATUS_HELP: &str = "\
Exit status:
  0  success; for `open`, the value is valid
  1  `open` refused the value: unauthenticated, expired, idle_expired,
     not_yet_valid, revoked, replayed
  2  usage error or malformed input: bad flags, a missing or bad keyring,
     a value that is not a sealed value at all (error `malformed`),
     a payload that is not hex or too large to seal
  3  the system failed: random number generator, writing the output";

pub(crate) const ABOUT_CLI: &str = r#"Operate sealed-session cookies: generate and rotate keys, open and seal
values.

Keyrings are read from an environment variable (--env, default
SESSION_KEYS) or from standard input (--stdin), never from arguments, and
are printed only by `keygen` and `keyring rotate`. The keyring string is
`id:key,id:key,...`, primary first, each key in base64url (43 characters)
or hex (64 characters)."#;

pub(crate) const ABOUT_OPEN: &str = r#"Open a cookie value and print what it holds, as JSON on stdout.

A valid value prints {"valid":true,...} and exits 0. A refused or malformed
one prints {"valid":false,"error":"<kind>","message":"<text>"} and exits 1
(refused) or 2 (error "malformed": not a sealed value at all).

The CLI has no access to your servers' replay store or revocation hook: a
single-use value opens if it is authentic and within its window, and no
value is reported revoked."#;

pub(crate) const ABOUT_SEAL: &str = r#"Seal payload bytes into a new session's cookie value and print it.

PAYLOAD_HEX is the postcard encoding of the app's session data, in hex, as
`open` prints it under "payload_hex"; it is sealed verbatim. The session
gets a fresh random id and generation 0, and is created and sealed at
--now."#;

pub(crate) const ABOUT_CHECK: &str = r#"Print one line per key, primary first: `<id> <role> <fingerprint>`, where
role is `primary` or `open-only` and the fingerprint is 16 hex digits that
tell keys apart without revealing them. Never prints a key."#;

pub(crate) const ABOUT_ROTATE: &str = r#"Print the keyring after the next step of a staged rotation on stdout, and
a one-line description of the step on stderr. Run it once per deploy:

1. add: a new key (highest id + 1) joins as open-only;
2. promote: the newest key becomes the primary, the old one stays open-only
   and records the time it stopped sealing (`id:key@unix-seconds`);
3. retire: once --idle plus --skew have passed since then, the oldest
   open-only key is removed (every live session has been re-sealed under
   the new key by then). Earlier it is refused unless --force (emergency
   rotation of a leaked key: the sessions under it end).

Servers already refuse values under an old key from that time on, whatever
they claim inside, so a leaked old key stops working within one idle
timeout of its promotion."#;

#[derive(Debug, Parser)]
#[command(
    name = "sealed-session",
    version,
    about = "Operate sealed-session cookies: generate and rotate keys, open and seal values",
    long_about = ABOUT_CLI,
    after_help = EXIT_STATUS_HELP,
    disable_help_subcommand = true
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
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
pub(crate) enum KeyringCommand {
    /// Print each key's id, role and fingerprint; never the keys
    #[command(long_about = ABOUT_CHECK, after_help = EXIT_STATUS_HELP)]
    Check {
        #[command(flatten)]
        keys: KeySource,
        /// Print JSON instead: {"primary":ID,"keys":[{"id":ID,"primary":BOOL,"fingerprint":HEX}]}
        #[arg(long)]
        json: bool,
    },
    /// Print the keyring after the next step of a staged rotation
    #[command(long_about = ABOUT_ROTATE, after_help = EXIT_STATUS_HELP)]
    Rotate(RotateArgs),
}

/// `--now`, for commands whose answer depends on the time.
#[derive(Debug, Args)]
pub(crate) struct NowArg {
    /// The current time in Unix seconds [default: the system clock]
    #[arg(
        long,
        value_name = "UNIX_SECONDS",
        value_parser = clap::value_parser!(i64).range(0..=MAX_UNIX)
    )]
    pub(crate) now: Option<i64>,
}

/// Where the keyring comes from. Never an argument: process listings show
/// arguments to every user of the machine.
#[derive(Debug, Args)]
pub(crate) struct KeySource {
    /// Read the keyring from this environment variable
    #[arg(
        long,
        value_name = "NAME",
        default_value = "SESSION_KEYS",
        conflicts_with = "stdin"
    )]
    pub(crate) env: String,
    /// Read the keyring from standard input instead
    #[arg(long)]
    pub(crate) stdin: bool,
}

/// What a codec needs besides the keyring: the context bound into every
/// value, the time, and the lifetime settings.
#[derive(Debug, Args)]
pub(crate) struct CodecArgs {
    #[command(flatten)]
    pub(crate) keys: KeySource,
    /// The cookie name, prefix included (bound into the value)
    #[arg(long, value_name = "NAME", default_value = DEFAULT_COOKIE_NAME)]
    pub(crate) name: String,
    /// The purpose label (bound into the value)
    #[arg(long, value_name = "LABEL", default_value = DEFAULT_PURPOSE)]
    pub(crate) purpose: String,
    #[command(flatten)]
    pub(crate) clock: NowArg,
    /// Absolute session lifetime, from creation, in seconds
    #[arg(long, value_name = "SECONDS", default_value_t = seconds(Lifetime::default().absolute))]
    pub(crate) absolute: u32,
    #[command(flatten)]
    pub(crate) timing: IdleAndSkew,
    /// A value older than this is due for a re-seal, in seconds (must be shorter than --idle)
    #[arg(long, value_name = "SECONDS", default_value_t = seconds(Lifetime::default().renew_after))]
    pub(crate) renew_after: u32,
}

/// `--idle` and `--skew`, the servers' settings that decide both when a
/// value expires and when an old key may be retired.
#[derive(Debug, Args)]
pub(crate) struct IdleAndSkew {
    /// Idle timeout: a value not re-sealed within this is refused, in seconds
    #[arg(long, value_name = "SECONDS", default_value_t = seconds(Lifetime::default().idle))]
    pub(crate) idle: u32,
    /// Allowed clock skew for seal and creation times in the future, in seconds
    #[arg(long, value_name = "SECONDS", default_value_t = seconds(Lifetime::default().skew))]
    pub(crate) skew: u32,
}

#[derive(Debug, Args)]
pub(crate) struct OpenArgs {
    /// The cookie value (without `name=`); `-` reads it from standard input
    #[arg(value_name = "VALUE")]
    pub(crate) value: String,
    /// VALUE is a whole Cookie header (`a=1; __Host-session=...`): every
    /// cookie named --name is tried, chunks NAME.0, NAME.1, ... are joined,
    /// and the newest valid seal wins, as a server would read it
    #[arg(long)]
    pub(crate) header: bool,
    #[command(flatten)]
    pub(crate) codec: CodecArgs,
}

#[derive(Debug, Args)]
pub(crate) struct SealArgs {
    /// The payload bytes in hex (may be empty: "")
    #[arg(value_name = "PAYLOAD_HEX")]
    pub(crate) payload: String,
    /// The session's subject (for example a user id)
    #[arg(long, value_name = "SUBJECT")]
    pub(crate) subject: Option<String>,
    #[command(flatten)]
    pub(crate) codec: CodecArgs,
}

/// `keyring rotate`: the time and lifetimes that decide when an old key
/// may be retired.
#[derive(Debug, Args)]
pub(crate) struct RotateArgs {
    /// Retire the old key even if sessions under it may still be live
    /// (emergency rotation of a leaked key: those sessions end)
    #[arg(long)]
    pub(crate) force: bool,
    #[command(flatten)]
    pub(crate) keys: KeySource,
    // The time of the step (the promotion's stop time is recorded), and the
    // servers' idle timeout and skew: an old key may be retired this long
    // after it stopped sealing.
    #[command(flatten)]
    pub(crate) clock: NowArg,
    #[command(flatten)]
    pub(crate) timing: IdleAndSkew,
}
