//! The demo app of `docs/DEMO.md` on actix-web: sign in and out, a visit
//! counter, CSRF-protected forms, and a filler field that makes the session
//! big enough to be split over several cookies.
//!
//! ```sh
//! cargo run --example actix --features actix-web   # http://127.0.0.1:3000
//! ```
//!
//! The routes live in [`configure`] and the session middleware in
//! [`middleware`], so tests can serve the same app with their own keys and
//! clock; [`main`] only reads the environment.
#![forbid(unsafe_code)]

use std::io;
use std::sync::Arc;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::{App, HttpResponse, HttpServer, web};
use sealed_session::Session;
use sealed_session::{
    Clock, CookiePolicy, ErrorKind, KeyId, Keyring, Lifetime, Persistence, Sessions, SystemClock,
};
use serde::{Deserialize, Serialize};

/// The demo's session data (`docs/DEMO.md`, "Session data").
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct DemoSession {
    /// The signed-in user.
    pub user: Option<String>,
    /// Incremented by every `GET /` and `GET /api/session`.
    pub visits: u64,
    /// The content set by `POST /grow`.
    pub filler: String,
}

/// The largest `bytes` that `POST /grow` accepts.
pub const MAX_GROW_BYTES: usize = 16_384;

/// The longest user name `POST /login` accepts, so a sign-in cannot fill
/// the cookie.
pub const MAX_USER_LEN: usize = 256;

/// The demo's configuration (`docs/DEMO.md`, "Environment").
#[derive(Debug)]
pub struct Settings {
    /// `PORT`: the port on 127.0.0.1.
    pub port: u16,
    /// `SESSION_KEYS`, or a generated keyring.
    pub keyring: Keyring,
    /// Whether `keyring` was generated because `SESSION_KEYS` was unset.
    pub generated_keys: bool,
    /// `SESSION_ABSOLUTE_SECS`: the absolute lifetime.
    pub absolute_secs: u32,
    /// `SESSION_IDLE_SECS`: the idle timeout.
    pub idle_secs: u32,
    /// `SESSION_CHUNKS`: the most cookies a session is split over (1: no
    /// chunking).
    pub chunks: usize,
    /// `SESSION_PERSISTENT`: persistent cookies instead of browser-session
    /// ones.
    pub persistent: bool,
    /// `SESSION_COOKIE_BUDGET`: the most bytes the session's cookies add to
    /// a request's `Cookie` header.
    pub cookie_budget: usize,
    /// `SESSION_SET_COOKIE_BUDGET`: the most bytes of `Set-Cookie` lines
    /// per response.
    pub set_cookie_budget: usize,
}

impl Settings {
    /// The documented defaults with `keyring`.
    #[must_use]
    pub fn new(keyring: Keyring) -> Self {
        Self {
            port: 3000,
            keyring,
            generated_keys: false,
            absolute_secs: 43_200,
            idle_secs: 1_800,
            chunks: 4,
            persistent: false,
            cookie_budget: sealed_session::DEFAULT_COOKIE_HEADER_BUDGET,
            set_cookie_budget: sealed_session::DEFAULT_SET_COOKIE_BUDGET,
        }
    }

