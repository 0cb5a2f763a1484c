//! The vectors that pin each check of FORMAT.md section 4 at its edges
//! (issue 15, point 11), and the field-by-field plaintext writer they use
//! for encodings no sealer writes.

use super::{
    Claims, DATA_STRING_U32, NONCE_LEN, NOW, Reseal, Spec, VKey, Vector, claims, codec, data, hex,
    invalid, key_bytes, seal, valid, valid_plaintext, vkey,
};

/// A change made to one field of a plaintext.
type Edit = fn(&mut Fields);

/// The unsigned LEB128 of `x` in `width` bytes (0: the shortest form),
/// padded with continuation bytes: a form the sealer never writes.
fn varint(x: u64, width: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = x;
    loop {
        let low = u8::try_from(rest & 0x7f).unwrap();
        rest >>= 7;
        let more = rest != 0 || out.len() + 1 < width;
        out.push(if more { low | 0x80 } else { low });
        if !more {
            return out;
        }
    }
}

/// A plaintext written field by field (FORMAT.md section 3), so a vector
/// can carry an encoding no sealer writes.
#[derive(Clone)]
struct Fields {
    sid: [u8; 16],
    created: Vec<u8>,
    sealed: Vec<u8>,
    expires: Vec<u8>,
    generation: Vec<u8>,
    kind: Vec<u8>,
    subject: Vec<u8>,
    data: Vec<u8>,
}

impl Fields {
    fn of(c: &Claims, data: &[u8]) -> Self {
        let subject = match &c.subject {
            None => vec![0],
            Some(s) => [
                &[1][..],
                &varint(u64::try_from(s.len()).unwrap(), 0),
                s.as_bytes(),
            ]
            .concat(),
        };
        let f = Self {
            sid: c.sid,
            created: varint(c.created, 0),
            sealed: varint(c.sealed, 0),
            expires: varint(c.expires, 0),
            generation: varint(u64::from(c.generation), 0),
            kind: vec![c.kind],
            subject,
            data: data.to_vec(),
        };
        let mut postcard = postcard::to_allocvec(c).unwrap();
        postcard.extend_from_slice(data);
        assert_eq!(f.bytes(), postcard, "the field writer agrees with postcard");
        f
    }

    fn bytes(&self) -> Vec<u8> {
        [
            &self.sid[..],
            &self.created,
            &self.sealed,
            &self.expires,
            &self.generation,
            &self.kind,
            &self.subject,
            &self.data,
        ]
        .concat()
    }
}

/// Seals `plaintext` verbatim under the first key of `keys`.
fn seal_plaintext(keys: &[VKey], nonce_seed: u8, plaintext: &[u8]) -> String {
    codec(keys, "__Host-session", "session", NOW, None)
        .__seal_plaintext_with_nonce(&[nonce_seed; NONCE_LEN], plaintext)
        .unwrap()
}

