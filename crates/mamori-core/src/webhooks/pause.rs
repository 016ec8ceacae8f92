//! Containment that can be undone, and a fresh secret: pausing a subscription (nothing is sent,
//! its cursor stays, resuming sends what was held in order) and rotating its signing secret.
//! Secrets are derived from the keyring per subscription and version, never stored; a rotation
//! may let the previous secret sign beside the new one for a grace period (Standard Webhooks
//! allows several signatures in one header), so a receiver switches without losing events —
//! or not at all, when the old secret leaked.

use std::time::Duration;

use mamori_proto::ErrorCode;
use mamori_store::{Change, JobError};

use super::{WEBHOOKS, WebhookInfo, unknown_webhook, webhook_id};
use crate::error::{CoreError, Result};
use crate::vault::{Actor, Vault};

/// The longest a previous secret may keep signing after a rotation.
pub const MAX_SECRET_GRACE: Duration = Duration::from_secs(7 * 24 * 3600);

impl Vault {
    /// Pauses a subscription (`webhook.pause`): nothing more is sent until it is resumed.
    /// Pausing a paused one changes nothing but is recorded.
    pub async fn pause_webhook(&self, by: &Actor, id: &str) -> Result<()> {
        self.set_webhook_paused(by, id, true).await
    }

    /// Resumes a paused subscription (`webhook.resume`): what was held is sent, in order.
    pub async fn resume_webhook(&self, by: &Actor, id: &str) -> Result<()> {
        self.set_webhook_paused(by, id, false).await
    }

    async fn set_webhook_paused(&self, by: &Actor, id: &str, paused: bool) -> Result<()> {
        let action = if paused {
            "webhook.pause"
        } else {
            "webhook.resume"
        };
        let granted = self.grant(by, WEBHOOKS, action).await?;
        let id = webhook_id(id)?;
        let change = Change::PauseWebhook {
            id,
            paused_ms: paused.then(|| self.now_ms()),
        };
        (self
            .ledger
            .submit(vec![change], vec![granted.event()])
            .await?)
            .map_err(|_| unknown_webhook())
    }

    /// Makes a new signing secret current (`webhook.rotate_secret`) and returns the subscription
    /// and the secret, shown once.
    /// The previous secret also signs for `grace` (zero: it stops at once, the choice when it
    /// leaked); a later rotation ends any earlier grace.
    pub async fn rotate_webhook_secret(
        &self,
        by: &Actor,
        id: &str,
        grace: Duration,
    ) -> Result<(WebhookInfo, String)> {
        let granted = self.grant(by, WEBHOOKS, "webhook.rotate_secret").await?;
        let id = webhook_id(id)?;
        if grace > MAX_SECRET_GRACE {
            return Err(CoreError::invalid(
                ErrorCode::InvalidValue,
                "grace",
                "the previous secret may keep signing for at most 7 days (168 hours)",
            ));
        }
        let hook = self.active_webhook(&id).await?;
        let version = hook.secret_version + 1;
        let grace_ms = i64::try_from(grace.as_millis()).unwrap_or(i64::MAX);
        let change = Change::RotateWebhookSecret {
            id,
            secret_version: version,
            previous_secret_until_ms: (grace_ms > 0).then(|| self.now_ms() + grace_ms),
        };
        match self
            .ledger
            .submit(vec![change], vec![granted.event()])
            .await?
        {
            Ok(()) => {
                let info = WebhookInfo::from(&self.active_webhook(&id).await?);
                Ok((info, self.webhook_secret(&id, version)))
            }
            Err(JobError::Stale) => Err(CoreError::Conflict {
                code: ErrorCode::ConcurrentUpdate,
                message: "the secret was rotated (or the subscription removed) meanwhile; \
                          list the webhooks and try again"
                    .into(),
            }),
            Err(e) => Err(e.into()),
        }
    }
}
