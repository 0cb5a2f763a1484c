//! The adapter conformance suite, written once and run against every
//! framework's demo app (`docs/DEMO.md`): a real server on 127.0.0.1 and a
//! real HTTP client that keeps cookies (reqwest with its cookie store).
//!
//! An adapter's test file plugs in with a [`Harness`] that serves its demo
//! app for given [`Sessions`], then instantiates every test:
//!
//! ```ignore
//! #[macro_use]
//! mod conformance;
//! struct MyHarness;
//! impl conformance::Harness for MyHarness {
//!     async fn start(cookies: Sessions) -> conformance::Server { ... }
//! }
//! conformance_suite!(#[tokio::test(flavor = "multi_thread", worker_threads = 2)] MyHarness);
//! ```
//!
//! Cross-framework hand-over: [`handoff`] takes two harnesses; any pair
//! can be run from a test file that defines both.
//!
//! Every reply is checked on arrival ([`Reply`]): at most one
//! `Set-Cookie` per name, no attribute twice, `Cache-Control: no-store`
//! beside any `Set-Cookie`, and never a refusal reason in a body.

#![allow(
    dead_code,
    unreachable_pub,
    reason = "shared by every adapter's test crate, each using its own subset"
)]

use std::collections::BTreeSet;
use std::sync::Arc;

use reqwest::cookie::{CookieStore, Jar};
use reqwest::header::{CACHE_CONTROL, COOKIE, LOCATION, SET_COOKIE};
use reqwest::{Client, Url};
use sealed_session::{CookiePolicy, KeyId, Keyring, Lifetime, ManualClock, RotationStep, Sessions};
use serde_json::Value;
use time::Duration;

/// The demo's cookie name (`docs/DEMO.md`).
pub const NAME: &str = "__Host-session";
/// DEMO.md defaults.
pub const ABSOLUTE_SECS: i64 = 43_200;
pub const IDLE_SECS: i64 = 1_800;
pub const CHUNKS: usize = 4;
/// The budgets of README's "Behind a reverse proxy" for nginx with
/// `proxy_buffer_size 16k` and `large_client_header_buffers 4 32k`: the
/// suite runs the demo with them, so sessions of several chunks are seen.
pub const RAISED_COOKIE_BUDGET: usize = 16 * 1024;
pub const RAISED_SET_COOKIE_BUDGET: usize = 15 * 1024;
/// nginx's defaults: one page (4 KiB) for an upstream's whole response
/// header (`proxy_buffer_size`), 8 KiB for one request header line
/// (`large_client_header_buffers 4 8k`).
pub const NGINX_RESPONSE_HEADER: usize = 4096;
pub const NGINX_REQUEST_LINE: usize = 8192;

/// Aborts a server task when the test drops its [`Server`].
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Serves an axum `app` on a free loopback port until the returned
/// [`Server`] is dropped.
pub async fn serve_axum(app: axum::Router) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Server::new(format!("http://{addr}"), AbortOnDrop(task))
}

/// A running demo server; it stops when dropped.
pub struct Server {
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub base: String,
    _guard: Box<dyn Send>,
}

impl Server {
    /// A server reachable at `base`, kept running as long as `guard` lives
    /// (a task handle that aborts on drop, a shutdown sender, ...).
    pub fn new(base: impl Into<String>, guard: impl Send + 'static) -> Self {
        Self {
            base: base.into(),
            _guard: Box::new(guard),
        }
    }
}

/// How an adapter's demo app is started.
pub trait Harness {
    /// Serves the demo app (DEMO.md routes) on 127.0.0.1 with `cookies`,
    /// and returns once it accepts connections.
    fn start(cookies: Sessions) -> impl Future<Output = Server>;
}

/// Instantiates every test of the suite for a harness, each with the
/// given test attribute.
#[macro_export]
macro_rules! conformance_suite {
    ($(#[$attr:meta])* $harness:ty) => {
        $(#[$attr])* async fn session_persists_across_requests() {
            conformance::session_persists::<$harness>().await;
        }
        $(#[$attr])* async fn two_clients_never_mix() {
            conformance::sessions_never_mix::<$harness>().await;
        }
        $(#[$attr])* async fn tampered_cookie_is_no_session_and_removed() {
            conformance::tampered_cookie::<$harness>().await;
        }
        $(#[$attr])* async fn idle_expiry() {
            conformance::idle_expiry::<$harness>().await;
        }
        $(#[$attr])* async fn absolute_expiry() {
            conformance::absolute_expiry::<$harness>().await;
        }
        $(#[$attr])* async fn key_rotation_keeps_sessions_and_reseals() {
            conformance::key_rotation::<$harness>().await;
        }
        $(#[$attr])* async fn login_regenerates_and_logout_clears() {
            conformance::regenerate_and_logout::<$harness>().await;
        }
        $(#[$attr])* async fn csrf_refuses_missing_and_foreign_tokens() {
            conformance::csrf_check::<$harness>().await;
        }
        $(#[$attr])* async fn cross_site_posts_change_nothing() {
            conformance::cross_site_posts::<$harness>().await;
        }
        $(#[$attr])* async fn chunked_session_round_trips_and_shrinks() {
            conformance::chunks::<$harness>().await;
        }
        $(#[$attr])* async fn default_budgets_fit_default_proxies() {
            conformance::default_budgets_fit_default_proxies::<$harness>().await;
        }
        $(#[$attr])* async fn every_cookie_header_is_read() {
            conformance::several_cookie_headers::<$harness>().await;
        }
        $(#[$attr])* async fn concurrent_requests_on_one_session() {
            conformance::concurrent::<$harness>().await;
        }
        $(#[$attr])* async fn a_session_moves_between_servers() {
            conformance::handoff::<$harness, $harness>().await;
        }
    };
}

// ---------------------------------------------------------------- setup

/// A handler for the store tests of both adapters: signs in as "gina".
pub async fn sign_in_gina(session: sealed_session::Session<String>) -> &'static str {
    session.regenerate(Some("gina")).unwrap();
    session.insert("gina".into());
    "in"
}

