//! One-response tokens for invited surveys: RSA blind signatures (RFC 9474), variant
//! RSABSSA-SHA384-PSS-Randomized, the one Privacy Pass uses.
//!
//! The person's browser makes a random token, blinds it, and has the server sign the blinded
//! form when it presents its invitation; it then unblinds the signature and sends the token with
//! its answers. The server sees the blinded form at issuance and the token at redemption, and
//! the two are unrelated to anyone without the browser's blinding secret — so nothing the server
//! keeps can tell which invitation a response came from, yet only signed tokens are accepted and
//! each only once (the caller records [`Token::spent_digest`]).
//!
//! Each survey has its own key, so a token from one survey does not verify for another.

use blind_rsa_signatures::{
    BlindSignature, BlindingResult, DefaultRng, KeyPairSha384PSSRandomized, MessageRandomizer,
    PublicKeySha384PSSRandomized, SecretKeySha384PSSRandomized, Signature,
};
use sha2::{Digest, Sha256};

/// RSA modulus size: 2048 bits, as in Privacy Pass (RFC 9578) issuers.
pub const MODULUS_BITS: usize = 2048;
const MODULUS_BYTES: usize = MODULUS_BITS / 8;
/// The randomizer RFC 9474 §4.1 prepends to the message (Randomized variants).
pub const RANDOMIZER_LEN: usize = 32;
/// The random message the browser picks.
pub const MESSAGE_LEN: usize = 32;
/// A token on the wire: randomizer, message, signature.
pub const TOKEN_LEN: usize = RANDOMIZER_LEN + MESSAGE_LEN + MODULUS_BYTES;
/// The variant name, for clients.
pub const VARIANT: &str = "RSABSSA-SHA384-PSS-Randomized";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlindError {
    /// Says nothing about which check failed: that would help a forger.
    #[error("the token is not one this survey issued")]
    InvalidToken,
    #[error("the blinded message is not {MODULUS_BYTES} bytes below the key's modulus")]
    InvalidBlindedMessage,
    #[error("the stored issuer key does not parse")]
    BadKey,
    #[error("key generation failed")]
    KeyGeneration,
}

pub type Result<T> = std::result::Result<T, BlindError>;

/// A survey's signing key.
pub struct Issuer {
    secret: SecretKeySha384PSSRandomized,
    public: IssuerPublic,
}

impl std::fmt::Debug for Issuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Issuer(<redacted>)")
    }
}

impl Issuer {
    /// A fresh 2048-bit key (a second or so of CPU: run it off the async threads).
    pub fn generate() -> Result<Issuer> {
        let pair = KeyPairSha384PSSRandomized::generate(&mut DefaultRng, MODULUS_BITS)
            .map_err(|_| BlindError::KeyGeneration)?;
        Ok(Issuer {
            secret: pair.sk,
            public: IssuerPublic(pair.pk),
        })
    }

    /// The key as PKCS#1 DER, to be sealed before it is stored.
    pub fn secret_der(&self) -> Result<Vec<u8>> {
        self.secret.to_der().map_err(|_| BlindError::BadKey)
    }

    pub fn from_secret_der(der: &[u8]) -> Result<Issuer> {
        let secret = SecretKeySha384PSSRandomized::from_der(der).map_err(|_| BlindError::BadKey)?;
        let public = IssuerPublic(secret.public_key().map_err(|_| BlindError::BadKey)?);
        Ok(Issuer { secret, public })
    }

    pub fn public(&self) -> &IssuerPublic {
        &self.public
    }

    /// RFC 9474 §4.2 BlindSign: the blinded message's signature, to be unblinded by the client.
    pub fn blind_sign(&self, blinded_message: &[u8]) -> Result<Vec<u8>> {
        if blinded_message.len() != MODULUS_BYTES {
            return Err(BlindError::InvalidBlindedMessage);
        }
        self.secret
            .blind_sign(blinded_message)
            .map(|s| s.0)
            .map_err(|_| BlindError::InvalidBlindedMessage)
    }
}

/// A survey's verification key, public.
#[derive(Clone)]
pub struct IssuerPublic(PublicKeySha384PSSRandomized);

