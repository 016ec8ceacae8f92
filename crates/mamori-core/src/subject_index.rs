//! Which ledger events concern which person, kept up to date in the background (the privacy
//! center's "who accessed my data" and exports read it).
//!
//! An index maintained on every append cost each audited read a random page write (migration
//! 0003), so instead committed leaves are indexed a few thousand at a time into sorted,
//! append-only *segments*, and segments are merged size-tiered so a person's events stay a few
//! dozen seeks away. Merges and drops run as many small writer jobs (a range of subject ids
//! each) so none holds the single writer for long; a half-built merge is invisible to readers
//! and is dropped at the next start. Leaves not indexed yet are found by a scan of the newest
//! rows, so the index is never needed for correctness, only for speed.

use std::sync::Arc;
use std::time::Duration;

use mamori_store::{ByteRange, Change, JobError, LeafSegment, Store};

use crate::error::Result;
use crate::ledger::Ledger;

/// Leaves per new segment: small enough that indexing them is a short job.
const SEGMENT_LEAVES: i64 = 4096;
/// How often the indexer looks for new leaves (when something was committed).
const INDEX_EVERY: Duration = Duration::from_secs(1);
/// A level with this many segments is merged into one.
const MERGE_AT: usize = 16;
/// Index entries copied or deleted per writer job.
const CHUNK_ENTRIES: i64 = 8192;

/// Segments under 64 Ki entries are level 0, under 1 Mi level 1, the rest level 2 (never merged
/// further: a thousand million events make a thousand seeks).
pub fn level_for(entries: i64) -> i64 {
    match entries {
        ..65_536 => 0,
        65_536..1_048_576 => 1,
        _ => 2,
    }
}

/// The last leaf index covered by a visible segment (-1 if none).
pub fn indexed_upto(segments: &[LeafSegment]) -> i64 {
    segments
        .iter()
        .filter(|s| s.level >= 0)
        .map(|s| s.last_idx)
        .max()
        .unwrap_or(-1)
}

fn chunks_for(entries: i64) -> u16 {
    (entries.max(0) / CHUNK_ENTRIES + 1).clamp(1, 256) as u16
}

/// Runs until the ledger stops: tidies what an interrupted run left, then indexes new leaves at
/// most once a second, whenever something was committed.
pub async fn run(ledger: Ledger, store: Arc<dyn Store>) {
    if let Err(e) = tidy(&ledger, &*store).await {
        tracing::warn!(error = %e, "the subject index could not be tidied; retrying next start");
    }
    let mut commits = ledger.commits();
    loop {
        if let Err(e) = pass(&ledger, &*store).await {
            tracing::warn!(error = %e, "indexing ledger leaves by subject failed; retrying");
        }
        tokio::time::sleep(INDEX_EVERY).await;
        if commits.changed().await.is_err() {
            return;
        }
    }
}

/// Indexes every committed leaf not indexed yet, then merges each level that is full.
pub async fn pass(ledger: &Ledger, store: &dyn Store) -> Result<()> {
    index_new(ledger, store).await?;
    for level in 0..2 {
        let segments = store.leaf_segments().await?;
        let sources: Vec<LeafSegment> = segments
            .iter()
            .filter(|s| s.level == level)
            .copied()
            .collect();
        if sources.len() >= MERGE_AT {
            let target = segments.iter().map(|s| s.segment).max().unwrap_or(0) + 1;
            merge(ledger, &sources, target).await?;
        }
    }
    Ok(())
}

async fn index_new(ledger: &Ledger, store: &dyn Store) -> Result<()> {
    let committed = ledger.committed_size() as i64;
    let mut upto = indexed_upto(&store.leaf_segments().await?);
    while upto + 1 < committed {
        let last_idx = (upto + SEGMENT_LEAVES).min(committed - 1);
        let change = Change::IndexSubjectLeaves {
            first_idx: upto + 1,
            last_idx,
        };
        match ledger.submit(vec![change], vec![]).await? {
            Ok(()) => upto = last_idx,
            // Indexed meanwhile by someone else: carry on from where that got.
            Err(JobError::Stale) => upto = indexed_upto(&store.leaf_segments().await?),
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

async fn merge(ledger: &Ledger, sources: &[LeafSegment], target: i64) -> Result<()> {
    let ids: Vec<i64> = sources.iter().map(|s| s.segment).collect();
    let entries: i64 = sources.iter().map(|s| s.entries).sum();
    if let Err(JobError::Duplicate) = ledger
        .submit(vec![Change::BeginSegmentMerge { target }], vec![])
        .await?
    {
        return Ok(()); // someone else is merging; their merge will do
    }
    for bytes in ByteRange::split(chunks_for(entries)) {
        let chunk = Change::MergeSegmentChunk {
            sources: ids.clone(),
            target,
            bytes,
        };
        ledger.submit(vec![chunk], vec![]).await??;
    }
    let finish = Change::FinishSegmentMerge {
        sources: ids,
        target,
        level: level_for(entries),
    };
    ledger.submit(vec![finish], vec![]).await??;
    for source in sources {
        drop_segment(ledger, source).await?;
    }
    Ok(())
}

/// Deletes a retired or abandoned segment's entries a chunk at a time, then the segment.
async fn drop_segment(ledger: &Ledger, segment: &LeafSegment) -> Result<()> {
    // An abandoned merge does not know how far it got: assume the most.
    let entries = if segment.level == -1 {
        i64::MAX
    } else {
        segment.entries
    };
    for bytes in ByteRange::split(chunks_for(entries)) {
        let drop = Change::DropSegmentEntries {
            segment: segment.segment,
            bytes,
        };
        ledger.submit(vec![drop], vec![]).await??;
    }
    ledger
        .submit(
            vec![Change::ForgetSegment {
                segment: segment.segment,
            }],
            vec![],
        )
        .await??;
    Ok(())
}

/// Drops merges a stopped process left half-built and segments it retired but did not delete.
pub async fn tidy(ledger: &Ledger, store: &dyn Store) -> Result<()> {
    for segment in store.leaf_segments().await? {
        if segment.level < 0 {
            drop_segment(ledger, &segment).await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_grow_by_size() {
        assert_eq!(level_for(0), 0);
        assert_eq!(level_for(65_535), 0);
        assert_eq!(level_for(65_536), 1);
        assert_eq!(level_for(1_048_576), 2);
    }

    #[test]
    fn chunks_keep_each_job_small() {
        assert_eq!(chunks_for(0), 1);
        assert_eq!(chunks_for(8191), 1);
        assert_eq!(chunks_for(65_536), 9);
        assert_eq!(chunks_for(i64::MAX), 256);
        let ranges = ByteRange::split(chunks_for(65_536));
        assert_eq!(ranges.len(), 16);
        assert_eq!(ranges[0].from, 0);
        assert_eq!(ranges.last().map(|r| r.to), Some(256));
        assert!(ranges.windows(2).all(|w| w[0].to == w[1].from as u16));
    }

    #[test]
    fn only_visible_segments_count_as_indexed() {
        let segment = |segment, level, last_idx| LeafSegment {
            segment,
            level,
            entries: 1,
            first_idx: 0,
            last_idx,
        };
        assert_eq!(indexed_upto(&[]), -1);
        assert_eq!(
            indexed_upto(&[segment(1, 0, 9), segment(2, -1, 99), segment(3, -2, 50)]),
            9
        );
    }
}
