//! The claims' bytes, written and read by hand: exactly postcard's encoding
//! of [`Claims`] (`docs/FORMAT.md`, "Plaintext"), without a serde pass.
//!
//! Every seal and every open goes through the claims, and serde's
//! generic machinery cost about 350 instructions to write them (twice: once
//! to size, once to write) and 500 to read them, a third of what the crate
//! adds to the cipher. The fields are fixed, so the wire form is too:
//!
//! | field | bytes |
//! |---|---|
//! | `sid` | 16, as they are |
//! | `created`, `sealed`, `expires` | unsigned LEB128 varint, at most 10 bytes; a 10th byte above 1 is refused |
//! | `generation` | varint, at most 5 bytes; a 5th byte above 15 is refused |
//! | `kind` | 1 |
//! | `subject` | tag 0 (none) or 1, then a varint length (as `usize`) and that many bytes of UTF-8 |
//!
//! Non-minimal varints are accepted, as postcard accepts them. The test
//! below checks both directions against postcard itself on arbitrary input.

use crate::seal::payload::Claims;
use crate::session::meta::SESSION_ID_LEN;

/// The bytes of `v` as a varint.
const fn varint_len(v: u64) -> usize {
    let bits = 64 - (v | 1).leading_zeros() as usize;
    bits.div_ceil(7)
}

/// The 7-bit groups of `v` (below 2^56), one per byte, least significant
/// first, high bits clear.
const fn spread(v: u64) -> u64 {
    let x = (v & 0x0fff_ffff) | ((v & 0x00ff_ffff_f000_0000) << 4);
    let x = (x & 0x0000_3fff_0000_3fff) | ((x & 0x0fff_c000_0fff_c000) << 2);
    (x & 0x007f_007f_007f_007f) | ((x & 0x3f80_3f80_3f80_3f80) << 1)
}

/// The inverse of [`spread`]: eight 7-bit groups, one per byte, joined.
const fn compact(x: u64) -> u64 {
    let x = (x & 0x007f_007f_007f_007f) | ((x & 0x7f00_7f00_7f00_7f00) >> 1);
    let x = (x & 0x0000_3fff_0000_3fff) | ((x & 0x3fff_0000_3fff_0000) >> 2);
    (x & 0x0000_0000_0fff_ffff) | ((x & 0x0fff_ffff_0000_0000) >> 4)
}

/// The room [`encode`] writes the fixed part of the claims in: the id, four
/// varints of at most 10 bytes, the kind and the subject's tag, plus the 8
/// bytes a varint's word may spill past its end.
const FIXED_ROOM: usize = 64;

/// Writes `v` as a varint at `buf[at..]`; returns the bytes written.
#[inline]
fn put_varint(buf: &mut [u8; FIXED_ROOM], at: usize, v: u64) -> usize {
    let n = varint_len(v);
    if n <= 8 && at + 8 <= FIXED_ROOM {
        // One word: the groups, and the continuation bit on all but the
        // last byte; the bytes past `n` are overwritten later or not used.
        let more = 0x8080_8080_8080_8080 & ((1u64 << (8 * (n - 1))) - 1);
        buf[at..at + 8].copy_from_slice(&(spread(v) | more).to_le_bytes());
    } else {
        put_varint_slow(&mut buf[at..], v);
    }
    n
}

/// Writes `v` as a varint at the start of `out`, byte by byte (values of
/// 2^56 and up, and the subject's length, rarely more than one byte).
fn put_varint_slow(out: &mut [u8], v: u64) -> usize {
    let n = varint_len(v);
    let mut rest = v;
    for (i, slot) in out.iter_mut().take(n).enumerate() {
        let group = rest.to_le_bytes()[0] & 0x7f;
        *slot = if i + 1 < n { group | 0x80 } else { group };
        rest >>= 7;
    }
    n
}

/// The length of the claims' encoding.
pub(crate) fn encoded_len(c: &Claims) -> usize {
    SESSION_ID_LEN
        + varint_len(c.created)
        + varint_len(c.sealed)
        + varint_len(c.expires)
        + varint_len(u64::from(c.generation))
        + 1
        + c.subject
            .as_ref()
            .map_or(1, |s| 1 + varint_len(s.len() as u64) + s.len())
}

