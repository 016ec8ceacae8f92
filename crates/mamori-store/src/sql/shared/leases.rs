//! Job leases: taken, renewed and given up straight on the write pool; checked inside the
//! holder's commits by their fencing token.

use super::*;

#[async_trait]
impl LeaseStore for Backend {
    async fn take_lease(
        &self,
        job: &str,
        holder: &str,
        now_ms: i64,
        until_ms: i64,
    ) -> Result<Option<i64>> {
        // One statement, so two servers racing for a lapsed lease cannot both win: the row is
        // written only if it is free, lapsed or the caller's own; the token rises on a change
        // of hands.
        let fence: Option<i64> = sqlx::query_scalar(
            "INSERT INTO job_leases (job, holder, fence, expires_ms) VALUES ($1, $2, 1, $4) \
             ON CONFLICT (job) DO UPDATE SET \
             fence = CASE WHEN job_leases.holder = excluded.holder THEN job_leases.fence ELSE job_leases.fence + 1 END, \
             holder = excluded.holder, expires_ms = excluded.expires_ms \
             WHERE job_leases.holder = excluded.holder OR job_leases.expires_ms < $3 \
             RETURNING fence",
        )
        .bind(job)
        .bind(holder)
        .bind(now_ms)
        .bind(until_ms)
        .fetch_optional(&self.write)
        .await?;
        Ok(fence)
    }

    async fn release_leases(&self, holder: &str) -> Result<()> {
        sqlx::query("UPDATE job_leases SET expires_ms = 0 WHERE holder = $1")
            .bind(holder)
            .execute(&self.write)
            .await?;
        Ok(())
    }
}

pub(super) async fn apply(conn: &mut Conn, change: &Change) -> Applied {
    let Change::HoldsLease { job, holder, fence } = change else {
        return Err(misrouted());
    };
    let held =
        sqlx::query("SELECT 1 FROM job_leases WHERE job = $1 AND holder = $2 AND fence = $3")
            .bind(job)
            .bind(holder)
            .bind(fence)
            .fetch_optional(&mut *conn)
            .await?;
    match held {
        Some(_) => Ok(()),
        None => Err(ApplyError::Job(JobError::Stale)),
    }
}
