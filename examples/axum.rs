//! The axum demo app: the routes, environment and JSON of `docs/DEMO.md`.
//!
//! ```sh
//! cargo run --example axum --features axum     # http://127.0.0.1:3000
//! ```
//!
//! The conformance suite (`tests/axum.rs`) serves [`app`] itself, so what
//! the tests check is what this demo does.

use std::error::Error;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use sealed_session::Session;
use sealed_session::{CookiePolicy, ErrorKind, KeyId, Keyring, Lifetime, Persistence, Sessions};
use serde::{Deserialize, Serialize};

/// The demo's session data (`docs/DEMO.md`, "Session data").
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct DemoSession {
    /// The signed-in user.
    pub user: Option<String>,
    /// Incremented by every `GET /` and `GET /api/session`.
    pub visits: u64,
    /// `POST /grow` content, so chunking can be seen.
    pub filler: String,
}

/// The largest `POST /grow` the demo accepts.
const MAX_GROW: usize = 16_384;

/// The demo's routes, with `cookies` sealing the sessions.
pub fn app(cookies: Sessions) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/api/session", get(api_session))
        .route("/api/user", get(api_user))
        .route("/login", post(login))
        .route("/logout", post(logout))
        .route("/logout-everywhere", post(logout_everywhere))
        .route("/sign-in-link", post(sign_in_link))
        .route("/sign-in-link/use", post(use_sign_in_link))
        .route("/grow", post(grow))
        // Every POST is checked for a cross-site origin and needs the
        // session's token, sign-in included (login CSRF): the page that
        // shows the form started the session its token belongs to.
        .layer(cookies.csrf::<DemoSession>())
        .layer(cookies.layer::<DemoSession>())
        .with_state(cookies)
}

/// `GET /api/session`'s JSON, also what the HTML page shows.
#[derive(Debug, Serialize)]
struct View {
    signed_in: bool,
    user: Option<String>,
    visits: u64,
    session_id: String,
    created: i64,
    expires: i64,
    persistent: bool,
    filler_bytes: usize,
    csrf: String,
}

/// Why a handler could not do what it was asked.
#[derive(Debug)]
enum Failure {
    /// The session would not fit the cookies: 413.
    TooLarge,
    /// Anything else (the OS random generator failed): a bare 500.
    Server,
}

impl From<sealed_session::Error> for Failure {
    fn from(e: sealed_session::Error) -> Self {
        if e.kind() == ErrorKind::TooLarge {
            Self::TooLarge
        } else {
            eprintln!("error: {e}");
            Self::Server
        }
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        match self {
            Self::TooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "the session would not fit the cookies\n",
            )
                .into_response(),
            Self::Server => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        }
    }
}

/// Counts the visit and describes the session (starting one if needed).
fn visit(session: &Session<DemoSession>, cookies: &Sessions) -> Result<View, Failure> {
    let data = session.update(|d| {
        d.visits += 1;
        d.clone()
    });
    // The token needs a session id, so this also gives a new session one.
    let csrf = session.csrf_token()?;
    let meta = session.meta().ok_or(Failure::Server)?;
    Ok(View {
        signed_in: data.user.is_some(),
        user: data.user,
        visits: data.visits,
        session_id: meta.id().to_hex(),
        created: meta.created().unix_timestamp(),
        expires: meta.expires().unix_timestamp(),
        persistent: cookies.policy().persistence() == Persistence::UntilExpiry,
        filler_bytes: data.filler.len(),
        csrf,
    })
}

async fn api_session(
    State(cookies): State<Sessions>,
    session: Session<DemoSession>,
) -> Result<Json<View>, Failure> {
    Ok(Json(visit(&session, &cookies)?))
}

/// `GET /api/user`'s JSON: reads the session, changes nothing.
#[derive(Debug, Serialize)]
struct UserView {
    signed_in: bool,
    user: Option<String>,
}

/// Reads the session and changes nothing: the cookie is written only when
/// a renewal is due, and a refused one is removed.
async fn api_user(session: Session<DemoSession>) -> Json<UserView> {
    let user = session.with(|d| d.and_then(|d| d.user.clone()));
    Json(UserView {
        signed_in: user.is_some(),
        user,
    })
}

async fn index(
    State(cookies): State<Sessions>,
    session: Session<DemoSession>,
) -> Result<Html<String>, Failure> {
    Ok(Html(page(&visit(&session, &cookies)?)))
}

#[derive(Deserialize)]
struct LoginForm {
    user: String,
}

async fn login(session: Session<DemoSession>, Form(form): Form<LoginForm>) -> Response {
    let user = form.user.trim();
    if user.is_empty() || user.len() > 256 {
        let msg = "user is required, at most 256 bytes\n";
        return (StatusCode::BAD_REQUEST, msg).into_response();
    }
    // A new session id on sign-in (session fixation); the data stays.
    if let Err(e) = session.regenerate(Some(user)) {
        return Failure::from(e).into_response();
    }
    let previous = session.update(|d| d.user.replace(user.to_owned()));
    match written(&session, |d| d.user = previous) {
        Ok(()) => Redirect::to("/").into_response(),
        Err(failure) => failure.into_response(),
    }
}

