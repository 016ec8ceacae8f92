//! Mamori's governance policy as code. One TOML file declares data categories, purposes and roles;
//! everything else (validation, access decisions, notices) is derived from the [`Policy`] built here.
//!
//! This crate is pure: no I/O beyond what the caller hands it.

pub mod breach_duties;
mod check;
mod compile;
pub mod diff;
pub mod drills;
mod model;
pub mod notice;
mod notice_vendors;
mod raw;
pub mod records;
mod structure;
pub mod training;
mod training_words;
pub mod transfers;
pub mod value;
pub mod vendors;

pub use check::{Diagnostic, PolicyErrors, parse_retention};
pub use model::*;

impl Policy {
    /// Parses and checks a policy. `file` only names the source in diagnostics.
    pub fn parse(file: &str, source: &str) -> Result<Policy, PolicyErrors> {
        let mut checker = check::Checker::new(file, source);
        let Some(raw) = structure::read(&mut checker, source) else {
            return Err(PolicyErrors(checker.problems));
        };
        let policy = compile::compile(&mut checker, raw);
        match policy {
            Some(p) if checker.problems.is_empty() => Ok(p),
            _ => Err(PolicyErrors(checker.problems)),
        }
    }
}
