//! Persistent storage: one sled database per data dir, reached only through the traits below so another
//! engine can be added later.
//!
//! Layout: every tree name carries the key-schema version (`v1/tokens`, …) and every value starts with a
//! one-byte format version followed by MessagePack (named fields), so both can evolve. Writes that matter
//! (tokens, users, settings) are flushed before the call returns; sessions are flushed lazily by sled's
//! background flusher (every 500 ms) and survive a restart.

mod alerts;
mod codec;
mod endpoints;
mod keyfile;
pub(crate) mod queue;
mod secret_box;
mod sessions;
mod settings;
mod sled_store;
mod tokens;
mod users;

#[cfg(test)]
mod tests;

pub use alerts::{AlertHistoryEntry, AlertStore, HistoryFilter, HISTORY_LIMIT_MAX};
pub use endpoints::{EndpointsDocument, StoredEndpoint};
pub use queue::{QueueStats, QueueStore};
pub use secret_box::{SecretBox, XChaChaBox};
pub use sessions::SessionStore;
pub use settings::{Document, DocumentStore, Namespace, SettingsStore, StoredDocument};
pub use sled_store::Store;
pub use tokens::TokenStore;
pub use users::UserStore;