async fn logout(session: Session<DemoSession>) -> Redirect {
    session.clear();
    Redirect::to("/")
}

/// Ends every session of the signed-in user on every instance that shares
/// the store (`SESSION_REDIS_URL`); 409 without a store or a user.
async fn logout_everywhere(
    State(sessions): State<Sessions>,
    session: Session<DemoSession>,
) -> Response {
    let (Some(store), Some(user)) = (
        sessions.freshness_store(),
        session.get().and_then(|s| s.user),
    ) else {
        let msg = "needs a signed-in user and SESSION_REDIS_URL\n";
        return (StatusCode::CONFLICT, msg).into_response();
    };
    match store
        .revoke_subject(&user, time::OffsetDateTime::now_utc())
        .await
    {
        Ok(()) => {
            session.clear();
            Redirect::to("/").into_response()
        }
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "the store is unavailable\n",
        )
            .into_response(),
    }
}

/// A single-use sign-in link for `user` (what an app would e-mail): the
/// body is the sealed value, which opens once across every instance that
/// shares the store. 409 without a store.
async fn sign_in_link(State(sessions): State<Sessions>, Form(form): Form<LoginForm>) -> Response {
    if sessions.freshness_store().is_none() {
        let msg = "single-use links need SESSION_REDIS_URL\n";
        return (StatusCode::CONFLICT, msg).into_response();
    }
    let user = form.user.trim();
    if user.is_empty() || user.len() > 256 {
        let msg = "user is required, at most 256 bytes\n";
        return (StatusCode::BAD_REQUEST, msg).into_response();
    }
    match sessions.codec().seal_single_use(&user) {
        Ok(link) => link.into_response(),
        Err(e) => Failure::from(e).into_response(),
    }
}

#[derive(Deserialize)]
struct LinkForm {
    link: String,
}

/// Signs in with a link from `POST /sign-in-link`, once: a second use, on
/// any instance, is a 403; a store that is down, a 503. A form post (with
/// the session's CSRF token), not a GET, so a link sent by someone else
/// cannot sign a browser in to their account unawares (login CSRF).
async fn use_sign_in_link(
    State(sessions): State<Sessions>,
    session: Session<DemoSession>,
    Form(form): Form<LinkForm>,
) -> Response {
    let user = match sessions.open_single_use::<String>(form.link.trim()).await {
        Ok(opened) => opened.data,
        Err(e) if e.kind() == ErrorKind::StoreUnavailable => {
            let msg = "the store is unavailable\n";
            return (StatusCode::SERVICE_UNAVAILABLE, msg).into_response();
        }
        Err(_) => {
            let msg = "the link was used already, has expired or is not ours\n";
            return (StatusCode::FORBIDDEN, msg).into_response();
        }
    };
    if let Err(e) = session.regenerate(Some(&user)) {
        return Failure::from(e).into_response();
    }
    session.update(|d| d.user = Some(user));
    Redirect::to("/").into_response()
}

#[derive(Deserialize)]
struct GrowForm {
    bytes: usize,
}

async fn grow(session: Session<DemoSession>, Form(form): Form<GrowForm>) -> Response {
    if form.bytes > MAX_GROW {
        let msg = "bytes must be 0 to 16384\n";
        return (StatusCode::BAD_REQUEST, msg).into_response();
    }
    let previous = session.update(|d| core::mem::replace(&mut d.filler, "x".repeat(form.bytes)));
    match written(&session, |d| d.filler = previous) {
        Ok(()) => Redirect::to("/").into_response(),
        Err(failure) => failure.into_response(),
    }
}

/// Seals the session now, so a session that no longer fits is a 413 from
/// the handler rather than a 500 from the layer; the change is undone with
/// `undo`, so the response still carries the previous, valid session.
fn written(
    session: &Session<DemoSession>,
    undo: impl FnOnce(&mut DemoSession),
) -> Result<(), Failure> {
    session.flush().map_err(|e| {
        let failure = Failure::from(e);
        if matches!(failure, Failure::TooLarge) {
            session.update(undo);
        }
        failure
    })
}

fn page(v: &View) -> String {
    let user = v
        .user
        .as_deref()
        .map_or_else(|| "nobody".to_owned(), escape);
    let csrf = escape(&v.csrf);
    format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>sealed-session demo</title></head>
<body>
<h1>sealed-session demo (axum)</h1>
<p>Signed in: <strong id="user">{user}</strong>. Visits: <strong id="visits">{visits}</strong>.</p>
<ul>
<li>session id: <code id="session-id">{id}</code></li>
<li>created: <span id="created">{created}</span>, expires: <span id="expires">{expires}</span> (Unix seconds)</li>
<li>persistent cookie: {persistent}; filler: {filler} bytes</li>
</ul>
<form method="post" action="/login"><input type="hidden" name="csrf" value="{csrf}">
<input name="user" placeholder="name" required> <button>Sign in</button></form>
<form method="post" action="/logout"><input type="hidden" name="csrf" value="{csrf}">
<button>Sign out</button></form>
<form method="post" action="/grow"><input type="hidden" name="csrf" value="{csrf}">
<input name="bytes" type="number" min="0" max="16384" value="1000"> <button>Set filler</button></form>
</body></html>
"#,
        visits = v.visits,
        id = v.session_id,
        created = v.created,
        expires = v.expires,
        persistent = v.persistent,
        filler = v.filler_bytes,
    )
}

