//! Records: append-only items sealed under the subject key — adding them, and reading them
//! (all, the newest, or one kind a page at a time), each read decided and ledgered.

use super::*;
use mamori_proto::ErrorCode;

/// Which of a subject's records a read returns.
pub(super) enum Which {
    All,
    Newest(i64),
    Kind {
        category: String,
        before: Option<(i64, [u8; 16])>,
        limit: i64,
    },
}

impl From<Option<i64>> for Which {
    fn from(newest: Option<i64>) -> Which {
        newest.map_or(Which::All, Which::Newest)
    }
}

/// Where a page of records ends, for the next page to start after: `created_ms.id`.
pub fn page_cursor(record: &RecordView) -> String {
    format!("{}.{}", record.created_ms, record.id)
}

/// A `page_cursor` read back; None if it is not one.
pub fn parse_page_cursor(text: &str) -> Option<(i64, [u8; 16])> {
    let (at, id) = text.split_once('.')?;
    Some((at.parse().ok()?, crate::parse_id(id)?))
}

impl Vault {
    pub async fn add_record(
        &self,
        actor: &Actor,
        purpose: &str,
        id: &[u8; 16],
        category: &str,
        data: &BTreeMap<String, Value>,
    ) -> Result<String> {
        self.add_record_with(actor, purpose, id, category, data, vec![])
            .await
    }

    /// [`Vault::add_record`], with more changes committed in the same transaction.
    pub(crate) async fn add_record_with(
        &self,
        actor: &Actor,
        purpose: &str,
        id: &[u8; 16],
        category: &str,
        data: &BTreeMap<String, Value>,
        with: Vec<Change>,
    ) -> Result<String> {
        let input: DataInput = [(category.to_string(), data.clone())].into();
        let fields = self.parse_data(&input, false)?;
        let categories = Self::categories_of(&fields);
        self.authorise(
            actor,
            purpose,
            Action::Create,
            categories,
            "record.create",
            Some(id),
        )
        .await?;
        let opened = self.live_subject(id, None).await;
        let (_, key, _) = self
            .or_ledger(opened, actor, purpose, "record.create", id, categories)
            .await?;
        let cat = &self.policy.categories[fields[0].category];
        let canonical: BTreeMap<&str, &str> = fields
            .iter()
            .map(|f| {
                (
                    cat.fields[f.field].name.as_str(),
                    f.value.as_deref().unwrap_or_default(),
                )
            })
            .collect();
        let record_id = new_id();
        let plain =
            serde_json::to_vec(&canonical).map_err(|e| CoreError::Internal(e.to_string()))?;
        let sealed = key.seal(&cat.name, &record_field(&record_id), &plain);
        let row = RecordRow {
            id: record_id,
            subject_id: *id,
            category: cat.name.clone(),
            created_ms: self.now_ms(),
            sealed,
        };
        let event = self.event(
            actor,
            purpose,
            "record.create",
            Some(id),
            categories,
            Outcome::Allowed,
        );
        let mut changes = vec![Change::InsertRecord(row)];
        changes.extend(with);
        self.ledger.submit(changes, vec![event]).await??;
        Ok(format_id(&record_id))
    }

    /// Records the purpose and role may see, oldest first.
    pub async fn list_records(
        &self,
        actor: &Actor,
        purpose: &str,
        id: &[u8; 16],
    ) -> Result<Vec<RecordView>> {
        self.records_view(actor, purpose, id, None).await
    }

    /// The newest `limit` records the purpose and role may see, newest first, and how many
    /// there are of each category (for pages that show the newest and count the rest).
    pub async fn recent_records(
        &self,
        actor: &Actor,
        purpose: &str,
        id: &[u8; 16],
        limit: i64,
    ) -> Result<(Vec<RecordView>, Vec<(String, i64)>)> {
        let records = self.records_view(actor, purpose, id, Some(limit)).await?;
        let counts = self.store.record_counts(id).await?;
        Ok((records, counts))
    }

    /// One page of a kind of records ("orders"), newest first, older than `before` (the
    /// `page_cursor` of the last record of the previous page): for pages that list them all.
    pub async fn record_page(
        &self,
        actor: &Actor,
        purpose: &str,
        id: &[u8; 16],
        category: &str,
        before: Option<(i64, [u8; 16])>,
        limit: i64,
    ) -> Result<Vec<RecordView>> {
        if self.policy.category(category).is_none() {
            return Err(CoreError::invalid(
                ErrorCode::UnknownCategory,
                "kind",
                "this kind of record is not declared in the policy",
            ));
        }
        let which = Which::Kind {
            category: category.to_string(),
            before,
            limit: limit.clamp(1, MAX_RECORDS),
        };
        self.records_view(actor, purpose, id, which).await
    }

