//! Subjects and their records: create, purpose-scoped read, update, erase, lookup.
//! Each operation: parse input by the policy → decide → seal/open → one ledgered job.

use mamori_proto::ErrorCode;
use std::collections::BTreeMap;
use std::sync::Arc;

use mamori_crypto::{Keyring, LookupKind, SubjectKey};
use mamori_ledger::{Event, Outcome};
use mamori_policy::value::{
    normalise_email, normalise_external_id, normalise_phone, parse_value, to_json,
};
use mamori_policy::{Action, FieldType, IdSet, Policy, Role};
use mamori_store::{Change, IndexKind, RecordRow, Store, SubjectRow};
use serde_json::Value;

use crate::access::{self, Allowed, Denial, NoConsent};
use crate::error::{CoreError, Result};
use crate::fieldmap::SealedFields;
use crate::ledger::Ledger;
use crate::{format_id, format_time, new_id};

mod records;

pub(crate) use records::record_field;
pub use records::{page_cursor, parse_page_cursor};

/// Who is acting: a pseudonymous id (`key:<uuid>`, `cli`) and a role from the policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub id: String,
    pub role: String,
}

/// Input data: `{category: {field: value}}`. In updates a `null` value removes the field.
pub type DataInput = BTreeMap<String, BTreeMap<String, Value>>;
pub type DataView = BTreeMap<String, BTreeMap<String, Value>>;

#[derive(Debug, Clone)]
pub struct SubjectView {
    pub id: String,
    pub created_at: String,
    pub data: DataView,
}

#[derive(Debug, Clone)]
pub struct RecordView {
    pub id: String,
    pub category: String,
    pub created_at: String,
    /// `created_at` as Unix milliseconds (where a page of records ends).
    pub created_ms: i64,
    pub data: BTreeMap<String, Value>,
}

/// One parsed field: category id, field index, canonical value (None = remove).
struct ParsedField {
    category: usize,
    field: usize,
    value: Option<String>,
}

pub(crate) const MAX_RECORDS: i64 = 10_000;
// Each lost race means another update committed, so this bounds only pathological contention.
const UPDATE_RETRIES: usize = 64;

#[derive(Clone)]
pub struct Vault {
    pub policy: Arc<Policy>,
    pub(crate) keyring: Arc<Keyring>,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) ledger: Ledger,
    pub(crate) key_cache: Arc<crate::apikeys::KeyCache>,
    pub(crate) scopes: Arc<crate::versions::ScopeCache>,
    /// Request deadlines per jurisdiction (the laws' own unless configured).
    pub deadlines: Arc<crate::requests::Deadlines>,
    /// The business's own periods for breach notification duties (the laws' unless configured).
    pub breach_targets: Arc<crate::incidents::extensions::BreachTargets>,
    /// Re-keys of held subjects run one at a time: the one after an erasure, the sweep's, and
    /// a resumed one never work on the same person at once, and back-to-back erasures do not
    /// start re-keys that compete for the CPU with the requests being served.
    pub(crate) rekeying: Arc<tokio::sync::Mutex<()>>,
    /// Where Mamori may send requests of its own (webhooks, DRP callbacks).
    pub outbound: Arc<crate::outbound::Outbound>,
    /// How long a DRP agent's pair-wise token is good for.
    pub drp_token_ttl: std::time::Duration,
    /// The key of the consent state's MACs (derived once: every consent check uses it).
    pub(crate) consent_state_mac: Arc<mamori_crypto::KeyedMac>,
    /// The time every operation reads (the system's, unless a test sets a `FakeClock`).
    pub clock: Arc<dyn crate::clock::Clock>,
    /// Where erasures are noted outside the database (None: nowhere, as in tests).
    pub erasure_journal: Option<Arc<crate::erasure_journal::ErasureJournal>>,
    /// The key epochs' store outside the database (None: no epochs, as in tests).
    pub key_epochs: Option<Arc<crate::keys::epoch_store::EpochStore>>,
    /// Backups taken on a schedule by `serve`, and how they are going (None: none scheduled).
    pub backups: Option<Arc<crate::keys::backup_schedule::BackupMonitor>>,
    /// The machine's own posture checks, which the binary provides (None: only the vault's).
    pub installation: Option<Arc<dyn crate::posture::Installation>>,
}

