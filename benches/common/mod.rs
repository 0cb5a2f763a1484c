//! Fixtures shared by the benches: the systems compared, with the same
//! cookie name and payload bytes.
//!
//! - `sealed_session`: this crate, through its public API.
//! - `cookie_private`: the `cookie` crate's `PrivateJar` (AES-256-GCM,
//!   base64), through its public API.
//! - `floor`: the least any XChaCha20-Poly1305 cookie can do: a fresh
//!   random nonce, the AEAD over the payload with the cookie name as
//!   associated data, and base64url. Same AEAD crate and backend flags as
//!   this crate, the same base64 engine, and the same nonce source (one
//!   draw from the operating system per seal).
//! - `floor_v1`: the floor on as many bytes as a v1 value carries (see
//!   [`Floor::v1`]).

// Each bench uses a different part of this module.
#![allow(dead_code)]

use base64::Engine;
use chacha20poly1305::aead::{AeadInOut, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use sealed_session::{KeyId, Keyring, SessionCodec, SessionMeta};
use serde::{Deserialize, Serialize};

/// The cookie name all three systems bind.
pub(crate) const NAME: &str = "__Host-session";

/// Raw payload sizes, in bytes.
pub(crate) const SIZES: [usize; 4] = [64, 256, 1024, 3000];

/// A typical session: a user id, a 16-character name, three roles, a
/// 32-byte CSRF token and a timestamp.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Session {
    pub(crate) user_id: u64,
    pub(crate) name: String,
    pub(crate) roles: Vec<String>,
    pub(crate) csrf: [u8; 32],
    pub(crate) issued_at: u64,
}

pub(crate) fn session() -> Session {
    Session {
        user_id: 4_200_042,
        name: "Ada Lovelace-Kin".to_owned(),
        roles: vec!["admin".to_owned(), "editor".to_owned(), "viewer".to_owned()],
        csrf: core::array::from_fn(|i| u8::try_from(i * 7 % 256).unwrap_or(0)),
        issued_at: 1_764_000_000,
    }
}

/// `len` printable ASCII bytes (the `cookie` crate seals strings).
pub(crate) fn payload(len: usize) -> &'static str {
    let text: String = (0..len)
        .map(|i| char::from(b'a' + u8::try_from(i % 26).unwrap_or(0)))
        .collect();
    Box::leak(text.into_boxed_str())
}

// ---- sealed_session -------------------------------------------------------

/// The codec under test. The value limit is raised from the one-cookie
/// default (4082 characters with this name, i.e. at most 2982 payload
/// bytes) so that the 3000-byte payload seals as it would when chunked.
pub(crate) fn codec() -> SessionCodec {
    let keyring = Keyring::generate(KeyId(1)).expect("keyring");
    SessionCodec::builder(keyring)
        .cookie_name(NAME)
        .max_value_len(8192)
        .build()
        .expect("codec")
}

/// A session to re-seal raw payloads for.
pub(crate) fn meta(codec: &SessionCodec) -> SessionMeta {
    codec.new_session(None).expect("new session")
}

/// Re-seals raw payload bytes (the app's data, already encoded) for an
/// existing session: a renewal, the common seal.
pub(crate) fn ss_seal_raw(codec: &SessionCodec, meta: &SessionMeta, payload: &[u8]) -> String {
    codec.seal_session_raw(meta, payload).expect("seal")
}

pub(crate) fn ss_open_raw(codec: &SessionCodec, value: &str) -> Vec<u8> {
    codec.open_raw(value).expect("open").data
}

/// Re-seals the session struct for an existing session (a renewal or an
/// update: the common seal). `SessionCodec::seal`, which also creates the
/// session, draws 40 random bytes instead of 24 (the session id with the
/// nonce, one call).
pub(crate) fn ss_seal_session(
    codec: &SessionCodec,
    meta: &SessionMeta,
    session: &Session,
) -> String {
    codec.seal_session(meta, session).expect("seal")
}