impl IssuerPublic {
    /// SubjectPublicKeyInfo DER (rsaEncryption), for clients and for storage.
    pub fn to_der(&self) -> Result<Vec<u8>> {
        self.0.to_der().map_err(|_| BlindError::BadKey)
    }

    /// From SubjectPublicKeyInfo or PKCS#1 DER.
    pub fn from_der(der: &[u8]) -> Result<IssuerPublic> {
        PublicKeySha384PSSRandomized::from_der(der)
            .map(IssuerPublic)
            .map_err(|_| BlindError::BadKey)
    }

    /// The modulus, big-endian.
    pub fn modulus(&self) -> Vec<u8> {
        self.0.components().n()
    }

    /// The public exponent, big-endian.
    pub fn exponent(&self) -> Vec<u8> {
        self.0.components().e()
    }

    /// RFC 9474 §4.4 Verify, over the randomizer and the message.
    pub fn verify(&self, token: &Token) -> Result<()> {
        self.verify_raw(&token.randomizer, &token.message, &token.signature)
    }

    /// Verify for a message of any length (test vectors use longer ones).
    pub fn verify_raw(
        &self,
        randomizer: &[u8; RANDOMIZER_LEN],
        message: &[u8],
        signature: &[u8],
    ) -> Result<()> {
        self.0
            .verify(
                &Signature(signature.to_vec()),
                Some(MessageRandomizer(*randomizer)),
                message,
            )
            .map_err(|_| BlindError::InvalidToken)
    }
}

/// A finalised token: what the browser sends with its answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub randomizer: [u8; RANDOMIZER_LEN],
    pub message: [u8; MESSAGE_LEN],
    pub signature: Vec<u8>,
}

impl Token {
    pub fn from_bytes(bytes: &[u8]) -> Result<Token> {
        if bytes.len() != TOKEN_LEN {
            return Err(BlindError::InvalidToken);
        }
        let (randomizer, rest) = bytes.split_at(RANDOMIZER_LEN);
        let (message, signature) = rest.split_at(MESSAGE_LEN);
        Ok(Token {
            randomizer: randomizer
                .try_into()
                .map_err(|_| BlindError::InvalidToken)?,
            message: message.try_into().map_err(|_| BlindError::InvalidToken)?,
            signature: signature.to_vec(),
        })
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        [&self.randomizer[..], &self.message[..], &self.signature].concat()
    }

    /// What the server keeps to refuse a second use: a hash of the signed input. Without the
    /// browser's blinding secret it is unrelated to anything stored at issuance.
    pub fn spent_digest(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(b"mamori/survey-token/v1");
        h.update(self.randomizer);
        h.update(self.message);
        h.finalize().into()
    }
}

/// The client's half (RFC 9474 §4.1 Blind and §4.3 Finalize), for the CLI, tests and benches;
/// browsers run the same steps in `blind-token.js`.
pub mod client {
    use super::*;

    /// A blinded request and the secret that unblinds its answer.
    pub struct Pending {
        public: IssuerPublic,
        message: [u8; MESSAGE_LEN],
        blinding: BlindingResult,
    }

    /// Picks a random message and blinds it for `public`; send the returned bytes to be signed.
    pub fn request(public: &IssuerPublic) -> Result<(Pending, Vec<u8>)> {
        let mut message = [0u8; MESSAGE_LEN];
        getrandom::fill(&mut message).map_err(|_| BlindError::KeyGeneration)?;
        let blinding = public
            .0
            .blind(&mut DefaultRng, message)
            .map_err(|_| BlindError::BadKey)?;
        let blinded = blinding.blind_message.0.clone();
        Ok((
            Pending {
                public: public.clone(),
                message,
                blinding,
            },
            blinded,
        ))
    }

    impl Pending {
        /// Unblinds the server's signature and checks it.
        pub fn finalize(self, blind_signature: &[u8]) -> Result<Token> {
            let signature = self
                .public
                .0
                .finalize(
                    &BlindSignature(blind_signature.to_vec()),
                    &self.blinding,
                    self.message,
                )
                .map_err(|_| BlindError::InvalidToken)?;
            let randomizer = self
                .blinding
                .msg_randomizer
                .ok_or(BlindError::InvalidToken)?
                .0;
            Ok(Token {
                randomizer,
                message: self.message,
                signature: signature.0,
            })
        }
    }
}