impl Vault {
    pub fn new(
        policy: Arc<Policy>,
        keyring: Arc<Keyring>,
        store: Arc<dyn Store>,
        ledger: Ledger,
    ) -> Vault {
        let consent_state_mac = Arc::new(mamori_crypto::KeyedMac::new(
            &keyring.subkey("consent-state")[..],
        ));
        Vault {
            consent_state_mac,
            policy,
            keyring,
            store,
            ledger,
            key_cache: Arc::default(),
            scopes: Arc::default(),
            deadlines: Arc::default(),
            breach_targets: Arc::default(),
            rekeying: Arc::default(),
            outbound: Arc::default(),
            drp_token_ttl: crate::drp::DEFAULT_TOKEN_TTL,
            clock: Arc::new(crate::clock::SystemClock),
            erasure_journal: None,
            key_epochs: None,
            backups: None,
            installation: None,
        }
    }

    /// Milliseconds since the Unix epoch, by the vault's clock.
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// The day number (days since the Unix epoch, UTC) by the vault's clock.
    pub fn today(&self) -> i64 {
        self.now_ms().div_euclid(crate::surveys::DAY_MS)
    }

    pub(crate) fn event(
        &self,
        actor: &Actor,
        purpose: &str,
        action: &str,
        subject: Option<&[u8; 16]>,
        categories: IdSet,
        outcome: Outcome,
    ) -> Event {
        Event {
            time_ms: self.now_ms(),
            actor: actor.id.clone(),
            role: actor.role.clone(),
            purpose: Some(purpose.to_string()),
            action: action.to_string(),
            subject: subject.map(format_id),
            categories: self.policy.category_names(categories),
            recipient: None,
            outcome,
        }
    }

    /// Decides, and if denied ledgers the denial durably before returning it.
    pub(crate) async fn authorise(
        &self,
        actor: &Actor,
        purpose: &str,
        action: Action,
        categories: IdSet,
        label: &str,
        subject: Option<&[u8; 16]>,
    ) -> Result<Allowed> {
        (self.authorise_for(actor, purpose, action, categories, label, subject, None)).await
    }

