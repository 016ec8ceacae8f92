//! Staff passwords: NIST SP 800-63B rules (at least 12 characters counted as Unicode code points,
//! at most 256, no composition rules, no hints, and not a password known to be common — zxcvbn's
//! estimate, whose lists ship inside the `zxcvbn` crate, MIT) and Argon2id (RFC 9106) with a random salt, stored
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
    // NIST SP 800-63B asks for a check against passwords known to be common or breached:
    // zxcvbn's estimate of the guesses needed, from its frequency lists (leaked passwords,
    // common words and names) and patterns (sequences, repeats, keyboard walks, dates).
    if zxcvbn::zxcvbn(password, &[]).score() < MIN_SCORE {
        return Some(
            "this password is too easy to guess: a common password or a simple pattern \
             (a few unrelated words make a strong one)",
        );
    }
    None
}

/// The lowest zxcvbn score a password may have: `Three` takes more than 10^8 guesses to find —
/// out of reach of an online attacker and slow offline against Argon2id.
const MIN_SCORE: zxcvbn::Score = zxcvbn::Score::Three;

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

    /// Long enough is not enough: common and breached passwords and simple patterns of twelve
    /// characters or more are refused; a few unrelated words pass, without composition rules.
    #[test]
    fn common_passwords_and_patterns_are_refused() {
        for guessable in [
            "password1234",
            "123456789012",
            "qwertyuiopasdf",
            "Password123!",
            "iloveyou2024",
            "abcdefghijklmn",
            "aaaaaaaaaaaaaaa",
        ] {
            assert!(password_problem(guessable).is_some(), "{guessable}");
        }
        for strong in [
            "a long and quiet harbour",
            "a bench officer's long password",
            "the password of ada@example.com",
            "静かな港の長い夜明けと朝の鐘",
        ] {
            assert_eq!(password_problem(strong), None, "{strong}");
        }
    }

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
