//! Seal and open through the public API: round trips, tampering, binding,
//! rotation.

#![allow(
    clippy::unwrap_used,
    clippy::cast_possible_truncation,
    reason = "test code: a panic is a failed test"
)]

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use proptest::prelude::*;
use sealed_session::{
    ErrorKind, Key, KeyId, Keyring, ManualClock, Opened, ResealReason, SessionCodec,
    SessionCodecBuilder, SessionMeta,
};
use serde::{Deserialize, Serialize};

const T0: i64 = 1_764_000_000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Data {
    user: String,
    roles: Vec<String>,
    count: u64,
    flag: Option<bool>,
}

fn ring(id: u32, seed: u8) -> Keyring {
    Keyring::new(KeyId(id), Key::from_bytes(&[seed; 32]).unwrap())
}

fn builder(keyring: Keyring) -> (SessionCodecBuilder, ManualClock) {
    let clock = ManualClock::at_unix(T0);
    (
        SessionCodec::builder(keyring).clock(Arc::new(clock.clone())),
        clock,
    )
}

fn codec(keyring: Keyring) -> SessionCodec {
    builder(keyring).0.build().unwrap()
}

fn sample() -> Data {
    Data {
        user: "ada".into(),
        roles: vec!["admin".into(), "ops".into()],
        count: 3,
        flag: Some(true),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn round_trips_any_payload(
        user in ".{0,40}",
        roles in proptest::collection::vec("[a-z]{0,12}", 0..6),
        count in any::<u64>(),
        flag in any::<Option<bool>>(),
    ) {
        let c = codec(ring(1, 1));
        let data = Data { user, roles, count, flag };
        let value = c.seal(&data).unwrap();
        prop_assert!(value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        let opened: Opened<Data> = c.open(&value).unwrap();
        prop_assert_eq!(opened.data, data);
        prop_assert_eq!(opened.meta.key_id(), KeyId(1));
    }

    #[test]
    fn any_changed_character_is_refused(index in any::<prop::sample::Index>(), replacement in "[A-Za-z0-9_-]") {
        let c = codec(ring(1, 1));
        let value = c.seal(&sample()).unwrap();
        let i = index.index(value.len());
        let mut tampered = value.clone().into_bytes();
        tampered[i] = replacement.as_bytes()[0];
        let tampered = String::from_utf8(tampered).unwrap();
        prop_assume!(tampered != value);
        let err = c.open::<Data>(&tampered).unwrap_err();
        prop_assert!(matches!(err.kind(), ErrorKind::Unauthenticated | ErrorKind::Malformed), "{:?}", err.kind());
    }
}

#[test]
fn every_single_bit_flip_is_refused() {
    let c = codec(ring(1, 1));
    for data in [
        Data {
            user: String::new(),
            roles: vec![],
            count: 0,
            flag: None,
        },
        sample(),
    ] {
        let value = c.seal(&data).unwrap();
        let bytes = URL_SAFE_NO_PAD.decode(&value).unwrap();
        for i in 0..bytes.len() {
            for bit in 0..8 {
                let mut flipped = bytes.clone();
                flipped[i] ^= 1 << bit;
                let text = URL_SAFE_NO_PAD.encode(&flipped);
                let err = c.open::<Data>(&text).unwrap_err();
                let want = if i == 0 {
                    ErrorKind::Malformed
                } else {
                    ErrorKind::Unauthenticated
                };
                assert_eq!(err.kind(), want, "byte {i} bit {bit}");
            }
        }
    }
}

/// Every position, in the SIMD-sized middle of a long value as well as in
/// its tail, refuses characters outside the base64url alphabet (the
/// `simd-base64` feature decodes 32 characters at a time).
#[test]
fn characters_outside_the_alphabet_are_malformed_anywhere() {
    let c = codec(ring(1, 1));
    let value = c
        .seal_session_raw(&c.new_session(None).unwrap(), &[b'x'; 300])
        .unwrap();
    for i in 0..value.len() {
        for bad in ['=', '+', '/', ' ', '.', '\n', '\0', '\u{7f}', 'é'] {
            let mut tampered = value.clone();
            tampered.replace_range(i..=i, bad.encode_utf8(&mut [0; 4]));
            let err = c.open_raw(&tampered).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Malformed, "{bad:?} at {i}");
        }
    }
}

#[test]
fn seals_of_the_same_data_differ() {
    let c = codec(ring(1, 1));
    let a = c.seal(&sample()).unwrap();
    let b = c.seal(&sample()).unwrap();
    assert_ne!(a, b);
    let nonce = |v: &str| URL_SAFE_NO_PAD.decode(v).unwrap()[5..29].to_vec();
    assert_ne!(nonce(&a), nonce(&b));
    let opened = c.open::<Data>(&a).unwrap();
    let r1 = c.seal_session(&opened.meta, &opened.data).unwrap();
    let r2 = c.seal_session(&opened.meta, &opened.data).unwrap();
    assert_ne!(nonce(&r1), nonce(&r2), "re-seals draw fresh nonces too");
}

#[test]
fn no_plaintext_bytes_appear_in_the_value() {
    let c = codec(ring(1, 1));
    let data = Data {
        user: "plaintext-marker-0123456789".into(),
        ..sample()
    };
    let value = c.seal(&data).unwrap();
    let raw = URL_SAFE_NO_PAD.decode(&value).unwrap();
    assert!(!raw.windows(8).any(|w| w == b"marker-0"));
    assert!(!value.contains("marker"));
}

#[test]
fn cookie_name_and_purpose_are_bound() {
    let keys = || ring(1, 1);
    let a = SessionCodec::builder(keys())
        .cookie_name("__Host-a")
        .build()
        .unwrap();
    let b = SessionCodec::builder(keys())
        .cookie_name("__Host-b")
        .build()
        .unwrap();
    let csrf = SessionCodec::builder(keys())
        .cookie_name("__Host-a")
        .purpose("csrf")
        .build()
        .unwrap();
    let value = a.seal(&1u8).unwrap();
    assert_eq!(a.open::<u8>(&value).unwrap().data, 1);
    assert_eq!(
        b.open::<u8>(&value).unwrap_err().kind(),
        ErrorKind::Unauthenticated
    );
    assert_eq!(
        csrf.open::<u8>(&value).unwrap_err().kind(),
        ErrorKind::Unauthenticated
    );
    // Length-prefixed fields: moving a byte between name and purpose changes the AAD.
    let x = SessionCodec::builder(keys())
        .cookie_name("ab")
        .purpose("c")
        .build()
        .unwrap();
    let y = SessionCodec::builder(keys())
        .cookie_name("a")
        .purpose("bc")
        .build()
        .unwrap();
    assert_eq!(
        y.open::<u8>(&x.seal(&1u8).unwrap()).unwrap_err().kind(),
        ErrorKind::Unauthenticated
    );
}

/// FORMAT.md section 2: a cookie name has one byte form, an RFC 9110
/// token; a non-ASCII name (or any non-token) is refused when the codec is
/// built, never encoded some other way.
#[test]
fn cookie_names_outside_the_token_grammar_are_refused() {
    for bad in [
        "s\u{e9}ssion",
        "__Host-s\u{a0}",
        "a b",
        "a;b",
        "a=b",
        "",
        "\u{2028}",
    ] {
        let err = SessionCodec::builder(ring(1, 1))
            .cookie_name(bad)
            .build()
            .unwrap_err();
        assert!(err.to_string().contains("token"), "{bad:?}: {err}");
    }
    let long = "a".repeat(4096);
    assert!(
        SessionCodec::builder(ring(1, 1))
            .cookie_name(&long)
            .build()
            .is_err()
    );
    assert!(
        SessionCodec::builder(ring(1, 1))
            .cookie_name("__Host-s.e_s!s~i'o*n")
            .build()
            .is_ok()
    );
}

#[test]
fn pre_auth_and_authenticated_purposes_are_kept_apart() {
    let pre = SessionCodec::builder(ring(1, 1))
        .purpose("pre-auth")
        .build()
        .unwrap();
    let auth = SessionCodec::builder(ring(1, 1))
        .purpose("authenticated")
        .build()
        .unwrap();
    let value = pre.seal(&"cart").unwrap();
    assert_eq!(
        auth.open::<String>(&value).unwrap_err().kind(),
        ErrorKind::Unauthenticated
    );
}

#[test]
fn bad_configuration_is_refused() {
    for name in ["", "a b", "a;b", "a=b", "sess\u{e9}"] {
        let err = SessionCodec::builder(ring(1, 1))
            .cookie_name(name)
            .build()
            .unwrap_err();
        assert!(
            err.to_string().starts_with("invalid configuration"),
            "{name:?}"
        );
    }
    let err = SessionCodec::builder(ring(1, 1))
        .purpose("")
        .build()
        .unwrap_err();
    assert!(err.to_string().starts_with("invalid configuration"));
    let err = SessionCodec::builder(ring(1, 1))
        .max_value_len(10)
        .build()
        .unwrap_err();
    assert!(err.to_string().starts_with("invalid configuration"));
}

#[test]
fn three_stage_rotation_loses_no_session() {
    // Stage 0: everyone seals with key 1.
    let stage0 = codec(ring(1, 1));
    let v_old = stage0.seal(&sample()).unwrap();

    // Stage 1: key 2 added as open-only everywhere; key 1 still seals.
    let mut ring1 = ring(1, 1);
    ring1
        .add_open_only(KeyId(2), Key::from_bytes(&[2; 32]).unwrap())
        .unwrap();
    let stage1 = codec(ring1.clone());
    let v1 = stage1.seal(&sample()).unwrap();
    assert_eq!(stage1.open::<Data>(&v_old).unwrap().meta.key_id(), KeyId(1));
    assert_eq!(stage1.open::<Data>(&v1).unwrap().reseal_due(), None);

    // Stage 2: key 2 promoted. Old values open, and ask to be re-sealed.
    let mut ring2 = ring1;
    ring2
        .promote(KeyId(2), time::OffsetDateTime::now_utc())
        .unwrap();
    let stage2 = codec(ring2.clone());
    let v2 = stage2.seal(&sample()).unwrap();
    // A server still at stage 1 opens stage-2 values (that is why stage 1 exists).
    assert_eq!(stage1.open::<Data>(&v2).unwrap().meta.key_id(), KeyId(2));
    for v in [&v_old, &v1] {
        let opened = stage2.open::<Data>(v).unwrap();
        assert_eq!(opened.reseal_due(), Some(ResealReason::NonPrimaryKey));
        let resealed = stage2.seal_session(&opened.meta, &opened.data).unwrap();
        let again = stage2.open::<Data>(&resealed).unwrap();
        assert_eq!(again.meta.key_id(), KeyId(2));
        assert_eq!(
            again.meta.id(),
            opened.meta.id(),
            "re-sealing keeps the session id"
        );
        assert_eq!(again.reseal_due(), None);
    }

    // Stage 3: key 1 retired; values still under it are refused.
    let mut ring3 = ring2;
    ring3.remove(KeyId(1)).unwrap();
    let stage3 = codec(ring3);
    assert_eq!(
        stage3.open::<Data>(&v_old).unwrap_err().kind(),
        ErrorKind::Unauthenticated
    );
    assert_eq!(stage3.open::<Data>(&v2).unwrap().data, sample());
}

#[test]
fn a_changed_session_type_is_its_own_error_kind() {
    #[derive(Serialize, Deserialize, Debug)]
    struct V2 {
        user: String,
        tenant: u64,
        extra: [u8; 32],
    }
    let c = codec(ring(1, 1));
    let value = c.seal(&sample()).unwrap();
    assert_eq!(
        c.open::<V2>(&value).unwrap_err().kind(),
        ErrorKind::PayloadMismatch
    );
    // Trailing bytes: a value whose data is longer than the type reads.
    let value = c.seal(&(7u8, 9u8)).unwrap();
    assert_eq!(
        c.open::<u8>(&value).unwrap_err().kind(),
        ErrorKind::PayloadMismatch
    );
    assert_eq!(c.open::<(u8, u8)>(&value).unwrap().data, (7, 9));
}

#[test]
fn raw_payloads_round_trip_as_postcard_bytes() {
    let c = codec(ring(1, 1));
    let value = c.seal(&sample()).unwrap();
    let raw = c.open_raw(&value).unwrap();
    assert_eq!(raw.data, postcard::to_allocvec(&sample()).unwrap());
    let again = c.seal_session_raw(&raw.meta, &raw.data).unwrap();
    assert_eq!(c.open::<Data>(&again).unwrap().data, sample());
}

#[test]
fn oversize_is_refused_at_seal_and_before_decoding_at_open() {
    let c = codec(ring(1, 1));
    let limit = 4096 - c.cookie_name().len();
    assert_eq!(c.max_value_len(), limit);
    let err = c.seal(&vec![0u8; 3100]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TooLarge);
    let (size, max) = err.size_and_limit().unwrap();
    assert!(size > 4096 && max == 4096, "{size} {max}");
    assert!(err.to_string().contains("limit 4096"), "{err}");
    // The largest payload that fits seals; one more byte does not.
    let mut n = 2900;
    while c.seal(&vec![0u8; n + 1]).is_ok() {
        n += 1;
    }
    let value = c.seal(&vec![0u8; n]).unwrap();
    assert!(
        value.len() <= limit && value.len() + 4 > limit,
        "{}",
        value.len()
    );
    // Open refuses anything longer than the limit, without decoding it.
    let long = "A".repeat(limit + 1);
    assert_eq!(
        c.open::<u8>(&long).unwrap_err().kind(),
        ErrorKind::Malformed
    );
    let huge = "A".repeat(1 << 20);
    assert_eq!(
        c.open::<u8>(&huge).unwrap_err().kind(),
        ErrorKind::Malformed
    );
}

#[test]
fn errors_never_show_the_value_or_secrets() {
    let c = codec(ring(1, 1));
    let value = c
        .seal(&Data {
            user: "secret-user".into(),
            ..sample()
        })
        .unwrap();
    let mut tampered = value.clone();
    tampered.replace_range(70..71, if &value[70..71] == "A" { "B" } else { "A" });
    for bad in [
        tampered.as_str(),
        "garbage;=\u{0}",
        &value[..50],
        &format!("{value}=="),
    ] {
        let err = c.open::<Data>(bad).unwrap_err();
        for shown in [err.to_string(), format!("{err:?}")] {
            assert!(!shown.contains(&value[10..40]), "{shown}");
            assert!(!shown.contains("secret-user"), "{shown}");
            assert!(!shown.contains("garbage"), "{shown}");
        }
    }
    let opened = c.open::<Data>(&value).unwrap();
    let debug = format!("{:?}", opened.meta);
    assert!(!debug.contains(&opened.meta.id().to_hex()), "{debug}");
}

#[test]
fn public_types_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<SessionCodec>();
    check::<Keyring>();
    check::<Key>();
    check::<SessionMeta>();
    check::<Opened<Data>>();
    check::<sealed_session::Error>();
    check::<sealed_session::MemoryReplayGuard>();
    check::<sealed_session::MemoryRevocation>();
    check::<ManualClock>();
}

