//! [`RequestStore`]: the `SessionStore` one request's
//! `tower_sessions::Session` reads and writes. It holds no sessions of its
//! own: `load` opens the request's cookie through the crate's [`Session`]
//! handle (so only an authenticated value is ever decoded), and `save`,
//! `create` and `delete` change that handle, whose cookies the layer
//! writes into the response.

use core::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};

use async_trait::async_trait;
use tower_sessions_core::session::{Id, Record};
use tower_sessions_core::session_store::{Error as StoreError, Result as StoreResult};
use tower_sessions_core::{Expiry, SessionStore};

use super::expiry::{UnsupportedExpiry, map};
use super::record::JsonRecord;
use crate::session::handle::Session;

/// One request's store: the crate's handle, and the tower-sessions session
/// it serves (for its [`Expiry`]; unlinked when the request ends, so the
/// two never keep each other alive).
pub(crate) struct RequestStore {
    handle: Session<JsonRecord>,
    session: Mutex<Option<tower_sessions_core::Session>>,
    /// `delete` was called (flush, cycle_id, delete) and nothing saved since.
    deleted: AtomicBool,
}

impl RequestStore {
    pub(crate) const fn new(handle: Session<JsonRecord>) -> Self {
        Self {
            handle,
            session: Mutex::new(None),
            deleted: AtomicBool::new(false),
        }
    }

    pub(crate) fn link(&self, session: Option<tower_sessions_core::Session>) {
        *self.session.lock().unwrap_or_else(PoisonError::into_inner) = session;
    }

    /// Whether the record was deleted and not saved again.
    pub(crate) fn deleted(&self) -> bool {
        self.deleted.load(Ordering::Acquire)
    }

    fn expiry(&self) -> Option<Expiry> {
        let session = self.session.lock().unwrap_or_else(PoisonError::into_inner);
        session
            .as_ref()
            .and_then(tower_sessions_core::Session::expiry)
    }

    /// Puts `record` into the handle and computes its cookies now, so a
    /// handler's `session.save()` sees a session that does not fit.
    fn write(&self, record: &Record) -> StoreResult<()> {
        let mapping = map(self.expiry(), self.handle.sessions().codec().lifetime())
            .map_err(|e| backend(&e))?;
        let json = JsonRecord::encode(&record.data)
            .map_err(|_| StoreError::Encode("the session record is not JSON".to_owned()))?;
        if self.deleted.swap(false, Ordering::AcqRel) {
            // Saved after a delete (cycle_id): a new session, so a revoked
            // id is never written again.
            self.handle.regenerate(None).map_err(|e| backend(&e))?;
        }
        self.handle.insert(json);
        if let Some(persistence) = mapping.persistence {
            self.handle.set_persistence(persistence);
        }
        if let Some(at) = mapping.deadline {
            let set = self.handle.set_deadline(at).map_err(|e| backend(&e))?;
            set.map_err(|latest| backend(&UnsupportedExpiry::past_lifetime(latest)))?;
        }
        self.handle.flush().map_err(|e| backend(&e))
    }
}

fn backend(e: &dyn fmt::Display) -> StoreError {
    StoreError::Backend(format!("sealed-session: {e}"))
}

impl fmt::Debug for RequestStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestStore")
            .field("handle", &self.handle)
            .field("deleted", &self.deleted())
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl SessionStore for RequestStore {
    /// A new session, or the one `cycle_id` regenerates: its id is a fresh
    /// random [`Id`], not the sealed session's.
    async fn create(&self, record: &mut Record) -> StoreResult<()> {
        self.write(record)?;
        record.id = Id::default();
        Ok(())
    }

    async fn save(&self, record: &Record) -> StoreResult<()> {
        self.write(record)
    }

    /// The record the request's cookie holds, opened now (the handler's
    /// first look); `None` for no session, a refused cookie included.
    async fn load(&self, id: &Id) -> StoreResult<Option<Record>> {
        let Some(meta) = self.handle.meta() else {
            return Ok(None);
        };
        // A session with no record yet (a CSRF token was handed out) is an
        // empty record.
        let data = self.handle.with(|record| record.map(JsonRecord::decode));
        let data = match data {
            None => Default::default(),
            Some(Some(data)) => data,
            Some(None) => {
                self.handle.clear();
                return Ok(None);
            }
        };
        let expiry_date = self.handle.sessions().codec().deadline_of(&meta);
        Ok(Some(Record {
            id: *id,
            data,
            expiry_date,
        }))
    }

    /// Ends the session: the response removes its cookies unless a record
    /// is saved after this. With a freshness store, the session id is also
    /// revoked, so a copy of the cookie is refused too.
    async fn delete(&self, _id: &Id) -> StoreResult<()> {
        let sessions = self.handle.sessions();
        if let (Some(store), Some(meta)) = (sessions.freshness_store(), self.handle.meta())
            && meta.opened
        {
            let codec = sessions.codec();
            store
                .revoke_session(&meta.id(), codec.deadline_of(&meta), codec.now())
                .await
                .map_err(|e| backend(&e))?;
        }
        self.deleted.store(true, Ordering::Release);
        Ok(())
    }
}
