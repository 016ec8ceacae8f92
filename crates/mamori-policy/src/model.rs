//! The compiled policy: names resolved to small integer ids and category sets to bit sets, so
//! that an access decision is a handful of AND operations.

use std::collections::HashMap;
use std::fmt;

/// A set of up to 64 categories (or purposes), one bit each. The checker refuses larger policies.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct IdSet(pub u64);

impl IdSet {
    pub const EMPTY: IdSet = IdSet(0);
    pub fn with(self, id: usize) -> IdSet {
        IdSet(self.0 | (1u64 << id))
    }
    pub fn contains(self, id: usize) -> bool {
        id < 64 && self.0 & (1u64 << id) != 0
    }
    pub fn is_superset_of(self, other: IdSet) -> bool {
        other.0 & !self.0 == 0
    }
    pub fn minus(self, other: IdSet) -> IdSet {
        IdSet(self.0 & !other.0)
    }
    pub fn union(self, other: IdSet) -> IdSet {
        IdSet(self.0 | other.0)
    }
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
    pub fn iter(self) -> impl Iterator<Item = usize> {
        (0..64).filter(move |i| self.contains(*i))
    }
}

impl fmt::Debug for IdSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Language {
    En,
    Ja,
    Fr,
}

impl Language {
    pub const ALL: [Language; 3] = [Language::En, Language::Ja, Language::Fr];
    pub fn code(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::Ja => "ja",
            Language::Fr => "fr",
        }
    }
    pub fn parse(code: &str) -> Option<Language> {
        Language::ALL.into_iter().find(|l| l.code() == code)
    }
}

/// A text in every language the policy declares.
#[derive(Debug, Clone, Default)]
pub struct Text {
    pub en: String,
    pub ja: String,
    pub fr: String,
}

