//! The axum 0.8 apps: `none`, `sealed_session`, `private_jar`,
//! `tower_sessions`.

use axum::Router;
use axum::extract::FromRef;
use axum::http::StatusCode;
use axum::routing::get;
use axum_extra::extract::PrivateCookieJar;
use axum_extra::extract::cookie::{Cookie, Key, SameSite};
use sealed_session::{Session, Sessions};

use crate::{DATA, Typical, typical};

/// The axum app of `system`, or `None` for a system of another framework.
#[must_use]
pub fn app(system: &str) -> Option<Router> {
    Some(match system {
        "none" => none(),
        "sealed_session" => sealed_session(&crate::sessions()),
        "private_jar" => private_jar(),
        "tower_sessions" => tower_sessions(),
        _ => return None,
    })
}

async fn untouched() -> &'static str {
    "ok"
}

fn none() -> Router {
    Router::new()
        .route("/login", get(untouched))
        .route("/read", get(|| async { "Ada Lovelace-Kin" }))
        .route("/write", get(untouched))
        .route("/none", get(untouched))
}

// ---- sealed-session -------------------------------------------------------

/// The `sealed_session` app on `sessions`.
pub fn sealed_session(sessions: &Sessions) -> Router {
    Router::new()
        .route("/login", get(ss_login))
        .route("/read", get(ss_read))
        .route("/write", get(ss_write))
        .route("/none", get(untouched))
        .layer(sessions.layer::<Typical>())
}

async fn ss_login(session: Session<Typical>) -> &'static str {
    session.insert(typical());
    "ok"
}

async fn ss_read(session: Session<Typical>) -> Result<String, StatusCode> {
    session
        .with(|d| d.map(|d| d.name.clone()))
        .ok_or(StatusCode::UNAUTHORIZED)
}

async fn ss_write(session: Session<Typical>) -> StatusCode {
    if session.with(|d| d.is_none()) {
        return StatusCode::UNAUTHORIZED;
    }
    session.update(|d| d.issued_at += 1);
    StatusCode::OK
}

// ---- axum-extra PrivateCookieJar ------------------------------------------

#[derive(Clone)]
struct JarState {
    key: Key,
}

impl FromRef<JarState> for Key {
    fn from_ref(state: &JarState) -> Self {
        state.key.clone()
    }
}

fn private_jar() -> Router {
    Router::new()
        .route("/login", get(jar_login))
        .route("/read", get(jar_read))
        .route("/write", get(jar_write))
        .route("/none", get(untouched))
        .with_state(JarState {
            key: Key::generate(),
        })
}

/// The session cookie as a careful user of the jar writes it.
fn jar_cookie(data: &Typical) -> Cookie<'static> {
    Cookie::build(("session", serde_json::to_string(data).expect("json")))
        .http_only(true)
        .secure(true)
        .same_site(SameSite::Lax)
        .path("/")
        .build()
}

fn jar_data(jar: &PrivateCookieJar) -> Option<Typical> {
    serde_json::from_str(jar.get("session")?.value()).ok()
}

async fn jar_login(jar: PrivateCookieJar) -> (PrivateCookieJar, &'static str) {
    (jar.add(jar_cookie(&typical())), "ok")
}

async fn jar_read(jar: PrivateCookieJar) -> Result<String, StatusCode> {
    jar_data(&jar)
        .map(|d| d.name)
        .ok_or(StatusCode::UNAUTHORIZED)
}

async fn jar_write(jar: PrivateCookieJar) -> Result<(PrivateCookieJar, StatusCode), StatusCode> {
    let mut data = jar_data(&jar).ok_or(StatusCode::UNAUTHORIZED)?;
    data.issued_at += 1;
    Ok((jar.add(jar_cookie(&data)), StatusCode::OK))
}

// ---- tower-sessions MemoryStore -------------------------------------------

fn tower_sessions() -> Router {
    let layer = tower_sessions::SessionManagerLayer::new(tower_sessions::MemoryStore::default())
        .with_secure(true);
    Router::new()
        .route("/login", get(ts_login))
        .route("/read", get(ts_read))
        .route("/write", get(ts_write))
        .route("/none", get(untouched))
        .layer(layer)
}

async fn ts_login(session: tower_sessions::Session) -> StatusCode {
    match session.insert(DATA, typical()).await {
        Ok(()) => StatusCode::OK,
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

async fn ts_read(session: tower_sessions::Session) -> Result<String, StatusCode> {
    match session.get::<Typical>(DATA).await {
        Ok(Some(d)) => Ok(d.name),
        _ => Err(StatusCode::UNAUTHORIZED),
    }
}

async fn ts_write(session: tower_sessions::Session) -> StatusCode {
    let Ok(Some(mut data)) = session.get::<Typical>(DATA).await else {
        return StatusCode::UNAUTHORIZED;
    };
    data.issued_at += 1;
    match session.insert(DATA, data).await {
        Ok(()) => StatusCode::OK,
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}
