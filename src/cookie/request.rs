//! Reading our cookies out of `Cookie` request headers: untrusted input.
//!
//! Parsing is lenient (RFC 6265bis §3.2, §4.2.1, §5.8.1): any number of
//! header values (HTTP/2 and HTTP/3 split them), split on `;`, spaces and
//! tabs trimmed, the name ending at the first `=`; a pair without `=` is
//! skipped. Names are compared byte for byte (case-sensitive).
//!
//! Work is bounded whatever the input: the scan is one pass over borrowed
//! text with no allocation per pair; at most [`MAX_CANDIDATES_PER_NAME`]
//! values are kept per name, values longer than a browser could have
//! stored are skipped before any decoding, and at most
//! [`MAX_CANDIDATES_PER_NAME`] joined chunk sets are assembled.

use crate::cookie::chunks::{self, ChunkLimits, TRACKED_CHUNKS};

/// How many values of one cookie name are examined, and how many joined
/// chunk sets are tried. A sibling subdomain can add cookies with our name
/// (RFC 6265bis §8.6), so more than one is normal; more than this is an
/// attack or a broken client, and the rest are ignored.
pub const MAX_CANDIDATES_PER_NAME: usize = 8;

/// Which of a policy's cookie names (`NAME`, `NAME.0`, `NAME.1`, ...) a
/// request carried: what [`Sessions::seal`] and
/// [`Sessions::remove`] must overwrite or delete. It holds names
/// only, never values.
///
/// Chunk indices 0 to 63 are tracked, whatever the policy's chunk cap, so
/// chunks left over from an earlier configuration are removed too.
///
/// [`Sessions::seal`]: crate::Sessions::seal
/// [`Sessions::remove`]: crate::Sessions::remove
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct CarriedCookies {
    single: bool,
    chunks: u64,
}

const _: () = assert!(TRACKED_CHUNKS <= u64::BITS as usize);

impl CarriedCookies {
    /// A request that carried none of our cookies.
    #[must_use]
    pub const fn none() -> Self {
        Self {
            single: false,
            chunks: 0,
        }
    }

    /// Whether the request carried none of our cookies.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        !self.single && self.chunks == 0
    }

    /// Whether the request carried the unchunked cookie `NAME`.
    #[must_use]
    pub const fn single(&self) -> bool {
        self.single
    }

    /// Whether the request carried the chunk `NAME.k`.
    #[must_use]
    pub const fn chunk(&self, k: usize) -> bool {
        k < TRACKED_CHUNKS && self.chunks & (1 << k) != 0
    }

    /// The indices `k` of the chunks `NAME.k` the request carried, in
    /// increasing order.
    pub fn chunks(&self) -> impl Iterator<Item = usize> + '_ {
        (0..TRACKED_CHUNKS).filter(|&k| self.chunk(k))
    }

    /// Marks `NAME` as carried.
    #[must_use]
    pub const fn with_single(mut self) -> Self {
        self.single = true;
        self
    }

    /// Marks `NAME.k` as carried; indices of 64 and above are ignored.
    #[must_use]
    pub const fn with_chunk(mut self, k: usize) -> Self {
        if k < TRACKED_CHUNKS {
            self.chunks |= 1 << k;
        }
        self
    }

    /// The names in `self` that are not in `other`.
    pub(crate) const fn without(self, other: Self) -> Self {
        Self {
            single: self.single && !other.single,
            chunks: self.chunks & !other.chunks,
        }
    }
}

/// Trims optional whitespace (SP, HTAB) from both ends: exactly what
/// browsers trim (RFC 6265bis §5.6, WSP), and nothing more.
///
/// Not the `cookie` crate's `Cookie::split_parse`, which trims all Unicode
/// whitespace: a sibling subdomain could then set `\u{a0}__Host-session`,
/// a name the browser does not hold to the `__Host-` rules, and have it
/// read as ours (found by the `cookie_header` fuzz target; the regression
/// test is `tests/cookies.rs`, `prefix_lookalikes_with_unicode_space_are_not_ours`).
fn trim_ows(s: &str) -> &str {
    s.trim_matches([' ', '\t'])
}

/// The `name=value` pairs of some `Cookie` header values, leniently split.
pub(crate) fn pairs<'a>(
    headers: impl IntoIterator<Item = &'a str>,
) -> impl Iterator<Item = (&'a str, &'a str)> {
    headers
        .into_iter()
        .flat_map(|header| header.split(';'))
        .filter_map(|pair| {
            let (name, value) = pair.split_once('=')?;
            Some((trim_ows(name), trim_ows(value)))
        })
}

/// Up to [`MAX_CANDIDATES_PER_NAME`] values of the single cookie, held in
/// place: the common request carries one, and reading it allocates
/// nothing for the list.
#[derive(Debug, Default)]
pub(crate) struct Singles<'a> {
    values: [&'a str; MAX_CANDIDATES_PER_NAME],
    len: usize,
}

