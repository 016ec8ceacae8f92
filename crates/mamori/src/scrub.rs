//! `mamori scrub`: personal data out of free text, one record per line, stdin to stdout.

use std::io::{BufRead, Write};

use anyhow::Context;
use mamori_scrub::{Kind, Redaction, Scrubber};

/// Builds the scrubber from `--mode KIND=MODE` options; the key for `hash` comes from the
/// environment variable named by `--hash-key-env` (never from the command line, where other
/// users of the machine could read it).
pub fn scrubber(modes: &[String], hash_key_env: Option<&str>) -> anyhow::Result<Scrubber> {
    let key = match hash_key_env {
        Some(var) => Some(
            std::env::var(var)
                .with_context(|| format!("--hash-key-env: the variable {var} is not set"))?
                .into_bytes(),
        ),
        None => None,
    };
    let mut scrubber = Scrubber::new();
    for mode in modes {
        let (kind, how) = mode.split_once('=').with_context(|| {
            format!("--mode {mode}: expected KIND=MODE, e.g. payment_card=mask")
        })?;
        let kind = Kind::parse(kind).with_context(|| {
            let known: Vec<&str> = Kind::ALL.iter().map(|k| k.name()).collect();
            format!(
                "--mode {mode}: unknown kind {kind:?} (known: {})",
                known.join(", ")
            )
        })?;
        let how = Redaction::parse(how, key.as_deref()).with_context(|| match how {
            "hash" => format!("--mode {mode}: hashing needs a key: --hash-key-env VAR"),
            _ => format!("--mode {mode}: unknown mode {how:?} (placeholder, mask, hash, drop)"),
        })?;
        scrubber = scrubber.with(kind, how);
    }
    Ok(scrubber)
}

/// Scrubs each line of `input` to `output`, in order; with `spans`, writes each line's spans
/// as a JSON array instead. A line that is not UTF-8 stops the run, naming the line.
pub fn run(
    scrubber: &Scrubber,
    spans: bool,
    input: impl BufRead,
    mut output: impl Write,
) -> anyhow::Result<()> {
    for (n, line) in input.split(b'\n').enumerate() {
        let line = line.context("reading standard input")?;
        let text = std::str::from_utf8(&line)
            .map_err(|_| anyhow::anyhow!("line {} is not UTF-8 text", n + 1))?;
        if spans {
            let found = mamori_scrub::find(text);
            serde_json::to_writer(&mut output, &found)?;
        } else {
            output.write_all(scrubber.scrub(text).as_bytes())?;
        }
        output.write_all(b"\n")?;
    }
    output.flush()?;
    Ok(())
}
