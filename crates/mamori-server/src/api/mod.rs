//! JSON API handlers. Each one parses into domain types, calls one core service and maps the
//! result; the rules live in `mamori-core`.

use mamori_proto::ErrorCode;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use mamori_crypto::LookupKind;
use mamori_ledger::b64;

use crate::openapi::CommonResponses;

use crate::AppState;
use crate::extract::{Body, Caller, Purpose};
use crate::problem::{ApiError, Problem};

mod consent;
mod disclosures;
mod holds;
mod incident_notices;
mod incidents;
mod ledger;
mod outbox;
mod records;
mod requests;
mod streamed;
mod subjects;
mod vendor_tasks;

pub use consent::*;
pub use disclosures::*;
pub use holds::*;
pub use incident_notices::*;
pub use incidents::*;
pub use ledger::*;
pub use outbox::*;
pub use records::*;
pub use requests::*;
pub use subjects::*;
pub use vendor_tasks::*;

type ApiResult<T> = Result<T, ApiError>;

fn subject_id(text: &str) -> ApiResult<[u8; 16]> {
    mamori_core::parse_id(text).ok_or_else(|| {
        ApiError::bad_request(
            ErrorCode::InvalidId,
            "subject ids are UUIDs as returned by POST /v1/subjects",
        )
    })
}

pub(crate) fn parse_time(field: &'static str, text: &str) -> ApiResult<i64> {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
        .map_err(|_| {
            ApiError::Core(mamori_core::CoreError::invalid(
                ErrorCode::InvalidTime,
                field,
                "give a time as RFC 3339, e.g. 2026-11-24T09:30:00Z",
            ))
        })
}

fn out_of_range(detail: &str) -> ApiError {
    ApiError::Plain {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        code: ErrorCode::OutOfRange,
        detail: detail.into(),
        field: None,
    }
}

fn bad_query<E>(_: E) -> ApiError {
    ApiError::bad_request(
        ErrorCode::InvalidQuery,
        "query parameters must be non-negative integers as documented in /openapi.json",
    )
}

#[derive(utoipa::OpenApi)]
#[openapi(
    info(title = "Mamori API", description = "Privacy-first customer data vault: purpose-bound access, field encryption, verifiable ledger."),
    paths(place_hold, list_holds, lift_hold, open_incident, list_incidents, get_incident, add_incident_entry, incident_impact, contain_incident, incident_deadlines, start_drill, drill_report, prepare_notices, notices_summary, regulator_draft, create_subject, read_subject, export_subject, access_log, open_request, list_requests, get_request, verify_request, extend_request, set_request_state, update_subject, erase_subject, lookup_subject, add_record, list_records, disclose, disclose_batch, provision_records, sold_or_shared, records_of_processing, list_vendor_tasks, subject_vendor_tasks, confirm_vendor_task, ledger_head, ledger_keys, inclusion_proof, consistency_proof, set_consent, check_consent, verify_receipt, filter_audience, unsubscribe_link, events, add_webhook, list_webhooks, remove_webhook, replay_webhook, pause_webhook, resume_webhook, rotate_webhook_secret, crate::scrub::scrub_texts, crate::drp::pair, crate::drp::agent_information, crate::drp::submit, crate::drp::status, crate::drp::revoke, crate::surveys::create, crate::surveys::list, crate::surveys::close, crate::surveys::results, crate::surveys::respond, crate::surveys::chart, crate::surveys::results_csv, crate::surveys::invite, crate::surveys::issuer, crate::surveys::token, crate::surveys::release, crate::surveys::releases, crate::surveys::privacy_report, crate::surveys::texts, healthz, crate::health::readyz),
    components(schemas(Problem)),
    modifiers(&BearerAuth, &CommonResponses)
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}
