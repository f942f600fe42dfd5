//! Password policy and Argon2id hashing (PHC strings).
//!
//! Policy: at least 12 characters (the upstream minimum) for every password, including one supplied
//! through `PULSE_AUTH_PASS`: that admin is as exposed to the network as any other, so it gets no
//! exception. At most 1024 bytes, so a login cannot be made expensive with a huge body.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::RngCore;

use crate::error::{Error, Result};

/// Minimum password length in characters.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Maximum password length in bytes.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// Argon2 cost: the crate's defaults (OWASP: 19 MiB, 2 passes, 1 lane); unit tests use a cheap cost
/// so they stay fast (verification reads the cost from the stored hash either way).
#[cfg(not(test))]
const COST: (u32, u32, u32) = (
    Params::DEFAULT_M_COST,
    Params::DEFAULT_T_COST,
    Params::DEFAULT_P_COST,
);
/// Cheap Argon2 cost for unit tests only.
#[cfg(test)]
const COST: (u32, u32, u32) = (64, 1, 1);

/// Checks a candidate password against the policy; the error never contains the password.
pub fn check_password_policy(password: &str) -> Result<()> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(Error::validation(
            "password",
            format!("must be at least {MIN_PASSWORD_CHARS} characters"),
        ));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(Error::validation(
            "password",
            format!("must be at most {MAX_PASSWORD_BYTES} bytes"),
        ));
    }
    Ok(())
}

/// Hashes a password that meets the policy into an Argon2id PHC string with a fresh random salt.
pub fn hash_password(password: &str) -> Result<String> {
    check_password_policy(password)?;
    hash_with_cost(password, COST)
}

/// Hashes with an explicit Argon2id cost `(memory KiB, passes, lanes)`.
fn hash_with_cost(password: &str, (m, t, p): (u32, u32, u32)) -> Result<String> {
    let params = Params::new(m, t, p, None)
        .map_err(|e| Error::Internal(format!("argon2 parameters: {e}")))?;
    let mut salt = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut salt);
    let salt =
        SaltString::encode_b64(&salt).map_err(|e| Error::Internal(format!("argon2 salt: {e}")))?;
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::Internal(format!("argon2 hashing: {e}")))
}

/// Whether `password` matches the PHC string `phc` (cost read from the string). Over-long candidates
/// are refused without hashing; a malformed stored hash is an internal error.
pub fn verify_password(password: &str, phc: &str) -> Result<bool> {
    let hash = PasswordHash::new(phc)
        .map_err(|e| Error::Internal(format!("stored password hash is malformed: {e}")))?;
    if password.len() > MAX_PASSWORD_BYTES {
        return Ok(false);
    }
    match Argon2::default().verify_password(password.as_bytes(), &hash) {
        Ok(()) => Ok(true),
        Err(argon2::password_hash::Error::Password) => Ok(false),
        Err(e) => Err(Error::Internal(format!("argon2 verification: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_and_verify() {
        let phc = hash_password("correct horse battery").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$"), "{phc}");
        assert!(verify_password("correct horse battery", &phc).unwrap());
        assert!(!verify_password("correct horse batterY", &phc).unwrap());
        assert_ne!(
            phc,
            hash_password("correct horse battery").unwrap(),
            "salted"
        );
        assert!(!verify_password(&"x".repeat(MAX_PASSWORD_BYTES + 1), &phc).unwrap());
        assert_eq!(
            verify_password("x", "not a phc").unwrap_err().code(),
            "internal_error"
        );
    }

    #[test]
    fn production_cost_is_argon2id_defaults() {
        let phc = hash_with_cost(
            "correct horse battery",
            (
                Params::DEFAULT_M_COST,
                Params::DEFAULT_T_COST,
                Params::DEFAULT_P_COST,
            ),
        )
        .unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify_password("correct horse battery", &phc).unwrap());
    }

    #[test]
    fn policy() {
        let err = check_password_policy("short-pass1").unwrap_err();
        assert_eq!(err.code(), "validation_error");
        assert!(!err.to_string().contains("short-pass1"));
        check_password_policy("twelve chars").unwrap();
        check_password_policy("ääääääääääää").unwrap();
        assert!(check_password_policy(&"x".repeat(MAX_PASSWORD_BYTES + 1)).is_err());
        assert!(hash_password("too short").is_err());
    }
}
