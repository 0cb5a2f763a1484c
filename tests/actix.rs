//! The actix-web adapter and demo, served by a real `HttpServer` on
//! 127.0.0.1 and driven by reqwest with a cookie jar (`cookie_store` counts
//! `http://127.0.0.1` as secure, so `__Host-` cookies work over plain
//! HTTP there).
#![cfg(feature = "actix-web")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::missing_panics_doc,
    reason = "tests: a panic is the failure report"
)]

#[macro_use]
mod conformance;

#[allow(
    dead_code,
    unreachable_pub,
    reason = "the demo's main and the items only its binary uses"
)]
#[path = "../examples/actix.rs"]
mod demo;

#[cfg(feature = "axum")]
#[allow(
    dead_code,
    unreachable_pub,
    reason = "the demo's main is not used by the tests"
)]
#[path = "../examples/axum.rs"]
mod axum_demo;

use std::net::TcpListener;
use std::sync::Arc;
use std::thread::JoinHandle;

use actix_web::dev::{Server, ServerHandle};
use actix_web::{App, HttpResponse, HttpServer, web};
use reqwest::cookie::{CookieStore, Jar};
use reqwest::header::{CACHE_CONTROL, CONTENT_TYPE, COOKIE, HeaderMap, LOCATION, SET_COOKIE};
use reqwest::redirect::Policy;
use reqwest::{Client, StatusCode};
use sealed_session::Session;
use sealed_session::{CSRF_TOKEN_LEN, Key, KeyId, Keyring, ManualClock, Sessions};
use serde_json::Value;
use time::Duration;

const T0: i64 = 1_764_000_000;
const NAME: &str = "__Host-session";

// ---------------------------------------------------------------------------
// Server starter, shaped for the shared conformance suite: give it the
// `Sessions`, get the base URL and a handle that stops the server.

/// A running server. Dropping it stops the server (so it can serve as the
/// conformance suite's `Server` guard); [`Running::stop`] also waits for
/// the shutdown.
struct Running {
    handle: ServerHandle,
    thread: Option<JoinHandle<()>>,
}

impl Running {
    async fn stop(mut self) {
        self.handle.stop(false).await;
        if let Some(thread) = self.thread.take() {
            thread.join().unwrap();
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // The stop command is sent when `stop` is called; awaiting its
        // completion is optional.
        drop(self.handle.stop(false));
    }
}

/// Serves the demo app with `cookies` on 127.0.0.1 (a free port) from a
/// background thread with its own actix runtime; returns the base URL
/// (`http://127.0.0.1:PORT`, no trailing slash) once it accepts
/// connections.
async fn start(cookies: Sessions) -> (String, Running) {
    serve(move |listener| {
        Ok(HttpServer::new(move || demo::app(cookies.clone()))
            .workers(2)
            .disable_signals()
            .listen(listener)?
            .run())
    })
}

/// The shared conformance suite (`tests/conformance/mod.rs`) against the
/// actix demo.
struct ActixHarness;

impl conformance::Harness for ActixHarness {
    async fn start(cookies: Sessions) -> conformance::Server {
        let (base, running) = start(cookies).await;
        conformance::Server::new(base, running)
    }
}

conformance_suite!(
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    ActixHarness
);

/// The axum demo, to show that the format is the contract: a session
/// sealed by one adapter opens in the other with the same keyring.
#[cfg(feature = "axum")]
struct AxumHarness;

#[cfg(feature = "axum")]
impl conformance::Harness for AxumHarness {
    async fn start(cookies: Sessions) -> conformance::Server {
        conformance::serve_axum(axum_demo::app(cookies)).await
    }
}

#[cfg(feature = "axum")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_sealed_by_axum_opens_in_actix() {
    conformance::handoff::<AxumHarness, ActixHarness>().await;
}

#[cfg(feature = "axum")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_sealed_by_actix_opens_in_axum() {
    conformance::handoff::<ActixHarness, AxumHarness>().await;
}

/// Runs the server `build` makes on a fresh 127.0.0.1 listener, in a
/// background thread with its own actix system.
fn serve<F>(build: F) -> (String, Running)
where
    F: FnOnce(TcpListener) -> std::io::Result<Server> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let server = build(listener).unwrap();
            tx.send(server.handle()).unwrap();
            server.await.unwrap();
        });
    });
    let handle = rx.recv().unwrap();
    (
        base,
        Running {
            handle,
            thread: Some(thread),
        },
    )
}

// ---------------------------------------------------------------------------
// Configuration

fn keyring(id: u32) -> Keyring {
    Keyring::generate(KeyId(id)).unwrap()
}

fn cookies(settings: &demo::Settings, clock: &ManualClock) -> Sessions {
    settings.session_cookies(Arc::new(clock.clone())).unwrap()
}