impl<'a> Singles<'a> {
    /// Keeps `value` unless the list is full.
    fn push(&mut self, value: &'a str) {
        if let Some(slot) = self.values.get_mut(self.len) {
            *slot = value;
            self.len += 1;
        }
    }

    /// The values kept, in request order.
    pub(crate) fn as_slice(&self) -> &[&'a str] {
        &self.values[..self.len]
    }
}

/// The values of our cookies found in a request, bounded in number and
/// length, plus the names seen.
#[derive(Debug, Default)]
pub(crate) struct Candidates<'a> {
    pub(crate) carried: CarriedCookies,
    /// Values of `NAME`, each short enough for one cookie.
    pub(crate) singles: Singles<'a>,
    /// Values of `NAME.k` for `k` below the chunk cap, each short enough
    /// for chunk `k`. Empty when chunking is off.
    pub(crate) chunks: Vec<Vec<&'a str>>,
}

impl<'a> Candidates<'a> {
    /// Scans `headers` for the cookies of `base`.
    pub(crate) fn collect(
        headers: impl IntoIterator<Item = &'a str>,
        base: &str,
        limits: &ChunkLimits,
    ) -> Self {
        let mut out = Self {
            chunks: vec![
                Vec::new();
                if limits.chunking() {
                    limits.max_chunks()
                } else {
                    0
                }
            ],
            ..Self::default()
        };
        for (name, value) in pairs(headers) {
            if name == base {
                out.carried = out.carried.with_single();
                if value.len() <= limits.single_max() {
                    out.singles.push(value);
                }
            } else if let Some(k) = chunks::chunk_index(base, name) {
                out.carried = out.carried.with_chunk(k);
                let Some(list) = out.chunks.get_mut(k) else {
                    continue;
                };
                if value.len() <= limits.chunk_max(k) && list.len() < MAX_CANDIDATES_PER_NAME {
                    list.push(value);
                }
            }
        }
        out
    }

    /// Calls `f(n, joined)` for joined chunk sets `NAME.0 .. NAME.(n-1)`,
    /// at most [`MAX_CANDIDATES_PER_NAME`] of them, each at most `max_len`
    /// characters.
    ///
    /// With `m` the number of leading indices present (0, 1, ... with no
    /// gap), it tries `n = m, m-1, ..., 2`: a stale higher chunk left by a
    /// larger earlier value must not hide the current, shorter set. For
    /// each `n` it tries the first value of every index, then the other
    /// values (later indices varying fastest) when an index was sent more
    /// than once. Sets longer than `max_len` count against the limit but
    /// are not assembled.
    pub(crate) fn for_each_joined(&self, max_len: usize, mut f: impl FnMut(usize, &str)) {
        let present = self.chunks.iter().take_while(|l| !l.is_empty()).count();
        let mut tries = 0;
        let mut joined = String::new();
        'sizes: for n in (2..=present).rev() {
            let lists = &self.chunks[..n];
            let mut choice = vec![0usize; n];
            loop {
                if tries == MAX_CANDIDATES_PER_NAME {
                    break 'sizes;
                }
                tries += 1;
                let len: usize = lists.iter().zip(&choice).map(|(l, &i)| l[i].len()).sum();
                if len <= max_len {
                    joined.clear();
                    for (list, &i) in lists.iter().zip(&choice) {
                        joined.push_str(list[i]);
                    }
                    f(n, &joined);
                }
                if !next_choice(&mut choice, lists) {
                    break;
                }
            }
        }
    }
}