impl Text {
    pub fn get(&self, lang: Language) -> &str {
        match lang {
            Language::En => &self.en,
            Language::Ja => &self.ja,
            Language::Fr => &self.fr,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Jurisdiction {
    Gdpr,
    Ccpa,
    Lgpd,
    Appi,
}

impl Jurisdiction {
    pub const ALL: [(&'static str, Jurisdiction); 4] = [
        ("gdpr", Jurisdiction::Gdpr),
        ("ccpa", Jurisdiction::Ccpa),
        ("lgpd", Jurisdiction::Lgpd),
        ("appi", Jurisdiction::Appi),
    ];
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sensitivity {
    Personal,
    Sensitive,
    Special,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LegalBasis {
    Consent,
    Contract,
    LegalObligation,
    LegitimateInterest,
    VitalInterest,
    PublicTask,
}

impl LegalBasis {
    pub const ALL: [(&'static str, LegalBasis); 6] = [
        ("consent", LegalBasis::Consent),
        ("contract", LegalBasis::Contract),
        ("legal_obligation", LegalBasis::LegalObligation),
        ("legitimate_interest", LegalBasis::LegitimateInterest),
        ("vital_interest", LegalBasis::VitalInterest),
        ("public_task", LegalBasis::PublicTask),
    ];
    pub fn name(self) -> &'static str {
        LegalBasis::ALL
            .iter()
            .find(|(_, b)| *b == self)
            .map(|(n, _)| *n)
            .unwrap_or("unknown")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Email,
    Sms,
    Push,
    Phone,
    Post,
}

impl Channel {
    pub const ALL: [(&'static str, Channel); 5] = [
        ("email", Channel::Email),
        ("sms", Channel::Sms),
        ("push", Channel::Push),
        ("phone", Channel::Phone),
        ("post", Channel::Post),
    ];
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldType {
    Text { max_length: usize },
    Email,
    Phone,
    Date,
    Country,
    Address,
    Number,
    Bool,
    Enum(Vec<String>),
}

impl FieldType {
    pub fn name(&self) -> &'static str {
        match self {
            FieldType::Text { .. } => "text",
            FieldType::Email => "email",
            FieldType::Phone => "phone",
            FieldType::Date => "date",
            FieldType::Country => "country",
            FieldType::Address => "address",
            FieldType::Number => "number",
            FieldType::Bool => "bool",
            FieldType::Enum(_) => "enum",
        }
    }
}

/// How a role sees a value it may view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mask {
    /// Replaced entirely: `"[redacted]"`.
    Redacted,
    /// Only the last four characters: `"••••1234"`.
    Last4,
    /// Only the domain of an e-mail address: `"•••@example.com"`.
    EmailDomain,
    /// Only the year of a date: `"1987-••-••"`.
    YearOnly,
}

impl Mask {
    pub const ALL: [(&'static str, Mask); 4] = [
        ("redacted", Mask::Redacted),
        ("last4", Mask::Last4),
        ("email_domain", Mask::EmailDomain),
        ("year_only", Mask::YearOnly),
    ];

    pub fn apply(self, value: &str) -> String {
        match self {
            Mask::Redacted => "[redacted]".to_string(),
            Mask::Last4 => {
                let chars: Vec<char> = value.chars().collect();
                let keep = chars.len().saturating_sub(4);
                let tail: String = chars[keep..].iter().collect();
                format!("••••{tail}")
            }
            Mask::EmailDomain => match value.rsplit_once('@') {
                Some((_, domain)) => format!("•••@{domain}"),
                None => "[redacted]".to_string(),
            },
            Mask::YearOnly => match value.get(..4) {
                Some(year) if value.len() == 10 => format!("{year}-••-••"),
                _ => "[redacted]".to_string(),
            },
        }
    }
}

#[derive(Debug, Clone)]
pub struct Field {
    pub name: String,
    pub kind: FieldType,
    pub lookup: bool,
    pub label: Text,
}

/// A retention period as written: a number of days, weeks, months or years. `days` is its
/// length for comparisons (months count 30, years 365); the date a hold ends is counted on the
/// calendar ([`Retention::end_ms`]), so "7 years" from 6 December 2026 ends on 6 December 2033,
/// the date people are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    pub days: u32,
    pub count: u32,
    pub unit: RetentionUnit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetentionUnit {
    Days,
    Weeks,
    Months,
    Years,
}

impl Retention {
    pub fn days(days: u32) -> Retention {
        Retention {
            days,
            count: days,
            unit: RetentionUnit::Days,
        }
    }

    /// The earliest time whose retention has not ended at `now_ms`: anything dated before it is
    /// past its retention. The inverse of [`Retention::end_ms`], on the calendar too (found by
    /// bisection; where a month's end clamps dates — 29 to 31 January + 1 month — it errs
    /// towards keeping a few days longer).
    pub fn cutoff_ms(&self, now_ms: i64) -> i64 {
        const DAY_MS: i64 = 86_400_000;
        // Calendar months and years differ from `days` (months of 30, years of 365) by less
        // than a tenth, plus leap days.
        let margin = (i64::from(self.days) / 10 + 10) * DAY_MS;
        let mut low = now_ms.saturating_sub(i64::from(self.days) * DAY_MS + margin);
        let mut high = now_ms;
        if self.end_ms(high) <= now_ms {
            return high.saturating_add(1);
        }
        while high - low > 1 {
            let mid = low + (high - low) / 2;
            if self.end_ms(mid) <= now_ms {
                low = mid;
            } else {
                high = mid;
            }
        }
        high
    }

    /// When a hold that starts at `from_ms` (Unix milliseconds, UTC) ends: days and weeks
    /// exactly, months and years on the calendar (31 January + 1 month = 28 or 29 February).
    pub fn end_ms(&self, from_ms: i64) -> i64 {
        const DAY_MS: i64 = 86_400_000;
        let months = match self.unit {
            RetentionUnit::Days | RetentionUnit::Weeks => {
                return from_ms.saturating_add(i64::from(self.days) * DAY_MS);
            }
            RetentionUnit::Months => self.count,
            RetentionUnit::Years => self.count.saturating_mul(12),
        };
        let Ok(start) =
            time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(from_ms) * 1_000_000)
        else {
            return from_ms.saturating_add(i64::from(self.days) * DAY_MS);
        };
        let total = i64::from(start.month() as u8 - 1) + i64::from(months);
        let year = i64::from(start.year()) + total / 12;
        let month = time::Month::try_from((total % 12) as u8 + 1).unwrap_or(time::Month::December);
        let end = i32::try_from(year).ok().and_then(|year| {
            let day = start.day().min(time::util::days_in_month(month, year));
            let date = time::Date::from_calendar_date(year, month, day).ok()?;
            Some(start.replace_date(date))
        });
        match end {
            Some(end) => (end.unix_timestamp_nanos() / 1_000_000) as i64,
            None => from_ms.saturating_add(i64::from(self.days) * DAY_MS),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Category {
    pub id: usize,
    pub name: String,
    pub sensitivity: Sensitivity,
    pub retention: Retention,
    pub retention_text: String,
    /// What the retention counts from.
    pub retention_from: RetentionStart,
    pub label: Text,
    pub description: Option<Text>,
    pub fields: Vec<Field>,
}

/// What a category's retention counts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RetentionStart {
    /// The person's last activity (fields) or the record's creation (records).
    #[default]
    LastActivity,
    /// The withdrawal of the last consent covering the category: kept while a consent-based
    /// purpose covering it is granted, then `retention` more (from the last activity if the
    /// person never answered).
    ConsentWithdrawn,
}

impl Category {
    pub fn field(&self, name: &str) -> Option<(usize, &Field)> {
        self.fields.iter().enumerate().find(|(_, f)| f.name == name)
    }
}

#[derive(Debug, Clone)]
pub struct Purpose {
    pub id: usize,
    pub name: String,
    pub legal_basis: LegalBasis,
    pub categories: IdSet,
    pub channels: Vec<Channel>,
    pub sale_or_share: bool,
    pub opt_out: bool,
    /// Identified surveys may collect answers under it (consent-based only).
    pub surveys: bool,
    /// A legal obligation's own keeping period (`retention = "7y"` on the purpose): what an
    /// erasure keeps for it is kept this long, whatever the category's retention says.
    pub retention: Option<Retention>,
    pub label: Text,
    pub description: Text,
}

#[derive(Debug, Clone)]
pub struct Role {
    pub name: String,
    pub description: String,
    pub purposes: IdSet,
    pub view: IdSet,
    pub create: IdSet,
    pub modify: IdSet,
    pub delete: IdSet,
    /// (category id, field index or None for the whole category) → mask.
    pub masks: Vec<(usize, Option<usize>, Mask)>,
    pub require_mfa: bool,
    pub require_training: bool,
    /// Declared for machines (`machine = true`): API keys of the role act without a person's
    /// second factor or training; the role views no sensitive or special category.
    pub machine: bool,
    /// Survey permissions (none unless the policy grants them).
    pub surveys: SurveyGrants,
    /// Administrative permissions (none unless the policy grants them).
    pub admin: AdminGrants,
    /// The vendors it may disclose data to (`disclose = [...]`), by their policy names.
    pub disclose: Vec<String>,
}

impl Role {
    /// Whether an API key of this role may act: keys cannot carry a person's second factor or
    /// training, so a role that asks for either takes keys only when declared for machines.
    /// The answer is the reason a key is refused, if it is.
    pub fn key_refusal(&self) -> Option<KeyRefusal> {
        match (self.machine, self.require_mfa, self.require_training) {
            (true, _, _) | (false, false, false) => None,
            (false, true, _) => Some(KeyRefusal::MfaRequired),
            (false, false, true) => Some(KeyRefusal::TrainingRequired),
        }
    }
}

/// Why an API key of a role cannot act.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRefusal {
    MfaRequired,
    TrainingRequired,
}

/// What a role may do with surveys. Results are aggregates, never personal data, yet they say
/// what customers think: the policy decides who reads them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SurveyGrants {
    /// Define and close surveys, invite, make differentially private releases, read the
    /// privacy report.
    pub manage: bool,
    /// Read results, charts, free-text listings and releases.
    pub results: bool,
}

impl SurveyGrants {
    pub const NAMES: [(&'static str, SurveyPermission); 2] = [
        ("manage", SurveyPermission::Manage),
        ("results", SurveyPermission::Results),
    ];
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SurveyPermission {
    Manage,
    Results,
}

/// Administrative actions a role may be granted with `admin = [...]`. None of them shows a
/// person's data, yet each changes where data goes or who may act (a webhook target receives
/// every consent change; an API key is a new actor), so the policy decides who holds them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AdminPermission {
    /// List, add, remove and replay webhook subscriptions.
    Webhooks,
    /// Read the pull feed of outbox events (`GET /v1/events`).
    Events,
    /// Create, list and revoke API keys.
    ApiKeys,
    /// Register, list and remove Data Rights Protocol agents.
    Agents,
    /// Publish the policy in force as a notice version.
    Policy,
    /// Rotate key epochs and the master key; take and restore backups.
    Keys,
    /// Run retention sweeps (and see what they would erase); place and lift legal holds.
    Retention,
    /// Invite staff and list them.
    Staff,
    /// Read the ledger's events in the console: who accessed whom, when, for what.
    Audit,
    /// Open and work incidents: the register, its timeline, containment, impact.
    Incidents,
    /// The vendors' tasks after erasures, corrections and opt-outs, and each vendor's
    /// confirmation secret.
    Vendors,
}

impl AdminPermission {
    pub const ALL: [(&'static str, AdminPermission); 11] = [
        ("webhooks", AdminPermission::Webhooks),
        ("events", AdminPermission::Events),
        ("api_keys", AdminPermission::ApiKeys),
        ("agents", AdminPermission::Agents),
        ("policy", AdminPermission::Policy),
        ("keys", AdminPermission::Keys),
        ("retention", AdminPermission::Retention),
        ("staff", AdminPermission::Staff),
        ("audit", AdminPermission::Audit),
        ("incidents", AdminPermission::Incidents),
        ("vendors", AdminPermission::Vendors),
    ];

    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, p)| *p == self)
            .map_or("", |(n, _)| n)
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

/// The administrative permissions one role holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AdminGrants(u16);

impl AdminGrants {
    pub fn with(self, permission: AdminPermission) -> AdminGrants {
        AdminGrants(self.0 | permission.bit())
    }

    pub fn contains(self, permission: AdminPermission) -> bool {
        self.0 & permission.bit() != 0
    }

    /// The granted permissions' names, in the order of [`AdminPermission::ALL`].
    pub fn names(self) -> Vec<&'static str> {
        AdminPermission::ALL
            .iter()
            .filter(|(_, p)| self.contains(*p))
            .map(|(n, _)| *n)
            .collect()
    }
}

impl Role {
    pub fn may(&self, action: Action) -> IdSet {
        match action {
            Action::View => self.view,
            Action::Create => self.create,
            Action::Modify => self.modify,
            Action::Delete => self.delete,
        }
    }

    /// The mask for one field: a field-level rule wins over a category-level one.
    pub fn mask_for(&self, category: usize, field: usize) -> Option<Mask> {
        let field_rule = self
            .masks
            .iter()
            .find(|(c, f, _)| *c == category && *f == Some(field));
        let category_rule = self
            .masks
            .iter()
            .find(|(c, f, _)| *c == category && f.is_none());
        field_rule.or(category_rule).map(|(_, _, m)| *m)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    View,
    Create,
    Modify,
    Delete,
}

impl Action {
    pub fn name(self) -> &'static str {
        match self {
            Action::View => "view",
            Action::Create => "create",
            Action::Modify => "modify",
            Action::Delete => "delete",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Organisation {
    pub name: String,
    pub contact: String,
    pub jurisdictions: Vec<Jurisdiction>,
    pub languages: Vec<Language>,
    pub policy_url: Option<String>,
    /// How long training for a role stays current (`training_valid_days`, default 365).
    pub training_valid_days: u32,
}

/// Training stays current this long unless the policy says otherwise.
pub const DEFAULT_TRAINING_VALID_DAYS: u32 = 365;

/// A checked policy. Built only by [`crate::Policy::parse`], so every reference in it resolves.
#[derive(Debug, Clone)]
pub struct Policy {
    pub organisation: Organisation,
    pub categories: Vec<Category>,
    pub purposes: Vec<Purpose>,
    pub roles: Vec<Role>,
    /// The vendor register, in name order.
    pub vendors: Vec<crate::vendors::Vendor>,
    pub(crate) category_ids: HashMap<String, usize>,
    pub(crate) purpose_ids: HashMap<String, usize>,
    pub(crate) role_ids: HashMap<String, usize>,
    /// SHA-free fingerprint input: the source text, for versioning by the caller.
    pub source: String,
    /// The built-in [`SELF_ROLE`].
    pub self_role: Role,
}

/// The built-in role of a person acting on their own record through the privacy center, once
/// signed in with a verified identifier. It is not declared in the policy (a role of this name is
/// refused) and no API key can hold it: it may use only [`RIGHTS_PURPOSE`], to view, correct and
/// erase what that purpose covers, unmasked.
pub const SELF_ROLE: &str = "self";

/// The purpose under which people exercise their rights (access, correction, erasure).
pub const RIGHTS_PURPOSE: &str = "data_subject_rights";

impl Policy {
    pub fn category(&self, name: &str) -> Option<&Category> {
        self.category_ids.get(name).map(|&i| &self.categories[i])
    }
    pub fn vendor(&self, id: &str) -> Option<&crate::vendors::Vendor> {
        self.vendors.iter().find(|v| v.id == id)
    }
    pub fn purpose(&self, name: &str) -> Option<&Purpose> {
        self.purpose_ids.get(name).map(|&i| &self.purposes[i])
    }
    pub fn role(&self, name: &str) -> Option<&Role> {
        if name == SELF_ROLE {
            return Some(&self.self_role);
        }
        self.role_ids.get(name).map(|&i| &self.roles[i])
    }
    pub fn all_categories(&self) -> IdSet {
        self.categories
            .iter()
            .fold(IdSet::EMPTY, |s, c| s.with(c.id))
    }
    /// Purposes that outlive an erasure: those whose legal basis is a legal obligation, other
    /// than answering the person's own requests (which ends with the account).
    pub fn holding_purposes(&self) -> impl Iterator<Item = &Purpose> {
        self.purposes
            .iter()
            .filter(|p| p.legal_basis == LegalBasis::LegalObligation && p.name != RIGHTS_PURPOSE)
    }

    /// Categories an erasure must keep (each for its retention period): those a holding
    /// purpose covers.
    pub fn held_categories(&self) -> IdSet {
        self.holding_purposes()
            .fold(IdSet::EMPTY, |s, p| s.union(p.categories))
    }

    pub fn category_names(&self, set: IdSet) -> Vec<String> {
        set.iter()
            .map(|i| self.categories[i].name.clone())
            .collect()
    }
}