    /// Reads the environment; unset variables take their defaults.
    ///
    /// # Errors
    /// A message naming the variable that does not parse.
    pub fn from_env() -> Result<Self, String> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let (keyring, generated_keys) = match var("SESSION_KEYS") {
            Some(text) => (
                text.parse::<Keyring>()
                    .map_err(|e| format!("SESSION_KEYS: {e}"))?,
                false,
            ),
            None => (
                Keyring::generate(KeyId(1)).map_err(|e| format!("generating keys: {e}"))?,
                true,
            ),
        };
        let mut settings = Self::new(keyring);
        settings.generated_keys = generated_keys;
        if let Some(v) = var("PORT") {
            settings.port = number("PORT", &v)?;
        }
        if let Some(v) = var("SESSION_ABSOLUTE_SECS") {
            settings.absolute_secs = number("SESSION_ABSOLUTE_SECS", &v)?;
        }
        if let Some(v) = var("SESSION_IDLE_SECS") {
            settings.idle_secs = number("SESSION_IDLE_SECS", &v)?;
        }
        if let Some(v) = var("SESSION_CHUNKS") {
            settings.chunks = number("SESSION_CHUNKS", &v)?;
            if !(1..=sealed_session::MAX_CHUNKS).contains(&settings.chunks) {
                return Err("SESSION_CHUNKS: expected 1 (no chunking) to 16".to_owned());
            }
        }
        if let Some(v) = var("SESSION_COOKIE_BUDGET") {
            settings.cookie_budget = number("SESSION_COOKIE_BUDGET", &v)?;
        }
        if let Some(v) = var("SESSION_SET_COOKIE_BUDGET") {
            settings.set_cookie_budget = number("SESSION_SET_COOKIE_BUDGET", &v)?;
        }
        if let Some(v) = var("SESSION_PERSISTENT") {
            settings.persistent = match v.trim() {
                "0" => false,
                "1" => true,
                _ => return Err("SESSION_PERSISTENT: expected 0 or 1".to_owned()),
            };
        }
        Ok(settings)
    }

    /// The session's time limits: the configured absolute and idle
    /// lifetimes, renewal after a sixth of the idle timeout (5 minutes at
    /// the default 30), at least one second.
    #[must_use]
    pub fn lifetime(&self) -> Lifetime {
        let mut lifetime = Lifetime::default();
        lifetime.absolute = time::Duration::seconds(self.absolute_secs.into());
        lifetime.idle = time::Duration::seconds(self.idle_secs.into());
        lifetime.renew_after = lifetime
            .renew_after
            .min(time::Duration::seconds((self.idle_secs / 6).max(1).into()));
        lifetime
    }

    /// The codec and cookie policy these settings describe, reading time
    /// from `clock`.
    ///
    /// # Errors
    /// [`ConfigError`](sealed_session::ConfigError) if the settings are inconsistent (idle longer
    /// than absolute, an idle timeout under two seconds, 0 or more than 16
    /// chunks).
    pub fn session_cookies(
        &self,
        clock: Arc<dyn Clock>,
    ) -> Result<Sessions, sealed_session::ConfigError> {
        self.session_cookies_with(clock, None)
    }

    /// [`Settings::session_cookies`], reading through `store` if given.
    ///
    /// # Errors
    /// As for [`Settings::session_cookies`].
    pub fn session_cookies_with(
        &self,
        clock: Arc<dyn Clock>,
        store: Option<Arc<dyn sealed_session::FreshnessStore>>,
    ) -> Result<Sessions, sealed_session::ConfigError> {
        // Up to `chunks` cookies within both budgets; the defaults fit
        // nginx's default buffers, so chunks need both raised.
        let mut policy = CookiePolicy::builder()
            .chunked(self.chunks)
            .cookie_header_budget(self.cookie_budget)
            .set_cookie_budget(self.set_cookie_budget);
        if self.persistent {
            policy = policy.persistence(Persistence::UntilExpiry);
        }
        let mut builder = Sessions::builder(self.keyring.clone())
            .lifetime(self.lifetime())
            .clock(clock)
            .cookie(policy.build()?);
        if let Some(store) = store {
            builder = builder.store(store);
        }
        builder.build()
    }
}

fn number<N: core::str::FromStr>(name: &str, value: &str) -> Result<N, String> {
    value
        .trim()
        .parse()
        .map_err(|_| format!("{name}: expected a non-negative whole number"))
}

/// Whether the demo's cookies persist, for `GET /api/session`.
#[derive(Clone, Copy, Debug)]
struct Persistent(bool);

/// Registers the demo's routes. `cookies` is the instance the middleware
/// uses; the JSON reports its persistence.
pub fn configure(cfg: &mut web::ServiceConfig, cookies: &Sessions) {
    let persistent = cookies.policy().persistence() == Persistence::UntilExpiry;
    cfg.app_data(web::Data::new(Persistent(persistent)))
        .route("/", web::get().to(index))
        .route("/api/session", web::get().to(api_session))
        .route("/api/user", web::get().to(api_user))
        .route("/login", web::post().to(login))
        .route("/logout", web::post().to(logout))
        .route("/logout-everywhere", web::post().to(logout_everywhere))
        .route("/grow", web::post().to(grow));
}

/// The whole demo app: the CSRF and session middleware around
/// [`configure`]. Every POST is checked for a cross-site origin and needs
/// the session's token, sign-in included (login CSRF): the page that shows
/// the form started the session its token belongs to.
pub fn app(
    cookies: Sessions,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    App::new()
        .wrap(cookies.csrf_middleware::<DemoSession>())
        .wrap(cookies.middleware::<DemoSession>())
        .configure(|cfg| configure(cfg, &cookies))
}

