//! User records by username in `v1/users`.

use super::codec::{decode, encode};
use super::sled_store::{Store, Tree};
use crate::auth::User;
use crate::error::Result;

/// Storage of users (with their per-org roles and password hashes).
pub trait UserStore: Send + Sync {
    /// The user with this username.
    fn get_user(&self, username: &str) -> Result<Option<User>>;
    /// Inserts or replaces a user (durable when this returns).
    fn put_user(&self, user: &User) -> Result<()>;
    /// Every user, ordered by username.
    fn list_users(&self) -> Result<Vec<User>>;
    /// How many users are owner or admin of at least one org.
    fn count_admins(&self) -> Result<usize>;
}

impl UserStore for Store {
    fn get_user(&self, username: &str) -> Result<Option<User>> {
        self.tree(Tree::Users)
            .get(username.as_bytes())?
            .map(|v| decode(&v))
            .transpose()
    }

    fn put_user(&self, user: &User) -> Result<()> {
        self.tree(Tree::Users)
            .insert(user.username.as_bytes(), encode(user)?)?;
        self.flush()
    }

    fn list_users(&self) -> Result<Vec<User>> {
        self.tree(Tree::Users)
            .iter()
            .map(|item| decode(&item?.1))
            .collect()
    }

    fn count_admins(&self) -> Result<usize> {
        Ok(self.list_users()?.iter().filter(|u| u.is_admin()).count())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Role;

    #[test]
    fn roundtrip_list_and_admin_count() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.count_admins().unwrap(), 0);
        let mut bob = User::new("bob", "correct horse battery", 5).unwrap();
        bob.roles.insert("default".into(), Role::Viewer);
        store.put_user(&bob).unwrap();
        assert_eq!(store.count_admins().unwrap(), 0);
        let mut alice = User::new("alice", "correct horse battery", 6).unwrap();
        alice.roles.insert("acme".into(), Role::Admin);
        store.put_user(&alice).unwrap();
        assert_eq!(store.count_admins().unwrap(), 1);
        assert_eq!(store.get_user("bob").unwrap().as_ref(), Some(&bob));
        assert_eq!(store.get_user("carol").unwrap(), None);
        let names: Vec<_> = store
            .list_users()
            .unwrap()
            .into_iter()
            .map(|u| u.username)
            .collect();
        assert_eq!(names, ["alice", "bob"]);
    }
}