#[test]
fn csrf_tokens_are_bound_to_the_session_and_survive_rotation() {
    let c1 = codec(ring(1, 1));
    let a = c1.new_session(None).unwrap();
    let b = c1.new_session(None).unwrap();
    let token = c1.csrf_token(&a).unwrap();
    assert_eq!(token.len(), sealed_session::CSRF_TOKEN_LEN);
    let again = c1.csrf_token(&a).unwrap();
    assert_ne!(token, again, "masked afresh per rendering (BREACH)");
    assert!(c1.verify_csrf(&a, &again), "every rendering verifies");
    assert!(c1.verify_csrf(&a, &token));
    assert!(
        !c1.verify_csrf(&b, &token),
        "a token from session A fails for session B"
    );
    for bad in [
        "",
        "x",
        &token[..sealed_session::CSRF_TOKEN_LEN - 1],
        &format!("{token}A"),
        &token.replace(|_: char| true, "A"),
    ] {
        assert!(!c1.verify_csrf(&a, bad), "{bad:?}");
    }
    // Another key gives other tokens; after rotation old tokens still verify.
    let other = codec(ring(1, 9));
    assert!(!other.verify_csrf(&a, &token));
    let mut rotated = ring(2, 2);
    rotated
        .add_open_only(KeyId(1), Key::from_bytes(&[1; 32]).unwrap())
        .unwrap();
    let c2 = codec(rotated);
    assert!(c2.verify_csrf(&a, &token));
    let under_new_key = c2.csrf_token(&a).unwrap();
    assert!(c2.verify_csrf(&a, &under_new_key));
    assert!(
        !c1.verify_csrf(&a, &under_new_key),
        "the new primary's token"
    );
    // Regeneration changes the token.
    let fresh = c1.regenerate(&a, None).unwrap();
    assert!(!c1.verify_csrf(&fresh, &token));
}

