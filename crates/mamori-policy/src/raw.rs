//! The policy file exactly as written. Every name that other parts refer to keeps its span so that
//! the checker can point at the line and column of a mistake.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

pub type Name = Spanned<String>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPolicy {
    pub organisation: RawOrganisation,
    #[serde(default)]
    pub categories: BTreeMap<Name, RawCategory>,
    #[serde(default)]
    pub purposes: BTreeMap<Name, RawPurpose>,
    #[serde(default)]
    pub roles: BTreeMap<Name, RawRole>,
    #[serde(default)]
    pub vendors: BTreeMap<Name, crate::vendors::RawVendor>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOrganisation {
    pub name: String,
    pub contact: Spanned<String>,
    pub jurisdictions: Vec<Spanned<String>>,
    pub languages: Vec<Spanned<String>>,
    pub policy_url: Option<String>,
    /// How long a member of staff's training for a role stays current (days; 365 if absent).
    pub training_valid_days: Option<Spanned<i64>>,
}

/// Labels in each supported language; an unknown language key is an error.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawText {
    pub en: Option<String>,
    pub ja: Option<String>,
    pub fr: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCategory {
    pub sensitivity: Spanned<String>,
    pub retention: Spanned<String>,
    /// What the retention counts from: "last_activity" (default) or "consent_withdrawn".
    pub retention_from: Option<Spanned<String>>,
    pub label: Spanned<RawText>,
    pub description: Option<Spanned<RawText>>,
    #[serde(default)]
    pub fields: BTreeMap<Name, RawField>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawField {
    #[serde(rename = "type")]
    pub kind: Spanned<String>,
    pub label: Spanned<RawText>,
    /// Keep a keyed blind index of this field for exact lookup (email and phone only).
    pub lookup: Option<Spanned<bool>>,
    pub values: Option<Spanned<Vec<String>>>,
    pub max_length: Option<Spanned<i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPurpose {
    pub legal_basis: Spanned<String>,
    pub categories: Vec<Name>,
    #[serde(default)]
    pub channels: Vec<Spanned<String>>,
    pub sale_or_share: Option<Spanned<bool>>,
    /// Whether people can opt out of this purpose (required for sale or share).
    #[serde(default)]
    pub opt_out: bool,
    /// Identified surveys may collect answers under this purpose (it must be consent-based):
    /// the person answering may create records of its categories.
    pub surveys: Option<Spanned<bool>>,
    /// For a legal obligation: how long it requires keeping what it covers after an erasure
    /// (instead of each category's own retention).
    pub retention: Option<Spanned<String>>,
    pub label: Spanned<RawText>,
    pub description: Spanned<RawText>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRole {
    pub purposes: Vec<Name>,
    #[serde(default)]
    pub view: Vec<Name>,
    #[serde(default)]
    pub create: Vec<Name>,
    #[serde(default)]
    pub modify: Vec<Name>,
    #[serde(default)]
    pub delete: Vec<Name>,
    /// Masking per category (`"payment"`) or per field (`"payment.card_number"`).
    #[serde(default)]
    pub mask: BTreeMap<Name, Spanned<String>>,
    #[serde(default)]
    pub require_mfa: bool,
    #[serde(default)]
    pub require_training: bool,
    /// Declared for machines: its API keys work even where its people need MFA or training,
    /// and it may view no category marked sensitive or special.
    #[serde(default)]
    pub machine: bool,
    pub description: Option<String>,
    /// What the role may do with surveys: `manage` (define, close, invite, release, report)
    /// and/or `results` (read aggregates, charts, texts and releases).
    #[serde(default)]
    pub surveys: Vec<Spanned<String>>,
    /// Administrative permissions: `webhooks`, `events`, `api_keys`, `agents`, `policy`.
    #[serde(default)]
    pub admin: Vec<Spanned<String>>,
    /// The vendors (`[vendors.NAME]`) this role may disclose data to.
    #[serde(default)]
    pub disclose: Vec<Name>,
}