/// A handler for the store tests of both adapters: who is signed in.
pub async fn who(session: sealed_session::Session<String>) -> String {
    session.get().unwrap_or_else(|| "nobody".into())
}

/// A clock at the real current time (so the client's cookie store, which
/// uses real time for Max-Age and Expires, agrees), moved by hand.
pub fn clock() -> ManualClock {
    ManualClock::at_unix(time::OffsetDateTime::now_utc().unix_timestamp())
}

/// The demo's configuration (DEMO.md defaults: 12 h absolute, 30 min idle,
/// 4 chunks, browser-session cookies) with `keyring` and `clock`, and the
/// raised budgets ([`RAISED_COOKIE_BUDGET`], [`RAISED_SET_COOKIE_BUDGET`]).
pub fn cookies(keyring: &Keyring, clock: &ManualClock) -> Sessions {
    demo_cookies(
        keyring,
        clock,
        CookiePolicy::builder()
            .cookie_header_budget(RAISED_COOKIE_BUDGET)
            .set_cookie_budget(RAISED_SET_COOKIE_BUDGET),
    )
}

/// The demo's configuration with every DEMO.md default, the crate's
/// default budgets included.
pub fn default_cookies(keyring: &Keyring, clock: &ManualClock) -> Sessions {
    demo_cookies(keyring, clock, CookiePolicy::builder())
}

fn demo_cookies(
    keyring: &Keyring,
    clock: &ManualClock,
    policy: sealed_session::CookiePolicyBuilder,
) -> Sessions {
    let mut lifetime = Lifetime::default();
    lifetime.absolute = Duration::seconds(ABSOLUTE_SECS);
    lifetime.idle = Duration::seconds(IDLE_SECS);
    Sessions::builder(keyring.clone())
        .lifetime(lifetime)
        .clock(Arc::new(clock.clone()))
        .cookie(policy.chunked(CHUNKS).build().unwrap())
        .build()
        .unwrap()
}

/// A server with a fresh keyring and the shared `clock`.
async fn start<H: Harness>(clock: &ManualClock) -> (Server, Keyring) {
    let keyring = Keyring::generate(KeyId(1)).unwrap();
    (H::start(cookies(&keyring, clock)).await, keyring)
}

// --------------------------------------------------------------- client

/// One response, read whole and checked against the invariants every
/// adapter must keep.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    /// Each `Set-Cookie` field value.
    pub set_cookies: Vec<String>,
    pub cache_control: Option<String>,
    pub location: Option<String>,
    pub content_type: Option<String>,
    pub body: String,
    /// The response header as HTTP/1.1 carries it: the status line, each
    /// `name: value` line, the empty line.
    pub header_bytes: usize,
}

impl Reply {
    async fn read(response: reqwest::Response) -> Self {
        let h = response.headers();
        let text = |v: &reqwest::header::HeaderValue| v.to_str().unwrap().to_owned();
        let set_cookies: Vec<String> = h.get_all(SET_COOKIE).iter().map(text).collect();
        let cache_control = h.get(CACHE_CONTROL).map(text);
        let location = h.get(LOCATION).map(text);
        let content_type = h.get(reqwest::header::CONTENT_TYPE).map(text);
        let status = response.status().as_u16();
        let reason = response.status().canonical_reason().unwrap_or("");
        let status_line = format!("HTTP/1.1 {} {reason}\r\n", status).len();
        let header_bytes = status_line
            + h.iter()
                .map(|(name, value)| name.as_str().len() + 2 + value.len() + 2)
                .sum::<usize>()
            + 2;
        let body = response.text().await.unwrap();
        let reply = Self {
            status,
            set_cookies,
            cache_control,
            location,
            content_type,
            body,
            header_bytes,
        };
        reply.check_invariants();
        reply
    }

    fn check_invariants(&self) {
        // RFC 6265bis §4.1.1: one Set-Cookie per name, no attribute twice.
        let mut names = BTreeSet::new();
        for set in &self.set_cookies {
            let name = set.split('=').next().unwrap().to_owned();
            assert!(names.insert(name.clone()), "two Set-Cookie for {name}");
            let mut attributes = BTreeSet::new();
            for av in set.split(';').skip(1) {
                let key = av.split('=').next().unwrap().trim().to_ascii_lowercase();
                assert!(attributes.insert(key.clone()), "{key} twice in {name}");
            }
            if name.starts_with(NAME) {
                assert!(
                    set.len() <= 4096 + 200,
                    "one cookie stays within 4096 bytes"
                );
                let pair = set.split(';').next().unwrap();
                assert!(pair.len() <= 4096 + 1, "name + value at most 4096 bytes");
                for required in ["Path=/", "Secure", "HttpOnly", "SameSite=Lax"] {
                    assert!(
                        set.split("; ").any(|av| av == required),
                        "{required} missing from {name}"
                    );
                }
                assert!(!set.contains("Domain="), "__Host- cookies are host-only");
            }
        }
        // OWASP: responses that set or clear the session are not cached
        // (`no-store` from the adapter; the demo never sets its own).
        if !self.set_cookies.is_empty() {
            assert!(
                self.cache_control.is_some(),
                "Set-Cookie without Cache-Control"
            );
        }
        // A refusal is never explained to the client.
        let lower = self.body.to_ascii_lowercase();
        for reason in [
            "unauthenticated",
            "malformed",
            "expired",
            "idle_expired",
            "revoked",
            "replayed",
            "failed authentication",
        ] {
            assert!(!lower.contains(reason), "body mentions {reason}");
        }
    }

