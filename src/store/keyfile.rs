//! The 32-byte encryption key in `DATA/.encryption.key`: read it, or create it once, owner-only.

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use rand::RngCore;

use crate::error::{Error, Result};

/// Length of the key in bytes.
pub(crate) const KEY_LEN: usize = 32;

/// Reads the key file, `Ok(None)` when it does not exist; refuses a file of any other length than 32 bytes.
pub(crate) fn read_key(path: &Path) -> Result<Option<[u8; KEY_LEN]>> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_error("cannot open", path, &e)),
    };
    let mode = file
        .metadata()
        .map_err(|e| io_error("cannot stat", path, &e))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        tracing::warn!(
            path = %path.display(),
            mode = format_args!("{:o}", mode & 0o777),
            "encryption key file is readable by group or others; it should be mode 0600"
        );
    }
    let mut bytes = Vec::with_capacity(KEY_LEN + 1);
    file.take(KEY_LEN as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| io_error("cannot read", path, &e))?;
    let key: [u8; KEY_LEN] = bytes.as_slice().try_into().map_err(|_| {
        Error::Store(format!(
            "encryption key file {} has the wrong length: expected exactly {KEY_LEN} bytes{}",
            path.display(),
            if bytes.len() > KEY_LEN {
                " (it is longer)".to_owned()
            } else {
                format!(", found {}", bytes.len())
            }
        ))
    })?;
    Ok(Some(key))
}

/// Creates a fresh random key at `path`: written to a temporary file with mode 0600, synced, then renamed
/// into place so a crash never leaves a partial key file. The caller holds the store lock, so no other
/// process races this.
pub(crate) fn create_key(path: &Path) -> Result<[u8; KEY_LEN]> {
    let mut key = [0u8; KEY_LEN];
    rand::rngs::OsRng.fill_bytes(&mut key);
    let tmp = path.with_extension("key.tmp");
    match fs::remove_file(&tmp) {
        Ok(()) => {}
        Err(e) if e.kind() == ErrorKind::NotFound => {}
        Err(e) => return Err(io_error("cannot remove stale", &tmp, &e)),
    }
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(|e| io_error("cannot create", &tmp, &e))?;
    file.write_all(&key)
        .and_then(|()| file.sync_all())
        .map_err(|e| io_error("cannot write", &tmp, &e))?;
    drop(file);
    fs::rename(&tmp, path).map_err(|e| io_error("cannot rename into place", path, &e))?;
    if let Some(dir) = path.parent() {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| io_error("cannot sync directory of", path, &e))?;
    }
    Ok(key)
}

/// A store error naming the failed operation and the path (never the contents).
fn io_error(what: &str, path: &Path, e: &std::io::Error) -> Error {
    Error::Store(format!("{what} {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_then_read_with_mode_0600() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".encryption.key");
        assert_eq!(read_key(&path).unwrap(), None);
        let key = create_key(&path).unwrap();
        assert_eq!(read_key(&path).unwrap(), Some(key));
        let mode = fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert!(!path.with_extension("key.tmp").exists());
    }

    #[test]
    fn wrong_length_is_refused_clearly() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".encryption.key");
        fs::write(&path, [1u8; 31]).unwrap();
        let err = read_key(&path).unwrap_err().to_string();
        assert!(
            err.contains("wrong length") && err.contains("found 31"),
            "{err}"
        );
        fs::write(&path, [1u8; 64]).unwrap();
        let err = read_key(&path).unwrap_err().to_string();
        assert!(err.contains("longer"), "{err}");
    }
}
