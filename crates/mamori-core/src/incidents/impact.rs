//! An incident's impact from the ledger: which people the scope's actors reached in the
//! window, with which categories, how and when — and what their roles could have reached. The
//! window's leaves are found by their time (binary search), and only the leaves of the scope's
//! actors are decoded: each leaf's head names its time and actor. Ids and counts only.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use mamori_ledger::{Event, Outcome, event::leaf_time_and_actor};
use mamori_policy::Action;
use mamori_proto::ErrorCode;
use mamori_proto::incidents::{AffectedPerson, CategoryCount, Impact, Reach};

use super::{INCIDENTS, not_found};
use crate::error::{CoreError, Result};
use crate::vault::{Actor, Vault};
use crate::{format_id, format_time, parse_id};

/// Leaves are appended in commit order, a batch's events a little apart in time: the window is
/// widened by this much to find its leaves, then held exactly.
const SLACK_MS: i64 = 5 * 60_000;

/// At most this many actors in one scope.
const ACTORS_MAX: usize = 100;

/// Whose accesses, when, and optionally only some purposes or categories.
#[derive(Debug, Clone)]
pub struct ImpactWindow {
    pub actors: Vec<String>,
    pub from_ms: i64,
    pub to_ms: i64,
    pub purposes: Option<Vec<String>>,
    pub categories: Option<Vec<String>>,
}

#[derive(Default)]
struct Reached {
    categories: BTreeSet<String>,
    actions: BTreeSet<String>,
    accesses: u64,
    first_ms: i64,
    last_ms: i64,
}

fn invalid(field: &str, why: &str) -> CoreError {
    CoreError::invalid(ErrorCode::InvalidValue, field, why)
}

impl Vault {
    /// Computes the incident's impact for `window` (ledgered as `incident.impact`).
    pub async fn incident_impact(
        &self,
        actor: &Actor,
        id: &[u8; 16],
        window: &ImpactWindow,
    ) -> Result<Impact> {
        self.check_window(window).await?;
        self.grant_and_ledger(actor, INCIDENTS, "incident.impact")
            .await?;
        self.store.incident(id).await?.ok_or_else(not_found)?;
        let roles = self.actor_roles(&window.actors).await?;
        let mut impact = self.scan_window(window).await?;
        self.mark_milestone(id, super::drills::IMPACT).await?;
        impact.incident = format_id(id);
        impact.reach = (roles.into_iter())
            .map(|(actor, role)| self.reach_of(actor, role))
            .collect();
        Ok(impact)
    }

    pub(super) async fn check_window(&self, w: &ImpactWindow) -> Result<()> {
        if w.actors.is_empty() || w.actors.len() > ACTORS_MAX {
            return Err(invalid(
                "actors",
                "name 1 to 100 actors (key:ID or staff:ID)",
            ));
        }
        if w.from_ms >= w.to_ms {
            return Err(CoreError::invalid(
                ErrorCode::InvalidTime,
                "to",
                "the window must end after it starts",
            ));
        }
        for p in w.purposes.iter().flatten() {
            if self.policy.purpose(p).is_none() {
                return Err(invalid("purposes", "not a purpose of the policy"));
            }
        }
        for c in w.categories.iter().flatten() {
            if self.policy.category(c).is_none() {
                return Err(invalid("categories", "not a category of the policy"));
            }
        }
        Ok(())
    }

    /// Each actor's role: an API key's or a member of staff's; an actor that names neither is
    /// refused (the scope would silently miss it).
    pub(super) async fn actor_roles(&self, actors: &[String]) -> Result<Vec<(String, String)>> {
        let unknown = || {
            invalid(
                "actors",
                "an actor is key:ID or staff:ID of an existing API key or member of staff",
            )
        };
        let keys = self.store.api_keys().await?;
        let mut out = vec![];
        for a in actors {
            let role = match a.split_once(':') {
                Some(("key", id)) => {
                    let id = parse_id(id).ok_or_else(unknown)?;
                    keys.iter().find(|k| k.id == id).map(|k| k.role.clone())
                }
                Some(("staff", id)) => {
                    let id = parse_id(id).ok_or_else(unknown)?;
                    self.store.staff_member(&id).await?.map(|m| m.role)
                }
                _ => None,
            };
            out.push((a.clone(), role.ok_or_else(unknown)?));
        }
        Ok(out)
    }

