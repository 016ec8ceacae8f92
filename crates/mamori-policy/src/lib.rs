//! Mamori's governance policy as code. One TOML file declares data categories, purposes and roles;
//! everything else (validation, access decisions, notices) is derived from the [`Policy`] built here.
//!
//! This crate is pure: no I/O beyond what the caller hands it.

mod check;
pub mod diff;
mod model;
pub mod notice;
mod raw;
pub mod value;

pub use check::{Diagnostic, PolicyErrors, parse_retention};
pub use model::*;

impl Policy {
    /// Parses and checks a policy. `file` only names the source in diagnostics.
    pub fn parse(file: &str, source: &str) -> Result<Policy, PolicyErrors> {
        let mut checker = check::Checker::new(file, source);
        let raw: raw::RawPolicy = match toml::from_str(source) {
            Ok(raw) => raw,
            Err(e) => {
                let span = e.span().unwrap_or(0..0);
                let message = e.message().trim().to_string();
                let hint = if message.contains("unknown field") {
                    "remove the key or fix its spelling; see examples/policy.toml for every allowed key"
                } else {
                    "see examples/policy.toml for the expected shape"
                };
                checker.report(span, message, hint);
                return Err(PolicyErrors(checker.problems));
            }
        };
        let policy = check::compile(&mut checker, raw);
        match policy {
            Some(p) if checker.problems.is_empty() => Ok(p),
            _ => Err(PolicyErrors(checker.problems)),
        }
    }
}
