//! Subjects' wrapped data keys by key epoch: finding those under older epochs, moving them to
//! the current one, and counting what an epoch still wraps before it is destroyed.

use super::*;

#[async_trait]
impl KeyWrapStore for Backend {
    async fn keys_wrapped_below(
        &self,
        floor: &[u8],
        after: Option<Id>,
        limit: i64,
    ) -> Result<Vec<WrappedKeys>> {
        // Byte comparison of BLOB / bytea is memcmp order on both backends, which is epoch
        // order for wrapped keys. A full scan by id: it runs at most once per rotation.
        let rows: Vec<(Vec<u8>, Vec<u8>, Option<Vec<u8>>)> = sqlx::query_as(
            "SELECT id, wrapped_dek, previous_wrapped_dek FROM subjects \
             WHERE id > $1 AND (wrapped_dek < $2 OR previous_wrapped_dek < $2) ORDER BY id LIMIT $3",
        )
        .bind(after.map_or_else(Vec::new, |id| id.to_vec()))
        .bind(floor)
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        (rows.into_iter())
            .map(|(id, wrapped_dek, previous_wrapped_dek)| {
                Ok(WrappedKeys {
                    id: id_from_slice(&id)?,
                    wrapped_dek,
                    previous_wrapped_dek,
                })
            })
            .collect()
    }

    async fn count_keys_wrapped_within(&self, from: &[u8], to: Option<&[u8]>) -> Result<i64> {
        // An empty upper bound would match nothing; no bound is a bound above every key.
        let to = to.map_or_else(|| vec![0xFF; 8], <[u8]>::to_vec);
        let count: i64 = sqlx::query_scalar(
            "SELECT (SELECT COUNT(*) FROM subjects WHERE wrapped_dek >= $1 AND wrapped_dek < $2) \
                  + (SELECT COUNT(*) FROM subjects WHERE previous_wrapped_dek >= $1 AND previous_wrapped_dek < $2)",
        )
        .bind(from)
        .bind(&to[..])
        .fetch_one(&self.read)
        .await?;
        Ok(count)
    }
}

pub(super) async fn apply(conn: &mut Conn, change: &Change) -> Applied {
    if let Change::RewrapKeysBatch(rows) = change {
        // Many rows per statement (VALUES columns are column1… on both backends).
        for chunk in rows.chunks(300) {
            let mut qb: QueryBuilder<Db> =
                QueryBuilder::new("UPDATE subjects SET wrapped_dek = v.column3 FROM (VALUES ");
            let mut values = qb.separated(", ");
            for (id, from, to) in chunk {
                values
                    .push("(")
                    .push_bind_unseparated(id.to_vec())
                    .push_unseparated(", ")
                    .push_bind_unseparated(from.clone())
                    .push_unseparated(", ")
                    .push_bind_unseparated(to.clone())
                    .push_unseparated(")");
            }
            qb.push(
                ") AS v WHERE subjects.id = v.column1 AND subjects.wrapped_dek = v.column2 \
                 AND subjects.previous_wrapped_dek IS NULL",
            );
            qb.build().execute(&mut *conn).await?;
        }
        return Ok(());
    }
    let Change::RewrapKeys {
        id,
        from,
        to,
        previous,
    } = change
    else {
        return Err(misrouted());
    };
    // A row that changed meanwhile (an erasure, a re-key) is left as it is: the next pass finds
    // it if it is still under an older epoch. No Stale, so a page commits as one job.
    match previous {
        None => {
            sqlx::query("UPDATE subjects SET wrapped_dek = $1 WHERE id = $2 AND wrapped_dek = $3 AND previous_wrapped_dek IS NULL")
                .bind(&to[..]).bind(&id[..]).bind(&from[..])
                .execute(&mut *conn).await?;
        }
        Some((previous_from, previous_to)) => {
            sqlx::query("UPDATE subjects SET wrapped_dek = $1, previous_wrapped_dek = $2 WHERE id = $3 AND wrapped_dek = $4 AND previous_wrapped_dek = $5")
                .bind(&to[..]).bind(&previous_to[..]).bind(&id[..]).bind(&from[..]).bind(&previous_from[..])
                .execute(&mut *conn).await?;
        }
    }
    Ok(())
}
