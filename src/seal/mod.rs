//! The v1 bytes (`docs/FORMAT.md`): the envelope around the ciphertext,
//! the AEAD (the only file that touches the cipher), the postcard payload
//! and the nonce source.

pub(crate) mod aead;
pub(crate) mod claims_wire;
pub(crate) mod envelope;
pub(crate) mod payload;
pub(crate) mod random;
