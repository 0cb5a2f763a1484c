use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::{App, HttpServer, error, web};
use sealed_session::{Keyring, Session, Sessions};
use serde::{Deserialize, Serialize};

#[derive(Clone, Default, Serialize, Deserialize)]
struct Cart {
    user: Option<String>,
    items: Vec<String>,
}

#[derive(Deserialize)]
struct SignIn {
    user: String,
}

async fn show(session: Session<Cart>) -> String {
    let cart = session.get().unwrap_or_default();
    // The same handle, methods and token as with axum.
    let token = session.csrf_token().unwrap_or_default();
    let user = cart.user.as_deref().unwrap_or("-");
    format!("user {user}; {} items; csrf {token}", cart.items.len())
}

async fn add(session: Session<Cart>) -> &'static str {
    session.update(|cart| cart.items.push("book".into()));
    "added"
}

async fn sign_in(
    session: Session<Cart>,
    form: web::Form<SignIn>,
) -> actix_web::Result<&'static str> {
    session
        .regenerate(Some(&form.user))
        .map_err(error::ErrorInternalServerError)?;
    session.update(|cart| cart.user = Some(form.into_inner().user));
    Ok("signed in")
}

async fn sign_out(session: Session<Cart>) -> &'static str {
    session.clear();
    "signed out"
}

pub fn server(sessions: Sessions, listener: TcpListener) -> std::io::Result<Server> {
    let server = HttpServer::new(move || {
        App::new()
            .wrap(sessions.csrf_middleware::<Cart>()) // wrapped first, so it runs inside
            .wrap(sessions.middleware::<Cart>())
            .route("/", web::get().to(show))
            .route("/add", web::post().to(add))
            .route("/login", web::post().to(sign_in))
            .route("/logout", web::post().to(sign_out))
    });
    Ok(server.listen(listener)?.run())
}

pub async fn serve() -> Result<(), Box<dyn std::error::Error>> {
    let keyring: Keyring = std::env::var("SESSION_KEYS")?.parse()?;
    let sessions = Sessions::builder(keyring).build()?;
    server(sessions, TcpListener::bind("127.0.0.1:3000")?)?.await?;
    Ok(())
}
