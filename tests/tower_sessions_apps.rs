//! The tower-sessions apps users copy, run end to end on 127.0.0.1 with
//! reqwest and its cookie jar (the conformance suite's `Browser`):
//!
//! - the README's app under "With tower-sessions (axum-login,
//!   axum-messages)": its block is `tests/readme/tower_sessions_app.rs` to
//!   the letter (checked here), served with an in-memory axum-login
//!   backend;
//! - `examples/tower_sessions.rs`, the migrated axum-login +
//!   axum-messages app: sign-in, the protected route, the flash messages,
//!   sign-out.

#![cfg(feature = "tower-sessions")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::missing_panics_doc,
    reason = "test code: a panic is a failed test"
)]

mod conformance;

#[path = "readme/block.rs"]
mod block;

#[allow(
    dead_code,
    unreachable_pub,
    reason = "sessions() reads SESSION_KEYS; the test runs app()"
)]
mod readme_app {
    include!("readme/tower_sessions_app.rs");
}

#[allow(
    dead_code,
    unreachable_pub,
    reason = "the example's main binds port 3000; the test runs app()"
)]
#[path = "../examples/tower_sessions.rs"]
mod example;

use axum::Router;
use axum::response::Redirect;
use axum::routing::get;
use axum_login::{AuthUser, AuthnBackend, UserId};
use axum_messages::{Messages, MessagesManagerLayer};
use conformance::{Browser, NAME, Server};
use sealed_session::{CSRF_TOKEN_LEN, KeyId, Keyring, SessionId, Sessions};

async fn serve(app: Router) -> Server {
    conformance::serve_axum(app).await
}

fn sessions() -> Sessions {
    Sessions::builder(Keyring::generate(KeyId(1)).unwrap())
        .build()
        .unwrap()
}

/// The session id and the record a cookie value holds for `sessions`,
/// opened as the server would (`None`: the value does not open).
fn opened(sessions: &Sessions, value: &str) -> Option<(SessionId, serde_json::Value)> {
    let header = format!("{NAME}={value}");
    let opened = sessions.open_raw([header.as_str()]).session?;
    // postcard's byte string: a varint length, then the JSON.
    let json = match opened.data.first() {
        None => return Some((opened.meta.id(), serde_json::Value::Null)),
        Some(&b) if b < 0x80 => &opened.data[1..],
        Some(_) => &opened.data[2..],
    };
    Some((opened.meta.id(), serde_json::from_slice(json).unwrap()))
}

/// `value` with one character in the middle changed.
fn tamper(value: &str) -> String {
    let mid = value.len() / 2;
    let flipped = if &value[mid..=mid] == "A" { "B" } else { "A" };
    format!("{}{flipped}{}", &value[..mid], &value[mid + 1..])
}

// ------------------------------------------------------- the README's app

#[test]
fn the_readme_shows_the_tower_sessions_app_to_the_letter() {
    assert_eq!(
        block::readme_block("## With tower-sessions"),
        include_str!("readme/tower_sessions_app.rs")
    );
}

/// A user and a backend for axum-login: the README app takes any.
#[derive(Clone, Debug)]
struct User(u64);

impl AuthUser for User {
    type Id = u64;

    fn id(&self) -> u64 {
        self.0
    }

    fn session_auth_hash(&self) -> &[u8] {
        b"hash"
    }
}

#[derive(Clone, Debug)]
struct Backend {
    users: Vec<(u64, &'static str)>,
}

impl AuthnBackend for Backend {
    type User = User;
    type Credentials = (String, String);
    type Error = std::io::Error;

    async fn authenticate(
        &self,
        (name, password): (String, String),
    ) -> Result<Option<User>, Self::Error> {
        let found = self.users.iter().find(|(_, n)| *n == name);
        Ok(found
            .filter(|_| password == "correct horse")
            .map(|&(id, _)| User(id)))
    }

