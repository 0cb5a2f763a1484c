use axum::Router;
use axum::routing::get;
use axum_login::{AuthManager, AuthnBackend};
use axum_messages::{Messages, MessagesManagerLayer};
use sealed_session::tower_sessions::JsonRecord;
use sealed_session::{Keyring, Session, Sessions};

async fn show(
    session: tower_sessions::Session,
    messages: Messages,
    handle: Session<JsonRecord>,
) -> String {
    // tower-sessions' calls, unchanged.
    let visits: u64 = session.get("visits").await.ok().flatten().unwrap_or(0);
    let _ = session.insert("visits", visits + 1).await;
    let flashes: Vec<String> = messages.map(|m| m.message).collect();
    // The token for the page's forms.
    let token = handle.csrf_token().unwrap_or_default();
    format!("visit {}; {flashes:?}; csrf {token}", visits + 1)
}

pub fn app<B: AuthnBackend + 'static>(sessions: &Sessions, backend: B) -> Router {
    Router::new()
        .route("/", get(show))
        .layer(MessagesManagerLayer)
        // was: .layer(AuthManagerLayerBuilder::new(backend, session_layer).build())
        .layer(tower_layer::layer_fn(move |inner| {
            AuthManager::new(inner, backend.clone(), "axum-login.data")
        }))
        .layer(sessions.csrf::<JsonRecord>()) // new: token and cross-origin check
        // was: let session_layer = SessionManagerLayer::new(MemoryStore::default());
        .layer(sessions.tower_sessions_layer())
}

pub fn sessions() -> Result<Sessions, Box<dyn std::error::Error>> {
    let keyring: Keyring = std::env::var("SESSION_KEYS")?.parse()?;
    Ok(Sessions::builder(keyring).build()?)
}
