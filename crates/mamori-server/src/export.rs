//! Parts of a person's export that the API (`GET /v1/subjects/{id}/export`) and the privacy
//! center's download share: the consent history with its receipts, and records as CSV.

use mamori_core::consent::HistoryEntry;
use mamori_core::vault::RecordView;
use serde_json::{Value, json};

/// Every consent decision, oldest first, with the signed receipt it was given with.
pub fn history_json(history: &[HistoryEntry]) -> Vec<Value> {
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

pub fn history_csv(history: &[HistoryEntry]) -> csv::Result<Vec<u8>> {
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
pub fn records_csv(records: &[RecordView]) -> csv::Result<Vec<u8>> {
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