/// The demo's default settings on a manual clock, with the conformance
/// suite's raised budgets so sessions of several chunks can be seen.
fn default_cookies(clock: &ManualClock) -> Sessions {
    cookies(&raised(demo::Settings::new(keyring(1))), clock)
}

fn raised(mut settings: demo::Settings) -> demo::Settings {
    settings.cookie_budget = conformance::RAISED_COOKIE_BUDGET;
    settings.set_cookie_budget = conformance::RAISED_SET_COOKIE_BUDGET;
    settings
}

// ---------------------------------------------------------------------------
// Clients and requests

/// A client with its own cookie jar that does not follow redirects.
fn browser() -> (Client, Arc<Jar>) {
    let jar = Arc::new(Jar::default());
    let client = Client::builder()
        .cookie_provider(Arc::clone(&jar))
        .redirect(Policy::none())
        .build()
        .unwrap();
    (client, jar)
}

/// A client without a jar, for requests with hand-written `Cookie` headers.
fn raw() -> Client {
    Client::builder().redirect(Policy::none()).build().unwrap()
}

/// Every `Set-Cookie` field of a response.
fn set_cookies(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

fn cookie_name(set_cookie: &str) -> &str {
    set_cookie.split_once('=').unwrap().0
}

fn cookie_value(set_cookie: &str) -> &str {
    let pair = set_cookie.split(';').next().unwrap();
    pair.split_once('=').unwrap().1
}

fn is_removal(set_cookie: &str) -> bool {
    cookie_value(set_cookie).is_empty() && set_cookie.contains("; Max-Age=0;")
}

/// RFC 6265bis §4.1.1 and the OWASP caching advice, checked on every
/// response: at most one `Set-Cookie` per name, no attribute twice, and
/// `Cache-Control: no-store` beside any `Set-Cookie`.
fn check_response_headers(headers: &HeaderMap) {
    let set = set_cookies(headers);
    let mut names: Vec<&str> = set.iter().map(|s| cookie_name(s)).collect();
    names.sort_unstable();
    let before = names.len();
    names.dedup();
    assert_eq!(before, names.len(), "two Set-Cookie with one name: {set:?}");
    for s in &set {
        let mut attributes: Vec<String> = s
            .split("; ")
            .skip(1)
            .map(|a| a.split('=').next().unwrap().to_ascii_lowercase())
            .collect();
        attributes.sort_unstable();
        let n = attributes.len();
        attributes.dedup();
        assert_eq!(n, attributes.len(), "an attribute twice: {s}");
        for required in ["path", "secure", "httponly", "samesite"] {
            assert!(
                attributes.iter().any(|a| a == required),
                "{required} missing: {s}"
            );
        }
        assert!(
            s.contains("; Path=/") && s.contains("; SameSite=Lax"),
            "{s}"
        );
    }
    if !set.is_empty() {
        assert_eq!(headers.get(CACHE_CONTROL).unwrap(), "no-store");
    }
}

/// `GET /api/session`: the JSON and the response headers.
async fn api(client: &Client, base: &str) -> (Value, HeaderMap) {
    api_with(client.get(format!("{base}/api/session"))).await
}

async fn api_with(request: reqwest::RequestBuilder) -> (Value, HeaderMap) {
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers().clone();
    check_response_headers(&headers);
    let json = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
    (json, headers)
}

fn str_of<'a>(json: &'a Value, field: &str) -> &'a str {
    json[field].as_str().unwrap()
}

fn id(json: &Value) -> String {
    str_of(json, "session_id").to_owned()
}

fn csrf(json: &Value) -> String {
    str_of(json, "csrf").to_owned()
}

/// A form `POST`; checks the response headers and returns the response.
async fn post(client: &Client, url: String, fields: &[(&str, &str)]) -> reqwest::Response {
    post_with(client.post(url), fields).await
}

async fn post_with(request: reqwest::RequestBuilder, fields: &[(&str, &str)]) -> reqwest::Response {
    let response = request.form(fields).send().await.unwrap();
    check_response_headers(response.headers());
    response
}

fn assert_see_other(response: &reqwest::Response) {
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers().get(LOCATION).unwrap(), "/");
}

