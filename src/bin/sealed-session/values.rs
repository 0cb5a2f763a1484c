//! `open` and `seal`: cookie values in and out.

#[allow(clippy::wildcard_imports, reason = "the binary's shared imports")]
use super::*;

#[derive(Serialize)]
pub(crate) struct OpenedJson<'a> {
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
pub(crate) struct RefusedJson {
    valid: bool,
    error: &'static str,
    message: String,
}

pub(crate) fn open(args: &OpenArgs) -> Result<u8, Failure> {
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
        let codec = builder(&args.codec, ring, true)
            .build()
            .map_err(|e| Failure::config(&e))?;
        // A diagnostic tool opens either kind: a session first, then a
        // single-use value (apps never do both with one value).
        match codec.open_raw(&value) {
            Err(e) if e.kind() == ErrorKind::WrongKind => codec.open_single_use_raw(&value),
            other => other,
        }
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
                payload_hex: hex::encode(&opened.data),
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

pub(crate) fn seal(args: &SealArgs) -> Result<u8, Failure> {
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

pub(crate) fn lifetime(args: &CodecArgs) -> Lifetime {
    let mut lifetime = Lifetime::default();
    lifetime.absolute = Duration::seconds(i64::from(args.absolute));
    lifetime.idle = Duration::seconds(i64::from(args.timing.idle));
    lifetime.renew_after = Duration::seconds(i64::from(args.renew_after));
    lifetime.skew = Duration::seconds(i64::from(args.timing.skew));
    lifetime
}

pub(crate) fn builder(args: &CodecArgs, ring: Keyring, replay_guard: bool) -> SessionCodecBuilder {
    let mut builder = SessionCodec::builder(ring)
        .cookie_name(args.name.as_str())
        .purpose(args.purpose.as_str())
        .lifetime(lifetime(args));
    if let Some(now) = args.clock.now {
        builder = builder.clock(Arc::new(ManualClock::at_unix(now)));
    }
    if replay_guard {
        builder = builder.replay_guard(Arc::new(MemoryReplayGuard::new(1)));
    }
    builder
}

/// The same settings as [`builder`], with a replay guard, reading whole
/// `Cookie` headers under `policy`.
pub(crate) fn sessions(
    args: &CodecArgs,
    ring: Keyring,
    policy: CookiePolicy,
) -> Result<Sessions, sealed_session::ConfigError> {
    let mut builder = Sessions::builder(ring)
        .cookie(policy)
        .purpose(args.purpose.as_str())
        .lifetime(lifetime(args))
        .replay_guard(Arc::new(MemoryReplayGuard::new(1)));
    if let Some(now) = args.clock.now {
        builder = builder.clock(Arc::new(ManualClock::at_unix(now)));
    }
    builder.build()
}

pub(crate) fn from_hex(text: &str) -> Result<Vec<u8>, Failure> {
    hex::decode(text).map_err(|e| match e {
        hex::FromHexError::OddLength => {
            Failure::input("the payload is not hex: it has an odd number of digits")
        }
        _ => Failure::input("the payload is not hex: expected digits 0-9, a-f"),
    })
}