/// Writes the claims at the start of `out`, which holds at least
/// [`encoded_len`] bytes; returns the bytes written.
pub(crate) fn encode(c: &Claims, out: &mut [u8]) -> usize {
    let mut buf = [0u8; FIXED_ROOM];
    buf[..SESSION_ID_LEN].copy_from_slice(&c.sid);
    let mut at = SESSION_ID_LEN;
    for v in [c.created, c.sealed, c.expires, u64::from(c.generation)] {
        at += put_varint(&mut buf, at, v);
    }
    buf[at] = c.kind;
    buf[at + 1] = u8::from(c.subject.is_some());
    at += 2;
    out[..at].copy_from_slice(&buf[..at]);
    if let Some(s) = &c.subject {
        at += put_varint_slow(&mut out[at..], s.len() as u64);
        out[at..at + s.len()].copy_from_slice(s.as_bytes());
        at += s.len();
    }
    at
}

/// A cursor over authenticated plaintext.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = self.0.split_at_checked(n)?;
        self.0 = rest;
        Some(head)
    }

    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }

    /// A varint of at most `MAX` bytes whose last byte, if it is the
    /// `MAX`-th, is at most `LAST_MAX` (so the value fits the type).
    #[inline(always)]
    fn varint<const MAX: usize, const LAST_MAX: u8>(&mut self) -> Option<u64> {
        // One word when its end is within the next 8 bytes and short of
        // `MAX` (so no last-byte check applies).
        if let Some(word) = self.0.first_chunk::<8>() {
            let w = u64::from_le_bytes(*word);
            let ends = !w & 0x8080_8080_8080_8080;
            let n = (ends.trailing_zeros() / 8 + 1) as usize;
            if ends != 0 && n < MAX {
                let mine = u64::MAX >> (64 - 8 * n);
                self.0 = &self.0[n..];
                return Some(compact(w & mine & 0x7f7f_7f7f_7f7f_7f7f));
            }
        }
        let mut out = 0u64;
        for (i, &b) in self.0.iter().take(MAX).enumerate() {
            out |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                self.0 = &self.0[i + 1..];
                return (i + 1 < MAX || b <= LAST_MAX).then_some(out);
            }
        }
        None
    }

    #[inline(always)]
    fn u64(&mut self) -> Option<u64> {
        self.varint::<10, 1>()
    }

    fn u32(&mut self) -> Option<u32> {
        self.varint::<5, 15>().and_then(|v| u32::try_from(v).ok())
    }

    fn usize(&mut self) -> Option<usize> {
        #[cfg(target_pointer_width = "64")]
        let v = self.u64();
        #[cfg(target_pointer_width = "32")]
        let v = self.u32().map(u64::from);
        #[cfg(target_pointer_width = "16")]
        let v = self.varint::<3, 3>();
        v.and_then(|v| usize::try_from(v).ok())
    }
}

