//! Errors as they travel: RFC 9457 problem+json with a stable `code` from one closed list.
//! The code says what is wrong; the HTTP status says where (the URL and headers: 400; the
//! content: 422; the policy: 403; …) and is chosen once, by the server's problem mapping.
//! No problem ever echoes the input, so none can carry a personal value.

use crate::codes::wire_enum;

wire_enum! {
    /// Every stable machine-readable error code the API and the CLI give.
    pub enum ErrorCode {
        // The request itself: its syntax, its credentials, its size, its rate.
        InvalidCursor = "invalid_cursor",
        InvalidId = "invalid_id",
        InvalidPurpose = "invalid_purpose",
        InvalidQuery = "invalid_query",
        InvalidReference = "invalid_reference",
        MissingPurpose = "missing_purpose",
        UnreadableBody = "unreadable_body",
        MalformedJson = "malformed_json",
        InvalidBody = "invalid_body",
        Unauthorized = "unauthorized",
        BodyTooLarge = "body_too_large",
        UnsupportedMediaType = "unsupported_media_type",
        RateLimited = "rate_limited",
        NoSuchRoute = "no_such_route",
        // The access decision refused (the ledger records the same code).
        UnknownPurpose = "unknown_purpose",
        PurposeNotAllowedForRole = "purpose_not_allowed_for_role",
        ActionNotAllowedForRole = "action_not_allowed_for_role",
        PurposeDoesNotCoverCategory = "purpose_does_not_cover_category",
        ConsentRequired = "consent_required",
        ReconsentRequired = "reconsent_required",
        NothingToView = "nothing_to_view",
        NotOwnRecord = "not_own_record",
        KeptUnderLegalHold = "kept_under_legal_hold",
        PermissionNotGranted = "permission_not_granted",
        MfaRequired = "mfa_required",
        TrainingRequired = "training_required",
        TrainingExpired = "training_expired",
        ReauthenticationRequired = "reauthentication_required",
        UnknownVendor = "unknown_vendor",
        VendorNotAllowedForRole = "vendor_not_allowed_for_role",
        VendorDoesNotServe = "vendor_does_not_serve",
        VendorNotContracted = "vendor_not_contracted",
        VendorSignatureInvalid = "vendor_signature_invalid",
        VendorTaskOtherVendor = "vendor_task_other_vendor",
        // Something named is not there.
        SubjectNotFound = "subject_not_found",
        SurveyNotFound = "survey_not_found",
        HoldNotFound = "hold_not_found",
        IncidentNotFound = "incident_not_found",
        EnrolmentLinkInvalid = "enrolment_link_invalid",
        EmptyLedger = "empty_ledger",
        NoSuchEvent = "no_such_event",
        VendorTaskNotFound = "vendor_task_not_found",
        // The state of things forbids it now.
        SubjectUnderLegalHold = "subject_under_legal_hold",
        AgentExists = "agent_exists",
        StaffExists = "staff_exists",
        LastFactor = "last_factor",
        StaffDisabled = "staff_disabled",
        AlreadyVerified = "already_verified",
        NotVerified = "not_verified",
        IncidentClosed = "incident_closed",
        AlreadyAnswered = "already_answered",
        BudgetExhausted = "budget_exhausted",
        ConcurrentPublish = "concurrent_publish",
        VendorTasksPending = "vendor_tasks_pending",
        ConcurrentUpdate = "concurrent_update",
        Duplicate = "duplicate",
        ExactResultsWithheld = "exact_results_withheld",
        IdentifierTaken = "identifier_taken",
        InvitationsChanged = "invitations_changed",
        SurveyClosed = "survey_closed",
        SurveyExists = "survey_exists",
        TokenIssued = "token_issued",
        TokenUsed = "token_used",
        TooFewResponses = "too_few_responses",
        AlreadyExtended = "already_extended",
        NoExtension = "no_extension",
        RequestClosed = "request_closed",
        RequestInProgress = "request_in_progress",
        SubjectErased = "subject_erased",
        // The content sent cannot be used.
        EmptyCategory = "empty_category",
        EmptyData = "empty_data",
        ExpiredToken = "expired_token",
        IdentifiedSurvey = "identified_survey",
        InvalidAnswer = "invalid_answer",
        InvalidBlindedToken = "invalid_blinded_token",
        InvalidBreakdown = "invalid_breakdown",
        InvalidEpsilon = "invalid_epsilon",
        InvalidEventTypes = "invalid_event_types",
        InvalidFormat = "invalid_format",
        InvalidInvitation = "invalid_invitation",
        InvalidInvitations = "invalid_invitations",
        InvalidLimit = "invalid_limit",
        InvalidPendingChange = "invalid_pending_change",
        InvalidPolicy = "invalid_policy",
        InvalidQuestion = "invalid_question",
        InvalidReceipt = "invalid_receipt",
        InvalidSource = "invalid_source",
        InvalidSubjectId = "invalid_subject_id",
        InvalidSurvey = "invalid_survey",
        InvalidTime = "invalid_time",
        InvalidToken = "invalid_token",
        InvalidUrl = "invalid_url",
        InvalidValue = "invalid_value",
        MalformedRow = "malformed_row",
        MissingChannel = "missing_channel",
        NotConsentBased = "not_consent_based",
        NotCorrectable = "not_correctable",
        NotDifferentiallyPrivate = "not_differentially_private",
        NotIdentifiedSurvey = "not_identified_survey",
        NotInNotice = "not_in_notice",
        NotInvitedSurvey = "not_invited_survey",
        OutOfRange = "out_of_range",
        OutboundNotAllowed = "outbound_not_allowed",
        TextTooLong = "text_too_long",
        TokenRequired = "token_required",
        TooManySubjects = "too_many_subjects",
        TooManyTexts = "too_many_texts",
        UndeclaredCategory = "undeclared_category",
        UndeclaredField = "undeclared_field",
        UnknownCategory = "unknown_category",
        UnknownSubjects = "unknown_subjects",
        UnknownRecords = "unknown_records",
        UnknownChannel = "unknown_channel",
        UnknownKey = "unknown_key",
        UnknownKind = "unknown_kind",
        UnknownMode = "unknown_mode",
        UnknownNoticeVersion = "unknown_notice_version",
        UnknownQuestion = "unknown_question",
        UnknownRole = "unknown_role",
        UnknownWebhook = "unknown_webhook",
        AnswerRequired = "answer_required",
        AnswerTooLong = "answer_too_long",
        DenialReasonRequired = "denial_reason_required",
        OneAnswer = "one_answer",
        UnexpectedReason = "unexpected_reason",
        UnknownChoice = "unknown_choice",
        UnknownJurisdiction = "unknown_jurisdiction",
        UnknownReason = "unknown_reason",
        UnknownSource = "unknown_source",
        UnknownState = "unknown_state",
        FormNotOurs = "form_not_ours",
        NoPasskey = "no_passkey",
        // The server could not do it; nothing was changed.
        InternalError = "internal_error",
        IntegrityFailure = "integrity_failure",
        DatabaseUnavailable = "database_unavailable",
        InsufficientStorage = "insufficient_storage",
        PasskeysUnavailable = "passkeys_unavailable",
    }
}

/// An RFC 9457 problem, as every error is answered.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Problem {
    /// `urn:mamori:problem:<code>`
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable machine-readable error code.
    pub code: ErrorCode,
    /// The input field at fault, as a dotted path (`data.contact.email`), when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl Problem {
    /// The `type` URI a code is given.
    pub fn type_uri(code: ErrorCode) -> String {
        format!("urn:mamori:problem:{code}")
    }
}
