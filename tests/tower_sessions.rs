//! The tower-sessions layer with the crates that need it: axum-login's
//! sign-in, protected route and sign-out, axum-messages' flash message
//! across a redirect, and the `tower_sessions::Session` calls apps rely
//! on (cycle_id, flush, delete, expiry, get/insert/remove), each on a real
//! server on 127.0.0.1 with reqwest and its cookie jar (the conformance
//! style of `tests/conformance`).

#![cfg(feature = "tower-sessions")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::missing_panics_doc,
    reason = "test code: a panic is a failed test"
)]

mod conformance;

use std::sync::Arc;

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use axum_login::{AuthManager, AuthSession, AuthUser, AuthnBackend, UserId, login_required};
use axum_messages::{Messages, MessagesManagerLayer};
use conformance::{Browser, NAME, Server};
use sealed_session::tower_sessions::JsonRecord;
use sealed_session::{
    CookiePolicy, CookiePolicyBuilder, FreshnessStore, KeyId, Keyring, Lifetime, ManualClock,
    MemoryStore, Persistence, Session, SessionMeta, Sessions,
};
use serde::Deserialize;
use time::Duration;
use tower_sessions::Expiry;

async fn serve(app: Router) -> Server {
    conformance::serve_axum(app).await
}

/// The conformance configuration (12 h absolute, 30 min idle, 4 chunks)
/// with `policy`'s budgets and persistence, and optionally a store.
fn sessions_with(
    keyring: &Keyring,
    clock: &ManualClock,
    policy: CookiePolicyBuilder,
    store: Option<Arc<dyn FreshnessStore>>,
) -> Sessions {
    let mut lifetime = Lifetime::default();
    lifetime.absolute = Duration::seconds(conformance::ABSOLUTE_SECS);
    lifetime.idle = Duration::seconds(conformance::IDLE_SECS);
    let mut builder = Sessions::builder(keyring.clone())
        .lifetime(lifetime)
        .clock(Arc::new(clock.clone()))
        .cookie(policy.chunked(conformance::CHUNKS).build().unwrap());
    if let Some(store) = store {
        builder = builder.store(store);
    }
    builder.build().unwrap()
}

fn sessions(clock: &ManualClock) -> Sessions {
    sessions_with(&keyring(), clock, CookiePolicy::builder(), None)
}

fn keyring() -> Keyring {
    Keyring::generate(KeyId(1)).unwrap()
}

/// What the browser's cookies hold for `sessions`, opened as the server
/// would: the metadata and the record's JSON.
fn opened(sessions: &Sessions, b: &Browser, server: &Server) -> Option<(SessionMeta, String)> {
    let header = b
        .cookies(server)
        .iter()
        .map(|(n, v)| format!("{n}={v}"))
        .collect::<Vec<_>>()
        .join("; ");
    let opened = sessions.open_raw([header.as_str()]).session?;
    // postcard's byte string: a varint length, then the JSON.
    let json = match opened.data.first() {
        None => &[][..],
        Some(&b) if b < 0x80 => &opened.data[1..],
        Some(_) => &opened.data[2..],
    };
    Some((opened.meta, String::from_utf8(json.to_vec()).unwrap()))
}

// ------------------------------------------------------------ axum-login

#[derive(Clone)]
struct User {
    id: u64,
    name: &'static str,
    password: &'static str,
}

impl core::fmt::Debug for User {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("User").field("id", &self.id).finish()
    }
}

impl AuthUser for User {
    type Id = u64;

    fn id(&self) -> u64 {
        self.id
    }

    /// The password stands in for its hash: changing it ends sessions.
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
        Ok(self
            .users
            .iter()
            .find(|u| u.name == creds.name && u.password == creds.password)
            .cloned())
    }

    async fn get_user(&self, id: &UserId<Self>) -> Result<Option<User>, Self::Error> {
        Ok(self.users.iter().find(|u| u.id == *id).cloned())
    }
}

