//! The incident register: incidents, and their append-only timelines.

use super::*;

type IncidentTuple = (
    Vec<u8>,
    String,
    String,
    String,
    Vec<u8>,
    i64,
    String,
    i64,
    i64,
    i64,
    i64,
);

const INCIDENT_COLUMNS: &str = "id, kind, severity, status, title_sealed, detected_ms, reported_by, drill, version, created_ms, updated_ms";

fn incident(row: IncidentTuple) -> Result<IncidentRow> {
    let (id, kind, severity, status, title_sealed, detected_ms, reported_by, drill, version) = (
        row.0, row.1, row.2, row.3, row.4, row.5, row.6, row.7, row.8,
    );
    Ok(IncidentRow {
        id: id_from_slice(&id)?,
        kind,
        severity,
        status,
        title_sealed,
        detected_ms,
        reported_by,
        drill: drill != 0,
        version,
        created_ms: row.9,
        updated_ms: row.10,
    })
}

type EntryTuple = (
    i64,
    i64,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<Vec<u8>>,
    Option<i64>,
);

#[async_trait]
impl IncidentStore for Backend {
    async fn incidents(&self) -> Result<Vec<IncidentRow>> {
        let sql =
            format!("SELECT {INCIDENT_COLUMNS} FROM incidents ORDER BY created_ms DESC, id DESC");
        let rows: Vec<IncidentTuple> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.read)
            .await?;
        rows.into_iter().map(incident).collect()
    }

    async fn incident(&self, id: &Id) -> Result<Option<IncidentRow>> {
        let sql = format!("SELECT {INCIDENT_COLUMNS} FROM incidents WHERE id = $1");
        let row: Option<IncidentTuple> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(&id[..])
            .fetch_optional(&self.read)
            .await?;
        row.map(incident).transpose()
    }

    async fn incident_entries(&self, id: &Id) -> Result<Vec<IncidentEntryRow>> {
        let rows: Vec<EntryTuple> = sqlx::query_as(
            "SELECT seq, at_ms, actor, kind, status, severity, link_kind, link_id, note_sealed, until_ms \
             FROM incident_entries WHERE incident_id = $1 ORDER BY seq",
        )
        .bind(&id[..])
        .fetch_all(&self.read)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| IncidentEntryRow {
                incident_id: *id,
                seq: r.0,
                at_ms: r.1,
                actor: r.2,
                kind: r.3,
                status: r.4,
                severity: r.5,
                link_kind: r.6,
                link_id: r.7,
                note_sealed: r.8,
                until_ms: r.9,
            })
            .collect())
    }

    async fn incident_reminded(&self, id: &Id) -> Result<Vec<String>> {
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT duty FROM incident_reminders WHERE incident_id = $1")
                .bind(&id[..])
                .fetch_all(&self.read)
                .await?;
        Ok(rows.into_iter().map(|(d,)| d).collect())
    }

    async fn incident_milestones(&self, id: &Id) -> Result<Vec<(String, i64)>> {
        Ok(sqlx::query_as(
            "SELECT milestone, at_ms FROM incident_milestones WHERE incident_id = $1 ORDER BY at_ms",
        )
        .bind(&id[..])
        .fetch_all(&self.read)
        .await?)
    }
}

async fn insert_entry(conn: &mut Conn, e: &IncidentEntryRow) -> Applied {
    sqlx::query(
        "INSERT INTO incident_entries (incident_id, seq, at_ms, actor, kind, status, severity, link_kind, link_id, note_sealed, until_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(&e.incident_id[..])
    .bind(e.seq)
    .bind(e.at_ms)
    .bind(&e.actor)
    .bind(&e.kind)
    .bind(&e.status)
    .bind(&e.severity)
    .bind(&e.link_kind)
    .bind(&e.link_id)
    .bind(&e.note_sealed)
    .bind(e.until_ms)
    .execute(&mut *conn)
    .await
    .map_err(|e| ApplyError::from(e, JobError::Stale))?;
    Ok(())
}

pub(super) async fn apply(conn: &mut Conn, change: &Change) -> Applied {
    match change {
        Change::InsertIncident {
            incident: i,
            opened,
        } => {
            sqlx::query(
                "INSERT INTO incidents (id, kind, severity, status, title_sealed, detected_ms, reported_by, drill, version, created_ms, updated_ms) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(&i.id[..])
            .bind(&i.kind)
            .bind(&i.severity)
            .bind(&i.status)
            .bind(&i.title_sealed)
            .bind(i.detected_ms)
            .bind(&i.reported_by)
            .bind(i64::from(i.drill))
            .bind(i.version)
            .bind(i.created_ms)
            .bind(i.updated_ms)
            .execute(&mut *conn)
            .await
            .map_err(|e| ApplyError::from(e, JobError::Duplicate))?;
            insert_entry(conn, opened).await
        }
        Change::AppendIncidentEntry(e) => {
            // The version check and the entry go together: a writer that read an older version
            // changes nothing.
            let done = sqlx::query(
                "UPDATE incidents SET version = $1, updated_ms = $2, \
                 status = COALESCE($3, status), severity = COALESCE($4, severity) \
                 WHERE id = $5 AND version = $6",
            )
            .bind(e.seq)
            .bind(e.at_ms)
            .bind(&e.status)
            .bind(&e.severity)
            .bind(&e.incident_id[..])
            .bind(e.seq - 1)
            .execute(&mut *conn)
            .await?;
            changed_a_row(done, JobError::Stale)?;
            insert_entry(conn, e).await
        }
        Change::MarkIncidentReminded { .. }
        | Change::RecordSignal { .. }
        | Change::MarkIncidentMilestone { .. } => apply_mark(conn, change).await,
        _ => Err(misrouted()),
    }
}

/// What an incident's background steps note once: reminders sent, signals, milestones.
async fn apply_mark(conn: &mut Conn, change: &Change) -> Applied {
    match change {
        Change::MarkIncidentReminded {
            incident_id,
            duty,
            due_ms,
        } => {
            sqlx::query(
                "INSERT INTO incident_reminders (incident_id, duty, due_ms) VALUES ($1, $2, $3)",
            )
            .bind(&incident_id[..])
            .bind(duty)
            .bind(due_ms)
            .execute(&mut *conn)
            .await
            .map_err(|e| ApplyError::from(e, JobError::Duplicate))?;
            Ok(())
        }
        Change::RecordSignal {
            signal,
            incident_id,
            at_ms,
        } => {
            sqlx::query(
                "INSERT INTO incident_signals (signal, incident_id, at_ms) VALUES ($1, $2, $3)",
            )
            .bind(signal)
            .bind(&incident_id[..])
            .bind(at_ms)
            .execute(&mut *conn)
            .await
            .map_err(|e| ApplyError::from(e, JobError::Duplicate))?;
            Ok(())
        }
        Change::MarkIncidentMilestone {
            incident_id,
            milestone,
            at_ms,
        } => {
            sqlx::query(
                "INSERT INTO incident_milestones (incident_id, milestone, at_ms) VALUES ($1, $2, $3) \
                 ON CONFLICT (incident_id, milestone) DO NOTHING",
            )
            .bind(&incident_id[..])
            .bind(milestone)
            .bind(at_ms)
            .execute(&mut *conn)
            .await?;
            Ok(())
        }
        _ => Err(misrouted()),
    }
}
