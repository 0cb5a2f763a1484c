//! [`Sessions`]: the one configured object of an app, holding the codec
//! (keys, lifetimes, clock, hooks) and the cookie policy. It reads `Cookie`
//! header values and writes `Set-Cookie` headers; it does no I/O and names
//! no framework type.

use core::fmt;
use std::sync::Arc;
#[cfg(all(feature = "tracing", any(feature = "tower", feature = "actix-web")))]
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::codec::{Opened, SessionCodec};
use crate::cookie::attributes::Persistence;
use crate::cookie::chunks::{self, Layout};
use crate::cookie::policy::CookiePolicy;
use crate::cookie::request::{Candidates, CarriedCookies};
use crate::cookie::response_budget;
use crate::cookie::set_cookie::{Lifespan, SetCookie};
use crate::csrf::origin::CrossOrigin;
use crate::error::{Error, ErrorKind, Result};
use crate::freshness::clock::from_unix_seconds;
use crate::freshness::store::{FreshnessStore, StorePolicy};
use crate::keys::key::KeyId;
use crate::keys::keyring::Keyring;
use crate::seal::payload::{Data, Value, decode_data};
use crate::session::builder::SessionsBuilder;
use crate::session::meta::{SealKind, SessionId, SessionMeta};
use crate::session::read::{ReadOutcome, rank, used_names};

/// The front door: built once from a keyring with [`Sessions::builder`],
/// it holds the [`SessionCodec`] and the [`CookiePolicy`] (which agree on
/// the cookie name and the size budget by construction), and is cheap to
/// clone (reference-counted inside). Adapters take it:
/// [`Sessions::layer`](crate::Sessions::layer) for tower and axum,
/// [`Sessions::middleware`](crate::Sessions::middleware) for actix-web; a
/// handler gets a [`Session<T>`](crate::Session).
///
/// Without a framework, the flow for one request is:
///
/// 1. [`Sessions::open`] with the request's `Cookie` header values
///    gives a [`ReadOutcome`]: the session if one authenticated, why a
///    cookie of ours was refused, and which of our names the request
///    carried.
/// 2. To write the session (it is new, changed, or
///    [`Opened::reseal_due`]), [`Sessions::seal`] returns every
///    `Set-Cookie` header to send, removals of stale chunks included.
/// 3. On logout, or when a cookie was refused,
///    [`Sessions::remove`] returns the removals.
///
/// Every call returns at most one `Set-Cookie` per cookie name (RFC
/// 6265bis §4.1.1), so an adapter must send the result of one call only,
/// never of two. A response that sets or clears the session should also
/// carry `Cache-Control: no-store` (OWASP Session Management Cheat Sheet),
/// and a logout may add `Clear-Site-Data: "cookies"`.
///
/// The browser's expiry is never trusted: every deadline is checked inside
/// the sealed value when it is opened, so a cookie replayed after its
/// Max-Age by a raw client is still refused once the session has expired.
///
/// ```
/// use sealed_session::{KeyId, Keyring, Sessions};
///
/// let cookies = Sessions::builder(Keyring::generate(KeyId(1))?).build()?;
///
/// // Login: a new session, written into the response.
/// let login = cookies.open::<String>([]);
/// assert!(login.session.is_none());
/// let meta = cookies.codec().new_session(Some("user-42"))?;
/// let set = cookies.seal(&meta, &"cart: 3 items".to_owned(), &login.carried)?;
/// assert_eq!(set.len(), 1);
/// assert!(set[0].header_value().ends_with("; HttpOnly; SameSite=Lax; Secure; Path=/"));
///
/// // Next request: the browser sends the cookie back.
/// let header = format!("theme=dark; {}={}", set[0].name(), set[0].value());
/// let read = cookies.open::<String>([header.as_str()]);
/// let session = read.session.expect("authenticates");
/// assert_eq!(session.data, "cart: 3 items");
///
/// // Logout: remove what the request carried.
/// let gone = cookies.remove(&read.carried);
/// assert!(gone[0].header_value().contains("Max-Age=0"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Sessions {
    inner: Arc<Inner>,
}

struct Inner {
    codec: SessionCodec,
    policy: CookiePolicy,
    cross_origin: CrossOrigin,
    store: Option<(Arc<dyn FreshnessStore>, StorePolicy)>,
    /// Set once the plain-HTTP hint has been logged (`plain_http.rs`).
    #[cfg(all(feature = "tracing", any(feature = "tower", feature = "actix-web")))]
    warned_plain_http: AtomicBool,
}

