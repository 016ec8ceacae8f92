//! Training before access: a role with `require_training = true` acts only while the person
//! holds a current training record for it. The course and its quiz are generated from the
//! policy (`mamori_policy::training`); passing is ledgered with the policy version and kept with
//! the role's grants, so a policy that widens the role — or the record's age, past
//! `training_valid_days` — asks for the training again.

use mamori_ledger::{Event, Outcome};
use mamori_policy::Language;
use mamori_policy::training::{Course, course, role_scope, scope_covers};
use mamori_store::{Change, Id, StaffTrainingRow};

use super::StaffSession;
use crate::access::Denial;
use crate::error::{CoreError, Result};
use crate::vault::{Actor, Vault};

const DAY_MS: i64 = 86_400_000;

/// Where a person stands with their role's training.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrainingStatus {
    /// The role does not ask for training.
    NotRequired,
    Current {
        expires_ms: i64,
    },
    /// Never taken for this role.
    Required,
    /// Too old, or the role has been widened since.
    Expired,
}

impl TrainingStatus {
    /// Whether the person may act in their role now.
    pub fn allows_acting(self) -> bool {
        matches!(
            self,
            TrainingStatus::NotRequired | TrainingStatus::Current { .. }
        )
    }

    fn denial(self) -> Option<Denial> {
        match self {
            TrainingStatus::Required => Some(Denial::TrainingRequired),
            TrainingStatus::Expired => Some(Denial::TrainingExpired),
            _ => None,
        }
    }
}

/// A quiz that was not passed: the questions answered wrongly, by id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuizFailed(pub Vec<String>);

fn staff_event(session: &StaffSession, action: &str, outcome: Outcome, time_ms: i64) -> Event {
    Event {
        time_ms,
        actor: session.actor.id.clone(),
        role: session.actor.role.clone(),
        purpose: None,
        action: action.into(),
        subject: None,
        categories: vec![],
        recipient: None,
        outcome,
    }
}

impl Vault {
    pub(crate) async fn training_status(
        &self,
        staff_id: &Id,
        role: &str,
    ) -> Result<TrainingStatus> {
        let Some(policy_role) = self.policy.role(role) else {
            return Ok(TrainingStatus::Required);
        };
        if !policy_role.require_training {
            return Ok(TrainingStatus::NotRequired);
        }
        let Some(record) = self.store.staff_training(staff_id, role).await? else {
            return Ok(TrainingStatus::Required);
        };
        let scope = role_scope(&self.policy, policy_role);
        if record.expires_ms <= self.now_ms() || !scope_covers(&record.scope, &scope) {
            return Ok(TrainingStatus::Expired);
        }
        Ok(TrainingStatus::Current {
            expires_ms: record.expires_ms,
        })
    }

    /// The course for the session's role in `lang`.
    pub fn training_course(&self, session: &StaffSession, lang: Language) -> Option<Course> {
        let role = self.policy.role(&session.actor.role)?;
        Some(course(&self.policy, role, lang))
    }

    /// Records a passed quiz (ledgered `staff.training_passed`, with the policy version), or
    /// says which answers were wrong (ledgered `staff.training_failed`).
    pub async fn pass_training<'a>(
        &self,
        session: &StaffSession,
        answer_of: impl Fn(&str) -> Option<&'a str>,
    ) -> Result<std::result::Result<TrainingStatus, QuizFailed>> {
        let role = (self.policy.role(&session.actor.role)).ok_or(CoreError::Integrity)?;
        let wrong = course(&self.policy, role, Language::En).wrong_answers(answer_of);
        let now = self.now_ms();
        if !wrong.is_empty() {
            let outcome = Outcome::Denied {
                reason: "wrong_answers".into(),
            };
            let event = staff_event(session, "staff.training_failed", outcome, now);
            self.ledger.submit(vec![], vec![event]).await??;
            return Ok(Err(QuizFailed(wrong)));
        }
        let version = self
            .store
            .latest_policy_version()
            .await?
            .map_or(0, |(v, _)| v);
        let expires_ms = now + i64::from(self.policy.organisation.training_valid_days) * DAY_MS;
        let record = StaffTrainingRow {
            staff_id: session.staff_row_id,
            role: role.name.clone(),
            scope: role_scope(&self.policy, role),
            policy_version: version,
            passed_ms: now,
            expires_ms,
            reminded_ms: None,
        };
        // The action names the policy version the person was trained on.
        let action = format!("staff.training_passed:v{version}");
        let event = staff_event(session, &action, Outcome::Allowed, now);
        let change = Change::RecordTraining(record);
        self.ledger.submit(vec![change], vec![event]).await??;
        Ok(Ok(TrainingStatus::Current { expires_ms }))
    }

    /// The actor a signed-in member of staff acts as — refused, with the reason ledgered, while
    /// their role's training is missing or expired. The console acts only through this.
    pub async fn staff_actor(&self, session: &StaffSession, action: &str) -> Result<Actor> {
        if let Some(denial) = session.training.denial() {
            let outcome = Outcome::Denied {
                reason: denial.code().as_str().into(),
            };
            let event = staff_event(session, action, outcome, self.now_ms());
            self.ledger.submit(vec![], vec![event]).await??;
            return Err(CoreError::Denied(denial));
        }
        Ok(session.actor.clone())
    }

    /// [`Vault::staff_actor`] for a sensitive action (erasure, keys, policy, exports): also
    /// refused, ledgered, unless the person proved a factor in the last five minutes.
    pub async fn staff_actor_for_sensitive(
        &self,
        session: &StaffSession,
        action: &str,
    ) -> Result<Actor> {
        let actor = self.staff_actor(session, action).await?;
        let now = self.now_ms();
        if !session.verified_recently(now) {
            let denial = Denial::ReauthenticationRequired;
            let outcome = Outcome::Denied {
                reason: denial.code().as_str().into(),
            };
            let event = staff_event(session, action, outcome, now);
            self.ledger.submit(vec![], vec![event]).await??;
            return Err(CoreError::Denied(denial));
        }
        Ok(actor)
    }
}
