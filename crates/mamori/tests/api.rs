//! The whole server over HTTP, on SQLite and PostgreSQL.

#[path = "api/audience.rs"]
mod audience;
#[path = "api/authz.rs"]
mod authz;
#[path = "api/choices.rs"]
mod choices;
#[path = "api/clock.rs"]
mod clock;
mod common;
#[path = "api/consent_state.rs"]
mod consent_state;
#[path = "api/consents.rs"]
mod consents;
#[path = "api/console_admin.rs"]
mod console_admin;
#[path = "api/console_customers.rs"]
mod console_customers;
#[path = "api/console_incidents.rs"]
mod console_incidents;
#[path = "api/console_invitations.rs"]
mod console_invitations;
#[path = "api/console_ledger.rs"]
mod console_ledger;
#[path = "api/console_policy.rs"]
mod console_policy;
#[path = "api/console_posture.rs"]
mod console_posture;
#[path = "api/console_requests.rs"]
mod console_requests;
#[path = "api/correct.rs"]
mod correct;
#[path = "api/delete.rs"]
mod delete;
#[path = "api/disclosure_batch.rs"]
mod disclosure_batch;
#[path = "api/disclosures.rs"]
mod disclosures;
#[path = "api/drp.rs"]
mod drp;
#[path = "api/erasure.rs"]
mod erasure;
#[path = "api/feed.rs"]
mod feed;
#[path = "api/forget.rs"]
mod forget;
#[path = "api/freed_pages.rs"]
mod freed_pages;
#[path = "api/hardening.rs"]
mod hardening;
#[path = "api/holds.rs"]
mod holds;
#[path = "api/identified_surveys.rs"]
mod identified_surveys;
#[path = "api/incident_containment.rs"]
mod incident_containment;
#[path = "api/incident_deadlines.rs"]
mod incident_deadlines;
#[path = "api/incident_drills.rs"]
mod incident_drills;
#[path = "api/incident_extensions.rs"]
mod incident_extensions;
#[path = "api/incident_impact.rs"]
mod incident_impact;
#[path = "api/incident_notices.rs"]
mod incident_notices;
#[path = "api/incident_signals.rs"]
mod incident_signals;
#[path = "api/incidents.rs"]
mod incidents;
#[path = "api/integrity.rs"]
mod integrity;
#[path = "api/invited_surveys.rs"]
mod invited_surveys;
#[path = "api/ledger.rs"]
mod ledger;
#[path = "api/legal_holds.rs"]
mod legal_holds;
#[path = "api/multi_server.rs"]
mod multi_server;
#[path = "api/my_data.rs"]
mod my_data;
#[path = "api/outage.rs"]
mod outage;
#[path = "api/outbox_events.rs"]
mod outbox_events;
#[path = "api/privacy_report.rs"]
mod privacy_report;
#[path = "api/processing_records.rs"]
mod processing_records;
#[path = "api/provision_records.rs"]
mod provision_records;
#[path = "api/records.rs"]
mod records;
#[path = "api/references.rs"]
mod references;
#[path = "api/requests.rs"]
mod requests;
#[path = "api/scrubbing.rs"]
mod scrubbing;
#[path = "api/signin.rs"]
mod signin;
#[path = "api/staff.rs"]
mod staff;
#[path = "api/staff_passkeys.rs"]
mod staff_passkeys;
#[path = "api/staff_sign_in.rs"]
mod staff_sign_in;
#[path = "api/staff_training.rs"]
mod staff_training;
#[path = "api/subjects.rs"]
mod subjects;
#[path = "api/surveys.rs"]
mod surveys;
#[path = "api/vendor_tasks.rs"]
mod vendor_tasks;
#[path = "api/webhook_pause.rs"]
mod webhook_pause;
#[path = "api/witness.rs"]
mod witness;

