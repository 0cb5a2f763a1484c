//! The same minimal app on each system a user of an axum or actix-web app
//! would pick for sessions, for the per-request comparison of issue 16:
//!
//! | system | framework | what holds the session |
//! |---|---|---|
//! | `none` | axum | nothing: the floor, no session layer |
//! | `sealed_session` | axum | this crate's `Sessions::layer` |
//! | `private_jar` | axum | axum-extra's `PrivateCookieJar`, the session as JSON |
//! | `tower_sessions` | axum | tower-sessions with its `MemoryStore` |
//! | `actix_none` | actix-web | nothing |
//! | `actix_sealed_session` | actix-web | this crate's `Sessions::middleware` |
//! | `actix_session` | actix-web | actix-session's `CookieSessionStore` |
//!
//! Each app has the same routes: `GET /login` starts the typical session,
//! `GET /read` reads it (answers the user's name, 401 without a session),
//! `GET /write` reads it, changes one field and writes it back (a
//! Set-Cookie on every response for the cookie stores), and `GET /none`
//! never touches the session (what a static page or health check costs
//! with the layer in front of it).

pub mod actix_apps;
pub mod axum_apps;
pub mod in_process;

use serde::{Deserialize, Serialize};

/// The typical session of `benches/common` in the crate: a user id, a
/// 16-character name, three roles, a 32-byte CSRF token and a timestamp
/// (79 bytes of postcard, 160 of JSON).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Typical {
    pub user_id: u64,
    pub name: String,
    pub roles: Vec<String>,
    pub csrf: [u8; 32],
    pub issued_at: u64,
}

/// The session `/login` starts.
#[must_use]
pub fn typical() -> Typical {
    Typical {
        user_id: 4_200_042,
        name: "Ada Lovelace-Kin".to_owned(),
        roles: vec!["admin".to_owned(), "editor".to_owned(), "viewer".to_owned()],
        csrf: core::array::from_fn(|i| u8::try_from(i * 7 % 256).unwrap_or(0)),
        issued_at: 1_764_000_000,
    }
}

/// Every system, in table order.
pub const SYSTEMS: [&str; 7] = [
    "none",
    "sealed_session",
    "private_jar",
    "tower_sessions",
    "actix_none",
    "actix_sealed_session",
    "actix_session",
];

/// The `Sessions` of the sealed-session systems: the crate's defaults.
#[must_use]
pub fn sessions() -> sealed_session::Sessions {
    sealed_session::Sessions::builder(
        sealed_session::Keyring::generate(sealed_session::KeyId(1)).expect("keyring"),
    )
    .build()
    .expect("sessions")
}

/// The key of the `data` entry in key-value session stores.
pub const DATA: &str = "data";

/// The `Cookie` request header a browser sends back for `set_cookies`
/// (the `Set-Cookie` field values of a response).
#[must_use]
pub fn cookie_header<'a>(set_cookies: impl IntoIterator<Item = &'a str>) -> String {
    set_cookies
        .into_iter()
        .map(|v| v.split(';').next().unwrap_or_default().trim())
        .collect::<Vec<_>>()
        .join("; ")
}
