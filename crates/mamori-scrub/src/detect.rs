//! The detectors. Each scans for its anchor and validates what it found.

use serde::Serialize;

/// What a span is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Email,
    Phone,
    PaymentCard,
    Iban,
    IpAddress,
    UsSsn,
    JpMyNumber,
    FrNir,
    PostalAddress,
    DateOfBirth,
    PersonName,
}

impl Kind {
    pub const ALL: [Kind; 11] = [
        Kind::Email,
        Kind::Phone,
        Kind::PaymentCard,
        Kind::Iban,
        Kind::IpAddress,
        Kind::UsSsn,
        Kind::JpMyNumber,
        Kind::FrNir,
        Kind::PostalAddress,
        Kind::DateOfBirth,
        Kind::PersonName,
    ];

    /// The typed placeholder's name, as in `[EMAIL]`.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Email => "EMAIL",
            Kind::Phone => "PHONE",
            Kind::PaymentCard => "CARD",
            Kind::Iban => "IBAN",
            Kind::IpAddress => "IP",
            Kind::UsSsn => "SSN",
            Kind::JpMyNumber => "MY_NUMBER",
            Kind::FrNir => "NIR",
            Kind::PostalAddress => "ADDRESS",
            Kind::DateOfBirth => "DOB",
            Kind::PersonName => "NAME",
        }
    }

    pub fn parse(name: &str) -> Option<Kind> {
        Kind::ALL
            .into_iter()
            .find(|k| k.label().eq_ignore_ascii_case(name) || k.name() == name)
    }

    /// The snake_case name used in JSON.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Email => "email",
            Kind::Phone => "phone",
            Kind::PaymentCard => "payment_card",
            Kind::Iban => "iban",
            Kind::IpAddress => "ip_address",
            Kind::UsSsn => "us_ssn",
            Kind::JpMyNumber => "jp_my_number",
            Kind::FrNir => "fr_nir",
            Kind::PostalAddress => "postal_address",
            Kind::DateOfBirth => "date_of_birth",
            Kind::PersonName => "person_name",
        }
    }

    /// Whether the detector validates a format (checksums, ranges) rather than reading context.
    pub fn is_structured(self) -> bool {
        !matches!(
            self,
            Kind::PostalAddress | Kind::DateOfBirth | Kind::PersonName
        )
    }
}

/// Personal data found at bytes `start..end` of the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Span {
    pub kind: Kind,
    pub start: usize,
    pub end: usize,
}

/// Every span of personal data in `text`, in order, none overlapping. Where two overlap, the
/// one that starts first wins, and of two that start together the longer.
pub fn find(text: &str) -> Vec<Span> {
    let mut spans = Vec::new();
    let bytes = text.as_bytes();
    emails(bytes, &mut spans);
    numbers(text, &mut spans);
    ibans(bytes, &mut spans);
    crate::national::fr_nirs(bytes, &mut spans);
    crate::ipv6::ipv6s(bytes, &mut spans);
    crate::phone::phones(text, &mut spans);
    crate::context::in_context(text, &mut spans);
    spans.sort_by_key(|s| (s.start, std::cmp::Reverse(s.end)));
    let mut kept: Vec<Span> = Vec::with_capacity(spans.len());
    for span in spans {
        if kept.last().is_none_or(|last| span.start >= last.end) {
            kept.push(span);
        }
    }
    kept
}

/// A letter or digit of ASCII, or any byte of a non-ASCII character (a word goes on).
pub(crate) fn joins_word(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

// ---- e-mail ----------------------------------------------------------------------------------

fn is_local(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'%' | b'+' | b'-')
}

fn is_domain(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-')
}

/// `local@domain.tld`: the domain needs a dot, labels that neither start nor end with a hyphen,
/// and an alphabetic top-level label of two letters or more.
fn emails(bytes: &[u8], out: &mut Vec<Span>) {
    for at in memchr::memchr_iter(b'@', bytes) {
        let mut start = at;
        while start > 0 && is_local(bytes[start - 1]) {
            start -= 1;
        }
        while start < at && bytes[start] == b'.' {
            start += 1;
        }
        let mut end = at + 1;
        while end < bytes.len() && is_domain(bytes[end]) {
            end += 1;
        }
        // A sentence's full stop or a dash after the address is not part of it.
        while end > at + 1 && matches!(bytes[end - 1], b'.' | b'-') {
            end -= 1;
        }
        if start == at || !valid_domain(&bytes[at + 1..end]) {
            continue;
        }
        out.push(Span {
            kind: Kind::Email,
            start,
            end,
        });
    }
}