use authz::{
    administrative_actions_need_a_permission_and_a_public_target,
    every_role_endpoint_and_purpose_is_answered_as_the_policy_implies,
};
use choices::gpc_in_the_privacy_center_is_honoured_and_a_later_own_choice_stands;
use clock::{sessions_end_thirty_minutes_after_sign_in, sign_in_codes_expire_after_ten_minutes};
use consent_state::{
    consent_rows_from_before_macs_are_sealed_once,
    edited_consent_state_is_an_integrity_failure_not_a_grant,
};
use console_admin::{
    administrators_create_and_revoke_api_keys_in_the_console,
    administrators_disable_staff_and_their_sessions_end,
    administrators_invite_staff_from_the_console,
    administrators_pause_and_resume_webhooks_and_agents_in_the_console,
    administrators_register_and_remove_agents_in_the_console,
    administrators_replay_a_webhook_from_the_console, administrators_start_a_member_of_staff_over,
    administrators_subscribe_and_remove_webhooks_in_the_console,
    the_console_home_tells_the_ledger_backups_and_failing_webhooks,
};
use console_customers::staff_find_one_customer_for_a_purpose_in_the_console;
use console_incidents::{
    a_webhook_rekeyed_from_the_incident_page_shows_its_secret_once,
    officers_notify_people_and_draft_reports_in_the_console,
    officers_open_and_work_incidents_in_the_console,
    roles_without_incidents_are_refused_the_register,
};
use console_invitations::staff_invite_customers_to_a_survey_from_the_console;
use console_ledger::{
    auditors_check_an_events_proof_and_a_kept_head, auditors_see_which_staff_accessed_a_customer,
    auditors_verify_the_whole_ledger_from_the_console,
    staff_create_and_close_a_survey_in_the_console, staff_make_a_private_release_from_the_console,
    staff_read_survey_results_in_the_console, staff_see_a_private_surveys_budget_and_releases,
};
use console_policy::officers_compare_policy_versions_and_publish_from_the_console;
use console_posture::{
    roles_without_keys_are_refused_the_posture, the_console_shows_the_security_posture,
};
use console_requests::{
    a_request_is_answered_only_once_its_requester_is_verified,
    staff_fulfil_an_access_request_with_the_export, staff_record_a_request_received_by_email,
    staff_work_the_request_register_in_the_console,
};
use drp::drp_accepts_one_point_o_once_per_message_with_expiring_tokens;
use feed::random_text_in_any_field_never_reaches_the_feed;
use forget::every_table_naming_a_person_is_cleared_or_kept_for_a_reason;
use hardening::{
    code_limits_count_a_number_once_however_it_is_written,
    code_limits_count_a_person_once_across_their_addresses,
    forms_need_the_token_made_for_this_browser_and_this_origin,
    responses_carry_security_headers_and_files_are_private,
};
use incident_containment::{
    a_leaked_key_and_a_staff_account_are_contained_from_the_incident,
    a_webhook_and_an_agent_are_paused_and_rekeyed_from_the_incident,
    a_webhook_and_an_agent_are_stopped_from_the_incident, bad_containment_steps_change_nothing,
};
use incident_deadlines::{
    bad_deadline_queries_are_refused, incident_deadlines_are_reminded_once,
    incident_deadlines_run_per_law_from_awareness,
};
use incident_drills::{a_drill_is_run_and_reported_from_its_timeline, bad_drills_are_refused};
use incident_extensions::a_deadline_is_extended_only_later_and_with_a_reason;
use incident_impact::{
    an_incidents_impact_is_computed_from_the_ledger, bad_impact_scopes_are_refused,
};
use incident_notices::{
    a_drills_notices_are_written_and_never_sent,
    a_notice_cut_off_while_sending_is_never_sent_again,
    a_person_without_an_email_address_is_told_by_text_message,
    bad_notice_orders_are_refused_and_change_nothing,
    notices_go_to_each_affected_person_once_in_their_language,
    regulator_drafts_hold_counts_and_categories_never_values,
};
use incident_signals::{
    a_ledger_that_no_longer_matches_its_head_opens_an_incident, signals_open_draft_incidents_once,
};
use incidents::{
    bad_incident_input_is_refused_and_changes_nothing,
    incidents_are_opened_worked_and_closed_on_an_append_only_timeline,
    two_writers_of_one_incident_version_cannot_both_win,
};
use legal_holds::{
    a_held_persons_erasure_waits_for_the_hold_to_end, bad_hold_requests_change_nothing,
    legal_holds_keep_a_person_until_lifted, officers_place_and_lift_holds_in_the_console,
};
use outage::a_lost_database_fails_readiness_by_name_and_refuses_writes;
use records::records_are_listed_by_kind_newest_first_a_page_at_a_time;
use references::requests_have_short_unique_references_staff_can_look_up;
use staff::{an_enrolment_link_expires_after_seven_days, staff_enrol_by_their_one_time_link};
use staff_passkeys::{
    a_passkey_whose_counter_goes_backwards_is_refused_as_a_clone,
    a_sensitive_step_is_confirmed_with_a_passkey, passkey_ceremonies_refuse_bad_input,
    staff_add_a_passkey_and_remove_a_method_but_never_the_last,
    staff_enrol_and_sign_in_with_a_passkey_alone,
};
use staff_sign_in::{
    five_failures_lock_a_staff_account_for_fifteen_minutes, staff_sessions_end_idle_old_or_by_hand,
    staff_sign_in_with_a_password_and_a_code_taken_once,
};
use surveys::{
    actions_since, anonymous_surveys_keep_no_one_and_hide_small_groups,
    bad_survey_answers_are_refused_and_kept_nowhere, free_text_answers_are_listed_a_page_at_a_time,
    survey_definition, survey_definitions_are_checked_and_permissions_hold,
    survey_pages_take_answers_in_three_languages,
    survey_results_break_down_and_chart_without_small_groups,
};
use witness::new_signed_heads_are_offered_to_witnesses_on_the_outbox;

