//! `mamori import`: bulk creation of subjects from CSV or JSON Lines.
//!
//! CSV: a header row naming `external_id` and `category.field` columns; an empty cell means the
//! field is absent. JSON Lines: one `{"external_id"?, "data": {category: {field: value}}}` per
//! line, the body of `POST /v1/subjects`. Rows go through the same parse → decide → seal →
//! ledger path as the API, a batch per transaction. The checkpoint (rows done) is committed with
//! each batch, so running the same command again resumes after the last committed batch.
//! Rejected rows are listed in a rejects file by line number and reason, never by value.

use mamori_proto::ErrorCode;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context as _, bail};
use indicatif::{ProgressBar, ProgressStyle};
use mamori_core::import::{BatchReport, ImportRow, Rejection};
use mamori_core::vault::DataInput;
use mamori_core::{Actor, Vault};
use mamori_policy::{FieldType, Policy};
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

pub struct ImportArgs {
    pub file: PathBuf,
    pub purpose: String,
    pub role: String,
    pub batch: usize,
    pub rejects: Option<PathBuf>,
    pub progress: bool,
}

#[derive(Debug, Default, Clone, Copy)]
pub struct Summary {
    pub rows: u64,
    pub skipped: u64,
    pub imported: u64,
    pub rejected: u64,
    pub seconds: f64,
}

enum Format {
    Csv,
    JsonLines,
}

fn format_of(path: &Path) -> anyhow::Result<Format> {
    match path.extension().and_then(|e| e.to_str()) {
        Some("csv") => Ok(Format::Csv),
        Some("jsonl" | "ndjson") => Ok(Format::JsonLines),
        _ => bail!(
            "{}: unknown format; name the file .csv or .jsonl",
            path.display()
        ),
    }
}

/// Names an import by the file's contents and the purpose, so that re-running it resumes and a
/// changed file starts afresh. Also counts the lines, for the progress bar.
fn fingerprint(path: &Path, purpose: &str) -> anyhow::Result<([u8; 32], u64)> {
    let mut file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut hasher = Sha256::new();
    hasher.update(b"mamori-import-v1\0");
    hasher.update(purpose.as_bytes());
    hasher.update(b"\0");
    let mut buf = vec![0u8; 1 << 20];
    let mut lines = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        lines += buf[..n].iter().filter(|&&b| b == b'\n').count() as u64;
    }
    Ok((hasher.finalize().into(), lines))
}

pub async fn run(vault: &Vault, args: ImportArgs) -> anyhow::Result<Summary> {
    let format = format_of(&args.file)?;
    if args.batch == 0 || args.batch > 50_000 {
        bail!("--batch must be between 1 and 50000");
    }
    let (import_id, lines) = fingerprint(&args.file, &args.purpose)?;
    vault.prepare_bulk_load().await?;
    let resume_at = vault.import_resume_point(&import_id).await?;
    let rejects_path = args.rejects.clone().unwrap_or_else(|| {
        let mut p = args.file.clone().into_os_string();
        p.push(".rejects.jsonl");
        PathBuf::from(p)
    });
    let mut rejects = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&rejects_path)
        .with_context(|| format!("opening {}", rejects_path.display()))?;
    if resume_at > 0 {
        eprintln!("resuming: the first {resume_at} rows were imported by an earlier run");
    }
    let bar = progress_bar(args.progress, lines, resume_at);
    let actor = Actor {
        id: "cli:import".into(),
        role: args.role.clone(),
    };
    let (tx, mut rx) = mpsc::channel::<anyhow::Result<Batch>>(2);
    let reader = spawn_reader(
        format,
        args.file.clone(),
        vault.policy.clone(),
        resume_at,
        args.batch,
        tx,
    );
    let started = Instant::now();
    let mut summary = Summary {
        skipped: resume_at,
        ..Summary::default()
    };
    pipeline(vault, &actor, &args.purpose, import_id, &mut rx, |done| {
        record(done, &mut rejects, &mut summary, &bar)
    })
    .await?;
    reader
        .await
        .map_err(|e| anyhow::anyhow!("reader failed: {e}"))?;
    bar.finish_and_clear();
    summary.seconds = started.elapsed().as_secs_f64();
    if summary.rejected == 0 && std::fs::metadata(&rejects_path).is_ok_and(|m| m.len() == 0) {
        let _ = std::fs::remove_file(&rejects_path);
    } else if summary.rejected > 0 {
        eprintln!(
            "{} rows rejected; reasons by line in {}",
            summary.rejected,
            rejects_path.display()
        );
    }
    Ok(summary)
}

/// A committed batch, with the rows the reader already rejected.
pub struct Done {
    pub rows_read: u64,
    pub early_rejects: Vec<Rejection>,
    pub report: BatchReport,
}