fn valid_domain(domain: &[u8]) -> bool {
    let mut labels = domain.split(|b| *b == b'.');
    let Some(tld) = domain.rsplit(|b| *b == b'.').next() else {
        return false;
    };
    domain.contains(&b'.')
        && tld.len() >= 2
        && tld.iter().all(u8::is_ascii_alphabetic)
        && labels.all(|l| !l.is_empty() && l[0] != b'-' && l[l.len() - 1] != b'-')
}

// ---- numbers: payment cards, IPv4 ------------------------------------------------------------

/// The digit at `i` (ASCII or full-width) and its width in bytes.
pub(crate) fn digit_at(bytes: &[u8], i: usize) -> Option<(u8, usize)> {
    match bytes.get(i..) {
        Some([b, ..]) if b.is_ascii_digit() => Some((b - b'0', 1)),
        // U+FF10..U+FF19 FULLWIDTH DIGIT ZERO..NINE
        Some([0xEF, 0xBC, b @ 0x90..=0x99, ..]) => Some((b - 0x90, 3)),
        _ => None,
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sep {
    Space,
    Dash,
    Dot,
}

/// A separator between digit groups at `i`, and its width.
fn separator_at(bytes: &[u8], i: usize) -> Option<(Sep, usize)> {
    match bytes.get(i..) {
        Some([b' ', ..]) => Some((Sep::Space, 1)),
        Some([b'-', ..]) => Some((Sep::Dash, 1)),
        Some([b'.', ..]) => Some((Sep::Dot, 1)),
        // U+FF0D FULLWIDTH HYPHEN-MINUS, U+3000 IDEOGRAPHIC SPACE
        Some([0xEF, 0xBC, 0x8D, ..]) => Some((Sep::Dash, 3)),
        Some([0xE3, 0x80, 0x80, ..]) => Some((Sep::Space, 3)),
        _ => None,
    }
}

/// The longest run a detector looks at, in digits.
const MAX_RUN_DIGITS: usize = 40;

/// Groups of digits with single separators between them, as found in the text.
pub(crate) struct Run {
    pub(crate) digits: Vec<u8>,
    /// Per group: digits so far at its end, its end byte, and the separator before it.
    pub(crate) groups: Vec<(usize, usize, Option<Sep>)>,
}

impl Run {
    /// How many digits each group has.
    pub(crate) fn group_sizes(&self) -> impl Iterator<Item = usize> + '_ {
        let mut before = 0;
        self.groups.iter().map(move |g| {
            let size = g.0 - before;
            before = g.0;
            size
        })
    }
}

fn numbers(text: &str, out: &mut Vec<Span>) {
    let bytes = text.as_bytes();
    let mut i = 0;
    let mut run = Run {
        digits: Vec::with_capacity(MAX_RUN_DIGITS),
        groups: Vec::with_capacity(16),
    };
    while i < bytes.len() {
        let b = bytes[i];
        if !(b.is_ascii_digit() || b == 0xEF) || digit_at(bytes, i).is_none() {
            i += 1;
            continue;
        }
        let start = i;
        let glued = glued_before(bytes, start);
        i = read_run(bytes, start, &mut run);
        let glued = glued || bytes.get(i).is_some_and(|b| joins_word(*b));
        if glued || run.digits.len() > MAX_RUN_DIGITS {
            continue;
        }
        let found = None
            .or_else(|| ipv4(&run).map(|end| (Kind::IpAddress, end)))
            .or_else(|| card(&run).map(|end| (Kind::PaymentCard, end)))
            .or_else(|| crate::national::us_ssn(text, start, &run).map(|end| (Kind::UsSsn, end)))
            .or_else(|| {
                crate::national::my_number(text, start, &run).map(|end| (Kind::JpMyNumber, end))
            });
        if let Some((kind, end)) = found {
            out.push(Span { kind, start, end });
        }
    }
}

/// Whether the number at `start` is part of an identifier: right after a letter or digit, after
/// `#` (order and ticket numbers), or after a word and a `-`, `_` or `/` (`SKU-…`, `INV/…`).
pub(crate) fn glued_before(bytes: &[u8], start: usize) -> bool {
    match start.checked_sub(1).map(|i| bytes[i]) {
        Some(b) if joins_word(b) || b == b'#' => true,
        Some(b'-' | b'_' | b'/') => start >= 2 && joins_word(bytes[start - 2]),
        _ => false,
    }
}

/// Reads the run of digit groups starting at `start`; returns where it ends.
fn read_run(bytes: &[u8], start: usize, run: &mut Run) -> usize {
    run.digits.clear();
    run.groups.clear();
    let mut i = start;
    let mut before = None;
    loop {
        while let Some((d, w)) = digit_at(bytes, i) {
            run.digits.push(d);
            i += w;
        }
        run.groups.push((run.digits.len(), i, before));
        match separator_at(bytes, i) {
            Some((sep, w)) if digit_at(bytes, i + w).is_some() => {
                before = Some(sep);
                i += w;
            }
            _ => return i,
        }
    }
}

/// Four dot-separated groups of 0–255 without leading zeros.
fn ipv4(run: &Run) -> Option<usize> {
    if run.groups.len() != 4 || run.groups[1..].iter().any(|g| g.2 != Some(Sep::Dot)) {
        return None;
    }
    let mut from = 0;
    for (upto, _, _) in &run.groups {
        let group = &run.digits[from..*upto];
        let value = group.iter().fold(0u32, |v, d| v * 10 + u32::from(*d));
        if group.is_empty() || group.len() > 3 || value > 255 || (group.len() > 1 && group[0] == 0)
        {
            return None;
        }
        from = *upto;
    }
    Some(run.groups[3].1)
}

/// 13–19 digits, in one group or groups separated by spaces or dashes, from a card issuer's
/// range, passing the Luhn check. A longer run (a card followed by an expiry date) is tried at
/// each group boundary, longest first.
fn card(run: &Run) -> Option<usize> {
    if run.groups[1..]
        .iter()
        .any(|g| !matches!(g.2, Some(Sep::Space | Sep::Dash)))
    {
        return None;
    }
    run.groups.iter().rev().find_map(|&(upto, end, _)| {
        let digits = &run.digits[..upto];
        ((13..=19).contains(&digits.len()) && issuer_range(digits) && luhn(digits)).then_some(end)
    })
}

/// The Luhn (mod 10) check of ISO/IEC 7812.
pub(crate) fn luhn(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            if i % 2 == 1 {
                let twice = d * 2;
                if twice > 9 { twice - 9 } else { twice }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Whether the number starts in an issuer's range (Visa, Mastercard, American Express,
/// Discover, JCB, Diners Club, UnionPay, Maestro) with a length that issuer uses.
fn issuer_range(digits: &[u8]) -> bool {
    let prefix = |n: usize| digits[..n].iter().fold(0u32, |v, d| v * 10 + u32::from(*d));
    let len = digits.len();
    match digits[0] {
        4 => matches!(len, 13 | 16 | 19),
        5 => {
            (51..=55).contains(&prefix(2)) && len == 16
                || matches!(prefix(2), 50 | 56..=58) && len >= 12
        }
        2 => (2221..=2720).contains(&prefix(4)) && len == 16,
        3 => {
            matches!(prefix(2), 34 | 37) && len == 15
                || (3528..=3589).contains(&prefix(4)) && (16..=19).contains(&len)
                || (matches!(prefix(2), 36 | 38 | 39) || (300..=305).contains(&prefix(3)))
                    && (14..=19).contains(&len)
        }
        6 => {
            (prefix(4) == 6011 || prefix(2) == 65 || (644..=649).contains(&prefix(3)))
                && (16..=19).contains(&len)
                || prefix(2) == 62 && (16..=19).contains(&len)
                || matches!(prefix(2), 63 | 67) && len >= 12
        }
        _ => false,
    }
}

// ---- IBAN ------------------------------------------------------------------------------------

/// IBAN lengths per country (the SWIFT IBAN registry).
const IBAN_LENGTHS: &[(&[u8; 2], usize)] = &[
    (b"AD", 24),
    (b"AE", 23),
    (b"AL", 28),
    (b"AT", 20),
    (b"AZ", 28),
    (b"BA", 20),
    (b"BE", 16),
    (b"BG", 22),
    (b"BH", 22),
    (b"BR", 29),
    (b"CH", 21),
    (b"CR", 22),
    (b"CY", 28),
    (b"CZ", 24),
    (b"DE", 22),
    (b"DK", 18),
    (b"DO", 28),
    (b"EE", 20),
    (b"EG", 29),
    (b"ES", 24),
    (b"FI", 18),
    (b"FO", 18),
    (b"FR", 27),
    (b"GB", 22),
    (b"GE", 22),
    (b"GI", 23),
    (b"GL", 18),
    (b"GR", 27),
    (b"GT", 28),
    (b"HR", 21),
    (b"HU", 28),
    (b"IE", 22),
    (b"IL", 23),
    (b"IS", 26),
    (b"IT", 27),
    (b"JO", 30),
    (b"KW", 30),
    (b"KZ", 20),
    (b"LB", 28),
    (b"LI", 21),
    (b"LT", 20),
    (b"LU", 20),
    (b"LV", 21),
    (b"MC", 27),
    (b"MD", 24),
    (b"ME", 22),
    (b"MK", 19),
    (b"MR", 27),
    (b"MT", 31),
    (b"MU", 30),
    (b"NL", 18),
    (b"NO", 15),
    (b"PK", 24),
    (b"PL", 28),
    (b"PS", 29),
    (b"PT", 25),
    (b"QA", 29),
    (b"RO", 24),
    (b"RS", 22),
    (b"SA", 24),
    (b"SE", 24),
    (b"SI", 19),
    (b"SK", 24),
    (b"SM", 27),
    (b"TN", 24),
    (b"TR", 26),
    (b"UA", 29),
    (b"VG", 24),
    (b"XK", 20),
];

fn iban_length(country: &[u8]) -> Option<usize> {
    IBAN_LENGTHS
        .iter()
        .find(|(c, _)| c.as_slice() == country)
        .map(|(_, n)| *n)
}

/// Country code, two check digits and the national account number, in capitals, written in one
/// piece or in groups separated by single spaces; the country's length and the ISO 13616
/// mod-97 check must hold.
fn ibans(bytes: &[u8], out: &mut Vec<Span>) {
    let mut i = 0;
    while i + 4 <= bytes.len() {
        let starts_here = bytes[i].is_ascii_uppercase()
            && bytes[i + 1].is_ascii_uppercase()
            && bytes[i + 2].is_ascii_digit()
            && bytes[i + 3].is_ascii_digit()
            && (i == 0 || !joins_word(bytes[i - 1]));
        let Some(expected) = starts_here.then(|| iban_length(&bytes[i..i + 2])).flatten() else {
            i += 1;
            continue;
        };
        let mut chars = Vec::with_capacity(34);
        let mut j = i;
        while chars.len() < expected && j < bytes.len() {
            let b = bytes[j];
            if b.is_ascii_uppercase() || b.is_ascii_digit() {
                chars.push(b);
                j += 1;
            } else if b == b' ' && bytes.get(j + 1).is_some_and(|n| n.is_ascii_alphanumeric()) {
                j += 1;
            } else {
                break;
            }
        }
        let ends_cleanly = bytes.get(j).is_none_or(|b| !joins_word(*b));
        if chars.len() == expected && ends_cleanly && iban_checksum(&chars) {
            out.push(Span {
                kind: Kind::Iban,
                start: i,
                end: j,
            });
            i = j;
        } else {
            i += 1;
        }
    }
}

/// ISO 13616: the first four characters moved to the end, letters as 10–35, mod 97 is 1.
pub(crate) fn iban_checksum(chars: &[u8]) -> bool {
    let rotated = chars[4..].iter().chain(&chars[..4]);
    let mut rest = 0u32;
    for &c in rotated {
        let value = if c.is_ascii_digit() {
            u32::from(c - b'0')
        } else {
            u32::from(c - b'A') + 10
        };
        rest = if value >= 10 {
            (rest * 100 + value) % 97
        } else {
            (rest * 10 + value) % 97
        };
    }
    rest == 1
}
