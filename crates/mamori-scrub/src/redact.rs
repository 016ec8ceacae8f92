//! Replacing what the detectors found.

use std::collections::HashMap;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::detect::{Kind, Span, find};

/// How one kind of span is replaced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redaction {
    /// `[EMAIL]`, `[CARD]`, … (the default).
    Placeholder,
    /// Every letter and digit but the last four becomes `*`; separators stay
    /// (`**** **** **** 1111`).
    MaskLast4,
    /// `[EMAIL:3f9a…]`: the same value gives the same tag under the same key, so answers can
    /// be counted per value without keeping it. The key is the business's, kept secret.
    KeyedHash { key: Vec<u8> },
    /// Removed.
    Drop,
}

impl Redaction {
    /// `placeholder`, `mask`, `hash` (needs a key) or `drop`.
    pub fn parse(name: &str, key: Option<&[u8]>) -> Option<Redaction> {
        match (name, key) {
            ("placeholder", _) => Some(Redaction::Placeholder),
            ("mask", _) => Some(Redaction::MaskLast4),
            ("hash", Some(key)) => Some(Redaction::KeyedHash { key: key.to_vec() }),
            ("drop", _) => Some(Redaction::Drop),
            _ => None,
        }
    }
}

/// Finds and replaces personal data, each kind its own way.
#[derive(Debug, Clone, Default)]
pub struct Scrubber {
    modes: HashMap<Kind, Redaction>,
}

impl Scrubber {
    pub fn new() -> Scrubber {
        Scrubber::default()
    }

    pub fn with(mut self, kind: Kind, redaction: Redaction) -> Scrubber {
        self.modes.insert(kind, redaction);
        self
    }

    /// `text` with every span found replaced.
    pub fn scrub(&self, text: &str) -> String {
        self.scrub_spans(text).0
    }

    /// `text` scrubbed, and the spans found in the original.
    pub fn scrub_spans(&self, text: &str) -> (String, Vec<Span>) {
        let spans = find(text);
        if spans.is_empty() {
            return (text.to_string(), spans);
        }
        let mut out = String::with_capacity(text.len());
        let mut from = 0;
        for span in &spans {
            out.push_str(&text[from..span.start]);
            self.replace(span.kind, &text[span.start..span.end], &mut out);
            from = span.end;
        }
        out.push_str(&text[from..]);
        (out, spans)
    }

    fn replace(&self, kind: Kind, value: &str, out: &mut String) {
        match self.modes.get(&kind).unwrap_or(&Redaction::Placeholder) {
            Redaction::Placeholder => {
                out.push('[');
                out.push_str(kind.label());
                out.push(']');
            }
            Redaction::MaskLast4 => {
                let total = value.chars().filter(|c| c.is_alphanumeric()).count();
                let mut seen = 0;
                for c in value.chars() {
                    if c.is_alphanumeric() {
                        seen += 1;
                        out.push(if seen + 4 > total { c } else { '*' });
                    } else {
                        out.push(c);
                    }
                }
            }
            Redaction::KeyedHash { key } => {
                let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key)
                    .expect("HMAC accepts any key length");
                mac.update(kind.name().as_bytes());
                mac.update(&[0]);
                mac.update(normalised(kind, value).as_bytes());
                let tag = mac.finalize().into_bytes();
                out.push('[');
                out.push_str(kind.label());
                out.push(':');
                out.push_str(&hex::encode(&tag[..8]));
                out.push(']');
            }
            Redaction::Drop => {}
        }
    }
}

/// The value as compared for hashing: an address in lower case, numbers as their digits
/// (full-width digits as ASCII), so one value written two ways gets one tag.
fn normalised(kind: Kind, value: &str) -> String {
    let digits_and = |keep: &[char]| -> String {
        value
            .chars()
            .filter_map(|c| match c {
                '0'..='9' => Some(c),
                '\u{FF10}'..='\u{FF19}' => char::from_u32(c as u32 - 0xFF10 + u32::from(b'0')),
                c if keep.contains(&c) => Some(c.to_ascii_uppercase()),
                _ => None,
            })
            .collect()
    };
    match kind {
        Kind::Email => value.to_ascii_lowercase(),
        Kind::Iban => value.chars().filter(|c| !c.is_whitespace()).collect(),
        Kind::IpAddress if value.contains(':') => value.to_ascii_lowercase(),
        Kind::IpAddress => digits_and(&['.']),
        Kind::Phone => digits_and(&['+']),
        Kind::FrNir => digits_and(&['A', 'B', 'a', 'b']),
        Kind::PaymentCard | Kind::UsSsn | Kind::JpMyNumber => digits_and(&[]),
        Kind::PostalAddress | Kind::DateOfBirth | Kind::PersonName => value
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase(),
    }
}
