//! The ledger writer: one task owns every write to the database. Handlers send it a job (data
//! changes plus the ledger events that describe them) and wait. The task drains whatever jobs
//! have queued, applies them in one transaction with their ledger leaves and a freshly signed
//! tree head, commits once (one fsync), then answers every waiting handler. So an audited
//! request costs a channel send and a share of a commit, and no answer precedes durability.

use mamori_proto::ErrorCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use mamori_ledger::{
    Blocks, Event, Hash, HeadSigner, MerkleTree, Outcome, ProofError, SignedTreeHead, TreeHead,
    VerifyingKey, leaf_hash,
};
use mamori_store::{Change, JobError, JobOutcome, LeafRow, Store};
use tokio::sync::{mpsc, oneshot};

use crate::error::{CoreError, Result};
use crate::now_ms;

const MAX_BATCH: usize = 2048;

/// One unit of work for the store: changes that apply together or not at all, and the events
/// that describe them.
pub struct Item {
    pub changes: Vec<Change>,
    pub events: Vec<Event>,
}

/// What a caller hands the writer. Its items are never split across transactions, so a bulk
/// import batch commits as one.
struct Job {
    items: Vec<Item>,
    reply: oneshot::Sender<Result<Vec<JobOutcome>>>,
}

/// Detached events (see [`Ledger::submit_detached`]) are collected in memory and committed with
/// the next batch, or at the latest this long after they were queued. Queuing one costs a lock
/// and a push, not a wake-up of the writer: at tens of thousands of consent checks a second the
/// per-event wake-ups and small transactions were most of a check's cost.
const DETACHED_EVERY: std::time::Duration = std::time::Duration::from_millis(5);
/// Beyond this many queued detached events the caller waits for a commit (backpressure).
const DETACHED_BACKLOG: usize = 100_000;

fn items(batch: &[Job]) -> usize {
    batch.iter().map(|j| j.items.len()).sum()
}

/// Adds every job already queued, up to a full batch.
fn take_queued(rx: &mut mpsc::Receiver<Job>, batch: &mut Vec<Job>) {
    while items(batch) < MAX_BATCH {
        match rx.try_recv() {
            Ok(job) => batch.push(job),
            Err(_) => break,
        }
    }
}

#[derive(Clone)]
pub struct Ledger {
    jobs: mpsc::Sender<Job>,
    /// Block roots and the open block only: proofs read older leaf hashes back from `store`.
    tree: Arc<RwLock<MerkleTree>>,
    store: Arc<dyn Store>,
    committed: Arc<AtomicU64>,
    latest: Arc<RwLock<Option<SignedTreeHead>>>,
    /// The key that signs now and every key the ledger has signed with (older heads and
    /// receipts are checked with theirs); replaced when the key store gains a key.
    keys: Arc<RwLock<SigningKeys>>,
    /// Counts committed batches, so outbox readers (webhook delivery) wake on a commit instead
    /// of polling.
    commits: Arc<tokio::sync::watch::Sender<u64>>,
    /// Detached events waiting for the next commit.
    detached: Arc<std::sync::Mutex<Vec<Event>>>,
    /// Why the stored ledger cannot be trusted, if it cannot (found at start, or by a check
    /// against an anchored head): the server then refuses to run.
    integrity: Arc<RwLock<Option<String>>>,
    /// The last commit failed for want of disk space (readiness reports it until one succeeds).
    storage_full: Arc<std::sync::atomic::AtomicBool>,
    /// When the last commit succeeded (ms since the epoch), for readiness.
    last_commit_ms: Arc<std::sync::atomic::AtomicI64>,
}

/// The key that signs and the ones that signed.
struct SigningKeys {
    signer: Arc<HeadSigner>,
    history: Arc<mamori_ledger::KeyHistory>,
}

fn job_error_code(e: JobError) -> &'static str {
    match e {
        JobError::IndexTaken => "identifier_taken",
        JobError::Stale => "concurrent_update",
        JobError::Gone => "subject_not_found",
        JobError::Duplicate => "duplicate",
    }
}

