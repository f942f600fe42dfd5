//! Authenticated encryption of secrets at rest: XChaCha20-Poly1305 under the data dir's key.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;

use crate::error::{Error, Result};

/// Length of the random nonce prepended to every sealed value.
const NONCE_LEN: usize = 24;

/// Encrypts and decrypts secret bytes; `context` (associated data) binds a ciphertext to where it is
/// stored, so a sealed value copied to another key does not decrypt.
pub trait SecretBox: Send + Sync {
    /// Seals `plain` as `nonce(24) ‖ ciphertext+tag` with a fresh random nonce.
    fn encrypt(&self, context: &[u8], plain: &[u8]) -> Result<Vec<u8>>;
    /// Opens a value sealed by [`SecretBox::encrypt`] under the same context; fails on a wrong key,
    /// context or any tampering.
    fn decrypt(&self, context: &[u8], sealed: &[u8]) -> Result<Vec<u8>>;
}

/// The XChaCha20-Poly1305 implementation of [`SecretBox`] (24-byte random nonces are safe to draw at
/// random for any realistic number of values).
#[derive(Clone)]
pub struct XChaChaBox {
    cipher: XChaCha20Poly1305,
}

impl XChaChaBox {
    /// A box using the given 32-byte key.
    pub fn new(key: &[u8; 32]) -> Self {
        Self {
            cipher: XChaCha20Poly1305::new(key.into()),
        }
    }
}

impl std::fmt::Debug for XChaChaBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("XChaChaBox(***)")
    }
}

impl SecretBox for XChaChaBox {
    fn encrypt(&self, context: &[u8], plain: &[u8]) -> Result<Vec<u8>> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let ciphertext = self
            .cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plain,
                    aad: context,
                },
            )
            .map_err(|_| Error::Internal("encryption failed".to_owned()))?;
        let mut out = Vec::with_capacity(NONCE_LEN + ciphertext.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        Ok(out)
    }

    fn decrypt(&self, context: &[u8], sealed: &[u8]) -> Result<Vec<u8>> {
        if sealed.len() < NONCE_LEN {
            return Err(Error::Store(
                "cannot decrypt secret: value is too short to be a sealed secret".to_owned(),
            ));
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        self.cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: context,
                },
            )
            .map_err(|_| {
                Error::Store(
                    "cannot decrypt secret: wrong encryption key, or the value was altered"
                        .to_owned(),
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_with_fresh_nonces() {
        let sb = XChaChaBox::new(&[7; 32]);
        let a = sb.encrypt(b"ctx", b"hunter2").unwrap();
        let b = sb.encrypt(b"ctx", b"hunter2").unwrap();
        assert_ne!(a, b, "nonce must be fresh per value");
        assert_eq!(a.len(), NONCE_LEN + 7 + 16);
        assert_eq!(sb.decrypt(b"ctx", &a).unwrap(), b"hunter2");
    }

    #[test]
    fn wrong_key_context_or_tampering_fail_clearly() {
        let sb = XChaChaBox::new(&[7; 32]);
        let sealed = sb.encrypt(b"ctx", b"secret").unwrap();
        let other = XChaChaBox::new(&[8; 32]);
        for err in [
            other.decrypt(b"ctx", &sealed).unwrap_err(),
            sb.decrypt(b"other", &sealed).unwrap_err(),
            sb.decrypt(b"ctx", &sealed[..10]).unwrap_err(),
        ] {
            assert!(err.to_string().contains("cannot decrypt secret"), "{err}");
        }
        let mut flipped = sealed.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert!(sb.decrypt(b"ctx", &flipped).is_err());
        assert!(!format!("{sb:?}").contains('7'));
    }
}
