//! [`RedisStore`]: the shared [`FreshnessStore`] of a fleet, on the
//! `redis` crate (tokio, a connection manager that reconnects).
//!
//! Every operation is atomic on the server: single-use consumption is one
//! `SET NX` with an expiry at the value's deadline; the newest generation
//! per session, the ended mark and the subject's not-before are kept by
//! server-side scripts; revocation and replay state of a session are read
//! by one script, so a request costs at most one round trip. Every key
//! lives under a configurable prefix and expires no later than the longest
//! session it can affect. Every call is bounded by a time-out.

use core::fmt;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{AsyncCommands as _, Script};
use time::OffsetDateTime;

use crate::freshness::clock::unix_seconds;
use crate::freshness::lifetime::{Lifetime, secs};
use crate::freshness::replay::SessionRecord;
use crate::freshness::store::{Freshness, FreshnessStore, StoreError, StoreFuture};
use crate::session::meta::{SessionId, SessionMeta};

/// The default time-out of one store call: tens of milliseconds, a few
/// round trips on a local network. A request never waits longer for the
/// store than this.
pub const DEFAULT_STORE_TIMEOUT: Duration = Duration::from_millis(50);

/// Keeps the highest generation with the earliest time it was sealed, and
/// the time of the generation before it (as `MemoryReplayGuard` does):
/// `KEYS[1]` the record, `ARGV` the generation, the seal time (Unix
/// seconds) and the expiry (Unix milliseconds). An ended session stays
/// ended.
const SUPERSEDE: &str = r"
local v = redis.call('GET', KEYS[1])
if v == 'ended' then return 0 end
local n = tonumber(ARGV[1])
local at = ARGV[2]
local before = ''
if v then
  local g, a, b = string.match(v, '^(%d+):(%d+):?(%d*)$')
  g = tonumber(g)
  if g then
    if g > n then return 0 end
    if g == n then
      if tonumber(a) < tonumber(at) then at = a end
      before = b
    elseif g + 1 == n then
      before = a
    end
  end
end
redis.call('SET', KEYS[1], ARGV[1] .. ':' .. at .. ':' .. before, 'PXAT', ARGV[3])
return 1
";

/// Keeps the latest not-before of a subject: `KEYS[1]`, `ARGV` the time
/// (Unix seconds) and how long it can matter (seconds).
const REVOKE_SUBJECT: &str = r"
local t = tonumber(ARGV[1])
local v = tonumber(redis.call('GET', KEYS[1]) or '-1')
if v > t then t = v end
redis.call('SET', KEYS[1], t, 'PXAT', (t + tonumber(ARGV[2])) * 1000)
return 1
";

/// Revocation and replay state in one round trip: `KEYS` the subject's
/// not-before (or an unused key), the denied mark and the session record;
/// `ARGV` the creation time and the skew (Unix seconds). Answers
/// `{revoked, record}`.
const CHECK: &str = r"
local revoked = 0
if redis.call('EXISTS', KEYS[2]) == 1 then revoked = 1 end
local nb = redis.call('GET', KEYS[1])
if nb and tonumber(ARGV[1]) < tonumber(nb) + tonumber(ARGV[2]) then revoked = 1 end
local record = redis.call('GET', KEYS[3]) or ''
return {revoked, record}
";

/// Settings of a [`RedisStore`].
#[derive(Clone, Debug)]
#[must_use]
pub struct RedisOptions {
    prefix: String,
    timeout: Duration,
    lifetime: Lifetime,
}

impl Default for RedisOptions {
    fn default() -> Self {
        Self {
            prefix: "sealed-session:".to_owned(),
            timeout: DEFAULT_STORE_TIMEOUT,
            lifetime: Lifetime::default(),
        }
    }
}

