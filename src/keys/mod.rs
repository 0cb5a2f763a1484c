//! Secrets held: a [`Key`](key::Key), its [`KeyId`](key::KeyId), and the
//! [`Keyring`](keyring::Keyring) of one sealing key and older keys that
//! only open, with its rotation stages.

pub(crate) mod key;
pub(crate) mod keyring;
