//! The README's axum and actix-web apps, run end to end: each block is the
//! file under `tests/readme/` to the letter (checked here), and each app
//! serves on loopback a first visit, a form post with the token from the
//! page, a sign-in, a sign-out, and a refused post without a token.

#![cfg(all(feature = "axum", feature = "actix-web"))]
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
    reason = "serve() binds port 3000; the test runs app()"
)]
mod axum_app {
    include!("readme/axum_app.rs");
}

#[allow(
    dead_code,
    unreachable_pub,
    reason = "serve() binds port 3000; the test runs server()"
)]
mod actix_app {
    include!("readme/actix_app.rs");
}

use block::readme_block;
use conformance::{Browser, Server};
use sealed_session::{KeyId, Keyring, Sessions};

const NAME: &str = "__Host-session";

#[test]
fn the_readme_shows_these_apps_to_the_letter() {
    assert_eq!(
        readme_block("## With axum"),
        include_str!("readme/axum_app.rs")
    );
    assert_eq!(
        readme_block("## With actix-web"),
        include_str!("readme/actix_app.rs")
    );
}

fn sessions() -> Sessions {
    Sessions::builder(Keyring::generate(KeyId(1)).unwrap())
        .build()
        .unwrap()
}

/// The token the page shows after `csrf `.
fn token(body: &str) -> String {
    body.rsplit("csrf ").next().unwrap().trim().to_owned()
}

/// First visit, form post with the page's token, sign-in, sign-out.
async fn walk_through(server: &Server) {
    let b = Browser::new();

    // First visit: the page's token starts a session.
    let page = b.get(server, "/").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.starts_with("user -; 0 items; csrf "),
        "{}",
        page.body
    );
    assert!(page.writes(NAME), "the first visit's token is saved");
    let csrf = token(&page.body);
    assert_eq!(csrf.len(), sealed_session::CSRF_TOKEN_LEN);

    // Without a token, or with a wrong one, a POST is refused and changes nothing.
    assert_eq!(b.post(server, "/add", &[]).await.status, 403);
    let wrong = format!("{}A", &csrf[..csrf.len() - 1]);
    let wrong = if wrong == csrf {
        format!("{}B", &csrf[..csrf.len() - 1])
    } else {
        wrong
    };
    assert_eq!(
        b.post(server, "/add", &[("csrf", &wrong)]).await.status,
        403
    );
    // Another browser's token is no good either.
    let other = Browser::new();
    let other_token = token(&other.get(server, "/").await.body);
    assert_eq!(
        b.post(server, "/add", &[("csrf", &other_token)])
            .await
            .status,
        403
    );

    // The form post with the page's token.
    let added = b.post(server, "/add", &[("csrf", &csrf)]).await;
    assert_eq!((added.status, added.body.as_str()), (200, "added"));
    assert!(
        b.get(server, "/")
            .await
            .body
            .starts_with("user -; 1 items; ")
    );

    // Sign-in: a new session id, so a new token; the cart is kept.
    let signed = b
        .post(server, "/login", &[("user", "ada"), ("csrf", &csrf)])
        .await;
    assert_eq!((signed.status, signed.body.as_str()), (200, "signed in"));
    let page = b.get(server, "/").await;
    assert!(
        page.body.starts_with("user ada; 1 items; "),
        "{}",
        page.body
    );
    let after = token(&page.body);
    assert_ne!(after, csrf, "regenerated: the old token is void");
    assert_eq!(
        b.post(server, "/logout", &[("csrf", &csrf)]).await.status,
        403
    );

    // Sign-out removes the cookie.
    let out = b.post(server, "/logout", &[("csrf", &after)]).await;
    assert_eq!((out.status, out.body.as_str()), (200, "signed out"));
    assert!(out.removes(NAME));
    assert!(b.cookie(server, NAME).is_none());
    let page = b.get(server, "/").await;
    assert!(page.body.starts_with("user -; 0 items; "), "{}", page.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_axum_app_serves_a_visit_a_form_a_sign_in_and_a_sign_out() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = axum_app::app(&sessions());
    let task = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    walk_through(&Server::new(base, ())).await;
    task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_actix_app_serves_a_visit_a_form_a_sign_in_and_a_sign_out() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let server = actix_app::server(sessions(), listener).unwrap();
            tx.send(server.handle()).unwrap();
            server.await.unwrap();
        });
    });
    let handle = rx.recv().unwrap();
    walk_through(&Server::new(base, ())).await;
    handle.stop(true).await;
    thread.join().unwrap();
}
