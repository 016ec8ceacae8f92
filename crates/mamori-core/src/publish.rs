//! Publishing the policy: each version the notices are generated from is recorded (content
//! hash, time, who, the text itself), announced in the outbox as `notice.published`, and named
//! in consent records as the notice version the person saw.

use mamori_proto::ErrorCode;
use mamori_proto::outbox::{
    EventType, NoticeChange, NoticeChanged, NoticePublished, ReconsentRequested,
};

use crate::outbox::payload;
use mamori_store::{Change, PolicyVersion};
use sha2::{Digest, Sha256};

use mamori_policy::Policy;
use mamori_policy::diff::{PolicyChange, diff};

use crate::access::Permission;
use crate::error::{CoreError, Result};
use crate::vault::{Actor, Vault};
use crate::versions::widened_consents;

/// What publishing did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Published {
    New {
        version: i64,
    },
    /// The same text is already the latest published version.
    Unchanged {
        version: i64,
    },
}

/// A published version, as listed (the text itself is in the store, not here).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedVersion {
    pub version: i64,
    pub hash: [u8; 32],
    pub published_ms: i64,
    /// Who published it (an actor id: `cli`, `key:<uuid>`).
    pub actor: String,
}

impl Vault {
    /// The published versions, oldest first.
    pub async fn policy_versions(&self, by: &Actor) -> Result<Vec<PublishedVersion>> {
        let policy = Permission::Admin(mamori_policy::AdminPermission::Policy);
        self.grant_and_ledger(by, policy, "policy.versions").await?;
        let versions = self.store.policy_versions().await?;
        Ok(versions
            .into_iter()
            .map(|v| PublishedVersion {
                version: v.version,
                hash: v.hash,
                published_ms: v.published_ms,
                actor: v.actor,
            })
            .collect())
    }

    /// Records `text` (the policy file in force) as a new published version, unless it is the
    /// latest one already. When it changes what an earlier version said, every live subject is
    /// told (`subject.notice_changed`), and each person whose consent no longer covers a widened
    /// purpose is asked again (`subject.reconsent_requested`) — all in the publish transaction.
    pub async fn publish_policy(&self, by: &Actor, text: &str) -> Result<Published> {
        let policy = Permission::Admin(mamori_policy::AdminPermission::Policy);
        let granted = self.grant(by, policy, "policy.publish").await?;
        let hash: [u8; 32] = Sha256::digest(text.as_bytes()).into();
        let versions = self.store.policy_versions().await?;
        let previous = versions.last();
        if let Some(latest) = previous
            && latest.hash == hash
        {
            return Ok(Published::Unchanged {
                version: latest.version,
            });
        }
        let new = Policy::parse("policy.toml", text).map_err(|_| {
            CoreError::invalid(
                ErrorCode::InvalidPolicy,
                "policy",
                "the policy has problems; run `mamori policy check`",
            )
        })?;
        self.refuse_dropping_vendors_with_tasks(by, &new).await?;
        let version = previous.map_or(1, |v| v.version + 1);
        let now = self.now_ms();
        let mut changes = vec![Change::PublishPolicy(PolicyVersion {
            version,
            hash,
            published_ms: now,
            actor: by.id.clone(),
            policy: text.to_string(),
        })];
        let (told, widened) = what_changed(previous, &new);
        changes.extend(self.announcements(version, &hash, &told, &widened, now));
        let event = granted.event();
        match self.ledger.submit(changes, vec![event]).await? {
            Ok(()) => {}
            Err(mamori_store::JobError::Duplicate) => {
                return Err(CoreError::Conflict {
                    code: ErrorCode::ConcurrentPublish,
                    message: "another publish happened at the same time; run it again".into(),
                });
            }
            Err(e) => return Err(e.into()),
        }
        self.scopes.invalidate();
        Ok(Published::New { version })
    }

    /// A vendor may leave the register only once it has confirmed every task it was given:
    /// otherwise it could no longer confirm them, and nobody would be reminded. Refused and
    /// ledgered (`vendor_tasks_pending`), naming the vendors.
    async fn refuse_dropping_vendors_with_tasks(&self, by: &Actor, new: &Policy) -> Result<()> {
        let pending = self.store.vendors_with_open_tasks().await?;
        let dropped: Vec<String> = (pending.into_iter())
            .filter(|v| new.vendor(v).is_none())
            .collect();
        if dropped.is_empty() {
            return Ok(());
        }
        let code = ErrorCode::VendorTasksPending;
        let outcome = mamori_ledger::Outcome::Denied {
            reason: code.as_str().into(),
        };
        let event = crate::admin::admin_event(by, "policy.publish", outcome, self.now_ms());
        self.ledger.submit(vec![], vec![event]).await??;
        Err(CoreError::Conflict {
            code,
            message: format!(
                "these vendors still have tasks open and would leave the register: {}; keep them \
                 until they confirm (`mamori vendor tasks --open`)",
                dropped.join(", ")
            ),
        })
    }