/// Imports batches as they arrive, sealing batch N+1 while batch N commits (sealing wants the
/// cores, committing the disk). `on_done` sees each committed batch in order.
pub async fn pipeline(
    vault: &Vault,
    actor: &Actor,
    purpose: &str,
    import_id: [u8; 32],
    rx: &mut mpsc::Receiver<anyhow::Result<Batch>>,
    mut on_done: impl FnMut(Done) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let mut in_flight: Option<tokio::task::JoinHandle<anyhow::Result<Done>>> = None;
    while let Some(batch) = rx.recv().await {
        let batch = batch?;
        let prepared = vault
            .prepare_import(actor, purpose, import_id, batch.position, batch.rows)
            .await?;
        if let Some(done) = in_flight.take() {
            on_done(done.await??)?;
        }
        let vault = vault.clone();
        let (rows_read, early_rejects) = (batch.rows_read, batch.rejected);
        in_flight = Some(tokio::spawn(async move {
            let report = vault.commit_import(prepared).await?;
            Ok(Done {
                rows_read,
                early_rejects,
                report,
            })
        }));
    }
    if let Some(done) = in_flight.take() {
        on_done(done.await??)?;
    }
    Ok(())
}

fn record(
    mut done: Done,
    rejects: &mut File,
    summary: &mut Summary,
    bar: &ProgressBar,
) -> anyhow::Result<()> {
    done.report.rejected.append(&mut done.early_rejects);
    done.report.rejected.sort_by_key(|r| r.line);
    write_rejects(rejects, &done.report.rejected)?;
    summary.rows += done.rows_read;
    summary.imported += done.report.imported;
    summary.rejected += done.report.rejected.len() as u64;
    bar.inc(done.rows_read);
    Ok(())
}

fn progress_bar(show: bool, lines: u64, done: u64) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(lines);
    bar.set_style(
        ProgressStyle::with_template(
            "{elapsed_precise} [{bar:40}] {pos}/{len} rows ({per_sec}, eta {eta})",
        )
        .expect("static template")
        .progress_chars("=> "),
    );
    bar.set_position(done);
    bar
}

fn write_rejects(out: &mut File, rejected: &[Rejection]) -> anyhow::Result<()> {
    if rejected.is_empty() {
        return Ok(());
    }
    let mut text = String::new();
    for r in rejected {
        let line = serde_json::json!({"line": r.line, "code": r.code, "field": r.field, "message": r.message});
        text.push_str(&line.to_string());
        text.push('\n');
    }
    out.write_all(text.as_bytes())?;
    out.sync_data()?;
    Ok(())
}

/// Rows read from the file for one batch, and the file position after them.
pub struct Batch {
    pub rows: Vec<ImportRow>,
    pub rejected: Vec<Rejection>,
    pub rows_read: u64,
    pub position: u64,
}

fn spawn_reader(
    format: Format,
    path: PathBuf,
    policy: std::sync::Arc<Policy>,
    skip: u64,
    batch: usize,
    tx: mpsc::Sender<anyhow::Result<Batch>>,
) -> tokio::task::JoinHandle<()> {
    tokio::task::spawn_blocking(move || {
        let result = match format {
            Format::Csv => read_csv(&path, &policy, skip, batch, &tx),
            Format::JsonLines => read_jsonl(&path, skip, batch, &tx),
        };
        if let Err(e) = result {
            let _ = tx.blocking_send(Err(e));
        }
    })
}

/// Collects rows into batches and hands each full batch on.
struct Batcher<'a> {
    tx: &'a mpsc::Sender<anyhow::Result<Batch>>,
    size: usize,
    position: u64,
    current: Batch,
}

impl<'a> Batcher<'a> {
    fn new(tx: &'a mpsc::Sender<anyhow::Result<Batch>>, size: usize, position: u64) -> Self {
        Batcher {
            tx,
            size,
            position,
            current: Batch {
                rows: Vec::with_capacity(size),
                rejected: vec![],
                rows_read: 0,
                position,
            },
        }
    }