    pub(super) async fn records_view(
        &self,
        actor: &Actor,
        purpose: &str,
        id: &[u8; 16],
        which: impl Into<Which>,
    ) -> Result<Vec<RecordView>> {
        let which = which.into();
        let allowed = self
            .authorise(
                actor,
                purpose,
                Action::View,
                self.policy.all_categories(),
                "record.list",
                Some(id),
            )
            .await?;
        let role = self
            .policy
            .role(&actor.role)
            .ok_or(CoreError::Denied(Denial::PurposeNotAllowedForRole))?;
        // An erasure that commits between reading the key and reading the records re-keys or
        // removes them; reading again then gives the answer as of after it (gone, or what it kept).
        let mut attempts = 0;
        let out = loop {
            attempts += 1;
            let opened = self.live_subject(id, Some(purpose)).await;
            let (subject, key, _) = self
                .or_ledger(
                    opened,
                    actor,
                    purpose,
                    "record.list",
                    id,
                    allowed.categories,
                )
                .await?;
            let records = self.stored_records(id, &which).await?;
            let previous = self.previous_key(&subject)?;
            let keys = [Some(&key), previous.as_ref()];
            let opened = self.open_records(&keys, records, allowed.categories, role);
            // Records are only ever appended, except by an erasure: if one committed since the
            // key was read, what was read may be partial or under a destroyed key.
            if attempts < 3 && self.erased_since(&subject).await? {
                continue;
            }
            break self
                .or_ledger(
                    opened,
                    actor,
                    purpose,
                    "record.list",
                    id,
                    allowed.categories,
                )
                .await?;
        };
        let event = self.event(
            actor,
            purpose,
            "record.list",
            Some(id),
            allowed.categories,
            Outcome::Allowed,
        );
        self.ledger.submit(vec![], vec![event]).await??;
        Ok(out)
    }
}

impl Vault {
    /// The sealed records `which` asks for, as stored.
    async fn stored_records(&self, id: &[u8; 16], which: &Which) -> Result<Vec<RecordRow>> {
        Ok(match which {
            Which::All => self.store.records(id, MAX_RECORDS).await?,
            Which::Newest(n) => {
                self.store
                    .records_newest(id, (*n).clamp(1, MAX_RECORDS))
                    .await?
            }
            Which::Kind {
                category,
                before,
                limit,
            } => {
                self.store
                    .records_of_kind(id, category, *before, *limit)
                    .await?
            }
        })
    }

    /// The key a re-key under way is replacing (records not yet re-sealed are under it).
    pub(crate) fn previous_key(&self, row: &SubjectRow) -> Result<Option<SubjectKey>> {
        row.previous_wrapped_dek
            .as_ref()
            .map(|wrapped| self.unwrap_key(&row.id, wrapped))
            .transpose()
    }

    /// Opens records with the first of `keys` that opens each (the current key, then the
    /// previous one while a re-key is under way).
    pub(crate) fn open_records(
        &self,
        keys: &[Option<&SubjectKey>],
        records: Vec<RecordRow>,
        visible: IdSet,
        role: &Role,
    ) -> Result<Vec<RecordView>> {
        let mut out = Vec::new();
        for row in records {
            let Some(category) = self.policy.category(&row.category) else {
                continue;
            };
            if !visible.contains(category.id) {
                continue;
            }
            let aad_field = record_field(&row.id);
            let plain = keys
                .iter()
                .flatten()
                .find_map(|key| key.open(&row.category, &aad_field, &row.sealed).ok())
                .ok_or(CoreError::Integrity)?;
            let stored: BTreeMap<String, String> =
                serde_json::from_slice(&plain).map_err(|_| CoreError::Integrity)?;
            let data = stored
                .into_iter()
                .filter_map(|(name, text)| {
                    let (idx, field) = category.field(&name)?;
                    let value = shown(role, category.id, idx, &field.kind, &text);
                    Some((name, value))
                })
                .collect();
            out.push(RecordView {
                id: format_id(&row.id),
                category: row.category.clone(),
                created_at: format_time(row.created_ms),
                created_ms: row.created_ms,
                data,
            });
        }
        Ok(out)
    }

    /// Whether an erasure (or a re-key of what one kept) committed since `seen` was read.
    pub(crate) async fn erased_since(&self, seen: &SubjectRow) -> Result<bool> {
        let now = self.store.subject(&seen.id).await?;
        Ok(now.is_none_or(|row| {
            row.erased_ms != seen.erased_ms || row.wrapped_dek != seen.wrapped_dek
        }))
    }
}

pub(crate) fn record_field(record_id: &[u8; 16]) -> String {
    format!("record:{}", hex::encode(record_id))
}
