//! API token records: by id in `v1/tokens`, with a hash → id index in `v1/token_hashes`.

use sled::transaction::{ConflictableTransactionError, TransactionError};
use sled::Transactional;

use super::codec::{decode, encode};
use super::sled_store::{abort, unwrap_tx, Store, Tree};
use crate::auth::TokenRecord;
use crate::error::{Error, Result};

/// `lastUsedAt` is only rewritten when it is at least this old, so verifying a token on every request
/// does not turn into a disk write on every request.
const TOUCH_RESOLUTION_SECS: u64 = 60;

/// How often a lost compare-and-swap on `lastUsedAt` is retried before giving up quietly.
const TOUCH_RETRIES: usize = 8;

/// Storage of API token records; only hashes of raw tokens are ever stored.
pub trait TokenStore: Send + Sync {
    /// Inserts or replaces a token record (durable when this returns).
    fn put_token(&self, record: &TokenRecord) -> Result<()>;
    /// The token record with this id.
    fn get_token(&self, id: &str) -> Result<Option<TokenRecord>>;
    /// The token record whose `hash` (hex SHA-256 of the raw token) is `hash`.
    fn token_by_hash(&self, hash: &str) -> Result<Option<TokenRecord>>;
    /// All tokens (`org == None`) or those bound to exactly `org`, oldest first.
    fn list_tokens(&self, org: Option<&str>) -> Result<Vec<TokenRecord>>;
    /// Deletes a token (durable when this returns); `false` when there was none with this id.
    fn delete_token(&self, id: &str) -> Result<bool>;
    /// Records a use at `now` (unix s), at a resolution of one minute; a deleted token stays deleted.
    fn touch_token(&self, id: &str, now: u64) -> Result<()>;
}

impl TokenStore for Store {
    fn put_token(&self, record: &TokenRecord) -> Result<()> {
        let value = encode(record)?;
        let trees = (self.tree(Tree::Tokens), self.tree(Tree::TokenHashes));
        let result: Result<(), TransactionError<Error>> = trees.transaction(|(tokens, hashes)| {
            if let Some(owner) = hashes.get(record.hash.as_bytes())? {
                if owner != record.id.as_bytes() {
                    return abort(Error::Conflict(
                        "a token with this hash already exists".into(),
                    ));
                }
            }
            if let Some(old) = tokens.insert(record.id.as_bytes(), value.as_slice())? {
                let old: TokenRecord = decode(&old).map_err(ConflictableTransactionError::Abort)?;
                if old.hash != record.hash {
                    hashes.remove(old.hash.as_bytes())?;
                }
            }
            hashes.insert(record.hash.as_bytes(), record.id.as_bytes())?;
            Ok(())
        });
        result.map_err(unwrap_tx)?;
        self.flush()
    }

    fn get_token(&self, id: &str) -> Result<Option<TokenRecord>> {
        self.tree(Tree::Tokens)
            .get(id.as_bytes())?
            .map(|v| decode(&v))
            .transpose()
    }

    fn token_by_hash(&self, hash: &str) -> Result<Option<TokenRecord>> {
        let Some(id) = self.tree(Tree::TokenHashes).get(hash.as_bytes())? else {
            return Ok(None);
        };
        let id = String::from_utf8(id.to_vec())
            .map_err(|_| Error::Store("token hash index holds a non-UTF-8 id".into()))?;
        self.get_token(&id)
    }

    fn list_tokens(&self, org: Option<&str>) -> Result<Vec<TokenRecord>> {
        let mut out = Vec::new();
        for item in self.tree(Tree::Tokens).iter() {
            let (_, value) = item?;
            let record: TokenRecord = decode(&value)?;
            if org.is_none() || record.org_id.as_deref() == org {
                out.push(record);
            }
        }
        out.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(out)
    }