fn login_app(sessions: &Sessions) -> Router {
    async fn protected(auth: AuthSession<Backend>) -> String {
        format!("hello {}", auth.user.map_or("?", |u| u.name))
    }
    /// The sign-in form's token: the page starts the session it belongs to.
    async fn csrf(handle: Session<JsonRecord>) -> String {
        handle.csrf_token().unwrap()
    }
    async fn login(mut auth: AuthSession<Backend>, Form(creds): Form<Credentials>) -> Response {
        match auth.authenticate(creds).await {
            Ok(Some(user)) => match auth.login(&user).await {
                Ok(()) => Redirect::to("/protected").into_response(),
                Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
            },
            Ok(None) => StatusCode::UNAUTHORIZED.into_response(),
            Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        }
    }
    async fn logout(mut auth: AuthSession<Backend>) -> Response {
        match auth.logout().await {
            Ok(_) => Redirect::to("/login").into_response(),
            Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        }
    }
    let backend = Backend {
        users: vec![User {
            id: 7,
            name: "gina",
            password: "correct horse",
        }],
    };
    Router::new()
        .route("/protected", get(protected))
        .route_layer(login_required!(Backend, login_url = "/login"))
        .route("/login", get(csrf).post(login))
        .route("/logout", post(logout))
        .layer(tower_layer::layer_fn(move |inner| {
            AuthManager::new(inner, backend.clone(), "axum-login.data")
        }))
        .layer(sessions.csrf::<JsonRecord>())
        .layer(sessions.tower_sessions_layer())
}

/// Sign-in (with the CSRF token, a new session id), the protected route,
/// sign-out (the cookie removed), all through axum-login on this layer.
#[tokio::test]
async fn axum_login_signs_in_guards_a_route_and_signs_out() {
    let clock = conformance::clock();
    let sessions = sessions(&clock);
    let server = serve(login_app(&sessions)).await;
    let b = Browser::new();

    let reply = b.get(&server, "/protected").await;
    assert_eq!(reply.status, 307, "{reply:?}");
    assert!(reply.location.unwrap().starts_with("/login?next="));
    assert!(reply.set_cookies.is_empty(), "no session, none started");

    let token = b.get(&server, "/login").await;
    assert!(token.writes(NAME), "the token's session is written");
    let (before, json) = opened(&sessions, &b, &server).unwrap();
    assert_eq!(json, "", "a session with only a token holds no record");

    let creds = [("name", "gina"), ("password", "correct horse")];
    let refused = b.post(&server, "/login", &creds).await;
    assert_eq!(
        refused.status, 403,
        "no CSRF token: refused before axum-login"
    );

    let form = [creds[0], creds[1], ("csrf", token.body.as_str())];
    // Login CSRF: a cross-site sign-in is refused even with the right
    // token, by Fetch Metadata and, without it, by Origin.
    for header in [
        ("sec-fetch-site", "cross-site".to_owned()),
        ("origin", "https://attacker.example".to_owned()),
    ] {
        let cross = b
            .post_with_headers(&server, "/login", &form, std::slice::from_ref(&header))
            .await;
        assert_eq!(cross.status, 403, "{header:?}: {cross:?}");
        assert!(cross.set_cookies.is_empty(), "{header:?}: nobody signed in");
    }
    let wrong = [creds[0], ("password", "nope"), form[2]];
    assert_eq!(b.post(&server, "/login", &wrong).await.status, 401);
    let reply = b.post(&server, "/login", &form).await;
    assert_eq!(reply.status, 303, "{reply:?}");
    assert!(reply.writes(NAME));
    let (after, json) = opened(&sessions, &b, &server).unwrap();
    assert_ne!(
        after.id(),
        before.id(),
        "cycle_id at sign-in: a new session id"
    );
    let record: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(record["axum-login.data"]["user_id"], 7, "{json}");

    let reply = b.get(&server, "/protected").await;
    assert_eq!((reply.status, reply.body.as_str()), (200, "hello gina"));
    assert!(reply.set_cookies.is_empty(), "a read writes nothing");

    // Sign-out needs the new session's token: the old one no longer
    // verifies.
    let old = [("csrf", token.body.as_str())];
    assert_eq!(b.post(&server, "/logout", &old).await.status, 403);
    let token = b.get(&server, "/login").await.body;
    let reply = b.post(&server, "/logout", &[("csrf", &token)]).await;
    assert_eq!(reply.status, 303, "{reply:?}");
    assert!(reply.removes(NAME), "{:?}", reply.set_cookies);
    assert!(b.cookie(&server, NAME).is_none());
    assert_eq!(b.get(&server, "/protected").await.status, 307);
}

