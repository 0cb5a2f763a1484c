//! The actix-web 4 apps: `actix_none`, `actix_sealed_session`,
//! `actix_session`.

use actix_session::storage::CookieSessionStore;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::{App, HttpResponse, web};
use sealed_session::Sessions;

use crate::{DATA, Typical, typical};

/// What the app factory of every actix system returns.
pub trait Factory:
    ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<Self::Body>,
        Error = actix_web::Error,
        InitError = (),
    >
{
    /// The response body type.
    type Body: MessageBody;
}

impl<T, B> Factory for T
where
    B: MessageBody,
    T: ServiceFactory<
            ServiceRequest,
            Config = (),
            Response = ServiceResponse<B>,
            Error = actix_web::Error,
            InitError = (),
        >,
{
    type Body = B;
}

/// Whether `system` is one of the actix-web systems.
#[must_use]
pub fn is_actix(system: &str) -> bool {
    matches!(
        system,
        "actix_none" | "actix_sealed_session" | "actix_session"
    )
}

/// The state every app of a system shares (keys), made once per process.
#[derive(Clone)]
pub enum Shared {
    /// `actix_none`.
    None,
    /// `actix_sealed_session`.
    Sealed(Sessions),
    /// `actix_session`.
    Cookie(actix_web::cookie::Key),
}

impl Shared {
    /// The shared state of `system`.
    #[must_use]
    pub fn new(system: &str) -> Self {
        match system {
            "actix_sealed_session" => Self::Sealed(crate::sessions()),
            "actix_session" => Self::Cookie(actix_web::cookie::Key::generate()),
            _ => Self::None,
        }
    }
}

async fn untouched() -> HttpResponse {
    HttpResponse::Ok().body("ok")
}

/// The routes of `actix_none`.
pub fn none() -> App<impl Factory> {
    App::new()
        .route("/login", web::get().to(untouched))
        .route(
            "/read",
            web::get().to(|| async { HttpResponse::Ok().body("Ada Lovelace-Kin") }),
        )
        .route("/write", web::get().to(untouched))
        .route("/none", web::get().to(untouched))
}

// ---- sealed-session -------------------------------------------------------

/// The app of `actix_sealed_session`.
pub fn sealed_session(sessions: &Sessions) -> App<impl Factory + use<>> {
    App::new()
        .wrap(sessions.middleware::<Typical>())
        .route("/login", web::get().to(ss_login))
        .route("/read", web::get().to(ss_read))
        .route("/write", web::get().to(ss_write))
        .route("/none", web::get().to(untouched))
}

type SealedSession = sealed_session::Session<Typical>;

async fn ss_login(session: SealedSession) -> HttpResponse {
    session.insert(typical());
    HttpResponse::Ok().body("ok")
}

async fn ss_read(session: SealedSession) -> HttpResponse {
    match session.with(|d| d.map(|d| d.name.clone())) {
        Some(name) => HttpResponse::Ok().body(name),
        None => HttpResponse::Unauthorized().finish(),
    }
}

async fn ss_write(session: SealedSession) -> HttpResponse {
    if session.with(|d| d.is_none()) {
        return HttpResponse::Unauthorized().finish();
    }
    session.update(|d| d.issued_at += 1);
    HttpResponse::Ok().body("ok")
}

// ---- actix-session CookieSessionStore -------------------------------------

/// The app of `actix_session`, its cookie store with its defaults (a
/// private, AES-256-GCM cookie, the session as JSON).
pub fn actix_session(key: &actix_web::cookie::Key) -> App<impl Factory + use<>> {
    App::new()
        .wrap(actix_session::SessionMiddleware::new(
            CookieSessionStore::default(),
            key.clone(),
        ))
        .route("/login", web::get().to(as_login))
        .route("/read", web::get().to(as_read))
        .route("/write", web::get().to(as_write))
        .route("/none", web::get().to(untouched))
}

async fn as_login(session: actix_session::Session) -> HttpResponse {
    match session.insert(DATA, typical()) {
        Ok(()) => HttpResponse::Ok().body("ok"),
        Err(_) => HttpResponse::InternalServerError().finish(),
    }
}

async fn as_read(session: actix_session::Session) -> HttpResponse {
    match session.get::<Typical>(DATA) {
        Ok(Some(d)) => HttpResponse::Ok().body(d.name),
        _ => HttpResponse::Unauthorized().finish(),
    }
}

async fn as_write(session: actix_session::Session) -> HttpResponse {
    let Ok(Some(mut data)) = session.get::<Typical>(DATA) else {
        return HttpResponse::Unauthorized().finish();
    };
    data.issued_at += 1;
    match session.insert(DATA, data) {
        Ok(()) => HttpResponse::Ok().body("ok"),
        Err(_) => HttpResponse::InternalServerError().finish(),
    }
}