    async fn get_user(&self, id: &UserId<Self>) -> Result<Option<User>, Self::Error> {
        Ok(self
            .users
            .iter()
            .find(|(i, _)| i == id)
            .map(|&(i, _)| User(i)))
    }
}

/// The README page, `visit N; [flashes]; csrf TOKEN`, split up.
#[derive(Debug, PartialEq)]
struct Page {
    visit: u64,
    flashes: String,
    csrf: String,
}

fn page(body: &str) -> Page {
    let rest = body
        .strip_prefix("visit ")
        .unwrap_or_else(|| panic!("{body}"));
    let (visit, rest) = rest.split_once("; ").unwrap();
    let (flashes, csrf) = rest.rsplit_once("; csrf ").unwrap();
    Page {
        visit: visit.parse().unwrap(),
        flashes: flashes.to_owned(),
        csrf: csrf.to_owned(),
    }
}

/// A second app on the same keys that sets a flash message and redirects
/// to `to`: the README app has no route that sets one, only the one that
/// shows them. The two servers share the browser's cookie (one host).
fn flash_setter(sessions: &Sessions, to: String) -> Router {
    Router::new()
        .route(
            "/flash",
            get(move |messages: Messages| async move {
                let _ = messages.info("saved");
                Redirect::to(&to)
            }),
        )
        .layer(MessagesManagerLayer)
        .layer(sessions.tower_sessions_layer())
}

/// Visits counted in the sealed record across requests, the handle's CSRF
/// token on the page (masked anew on each page, each one taken by the CSRF
/// layer while the session lasts), a flash message shown once, and a
/// tampered cookie read as no session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_tower_sessions_app_counts_visits_keeps_the_token_and_drops_a_tampered_cookie() {
    let sessions = sessions();
    let backend = Backend {
        users: vec![(7, "gina")],
    };
    let server = serve(readme_app::app(&sessions, backend)).await;
    let b = Browser::new();

    // First visit: one visit, no flash, a token; the session is written.
    let reply = b.get(&server, "/").await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert!(reply.writes(NAME), "{reply:?}");
    let first = page(&reply.body);
    assert_eq!((first.visit, first.flashes.as_str()), (1, "[]"));
    assert_eq!(first.csrf.len(), CSRF_TOKEN_LEN, "{}", reply.body);
    let (id, record) = opened(&sessions, &b.cookie(&server, NAME).unwrap()).unwrap();
    assert_eq!(record["visits"], 1, "{record}");

    // Second visit: the session survives.
    let reply = b.get(&server, "/").await;
    let second = page(&reply.body);
    assert_eq!((second.visit, second.flashes.as_str()), (2, "[]"));
    assert_eq!(second.csrf.len(), CSRF_TOKEN_LEN, "{}", reply.body);
    let (same, record) = opened(&sessions, &b.cookie(&server, NAME).unwrap()).unwrap();
    assert_eq!(record["visits"], 2, "{record}");
    assert!(same == id, "the same session");

    // The tokens are the session's: the CSRF layer refuses a POST without
    // one or with another browser's, and lets both pages' through (to the
    // router's 405: `/` only answers GET).
    assert_eq!(b.post(&server, "/", &[]).await.status, 403);
    let other = page(&Browser::new().get(&server, "/").await.body).csrf;
    assert_eq!(b.post(&server, "/", &[("csrf", &other)]).await.status, 403);
    for token in [&first.csrf, &second.csrf] {
        assert_eq!(b.post(&server, "/", &[("csrf", token)]).await.status, 405);
    }

