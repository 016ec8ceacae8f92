//! Finding personal data in free text and redacting it, before feedback is stored.
//!
//! Each detector finds candidates by a cheap anchor (an `@`, a digit, two capitals followed by
//! digits) and keeps only those that pass the format's own validation — the Luhn check of a
//! payment card, the mod-97 check and national length of an IBAN, the ranges of an IPv4 address —
//! so order numbers, prices, versions and SKUs that merely look alike survive. Pure: no I/O.
//!
//! Offsets are byte offsets into the UTF-8 text.

mod context;
mod detect;
mod ipv6;
mod national;
mod phone;
mod redact;

pub use detect::{Kind, Span, find};
pub use redact::{Redaction, Scrubber};