#[allow(unused_imports)]
use audience::*;
use common::{Backend, TestApp};
#[allow(unused_imports)]
use consents::*;
#[allow(unused_imports)]
use correct::*;
#[allow(unused_imports)]
use delete::*;
#[allow(unused_imports)]
use disclosure_batch::*;
#[allow(unused_imports)]
use disclosures::*;
#[allow(unused_imports)]
use erasure::*;
#[allow(unused_imports)]
use identified_surveys::*;
#[allow(unused_imports)]
use integrity::*;
#[allow(unused_imports)]
use invited_surveys::*;
#[allow(unused_imports)]
use ledger::*;
use mamori_ledger::{b64, verify_consistency, verify_inclusion};
#[allow(unused_imports)]
use multi_server::*;
#[allow(unused_imports)]
use my_data::*;
#[allow(unused_imports)]
use outbox_events::*;
#[allow(unused_imports)]
use privacy_report::*;
#[allow(unused_imports)]
use processing_records::*;
#[allow(unused_imports)]
use provision_records::*;
#[allow(unused_imports)]
use requests::*;
use reqwest::{Method, StatusCode};
#[allow(unused_imports)]
use scrubbing::*;
use serde_json::{Value, json};
#[allow(unused_imports)]
use signin::*;
#[allow(unused_imports)]
use subjects::*;
#[allow(unused_imports)]
use vendor_tasks::*;
#[allow(unused_imports)]
use webhook_pause::*;

