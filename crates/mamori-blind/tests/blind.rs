//! The issuer and client halves against each other, and the RFC 9474 test vector for the
//! variant Mamori uses (Appendix A, RSABSSA-SHA384-PSS-Randomized).

use mamori_blind::{BlindError, Issuer, IssuerPublic, Token, client};

fn issue(issuer: &Issuer) -> Token {
    let (pending, blinded) = client::request(issuer.public()).unwrap();
    let blind_signature = issuer.blind_sign(&blinded).unwrap();
    pending.finalize(&blind_signature).unwrap()
}

#[test]
fn a_token_signed_blind_verifies_and_survives_its_wire_form() {
    let issuer = Issuer::generate().unwrap();
    let token = issue(&issuer);
    let wire = Token::from_bytes(&token.to_bytes()).unwrap();
    assert_eq!(wire, token);
    issuer.public().verify(&wire).unwrap();
    // The key survives storage.
    let again = Issuer::from_secret_der(&issuer.secret_der().unwrap()).unwrap();
    let public = IssuerPublic::from_der(&issuer.public().to_der().unwrap()).unwrap();
    public.verify(&issue(&again)).unwrap();
}

#[test]
fn forged_altered_and_foreign_tokens_are_refused() {
    let issuer = Issuer::generate().unwrap();
    let other = Issuer::generate().unwrap();
    let token = issue(&issuer);
    // Another survey's key.
    assert_eq!(other.public().verify(&token), Err(BlindError::InvalidToken));
    // One bit changed anywhere.
    for at in [0, 40, 100, mamori_blind::TOKEN_LEN - 1] {
        let mut bytes = token.to_bytes();
        bytes[at] ^= 1;
        let altered = Token::from_bytes(&bytes).unwrap();
        assert_eq!(
            issuer.public().verify(&altered),
            Err(BlindError::InvalidToken)
        );
    }
    // Wrong length, random bytes.
    assert!(Token::from_bytes(&[0; 10]).is_err());
    let random = Token::from_bytes(&[7; mamori_blind::TOKEN_LEN]).unwrap();
    assert!(issuer.public().verify(&random).is_err());
    // Blinded messages of the wrong size or not below the modulus.
    assert!(issuer.blind_sign(&[1; 10]).is_err());
    assert!(issuer.blind_sign(&[0xff; 256]).is_err());
}

#[test]
fn the_server_never_sees_what_it_later_verifies() {
    let issuer = Issuer::generate().unwrap();
    let (pending, blinded) = client::request(issuer.public()).unwrap();
    let blind_signature = issuer.blind_sign(&blinded).unwrap();
    let token = pending.finalize(&blind_signature).unwrap();
    // What the server saw at issuance shares no run of 8 bytes with the token or its digest.
    let seen = [blinded, blind_signature].concat();
    let later = [token.to_bytes(), token.spent_digest().to_vec()].concat();
    for window in later.windows(8) {
        assert!(!seen.windows(8).any(|w| w == window));
    }
}

#[test]
fn rfc_9474_vector_verifies() {
    let vectors: serde_json::Value =
        serde_json::from_str(include_str!("test_vectors_rfc9474.json")).unwrap();
    let v = &vectors[0];
    assert_eq!(v["name"], "RSABSSA-SHA384-PSS-Randomized");
    let hex = |k: &str| hex::decode(v[k].as_str().unwrap().trim_start_matches("0x")).unwrap();
    let public = public_key(&hex("n"), &hex("e"));
    let prefix = hex("msg_prefix");
    let message = hex("msg");
    // The vector's message is not 32 bytes, so check through the library directly.
    let token = Token {
        randomizer: prefix.as_slice().try_into().unwrap(),
        message: [0; 32],
        signature: hex("sig"),
    };
    assert!(
        public.verify(&token).is_err(),
        "another message must not verify"
    );
    assert!(
        public
            .verify_raw(&token.randomizer, &message, &token.signature)
            .is_ok()
    );
}

/// A SubjectPublicKeyInfo for (n, e), built by hand so the test does not trust the library's
/// own encoder.
fn public_key(n: &[u8], e: &[u8]) -> IssuerPublic {
    fn der_len(len: usize) -> Vec<u8> {
        match len {
            0..=127 => vec![len as u8],
            128..=255 => vec![0x81, len as u8],
            _ => vec![0x82, (len >> 8) as u8, len as u8],
        }
    }
    fn tlv(tag: u8, body: &[u8]) -> Vec<u8> {
        [vec![tag], der_len(body.len()), body.to_vec()].concat()
    }
    let integer = |v: &[u8]| {
        let v = if v[0] & 0x80 != 0 {
            [&[0][..], v].concat()
        } else {
            v.to_vec()
        };
        tlv(0x02, &v)
    };
    let rsa_key = tlv(0x30, &[integer(n), integer(e)].concat());
    let algorithm = hex::decode("300d06092a864886f70d0101010500").unwrap();
    let bits = tlv(0x03, &[&[0][..], &rsa_key].concat());
    let spki = tlv(0x30, &[algorithm, bits].concat());
    IssuerPublic::from_der(&spki).unwrap()
}
