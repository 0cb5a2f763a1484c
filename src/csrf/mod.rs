//! Cross-site request forgery, framework-neutral: the cross-origin check,
//! session-bound tokens, and the check both adapters' CSRF layers apply.

pub(crate) mod check;
pub(crate) mod origin;
pub(crate) mod token;

pub use check::{CSRF_FIELD, CSRF_HEADER, MAX_FORM_BYTES};
pub use origin::CrossOrigin;
pub use token::CSRF_TOKEN_LEN;