/// What `GET /api/session` answers and `GET /` shows.
#[derive(Debug, Serialize)]
struct SessionView {
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

/// Counts the visit (starting a session if there is none) and describes
/// the session.
fn visit(session: &Session<DemoSession>, persistent: bool) -> actix_web::Result<SessionView> {
    let (user, visits, filler_bytes) = session.update(|s| {
        s.visits += 1;
        (s.user.clone(), s.visits, s.filler.len())
    });
    let csrf = session.csrf_token().map_err(internal)?;
    let meta = session
        .meta()
        .ok_or_else(|| actix_web::error::ErrorInternalServerError("no session metadata"))?;
    Ok(SessionView {
        signed_in: user.is_some(),
        user,
        visits,
        session_id: meta.id().to_hex(),
        created: meta.created().unix_timestamp(),
        expires: meta.expires().unix_timestamp(),
        persistent,
        filler_bytes,
        csrf,
    })
}

/// A session error as a bare 500; the crate's message stays in the server.
fn internal(e: sealed_session::Error) -> actix_web::Error {
    eprintln!("session error: {e}");
    actix_web::error::ErrorInternalServerError("internal error")
}

async fn api_session(
    session: Session<DemoSession>,
    persistent: web::Data<Persistent>,
) -> actix_web::Result<HttpResponse> {
    Ok(HttpResponse::Ok().json(visit(&session, persistent.0)?))
}

/// `GET /api/user`'s JSON: reads the session, changes nothing.
#[derive(Debug, Serialize)]
struct UserView {
    signed_in: bool,
    user: Option<String>,
}

/// Reads the session and changes nothing: the cookie is written only when
/// a renewal is due, and a refused one is removed.
async fn api_user(session: Session<DemoSession>) -> HttpResponse {
    let user = session.with(|d| d.and_then(|d| d.user.clone()));
    HttpResponse::Ok().json(UserView {
        signed_in: user.is_some(),
        user,
    })
}

async fn index(
    session: Session<DemoSession>,
    persistent: web::Data<Persistent>,
) -> actix_web::Result<HttpResponse> {
    let v = visit(&session, persistent.0)?;
    let who = match &v.user {
        Some(user) => format!("Signed in as <b>{}</b>.", escape(user)),
        None => "Not signed in.".to_owned(),
    };
    let csrf = escape(&v.csrf);
    let body = format!(
        r#"<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>sealed-session demo (actix-web)</title></head>
<body>
<h1>sealed-session demo (actix-web)</h1>
<p>{who}</p>
<p>Visits: {visits}</p>
<dl>
<dt>Session id</dt><dd><code>{id}</code></dd>
<dt>Created (Unix time)</dt><dd>{created}</dd>
<dt>Expires (Unix time)</dt><dd>{expires}</dd>
<dt>Persistent cookie</dt><dd>{persistent}</dd>
<dt>Filler</dt><dd>{filler} bytes</dd>
</dl>
<form method="post" action="/login">
<input type="hidden" name="csrf" value="{csrf}">
<label>User <input name="user" required maxlength="{max_user}"></label>
<button>Sign in</button>
</form>
<form method="post" action="/logout">
<input type="hidden" name="csrf" value="{csrf}">
<button>Sign out</button>
</form>
<form method="post" action="/grow">
<input type="hidden" name="csrf" value="{csrf}">
<label>Filler bytes <input name="bytes" type="number" min="0" max="{max_grow}" value="{filler}"></label>
<button>Set filler</button>
</form>
</body>
</html>
"#,
        visits = v.visits,
        id = v.session_id,
        created = v.created,
        expires = v.expires,
        persistent = if v.persistent { "yes" } else { "no" },
        filler = v.filler_bytes,
        max_user = MAX_USER_LEN,
        max_grow = MAX_GROW_BYTES,
    );
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(body))
}

/// HTML text and attribute escaping.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Form fields of the POST routes; all optional so that a request carrying
/// its token in `x-csrf-token` needs no body.
#[derive(Debug, Default, Deserialize)]
struct Fields {
    user: Option<String>,
    bytes: Option<String>,
}

fn fields(form: Option<web::Form<Fields>>) -> Fields {
    form.map(web::Form::into_inner).unwrap_or_default()
}

fn see_other() -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/"))
        .finish()
}