impl Sessions {
    /// A builder with secure defaults: [`CookiePolicy::default`],
    /// [`Lifetime::default`](crate::Lifetime::default), purpose
    /// [`DEFAULT_PURPOSE`](crate::DEFAULT_PURPOSE), the system clock, no
    /// revocation hook, no replay guard.
    pub fn builder(keyring: Keyring) -> SessionsBuilder {
        SessionsBuilder::new(keyring)
    }

    pub(crate) fn from_parts(
        codec: SessionCodec,
        policy: CookiePolicy,
        cross_origin: CrossOrigin,
        store: Option<(Arc<dyn FreshnessStore>, StorePolicy)>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                codec,
                policy,
                cross_origin,
                store,
                #[cfg(all(feature = "tracing", any(feature = "tower", feature = "actix-web")))]
                warned_plain_http: AtomicBool::new(false),
            }),
        }
    }

    /// Whether this call is the first to claim the plain-HTTP hint.
    #[cfg(all(feature = "tracing", any(feature = "tower", feature = "actix-web")))]
    pub(crate) fn first_plain_http_hint(&self) -> bool {
        !self.inner.warned_plain_http.swap(true, Ordering::Relaxed)
    }

    /// Whether the plain-HTTP hint was already logged.
    #[cfg(all(feature = "tracing", any(feature = "tower", feature = "actix-web")))]
    pub(crate) fn plain_http_hinted(&self) -> bool {
        self.inner.warned_plain_http.load(Ordering::Relaxed)
    }

    /// The freshness store and its failure policy, if one is configured.
    pub(crate) fn store(&self) -> Option<&(Arc<dyn FreshnessStore>, StorePolicy)> {
        self.inner.store.as_ref()
    }

    /// The freshness store these sessions read through, if one is
    /// configured ([`SessionsBuilder::store`]): for "log out everywhere"
    /// from a handler, `revoke_subject` on it.
    #[must_use]
    pub fn freshness_store(&self) -> Option<&Arc<dyn FreshnessStore>> {
        self.inner.store.as_ref().map(|(store, _)| store)
    }

    /// The cross-origin check the CSRF layers apply.
    pub fn cross_origin(&self) -> &CrossOrigin {
        &self.inner.cross_origin
    }

    /// The codec, for [`SessionCodec::new_session`],
    /// [`SessionCodec::regenerate`] and the clock.
    #[must_use]
    pub fn codec(&self) -> &SessionCodec {
        &self.inner.codec
    }

    /// The cookie policy.
    #[must_use]
    pub fn policy(&self) -> &CookiePolicy {
        &self.inner.policy
    }

    /// Reads the session from a request's `Cookie` header values (pass
    /// every one: HTTP/2 and HTTP/3 send one per cookie). Never fails and
    /// never panics: any problem reads as "no session".
    ///
    /// Parsing is lenient (RFC 6265bis §5.8.1): each header value is split
    /// on `;`, spaces and tabs around names and values are trimmed (exactly
    /// what browsers trim: a name with other whitespace around it is not
    /// ours, so no lookalike of a `__Host-` name gets in), and a name ends
    /// at the first `=`. Names are compared exactly (case-sensitive);
    /// values are taken as sent (no unquoting, no percent-decoding). The
    /// scan allocates nothing per pair, and a value longer than a browser
    /// could have stored under its name is skipped before any decoding.
    ///
    /// Candidates, each opened with [`SessionCodec::open`]:
    ///
    /// - every value of `NAME` no longer than one cookie can be, at most
    ///   the first [`MAX_CANDIDATES_PER_NAME`](crate::MAX_CANDIDATES_PER_NAME)
    ///   of them (longer values are skipped and do not count);
    /// - with chunking on, the chunks `NAME.0 .. NAME.(n-1)` joined in
    ///   index order, for `n` from the longest gap-free run of indices
    ///   present down to 2; where an index was sent more than once, each
    ///   combination, up to
    ///   [`MAX_CANDIDATES_PER_NAME`](crate::MAX_CANDIDATES_PER_NAME) joined
    ///   sets in all. A lone `NAME.0` is never a value.
    ///
    /// A request that carries both `NAME` and chunks (a write that changed
    /// layout lost a removal, or a sibling domain injected one) has both
    /// tried. Of the candidates that authenticate and pass every check, the
    /// newest wins: the latest [`SessionMeta::sealed`], then the highest
    /// [`SessionMeta::generation`]; on a tie, the unchunked cookie, then
    /// the longer chunk set. A value that is not the newest is still opened,
    /// so revocation hooks and replay guards see every candidate.
    pub fn open<'a, T: DeserializeOwned>(
        &self,
        cookie_headers: impl IntoIterator<Item = &'a str>,
    ) -> ReadOutcome<T> {
        self.open_with(cookie_headers, |codec, value| codec.open(value))
    }

    /// Like [`Sessions::open`], but the session data is returned as
    /// its raw postcard bytes ([`SessionCodec::open_raw`]), for tools.
    pub fn open_raw<'a>(
        &self,
        cookie_headers: impl IntoIterator<Item = &'a str>,
    ) -> ReadOutcome<Vec<u8>> {
        self.open_with(cookie_headers, SessionCodec::open_raw)
    }

    /// Like [`Sessions::open`], but a session that authenticates with an
    /// empty payload that does not decode as `T` opens with no data: the
    /// handle seals such a session when a handler asked for a CSRF token
    /// before storing anything.
    pub(crate) fn open_optional<'a, T: DeserializeOwned>(
        &self,
        cookie_headers: impl IntoIterator<Item = &'a str>,
        deferred: bool,
    ) -> ReadOutcome<Option<T>> {
        self.open_with(cookie_headers, |codec, value| {
            let decode = |bytes: &[u8]| match decode_data::<T>(bytes) {
                Ok(data) => Ok(Some(data)),
                Err(_) if bytes.is_empty() => Ok(None),
                Err(e) => Err(e),
            };
            if deferred {
                codec.open_deferred(value, SealKind::Session, decode)
            } else {
                codec.open_decoding(value, decode)
            }
        })
    }

    fn open_with<'a, T>(
        &self,
        cookie_headers: impl IntoIterator<Item = &'a str>,
        open: impl Fn(&SessionCodec, &str) -> Result<Opened<T>>,
    ) -> ReadOutcome<T> {
        let limits = self.inner.policy.limits();
        let found = Candidates::collect(cookie_headers, self.inner.policy.name(), limits);
        let mut best: Option<(Opened<T>, Layout)> = None;
        let mut refusal: Option<(ErrorKind, Option<KeyId>, Option<SessionId>)> = None;
        let mut consider = |value: &str, layout: Layout| match open(&self.inner.codec, value) {
            Ok(opened) => {
                let newer = best.as_ref().is_none_or(|(b, _)| {
                    (opened.meta.sealed(), opened.meta.generation())
                        > (b.meta.sealed(), b.meta.generation())
                });
                if newer {
                    best = Some((opened, layout));
                }
            }
            Err(e) => {
                if refusal.is_none_or(|(r, _, _)| rank(e.kind()) > rank(r)) {
                    refusal = Some((e.kind(), e.key_id(), e.session_id().copied()));
                }
            }
        };
        for value in found.singles.as_slice() {
            consider(value, Layout::Single);
        }
        found.for_each_joined(self.inner.codec.max_value_len(), |n, joined| {
            consider(joined, Layout::Chunks(n));
        });
        let carried = found.carried;
        match best {
            Some((session, layout)) => ReadOutcome {
                session: Some(session),
                refusal: None,
                carried,
                used: Some(layout),
                refused_key_id: None,
                refused_session_id: None,
            },
            None => ReadOutcome {
                session: None,
                // Names of ours with no usable value (too long, or chunks
                // while chunking is off) read as malformed.
                refusal: (!carried.is_empty())
                    .then(|| refusal.map_or(ErrorKind::Malformed, |(kind, _, _)| kind)),
                carried,
                used: None,
                refused_key_id: refusal.and_then(|(_, key_id, _)| key_id),
                refused_session_id: refusal.and_then(|(_, _, id)| id),
            },
        }
    }

    /// Seals `data` for the session `meta` (from [`Sessions::open`],
    /// [`SessionCodec::new_session`] or [`SessionCodec::regenerate`]) and
    /// returns every `Set-Cookie` header for the response: the new cookie
    /// (or chunks), then removals of the names in `carried` that the new
    /// value does not use (stale chunks, or the single cookie after a
    /// switch to chunks). At most one header per name. Persistence is the
    /// policy's; see [`Sessions::seal_with`].
    ///
    /// # Errors
    /// [`ErrorKind::TooLarge`] if the sealed value does not fit one cookie
    /// (chunking off) or the chunk cap and header budget (chunking on); its
    /// [`Error::size_and_limit`] gives the cookie name length plus the value
    /// length, and the same sum for the longest value allowed. Also
    /// [`ErrorKind::TooLarge`] if the cookies' `Set-Cookie` lines exceed
    /// the policy's [`set_cookie_budget`](CookiePolicy::set_cookie_budget)
    /// (3072 bytes by default, for nginx's default buffer); then
    /// [`Error::size_and_limit`] gives the lines' length and the budget.
    /// Removals that do not fit after the new cookies are left out (a later
    /// response removes them). Otherwise as for
    /// [`SessionCodec::seal_session`].
    pub fn seal<T: Serialize + ?Sized>(
        &self,
        meta: &SessionMeta,
        data: &T,
        carried: &CarriedCookies,
    ) -> Result<Vec<SetCookie>> {
        self.seal_with(meta, data, carried, self.inner.policy.persistence())
    }

    /// Like [`Sessions::seal`] with the persistence chosen per call,
    /// for a "remember me" choice made at login. The choice is not sealed
    /// into the session: keep it in the app's data and pass it on every
    /// re-seal, or the cookie reverts to the policy's default.
    ///
    /// With [`Persistence::UntilExpiry`], Max-Age is the time left until
    /// the session's absolute deadline (as the codec's current lifetime
    /// computes it), at most 400 days
    /// ([`MAX_COOKIE_AGE_SECS`](crate::MAX_COOKIE_AGE_SECS)), and Expires
    /// is now plus Max-Age. A session already past its deadline gets
    /// `Max-Age=0`: the browser drops it at once, as the server would
    /// refuse it anyway.
    ///
    /// # Errors
    /// As for [`Sessions::seal`].
    pub fn seal_with<T: Serialize + ?Sized>(
        &self,
        meta: &SessionMeta,
        data: &T,
        carried: &CarriedCookies,
        persistence: Persistence,
    ) -> Result<Vec<SetCookie>> {
        self.write(meta, &Value(data), carried, persistence)
    }

    /// [`Sessions::seal_with`] for any payload encoding: the handle seals an
    /// empty payload for a session that holds no data yet.
    pub(crate) fn write(
        &self,
        meta: &SessionMeta,
        data: &impl Data,
        carried: &CarriedCookies,
        persistence: Persistence,
    ) -> Result<Vec<SetCookie>> {
        let now = self.inner.codec.now();
        let value = self.inner.codec.seal_session_data(meta, data)?;
        let name = self.inner.policy.name();
        let limits = self.inner.policy.limits();
        let layout = limits.layout(value.len()).ok_or_else(|| {
            Error::too_large(
                name.len() + value.len(),
                name.len() + limits.max_value_len(),
            )
        })?;
        let lifespan = match persistence {
            Persistence::BrowserSession => Lifespan::BrowserSession,
            Persistence::UntilExpiry => {
                let deadline = self.inner.codec.lifetime().deadline(&meta.claims);
                Lifespan::until(from_unix_seconds(deadline), now)
            }
        };
        let attributes = self.inner.policy.attributes();
        let out: Vec<SetCookie> = match layout {
            Layout::Single => vec![SetCookie::new(
                name.to_owned(),
                value,
                lifespan,
                attributes.clone(),
            )],
            Layout::Chunks(n) => limits
                .split(&value, n)
                .into_iter()
                .enumerate()
                .map(|(k, part)| {
                    SetCookie::new(
                        chunks::chunk_name(name, k),
                        part.to_owned(),
                        lifespan,
                        attributes.clone(),
                    )
                })
                .collect(),
        };
        response_budget::fit(
            self.inner.policy.set_cookie_budget(),
            out,
            self.removals(&carried.without(used_names(layout))),
        )
    }

    /// Removal cookies for every name in `carried` (`NAME` and each
    /// `NAME.k`): an empty value, `Max-Age=0`, Expires in 1970, and the
    /// policy's Path, Domain, Secure, SameSite and Partitioned, so each
    /// replaces exactly the cookie it removes. Empty if `carried` is.
    ///
    /// Removing the browser's cookie does not revoke a copy an attacker
    /// may hold: for logout, also revoke the session id (see
    /// [`Revocation`](crate::Revocation)).
    ///
    /// Like every set of cookies the crate writes, the removals stay within
    /// the policy's
    /// [`set_cookie_budget`](crate::CookiePolicy::set_cookie_budget): a
    /// request that carried more of our names than fit (dozens of chunk
    /// names) gets the first that fit, and the rest are removed by later
    /// responses.
    #[must_use]
    pub fn remove(&self, carried: &CarriedCookies) -> Vec<SetCookie> {
        if carried.is_empty() {
            // The common case (nothing stale): no walk over the chunk bits.
            return Vec::new();
        }
        let budget = self.inner.policy.set_cookie_budget();
        response_budget::fit(budget, Vec::new(), self.removals(carried)).unwrap_or_default()
    }

    /// Removal cookies for every name in `carried`, the single name first.
    fn removals<'a>(&'a self, carried: &'a CarriedCookies) -> impl Iterator<Item = SetCookie> + 'a {
        let name = self.inner.policy.name();
        let attributes = self.inner.policy.attributes();
        let single = carried
            .single()
            .then(|| SetCookie::removal(name.to_owned(), attributes.clone()));
        single.into_iter().chain(
            carried
                .chunks()
                .map(|k| SetCookie::removal(chunks::chunk_name(name, k), attributes.clone())),
        )
    }
}

