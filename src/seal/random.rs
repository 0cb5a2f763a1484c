//! The operating system's CSPRNG: the only source of keys, nonces and
//! session ids.

use crate::error::{Error, ErrorKind, Result};

/// Fills `dest` from the operating system's CSPRNG (`getrandom`).
pub(crate) fn fill(dest: &mut [u8]) -> Result<()> {
    getrandom::fill(dest).map_err(|_| Error::new(ErrorKind::Rng))
}