impl RedisOptions {
    /// The prefix of every key. Default `sealed-session:`; give each app
    /// sharing one Redis its own.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The time-out of each call. Default [`DEFAULT_STORE_TIMEOUT`].
    pub const fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The sessions' lifetime: its skew widens subject revocations, and
    /// with its absolute lifetime bounds how long their keys live. Default
    /// [`Lifetime::default`]; pass the one the [`Sessions`](crate::Sessions)
    /// use.
    pub const fn lifetime(mut self, lifetime: Lifetime) -> Self {
        self.lifetime = lifetime;
        self
    }
}

/// The shared [`FreshnessStore`] of a fleet, on Redis 6.2 or later.
/// Cheap to clone: one multiplexed connection that reconnects by itself
/// after Redis comes back.
#[derive(Clone)]
pub struct RedisStore {
    connection: ConnectionManager,
    prefix: Box<str>,
    timeout: Duration,
    skew: u64,
    /// How long a subject's revocation can matter: skew, absolute
    /// lifetime, skew.
    horizon: u64,
    supersede: Script,
    revoke_subject: Script,
    check: Script,
}

impl fmt::Debug for RedisStore {
    /// Settings only; never a URL (it may carry a password).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// Connects to the Redis at `url` (`redis://host:port/db`, with
    /// `rediss://` for TLS where the `redis` crate has it), within the
    /// time-out.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] for a bad URL or a refused connection,
    /// [`StoreError::TimedOut`] if Redis does not answer in time.
    pub async fn connect(url: &str, options: RedisOptions) -> Result<Self, StoreError> {
        let client = redis::Client::open(url).map_err(|_| StoreError::Unavailable)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(options.timeout))
            .set_response_timeout(Some(options.timeout))
            .set_number_of_retries(1)
            .set_max_delay(options.timeout);
        let connection = bounded(
            options.timeout,
            client.get_connection_manager_with_config(config),
        )
        .await?;
        let skew = secs(options.lifetime.skew);
        Ok(Self {
            connection,
            prefix: options.prefix.into_boxed_str(),
            timeout: options.timeout,
            skew,
            horizon: skew
                .saturating_add(secs(options.lifetime.absolute))
                .saturating_add(skew),
            supersede: Script::new(SUPERSEDE),
            revoke_subject: Script::new(REVOKE_SUBJECT),
            check: Script::new(CHECK),
        })
    }

    fn key(&self, kind: &str, rest: &str) -> String {
        format!("{}{kind}:{rest}", self.prefix)
    }

    /// `SET key value PXAT until`.
    async fn set_until(
        &self,
        key: String,
        value: &'static str,
        until: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut con = self.connection.clone();
        let options = redis::SetOptions::default()
            .with_expiration(redis::SetExpiry::PXAT(millis(until).max(1)));
        bounded(self.timeout, con.set_options(key, value, options)).await
    }
}

/// `f` within `timeout`; a Redis error is [`StoreError::Unavailable`].
async fn bounded<T>(
    timeout: Duration,
    f: impl Future<Output = redis::RedisResult<T>>,
) -> Result<T, StoreError> {
    match tokio::time::timeout(timeout, f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(_)) => Err(StoreError::Unavailable),
        Err(_) => Err(StoreError::TimedOut),
    }
}

fn millis(at: OffsetDateTime) -> u64 {
    unix_seconds(at).saturating_mul(1000)
}

/// A session record as the scripts store it: `generation:at:before` (Unix
/// seconds; `before` empty when unknown, and absent from records written
/// before it was kept), or `ended`.
fn record(text: &str) -> SessionRecord {
    if text == "ended" {
        return SessionRecord::Ended;
    }
    let time = |s: &str| OffsetDateTime::from_unix_timestamp(s.parse().ok()?).ok();
    let mut parts = text.splitn(3, ':');
    let parsed = (|| {
        let generation = parts.next()?.parse().ok()?;
        let at = time(parts.next()?)?;
        let before = match parts.next() {
            None | Some("") => None,
            Some(b) => Some(time(b)?),
        };
        Some(SessionRecord::Sealed {
            generation,
            at,
            before,
        })
    })();
    parsed.unwrap_or(SessionRecord::Unknown)
}

