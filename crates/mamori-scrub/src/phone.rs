//! Telephone numbers: international (`+CC …` or `00CC …`) and the national formats of Japan,
//! France, the United Kingdom, Germany and the United States. Candidates are cut out of the text
//! cheaply; only those then valid in libphonenumber's number ranges (the `phonenumber` crate, the
//! same metadata as Google's library) count, so quantities, dates and order numbers survive.

use phonenumber::country::Id;

use crate::detect::{Kind, Span, digit_at, glued_before, joins_word};

/// National formats tried for a number written with a leading trunk `0`.
const TRUNK_ZERO_REGIONS: [Id; 4] = [Id::JP, Id::FR, Id::GB, Id::DE];

/// E.164 allows 15 digits with the country code; fewer than 8 is no one's full number.
const MAX_DIGITS: usize = 15;
const MIN_INTERNATIONAL: usize = 8;
/// Shorter national numbers exist (German ones from 6 digits), but below 9 digits dates and
/// counts look the same.
const MIN_NATIONAL: usize = 9;

/// Words that, just before a bare run of digits, say it is a phone number.
const CONTEXT: [&str; 14] = [
    "phone",
    "tel",
    "call",
    "cell",
    "mobile",
    "fax",
    "text me",
    "whatsapp",
    "téléphone",
    "telephone",
    "portable",
    "appel",
    "電話",
    "携帯",
];
/// How far back the context words are looked for, in bytes.
const CONTEXT_WINDOW: usize = 24;

/// A separator inside a phone number at `i` and its width: spaces, hyphens and dashes (also
/// the full-width and katakana ones Japanese text uses), dots, slashes and parentheses.
fn separator_at(bytes: &[u8], i: usize) -> Option<(u8, usize)> {
    match bytes.get(i..)? {
        [b @ (b' ' | b'-' | b'.' | b'/' | b'(' | b')'), ..] => Some((*b, 1)),
        // FULLWIDTH ( ) - . and IDEOGRAPHIC SPACE
        [0xEF, 0xBC, 0x88, ..] => Some((b'(', 3)),
        [0xEF, 0xBC, 0x89, ..] => Some((b')', 3)),
        [0xEF, 0xBC, 0x8D, ..] => Some((b'-', 3)),
        [0xEF, 0xBC, 0x8E, ..] => Some((b'.', 3)),
        [0xE3, 0x80, 0x80, ..] => Some((b' ', 3)),
        // KATAKANA-HIRAGANA PROLONGED SOUND MARK, often typed for a hyphen in Japanese
        [0xE3, 0x83, 0xBC, ..] => Some((b'-', 3)),
        // HYPHEN, NON-BREAKING HYPHEN, EN DASH, MINUS SIGN
        [0xE2, 0x80, 0x90 | 0x91 | 0x93, ..] | [0xE2, 0x88, 0x92, ..] => Some((b'-', 3)),
        _ => None,
    }
}

fn plus_at(bytes: &[u8], i: usize) -> Option<usize> {
    match bytes.get(i..)? {
        [b'+', ..] => Some(1),
        [0xEF, 0xBC, 0x8B, ..] => Some(3), // FULLWIDTH PLUS SIGN
        _ => None,
    }
}

/// A phone-shaped run: digits with at most two separator characters between them.
struct Candidate {
    international: bool,
    digits: Vec<u8>,
    /// Digits in each group, and the byte where the group ends.
    groups: Vec<(usize, usize)>,
    /// Index in `digits` of a `(0)` written after the country code (`+44 (0)20 …`).
    bracketed_trunk_zero: Option<usize>,
    /// Where the run ends: past its last digit.
    end: usize,
}

/// Reads the run at `start` (a `+`, an opening parenthesis or a digit).
fn read(bytes: &[u8], start: usize) -> Candidate {
    let mut c = Candidate {
        international: false,
        digits: Vec::with_capacity(16),
        groups: Vec::with_capacity(8),
        bracketed_trunk_zero: None,
        end: start,
    };
    let mut i = start;
    if let Some(w) = plus_at(bytes, i) {
        c.international = true;
        i += w;
    }
    let mut open_paren_before = false;
    loop {
        let group_start = c.digits.len();
        while let Some((d, w)) = digit_at(bytes, i) {
            c.digits.push(d);
            i += w;
        }
        if c.digits.len() > group_start {
            if open_paren_before
                && c.digits.len() == group_start + 1
                && c.digits[group_start] == 0
                && separator_at(bytes, i).is_some_and(|(s, _)| s == b')')
            {
                c.bracketed_trunk_zero = Some(group_start);
            }
            c.groups.push((c.digits.len() - group_start, i));
            c.end = i;
        }
        if c.digits.len() > MAX_DIGITS * 2 {
            return c;
        }
        // Up to two separators (`) `, ` (`, `- `) may stand between groups.
        let mut j = i;
        open_paren_before = false;
        for _ in 0..2 {
            match separator_at(bytes, j) {
                Some((s, w)) => {
                    open_paren_before |= s == b'(';
                    j += w;
                }
                None => break,
            }
        }
        if j == i || digit_at(bytes, j).is_none() {
            return c;
        }
        i = j;
    }
}

