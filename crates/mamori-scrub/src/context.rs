//! Personal data that only its context gives away: a date is a date of birth when the writer says
//! so, a capitalised word is a name after "my name is", a number and a street type are an
//! address. Each pattern is a regular expression (the `regex` crate: linear time, so no input can
//! make it slow) whose group `v` is the span to redact; the words around it stay.
//! The patterns form one multi-pattern automaton, so each text is read once; only a match runs
//! the capture engine, anchored to the pattern that matched and to the match's bytes.
//!
//! Word boundaries are ASCII ones (`(?-u:\b)`): Unicode boundaries would take the regex crate off
//! its fast automaton on any non-ASCII text, and every boundary here sits next to ASCII anyway.

use std::sync::LazyLock;

use regex_automata::meta::Regex;
use regex_automata::{Anchored, Input};

use crate::detect::{Kind, Span};

const EN_MONTHS: &str = "january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec";
const FR_MONTHS: &str = "janvier|février|fevrier|mars|avril|mai|juin|juillet|août|aout|septembre|octobre|novembre|décembre|decembre";

/// A calendar date in the forms people write: ISO, day/month/year either way round, with the
/// month's name in English or French, or in Japanese with an optional era.
fn date() -> String {
    let months = format!("(?i:{EN_MONTHS}|{FR_MONTHS})");
    [
        r"[0-9０-９]{4}[-/.][0-9０-９]{1,2}[-/.][0-9０-９]{1,2}".to_string(),
        r"[0-9０-９]{1,2}[-/.][0-9０-９]{1,2}[-/.](?:[0-9０-９]{4}|[0-9０-９]{2})".to_string(),
        format!(r"(?:[0-9０-９]{{1,2}}(?i:st|nd|rd|th|er)?[ \t　]+)?{months}\.?[ \t　]+(?:[0-9０-９]{{1,2}}(?i:st|nd|rd|th)?,?[ \t　]+)?[0-9０-９]{{4}}"),
        r"(?:明治|大正|昭和|平成|令和)?(?:[0-9０-９]{1,4}|元)[ \t　]?年[ \t　]?[0-9０-９]{1,2}[ \t　]?月[ \t　]?[0-9０-９]{1,2}[ \t　]?日".to_string(),
    ]
    .join("|")
}

fn date_of_birth_patterns() -> [String; 2] {
    let said = r"(?i:date of birth|birth ?date|birthday|(?-u:\b)d\.?o\.?b(?-u:\b)\.?|born(?: on)?|n[ée]e?(?:\(e\))? le|date de naissance|anniversaire|生年月日|誕生日)";
    let between = r"(?:[ \t　]*[:：は]?[ \t　]*(?i:is|was|est|on|le|the)?[ \t　]*)";
    [
        format!("{said}{between}(?P<v>{})", date()),
        // 1985年5月14日生まれ: the word comes after the date.
        format!("(?P<v>{})(?:生まれ|生)", date()),
    ]
}

/// A name as written: capitalised words (with hyphens and apostrophes), or a run of kanji and
/// katakana.
const LATIN_NAME: &str = r"\p{Lu}[\p{Ll}\p{Lu}'’-]*(?:[ \t]+\p{Lu}[\p{Ll}\p{Lu}'’-]*){0,2}";
/// A family name in kanji or katakana, then perhaps a given name, which may be in hiragana
/// (さくら): hiragana alone is too often a sentence's own words.
const JAPANESE_NAME: &str =
    r"[\p{Han}\p{Katakana}ー]{1,5}(?:[ 　]?[\p{Han}\p{Katakana}\p{Hiragana}ー]{1,5})?";

/// Capitalised words that follow "je suis" without being a name.
const NOT_NAMES: [&str; 12] = [
    "Français",
    "Française",
    "Japonais",
    "Japonaise",
    "Anglais",
    "Anglaise",
    "Parisien",
    "Parisienne",
    "Client",
    "Cliente",
    "Monsieur",
    "Madame",
];

fn name_patterns() -> [String; 4] {
    [
        format!(
            r"(?i:my name is|my name's|i am called|i'm called|je m['’]appelle|je suis|mon nom est|moi c['’]est)[ \t]+(?P<v>{LATIN_NAME})"
        ),
        format!(
            r"(?:私|わたし|わたくし|僕|ぼく)(?:の名前)?は[ 　]?(?P<v>{JAPANESE_NAME})[ 　]?(?:と申します|といいます|と言います|です)"
        ),
        format!(r"名前は[ 　]?(?P<v>{JAPANESE_NAME})[ 　]?です"),
        format!(
            r"(?:^|[[ \t　]、。，．！？!?「」『』（）()])(?P<v>{JAPANESE_NAME})[ 　]?(?:と申します|といいます|と言います)"
        ),
    ]
}