both_backends!(
    every_table_naming_a_person_is_cleared_or_kept_for_a_reason,
    records_are_listed_by_kind_newest_first_a_page_at_a_time,
    a_lost_database_fails_readiness_by_name_and_refuses_writes,
    new_signed_heads_are_offered_to_witnesses_on_the_outbox,
    code_limits_count_a_person_once_across_their_addresses,
    requests_have_short_unique_references_staff_can_look_up,
    gpc_in_the_privacy_center_is_honoured_and_a_later_own_choice_stands,
    create_read_is_purpose_scoped_and_masked,
    lookups_follow_normalised_and_changed_identifiers,
    denials_are_403_ledgered_and_reveal_nothing,
    authentication_and_purpose_header,
    bad_input_gets_clear_errors_and_changes_nothing,
    invalid_values_name_their_field_and_change_nothing,
    bad_ids_queries_and_routes_get_clear_errors,
    concurrent_updates_are_all_applied,
    erasure_crypto_shreds,
    erasure_keeps_what_the_law_requires,
    an_interrupted_rekey_is_finished_by_the_next_sweep,
    a_hold_ends_with_its_longest_retention,
    delete_my_account_shows_what_is_kept,
    deleting_needs_the_tick_box_and_this_site,
    a_confirmed_deletion_erases_signs_out_and_is_registered,
    drp_agents_file_and_track_requests,
    agents_pair_by_signed_messages,
    bad_agent_requests_are_refused_and_change_nothing,
    exports_race_erasure_cleanly,
    records_are_appended_and_scoped,
    ledger_proofs_verify,
    an_altered_leaf_hash_fails_its_proof,
    health_metrics_and_the_spec_are_served,
    canaries_never_leak,
    bulk_import_commits_batches_and_rejects_rows,
    tampered_ciphertext_is_an_integrity_failure,
    ledger_streams_every_leaf_in_order,
    guessing_keys_gets_an_address_shut_out,
    consent_is_off_by_default_and_gates_access,
    consent_names_only_published_notice_versions,
    bad_consent_input_is_refused_and_records_nothing,
    global_privacy_control_opts_out_of_sale_and_sharing,
    audience_filter_keeps_only_consented_live_subjects,
    bad_audience_requests_are_refused,
    outbox_feed_announces_consent_and_erasure,
    webhooks_are_signed_retried_and_isolated,
    two_servers_deliver_each_webhook_once,
    a_crashed_server_s_deliveries_are_taken_over,
    a_key_revoked_on_one_server_is_refused_by_the_other_within_two_seconds,
    staff_disabled_on_one_server_are_signed_out_of_the_other_at_once,
    the_ledger_verifies_after_concurrent_writes_through_both_servers,
    webhooks_replay_and_refuse_bad_subscriptions,
    a_paused_webhook_holds_its_events_until_resumed,
    a_rotated_secret_signs_and_the_old_one_only_during_its_grace,
    pausing_and_rotating_refuse_bad_input,
    data_goes_to_a_vendor_only_for_what_it_serves,
    disclosures_outside_the_register_are_refused_and_ledgered,
    records_go_with_a_disclosure_only_when_theirs_and_disclosed,
    people_see_who_their_data_was_shared_with,
    records_of_processing_come_in_every_format_and_language,
    records_of_processing_refuse_bad_queries_and_other_roles,
    provision_records_refuse_bad_periods_and_other_roles,
    a_batch_decides_each_person_as_one_disclosure_would,
    bad_batches_are_refused_whole_and_disclose_nothing,
    an_erasure_asks_each_vendor_that_received_data_until_it_confirms,
    corrections_and_opt_outs_reach_the_vendors_concerned,
    the_console_shows_the_register_and_which_vendors_confirmed,
    bad_confirmations_are_refused_and_change_nothing,
    overdue_vendor_reviews_are_announced_once,
    one_click_unsubscribe_withdraws_that_consent,
    forged_altered_and_expired_unsubscribe_links_are_refused,
    widened_purposes_need_consent_again,
    consent_covers_only_what_its_notice_described,
    receipts_prove_decisions_not_current_consent,
    privacy_center_sign_in_by_one_time_code,
    privacy_center_pages_sign_in_and_show_my_data,
    signing_in_by_code_reveals_no_customers,
    signing_out_ends_the_session_and_codes_work_once,
    bad_sign_in_forms_are_refused_and_codes_are_limited,
    my_choices_change_consent_in_one_click,
    download_my_data_is_a_zip_of_json_and_csv,
    staff_export_the_same_through_the_api,
    who_accessed_my_data_with_proofs,
    the_access_log_is_whole_and_pages_without_gaps,
    a_half_finished_merge_is_invisible_and_tidied,
    a_chunked_merge_copies_every_entry_once,
    bad_access_log_queries_are_refused,
    requests_are_worked_through_drp_states_before_their_deadline,
    the_queue_is_ordered_by_deadline_and_paged,
    requests_are_extended_once_with_a_reason,
    bad_request_input_changes_nothing,
    correct_my_data_verifies_new_identifiers,
    bad_corrections_change_nothing,
    a_new_email_is_stored_only_once_its_code_returns,
    corrections_are_decided_for_the_person_alone,
    request_deadlines_are_reminded_once,
    scrub_removes_personal_data_and_refuses_bad_input,
    a_dropped_ledger_lets_go_of_its_store,
    anonymous_surveys_keep_no_one_and_hide_small_groups,
    survey_definitions_are_checked_and_permissions_hold,
    bad_survey_answers_are_refused_and_kept_nowhere,
    survey_results_break_down_and_chart_without_small_groups,
    survey_pages_take_answers_in_three_languages,
    invited_surveys_take_one_unlinkable_response_each,
    invitations_go_to_live_people_and_bad_ones_change_nothing,
    one_token_per_invitation_and_issuance_keeps_nothing,
    nothing_links_an_invitation_to_its_response,
    erasure_and_closing_end_invitations,
    private_releases_spend_a_budget_and_stop,
    private_surveys_show_no_exact_results,
    the_privacy_report_shows_requests_surveys_and_sentiment,
    the_privacy_report_is_markdown_too_and_for_the_officer_alone,
    the_privacy_report_reads_in_the_console,
    free_text_answers_are_listed_a_page_at_a_time,
    identified_surveys_are_answered_signed_in_only,
    identified_surveys_need_consent,
    identified_surveys_keep_answers_as_the_persons_record,
    survey_answers_are_limited_per_address,
    a_second_process_on_the_database_takes_turns_on_the_ledger,
    every_role_endpoint_and_purpose_is_answered_as_the_policy_implies,
    administrative_actions_need_a_permission_and_a_public_target,
    responses_carry_security_headers_and_files_are_private,
    code_limits_count_a_number_once_however_it_is_written,
    drp_accepts_one_point_o_once_per_message_with_expiring_tokens,
    forms_need_the_token_made_for_this_browser_and_this_origin,
    random_text_in_any_field_never_reaches_the_feed,
    edited_consent_state_is_an_integrity_failure_not_a_grant,
    consent_rows_from_before_macs_are_sealed_once,
    sign_in_codes_expire_after_ten_minutes,
    sessions_end_thirty_minutes_after_sign_in,
    legal_holds_keep_a_person_until_lifted,
    bad_hold_requests_change_nothing,
    a_held_persons_erasure_waits_for_the_hold_to_end,
    officers_place_and_lift_holds_in_the_console,
    the_signing_keys_are_published_as_a_jwk_set,
    staff_enrol_by_their_one_time_link,
    an_enrolment_link_expires_after_seven_days,
    staff_enrol_and_sign_in_with_a_passkey_alone,
    a_passkey_whose_counter_goes_backwards_is_refused_as_a_clone,
    a_sensitive_step_is_confirmed_with_a_passkey,
    passkey_ceremonies_refuse_bad_input,
    staff_add_a_passkey_and_remove_a_method_but_never_the_last,
    staff_sign_in_with_a_password_and_a_code_taken_once,
    five_failures_lock_a_staff_account_for_fifteen_minutes,
    staff_sessions_end_idle_old_or_by_hand,
    staff_find_one_customer_for_a_purpose_in_the_console,
    staff_work_the_request_register_in_the_console,
    staff_fulfil_an_access_request_with_the_export,
    staff_record_a_request_received_by_email,
    a_request_is_answered_only_once_its_requester_is_verified,
    auditors_see_which_staff_accessed_a_customer,
    auditors_check_an_events_proof_and_a_kept_head,
    auditors_verify_the_whole_ledger_from_the_console,
    staff_see_a_private_surveys_budget_and_releases,
    staff_make_a_private_release_from_the_console,
    staff_create_and_close_a_survey_in_the_console,
    staff_invite_customers_to_a_survey_from_the_console,
    administrators_invite_staff_from_the_console,
    the_console_shows_the_security_posture,
    roles_without_keys_are_refused_the_posture,
    incidents_are_opened_worked_and_closed_on_an_append_only_timeline,
    two_writers_of_one_incident_version_cannot_both_win,
    bad_incident_input_is_refused_and_changes_nothing,
    an_incidents_impact_is_computed_from_the_ledger,
    notices_go_to_each_affected_person_once_in_their_language,
    a_notice_cut_off_while_sending_is_never_sent_again,
    bad_notice_orders_are_refused_and_change_nothing,
    a_drills_notices_are_written_and_never_sent,
    regulator_drafts_hold_counts_and_categories_never_values,
    a_person_without_an_email_address_is_told_by_text_message,
    bad_impact_scopes_are_refused,
    a_leaked_key_and_a_staff_account_are_contained_from_the_incident,
    bad_containment_steps_change_nothing,
    a_webhook_and_an_agent_are_stopped_from_the_incident,
    a_webhook_and_an_agent_are_paused_and_rekeyed_from_the_incident,
    signals_open_draft_incidents_once,
    a_ledger_that_no_longer_matches_its_head_opens_an_incident,
    incident_deadlines_run_per_law_from_awareness,
    bad_deadline_queries_are_refused,
    incident_deadlines_are_reminded_once,
    a_deadline_is_extended_only_later_and_with_a_reason,
    a_drill_is_run_and_reported_from_its_timeline,
    bad_drills_are_refused,
    officers_open_and_work_incidents_in_the_console,
    a_webhook_rekeyed_from_the_incident_page_shows_its_secret_once,
    officers_notify_people_and_draft_reports_in_the_console,
    roles_without_incidents_are_refused_the_register,
    administrators_disable_staff_and_their_sessions_end,
    administrators_create_and_revoke_api_keys_in_the_console,
    administrators_start_a_member_of_staff_over,
    administrators_subscribe_and_remove_webhooks_in_the_console,
    administrators_pause_and_resume_webhooks_and_agents_in_the_console,
    administrators_replay_a_webhook_from_the_console,
    administrators_register_and_remove_agents_in_the_console,
    officers_compare_policy_versions_and_publish_from_the_console,
    the_console_home_tells_the_ledger_backups_and_failing_webhooks,
    staff_read_survey_results_in_the_console,
);