impl Ledger {
    /// Rebuilds the tree from stored leaf hashes and starts the writer task.
    pub async fn start(store: Arc<dyn Store>, signer: HeadSigner) -> Result<Ledger> {
        let history = mamori_ledger::KeyHistory::single(signer.public_key());
        Ledger::start_with(store, signer, history).await
    }

    /// [`Ledger::start`] for a ledger whose key was rotated: `history` holds every key it has
    /// signed with, `signer` the one that signs now.
    pub async fn start_with(
        store: Arc<dyn Store>,
        signer: HeadSigner,
        history: mamori_ledger::KeyHistory,
    ) -> Result<Ledger> {
        let mut tree = MerkleTree::new();
        loop {
            let hashes = store.leaf_hashes(tree.len(), 100_000).await?;
            if hashes.is_empty() {
                break;
            }
            hashes.into_iter().for_each(|h| tree.push_leaf_hash(h));
        }
        let latest = store.latest_head().await?;
        // Every batch signs the head of its own size, so the latest head is the whole tree's
        // (whose root needs no stored block).
        let mut integrity = None;
        if let Some(head) = &latest
            && (head.head.size != tree.len()
                || tree.root(head.head.size, &Blocks::default()).ok() != Some(head.head.root)
                || history.verify(head).is_err())
        {
            let why = format!(
                "the stored ledger ({} leaves) does not match its latest signed head (size {})",
                tree.len(),
                head.head.size
            );
            tracing::error!("{why}; run `mamori ledger verify`");
            integrity = Some(why);
        }
        let (tx, rx) = mpsc::channel(65_536);
        let ledger = Ledger {
            jobs: tx,
            committed: Arc::new(AtomicU64::new(tree.len())),
            tree: Arc::new(RwLock::new(tree)),
            store: store.clone(),
            latest: Arc::new(RwLock::new(latest)),
            keys: Arc::new(RwLock::new(SigningKeys {
                signer: Arc::new(signer),
                history: Arc::new(history),
            })),
            commits: Arc::new(tokio::sync::watch::Sender::new(0)),
            detached: Arc::default(),
            integrity: Arc::new(RwLock::new(integrity)),
            storage_full: Arc::default(),
            last_commit_ms: Arc::new(std::sync::atomic::AtomicI64::new(now_ms())),
        };
        // The writer runs on a thread and runtime of its own: hashing, signing and building a
        // batch take a fraction of a millisecond that, on a request worker, every request queued
        // behind it would wait out; the OS interleaves threads far more finely.
        // The writer must not hold a sender of its own queue: its loop ends when every `Ledger`
        // handle is gone, and with it the thread and the store's connections (a writer that kept
        // itself alive leaked one database pool per `Ledger::start`).
        let writer = Ledger {
            jobs: mpsc::channel(1).0,
            ..ledger.clone()
        };
        std::thread::Builder::new()
            .name("ledger-writer".into())
            .spawn(move || {
                match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt.block_on(writer.run(store, rx)),
                    Err(e) => tracing::error!(error = %e, "the ledger writer could not start"),
                }
            })
            .map_err(|e| CoreError::Internal(format!("starting the ledger writer: {e}")))?;
        Ok(ledger)
    }

    /// Applies `changes` and appends `events` atomically; returns once both are durable.
    /// If the changes conflict, nothing changes and the events are ledgered as denied with the reason.
    pub async fn submit(&self, changes: Vec<Change>, events: Vec<Event>) -> Result<JobOutcome> {
        let mut outcomes = self.submit_all(vec![Item { changes, events }]).await?;
        outcomes.pop().ok_or(CoreError::WriterGone)
    }

    /// Applies every item in one transaction (each item on its own: one conflict does not sink
    /// the others) and returns their outcomes once all are durable.
    pub async fn submit_all(&self, mut items: Vec<Item>) -> Result<Vec<JobOutcome>> {
        // A background job's changes commit only while it still holds its lease.
        let held = crate::leases::HELD.try_with(crate::leases::Held::check);
        if let Ok(check) = held {
            for item in items.iter_mut().filter(|i| !i.changes.is_empty()) {
                item.changes.push(check.clone());
            }
        }
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job { items, reply })
            .await
            .map_err(|_| CoreError::WriterGone)?;
        answer.await.map_err(|_| CoreError::WriterGone)?
    }

    /// Queues `events` for the next group commit without waiting for it. Only for events that
    /// record a read of non-value state at high rates (consent checks): the answer does not wait
    /// for the fsync, so a crash can lose the last few milliseconds of such events. Everything
    /// that changes data, and every read of personal values, uses [`Ledger::submit`].
    pub async fn submit_detached(&self, events: Vec<Event>) -> Result<()> {
        let backlog = {
            let mut queued = self.detached.lock().unwrap_or_else(|p| p.into_inner());
            queued.extend(events);
            queued.len()
        };
        if backlog >= DETACHED_BACKLOG {
            self.flush().await?;
        }
        Ok(())
    }

    /// Changes each time a batch commits (in this process).
    pub fn commits(&self) -> tokio::sync::watch::Receiver<u64> {
        self.commits.subscribe()
    }

    /// Returns once everything queued before it (detached events included) is committed.
    pub async fn flush(&self) -> Result<()> {
        self.submit_all(vec![]).await.map(drop)
    }

    /// The key that signs heads now.
    pub fn public_key(&self) -> VerifyingKey {
        self.keys.read().expect("lock").signer.public_key()
    }

    /// Every key the ledger has signed with, oldest first.
    pub fn key_history(&self) -> Arc<mamori_ledger::KeyHistory> {
        self.keys.read().expect("lock").history.clone()
    }

    /// Signs from the next commit on with `signer`; `history` must include it.
    pub fn use_keys(&self, signer: HeadSigner, history: mamori_ledger::KeyHistory) {
        *self.keys.write().expect("lock") = SigningKeys {
            signer: Arc::new(signer),
            history: Arc::new(history),
        };
    }

    /// Whether the last commit failed because the disk is full.
    pub fn storage_full(&self) -> bool {
        self.storage_full.load(Ordering::Acquire)
    }

    /// When the last commit succeeded (ms since the epoch; the start time before any).
    pub fn last_commit_ms(&self) -> i64 {
        self.last_commit_ms.load(Ordering::Acquire)
    }

    /// Whether jobs are waiting for the writer (queued or detached).
    pub fn has_pending(&self) -> bool {
        self.jobs.max_capacity() != self.jobs.capacity()
            || !self
                .detached
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .is_empty()
    }

    /// Why the stored ledger cannot be trusted, or None.
    pub fn integrity_problem(&self) -> Option<String> {
        self.integrity.read().expect("lock").clone()
    }

    /// Records that the stored ledger failed a check (readiness reports it from then on).
    pub fn report_integrity_problem(&self, why: String) {
        *self.integrity.write().expect("lock") = Some(why);
    }

    pub fn latest_head(&self) -> Option<SignedTreeHead> {
        self.latest.read().expect("lock").clone()
    }

    /// Leaves that are committed (proofs never describe a leaf that could still roll back).
    pub fn committed_size(&self) -> u64 {
        self.committed.load(Ordering::Acquire)
    }

    /// The leaf hash at `index` and its audit path in the tree of `size` leaves; `None` when
    /// `size` is beyond what is committed or `index` is not below it.
    pub async fn inclusion_proof(
        &self,
        index: u64,
        size: u64,
    ) -> Result<Option<(Hash, Vec<Hash>)>> {
        if size > self.committed_size() {
            return Ok(None);
        }
        self.with_blocks(|tree, blocks| {
            Ok((
                tree.leaf(index, blocks)?,
                tree.inclusion_proof(index, size, blocks)?,
            ))
        })
        .await
    }

    pub async fn consistency_proof(&self, first: u64, second: u64) -> Result<Option<Vec<Hash>>> {
        if second > self.committed_size() {
            return Ok(None);
        }
        self.with_blocks(|tree, blocks| tree.consistency_proof(first, second, blocks))
            .await
    }

    pub async fn root(&self, size: u64) -> Result<Option<Hash>> {
        if size > self.committed_size() {
            return Ok(None);
        }
        self.with_blocks(|tree, blocks| tree.root(size, blocks))
            .await
    }

    /// Runs `attempt` on the tree, reading from storage the leaf hashes of every block it
    /// reaches into (at most a few per proof); out-of-range questions answer `None`.
    async fn with_blocks<T>(
        &self,
        attempt: impl Fn(&MerkleTree, &Blocks) -> std::result::Result<T, ProofError>,
    ) -> Result<Option<T>> {
        let mut blocks = Blocks::default();
        loop {
            let answer = attempt(&self.tree.read().expect("lock"), &blocks);
            let block = match answer {
                Ok(answer) => return Ok(Some(answer)),
                Err(ProofError::LeavesNeeded(block)) => block,
                Err(_) => return Ok(None),
            };
            let range = self.tree.read().expect("lock").block_range(block);
            let leaves = self
                .store
                .leaf_hashes(range.start, (range.end - range.start) as i64)
                .await?;
            let checked = self
                .tree
                .read()
                .expect("lock")
                .check_block(block, &leaves)
                .map_err(|_| {
                    tracing::error!(
                        block,
                        "stored ledger leaves do not match the tree; run `mamori ledger verify`"
                    );
                    CoreError::Integrity
                })?;
            blocks.insert(checked);
        }
    }

    async fn run(self, store: Arc<dyn Store>, mut rx: mpsc::Receiver<Job>) {
        let mut tick = tokio::time::interval(DETACHED_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut open = true;
        while open {
            let mut batch = tokio::select! {
                job = rx.recv() => match job {
                    Some(job) => vec![job],
                    None => {
                        open = false;
                        vec![]
                    }
                },
                _ = tick.tick() => vec![],
            };
            take_queued(&mut rx, &mut batch);
            let detached =
                std::mem::take(&mut *self.detached.lock().unwrap_or_else(|p| p.into_inner()));
            if !detached.is_empty() {
                let (reply, _) = oneshot::channel();
                let items = vec![Item {
                    changes: vec![],
                    events: detached,
                }];
                batch.push(Job { items, reply });
            }
            if !batch.is_empty() {
                let signer = self.keys.read().expect("lock").signer.clone();
                self.commit(&*store, &signer, batch).await;
            }
        }
    }

    async fn commit(&self, store: &dyn Store, signer: &HeadSigner, mut batch: Vec<Job>) {
        let counts: Vec<usize> = batch.iter().map(|j| j.items.len()).collect();
        let (changes, events): (Vec<Vec<Change>>, Vec<Vec<Event>>) = batch
            .iter_mut()
            .flat_map(|j| std::mem::take(&mut j.items))
            .map(|item| (item.changes, item.events))
            .unzip();
        let (mark, tree_size) = {
            let tree = self.tree.read().expect("lock");
            (tree.mark(), tree.len())
        };
        let mut signed: Option<SignedTreeHead> = None;
        let tree = self.tree.clone();
        let mut finish = |outcomes: &[JobOutcome], foreign: &[[u8; 32]]| {
            let mut tree = tree.write().expect("lock");
            if !foreign.is_empty() {
                // Another process (the CLI beside this server, another server on the same
                // database) appended events since our last commit: our tree takes them in so our
                // leaves follow theirs. Routine with several servers: debug, not info.
                tracing::debug!(
                    leaves = foreign.len(),
                    "ledger events from another process taken in"
                );
                foreign.iter().for_each(|hash| tree.push_leaf_hash(*hash));
            }
            let leaves = append_leaves(&mut tree, &events, outcomes);
            let size = tree.len();
            let root = tree
                .root(size, &Blocks::default())
                .expect("the whole tree's root is in memory");
            // The system's time, not the vault's clock: a signed head says when the tree really
            // reached this size (witnesses compare it with their own clocks).
            let head = signer.sign(TreeHead {
                size,
                timestamp_ms: now_ms(),
                root,
            });
            signed = Some(head.clone());
            (leaves, head)
        };
        let result = store.commit_batch(&changes, tree_size, &mut finish).await;
        match result {
            Ok(outcomes) => {
                self.storage_full.store(false, Ordering::Release);
                self.last_commit_ms.store(now_ms(), Ordering::Release);
                let head = signed.expect("finish ran");
                self.committed.store(head.head.size, Ordering::Release);
                *self.latest.write().expect("lock") = Some(head);
                self.commits.send_modify(|n| *n += 1);
                let mut outcomes = outcomes.into_iter();
                for (job, n) in batch.into_iter().zip(counts) {
                    let _ = job.reply.send(Ok(outcomes.by_ref().take(n).collect()));
                }
            }
            Err(e) => {
                self.tree.write().expect("lock").rollback(mark);
                self.refuse_batch(batch, &e);
            }
        }
    }

    /// Nothing of the batch was committed: each job is told why, as the caller can act on it
    /// (a full disk, a database that is gone, or a failure).
    fn refuse_batch(&self, batch: Vec<Job>, e: &mamori_store::StoreError) {
        let full = e.is_full();
        if full {
            tracing::error!(
                jobs = batch.len(),
                "the disk is full: a ledger batch was refused, nothing in it was committed"
            );
        } else {
            tracing::error!(error = %e, jobs = batch.len(), "ledger batch failed; nothing in it was committed");
        }
        self.storage_full.store(full, Ordering::Release);
        let unavailable = e.is_unavailable();
        for job in batch {
            let error = if full {
                CoreError::StorageFull
            } else if unavailable {
                CoreError::Unavailable
            } else {
                CoreError::Internal("storage failure".into())
            };
            let _ = job.reply.send(Err(error));
        }
    }
}