pub(crate) fn ss_open_session(codec: &SessionCodec, value: &str) -> Session {
    codec.open::<Session>(value).expect("open").data
}

// ---- cookie_private -------------------------------------------------------

pub(crate) struct CookieJar {
    key: cookie::Key,
    jar: cookie::CookieJar,
}

impl CookieJar {
    pub(crate) fn new() -> Self {
        Self {
            key: cookie::Key::generate(),
            jar: cookie::CookieJar::new(),
        }
    }

    /// Seals `value` with `PrivateJar::add` and returns the sealed value.
    pub(crate) fn seal(&mut self, value: &'static str) -> &str {
        self.jar
            .private_mut(&self.key)
            .add(cookie::Cookie::new(NAME, value));
        self.jar.get(NAME).expect("added").value()
    }

    /// Opens a sealed cookie with `PrivateJar::decrypt`.
    pub(crate) fn open(&self, sealed: &cookie::Cookie<'static>) -> cookie::Cookie<'static> {
        self.jar
            .private(&self.key)
            .decrypt(sealed.clone())
            .expect("open")
    }

    /// A sealed cookie to open, with a borrowed value so that cloning it
    /// costs nothing.
    pub(crate) fn sealed(&mut self, value: &'static str) -> cookie::Cookie<'static> {
        let sealed: &'static str = Box::leak(self.seal(value).to_owned().into_boxed_str());
        cookie::Cookie::new(NAME, sealed)
    }

    /// The session as JSON in a private cookie: what a `cookie` user does
    /// with a struct (cookie values are strings).
    pub(crate) fn seal_session(&mut self, session: &Session) {
        let json = serde_json::to_string(session).expect("json");
        self.jar
            .private_mut(&self.key)
            .add(cookie::Cookie::new(NAME, json));
    }

    pub(crate) fn open_session(&self, sealed: &cookie::Cookie<'static>) -> Session {
        let opened = self.open(sealed);
        serde_json::from_str(opened.value()).expect("json")
    }

    /// Opens the jar's cookie with `PrivateJar::get`.
    pub(crate) fn get_value(&self) -> cookie::Cookie<'static> {
        self.jar.private(&self.key).get(NAME).expect("open")
    }

    /// Opens the jar's session cookie with `PrivateJar::get`.
    pub(crate) fn get_session(&self) -> Session {
        let opened = self.jar.private(&self.key).get(NAME).expect("open");
        serde_json::from_str(opened.value()).expect("json")
    }

    pub(crate) fn sealed_session(&mut self, session: &Session) -> cookie::Cookie<'static> {
        self.seal_session(session);
        let sealed = self.jar.get(NAME).expect("added").value().to_owned();
        cookie::Cookie::new(NAME, Box::leak(sealed.into_boxed_str()) as &'static str)
    }
}

// ---- floor ----------------------------------------------------------------

/// The floor's base64url engine: the same one this crate uses in this
/// build (the portable engine, or the SIMD one with `simd-base64`).
#[cfg(not(feature = "simd-base64"))]
fn base64url() -> &'static impl Engine {
    &base64::engine::general_purpose::URL_SAFE_NO_PAD
}

#[cfg(feature = "simd-base64")]
fn base64url() -> &'static impl Engine {
    use base64::engine::{Simd, general_purpose::NO_PAD};
    static ENGINE: std::sync::LazyLock<Simd> = std::sync::LazyLock::new(|| Simd::url_safe(NO_PAD));
    &*ENGINE
}

const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;

/// A nonce as this crate draws it: 24 bytes from the operating system.
fn floor_nonce() -> [u8; NONCE_LEN] {
    let mut nonce = [0u8; NONCE_LEN];
    getrandom::fill(&mut nonce).expect("os rng");
    nonce
}

pub(crate) struct Floor {
    aead: XChaCha20Poly1305,
    /// Bytes before the nonce, authenticated as part of `aad`.
    header: Vec<u8>,
    aad: Vec<u8>,
    /// Bytes sealed before the payload.
    prefix: Vec<u8>,
}

