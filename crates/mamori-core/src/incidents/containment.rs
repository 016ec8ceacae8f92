//! Containment from an incident: revoke an API key, disable a member of staff, stop, pause or
//! re-key a webhook subscription, or remove or pause a DRP agent in one step, and record it on
//! the incident's timeline, linked. The step is its own access decision (the `api_keys`,
//! `staff`, `webhooks` or `agents` permission, ledgered as `apikey.revoke`, `staff.disable`,
//! `webhook.remove|pause|rotate_secret` or `drp.agent_remove|agent_pause`); recording it is
//! `incident.containment`. Pauses are undone outside the incident (resume the webhook or agent). A step taken is recorded even if someone added to the timeline
//! meanwhile: the entry then follows theirs.

use std::time::Duration;

use mamori_proto::ErrorCode;
use mamori_proto::incidents::{
    Contain, ContainmentAction, EntryKind, IncidentDetail, IncidentStatus, LinkKind,
};
use mamori_store::{Change, IncidentEntryRow, JobError};

use super::{INCIDENTS, NOTE_MAX, changed_since, free_text, not_found, status_of};
use crate::error::{CoreError, Result};
use crate::vault::{Actor, Vault};

/// Appends tried before giving up when others keep adding to the timeline.
const APPEND_TRIES: usize = 5;

impl Vault {
    /// Takes the containment step and records it on the incident's timeline.
    pub async fn contain_incident(
        &self,
        actor: &Actor,
        id: &[u8; 16],
        contain: &Contain,
    ) -> Result<IncidentDetail> {
        let note = (contain.note.as_deref())
            .map(|n| free_text("note", n, NOTE_MAX))
            .transpose()?;
        let granted = self.grant(actor, INCIDENTS, "incident.containment").await?;
        let row = self.store.incident(id).await?.ok_or_else(not_found)?;
        if status_of(&row.status) == IncidentStatus::Closed {
            return Err(CoreError::Conflict {
                code: ErrorCode::IncidentClosed,
                message: "the incident is closed; open a new one".into(),
            });
        }
        if contain.version != row.version {
            return Err(changed_since(row.version));
        }
        let target = contain.target.trim();
        let (link_kind, new_secret) = self.take_step(actor, contain.action, target).await?;
        let mut event = Some(granted.event());
        for _ in 0..APPEND_TRIES {
            let now = self.store.incident(id).await?.ok_or_else(not_found)?;
            let seq = now.version + 1;
            let entry = IncidentEntryRow {
                incident_id: *id,
                seq,
                at_ms: self.now_ms(),
                actor: actor.id.clone(),
                kind: EntryKind::Containment.as_str().into(),
                status: None,
                severity: None,
                link_kind: Some(link_kind.as_str().into()),
                link_id: Some(target.to_string()),
                note_sealed: (note.as_deref()).map(|n| self.seal_note("incident-note", id, seq, n)),
                until_ms: None,
            };
            // The allowed event goes with the first try; a retry's is the same decision's.
            let events = event.take().into_iter().collect();
            match (self.ledger)
                .submit(vec![Change::AppendIncidentEntry(entry)], events)
                .await?
            {
                Ok(()) => {
                    let mut detail = self.incident_detail(id).await?;
                    detail.new_secret = new_secret;
                    return Ok(detail);
                }
                Err(JobError::Stale) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(changed_since(row.version))
    }

    /// The step itself, through its own permission: what it links, and a re-keyed webhook's
    /// new secret.
    async fn take_step(
        &self,
        actor: &Actor,
        action: ContainmentAction,
        target: &str,
    ) -> Result<(LinkKind, Option<String>)> {
        let mut new_secret = None;
        let link_kind = match action {
            ContainmentAction::RevokeApiKey => {
                self.revoke_api_key(actor, target).await?;
                LinkKind::ApiKey
            }
            ContainmentAction::DisableStaff => {
                self.disable_staff(actor, target).await?;
                LinkKind::Staff
            }
            ContainmentAction::RemoveWebhook => {
                self.remove_webhook(actor, target).await?;
                LinkKind::Webhook
            }
            ContainmentAction::RemoveAgent => {
                self.remove_agent(actor, target).await?;
                LinkKind::Agent
            }
            ContainmentAction::PauseWebhook => {
                self.pause_webhook(actor, target).await?;
                LinkKind::Webhook
            }
            ContainmentAction::RotateWebhookSecret => {
                // No grace: the old secret is presumed known to whoever caused the incident.
                let secret = self.rotate_webhook_secret(actor, target, Duration::ZERO);
                new_secret = Some(secret.await?.1);
                LinkKind::Webhook
            }
            ContainmentAction::PauseAgent => {
                self.pause_agent(actor, target).await?;
                LinkKind::Agent
            }
        };
        Ok((link_kind, new_secret))
    }
}
