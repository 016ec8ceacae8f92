//! A person's export as it leaves: one JSON document for the API
//! (`GET /v1/subjects/{id}/export`), a zip of JSON and CSV files for the privacy center's
//! "Download my data" — both from core's one [`Export`], with the same shapes.

use mamori_core::access_log::AccessEntry;
use mamori_core::consent::{ConsentRow, HistoryEntry};
use mamori_core::export::Export;
use mamori_core::format_time;
use mamori_core::vault::{RecordView, SubjectView};
use mamori_proto::subjects::SubjectBody;

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

/// Disclosures as CSV: one row per disclosure to a vendor.
fn disclosures_csv(
    disclosures: &[mamori_core::disclosures::PersonDisclosure],
) -> anyhow::Result<Vec<u8>> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record([
        "vendor",
        "countries",
        "purpose",
        "categories",
        "disclosed_at",
    ])?;
    for d in disclosures {
        let (countries, categories) = (d.countries.join(" "), d.categories.join(" "));
        out.write_record([&d.vendor, &countries, &d.purpose, &categories, &d.at])?;
    }
    Ok(out.into_inner()?)
}

/// "Download my data": the parts of the API's export document ([`Export::document`]), each as
/// a JSON file and a CSV file.
pub fn zip(export: &Export) -> anyhow::Result<Vec<u8>> {
    use std::io::Write;
    let Export {
        subject: view,
        records,
        consents,
        history,
        access_log,
        disclosures,
    } = export;
    let document = export.document();
    let subject = SubjectBody {
        id: document.id,
        created_at: document.created_at,
        data: document.data,
    };
    let files: [(&str, Vec<u8>); 12] = [
        ("data.json", serde_json::to_vec_pretty(&subject)?),
        (
            "records.json",
            serde_json::to_vec_pretty(&document.records)?,
        ),
        (
            "consents.json",
            serde_json::to_vec_pretty(&document.consents)?,
        ),
        (
            "consent-history.json",
            serde_json::to_vec_pretty(&document.consent_history)?,
        ),
        ("data.csv", fields_csv(view)?),
        ("records.csv", records_csv(records)?),
        ("consents.csv", consents_csv(consents)?),
        ("consent-history.csv", history_csv(history)?),
        (
            "access-log.json",
            serde_json::to_vec_pretty(&document.access_log)?,
        ),
        ("access-log.csv", access_log_csv(access_log)?),
        (
            "disclosures.json",
            serde_json::to_vec_pretty(&document.disclosures)?,
        ),
        ("disclosures.csv", disclosures_csv(disclosures)?),
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
