//! Staff passwords: NIST SP 800-63B rules (at least 12 characters counted as Unicode code points,
//! at most 256, no composition rules, no hints) and Argon2id (RFC 9106) with a random salt, stored
//! as a PHC string so its parameters travel with it.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

use crate::CryptoError;

pub const PASSWORD_MIN_CHARS: usize = 12;
pub const PASSWORD_MAX_CHARS: usize = 256;

/// Why a chosen password is refused, if it is (never the password itself).
pub fn password_problem(password: &str) -> Option<&'static str> {
    let chars = password.chars().count();
    if chars < PASSWORD_MIN_CHARS {
        return Some("a password needs at least 12 characters (any characters, spaces included)");
    }
    if chars > PASSWORD_MAX_CHARS {
        return Some("a password has at most 256 characters");
    }
    let first = password.chars().next();
    if password.chars().all(|c| Some(c) == first) {
        return Some("a password of one repeated character is too easy to guess");
    }
    None
}

/// The password's Argon2id hash as a PHC string (`$argon2id$v=19$…`).
pub fn hash_password(password: &str) -> Result<String, CryptoError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|_| CryptoError::Random)
}

/// Whether `password` is the one `phc` was made from (a malformed `phc` never matches).
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_follow_nist_length_rules_and_verify_by_argon2id() {
        assert!(password_problem("short one").is_some());
        assert!(password_problem("aaaaaaaaaaaaaaa").is_some());
        assert!(password_problem(&"x".repeat(257)).is_some());
        // Twelve code points, whatever their bytes; no composition rules.
        assert_eq!(password_problem("パスワードはとても長いです"), None);
        assert_eq!(password_problem("correct horse battery"), None);
        let phc = hash_password("correct horse battery").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$"), "{phc}");
        assert!(verify_password("correct horse battery", &phc));
        assert!(!verify_password("correct horse batterY", &phc));
        assert!(!verify_password(
            "correct horse battery",
            "not a phc string"
        ));
        assert_ne!(
            hash_password("correct horse battery").unwrap(),
            phc,
            "salted"
        );
    }
}
