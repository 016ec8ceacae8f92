//! Scrubbing speed on mixed-language feedback, in characters per second (one core).
//! `cargo bench -p mamori-scrub`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mamori_scrub::Scrubber;
use std::hint::black_box;

/// Feedback in English, Japanese and French: mostly plain prose, some personal data of every kind
/// the scrubber knows, and the look-alikes (order numbers, prices, dates, versions) that must
/// survive. Scrubbed one record (line) at a time, as `mamori scrub` and `POST /v1/scrub` do.
fn corpus() -> String {
    let lines = [
        "The delivery was quick and the packaging was lovely, thank you!",
        "Order #20251124 arrived damaged; please contact me at jean.dupont@example.fr.",
        "配送がとても早くて助かりました。また利用したいです。",
        "カード４１１１　１１１１　１１１１　１１１１で支払いましたが、二重請求されています。",
        "Le colis est arrivé le 24/11/2025, très bien emballé. Prix payé : 49,90 €.",
        "App version 2.3.1 crashes when I open my orders on 10.0.0.12, please fix.",
        "Mon IBAN est FR14 2004 1010 0505 0001 3M02 606 pour le remboursement.",
        "商品番号 SKU-4111111111111111 の在庫はいつ戻りますか？",
        "Great service overall. Would recommend to friends and family.",
        "Total was $129.99 for 3 items, tracking 1Z999AA10123456784.",
        "田中太郎と申します。電話は090-1234-5678、〒100-0001 東京都千代田区千代田1-1です。",
        "Bonjour, je m'appelle Marie Dupont, née le 14 mai 1985 ; appelez le 06 12 34 56 78.",
        "My name is Ada Lovelace, I live at 221 Baker Street, call (212) 736-5000 anytime.",
        "Livraison au 12 rue de la Paix, 75002 Paris, NIR 2 69 05 49 588 157 80 (ne pas garder).",
        "The app logged me in from 2001:db8::8a2e:370:7334 at 12:30:45, SSN 536-90-4399 was shown.",
        "マイナンバーは1234 5678 9018です。注文は2025年5月14日に届きました。",
        "Great value for 1 299 yen; ordered 3, received 2 on 15.01.2024.",
    ];
    let mut text = String::new();
    while text.len() < 1 << 20 {
        for line in lines {
            text.push_str(line);
            text.push('\n');
        }
    }
    text
}

fn bench(c: &mut Criterion) {
    let text = corpus();
    let scrubber = Scrubber::new();
    let mut g = c.benchmark_group("scrub");
    g.throughput(Throughput::Elements(text.chars().count() as u64));
    g.bench_function("mixed_feedback_1MiB_chars", |b| {
        b.iter(|| scrubber.scrub(black_box(&text)))
    });
    // As `mamori scrub` works: one record (line) at a time.
    g.bench_function("mixed_feedback_per_record", |b| {
        b.iter(|| {
            black_box(&text)
                .lines()
                .map(|line| scrubber.scrub(line).len())
                .sum::<usize>()
        })
    });
    // The floor: one pass that only counts the characters.
    g.bench_function("baseline_count_chars", |b| {
        b.iter(|| black_box(&text).chars().count())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
