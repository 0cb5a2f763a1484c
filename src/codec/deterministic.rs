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
#[derive(Clone, PartialEq, Eq, serde::Serialize)]
pub struct VectorClaims {
    /// Session id.
    pub sid: [u8; 16],
    /// Unix seconds: creation.
    pub created: u64,
    /// Unix seconds: this seal.
    pub sealed: u64,
    /// Unix seconds: the absolute deadline.
    pub expires: u64,
    /// Re-seal counter.
    pub generation: u32,
    /// 0 = session, 1 = single-use.
    pub kind: u8,
    /// Optional subject.
    pub subject: Option<String>,
}

impl core::fmt::Debug for VectorClaims {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("VectorClaims(<redacted>)")
    }
}

impl From<&VectorClaims> for Claims {
    fn from(c: &VectorClaims) -> Self {
        Self {
            sid: c.sid,
            created: c.created,
            sealed: c.sealed,
            expires: c.expires,
            generation: c.generation,
            kind: c.kind,
            subject: c.subject.clone(),
        }
    }
}

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
        claims: &VectorClaims,
        payload: &[u8],
    ) -> Result<String> {
        self.seal_with_nonce(nonce, &Claims::from(claims), &RawPayload(payload))
    }
}

impl SessionMeta {
    /// The crate-owned fields as sealed. Test vectors only.
    #[doc(hidden)]
    #[must_use]
    pub fn __claims(&self) -> VectorClaims {
        let c = &self.claims;
        VectorClaims {
            sid: c.sid,
            created: c.created,
            sealed: c.sealed,
            expires: c.expires,
            generation: c.generation,
            kind: c.kind,
            subject: c.subject.clone(),
        }
    }
}