async fn login(
    session: Session<DemoSession>,
    form: Option<web::Form<Fields>>,
) -> actix_web::Result<HttpResponse> {
    let fields = fields(form);
    let Some(user) = fields
        .user
        .filter(|u| !u.is_empty() && u.len() <= MAX_USER_LEN)
    else {
        return Ok(HttpResponse::BadRequest().body("user: 1 to 256 bytes required"));
    };
    // A new session id at sign-in (session fixation).
    session.regenerate(Some(&user)).map_err(internal)?;
    session.update(|s| s.user = Some(user));
    Ok(see_other())
}

async fn logout(session: Session<DemoSession>, form: Option<web::Form<Fields>>) -> HttpResponse {
    let _ = fields(form);
    session.clear();
    see_other()
}

/// Ends every session of the signed-in user on every instance that shares
/// the store (`SESSION_REDIS_URL`); 409 without a store or a user.
async fn logout_everywhere(
    session: Session<DemoSession>,
    form: Option<web::Form<Fields>>,
) -> HttpResponse {
    let _ = fields(form);
    let (Some(store), Some(user)) = (
        session.sessions().freshness_store(),
        session.get().and_then(|s| s.user),
    ) else {
        return HttpResponse::Conflict().body("needs a signed-in user and SESSION_REDIS_URL\n");
    };
    match store
        .revoke_subject(&user, time::OffsetDateTime::now_utc())
        .await
    {
        Ok(()) => {
            session.clear();
            see_other()
        }
        Err(_) => HttpResponse::ServiceUnavailable().body("the store is unavailable\n"),
    }
}

async fn grow(
    session: Session<DemoSession>,
    form: Option<web::Form<Fields>>,
) -> actix_web::Result<HttpResponse> {
    let fields = fields(form);
    let Some(bytes) = fields
        .bytes
        .and_then(|b| b.trim().parse::<usize>().ok())
        .filter(|b| *b <= MAX_GROW_BYTES)
    else {
        return Ok(HttpResponse::BadRequest().body("bytes: 0 to 16384 required"));
    };
    let previous = session.update(|s| std::mem::replace(&mut s.filler, "x".repeat(bytes)));
    // Seal now, so an oversized session is answered here instead of
    // failing in the middleware.
    match session.flush() {
        Ok(()) => Ok(see_other()),
        Err(e) if e.kind() == ErrorKind::TooLarge => {
            session.update(|s| s.filler = previous);
            Ok(HttpResponse::PayloadTooLarge().body("the session would not fit its cookies"))
        }
        Err(e) => Err(internal(e)),
    }
}

/// Reads the environment and serves the demo on 127.0.0.1.
#[actix_web::main]
async fn main() -> io::Result<()> {
    let fail = |message: String| -> ! {
        eprintln!("error: {message}");
        std::process::exit(2);
    };
    let settings = Settings::from_env().unwrap_or_else(|m| fail(m));
    let store = store_from_env(settings.lifetime())
        .await
        .unwrap_or_else(|e| fail(format!("SESSION_REDIS_URL: {e}")));
    let cookies = settings
        .session_cookies_with(Arc::new(SystemClock), store)
        .unwrap_or_else(|e| fail(format!("SESSION_* settings: {e}")));
    if settings.generated_keys {
        eprintln!(
            "warning: SESSION_KEYS is not set; using a freshly generated keyring, so sessions \
             do not survive a restart. To keep them, set\n  SESSION_KEYS={}",
            settings.keyring.to_secret_string().as_str()
        );
    }
    let port = settings.port;
    eprintln!("listening on http://127.0.0.1:{port}");
    HttpServer::new(move || app(cookies.clone()))
        .bind(("127.0.0.1", port))?
        .run()
        .await
}

/// With `SESSION_REDIS_URL` (and the `redis` feature), the fleet's shared
/// store; without it, the demo is stateless.
async fn store_from_env(
    lifetime: Lifetime,
) -> Result<Option<Arc<dyn sealed_session::FreshnessStore>>, String> {
    let Ok(url) = std::env::var("SESSION_REDIS_URL") else {
        return Ok(None);
    };
    #[cfg(feature = "redis")]
    {
        let options = sealed_session::RedisOptions::default().lifetime(lifetime);
        let store = sealed_session::RedisStore::connect(&url, options)
            .await
            .map_err(|e| e.to_string())?;
        eprintln!("sessions read through the Redis store at SESSION_REDIS_URL");
        Ok(Some(Arc::new(store)))
    }
    #[cfg(not(feature = "redis"))]
    {
        let _ = (url, lifetime);
        Err("needs the redis feature: --features actix-web,redis".to_owned())
    }
}
