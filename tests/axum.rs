//! The conformance suite against the axum adapter, serving the axum demo
//! (`examples/axum.rs`) itself, plus the axum-specific behaviour: the
//! missing-layer setup error, a write failure, the app's own
//! Cache-Control.

#![cfg(feature = "axum")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::missing_panics_doc,
    reason = "test code: a panic is a failed test"
)]

#[macro_use]
mod conformance;

#[allow(
    dead_code,
    unreachable_pub,
    reason = "the demo's main is not used by the tests"
)]
#[path = "../examples/axum.rs"]
mod demo;

use axum::Router;
use axum::http::header::CACHE_CONTROL;
use axum::response::IntoResponse;
use axum::routing::get;
use conformance::{Browser, Harness, Server};
use sealed_session::Session;
use sealed_session::axum::RequireCsrf;
use sealed_session::{KeyId, Keyring, Sessions};

async fn serve(app: Router) -> Server {
    conformance::serve_axum(app).await
}

struct AxumHarness;

impl Harness for AxumHarness {
    async fn start(cookies: Sessions) -> Server {
        serve(demo::app(cookies)).await
    }
}

conformance_suite!(
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    AxumHarness
);

fn demo_cookies() -> Sessions {
    conformance::cookies(&Keyring::generate(KeyId(1)).unwrap(), &conformance::clock())
}

#[tokio::test]
async fn a_missing_layer_is_a_setup_error_that_says_how_to_fix_it() {
    async fn handler(session: Session<demo::DemoSession>) -> String {
        format!("{:?}", session.get().map(|d| d.visits))
    }
    let server = serve(Router::new().route("/", get(handler))).await;
    let reply = Browser::new().get(&server, "/").await;
    assert_eq!(reply.status, 500);
    assert!(
        reply.body.contains("needs the session layer")
            && reply.body.contains("DemoSession")
            && reply.body.contains(".layer(sessions.layer::<"),
        "{}",
        reply.body
    );

    // A layer for another session type is the same mistake.
    let app = Router::new()
        .route("/", get(handler))
        .layer(demo_cookies().layer::<u32>());
    let server = serve(app).await;
    let reply = Browser::new().get(&server, "/").await;
    assert_eq!(reply.status, 500);
    assert!(reply.body.contains("same T"), "{}", reply.body);

    // RequireCsrf without the layer says the same.
    async fn plain() -> &'static str {
        "ok"
    }
    let app = Router::new()
        .route("/", axum::routing::post(plain))
        .route_layer(RequireCsrf::<demo::DemoSession>::new());
    let server = serve(app).await;
    let reply = Browser::new().post(&server, "/", &[]).await;
    assert_eq!(reply.status, 500);
    assert!(
        reply.body.contains(".layer(sessions.layer::<"),
        "{}",
        reply.body
    );
}

#[tokio::test]
async fn a_cookie_that_cannot_be_written_is_a_bare_500() {
    async fn too_big(session: Session<String>) -> &'static str {
        // No flush(): the layer finds out after the handler.
        session.insert("x".repeat(100_000));
        "ok"
    }
    let app = Router::new()
        .route("/", get(too_big))
        .layer(demo_cookies().layer::<String>());
    let server = serve(app).await;
    let reply = Browser::new().get(&server, "/").await;
    assert_eq!(reply.status, 500);
    assert!(reply.set_cookies.is_empty());
    assert!(
        reply.body.is_empty(),
        "no reason in the body: {}",
        reply.body
    );
}

#[tokio::test]
async fn the_apps_own_cache_control_is_kept() {
    async fn private(session: Session<u32>) -> impl IntoResponse {
        session.insert(1);
        ([(CACHE_CONTROL, "private, max-age=0")], "ok")
    }
    let app = Router::new()
        .route("/", get(private))
        .layer(demo_cookies().layer::<u32>());
    let server = serve(app).await;
    let b = Browser::new();
    let url = format!("{}/", server.base);
    let response = reqwest::Client::new().get(&url).send().await.unwrap();
    assert_eq!(
        response.headers()[CACHE_CONTROL.as_str()],
        "private, max-age=0"
    );
    assert_eq!(response.headers().get_all("set-cookie").iter().count(), 1);
    // And through the browser: the session is kept as usual.
    assert_eq!(b.get(&server, "/").await.status, 200);
    assert_eq!(b.cookie_names(&server), [conformance::NAME]);
}

/// `Option<Session<T>>`: `None` without a session, `Some` once there is one;
/// without the layer it is still the setup error, not `None`.
#[tokio::test]
async fn an_optional_session_is_none_until_there_is_one() {
    async fn peek(session: Option<Session<u32>>) -> String {
        session.map_or("none".into(), |s| format!("{:?}", s.get()))
    }
    async fn start(session: Session<u32>) -> &'static str {
        session.insert(5);
        "started"
    }
    let app = Router::new()
        .route("/peek", get(peek))
        .route("/start", get(start))
        .layer(demo_cookies().layer::<u32>());
    let server = serve(app).await;
    let b = Browser::new();
    assert_eq!(b.get(&server, "/peek").await.body, "none");
    assert_eq!(b.get(&server, "/start").await.body, "started");
    assert_eq!(b.get(&server, "/peek").await.body, "Some(5)");

    let bare = serve(Router::new().route("/peek", get(peek))).await;
    let reply = Browser::new().get(&bare, "/peek").await;
    assert_eq!(reply.status, 500);
    assert!(
        reply.body.contains("needs the session layer"),
        "{}",
        reply.body
    );
}

/// With a freshness store, the layer awaits it: "log out everywhere"
/// recorded in the store ends the session on the next request.
#[tokio::test]
async fn the_layer_reads_through_the_store() {
    use conformance::{sign_in_gina, who};
    use sealed_session::{FreshnessStore, Lifetime, MemoryStore};
    let store = std::sync::Arc::new(MemoryStore::new(64, &Lifetime::default()));
    let sessions = Sessions::builder(Keyring::generate(KeyId(1)).unwrap())
        .store(store.clone())
        .build()
        .unwrap();
    let app = Router::new()
        .route("/in", get(sign_in_gina))
        .route("/who", get(who))
        .layer(sessions.layer::<String>());
    let server = serve(app).await;
    let b = Browser::new();
    assert_eq!(b.get(&server, "/in").await.body, "in");
    assert_eq!(b.get(&server, "/who").await.body, "gina");
    let later = time::OffsetDateTime::now_utc() + time::Duration::seconds(1);
    store.revoke_subject("gina", later).await.unwrap();
    let reply = b.get(&server, "/who").await;
    assert_eq!(reply.body, "nobody");
    assert!(
        reply.removes(conformance::NAME),
        "the revoked cookie is removed"
    );
}
