//! The response-side size budget: how many bytes of `Set-Cookie` header
//! lines one response may carry.
//!
//! A reverse proxy reads the upstream's whole response header into one
//! buffer and answers `502 Bad Gateway` when it does not fit. nginx's
//! default for that buffer, `proxy_buffer_size`, is one memory page: 4 KiB
//! on x86-64 and most ARM64 Linux systems. A single cookie of the 4096
//! bytes a browser accepts therefore never reaches the browser through a
//! default nginx, and neither does a set of chunks. So the crate counts
//! the `Set-Cookie` lines it emits and refuses a set that exceeds the
//! budget with [`ErrorKind::TooLarge`](crate::ErrorKind::TooLarge), naming
//! the size and the limit, rather than hand the proxy a response it drops.
//!
//! | proxy | limit on the upstream's response header | default | source |
//! |---|---|---|---|
//! | nginx | `proxy_buffer_size`, the whole header block | one memory page, 4 KiB or 8 KiB by platform | nginx `ngx_http_proxy_module` documentation |
//! | HAProxy | `tune.bufsize` less `tune.maxrewrite`, per direction | 16384 − 1024 bytes | HAProxy configuration manual, §3.2 |
//!
//! The default, [`DEFAULT_SET_COOKIE_BUDGET`], is nginx's 4 KiB less 1 KiB
//! for the status line and the app's other headers. Raise it only together
//! with the proxy's setting (README, "Behind a reverse proxy").
//!
//! Removal cookies (stale chunks, a refused cookie) are counted too, but
//! never cause an error: those that do not fit after the written cookies
//! are left for a later response, which removes them then.

use crate::cookie::set_cookie::SetCookie;
use crate::error::{Error, Result};

/// The default for
/// [`CookiePolicyBuilder::set_cookie_budget`](crate::CookiePolicyBuilder::set_cookie_budget):
/// 3072 bytes of `Set-Cookie` lines per response, nginx's default 4 KiB
/// response-header buffer (`proxy_buffer_size`) less 1 KiB for the status
/// line and the app's other headers.
///
/// ```
/// assert_eq!(sealed_session::DEFAULT_SET_COOKIE_BUDGET, 4096 - 1024);
/// ```
pub const DEFAULT_SET_COOKIE_BUDGET: usize = 4096 - 1024;

/// The bytes one header line adds beyond its value: `Set-Cookie: ` and the
/// line's CRLF, as HTTP/1.1 carries it from the app to the proxy.
pub(crate) const LINE_OVERHEAD: usize = "Set-Cookie: ".len() + "\r\n".len();

/// The bytes `cookie`'s header line takes in an HTTP/1.1 response.
pub(crate) fn line_len(cookie: &SetCookie) -> usize {
    LINE_OVERHEAD + cookie.header_value().len()
}

/// `written` (the new cookie or its chunks) followed by as many of
/// `removals` as still fit `budget`, in order.
///
/// # Errors
/// [`ErrorKind::TooLarge`](crate::ErrorKind::TooLarge) if `written` alone
/// exceeds the budget; [`Error::size_and_limit`] gives its lines' length
/// and the budget.
pub(crate) fn fit(
    budget: usize,
    mut written: Vec<SetCookie>,
    removals: impl IntoIterator<Item = SetCookie>,
) -> Result<Vec<SetCookie>> {
    let mut used: usize = written.iter().map(line_len).sum();
    if used > budget {
        return Err(Error::set_cookie_too_large(used, budget));
    }
    for removal in removals {
        let len = line_len(&removal);
        if used + len > budget {
            break;
        }
        used += len;
        written.push(removal);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::ErrorKind;
    use crate::cookie::attributes::{Attributes, SameSite};
    use crate::cookie::set_cookie::Lifespan;

    fn attributes() -> Arc<Attributes> {
        Arc::new(Attributes {
            path: "/".into(),
            domain: None,
            secure: true,
            same_site: SameSite::Lax,
            partitioned: false,
        })
    }

    fn cookie(name: &str, len: usize) -> SetCookie {
        SetCookie::new(
            name.to_owned(),
            "A".repeat(len),
            Lifespan::BrowserSession,
            attributes(),
        )
    }

    fn removal(k: usize) -> SetCookie {
        SetCookie::removal(format!("s.{k}"), attributes())
    }

    #[test]
    fn a_line_counts_its_field_name_and_crlf() {
        let c = cookie("s", 10);
        assert_eq!(
            line_len(&c),
            format!("Set-Cookie: {}\r\n", c.header_value()).len()
        );
    }

    #[test]
    fn written_cookies_over_the_budget_are_refused_with_both_figures() {
        let c = cookie("s", 100);
        let exact = line_len(&c);
        assert_eq!(fit(exact, vec![c.clone()], []).unwrap().len(), 1);
        let err = fit(exact - 1, vec![c], []).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TooLarge);
        assert_eq!(err.size_and_limit(), Some((exact, exact - 1)));
        assert_eq!(
            err.to_string(),
            format!(
                "sealed cookie too large: set-cookie headers of {exact} bytes exceed the response budget of {} bytes",
                exact - 1
            )
        );
    }

    #[test]
    fn removals_that_do_not_fit_wait_for_a_later_response() {
        let c = cookie("s", 100);
        let one = line_len(&removal(0));
        let budget = line_len(&c) + 2 * one + one / 2;
        let out = fit(budget, vec![c], (0..5).map(removal)).unwrap();
        let names: Vec<&str> = out.iter().map(SetCookie::name).collect();
        assert_eq!(names, ["s", "s.0", "s.1"]);
        assert!(out.iter().map(line_len).sum::<usize>() <= budget);
        // Removals alone never fail either.
        assert!(fit(10, Vec::new(), (0..5).map(removal)).unwrap().is_empty());
    }
}