    /// The first leaf at or after `time_ms` (by each leaf's own time; leaves are nearly in
    /// time order).
    pub(super) async fn first_leaf_at(&self, time_ms: i64, size: u64) -> Result<u64> {
        let (mut lo, mut hi) = (0u64, size);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let leaf = self.store.leaves(mid, 1).await?;
            let t = (leaf.first())
                .and_then(|l| leaf_time(&l.data))
                .unwrap_or(i64::MAX);
            if t < time_ms {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        Ok(lo)
    }

    pub(super) async fn scan_window(&self, w: &ImpactWindow) -> Result<Impact> {
        let size = self.ledger.committed_size();
        let start = self.first_leaf_at(w.from_ms - SLACK_MS, size).await?;
        let actors: HashSet<&str> = w.actors.iter().map(String::as_str).collect();
        let mut people: BTreeMap<String, Reached> = BTreeMap::new();
        let (mut scanned, mut accesses, mut denied) = (0u64, 0u64, 0u64);
        let mut leaves = self.store.stream_leaves(start);
        'scan: while let Some(batch) = leaves.recv().await {
            for leaf in batch? {
                if leaf.index >= size {
                    break 'scan;
                }
                scanned += 1;
                let Some((time, who)) = leaf_head(&leaf.data) else {
                    continue;
                };
                if time > w.to_ms + SLACK_MS {
                    break 'scan;
                }
                if time < w.from_ms || time >= w.to_ms || !actors.contains(who.as_str()) {
                    continue;
                }
                let Ok(event) = Event::from_leaf_data(&leaf.data) else {
                    continue;
                };
                if !in_scope(&event, w) {
                    continue;
                }
                let Some(subject) = event.subject.clone() else {
                    continue;
                };
                if event.outcome != Outcome::Allowed {
                    denied += 1;
                    continue;
                }
                accesses += 1;
                let r = people.entry(subject).or_insert_with(|| Reached {
                    first_ms: event.time_ms,
                    ..Reached::default()
                });
                r.categories.extend(event.categories.iter().cloned());
                r.actions.insert(event.action.clone());
                r.accesses += 1;
                r.first_ms = r.first_ms.min(event.time_ms);
                r.last_ms = r.last_ms.max(event.time_ms);
            }
        }
        Ok(summary(people, scanned, accesses, denied))
    }

    fn reach_of(&self, actor: String, role: String) -> Reach {
        let policy = &self.policy;
        let (purposes, categories) = match policy.role(&role) {
            Some(r) => (
                (r.purposes.iter())
                    .map(|p| policy.purposes[p].name.clone())
                    .collect(),
                (r.may(Action::View).iter())
                    .map(|c| policy.categories[c].name.clone())
                    .collect(),
            ),
            None => (vec![], vec![]),
        };
        Reach {
            actor,
            role,
            purposes,
            categories,
        }
    }
}

/// A leaf's time, from its head or, failing that, its decoding.
fn leaf_time(data: &[u8]) -> Option<i64> {
    leaf_head(data).map(|(t, _)| t)
}

pub(super) fn leaf_head(data: &[u8]) -> Option<(i64, String)> {
    match leaf_time_and_actor(data) {
        Some((t, a)) => Some((t, a.to_string())),
        None => Event::from_leaf_data(data)
            .ok()
            .map(|e| (e.time_ms, e.actor)),
    }
}

fn in_scope(e: &Event, w: &ImpactWindow) -> bool {
    let purpose_ok =
        (w.purposes.as_ref()).is_none_or(|ps| e.purpose.as_ref().is_some_and(|p| ps.contains(p)));
    let category_ok =
        (w.categories.as_ref()).is_none_or(|cs| e.categories.iter().any(|c| cs.contains(c)));
    purpose_ok && category_ok
}

fn summary(people: BTreeMap<String, Reached>, scanned: u64, accesses: u64, denied: u64) -> Impact {
    let mut by_category: BTreeMap<String, u64> = BTreeMap::new();
    for r in people.values() {
        for c in &r.categories {
            *by_category.entry(c.clone()).or_default() += 1;
        }
    }
    Impact {
        incident: String::new(),
        leaves_scanned: scanned,
        accesses,
        denied,
        people: people.len() as u64,
        by_category: (by_category.into_iter())
            .map(|(category, people)| CategoryCount { category, people })
            .collect(),
        subjects: (people.into_iter())
            .map(|(subject, r)| AffectedPerson {
                subject,
                categories: r.categories.into_iter().collect(),
                actions: r.actions.into_iter().collect(),
                accesses: r.accesses,
                first_at: format_time(r.first_ms),
                last_at: format_time(r.last_ms),
            })
            .collect(),
        reach: vec![],
    }
}
