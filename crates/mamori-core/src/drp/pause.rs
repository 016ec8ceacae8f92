//! Pausing an agent from an incident: unlike removal (agent ids are never reused), a pause is
//! undone by resuming. While paused, the agent's signed messages and tokens are refused as if
//! it were unknown; its requests stay in the register and their deadlines run.

use mamori_store::Change;

use super::AGENTS;
use crate::error::{CoreError, Result};
use crate::vault::{Actor, Vault};

impl Vault {
    /// Pauses an agent (`drp.agent_pause`); pausing a paused one keeps its first pause time.
    pub async fn pause_agent(&self, operator: &Actor, id: &str) -> Result<()> {
        self.set_agent_paused(operator, id, true).await
    }

    /// Resumes a paused agent (`drp.agent_resume`): its tokens work again until they expire.
    pub async fn resume_agent(&self, operator: &Actor, id: &str) -> Result<()> {
        self.set_agent_paused(operator, id, false).await
    }

    async fn set_agent_paused(&self, operator: &Actor, id: &str, paused: bool) -> Result<()> {
        let action = if paused {
            "drp.agent_pause"
        } else {
            "drp.agent_resume"
        };
        let granted = self.grant(operator, AGENTS, action).await?;
        let change = Change::PauseDrpAgent {
            id: id.into(),
            paused_ms: paused.then(|| self.now_ms()),
        };
        (self
            .ledger
            .submit(vec![change], vec![granted.event()])
            .await?)
            .map_err(|_| CoreError::NotFound)
    }
}
