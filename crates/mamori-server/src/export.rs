//! A person's export as it leaves: one JSON document for the API
//! (`GET /v1/subjects/{id}/export`), a zip of JSON and CSV files for the privacy center's
//! "Download my data" — both from core's one [`Export`], with the same shapes.

use mamori_core::access_log::AccessEntry;
use mamori_core::consent::{ConsentRow, HistoryEntry};
use mamori_core::export::Export;
use mamori_core::format_time;
use mamori_core::vault::{RecordView, SubjectView};
use serde_json::{Value, json};

/// The API's export: fields, records, current consents, every decision and the access log.
pub fn json(export: &Export) -> Value {
    let mut document = subject_json(&export.subject);
    document["records"] = Value::Array(records_json(&export.records));
    document["consents"] = Value::Array(consents_json(&export.consents));
    document["consent_history"] = Value::Array(history_json(&export.history));
    document["access_log"] = Value::Array(access_log_json(&export.access_log));
    document
}

fn subject_json(view: &SubjectView) -> Value {
    json!({ "id": view.id, "created_at": view.created_at, "data": view.data })
}

fn records_json(records: &[RecordView]) -> Vec<Value> {
    records
        .iter()
        .map(|r| json!({"id": r.id, "category": r.category, "created_at": r.created_at, "data": r.data}))
        .collect()
}

fn consents_json(consents: &[ConsentRow]) -> Vec<Value> {
    consents
        .iter()
        .map(|c| {
            json!({
                "purpose": c.purpose,
                "channel": c.channel,
                "granted": c.granted,
                "source": c.source,
                "notice_version": c.notice_version,
                "decided_at": format_time(c.created_ms),
            })
        })
        .collect()
}

fn access_log_json(access_log: &[AccessEntry]) -> Vec<Value> {
    access_log
        .iter()
        .map(crate::api::access_entry_json)
        .collect()
}

/// Every consent decision, oldest first, with the signed receipt it was given with.
fn history_json(history: &[HistoryEntry]) -> Vec<Value> {
    history
        .iter()
        .map(|h| {
            json!({
                "receipt_id": mamori_core::format_id(&h.row.id),
                "purpose": h.row.purpose,
                "channel": h.row.channel,
                "granted": h.row.granted,
                "source": h.row.source,
                "notice_version": h.row.notice_version,
                "decided_at": mamori_core::format_time(h.row.created_ms),
                "receipt": h.receipt,
            })
        })
        .collect()
}

fn history_csv(history: &[HistoryEntry]) -> csv::Result<Vec<u8>> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record([
        "receipt_id",
        "purpose",
        "channel",
        "granted",
        "source",
        "notice_version",
        "decided_at",
        "receipt",
    ])?;
    for h in history {
        out.write_record([
            mamori_core::format_id(&h.row.id).as_str(),
            h.row.purpose.as_str(),
            h.row.channel.as_str(),
            if h.row.granted { "true" } else { "false" },
            h.row.source.as_str(),
            h.row.notice_version.as_deref().unwrap_or(""),
            mamori_core::format_time(h.row.created_ms).as_str(),
            h.receipt.as_deref().unwrap_or(""),
        ])?;
    }
    out.into_inner().map_err(|e| e.into_error().into())
}

/// Records, one row per field: record id, kind, date, field, value.
fn records_csv(records: &[RecordView]) -> csv::Result<Vec<u8>> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(["record", "category", "created_at", "field", "value"])?;
    for r in records {
        for (field, value) in &r.data {
            let text = value
                .as_str()
                .map_or_else(|| value.to_string(), str::to_string);
            out.write_record([
                r.id.as_str(),
                r.category.as_str(),
                r.created_at.as_str(),
                field.as_str(),
                text.as_str(),
            ])?;
        }
    }
    out.into_inner().map_err(|e| e.into_error().into())
}

/// The person's fields as CSV: one row per field.
fn fields_csv(view: &SubjectView) -> anyhow::Result<Vec<u8>> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(["category", "field", "value"])?;
    for (category, fields) in &view.data {
        for (field, value) in fields {
            let text = value
                .as_str()
                .map_or_else(|| value.to_string(), str::to_string);
            out.write_record([category.as_str(), field.as_str(), text.as_str()])?;
        }
    }
    Ok(out.into_inner()?)
}

/// The current consent state as CSV.
fn consents_csv(consents: &[ConsentRow]) -> anyhow::Result<Vec<u8>> {
    let mut out = csv::Writer::from_writer(Vec::new());
    let header = [
        "purpose",
        "channel",
        "granted",
        "source",
        "notice_version",
        "decided_at",
    ];
    out.write_record(header)?;
    for c in consents {
        out.write_record([
            c.purpose.as_str(),
            c.channel.as_str(),
            if c.granted { "true" } else { "false" },
            c.source.as_str(),
            c.notice_version.as_deref().unwrap_or(""),
            format_time(c.created_ms).as_str(),
        ])?;
    }
    Ok(out.into_inner()?)
}

/// The access log as CSV: one row per ledger event about the person.
fn access_log_csv(access_log: &[AccessEntry]) -> anyhow::Result<Vec<u8>> {
    let mut out = csv::Writer::from_writer(Vec::new());
    let header = [
        "event",
        "at",
        "role",
        "purpose",
        "action",
        "categories",
        "allowed",
        "reason",
    ];
    out.write_record(header)?;
    for e in access_log {
        let (allowed, reason) = match &e.event.outcome {
            mamori_ledger::Outcome::Allowed => ("true", ""),
            mamori_ledger::Outcome::Denied { reason } => ("false", reason.as_str()),
        };
        out.write_record([
            e.index.to_string().as_str(),
            format_time(e.event.time_ms).as_str(),
            e.event.role.as_str(),
            e.event.purpose.as_deref().unwrap_or(""),
            e.event.action.as_str(),
            e.event.categories.join(" ").as_str(),
            allowed,
            reason,
        ])?;
    }
    Ok(out.into_inner()?)
}

/// "Download my data": the same documents as [`json`], each as a JSON file and a CSV file.
pub fn zip(export: &Export) -> anyhow::Result<Vec<u8>> {
    use std::io::Write;
    let Export {
        subject: view,
        records,
        consents,
        history,
        access_log,
    } = export;
    let files: [(&str, Vec<u8>); 10] = [
        ("data.json", serde_json::to_vec_pretty(&subject_json(view))?),
        (
            "records.json",
            serde_json::to_vec_pretty(&records_json(records))?,
        ),
        (
            "consents.json",
            serde_json::to_vec_pretty(&consents_json(consents))?,
        ),
        (
            "consent-history.json",
            serde_json::to_vec_pretty(&history_json(history))?,
        ),
        ("data.csv", fields_csv(view)?),
        ("records.csv", records_csv(records)?),
        ("consents.csv", consents_csv(consents)?),
        ("consent-history.csv", history_csv(history)?),
        (
            "access-log.json",
            serde_json::to_vec_pretty(&access_log_json(access_log))?,
        ),
        ("access-log.csv", access_log_csv(access_log)?),
    ];
    let mut archive = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in files {
        archive.start_file(name, options)?;
        archive.write_all(&bytes)?;
    }
    Ok(archive.finish()?.into_inner())
}
