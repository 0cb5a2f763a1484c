//! Character classes of RFC 6265bis §4.1.1 and RFC 9110 §5.6.2.

/// `tchar` (RFC 9110 §5.6.2): the characters of a `token`, which is what a
/// cookie name must be (RFC 6265bis §4.1.1).
pub(crate) const fn is_tchar(b: u8) -> bool {
    matches!(b,
        b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+' | b'-' | b'.'
        | b'^' | b'_' | b'`' | b'|' | b'~'
        | b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z')
}

/// Whether `s` is a non-empty `token`.
pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_tchar)
}

/// `cookie-octet` (RFC 6265bis §4.1.1): `%x21 / %x23-2B / %x2D-3A /
/// %x3C-5B / %x5D-7E`.
pub(crate) const fn is_cookie_octet(b: u8) -> bool {
    matches!(b, 0x21 | 0x23..=0x2B | 0x2D..=0x3A | 0x3C..=0x5B | 0x5D..=0x7E)
}

/// `av-octet` (RFC 6265bis §4.1.1): `%x20-3A / %x3C-7E`.
pub(crate) const fn is_av_octet(b: u8) -> bool {
    matches!(b, 0x20..=0x3A | 0x3C..=0x7E)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_alphabet_is_all_cookie_octets() {
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        assert!(alphabet.iter().all(|b| is_cookie_octet(*b)));
        for b in [b' ', b'"', b',', b';', b'\\', 0x7f, 0x00, b'\n'] {
            assert!(!is_cookie_octet(b), "{b:#x}");
        }
    }

    #[test]
    fn tokens() {
        assert!(is_token("__Host-session"));
        assert!(is_token("a.b"));
        for bad in ["", "a b", "a;b", "a=b", "a,b", "a\"b", "é", "a(b", "a/b"] {
            assert!(!is_token(bad), "{bad:?}");
        }
    }

    #[test]
    fn av_octets() {
        assert!("/path with space".bytes().all(is_av_octet));
        assert!(!is_av_octet(b';'));
        assert!(!is_av_octet(b'\r'));
    }
}
