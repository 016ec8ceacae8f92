//! Administrative actions through the one door. Webhooks, the events feed, API keys, DRP agents,
//! policy publication and survey definitions show no one's data, yet they decide where data goes
//! and who may act, so each is decided by [`access::permits`] from the policy and ledgered,
//! allowed or denied.
//!
//! The only way to obtain the allowed event an administrative change is ledgered with is a
//! [`Granted`], and the only way to obtain a [`Granted`] is [`Vault::grant`]: a change that
//! skipped the decision has no event to commit.

use mamori_ledger::{Event, Outcome};

use crate::access::{self, Permission};
use crate::error::{CoreError, Result};
use crate::vault::{Actor, Vault};

/// Proof that the access decision allowed `actor` an administrative action: it carries the
/// allowed ledger event for that action.
#[derive(Debug)]
#[must_use = "an allowed administrative action is ledgered with this grant's event"]
pub struct Granted {
    event: Event,
}

impl Granted {
    /// Background work the operator scheduled in `mamori.toml` (key rotation, retention): the
    /// configuration is the decision, the actor is `system`, and the event is ledgered the same.
    pub(crate) fn scheduled(actor: &Actor, action: &str, time_ms: i64) -> Granted {
        Granted {
            event: admin_event(actor, action, Outcome::Allowed, time_ms),
        }
    }

    /// The allowed event to commit with the action's changes.
    pub(crate) fn event(self) -> Event {
        self.event
    }

    /// The allowed event for one of several subjects the decision covers.
    pub(crate) fn event_about(&self, subject: &[u8; 16]) -> Event {
        let mut event = self.event.clone();
        event.subject = Some(crate::format_id(subject));
        event
    }
}

pub(crate) fn admin_event(actor: &Actor, action: &str, outcome: Outcome, time_ms: i64) -> Event {
    Event {
        time_ms,
        actor: actor.id.clone(),
        role: actor.role.clone(),
        purpose: None,
        action: action.into(),
        subject: None,
        categories: vec![],
        recipient: None,
        outcome,
    }
}

impl Vault {
    /// Decides whether `actor` may take the administrative `action`, which `permission` covers.
    /// A refusal is ledgered durably before it is returned.
    pub async fn grant(
        &self,
        actor: &Actor,
        permission: Permission,
        action: &str,
    ) -> Result<Granted> {
        match access::permits(&self.policy, &actor.role, permission) {
            Ok(()) => Ok(Granted {
                event: admin_event(actor, action, Outcome::Allowed, self.now_ms()),
            }),
            Err(denial) => {
                let outcome = Outcome::Denied {
                    reason: denial.code().as_str().into(),
                };
                let event = admin_event(actor, action, outcome, self.now_ms());
                self.ledger.submit(vec![], vec![event]).await??;
                Err(CoreError::Denied(denial))
            }
        }
    }

    /// For reads that change nothing (listings, the feed): decides and ledgers the outcome.
    pub(crate) async fn grant_and_ledger(
        &self,
        actor: &Actor,
        permission: Permission,
        action: &str,
    ) -> Result<()> {
        let granted = self.grant(actor, permission, action).await?;
        self.ledger.submit(vec![], vec![granted.event()]).await??;
        Ok(())
    }
}