    fn push(&mut self, row: Result<ImportRow, Rejection>) -> anyhow::Result<()> {
        self.position += 1;
        self.current.rows_read += 1;
        self.current.position = self.position;
        match row {
            Ok(r) => self.current.rows.push(r),
            Err(r) => self.current.rejected.push(r),
        }
        if self.current.rows_read as usize >= self.size {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> anyhow::Result<()> {
        if self.current.rows_read == 0 {
            return Ok(());
        }
        let next = Batch {
            rows: Vec::with_capacity(self.size),
            rejected: vec![],
            rows_read: 0,
            position: self.position,
        };
        let full = std::mem::replace(&mut self.current, next);
        self.tx
            .blocking_send(Ok(full))
            .map_err(|_| anyhow::anyhow!("import stopped"))
    }
}

/// The JSON Lines shape: the body of `POST /v1/subjects`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonRow {
    external_id: Option<String>,
    data: DataInput,
}

fn malformed(line: u64, message: String) -> Rejection {
    Rejection {
        line,
        code: ErrorCode::MalformedRow,
        field: None,
        message,
    }
}

fn read_jsonl(
    path: &Path,
    skip: u64,
    batch: usize,
    tx: &mpsc::Sender<anyhow::Result<Batch>>,
) -> anyhow::Result<()> {
    let reader = BufReader::with_capacity(1 << 20, File::open(path)?);
    let mut batcher = Batcher::new(tx, batch, skip);
    for (i, line) in reader.lines().enumerate().skip(skip as usize) {
        let line_no = i as u64 + 1;
        let line = line.with_context(|| format!("reading line {line_no}"))?;
        if line.trim().is_empty() {
            batcher.position += 1;
            batcher.current.rows_read += 1;
            batcher.current.position = batcher.position;
            continue;
        }
        let row = serde_json::from_str::<JsonRow>(&line)
            .map(|r| ImportRow {
                line: line_no,
                external_id: r.external_id,
                data: r.data,
            })
            // serde's message can quote the input; say only where and what kind of problem.
            .map_err(|e| {
                malformed(
                    line_no,
                    format!(
                        "not a JSON object of the form {{\"external_id\"?, \"data\": {{category: {{field: value}}}}}} ({:?} error at column {})",
                        e.classify(),
                        e.column()
                    ),
                )
            });
        batcher.push(row)?;
    }
    batcher.flush()
}

/// A CSV column: `external_id`, or a field of a category with its type.
enum Column {
    ExternalId,
    Field {
        category: String,
        field: String,
        kind: FieldType,
    },
}

fn csv_columns(headers: &csv::StringRecord, policy: &Policy) -> anyhow::Result<Vec<Column>> {
    headers
        .iter()
        .map(|h| {
            if h == "external_id" {
                return Ok(Column::ExternalId);
            }
            let Some((cat, field)) = h.split_once('.') else {
                bail!("CSV column `{h}`: name columns `category.field` (or `external_id`)");
            };
            let Some(category) = policy.category(cat) else {
                bail!("CSV column `{h}`: category `{cat}` is not declared in the policy");
            };
            let Some((_, f)) = category.field(field) else {
                bail!("CSV column `{h}`: field `{field}` is not declared in category `{cat}`");
            };
            Ok(Column::Field {
                category: cat.to_string(),
                field: field.to_string(),
                kind: f.kind.clone(),
            })
        })
        .collect()
}

/// A CSV cell as the JSON value the API would have received.
fn cell_value(kind: &FieldType, cell: &str) -> Value {
    match kind {
        FieldType::Number => serde_json::from_str::<serde_json::Number>(cell)
            .map(Value::Number)
            .unwrap_or_else(|_| Value::String(cell.to_string())),
        FieldType::Bool => match cell {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => Value::String(cell.to_string()),
        },
        _ => Value::String(cell.to_string()),
    }
}

fn read_csv(
    path: &Path,
    policy: &Policy,
    skip: u64,
    batch: usize,
    tx: &mpsc::Sender<anyhow::Result<Batch>>,
) -> anyhow::Result<()> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .buffer_capacity(1 << 20)
        .from_path(path)
        .with_context(|| format!("opening {}", path.display()))?;
    let columns = csv_columns(reader.headers()?, policy)?;
    let mut batcher = Batcher::new(tx, batch, skip);
    let mut record = csv::StringRecord::new();
    let mut index = 0u64;
    loop {
        let more = match reader.read_record(&mut record) {
            Ok(more) => more,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                bail!("{}: line {line}: the CSV is malformed", path.display())
            }
        };
        if !more {
            break;
        }
        index += 1;
        if index <= skip {
            continue;
        }
        let line = record.position().map_or(index + 1, |p| p.line());
        let row = if record.len() != columns.len() {
            Err(malformed(
                line,
                format!(
                    "{} cells where the header has {}",
                    record.len(),
                    columns.len()
                ),
            ))
        } else {
            Ok(csv_row(line, &columns, &record))
        };
        batcher.push(row)?;
    }
    batcher.flush()
}

fn csv_row(line: u64, columns: &[Column], record: &csv::StringRecord) -> ImportRow {
    let mut external_id = None;
    let mut data: DataInput = BTreeMap::new();
    for (column, cell) in columns.iter().zip(record.iter()) {
        if cell.is_empty() {
            continue;
        }
        match column {
            Column::ExternalId => external_id = Some(cell.to_string()),
            Column::Field {
                category,
                field,
                kind,
            } => {
                data.entry(category.clone())
                    .or_default()
                    .insert(field.clone(), cell_value(kind, cell));
            }
        }
    }
    ImportRow {
        line,
        external_id,
        data,
    }
}

