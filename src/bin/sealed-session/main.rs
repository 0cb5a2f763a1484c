//! `sealed-session`: the operator's command line. Its flags, output and exit
//! statuses are a contract that scripts rely on; `docs/CLI.md` states it.
//!
//! Thin by design: parse flags, call the library, print. Keys are read from
//! an environment variable or standard input, never from arguments (process
//! listings show arguments), and are printed only by `keygen` and
//! `keyring rotate`, whose job that is.

#![forbid(unsafe_code)]

mod args;
mod keys;
mod values;

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

#[allow(clippy::wildcard_imports, reason = "one binary, split by command")]
use crate::{args::*, keys::*, values::*};

/// Exit status: success; for `open`, the value is valid.
pub(crate) const EXIT_OK: u8 = 0;
/// Exit status: `open` refused the value (see `ErrorKind::is_refusal`).
pub(crate) const EXIT_REFUSED: u8 = 1;
/// Exit status: usage error or malformed input. clap exits with 2 on usage
/// errors, so every input problem shares it.
pub(crate) const EXIT_INPUT: u8 = 2;
/// Exit status: the system failed (random number generator, output).
pub(crate) const EXIT_FAILURE: u8 = 3;

/// A failure to report on stderr, with its exit status.
#[derive(Debug)]
pub(crate) struct Failure {
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
pub(crate) fn status_for(kind: ErrorKind) -> u8 {
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
        Command::Keyring(KeyringCommand::Rotate(args)) => rotate(&args),
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

pub(crate) fn print_line(text: &str) -> Result<(), Failure> {
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush())
        .map_err(|e| Failure::output(&e))
}

pub(crate) fn print_json<T: Serialize>(value: &T) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(value).map_err(|e| Failure {
        status: EXIT_FAILURE,
        message: format!("cannot render JSON: {e}"),
    })?;
    print_line(&text)
}

/// Whole seconds of a default duration, for help text and flag defaults.
pub(crate) fn seconds(duration: Duration) -> u32 {
    u32::try_from(duration.whole_seconds()).unwrap_or(u32::MAX)
}
