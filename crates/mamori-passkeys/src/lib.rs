//! Staff passkeys: the WebAuthn ceremonies Mamori runs, on bytes and JSON only, so the rest of
//! the code base never sees a webauthn-rs type. `webauthn-rs` (kanidm's) does the verifying;
//! this crate chooses the options:
//!
//! - registration asks for a **discoverable, user-verifying** credential, so the passkey alone
//!   signs a person in (the browser offers it; no address is typed, so nothing is enumerable);
//! - sign-in is the discoverable ceremony: the answer names the person (the user handle is their
//!   staff id) and the credential, which the caller looks up and hands back;
//! - re-authentication in a session lists the person's own passkeys;
//! - a signature counter that does not move forwards is [`PasskeyError::Cloned`].
//!
//! A ceremony's state is returned as bytes for the caller to keep server-side, sealed and
//! single-use, between the ceremony's two requests.

use webauthn_rs::prelude::{
    DiscoverableAuthentication, DiscoverableKey, Passkey, PasskeyAuthentication,
    PasskeyRegistration, PublicKeyCredential, RegisterPublicKeyCredential, Url, Uuid, Webauthn,
    WebauthnBuilder, WebauthnError,
};
use webauthn_rs_proto::ResidentKeyRequirement;

/// Why a ceremony did not complete. Says nothing of the answer's content.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PasskeyError {
    /// `public_url` cannot be a WebAuthn relying party (an IP address, say: use a host name).
    #[error("the public URL cannot identify a WebAuthn relying party")]
    Config,
    /// The browser's answer is not a WebAuthn answer, or the kept state is not ours.
    #[error("the answer is not a passkey answer")]
    Malformed,
    /// The answer did not verify: another challenge or origin, a bad signature, no user
    /// verification, an unknown credential.
    #[error("the passkey did not verify")]
    Refused,
    /// The signature counter did not move forwards: two copies of the key may exist.
    #[error("the passkey's signature counter went backwards")]
    Cloned,
}

type Result<T> = std::result::Result<T, PasskeyError>;

/// The options to hand `navigator.credentials` (JSON) and the state to keep until the answer.
#[derive(Debug)]
pub struct Ceremony {
    pub options: serde_json::Value,
    pub state: Vec<u8>,
}

/// A registered passkey: its credential id and what to keep (public key, counter; JSON bytes).
#[derive(Debug)]
pub struct Registered {
    pub credential_id: Vec<u8>,
    pub stored: Vec<u8>,
}

/// A passkey that proved itself: which one, its counter, and what to keep from now on.
#[derive(Debug)]
pub struct Used {
    pub credential_id: Vec<u8>,
    pub counter: u32,
    pub stored: Vec<u8>,
}

/// Mamori as a WebAuthn relying party: its id is `public_url`'s host.
pub struct RelyingParty {
    webauthn: Webauthn,
    origin: String,
}

fn json<T: serde::Serialize>(value: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(value).map_err(|_| PasskeyError::Malformed)
}

fn parse<'a, T: serde::Deserialize<'a>>(bytes: &'a [u8]) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|_| PasskeyError::Malformed)
}

fn refused(e: WebauthnError) -> PasskeyError {
    match e {
        WebauthnError::CredentialPossibleCompromise => PasskeyError::Cloned,
        _ => PasskeyError::Refused,
    }
}

/// The credential id a stored passkey is known by.
pub fn credential_id(stored: &[u8]) -> Result<Vec<u8>> {
    Ok(parse::<Passkey>(stored)?.cred_id().to_vec())
}

fn used(stored: &[u8], result: &webauthn_rs::prelude::AuthenticationResult) -> Result<Used> {
    let mut passkey: Passkey = parse(stored)?;
    passkey.update_credential(result);
    Ok(Used {
        credential_id: result.cred_id().to_vec(),
        counter: result.counter(),
        stored: json(&passkey)?,
    })
}

impl RelyingParty {
    /// `public_url` is where staff reach the console (its host is the relying party id);
    /// `name` is what authenticators show.
    ///
    /// A relying party is named by a host name, never an address: a loopback address (the
    /// demo's `http://127.0.0.1:8080`) becomes `localhost` on the same port, which browsers
    /// also treat as secure; any other address cannot have passkeys.
    pub fn new(public_url: &str, name: &str) -> Result<Self> {
        let mut origin = Url::parse(public_url).map_err(|_| PasskeyError::Config)?;
        let loopback = match origin.host() {
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            _ => false,
        };
        if loopback {
            origin
                .set_host(Some("localhost"))
                .map_err(|_| PasskeyError::Config)?;
        }
        origin.set_path("");
        let id = origin.domain().ok_or(PasskeyError::Config)?.to_string();
        let webauthn = WebauthnBuilder::new(&id, &origin)
            .and_then(|b| b.rp_name(name).build())
            .map_err(|_| PasskeyError::Config)?;
        Ok(RelyingParty {
            webauthn,
            origin: origin.origin().ascii_serialization(),
        })
    }

