//! The request path through a [`FreshnessStore`]: the session that won is
//! checked in one round trip (revoked, copied, ended), and a re-seal is
//! recorded after the response's cookies are computed. Without a store,
//! these are the synchronous paths.
//!
//! Failure policy: a store that fails or times out while a request is read
//! gives the configured [`StorePolicy`] (by default no session); a failed
//! re-seal record only weakens copy detection for that session. Every
//! failure is a `warn` event with its kind, never a value or a key.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::codec::{Opened, log_ended};
use crate::cookie::set_cookie::SetCookie;
use crate::error::{Error, ErrorKind, Result};
use crate::freshness::replay::SessionRecord;
use crate::freshness::store::{FreshnessStore, StoreError, StorePolicy};
use crate::seal::payload::decode_data;
use crate::session::handle::Session;
use crate::session::meta::{SealKind, SessionMeta};
use crate::session::sessions::Sessions;

impl<T: Serialize + DeserializeOwned> Session<T> {
    /// Reads the session like [`Session::load`] and, with a
    /// [`FreshnessStore`] configured
    /// ([`SessionsBuilder::store`](crate::SessionsBuilder::store)), checks
    /// the session that won against it in one round trip: revoked (log out
    /// everywhere, a denied id), ended, or a superseded copy back after the
    /// grace (which ends the session in the store, for every instance).
    /// The adapters call this. Never fails: a store that is down gives the
    /// configured policy; under [`StorePolicy::FailClosed`] the request has
    /// no session and its response sets no cookie (no removal, and no
    /// anonymous session over it, whatever the handler stores) unless the
    /// handler signs in ([`Session::regenerate`]) or out
    /// ([`Session::remove`], [`Session::clear`]), so the user's session is
    /// back once the store is.
    pub async fn load_async<'a>(
        sessions: &Sessions,
        cookie_headers: impl IntoIterator<Item = &'a str>,
    ) -> Self {
        let Some((store, policy)) = sessions.store() else {
            return Self::load(sessions, cookie_headers);
        };
        let mut outcome = sessions.open_optional::<T>(cookie_headers, true);
        if let Some(opened) = &outcome.session
            && let Err(kind) = check(sessions, &**store, *policy, &opened.meta).await
        {
            outcome = outcome.refused(kind);
            if kind == ErrorKind::StoreUnavailable {
                // Not the cookie's fault: the response leaves it alone
                // (no removal, and no new session over it), so the
                // session is back once the store is.
                let session = Self::from_outcome(sessions, outcome);
                session.hold_cookies();
                return session;
            }
        }
        Self::from_outcome(sessions, outcome)
    }

    /// [`Session::finish`], then, with a store, records the re-seal it
    /// wrote, so another instance refuses the superseded value after the
    /// grace. The adapters call this.
    ///
    /// # Errors
    /// As for [`Session::finish`]; a failed record is logged, not an error
    /// (the response is right; only copy detection is weaker).
    pub async fn finish_async(&self) -> Result<Vec<SetCookie>> {
        let set = self.finish()?;
        self.record_superseded().await;
        Ok(set)
    }

    /// With a store, records the re-seal the last finish wrote.
    pub(crate) async fn record_superseded(&self) {
        if let (Some((store, _)), Some((id, generation, at, until))) =
            (self.sessions().store(), self.take_superseded())
            && let Err(e) = store.supersede(&id, generation, at, until).await
        {
            log_store_failure("supersede", e);
        }
    }
}

impl Sessions {
    /// Opens and consumes a single-use value
    /// ([`SessionCodec::seal_single_use`](crate::SessionCodec::seal_single_use)):
    /// with a store, through it, so it opens once across the fleet and
    /// across restarts (one `SET NX` on Redis); without one, as
    /// [`SessionCodec::open_single_use`](crate::SessionCodec::open_single_use).
    /// Always fails closed: a use the store could not record is refused.
    ///
    /// # Errors
    /// As for [`SessionCodec::open_single_use`](crate::SessionCodec::open_single_use);
    /// [`ErrorKind::StoreUnavailable`] when the store fails or times out.
    pub async fn open_single_use<T: DeserializeOwned>(&self, value: &str) -> Result<Opened<T>> {
        let codec = self.codec();
        let Some((store, _)) = self.store() else {
            return codec.open_single_use(value);
        };
        let opened = codec.open_deferred(value, SealKind::SingleUse, decode_data::<T>)?;
        let id = opened.meta.id();
        match store
            .consume(&id, codec.deadline_of(&opened.meta), codec.now())
            .await
        {
            Ok(true) => Ok(opened),
            Ok(false) => Err(Error::new(ErrorKind::Replayed).for_session(id)),
            Err(e) => {
                log_store_failure("consume", e);
                Err(Error::new(ErrorKind::StoreUnavailable))
            }
        }
    }
}

/// The store's verdict on an authenticated session.
async fn check(
    sessions: &Sessions,
    store: &dyn FreshnessStore,
    policy: StorePolicy,
    meta: &SessionMeta,
) -> Result<(), ErrorKind> {
    let codec = sessions.codec();
    let now = codec.now();
    let freshness = match store.check(meta, now).await {
        Ok(f) => f,
        Err(e) => {
            log_store_failure("check", e);
            return match policy {
                StorePolicy::FailOpen => Ok(()),
                _ => Err(ErrorKind::StoreUnavailable),
            };
        }
    };
    if freshness.revoked {
        return Err(ErrorKind::Revoked);
    }
    match freshness.record {
        SessionRecord::Ended => Err(ErrorKind::Replayed),
        record if codec.superseded(meta, record, now) => {
            let id = meta.id();
            if let Err(e) = store.end(&id, codec.deadline_of(meta), now).await {
                log_store_failure("end", e);
            }
            log_ended(&id);
            Err(ErrorKind::Replayed)
        }
        _ => Ok(()),
    }
}

#[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
fn log_store_failure(call: &'static str, error: StoreError) {
    #[cfg(feature = "tracing")]
    tracing::warn!(
        call,
        kind = error.as_str(),
        "sealed_session: freshness store call failed"
    );
}