/// The `Cookie` header the jar would send to `base`.
fn jar_header(jar: &Jar, base: &str) -> String {
    jar.cookies(&base.parse().unwrap())
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

/// Signs in as `user` with the session's token.
async fn login(client: &Client, base: &str, user: &str) -> Value {
    let (before, _) = api(client, base).await;
    let token = csrf(&before);
    let r = post(
        client,
        format!("{base}/login"),
        &[("user", user), ("csrf", &token)],
    )
    .await;
    assert_see_other(&r);
    api(client, base).await.0
}

// ---------------------------------------------------------------------------
// Tests

#[tokio::test(flavor = "multi_thread")]
async fn session_persists_and_counts_visits() {
    let clock = ManualClock::at_unix(T0);
    let (base, server) = start(default_cookies(&clock)).await;
    let (client, jar) = browser();

    let (first, headers) = api(&client, &base).await;
    let set = set_cookies(&headers);
    assert_eq!(set.len(), 1, "{set:?}");
    assert_eq!(cookie_name(&set[0]), NAME);
    assert!(set[0].ends_with("; HttpOnly; SameSite=Lax; Secure; Path=/"));
    assert!(jar_header(&jar, &base).starts_with("__Host-session="));
    assert_eq!(first["signed_in"], false);
    assert_eq!(first["user"], Value::Null);
    assert_eq!(first["visits"], 1);
    assert_eq!(first["created"], T0);
    assert_eq!(first["expires"], T0 + 43_200);
    assert_eq!(first["persistent"], false);
    assert_eq!(first["filler_bytes"], 0);
    let sid = id(&first);
    assert_eq!(sid.len(), 32);
    assert!(sid.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(csrf(&first).len(), sealed_session::CSRF_TOKEN_LEN);

    clock.advance(Duration::seconds(10));
    let (second, _) = api(&client, &base).await;
    assert_eq!(id(&second), sid);
    assert_eq!(second["visits"], 2);
    assert_eq!(second["created"], T0);

    // The HTML page counts too and carries the token in every form.
    let page = client.get(format!("{base}/")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    check_response_headers(page.headers());
    assert!(
        page.headers()
            .get(CONTENT_TYPE)
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = page.text().await.unwrap();
    assert!(html.contains("Visits: 3"));
    assert!(html.contains(&sid));
    let hidden = r#"name="csrf" value=""#;
    assert_eq!(html.matches(hidden).count(), 3, "{html}");
    let token = &html[html.find(hidden).unwrap() + hidden.len()..][..CSRF_TOKEN_LEN];
    assert_ne!(token, csrf(&second), "masked afresh on every rendering");
    assert_eq!(api(&client, &base).await.0["visits"], 4);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn two_clients_sessions_stay_apart() {
    let clock = ManualClock::at_unix(T0);
    let (base, server) = start(default_cookies(&clock)).await;
    let (ada, _) = browser();
    let (bob, _) = browser();
    let a = login(&ada, &base, "ada").await;
    let b = login(&bob, &base, "bob").await;
    assert_ne!(id(&a), id(&b));
    assert_ne!(csrf(&a), csrf(&b));
    for round in 0..5 {
        let ((a2, _), (b2, _)) = tokio::join!(api(&ada, &base), api(&bob, &base));
        assert_eq!(a2["user"], "ada");
        assert_eq!(b2["user"], "bob");
        assert_eq!(id(&a2), id(&a));
        assert_eq!(id(&b2), id(&b));
        assert_eq!(a2["visits"], a["visits"].as_u64().unwrap() + 1 + round);
        assert_eq!(b2["visits"], b["visits"].as_u64().unwrap() + 1 + round);
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn tampered_cookie_gives_a_fresh_session_and_a_removal() {
    let clock = ManualClock::at_unix(T0);
    let (base, server) = start(default_cookies(&clock)).await;
    let client = raw();

    let (first, headers) = api(&client, &base).await;
    let value = cookie_value(&set_cookies(&headers)[0]).to_owned();
    let mut bytes = value.into_bytes();
    let i = bytes.len() / 2;
    bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(bytes).unwrap();
    let cookie = format!("theme=dark; {NAME}={tampered}");

    // A GET starts over: a new session replaces the refused cookie, and the
    // response says nothing about why.
    let response = client
        .get(format!("{base}/api/session"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers().clone();
    check_response_headers(&headers);
    let body = response.text().await.unwrap();
    for reason in ["unauthenticated", "malformed", "refused", "expired"] {
        assert!(!body.to_ascii_lowercase().contains(reason), "{body}");
    }
    let fresh: Value = serde_json::from_str(&body).unwrap();
    assert_ne!(id(&fresh), id(&first));
    assert_eq!(fresh["visits"], 1);
    let set = set_cookies(&headers);
    assert_eq!(set.len(), 1, "{set:?}");
    assert_eq!(cookie_name(&set[0]), NAME);
    assert!(!is_removal(&set[0]) && cookie_value(&set[0]) != tampered);

    // A request that starts no session gets the removal itself (and the
    // POST is refused for want of a session to check the token against).
    let response = post_with(
        client
            .post(format!("{base}/logout"))
            .header(COOKIE, &cookie),
        &[("csrf", &csrf(&first))],
    )
    .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let set = set_cookies(response.headers());
    assert_eq!(set.len(), 1, "{set:?}");
    assert_eq!(cookie_name(&set[0]), NAME);
    assert!(is_removal(&set[0]), "{set:?}");

    // Forged chunks: a fresh single cookie, and both chunks removed.
    let (_, headers) = api_with(
        client
            .get(format!("{base}/api/session"))
            .header(COOKIE, format!("{NAME}.0=AAAA; {NAME}.1=BBBB")),
    )
    .await;
    let mut set = set_cookies(&headers);
    set.sort_by(|a, b| cookie_name(a).cmp(cookie_name(b)));
    assert_eq!(set.len(), 3, "{set:?}");
    assert_eq!(cookie_name(&set[0]), NAME);
    assert!(!is_removal(&set[0]));
    assert_eq!(cookie_name(&set[1]), format!("{NAME}.0"));
    assert_eq!(cookie_name(&set[2]), format!("{NAME}.1"));
    assert!(is_removal(&set[1]) && is_removal(&set[2]));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn idle_timeout_ends_the_session() {
    let clock = ManualClock::at_unix(T0);
    let mut settings = demo::Settings::new(keyring(1));
    settings.idle_secs = 600;
    settings.absolute_secs = 3_600;
    let (base, server) = start(cookies(&settings, &clock)).await;
    let (client, _) = browser();

    let (first, _) = api(&client, &base).await;
    // Each visit re-seals, which moves the idle deadline.
    for _ in 0..3 {
        clock.advance(Duration::seconds(599));
        let (again, _) = api(&client, &base).await;
        assert_eq!(id(&again), id(&first));
    }
    clock.advance(Duration::seconds(601));
    let (after, headers) = api(&client, &base).await;
    assert_ne!(id(&after), id(&first));
    assert_eq!(after["visits"], 1);
    assert_eq!(set_cookies(&headers).len(), 1);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn absolute_lifetime_ends_an_active_session() {
    let clock = ManualClock::at_unix(T0);
    let mut settings = demo::Settings::new(keyring(1));
    settings.idle_secs = 1_800;
    settings.absolute_secs = 3_600;
    let (base, server) = start(cookies(&settings, &clock)).await;
    let (client, _) = browser();

    let (first, _) = api(&client, &base).await;
    assert_eq!(first["expires"], T0 + 3_600);
    clock.advance(Duration::seconds(1_500));
    assert_eq!(id(&api(&client, &base).await.0), id(&first));
    clock.advance(Duration::seconds(1_500));
    let (still, _) = api(&client, &base).await;
    assert_eq!(id(&still), id(&first));
    assert_eq!(still["expires"], T0 + 3_600, "re-seals never move it");
    clock.advance(Duration::seconds(601));
    let (after, _) = api(&client, &base).await;
    assert_ne!(id(&after), id(&first));
    assert_eq!(after["visits"], 1);
    assert_eq!(after["created"], T0 + 3_601);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn key_rotation_reseals_an_old_key_cookie() {
    let clock = ManualClock::at_unix(T0);
    let old = keyring(1);
    let mut rotated = old.clone();
    let new_key = Key::generate();
    rotated.add_open_only(KeyId(2), new_key.clone()).unwrap();
    rotated
        .promote(
            KeyId(2),
            time::OffsetDateTime::from_unix_timestamp(T0).unwrap(),
        )
        .unwrap();
    let only_new = Keyring::new(KeyId(2), new_key);

    let (base_old, old_server) = start(cookies(&demo::Settings::new(old), &clock)).await;
    let (base_rotated, rotated_server) =
        start(cookies(&demo::Settings::new(rotated), &clock)).await;
    let (base_new, new_server) = start(cookies(&demo::Settings::new(only_new), &clock)).await;
    let (client, jar) = browser();

    let first = login(&client, &base_old, "ada").await;
    let sealed_with_old = jar_header(&jar, &base_old);
    // The jar is per host, not per port: every server sees the cookie. The
    // server without key 1 cannot open it.
    let (stranger, _) = api_with(
        raw()
            .get(format!("{base_new}/api/session"))
            .header(COOKIE, &sealed_with_old),
    )
    .await;
    assert_ne!(id(&stranger), id(&first));

    clock.advance(Duration::seconds(30));
    let (rotated_view, headers) = api(&client, &base_rotated).await;
    assert_eq!(id(&rotated_view), id(&first));
    assert_eq!(rotated_view["user"], "ada");
    assert_eq!(set_cookies(&headers).len(), 1, "re-sealed");
    assert_ne!(jar_header(&jar, &base_rotated), sealed_with_old);

    // The re-sealed cookie opens where only the new key is known.
    let (new_view, _) = api(&client, &base_new).await;
    assert_eq!(id(&new_view), id(&first));
    assert_eq!(new_view["user"], "ada");
    assert_eq!(
        new_view["visits"],
        rotated_view["visits"].as_u64().unwrap() + 1
    );

    old_server.stop().await;
    rotated_server.stop().await;
    new_server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn login_regenerates_the_session_id() {
    let clock = ManualClock::at_unix(T0);
    let (base, server) = start(default_cookies(&clock)).await;
    let (client, _) = browser();

    let (before, _) = api(&client, &base).await;
    clock.advance(Duration::seconds(5));
    let response = post(
        &client,
        format!("{base}/login"),
        &[("user", "ada"), ("csrf", &csrf(&before))],
    )
    .await;
    assert_see_other(&response);
    assert_eq!(set_cookies(response.headers()).len(), 1);
    let (after, _) = api(&client, &base).await;
    assert_ne!(id(&after), id(&before), "a new id at sign-in");
    assert_ne!(csrf(&after), csrf(&before));
    assert_eq!(after["signed_in"], true);
    assert_eq!(after["user"], "ada");
    assert_eq!(after["visits"], 2, "visits are kept");
    assert_eq!(after["created"], T0 + 5);

    // The token of the pre-login session no longer works.
    let response = post(
        &client,
        format!("{base}/logout"),
        &[("csrf", &csrf(&before))],
    )
    .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);

    // A user name is required.
    let response = post(&client, format!("{base}/login"), &[("csrf", &csrf(&after))]).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_page_escapes_the_user_name() {
    let clock = ManualClock::at_unix(T0);
    let (base, server) = start(default_cookies(&clock)).await;
    let (client, _) = browser();
    login(&client, &base, "<script>alert('x')</script>").await;
    let html = client
        .get(format!("{base}/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!html.contains("<script>"), "{html}");
    assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn logout_clears_the_session() {
    let clock = ManualClock::at_unix(T0);
    let (base, server) = start(default_cookies(&clock)).await;
    let (client, jar) = browser();
    let signed_in = login(&client, &base, "ada").await;

    let response = post(
        &client,
        format!("{base}/logout"),
        &[("csrf", &csrf(&signed_in))],
    )
    .await;
    assert_see_other(&response);
    let set = set_cookies(response.headers());
    assert_eq!(set.len(), 1);
    assert!(is_removal(&set[0]), "{set:?}");
    assert_eq!(jar_header(&jar, &base), "");

    let (after, _) = api(&client, &base).await;
    assert_ne!(id(&after), id(&signed_in));
    assert_eq!(after["signed_in"], false);
    assert_eq!(after["user"], Value::Null);
    assert_eq!(after["visits"], 1);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn csrf_missing_foreign_and_header_tokens() {
    let clock = ManualClock::at_unix(T0);
    let (base, server) = start(default_cookies(&clock)).await;
    let (client, _) = browser();
    let (other, _) = browser();
    let mine = api(&client, &base).await.0;
    let theirs = api(&other, &base).await.0;
    let grow = format!("{base}/grow");
    let their_token = csrf(&theirs);

    for fields in [
        vec![("bytes", "10")],
        vec![("bytes", "10"), ("csrf", "")],
        vec![("bytes", "10"), ("csrf", their_token.as_str())],
    ] {
        let r = post(&client, grow.clone(), &fields).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{fields:?}");
    }
    let r = post_with(
        client
            .post(grow.clone())
            .header("x-csrf-token", &their_token),
        &[("bytes", "10")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    for path in ["logout", "login"] {
        let r = post(&client, format!("{base}/{path}"), &[("user", "mallory")]).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path}");
    }
    assert_eq!(api(&client, &base).await.0["filler_bytes"], 0);

    // The right token, in the form or in the header.
    let r = post(
        &client,
        grow.clone(),
        &[("bytes", "10"), ("csrf", &csrf(&mine))],
    )
    .await;
    assert_see_other(&r);
    let r = post_with(
        client
            .post(grow.clone())
            .header("x-csrf-token", csrf(&mine)),
        &[("bytes", "20")],
    )
    .await;
    assert_see_other(&r);
    let r = client
        .post(format!("{base}/logout"))
        .header("x-csrf-token", csrf(&mine))
        .send()
        .await
        .unwrap();
    assert_see_other(&r);

    // No session at all: every POST is refused, sign-in included (login
    // CSRF); the page's token signs in.
    let (fresh, _) = browser();
    let r = post(&fresh, grow, &[("bytes", "10")]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = post(&fresh, format!("{base}/login"), &[("user", "ada")]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let token = csrf(&api(&fresh, &base).await.0);
    let r = post(
        &fresh,
        format!("{base}/login"),
        &[("user", "ada"), ("csrf", &token)],
    )
    .await;
    assert_see_other(&r);
    assert_eq!(api(&fresh, &base).await.0["user"], "ada");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn chunks_round_trip_shrink_and_413() {
    let clock = ManualClock::at_unix(T0);
    let (base, server) = start(default_cookies(&clock)).await;
    let (client, jar) = browser();
    let first = api(&client, &base).await.0;
    let token = csrf(&first);
    let grow = |bytes: &'static str| {
        let client = client.clone();
        let url = format!("{base}/grow");
        let token = token.clone();
        async move { post(&client, url, &[("bytes", bytes), ("csrf", &token)]).await }
    };

    let r = grow("5000").await;
    assert_see_other(&r);
    let mut names: Vec<String> = set_cookies(r.headers())
        .iter()
        .map(|s| {
            format!(
                "{}{}",
                cookie_name(s),
                if is_removal(s) { " (removed)" } else { "" }
            )
        })
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "__Host-session (removed)",
            "__Host-session.0",
            "__Host-session.1"
        ]
    );
    let sent = jar_header(&jar, &base);
    assert!(sent.contains("__Host-session.0=") && sent.contains("__Host-session.1="));
    assert!(!sent.contains("__Host-session="), "{sent}");
    // Every Cookie field is read (HTTP/2 sends one per cookie).
    let mut request = raw().get(format!("{base}/api/session"));
    for pair in sent.split("; ") {
        request = request.header(COOKIE, pair);
    }
    let (split, _) = api_with(request).await;
    assert_eq!(id(&split), id(&first));
    assert_eq!(split["filler_bytes"], 5000);
    let (big, headers) = api(&client, &base).await;
    assert_eq!(big["filler_bytes"], 5000);
    assert_eq!(id(&big), id(&first));
    assert_eq!(set_cookies(&headers).len(), 2, "both chunks re-sealed");

    // Over the cap: 413, and the session is unchanged.
    let r = grow("16384").await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let r = grow("16385").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(api(&client, &base).await.0["filler_bytes"], 5000);

    // Shrinking goes back to one cookie and removes both chunks.
    let r = grow("10").await;
    assert_see_other(&r);
    let mut set = set_cookies(r.headers());
    set.sort_by(|a, b| cookie_name(a).cmp(cookie_name(b)));
    assert_eq!(set.len(), 3, "{set:?}");
    assert_eq!(cookie_name(&set[0]), NAME);
    assert!(!is_removal(&set[0]));
    assert!(is_removal(&set[1]) && is_removal(&set[2]));
    let sent = jar_header(&jar, &base);
    assert!(
        sent.starts_with("__Host-session=") && !sent.contains(".0="),
        "{sent}"
    );
    let (small, _) = api(&client, &base).await;
    assert_eq!(small["filler_bytes"], 10);
    assert_eq!(id(&small), id(&first));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn without_chunking_a_large_session_is_refused_with_413() {
    let clock = ManualClock::at_unix(T0);
    let mut settings = demo::Settings::new(keyring(1));
    settings.chunks = 1;
    let (base, server) = start(cookies(&settings, &clock)).await;
    let (client, _) = browser();
    let token = csrf(&api(&client, &base).await.0);
    let r = post(
        &client,
        format!("{base}/grow"),
        &[("bytes", "5000"), ("csrf", &token)],
    )
    .await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let r = post(
        &client,
        format!("{base}/grow"),
        &[("bytes", "2000"), ("csrf", &token)],
    )
    .await;
    assert_see_other(&r);
    assert_eq!(api(&client, &base).await.0["filler_bytes"], 2000);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_requests_share_one_session() {
    let clock = ManualClock::at_unix(T0);
    let (base, server) = start(default_cookies(&clock)).await;
    let (client, _) = browser();
    let signed_in = login(&client, &base, "ada").await;
    let base = Arc::new(base);

    let requests: Vec<_> = (0..16)
        .map(|_| {
            let client = client.clone();
            let base = Arc::clone(&base);
            tokio::spawn(async move { api(&client, &base).await.0 })
        })
        .collect();
    for request in requests {
        let view = request.await.unwrap();
        assert_eq!(id(&view), id(&signed_in));
        assert_eq!(view["user"], "ada");
        assert!(view["visits"].as_u64().unwrap() > signed_in["visits"].as_u64().unwrap());
    }
    // Whichever response the jar kept last, the session is intact.
    let (after, _) = api(&client, &base).await;
    assert_eq!(id(&after), id(&signed_in));
    assert_eq!(after["user"], "ada");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn persistent_cookies_follow_the_absolute_deadline() {
    let clock = ManualClock::at_unix(T0);
    let mut settings = demo::Settings::new(keyring(1));
    settings.persistent = true;
    let (base, server) = start(cookies(&settings, &clock)).await;
    let (json, headers) = api(&raw(), &base).await;
    assert_eq!(json["persistent"], true);
    let set = set_cookies(&headers);
    assert!(set[0].contains("; Max-Age=43200; Expires="), "{set:?}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_middleware_names_the_fix() {
    let clock = ManualClock::at_unix(T0);
    let cookies = default_cookies(&clock);
    let (base, server) = serve(move |listener| {
        Ok(HttpServer::new(move || {
            let cookies = cookies.clone();
            App::new().configure(move |cfg| demo::configure(cfg, &cookies))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)?
        .run())
    });
    let response = raw()
        .get(format!("{base}/api/session"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(response.headers().get(SET_COOKIE).is_none());
    let body = response.text().await.unwrap();
    assert!(
        body.contains("Session<")
            && body.contains("needs the session middleware")
            && body.contains(".wrap(sessions.middleware::<"),
        "{body}"
    );
    server.stop().await;
}

/// An app outside the demo, for the middleware's edge cases.
fn edge_app(cookies: Sessions) -> (String, Running) {
    serve(move |listener| {
        Ok(HttpServer::new(move || {
            App::new()
                .wrap(cookies.middleware::<String>())
                // Grows past the cookie budget without `flush`.
                .route(
                    "/huge",
                    web::get().to(|s: Session<String>| async move {
                        s.insert("x".repeat(20_000));
                        HttpResponse::Ok().body("handler body")
                    }),
                )
                // Sets its own caching policy.
                .route(
                    "/cached",
                    web::get().to(|s: Session<String>| async move {
                        s.insert("hello".to_owned());
                        HttpResponse::Ok()
                            .insert_header((CACHE_CONTROL.as_str(), "private, max-age=0"))
                            .finish()
                    }),
                )
                // Reads only.
                .route(
                    "/read",
                    web::get().to(|s: Session<String>| async move {
                        HttpResponse::Ok().body(s.get().unwrap_or_default())
                    }),
                )
                // Extracts a session of another type than the middleware's.
                .route(
                    "/wrong-type",
                    web::get().to(|_: Session<u64>| async { HttpResponse::Ok().finish() }),
                )
        })
        .workers(1)
        .disable_signals()
        .listen(listener)?
        .run())
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn a_session_that_cannot_be_written_is_a_bare_500() {
    let clock = ManualClock::at_unix(T0);
    let (base, server) = edge_app(default_cookies(&clock));
    let response = raw().get(format!("{base}/huge")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(response.headers().get(SET_COOKIE).is_none());
    assert!(
        response.bytes().await.unwrap().is_empty(),
        "bare: no handler body"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn middleware_headers_on_reads_writes_and_handler_cache_control() {
    let clock = ManualClock::at_unix(T0);
    let (base, server) = edge_app(default_cookies(&clock));
    let (client, _) = browser();

    // No cookie, nothing written, but the handler read the session: the
    // response depends on it, so `private` and `Vary: Cookie` (0.1 sent
    // neither, and a shared cache could serve it to another visitor).
    let r = client.get(format!("{base}/read")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers().get(SET_COOKIE).is_none());
    assert_eq!(r.headers().get(CACHE_CONTROL).unwrap(), "private");
    assert_eq!(r.headers().get("vary").unwrap(), "Cookie");

    // The handler's own Cache-Control is kept.
    let r = client.get(format!("{base}/cached")).send().await.unwrap();
    assert_eq!(set_cookies(r.headers()).len(), 1);
    assert_eq!(
        r.headers().get(CACHE_CONTROL).unwrap(),
        "private, max-age=0"
    );

    // An unchanged session, not due for renewal, writes nothing, and is
    // still private to this visitor.
    let r = client.get(format!("{base}/read")).send().await.unwrap();
    assert!(r.headers().get(SET_COOKIE).is_none());
    assert_eq!(r.headers().get(CACHE_CONTROL).unwrap(), "private");
    assert_eq!(r.headers().get("vary").unwrap(), "Cookie");
    assert_eq!(r.text().await.unwrap(), "hello");

    // Past the renewal interval (5 minutes by default), a read re-seals.
    clock.advance(Duration::minutes(6));
    let r = client.get(format!("{base}/read")).send().await.unwrap();
    assert_eq!(set_cookies(r.headers()).len(), 1);
    check_response_headers(r.headers());

    // A Session<T> of another type than the middleware's is a setup error.
    let r = client
        .get(format!("{base}/wrong-type"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(r.text().await.unwrap().contains("Session<u64>"));
    server.stop().await;
}

#[cfg(feature = "tracing")]
mod events {
    //! The `tracing` events: a refused cookie is a `debug` event with its
    //! kind, never the value or the session id; a session that cannot be
    //! written is an `error` event.

    use std::fmt::Write as _;
    use std::sync::{Mutex, OnceLock};

    use tracing::field::{Field, Visit};
    use tracing::span::{Attributes, Id, Record};
    use tracing::{Event, Metadata, Subscriber};

    use super::*;

    /// Every event of the test process, rendered as text. Servers run on
    /// their own threads, so the subscriber is global.
    fn events() -> &'static Mutex<Vec<String>> {
        static EVENTS: OnceLock<Mutex<Vec<String>>> = OnceLock::new();
        EVENTS.get_or_init(|| {
            tracing::subscriber::set_global_default(Capture).unwrap();
            Mutex::new(Vec::new())
        })
    }

    struct Capture;

    struct Text(String);

    impl Visit for Text {
        fn record_debug(&mut self, field: &Field, value: &dyn core::fmt::Debug) {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }

    impl Subscriber for Capture {
        fn enabled(&self, _: &Metadata<'_>) -> bool {
            true
        }
        fn new_span(&self, _: &Attributes<'_>) -> Id {
            Id::from_u64(1)
        }
        fn record(&self, _: &Id, _: &Record<'_>) {}
        fn record_follows_from(&self, _: &Id, _: &Id) {}
        fn event(&self, event: &Event<'_>) {
            let meta = event.metadata();
            let mut text = Text(format!("{} {}", meta.level(), meta.target()));
            event.record(&mut text);
            events().lock().unwrap().push(text.0);
        }
        fn enter(&self, _: &Id) {}
        fn exit(&self, _: &Id) {}
    }

    fn ours() -> Vec<String> {
        events()
            .lock()
            .unwrap()
            .iter()
            .filter(|e| e.contains("sealed_session"))
            .cloned()
            .collect()
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn refusals_and_write_failures_are_logged_without_secrets() {
        let _ = events();
        let clock = ManualClock::at_unix(T0);
        let cookies = default_cookies(&clock);
        let (base, server) = start(cookies.clone()).await;
        let client = raw();

        let (first, headers) = api(&client, &base).await;
        let value = cookie_value(&set_cookies(&headers)[0]).to_owned();
        let (second, _) = api_with(
            client
                .get(format!("{base}/api/session"))
                .header(COOKIE, format!("{NAME}={value}")),
        )
        .await;
        assert_eq!(id(&second), id(&first));
        // The same value under a new keyring does not authenticate.
        server.stop().await;
        let (base, server) = start(default_cookies(&clock)).await;
        let (third, _) = api_with(
            client
                .get(format!("{base}/api/session"))
                .header(COOKIE, format!("{NAME}={value}")),
        )
        .await;
        assert_ne!(id(&third), id(&first));
        server.stop().await;

        let (edge, edge_server) = edge_app(cookies);
        let r = client.get(format!("{edge}/huge")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
        edge_server.stop().await;

        let logged = ours();
        assert!(
            logged.iter().any(|e| e.starts_with("INFO")
                && e.contains("kind=\"unauthenticated\"")
                && e.contains("key_id=")),
            "{logged:?}"
        );
        assert!(
            logged
                .iter()
                .any(|e| e.starts_with("ERROR") && e.contains("kind=\"too_large\"")),
            "{logged:?}"
        );
        for event in events().lock().unwrap().iter() {
            assert!(
                !event.contains(&value),
                "a cookie value was logged: {event}"
            );
            for sid in [id(&first), id(&third)] {
                assert!(!event.contains(&sid), "a session id was logged: {event}");
            }
        }
    }
}

/// With a freshness store, the middleware reads every request through it
/// (`load_request_async`): "log out everywhere" recorded in the store ends
/// the session on the next request, and the cookie is removed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_middleware_reads_through_the_store() {
    use conformance::{sign_in_gina, who};
    use sealed_session::{FreshnessStore, Lifetime, MemoryStore};
    let store = Arc::new(MemoryStore::new(64, &Lifetime::default()));
    let sessions = Sessions::builder(keyring(1))
        .store(store.clone())
        .build()
        .unwrap();
    let (base, _running) = serve(move |listener| {
        Ok(HttpServer::new(move || {
            App::new()
                .wrap(sessions.middleware::<String>())
                .route("/in", web::get().to(sign_in_gina))
                .route("/who", web::get().to(who))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)?
        .run())
    });
    let (client, _jar) = browser();
    let text = |r: reqwest::Response| async move { r.text().await.unwrap() };
    assert_eq!(
        text(client.get(format!("{base}/in")).send().await.unwrap()).await,
        "in"
    );
    assert_eq!(
        text(client.get(format!("{base}/who")).send().await.unwrap()).await,
        "gina"
    );
    let later = time::OffsetDateTime::now_utc() + time::Duration::seconds(1);
    store.revoke_subject("gina", later).await.unwrap();
    let reply = client.get(format!("{base}/who")).send().await.unwrap();
    let removed = set_cookies(reply.headers());
    assert_eq!(text(reply).await, "nobody");
    assert!(
        removed.iter().any(|c| is_removal(c)),
        "the revoked cookie is removed: {removed:?}"
    );
}
