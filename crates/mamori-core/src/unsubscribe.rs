//! One-click unsubscribe links (RFC 8058) for the business's messages: a token naming subject,
//! purpose and channel, with an expiry, authenticated by an HMAC under a dedicated subkey. Using
//! it withdraws that one consent. Tokens hold an id and policy names only, never an address.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mamori_crypto::{hmac_sha256, hmac_sha256_verify_prefix};
use mamori_proto::ErrorCode;

use crate::consent::{ConsentAnswer, ConsentChange};
use crate::error::{CoreError, Result};
use crate::vault::{Actor, Vault};
use crate::{format_id, parse_id};

/// Longest validity a link may be given.
pub const MAX_TTL_DAYS: i64 = 366;
const TAG_LEN: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsubscribeLink {
    pub token: String,
    pub expires_ms: i64,
}

fn invalid() -> CoreError {
    CoreError::invalid(
        ErrorCode::InvalidToken,
        "token",
        "this unsubscribe link is not valid; use the link from a recent message",
    )
}

impl Vault {
    fn unsubscribe_tag(&self, body: &[u8]) -> [u8; TAG_LEN] {
        let full = hmac_sha256(self.keyring.subkey("unsubscribe").as_ref(), body);
        let mut tag = [0u8; TAG_LEN];
        tag.copy_from_slice(&full[..TAG_LEN]);
        tag
    }

    fn unsubscribe_tag_ok(&self, body: &[u8], tag: &[u8]) -> bool {
        tag.len() == TAG_LEN
            && hmac_sha256_verify_prefix(self.keyring.subkey("unsubscribe").as_ref(), body, tag)
    }

    /// A token for `subject`, `purpose` and `channel`, valid for `ttl_days`. The purpose must be
    /// consent-based and the caller's role allowed to use it (as for any consent change).
    pub async fn unsubscribe_link(
        &self,
        actor: &Actor,
        subject: &[u8; 16],
        purpose: &str,
        channel: Option<&str>,
        ttl_days: i64,
    ) -> Result<UnsubscribeLink> {
        if !(1..=MAX_TTL_DAYS).contains(&ttl_days) {
            return Err(CoreError::invalid(
                ErrorCode::InvalidValue,
                "ttl_days",
                format!("a link is valid for 1 to {MAX_TTL_DAYS} days"),
            ));
        }
        // Validates purpose and channel exactly as a withdrawal would, without changing anything.
        let change = ConsentChange {
            purpose: purpose.to_string(),
            channel: channel.map(str::to_string),
            granted: false,
            source: Some("portal".into()),
            notice_version: None,
        };
        let (purpose, channel) = self
            .validate_consent_change(actor, subject, &change)
            .await?;
        let expires_ms = self.now_ms() + ttl_days * 86_400_000;
        let body = format!(
            "v1|{}|{}|{}|{expires_ms}",
            format_id(subject),
            purpose.name,
            channel
        );
        let tag = self.unsubscribe_tag(body.as_bytes());
        let token = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(body.as_bytes()),
            URL_SAFE_NO_PAD.encode(tag)
        );
        Ok(UnsubscribeLink { token, expires_ms })
    }

    /// Honours a one-click unsubscribe: checks the token and withdraws that consent (source
    /// portal), recorded as done by `unsubscribe:<subject>`. Using a link twice is harmless.
    pub async fn unsubscribe(&self, token: &str) -> Result<ConsentAnswer> {
        let now = self.now_ms();
        let (body, tag) = token.split_once('.').ok_or_else(invalid)?;
        let body = URL_SAFE_NO_PAD.decode(body).map_err(|_| invalid())?;
        let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| invalid())?;
        if !self.unsubscribe_tag_ok(&body, &tag) {
            return Err(invalid());
        }
        let body = String::from_utf8(body).map_err(|_| invalid())?;
        let parts: Vec<&str> = body.split('|').collect();
        let [version, subject, purpose, channel, expires] = parts.as_slice() else {
            return Err(invalid());
        };
        if *version != "v1" {
            return Err(invalid());
        }
        let expires: i64 = expires.parse().map_err(|_| invalid())?;
        if expires < now {
            return Err(CoreError::invalid(
                ErrorCode::ExpiredToken,
                "token",
                "this unsubscribe link has expired; use the link from a recent message or the privacy center",
            ));
        }
        let subject = parse_id(subject).ok_or_else(invalid)?;
        let actor = Actor {
            id: format!("unsubscribe:{}", format_id(&subject)),
            role: String::new(),
        };
        let change = ConsentChange {
            purpose: purpose.to_string(),
            channel: (!channel.is_empty()).then(|| channel.to_string()),
            granted: false,
            source: Some("portal".into()),
            notice_version: None,
        };
        self.withdraw_unchecked(&actor, &subject, &change).await
    }
}