    /// The `Set-Cookie` for `name`, if any.
    pub fn set_cookie(&self, name: &str) -> Option<&str> {
        self.set_cookies
            .iter()
            .find(|s| s.split('=').next() == Some(name))
            .map(String::as_str)
    }

    /// Whether the reply removes `name` (`Max-Age=0`, empty value).
    pub fn removes(&self, name: &str) -> bool {
        self.set_cookie(name)
            .is_some_and(|s| s.starts_with(&format!("{name}=;")) && s.contains("Max-Age=0"))
    }

    /// Whether the reply writes a new value for `name`.
    pub fn writes(&self, name: &str) -> bool {
        self.set_cookie(name).is_some() && !self.removes(name)
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }

    /// A 303 to `/` (DEMO.md: successful POSTs).
    pub fn assert_see_other(&self) {
        assert_eq!(self.status, 303, "{self:?}");
        assert_eq!(self.location.as_deref(), Some("/"));
    }
}

/// A browser: a client with its own cookie store, that does not follow
/// redirects (so every response is seen).
pub struct Browser {
    client: Client,
    jar: Arc<Jar>,
}

impl Default for Browser {
    fn default() -> Self {
        Self::new()
    }
}

impl Browser {
    pub fn new() -> Self {
        let jar = Arc::new(Jar::default());
        let client = Client::builder()
            .cookie_provider(Arc::clone(&jar))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Self { client, jar }
    }

    pub async fn get(&self, server: &Server, path: &str) -> Reply {
        self.get_url(&format!("{}{path}", server.base)).await
    }

    pub async fn get_url(&self, url: &str) -> Reply {
        Reply::read(self.client.get(url).send().await.unwrap()).await
    }

    /// `POST` a form.
    pub async fn post(&self, server: &Server, path: &str, form: &[(&str, &str)]) -> Reply {
        let r = self
            .client
            .post(format!("{}{path}", server.base))
            .form(form);
        Reply::read(r.send().await.unwrap()).await
    }

    /// `POST` a form with the token in the `x-csrf-token` header.
    pub async fn post_with_header(
        &self,
        server: &Server,
        path: &str,
        form: &[(&str, &str)],
        token: &str,
    ) -> Reply {
        let r = self
            .client
            .post(format!("{}{path}", server.base))
            .header("x-csrf-token", token)
            .form(form);
        Reply::read(r.send().await.unwrap()).await
    }

    /// `POST` a form with extra request headers (`Origin`, `Sec-Fetch-Site`).
    pub async fn post_with_headers(
        &self,
        server: &Server,
        path: &str,
        form: &[(&str, &str)],
        headers: &[(&str, String)],
    ) -> Reply {
        let mut r = self
            .client
            .post(format!("{}{path}", server.base))
            .form(form);
        for (name, value) in headers {
            r = r.header(*name, value.as_str());
        }
        Reply::read(r.send().await.unwrap()).await
    }

