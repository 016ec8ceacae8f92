//! Records of processing activities (GDPR Art. 30) on the wire: built from the policy by
//! `mamori_policy::records`, served by `GET /v1/records-of-processing`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One processing activity: a purpose of the policy.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct Activity {
    /// The purpose's name in the policy.
    pub purpose: String,
    pub name: String,
    pub description: String,
    pub legal_basis: String,
    pub data_subjects: String,
    pub data_categories: Vec<String>,
    pub recipients: Vec<String>,
    pub transfers: Vec<String>,
    pub retention: Vec<String>,
}

/// What a processor of the register does for the organisation (Art. 30(2)).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct ProcessorRecord {
    /// The vendor's name in the policy.
    pub vendor: String,
    pub name: String,
    pub role: String,
    pub contact: String,
    pub processing: Vec<String>,
    pub data_categories: Vec<String>,
    pub transfers: Vec<String>,
    pub contract: String,
    pub review: String,
}

/// The headings the renderings use, in the record's language.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct Headings {
    pub activities: String,
    pub processors: String,
    pub security: String,
    pub purpose: String,
    pub legal_basis: String,
    pub data_subjects: String,
    pub data_categories: String,
    pub recipients: String,
    pub transfers: String,
    pub retention: String,
    pub role: String,
    pub contact: String,
    pub processing: String,
    pub contract: String,
    pub review: String,
    pub none: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct ProcessingRecords {
    pub language: String,
    pub title: String,
    pub organisation: String,
    pub contact: String,
    /// Which published version of the policy this is (or that it is not published yet).
    pub version: String,
    pub activities: Vec<Activity>,
    pub processors: Vec<ProcessorRecord>,
    pub security: Vec<String>,
    pub headings: Headings,
}
