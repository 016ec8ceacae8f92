//! Erasure against PostgreSQL's copies: after people are erased, their old wrapped data keys are
//! still in the table's dead row versions and in `pg_wal` (PostgreSQL frees nothing at once),
//! and carved from there they open — until the key epoch that wrapped them is destroyed at the
//! horizon; from then on nothing carved opens, master key and key store in hand.

use super::interrupted::{count_rows, execute};
use super::restore::{destroy_epoch, install};
use mamori_testkit::Backend;

/// Every file under `dir`, read whole.
fn files_under(dir: &std::path::Path) -> Vec<Vec<u8>> {
    let mut out = vec![];
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_file() {
            out.push(std::fs::read(&path).unwrap_or_default());
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The installation's keyring with its key store loaded, as the server would hold it.
fn keyring(data: &std::path::Path, database: &str) -> mamori_crypto::Keyring {
    let paths = mamori::context::Paths::new(data, Some(database.to_string()), None);
    let keyring = mamori::context::keyring(&paths).unwrap();
    let store = mamori_core::keys::epoch_store::EpochStore::at(data.join("key-epochs"));
    store.install(&keyring).unwrap();
    keyring
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_carved_from_postgres_files_open_nothing_after_the_horizon() {
    use sqlx::Connection;
    let dir = tempfile::tempdir().unwrap();
    let Some(mamori) = install(Backend::Postgres, dir.path()).await else {
        return;
    };
    let csv = dir.path().join("people.csv");
    let rows: String = (0..20)
        .map(|i| format!("c{i},Carved {i},carved{i}@example.com\n"))
        .collect();
    std::fs::write(
        &csv,
        format!("external_id,contact.name,contact.email\n{rows}"),
    )
    .unwrap();
    let file = csv.to_str().unwrap();
    mamori.ok(&["import", "--file", file, "--purpose", "order_fulfilment"]);
    let mut conn = sqlx::PgConnection::connect(&mamori.database).await.unwrap();
    let stored: Vec<(Vec<u8>, Vec<u8>)> = sqlx::query_as("SELECT id, wrapped_dek FROM subjects")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    assert_eq!(stored.len(), 20);

    // Everyone expires; the sweep erases them: their keys are gone from the live rows.
    execute(&mamori.database, "UPDATE subjects SET active_ms = 1").await;
    mamori.ok(&["retention", "sweep"]);
    let live = "SELECT COUNT(*) FROM subjects WHERE wrapped_dek IS NOT NULL";
    assert_eq!(count_rows(&mamori.database, live).await, 0);
    sqlx::query("CHECKPOINT").execute(&mut conn).await.unwrap();
    let data_dir: String = sqlx::query_scalar("SHOW data_directory")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    let table: String = sqlx::query_scalar("SELECT pg_relation_filepath('subjects')")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    let data_dir = std::path::Path::new(&data_dir);
    let mut files = files_under(&data_dir.join("pg_wal"));
    files.push(std::fs::read(data_dir.join(table)).unwrap());

    // The threat: the old wrapped keys are still in the files, and they open today.
    let carved: Vec<&(Vec<u8>, Vec<u8>)> = (stored.iter())
        .filter(|(_, wrapped)| files.iter().any(|f| contains(f, wrapped)))
        .collect();
    eprintln!(
        "{} of 20 wrapped keys carved from the table file and pg_wal",
        carved.len()
    );
    assert!(
        !carved.is_empty(),
        "PostgreSQL kept none: the premise changed"
    );
    let opens = |keyring: &mamori_crypto::Keyring| {
        (carved.iter())
            .filter(|(id, wrapped)| {
                let id: [u8; 16] = id.as_slice().try_into().unwrap();
                keyring.unwrap_subject_key(&id, wrapped).is_ok()
            })
            .count()
    };
    assert_eq!(
        opens(&keyring(&mamori.data, &mamori.database)),
        carved.len()
    );

    // A new epoch, and the old one destroyed at the horizon: nothing carved opens any more.
    mamori.ok(&["key", "rotate", "--now"]);
    destroy_epoch(&mamori.data, 1);
    assert_eq!(opens(&keyring(&mamori.data, &mamori.database)), 0);
}
