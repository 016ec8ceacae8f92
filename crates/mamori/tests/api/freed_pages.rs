//! Erasure reaches the bytes SQLite frees: an erased subject's wrapped key and sealed fields
//! cannot be carved out of the database file's free space or out of its write-ahead log.
//! (PostgreSQL keeps dead row versions until VACUUM and in `pg_wal`: docs/SECURITY.md.)

use super::*;

/// Whether `needle` occurs anywhere in `haystack`.
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The pieces of key material to look for: the whole wrapped key, and each 32-byte piece of
/// the sealed fields (a piece found would be ciphertext that the old key opens).
fn pieces(wrapped_dek: &[u8], fields: &[u8]) -> Vec<Vec<u8>> {
    let mut out = vec![wrapped_dek.to_vec()];
    out.extend(fields.chunks_exact(32).map(<[u8]>::to_vec));
    out
}

/// Which pieces are still in the database file or its WAL.
fn pieces_left(app: &TestApp, pieces: &[Vec<u8>]) -> usize {
    let files: Vec<Vec<u8>> = (app.sqlite_files().iter())
        .map(|f| std::fs::read(f).unwrap_or_default())
        .collect();
    (pieces.iter())
        .filter(|p| files.iter().any(|f| contains(f, p)))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_erased_key_cannot_be_carved_from_the_sqlite_files() {
    let app = crate::common::spawn_app(Backend::Sqlite).await.unwrap();
    let id = create(&app, &customer("freed-pages")).await;
    let raw_id = mamori_core::parse_id(&id).unwrap();
    let row = app.store.subject(&raw_id).await.unwrap().unwrap();
    let pieces = pieces(&row.wrapped_dek.unwrap(), &row.fields.unwrap());
    assert!(pieces.len() > 2);
    assert_eq!(
        pieces_left(&app, &pieces),
        pieces.len(),
        "written where it can be found"
    );
    let r = officer(&app, Method::DELETE, &format!("/v1/subjects/{id}"), None).await;
    assert_eq!(r.status(), StatusCode::OK);
    // The checkpointer empties the WAL within a turn or two; allow a loaded machine far more.
    let mut left = pieces.len();
    for _ in 0..200 {
        left = pieces_left(&app, &pieces);
        if left == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        left, 0,
        "pieces of the erased key material are still in the files"
    );
}
