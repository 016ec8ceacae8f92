//! Writes the labelled evaluation corpus as JSON lines (one record per line: text, language,
//! personal data and look-alikes with byte offsets), for `scripts/scrub-eval.py`.
//!
//! `cargo run -p mamori-scrub --example corpus -- [RECORDS] [SEED] > corpus.jsonl`

#[path = "../tests/corpus/mod.rs"]
mod corpus;

use std::io::Write;

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let records = args.next().and_then(|a| a.parse().ok()).unwrap_or(5000);
    let seed = args.next().and_then(|a| a.parse().ok()).unwrap_or(2026);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for record in corpus::Generator::new(seed).corpus(records) {
        serde_json::to_writer(&mut out, &record)?;
        out.write_all(b"\n")?;
    }
    out.flush()
}