// --------------------------------------------------------- axum-messages

fn messages_app(sessions: &Sessions) -> Router {
    async fn set(messages: Messages) -> Redirect {
        let _ = messages.info("saved").warning("twice");
        Redirect::to("/")
    }
    async fn read(messages: Messages) -> String {
        messages
            .map(|m| format!("{}: {}", m.level, m.message))
            .collect::<Vec<_>>()
            .join("\n")
    }
    Router::new()
        .route("/", get(read))
        .route("/set", post(set))
        .layer(MessagesManagerLayer)
        .layer(sessions.tower_sessions_layer())
}

/// A flash message set before a redirect is shown once after it.
#[tokio::test]
async fn axum_messages_flash_survives_one_redirect() {
    let clock = conformance::clock();
    let sessions = sessions(&clock);
    let server = serve(messages_app(&sessions)).await;
    let b = Browser::new();

    assert_eq!(b.get(&server, "/").await.body, "");
    let reply = b.post(&server, "/set", &[]).await;
    assert_eq!(reply.status, 303);
    assert!(reply.writes(NAME));
    let (_, json) = opened(&sessions, &b, &server).unwrap();
    assert!(json.contains("axum-messages.data") && json.contains("saved"));

    let reply = b.get(&server, "/").await;
    assert_eq!(reply.body, "Info: saved\nWarning: twice");
    assert!(reply.writes(NAME), "the shown messages are taken out");
    assert_eq!(b.get(&server, "/").await.body, "", "shown once");
}

// ------------------------------------------- tower_sessions::Session calls

