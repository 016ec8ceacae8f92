//! Everything that runs in the background, declared once here with its schedule: webhook
//! delivery, the subject index, deadline reminders, the end of erasure holds, head
//! announcements, head anchoring and the purge of erased records. The runner owns the waiting,
//! so each job is only "one run", and the one place that decides whether a job runs is here
//! (and, through leases, that each runs on one server at a time when several share a
//! database: see `leases`).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::error::Result;
use crate::incidents::notice_sending::NoticeLinks;
use crate::leases::{LEASE_MS, Lease};
use crate::outbound::HttpSender;
use crate::vault::Vault;
use crate::webhooks::{Deliveries, WebhookSettings};

/// When a job runs.
#[derive(Debug, Clone, Copy)]
pub enum Schedule {
    /// At start, then this long after each run.
    Every(Duration),
    /// This long after start, then this long after each run.
    EveryAfterFirstWait(Duration),
    /// At start, then after each ledger commit, at most once per this long.
    AfterCommit(Duration),
}

/// How often a job that runs long renews its lease.
const RENEW_EVERY_MS: u64 = (LEASE_MS / 3) as u64;
/// How often prepared notices are looked for.
const NOTICES_EVERY: Duration = Duration::from_secs(2);

/// What one run found.
pub enum Ran {
    /// Nothing more for now: wait for the schedule.
    Done,
    /// More is waiting: run again at once.
    More,
}

#[async_trait::async_trait]
trait Job: Send {
    fn name(&self) -> &'static str;
    fn schedule(&self) -> Schedule;
    async fn run(&mut self, vault: &Vault) -> Result<Ran>;
    /// Whether one server at a time runs it for all (under a lease), or every server for
    /// itself (its own file, its own delivery tasks).
    fn shared(&self) -> bool {
        true
    }
}

/// What the caller decides about the jobs; the rest is fixed here.
pub struct JobSettings {
    /// Sends webhook deliveries (no deliveries without one).
    pub webhook_sender: Option<Arc<dyn HttpSender>>,
    pub webhooks: WebhookSettings,
    /// Reminders of request and incident deadlines coming up (`request.due_soon`,
    /// `incident.deadline_soon` in the outbox).
    pub deadline_reminders: bool,
    /// A file the latest signed head is appended to whenever it grew.
    pub heads_file: Option<PathBuf>,
    /// Removing the ciphertext rows of erased subjects (unreadable already; reclaims space).
    pub purge_erased: bool,
    /// Sends DRP status callbacks (none without one).
    pub drp_callback_sender: Option<Arc<dyn HttpSender>>,
    /// Rotates key epochs on this schedule (needs the vault's key store).
    pub key_rotation: Option<crate::keys::EpochSchedule>,
    /// Enforces each category's retention on live data, hourly.
    pub retention_sweep: bool,
    /// Reminds staff before their training expires (outbox event, and an e-mail through this
    /// mailer when there is one); with the deadline reminders.
    pub training_mailer: Option<Arc<dyn crate::mail::Mailer>>,
    /// Sends the notices incidents prepared for the people they affected, through this mailer.
    pub incident_notices: Option<(Arc<dyn crate::mail::Mailer>, NoticeLinks)>,
    /// Opens draft incidents on automatic signals, with these thresholds.
    pub signals: Option<crate::incidents::signals::SignalSettings>,
}

/// The jobs running; dropping this stops them (their leases then lapse in [`LEASE_MS`]).
pub struct RunningJobs {
    tasks: Vec<tokio::task::JoinHandle<()>>,
    vault: Vault,
    holder: Arc<str>,
}

impl RunningJobs {
    /// Stops every job and gives up this server's leases, so another server takes over at
    /// once (a clean stop; after a crash they lapse instead).
    pub async fn stop(mut self) {
        for task in std::mem::take(&mut self.tasks) {
            task.abort();
            let _ = task.await;
        }
        if let Err(e) = self.vault.store.release_leases(&self.holder).await {
            tracing::warn!(error = %e, "the jobs' leases could not be given up; they lapse instead");
        }
    }
}

