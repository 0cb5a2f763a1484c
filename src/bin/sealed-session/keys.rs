//! `keygen` and `keyring check|rotate`, and reading the keyring.

#[allow(clippy::wildcard_imports, reason = "the binary's shared imports")]
use super::*;

/// Longest keyring read from standard input. A keyring entry is at most 75
/// characters (`4294967295:` and a 64-digit hex key), so this holds
/// hundreds; the bound lets the buffer be allocated once and zeroized.
pub(crate) const MAX_KEYRING_LEN: usize = 64 * 1024;

pub(crate) fn keygen(id: u32) -> Result<u8, Failure> {
    let ring = Keyring::generate(KeyId(id)).map_err(|e| Failure::library(&e))?;
    print_line(&ring.to_secret_string())?;
    Ok(EXIT_OK)
}

#[derive(Serialize)]
pub(crate) struct KeyringJson {
    pub(crate) primary: u32,
    pub(crate) keys: Vec<KeyJson>,
}

#[derive(Serialize)]
pub(crate) struct KeyJson {
    pub(crate) id: u32,
    pub(crate) primary: bool,
    pub(crate) fingerprint: String,
}

pub(crate) fn check(source: &KeySource, json: bool) -> Result<u8, Failure> {
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

pub(crate) fn rotate(args: &RotateArgs) -> Result<u8, Failure> {
    let ring = read_keyring(&args.keys)?;
    let now = args
        .clock
        .now
        .map_or_else(time::OffsetDateTime::now_utc, |t| {
            time::OffsetDateTime::from_unix_timestamp(t).unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        });
    let mut lifetime = Lifetime::default();
    lifetime.idle = Duration::seconds(i64::from(args.timing.idle));
    lifetime.skew = Duration::seconds(i64::from(args.timing.skew));
    let (next, step) = ring
        .next_rotation_stage(now, &lifetime, args.force)
        .map_err(|e| Failure::config(&e))?;
    print_line(&next.to_secret_string())?;
    let description = match step {
        RotationStep::Added(id) => format!(
            "added key {id} as open-only: deploy this keyring everywhere, then rotate again to promote it"
        ),
        RotationStep::Promoted(id) => format!(
            "promoted key {id} to primary: deploy this keyring; after the idle timeout and skew ({} s), rotate again to retire the old key",
            u64::from(args.timing.idle) + u64::from(args.timing.skew)
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

/// Reads and parses the keyring. The text lives in buffers zeroized on
/// drop, and errors come from the library, whose messages name entries by
/// position and never echo key material.
pub(crate) fn read_keyring(source: &KeySource) -> Result<Keyring, Failure> {
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
