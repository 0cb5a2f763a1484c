//! Each system's app called in process, as a service: no TCP and no HTTP
//! parsing. What the criterion bench (`benches/in_process.rs`) and the
//! instruction counts (`src/bin/per_request.rs`, `callgrind.py`) call.

use std::hint::black_box;

use actix_web::dev::{Service, ServiceResponse};
use actix_web::test::{self, TestRequest};
use axum::Router;
use axum::body::Body;
use http::Request;
use http::header::{COOKIE, SET_COOKIE};
use sealed_session::SetCookie;
use tower::ServiceExt as _;

use crate::actix_apps::{self, Shared};
use crate::{Typical, axum_apps, cookie_header, typical};

/// One request to a route (`read`, `write`, `none`) carrying the cookie
/// the system's `/login` set; returns the status.
pub type Caller = Box<dyn FnMut(&str) -> u16>;

/// The routes every app has besides `/login`.
pub const ROUTES: [&str; 3] = ["read", "write", "none"];

/// The caller of `system`, signed in: its setup asserts that every route
/// answers 200 with the cookie `/login` set.
///
/// # Panics
/// If `system` is unknown or a route does not answer 200.
#[must_use]
pub fn caller(system: &str) -> Caller {
    let mut call = match axum_apps::app(system) {
        Some(app) => axum_caller(app),
        None => actix_caller(system),
    };
    for route in ROUTES {
        assert_eq!(call(route), 200, "{system} /{route}");
    }
    call
}

fn axum_caller(app: Router) -> Caller {
    // As `axum::serve` does (through `into_make_service`): the routes are
    // turned into services once, not on every request.
    let app = app.with_state(());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let call = |app: &Router, path: &str, cookie: &str| {
        let req = Request::get(path)
            .header(COOKIE, cookie)
            .body(Body::empty())
            .expect("request");
        rt.block_on(app.clone().oneshot(req)).expect("infallible")
    };
    let login = call(&app, "/login", "");
    let cookie = cookie_header(
        login
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .map(|v| v.to_str().expect("ascii")),
    );
    let paths = ROUTES.map(|r| format!("/{r}"));
    Box::new(move |route| {
        let path = paths.iter().find(|p| &p[1..] == route).expect("a route");
        let req = Request::get(path.as_str())
            .header(COOKIE, black_box(cookie.as_str()))
            .body(Body::empty())
            .expect("request");
        let response = rt.block_on(app.clone().oneshot(req)).expect("infallible");
        response.status().as_u16()
    })
}

fn actix_caller(system: &str) -> Caller {
    let sys = actix_web::rt::System::new();
    match Shared::new(system) {
        Shared::None => {
            let svc = sys.block_on(test::init_service(actix_apps::none()));
            actix_boxed(sys, svc)
        }
        Shared::Sealed(s) => {
            let svc = sys.block_on(test::init_service(actix_apps::sealed_session(&s)));
            actix_boxed(sys, svc)
        }
        Shared::Cookie(k) => {
            let svc = sys.block_on(test::init_service(actix_apps::actix_session(&k)));
            actix_boxed(sys, svc)
        }
    }
}

fn actix_boxed<S, B>(sys: actix_web::rt::SystemRunner, svc: S) -> Caller
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>
        + 'static,
    B: 'static,
{
    let request = |path: &str, cookie: &str| {
        TestRequest::get()
            .uri(path)
            .insert_header(("cookie", cookie))
            .to_request()
    };
    let login = sys.block_on(test::call_service(&svc, request("/login", "")));
    let cookie = cookie_header(
        login
            .headers()
            .get_all("set-cookie")
            .map(|v| v.to_str().expect("ascii")),
    );
    let paths = ROUTES.map(|r| format!("/{r}"));
    Box::new(move |route| {
        let path = paths.iter().find(|p| &p[1..] == route).expect("a route");
        let response = sys.block_on(test::call_service(
            &svc,
            request(path, black_box(cookie.as_str())),
        ));
        response.status().as_u16()
    })
}

/// What the sealed-session routes spend in the core, for the typical
/// session: `open` (`Sessions::open` from its `Cookie` header) or `seal`
/// (`Sessions::seal` to `Set-Cookie`).
///
/// # Panics
/// If `op` is neither.
#[must_use]
pub fn core_op(op: &str) -> Box<dyn FnMut()> {
    let sessions = crate::sessions();
    let meta = sessions.codec().new_session(None).expect("session");
    let data = typical();
    let none = sessions.open::<Typical>([]).carried;
    let cookie = SetCookie::cookie_header(&sessions.seal(&meta, &data, &none).expect("seal"));
    let carried = sessions.open::<Typical>([cookie.as_str()]).carried;
    match op {
        "open" => Box::new(move || {
            let read = sessions.open::<Typical>([black_box(cookie.as_str())]);
            assert!(read.session.is_some());
        }),
        "seal" => Box::new(move || {
            black_box(
                sessions
                    .seal(&meta, black_box(&data), &carried)
                    .expect("seal"),
            );
        }),
        _ => panic!("unknown core op {op:?}"),
    }
}
