//! Thin translations between a framework's types and the request-level
//! session, one file each, behind a feature named after the framework.

#[cfg(feature = "actix-web")]
pub mod actix;
#[cfg(feature = "axum")]
pub mod axum;
#[cfg(feature = "http")]
pub mod http;
#[cfg(feature = "tower")]
pub mod tower;
#[cfg(feature = "tower-sessions")]
pub mod tower_sessions;
