//! National identity numbers: the US Social Security number, Japan's My Number (個人番号) and
//! France's NIR (numéro de sécurité sociale), each with its format's own checks.

use crate::detect::{Kind, Run, Sep, Span, digit_at, joins_word};

/// Words that, just before a bare run of digits, say it is an identity number.
const SSN_CONTEXT: [&str; 3] = ["ssn", "social security", "soc sec"];
const MY_NUMBER_CONTEXT: [&str; 4] = ["マイナンバー", "個人番号", "my number", "mynumber"];
const CONTEXT_WINDOW: usize = 32;

pub(crate) fn has_context(text: &str, start: usize, words: &[&str]) -> bool {
    let mut from = start.saturating_sub(CONTEXT_WINDOW);
    while !text.is_char_boundary(from) {
        from += 1;
    }
    let before = text[from..start].to_lowercase();
    words.iter().any(|w| before.contains(w))
}

fn value(digits: &[u8]) -> u32 {
    digits.iter().fold(0, |v, d| v * 10 + u32::from(*d))
}

/// `AAA-GG-SSSS` (dashes or spaces), or nine digits in one piece named as an SSN just before.
/// Numbers the SSA never issues are refused: area 000, 666 or 900–999, group 00, serial 0000,
/// and the numbers famous from advertising and examples.
pub(crate) fn us_ssn(text: &str, start: usize, run: &Run) -> Option<usize> {
    let shape: Vec<usize> = run.group_sizes().collect();
    let separated = shape == [3, 2, 4]
        && run.groups[1].2 == run.groups[2].2
        && matches!(run.groups[1].2, Some(Sep::Dash | Sep::Space));
    let bare = shape == [9] && has_context(text, start, &SSN_CONTEXT);
    if !(separated || bare) {
        return None;
    }
    let d = &run.digits;
    let (area, group, serial) = (value(&d[..3]), value(&d[3..5]), value(&d[5..9]));
    let never_issued = area == 0
        || area == 666
        || area >= 900
        || group == 0
        || serial == 0
        || matches!(value(d), 78_051_120 | 219_099_999 | 123_456_789)
        || d.iter().all(|x| *x == d[0]);
    (!never_issued).then(|| run.groups[run.groups.len() - 1].1)
}

/// Twelve digits, as `NNNN NNNN NNNN` (spaces or dashes) or in one piece named as a My Number
/// just before, whose last digit is the check digit of the other eleven.
pub(crate) fn my_number(text: &str, start: usize, run: &Run) -> Option<usize> {
    let shape: Vec<usize> = run.group_sizes().collect();
    let grouped = shape == [4, 4, 4]
        && run.groups[1].2 == run.groups[2].2
        && matches!(run.groups[1].2, Some(Sep::Dash | Sep::Space));
    let bare = shape == [12] && has_context(text, start, &MY_NUMBER_CONTEXT);
    ((grouped || bare) && my_number_check_digit(&run.digits[..11]) == run.digits[11])
        .then(|| run.groups[run.groups.len() - 1].1)
}

/// The check digit of a My Number (個人番号の指定等に関する省令 第5条): with Pn the n-th of the
/// eleven digits counted from the right and Qn = n + 1 for n ≤ 6, n − 5 above, the remainder
/// r of ΣPn·Qn by 11 gives 0 when r ≤ 1 and 11 − r otherwise.
pub(crate) fn my_number_check_digit(eleven: &[u8]) -> u8 {
    let sum: u32 = eleven
        .iter()
        .rev()
        .enumerate()
        .map(|(i, p)| {
            let n = i as u32 + 1;
            let q = if n <= 6 { n + 1 } else { n - 5 };
            u32::from(*p) * q
        })
        .sum();
    let r = sum % 11;
    if r <= 1 { 0 } else { (11 - r) as u8 }
}

/// NIR: sex (1 or 2, 3/4/7/8 for provisional numbers), year, month (01–12, or 20 and 30–99
/// when unknown), département (01–99, 2A or 2B), commune, order, then the key: 97 minus the
/// 13-digit number mod 97 (with 2A as 19 and 2B as 18). Written in one piece or in its groups
/// `S YY MM DD CCC OOO KK` separated by single spaces.
pub(crate) fn fr_nirs(bytes: &[u8], out: &mut Vec<Span>) {
    let mut i = 0;
    while i < bytes.len() {
        let starts = matches!(bytes[i], b'1'..=b'4' | b'7' | b'8')
            && (i == 0 || !joins_word(bytes[i - 1]) && bytes[i - 1] != b'#');
        if !starts {
            i += 1;
            continue;
        }
        match read_nir(bytes, i) {
            Some(end) => {
                out.push(Span {
                    kind: Kind::FrNir,
                    start: i,
                    end,
                });
                i = end;
            }
            None => i += 1,
        }
    }
}

/// The 15 symbols of a NIR from `start`, with the end byte, if they pass every check.
fn read_nir(bytes: &[u8], start: usize) -> Option<usize> {
    let mut symbols = [0u8; 15];
    let mut n = 0;
    let mut j = start;
    while n < 15 {
        let b = *bytes.get(j)?;
        let corsica = n == 6 && symbols[5] == 2 && matches!(b, b'A' | b'B' | b'a' | b'b');
        if b.is_ascii_digit() || corsica {
            symbols[n] = if corsica {
                b.to_ascii_uppercase()
            } else {
                b - b'0'
            };
            n += 1;
            j += 1;
        } else if b == b' ' && n > 0 && bytes.get(j + 1).is_some_and(u8::is_ascii_alphanumeric) {
            j += 1;
        } else {
            return None;
        }
    }
    if bytes
        .get(j)
        .is_some_and(|b| joins_word(*b) || digit_at(bytes, j).is_some())
    {
        return None;
    }
    nir_valid(&symbols).then_some(j)
}

/// Checks a NIR's fields and key; `s` holds digits as 0–9 and the Corsican letters as `A`/`B`.
pub(crate) fn nir_valid(s: &[u8; 15]) -> bool {
    let num = |r: std::ops::Range<usize>| -> Option<u64> {
        s[r].iter()
            .try_fold(0u64, |v, d| (*d <= 9).then(|| v * 10 + u64::from(*d)))
    };
    let month_ok =
        num(3..5).is_some_and(|m| (1..=12).contains(&m) || m == 20 || (30..=99).contains(&m));
    let department_ok = matches!(s[6], b'A' | b'B') || num(5..7).is_some_and(|d| d >= 1);
    if !(month_ok && department_ok) {
        return false;
    }
    // INSEE computes the key with 2A read as 19 and 2B as 18.
    let body = s[..13].iter().enumerate().fold(0u64, |v, (i, d)| {
        let digit = match (i, s[6]) {
            (5, b'A' | b'B') => 1,
            (6, b'A') => 9,
            (6, b'B') => 8,
            _ => u64::from(*d),
        };
        v * 10 + digit
    });
    num(13..15) == Some(97 - body % 97)
}
