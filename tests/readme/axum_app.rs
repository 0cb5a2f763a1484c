use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Form, Router};
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
    // Templates put this token in a hidden `csrf` field of every form. On a
    // first visit it starts the session, so the form posts back with it.
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
    Form(form): Form<SignIn>,
) -> Result<&'static str, StatusCode> {
    // A new session id at sign-in (session fixation); the subject is sealed
    // for revocation ("log out everywhere").
    session
        .regenerate(Some(&form.user))
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    session.update(|cart| cart.user = Some(form.user));
    Ok("signed in")
}

async fn sign_out(session: Session<Cart>) -> &'static str {
    session.clear(); // the response removes the cookie
    "signed out"
}

pub fn app(sessions: &Sessions) -> Router {
    Router::new()
        .route("/", get(show))
        .route("/add", post(add))
        .route("/login", post(sign_in))
        .route("/logout", post(sign_out))
        .layer(sessions.csrf::<Cart>()) // every POST needs the token
        .layer(sessions.layer::<Cart>())
}

pub async fn serve() -> Result<(), Box<dyn std::error::Error>> {
    let keyring: Keyring = std::env::var("SESSION_KEYS")?.parse()?;
    let sessions = Sessions::builder(keyring).build()?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    axum::serve(listener, app(&sessions)).await?;
    Ok(())
}
