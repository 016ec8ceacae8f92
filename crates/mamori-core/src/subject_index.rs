//! Which ledger events concern which person, kept up to date in the background (the privacy
//! center's "who accessed my data" and exports read it).
//!
//! An index maintained on every append cost each audited read a random page write (migration
//! 0003), so instead committed leaves are indexed a few thousand at a time into sorted,
//! append-only *segments*, and segments are merged size-tiered so a person's events stay a few
//! dozen seeks away. Merges and drops run as many small writer jobs (a range of keys each, cut
//! at keys sampled from the leaves) so none holds the single writer for long; a half-built
//! merge is invisible to readers and is dropped at the next start. Leaves not indexed yet are
//! found by a scan of the newest rows, so the index is never needed for correctness, only for
//! speed.

use std::time::Duration;

use mamori_store::{Change, JobError, KeyRange, LeafKey, LeafSegment, Store};

use crate::error::Result;
use crate::ledger::Ledger;

/// Leaves per new segment: small enough that indexing them is a short job.
const SEGMENT_LEAVES: i64 = 4096;
/// How often the indexer looks for new leaves (when something was committed).
pub(crate) const INDEX_EVERY: Duration = Duration::from_secs(1);
/// A level with this many segments is merged into one.
const MERGE_AT: usize = 16;
/// Index entries copied or deleted per writer job.
const CHUNK_ENTRIES: i64 = 8192;
/// Leaves sampled per chunk of a merge to place its bounds: enough that chunks come out
/// within a small factor of [`CHUNK_ENTRIES`].
const SAMPLES_PER_CHUNK: i64 = 8;
/// At most this many leaves sampled for one merge (a few dozen milliseconds of reads).
const MAX_SAMPLES: i64 = 65_536;

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

/// Chunks of about [`CHUNK_ENTRIES`] for a merge of `entries`.
fn chunks_for(entries: i64) -> i64 {
    (entries.max(0) / CHUNK_ENTRIES).max(1)
}

/// Leaf indices to sample, spread evenly over each source's leaves in proportion to its entries.
fn sample_positions(sources: &[LeafSegment], samples: i64) -> Vec<i64> {
    let entries: i64 = sources.iter().map(|s| s.entries.max(0)).sum::<i64>().max(1);
    let mut positions = Vec::new();
    for source in sources {
        let span = source.last_idx - source.first_idx + 1;
        let here = (samples * source.entries.max(0) / entries).min(span);
        for k in 0..here {
            positions.push(source.first_idx + (2 * k + 1) * span / (2 * here));
        }
    }
    positions
}

/// `chunks - 1` bounds that cut the sampled keys into runs of equal length.
fn bounds_from_samples(mut samples: Vec<LeafKey>, chunks: i64) -> Vec<LeafKey> {
    samples.sort_unstable();
    let n = samples.len() as i64;
    (1..chunks.min(n))
        .map(|k| samples[(k * n / chunks) as usize])
        .collect()
}