/// Routes that each make one `tower_sessions::Session` call.
fn calls_app(
    sessions: &Sessions,
    layer: sealed_session::tower_sessions::TowerSessionsLayer,
) -> Router {
    type S = tower_sessions::Session;
    async fn get_key(s: S) -> String {
        match s.get::<String>("k").await.unwrap() {
            Some(v) => v,
            None => "none".into(),
        }
    }
    async fn set(s: S, Path(v): Path<String>) -> &'static str {
        s.insert("k", v).await.unwrap();
        "ok"
    }
    async fn remove(s: S) -> String {
        format!("{:?}", s.remove::<String>("k").await.unwrap())
    }
    async fn cycle(s: S) -> &'static str {
        s.cycle_id().await.unwrap();
        "ok"
    }
    async fn flush(s: S) -> &'static str {
        s.flush().await.unwrap();
        "ok"
    }
    async fn delete(s: S) -> &'static str {
        s.delete().await.unwrap();
        "ok"
    }
    /// Checks with `save()`, so the handler answers a session too big
    /// (and puts the record back as it was, or the layer answers 500).
    async fn grow(s: S, Path(n): Path<usize>) -> Response {
        let previous = s.get::<String>("big").await.unwrap();
        s.insert("big", "x".repeat(n)).await.unwrap();
        match s.save().await {
            Ok(()) => "ok".into_response(),
            Err(e) => {
                match previous {
                    Some(previous) => s.insert("big", previous).await.unwrap(),
                    None => drop(s.remove_value("big").await.unwrap()),
                }
                (StatusCode::PAYLOAD_TOO_LARGE, e.to_string()).into_response()
            }
        }
    }
    /// No check: the layer finds out after the handler.
    async fn grow_unchecked(s: S, Path(n): Path<usize>) -> &'static str {
        s.insert("big", "x".repeat(n)).await.unwrap();
        "ok"
    }
    /// Expires the session `secs` from now, checked first.
    async fn expire_at(s: S, handle: Session<JsonRecord>, Path(secs): Path<i64>) -> Response {
        let at = handle.sessions().codec().now() + Duration::seconds(secs);
        let expiry = Some(Expiry::AtDateTime(at));
        if let Err(e) = handle.check_expiry(expiry) {
            return (StatusCode::UNPROCESSABLE_ENTITY, e.to_string()).into_response();
        }
        s.set_expiry(expiry);
        s.insert("k", "dated").await.unwrap();
        "ok".into_response()
    }
    async fn expire_at_unchecked(
        s: S,
        handle: Session<JsonRecord>,
        Path(secs): Path<i64>,
    ) -> Response {
        let at = handle.sessions().codec().now() + Duration::seconds(secs);
        s.set_expiry(Some(Expiry::AtDateTime(at)));
        s.insert("k", "dated").await.unwrap();
        match s.save().await {
            Ok(()) => "saved".into_response(),
            Err(e) => {
                s.set_expiry(None);
                (StatusCode::UNPROCESSABLE_ENTITY, e.to_string()).into_response()
            }
        }
    }
    async fn on_session_end(s: S) -> &'static str {
        s.set_expiry(Some(Expiry::OnSessionEnd));
        "ok"
    }
    Router::new()
        .route("/get", get(get_key))
        .route("/set/{v}", get(set))
        .route("/remove", get(remove))
        .route("/cycle", get(cycle))
        .route("/flush", get(flush))
        .route("/delete", get(delete))
        .route("/grow/{n}", get(grow))
        .route("/grow-unchecked/{n}", get(grow_unchecked))
        .route("/expire-at/{secs}", get(expire_at))
        .route("/expire-at-unchecked/{secs}", get(expire_at_unchecked))
        .route("/on-session-end", get(on_session_end))
        .with_state(sessions.clone())
        .layer(layer)
}

async fn calls_server(sessions: &Sessions) -> Server {
    serve(calls_app(sessions, sessions.tower_sessions_layer())).await
}

/// `insert`, `get::<T>` and `remove` work across requests.
#[tokio::test]
async fn get_insert_and_remove_work_across_requests() {
    let clock = conformance::clock();
    let sessions = sessions(&clock);
    let server = calls_server(&sessions).await;
    let b = Browser::new();
    assert_eq!(b.get(&server, "/get").await.body, "none");
    assert!(b.get(&server, "/set/tea").await.writes(NAME));
    let reply = b.get(&server, "/get").await;
    assert_eq!(reply.body, "tea");
    assert!(reply.set_cookies.is_empty(), "a read writes nothing");
    assert_eq!(b.get(&server, "/remove").await.body, "Some(\"tea\")");
    assert_eq!(b.get(&server, "/get").await.body, "none");
    let (_, json) = opened(&sessions, &b, &server).unwrap();
    assert_eq!(json, "{}", "an emptied record is still a session");
}

