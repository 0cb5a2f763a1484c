//! Seal a session, open it, renew it, rotate the key: the core API in one
//! run. `cargo run --example quickstart`
#![allow(
    clippy::unwrap_used,
    reason = "an example: a panic shows the failing step"
)]

use std::sync::Arc;

use sealed_session::{KeyId, Keyring, ManualClock, SessionCodec};
use serde::{Deserialize, Serialize};
use time::Duration;

#[derive(Debug, Serialize, Deserialize)]
struct Session {
    user: String,
    visits: u32,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // In production: `std::env::var("SESSION_KEYS")?.parse()?` with keys from
    // `sealed-session keygen`.
    let keyring = Keyring::generate(KeyId(1))?;
    let clock = ManualClock::at_unix(1_764_000_000);
    let codec = SessionCodec::builder(keyring.clone())
        .clock(Arc::new(clock.clone()))
        .build()?;

    let value = codec.seal(&Session {
        user: "ada".into(),
        visits: 1,
    })?;
    println!(
        "Set-Cookie: {}={value}; Path=/; Secure; HttpOnly; SameSite=Lax",
        codec.cookie_name()
    );
    println!(
        "  ({} characters for name and value; browsers keep up to 4096)",
        codec.cookie_name().len() + 1 + value.len()
    );

    // Next request, six minutes later: still valid, and due for renewal.
    clock.advance(Duration::minutes(6));
    let opened = codec.open::<Session>(&value)?;
    println!(
        "opened: {:?}, re-seal due: {:?}",
        opened.data,
        opened.reseal_due()
    );
    let value = codec.seal_session(
        &opened.meta,
        &Session {
            visits: opened.data.visits + 1,
            ..opened.data
        },
    )?;

    // A tampered cookie is simply "no session".
    let mut tampered = value.clone();
    tampered.replace_range(80..81, if &value[80..81] == "A" { "B" } else { "A" });
    println!(
        "tampered: {}",
        codec.open::<Session>(&tampered).unwrap_err()
    );

    // Rotation: a new primary key; the old value opens and asks to be re-sealed.
    let mut rotated = keyring;
    rotated.add_open_only(KeyId(2), sealed_session::Key::generate())?;
    rotated.promote(KeyId(2), sealed_session::Clock::now(&clock))?;
    let codec2 = SessionCodec::builder(rotated)
        .clock(Arc::new(clock.clone()))
        .build()?;
    let opened = codec2.open::<Session>(&value)?;
    println!(
        "after rotation: key {}, re-seal due: {:?}",
        opened.meta.key_id(),
        opened.reseal_due()
    );

    // Idle timeout: 30 minutes without a re-seal ends the session.
    clock.advance(Duration::minutes(30));
    println!(
        "after 30 idle minutes: {}",
        codec2.open::<Session>(&value).unwrap_err()
    );
    Ok(())
}
