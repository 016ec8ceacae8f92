//! Identifiers that must validate in their own formats: cards (Luhn, issuer ranges), IBANs
//! (mod-97), phone numbers (libphonenumber's ranges), SSNs, My Numbers, NIRs and IP addresses.

use super::*;

pub(super) fn digits(ds: &[u8]) -> String {
    ds.iter().map(|d| char::from(b'0' + d)).collect()
}

pub(super) fn full_width(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '0'..='9' => char::from_u32(c as u32 - '0' as u32 + 0xFF10).unwrap_or(c),
            '-' => '－',
            ' ' => '\u{3000}',
            _ => c,
        })
        .collect()
}

pub(super) fn luhn_complete(mut body: Vec<u8>) -> Vec<u8> {
    for check in 0..10 {
        body.push(check);
        let sum: u32 = body
            .iter()
            .rev()
            .enumerate()
            .map(|(i, &d)| {
                let d = u32::from(d);
                if i % 2 == 1 {
                    if d * 2 > 9 { d * 2 - 9 } else { d * 2 }
                } else {
                    d
                }
            })
            .sum();
        if sum.is_multiple_of(10) {
            return body;
        }
        body.pop();
    }
    unreachable!("one of ten check digits passes")
}

pub(super) fn mod97(s: &str) -> u32 {
    s.chars().fold(0u32, |rest, c| {
        let v = c.to_digit(36).unwrap_or(0);
        if v >= 10 {
            (rest * 100 + v) % 97
        } else {
            (rest * 10 + v) % 97
        }
    })
}

impl Generator {
    pub(super) fn card(&mut self, japanese: bool) -> (&'static str, String) {
        let (prefix, len): (&[u8], usize) = *[
            (&[4][..], 16),
            (&[5, 1][..], 16),
            (&[5, 5][..], 16),
            (&[2, 2, 2, 1][..], 16),
            (&[3, 4][..], 15),
            (&[3, 7][..], 15),
            (&[6, 0, 1, 1][..], 16),
            (&[3, 5, 2, 8][..], 16),
        ]
        .choose(&mut self.rng)
        .unwrap_or(&(&[4][..], 16));
        let mut body = prefix.to_vec();
        body.extend(self.ds(len - 1 - prefix.len()));
        let number = digits(&luhn_complete(body));
        let written = match (len, self.n(0..3)) {
            (_, 0) => number,
            (15, s) => {
                let sep = if s == 1 { " " } else { "-" };
                format!(
                    "{}{sep}{}{sep}{}",
                    &number[..4],
                    &number[4..10],
                    &number[10..]
                )
            }
            (_, s) => {
                let sep = if s == 1 { " " } else { "-" };
                number
                    .as_bytes()
                    .chunks(4)
                    .map(|c| std::str::from_utf8(c).unwrap_or(""))
                    .collect::<Vec<_>>()
                    .join(sep)
            }
        };
        (
            "payment_card",
            if japanese && self.coin(0.5) {
                full_width(&written)
            } else {
                written
            },
        )
    }

    pub(super) fn iban(&mut self) -> (&'static str, String) {
        let (country, bban): (&str, String) = match self.n(0..5) {
            0 => ("DE", digits(&self.ds(18))),
            1 => ("FR", digits(&self.ds(23))),
            2 => (
                "GB",
                format!(
                    "{}{}",
                    self.pick(&["WEST", "NWBK", "BARC", "MIDL"]),
                    digits(&self.ds(14))
                ),
            ),
            3 => (
                "NL",
                format!(
                    "{}{}",
                    self.pick(&["ABNA", "RABO", "INGB"]),
                    digits(&self.ds(10))
                ),
            ),
            _ => ("ES", digits(&self.ds(20))),
        };
        let check = 98 - mod97(&format!("{bban}{country}00"));
        let iban = format!("{country}{check:02}{bban}");
        let written = if self.coin(0.6) {
            iban.as_bytes()
                .chunks(4)
                .map(|c| std::str::from_utf8(c).unwrap_or(""))
                .collect::<Vec<_>>()
                .join(" ")
        } else {
            iban
        };
        ("iban", written)
    }

