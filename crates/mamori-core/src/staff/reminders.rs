//! Reminders before a training expires: 30 days ahead, once per record, an outbox event
//! (`staff.training_expiring`: a staff id and a role, never an address) and an e-mail to the
//! person, in the organisation's first language. Run hourly by the jobs; ledgered.

use std::sync::Arc;

use mamori_ledger::{Event, Outcome};
use mamori_policy::Language;
use mamori_proto::outbox::TrainingExpiring;
use mamori_store::Change;

use crate::error::Result;
use crate::mail::{Mail, Mailer};
use crate::outbox::EventType;
use crate::vault::Vault;
use crate::{format_id, format_time};

/// How long before expiry the reminder goes out.
pub const TRAINING_REMIND_BEFORE_MS: i64 = 30 * 86_400_000;

fn message(lang: Language, organisation: &str, role: &str, until: &str) -> (String, String) {
    match lang {
        Language::Ja => (
            format!("{organisation}：研修の期限が近づいています"),
            format!(
                "{role}ロールの研修は{until}に期限切れになります。期限後はお客様のデータを扱えなくなるため、それまでにスタッフコンソールでもう一度受講してください。"
            ),
        ),
        Language::Fr => (
            format!("{organisation}\u{202f}: votre formation expire bientôt"),
            format!(
                "Votre formation pour le rôle {role} expire le {until}. Ensuite, vous ne pourrez plus travailler sur les données des clients\u{a0}: suivez-la à nouveau dans la console de l'équipe d'ici là."
            ),
        ),
        Language::En => (
            format!("{organisation}: your training expires soon"),
            format!(
                "Your training for the {role} role expires on {until}. After that you cannot work with customers' data: take it again in the staff console before then."
            ),
        ),
    }
}

impl Vault {
    /// Sends the reminders due now; how many went out.
    pub async fn send_training_reminders(&self, mailer: Option<&Arc<dyn Mailer>>) -> Result<usize> {
        let now = self.now_ms();
        let due = (self.store)
            .staff_training_to_remind(now + TRAINING_REMIND_BEFORE_MS, 500)
            .await?;
        let lang = self
            .policy
            .organisation
            .languages
            .first()
            .copied()
            .unwrap_or(Language::En);
        let mut sent = 0;
        for record in due {
            let until = format_time(record.expires_ms)
                .get(..10)
                .unwrap_or_default()
                .to_string();
            let payload = TrainingExpiring {
                staff: format_id(&record.staff_id),
                role: record.role.clone(),
                expires_at: format_time(record.expires_ms),
            };
            let changes = vec![
                Change::MarkTrainingReminded {
                    staff_id: record.staff_id,
                    role: record.role.clone(),
                    at_ms: now,
                },
                self.announce(EventType::StaffTrainingExpiring, None, &payload),
            ];
            let event = Event {
                time_ms: now,
                actor: "scheduler".into(),
                role: "system".into(),
                purpose: None,
                action: "staff.training_remind".into(),
                subject: None,
                categories: vec![],
                recipient: None,
                outcome: Outcome::Allowed,
            };
            self.ledger.submit(changes, vec![event]).await??;
            sent += 1;
            let Some(mailer) = mailer else { continue };
            let Some(staff) = self.store.staff_member(&record.staff_id).await? else {
                continue;
            };
            let to = self.staff_info(&staff)?.email;
            let (subject, body) =
                message(lang, &self.policy.organisation.name, &record.role, &until);
            if let Err(e) = mailer.send(Mail { to, subject, body }).await {
                tracing::warn!(
                    code = e.code().as_str(),
                    "a training reminder could not be sent"
                );
            }
        }
        Ok(sent)
    }
}