    /// [`Vault::authorise`] for data leaving to `recipient` (a vendor): a refusal's event names it.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn authorise_for(
        &self,
        actor: &Actor,
        purpose: &str,
        action: Action,
        categories: IdSet,
        label: &str,
        subject: Option<&[u8; 16]>,
        recipient: Option<&str>,
    ) -> Result<Allowed> {
        let mut decision = access::decide(
            &self.policy,
            &actor.role,
            purpose,
            action,
            categories,
            &NoConsent,
        );

        // Only a consent-based purpose needs the subject's consent; read it only then. A
        // subject that does not exist has none, so the answer reveals nothing about existence.
        if let (Err(Denial::ConsentRequired), Some(subject)) = (decision, subject) {
            let consent = self.subject_consent(subject).await?;
            decision = access::decide(
                &self.policy,
                &actor.role,
                purpose,
                action,
                categories,
                &consent,
            );
        }
        if decision.is_ok() && !access::owns(&actor.role, &actor.id, subject) {
            decision = Err(Denial::NotOwnRecord);
        }
        match decision {
            Ok(allowed) => Ok(allowed),
            Err(denial) => {
                let outcome = Outcome::Denied {
                    reason: denial.code().to_string(),
                };
                // An unknown purpose name is attacker-controlled text: never copy it into the ledger.
                let purpose_text = if denial == Denial::UnknownPurpose {
                    "(unknown)"
                } else {
                    purpose
                };
                let mut event =
                    self.event(actor, purpose_text, label, subject, categories, outcome);
                event.recipient = recipient.map(str::to_string);
                self.ledger.submit(vec![], vec![event]).await??;
                Err(CoreError::Denied(denial))
            }
        }
    }

    /// Passes `attempt` through; if it failed, first ledgers the failure as a denied `label`
    /// access to `subject` (so a read that hit a missing or corrupt subject still leaves its trace).
    pub(crate) async fn or_ledger<T>(
        &self,
        attempt: Result<T>,
        actor: &Actor,
        purpose: &str,
        label: &str,
        subject: &[u8; 16],
        categories: IdSet,
    ) -> Result<T> {
        let Err(e) = attempt else {
            return attempt;
        };
        let reason = e.code().as_str().into();
        let outcome = Outcome::Denied { reason };
        let event = self.event(actor, purpose, label, Some(subject), categories, outcome);
        self.ledger.submit(vec![], vec![event]).await??;
        Err(e)
    }

    fn parse_data(&self, data: &DataInput, allow_removal: bool) -> Result<Vec<ParsedField>> {
        let mut out = Vec::new();
        for (cat_name, fields) in data {
            let category = self.policy.category(cat_name).ok_or_else(|| {
                CoreError::invalid(ErrorCode::UndeclaredCategory, format!("data.{cat_name}"), format!("category `{cat_name}` is not declared in the policy; only declared data may be stored"))
            })?;
            if fields.is_empty() {
                return Err(CoreError::invalid(
                    ErrorCode::EmptyCategory,
                    format!("data.{cat_name}"),
                    "give at least one field",
                ));
            }
            for (field_name, value) in fields {
                let path = format!("data.{cat_name}.{field_name}");
                let (field_idx, field) = category.field(field_name).ok_or_else(|| {
                    CoreError::invalid(ErrorCode::UndeclaredField, path.clone(), format!("field `{field_name}` is not declared in category `{cat_name}` of the policy"))
                })?;
                let value = match value {
                    Value::Null if allow_removal => None,
                    Value::Null => {
                        return Err(CoreError::invalid(
                            ErrorCode::InvalidValue,
                            path,
                            "null is only allowed when updating (it removes the field)",
                        ));
                    }
                    v => Some(parse_value(&field.kind, v).map_err(|e| {
                        CoreError::invalid(
                            ErrorCode::InvalidValue,
                            path,
                            format!("{}: {}", field.kind.name(), e.expected),
                        )
                    })?),
                };
                out.push(ParsedField {
                    category: category.id,
                    field: field_idx,
                    value,
                });
            }
        }
        Ok(out)
    }

    fn categories_of(fields: &[ParsedField]) -> IdSet {
        fields.iter().fold(IdSet::EMPTY, |s, f| s.with(f.category))
    }

    pub(crate) fn lookup_kind(kind: &FieldType) -> Option<(LookupKind, IndexKind)> {
        match kind {
            FieldType::Email => Some((LookupKind::Email, IndexKind::Email)),
            FieldType::Phone => Some((LookupKind::Phone, IndexKind::Phone)),
            _ => None,
        }
    }

    /// Seals the parsed fields into `map` and returns the blind-index changes they imply.
    fn seal_into(
        &self,
        id: &[u8; 16],
        key: &SubjectKey,
        fields: &[ParsedField],
        map: &mut SealedFields,
    ) -> Vec<Change> {
        let mut index_changes = Vec::new();
        for pf in fields {
            let category = &self.policy.categories[pf.category];
            let field = &category.fields[pf.field];
            let sealed = pf
                .value
                .as_ref()
                .map(|v| key.seal(&category.name, &field.name, v.as_bytes()));
            map.set(&category.name, &field.name, sealed);
            if field.lookup
                && let Some((lookup, index)) = Self::lookup_kind(&field.kind)
            {
                index_changes.push(Change::DropIndex {
                    kind: index,
                    subject_id: *id,
                });
                if let Some(v) = &pf.value {
                    index_changes.push(Change::PutIndex {
                        kind: index,
                        digest: self.keyring.blind_index(lookup, v),
                        subject_id: *id,
                    });
                }
            }
        }
        index_changes
    }

    /// Builds the job that creates one subject (used by the API and by bulk import).
    pub fn prepare_create(
        &self,
        external_id: Option<&str>,
        data: &DataInput,
    ) -> Result<([u8; 16], IdSet, Vec<Change>)> {
        let fields = self.parse_data(data, false)?;
        if fields.is_empty() {
            return Err(CoreError::invalid(
                ErrorCode::EmptyData,
                "data",
                "a subject needs at least one field",
            ));
        }
        let external = external_id
            .map(|e| {
                normalise_external_id(e).map_err(|e| {
                    CoreError::invalid(ErrorCode::InvalidValue, "external_id", e.expected)
                })
            })
            .transpose()?;
        let id = new_id();
        let (key, wrapped) = self
            .keyring
            .new_subject_key(&id)
            .map_err(|e| CoreError::Internal(e.to_string()))?;
        let mut map = SealedFields::default();
        let index_changes = self.seal_into(&id, &key, &fields, &mut map);
        let mut changes = vec![Change::InsertSubject {
            id,
            created_ms: self.now_ms(),
            wrapped_dek: wrapped,
            fields: map.encode(),
        }];
        changes.extend(
            index_changes
                .into_iter()
                .filter(|c| matches!(c, Change::PutIndex { .. })),
        );
        if let Some(e) = external {
            changes.push(Change::PutIndex {
                kind: IndexKind::ExternalId,
                digest: self.keyring.blind_index(LookupKind::ExternalId, &e),
                subject_id: id,
            });
        }
        Ok((id, Self::categories_of(&fields), changes))
    }

    pub async fn create_subject(
        &self,
        actor: &Actor,
        purpose: &str,
        external_id: Option<&str>,
        data: &DataInput,
    ) -> Result<String> {
        let (id, categories, changes) = self.prepare_create(external_id, data)?;
        self.authorise(
            actor,
            purpose,
            Action::Create,
            categories,
            "subject.create",
            None,
        )
        .await?;
        let event = self.event(
            actor,
            purpose,
            "subject.create",
            Some(&id),
            categories,
            Outcome::Allowed,
        );
        self.ledger.submit(changes, vec![event]).await??;
        Ok(format_id(&id))
    }

    /// Opens a subject to read under `reading` (a purpose) or, with `None`, to change it. An
    /// erased subject is not found, except that what an erasure kept for a legal obligation can
    /// still be read for a purpose of that kind, and only that.
    pub(crate) async fn live_subject(
        &self,
        id: &[u8; 16],
        reading: Option<&str>,
    ) -> Result<(SubjectRow, SubjectKey, SealedFields)> {
        let row = self.store.subject(id).await?.ok_or(CoreError::NotFound)?;
        let (Some(wrapped), Some(fields)) = (&row.wrapped_dek, &row.fields) else {
            return Err(CoreError::NotFound);
        };
        if row.is_held() {
            let holding =
                reading.is_some_and(|p| self.policy.holding_purposes().any(|h| h.name == p));
            if !holding {
                return Err(CoreError::Denied(Denial::KeptUnderLegalHold));
            }
        }
        let key = self.unwrap_key(id, wrapped)?;
        let map = SealedFields::decode(fields).map_err(|_| CoreError::Integrity)?;
        Ok((row, key, map))
    }

    pub(crate) fn open_view(
        &self,
        key: &SubjectKey,
        map: &SealedFields,
        visible: IdSet,
        role: &str,
    ) -> Result<DataView> {
        let role = self
            .policy
            .role(role)
            .ok_or(CoreError::Denied(Denial::PurposeNotAllowedForRole))?;
        let mut view = DataView::new();
        for (cat_name, field_name, sealed) in &map.0 {
            let Some(category) = self.policy.category(cat_name) else {
                continue;
            };
            if !visible.contains(category.id) {
                continue;
            }
            // A field removed from the policy since it was stored is no longer shown to anyone.
            let Some((field_idx, field)) = category.field(field_name) else {
                continue;
            };
            let plain = key
                .open(cat_name, field_name, sealed)
                .map_err(|_| CoreError::Integrity)?;
            let text = std::str::from_utf8(&plain).map_err(|_| CoreError::Integrity)?;
            let value = shown(role, category.id, field_idx, &field.kind, text);
            view.entry(cat_name.clone())
                .or_default()
                .insert(field_name.clone(), value);
        }
        Ok(view)
    }

    /// A purpose-scoped view: only categories the purpose covers and the role may view, masked per role.
    pub async fn read_subject(
        &self,
        actor: &Actor,
        purpose: &str,
        id: &[u8; 16],
    ) -> Result<SubjectView> {
        let allowed = self
            .authorise(
                actor,
                purpose,
                Action::View,
                self.policy.all_categories(),
                "subject.read",
                Some(id),
            )
            .await?;
        let (label, visible) = ("subject.read", allowed.categories);
        let opened = self.live_subject(id, Some(purpose)).await;
        let (row, key, map) = self
            .or_ledger(opened, actor, purpose, label, id, visible)
            .await?;
        let data = self.open_view(&key, &map, visible, &actor.role);
        let data = self
            .or_ledger(data, actor, purpose, label, id, visible)
            .await?;
        let event = self.event(
            actor,
            purpose,
            "subject.read",
            Some(id),
            allowed.categories,
            Outcome::Allowed,
        );
        self.ledger.submit(vec![], vec![event]).await??;
        Ok(SubjectView {
            id: format_id(id),
            created_at: format_time(row.created_ms),
            data,
        })
    }

    /// Changes fields (`null` removes one). Retries on concurrent updates so none is lost.
    pub async fn update_subject(
        &self,
        actor: &Actor,
        purpose: &str,
        id: &[u8; 16],
        data: &DataInput,
    ) -> Result<()> {
        let fields = self.parse_data(data, true)?;
        if fields.is_empty() {
            return Err(CoreError::invalid(
                ErrorCode::EmptyData,
                "data",
                "give at least one field to change",
            ));
        }
        let categories = Self::categories_of(&fields);
        self.authorise(
            actor,
            purpose,
            Action::Modify,
            categories,
            "subject.update",
            Some(id),
        )
        .await?;
        for _ in 0..UPDATE_RETRIES {
            let opened = self.live_subject(id, None).await;
            let (row, key, mut map) = self
                .or_ledger(opened, actor, purpose, "subject.update", id, categories)
                .await?;
            let mut changes = vec![];
            let index_changes = self.seal_into(id, &key, &fields, &mut map);
            changes.push(Change::UpdateFields {
                id: *id,
                expected_version: row.version,
                fields: map.encode(),
                active_ms: Some(self.now_ms()),
            });
            changes.extend(index_changes);
            let event = self.event(
                actor,
                purpose,
                "subject.update",
                Some(id),
                categories,
                Outcome::Allowed,
            );
            // Vendors that received what changed are asked to correct it, in the same commit.
            let kind = mamori_proto::disclosures::VendorTaskKind::Correction;
            let (tasks, mut events) = self.vendor_tasks_for(id, kind, categories, None).await?;
            changes.extend(tasks);
            events.insert(0, event);
            match self.ledger.submit(changes, events).await? {
                Ok(()) => return Ok(()),
                Err(mamori_store::JobError::Stale) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(mamori_store::JobError::Stale.into())
    }

    /// Finds a subject id by e-mail, phone or external id through the blind index. Returns ids only.
    pub async fn lookup(
        &self,
        actor: &Actor,
        purpose: &str,
        kind: LookupKind,
        raw: &str,
    ) -> Result<Vec<String>> {
        let (normalised, categories) = match kind {
            LookupKind::Email => (
                normalise_email(raw),
                self.lookup_categories(&FieldType::Email),
            ),
            LookupKind::Phone => (
                normalise_phone(raw),
                self.lookup_categories(&FieldType::Phone),
            ),
            LookupKind::ExternalId => (normalise_external_id(raw), self.policy.all_categories()),
        };
        let label = "subject.lookup";
        let allowed = self
            .authorise(actor, purpose, Action::View, categories, label, None)
            .await?;
        let normalised = normalised
            .map_err(|e| CoreError::invalid(ErrorCode::InvalidValue, kind.tag(), e.expected))?;
        let digest = self.keyring.blind_index(kind, &normalised);
        let found = self.store.find_by_index(index_kind(kind), &digest).await?;
        let event = self.event(
            actor,
            purpose,
            label,
            found.as_ref(),
            allowed.categories,
            Outcome::Allowed,
        );
        self.ledger.submit(vec![], vec![event]).await??;
        Ok(found.iter().map(format_id).collect())
    }

    fn lookup_categories(&self, kind: &FieldType) -> IdSet {
        self.policy
            .categories
            .iter()
            .filter(|c| c.fields.iter().any(|f| f.lookup && &f.kind == kind))
            .fold(IdSet::EMPTY, |s, c| s.with(c.id))
    }
}
/// A stored value as this role sees it: masked if the role has a mask for the field.
fn shown(role: &Role, category: usize, field: usize, kind: &FieldType, text: &str) -> Value {
    match role.mask_for(category, field) {
        Some(mask) => Value::String(mask.apply(text)),
        None => to_json(kind, text),
    }
}

pub fn index_kind(kind: LookupKind) -> IndexKind {
    match kind {
        LookupKind::Email => IndexKind::Email,
        LookupKind::Phone => IndexKind::Phone,
        LookupKind::ExternalId => IndexKind::ExternalId,
    }
}