/// The vectors that pin each check of FORMAT.md section 4 and its edges
/// (issue 15, point 11). `base` is `valid-small`'s value, `old` that of
/// `valid-open-only-key` (key 1).
#[allow(
    clippy::too_many_lines,
    reason = "one table of vectors reads best in one place"
)]
pub(super) fn push(v: &mut Vec<Vector>, base: &str, old: &str) {
    const N: &str = "__Host-session";
    const P: &str = "session";
    let k1 = || vec![vkey(1, 0x00, true)];
    let spec = |id, description, keys| Spec {
        id,
        description,
        keys,
        name: N,
        purpose: P,
        now: NOW,
    };
    let small = data(8);
    let sealed = |seed: u8, c: &Claims, d: &[u8]| seal(&k1(), N, P, seed, c, d, None);
    let plain = |seed: u8, f: &Fields| seal_plaintext(&k1(), seed, &f.bytes());
    let inv = |id, description, value: String, reason, check| {
        invalid(spec(id, description, k1()), value, reason, check)
    };

    // Steps 2 and 3: lengths and the strict decoding.
    v.push(inv(
        "too-short-59",
        "59 characters, one below the encoding of the 45 fixed bytes",
        base[..59].to_owned(),
        "malformed",
        "2",
    ));
    let mut one_mod_4 = base.to_owned();
    while one_mod_4.len() % 4 != 1 {
        one_mod_4.push('A');
    }
    v.push(inv(
        "length-1-mod-4",
        "a length of 1 modulo 4, which no byte string encodes to",
        one_mod_4,
        "malformed",
        "3",
    ));
    // valid-small leaves a 2-character tail; this seal leaves 3.
    let c = claims(40, NOW - 600, NOW - 120, None);
    let d3 = data(9);
    let three = sealed(40, &c, &d3);
    assert_eq!(three.len() % 4, 3, "a value with a 3-character tail");
    assert_eq!(base.len() % 4, 2, "valid-small has a 2-character tail");
    v.push(valid(
        spec(
            "valid-3-char-tail",
            "a value whose last base64 group has 3 characters",
            k1(),
        ),
        three.clone(),
        &c,
        &d3,
    ));
    v.push(inv(
        "non-canonical-3-char-tail",
        "the previous value with the unused low 2 bits of its last character set",
        set_unused_bits(&three),
        "malformed",
        "3",
    ));
    v.push(inv(
        "whitespace-inside",
        "a space inserted inside the value",
        format!("{} {}", &base[..30], &base[30..]),
        "malformed",
        "3",
    ));
    v.push(inv(
        "trailing-newline",
        "a line feed after the value (lenient decoders skip it)",
        format!("{base}\n"),
        "malformed",
        "3",
    ));

    // Step 5a: a retired key, at and one second before the boundary.
    for (id, description, demoted) in [
        (
            "retired-key",
            "key 1 stopped sealing idle + skew (1860 s) ago: it opens nothing",
            NOW - 1860,
        ),
        (
            "valid-demoted-key-last-second",
            "key 1 stopped sealing 1859 s ago: one second before it retires",
            NOW - 1859,
        ),
    ] {
        let keys = vec![
            vkey(2, 0x20, true),
            VKey {
                demoted: Some(demoted),
                ..vkey(1, 0x00, false)
            },
        ];
        let c = claims(7, NOW - 900, NOW - 30, None);
        if id.starts_with("valid") {
            v.push(valid(
                spec(id, description, keys),
                old.to_owned(),
                &c,
                &small,
            ));
        } else {
            v.push(invalid(
                spec(id, description, keys),
                old.to_owned(),
                "unauthenticated",
                "5a",
            ));
        }
    }

    // Step 7: the claims. A real seal of the empty plaintext is the
    // shortest value (60 characters).
    let empty = seal_plaintext(&k1(), 41, &[]);
    assert_eq!(empty.len(), 60);
    v.push(inv(
        "min-length-empty-plaintext",
        "60 characters: a real seal of the empty plaintext, which ends before the claims",
        empty,
        "invalid_claims",
        "7",
    ));
    let c = claims(42, NOW - 600, NOW - 120, None);
    let whole = Fields::of(&c, &small);
    let cut = whole.bytes()[..19].to_vec();
    v.push(inv(
        "plaintext-cut-in-claims",
        "authenticates, but the plaintext ends inside `created`",
        seal_plaintext(&k1(), 42, &cut),
        "invalid_claims",
        "7",
    ));
    let mut f = whole.clone();
    f.created = varint(c.created, 10);
    f.generation = varint(u64::from(c.generation), 5);
    let value = plain(43, &f);
    v.push(valid_plaintext(
        spec(
            "valid-non-minimal-varints",
            "created in 10 varint bytes and generation in 5, the most each type allows: accepted",
            k1(),
        ),
        value,
        0,
        &f.bytes(),
        &small,
    ));
    let mut c_max = claims(44, NOW - 600, NOW - 120, None);
    c_max.expires = u64::MAX;
    v.push(valid(
        spec(
            "valid-expires-u64-max",
            "expires 2^64 - 1 (a 10-byte varint ending 0x01); the deadline is created + absolute, so it is due for a re-seal",
            k1(),
        ),
        sealed(44, &c_max, &small),
        &c_max,
        &small,
    ));
    let bad_varints: [(&str, &str, Edit); 4] = [
        (
            "varint-u64-eleven-bytes",
            "created in 11 varint bytes",
            |f| f.created = [&varint(0, 10)[..9], &[0x80, 0x00]].concat(),
        ),
        (
            "varint-u64-past-2-64",
            "created as a 10-byte varint whose last byte is 0x02: above 2^64 - 1",
            |f| f.created = [&[0xff; 9][..], &[0x02]].concat(),
        ),
        (
            "varint-u32-six-bytes",
            "generation in 6 varint bytes",
            |f| f.generation = vec![0x81, 0x80, 0x80, 0x80, 0x80, 0x00],
        ),
        (
            "varint-u32-past-2-32",
            "generation as a 5-byte varint whose last byte is 0x10: above 2^32 - 1",
            |f| f.generation = vec![0xff, 0xff, 0xff, 0xff, 0x10],
        ),
    ];
    for (seed, (id, description, edit)) in (45u8..).zip(bad_varints) {
        let mut f = whole.clone();
        edit(&mut f);
        v.push(inv(id, description, plain(seed, &f), "invalid_claims", "7"));
    }
    let bad_subjects: [(&str, &str, &[u8]); 3] = [
        ("subject-tag-2", "the subject's option tag is 0x02", &[0x02]),
        (
            "subject-not-utf8",
            "a subject of 2 bytes that are not UTF-8 (c3 28)",
            &[0x01, 0x02, 0xc3, 0x28],
        ),
        (
            "subject-length-past-end",
            "a subject length of 100, past the end of the plaintext",
            &[0x01, 0x64, b'a', b'b'],
        ),
    ];
    for (seed, (id, description, subject)) in (49u8..).zip(bad_subjects) {
        let mut f = whole.clone();
        f.subject = subject.to_vec();
        f.data = Vec::new();
        v.push(inv(id, description, plain(seed, &f), "invalid_claims", "7"));
    }

    // Step 7a: each opener takes one kind.
    let mut su = claims(27, NOW - 120, NOW - 120, None);
    su.kind = 1;
    su.expires = su.created + 600;
    v.push(inv(
        "wrong-kind-single-use-as-session",
        "valid-single-use-new's value given to the session opener",
        seal(&k1(), N, P, 27, &su, &small, None),
        "wrong_kind",
        "7a",
    ));
    let mut w = inv(
        "wrong-kind-session-as-single-use",
        "valid-small's value given to the single-use opener",
        base.to_owned(),
        "wrong_kind",
        "7a",
    );
    w.kind = "single_use".into();
    v.push(w);

    // Steps 8 and 9, and their order.
    let c = claims(52, NOW + 60, NOW + 60, None);
    v.push(valid(
        spec(
            "valid-future-at-skew-boundary",
            "a new session sealed 60 s in the future: at the skew's edge, still accepted",
            k1(),
        ),
        sealed(52, &c, &small),
        &c,
        &small,
    ));
    let c = claims(53, NOW - 60, NOW - 120, None);
    v.push(inv(
        "created-after-sealed",
        "created 60 s after it was sealed",
        sealed(53, &c, &small),
        "invalid_claims",
        "9",
    ));
    let c = claims(54, NOW + 120, NOW - 10, None);
    v.push(inv(
        "created-in-future-and-after-sealed",
        "created 120 s ahead (beyond the skew) and after sealed: step 8 refuses it before step 9",
        sealed(54, &c, &small),
        "not_yet_valid",
        "8",
    ));

    // Step 10: the sealed expiry and the single-use window.
    let mut c = claims(55, NOW - 3600, NOW - 60, None);
    c.expires = NOW;
    v.push(inv(
        "expired-sealed-expires",
        "sealed with expires = created + 1 h (a shorter absolute lifetime), at that time",
        sealed(55, &c, &small),
        "expired",
        "10",
    ));
    let mut c = claims(56, NOW - 600, NOW - 60, None);
    c.expires = c.created + 86_400;
    v.push(valid(
        spec(
            "valid-expires-beyond-absolute",
            "sealed with expires = created + 24 h, beyond the opener's 12 h: due for a re-seal",
            k1(),
        ),
        sealed(56, &c, &small),
        &c,
        &small,
    ));
    let mut c = claims(57, NOW - 600, NOW - 600, None);
    c.kind = 1;
    c.expires = c.created + 3600;
    let mut w = inv(
        "expired-single-use-window",
        "a single-use value sealed with a 1 h window, presented 600 s after creation: the opener's 600 s window has ended",
        sealed(57, &c, &small),
        "expired",
        "10",
    );
    w.kind = "single_use".into();
    v.push(w);

    // Renewal: due at renew_after (300 s) exactly, not a second before.
    for (seed, id, description, ago) in [
        (
            58u8,
            "valid-renewal-due",
            "sealed 300 s ago: due for a re-seal",
            300,
        ),
        (
            59,
            "valid-renewal-not-due",
            "sealed 299 s ago: not yet due",
            299,
        ),
    ] {
        let c = claims(seed, NOW - 900, NOW - ago, None);
        v.push(valid(
            spec(id, description, k1()),
            sealed(seed, &c, &small),
            &c,
            &small,
        ));
    }

    // Step 13: the app's type.
    let c = claims(60, NOW - 600, NOW - 120, None);
    let trailing = [&small[..], &[0]].concat();
    let mut w = inv(
        "payload-trailing-byte",
        "the data is (String, u32) followed by one more byte",
        sealed(60, &c, &trailing),
        "payload_mismatch",
        "13",
    );
    w.data = Some(DATA_STRING_U32.into());
    v.push(w);

    // A key written in hex.
    let hex_key = vec![VKey {
        key: hex(&key_bytes(0x60)),
        ..vkey(1, 0x60, true)
    }];
    let c = claims(61, NOW - 600, NOW - 120, None);
    v.push(valid(
        spec(
            "valid-hex-key",
            "the key is given as 64 hex digits",
            hex_key.clone(),
        ),
        seal(&hex_key, N, P, 61, &c, &small, None),
        &c,
        &small,
    ));

    // Step 14: the replay guard (section 4.1 and section 6).
    let c = su;
    let mut w = inv(
        "replayed-single-use",
        "a single-use value the guard has already accepted once",
        seal(&k1(), N, P, 27, &c, &small, None),
        "replayed",
        "14",
    );
    w.kind = "single_use".into();
    w.presented_before = true;
    w.data = Some(DATA_STRING_U32.into());
    v.push(w);
    let mut c = claims(62, NOW - 900, NOW - 200, None);
    c.generation = 5;
    let value = sealed(62, &c, &small);
    let sid = hex(&c.sid);
    let r = |generation, at| Reseal {
        sid: sid.clone(),
        generation,
        at,
    };
    let cases = [
        (
            "valid-superseded-within-grace",
            "generation 5; generation 6 was sealed 29 s ago, within the 30 s grace",
            vec![r(6, NOW - 29)],
        ),
        (
            "replayed-superseded-past-grace",
            "generation 5; generation 6 was sealed 30 s ago: the grace has ended",
            vec![r(6, NOW - 30)],
        ),
        (
            "valid-two-behind-within-grace",
            "generation 5; 6 sealed 20 s ago, 7 sealed 5 s ago: superseded at 6's time, within the grace",
            vec![r(6, NOW - 20), r(7, NOW - 5)],
        ),
        (
            "replayed-two-behind",
            "generation 5; 6 sealed 100 s ago, 7 sealed 5 s ago: superseded when 6 was sealed, past the grace",
            vec![r(6, NOW - 100), r(7, NOW - 5)],
        ),
        (
            "valid-two-behind-no-before",
            "generation 5; only 7 recorded, 10 s ago: superseded at 7's time, within the grace",
            vec![r(7, NOW - 10)],
        ),
        (
            "replayed-three-behind",
            "generation 5; generation 8 was sealed just now: three behind is refused at once",
            vec![r(8, NOW)],
        ),
    ];
    for (id, description, reseals) in cases {
        let mut w = if id.starts_with("valid") {
            valid(spec(id, description, k1()), value.clone(), &c, &small)
        } else {
            {
                let mut w = inv(id, description, value.clone(), "replayed", "14");
                w.data = Some(DATA_STRING_U32.into());
                w
            }
        };
        w.reseals = reseals;
        v.push(w);
    }
}

/// `value` with the unused low bits of its last character set: the same
/// bytes to a lenient decoder.
fn set_unused_bits(value: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = value.to_owned();
    let last = out.pop().unwrap();
    let pos = ALPHABET
        .iter()
        .position(|c| char::from(*c) == last)
        .unwrap();
    let unused = match value.len() % 4 {
        2 => 0x0f,
        3 => 0x03,
        _ => panic!("no unused bits"),
    };
    assert_eq!(pos & unused, 0, "a canonical value");
    out.push(char::from(ALPHABET[pos | 1]));
    out
}