/// The ranges a merge of `sources` copies, one writer job each.
async fn merge_ranges(store: &dyn Store, sources: &[LeafSegment]) -> Result<Vec<KeyRange>> {
    let chunks = chunks_for(sources.iter().map(|s| s.entries).sum());
    if chunks == 1 {
        return Ok(vec![KeyRange::ALL]);
    }
    let samples = (chunks * SAMPLES_PER_CHUNK).min(MAX_SAMPLES);
    let keys = store.leaf_keys(&sample_positions(sources, samples)).await?;
    Ok(KeyRange::split_at(&bounds_from_samples(keys, chunks)))
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
            merge(ledger, store, &sources, target).await?;
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

async fn merge(
    ledger: &Ledger,
    store: &dyn Store,
    sources: &[LeafSegment],
    target: i64,
) -> Result<()> {
    let ids: Vec<i64> = sources.iter().map(|s| s.segment).collect();
    let entries: i64 = sources.iter().map(|s| s.entries).sum();
    if let Err(JobError::Duplicate) = ledger
        .submit(vec![Change::BeginSegmentMerge { target }], vec![])
        .await?
    {
        return Ok(()); // someone else is merging; their merge will do
    }
    for keys in merge_ranges(store, sources).await? {
        let chunk = Change::MergeSegmentChunk {
            sources: ids.clone(),
            target,
            keys,
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
    loop {
        let drop = Change::DropSegmentEntries {
            segment: segment.segment,
            limit: CHUNK_ENTRIES,
        };
        match ledger.submit(vec![drop], vec![]).await? {
            Ok(()) => continue,
            Err(JobError::Gone) => break,
            Err(e) => return Err(e.into()),
        }
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
    use proptest::prelude::*;

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
        assert_eq!(chunks_for(65_536), 8);
        assert_eq!(chunks_for(1_000_000), 122);
    }

    /// A UUIDv7-like id: every subject made this decade shares the first bytes (the time).
    fn v7_like(n: u64) -> [u8; 16] {
        let mut id = [
            0x01, 0x9a, 0x7c, 0x00, 0, 0, 0x70, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        ];
        id[4..6].copy_from_slice(&((n / 1000) as u16).to_be_bytes());
        id[8..16].copy_from_slice(&n.wrapping_mul(0x9E37_79B9_7F4A_7C15).to_be_bytes());
        id
    }

    /// The merge's ranges, sampled as `merge_ranges` does, from leaves stored in `keys` by index.
    fn ranges_for(keys: &[LeafKey], sources: &[LeafSegment]) -> Vec<KeyRange> {
        let entries: i64 = sources.iter().map(|s| s.entries).sum();
        let chunks = chunks_for(entries);
        let samples = (chunks * SAMPLES_PER_CHUNK).min(MAX_SAMPLES);
        let sampled: Vec<LeafKey> = sample_positions(sources, samples)
            .into_iter()
            .map(|idx| keys[idx as usize])
            .collect();
        KeyRange::split_at(&bounds_from_samples(sampled, chunks))
    }

    #[test]
    fn merge_chunks_stay_small_with_time_ordered_ids_and_a_busy_subject() {
        // 160,000 leaves in 16 segments of 10,000; a third of them about one person.
        let busy = v7_like(7);
        let keys: Vec<LeafKey> = (0..160_000u64)
            .map(|i| LeafKey {
                subject: if i % 3 == 0 { busy } else { v7_like(i) },
                idx: i as i64,
            })
            .collect();
        let sources: Vec<LeafSegment> = (0..16)
            .map(|k| LeafSegment {
                segment: k + 1,
                level: 0,
                entries: 10_000,
                first_idx: k * 10_000,
                last_idx: k * 10_000 + 9_999,
            })
            .collect();
        let ranges = ranges_for(&keys, &sources);
        assert!(ranges.len() >= 15, "{} ranges", ranges.len());
        let mut sizes = vec![0i64; ranges.len()];
        for key in &keys {
            let inside: Vec<usize> = (0..ranges.len())
                .filter(|&r| ranges[r].contains(key))
                .collect();
            assert_eq!(inside.len(), 1, "{key:?} is in {inside:?}");
            sizes[inside[0]] += 1;
        }
        let largest = sizes.iter().max().copied().unwrap_or(0);
        assert!(largest <= 3 * CHUNK_ENTRIES, "a chunk of {largest} entries");
    }

    #[test]
    fn a_small_merge_is_one_chunk() {
        let source = LeafSegment {
            segment: 1,
            level: 0,
            entries: 4096,
            first_idx: 0,
            last_idx: 4095,
        };
        let keys: Vec<LeafKey> = (0..4096)
            .map(|i| LeafKey {
                subject: v7_like(i),
                idx: i as i64,
            })
            .collect();
        assert_eq!(ranges_for(&keys, &[source]), vec![KeyRange::ALL]);
    }

    fn leaf_key() -> impl Strategy<Value = LeafKey> {
        (any::<[u8; 2]>(), 0i64..50).prop_map(|(prefix, idx)| {
            let mut subject = [0u8; 16];
            subject[..2].copy_from_slice(&prefix);
            LeafKey { subject, idx }
        })
    }

    proptest! {
        /// Whatever the bounds, every key is in exactly one range: a merge copies each entry once.
        #[test]
        fn ranges_cover_every_key_once(
            bounds in prop::collection::vec(leaf_key(), 0..20),
            keys in prop::collection::vec(leaf_key(), 1..50),
        ) {
            let ranges = KeyRange::split_at(&bounds);
            for key in &keys {
                prop_assert_eq!(ranges.iter().filter(|r| r.contains(key)).count(), 1);
            }
        }
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