    /// The origin pages must be served from for passkeys to work (`http://localhost:8080`).
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Starts registering a passkey for the member of staff `user` (their id is the user
    /// handle), excluding the passkeys they already have.
    pub fn start_registration(
        &self,
        user: [u8; 16],
        name: &str,
        existing: &[Vec<u8>],
    ) -> Result<Ceremony> {
        let exclude = (existing.iter())
            .map(|s| credential_id(s))
            .collect::<Result<Vec<_>>>()?;
        let exclude = (!exclude.is_empty()).then_some(exclude);
        let (mut options, state) = (self.webauthn)
            .start_passkey_registration(Uuid::from_bytes(user), name, name, exclude)
            .map_err(|_| PasskeyError::Config)?;
        // A discoverable credential, so the passkey alone can sign in. The server checks user
        // verification at every use; residency is the authenticator's to keep.
        if let Some(selection) = options.public_key.authenticator_selection.as_mut() {
            selection.require_resident_key = true;
            selection.resident_key = Some(ResidentKeyRequirement::Required);
        }
        Ok(Ceremony {
            options: serde_json::to_value(&options).map_err(|_| PasskeyError::Malformed)?,
            state: json(&state)?,
        })
    }

    /// Checks the browser's answer to a registration against its kept state.
    pub fn finish_registration(&self, answer: &[u8], state: &[u8]) -> Result<Registered> {
        let answer: RegisterPublicKeyCredential = parse(answer)?;
        let state: PasskeyRegistration = parse(state)?;
        let passkey = (self.webauthn)
            .finish_passkey_registration(&answer, &state)
            .map_err(refused)?;
        Ok(Registered {
            credential_id: passkey.cred_id().to_vec(),
            stored: json(&passkey)?,
        })
    }

    /// Starts a sign-in with whichever passkey the person's browser offers.
    pub fn start_sign_in(&self) -> Result<Ceremony> {
        let (mut options, state) = (self.webauthn)
            .start_discoverable_authentication()
            .map_err(|_| PasskeyError::Config)?;
        // A button starts it, not the address field's autofill.
        options.mediation = None;
        Ok(Ceremony {
            options: serde_json::to_value(&options).map_err(|_| PasskeyError::Malformed)?,
            state: json(&state)?,
        })
    }

    /// Whom a sign-in answer claims to be (their staff id) and with which credential. Claims
    /// only: [`finish_sign_in`](Self::finish_sign_in) verifies them.
    pub fn claimed_by(&self, answer: &[u8]) -> Result<([u8; 16], Vec<u8>)> {
        let answer: PublicKeyCredential = parse(answer)?;
        let (user, credential) = (self.webauthn)
            .identify_discoverable_authentication(&answer)
            .map_err(|_| PasskeyError::Malformed)?;
        Ok((*user.as_bytes(), credential.to_vec()))
    }

    /// Verifies a sign-in answer with the passkey its claim named.
    pub fn finish_sign_in(&self, answer: &[u8], state: &[u8], stored: &[u8]) -> Result<Used> {
        let answer: PublicKeyCredential = parse(answer)?;
        let state: DiscoverableAuthentication = parse(state)?;
        let key = DiscoverableKey::from(parse::<Passkey>(stored)?);
        let result = (self.webauthn)
            .finish_discoverable_authentication_v2(&answer, state, &key)
            .map_err(refused)?;
        used(stored, &result)
    }

    /// Starts proving a passkey again in a session: one of `stored`, the person's own.
    pub fn start_reauthentication(&self, stored: &[Vec<u8>]) -> Result<Ceremony> {
        let passkeys = (stored.iter())
            .map(|s| parse::<Passkey>(s))
            .collect::<Result<Vec<_>>>()?;
        let (options, state) = (self.webauthn)
            .start_passkey_authentication(&passkeys)
            .map_err(|_| PasskeyError::Refused)?;
        Ok(Ceremony {
            options: serde_json::to_value(&options).map_err(|_| PasskeyError::Malformed)?,
            state: json(&state)?,
        })
    }

    /// Verifies a re-authentication answer; `stored` is what the start was given.
    pub fn finish_reauthentication(
        &self,
        answer: &[u8],
        state: &[u8],
        stored: &[Vec<u8>],
    ) -> Result<Used> {
        let answer: PublicKeyCredential = parse(answer)?;
        let state: PasskeyAuthentication = parse(state)?;
        let result = (self.webauthn)
            .finish_passkey_authentication(&answer, &state)
            .map_err(refused)?;
        let mine = (stored.iter())
            .find(|s| credential_id(s).is_ok_and(|id| id == result.cred_id().as_slice()))
            .ok_or(PasskeyError::Refused)?;
        used(mine, &result)
    }
}