impl Drop for RunningJobs {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Starts every job the settings call for.
pub fn start(vault: &Vault, settings: JobSettings) -> RunningJobs {
    let holder = crate::leases::new_holder();
    let mut jobs: Vec<Box<dyn Job>> = vec![
        Box::new(SubjectIndex { tidied: false }),
        Box::new(Holds),
        Box::new(HeadAnnouncer { announced: 0 }),
    ];
    if let Some(sender) = settings.webhook_sender {
        let deliveries = Deliveries::new(vault.clone(), sender, settings.webhooks, holder.clone());
        jobs.push(Box::new(Webhooks(deliveries)));
    }
    if let Some(sender) = settings.drp_callback_sender {
        jobs.push(Box::new(DrpCallbacks(crate::drp::Callbacks::new(sender))));
    }
    if settings.deadline_reminders {
        jobs.push(Box::new(Reminders));
        jobs.push(Box::new(TrainingReminders(
            settings.training_mailer.clone(),
        )));
    }
    if let Some(thresholds) = settings.signals {
        jobs.push(Box::new(Signals(thresholds)));
    }
    if let Some((mailer, links)) = settings.incident_notices {
        jobs.push(Box::new(IncidentNotices { mailer, links }));
    }
    if let Some(path) = settings.heads_file {
        jobs.push(Box::new(Anchor {
            path,
            anchored: None,
        }));
    }
    if settings.purge_erased {
        jobs.push(Box::new(PurgeErased));
    }
    if settings.retention_sweep {
        jobs.push(Box::new(RetentionSweep));
    }
    if vault.backups.is_some() {
        jobs.push(Box::new(Backups));
    }
    if let Some(schedule) = settings.key_rotation
        && vault.key_epochs.is_some()
    {
        jobs.push(Box::new(KeyRotation(schedule)));
    }
    let tasks = jobs
        .into_iter()
        .map(|job| tokio::spawn(drive(vault.clone(), job, holder.clone())))
        .collect();
    RunningJobs {
        tasks,
        vault: vault.clone(),
        holder,
    }
}

async fn drive(vault: Vault, mut job: Box<dyn Job>, holder: Arc<str>) {
    let mut commits = vault.ledger.commits();
    let schedule = job.schedule();
    let mut lease = (job.shared()).then(|| Lease::new(job.name(), holder));
    if let Schedule::EveryAfterFirstWait(wait) = schedule {
        tokio::time::sleep(wait).await;
    }
    loop {
        match run_once(&vault, &mut *job, lease.as_mut()).await {
            Ok(Ran::More) => continue,
            Ok(Ran::Done) => {}
            Err(e) => {
                tracing::warn!(job = job.name(), error = %e, code = e.code().as_str(), "a background job failed; it runs again on schedule")
            }
        }
        match schedule {
            Schedule::Every(wait) | Schedule::EveryAfterFirstWait(wait) => {
                tokio::time::sleep(wait).await
            }
            Schedule::AfterCommit(at_most) => {
                tokio::time::sleep(at_most).await;
                // Or after a while without one: commits of other servers (and a lease a
                // stopped server let lapse) are noticed too.
                let waited =
                    tokio::time::timeout(Duration::from_millis(LEASE_MS as u64), commits.changed());
                if matches!(waited.await, Ok(Err(_))) {
                    return;
                }
            }
        }
    }
}

/// One run, under the job's lease when it is shared: skipped while another server holds it;
/// renewed while the run lasts, and the run is stopped if the lease is lost (its commits
/// would be refused anyway).
async fn run_once(vault: &Vault, job: &mut dyn Job, lease: Option<&mut Lease>) -> Result<Ran> {
    let Some(lease) = lease else {
        return job.run(vault).await;
    };
    let Some(held) = lease.hold(&*vault.store).await? else {
        return Ok(Ran::Done);
    };
    let name = job.name();
    let run = crate::leases::HELD.scope(held, job.run(vault));
    let keep = async {
        loop {
            tokio::time::sleep(Duration::from_millis(RENEW_EVERY_MS)).await;
            if !matches!(lease.renew(&*vault.store).await, Ok(true)) {
                return;
            }
        }
    };
    tokio::select! {
        ran = run => ran,
        () = keep => {
            tracing::warn!(job = name, "a background job lost its lease mid-run; another server carries on");
            Ok(Ran::Done)
        }
    }
}

/// Indexes committed ledger leaves by subject ("who accessed my data"); the first run tidies
/// what an interrupted one left.
struct SubjectIndex {
    tidied: bool,
}

#[async_trait::async_trait]
impl Job for SubjectIndex {
    fn name(&self) -> &'static str {
        "subject_index"
    }
    fn schedule(&self) -> Schedule {
        Schedule::AfterCommit(crate::subject_index::INDEX_EVERY)
    }
    async fn run(&mut self, vault: &Vault) -> Result<Ran> {
        if !self.tidied {
            self.tidied = true;
            if let Err(e) = crate::subject_index::tidy(&vault.ledger, &*vault.store).await {
                tracing::warn!(error = %e, "the subject index could not be tidied; retrying next start");
            }
        }
        crate::subject_index::pass(&vault.ledger, &*vault.store).await?;
        Ok(Ran::Done)
    }
}