/// Every phone number in `bytes` (the UTF-8 text `text`).
pub(crate) fn phones(text: &str, out: &mut Vec<Span>) {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if !(b.is_ascii_digit() || matches!(b, b'+' | b'(' | 0xEF)) {
            i += 1;
            continue;
        }
        let anchored = if plus_at(bytes, i).is_some() {
            digit_at(bytes, i + plus_at(bytes, i).unwrap_or(1)).is_some()
        } else if let Some((b'(', w)) = separator_at(bytes, i) {
            digit_at(bytes, i + w).is_some()
        } else {
            digit_at(bytes, i).is_some()
        };
        if !anchored {
            i += 1;
            continue;
        }
        let c = read(bytes, i);
        let glued = glued_before(bytes, i) || bytes.get(c.end).is_some_and(|b| joins_word(*b));
        if !glued && let Some(end) = valid_prefix(text, i, &c) {
            out.push(Span {
                kind: Kind::Phone,
                start: i,
                end,
            });
        }
        i = c.end.max(i + 1);
    }
}

/// The end of the longest valid number the run starts with: a number followed by another
/// figure (`03-1234-5678 2 times`) is cut at a group boundary.
fn valid_prefix(text: &str, start: usize, c: &Candidate) -> Option<usize> {
    c.groups
        .iter()
        .enumerate()
        .rev()
        .find_map(|(n, &(_, end))| {
            let upto: usize = c.groups[..=n].iter().map(|g| g.0).sum();
            let shape: Vec<usize> = c.groups[..=n].iter().map(|g| g.0).collect();
            is_phone(text, start, c, upto, &shape).then_some(end)
        })
}

fn is_phone(text: &str, start: usize, c: &Candidate, upto: usize, shape: &[usize]) -> bool {
    let digits = &c.digits[..upto];
    let ascii = |ds: &[u8]| ds.iter().map(|d| char::from(b'0' + d)).collect::<String>();
    let international_digits = if c.international {
        Some(digits)
    } else if digits.starts_with(&[0, 0]) && shape[0] <= 4 {
        Some(&digits[2..])
    } else {
        None
    };
    if let Some(number) = international_digits {
        if !(MIN_INTERNATIONAL..=MAX_DIGITS).contains(&number.len()) {
            return false;
        }
        let skip = c.bracketed_trunk_zero.filter(|z| *z < upto).map(|z| {
            z - (digits.len() - number.len()) // index within `number`
        });
        let national: Vec<u8> = number
            .iter()
            .enumerate()
            .filter(|(i, _)| Some(*i) != skip)
            .map(|(_, d)| *d)
            .collect();
        return valid(None, &format!("+{}", ascii(&national)));
    }
    if digits.len() < MIN_NATIONAL || digits.len() > MAX_DIGITS {
        return false;
    }
    let number = ascii(digits);
    if digits[0] == 0 {
        return TRUNK_ZERO_REGIONS
            .iter()
            .any(|r| national_length_fits(*r, digits.len()) && valid(Some(*r), &number));
    }
    // A North American number: 10 digits (11 with the leading 1), written in its groups or
    // named as a phone number just before.
    let formatted = matches!(shape, [3, 3, 4] | [1, 3, 3, 4]);
    let nanp_length = digits.len() == 10 || (digits.len() == 11 && digits[0] == 1);
    nanp_length && (formatted || has_context(text, start)) && valid(Some(Id::US), &number)
}

/// Whether a national number (with its trunk 0) of `len` digits can be from `region`: a cheap
/// test that spares libphonenumber's parser most candidates.
fn national_length_fits(region: Id, len: usize) -> bool {
    match region {
        Id::JP => (10..=11).contains(&len),
        Id::FR => len == 10,
        Id::GB => (10..=11).contains(&len),
        Id::DE => (MIN_NATIONAL..=13).contains(&len),
        _ => true,
    }
}

fn valid(region: Option<Id>, number: &str) -> bool {
    phonenumber::parse(region, number).is_ok_and(|n| phonenumber::is_valid(&n))
}

/// Whether one of the [`CONTEXT`] words ends shortly before `start`.
fn has_context(text: &str, start: usize) -> bool {
    let mut from = start.saturating_sub(CONTEXT_WINDOW);
    while !text.is_char_boundary(from) {
        from += 1;
    }
    let before = text[from..start].to_lowercase();
    CONTEXT.iter().any(|w| before.contains(w))
}
