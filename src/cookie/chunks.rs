//! Splitting a sealed value over `NAME.0`, `NAME.1`, ... and the size
//! budget that decides when.
//!
//! A browser silently drops a cookie whose name plus value exceed 4096
//! bytes (RFC 6265bis §5.6 step 5, §5.7 step 4), so a value that does not
//! fit one cookie is either refused ([`ErrorKind::TooLarge`], the default)
//! or, with chunking on, split into cookies whose names keep the prefix and
//! add `.k`: `__Host-session.0`, `__Host-session.1`, ...
//!
//! The layout is chosen by size alone:
//!
//! - the value fits one cookie (name + value ≤ 4096, and the header
//!   budget): one cookie named `NAME`;
//! - otherwise the fewest chunks `n` (2 ≤ n ≤ max) that hold it, each
//!   chunk's name + value ≤ 4096, filled in order (the last one is
//!   shorter), the whole within the header budget.
//!
//! The chunks are the base64url text of one sealed value cut at character
//! boundaries; the AEAD tag covers the whole value, so chunks from
//! different seals joined together do not authenticate.
//!
//! Limits and their sources:
//!
//! | limit | value | source |
//! |---|---|---|
//! | name + value per cookie | 4096 bytes | RFC 6265bis §5.6 step 5; Chromium `kMaxCookieNamePlusValueSize`; Firefox `kMaxBytesPerCookie` |
//! | Cookie header budget (default) | 7168 bytes | RFC 6265bis §4.2.1: servers commonly refuse header fields over 8192 octets; 1 KiB is left for the app's other cookies |
//! | `Set-Cookie` lines per response (default) | 3072 bytes | nginx's default `proxy_buffer_size`, one 4 KiB page, less 1 KiB (`response_budget.rs`) |
//! | chunks (configurable cap) | 2 to 16; [`DEFAULT_MAX_CHUNKS`] = 4 | crate choice; browsers keep about 180 cookies per domain (Chromium `kDomainMaxCookies`, Firefox `network.cookie.maxPerHost`) |
//!
//! [`ErrorKind::TooLarge`]: crate::ErrorKind::TooLarge

use crate::codec::MAX_NAME_VALUE_LEN;

/// A sensible cap on the number of chunks: see
/// [`CookiePolicyBuilder::chunked`](crate::CookiePolicyBuilder::chunked).
pub const DEFAULT_MAX_CHUNKS: usize = 4;

/// The largest chunk cap a policy accepts. Each chunk is a cookie in every
/// request; beyond 16 × 4 KiB no server accepts the header anyway.
pub const MAX_CHUNKS: usize = 16;

/// The default for
/// [`CookiePolicyBuilder::cookie_header_budget`](crate::CookiePolicyBuilder::cookie_header_budget):
/// 8192 octets, the header field limit many servers apply (RFC 6265bis
/// §4.2.1), less 1 KiB of headroom for the app's other cookies.
pub const DEFAULT_COOKIE_HEADER_BUDGET: usize = 8192 - 1024;

/// Bytes each of our cookies adds to the `Cookie` header beyond its name
/// and value: the `=` and the `; ` separating it from the next pair.
const PAIR_OVERHEAD: usize = 1 + 2;

/// Chunk indices the reader notices in a request (so the writer can remove
/// them). Larger indices are never written and are ignored.
pub(crate) const TRACKED_CHUNKS: usize = 64;

/// The longest cookie name a policy accepts: room is left for the largest
/// chunk suffix (`.15`) and a minimal sealed value within 4096 bytes.
pub(crate) const MAX_NAME_LEN: usize =
    MAX_NAME_VALUE_LEN - suffix_len(MAX_CHUNKS - 1) - crate::seal::envelope::MIN_ENCODED_LEN;

const _: () = assert!(MAX_CHUNKS <= TRACKED_CHUNKS);
const _: () = assert!(DEFAULT_MAX_CHUNKS >= 2 && DEFAULT_MAX_CHUNKS <= MAX_CHUNKS);

/// The length of `.k`.
pub(crate) const fn suffix_len(k: usize) -> usize {
    let mut digits = 1;
    let mut rest = k / 10;
    while rest > 0 {
        digits += 1;
        rest /= 10;
    }
    1 + digits
}

