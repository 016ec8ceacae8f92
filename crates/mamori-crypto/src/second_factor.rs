//! Staff second factors that need no browser API: TOTP (RFC 6238, through `totp-rs`: SHA-1, six
//! digits, 30-second steps, one step of clock skew either way — what every authenticator app
//! reads from an `otpauth://` URI) and single-use recovery codes.
//!
//! A code is accepted once: [`TotpSecret::check`] answers the step it matched, and the caller
//! keeps the last step used so the same code (or an older one) is refused afterwards (RFC 6238
//! §5.2).

use totp_rs::{Algorithm, Builder, Secret, Totp};
use zeroize::Zeroizing;

use crate::CryptoError;

/// RFC 4226 §4 recommends 160 bits.
pub const TOTP_SECRET_LEN: usize = 20;
pub const TOTP_STEP_SECONDS: u64 = 30;
/// How many recovery codes a person receives.
pub const RECOVERY_CODES: usize = 10;

/// A TOTP shared secret (kept sealed at rest by the caller).
pub struct TotpSecret(Zeroizing<Vec<u8>>);

impl TotpSecret {
    pub fn generate() -> Result<TotpSecret, CryptoError> {
        let mut bytes = Zeroizing::new(vec![0u8; TOTP_SECRET_LEN]);
        getrandom::fill(&mut bytes).map_err(|_| CryptoError::Random)?;
        Ok(TotpSecret(bytes))
    }

    /// A secret of the right length, as it was sealed.
    pub fn from_bytes(bytes: &[u8]) -> Option<TotpSecret> {
        (bytes.len() == TOTP_SECRET_LEN).then(|| TotpSecret(Zeroizing::new(bytes.to_vec())))
    }

    /// A secret as an app shows it (base32); None unless it is one of ours in length.
    pub fn from_base32(text: &str) -> Option<TotpSecret> {
        let bytes = Secret::try_from_base32(text.trim()).ok()?;
        TotpSecret::from_bytes(bytes.as_bytes())
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    fn totp(&self, issuer: &str, account: &str) -> Option<Totp> {
        // The otpauth URI separates issuer and account with a colon: neither may hold one.
        let clean = |s: &str| s.replace(':', " ");
        Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_digits(6)
            .with_skew(1)
            .with_step_duration(TOTP_STEP_SECONDS)
            .with_secret(Secret::new(self.0.to_vec().into_boxed_slice()))
            .with_issuer(Some(clean(issuer)))
            .with_account_name(clean(account))
            .build()
            .ok()
    }

    /// The secret in base32, for people who type it into their app instead of scanning.
    pub fn base32(&self) -> String {
        Secret::new(self.0.to_vec().into_boxed_slice()).to_base32()
    }

    /// The `otpauth://totp/…` URI an authenticator app scans (drawn as a QR code by the page).
    pub fn otpauth_uri(&self, issuer: &str, account: &str) -> Option<String> {
        self.totp(issuer, account)?.to_url().ok()
    }

    /// The code for `unix_seconds` (tests and the demo compute codes as an app would).
    pub fn code_at(&self, unix_seconds: u64) -> String {
        self.totp("x", "x")
            .map(|t| t.generate(unix_seconds).to_string())
            .unwrap_or_default()
    }

    /// The step `code` matches at `unix_seconds` (±1 step), if it is later than `last_step`:
    /// a code already used, or one older than it, is refused.
    pub fn check(&self, code: &str, unix_seconds: u64, last_step: u64) -> Option<u64> {
        let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let step = self.totp("x", "x")?.check(&code, unix_seconds)?;
        (step > last_step).then_some(step)
    }
}

/// Fresh recovery codes: ten of 10 characters from an alphabet without look-alikes (about 50
/// bits each), written `xxxxx-xxxxx`. Only their keyed digests are kept.
pub fn recovery_codes() -> Result<Vec<String>, CryptoError> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    (0..RECOVERY_CODES)
        .map(|_| {
            let mut bytes = [0u8; 10];
            getrandom::fill(&mut bytes).map_err(|_| CryptoError::Random)?;
            let chars: String = (bytes.iter())
                .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
                .collect();
            Ok(format!("{}-{}", &chars[..5], &chars[5..]))
        })
        .collect()
}

/// A recovery code as typed, in the form its digest was made from (case, spaces and the dash
/// do not matter).
pub fn normalise_recovery_code(typed: &str) -> String {
    typed
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B, SHA-1 rows: the secret is ASCII "12345678901234567890"; the RFC
    /// lists eight digits, six-digit codes are their last six.
    #[test]
    fn totp_matches_the_rfc_6238_test_vectors() {
        let secret = TotpSecret::from_bytes(b"12345678901234567890").unwrap();
        for (time, eight) in [
            (59u64, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(secret.code_at(time), eight[2..], "at {time}");
        }
    }

    #[test]
    fn a_code_is_taken_once_within_one_step_of_skew() {
        let secret = TotpSecret::generate().unwrap();
        let now = 1_800_000_000;
        let code = secret.code_at(now);
        let step = secret.check(&code, now, 0).expect("fresh code");
        assert_eq!(step, now / TOTP_STEP_SECONDS);
        assert_eq!(secret.check(&code, now, step), None, "replayed");
        assert!(secret.check(&code, now + 30, 0).is_some(), "one step late");
        assert_eq!(secret.check(&code, now + 90, 0), None, "three steps late");
        assert_eq!(secret.check("12345", now, 0), None);
        assert_eq!(secret.check("abcdef", now, 0), None);
        let spaced = format!("{} {}", &code[..3], &code[3..]);
        assert!(secret.check(&spaced, now, 0).is_some());
    }

    #[test]
    fn the_uri_names_issuer_and_account_and_recovery_codes_are_distinct() {
        let secret = TotpSecret::generate().unwrap();
        let uri = secret
            .otpauth_uri("Kitsune: Goods", "po@example.com")
            .unwrap();
        assert!(uri.starts_with("otpauth://totp/"), "{uri}");
        assert!(uri.contains(&secret.base32()), "{uri}");
        let again = TotpSecret::from_base32(&secret.base32()).unwrap();
        assert_eq!(again.as_bytes(), secret.as_bytes());
        assert!(TotpSecret::from_base32("AAAA").is_none());
        let codes = recovery_codes().unwrap();
        assert_eq!(codes.len(), RECOVERY_CODES);
        assert!(
            codes
                .iter()
                .all(|c| c.len() == 11 && c.as_bytes()[5] == b'-')
        );
        let distinct: std::collections::BTreeSet<_> = codes.iter().collect();
        assert_eq!(distinct.len(), RECOVERY_CODES);
        assert_eq!(normalise_recovery_code(" ABCDE-fghjk "), "abcdefghjk");
    }
}