/// Reads the claims from the start of `plaintext`; returns them and the
/// bytes after them, or `None` where postcard would refuse them.
pub(crate) fn decode(plaintext: &[u8]) -> Option<(Claims, &[u8])> {
    let mut r = Reader(plaintext);
    let sid: [u8; SESSION_ID_LEN] = r.take(SESSION_ID_LEN)?.try_into().ok()?;
    let created = r.u64()?;
    let sealed = r.u64()?;
    let expires = r.u64()?;
    let generation = r.u32()?;
    let kind = r.byte()?;
    let subject = match r.byte()? {
        0 => None,
        1 => {
            let len = r.usize()?;
            let bytes = r.take(len)?;
            Some(core::str::from_utf8(bytes).ok()?.to_owned())
        }
        _ => return None,
    };
    let claims = Claims {
        sid,
        created,
        sealed,
        expires,
        generation,
        kind,
        subject,
    };
    Some((claims, r.0))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn claims() -> impl Strategy<Value = Claims> {
        let wide = prop_oneof![
            Just(0u64),
            Just(u64::MAX),
            0u64..300,
            any::<u64>(),
            (0u32..64).prop_map(|b| 1u64 << b)
        ];
        (
            any::<[u8; SESSION_ID_LEN]>(),
            (wide.clone(), wide.clone(), wide),
            prop_oneof![Just(0u32), Just(u32::MAX), any::<u32>()],
            any::<u8>(),
            prop::option::of(prop_oneof![".{0,4}", ".{120,140}"]),
        )
            .prop_map(
                |(sid, (created, sealed, expires), generation, kind, subject)| Claims {
                    sid,
                    created,
                    sealed,
                    expires,
                    generation,
                    kind,
                    subject,
                },
            )
    }

    fn postcard_decode(bytes: &[u8]) -> Option<(Claims, &[u8])> {
        postcard::take_from_bytes::<Claims>(bytes).ok()
    }

    #[test]
    fn spread_and_compact_are_inverse() {
        for v in [
            0,
            1,
            0x7f,
            0x80,
            0x3fff,
            0x4000,
            (1 << 56) - 1,
            0x0001_2345_6789_abcd,
        ] {
            let x = spread(v);
            assert_eq!(x & 0x8080_8080_8080_8080, 0);
            assert_eq!(compact(x), v);
        }
    }

    #[test]
    fn varint_lengths_at_each_boundary() {
        for (v, len) in [
            (0, 1),
            (127, 1),
            (128, 2),
            (16_383, 2),
            (16_384, 3),
            (u64::from(u32::MAX), 5),
            (u64::MAX, 10),
        ] {
            assert_eq!(varint_len(v), len, "{v}");
            let want = postcard::to_slice(&v, &mut [0u8; 10]).unwrap().to_vec();
            for at in [0, FIXED_ROOM - 10] {
                let mut buf = [0u8; FIXED_ROOM];
                assert_eq!(put_varint(&mut buf, at, v), len);
                assert_eq!(&buf[at..at + len], &want[..]);
            }
            let mut out = [0u8; 10];
            assert_eq!(put_varint_slow(&mut out, v), len);
            assert_eq!(&out[..len], &want[..]);
        }
    }

    #[test]
    fn postcard_edge_cases_are_refused_alike() {
        let mut base = vec![7u8; SESSION_ID_LEN];
        base.extend([1, 2, 3, 4, 0, 0]);
        assert!(decode(&base).is_some());
        let cases: [&[u8]; 6] = [
            // created: 10 bytes, the last above 1 (past 2^64 - 1).
            &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02],
            // created: 11 bytes.
            &[
                0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00,
            ],
            // a non-minimal 0, accepted.
            &[0x80, 0x00],
            // u64::MAX exactly, accepted.
            &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
            // cut short inside a varint.
            &[0x80],
            &[],
        ];
        for created in cases {
            let mut bytes = vec![7u8; SESSION_ID_LEN];
            bytes.extend_from_slice(created);
            bytes.extend([2, 3, 4, 0, 0, 9]);
            assert_eq!(decode(&bytes), postcard_decode(&bytes), "{created:?}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Written exactly as postcard writes them, and read back.
        #[test]
        fn encoding_is_postcards(c in claims(), tail in prop::collection::vec(any::<u8>(), 0..8)) {
            let reference = postcard::to_allocvec(&c).unwrap();
            prop_assert_eq!(encoded_len(&c), reference.len());
            let mut out = vec![0u8; reference.len() + tail.len()];
            prop_assert_eq!(encode(&c, &mut out), reference.len());
            prop_assert_eq!(&out[..reference.len()], &reference[..]);
            out[reference.len()..].copy_from_slice(&tail);
            let (back, rest) = decode(&out).unwrap();
            prop_assert_eq!(back, c);
            prop_assert_eq!(rest, &tail[..]);
        }

        /// On any bytes, the same answer as postcard: the same claims and
        /// the same rest, or a refusal from both.
        #[test]
        fn decoding_agrees_with_postcard_on_any_bytes(
            head in prop::collection::vec(any::<u8>(), SESSION_ID_LEN..SESSION_ID_LEN + 1),
            body in prop::collection::vec(
                prop_oneof![any::<u8>(), Just(0x80u8), Just(0xffu8), Just(0u8), Just(1u8)],
                0..48,
            ),
        ) {
            let bytes = [head, body].concat();
            prop_assert_eq!(decode(&bytes), postcard_decode(&bytes));
        }

        /// Real claims with one byte changed or the end cut off: the same
        /// answer as postcard.
        #[test]
        fn mutated_claims_agree_with_postcard(
            c in claims(),
            at in any::<prop::sample::Index>(),
            to in any::<u8>(),
            cut in any::<prop::sample::Index>(),
        ) {
            let mut bytes = postcard::to_allocvec(&c).unwrap();
            let i = at.index(bytes.len());
            bytes[i] = to;
            prop_assert_eq!(decode(&bytes), postcard_decode(&bytes));
            let short = &bytes[..cut.index(bytes.len())];
            prop_assert_eq!(decode(short), postcard_decode(short));
        }
    }
}