    /// `GET /api/session`, checked against the DEMO.md shape.
    pub async fn session(&self, server: &Server) -> Value {
        let reply = self.get(server, "/api/session").await;
        assert_eq!(reply.status, 200, "{reply:?}");
        let v = reply.json();
        let id = v["session_id"].as_str().unwrap();
        assert!(id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(v["signed_in"].as_bool().unwrap(), !v["user"].is_null());
        assert!(!v["csrf"].as_str().unwrap().is_empty());
        assert_eq!(
            v["expires"].as_i64().unwrap() - v["created"].as_i64().unwrap(),
            ABSOLUTE_SECS
        );
        v
    }

    /// Signs in as `user` with the current session's token.
    pub async fn login(&self, server: &Server, user: &str) -> Value {
        let csrf = self.session(server).await["csrf"]
            .as_str()
            .unwrap()
            .to_owned();
        let reply = self
            .post(server, "/login", &[("user", user), ("csrf", &csrf)])
            .await;
        reply.assert_see_other();
        assert!(reply.writes(NAME) || reply.writes(&format!("{NAME}.0")));
        self.session(server).await
    }

    fn url(server: &Server) -> Url {
        Url::parse(&format!("{}/", server.base)).unwrap()
    }

    /// The `name=value` pairs the browser would send to `server`.
    pub fn cookies(&self, server: &Server) -> Vec<(String, String)> {
        self.jar
            .cookies(&Self::url(server))
            .map(|h| {
                h.to_str()
                    .unwrap()
                    .split("; ")
                    .map(|pair| {
                        let (n, v) = pair.split_once('=').unwrap();
                        (n.to_owned(), v.to_owned())
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The names of the cookies the browser holds for `server`, sorted.
    pub fn cookie_names(&self, server: &Server) -> Vec<String> {
        let mut names: Vec<String> = self.cookies(server).into_iter().map(|(n, _)| n).collect();
        names.sort();
        names
    }

    /// The value of cookie `name`.
    pub fn cookie(&self, server: &Server, name: &str) -> Option<String> {
        self.cookies(server)
            .into_iter()
            .find_map(|(n, v)| (n == name).then_some(v))
    }

    /// Stores `name=value` as if the server had set it.
    pub fn set_cookie(&self, server: &Server, name: &str, value: &str) {
        self.jar.add_cookie_str(
            &format!("{name}={value}; Path=/; Secure; HttpOnly; SameSite=Lax"),
            &Self::url(server),
        );
        assert_eq!(self.cookie(server, name).as_deref(), Some(value));
    }
}

fn id(v: &Value) -> String {
    v["session_id"].as_str().unwrap().to_owned()
}

fn csrf(v: &Value) -> String {
    v["csrf"].as_str().unwrap().to_owned()
}

/// `value` with one character in the middle changed (still base64url).
fn tamper(value: &str) -> String {
    let mid = value.len() / 2;
    let flipped = if &value[mid..=mid] == "A" { "B" } else { "A" };
    format!("{}{flipped}{}", &value[..mid], &value[mid + 1..])
}

/// A path no demo serves: the handler changes nothing, so only the
/// adapter decides what cookies the 404 carries.
const NOWHERE: &str = "/no-such-route";
/// Reads the session and changes nothing.
const READER: &str = "/api/user";

// ---------------------------------------------------------------- tests

/// The session persists across requests; a request that changes nothing
/// sets no cookie.
pub async fn session_persists<H: Harness>() {
    let clock = clock();
    let (server, _) = start::<H>(&clock).await;
    let b = Browser::new();

    let first = b.get(&server, "/api/session").await;
    assert_eq!(first.status, 200);
    let set = first
        .set_cookie(NAME)
        .expect("a new session sets the cookie");
    assert_eq!(first.cache_control.as_deref(), Some("no-store"));
    assert!(
        !set.contains("Max-Age") && !set.contains("Expires"),
        "browser-session cookie"
    );
    let v1 = first.json();
    assert_eq!(v1["signed_in"], false);
    assert!(v1["user"].is_null());
    assert_eq!(v1["visits"], 1);
    assert_eq!(v1["persistent"], false);
    assert_eq!(v1["filler_bytes"], 0);
    assert_eq!(v1["created"].as_i64().unwrap(), clock_now(&clock));

    let v2 = b.session(&server).await;
    assert_eq!(id(&v2), id(&v1));
    assert_eq!(v2["visits"], 2);
    assert_ne!(csrf(&v2), csrf(&v1), "masked afresh on every rendering");

    let page = b.get(&server, "/").await;
    assert_eq!(page.status, 200);
    assert!(page.content_type.unwrap().starts_with("text/html"));
    let field = "name=\"csrf\" value=\"";
    let at = page.body.find(field).expect("forms carry the token") + field.len();
    let token = &page.body[at..at + sealed_session::CSRF_TOKEN_LEN];
    assert_ne!(token, csrf(&v1), "masked afresh on every rendering");
    // The page's token works.
    b.post(&server, "/grow", &[("bytes", "1"), ("csrf", token)])
        .await
        .assert_see_other();
    assert!(page.body.contains(&id(&v1)));
    assert_eq!(b.session(&server).await["visits"], 4);
    b.post(&server, "/grow", &[("bytes", "0"), ("csrf", &csrf(&v1))])
        .await
        .assert_see_other();

    let idle = b.get(&server, NOWHERE).await;
    assert_eq!(idle.status, 404);
    assert!(
        idle.set_cookies.is_empty(),
        "nothing changed, nothing written"
    );
    assert_eq!(b.cookie_names(&server), [NAME]);
}

fn clock_now(clock: &ManualClock) -> i64 {
    use sealed_session::Clock as _;
    clock.now().unix_timestamp()
}

/// Two clients' sessions never mix.
pub async fn sessions_never_mix<H: Harness>() {
    let clock = clock();
    let (server, _) = start::<H>(&clock).await;
    let (ada, bob) = (Browser::new(), Browser::new());
    let a = ada.login(&server, "ada").await;
    let b = bob.login(&server, "bob").await;
    assert_ne!(id(&a), id(&b));
    assert_ne!(csrf(&a), csrf(&b));
    for _ in 0..3 {
        assert_eq!(ada.session(&server).await["user"], "ada");
        assert_eq!(bob.session(&server).await["user"], "bob");
    }
    assert_eq!(id(&ada.session(&server).await), id(&a));
    assert_eq!(id(&bob.session(&server).await), id(&b));
}

/// A tampered cookie reads as no session: a fresh one starts, the refused
/// cookie is removed, and nothing says why.
pub async fn tampered_cookie<H: Harness>() {
    let clock = clock();
    let (server, _) = start::<H>(&clock).await;
    let b = Browser::new();
    let before = b.login(&server, "ada").await;
    let value = b.cookie(&server, NAME).unwrap();

    b.set_cookie(&server, NAME, &tamper(&value));
    // A route that never looks at the session never opens the cookie, and
    // writes nothing: not even Vary or Cache-Control.
    let reply = b.get(&server, NOWHERE).await;
    assert_eq!(reply.status, 404);
    assert!(reply.set_cookies.is_empty(), "{reply:?}");
    assert_eq!(reply.cache_control, None);
    assert_eq!(b.cookie_names(&server), [NAME]);
    // The first route that reads it removes it.
    let reply = b.get(&server, READER).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["signed_in"], false);
    assert!(reply.removes(NAME), "{reply:?}");
    assert_eq!(reply.cache_control.as_deref(), Some("no-store"));
    assert!(b.cookie_names(&server).is_empty());

    for bad in [
        tamper(&value),
        "garbage".to_owned(),
        "A".repeat(4000),
        String::new(),
    ] {
        b.set_cookie(&server, NAME, &bad);
        let reply = b.get(&server, "/api/session").await;
        assert_eq!(reply.status, 200, "never a 4xx or 5xx for a bad cookie");
        assert!(reply.writes(NAME), "a fresh session replaces it");
        let v = reply.json();
        assert_ne!(id(&v), id(&before));
        assert_eq!(v["signed_in"], false);
        assert_eq!(v["visits"], 1);
    }
    // The fresh session works.
    assert_eq!(b.session(&server).await["visits"], 2);
}

/// Idle expiry, driven by the shared manual clock.
pub async fn idle_expiry<H: Harness>() {
    let clock = clock();
    let (server, _) = start::<H>(&clock).await;
    let b = Browser::new();
    let first = b.login(&server, "ada").await;

    // Activity within the idle timeout keeps the session.
    for _ in 0..3 {
        clock.advance(Duration::seconds(IDLE_SECS - 60));
        let v = b.session(&server).await;
        assert_eq!(id(&v), id(&first));
        assert_eq!(v["user"], "ada");
    }
    // Renewal happens when a route reads the session, even when nothing
    // changes; a route that never looks does not renew.
    clock.advance(Duration::minutes(6));
    assert!(b.get(&server, NOWHERE).await.set_cookies.is_empty());
    assert!(b.get(&server, READER).await.writes(NAME), "renewal due");

    clock.advance(Duration::seconds(IDLE_SECS));
    let expired = b.get(&server, READER).await;
    assert!(expired.removes(NAME), "an idle-expired cookie is removed");

    let v = b.session(&server).await;
    assert_ne!(id(&v), id(&first));
    assert_eq!(v["signed_in"], false);
    assert_eq!(v["visits"], 1);
}

/// Absolute expiry: activity never extends a session past its deadline.
pub async fn absolute_expiry<H: Harness>() {
    let clock = clock();
    let (server, _) = start::<H>(&clock).await;
    let b = Browser::new();
    let first = b.login(&server, "ada").await;
    let deadline = first["expires"].as_i64().unwrap();
    let step = IDLE_SECS - 300;
    while clock_now(&clock) + step < deadline {
        clock.advance(Duration::seconds(step));
        let v = b.session(&server).await;
        assert_eq!(id(&v), id(&first), "active and before the deadline");
        assert_eq!(
            v["expires"].as_i64().unwrap(),
            deadline,
            "the deadline never moves"
        );
    }
    clock.set_unix(deadline);
    let v = b.session(&server).await;
    assert_ne!(id(&v), id(&first), "at the deadline the session is over");
    assert_eq!(v["signed_in"], false);
}

/// Staged key rotation mid-session: no logout, and the cookie sealed with
/// the old key is re-sealed with the new primary on the next response,
/// even one that changes nothing.
pub async fn key_rotation<H: Harness>() {
    let clock = clock();
    let (old, ring1) = start::<H>(&clock).await;
    let b = Browser::new();
    let first = b.login(&old, "ada").await;

    let lifetime = cookies(&ring1, &clock).codec().lifetime().to_owned();
    let now = || sealed_session::Clock::now(&clock);
    let (ring2, step) = ring1.next_rotation_stage(now(), &lifetime, false).unwrap();
    assert_eq!(step, RotationStep::Added(KeyId(2)));
    let added = H::start(cookies(&ring2, &clock)).await;
    let reply = b.get(&added, READER).await;
    assert!(reply.set_cookies.is_empty(), "key 1 is still the primary");

    let (ring3, step) = ring2.next_rotation_stage(now(), &lifetime, false).unwrap();
    assert_eq!(step, RotationStep::Promoted(KeyId(2)));
    let promoted = H::start(cookies(&ring3, &clock)).await;
    let old_value = b.cookie(&promoted, NAME).unwrap();
    let reply = b.get(&promoted, READER).await;
    assert!(
        reply.writes(NAME),
        "re-sealed under the new primary: {reply:?}"
    );
    let new_value = b.cookie(&promoted, NAME).unwrap();
    assert_ne!(new_value, old_value);
    let check = cookies(&ring3, &clock);
    assert_eq!(
        check.codec().open_raw(&old_value).unwrap().meta.key_id(),
        KeyId(1)
    );
    assert_eq!(
        check.codec().open_raw(&new_value).unwrap().meta.key_id(),
        KeyId(2)
    );

    let v = b.session(&promoted).await;
    assert_eq!(id(&v), id(&first), "no logout");
    assert_eq!(v["user"], "ada");
    // A token from before the promotion works while its key is in the ring.
    let reply = b
        .post(
            &promoted,
            "/grow",
            &[("bytes", "2"), ("csrf", &csrf(&first))],
        )
        .await;
    reply.assert_see_other();

    // Retiring right after the promotion would sign out idle users: refused.
    assert!(ring3.next_rotation_stage(now(), &lifetime, false).is_err());
    // The user stays active while the idle timeout and skew pass.
    let wait = lifetime.idle + lifetime.skew;
    let step_by = lifetime.renew_after;
    let mut waited = Duration::ZERO;
    while waited < wait {
        clock.advance(step_by);
        waited += step_by;
        assert_eq!(b.session(&promoted).await["user"], "ada");
    }
    let (ring4, step) = ring3.next_rotation_stage(now(), &lifetime, false).unwrap();
    assert_eq!(step, RotationStep::Retired(KeyId(1)));
    let retired = H::start(cookies(&ring4, &clock)).await;
    let v = b.session(&retired).await;
    assert_eq!(id(&v), id(&first));
    // The old key's value is refused by the promoted ring by now, whatever
    // it claims inside: a leaked old key is useless.
    assert_eq!(
        cookies(&ring3, &clock)
            .codec()
            .open_raw(&old_value)
            .unwrap_err()
            .kind(),
        sealed_session::ErrorKind::Unauthenticated
    );
    assert_eq!(v["user"], "ada");
    assert_eq!(v["filler_bytes"], 2);
    let reply = b
        .post(&retired, "/grow", &[("bytes", "3"), ("csrf", &csrf(&v))])
        .await;
    reply.assert_see_other();
}

/// Login regenerates the session id (keeping the data); the old token dies
/// with the old id; logout clears the cookie.
pub async fn regenerate_and_logout<H: Harness>() {
    let clock = clock();
    let (server, _) = start::<H>(&clock).await;
    let b = Browser::new();
    let anonymous = b.session(&server).await;
    let reply = b
        .post(
            &server,
            "/login",
            &[("user", "ada"), ("csrf", &csrf(&anonymous))],
        )
        .await;
    reply.assert_see_other();
    assert!(reply.writes(NAME));

    let signed_in = b.session(&server).await;
    assert_ne!(id(&signed_in), id(&anonymous), "a new id on login");
    assert_ne!(csrf(&signed_in), csrf(&anonymous));
    assert_eq!(signed_in["user"], "ada");
    assert_eq!(signed_in["visits"], 2, "the data is kept");

    let stale = b
        .post(
            &server,
            "/grow",
            &[("bytes", "1"), ("csrf", &csrf(&anonymous))],
        )
        .await;
    assert_eq!(stale.status, 403, "the pre-login token is dead");

    let reply = b
        .post(&server, "/logout", &[("csrf", &csrf(&signed_in))])
        .await;
    reply.assert_see_other();
    assert!(reply.removes(NAME), "{reply:?}");
    assert_eq!(reply.cache_control.as_deref(), Some("no-store"));
    assert!(b.cookie_names(&server).is_empty());

    let after = b.session(&server).await;
    assert_ne!(id(&after), id(&signed_in));
    assert_eq!(after["signed_in"], false);
    assert_eq!(after["visits"], 1);
}

/// The CSRF check: a missing, foreign or garbage token gets a 403 and
/// changes nothing; the session's own token works as a form field or
/// header. Sign-in needs one too (login CSRF), and the first visit's page
/// gives it.
pub async fn csrf_check<H: Harness>() {
    let clock = clock();
    let (server, _) = start::<H>(&clock).await;
    let b = Browser::new();

    // No session at all: every POST is refused, sign-in included.
    assert_eq!(
        b.post(&server, "/grow", &[("bytes", "1")]).await.status,
        403
    );
    assert_eq!(b.post(&server, "/logout", &[]).await.status, 403);
    let reply = b.post(&server, "/login", &[("user", "eve")]).await;
    assert_eq!(reply.status, 403, "a sign-in without a token");
    assert!(reply.set_cookies.is_empty());
    assert!(b.cookie_names(&server).is_empty());
    // The first visit's page starts a session; its token signs in.
    let first = b.session(&server).await;
    let reply = b
        .post(
            &server,
            "/login",
            &[("user", "eve"), ("csrf", &csrf(&first))],
        )
        .await;
    reply.assert_see_other();
    let eve = b.session(&server).await;
    assert_eq!(eve["user"], "eve");

    let other = Browser::new().session(&server).await;
    let foreign = csrf(&other);
    let own = csrf(&eve);
    for (path, form) in [
        ("/grow", vec![("bytes", "7")]),
        ("/logout", vec![]),
        ("/login", vec![("user", "mallory")]),
    ] {
        let missing = b.post(&server, path, &form).await;
        assert_eq!(missing.status, 403, "{path} without a token");
        assert!(missing.set_cookies.is_empty(), "a refusal changes nothing");
        let mut with = form.clone();
        with.push(("csrf", foreign.as_str()));
        assert_eq!(
            b.post(&server, path, &with).await.status,
            403,
            "{path} foreign"
        );
        let reply = b.post_with_header(&server, path, &form, &foreign).await;
        assert_eq!(reply.status, 403, "{path} foreign header");
        let mut with = form.clone();
        with.push(("csrf", "not-a-token"));
        assert_eq!(
            b.post(&server, path, &with).await.status,
            403,
            "{path} garbage"
        );
    }
    let v = b.session(&server).await;
    assert_eq!(id(&v), id(&eve));
    assert_eq!(v["user"], "eve");
    assert_eq!(v["filler_bytes"], 0);

    b.post(&server, "/grow", &[("bytes", "7"), ("csrf", &own)])
        .await
        .assert_see_other();
    b.post_with_header(&server, "/grow", &[("bytes", "9")], &own)
        .await
        .assert_see_other();
    assert_eq!(b.session(&server).await["filler_bytes"], 9);
}

/// Cross-site form posts (what a page on another site can make a browser
/// send) to sign-in, sign-out and a state change, with and without a
/// session: refused with a bare 403 before the token is looked at, and the
/// visitor's session unchanged. Same-origin posts and non-browser clients
/// still reach the token check. The request's host is the test server's.
pub async fn cross_site_posts<H: Harness>() {
    let clock = clock();
    let (server, _) = start::<H>(&clock).await;
    let own_origin = server.base.clone();
    let foreign = "http://evil.example";
    let refused: Vec<Vec<(&str, String)>> = vec![
        vec![("sec-fetch-site", "cross-site".into())],
        vec![("sec-fetch-site", "same-site".into())],
        vec![
            ("sec-fetch-site", "cross-site".into()),
            ("origin", own_origin.clone()),
        ],
        vec![
            ("sec-fetch-site", "same-site".into()),
            ("origin", foreign.into()),
        ],
        vec![("origin", foreign.into())],
        vec![("origin", "null".into())],
    ];
    let passed: Vec<Vec<(&str, String)>> = vec![
        vec![
            ("sec-fetch-site", "same-origin".into()),
            ("origin", own_origin.clone()),
        ],
        vec![("sec-fetch-site", "none".into())],
        vec![("origin", own_origin.clone())],
        vec![],
    ];
    for signed_in in [false, true] {
        let b = Browser::new();
        let before = if signed_in {
            b.login(&server, "ada").await
        } else {
            b.session(&server).await
        };
        let token = csrf(&before);
        let cookies = b.cookies(&server);
        for headers in &refused {
            for (path, form) in [
                ("/login", vec![("user", "mallory")]),
                ("/logout", vec![]),
                ("/grow", vec![("bytes", "9")]),
            ] {
                let mut form = form.clone();
                // Even the right token does not help a cross-site request
                // (an attacker never has it; the check comes first).
                form.push(("csrf", token.as_str()));
                let reply = b.post_with_headers(&server, path, &form, headers).await;
                let what = format!("{path} {headers:?} signed in: {signed_in}");
                assert_eq!(reply.status, 403, "{what}");
                assert!(reply.body.is_empty(), "no detail in the body: {what}");
                assert!(reply.set_cookies.is_empty(), "nothing set: {what}");
                assert_eq!(b.cookies(&server), cookies, "{what}");
            }
        }
        let after = b.session(&server).await;
        assert_eq!(id(&after), id(&before));
        assert_eq!(after["user"], before["user"]);
        assert_eq!(after["filler_bytes"], 0);
        for headers in &passed {
            // These reach the token check: refused without a token...
            let reply = b
                .post_with_headers(&server, "/grow", &[("bytes", "3")], headers)
                .await;
            assert_eq!(reply.status, 403, "{headers:?} without a token");
            // ...and served with it.
            let form = [("bytes", "3"), ("csrf", token.as_str())];
            let reply = b.post_with_headers(&server, "/grow", &form, headers).await;
            reply.assert_see_other();
        }
        assert_eq!(b.session(&server).await["filler_bytes"], 3);
    }
}

/// A session big enough to chunk survives round trips; shrinking it
/// removes the stale chunks; one that cannot fit gets a 413 and the
/// session survives.
pub async fn chunks<H: Harness>() {
    let clock = clock();
    let (server, _) = start::<H>(&clock).await;
    let b = Browser::new();
    let v = b.login(&server, "ada").await;
    let (c0, c1) = (format!("{NAME}.0"), format!("{NAME}.1"));

    let reply = b
        .post(&server, "/grow", &[("bytes", "5000"), ("csrf", &csrf(&v))])
        .await;
    reply.assert_see_other();
    assert!(reply.writes(&c0) && reply.writes(&c1), "{reply:?}");
    assert!(reply.removes(NAME), "the single cookie gives way to chunks");
    assert_eq!(b.cookie_names(&server), [c0.clone(), c1.clone()]);
    for visits in [3, 4, 5] {
        let big = b.session(&server).await;
        assert_eq!(big["filler_bytes"], 5000);
        assert_eq!(big["visits"], visits);
        assert_eq!(id(&big), id(&v));
        assert_eq!(b.cookie_names(&server), [c0.clone(), c1.clone()]);
    }

    let reply = b
        .post(&server, "/grow", &[("bytes", "0"), ("csrf", &csrf(&v))])
        .await;
    reply.assert_see_other();
    assert!(reply.writes(NAME));
    assert!(reply.removes(&c0) && reply.removes(&c1), "{reply:?}");
    assert_eq!(b.cookie_names(&server), [NAME]);
    let small = b.session(&server).await;
    assert_eq!(small["filler_bytes"], 0);
    assert_eq!(id(&small), id(&v));

    let reply = b
        .post(&server, "/grow", &[("bytes", "16384"), ("csrf", &csrf(&v))])
        .await;
    assert_eq!(reply.status, 413);
    let after = b.session(&server).await;
    assert_eq!(after["filler_bytes"], 0);
    assert_eq!(id(&after), id(&v));

    // A tampered chunk: no session, and every chunk is removed.
    b.post(&server, "/grow", &[("bytes", "5000"), ("csrf", &csrf(&v))])
        .await
        .assert_see_other();
    let second = b.cookie(&server, &c1).unwrap();
    b.set_cookie(&server, &c1, &tamper(&second));
    let reply = b.get(&server, READER).await;
    assert!(reply.removes(&c0) && reply.removes(&c1), "{reply:?}");
    assert!(b.cookie_names(&server).is_empty());
}

/// With the crate's default budgets, a session grown step by step never
/// gives a response header that outgrows nginx's default 4 KiB buffer for
/// it (nginx would answer 502) nor a `Cookie` header line over nginx's
/// default 8 KiB (400, and the browser locked out until its cookies are
/// cleared): past what fits, the demo answers 413 and the session stays as
/// it was. Before the response budget, a session of 3000 filler bytes
/// already made a 4.1 KB response header.
pub async fn default_budgets_fit_default_proxies<H: Harness>() {
    let clock = clock();
    let keyring = Keyring::generate(KeyId(1)).unwrap();
    let server = H::start(default_cookies(&keyring, &clock)).await;
    let b = Browser::new();
    let v = b.login(&server, "ada").await;
    let mut kept = 0;
    let mut refused = 0;
    for bytes in (0..=6000).step_by(250) {
        let form = [("bytes", bytes.to_string()), ("csrf", csrf(&v))];
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let grown = b.post(&server, "/grow", &form).await;
        let read = b.get(&server, "/api/session").await;
        for reply in [&grown, &read] {
            assert!(
                reply.header_bytes <= NGINX_RESPONSE_HEADER,
                "{bytes} filler bytes: a {} byte response header",
                reply.header_bytes
            );
        }
        match grown.status {
            303 => kept = bytes,
            413 => refused += 1,
            status => panic!("{bytes} filler bytes: {status}"),
        }
        let line: usize = b
            .cookies(&server)
            .iter()
            .map(|(n, v)| n.len() + 1 + v.len() + 2)
            .sum::<usize>()
            + "Cookie: ".len();
        assert!(line <= NGINX_REQUEST_LINE, "a {line} byte Cookie line");
        assert_eq!(read.status, 200);
        let seen = read.json();
        assert_eq!(id(&seen), id(&v), "the session survives every step");
        assert_eq!(seen["filler_bytes"], kept);
    }
    assert!(kept >= 1500, "room for a session of {kept} filler bytes");
    assert!(refused > 0, "the budget was reached");
    assert_eq!(b.cookie_names(&server), [NAME], "one cookie, no chunks");
}

/// Every `Cookie` header field is read (HTTP/2 sends one per cookie): a
/// chunked session sent as two fields opens.
pub async fn several_cookie_headers<H: Harness>() {
    let clock = clock();
    let (server, _) = start::<H>(&clock).await;
    let b = Browser::new();
    let v = b.login(&server, "ada").await;
    b.post(&server, "/grow", &[("bytes", "5000"), ("csrf", &csrf(&v))])
        .await
        .assert_see_other();
    let pairs = b.cookies(&server);
    assert_eq!(pairs.len(), 2);

    let plain = Client::new();
    let mut request = plain.get(format!("{}/api/session", server.base));
    for (n, value) in &pairs {
        request = request.header(COOKIE, format!("{n}={value}"));
    }
    let reply = Reply::read(request.send().await.unwrap()).await;
    assert_eq!(reply.status, 200);
    let seen = reply.json();
    assert_eq!(id(&seen), id(&v));
    assert_eq!(seen["filler_bytes"], 5000);
}

/// Concurrent requests on one session all see it. Cookie sessions are
/// last-writer-wins: concurrent increments may be lost, the session never.
pub async fn concurrent<H: Harness>() {
    let clock = clock();
    let (server, _) = start::<H>(&clock).await;
    let b = Arc::new(Browser::new());
    let v = b.login(&server, "ada").await;
    let url = format!("{}/api/session", server.base);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..16 {
        let (b, url) = (Arc::clone(&b), url.clone());
        tasks.spawn(async move {
            let reply = b.get_url(&url).await;
            assert_eq!(reply.status, 200);
            reply.json()
        });
    }
    let mut seen = 0;
    while let Some(result) = tasks.join_next().await {
        let r = result.unwrap();
        assert_eq!(id(&r), id(&v));
        assert_eq!(r["user"], "ada");
        seen += 1;
    }
    assert_eq!(seen, 16);
    let last = b.session(&server).await;
    assert_eq!(id(&last), id(&v));
    let visits = last["visits"].as_u64().unwrap();
    assert!((3..=19).contains(&visits), "{visits}");
}

/// A session sealed by one server opens in another with the same keyring
/// (built separately, from the keyring's text): the format is the
/// contract. With two adapters, run it both ways.
pub async fn handoff<A: Harness, B: Harness>() {
    let clock = clock();
    let keyring = Keyring::generate(KeyId(7)).unwrap();
    let same: Keyring = keyring.to_secret_string().parse().unwrap();
    let a = A::start(cookies(&keyring, &clock)).await;
    let b = B::start(cookies(&same, &clock)).await;
    let browser = Browser::new();

    let on_a = browser.login(&a, "ada").await;
    let on_b = browser.session(&b).await;
    assert_eq!(id(&on_b), id(&on_a));
    assert_eq!(on_b["user"], "ada");
    assert_ne!(csrf(&on_b), csrf(&on_a), "masked afresh on every rendering");

    // A token rendered by A is good on B.
    browser
        .post(&b, "/grow", &[("bytes", "5000"), ("csrf", &csrf(&on_a))])
        .await
        .assert_see_other();
    let back = browser.session(&a).await;
    assert_eq!(id(&back), id(&on_a));
    assert_eq!(back["filler_bytes"], 5000);
    browser
        .post(&a, "/logout", &[("csrf", &csrf(&back))])
        .await
        .assert_see_other();
    assert_eq!(browser.session(&b).await["signed_in"], false);
}
