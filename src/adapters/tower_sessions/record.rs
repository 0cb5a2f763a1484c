//! [`JsonRecord`]: a tower-sessions record's data as it is sealed.
//!
//! tower-sessions keeps `serde_json::Value`s, which only a self-describing
//! format can carry back; postcard is not one. The map is written as JSON
//! bytes, which postcard seals as one length-prefixed byte string after the
//! crate's claims (docs/PERFORMANCE.md, "tower-sessions records", compares
//! this with CBOR).

use core::fmt;
use std::collections::HashMap;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

/// The data of a tower-sessions record (`HashMap<String, Value>`).
pub(crate) type Data = HashMap<String, Value>;

/// The session type of the tower-sessions layer: a record's data, sealed
/// as JSON. Opaque; the data is read and changed through
/// `tower_sessions::Session`. Name it to reach the crate's own handle,
/// `sealed_session::Session<JsonRecord>`, for its CSRF token and metadata,
/// and for the CSRF layer: `sessions.csrf::<JsonRecord>()`.
#[derive(Clone)]
pub struct JsonRecord {
    json: Vec<u8>,
}

impl JsonRecord {
    /// The record's data as JSON.
    pub(crate) fn encode(data: &Data) -> serde_json::Result<Self> {
        serde_json::to_vec(data).map(|json| Self { json })
    }

    /// The record's data, or `None` if the sealed bytes are not a JSON
    /// object (only a value sealed under the same keys, name and purpose
    /// by other code can be: it reads as "no session").
    pub(crate) fn decode(&self) -> Option<Data> {
        serde_json::from_slice(&self.json).ok()
    }

    /// The length of the JSON, in bytes.
    #[must_use]
    pub const fn len(&self) -> usize {
        self.json.len()
    }

    /// Whether the JSON is empty (never, for a record this crate sealed).
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.json.is_empty()
    }
}

impl fmt::Debug for JsonRecord {
    /// The length only, never the data.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JsonRecord")
            .field("json_bytes", &self.json.len())
            .finish()
    }
}

impl Serialize for JsonRecord {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(&self.json)
    }
}

impl<'de> Deserialize<'de> for JsonRecord {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_byte_buf(Bytes)
    }
}

/// Takes the bytes as they are; [`JsonRecord::decode`] parses them.
struct Bytes;

impl Visitor<'_> for Bytes {
    type Value = JsonRecord;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a byte string")
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<JsonRecord, E> {
        Ok(JsonRecord { json: v.to_vec() })
    }

    fn visit_byte_buf<E: de::Error>(self, json: Vec<u8>) -> Result<JsonRecord, E> {
        Ok(JsonRecord { json })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_round_trips_through_postcard_as_one_byte_string() {
        let mut data = Data::new();
        data.insert("user".into(), serde_json::json!({"id": 7, "hash": "ab"}));
        let record = JsonRecord::encode(&data).unwrap();
        let bytes = postcard::to_allocvec(&record).unwrap();
        // A one-byte varint length, then the JSON itself.
        assert_eq!(usize::from(bytes[0]), record.len());
        assert_eq!(&bytes[1..], serde_json::to_vec(&data).unwrap().as_slice());
        let back: JsonRecord = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(back.decode(), Some(data));
        assert!(!format!("{back:?}").contains("hash"));
    }

    #[test]
    fn bytes_that_are_not_a_json_object_do_not_decode() {
        for json in [&b"[1]"[..], b"{", b"", b"\xff"] {
            let record = JsonRecord {
                json: json.to_vec(),
            };
            assert_eq!(record.decode(), None);
        }
    }
}
