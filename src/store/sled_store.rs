//! [`Store`]: the sled database of one data dir, its trees, and the key that seals its secrets.

use std::fs::DirBuilder;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use sled::transaction::{
    ConflictableTransactionError, ConflictableTransactionResult, TransactionError,
};

use super::keyfile::{create_key, read_key, KEY_LEN};
use super::secret_box::{SecretBox, XChaChaBox};
use crate::error::{Error, Result};

/// Name of the key file inside the data dir.
const KEY_FILE: &str = ".encryption.key";
/// Name of the sled database directory inside the data dir.
const DB_DIR: &str = "db";
/// How long opening waits for a database lock that this process may still be releasing.
const LOCK_WAIT: Duration = Duration::from_secs(1);
/// Version of the tree layout written by this build (recorded in the `meta` tree).
const LAYOUT_VERSION: u8 = 1;
/// `meta` key holding the layout version.
const META_LAYOUT: &[u8] = b"layout";
/// `meta` key holding a fingerprint of the encryption key, to notice a lost or swapped key file.
const META_KEY_CHECK: &[u8] = b"key_check";

/// The trees of the store; each name carries the key-schema version.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Tree {
    /// Token records by id.
    Tokens,
    /// Token id by hash of the raw token.
    TokenHashes,
    /// Users by username.
    Users,
    /// Sessions by hash of the raw session id.
    Sessions,
    /// Named documents by `global/<name>` or `org/<org>/<name>`.
    Settings,
    /// The alert engine's state by org.
    AlertState,
    /// Alert lifecycle events by `org \0 time \0 id` (append-only).
    AlertHistory,
    /// Notification deliveries by `org \0 id`.
    DeliveryQueue,
    /// Pending deliveries by `org \0 due time \0 id` (index into `DeliveryQueue`).
    DeliveryDue,
}

impl Tree {
    /// Every tree, in the order their handles are kept.
    const ALL: [Tree; 9] = [
        Tree::Tokens,
        Tree::TokenHashes,
        Tree::Users,
        Tree::Sessions,
        Tree::Settings,
        Tree::AlertState,
        Tree::AlertHistory,
        Tree::DeliveryQueue,
        Tree::DeliveryDue,
    ];

    /// The sled tree name.
    fn name(self) -> &'static str {
        match self {
            Tree::Tokens => "v1/tokens",
            Tree::TokenHashes => "v1/token_hashes",
            Tree::Users => "v1/users",
            Tree::Sessions => "v1/sessions",
            Tree::Settings => "v1/settings",
            Tree::AlertState => "v1/alert_state",
            Tree::AlertHistory => "v1/alert_history",
            Tree::DeliveryQueue => "v1/delivery_queue",
            Tree::DeliveryDue => "v1/delivery_due",
        }
    }
}

/// The store of one data dir. Open it once per process (sled locks the database against a second
/// opener) and clone it freely: clones share the same database.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

/// The shared state behind every clone of a [`Store`].
struct Inner {
    db: sled::Db,
    trees: [sled::Tree; Tree::ALL.len()],
    secrets: XChaChaBox,
    data_dir: PathBuf,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("data_dir", &self.inner.data_dir)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens (creating if needed, mode 0700) the data dir, its database at `data_dir/db` and its
    /// encryption key at `data_dir/.encryption.key` (created once, mode 0600). Refuses a key file of
    /// the wrong length, a missing key file for a store that already has one, a key that does not match
    /// the store, and a store written by a newer layout.
    pub fn open(data_dir: &Path) -> Result<Store> {
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(data_dir)
            .map_err(|e| {
                Error::Store(format!(
                    "cannot create data dir {}: {e}",
                    data_dir.display()
                ))
            })?;
        let db = open_db(&data_dir.join(DB_DIR))?;
        let meta = db.open_tree("meta")?;
        check_layout(&meta)?;
        let key = load_key(&data_dir.join(KEY_FILE), &meta)?;
        let mut trees = Vec::with_capacity(Tree::ALL.len());
        for tree in Tree::ALL {
            trees.push(db.open_tree(tree.name())?);
        }
        let trees: [sled::Tree; Tree::ALL.len()] = trees
            .try_into()
            .map_err(|_| Error::Internal("tree count mismatch".into()))?;
        let inner = Inner {
            trees,
            db,
            secrets: XChaChaBox::new(&key),
            data_dir: data_dir.to_path_buf(),
        };
        inner.db.flush()?;
        Ok(Store {
            inner: Arc::new(inner),
        })
    }

    /// The data dir this store lives in.
    pub fn data_dir(&self) -> &Path {
        &self.inner.data_dir
    }

    /// Forces everything written so far to disk.
    pub fn flush(&self) -> Result<()> {
        self.inner.db.flush()?;
        Ok(())
    }

