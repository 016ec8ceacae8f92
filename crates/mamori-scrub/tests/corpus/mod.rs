//! A labelled corpus of fake customer feedback in English, French and Japanese, for measuring the
//! scrubber: each record is a sentence a customer might write, with personal data of known kinds
//! at known byte offsets, and non-personal look-alikes (order numbers, prices, dates, SKUs,
//! versions, tracking and invoice numbers, quantities) that must survive.
//!
//! Every value is fake but valid in its format: cards pass Luhn and sit in an issuer's range,
//! IBANs pass mod-97, phones are valid in libphonenumber's ranges, SSNs, My Numbers and NIRs
//! pass their own rules. Deterministic for a seed. Used by `tests/corpus_eval.rs` (thresholds)
//! and `examples/corpus.rs` (JSON lines for `scripts/scrub-eval.py`, which also scores Presidio).

#![allow(dead_code)]

use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{RngExt, SeedableRng};
use serde::Serialize;

/// One labelled piece of text: `kind` is a scrubber kind name for personal data, or the kind of
/// look-alike (`order_number`, `price`, …).
#[derive(Debug, Clone, Serialize)]
pub struct Label {
    pub kind: &'static str,
    pub start: usize,
    pub end: usize,
    pub value: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Record {
    pub lang: &'static str,
    pub text: String,
    pub personal: Vec<Label>,
    pub lookalikes: Vec<Label>,
}

/// A record being written: text pieces, each plain, personal or a look-alike.
struct Builder {
    record: Record,
}

impl Builder {
    fn new(lang: &'static str) -> Builder {
        Builder {
            record: Record {
                lang,
                text: String::new(),
                personal: Vec::new(),
                lookalikes: Vec::new(),
            },
        }
    }
    fn text(&mut self, s: &str) -> &mut Builder {
        self.record.text.push_str(s);
        self
    }
    fn label(&mut self, kind: &'static str, value: String, personal: bool) -> &mut Builder {
        let start = self.record.text.len();
        self.record.text.push_str(&value);
        let label = Label {
            kind,
            start,
            end: self.record.text.len(),
            value,
        };
        if personal {
            self.record.personal.push(label);
        } else {
            self.record.lookalikes.push(label);
        }
        self
    }
    fn pii(&mut self, (kind, value): (&'static str, String)) -> &mut Builder {
        self.label(kind, value, true)
    }
    fn like(&mut self, (kind, value): (&'static str, String)) -> &mut Builder {
        self.label(kind, value, false)
    }
}

pub struct Generator {
    rng: StdRng,
}

const EN_FIRST: &[&str] = &[
    "Ada", "James", "Olivia", "Noah", "Emma", "Liam", "Grace", "Henry", "Chloe", "Samuel",
];
const EN_LAST: &[&str] = &[
    "Lovelace", "Smith", "Johnson", "Brown", "Taylor", "Walker", "O'Brien", "Wright", "Clarke",
    "Hughes",
];
const FR_FIRST: &[&str] = &[
    "Marie",
    "Jean",
    "Camille",
    "Louis",
    "Léa",
    "Hugo",
    "Chloé",
    "Jean-Pierre",
    "Inès",
    "Théo",
];
const FR_LAST: &[&str] = &[
    "Dupont", "Martin", "Bernard", "Lefèvre", "Moreau", "Girard", "Fournier", "Rousseau",
    "Lambert", "Bonnet",
];
const JA_FAMILY: &[&str] = &[
    "田中", "佐藤", "鈴木", "高橋", "渡辺", "伊藤", "山本", "中村", "小林", "加藤",
];
const JA_GIVEN: &[&str] = &[
    "太郎",
    "花子",
    "健一",
    "美咲",
    "翔太",
    "陽菜",
    "大輔",
    "さくら",
    "一郎",
    "優子",
];
const DOMAINS: &[&str] = &[
    "example.com",
    "mail.example.fr",
    "example.co.jp",
    "example.org",
    "shop.example.net",
];
const EN_MONTHS: &[&str] = &[
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const FR_MONTHS: &[&str] = &[
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];

fn digits(ds: &[u8]) -> String {
    ds.iter().map(|d| char::from(b'0' + d)).collect()
}

fn full_width(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '0'..='9' => char::from_u32(c as u32 - '0' as u32 + 0xFF10).unwrap_or(c),
            '-' => '－',
            ' ' => '\u{3000}',
            _ => c,
        })
        .collect()
}

fn luhn_complete(mut body: Vec<u8>) -> Vec<u8> {
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

fn mod97(s: &str) -> u32 {
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
    pub fn new(seed: u64) -> Generator {
        Generator {
            rng: StdRng::seed_from_u64(seed),
        }
    }

    fn pick<'a>(&mut self, xs: &'a [&'a str]) -> &'a str {
        xs.choose(&mut self.rng).copied().unwrap_or("")
    }
    fn n(&mut self, range: std::ops::Range<u32>) -> u32 {
        self.rng.random_range(range)
    }
    fn ds(&mut self, count: usize) -> Vec<u8> {
        (0..count).map(|_| self.rng.random_range(0..10u8)).collect()
    }
    fn coin(&mut self, p: f64) -> bool {
        self.rng.random_bool(p)
    }

    // ---- personal data -------------------------------------------------------------------

    fn email(&mut self) -> (&'static str, String) {
        let first = self.pick(EN_FIRST).to_lowercase().replace('\'', "");
        let last = self.pick(FR_LAST).to_lowercase().replace('è', "e");
        let sep = self.pick(&[".", "_", ""]);
        let num = if self.coin(0.4) {
            self.n(1..99).to_string()
        } else {
            String::new()
        };
        let domain = self.pick(DOMAINS);
        ("email", format!("{first}{sep}{last}{num}@{domain}"))
    }

    fn card(&mut self, japanese: bool) -> (&'static str, String) {
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

    fn iban(&mut self) -> (&'static str, String) {
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
    fn phone(&mut self, country: &str) -> (&'static str, String) {
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

    fn ssn(&mut self) -> (&'static str, String) {
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

    fn my_number(&mut self) -> (&'static str, String) {
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

    fn nir(&mut self) -> (&'static str, String) {
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

    fn ip(&mut self) -> (&'static str, String) {
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

    fn name(&mut self, lang: &str) -> (&'static str, String) {
        let name = match lang {
            "fr" => format!("{} {}", self.pick(FR_FIRST), self.pick(FR_LAST)),
            "ja" => format!(
                "{}{}",
                self.pick(JA_FAMILY),
                if self.coin(0.7) {
                    self.pick(&JA_GIVEN[..9])
                } else {
                    ""
                }
            ),
            // One writer in ten does not capitalise: a form the name detector misses.
            _ if self.coin(0.1) => {
                format!("{} {}", self.pick(EN_FIRST), self.pick(EN_LAST)).to_lowercase()
            }
            _ => format!("{} {}", self.pick(EN_FIRST), self.pick(EN_LAST)),
        };
        ("person_name", name)
    }

    fn date(&mut self, lang: &str, from: u32, to: u32) -> String {
        let (y, m, d) = (self.n(from..to), self.n(1..13), self.n(1..29));
        match (lang, self.n(0..3)) {
            ("ja", 0) => full_width(&format!("{y}年{m}月{d}日")).replace('\u{3000}', ""),
            ("ja", _) => format!("{y}年{m}月{d}日"),
            ("fr", 0) => format!("{d:02}/{m:02}/{y}"),
            ("fr", _) => format!("{d} {} {y}", FR_MONTHS[m as usize - 1]),
            (_, 0) => format!("{y}-{m:02}-{d:02}"),
            (_, 1) => format!("{} {d}, {y}", EN_MONTHS[m as usize - 1]),
            _ => format!("{d} {} {y}", EN_MONTHS[m as usize - 1]),
        }
    }

    fn dob(&mut self, lang: &str) -> (&'static str, String) {
        ("date_of_birth", self.date(lang, 1940, 2006))
    }

    fn address(&mut self, lang: &str) -> (&'static str, String) {
        let address = match lang {
            "ja" => {
                let (pref, city) = *[
                    ("東京都", "千代田区千代田"),
                    ("大阪府", "大阪市北区梅田"),
                    ("神奈川県", "横浜市中区山下町"),
                    ("北海道", "札幌市中央区北一条"),
                ]
                .choose(&mut self.rng)
                .unwrap_or(&("東京都", "千代田区千代田"));
                let block = format!("{}-{}-{}", self.n(1..10), self.n(1..30), self.n(1..20));
                if self.coin(0.5) {
                    format!(
                        "〒{:03}-{:04} {pref}{city}{block}",
                        self.n(100..1000),
                        self.n(0..10_000)
                    )
                } else {
                    format!("{pref}{city}{block}")
                }
            }
            "fr" => {
                let street = self.pick(&[
                    "rue de la Paix",
                    "avenue Victor Hugo",
                    "boulevard Saint-Germain",
                    "place de la République",
                    "rue du Faubourg Saint-Honoré",
                ]);
                let city = self.pick(&["Paris", "Lyon", "Marseille", "Toulouse", "Bordeaux"]);
                format!(
                    "{} {street}, {:05} {city}",
                    self.n(1..200),
                    self.n(1000..96_000)
                )
            }
            _ => {
                let street = self.pick(&[
                    "Baker Street",
                    "Pennsylvania Ave NW",
                    "Main St",
                    "Oak Avenue",
                    "Sunset Blvd",
                ]);
                if self.coin(0.5) {
                    let (city, state) = *[
                        ("Springfield", "IL"),
                        ("Washington", "DC"),
                        ("Austin", "TX"),
                        ("Portland", "OR"),
                    ]
                    .choose(&mut self.rng)
                    .unwrap_or(&("Austin", "TX"));
                    format!(
                        "{} {street}, {city}, {state} {:05}",
                        self.n(1..9999),
                        self.n(10_000..99_999)
                    )
                } else {
                    format!("{} {street}", self.n(1..9999))
                }
            }
        };
        ("postal_address", address)
    }

    // ---- look-alikes ----------------------------------------------------------------------

    fn order(&mut self) -> (&'static str, String) {
        let n = self.n(10_000..99_999_999);
        let v = match self.n(0..4) {
            0 => format!("#{n}"),
            1 => format!("ORD-{}-{:06}", self.n(2020..2027), self.n(1..999_999)),
            2 => format!("A-{}", self.n(1000..99_999)),
            _ => format!("{}{:04}", self.n(2020..2027), self.n(1..10_000)),
        };
        ("order_number", v)
    }
    fn price(&mut self, lang: &str) -> (&'static str, String) {
        let (whole, cents) = (self.n(1..5000), self.n(0..100));
        let v = match lang {
            "fr" => format!("{whole},{cents:02} €"),
            "ja" => format!("¥{},{:03}", self.n(1..99), self.n(0..1000)),
            _ => format!("${whole}.{cents:02}"),
        };
        ("price", v)
    }
    fn plain_date(&mut self, lang: &str) -> (&'static str, String) {
        ("date", self.date(lang, 2020, 2027))
    }
    fn sku(&mut self) -> (&'static str, String) {
        let v = match self.n(0..3) {
            0 => {
                let card = digits(&luhn_complete(
                    std::iter::once(4).chain(self.ds(14)).collect(),
                ));
                format!("SKU-{card}")
            }
            1 => format!("AB-{:04}-{:04}", self.n(0..10_000), self.n(0..10_000)),
            _ => format!(
                "X{}-{}",
                self.n(100..999),
                self.pick(&["BLK", "RED", "L", "XL"])
            ),
        };
        ("sku", v)
    }
    fn version(&mut self) -> (&'static str, String) {
        let v = match self.n(0..3) {
            0 => format!("v{}.{}.{}", self.n(0..20), self.n(0..30), self.n(0..100)),
            1 => format!("10.0.{}.{}", self.n(10_000..30_000), self.n(1..5000)),
            _ => format!("{}.{}", self.n(1..20), self.n(0..10)),
        };
        ("version", v)
    }
    fn tracking(&mut self) -> (&'static str, String) {
        let v = match self.n(0..3) {
            0 => format!("1Z{}AA{}", self.n(100..999), digits(&self.ds(11))),
            1 => format!("INV/{}/{:05}", self.n(2020..2027), self.n(1..100_000)),
            _ => format!("JP{}", digits(&self.ds(10))),
        };
        ("tracking_number", v)
    }
    fn quantity(&mut self, lang: &str) -> (&'static str, String) {
        let v = match lang {
            "ja" => format!("{}個", self.n(1..50)),
            "fr" => format!("{} articles", self.n(1..50)),
            _ => format!("{} items", self.n(1..50)),
        };
        ("quantity", v)
    }

    /// One record: a sentence from one of the templates of a random language.
    pub fn record(&mut self) -> Record {
        let lang = self.pick(&["en", "fr", "ja"]);
        let mut b = Builder::new(lang);
        let template = self.n(0..12);
        match (lang, template) {
            ("en", 0) => {
                let country = ["us", "gb", "de"][self.n(0..3) as usize];
                let p = self.phone(country);
                let o = self.order();
                b.text("Please call me at ")
                    .pii(p)
                    .text(" about order ")
                    .like(o)
                    .text(".");
            }
            ("en", 1) => {
                let c = self.card(false);
                let d = self.plain_date("en");
                b.text("My card ")
                    .pii(c)
                    .text(" was charged twice on ")
                    .like(d)
                    .text(".");
            }
            ("en", 2) => {
                let i = self.iban();
                let t = self.tracking();
                b.text("Refund to IBAN ")
                    .pii(i)
                    .text(" please, ref ")
                    .like(t)
                    .text(".");
            }
            ("en", 3) => {
                let e = self.email();
                let v = self.version();
                b.text("Email me at ")
                    .pii(e)
                    .text(", the app version ")
                    .like(v)
                    .text(" keeps crashing.");
            }
            ("en", 4) => {
                let i = self.ip();
                let s = self.sku();
                let p = self.price("en");
                b.text("I logged in from ")
                    .pii(i)
                    .text(" and saw ")
                    .like(s)
                    .text(" at ")
                    .like(p)
                    .text(".");
            }
            ("en", 5) => {
                let s = self.ssn();
                b.text("My SSN ")
                    .pii(s)
                    .text(" was shown on the account page!");
            }
            ("en", 6) => {
                let n = self.name("en");
                let q = self.quantity("en");
                b.text("Hi, my name is ")
                    .pii(n)
                    .text(" and I ordered ")
                    .like(q)
                    .text(" last week.");
            }
            ("en", 7) => {
                let d = self.dob("en");
                let o = self.order();
                b.text("I was born on ")
                    .pii(d)
                    .text(" but the form says otherwise (order ")
                    .like(o)
                    .text(").");
            }
            ("en", 8) => {
                let a = self.address("en");
                let t = self.tracking();
                b.text("Ship to ")
                    .pii(a)
                    .text(" instead, tracking ")
                    .like(t)
                    .text(".");
            }
            ("fr", 0) => {
                let p = self.phone("fr");
                let o = self.order();
                b.text("Appelez-moi au ")
                    .pii(p)
                    .text(", commande ")
                    .like(o)
                    .text(".");
            }
            ("fr", 1) => {
                let n = self.name("fr");
                let a = self.address("fr");
                b.text("Bonjour, je m'appelle ")
                    .pii(n)
                    .text(", j'habite au ")
                    .pii(a)
                    .text(".");
            }
            ("fr", 2) => {
                let i = self.iban();
                let p = self.price("fr");
                b.text("Mon IBAN est ")
                    .pii(i)
                    .text(" pour le remboursement de ")
                    .like(p)
                    .text(".");
            }
            ("fr", 3) => {
                let n = self.nir();
                let t = self.tracking();
                b.text("Mon numéro de sécurité sociale ")
                    .pii(n)
                    .text(" apparaît sur la facture ")
                    .like(t)
                    .text(" !");
            }
            ("fr", 4) => {
                let d = self.dob("fr");
                b.text("Je suis née le ")
                    .pii(d)
                    .text(", merci de corriger mon profil.");
            }
            ("fr", 5) => {
                let e = self.email();
                let v = self.version();
                b.text("Écrivez-moi à ")
                    .pii(e)
                    .text(" : la version ")
                    .like(v)
                    .text(" plante.");
            }
            ("fr", 6) => {
                let c = self.card(false);
                let d = self.plain_date("fr");
                b.text("Ma carte ")
                    .pii(c)
                    .text(" a été débitée deux fois le ")
                    .like(d)
                    .text(".");
            }
            ("ja", 0) => {
                let n = self.name("ja");
                let p = self.phone("jp");
                b.pii(n)
                    .text("と申します。電話番号は")
                    .pii(p)
                    .text("です。");
            }
            ("ja", 1) => {
                let m = self.my_number();
                let o = self.order();
                b.text("マイナンバー")
                    .pii(m)
                    .text("を入力してしまいました。注文番号")
                    .like(o)
                    .text("です。");
            }
            ("ja", 2) => {
                let a = self.address("ja");
                let q = self.quantity("ja");
                b.pii(a).text("に").like(q).text("届けてください。");
            }
            ("ja", 3) => {
                let d = self.dob("ja");
                b.text("生年月日は").pii(d).text("です。");
            }
            ("ja", 4) => {
                let c = self.card(true);
                let p = self.price("ja");
                b.text("カード")
                    .pii(c)
                    .text("で支払いましたが、")
                    .like(p)
                    .text("が二重に請求されました。");
            }
            ("ja", 5) => {
                let e = self.email();
                let s = self.sku();
                b.text("メールは")
                    .pii(e)
                    .text("です。商品")
                    .like(s)
                    .text("について。");
            }
            ("ja", 6) => {
                let i = self.ip();
                let v = self.version();
                b.text("アプリ")
                    .like(v)
                    .text("で")
                    .pii(i)
                    .text("から接続できません。");
            }
            (lang, _) => {
                // Feedback with nothing personal in it: only look-alikes.
                let d = self.plain_date(lang);
                let p = self.price(lang);
                let o = self.order();
                match lang {
                    "fr" => {
                        b.text("Colis reçu le ")
                            .like(d)
                            .text(", payé ")
                            .like(p)
                            .text(", commande ")
                            .like(o)
                            .text(", parfait.");
                    }
                    "ja" => {
                        b.like(d)
                            .text("に届きました。")
                            .like(p)
                            .text("でした。注文")
                            .like(o)
                            .text("、ありがとう。");
                    }
                    _ => {
                        b.text("Delivered on ")
                            .like(d)
                            .text(" for ")
                            .like(p)
                            .text(", order ")
                            .like(o)
                            .text(", great service.");
                    }
                }
            }
        }
        b.record
    }

    pub fn corpus(&mut self, records: usize) -> Vec<Record> {
        (0..records).map(|_| self.record()).collect()
    }
}