/// Where each field of a consents CSV is (the first four are required).
struct ConsentColumns {
    subject: usize,
    purpose: usize,
    granted: usize,
    timestamp: usize,
    channel: Option<usize>,
    source: Option<usize>,
    notice: Option<usize>,
}

impl ConsentColumns {
    fn from_headers(headers: &csv::StringRecord) -> anyhow::Result<ConsentColumns> {
        let column = |name: &str| headers.iter().position(|h| h == name);
        let (Some(subject), Some(purpose), Some(granted), Some(timestamp)) = (
            column("subject"),
            column("purpose"),
            column("granted"),
            column("timestamp"),
        ) else {
            bail!(
                "the CSV needs the columns subject, purpose, granted and timestamp (channel, source and notice_version are optional)"
            );
        };
        Ok(ConsentColumns {
            subject,
            purpose,
            granted,
            timestamp,
            channel: column("channel"),
            source: column("source"),
            notice: column("notice_version"),
        })
    }

    /// One row as a decision to import, or why it is rejected before any lookup.
    fn row(
        &self,
        record: &csv::StringRecord,
        line: u64,
    ) -> std::result::Result<mamori_core::consent_import::ConsentImportRow, Rejection> {
        let cell = |i: Option<usize>| i.and_then(|i| record.get(i)).filter(|c| !c.is_empty());
        let granted = match cell(Some(self.granted)) {
            Some("true") => true,
            Some("false") => false,
            _ => return Err(malformed(line, "granted must be true or false".into())),
        };
        let rfc3339 = &time::format_description::well_known::Rfc3339;
        let Some(at) =
            cell(Some(self.timestamp)).and_then(|t| time::OffsetDateTime::parse(t, rfc3339).ok())
        else {
            let why = "timestamp must be RFC 3339, e.g. 2024-05-01T10:00:00Z";
            return Err(malformed(line, why.into()));
        };
        Ok(mamori_core::consent_import::ConsentImportRow {
            line,
            subject: cell(Some(self.subject)).unwrap_or_default().to_string(),
            change: mamori_core::consent::ConsentChange {
                purpose: cell(Some(self.purpose)).unwrap_or_default().to_string(),
                channel: cell(self.channel).map(str::to_string),
                granted,
                source: Some(cell(self.source).unwrap_or("import").to_string()),
                notice_version: cell(self.notice).map(str::to_string),
            },
            at_ms: (at.unix_timestamp_nanos() / 1_000_000) as i64,
        })
    }
}

/// Reads a consents CSV and imports it in batches of 1,000 rows per transaction.
pub async fn run_consents(
    vault: &Vault,
    file: &Path,
    role: &str,
    rejects: Option<PathBuf>,
) -> anyhow::Result<Summary> {
    let rejects_path = rejects.unwrap_or_else(|| {
        let mut p = file.to_path_buf().into_os_string();
        p.push(".rejects.jsonl");
        PathBuf::from(p)
    });
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(file)
        .with_context(|| format!("opening {}", file.display()))?;
    let columns = ConsentColumns::from_headers(reader.headers()?)?;
    let actor = Actor {
        id: "cli:import".into(),
        role: role.to_string(),
    };
    let mut summary = Summary::default();
    let mut out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&rejects_path)?;
    let mut batch = Vec::new();
    let mut early = Vec::new();
    let mut records = reader.records();
    loop {
        let record = records.next();
        let done = record.is_none();
        if let Some(record) = record {
            let record = record.map_err(|e| {
                anyhow::anyhow!(
                    "line {}: the CSV is malformed",
                    e.position().map_or(0, |p| p.line())
                )
            })?;
            summary.rows += 1;
            let line = record.position().map_or(summary.rows + 1, |p| p.line());
            match columns.row(&record, line) {
                Ok(row) => batch.push(row),
                Err(rejected) => early.push(rejected),
            }
        }
        if batch.len() >= 1_000 || (done && (!batch.is_empty() || !early.is_empty())) {
            let mut report = vault
                .import_consents(&actor, std::mem::take(&mut batch))
                .await?;
            report.rejected.append(&mut early);
            report.rejected.sort_by_key(|r| r.line);
            write_rejects(&mut out, &report.rejected)?;
            summary.imported += report.imported;
            summary.rejected += report.rejected.len() as u64;
        }
        if done {
            break;
        }
    }
    if summary.rejected == 0 {
        let _ = std::fs::remove_file(&rejects_path);
    } else {
        eprintln!(
            "{} rows rejected; reasons by line in {}",
            summary.rejected,
            rejects_path.display()
        );
    }
    Ok(summary)
}
