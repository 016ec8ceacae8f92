//! Field values: parsing input by the policy's declared type into a canonical stored form.
//! Error messages describe what was expected and never repeat the value (it may be personal data).

use serde_json::Value;
use unicode_normalization::UnicodeNormalization;

use crate::model::FieldType;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{expected}")]
pub struct ValueError {
    pub expected: &'static str,
}

fn err(expected: &'static str) -> ValueError {
    ValueError { expected }
}

/// Text is stored NFC-normalised, without control characters (newlines only in addresses).
fn clean_text(value: &Value, allow_newlines: bool, max_chars: usize) -> Result<String, ValueError> {
    let Value::String(s) = value else {
        return Err(err("expected a string"));
    };
    let s: String = s.trim().nfc().collect();
    if s.is_empty() {
        return Err(err("expected a non-empty string"));
    }
    if s.chars()
        .any(|ch| ch.is_control() && !(allow_newlines && ch == '\n'))
    {
        return Err(err("control characters are not allowed"));
    }
    if s.chars().count() > max_chars {
        return Err(err("the value is too long for this field"));
    }
    Ok(s)
}

/// An e-mail address, lower-cased: addresses are compared case-insensitively everywhere.
pub fn normalise_email(raw: &str) -> Result<String, ValueError> {
    let s: String = raw.trim().nfc().collect::<String>().to_lowercase();
    if s.len() > 254 || !email_address::EmailAddress::is_valid(&s) || !s.contains('.') {
        return Err(err("expected an e-mail address such as name@example.com"));
    }
    // Mixed scripts in one address are a classic look-alike trick (Cyrillic `а` for Latin `a`).
    let (local, domain) = s
        .rsplit_once('@')
        .ok_or(err("expected an e-mail address such as name@example.com"))?;
    if !domain.is_ascii() || (!local.is_ascii() && local.chars().any(|c| c.is_ascii_alphabetic())) {
        return Err(err(
            "the e-mail address mixes scripts; write the domain in ASCII (punycode)",
        ));
    }
    Ok(s)
}

/// A phone number in E.164 form: `+` then 8 to 15 digits; spaces, dots, dashes and brackets are dropped.
pub fn normalise_phone(raw: &str) -> Result<String, ValueError> {
    let raw = raw.trim();
    let mut out = String::with_capacity(16);
    for (i, ch) in raw.chars().enumerate() {
        match ch {
            '+' if i == 0 => out.push('+'),
            '0'..='9' => out.push(ch),
            ' ' | '-' | '.' | '(' | ')' => {}
            _ => {
                return Err(err(
                    "expected a phone number in international form, such as +44 20 7946 0000",
                ));
            }
        }
    }
    let digits = out.trim_start_matches('+').len();
    if !out.starts_with('+') || !(8..=15).contains(&digits) || out[1..].starts_with('0') {
        return Err(err(
            "expected a phone number in international form, such as +44 20 7946 0000",
        ));
    }
    Ok(out)
}

/// The external customer id as given, trimmed; it identifies the person in the business's own systems.
pub fn normalise_external_id(raw: &str) -> Result<String, ValueError> {
    let s: String = raw.trim().nfc().collect();
    if s.is_empty() || s.len() > 200 || s.chars().any(char::is_control) {
        return Err(err(
            "expected an external id of 1 to 200 printable characters",
        ));
    }
    Ok(s)
}

const COUNTRIES: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

