//! Cross-site request forgery, framework-neutral: session-bound tokens and
//! the check both adapters' CSRF layers apply.

pub(crate) mod check;
pub(crate) mod token;

pub use check::{CSRF_FIELD, CSRF_HEADER, MAX_FORM_BYTES};
pub use token::CSRF_TOKEN_LEN;
