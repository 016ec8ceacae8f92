//! Each background job on one server at a time. Several `mamori serve` processes on one
//! PostgreSQL each start every job; before a run, a job takes its lease in the database (free,
//! lapsed, or its own), renews it while it runs, and every commit it makes carries the lease's
//! fencing token, which the database checks: a server paused past its lease (a long GC, a
//! stopped VM) and overtaken by another commits nothing more. A server that dies loses its
//! leases after [`LEASE_MS`] and another takes them over: duplicates only after a crash (the
//! delivery contract stays at-least-once), never in steady state.
//!
//! Leases use the system's clock, not the vault's: they are about processes being alive.

use std::sync::Arc;

use mamori_store::{Change, Store};

use crate::error::Result;

/// How long a lease lasts unless renewed.
pub const LEASE_MS: i64 = 30_000;
/// A lease is renewed once less than this is left (so a job that runs often writes rarely).
const RENEW_WHEN_LEFT_MS: i64 = 20_000;

tokio::task_local! {
    /// The lease the running job holds: the ledger adds its check to the job's commits.
    pub(crate) static HELD: Held;
}

/// A lease held: whose, for which job, with which fencing token.
#[derive(Debug, Clone)]
pub struct Held {
    pub job: String,
    pub holder: Arc<str>,
    pub fence: i64,
}

impl Held {
    /// The check a commit made under this lease carries.
    pub fn check(&self) -> Change {
        Change::HoldsLease {
            job: self.job.clone(),
            holder: self.holder.to_string(),
            fence: self.fence,
        }
    }
}

/// One job's lease as this server sees it.
pub struct Lease {
    job: String,
    holder: Arc<str>,
    /// The token and the expiry of the lease this server last took.
    held: Option<(i64, i64)>,
}

impl Lease {
    pub fn new(job: impl Into<String>, holder: Arc<str>) -> Lease {
        Lease {
            job: job.into(),
            holder,
            held: None,
        }
    }

    /// Holds the lease (taking or renewing it when due): the lease, or None while another
    /// server holds it.
    pub async fn hold(&mut self, store: &dyn Store) -> Result<Option<Held>> {
        let now = crate::now_ms();
        let fresh = self
            .held
            .filter(|(_, until)| until - now > RENEW_WHEN_LEFT_MS);
        let fence = match fresh {
            Some((fence, _)) => Some(fence),
            None => {
                let until = now + LEASE_MS;
                let taken = (store.take_lease(&self.job, &self.holder, now, until)).await?;
                self.held = taken.map(|fence| (fence, until));
                taken
            }
        };
        Ok(fence.map(|fence| Held {
            job: self.job.clone(),
            holder: self.holder.clone(),
            fence,
        }))
    }

    /// Renews the lease now, whatever is left: false if it was lost.
    pub async fn renew(&mut self, store: &dyn Store) -> Result<bool> {
        self.held = None;
        Ok(self.hold(store).await?.is_some())
    }

    /// Forgets the lease as held (a commit under it was refused: another server has it), so
    /// the next [`Lease::hold`] asks the database.
    pub fn forget(&mut self) {
        self.held = None;
    }
}

/// A random name for this server's leases (a process, not a machine: two on one host differ).
pub fn new_holder() -> Arc<str> {
    Arc::from(format!("server-{}", uuid::Uuid::new_v4().simple()))
}
