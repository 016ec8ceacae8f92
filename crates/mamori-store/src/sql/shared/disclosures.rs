//! Disclosures to vendors: recorded with the decision that allowed them, read per person.

use super::*;

type DisclosureTuple = (Vec<u8>, Vec<u8>, String, String, String, String, i64);

fn disclosure(row: DisclosureTuple) -> Result<DisclosureRow> {
    let (id, subject_id, vendor, purpose, categories, actor, at_ms) = row;
    Ok(DisclosureRow {
        id: id_from_slice(&id)?,
        subject_id: id_from_slice(&subject_id)?,
        vendor,
        purpose,
        categories,
        actor,
        at_ms,
    })
}

#[async_trait]
impl DisclosureStore for Backend {
    async fn subject_disclosures(&self, subject: &Id) -> Result<Vec<DisclosureRow>> {
        let rows: Vec<DisclosureTuple> = sqlx::query_as(
            "SELECT id, subject_id, vendor, purpose, categories, actor, at_ms FROM disclosures WHERE subject_id = $1 ORDER BY at_ms, id",
        )
        .bind(&subject[..])
        .fetch_all(&self.read)
        .await?;
        rows.into_iter().map(disclosure).collect()
    }
}

pub(super) async fn apply(conn: &mut Conn, change: &Change) -> Applied {
    let Change::RecordDisclosure(d) = change else {
        return Err(misrouted());
    };
    sqlx::query("INSERT INTO disclosures (id, subject_id, vendor, purpose, categories, actor, at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(&d.id[..]).bind(&d.subject_id[..]).bind(&d.vendor).bind(&d.purpose).bind(&d.categories).bind(&d.actor).bind(d.at_ms)
        .execute(&mut *conn)
        .await
        .map_err(duplicate)?;
    Ok(())
}