fn customer(tag: &str) -> Value {
    json!({
        "external_id": format!("ext-{tag}"),
        "data": {
            "contact": {"name": format!("Ada {tag}"), "email": format!("ada.{tag}@example.com"), "phone": "+44 20 7946 0123"},
            "address": {"street": "1 Rue de Rivoli", "city": "Paris", "postal_code": "75001", "country": "fr"},
            "payment": {"card_last_digits": "4242", "card_brand": "visa"}
        }
    })
}

/// [`customer`] without the phone number they all share, for a second person in one test.
fn customer_without_phone(tag: &str) -> Value {
    let mut c = customer(tag);
    c["data"]["contact"]
        .as_object_mut()
        .unwrap()
        .remove("phone");
    c
}

async fn create(app: &TestApp, body: &Value) -> String {
    let r = app
        .as_role(Method::POST, "/v1/subjects", "service", "order_fulfilment")
        .json(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn problem(r: reqwest::Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(r.status(), status);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["status"], status.as_u16());
    assert!(
        body["detail"].as_str().is_some_and(|d| d.len() > 10),
        "{body}"
    );
    body
}

async fn ledger_size(app: &TestApp) -> u64 {
    // Consent checks are ledgered in the next group commit, not before their answer.
    app.ledger.flush().await.unwrap();
    app.ledger.committed_size()
}

fn import_row(line: u64, tag: &str, email: &str) -> mamori_core::import::ImportRow {
    let data = json!({
        "contact": {"name": format!("Bulk {tag}"), "email": email},
        "address": {"city": "Lyon", "country": "FR"}
    });
    mamori_core::import::ImportRow {
        line,
        external_id: Some(format!("bulk-{tag}")),
        data: serde_json::from_value(data).unwrap(),
    }
}

/// Checks a Standard Webhooks signature: v1,base64(HMAC-SHA256(key, id.timestamp.body)).
fn signature_ok(secret: &str, d: &common::Delivery) -> bool {
    use base64::Engine;
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let signed = format!("{}.{}.{}", d.id, d.timestamp, d.body);
    let expected = base64::engine::general_purpose::STANDARD
        .encode(mamori_crypto::hmac_sha256(&key, signed.as_bytes()));
    // Standard Webhooks: any of the space-separated signatures may match.
    d.signature
        .split(' ')
        .any(|sig| sig == format!("v1,{expected}"))
}

const POLICY: &str = include_str!("../../../examples/policy.toml");

/// The `name=value` of a Set-Cookie header for `name`, and its attributes.
fn set_cookie(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_string)
}

