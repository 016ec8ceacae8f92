//! Recall and precision of every detector on the generated multilingual corpus, and the share of
//! look-alikes left untouched. The targets are asserted: recall ≥ 0.97 on every
//! structured kind, ≥ 0.99 of look-alikes untouched. The figures are printed
//! (`cargo test -p mamori-scrub --test corpus_eval -- --nocapture`) and recorded in
//! docs/PERFORMANCE.md.

mod corpus;

use std::collections::BTreeMap;

use mamori_scrub::{Kind, find};

#[derive(Default)]
struct Tally {
    labelled: usize,
    found: usize,
    predicted: usize,
    correct: usize,
}

#[test]
fn recall_and_precision_on_the_generated_corpus() {
    let records = corpus::Generator::new(2026).corpus(5000);
    let mut tallies: BTreeMap<&str, Tally> = BTreeMap::new();
    let (mut lookalikes, mut touched) = (0, 0);
    let mut misses: Vec<String> = Vec::new();
    for record in &records {
        let spans = find(&record.text);
        for label in &record.personal {
            let t = tallies.entry(label.kind).or_default();
            t.labelled += 1;
            // Found: a span of the same kind covers the whole value.
            if spans.iter().any(|s| {
                s.kind.name() == label.kind && s.start <= label.start && s.end >= label.end
            }) {
                t.found += 1;
            } else if misses.len() < 20 {
                misses.push(format!(
                    "{}: {:?} in {:?}",
                    label.kind, label.value, record.text
                ));
            }
        }
        for span in &spans {
            let t = tallies.entry(span.kind.name()).or_default();
            t.predicted += 1;
            if record
                .personal
                .iter()
                .any(|l| l.kind == span.kind.name() && span.start < l.end && l.start < span.end)
            {
                t.correct += 1;
            }
        }
        for label in &record.lookalikes {
            lookalikes += 1;
            if spans
                .iter()
                .any(|s| s.start < label.end && label.start < s.end)
            {
                touched += 1;
                if misses.len() < 40 {
                    misses.push(format!(
                        "look-alike {}: {:?} in {:?}",
                        label.kind, label.value, record.text
                    ));
                }
            }
        }
    }
    println!("| kind | labelled | recall | precision |");
    println!("|---|---|---|---|");
    let mut failures = Vec::new();
    for (kind, t) in &tallies {
        let recall = t.found as f64 / t.labelled.max(1) as f64;
        let precision = t.correct as f64 / t.predicted.max(1) as f64;
        println!("| {kind} | {} | {recall:.3} | {precision:.3} |", t.labelled);
        let structured = Kind::parse(kind).is_some_and(Kind::is_structured);
        if structured && recall < 0.97 {
            failures.push(format!("{kind}: recall {recall:.3} < 0.97"));
        }
    }
    let untouched = 1.0 - touched as f64 / lookalikes.max(1) as f64;
    println!("look-alikes untouched: {untouched:.4} of {lookalikes}");
    if untouched < 0.99 {
        failures.push(format!("look-alikes untouched {untouched:.4} < 0.99"));
    }
    for m in &misses {
        println!("  {m}");
    }
    assert!(failures.is_empty(), "{failures:?}");
    // Every kind the scrubber knows is in the corpus.
    for kind in Kind::ALL {
        assert!(
            tallies.get(kind.name()).is_some_and(|t| t.labelled > 50),
            "{kind:?} is not in the corpus"
        );
    }
}
