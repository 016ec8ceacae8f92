//! Ledger primitives: leaf hashing + tree append, and inclusion proofs at 10,000,000 leaves.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mamori_ledger::{Event, MerkleTree, Outcome, leaf_hash};
use std::hint::black_box;

fn event() -> Vec<u8> {
    Event {
        time_ms: 1_763_900_000_000,
        actor: "key:7d0c2f4e-1b9a-4d6e-9c3f-0a1b2c3d4e5f".into(),
        role: "service".into(),
        purpose: Some("order_fulfilment".into()),
        action: "subject.read".into(),
        subject: Some("2f1e7a9c-3b4d-4e5f-8a9b-0c1d2e3f4a5b".into()),
        categories: vec!["contact".into(), "address".into()],
        recipient: None,
        outcome: Outcome::Allowed,
    }
    .to_leaf_data()
}

fn bench(c: &mut Criterion) {
    let data = event();
    let mut g = c.benchmark_group("ledger");
    g.throughput(Throughput::Elements(1));
    let mut tree = MerkleTree::new();
    g.bench_function("leaf_hash_and_append", |b| {
        b.iter(|| tree.push_leaf_hash(leaf_hash(black_box(&data))))
    });
    g.finish();

    // Block roots in memory, leaves "in storage" (a Vec here): each proof reads back and checks
    // its leaf's block, as the ledger does.
    let mut big = MerkleTree::new();
    let stored: Vec<_> = (0u64..10_000_000)
        .map(|i| leaf_hash(&i.to_le_bytes()))
        .collect();
    stored.iter().for_each(|h| big.push_leaf_hash(*h));
    let size = big.len();
    let read = |r: std::ops::Range<u64>| stored[r.start as usize..r.end as usize].to_vec();
    let mut i = 0u64;
    c.bench_function("inclusion_proof_10M", |b| {
        b.iter(|| {
            i = (i + 7_919) % size;
            big.resolve(
                |t, blocks| t.inclusion_proof(black_box(i), size, blocks),
                read,
            )
            .unwrap()
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
