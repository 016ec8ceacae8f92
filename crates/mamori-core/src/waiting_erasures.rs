//! Erasures a legal hold keeps waiting. A person who asks to be erased while a hold covers them
//! gets a registered request, in progress and `waiting_for = legal_hold`, instead of a refusal;
//! once no hold covers them (lifted, or past its end) the erasure is carried out as decided then
//! and the request fulfilled in the same transaction.

use mamori_ledger::Event;
use mamori_policy::{Action, RIGHTS_PURPOSE};
use mamori_proto::outbox::EventType;
use mamori_proto::{RequestState, WaitReason};
use mamori_store::{Change, RequestRow};

use crate::erasure::ErasurePlan;
use crate::error::{CoreError, Result};
use crate::requests::request_view;
use crate::vault::{Actor, Vault};

/// A person's own erasure: carried out, or waiting for a legal hold to end.
#[derive(Debug)]
pub enum OwnErasure {
    Erased(ErasurePlan, RequestRow),
    Waiting(RequestRow),
}

/// Waiting requests looked at per pass.
const PAGE: i64 = 500;

/// The actor that carries out waiting erasures in the ledger.
fn carrier() -> Actor {
    Actor {
        id: "legal_holds".into(),
        role: "system".into(),
    }
}

impl Vault {
    /// Registers the person's own erasure as waiting for the hold that covers them: decided now
    /// (the same decision as the erasure), carried out by [`Self::carry_out_waiting_erasures`].
    pub(crate) async fn register_waiting_erasure(
        &self,
        actor: &Actor,
        id: &[u8; 16],
        entry: (RequestRow, Vec<Change>, Event),
    ) -> Result<RequestRow> {
        let all = self.policy.all_categories();
        self.authorise(
            actor,
            RIGHTS_PURPOSE,
            Action::Delete,
            all,
            "subject.erase",
            Some(id),
        )
        .await?;
        let (mut row, _, event) = entry;
        row.state = RequestState::InProgress;
        row.closed_ms = None;
        row.waiting_for = Some(WaitReason::LegalHold);
        let announce = self.announce(EventType::RequestOpened, Some(id), &request_view(&row));
        let changes = vec![Change::InsertRequest(row.clone()), announce];
        self.ledger.submit(changes, vec![event]).await??;
        Ok(row)
    }

    /// Carries out every waiting erasure no hold covers any more, each with its request
    /// fulfilled in the same transaction. Returns how many were carried out.
    pub async fn carry_out_waiting_erasures(&self) -> Result<usize> {
        let holds = self.holds_in_force().await?;
        let mut done = 0;
        for row in self.store.waiting_requests(PAGE).await? {
            let Some(id) = row.subject_id else { continue };
            if holds.touches(&id) {
                continue;
            }
            let actor = carrier();
            let mut fulfilled = row.clone();
            fulfilled.state = RequestState::Fulfilled;
            fulfilled.waiting_for = None;
            fulfilled.closed_ms = Some(self.now_ms());
            fulfilled.updated_ms = self.now_ms();
            let update = Change::UpdateRequest {
                expected_state: row.state,
                row: fulfilled.clone(),
            };
            let view = request_view(&fulfilled);
            let announce = self.announce(EventType::RequestChanged, Some(&id), &view);
            let event = self.request_event(&actor, "request.fulfil_waiting", Some(&id));
            let changes = vec![update, announce];
            let entry = (fulfilled, changes.clone(), event.clone());
            match self
                .erase_authorised(&actor, RIGHTS_PURPOSE, &id, Some(entry))
                .await
            {
                Ok(_) => done += 1,
                // Erased meanwhile (by staff, or the sweep): the request is fulfilled all the same.
                Err(CoreError::NotFound) => {
                    self.ledger.submit(changes, vec![event]).await??;
                    done += 1;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(done)
    }
}