/// Re-keys what erasures kept for a legal obligation, and drops it once each hold ends.
struct Holds;

#[async_trait::async_trait]
impl Job for Holds {
    fn name(&self) -> &'static str {
        "erasure_holds"
    }
    fn schedule(&self) -> Schedule {
        Schedule::Every(Duration::from_secs(60))
    }
    async fn run(&mut self, vault: &Vault) -> Result<Ran> {
        if let Err(e) = vault.rekey_holds(100).await {
            tracing::warn!(error = %e, code = e.code().as_str(), "re-keying erased subjects' kept data failed");
        }
        vault.end_holds(vault.now_ms(), 1_000).await?;
        Ok(Ran::Done)
    }
}

/// Starts key epochs when due, re-wraps data keys under the current one, and destroys the
/// epochs past the backup horizon.
struct KeyRotation(crate::keys::EpochSchedule);

#[async_trait::async_trait]
impl Job for KeyRotation {
    fn name(&self) -> &'static str {
        "key_rotation"
    }
    fn schedule(&self) -> Schedule {
        // Checked often (it does nothing until a rotation is due), so a rotation is at most a
        // few minutes late whatever the interval.
        Schedule::Every(
            Duration::from_secs(300)
                .min(self.0.every / 4)
                .max(Duration::from_secs(1)),
        )
    }
    async fn run(&mut self, vault: &Vault) -> Result<Ran> {
        let report = vault.scheduled_key_rotation(&self.0).await?;
        if report.started.is_some() || !report.destroyed.is_empty() {
            tracing::info!(
                started = ?report.started,
                rewrapped = report.rewrapped,
                destroyed = ?report.destroyed,
                "key epochs rotated"
            );
        }
        Ok(Ran::Done)
    }
}

/// Erases what each category's retention no longer allows keeping.
struct RetentionSweep;

#[async_trait::async_trait]
impl Job for RetentionSweep {
    fn name(&self) -> &'static str {
        "retention_sweep"
    }
    fn schedule(&self) -> Schedule {
        Schedule::EveryAfterFirstWait(Duration::from_secs(3_600))
    }
    async fn run(&mut self, vault: &Vault) -> Result<Ran> {
        let report = vault.scheduled_retention_sweep().await?;
        let carried_out = vault.carry_out_waiting_erasures().await?;
        if carried_out > 0 {
            tracing::info!(
                carried_out,
                "erasures a legal hold kept waiting carried out"
            );
        }
        if !report.is_empty() {
            tracing::info!(
                people_erased = report.people_erased,
                categories = report.categories.len(),
                "retention sweep"
            );
        }
        Ok(Ran::Done)
    }
}

/// Takes a backup when one is due (`[backup]` in mamori.toml) and deletes the oldest beyond
/// `keep`.
struct Backups;

#[async_trait::async_trait]
impl Job for Backups {
    fn name(&self) -> &'static str {
        "backups"
    }
    fn schedule(&self) -> Schedule {
        Schedule::Every(Duration::from_secs(30))
    }
    async fn run(&mut self, vault: &Vault) -> Result<Ran> {
        if let Some(monitor) = &vault.backups {
            vault.scheduled_backup(monitor).await?;
        }
        Ok(Ran::Done)
    }
}

/// Offers each new signed head to witnesses (`ledger.head_signed` in the outbox).
struct HeadAnnouncer {
    announced: u64,
}

#[async_trait::async_trait]
impl Job for HeadAnnouncer {
    fn name(&self) -> &'static str {
        "head_announcer"
    }
    fn schedule(&self) -> Schedule {
        Schedule::EveryAfterFirstWait(crate::anchor::ANNOUNCE_EVERY)
    }
    async fn run(&mut self, vault: &Vault) -> Result<Ran> {
        self.announced = vault.announce_head(self.announced).await?;
        Ok(Ran::Done)
    }
}

/// Keeps one delivery task per active webhook subscription.
struct Webhooks(Deliveries);

#[async_trait::async_trait]
impl Job for Webhooks {
    fn name(&self) -> &'static str {
        "webhook_delivery"
    }
    /// Every server watches the subscriptions; each one's deliveries hold a lease of their own.
    fn shared(&self) -> bool {
        false
    }
    fn schedule(&self) -> Schedule {
        Schedule::Every(crate::webhooks::RESCAN)
    }
    async fn run(&mut self, _vault: &Vault) -> Result<Ran> {
        self.0.reconcile().await?;
        Ok(Ran::Done)
    }
}