    /// Bytes the database occupies on disk (for the store-size metric).
    pub fn size_on_disk(&self) -> Result<u64> {
        Ok(self.inner.db.size_on_disk()?)
    }

    /// A fresh id, unique and increasing across restarts of this store.
    pub(crate) fn generate_id(&self) -> Result<u64> {
        Ok(self.inner.db.generate_id()?)
    }

    /// The sled database itself, for components that keep their own trees in it (the metrics
    /// history store).
    pub fn sled_db(&self) -> sled::Db {
        self.inner.db.clone()
    }

    /// The handle of one tree.
    pub(crate) fn tree(&self, tree: Tree) -> &sled::Tree {
        &self.inner.trees[tree as usize]
    }
}

impl SecretBox for Store {
    fn encrypt(&self, context: &[u8], plain: &[u8]) -> Result<Vec<u8>> {
        self.inner.secrets.encrypt(context, plain)
    }

    fn decrypt(&self, context: &[u8], sealed: &[u8]) -> Result<Vec<u8>> {
        self.inner.secrets.decrypt(context, sealed)
    }
}

/// sled's page cache. Its default (1 GiB) lets a busy server's resident memory grow by the size
/// of every page it ever touched; the store's hot data (sessions, tokens, queue heads, history
/// indexes) is small, and chunk reads are served by the OS page cache below this one.
const PAGE_CACHE_BYTES: u64 = 16 * 1024 * 1024;

/// Opens the sled database, waiting up to [`LOCK_WAIT`] for its file lock: sled releases the lock of
/// a dropped handle from a background thread, so a reopen in the same process can briefly find it
/// still held. A lock held longer belongs to another process.
fn open_db(path: &Path) -> Result<sled::Db> {
    let deadline = Instant::now() + LOCK_WAIT;
    loop {
        match sled::Config::new()
            .path(path)
            .cache_capacity(PAGE_CACHE_BYTES)
            .open()
        {
            Ok(db) => return Ok(db),
            Err(sled::Error::Io(e))
                if e.to_string().contains("could not acquire lock")
                    && Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => {
                return Err(Error::Store(format!(
                    "cannot open the database at {} (is another pulse process using this data \
                     dir?): {e}",
                    path.display()
                )))
            }
        }
    }
}

/// Records the layout version on a fresh store and refuses one written by a newer layout.
fn check_layout(meta: &sled::Tree) -> Result<()> {
    match meta.get(META_LAYOUT)? {
        None => {
            meta.insert(META_LAYOUT, &[LAYOUT_VERSION])?;
            Ok(())
        }
        Some(v) if v.as_ref() == [LAYOUT_VERSION] => Ok(()),
        Some(v) => Err(Error::Store(format!(
            "the data dir was written with store layout {:?}; this build reads layout {LAYOUT_VERSION}",
            v.as_ref()
        ))),
    }
}

/// Reads or creates the key, and checks it against the fingerprint the store recorded.
fn load_key(path: &Path, meta: &sled::Tree) -> Result<[u8; KEY_LEN]> {
    let recorded = meta.get(META_KEY_CHECK)?;
    let key = match (read_key(path)?, &recorded) {
        (Some(key), _) => key,
        (None, None) => create_key(path)?,
        (None, Some(_)) => {
            return Err(Error::Store(format!(
                "encryption key file {} is missing but this store has encrypted data; restore the \
                 key file from a backup",
                path.display()
            )))
        }
    };
    let check = key_check(&key);
    match recorded {
        Some(recorded) if recorded.as_ref() != check.as_slice() => Err(Error::Store(format!(
            "encryption key file {} does not belong to this store; restore the original key file",
            path.display()
        ))),
        Some(_) => Ok(key),
        None => {
            meta.insert(META_KEY_CHECK, check.as_slice())?;
            Ok(key)
        }
    }
}

/// A one-way fingerprint of the key (domain-separated SHA-256), safe to store next to the data.
fn key_check(key: &[u8; KEY_LEN]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(b"pulse/store/key-check/v1\0");
    hasher.update(key);
    hasher.finalize().into()
}

/// Aborts a sled transaction with one of our errors.
pub(crate) fn abort<T>(e: Error) -> ConflictableTransactionResult<T, Error> {
    Err(ConflictableTransactionError::Abort(e))
}

/// Flattens a failed transaction into our error.
pub(crate) fn unwrap_tx(e: TransactionError<Error>) -> Error {
    match e {
        TransactionError::Abort(e) => e,
        TransactionError::Storage(e) => e.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tree_handles_are_indexed_by_discriminant() {
        for (i, tree) in Tree::ALL.into_iter().enumerate() {
            assert_eq!(tree as usize, i, "{tree:?}");
        }
        let names: std::collections::HashSet<_> = Tree::ALL.iter().map(|t| t.name()).collect();
        assert_eq!(names.len(), Tree::ALL.len());
        assert!(names.iter().all(|n| n.starts_with("v1/")));
    }
}
