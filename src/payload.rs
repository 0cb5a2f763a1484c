//! The postcard plaintext: crate-owned claims first, then the app's data.
//!
//! The layout is specified in `docs/FORMAT.md` ("Plaintext"). postcard is not
//! self-describing, so the field order below is the format: change it only
//! with a new format version.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind, Result};
use crate::session::{SESSION_ID_LEN, SealKind};

const KIND_SESSION: u8 = 0;
const KIND_SINGLE_USE: u8 = 1;

/// The crate-owned fields, in wire order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Claims {
    /// 128-bit random session id, kept across re-seals.
    pub(crate) sid: [u8; SESSION_ID_LEN],
    /// Unix seconds: creation (login or regeneration).
    pub(crate) created: u64,
    /// Unix seconds: this value's seal.
    pub(crate) sealed: u64,
    /// Unix seconds: the absolute deadline, fixed at creation.
    pub(crate) expires: u64,
    /// Re-seal counter, for the replay guard's superseded-value check.
    pub(crate) generation: u32,
    /// 0 = session, 1 = single-use; any other value is refused.
    pub(crate) kind: u8,
    /// Optional app-chosen subject (user id) for revocation.
    pub(crate) subject: Option<String>,
}

impl Claims {
    pub(crate) const fn kind(&self) -> SealKind {
        match self.kind {
            KIND_SINGLE_USE => SealKind::SingleUse,
            _ => SealKind::Session,
        }
    }

    pub(crate) const fn kind_byte(kind: SealKind) -> u8 {
        match kind {
            SealKind::Session => KIND_SESSION,
            SealKind::SingleUse => KIND_SINGLE_USE,
        }
    }
}

/// Appends the postcard encoding of `claims` then `data` to `out`.
pub(crate) fn encode<T: Serialize + ?Sized>(
    claims: &Claims,
    data: &T,
    out: Vec<u8>,
) -> Result<Vec<u8>> {
    let out = postcard::to_extend(claims, out)
        .map_err(|_| Error::with(ErrorKind::Config, "session claims do not serialize"))?;
    postcard::to_extend(data, out).map_err(|_| {
        Error::with(
            ErrorKind::PayloadMismatch,
            "session data does not serialize",
        )
    })
}

/// Decodes the claims; returns them and the bytes of the app's data.
/// Called only on authenticated plaintext.
pub(crate) fn decode_claims(plaintext: &[u8]) -> Result<(Claims, &[u8])> {
    let (claims, rest) = postcard::take_from_bytes::<Claims>(plaintext)
        .map_err(|_| Error::with(ErrorKind::Malformed, "crate-owned fields do not decode"))?;
    if claims.kind > KIND_SINGLE_USE {
        return Err(Error::with(ErrorKind::Malformed, "unknown seal kind"));
    }
    Ok((claims, rest))
}

/// Decodes the app's data, refusing trailing bytes. Called only on
/// authenticated plaintext.
pub(crate) fn decode_data<T: DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    match postcard::take_from_bytes::<T>(bytes) {
        Ok((data, [])) => Ok(data),
        Ok(_) => Err(Error::with(
            ErrorKind::PayloadMismatch,
            "trailing bytes after the session data",
        )),
        Err(_) => Err(Error::new(ErrorKind::PayloadMismatch)),
    }
}