fn escape(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '&' => "&amp;".to_owned(),
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '"' => "&quot;".to_owned(),
            '\'' => "&#39;".to_owned(),
            c => c.to_string(),
        })
        .collect()
}

/// A number from the environment, or `default` when unset.
fn env_number<N: core::str::FromStr>(name: &str, default: N) -> Result<N, Box<dyn Error>> {
    match std::env::var(name) {
        Ok(text) => text
            .trim()
            .parse()
            .map_err(|_| format!("{name} must be a number").into()),
        Err(_) => Ok(default),
    }
}

/// The demo's cookies from `docs/DEMO.md`'s environment variables.
async fn cookies_from_env() -> Result<Sessions, Box<dyn Error>> {
    let keyring: Keyring = if let Ok(text) = std::env::var("SESSION_KEYS") {
        text.parse()?
    } else {
        let keyring = Keyring::generate(KeyId(1))?;
        eprintln!(
            "warning: SESSION_KEYS is not set; using a generated keyring, so sessions end when \
             the demo stops. To keep them across restarts:\n  export SESSION_KEYS='{}'",
            keyring.to_secret_string().as_str()
        );
        keyring
    };
    let mut lifetime = Lifetime::default();
    lifetime.absolute = time::Duration::seconds(env_number("SESSION_ABSOLUTE_SECS", 43_200)?);
    lifetime.idle = time::Duration::seconds(env_number("SESSION_IDLE_SECS", 1_800)?);
    lifetime.superseded_grace = time::Duration::seconds(env_number("SESSION_GRACE_SECS", 30)?);
    if lifetime.renew_after >= lifetime.idle {
        // Renew well before the idle deadline, whatever it is.
        lifetime.renew_after = lifetime.idle / 2;
    }
    let persistence = match env_number("SESSION_PERSISTENT", 0u8)? {
        0 => Persistence::BrowserSession,
        1 => Persistence::UntilExpiry,
        _ => return Err("SESSION_PERSISTENT must be 0 or 1".into()),
    };
    // Up to SESSION_CHUNKS cookies, within the library's default budgets,
    // which fit nginx's default buffers: a session of more than one cookie
    // needs both budgets raised, with the proxy's (README, "Behind a
    // reverse proxy").
    let policy = CookiePolicy::builder()
        .chunked(env_number("SESSION_CHUNKS", 4)?)
        .cookie_header_budget(env_number(
            "SESSION_COOKIE_BUDGET",
            sealed_session::DEFAULT_COOKIE_HEADER_BUDGET,
        )?)
        .set_cookie_budget(env_number(
            "SESSION_SET_COOKIE_BUDGET",
            sealed_session::DEFAULT_SET_COOKIE_BUDGET,
        )?)
        .persistence(persistence)
        .build()?;
    let builder = Sessions::builder(keyring).lifetime(lifetime).cookie(policy);
    Ok(with_store(builder, lifetime).await?.build()?)
}

/// With `SESSION_REDIS_URL` (and the `redis` feature), the fleet's shared
/// store: log out everywhere, single-use values and copied cookies across
/// instances. Without it, the demo is stateless.
async fn with_store(
    builder: sealed_session::SessionsBuilder,
    lifetime: Lifetime,
) -> Result<sealed_session::SessionsBuilder, Box<dyn Error>> {
    let Ok(url) = std::env::var("SESSION_REDIS_URL") else {
        return Ok(builder);
    };
    #[cfg(feature = "redis")]
    {
        let timeout = env_number("SESSION_STORE_TIMEOUT_MS", 50)?;
        let options = sealed_session::RedisOptions::default()
            .lifetime(lifetime)
            .timeout(std::time::Duration::from_millis(timeout));
        let store = sealed_session::RedisStore::connect(&url, options).await?;
        eprintln!("sessions read through the Redis store at SESSION_REDIS_URL");
        Ok(builder.store(std::sync::Arc::new(store)))
    }
    #[cfg(not(feature = "redis"))]
    {
        let _ = (url, lifetime);
        Err("SESSION_REDIS_URL needs the redis feature: --features axum,redis".into())
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let port: u16 = env_number("PORT", 3000)?;
    let cookies = cookies_from_env().await?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    eprintln!("sealed-session axum demo on http://127.0.0.1:{port}");
    axum::serve(listener, app(cookies)).await?;
    Ok(())
}
