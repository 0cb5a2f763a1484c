//! Cookie name prefixes (`__Host-`, `__Secure-`, `__Http-`) and the
//! look-alikes that are refused.

use crate::error::ConfigError;

/// A name prefix with browser-enforced rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Prefix {
    None,
    /// `__Secure-`: Secure.
    Secure,
    /// `__Http-` (layered-cookies draft): Secure and HttpOnly.
    Http,
    /// `__Host-`: Secure, `Path=/`, no Domain.
    Host,
    /// `__Host-Http-` (layered-cookies draft): the `__Host-` rules and
    /// HttpOnly.
    HostHttp,
}

/// The prefixes a browser may recognise, longest first within a family.
const PREFIXES: [(&str, Prefix); 4] = [
    ("__Host-Http-", Prefix::HostHttp),
    ("__Host-", Prefix::Host),
    ("__Secure-", Prefix::Secure),
    ("__Http-", Prefix::Http),
];

impl Prefix {
    /// The prefix `name` carries, or an error if it carries a look-alike
    /// (a case variant such as `__host-`, which Firefox would treat as the
    /// prefix and other browsers would not).
    pub(crate) fn of(name: &str) -> Result<Self, ConfigError> {
        let bytes = name.as_bytes();
        for (spelling, _) in PREFIXES {
            let p = spelling.as_bytes();
            if bytes.len() >= p.len()
                && bytes[..p.len()].eq_ignore_ascii_case(p)
                && &bytes[..p.len()] != p
            {
                return Err(ConfigError::new(
                    "the cookie name starts with a case variant of __Host-, __Secure- or __Http-; \
                     spell the prefix exactly or choose a name without one",
                ));
            }
        }
        Ok(PREFIXES
            .iter()
            .find(|(spelling, _)| name.starts_with(spelling))
            .map_or(Self::None, |(_, prefix)| *prefix))
    }

    pub(crate) const fn is_host(self) -> bool {
        matches!(self, Self::Host | Self::HostHttp)
    }
}
