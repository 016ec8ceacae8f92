//! A person correcting their own data from the privacy center.
//!
//! Ordinary fields change at once, through the same access decision and ledger as a staff update
//! (the person acts under the rights purpose on their own record). A contact identifier — an
//! e-mail address or phone number the vault can find the person by — is different: linking one
//! that was never verified is how one person comes to read another's data. So a new identifier is
//! only stored once a code sent *to it* comes back. Until then nothing is stored but the
//! challenge (a keyed digest of the code); the new value travels in the form, sealed under a
//! fresh key that is wrapped for that challenge, so it can be opened only by this server, only
//! for that challenge, and only while the code is good.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mamori_ledger::Outcome;
use mamori_policy::value::parse_value;
use mamori_policy::{Action, FieldType, IdSet, RIGHTS_PURPOSE};
use mamori_proto::ErrorCode;
use mamori_proto::RequestKind;
use mamori_store::Change;
use serde_json::Value;

use crate::error::{CoreError, Result};
use crate::mail::Recipient;
use crate::signin::CodeRefused;
use crate::vault::{Actor, DataInput, Vault};

/// What became of a correction.
#[derive(Debug)]
pub enum Correction {
    /// Stored.
    Applied,
    /// The identifier given is the one already held: nothing stored, no code sent.
    Unchanged,
    /// A new identifier: `code` must be sent to `to` (the new value itself) and typed back with
    /// `challenge` and `pending` (the sealed value) before anything is stored.
    NeedsVerification {
        challenge: [u8; 16],
        pending: String,
        code: String,
        to: Recipient,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum IdentifierKind {
    Email,
    Phone,
}

/// A field a person may correct themselves: every declared field but the business's own
/// identifiers (a lookup field that is neither e-mail nor phone, such as a customer number).
pub fn correctable(kind: &FieldType, lookup: bool) -> bool {
    !lookup || matches!(kind, FieldType::Email | FieldType::Phone)
}

fn identifier(kind: &FieldType) -> Option<IdentifierKind> {
    match kind {
        FieldType::Email => Some(IdentifierKind::Email),
        FieldType::Phone => Some(IdentifierKind::Phone),
        _ => None,
    }
}

/// A form's text as the JSON value the policy type expects (numbers and yes/no are typed in the
/// API, text in a form); text that does not convert is passed on as text and refused there.
fn form_value(kind: &FieldType, text: &str) -> Value {
    match kind {
        _ if text.is_empty() => Value::Null,
        FieldType::Number => text
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map_or_else(|| Value::String(text.into()), Value::Number),
        FieldType::Bool => match text {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => Value::String(text.into()),
        },
        _ => Value::String(text.into()),
    }
}

fn one_field(category: &str, field: &str, value: Value) -> DataInput {
    DataInput::from([(
        category.to_string(),
        [(field.to_string(), value)].into_iter().collect(),
    )])
}

fn refused_pending() -> CoreError {
    CoreError::invalid(
        ErrorCode::InvalidPendingChange,
        "pending",
        "this change cannot be confirmed; start it again",
    )
}

impl Vault {
    /// Corrects one field of the signed-in person's own record (`actor` must be that person).
    /// An empty value removes the field.
    pub async fn correct_own(
        &self,
        actor: &Actor,
        subject: &[u8; 16],
        category: &str,
        field: &str,
        value: &str,
    ) -> Result<Correction> {
        let (field_kind, lookup, categories) = self.declared_field(category, field)?;
        if !correctable(&field_kind, lookup) {
            return Err(CoreError::invalid(
                ErrorCode::NotCorrectable,
                format!("data.{category}.{field}"),
                "this identifier is assigned by us; write to us to have it changed",
            ));
        }
        let value = value.trim();
        let new_identifier = identifier(&field_kind).filter(|_| !value.is_empty());
        let Some(kind) = new_identifier else {
            let json = form_value(&field_kind, value);
            self.update_subject(
                actor,
                RIGHTS_PURPOSE,
                subject,
                &one_field(category, field, json),
            )
            .await?;
            self.register_self_service(actor, subject, RequestKind::Rectification)
                .await;
            return Ok(Correction::Applied);
        };
        // The same decision the update will take, taken before a code is sent anywhere.
        self.authorise(
            actor,
            RIGHTS_PURPOSE,
            Action::Modify,
            categories,
            "correction.verify",
            Some(subject),
        )
        .await?;
        // Checked now, so a typo is reported before a code is sent anywhere.
        let to = parse_value(&field_kind, &Value::String(value.into())).map_err(|e| {
            CoreError::invalid(
                ErrorCode::InvalidValue,
                format!("data.{category}.{field}"),
                e.expected,
            )
        })?;
        // The value already held: nothing to verify, and no code is sent to anyone.
        let current = self.read_subject(actor, RIGHTS_PURPOSE, subject).await?;
        let held = current.data.get(category).and_then(|c| c.get(field));
        if held.and_then(Value::as_str) == Some(to.as_str()) {
            return Ok(Correction::Unchanged);
        }
        let (row, code) = self.new_challenge(Some(*subject));
        let challenge = row.id;
        let pending = self.seal_pending(&challenge, category, field, &to)?;
        let event = self.event(
            actor,
            RIGHTS_PURPOSE,
            "correction.verify",
            Some(subject),
            IdSet::EMPTY,
            Outcome::Allowed,
        );
        self.ledger
            .submit(vec![Change::InsertChallenge(row)], vec![event])
            .await??;
        Ok(Correction::NeedsVerification {
            challenge,
            pending,
            code,
            to: match kind {
                IdentifierKind::Email => Recipient::Email(to),
                IdentifierKind::Phone => Recipient::Phone(to),
            },
        })
    }

    /// The new value, sealed under a key of its own bound to the challenge, as the form carries
    /// it until the code comes back (the key wrapped, then the sealed value; base64url).
    fn seal_pending(
        &self,
        challenge: &[u8; 16],
        category: &str,
        field: &str,
        to: &str,
    ) -> Result<String> {
        let (key, wrapped) = self
            .keyring
            .new_subject_key(challenge)
            .map_err(|e| CoreError::Internal(e.to_string()))?;
        let sealed = key.seal(category, field, to.as_bytes());
        let mut token = (wrapped.len() as u16).to_be_bytes().to_vec();
        token.extend_from_slice(&wrapped);
        token.extend_from_slice(&sealed);
        Ok(URL_SAFE_NO_PAD.encode(token))
    }

    /// Stores a new identifier once the code sent to it comes back. Refusals are ledgered and
    /// counted against the challenge like sign-in codes (five tries, ten minutes, one use).
    #[allow(clippy::too_many_arguments)]
    pub async fn confirm_own_correction(
        &self,
        actor: &Actor,
        subject: &[u8; 16],
        category: &str,
        field: &str,
        challenge: &[u8; 16],
        pending: &str,
        code: &str,
    ) -> Result<std::result::Result<(), CodeRefused>> {
        let (kind, _, categories) = self.declared_field(category, field)?;
        if identifier(&kind).is_none() {
            return Err(refused_pending());
        }
        // Decided before a code is spent; the update below decides again as it writes.
        self.authorise(
            actor,
            RIGHTS_PURPOSE,
            Action::Modify,
            categories,
            "correction.confirm",
            Some(subject),
        )
        .await?;
        // A challenge of someone else's is treated as no challenge at all.
        let row = match self.store.challenge(challenge).await? {
            Some(row) if row.subject_id.as_ref() == Some(subject) => row,
            _ => return Ok(Err(CodeRefused::Wrong)),
        };
        // Opened before the code is tried: a value altered in the form changes nothing.
        let value = self.open_pending(challenge, category, field, pending)?;
        let event = |outcome| {
            self.event(
                actor,
                RIGHTS_PURPOSE,
                "correction.confirm",
                Some(subject),
                IdSet::EMPTY,
                outcome,
            )
        };
        if let Err(why) = self.spend_code(&row, Some(code), vec![], event).await? {
            return Ok(Err(why));
        }
        self.update_subject(
            actor,
            RIGHTS_PURPOSE,
            subject,
            &one_field(category, field, Value::String(value)),
        )
        .await?;
        self.register_self_service(actor, subject, RequestKind::Rectification)
            .await;
        Ok(Ok(()))
    }

    fn open_pending(
        &self,
        challenge: &[u8; 16],
        category: &str,
        field: &str,
        pending: &str,
    ) -> Result<String> {
        let token = URL_SAFE_NO_PAD
            .decode(pending)
            .map_err(|_| refused_pending())?;
        let (len, rest) = token.split_at_checked(2).ok_or_else(refused_pending)?;
        let len = u16::from_be_bytes([len[0], len[1]]) as usize;
        let (wrapped, sealed) = rest.split_at_checked(len).ok_or_else(refused_pending)?;
        let key = self
            .unwrap_key(challenge, wrapped)
            .map_err(|_| refused_pending())?;
        let value = key
            .open(category, field, sealed)
            .map_err(|_| refused_pending())?;
        String::from_utf8(value.to_vec()).map_err(|_| refused_pending())
    }

    /// The field's type, whether it is a lookup field, and its category as a set.
    fn declared_field(&self, category: &str, field: &str) -> Result<(FieldType, bool, IdSet)> {
        let path = format!("data.{category}.{field}");
        let declared = self.policy.category(category).and_then(|c| {
            let (_, f) = c.field(field)?;
            Some((f.kind.clone(), f.lookup, IdSet::EMPTY.with(c.id)))
        });
        declared.ok_or_else(|| {
            CoreError::invalid(
                ErrorCode::UndeclaredField,
                path,
                "this field is not declared in the policy",
            )
        })
    }
}