fn cookie_value(set_cookie: &str) -> String {
    set_cookie
        .split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_string()
}

/// The CSRF token a page's forms carry.
fn form_csrf(page: &str) -> String {
    between(page, "name=\"csrf\" value=\"", "\"").to_string()
}

fn between<'t>(text: &'t str, before: &str, after: &str) -> &'t str {
    let start = text.find(before).map(|i| i + before.len()).expect(before);
    let end = text[start..].find(after).expect(after);
    &text[start..start + end]
}

fn event_numbers(page: &Value) -> Vec<u64> {
    page["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_u64().unwrap())
        .collect()
}

/// A DRP agent's message: base64 of the Ed25519 signature followed by the JSON.
fn drp_signed(key: &ed25519_dalek::SigningKey, message: &Value) -> String {
    use base64::Engine;
    use ed25519_dalek::Signer;
    let json = serde_json::to_vec(message).unwrap();
    let mut raw = key.sign(&json).to_bytes().to_vec();
    raw.extend_from_slice(&json);
    base64::engine::general_purpose::STANDARD.encode(raw)
}

fn drp_envelope(agent: &str, business: &str, issued_offset_s: i64, expires_offset_s: i64) -> Value {
    let at = |offset: i64| mamori_core::format_time(mamori_core::now_ms() + offset * 1000);
    json!({
        "agent-id": agent,
        "business-id": business,
        "issued-at": at(issued_offset_s),
        "expires-at": at(expires_offset_s),
        "drp.version": "0.9.4",
    })
}
