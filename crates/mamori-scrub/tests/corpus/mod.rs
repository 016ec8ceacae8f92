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

mod identifiers;

use identifiers::{digits, full_width, luhn_complete};

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

    /// One record: a sentence from one of the templates of a random language (the same records
    /// for a seed: the random draws come in the same order whichever template is chosen).
    pub fn record(&mut self) -> Record {
        let lang = self.pick(&["en", "fr", "ja"]);
        let mut b = Builder::new(lang);
        let template = self.n(0..12);
        let personal = match lang {
            "en" => self.english(&mut b, template),
            "fr" => self.french(&mut b, template),
            _ => self.japanese(&mut b, template),
        };
        if !personal {
            self.look_alikes_only(&mut b, lang);
        }
        b.record
    }

    /// English templates 0–8, each with one personal value and look-alikes.
    fn english(&mut self, b: &mut Builder, template: u32) -> bool {
        match template {
            0 => {
                let country = ["us", "gb", "de"][self.n(0..3) as usize];
                let p = self.phone(country);
                let o = self.order();
                b.text("Please call me at ")
                    .pii(p)
                    .text(" about order ")
                    .like(o)
                    .text(".");
            }
            1 => {
                let c = self.card(false);
                let d = self.plain_date("en");
                b.text("My card ")
                    .pii(c)
                    .text(" was charged twice on ")
                    .like(d)
                    .text(".");
            }
            2 => {
                let i = self.iban();
                let t = self.tracking();
                b.text("Refund to IBAN ")
                    .pii(i)
                    .text(" please, ref ")
                    .like(t)
                    .text(".");
            }
            3 => {
                let e = self.email();
                let v = self.version();
                b.text("Email me at ")
                    .pii(e)
                    .text(", the app version ")
                    .like(v)
                    .text(" keeps crashing.");
            }
            4 => {
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
            5 => {
                let s = self.ssn();
                b.text("My SSN ")
                    .pii(s)
                    .text(" was shown on the account page!");
            }
            6 => {
                let n = self.name("en");
                let q = self.quantity("en");
                b.text("Hi, my name is ")
                    .pii(n)
                    .text(" and I ordered ")
                    .like(q)
                    .text(" last week.");
            }
            7 => {
                let d = self.dob("en");
                let o = self.order();
                b.text("I was born on ")
                    .pii(d)
                    .text(" but the form says otherwise (order ")
                    .like(o)
                    .text(").");
            }
            8 => {
                let a = self.address("en");
                let t = self.tracking();
                b.text("Ship to ")
                    .pii(a)
                    .text(" instead, tracking ")
                    .like(t)
                    .text(".");
            }
            _ => return false,
        }
        true
    }

    /// French templates 0–6.
    fn french(&mut self, b: &mut Builder, template: u32) -> bool {
        match template {
            0 => {
                let p = self.phone("fr");
                let o = self.order();
                b.text("Appelez-moi au ")
                    .pii(p)
                    .text(", commande ")
                    .like(o)
                    .text(".");
            }
            1 => {
                let n = self.name("fr");
                let a = self.address("fr");
                b.text("Bonjour, je m'appelle ")
                    .pii(n)
                    .text(", j'habite au ")
                    .pii(a)
                    .text(".");
            }
            2 => {
                let i = self.iban();
                let p = self.price("fr");
                b.text("Mon IBAN est ")
                    .pii(i)
                    .text(" pour le remboursement de ")
                    .like(p)
                    .text(".");
            }
            3 => {
                let n = self.nir();
                let t = self.tracking();
                b.text("Mon numéro de sécurité sociale ")
                    .pii(n)
                    .text(" apparaît sur la facture ")
                    .like(t)
                    .text(" !");
            }
            4 => {
                let d = self.dob("fr");
                b.text("Je suis née le ")
                    .pii(d)
                    .text(", merci de corriger mon profil.");
            }
            5 => {
                let e = self.email();
                let v = self.version();
                b.text("Écrivez-moi à ")
                    .pii(e)
                    .text(" : la version ")
                    .like(v)
                    .text(" plante.");
            }
            6 => {
                let c = self.card(false);
                let d = self.plain_date("fr");
                b.text("Ma carte ")
                    .pii(c)
                    .text(" a été débitée deux fois le ")
                    .like(d)
                    .text(".");
            }
            _ => return false,
        }
        true
    }

    /// Japanese templates 0–6.
    fn japanese(&mut self, b: &mut Builder, template: u32) -> bool {
        match template {
            0 => {
                let n = self.name("ja");
                let p = self.phone("jp");
                b.pii(n)
                    .text("と申します。電話番号は")
                    .pii(p)
                    .text("です。");
            }
            1 => {
                let m = self.my_number();
                let o = self.order();
                b.text("マイナンバー")
                    .pii(m)
                    .text("を入力してしまいました。注文番号")
                    .like(o)
                    .text("です。");
            }
            2 => {
                let a = self.address("ja");
                let q = self.quantity("ja");
                b.pii(a).text("に").like(q).text("届けてください。");
            }
            3 => {
                let d = self.dob("ja");
                b.text("生年月日は").pii(d).text("です。");
            }
            4 => {
                let c = self.card(true);
                let p = self.price("ja");
                b.text("カード")
                    .pii(c)
                    .text("で支払いましたが、")
                    .like(p)
                    .text("が二重に請求されました。");
            }
            5 => {
                let e = self.email();
                let s = self.sku();
                b.text("メールは")
                    .pii(e)
                    .text("です。商品")
                    .like(s)
                    .text("について。");
            }
            6 => {
                let i = self.ip();
                let v = self.version();
                b.text("アプリ")
                    .like(v)
                    .text("で")
                    .pii(i)
                    .text("から接続できません。");
            }
            _ => return false,
        }
        true
    }

    /// Feedback with nothing personal in it: only look-alikes.
    fn look_alikes_only(&mut self, b: &mut Builder, lang: &str) {
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

    pub fn corpus(&mut self, records: usize) -> Vec<Record> {
        (0..records).map(|_| self.record()).collect()
    }
}
