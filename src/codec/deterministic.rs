//! The deterministic seal path, behind the hidden `internal-vectors`
//! feature: it regenerates and re-seals the published test vectors
//! (`tests/vectors.rs`). A caller-chosen nonce breaks the format's
//! security if it ever repeats, so nothing here is API: no semver promise,
//! never enable the feature in an app.

use crate::codec::SessionCodec;
use crate::error::Result;
use crate::seal::aead::NONCE_LEN;
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
}

impl SessionMeta {
    /// The crate-owned fields as sealed. Test vectors only.
    #[doc(hidden)]
    #[must_use]
    pub const fn __claims(&self) -> &Claims {
        &self.claims
    }
}
