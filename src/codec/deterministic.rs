//! The deterministic seal path, behind the hidden `internal-vectors`
//! feature: it regenerates and re-seals the published test vectors
//! (`tests/vectors.rs`). A caller-chosen nonce breaks the format's
//! security if it ever repeats, so nothing here is API: no semver promise,
//! never enable the feature in an app.

use crate::codec::SessionCodec;
use crate::error::{Error, ErrorKind, Result};
use crate::seal::aead::NONCE_LEN;
use crate::seal::envelope::{Sealing, Untrusted};
use crate::seal::payload::{Claims, RawPayload};
use crate::session::meta::SessionMeta;

/// The crate-owned fields of a v1 plaintext, in wire order (FORMAT.md §3).
#[doc(hidden)]
pub use crate::seal::payload::Claims as VectorClaims;

impl SessionCodec {
    /// Seals `payload` verbatim after `claims` with the primary key and the
    /// caller's nonce. Test vectors only.
    ///
    /// # Errors
    /// As for [`SessionCodec::seal`].
    #[doc(hidden)]
    pub fn __seal_with_nonce(
        &self,
        nonce: &[u8; NONCE_LEN],
        claims: &Claims,
        payload: &[u8],
    ) -> Result<String> {
        self.seal_with_nonce(nonce, claims, &RawPayload(payload))
    }

    /// Seals `plaintext` verbatim, crate-owned fields included, with the
    /// primary key and the caller's nonce: for vectors whose plaintext no
    /// sealer writes (non-minimal or over-long varints, bad tags, a cut).
    /// Test vectors only.
    ///
    /// # Errors
    /// As for [`SessionCodec::seal`].
    #[doc(hidden)]
    pub fn __seal_plaintext_with_nonce(
        &self,
        nonce: &[u8; NONCE_LEN],
        plaintext: &[u8],
    ) -> Result<String> {
        let slot = &self.slots[0];
        let mut sealing = Sealing::new(slot.id, nonce, plaintext.len());
        sealing.append(plaintext)?;
        sealing.seal(&slot.cipher, &slot.aad)
    }

    /// The authenticated plaintext of `value` (steps 1 to 6 of FORMAT.md
    /// section 4, nothing after), for the vector checker to find which
    /// step refuses a value. Test vectors only.
    ///
    /// # Errors
    /// As for [`SessionCodec::open`], up to the tag check.
    #[doc(hidden)]
    pub fn __open_plaintext(&self, value: &str) -> Result<Vec<u8>> {
        let untrusted = Untrusted::decode(value, self.max_value_len)?;
        let key_id = untrusted.key_id();
        let slot = self
            .slots
            .iter()
            .find(|s| s.id == key_id)
            .ok_or_else(|| Error::new(ErrorKind::Unauthenticated))?;
        Ok(untrusted.open(&slot.cipher, &slot.aad)?.as_slice().to_vec())
    }
}

impl SessionMeta {
    /// The crate-owned fields as sealed. Test vectors only.
    #[doc(hidden)]
    #[must_use]
    pub const fn __claims(&self) -> &Claims {
        &self.claims
    }
}
