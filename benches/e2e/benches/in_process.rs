//! Each system's app called as a service, in process: no TCP and no HTTP
//! parsing, so what is left is the framework, the session layer and the
//! handler, and the figures are far steadier than over HTTP.
//!
//! Ids: `request/<system>/<route>`, systems as in `src/lib.rs`, routes
//! `read`, `write` and `none`. The layer's own time on a route is its
//! system's time minus `none`'s (or `actix_none`'s) on that route, minus
//! the seal and open the route does (`cargo bench --bench compare` in the
//! crate).
//!
//! ```sh
//! cd benches/e2e && cargo bench --bench in_process
//! ```

#![allow(
    clippy::expect_used,
    reason = "a benchmark whose setup fails has nothing to measure"
)]

use std::hint::black_box;
use std::time::Duration;

use actix_web::dev::{Service, ServiceResponse};
use actix_web::test::{self, TestRequest};
use axum::Router;
use axum::body::Body;
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use http::header::{COOKIE, SET_COOKIE};
use http::{Request, StatusCode};
use sealed_session::SetCookie;
use sealed_session_e2e::actix_apps::{self, Shared};
use sealed_session_e2e::{Typical, axum_apps, cookie_header};
use tower::ServiceExt as _;

const ROUTES: [&str; 3] = ["read", "write", "none"];

async fn axum_call(app: &Router, path: &str, cookie: &str) -> http::Response<Body> {
    let req = Request::get(path)
        .header(COOKIE, cookie)
        .body(Body::empty())
        .expect("request");
    app.clone().oneshot(req).await.expect("infallible")
}

fn axum_systems(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut group = c.benchmark_group("request");
    for system in ["none", "sealed_session", "private_jar", "tower_sessions"] {
        let app = axum_apps::app(system).expect("an axum system");
        let login = rt.block_on(axum_call(&app, "/login", ""));
        let cookie = cookie_header(
            login
                .headers()
                .get_all(SET_COOKIE)
                .iter()
                .map(|v| v.to_str().expect("ascii")),
        );
        assert!(
            system == "none" || !cookie.is_empty(),
            "{system}: no cookie"
        );
        for route in ROUTES {
            let path = format!("/{route}");
            let status = rt.block_on(axum_call(&app, &path, &cookie)).status();
            assert_eq!(status, StatusCode::OK, "{system} {path}");
            group.bench_function(BenchmarkId::new(system, route), |b| {
                b.iter(|| black_box(rt.block_on(axum_call(&app, &path, black_box(&cookie)))));
            });
        }
    }
    group.finish();
}

fn actix_request(path: &str, cookie: &str) -> actix_http::Request {
    TestRequest::get()
        .uri(path)
        .insert_header(("cookie", cookie))
        .to_request()
}

fn actix_system<S, B>(c: &mut Criterion, system: &str, sys: &actix_web::rt::SystemRunner, svc: &S)
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
{
    let login = sys.block_on(test::call_service(svc, actix_request("/login", "")));
    let cookie = cookie_header(
        login
            .headers()
            .get_all("set-cookie")
            .map(|v| v.to_str().expect("ascii")),
    );
    assert!(
        system == "actix_none" || !cookie.is_empty(),
        "{system}: no cookie"
    );
    let mut group = c.benchmark_group("request");
    for route in ROUTES {
        let path = format!("/{route}");
        let status = sys
            .block_on(test::call_service(svc, actix_request(&path, &cookie)))
            .status();
        assert_eq!(status.as_u16(), 200, "{system} {path}");
        group.bench_function(BenchmarkId::new(system, route), |b| {
            b.iter(|| {
                black_box(sys.block_on(test::call_service(svc, actix_request(&path, &cookie))))
            });
        });
    }
    group.finish();
}

fn actix_systems(c: &mut Criterion) {
    let sys = actix_web::rt::System::new();
    for system in ["actix_none", "actix_sealed_session", "actix_session"] {
        match Shared::new(system) {
            Shared::None => {
                let svc = sys.block_on(test::init_service(actix_apps::none()));
                actix_system(c, system, &sys, &svc);
            }
            Shared::Sealed(s) => {
                let svc = sys.block_on(test::init_service(actix_apps::sealed_session(&s)));
                actix_system(c, system, &sys, &svc);
            }
            Shared::Cookie(k) => {
                let svc = sys.block_on(test::init_service(actix_apps::actix_session(&k)));
                actix_system(c, system, &sys, &svc);
            }
        }
    }
}

/// What the sealed-session routes spend in the core: an open of the
/// typical session from its `Cookie` header, and a seal to `Set-Cookie`.
fn core(c: &mut Criterion) {
    let sessions = sealed_session_e2e::sessions();
    let meta = sessions.codec().new_session(None).expect("session");
    let data = sealed_session_e2e::typical();
    let none = sessions.open::<Typical>([]).carried;
    let set = sessions.seal(&meta, &data, &none).expect("seal");
    let cookie = SetCookie::cookie_header(&set);
    let mut group = c.benchmark_group("core");
    group.bench_function("open", |b| {
        b.iter(|| black_box(sessions.open::<Typical>([black_box(cookie.as_str())])));
    });
    let carried = sessions.open::<Typical>([cookie.as_str()]).carried;
    group.bench_function("seal", |b| {
        b.iter(|| black_box(sessions.seal(&meta, black_box(&data), &carried)));
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = core, axum_systems, actix_systems
}
criterion_main!(benches);