fn address_patterns() -> [String; 4] {
    let jp_place = r"[\p{Han}\p{Katakana}ー0-9０-９\-－−‐ー丁目番地号の]";
    let fr_street = r"(?i:rue|avenue|av\.|boulevard|bd|place|chemin|allée|allee|impasse|quai|route|cours|square|passage)";
    let fr_name = r"(?:(?:de la|de l['’]|du|des|de|d['’])[ \t]*)?\p{Lu}[\p{L}'’-]*(?:[ \t]+(?:(?:de|du|des|la|le|les|sur)[ \t]+)?\p{Lu}[\p{L}'’-]*){0,4}";
    let city = r"\p{Lu}[\p{L}'’-]*(?:[ \t-]\p{Lu}[\p{L}'’-]*){0,3}";
    let us_suffix = r"(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|Terrace|Parkway|Pkwy|Circle|Cir|Highway|Hwy)";
    [
        // 〒100-0001 東京都千代田区千代田1-1
        format!(r"(?P<v>〒[ 　]?[0-9０-９]{{3}}[\-－−ーｰ‐][0-9０-９]{{4}}(?:[ 　]*{jp_place}+)?)"),
        // 東京都千代田区千代田1-1, 大阪府大阪市北区梅田3丁目1番1号
        format!(
            r"(?P<v>(?:東京都|北海道|京都府|大阪府|\p{{Han}}{{2,3}}県)\p{{Han}}{{1,6}}[市区町村郡]{jp_place}*[0-9０-９]{jp_place}*)"
        ),
        // 12 rue de la Paix, 75002 Paris
        format!(
            r"(?-u:\b)(?P<v>[0-9０-９]{{1,4}}(?:[ \t]?(?i:bis|ter))?,?[ \t]+{fr_street}[ \t]+{fr_name}(?:,?[ \t]+[0-9０-９]{{5}}[ \t]+{city})?)"
        ),
        // 1600 Pennsylvania Ave NW, Washington, DC 20500
        format!(
            r"(?-u:\b)(?P<v>[0-9０-９]{{1,6}}[ \t]+(?:[NSEW]\.?[ \t]+)?(?:\p{{Lu}}[\p{{L}}'’.-]*[ \t]+){{1,4}}{us_suffix}\.?(?:[ \t]+(?:NW|NE|SW|SE|N|S|E|W))?(?:,?[ \t]+(?:Apt|Suite|Ste|Unit)\.?[ \t]*[0-9A-Za-z-]+)?(?:,[ \t]*{city},?[ \t]+[A-Z]{{2}}[ \t]+[0-9０-９]{{5}}(?:-[0-9０-９]{{4}})?)?)(?-u:\b)"
        ),
    ]
}

/// Every pattern in one multi-pattern regular expression that finds where matches are, and each
/// pattern on its own, whose small automaton extracts the group `v` from a match.
struct Patterns {
    all: Regex,
    each: Vec<(Kind, Regex)>,
}

static CONTEXT: LazyLock<Patterns> = LazyLock::new(|| {
    let families = [
        (Kind::DateOfBirth, date_of_birth_patterns().to_vec()),
        (Kind::PostalAddress, address_patterns().to_vec()),
        (Kind::PersonName, name_patterns().to_vec()),
    ];
    let (kinds, patterns): (Vec<Kind>, Vec<String>) = families
        .into_iter()
        .flat_map(|(kind, patterns)| patterns.into_iter().map(move |p| (kind, p)))
        .unzip();
    let all = Regex::builder()
        // Large Unicode classes make many automaton states; room for them keeps the lazy DFA
        // from clearing its cache (and falling back to a slower engine) on long texts.
        .configure(Regex::config().hybrid_cache_capacity(8 << 20))
        .build_many(&patterns)
        .expect("the context patterns compile");
    let each = kinds
        .into_iter()
        .zip(&patterns)
        .map(|(kind, p)| (kind, Regex::new(p).expect("each context pattern compiles")))
        .collect();
    Patterns { all, each }
});

/// Every date of birth, introduced name and postal address in `text`.
pub(crate) fn in_context(text: &str, out: &mut Vec<Span>) {
    let patterns = &*CONTEXT;
    for found in patterns.all.find_iter(text) {
        let (kind, single) = &patterns.each[found.pattern().as_usize()];
        let mut caps = single.create_captures();
        let input = Input::new(text).span(found.range()).anchored(Anchored::Yes);
        single.search_captures(&input, &mut caps);
        let Some(v) = caps.get_group_by_name("v") else {
            continue;
        };
        // "je suis Française" is not a name; a name's first word is what tells.
        let first = text[v.range()].split_whitespace().next().unwrap_or("");
        if *kind == Kind::PersonName && NOT_NAMES.contains(&first) {
            continue;
        }
        out.push(Span {
            kind: *kind,
            start: v.start,
            end: v.end,
        });
    }
}