/// The name of chunk `k` of the cookie `base`.
pub(crate) fn chunk_name(base: &str, k: usize) -> String {
    format!("{base}.{k}")
}

/// The chunk index in `name` if it is `base.k` with `k` written in
/// canonical decimal (no sign, no leading zero) and below
/// [`TRACKED_CHUNKS`].
pub(crate) fn chunk_index(base: &str, name: &str) -> Option<usize> {
    let digits = name.strip_prefix(base)?.strip_prefix('.')?;
    if digits.is_empty()
        || digits.len() > 2
        || !digits.bytes().all(|b| b.is_ascii_digit())
        || (digits.len() > 1 && digits.starts_with('0'))
    {
        return None;
    }
    let k = digits.parse::<usize>().ok()?;
    (k < TRACKED_CHUNKS).then_some(k)
}

/// How a value is laid out over cookies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Layout {
    /// One cookie named after the policy.
    Single,
    /// `n` cookies `NAME.0` .. `NAME.(n-1)`, `n >= 2`.
    Chunks(usize),
}

/// The size budget of one policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ChunkLimits {
    name_len: usize,
    max_chunks: usize,
    header_budget: usize,
}

impl ChunkLimits {
    /// `max_chunks` of 1 means chunking is off.
    pub(crate) const fn new(name_len: usize, max_chunks: usize, header_budget: usize) -> Self {
        Self {
            name_len,
            max_chunks,
            header_budget,
        }
    }

    pub(crate) const fn max_chunks(&self) -> usize {
        self.max_chunks
    }

    pub(crate) const fn header_budget(&self) -> usize {
        self.header_budget
    }

    pub(crate) const fn chunking(&self) -> bool {
        self.max_chunks > 1
    }

    /// The longest value the single cookie `NAME` may carry.
    pub(crate) fn single_max(&self) -> usize {
        (MAX_NAME_VALUE_LEN.saturating_sub(self.name_len)).min(
            self.header_budget
                .saturating_sub(self.name_len + PAIR_OVERHEAD),
        )
    }

    /// The longest value chunk `k` may carry: its name plus value fit 4096.
    pub(crate) fn chunk_max(&self, k: usize) -> usize {
        MAX_NAME_VALUE_LEN.saturating_sub(self.name_len + suffix_len(k))
    }

    /// The longest value `n` chunks can carry together, within the header
    /// budget.
    fn capacity(&self, n: usize) -> usize {
        let (values, names) = (0..n).fold((0usize, 0usize), |(v, c), k| {
            (
                v + self.chunk_max(k),
                c + self.name_len + suffix_len(k) + PAIR_OVERHEAD,
            )
        });
        values.min(self.header_budget.saturating_sub(names))
    }

    /// The longest value this policy can carry in any layout. The codec's
    /// `max_value_len` is set to this.
    pub(crate) fn max_value_len(&self) -> usize {
        let chunked = if self.chunking() {
            (2..=self.max_chunks)
                .map(|n| self.capacity(n))
                .max()
                .unwrap_or(0)
        } else {
            0
        };
        self.single_max().max(chunked)
    }

    /// The layout for a value of `len` characters, or `None` if it fits no
    /// layout.
    pub(crate) fn layout(&self, len: usize) -> Option<Layout> {
        if len <= self.single_max() {
            return Some(Layout::Single);
        }
        if !self.chunking() {
            return None;
        }
        (2..=self.max_chunks)
            .find(|&n| self.capacity(n) >= len)
            .map(Layout::Chunks)
    }

