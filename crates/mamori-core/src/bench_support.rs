//! Doors for the load generator only (`--features bench`): it measures the ledger writer and
//! the survey results on volumes no client could send in a bench's minutes, so it writes
//! straight through the writer, with no access decision. Not compiled into a build without the
//! feature.

use mamori_store::JobOutcome;

use crate::error::Result;
use crate::ledger::Item;
use crate::vault::Vault;

impl Vault {
    /// Commits `items` through the ledger writer as they are; each item's own outcome.
    pub async fn bench_submit_all(&self, items: Vec<Item>) -> Result<Vec<JobOutcome>> {
        self.ledger.submit_all(items).await
    }

    /// How many responses the survey with this id holds.
    pub async fn bench_survey_response_count(&self, survey_id: &[u8; 16]) -> Result<usize> {
        Ok(self.store.survey_answers(survey_id).await?.len())
    }
}
