//! Disclosures to vendors: recorded with the decision that allowed them, read per person.

use super::*;

type DisclosureTuple = (
    Vec<u8>,
    Vec<u8>,
    String,
    String,
    String,
    String,
    String,
    i64,
);

fn disclosure(row: DisclosureTuple) -> Result<DisclosureRow> {
    let (id, subject_id, vendor, purpose, categories, records, actor, at_ms) = row;
    Ok(DisclosureRow {
        id: id_from_slice(&id)?,
        subject_id: id_from_slice(&subject_id)?,
        vendor,
        purpose,
        categories,
        records,
        actor,
        at_ms,
    })
}

#[async_trait]
impl DisclosureStore for Backend {
    async fn subject_disclosures(&self, subject: &Id) -> Result<Vec<DisclosureRow>> {
        let rows: Vec<DisclosureTuple> = sqlx::query_as(
            "SELECT id, subject_id, vendor, purpose, categories, records, actor, at_ms FROM disclosures WHERE subject_id = $1 ORDER BY at_ms, id",
        )
        .bind(&subject[..])
        .fetch_all(&self.read)
        .await?;
        rows.into_iter().map(disclosure).collect()
    }

    async fn disclosures_between(
        &self,
        from_ms: i64,
        to_ms: i64,
        limit: i64,
    ) -> Result<Vec<DisclosureRow>> {
        let rows: Vec<DisclosureTuple> = sqlx::query_as(
            "SELECT id, subject_id, vendor, purpose, categories, records, actor, at_ms FROM disclosures WHERE at_ms >= $1 AND at_ms < $2 ORDER BY at_ms, id LIMIT $3",
        )
        .bind(from_ms)
        .bind(to_ms)
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        rows.into_iter().map(disclosure).collect()
    }

    async fn disclosure_summary(
        &self,
        purposes: &[String],
        since_ms: i64,
    ) -> Result<Vec<(String, String, String)>> {
        let mut found = Vec::new();
        for purpose in purposes {
            let rows: Vec<(String, String, String)> = sqlx::query_as(
                "SELECT DISTINCT vendor, purpose, categories FROM disclosures WHERE purpose = $1 AND at_ms >= $2",
            )
            .bind(purpose)
            .bind(since_ms)
            .fetch_all(&self.read)
            .await?;
            found.extend(rows);
        }
        Ok(found)
    }
}

/// Rows per multi-row INSERT: 8 parameters each, well under SQLite's bound.
const DISCLOSURES_PER_INSERT: usize = 500;