    /// Cuts `value` (ASCII) into `n` chunks, filling each to its maximum.
    /// `n` must come from [`Self::layout`], so every chunk is non-empty.
    pub(crate) fn split<'v>(&self, value: &'v str, n: usize) -> Vec<&'v str> {
        let mut out = Vec::with_capacity(n);
        let mut rest = value;
        for k in 0..n {
            let take = if k + 1 == n {
                rest.len()
            } else {
                self.chunk_max(k).min(rest.len())
            };
            // The value is base64url, so every index is a char boundary;
            // `split_at_checked` keeps this panic-free regardless.
            let (head, tail) = rest.split_at_checked(take).unwrap_or((rest, ""));
            out.push(head);
            rest = tail;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAME: &str = "__Host-session";

    fn limits(max_chunks: usize, budget: usize) -> ChunkLimits {
        ChunkLimits::new(NAME.len(), max_chunks, budget)
    }

    #[test]
    fn suffixes_and_names() {
        assert_eq!(suffix_len(0), 2);
        assert_eq!(suffix_len(9), 2);
        assert_eq!(suffix_len(10), 3);
        assert_eq!(chunk_name(NAME, 3), "__Host-session.3");
        assert_eq!(chunk_index(NAME, "__Host-session.0"), Some(0));
        assert_eq!(chunk_index(NAME, "__Host-session.15"), Some(15));
        assert_eq!(chunk_index(NAME, "__Host-session.63"), Some(63));
        for not in [
            "__Host-session",
            "__Host-session.",
            "__Host-session.01",
            "__Host-session.64",
            "__Host-session.100",
            "__Host-session.+1",
            "__Host-session.-1",
            "__Host-session.1a",
            "__Host-session0",
            "__host-session.0",
            "__Host-session.0.1",
        ] {
            assert_eq!(chunk_index(NAME, not), None, "{not}");
        }
    }

    #[test]
    fn unchunked_budget_is_one_cookie() {
        let l = limits(1, DEFAULT_COOKIE_HEADER_BUDGET);
        assert_eq!(l.single_max(), 4096 - NAME.len());
        assert_eq!(l.max_value_len(), 4096 - NAME.len());
        assert_eq!(l.layout(4096 - NAME.len()), Some(Layout::Single));
        assert_eq!(l.layout(4097 - NAME.len()), None);
        // A small header budget lowers even the single cookie.
        let l = limits(1, 1000);
        assert_eq!(l.single_max(), 1000 - NAME.len() - 3);
    }

    #[test]
    fn default_chunking_is_bounded_by_the_header_budget() {
        let l = limits(DEFAULT_MAX_CHUNKS, DEFAULT_COOKIE_HEADER_BUDGET);
        let two = 2 * (NAME.len() + 2 + 3);
        assert_eq!(l.max_value_len(), DEFAULT_COOKIE_HEADER_BUDGET - two);
        assert_eq!(l.layout(l.max_value_len()), Some(Layout::Chunks(2)));
        assert_eq!(l.layout(l.max_value_len() + 1), None);
    }

    #[test]
    fn chunk_count_grows_at_each_boundary() {
        let l = limits(4, 1 << 20);
        let per = 4096 - NAME.len() - 2;
        assert_eq!(l.layout(4096 - NAME.len()), Some(Layout::Single));
        assert_eq!(l.layout(4096 - NAME.len() + 1), Some(Layout::Chunks(2)));
        assert_eq!(l.layout(2 * per), Some(Layout::Chunks(2)));
        assert_eq!(l.layout(2 * per + 1), Some(Layout::Chunks(3)));
        assert_eq!(l.layout(4 * per), Some(Layout::Chunks(4)));
        assert_eq!(l.layout(4 * per + 1), None);
        assert_eq!(l.max_value_len(), 4 * per);
    }

    #[test]
    fn split_fills_in_order_and_keeps_every_chunk_in_budget() {
        let l = limits(4, 1 << 20);
        let per = l.chunk_max(0);
        for len in [
            l.single_max() + 1,
            2 * per,
            2 * per + 1,
            3 * per + 7,
            4 * per,
        ] {
            let value = "A".repeat(len);
            let Some(Layout::Chunks(n)) = l.layout(len) else {
                panic!("{len}");
            };
            let parts = l.split(&value, n);
            assert_eq!(parts.len(), n);
            assert_eq!(parts.concat(), value);
            for (k, part) in parts.iter().enumerate() {
                assert!(!part.is_empty());
                assert!(chunk_name(NAME, k).len() + part.len() <= 4096);
            }
        }
    }

    #[test]
    fn two_digit_chunk_names_cost_a_byte() {
        let l = limits(16, 1 << 20);
        assert_eq!(l.chunk_max(9), l.chunk_max(10) + 1);
        let total: usize = (0..16).map(|k| l.chunk_max(k)).sum();
        assert_eq!(l.max_value_len(), total);
        assert_eq!(l.layout(total), Some(Layout::Chunks(16)));
    }
}