impl FreshnessStore for RedisStore {
    fn check<'a>(
        &'a self,
        session: &'a SessionMeta,
        _now: OffsetDateTime,
    ) -> StoreFuture<'a, Freshness> {
        Box::pin(async move {
            let id = session.id().to_hex();
            let subject = session
                .subject()
                .map_or_else(|| self.key("none", ""), |s| self.key("sub", s));
            let mut con = self.connection.clone();
            let mut call = self.check.prepare_invoke();
            call.key(subject)
                .key(self.key("deny", &id))
                .key(self.key("gen", &id))
                .arg(unix_seconds(session.created()))
                .arg(self.skew);
            let (revoked, text): (u8, String) =
                bounded(self.timeout, call.invoke_async(&mut con)).await?;
            Ok(Freshness {
                revoked: revoked == 1,
                record: record(&text),
            })
        })
    }

    fn consume<'a>(
        &'a self,
        id: &'a SessionId,
        until: OffsetDateTime,
        _now: OffsetDateTime,
    ) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            let mut con = self.connection.clone();
            let key = self.key("su", &id.to_hex());
            let set: Option<String> = bounded(
                self.timeout,
                redis::cmd("SET")
                    .arg(key)
                    .arg(1)
                    .arg("NX")
                    .arg("PXAT")
                    .arg(millis(until).max(1))
                    .query_async(&mut con),
            )
            .await?;
            Ok(set.is_some())
        })
    }

    fn supersede<'a>(
        &'a self,
        id: &'a SessionId,
        generation: u32,
        at: OffsetDateTime,
        until: OffsetDateTime,
    ) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let mut con = self.connection.clone();
            let mut call = self.supersede.prepare_invoke();
            call.key(self.key("gen", &id.to_hex()))
                .arg(generation)
                .arg(unix_seconds(at))
                .arg(millis(until).max(1));
            let _: u8 = bounded(self.timeout, call.invoke_async(&mut con)).await?;
            Ok(())
        })
    }

    fn end<'a>(
        &'a self,
        id: &'a SessionId,
        until: OffsetDateTime,
        _now: OffsetDateTime,
    ) -> StoreFuture<'a, ()> {
        Box::pin(self.set_until(self.key("gen", &id.to_hex()), "ended", until))
    }

    fn revoke_subject<'a>(
        &'a self,
        subject: &'a str,
        not_before: OffsetDateTime,
    ) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let mut con = self.connection.clone();
            let mut call = self.revoke_subject.prepare_invoke();
            call.key(self.key("sub", subject))
                .arg(unix_seconds(not_before))
                .arg(self.horizon);
            let _: u8 = bounded(self.timeout, call.invoke_async(&mut con)).await?;
            Ok(())
        })
    }

    fn revoke_session<'a>(
        &'a self,
        id: &'a SessionId,
        until: OffsetDateTime,
        _now: OffsetDateTime,
    ) -> StoreFuture<'a, ()> {
        Box::pin(self.set_until(self.key("deny", &id.to_hex()), "1", until))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_parse_as_the_scripts_write_them() {
        assert_eq!(record("ended"), SessionRecord::Ended);
        assert_eq!(record(""), SessionRecord::Unknown);
        assert_eq!(record("x:1"), SessionRecord::Unknown);
        let at = OffsetDateTime::from_unix_timestamp(1_764_000_000).unwrap();
        let sealed = |before| SessionRecord::Sealed {
            generation: 7,
            at,
            before,
        };
        assert_eq!(record("7:1764000000"), sealed(None));
        assert_eq!(record("7:1764000000:"), sealed(None));
        let before = OffsetDateTime::from_unix_timestamp(1_763_999_000).unwrap();
        assert_eq!(record("7:1764000000:1763999000"), sealed(Some(before)));
        assert_eq!(record("7:1764000000:x"), SessionRecord::Unknown);
        assert_eq!(record("7:x:1"), SessionRecord::Unknown);
    }
}