impl fmt::Debug for Sessions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sessions")
            .field("codec", &self.inner.codec)
            .field("policy", &self.inner.policy)
            .field("cross_origin", &self.inner.cross_origin)
            .field("store", &self.inner.store)
            .finish()
    }
}

// Adapters share one instance across threads.
const _: fn() = || {
    fn shareable<T: Send + Sync>() {}
    shareable::<Sessions>();
};

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::freshness::clock::ManualClock;
    use crate::keys::key::KeyId;
    use crate::keys::keyring::Keyring;
    use crate::seal::payload::Claims;

    const T0: i64 = 1_700_000_000;

    fn cookies() -> Sessions {
        Sessions::builder(Keyring::generate(KeyId(1)).unwrap())
            .clock(Arc::new(ManualClock::at_unix(T0)))
            .build()
            .unwrap()
    }

    fn claims(sealed: u64, generation: u32) -> Claims {
        let t0 = u64::try_from(T0).unwrap();
        Claims {
            sid: [generation.to_le_bytes()[0]; 16],
            created: t0 - 100,
            sealed,
            expires: t0 + 3600,
            generation,
            kind: 0,
            subject: None,
        }
    }

    fn header(c: &Sessions, values: &[String]) -> String {
        values
            .iter()
            .map(|v| format!("{}={v}", c.policy().name()))
            .collect::<Vec<_>>()
            .join("; ")
    }

    #[test]
    fn newest_seal_wins_then_generation() {
        let c = cookies();
        let t0 = u64::try_from(T0).unwrap();
        let seal = |nonce: u8, sealed: u64, generation: u32, data: u8| {
            c.codec()
                .seal_fixed(
                    &[nonce; 24],
                    &claims(sealed, generation),
                    &crate::seal::payload::Value(&data),
                )
                .unwrap()
        };
        let older_but_higher_gen = seal(1, t0 - 10, 9, 1);
        let newest = seal(2, t0 - 5, 2, 2);
        let same_second_lower_gen = seal(3, t0 - 5, 1, 3);
        let values = [older_but_higher_gen, same_second_lower_gen, newest];
        let h = header(&c, &values);
        let read = c.open::<u8>([h.as_str()]);
        assert_eq!(read.session.unwrap().data, 2);
        assert_eq!(read.refusal, None);
        let reversed: Vec<String> = values.iter().rev().cloned().collect();
        let h = header(&c, &reversed);
        assert_eq!(c.open::<u8>([h.as_str()]).session.unwrap().data, 2);
    }

    #[test]
    fn refusal_reports_the_furthest_check() {
        let c = cookies();
        let t0 = u64::try_from(T0).unwrap();
        let mut expired = claims(t0 - 7200, 0);
        expired.created = t0 - 7200;
        expired.expires = t0 - 1;
        let expired = c
            .codec()
            .seal_fixed(&[1; 24], &expired, &crate::seal::payload::Value(&1u8))
            .unwrap();
        let h = header(&c, &["garbage".into(), expired, "A".repeat(80)]);
        let read = c.open::<u8>([h.as_str()]);
        assert!(read.session.is_none());
        assert_eq!(read.refusal, Some(ErrorKind::Expired));
        assert_eq!(read.refused_key_id(), Some(KeyId(1)));
        let h = header(&c, &["garbage".into()]);
        let read = c.open::<u8>([h.as_str()]);
        assert_eq!(read.refusal, Some(ErrorKind::Malformed));
        assert_eq!(read.refused_key_id(), None, "no header to read it from");
        assert_eq!(c.open::<u8>(["other=1"]).refusal, None);
    }

    #[test]
    fn stale_names_exclude_the_layout_used() {
        let c = cookies();
        let meta = c.codec().new_session(None).unwrap();
        let set = c.seal(&meta, &1u8, &CarriedCookies::none()).unwrap();
        let h = format!(
            "{0}.0=x; {0}={1}; {0}.1=y",
            c.policy().name(),
            set[0].value()
        );
        let read = c.open::<u8>([h.as_str()]);
        assert!(read.session.is_some());
        assert_eq!(
            read.stale(),
            CarriedCookies::none().with_chunk(0).with_chunk(1)
        );
        let none = c.open::<u8>(["a=b"]);
        assert!(none.stale().is_empty() && none.carried.is_empty());
    }
}