/// `cycle_id`: a new sealed session id, the data kept, the old cookie
/// replaced; with a freshness store, a copy of the old cookie is refused.
#[tokio::test]
async fn cycle_id_gives_a_new_session_and_revokes_the_old_one() {
    let clock = conformance::clock();
    let store = Arc::new(MemoryStore::new(1000, &Lifetime::default()));
    let keyring = keyring();
    let served = sessions_with(&keyring, &clock, CookiePolicy::builder(), Some(store));
    let server = calls_server(&served).await;
    // The same keys without the store, to read the browser's cookie.
    let sessions = sessions_with(&keyring, &clock, CookiePolicy::builder(), None);
    let b = Browser::new();
    b.get(&server, "/set/tea").await;
    let old_value = b.cookie(&server, NAME).unwrap();
    let (before, _) = opened(&sessions, &b, &server).unwrap();

    let reply = b.get(&server, "/cycle").await;
    assert!(reply.writes(NAME), "{:?}", reply.set_cookies);
    let (after, json) = opened(&sessions, &b, &server).unwrap();
    assert_ne!(after.id(), before.id());
    assert!(after.created() >= before.created());
    assert_eq!(json, r#"{"k":"tea"}"#, "the data is kept");
    assert_eq!(b.get(&server, "/get").await.body, "tea");

    let copy = Browser::new();
    copy.set_cookie(&server, NAME, &old_value);
    let reply = copy.get(&server, "/get").await;
    assert_eq!(reply.body, "none", "the old value is revoked");
    assert!(reply.removes(NAME));
}

/// `flush` and `delete` remove the cookie; the next request has no
/// session.
#[tokio::test]
async fn flush_and_delete_remove_the_cookies() {
    let clock = conformance::clock();
    let raised = CookiePolicy::builder()
        .cookie_header_budget(conformance::RAISED_COOKIE_BUDGET)
        .set_cookie_budget(conformance::RAISED_SET_COOKIE_BUDGET);
    let sessions = sessions_with(&keyring(), &clock, raised, None);
    let server = calls_server(&sessions).await;
    for call in ["/flush", "/delete"] {
        let b = Browser::new();
        b.get(&server, "/set/tea").await;
        assert!(b.cookie(&server, NAME).is_some());
        let reply = b.get(&server, call).await;
        assert!(reply.removes(NAME), "{call}: {:?}", reply.set_cookies);
        assert!(b.cookie(&server, NAME).is_none(), "{call}");
        assert_eq!(b.get(&server, "/get").await.body, "none", "{call}");
    }
    // Chunked sessions lose every chunk.
    let b = Browser::new();
    assert_eq!(b.get(&server, "/grow/5000").await.status, 200);
    assert!(b.cookie(&server, &format!("{NAME}.1")).is_some());
    let reply = b.get(&server, "/flush").await;
    assert!(reply.removes(&format!("{NAME}.0")) && reply.removes(&format!("{NAME}.1")));
    assert!(b.cookies(&server).is_empty());
}

/// A tampered cookie is "no session": nothing of it reaches the handler,
/// the response removes it, and no reason is given.
#[tokio::test]
async fn a_tampered_cookie_is_no_session() {
    let clock = conformance::clock();
    let sessions = sessions(&clock);
    let server = calls_server(&sessions).await;
    let b = Browser::new();
    b.get(&server, "/set/tea").await;
    let value = b.cookie(&server, NAME).unwrap();
    let mid = value.len() / 2;
    let flipped = if &value[mid..=mid] == "A" { "B" } else { "A" };
    let tampered = format!("{}{flipped}{}", &value[..mid], &value[mid + 1..]);
    b.set_cookie(&server, NAME, &tampered);
    let reply = b.get(&server, "/get").await;
    assert_eq!((reply.status, reply.body.as_str()), (200, "none"));
    assert!(reply.removes(NAME));
    // Garbage that is not even base64 reads the same.
    b.set_cookie(&server, NAME, "not-a-sealed-value");
    assert_eq!(b.get(&server, "/get").await.body, "none");
}

/// The size budgets answer with an error, never a too-big response: a
/// handler that calls `save()` gets it; otherwise the layer answers 500.
#[tokio::test]
async fn a_record_past_the_budgets_is_an_error_not_a_big_response() {
    let clock = conformance::clock();
    // The default budgets: 3072 bytes of Set-Cookie lines per response.
    let sessions = sessions_with(&keyring(), &clock, CookiePolicy::builder(), None);
    let server = calls_server(&sessions).await;
    let b = Browser::new();
    let reply = b.get(&server, "/grow/2000").await;
    assert_eq!(reply.status, 200, "{reply:?}");
    // About 3300 bytes sealed: fits the chunks, not the Set-Cookie budget.
    let reply = b.get(&server, "/grow/2400").await;
    assert_eq!(reply.status, 413, "{reply:?}");
    assert!(reply.body.contains("too large"), "{}", reply.body);
    assert!(reply.header_bytes < conformance::NGINX_RESPONSE_HEADER);
    let reply = b.get(&server, "/grow-unchecked/2400").await;
    assert_eq!(reply.status, 500);
    assert!(reply.set_cookies.is_empty() && reply.body.is_empty());
    let reply = b.get(&server, "/grow-unchecked/100000").await;
    assert_eq!(reply.status, 500);
    assert!(reply.header_bytes < conformance::NGINX_RESPONSE_HEADER);
    // The session from before is untouched.
    let (_, json) = opened(&sessions, &b, &server).unwrap();
    assert_eq!(json.len(), r#"{"big":""}"#.len() + 2000);
}

/// Expiry: `AtDateTime` is sealed as the deadline (and refused past the
/// absolute lifetime), `OnSessionEnd` writes a browser-session cookie,
/// `OnInactivity` must be the idle timeout.
#[tokio::test]
async fn expiry_settings_map_onto_the_lifetimes() {
    let clock = conformance::clock();
    let persistent = CookiePolicy::builder().persistence(Persistence::UntilExpiry);
    let sessions = sessions_with(&keyring(), &clock, persistent, None);
    let server = calls_server(&sessions).await;
    let b = Browser::new();

    let reply = b.get(&server, "/expire-at/3600").await;
    assert_eq!(reply.status, 200, "{reply:?}");
    let set = reply.set_cookie(NAME).unwrap();
    assert!(set.contains("Max-Age=3600"), "{set}");
    let (meta, _) = opened(&sessions, &b, &server).unwrap();
    assert_eq!(
        meta.expires(),
        sessions.codec().now() + Duration::seconds(3600)
    );
    // The server refuses it from then on, whatever the browser keeps.
    let value = b.cookie(&server, NAME).unwrap();
    clock.advance(Duration::seconds(3600));
    let late = Browser::new();
    late.set_cookie(&server, NAME, &value);
    assert_eq!(late.get(&server, "/get").await.body, "none");

    // Past the 12 h absolute lifetime: refused by the check, by save(),
    // and by the layer.
    let past = conformance::ABSOLUTE_SECS + 60;
    let reply = b.get(&server, &format!("/expire-at/{past}")).await;
    assert_eq!(reply.status, 422);
    assert!(reply.body.contains("absolute lifetime"), "{}", reply.body);
    let reply = b
        .get(&server, &format!("/expire-at-unchecked/{past}"))
        .await;
    assert_eq!(reply.status, 422);
    assert!(reply.body.contains("absolute lifetime"), "{}", reply.body);

    // OnSessionEnd: no Max-Age, though the policy persists cookies.
    let b = Browser::new();
    let set = b.get(&server, "/set/tea").await;
    assert!(set.set_cookie(NAME).unwrap().contains("Max-Age="));
    let reply = b.get(&server, "/on-session-end").await;
    let set = reply.set_cookie(NAME).unwrap();
    assert!(
        !set.contains("Max-Age=") && !set.contains("Expires="),
        "{set}"
    );
    assert_eq!(b.get(&server, "/get").await.body, "tea");

    // The layer's expiry applies to every request.
    let idle = sessions.codec().lifetime().idle;
    let layer = sessions.tower_sessions_layer();
    assert!(
        layer
            .clone()
            .with_expiry(Expiry::OnInactivity(idle))
            .is_ok()
    );
    let e = layer
        .clone()
        .with_expiry(Expiry::OnInactivity(idle * 2))
        .unwrap_err();
    assert!(e.to_string().contains("Lifetime::idle"), "{e}");
    let layer = layer.with_expiry(Expiry::OnSessionEnd).unwrap();
    let server = serve(calls_app(&sessions, layer)).await;
    let set = Browser::new().get(&server, "/set/tea").await;
    assert!(!set.set_cookie(NAME).unwrap().contains("Max-Age="));
}
