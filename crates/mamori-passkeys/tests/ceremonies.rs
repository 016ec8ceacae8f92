//! The ceremonies against webauthn-rs's own software authenticator (`SoftPasskey`), which
//! plays the browser and the authenticator. It keeps no resident keys and sends no user handle,
//! so the test does what a browser with a discoverable passkey would: it names the credential
//! and fills in the user handle (not signed, which is why the server checks the claim).

use mamori_passkeys::{Ceremony, PasskeyError, RelyingParty};
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_rs_proto::{CreationChallengeResponse, PublicKeyCredential, RequestChallengeResponse};

const ORIGIN: &str = "https://console.example.com";
const USER: [u8; 16] = *b"0123456789abcdef";

fn origin() -> url::Url {
    url::Url::parse(ORIGIN).unwrap()
}

fn register(rp: &RelyingParty, key: &mut SoftPasskey) -> Vec<u8> {
    let Ceremony { options, state } = rp.start_registration(USER, "a@example.com", &[]).unwrap();
    assert_eq!(
        options["publicKey"]["authenticatorSelection"]["residentKey"],
        "required"
    );
    assert_eq!(options["publicKey"]["user"]["id"], "MDEyMzQ1Njc4OWFiY2RlZg");
    let mut options: CreationChallengeResponse = serde_json::from_value(options).unwrap();
    // SoftPasskey cannot keep a resident key; the test remembers the credential instead.
    let selection = options.public_key.authenticator_selection.as_mut().unwrap();
    selection.require_resident_key = false;
    selection.resident_key = None;
    let answer = key.do_registration(origin(), options).unwrap();
    let registered = rp
        .finish_registration(&serde_json::to_vec(&answer).unwrap(), &state)
        .unwrap();
    registered.stored
}

/// A discoverable sign-in answer: SoftPasskey is told which credential to use and the user
/// handle is filled in, as a browser holding the resident key would send it.
fn sign_in_answer(key: &mut SoftPasskey, options: serde_json::Value, stored: &[u8]) -> Vec<u8> {
    let mut options = options;
    let id = mamori_passkeys::credential_id(stored).unwrap();
    options["publicKey"]["allowCredentials"] = serde_json::json!([
        {"type": "public-key", "id": base64url(&id)}
    ]);
    let options: RequestChallengeResponse = serde_json::from_value(options).unwrap();
    let mut answer: PublicKeyCredential = key.do_authentication(origin(), options).unwrap();
    answer.response.user_handle = Some(USER.to_vec());
    serde_json::to_vec(&answer).unwrap()
}

fn base64url(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[test]
fn a_passkey_registers_and_signs_in_alone() {
    let rp = RelyingParty::new(ORIGIN, "Example").unwrap();
    let mut key = SoftPasskey::new(true);
    let stored = register(&rp, &mut key);
    let ceremony = rp.start_sign_in().unwrap();
    assert_eq!(
        ceremony.options["publicKey"]["userVerification"],
        "required"
    );
    let answer = sign_in_answer(&mut key, ceremony.options, &stored);
    let (user, credential) = rp.claimed_by(&answer).unwrap();
    assert_eq!(user, USER);
    assert_eq!(credential, mamori_passkeys::credential_id(&stored).unwrap());
    let used = rp
        .finish_sign_in(&answer, &ceremony.state, &stored)
        .unwrap();
    assert!(used.counter >= 1);
    // The answer belongs to its own challenge: another ceremony's state refuses it.
    let other = rp.start_sign_in().unwrap();
    let refused = rp.finish_sign_in(&answer, &other.state, &used.stored);
    assert_eq!(refused.unwrap_err(), PasskeyError::Refused);
}

#[test]
fn a_counter_that_goes_backwards_is_a_clone() {
    let rp = RelyingParty::new(ORIGIN, "Example").unwrap();
    let mut key = SoftPasskey::new(true);
    let stored = register(&rp, &mut key);
    let (first, second) = (rp.start_sign_in().unwrap(), rp.start_sign_in().unwrap());
    let older = sign_in_answer(&mut key, first.options, &stored);
    let newer = sign_in_answer(&mut key, second.options, &stored);
    let after_newer = rp.finish_sign_in(&newer, &second.state, &stored).unwrap();
    // The older answer now carries a counter at or below the one kept: a copy of the key.
    let clone = rp.finish_sign_in(&older, &first.state, &after_newer.stored);
    assert_eq!(clone.unwrap_err(), PasskeyError::Cloned);
}

#[test]
fn reauthentication_lists_the_persons_own_passkeys() {
    let rp = RelyingParty::new(ORIGIN, "Example").unwrap();
    let mut key = SoftPasskey::new(true);
    let stored = vec![register(&rp, &mut key)];
    let ceremony = rp.start_reauthentication(&stored).unwrap();
    let options: RequestChallengeResponse = serde_json::from_value(ceremony.options).unwrap();
    assert_eq!(options.public_key.allow_credentials.len(), 1);
    let answer = key.do_authentication(origin(), options).unwrap();
    let answer = serde_json::to_vec(&answer).unwrap();
    let used = rp
        .finish_reauthentication(&answer, &ceremony.state, &stored)
        .unwrap();
    assert_eq!(
        used.credential_id,
        mamori_passkeys::credential_id(&stored[0]).unwrap()
    );
    // Someone else's passkeys do not answer for this one.
    let mut other_key = SoftPasskey::new(true);
    let others = vec![register(&rp, &mut other_key)];
    let ceremony = rp.start_reauthentication(&stored).unwrap();
    let options = serde_json::from_value(ceremony.options).unwrap();
    let answer = serde_json::to_vec(&key.do_authentication(origin(), options).unwrap()).unwrap();
    let wrong = rp.finish_reauthentication(&answer, &ceremony.state, &others);
    assert_eq!(wrong.unwrap_err(), PasskeyError::Refused);
}

#[test]
fn bad_configuration_and_answers_are_named() {
    assert!(matches!(
        RelyingParty::new("http://192.0.2.7:8080", "Example"),
        Err(PasskeyError::Config)
    ));
    assert!(matches!(
        RelyingParty::new("not a URL", "Example"),
        Err(PasskeyError::Config)
    ));
    // The demo's loopback address becomes localhost, which browsers treat as secure.
    let demo = RelyingParty::new("http://127.0.0.1:8080/", "Example").unwrap();
    assert_eq!(demo.origin(), "http://localhost:8080");
    let site = RelyingParty::new("https://console.example.com/base", "Example").unwrap();
    assert_eq!(site.origin(), "https://console.example.com");
    let rp = RelyingParty::new(ORIGIN, "Example").unwrap();
    let ceremony = rp.start_sign_in().unwrap();
    for answer in [&b""[..], b"{}", b"[1,2]", b"{\"id\":\"x\"}"] {
        assert_eq!(rp.claimed_by(answer).unwrap_err(), PasskeyError::Malformed);
        let stored = b"{}";
        let bad = rp.finish_sign_in(answer, &ceremony.state, stored);
        assert_eq!(bad.unwrap_err(), PasskeyError::Malformed);
    }
    assert_eq!(
        rp.finish_sign_in(b"{}", b"not state", b"{}").unwrap_err(),
        PasskeyError::Malformed
    );
}
