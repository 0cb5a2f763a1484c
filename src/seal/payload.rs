//! The postcard plaintext: crate-owned claims first, then the app's data.
//!
//! The layout is specified in `docs/FORMAT.md` ("Plaintext"). postcard is not
//! self-describing, so the field order below is the format: change it only
//! with a new format version.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind, Result};
use crate::seal::claims_wire;
use crate::seal::envelope::Sealing;
use crate::session::meta::{SESSION_ID_LEN, SealKind};

const KIND_SESSION: u8 = 0;
const KIND_SINGLE_USE: u8 = 1;

/// The crate-owned fields, in wire order. `Debug` redacts the session id
/// and the subject. Public (hidden, as `VectorClaims`) only with the
/// internal `internal-vectors` feature, for the vector generator.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    not(feature = "internal-vectors"),
    allow(unreachable_pub, reason = "public only for the vector generator")
)]
pub struct Claims {
    /// 128-bit random session id, kept across re-seals.
    pub sid: [u8; SESSION_ID_LEN],
    /// Unix seconds: creation (login or regeneration).
    pub created: u64,
    /// Unix seconds: this value's seal.
    pub sealed: u64,
    /// Unix seconds: the absolute deadline, fixed at creation.
    pub expires: u64,
    /// Re-seal counter, for the replay guard's superseded-value check.
    pub generation: u32,
    /// 0 = session, 1 = single-use; any other value is refused.
    pub kind: u8,
    /// Optional app-chosen subject (user id) for revocation.
    pub subject: Option<String>,
}

impl core::fmt::Debug for Claims {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Claims")
            .field("sid", &"<redacted>")
            .field("created", &self.created)
            .field("sealed", &self.sealed)
            .field("expires", &self.expires)
            .field("generation", &self.generation)
            .field("kind", &self.kind)
            .field("subject", &self.subject.as_ref().map(|_| "<redacted>"))
            .finish()
    }
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

/// The app's data, as a sealer writes it after the claims.
pub(crate) trait Data {
    /// The length of its encoding.
    fn encoded_len(&self) -> Result<usize>;
    /// Writes its encoding into `out`, which is exactly `encoded_len` long.
    fn encode_into(&self, out: &mut [u8]) -> Result<()>;
    /// The encoding itself, when it is already at hand: appended as it is,
    /// with no zeroed room to write it into first.
    fn as_encoded(&self) -> Option<&[u8]> {
        None
    }
}

/// A serde value, written as its postcard encoding.
pub(crate) struct Value<'a, T: ?Sized>(pub(crate) &'a T);

impl<T: Serialize + ?Sized> Data for Value<'_, T> {
    fn encoded_len(&self) -> Result<usize> {
        serialized_size(self.0).map_err(|_| data_does_not_serialize())
    }

    fn encode_into(&self, out: &mut [u8]) -> Result<()> {
        // The value is serialized a second time here; a `Serialize` impl
        // that writes a different length the second time is refused rather
        // than sealed short or long.
        let expected = out.len();
        match postcard::to_slice(self.0, out) {
            Ok(written) if written.len() == expected => Ok(()),
            _ => Err(data_does_not_serialize()),
        }
    }
}

/// Bytes that already are the postcard encoding of the app's data, sealed
/// verbatim (for tools and test vectors).
pub(crate) struct RawPayload<'a>(pub(crate) &'a [u8]);

impl Data for RawPayload<'_> {
    fn encoded_len(&self) -> Result<usize> {
        Ok(self.0.len())
    }

    fn encode_into(&self, out: &mut [u8]) -> Result<()> {
        out.copy_from_slice(self.0);
        Ok(())
    }

    fn as_encoded(&self) -> Option<&[u8]> {
        Some(self.0)
    }
}

/// The length of `value`'s postcard encoding, computed by serializing it
/// without writing anything.
fn serialized_size<T: Serialize + ?Sized>(value: &T) -> postcard::Result<usize> {
    postcard::serialize_with_flavor(value, postcard::ser_flavors::Size::default())
}

fn data_does_not_serialize() -> Error {
    Error::new(ErrorKind::Serialize)
}

/// The length of the plaintext: the claims then the data.
pub(crate) fn encoded_len(claims: &Claims, data: &impl Data) -> Result<usize> {
    Ok(claims_wire::encoded_len(claims) + data.encoded_len()?)
}

/// Appends the postcard encoding of `claims` then `data` to the plaintext
/// of `sealing`, which was made for [`encoded_len`] bytes.
pub(crate) fn write(claims: &Claims, data: &impl Data, sealing: &mut Sealing) -> Result<()> {
    match data.as_encoded() {
        // Bytes at hand (the larger payloads): the claims into zeroed
        // room, the bytes appended without zeroing theirs first.
        Some(bytes) => {
            // The room is the claims' length plus the bytes'.
            let claims_len = sealing.room().saturating_sub(bytes.len());
            claims_wire::encode(claims, sealing.append_zeroed(claims_len)?);
            sealing.append(bytes)
        }
        // A serde value: one zeroed room for both, the claims first. The
        // room is the length `encoded_len` measured.
        None => {
            let out = sealing.append_zeroed(sealing.room())?;
            let claims_len = claims_wire::encode(claims, out);
            data.encode_into(&mut out[claims_len..])
        }
    }
}

/// Decodes the claims; returns them and the bytes of the app's data.
/// Called only on authenticated plaintext.
pub(crate) fn decode_claims(plaintext: &[u8]) -> Result<(Claims, &[u8])> {
    let (claims, rest) = claims_wire::decode(plaintext)
        .ok_or_else(|| Error::with(ErrorKind::InvalidClaims, "crate-owned fields do not decode"))?;
    if claims.kind > KIND_SINGLE_USE {
        return Err(Error::with(ErrorKind::InvalidClaims, "unknown seal kind"));
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
