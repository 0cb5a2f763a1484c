//! A checker for the server grammar of RFC 6265bis §4.1.1
//! (`set-cookie-string`), written independently of the crate's
//! `src/grammar.rs`. Shared by `tests/cookies.rs` and the `set_cookie` and
//! `cookie_header` fuzz targets.

use std::collections::HashSet;

/// `tchar` (RFC 9110 §5.6.2).
pub fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// `%x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E`
pub fn is_cookie_octet(b: u8) -> bool {
    matches!(b, 0x21 | 0x23..=0x2B | 0x2D..=0x3A | 0x3C..=0x5B | 0x5D..=0x7E)
}

/// `%x20-3A / %x3C-7E`
pub fn is_av_octet(b: u8) -> bool {
    matches!(b, 0x20..=0x3A | 0x3C..=0x7E)
}

/// `<subdomain>`, RFC 1034 §3.5 as relaxed by RFC 1123 §2.1.
pub fn is_subdomain(s: &str) -> bool {
    !s.is_empty()
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
}

/// `IMF-fixdate = day-name "," SP date1 SP time-of-day SP GMT`
pub fn is_imf_fixdate(s: &str) -> bool {
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    if !s.is_ascii() {
        return false;
    }
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    b.len() == 29
        && DAYS.contains(&&s[0..3])
        && &s[3..5] == ", "
        && digits(5..7)
        && b[7] == b' '
        && MONTHS.contains(&&s[8..11])
        && b[11] == b' '
        && digits(12..16)
        && b[16] == b' '
        && digits(17..19)
        && b[19] == b':'
        && digits(20..22)
        && b[22] == b':'
        && digits(23..25)
        && &s[25..] == " GMT"
}

/// `set-cookie-string = cookie-pair *( ";" SP cookie-av )`, with every
/// attribute one the crate may write, each at most once (§4.1.1: no
/// two attributes with the same name). `Max-Age=0` is accepted as in
/// the editor's copy since 2026-01 ("Accept max-age=0").
///
/// # Errors
/// What does not match, naming the part.
pub fn check(s: &str) -> Result<(), String> {
    let mut parts = s.split(';');
    let pair = parts.next().unwrap_or_default();
    let (name, value) = pair.split_once('=').ok_or("cookie-pair without =")?;
    if name.is_empty() || !name.bytes().all(is_tchar) {
        return Err("cookie-name is not a token".into());
    }
    let bare = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(value);
    if !bare.bytes().all(is_cookie_octet) {
        return Err("cookie-value has a byte outside cookie-octet".into());
    }
    let mut seen = HashSet::new();
    for av in parts {
        let av = av.strip_prefix(' ').ok_or("cookie-av not after \"; \"")?;
        let (attr, val) = match av.split_once('=') {
            Some((a, v)) => (a, Some(v)),
            None => (av, None),
        };
        if !seen.insert(attr.to_ascii_lowercase()) {
            return Err(format!("attribute {attr} twice"));
        }
        let ok = match (attr, val) {
            ("Expires", Some(d)) => is_imf_fixdate(d),
            ("Max-Age", Some(d)) => {
                d == "0"
                    || (d.bytes().all(|b| b.is_ascii_digit())
                        && d.bytes().next().is_some_and(|b| b != b'0'))
            }
            ("Domain", Some(d)) => is_subdomain(d),
            ("Path", Some(p)) => p.bytes().all(is_av_octet),
            ("Secure" | "HttpOnly" | "Partitioned", None) => true,
            ("SameSite", Some(v)) => matches!(v, "Strict" | "Lax" | "None"),
            _ => false,
        };
        if !ok {
            return Err(format!("bad attribute {attr}"));
        }
    }
    Ok(())
}

#[test]
fn the_checker_accepts_good_and_refuses_bad_headers() {
    for good in [
        "a=b",
        "a=",
        "a=\"b\"",
        "__Host-s=AbC_-9; Path=/; Secure; HttpOnly; SameSite=Lax",
        "s=v; Path=/a b; Domain=example.com; Max-Age=0; Expires=Sun, 06 Nov 1994 08:49:37 GMT",
        "s=v; Max-Age=34560000; Partitioned; SameSite=None; Secure",
    ] {
        assert_eq!(check(good), Ok(()), "{good}");
    }
    for bad in [
        "a",
        "=b",
        "a b=c",
        "a=b c",
        "a=b,c",
        "a=b;Secure",
        "a=b; Secure; Secure",
        "a=b; Path=/; path=/x",
        "a=b; Max-Age=01",
        "a=b; Max-Age=-1",
        "a=b; Expires=Sun, 6 Nov 1994 08:49:37 GMT",
        "a=b; Expires=Sunday, 06-Nov-94 08:49:37 GMT",
        "a=b; Domain=.example.com",
        "a=b; Domain=ex_ample.com",
        "a=b; Path=/\u{1}",
        "a=b; SameSite=lax",
        "a=b; Unknown",
    ] {
        assert!(check(bad).is_err(), "{bad}");
    }
}