/// Posts DRP status callbacks for the request events in the outbox.
struct DrpCallbacks(crate::drp::Callbacks);

#[async_trait::async_trait]
impl Job for DrpCallbacks {
    fn name(&self) -> &'static str {
        "drp_callbacks"
    }
    fn schedule(&self) -> Schedule {
        Schedule::Every(Duration::from_millis(250))
    }
    async fn run(&mut self, vault: &Vault) -> Result<Ran> {
        Ok(if self.0.pass(vault).await? {
            Ran::More
        } else {
            Ran::Done
        })
    }
}

/// Sends the reminders that are due: request and incident deadlines, vendor tasks not
/// confirmed, vendor contracts and reviews.
struct Reminders;

#[async_trait::async_trait]
impl Job for Reminders {
    fn name(&self) -> &'static str {
        "deadline_reminders"
    }
    fn schedule(&self) -> Schedule {
        Schedule::Every(crate::requests::REMIND_EVERY)
    }
    async fn run(&mut self, vault: &Vault) -> Result<Ran> {
        vault.send_due_reminders().await?;
        vault.send_incident_reminders().await?;
        vault.remind_vendor_tasks().await?;
        vault.send_vendor_reminders().await?;
        Ok(Ran::Done)
    }
}

/// Reminds staff of trainings that expire within 30 days.
struct TrainingReminders(Option<Arc<dyn crate::mail::Mailer>>);

#[async_trait::async_trait]
impl Job for TrainingReminders {
    fn name(&self) -> &'static str {
        "training_reminders"
    }
    fn schedule(&self) -> Schedule {
        Schedule::Every(std::time::Duration::from_secs(3600))
    }
    async fn run(&mut self, vault: &Vault) -> Result<Ran> {
        vault.send_training_reminders(self.0.as_ref()).await?;
        Ok(Ran::Done)
    }
}

/// Looks at the last day of the ledger for signals of an incident.
struct Signals(crate::incidents::signals::SignalSettings);

#[async_trait::async_trait]
impl Job for Signals {
    fn name(&self) -> &'static str {
        "incident_signals"
    }
    fn schedule(&self) -> Schedule {
        Schedule::EveryAfterFirstWait(Duration::from_secs(600))
    }
    async fn run(&mut self, vault: &Vault) -> Result<Ran> {
        vault.check_signals(&self.0).await?;
        Ok(Ran::Done)
    }
}

/// Sends the notices incidents prepared, a batch at a time.
struct IncidentNotices {
    mailer: Arc<dyn crate::mail::Mailer>,
    links: NoticeLinks,
}

#[async_trait::async_trait]
impl Job for IncidentNotices {
    fn name(&self) -> &'static str {
        "incident_notices"
    }
    fn schedule(&self) -> Schedule {
        Schedule::Every(NOTICES_EVERY)
    }
    async fn run(&mut self, vault: &Vault) -> Result<Ran> {
        vault
            .send_incident_notices(&*self.mailer, &self.links)
            .await
    }
}

/// Appends the latest signed head to a file whenever it grew.
struct Anchor {
    path: PathBuf,
    /// The size last anchored (None: not read from the file yet).
    anchored: Option<u64>,
}

#[async_trait::async_trait]
impl Job for Anchor {
    fn name(&self) -> &'static str {
        "head_anchor"
    }
    /// Each server appends to its own file.
    fn shared(&self) -> bool {
        false
    }
    fn schedule(&self) -> Schedule {
        Schedule::EveryAfterFirstWait(crate::anchor::ANCHOR_EVERY)
    }
    async fn run(&mut self, vault: &Vault) -> Result<Ran> {
        self.anchored = Some(vault.anchor_latest_head(&self.path, self.anchored).await?);
        Ok(Ran::Done)
    }
}

/// Removes the ciphertext rows of erased subjects, a batch at a time.
struct PurgeErased;

#[async_trait::async_trait]
impl Job for PurgeErased {
    fn name(&self) -> &'static str {
        "purge_erased"
    }
    fn schedule(&self) -> Schedule {
        Schedule::Every(Duration::from_secs(10))
    }
    async fn run(&mut self, vault: &Vault) -> Result<Ran> {
        let purged = vault.store.purge_erased(5_000).await?;
        if purged == 0 {
            return Ok(Ran::Done);
        }
        tracing::info!(rows = purged, "purged records of erased subjects");
        Ok(Ran::More)
    }
}
