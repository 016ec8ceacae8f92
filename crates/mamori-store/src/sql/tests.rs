//! The SQLite writer's two commit paths, on a scratch database.

use mamori_ledger::{SignedTreeHead, TreeHead};

use super::*;

#[test]
fn leaf_chunks_cover_every_row_once_in_cached_shapes() {
    for n in [0usize, 1, 3, 17, 255, 1000, 1001, 2345] {
        let rows: Vec<usize> = (0..n).collect();
        let chunks = statement_sized_chunks(&rows);
        assert!(chunks.iter().all(|c| LEAF_CHUNKS.contains(&c.len())));
        assert_eq!(chunks.concat(), rows, "n = {n}");
    }
}

fn leaf(index: u64) -> LeafRow {
    LeafRow {
        index,
        data: vec![index as u8; 40],
        hash: [index as u8; 32],
        subject_id: Some([7; 16]),
    }
}

fn head(size: u64) -> SignedTreeHead {
    SignedTreeHead {
        head: TreeHead {
            size,
            timestamp_ms: 1,
            root: [size as u8; 32],
        },
        signature: [0; 64],
        key_id: Some("k1".into()),
    }
}

/// A fresh SQLite store in a directory of its own (remove it at the end of the test).
async fn scratch_store(name: &str) -> (std::path::PathBuf, SqliteStore) {
    let dir = std::env::temp_dir().join(format!("mamori-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("t.db");
    (
        dir,
        SqliteStore::open(path.to_str().unwrap()).await.unwrap(),
    )
}

/// A writer whose tree is behind the stored ledger (another process appended meanwhile) is
/// handed the hashes of the leaves since its size, on both commit paths, inside the batch.
#[tokio::test]
async fn a_writer_behind_is_handed_the_leaves_appended_since() {
    let (dir, store) = scratch_store("behind").await;
    let mut seen: Vec<Vec<[u8; 32]>> = vec![];
    let mut first = |_: &[JobOutcome], foreign: &[[u8; 32]]| {
        seen.push(foreign.to_vec());
        (vec![leaf(0), leaf(1)], head(2))
    };
    store.commit_batch(&[vec![]], 0, &mut first).await.unwrap();
    // Events alone (rusqlite), from a tree of one leaf: leaf 1 is someone else's.
    let mut behind = |_: &[JobOutcome], foreign: &[[u8; 32]]| {
        seen.push(foreign.to_vec());
        (vec![leaf(2)], head(3))
    };
    store.commit_batch(&[vec![]], 1, &mut behind).await.unwrap();
    // With a change (sqlx), from a tree of two: leaf 2 is someone else's.
    let change = Change::BeginSegmentMerge { target: 1 };
    let mut with_change = |_: &[JobOutcome], foreign: &[[u8; 32]]| {
        seen.push(foreign.to_vec());
        (vec![leaf(3)], head(4))
    };
    store
        .commit_batch(&[vec![change]], 2, &mut with_change)
        .await
        .unwrap();
    assert_eq!(seen, vec![vec![], vec![[1; 32]], vec![[2; 32]]]);
    assert_eq!(store.leaf_hashes(0, 10).await.unwrap().len(), 4);
    drop(store);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Batches of events alone take the rusqlite path (`events_only.rs`): what they commit is
/// what the sqlx path reads back, and a leaf index already taken keeps nothing of the batch.
#[tokio::test]
async fn events_alone_commit_whole_or_not_at_all() {
    let (dir, store) = scratch_store("events-only").await;
    let mut first = |_: &[JobOutcome], _: &[[u8; 32]]| (vec![leaf(0), leaf(1)], head(2));
    let outcomes = store.commit_batch(&[vec![], vec![]], 0, &mut first).await;
    assert_eq!(outcomes.unwrap(), vec![Ok(()), Ok(())]);
    assert_eq!(
        store.leaf_hashes(0, 10).await.unwrap(),
        vec![[0; 32], [1; 32]]
    );
    assert_eq!(store.latest_head().await.unwrap().unwrap().head.size, 2);

    let mut clash = |_: &[JobOutcome], _: &[[u8; 32]]| (vec![leaf(2), leaf(1)], head(3));
    let refused = store.commit_batch(&[vec![]], 2, &mut clash).await;
    assert!(
        matches!(refused, Err(StoreError::Corrupt(_))),
        "{refused:?}"
    );
    assert_eq!(store.leaf_hashes(0, 10).await.unwrap().len(), 2);
    assert_eq!(store.latest_head().await.unwrap().unwrap().head.size, 2);

    // A batch with a change goes the sqlx way and sees the leaves committed above.
    let mut next = |_: &[JobOutcome], _: &[[u8; 32]]| (vec![leaf(2)], head(3));
    let change = Change::BeginSegmentMerge { target: 1 };
    assert_eq!(
        store
            .commit_batch(&[vec![change]], 2, &mut next)
            .await
            .unwrap(),
        vec![Ok(())]
    );
    assert_eq!(store.leaf_hashes(0, 10).await.unwrap().len(), 3);
    drop(store);
    std::fs::remove_dir_all(&dir).unwrap();
}
