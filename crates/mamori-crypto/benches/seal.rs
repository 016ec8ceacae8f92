//! Sealing a 64-byte field under a subject key versus the raw AEAD on the same machine in the same
//! run. Target (issue 2): seal throughput ≥ 50% of raw AES-256-GCM-SIV encryption.

use aes_gcm_siv::aead::{Aead, KeyInit, Payload};
use aes_gcm_siv::{Aes256GcmSiv, Nonce};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mamori_crypto::{Keyring, LookupKind, MasterKey};
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let ring = Keyring::new(&MasterKey::generate().unwrap());
    let (key, wrapped) = ring.new_subject_key(&[7; 16]).unwrap();
    let value = [0x5au8; 64];
    let raw = Aes256GcmSiv::new_from_slice(&[3u8; 32]).unwrap();
    let nonce = Nonce::from([9u8; 12]);

    let mut g = c.benchmark_group("field_64B");
    g.throughput(Throughput::Elements(1));
    g.bench_function("raw_aead_encrypt", |b| {
        b.iter(|| {
            raw.encrypt(
                &nonce,
                Payload {
                    msg: black_box(&value),
                    aad: b"",
                },
            )
            .unwrap()
        })
    });
    g.bench_function("seal", |b| {
        b.iter(|| key.seal("contact", "email", black_box(&value)))
    });
    let sealed = key.seal("contact", "email", &value);
    g.bench_function("open", |b| {
        b.iter(|| key.open("contact", "email", black_box(&sealed)).unwrap())
    });
    g.bench_function("unwrap_subject_key", |b| {
        b.iter(|| {
            ring.unwrap_subject_key(&[7; 16], black_box(&wrapped))
                .unwrap()
        })
    });
    g.bench_function("blind_index", |b| {
        b.iter(|| ring.blind_index(LookupKind::Email, black_box("ada@example.com")))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