impl Floor {
    /// The floor: `nonce || ciphertext || tag`, the cookie name as
    /// associated data, the payload alone as plaintext.
    pub(crate) fn new() -> Self {
        Self::with_shape(Vec::new(), NAME.as_bytes().to_vec(), Vec::new())
    }

    /// The floor for the v1 format: the same work as the floor on as many
    /// bytes as a v1 value carries (a 5-byte header, 30 bytes of
    /// associated data, 34 bytes of claims before the payload), so that
    /// `ours - floor_v1` is this crate's implementation cost and
    /// `floor_v1 - floor` the format's.
    pub(crate) fn v1() -> Self {
        let header = vec![1, 0, 0, 0, 1];
        let mut aad = header.clone();
        for field in [NAME, "session"] {
            aad.extend_from_slice(&u16::try_from(field.len()).expect("short").to_be_bytes());
            aad.extend_from_slice(field.as_bytes());
        }
        Self::with_shape(header, aad, vec![0x5a; 34])
    }

    fn with_shape(header: Vec<u8>, aad: Vec<u8>, prefix: Vec<u8>) -> Self {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).expect("os rng");
        Self {
            aead: XChaCha20Poly1305::new(&key.into()),
            header,
            aad,
            prefix,
        }
    }

    /// `header || nonce || ciphertext || tag` as base64url, with the
    /// plaintext written by `fill` straight into the buffer.
    fn seal_with(&self, capacity: usize, fill: impl FnOnce(&mut Vec<u8>)) -> String {
        let nonce = floor_nonce();
        let body = self.header.len() + NONCE_LEN;
        let mut buf = Vec::with_capacity(body + self.prefix.len() + capacity + TAG_LEN);
        buf.extend_from_slice(&self.header);
        buf.extend_from_slice(&nonce);
        buf.extend_from_slice(&self.prefix);
        fill(&mut buf);
        let tag = self
            .aead
            .encrypt_inout_detached(&XNonce::from(nonce), &self.aad, (&mut buf[body..]).into())
            .expect("seal");
        buf.extend_from_slice(&tag);
        base64url().encode(&buf)
    }

    /// Decodes and opens; returns the buffer and where the payload starts
    /// and ends.
    fn open_buf(&self, value: &str) -> (Vec<u8>, usize, usize) {
        let mut buf = base64url().decode(value).expect("base64");
        let body = self.header.len() + NONCE_LEN;
        let end = buf.len() - TAG_LEN;
        let (head, rest) = buf.split_at_mut(body);
        let (ciphertext, tag) = rest.split_at_mut(end - body);
        let nonce = XNonce::try_from(&head[self.header.len()..]).expect("nonce");
        let tag = (&*tag).try_into().expect("tag");
        self.aead
            .decrypt_inout_detached(&nonce, &self.aad, ciphertext.into(), tag)
            .expect("open");
        (buf, body + self.prefix.len(), end)
    }

    pub(crate) fn seal(&self, payload: &[u8]) -> String {
        self.seal_with(payload.len(), |buf| buf.extend_from_slice(payload))
    }

    /// Returns the decrypted buffer, cut after the payload (which starts
    /// after the nonce).
    pub(crate) fn open(&self, value: &str) -> Vec<u8> {
        let (mut buf, _, end) = self.open_buf(value);
        buf.truncate(end);
        buf
    }

    /// The session's postcard encoding, sealed: any system that seals a
    /// struct must serialize it.
    pub(crate) fn seal_session(&self, session: &Session) -> String {
        self.seal_with(96, |buf| {
            let out = postcard::to_extend(session, core::mem::take(buf)).expect("postcard");
            *buf = out;
        })
    }

    pub(crate) fn open_session(&self, value: &str) -> Session {
        let (buf, start, end) = self.open_buf(value);
        postcard::from_bytes(&buf[start..end]).expect("postcard")
    }
}