    /// What a publish announces: the new version (with its changes and the purposes that need
    /// consent again) to other systems, that the notice changed to every live person, and a
    /// request to agree again to each person who granted a widened purpose.
    fn announcements(
        &self,
        version: i64,
        hash: &[u8; 32],
        told: &[PolicyChange],
        widened: &[(String, Vec<String>)],
        now: i64,
    ) -> Vec<Change> {
        let label = format!("v{version}");
        let data = NoticePublished {
            version: label.clone(),
            hash: hex::encode(hash),
            changes: (told.iter())
                .map(|c| NoticeChange {
                    text: c.text(),
                    widens: c.widens,
                })
                .collect(),
            reconsent: widened.iter().map(|(p, _)| p.clone()).collect(),
        };
        let mut out = vec![self.announce(EventType::NoticePublished, None, &data)];
        if !told.is_empty() {
            let changed = NoticeChanged {
                version: label.clone(),
                widens: told.iter().any(|c| c.widens),
            };
            out.push(Change::AnnounceToSubjects {
                kind: EventType::SubjectNoticeChanged.as_str().into(),
                payload: payload(&changed),
                created_ms: now,
                granted_purpose: None,
            });
        }
        for (purpose, added) in widened {
            let asked = ReconsentRequested {
                version: label.clone(),
                purpose: purpose.clone(),
                added_categories: added.clone(),
            };
            out.push(Change::AnnounceToSubjects {
                kind: EventType::SubjectReconsentRequested.as_str().into(),
                payload: payload(&asked),
                created_ms: now,
                granted_purpose: Some(purpose.clone()),
            });
        }
        out
    }

    /// The published version the policy in force is (`v<N>`, publication time), if it is one.
    /// Picks up a publish made by another process since the last look.
    pub async fn published_version_in_force(&self) -> Result<Option<(String, i64)>> {
        let latest = self.store.latest_policy_version().await?.map(|(v, _)| v);
        let scopes = self
            .scopes
            .get(&self.policy, &*self.store, [latest])
            .await?;
        let hash: [u8; 32] = Sha256::digest(self.policy.source.as_bytes()).into();
        Ok(scopes
            .published_as(&hash)
            .map(|(v, ms)| (format!("v{v}"), ms)))
    }

    /// The records of processing (GDPR Art. 30) of the policy in force, in `lang`, naming the
    /// published version they are (`admin = ["policy"]`; ledgered `policy.records`).
    pub async fn records_of_processing(
        &self,
        by: &Actor,
        lang: mamori_policy::Language,
    ) -> Result<mamori_policy::records::Records> {
        let permission = Permission::Admin(mamori_policy::AdminPermission::Policy);
        self.grant_and_ledger(by, permission, "policy.records")
            .await?;
        let published = self.published_version_in_force().await?;
        let date = published.as_ref().map(|(_, ms)| {
            let time = crate::format_time(*ms);
            time.get(..10).unwrap_or_default().to_string()
        });
        let said = published.as_ref().zip(date.as_deref());
        let version =
            mamori_policy::notice::version_text(lang, said.map(|((v, _), d)| (v.as_str(), d)));
        Ok(mamori_policy::records::records(&self.policy, lang, version))
    }

    /// `v<N>` of the latest published version, if any (the notice people see now).
    pub async fn current_notice_version(&self) -> Result<Option<String>> {
        let latest = self.store.latest_policy_version().await?;
        Ok(latest.map(|(v, _)| format!("v{v}")))
    }
}

/// What changed since the previous published version: the changes people are told of, and the
/// consent-based purposes widened since (with the categories they added).
fn what_changed(
    previous: Option<&PolicyVersion>,
    new: &Policy,
) -> (Vec<PolicyChange>, Vec<(String, Vec<String>)>) {
    match previous.map(|v| Policy::parse("published", &v.policy)) {
        None => (Vec::new(), Vec::new()),
        Some(Ok(old)) => {
            let widened = widened_consents(&old, new)
                .into_iter()
                .map(|(p, added)| (p.name.clone(), added))
                .collect();
            (diff(&old, new), widened)
        }
        // An earlier version this build cannot read: say so rather than pretend nothing changed.
        Some(Err(_)) => {
            let unknown = PolicyChange {
                widens: true,
                kind: mamori_policy::diff::ChangeKind::Incomparable,
            };
            (vec![unknown], Vec::new())
        }
    }
}