pub(super) async fn apply(conn: &mut Conn, change: &Change) -> Applied {
    let d = match change {
        Change::RecordDisclosure(d) => d,
        Change::RecordDisclosures(rows) => return insert_many(conn, rows).await,
        _ => return Err(misrouted()),
    };
    sqlx::query("INSERT INTO disclosures (id, subject_id, vendor, purpose, categories, records, actor, at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
        .bind(&d.id[..]).bind(&d.subject_id[..]).bind(&d.vendor).bind(&d.purpose).bind(&d.categories).bind(&d.records).bind(&d.actor).bind(d.at_ms)
        .execute(&mut *conn)
        .await
        .map_err(duplicate)?;
    Ok(())
}

// Queries are built from this constant and fixed clauses only (never from input).
async fn insert_many(conn: &mut Conn, rows: &[DisclosureRow]) -> Applied {
    for chunk in rows.chunks(DISCLOSURES_PER_INSERT) {
        let mut qb: QueryBuilder<Db> = QueryBuilder::new(
            "INSERT INTO disclosures (id, subject_id, vendor, purpose, categories, records, actor, at_ms) ",
        );
        qb.push_values(chunk, |mut b, d| {
            b.push_bind(d.id.to_vec())
                .push_bind(d.subject_id.to_vec())
                .push_bind(d.vendor.clone())
                .push_bind(d.purpose.clone())
                .push_bind(d.categories.clone())
                .push_bind(d.records.clone())
                .push_bind(d.actor.clone())
                .push_bind(d.at_ms);
        });
        qb.build().execute(&mut *conn).await.map_err(duplicate)?;
    }
    Ok(())
}

const TASK_COLUMNS: &str = "id, vendor, subject_id, kind, purpose, categories, disclosures, created_ms, due_ms, next_reminder_ms, reminders, confirmed_ms";

type TaskTuple = (
    Vec<u8>,
    String,
    Vec<u8>,
    String,
    Option<String>,
    String,
    String,
    i64,
    i64,
    i64,
    i64,
    Option<i64>,
);

fn task(row: TaskTuple) -> Result<VendorTaskRow> {
    let (id, vendor, subject_id, kind, purpose, categories, disclosures, created_ms, due_ms) = (
        row.0, row.1, row.2, row.3, row.4, row.5, row.6, row.7, row.8,
    );
    Ok(VendorTaskRow {
        id: id_from_slice(&id)?,
        vendor,
        subject_id: id_from_slice(&subject_id)?,
        kind,
        purpose,
        categories,
        disclosures,
        created_ms,
        due_ms,
        next_reminder_ms: row.9,
        reminders: row.10,
        confirmed_ms: row.11,
    })
}

impl Backend {
    async fn tasks_where(&self, clause: &str, a: i64, b: i64) -> Result<Vec<VendorTaskRow>> {
        let sql = format!("SELECT {TASK_COLUMNS} FROM vendor_tasks {clause}");
        let rows: Vec<TaskTuple> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(a)
            .bind(b)
            .fetch_all(&self.read)
            .await?;
        rows.into_iter().map(task).collect()
    }
}

#[async_trait]
impl VendorTaskStore for Backend {
    async fn vendor_task(&self, id: &Id) -> Result<Option<VendorTaskRow>> {
        let sql = format!("SELECT {TASK_COLUMNS} FROM vendor_tasks WHERE id = $1");
        let row: Option<TaskTuple> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(&id[..])
            .fetch_optional(&self.read)
            .await?;
        row.map(task).transpose()
    }

    async fn subject_vendor_tasks(&self, subject: &Id) -> Result<Vec<VendorTaskRow>> {
        let sql = format!(
            "SELECT {TASK_COLUMNS} FROM vendor_tasks WHERE subject_id = $1 ORDER BY created_ms, id"
        );
        let rows: Vec<TaskTuple> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(&subject[..])
            .fetch_all(&self.read)
            .await?;
        rows.into_iter().map(task).collect()
    }

    async fn vendor_tasks(&self, open_only: bool, limit: i64) -> Result<Vec<VendorTaskRow>> {
        // $1 = 1 keeps only open tasks; $2 bounds the page.
        let clause = "WHERE ($1 = 0 OR confirmed_ms IS NULL) ORDER BY created_ms DESC, id LIMIT $2";
        self.tasks_where(clause, i64::from(open_only), limit).await
    }

    async fn vendors_with_open_tasks(&self) -> Result<Vec<String>> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT DISTINCT vendor FROM vendor_tasks WHERE confirmed_ms IS NULL ORDER BY vendor",
        )
        .fetch_all(&self.read)
        .await?;
        Ok(rows.into_iter().map(|(v,)| v).collect())
    }

    async fn vendor_reminders_sent(&self) -> Result<Vec<(String, String)>> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT vendor, occasion FROM vendor_reminders ORDER BY vendor, occasion",
        )
        .fetch_all(&self.read)
        .await?;
        Ok(rows)
    }

    async fn vendor_tasks_to_remind(&self, now_ms: i64, limit: i64) -> Result<Vec<VendorTaskRow>> {
        let clause = "WHERE confirmed_ms IS NULL AND next_reminder_ms <= $1 ORDER BY next_reminder_ms, id LIMIT $2";
        self.tasks_where(clause, now_ms, limit).await
    }
}

pub(super) async fn apply_task(conn: &mut Conn, change: &Change) -> Applied {
    match change {
        Change::InsertVendorTask(t) => {
            let sql = format!(
                "INSERT INTO vendor_tasks ({TASK_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
            );
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(&t.id[..])
                .bind(&t.vendor)
                .bind(&t.subject_id[..])
                .bind(&t.kind)
                .bind(&t.purpose)
                .bind(&t.categories)
                .bind(&t.disclosures)
                .bind(t.created_ms)
                .bind(t.due_ms)
                .bind(t.next_reminder_ms)
                .bind(t.reminders)
                .bind(t.confirmed_ms)
                .execute(&mut *conn)
                .await
                .map_err(duplicate)?;
            Ok(())
        }
        Change::ConfirmVendorTask { id, confirmed_ms } => {
            let done = sqlx::query(
                "UPDATE vendor_tasks SET confirmed_ms = $1 WHERE id = $2 AND confirmed_ms IS NULL",
            )
            .bind(confirmed_ms)
            .bind(&id[..])
            .execute(&mut *conn)
            .await?;
            changed_a_row(done, JobError::Stale)
        }
        Change::MarkVendorTaskReminded {
            id,
            expected_reminders,
            next_ms,
        } => {
            let done = sqlx::query(
                "UPDATE vendor_tasks SET reminders = reminders + 1, next_reminder_ms = $1 \
                                    WHERE id = $2 AND reminders = $3 AND confirmed_ms IS NULL",
            )
            .bind(next_ms)
            .bind(&id[..])
            .bind(expected_reminders)
            .execute(&mut *conn)
            .await?;
            changed_a_row(done, JobError::Stale)
        }
        Change::MarkVendorReminded {
            vendor,
            occasion,
            sent_ms,
        } => {
            sqlx::query(
                "INSERT INTO vendor_reminders (vendor, occasion, sent_ms) VALUES ($1, $2, $3)",
            )
            .bind(vendor)
            .bind(occasion)
            .bind(sent_ms)
            .execute(&mut *conn)
            .await
            .map_err(duplicate)?;
            Ok(())
        }
        _ => Err(misrouted()),
    }
}
