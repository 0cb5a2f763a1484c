//! An axum-login + axum-messages app moved from tower-sessions'
//! `SessionManagerLayer<MemoryStore>` onto sealed cookies. Every line that
//! changed is marked `// CHANGED` (or `// NEW`), with the line it replaces
//! above it as `// was: ...`; handlers, the backend and axum-login's and
//! axum-messages' calls are as they were.
//!
//! ```sh
//! cargo run --example tower_sessions --features tower-sessions   # http://127.0.0.1:3000
//! ```
//!
//! Sign in as `gina` / `correct horse`. Set `SESSION_KEYS` (see
//! `docs/CLI.md`) to keep sessions across restarts; without it a key is
//! generated at start.

use std::error::Error;

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use axum_login::{AuthManager, AuthSession, AuthUser, AuthnBackend, UserId, login_required};
use axum_messages::{Messages, MessagesManagerLayer};
use serde::Deserialize;
// was: use axum_login::AuthManagerLayerBuilder;
// was: use tower_sessions::{MemoryStore, SessionManagerLayer};
use sealed_session::tower_sessions::JsonRecord; // CHANGED
use sealed_session::{KeyId, Keyring, Session, Sessions}; // CHANGED

#[derive(Clone)]
struct User {
    id: u64,
    name: &'static str,
    password: &'static str,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User").field("id", &self.id).finish()
    }
}

impl AuthUser for User {
    type Id = u64;

    fn id(&self) -> u64 {
        self.id
    }

    /// A real app returns the password hash: changing it ends sessions.
    fn session_auth_hash(&self) -> &[u8] {
        self.password.as_bytes()
    }
}

#[derive(Clone, Debug)]
struct Backend {
    users: Vec<User>,
}

#[derive(Clone, Deserialize)]
struct Credentials {
    name: String,
    password: String,
}

impl AuthnBackend for Backend {
    type User = User;
    type Credentials = Credentials;
    type Error = std::io::Error;

    async fn authenticate(&self, creds: Credentials) -> Result<Option<User>, Self::Error> {
        let user = self.users.iter().find(|u| u.name == creds.name);
        Ok(user.filter(|u| u.password == creds.password).cloned())
    }

    async fn get_user(&self, id: &UserId<Self>) -> Result<Option<User>, Self::Error> {
        Ok(self.users.iter().find(|u| u.id == *id).cloned())
    }
}

fn shown(messages: Messages) -> String {
    messages
        .map(|m| format!("<p>{}: {}</p>", m.level, m.message))
        .collect()
}

async fn home(
    auth: AuthSession<Backend>,
    messages: Messages,
    handle: Session<JsonRecord>, // NEW: for the CSRF token
) -> Result<Html<String>, StatusCode> {
    let name = auth.user.map_or("?", |u| u.name);
    let token = handle
        .csrf_token()
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    Ok(Html(format!(
        "{}<p>Hello {name}.</p><form method=post action=/logout>\
         <input type=hidden name=csrf value={token}><button>Sign out</button></form>",
        shown(messages)
    )))
}

async fn login_page(
    messages: Messages,
    handle: Session<JsonRecord>, // NEW: for the CSRF token
) -> Result<Html<String>, StatusCode> {
    let token = handle
        .csrf_token()
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    Ok(Html(format!(
        "{}<form method=post><input name=name><input name=password type=password>\
         <input type=hidden name=csrf value={token}><button>Sign in</button></form>",
        shown(messages)
    )))
}

async fn login(
    mut auth: AuthSession<Backend>,
    messages: Messages,
    Form(creds): Form<Credentials>,
) -> Response {
    match auth.authenticate(creds).await {
        Ok(Some(user)) => {
            if auth.login(&user).await.is_err() {
                return StatusCode::INTERNAL_SERVER_ERROR.into_response();
            }
            let _ = messages.success(format!("Welcome back, {}.", user.name));
            Redirect::to("/").into_response()
        }
        Ok(None) => {
            let _ = messages.error("Wrong name or password.");
            Redirect::to("/login").into_response()
        }
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

async fn logout(mut auth: AuthSession<Backend>) -> Response {
    match auth.logout().await {
        Ok(_) => Redirect::to("/login").into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// The app, without binding a port (`tests/tower_sessions_apps.rs` serves
/// it on loopback).
// was: pub fn app(session_layer: SessionManagerLayer<MemoryStore>) -> Router {
pub fn app(sessions: &Sessions) -> Router {
    // CHANGED
    let backend = Backend {
        users: vec![User {
            id: 1,
            name: "gina",
            password: "correct horse",
        }],
    };
    Router::new()
        .route("/", get(home))
        .route_layer(login_required!(Backend, login_url = "/login"))
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .layer(MessagesManagerLayer)
        // was: .layer(AuthManagerLayerBuilder::new(backend, session_layer).build())
        // CHANGED: axum-login's own service, without the SessionManagerLayer
        // its builder adds (`tower::layer::layer_fn` is the same function).
        .layer(tower_layer::layer_fn(move |inner| {
            AuthManager::new(inner, backend.clone(), "axum-login.data")
        }))
        // NEW: every POST needs the session's token and passes the
        // cross-origin check (sign-in included: login CSRF).
        .layer(sessions.csrf::<JsonRecord>())
        .layer(sessions.tower_sessions_layer()) // CHANGED
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    // was: let session_layer = SessionManagerLayer::new(MemoryStore::default());
    let keyring = match std::env::var("SESSION_KEYS") {
        Ok(keys) => keys.parse::<Keyring>()?,
        Err(_) => Keyring::generate(KeyId(1))?,
    }; // CHANGED
    let sessions = Sessions::builder(keyring).build()?; // CHANGED
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    println!("http://127.0.0.1:3000 (gina / correct horse)");
    axum::serve(listener, app(&sessions)).await?;
    Ok(())
}