/// The leaves of a batch's events, appended to `tree`: an event allowed by the access decision
/// whose job then failed (a conflict) is recorded as denied, with the job's reason.
fn append_leaves(
    tree: &mut MerkleTree,
    events: &[Vec<Event>],
    outcomes: &[JobOutcome],
) -> Vec<LeafRow> {
    let mut leaves = Vec::with_capacity(events.len());
    for (item_events, outcome) in events.iter().zip(outcomes) {
        for event in item_events {
            let mut event = event.clone();
            if let (Err(e), Outcome::Allowed) = (outcome, &event.outcome) {
                event.outcome = Outcome::Denied {
                    reason: job_error_code(*e).to_string(),
                };
            }
            let data = event.to_leaf_data();
            let hash = leaf_hash(&data);
            let subject_id = event.subject.as_deref().and_then(crate::parse_id);
            leaves.push(LeafRow {
                index: tree.len(),
                data,
                hash,
                subject_id,
            });
            tree.push_leaf_hash(hash);
        }
    }
    leaves
}

/// Convenience for error conversion in `map_err` chains.
impl From<JobError> for CoreError {
    fn from(e: JobError) -> Self {
        match e {
            JobError::Gone => CoreError::NotFound,
            JobError::Stale => CoreError::Conflict { code: ErrorCode::ConcurrentUpdate, message: "the subject changed at the same time; retry".into() },
            JobError::IndexTaken => CoreError::Conflict {
                code: ErrorCode::IdentifierTaken,
                message: "an e-mail, phone or external id in this request already belongs to another subject".into(),
            },
            JobError::Duplicate => CoreError::Conflict { code: ErrorCode::Duplicate, message: "this item already exists".into() },
        }
    }
}
