//! The payload encoding of tower-sessions records (docs/PERFORMANCE.md,
//! "tower-sessions records"): a typical axum-login record (user id and
//! session auth hash) with one axum-messages flash message, encoded as
//! JSON (what the `tower-sessions` feature seals) and as CBOR, then sealed
//! and opened as the feature does it: the encoded bytes as one postcard
//! byte string after the claims.
//!
//! ```sh
//! cargo bench --features tower-sessions --bench tower_sessions
//! ```
//!
//! It prints the sizes first (encoded record, sealed cookie value), then
//! criterion's times for each encoding: seal (encode + seal) and open
//! (open + decode into the record's map).

#![allow(
    clippy::expect_used,
    reason = "a benchmark whose setup fails has nothing to measure"
)]

use std::collections::HashMap;
use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use sealed_session::{CarriedCookies, KeyId, Keyring, SessionMeta, Sessions};
use serde::de::{Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Value, json};

/// tower-sessions' record data.
type Data = HashMap<String, Value>;

/// What axum-login 0.18 and axum-messages 0.8 store after a sign-in that
/// greets the user: a `u64` id, a 32-byte hash (axum-login keeps it as a
/// `Vec<u8>`, so JSON writes an array of numbers), one flash message.
fn record() -> Data {
    let hash: Vec<u8> = (0..32u8)
        .map(|i| i.wrapping_mul(97).wrapping_add(13))
        .collect();
    let mut data = Data::new();
    data.insert(
        "axum-login.data".into(),
        json!({ "user_id": 4_294_967_311_u64, "auth_hash": hash }),
    );
    data.insert(
        "axum-messages.data".into(),
        json!({
            "pending_messages": [],
            "messages": [{ "l": 1, "m": "Welcome back, Gina!", "d": null }],
        }),
    );
    data
}

/// Encoded bytes sealed as one byte string, as the feature's `JsonRecord`.
struct Bytes(Vec<u8>);

impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Bytes;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("bytes")
            }
            fn visit_bytes<E>(self, v: &[u8]) -> Result<Bytes, E> {
                Ok(Bytes(v.to_vec()))
            }
        }
        deserializer.deserialize_byte_buf(V)
    }
}

#[derive(Clone, Copy)]
enum Encoding {
    Json,
    Cbor,
}

impl Encoding {
    const fn name(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Cbor => "cbor",
        }
    }

    fn encode(self, data: &Data) -> Vec<u8> {
        match self {
            Self::Json => serde_json::to_vec(data).expect("json"),
            Self::Cbor => {
                let mut out = Vec::new();
                ciborium::into_writer(data, &mut out).expect("cbor");
                out
            }
        }
    }

    fn decode(self, bytes: &[u8]) -> Data {
        match self {
            Self::Json => serde_json::from_slice(bytes).expect("json"),
            Self::Cbor => ciborium::from_reader(bytes).expect("cbor"),
        }
    }
}

fn seal(sessions: &Sessions, meta: &SessionMeta, encoding: Encoding, data: &Data) -> String {
    let bytes = Bytes(encoding.encode(data));
    let set = sessions
        .seal(meta, &bytes, &CarriedCookies::none())
        .expect("fits");
    format!("{}={}", set[0].name(), set[0].value())
}

fn open(sessions: &Sessions, encoding: Encoding, cookie: &str) -> Data {
    let opened = sessions.open::<Bytes>([cookie]).session.expect("opens");
    encoding.decode(&opened.data.0)
}

fn bench(c: &mut Criterion) {
    let sessions = Sessions::builder(Keyring::generate(KeyId(1)).expect("rng"))
        .build()
        .expect("config");
    let meta = sessions.codec().new_session(None).expect("rng");
    let data = record();
    for encoding in [Encoding::Json, Encoding::Cbor] {
        let cookie = seal(&sessions, &meta, encoding, &data);
        assert_eq!(open(&sessions, encoding, &cookie), data);
        let value_len = cookie.len() - cookie.find('=').expect("pair") - 1;
        println!(
            "{}: record {} bytes, sealed cookie value {} characters",
            encoding.name(),
            encoding.encode(&data).len(),
            value_len
        );
        let mut group = c.benchmark_group(format!("tower_sessions/{}", encoding.name()));
        group.bench_function("seal", |b| {
            b.iter(|| seal(&sessions, &meta, encoding, black_box(&data)));
        });
        group.bench_function("open", |b| {
            b.iter(|| open(&sessions, encoding, black_box(&cookie)));
        });
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args();
    targets = bench
}
criterion_main!(benches);
