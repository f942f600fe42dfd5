//! Browser sessions by hash of the raw session id in `v1/sessions` (flushed lazily by sled).

use super::codec::{decode, encode};
use super::sled_store::{Store, Tree};
use crate::auth::Session;
use crate::error::Result;

/// Storage of browser sessions, keyed by the hash of the raw session id (never the raw id).
pub trait SessionStore: Send + Sync {
    /// Inserts or replaces a session (flushed lazily: survives a restart, may lose the last ~500 ms
    /// on a crash).
    fn put_session(&self, session: &Session) -> Result<()>;
    /// The session whose id hash is `id_hash`.
    fn get_session(&self, id_hash: &str) -> Result<Option<Session>>;
    /// Deletes a session; `false` when there was none.
    fn delete_session(&self, id_hash: &str) -> Result<bool>;
    /// Deletes every session expired at `now` (unix s) and returns how many were removed.
    fn purge_expired_sessions(&self, now: u64) -> Result<usize>;
}

impl SessionStore for Store {
    fn put_session(&self, session: &Session) -> Result<()> {
        self.tree(Tree::Sessions)
            .insert(session.id_hash.as_bytes(), encode(session)?)?;
        Ok(())
    }

    fn get_session(&self, id_hash: &str) -> Result<Option<Session>> {
        self.tree(Tree::Sessions)
            .get(id_hash.as_bytes())?
            .map(|v| decode(&v))
            .transpose()
    }

    fn delete_session(&self, id_hash: &str) -> Result<bool> {
        Ok(self
            .tree(Tree::Sessions)
            .remove(id_hash.as_bytes())?
            .is_some())
    }

    fn purge_expired_sessions(&self, now: u64) -> Result<usize> {
        let tree = self.tree(Tree::Sessions);
        let mut removed = 0;
        for item in tree.iter() {
            let (key, value) = item?;
            let expired = decode::<Session>(&value).map_or(true, |s| s.is_expired(now));
            if expired
                && tree
                    .compare_and_swap(&key, Some(value), None::<&[u8]>)?
                    .is_ok()
            {
                removed += 1;
            }
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(id_hash: &str, expires_at: u64) -> Session {
        Session {
            id_hash: id_hash.into(),
            username: "alice".into(),
            org_id: "default".into(),
            csrf_hash: "00".into(),
            created_at: 0,
            expires_at,
        }
    }

    #[test]
    fn roundtrip_delete_and_purge() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store.put_session(&session("a", 100)).unwrap();
        store.put_session(&session("b", 200)).unwrap();
        store.put_session(&session("c", 300)).unwrap();
        assert_eq!(store.get_session("a").unwrap(), Some(session("a", 100)));
        assert!(store.delete_session("c").unwrap());
        assert!(!store.delete_session("c").unwrap());
        assert_eq!(store.purge_expired_sessions(150).unwrap(), 1);
        assert_eq!(store.get_session("a").unwrap(), None);
        assert_eq!(store.get_session("b").unwrap(), Some(session("b", 200)));
    }
}