    /// A phone number valid in libphonenumber's ranges, written the way people of `country`
    /// write them.
    pub(super) fn phone(&mut self, country: &str) -> (&'static str, String) {
        for _ in 0..1000 {
            let (written, region) = match country {
                "jp" => {
                    let d = self.ds(8);
                    let s = digits(&d);
                    let mobile =
                        format!("0{}0-{}-{}", self.pick(&["9", "8", "7"]), &s[..4], &s[4..]);
                    let landline = format!("03-{}-{}", &s[..4], &s[4..]);
                    match self.n(0..5) {
                        0 => (landline, phonenumber::country::Id::JP),
                        1 => (
                            format!("+81 {}", &mobile[1..]),
                            phonenumber::country::Id::JP,
                        ),
                        2 => (full_width(&mobile), phonenumber::country::Id::JP),
                        3 => (mobile.replace('-', ""), phonenumber::country::Id::JP),
                        _ => (mobile, phonenumber::country::Id::JP),
                    }
                }
                "fr" => {
                    let s = digits(&self.ds(8));
                    let pairs = format!("{} {} {} {}", &s[..2], &s[2..4], &s[4..6], &s[6..]);
                    let lead = self.pick(&["6", "7", "1", "4"]);
                    match self.n(0..4) {
                        0 => (format!("+33 {lead} {pairs}"), phonenumber::country::Id::FR),
                        1 => (
                            format!("0{lead}.{}", pairs.replace(' ', ".")),
                            phonenumber::country::Id::FR,
                        ),
                        2 => (
                            format!("0{lead}{}", pairs.replace(' ', "")),
                            phonenumber::country::Id::FR,
                        ),
                        _ => (format!("0{lead} {pairs}"), phonenumber::country::Id::FR),
                    }
                }
                "gb" => {
                    let s = digits(&self.ds(6));
                    match self.n(0..3) {
                        0 => (
                            format!("07{}{} {}", self.n(4..10), self.n(100..1000), s),
                            phonenumber::country::Id::GB,
                        ),
                        1 => (
                            format!("+44 20 7{} {}", &s[..3], &s[2..]),
                            phonenumber::country::Id::GB,
                        ),
                        _ => (
                            format!("020 7{} {}", &s[..3], &s[2..]),
                            phonenumber::country::Id::GB,
                        ),
                    }
                }
                "de" => {
                    let s = digits(&self.ds(8));
                    match self.n(0..3) {
                        0 => (format!("030 {s}"), phonenumber::country::Id::DE),
                        1 => (format!("+49 151 {s}"), phonenumber::country::Id::DE),
                        _ => (format!("089/{}", &s[..7]), phonenumber::country::Id::DE),
                    }
                }
                _ => {
                    let area = self.pick(&["212", "415", "312", "617", "206"]);
                    let ex = self.n(200..1000);
                    let line = digits(&self.ds(4));
                    match self.n(0..4) {
                        0 => (
                            format!("({area}) {ex}-{line}"),
                            phonenumber::country::Id::US,
                        ),
                        1 => (
                            format!("+1 {area} {ex} {line}"),
                            phonenumber::country::Id::US,
                        ),
                        2 => (format!("{area}.{ex}.{line}"), phonenumber::country::Id::US),
                        _ => (format!("{area}-{ex}-{line}"), phonenumber::country::Id::US),
                    }
                }
            };
            let ascii: String = written
                .chars()
                .map(|c| match c {
                    '\u{FF10}'..='\u{FF19}' => {
                        char::from_u32(c as u32 - 0xFF10 + '0' as u32).unwrap_or(c)
                    }
                    '－' => '-',
                    _ => c,
                })
                .collect();
            if phonenumber::parse(Some(region), &ascii).is_ok_and(|n| phonenumber::is_valid(&n)) {
                return ("phone", written);
            }
        }
        unreachable!("a valid number comes up within 1000 draws")
    }

    pub(super) fn ssn(&mut self) -> (&'static str, String) {
        loop {
            let area = self.n(1..900);
            if area == 666 {
                continue;
            }
            let ssn = format!("{area:03}-{:02}-{:04}", self.n(1..100), self.n(1..10_000));
            if ["078-05-1120", "219-09-9999", "123-45-6789"].contains(&ssn.as_str()) {
                continue;
            }
            return (
                "us_ssn",
                if self.coin(0.2) {
                    ssn.replace('-', " ")
                } else {
                    ssn
                },
            );
        }
    }

    pub(super) fn my_number(&mut self) -> (&'static str, String) {
        let body = self.ds(11);
        let sum: u32 = (1..=11u32)
            .map(|n| u32::from(body[11 - n as usize]) * if n <= 6 { n + 1 } else { n - 5 })
            .sum();
        let check = match sum % 11 {
            0 | 1 => 0,
            r => (11 - r) as u8,
        };
        let mut number = body;
        number.push(check);
        let s = digits(&number);
        let written = match self.n(0..4) {
            0 => s,
            1 => format!("{}-{}-{}", &s[..4], &s[4..8], &s[8..]),
            2 => full_width(&format!("{} {} {}", &s[..4], &s[4..8], &s[8..])),
            _ => format!("{} {} {}", &s[..4], &s[4..8], &s[8..]),
        };
        ("jp_my_number", written)
    }

    pub(super) fn nir(&mut self) -> (&'static str, String) {
        let body = format!(
            "{}{:02}{:02}{:02}{:03}{:03}",
            self.n(1..3),
            self.n(0..100),
            self.n(1..13),
            self.n(1..96),
            self.n(1..1000),
            self.n(1..1000)
        );
        let key = 97 - body.parse::<u64>().unwrap_or(0) % 97;
        let written = if self.coin(0.6) {
            format!(
                "{} {} {} {} {} {} {key:02}",
                &body[..1],
                &body[1..3],
                &body[3..5],
                &body[5..7],
                &body[7..10],
                &body[10..13]
            )
        } else {
            format!("{body}{key:02}")
        };
        ("fr_nir", written)
    }

    pub(super) fn ip(&mut self) -> (&'static str, String) {
        if self.coin(0.7) {
            (
                "ip_address",
                format!(
                    "{}.{}.{}.{}",
                    self.n(1..224),
                    self.n(0..256),
                    self.n(0..256),
                    self.n(1..255)
                ),
            )
        } else {
            let groups: Vec<String> = (0..4)
                .map(|_| format!("{:x}", self.n(1..0x10000)))
                .collect();
            (
                "ip_address",
                format!(
                    "2001:db8:{}::{}",
                    groups[..2].join(":"),
                    groups[2..].join(":")
                ),
            )
        }
    }
}
