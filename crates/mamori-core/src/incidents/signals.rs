//! Automatic signals: draft incidents opened by the scheduler when the ledger shows something a
//! response team must look at — a key or a member of staff reading many more people in the last
//! hour than its own hourly average over the day before, a storm of denied attempts, a ledger
//! that no longer matches its signed head. Each signal opens one incident once (per actor and
//! hour, per hour, per day), reported by `signals`, its title naming ids and counts only.

use std::collections::{HashMap, HashSet};

use mamori_ledger::{Event, Outcome};
use mamori_proto::incidents::{IncidentKind, IncidentSeverity};
use mamori_store::{Change, JobError};

use super::impact::leaf_head;
use crate::error::Result;
use crate::parse_id;
use crate::vault::Vault;

const HOUR_MS: i64 = 3_600_000;
/// The baseline: the day before the last hour.
const BASELINE_HOURS: i64 = 24;

/// When a signal fires (`[signals]` in `mamori.toml`).
#[derive(Debug, Clone, Copy)]
pub struct SignalSettings {
    /// An actor reading more distinct people in the last hour than this many times its hourly
    /// average over the day before…
    pub reads_factor: f64,
    /// …and at least this many.
    pub reads_min: usize,
    /// Denied attempts in the last hour, all actors together.
    pub denials_per_hour: u64,
}

impl Default for SignalSettings {
    fn default() -> Self {
        SignalSettings {
            reads_factor: 5.0,
            reads_min: 50,
            denials_per_hour: 200,
        }
    }
}

/// What the last day of the ledger says.
#[derive(Default)]
struct Window {
    /// Distinct people per actor in the last hour.
    last_hour: HashMap<String, HashSet<[u8; 16]>>,
    /// Distinct people per actor and hour of the day before.
    before: HashMap<(String, i64), HashSet<[u8; 16]>>,
    denied_last_hour: u64,
}

/// A signal, its once-only key, and its incident's words.
struct Signal {
    key: String,
    title: String,
    kind: IncidentKind,
    severity: IncidentSeverity,
}

impl Vault {
    /// One pass: reads the last day of the ledger and opens an incident for each signal not
    /// opened before. Returns how many were opened.
    pub async fn check_signals(&self, settings: &SignalSettings) -> Result<usize> {
        let now = self.now_ms();
        let hour = now.div_euclid(HOUR_MS);
        let mut signals = vec![];
        // Only whether: the reason may name a file, which has no place in a title.
        if self.writer_state().integrity_problem.is_some() {
            signals.push(Signal {
                key: format!("ledger:{}", now.div_euclid(24 * HOUR_MS)),
                title: "Automatic signal: the ledger no longer matches its signed head".into(),
                kind: IncidentKind::Other,
                severity: IncidentSeverity::Critical,
            });
        }
        let w = self.read_window(now).await?;
        if w.denied_last_hour >= settings.denials_per_hour {
            signals.push(Signal {
                key: format!("denials:{hour}"),
                title: format!(
                    "Automatic signal: {} denied attempts in the last hour",
                    w.denied_last_hour
                ),
                kind: IncidentKind::UnauthorisedAccess,
                severity: IncidentSeverity::Medium,
            });
        }
        for (actor, people) in &w.last_hour {
            let before: usize = (w.before.iter())
                .filter(|((a, _), _)| a == actor)
                .map(|(_, s)| s.len())
                .sum();
            let average = before as f64 / BASELINE_HOURS as f64;
            let n = people.len();
            if n >= settings.reads_min && n as f64 > settings.reads_factor * average {
                signals.push(Signal {
                    key: format!("reads:{actor}:{hour}"),
                    title: format!(
                        "Automatic signal: {actor} read {n} people in the last hour (its hourly average: {average:.1})"
                    ),
                    kind: IncidentKind::UnauthorisedAccess,
                    severity: IncidentSeverity::High,
                });
            }
        }
        let mut opened = 0;
        for s in signals {
            if self.open_signal(s, now).await? {
                opened += 1;
            }
        }
        Ok(opened)
    }

    /// Distinct people per actor (keys and staff) over the last day, and denials in the last hour.
    async fn read_window(&self, now: i64) -> Result<Window> {
        let from = now - (BASELINE_HOURS + 1) * HOUR_MS;
        let size = self.ledger.committed_size();
        let start = self.first_leaf_at(from - 5 * 60_000, size).await?;
        let mut w = Window::default();
        let mut leaves = self.store.stream_leaves(start);
        'scan: while let Some(batch) = leaves.recv().await {
            for leaf in batch? {
                if leaf.index >= size {
                    break 'scan;
                }
                let Some((time, who)) = leaf_head(&leaf.data) else {
                    continue;
                };
                let person_actor = who.starts_with("key:") || who.starts_with("staff:");
                if time < from || !person_actor {
                    continue;
                }
                let Ok(event) = Event::from_leaf_data(&leaf.data) else {
                    continue;
                };
                let last_hour = time >= now - HOUR_MS;
                if event.outcome != Outcome::Allowed {
                    w.denied_last_hour += u64::from(last_hour);
                    continue;
                }
                let Some(subject) = event.subject.as_deref().and_then(parse_id) else {
                    continue;
                };
                match last_hour {
                    true => w.last_hour.entry(who).or_default().insert(subject),
                    false => {
                        (w.before.entry((who, (now - time) / HOUR_MS)).or_default()).insert(subject)
                    }
                };
            }
        }
        Ok(w)
    }

    /// Opens the signal's incident unless it was opened before (here or by another server).
    async fn open_signal(&self, s: Signal, now: i64) -> Result<bool> {
        let opening = super::Opening {
            title: &s.title,
            kind: s.kind,
            severity: s.severity,
            detected_ms: now,
            by: "signals",
            drill: false,
            // Someone confirms it (moves it on) or dismisses it (closes it with a note).
            status: mamori_proto::incidents::IncidentStatus::Draft,
        };
        let (incident, opened) = self.new_incident(&opening);
        let id = incident.id;
        let announced = self.announce_opened(&incident);
        let changes = vec![
            Change::InsertIncident { incident, opened },
            announced,
            Change::RecordSignal {
                signal: s.key,
                incident_id: id,
                at_ms: now,
            },
        ];
        let scheduler = crate::vault::Actor {
            id: "signals".into(),
            role: "system".into(),
        };
        let event = crate::admin::Granted::scheduled(&scheduler, "incident.signal", now).event();
        match self.ledger.submit(changes, vec![event]).await? {
            Ok(()) => Ok(true),
            Err(JobError::Duplicate) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }
}
