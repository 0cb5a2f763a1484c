//! [`ConfigError`]: a setting the crate refuses, found when the
//! configuration is built or parsed, never while serving a request.

use core::fmt;
use std::borrow::Cow;

/// A refused configuration: a bad key or keyring string, a cookie policy
/// that breaks an RFC 6265bis rule, inconsistent lifetimes, or two
/// settings that contradict each other (the message names both).
///
/// Raised by builders and parsers only, so an app meets it at start-up.
/// The message is written by the crate; it never contains key material.
///
/// ```
/// let err = "1:not-a-key".parse::<sealed_session::Keyring>().unwrap_err();
/// assert!(err.to_string().starts_with("invalid configuration: keyring entry 1"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct ConfigError {
    message: Cow<'static, str>,
}

impl ConfigError {
    pub(crate) const fn new(message: &'static str) -> Self {
        Self {
            message: Cow::Borrowed(message),
        }
    }

    /// A message the crate composed (naming a position or a number);
    /// callers never pass input text.
    pub(crate) const fn owned(message: String) -> Self {
        Self {
            message: Cow::Owned(message),
        }
    }

    /// What is wrong, without the leading "invalid configuration".
    #[must_use]
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid configuration: {}", self.message)
    }
}

impl fmt::Debug for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ConfigError({})", self.message)
    }
}

impl core::error::Error for ConfigError {}