    // A flash message set before a redirect shows on the README page
    // once.
    let setter = serve(flash_setter(&sessions, format!("{}/", server.base))).await;
    let reply = b.get(&setter, "/flash").await;
    assert_eq!(reply.status, 303, "{reply:?}");
    let to = reply.location.unwrap();
    assert_eq!(to, format!("{}/", server.base));
    let shown = page(&b.get_url(&to).await.body);
    assert_eq!((shown.visit, shown.flashes.as_str()), (3, r#"["saved"]"#));
    let after = page(&b.get(&server, "/").await.body);
    assert_eq!(
        (after.visit, after.flashes.as_str()),
        (4, "[]"),
        "shown once"
    );

    // A tampered cookie is no session: the count starts again in a new
    // session, whose token is not the old one's. The value it was made
    // from still opens.
    let value = b.cookie(&server, NAME).unwrap();
    let tampered = tamper(&value);
    assert!(opened(&sessions, &tampered).is_none());
    b.set_cookie(&server, NAME, &tampered);
    let reply = b.get(&server, "/").await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert!(reply.writes(NAME), "a fresh session replaces it");
    let fresh = page(&reply.body);
    assert_eq!((fresh.visit, fresh.flashes.as_str()), (1, "[]"));
    let (new, _) = opened(&sessions, &b.cookie(&server, NAME).unwrap()).unwrap();
    assert!(new != id, "a new session");
    let old = [("csrf", first.csrf.as_str())];
    assert_eq!(b.post(&server, "/", &old).await.status, 403);
    let token = [("csrf", fresh.csrf.as_str())];
    assert_eq!(b.post(&server, "/", &token).await.status, 405);
    let copy = Browser::new();
    copy.set_cookie(&server, NAME, &value);
    assert_eq!(page(&copy.get(&server, "/").await.body).visit, 5);
}

// ------------------------------------------------ examples/tower_sessions.rs

/// The `csrf` field's value in one of the example's forms.
fn form_token(body: &str) -> String {
    let rest = body
        .split_once("name=csrf value=")
        .unwrap_or_else(|| panic!("{body}"))
        .1;
    rest[..rest.find('>').unwrap()].to_owned()
}

/// The example's protected page bounces to sign-in; a wrong password and
/// then the right one (with the form's token) flash once after their
/// redirects; the session id changes at sign-in; sign-out takes the new
/// token, removes the cookie and guards the page again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tower_sessions_example_signs_in_guards_a_page_flashes_and_signs_out() {
    let sessions = sessions();
    let server = serve(example::app(&sessions)).await;
    let b = Browser::new();

    let reply = b.get(&server, "/").await;
    assert_eq!(reply.status, 307, "{reply:?}");
    assert_eq!(reply.location.as_deref(), Some("/login?next=%2F"));

    let reply = b.get(&server, "/login").await;
    assert_eq!(reply.status, 200);
    assert!(reply.writes(NAME), "the form's token starts the session");
    assert!(
        reply.body.starts_with("<form method=post>"),
        "{}",
        reply.body
    );
    let token = form_token(&reply.body);
    assert_eq!(token.len(), CSRF_TOKEN_LEN);
    let (before, _) = opened(&sessions, &b.cookie(&server, NAME).unwrap()).unwrap();

    // No token: refused before axum-login sees the password.
    let creds = [("name", "gina"), ("password", "correct horse")];
    assert_eq!(b.post(&server, "/login", &creds).await.status, 403);

    // A wrong password: back to the form, with the error flashed once.
    let wrong = [creds[0], ("password", "nope"), ("csrf", &token)];
    let reply = b.post(&server, "/login", &wrong).await;
    assert_eq!(reply.status, 303, "{reply:?}");
    assert_eq!(reply.location.as_deref(), Some("/login"));
    let body = b.get(&server, "/login").await.body;
    assert!(
        body.starts_with("<p>Error: Wrong name or password.</p><form"),
        "{body}"
    );
    let body = b.get(&server, "/login").await.body;
    assert!(body.starts_with("<form"), "shown once: {body}");
    assert_eq!(b.get(&server, "/").await.status, 307, "still signed out");

    // The right password: a new session, the welcome flashed once on the
    // protected page.
    let right = [creds[0], creds[1], ("csrf", &token)];
    let reply = b.post(&server, "/login", &right).await;
    assert_eq!(reply.status, 303, "{reply:?}");
    assert_eq!(reply.location.as_deref(), Some("/"));
    assert!(reply.writes(NAME));
    let (after, record) = opened(&sessions, &b.cookie(&server, NAME).unwrap()).unwrap();
    assert_eq!(record["axum-login.data"]["user_id"], 1, "{record}");
    assert!(after != before, "cycle_id at sign-in: a new session id");
    let reply = b.get(&server, "/").await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert!(
        reply
            .body
            .starts_with("<p>Success: Welcome back, gina.</p><p>Hello gina.</p>"),
        "{}",
        reply.body
    );
    let reply = b.get(&server, "/").await;
    assert!(
        reply.body.starts_with("<p>Hello gina.</p>"),
        "shown once: {}",
        reply.body
    );
    let new_token = form_token(&reply.body);

    // Sign-out: the old session's token no longer verifies; the new one
    // does, and the session is gone.
    let reply = b.post(&server, "/logout", &[("csrf", &token)]).await;
    assert_eq!(reply.status, 403);
    assert_eq!(b.get(&server, "/").await.status, 200, "still signed in");
    let reply = b.post(&server, "/logout", &[("csrf", &new_token)]).await;
    assert_eq!(reply.status, 303, "{reply:?}");
    assert_eq!(reply.location.as_deref(), Some("/login"));
    assert!(reply.removes(NAME), "{:?}", reply.set_cookies);
    assert!(b.cookie(&server, NAME).is_none());
    assert_eq!(b.get(&server, "/").await.status, 307);
}
