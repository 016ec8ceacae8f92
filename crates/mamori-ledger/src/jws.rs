//! JWS compact serialisation with EdDSA (RFC 7515, RFC 8037) for documents Mamori hands out,
//! such as consent receipts: anyone with the ledger's public key can check them offline with
//! any JOSE library.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signature, Verifier, VerifyingKey};

use crate::HeadSigner;

/// `BASE64URL(header) . BASE64URL(payload) . BASE64URL(signature)`; `header` must say
/// `"alg": "EdDSA"`.
pub fn sign_compact(signer: &HeadSigner, header: &serde_json::Value, payload: &[u8]) -> String {
    let header = serde_json::to_vec(header).expect("a JSON value always serialises");
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let signature = signer.sign_bytes(signing_input.as_bytes());
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

/// The payload of a compact JWS if its EdDSA signature verifies under `public`.
pub fn verify_compact(public: &VerifyingKey, jws: &str) -> Option<Vec<u8>> {
    let mut parts = jws.split('.');
    let (header, payload, signature) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let header: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).ok()?).ok()?;
    if header.get("alg")?.as_str()? != "EdDSA" {
        return None;
    }
    let signature: [u8; 64] = URL_SAFE_NO_PAD.decode(signature).ok()?.try_into().ok()?;
    let signing_input = &jws[..jws.len() - jws.rsplit('.').next()?.len() - 1];
    public
        .verify(signing_input.as_bytes(), &Signature::from_bytes(&signature))
        .ok()?;
    URL_SAFE_NO_PAD.decode(payload).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 8037, appendix A.1 (key) and A.4 (the JWS it must produce).
    #[test]
    fn rfc8037_ed25519_vector() {
        let seed: [u8; 32] = URL_SAFE_NO_PAD
            .decode("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A")
            .unwrap()
            .try_into()
            .unwrap();
        let signer = HeadSigner::from_seed(&seed);
        assert_eq!(
            URL_SAFE_NO_PAD.encode(signer.public_key().as_bytes()),
            "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
        );
        let jws = sign_compact(
            &signer,
            &serde_json::json!({"alg": "EdDSA"}),
            b"Example of Ed25519 signing",
        );
        assert_eq!(
            jws,
            "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
        );
        assert_eq!(
            verify_compact(&signer.public_key(), &jws).as_deref(),
            Some(&b"Example of Ed25519 signing"[..])
        );
    }

    #[test]
    fn any_change_is_refused() {
        let signer = HeadSigner::from_seed(&[3; 32]);
        let jws = sign_compact(
            &signer,
            &serde_json::json!({"alg": "EdDSA"}),
            b"{\"granted\":true}",
        );
        let other = HeadSigner::from_seed(&[4; 32]);
        assert!(verify_compact(&other.public_key(), &jws).is_none());
        let forged = jws.replace(
            &URL_SAFE_NO_PAD.encode(b"{\"granted\":true}"),
            &URL_SAFE_NO_PAD.encode(b"{\"granted\":false}"),
        );
        assert!(verify_compact(&signer.public_key(), &forged).is_none());
        assert!(verify_compact(&signer.public_key(), "a.b").is_none());
        let none_alg = jws.replacen(
            &jws[..jws.find('.').unwrap()],
            &URL_SAFE_NO_PAD.encode(b"{\"alg\":\"none\"}"),
            1,
        );
        assert!(verify_compact(&signer.public_key(), &none_alg).is_none());
    }
}