#[test]
fn refusals_name_the_header_key_id_once_the_header_is_read() {
    let c = codec(ring(1, 1));
    let value = c.seal(&sample()).unwrap();
    let mut bytes = URL_SAFE_NO_PAD.decode(&value).unwrap();
    bytes[4] = 9; // unknown key id
    let err = c.open::<Data>(&URL_SAFE_NO_PAD.encode(&bytes)).unwrap_err();
    assert_eq!(
        (err.kind(), err.key_id()),
        (ErrorKind::Unauthenticated, Some(KeyId(9)))
    );
    let err = c.open::<u8>(&value).unwrap_err();
    assert_eq!(
        (err.kind(), err.key_id()),
        (ErrorKind::PayloadMismatch, Some(KeyId(1)))
    );
    let err = c.open::<Data>(&value[..50]).unwrap_err();
    assert_eq!((err.kind(), err.key_id()), (ErrorKind::Malformed, None));
    assert!(
        !err.to_string().contains('9'),
        "the key id is not in the message"
    );
}

/// A leaked old key stops working within one idle timeout of its demotion:
/// from its stop time plus the idle timeout and the skew, values under it
/// are refused whatever they claim inside (an attacker with the key can
/// stamp any times). 0.1 opened them for as long as the key was in the ring.
#[test]
fn a_demoted_key_opens_nothing_after_the_idle_timeout() {
    let t0 = 1_764_000_000;
    let at = |s: i64| time::OffsetDateTime::from_unix_timestamp(t0 + s).unwrap();
    let lifetime = sealed_session::Lifetime::default();
    let idle_and_skew = (lifetime.idle + lifetime.skew).whole_seconds();
    let mut promoted = ring(1, 1);
    promoted
        .add_open_only(KeyId(2), Key::from_bytes(&[2; 32]).unwrap())
        .unwrap();
    promoted.promote(KeyId(2), at(0)).unwrap();
    let clock = ManualClock::at_unix(t0);
    let servers = SessionCodec::builder(promoted)
        .clock(Arc::new(clock.clone()))
        .build()
        .unwrap();
    // The attacker seals under the old key with times that look fresh.
    let forge = |now: i64| {
        SessionCodec::builder(ring(1, 1))
            .clock(Arc::new(ManualClock::at_unix(t0 + now)))
            .build()
            .unwrap()
            .seal(&sample())
            .unwrap()
    };
    clock.set_unix(t0 + idle_and_skew - 1);
    let opened = servers.open::<Data>(&forge(idle_and_skew - 1)).unwrap();
    assert_eq!(opened.reseal_due(), Some(ResealReason::NonPrimaryKey));
    clock.set_unix(t0 + idle_and_skew);
    let err = servers.open::<Data>(&forge(idle_and_skew)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthenticated);
    assert_eq!(err.key_id(), Some(KeyId(1)));
    // The new key is unaffected.
    assert!(
        servers
            .open::<Data>(&servers.seal(&sample()).unwrap())
            .is_ok()
    );
}