/// Parses one input value by its declared type into the canonical string that gets sealed.
pub fn parse_value(kind: &FieldType, value: &Value) -> Result<String, ValueError> {
    match kind {
        FieldType::Text { max_length } => clean_text(value, false, *max_length),
        FieldType::Address => clean_text(value, true, 1000),
        FieldType::Email => normalise_email(value.as_str().ok_or(err("expected a string"))?),
        FieldType::Phone => normalise_phone(value.as_str().ok_or(err("expected a string"))?),
        FieldType::Date => {
            let s = value.as_str().ok_or(err("expected a date as a string"))?;
            let format = time::macros::format_description!("[year]-[month]-[day]");
            time::Date::parse(s, format).map_err(|_| err("expected a date as YYYY-MM-DD"))?;
            Ok(s.to_string())
        }
        FieldType::Country => {
            let s = value
                .as_str()
                .ok_or(err("expected a string"))?
                .trim()
                .to_ascii_uppercase();
            if s.len() == 2 && COUNTRIES.split(' ').any(|c| c == s) {
                Ok(s)
            } else {
                Err(err(
                    "expected an ISO 3166-1 alpha-2 country code such as JP or FR",
                ))
            }
        }
        FieldType::Number => match value {
            Value::Number(n) if n.as_f64().is_some_and(f64::is_finite) => Ok(n.to_string()),
            _ => Err(err("expected a number")),
        },
        FieldType::Bool => match value {
            Value::Bool(b) => Ok(b.to_string()),
            _ => Err(err("expected true or false")),
        },
        FieldType::Enum(values) => {
            let s = value.as_str().ok_or(err("expected a string"))?;
            if values.iter().any(|v| v == s) {
                Ok(s.to_string())
            } else {
                Err(err("expected one of the values the policy lists"))
            }
        }
    }
}

/// Turns a stored canonical string back into JSON of the declared type.
pub fn to_json(kind: &FieldType, stored: &str) -> Value {
    match kind {
        FieldType::Number => serde_json::from_str::<serde_json::Number>(stored)
            .map(Value::Number)
            .unwrap_or_else(|_| Value::String(stored.to_string())),
        FieldType::Bool => Value::Bool(stored == "true"),
        _ => Value::String(stored.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn emails_are_lower_cased_and_checked() {
        assert_eq!(
            normalise_email(" Ada@Example.COM ").unwrap(),
            "ada@example.com"
        );
        assert!(normalise_email("not-an-email").is_err());
        assert!(normalise_email("a@b").is_err());
        // Cyrillic 'а' (U+0430) mixed with Latin letters.
        assert!(normalise_email("p\u{0430}ypal@example.com").is_err());
        assert!(normalise_email("x@ex\u{0430}mple.com").is_err());
    }

    #[test]
    fn phones_become_e164() {
        assert_eq!(
            normalise_phone("+44 (20) 7946-0000").unwrap(),
            "+442079460000"
        );
        assert!(normalise_phone("07946 0000").is_err());
        assert!(normalise_phone("+12").is_err());
        assert!(normalise_phone("+44 20 7946 0000; DROP TABLE").is_err());
    }

    #[test]
    fn typed_values() {
        assert_eq!(
            parse_value(&FieldType::Country, &json!("jp")).unwrap(),
            "JP"
        );
        assert!(parse_value(&FieldType::Country, &json!("XX")).is_err());
        assert!(parse_value(&FieldType::Date, &json!("2024-02-30")).is_err());
        assert_eq!(
            parse_value(&FieldType::Date, &json!("2024-02-29")).unwrap(),
            "2024-02-29"
        );
        assert_eq!(
            parse_value(&FieldType::Number, &json!(12.5)).unwrap(),
            "12.5"
        );
        assert!(parse_value(&FieldType::Number, &json!("12")).is_err());
        assert!(parse_value(&FieldType::Bool, &json!(1)).is_err());
        assert!(parse_value(&FieldType::Text { max_length: 3 }, &json!("abcd")).is_err());
        assert!(parse_value(&FieldType::Text { max_length: 30 }, &json!("a\u{0007}b")).is_err());
        let sqlish = "Robert'); DROP TABLE subjects;--";
        assert_eq!(
            parse_value(&FieldType::Text { max_length: 100 }, &json!(sqlish)).unwrap(),
            sqlish
        );
    }

    #[test]
    fn errors_never_repeat_the_value() {
        let e = normalise_email("secret-canary-value").unwrap_err();
        assert!(!e.to_string().contains("canary"));
    }
}
