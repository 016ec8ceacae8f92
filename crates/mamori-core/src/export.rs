//! Everything held about a person, gathered once for both ways it leaves Mamori: the API's
//! `GET /v1/subjects/{id}/export` (staff answering an access request) and the privacy center's
//! "Download my data" (the person themselves).

use mamori_policy::RIGHTS_PURPOSE;
use mamori_proto::RequestKind;

use crate::access_log::AccessEntry;
use crate::consent::{ConsentRow, HistoryEntry};
use crate::error::Result;
use crate::vault::{Actor, RecordView, SubjectView, Vault};

/// A person's fields, records, consents (current and every decision) and access log.
pub struct Export {
    pub subject: SubjectView,
    pub records: Vec<RecordView>,
    pub consents: Vec<ConsentRow>,
    pub history: Vec<HistoryEntry>,
    pub access_log: Vec<AccessEntry>,
    pub disclosures: Vec<crate::disclosures::PersonDisclosure>,
}

impl Vault {
    /// Reads everything for `purpose` (normally the rights purpose, by a role that may use
    /// it); each read is decided and ledgered. The consent read needs the rights purpose and is
    /// made first, so a role that may not export is refused before anything else is read.
    pub async fn export_subject(
        &self,
        actor: &Actor,
        purpose: &str,
        id: &[u8; 16],
    ) -> Result<Export> {
        let consents = self.consent_overview(actor, id).await?;
        let subject = self.read_subject(actor, purpose, id).await?;
        let records = self.list_records(actor, purpose, id).await?;
        let history = self.consent_history(actor, id).await?;
        let access_log = self.access_log_all(actor, id).await?;
        let disclosures = self.disclosures_for_person(actor, id).await?;
        Ok(Export {
            subject,
            records,
            consents,
            history,
            access_log,
            disclosures,
        })
    }

    /// The signed-in person's own export, entered in the register as an access request they
    /// made and had answered.
    pub async fn export_own(&self, actor: &Actor, id: &[u8; 16]) -> Result<Export> {
        let export = self.export_subject(actor, RIGHTS_PURPOSE, id).await?;
        self.register_self_service(actor, id, RequestKind::Access)
            .await;
        Ok(export)
    }
}
