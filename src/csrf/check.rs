//! The CSRF check of an unsafe request, written once: which methods pass,
//! where the token is looked for, and how a form body is read. The axum
//! and actix-web layers only fetch the header, buffer the body and answer.

#![cfg_attr(
    not(any(feature = "axum", feature = "actix-web")),
    allow(dead_code, reason = "the CSRF layers' shared half; unused without one")
)]

use std::borrow::Cow;

use crate::session::handle::Session;

/// The request header that carries a CSRF token, for JavaScript clients.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// The form field that carries a CSRF token, for HTML forms.
pub const CSRF_FIELD: &str = "csrf";
/// The largest form body the CSRF layers buffer to find [`CSRF_FIELD`]
/// (axum's default body limit, 2 MiB); a larger form gets 413.
pub const MAX_FORM_BYTES: usize = 2 * 1024 * 1024;

/// What a CSRF layer does with a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CsrfStep {
    /// Pass it to the handler.
    Allow,
    /// Answer a bare 403.
    Refuse,
    /// Buffer the `application/x-www-form-urlencoded` body (at most
    /// [`MAX_FORM_BYTES`]) and ask [`Session::csrf_form_verifies`].
    ReadForm,
}

/// RFC 9110 §9.2.1 safe methods, less TRACE (which reflects the request,
/// cookies included, and has no business changing state or passing
/// unchecked).
pub(crate) fn is_safe_method(method: &str) -> bool {
    matches!(method, "GET" | "HEAD" | "OPTIONS")
}

fn is_form(content_type: Option<&[u8]>) -> bool {
    content_type
        .and_then(|v| core::str::from_utf8(v).ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

impl<T> Session<T> {
    /// The first step of the check: safe methods pass; every other request
    /// must pass the [cross-origin check](crate::CrossOrigin), session or
    /// not; then a request with no session passes only under
    /// `allow_without_session`; the [`CSRF_HEADER`] is tried first; then a
    /// form body, if it is one. `header` looks a request header up by its
    /// lowercase name.
    pub(crate) fn csrf_step<'a>(
        &self,
        method: &str,
        header: impl Fn(&str) -> Option<&'a [u8]>,
        allow_without_session: bool,
    ) -> CsrfStep {
        if is_safe_method(method) {
            return CsrfStep::Allow;
        }
        if let Err(refusal) = self.sessions().cross_origin().check(method, &header) {
            log_refusal(refusal.as_str());
            return CsrfStep::Refuse;
        }
        if allow_without_session && self.meta().is_none() {
            return CsrfStep::Allow;
        }
        let refuse = || {
            log_refusal("csrf_token");
            CsrfStep::Refuse
        };
        if let Some(token) = header(CSRF_HEADER) {
            let ok = core::str::from_utf8(token).is_ok_and(|t| self.verify_csrf(t));
            return if ok { CsrfStep::Allow } else { refuse() };
        }
        if is_form(header("content-type")) {
            CsrfStep::ReadForm
        } else {
            refuse()
        }
    }

    /// Whether the first [`CSRF_FIELD`] of an urlencoded `body`, decoded,
    /// is the session's token.
    pub(crate) fn csrf_form_verifies(&self, body: &[u8]) -> bool {
        let ok = form_field(body, CSRF_FIELD).is_some_and(|token| self.verify_csrf(&token));
        if !ok {
            log_refusal("csrf_token");
        }
        ok
    }
}

/// One event per refused unsafe request: why (`sec_fetch_site`,
/// `origin_mismatch` or `csrf_token`), nothing from the request.
#[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
fn log_refusal(reason: &'static str) {
    #[cfg(feature = "tracing")]
    tracing::info!(reason, "sealed_session: unsafe request refused with 403");
}

/// The first value of `name` in an urlencoded body, percent- and
/// plus-decoded.
fn form_field<'a>(body: &'a [u8], name: &str) -> Option<Cow<'a, str>> {
    form_urlencoded::parse(body).find_map(|(key, value)| (key == name).then_some(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_fields_are_decoded() {
        let f = |body: &str| form_field(body.as_bytes(), "csrf").map(Cow::into_owned);
        assert_eq!(f("user=ada&csrf=abc-_9").as_deref(), Some("abc-_9"));
        assert_eq!(f("csrf=a%2Db").as_deref(), Some("a-b"), "percent-decoded");
        assert_eq!(f("cs%72f=x").as_deref(), Some("x"), "names decoded too");
        assert_eq!(f("csrf=&user=ada").as_deref(), Some(""));
        assert_eq!(f("xcsrf=1&csrf=2&csrf=3").as_deref(), Some("2"));
        assert_eq!(f("user=ada"), None);
        assert_eq!(f(""), None);
    }

    #[test]
    fn safe_methods_exclude_trace() {
        for m in ["GET", "HEAD", "OPTIONS"] {
            assert!(is_safe_method(m));
        }
        for m in ["POST", "PUT", "PATCH", "DELETE", "TRACE", "PURGE", "get"] {
            assert!(!is_safe_method(m), "{m}");
        }
    }

    #[test]
    fn only_urlencoded_bodies_are_forms() {
        assert!(is_form(Some(b"application/x-www-form-urlencoded")));
        assert!(is_form(Some(
            b"Application/X-WWW-Form-Urlencoded; charset=utf-8"
        )));
        assert!(!is_form(Some(b"multipart/form-data; boundary=x")));
        assert!(!is_form(Some(b"application/json")));
        assert!(!is_form(None));
    }
}