/// Advances `choice` to the next combination of one value per list, the
/// last list varying fastest; `false` once every combination was visited.
fn next_choice(choice: &mut [usize], lists: &[Vec<&str>]) -> bool {
    for (i, list) in choice.iter_mut().zip(lists).rev() {
        *i += 1;
        if *i < list.len() {
            return true;
        }
        *i = 0;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cookie::chunks::DEFAULT_COOKIE_HEADER_BUDGET;

    const NAME: &str = "__Host-s";

    fn limits(max_chunks: usize) -> ChunkLimits {
        ChunkLimits::new(NAME.len(), max_chunks, 1 << 20)
    }

    #[test]
    fn pairs_are_split_leniently_across_headers() {
        let got: Vec<_> = pairs(["a=1; s=X", "b=2", " c = 3 ;;d;e==4\t", "f=g=h"]).collect();
        assert_eq!(
            got,
            [
                ("a", "1"),
                ("s", "X"),
                ("b", "2"),
                ("c", "3"),
                ("e", "=4"),
                ("f", "g=h")
            ]
        );
        let tight: Vec<_> = pairs(["a=1;s=X"]).collect();
        assert_eq!(tight, [("a", "1"), ("s", "X")]);
        assert_eq!(pairs(["", ";", "novalue"]).count(), 0);
    }

    #[test]
    fn names_are_tracked_and_values_bounded() {
        let header = format!(
            "{NAME}=a; {NAME}.0=b; other=c; {NAME}.1=d; {NAME}.9=e; {NAME}.63=f; {NAME}.64=g; \
             __host-s=h; {NAME}.01=i"
        );
        let c = Candidates::collect([header.as_str()], NAME, &limits(4));
        assert!(c.carried.single());
        assert_eq!(c.carried.chunks().collect::<Vec<_>>(), [0, 1, 9, 63]);
        assert_eq!(c.singles.as_slice(), ["a"]);
        assert_eq!(c.chunks, [vec!["b"], vec!["d"], vec![], vec![]]);
    }

    #[test]
    fn at_most_eight_values_per_name_are_kept() {
        let header = (0..100)
            .map(|i| format!("{NAME}={i}; {NAME}.0={i}"))
            .collect::<Vec<_>>()
            .join("; ");
        let c = Candidates::collect([header.as_str()], NAME, &limits(2));
        assert_eq!(c.singles.as_slice().len(), MAX_CANDIDATES_PER_NAME);
        assert_eq!(c.chunks[0].len(), MAX_CANDIDATES_PER_NAME);
    }

    #[test]
    fn oversized_values_are_skipped_before_decoding() {
        let l = ChunkLimits::new(NAME.len(), 2, DEFAULT_COOKIE_HEADER_BUDGET);
        let long = "A".repeat(4096 - NAME.len() + 1);
        let header = format!("{NAME}={long}; {NAME}.0={long}");
        let c = Candidates::collect([header.as_str()], NAME, &l);
        assert!(c.carried.single() && c.carried.chunk(0));
        assert!(c.singles.as_slice().is_empty() && c.chunks[0].is_empty());
    }

    #[test]
    fn chunks_are_not_collected_when_chunking_is_off() {
        let header = format!("{NAME}.0=a; {NAME}.1=b");
        let c = Candidates::collect([header.as_str()], NAME, &limits(1));
        assert!(c.chunks.is_empty());
        assert_eq!(c.carried.chunks().collect::<Vec<_>>(), [0, 1]);
    }

    fn joined(header: &str, max_len: usize) -> Vec<(usize, String)> {
        let c = Candidates::collect([header], NAME, &limits(4));
        let mut out = Vec::new();
        c.for_each_joined(max_len, |n, s| out.push((n, s.to_owned())));
        out
    }

    #[test]
    fn joined_sets_try_longest_first_then_duplicates() {
        let h = format!("{NAME}.1=B; {NAME}.0=A; {NAME}.2=C; {NAME}.3=D");
        let got = joined(&h, 100);
        assert_eq!(
            got,
            [(4, "ABCD".into()), (3, "ABC".into()), (2, "AB".into())]
        );
        // A gap stops the run: .0 .1 then .3.
        let h = format!("{NAME}.0=A; {NAME}.1=B; {NAME}.3=D");
        assert_eq!(joined(&h, 100), [(2, "AB".into())]);
        // A lone .0 is never a value.
        assert!(joined(&format!("{NAME}.0=A"), 100).is_empty());
        let h = format!("{NAME}.0=A; {NAME}.1=B; {NAME}.1=X; {NAME}.0=Y");
        assert_eq!(
            joined(&h, 100),
            [
                (2, "AB".into()),
                (2, "AX".into()),
                (2, "YB".into()),
                (2, "YX".into())
            ]
        );
    }

    #[test]
    fn joined_sets_are_capped_and_length_checked() {
        let mut h = String::new();
        for k in 0..4 {
            for i in 0..8 {
                h.push_str(&format!("{NAME}.{k}=v{i}; "));
            }
        }
        assert_eq!(joined(&h, 100).len(), MAX_CANDIDATES_PER_NAME);
        let h = format!("{NAME}.0=AAAA; {NAME}.1=BBBB");
        let c = Candidates::collect([h.as_str()], NAME, &limits(4));
        let mut called = false;
        c.for_each_joined(7, |_, _| called = true);
        assert!(!called);
    }

    #[test]
    fn carried_cookies_set_operations() {
        let a = CarriedCookies::none()
            .with_single()
            .with_chunk(0)
            .with_chunk(3);
        let b = CarriedCookies::none().with_chunk(0).with_chunk(64);
        assert_eq!(b, CarriedCookies::none().with_chunk(0));
        let d = a.without(b);
        assert!(d.single() && !d.chunk(0) && d.chunk(3));
        assert!(CarriedCookies::default().is_empty());
        assert!(!d.chunk(64));
    }
}
