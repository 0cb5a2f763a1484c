//! The attributes every cookie of a policy carries: SameSite, persistence,
//! and the limits browsers put on them.

/// Browsers ignore (Chromium) or reject the cookie for (Firefox) a Path or
/// Domain value longer than this (RFC 6265bis §5.6 step 6; Chromium
/// `kMaxCookieAttributeValueSize`, Firefox `kMaxBytesPerPath/Domain`).
pub const MAX_ATTRIBUTE_VALUE_LEN: usize = 1024;

/// The longest Max-Age a browser honours: 400 days, 34 560 000 seconds
/// (RFC 6265bis §5.5: the cap "SHOULD NOT" exceed 400 days; Chromium caps
/// here since M104). Persistent cookies are clamped to it.
pub const MAX_COOKIE_AGE_SECS: u64 = 400 * 24 * 60 * 60;

const _: () = assert!(MAX_COOKIE_AGE_SECS == 34_560_000);

/// The `SameSite` attribute (RFC 6265bis §4.1.2.7). Always sent
/// explicitly; browsers' defaults differ.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SameSite {
    /// Never sent on cross-site requests. Safest against CSRF, but a user
    /// following a link from another site arrives logged out. RFC 6265bis
    /// §8.8.2 suggests two cookies for that: a `Lax` one to read the
    /// session and a `Strict` one whose absence forces re-authentication
    /// before state-changing actions (two policies with two names).
    Strict,
    /// Sent on cross-site top-level navigations with safe methods only.
    /// The default: it keeps links into the site working while blocking
    /// cross-site form posts.
    #[default]
    Lax,
    /// Sent on every request, including cross-site subresources. Needs
    /// Secure; use it only for embedded (iframe) apps, with a CSRF token.
    None,
}

impl SameSite {
    /// The attribute value as written: `Strict`, `Lax` or `None`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Strict => "Strict",
            Self::Lax => "Lax",
            Self::None => "None",
        }
    }
}

/// Whether the browser keeps the cookie after it closes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Persistence {
    /// No Max-Age and no Expires: the browser drops the cookie when the
    /// session ends. The default (OWASP: "highly recommended to use
    /// non-persistent cookies"; SP 800-63B-4 §5.1).
    #[default]
    BrowserSession,
    /// "Remember me": Max-Age and Expires follow the session's absolute
    /// deadline, clamped to [`MAX_COOKIE_AGE_SECS`]. The server still
    /// enforces every deadline itself; the browser's expiry is a courtesy.
    UntilExpiry,
}

/// The validated attributes every cookie of a policy carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Attributes {
    pub(crate) path: Box<str>,
    pub(crate) domain: Option<Box<str>>,
    pub(crate) secure: bool,
    pub(crate) same_site: SameSite,
    pub(crate) partitioned: bool,
}