    fn delete_token(&self, id: &str) -> Result<bool> {
        let trees = (self.tree(Tree::Tokens), self.tree(Tree::TokenHashes));
        let result: Result<bool, TransactionError<Error>> =
            trees.transaction(|(tokens, hashes)| {
                let Some(old) = tokens.remove(id.as_bytes())? else {
                    return Ok(false);
                };
                let old: TokenRecord = decode(&old).map_err(ConflictableTransactionError::Abort)?;
                hashes.remove(old.hash.as_bytes())?;
                Ok(true)
            });
        let existed = result.map_err(unwrap_tx)?;
        if existed {
            self.flush()?;
        }
        Ok(existed)
    }

    fn touch_token(&self, id: &str, now: u64) -> Result<()> {
        let tree = self.tree(Tree::Tokens);
        for _ in 0..TOUCH_RETRIES {
            let Some(current) = tree.get(id.as_bytes())? else {
                return Ok(());
            };
            let mut record: TokenRecord = decode(&current)?;
            if record
                .last_used_at
                .is_some_and(|last| now < last.saturating_add(TOUCH_RESOLUTION_SECS))
            {
                return Ok(());
            }
            record.last_used_at = Some(now);
            let swapped =
                tree.compare_and_swap(id.as_bytes(), Some(current), Some(encode(&record)?))?;
            if swapped.is_ok() {
                return Ok(());
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{generate_token, NewToken, ScopeSet};

    fn token(store: &Store, name: &str, org: Option<&str>, now: u64) -> TokenRecord {
        let (_, record) = generate_token(
            NewToken {
                name: name.into(),
                scopes: "monitoring:read".parse::<ScopeSet>().unwrap(),
                org_id: org.map(Into::into),
                expires_at: None,
            },
            now,
        )
        .unwrap();
        store.put_token(&record).unwrap();
        record
    }

    #[test]
    fn put_get_list_delete() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let a = token(&store, "a", None, 10);
        let b = token(&store, "b", Some("acme"), 20);
        assert_eq!(store.get_token(&a.id).unwrap().as_ref(), Some(&a));
        assert_eq!(store.token_by_hash(&b.hash).unwrap().as_ref(), Some(&b));
        assert_eq!(store.list_tokens(None).unwrap(), vec![a.clone(), b.clone()]);
        assert_eq!(store.list_tokens(Some("acme")).unwrap(), vec![b.clone()]);
        assert!(store.list_tokens(Some("other")).unwrap().is_empty());
        assert!(store.delete_token(&b.id).unwrap());
        assert!(!store.delete_token(&b.id).unwrap());
        assert_eq!(store.token_by_hash(&b.hash).unwrap(), None);
        assert_eq!(store.list_tokens(None).unwrap(), vec![a]);
    }

    #[test]
    fn touch_has_minute_resolution_and_never_resurrects() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let a = token(&store, "a", None, 10);
        store.touch_token(&a.id, 100).unwrap();
        store.touch_token(&a.id, 130).unwrap();
        assert_eq!(
            store.get_token(&a.id).unwrap().unwrap().last_used_at,
            Some(100)
        );
        store.touch_token(&a.id, 160).unwrap();
        assert_eq!(
            store.get_token(&a.id).unwrap().unwrap().last_used_at,
            Some(160)
        );
        store.delete_token(&a.id).unwrap();
        store.touch_token(&a.id, 1000).unwrap();
        assert_eq!(store.get_token(&a.id).unwrap(), None);
    }

    #[test]
    fn a_duplicate_hash_under_another_id_is_a_conflict() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let a = token(&store, "a", None, 10);
        let mut clash = a.clone();
        clash.id = "other".into();
        assert_eq!(store.put_token(&clash).unwrap_err().code(), "conflict");
        let mut renamed = a.clone();
        renamed.name = "renamed".into();
        store.put_token(&renamed).unwrap();
        assert_eq!(
            store.token_by_hash(&a.hash).unwrap().unwrap().name,
            "renamed"
        );
    }
}
