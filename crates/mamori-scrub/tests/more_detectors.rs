//! Phones, national identity numbers, IPv6 and the detectors that read context.

use mamori_scrub::{Kind, Span, find};

fn kinds(text: &str) -> Vec<(Kind, &str)> {
    find(text)
        .into_iter()
        .map(|s| (s.kind, &text[s.start..s.end]))
        .collect()
}

fn assert_found(kind: Kind, cases: &[(&str, &str)]) {
    for (text, value) in cases {
        assert_eq!(kinds(text), [(kind, *value)], "{text}");
    }
}

#[test]
fn phone_numbers_in_international_and_national_formats() {
    assert_found(
        Kind::Phone,
        &[
            // Japan: landline, mobile, free dial, full-width digits, katakana dash.
            ("電話は03-1234-5678です", "03-1234-5678"),
            ("携帯 090-1234-5678 まで", "090-1234-5678"),
            ("フリーダイヤル0120-123-456へ", "0120-123-456"),
            (
                "０９０－１２３４－５６７８に電話ください",
                "０９０－１２３４－５６７８",
            ),
            ("090ー1234ー5678までお願いします", "090ー1234ー5678"),
            ("call +81 3-1234-5678 today", "+81 3-1234-5678"),
            ("+81 90 1234 5678", "+81 90 1234 5678"),
            // France
            ("Appelez-moi au 06 12 34 56 78 svp", "06 12 34 56 78"),
            ("tél. 01.42.68.53.00", "01.42.68.53.00"),
            ("mon numéro : +33 6 12 34 56 78.", "+33 6 12 34 56 78"),
            ("depuis l'étranger 0033 1 42 68 53 00", "0033 1 42 68 53 00"),
            ("0612345678", "0612345678"),
            // United Kingdom
            ("ring 020 7946 0958 after 5", "020 7946 0958"),
            ("mobile 07911 123456", "07911 123456"),
            ("+44 (0)20 7946 0958", "+44 (0)20 7946 0958"),
            ("+44 7911 123456", "+44 7911 123456"),
            // Germany
            ("Tel. 030 12345678", "030 12345678"),
            ("089/1234567", "089/1234567"),
            ("+49 151 23456789", "+49 151 23456789"),
            // United States
            ("call (212) 736-5000 please", "(212) 736-5000"),
            ("212-736-5000", "212-736-5000"),
            ("+1 212 736 5000", "+1 212 736 5000"),
            ("1-212-736-5000", "1-212-736-5000"),
            ("phone: 2127365000", "2127365000"),
        ],
    );
}

#[test]
fn numbers_that_are_not_phones_survive() {
    for text in [
        "Order 2127365000 shipped",  // ten digits with no phone format or word
        "order #0612345678",         // an order number, glued to '#'
        "REF-0612345678",            // glued to a reference
        "on 2025-11-24 at 10:30",    // a date and a time
        "15.01.2024 and 01/02/2024", // dates
        "3 items for 1 299 yen",     // counts and prices
        "0000 0000 00",              // not in any country's ranges
        "version 10.2.3.4567",       // a version
        "+1 000 000 0000",           // not a valid North American number
    ] {
        assert_eq!(
            kinds(text)
                .into_iter()
                .filter(|(k, _)| *k == Kind::Phone)
                .collect::<Vec<_>>(),
            [],
            "{text}"
        );
    }
}

#[test]
fn a_phone_followed_by_another_figure_is_cut_at_the_number() {
    assert_eq!(
        kinds("call 03-1234-5678 2 times"),
        [(Kind::Phone, "03-1234-5678")]
    );
}

#[test]
fn us_social_security_numbers_with_the_ssa_rules() {
    assert_found(
        Kind::UsSsn,
        &[
            ("my SSN is 536-90-4399.", "536-90-4399"),
            ("ssn 536 90 4399", "536 90 4399"),
            ("Social Security number: 536904399", "536904399"),
        ],
    );
    for never_issued in [
        "000-12-3456",
        "666-12-3456",
        "912-12-3456",
        "536-00-4399",
        "536-90-0000",
        "078-05-1120",
        "219-09-9999",
        "123-45-6789",
        "536-90 4399",
    ] {
        assert!(
            !find(never_issued).iter().any(|s| s.kind == Kind::UsSsn),
            "{never_issued}"
        );
    }
    // Nine digits in one piece need the word.
    assert!(find("ticket 536904399").is_empty());
}

#[test]
fn my_numbers_with_their_check_digit() {
    assert_found(
        Kind::JpMyNumber,
        &[
            ("マイナンバーは1234 5678 9018です", "1234 5678 9018"),
            ("個人番号：123456789018", "123456789018"),
            ("番号 1234-5678-9018", "1234-5678-9018"),
            (
                "１２３４　５６７８　９０１８",
                "１２３４　５６７８　９０１８",
            ),
        ],
    );
    // One digit off fails the check; twelve bare digits need the word.
    assert!(find("マイナンバーは1234 5678 9017です").is_empty());
    assert!(find("注文番号 123456789018").is_empty());
}

#[test]
fn french_nir_with_its_key() {
    assert_found(
        Kind::FrNir,
        &[
            (
                "mon numéro de sécu : 2 69 05 49 588 157 80",
                "2 69 05 49 588 157 80",
            ),
            ("NIR 269054958815780.", "269054958815780"),
            ("1 85 05 78 006 084 91", "1 85 05 78 006 084 91"),
            // Corsica: 2A counts as 19 for the key.
            ("2 85 05 2A 123 456 80", "2 85 05 2A 123 456 80"),
        ],
    );
    for wrong in [
        "2 69 05 49 588 157 81", // key off by one
        "2 69 13 49 588 157 80", // month 13
        "5 69 05 49 588 157 80", // sex 5
    ] {
        assert!(
            !find(wrong).iter().any(|s| s.kind == Kind::FrNir),
            "{wrong}"
        );
    }
}

#[test]
fn ipv6_addresses() {
    assert_found(
        Kind::IpAddress,
        &[
            (
                "from 2001:db8::8a2e:370:7334 today",
                "2001:db8::8a2e:370:7334",
            ),
            ("link fe80::1ff:fe23:4567:890a.", "fe80::1ff:fe23:4567:890a"),
            (
                "2001:0db8:85a3:0000:0000:8a2e:0370:7334",
                "2001:0db8:85a3:0000:0000:8a2e:0370:7334",
            ),
            ("mapped ::ffff:192.0.2.128 here", "::ffff:192.0.2.128"),
        ],
    );
    for text in [
        "at 12:30:45",
        "MAC 00:1A:2B:3C:4D:5E",
        "use std::vec::Vec",
        "ratio 3:2",
    ] {
        assert_eq!(find(text), Vec::<Span>::new(), "{text}");
    }
}

#[test]
fn dates_of_birth_only_in_context() {
    assert_found(
        Kind::DateOfBirth,
        &[
            ("I was born on 14 May 1985 in Leeds", "14 May 1985"),
            ("Date of birth: 1985-05-14", "1985-05-14"),
            ("DOB 05/14/1985", "05/14/1985"),
            ("my birthday is May 14, 1985", "May 14, 1985"),
            ("je suis née le 14 mai 1985", "14 mai 1985"),
            ("date de naissance : 14/05/1985", "14/05/1985"),
            ("生年月日は1985年5月14日です", "1985年5月14日"),
            ("昭和60年5月14日生まれです", "昭和60年5月14日"),
            ("誕生日：１９８５年５月１４日", "１９８５年５月１４日"),
        ],
    );
    for text in [
        "Delivered on 14 May 2025",
        "commande du 14/05/2025",
        "2025年5月14日に届きました",
    ] {
        assert_eq!(find(text), Vec::<Span>::new(), "{text}");
    }
}

#[test]
fn names_where_writers_introduce_themselves() {
    assert_found(
        Kind::PersonName,
        &[
            ("Hello, my name is Ada Lovelace and I", "Ada Lovelace"),
            ("My name is Ada.", "Ada"),
            (
                "Bonjour, je m'appelle Marie-Claire Dupont.",
                "Marie-Claire Dupont",
            ),
            ("Je suis Jean Martin, client depuis 2010", "Jean Martin"),
            ("田中太郎と申します。", "田中太郎"),
            ("私は山田花子です。", "山田花子"),
            ("はじめまして、佐藤と申します", "佐藤"),
            ("名前はスミスです", "スミス"),
        ],
    );
    for text in [
        "je suis très content du service",
        "Je suis Française et",
        "I am happy with the delivery",
        "ありがとうございます。また利用します",
        "my name is on the order",
    ] {
        assert_eq!(find(text), Vec::<Span>::new(), "{text}");
    }
}

#[test]
fn postal_addresses_in_context() {
    assert_found(
        Kind::PostalAddress,
        &[
            (
                "〒100-0001 東京都千代田区千代田1-1に届けて",
                "〒100-0001 東京都千代田区千代田1-1",
            ),
            (
                "住所は大阪府大阪市北区梅田3丁目1番1号です",
                "大阪府大阪市北区梅田3丁目1番1号",
            ),
            (
                "J'habite au 12 rue de la Paix, 75002 Paris depuis",
                "12 rue de la Paix, 75002 Paris",
            ),
            (
                "livrez au 5 bis avenue Victor Hugo",
                "5 bis avenue Victor Hugo",
            ),
            (
                "ship to 1600 Pennsylvania Ave NW, Washington, DC 20500 asap",
                "1600 Pennsylvania Ave NW, Washington, DC 20500",
            ),
            ("I live at 221 Baker Street now", "221 Baker Street"),
        ],
    );
    for text in [
        "3 items in the street market",
        "Page 12 of the manual",
        "東京で買いました",
        "12 articles commandés",
    ] {
        assert_eq!(find(text), Vec::<Span>::new(), "{text}");
    }
}

/// The My Number check digit, computed here independently of the crate (the rule of 省令 §5).
fn my_number_check(eleven: &[u8]) -> u8 {
    let sum: u32 = (1..=11u32)
        .map(|n| {
            let p = u32::from(eleven[11 - n as usize]);
            p * if n <= 6 { n + 1 } else { n - 5 }
        })
        .sum();
    match sum % 11 {
        0 | 1 => 0,
        r => (11 - r) as u8,
    }
}

fn digits(ds: &[u8]) -> String {
    ds.iter().map(|d| char::from(b'0' + d)).collect()
}

proptest::proptest! {
    #[test]
    fn valid_my_numbers_are_found_and_one_digit_off_is_not(
        body in proptest::collection::vec(0u8..10, 11),
        sep in proptest::sample::select(vec![" ", "-"]),
        bump in 1u8..10,
    ) {
        let mut number = body.clone();
        number.push(my_number_check(&body));
        let written = |n: &[u8]| {
            let s = digits(n);
            format!("{}{sep}{}{sep}{}", &s[..4], &s[4..8], &s[8..])
        };
        let good = written(&number);
        let text = format!("マイナンバーは{good}です");
        proptest::prop_assert_eq!(kinds(&text), vec![(Kind::JpMyNumber, good.as_str())]);
        number[11] = (number[11] + bump) % 10;
        let bad = format!("マイナンバーは{}です", written(&number));
        proptest::prop_assert!(!find(&bad).iter().any(|s| s.kind == Kind::JpMyNumber), "{}", bad);
    }

    #[test]
    fn valid_nirs_are_found_and_a_wrong_key_is_not(
        sex in proptest::sample::select(vec![1u64, 2]),
        year in 0u64..100,
        month in 1u64..13,
        department in 1u64..96,
        commune in 1u64..1000,
        order in 1u64..1000,
        spaced in proptest::bool::ANY,
    ) {
        let body = format!("{sex}{year:02}{month:02}{department:02}{commune:03}{order:03}");
        let key = 97 - body.parse::<u64>().unwrap() % 97;
        let written = |key: u64| if spaced {
            format!("{} {} {} {} {} {} {key:02}", &body[..1], &body[1..3], &body[3..5], &body[5..7], &body[7..10], &body[10..13])
        } else {
            format!("{body}{key:02}")
        };
        let good = written(key);
        let text = format!("numéro de sécurité sociale : {good}.");
        proptest::prop_assert_eq!(kinds(&text), vec![(Kind::FrNir, good.as_str())]);
        let bad = format!("numéro : {}.", written((key % 97) + 1));
        proptest::prop_assert!(!find(&bad).iter().any(|s| s.kind == Kind::FrNir), "{}", bad);
    }

    #[test]
    fn issued_ssns_are_found(area in 1u32..900, group in 1u32..100, serial in 1u32..10000) {
        proptest::prop_assume!(area != 666 && !(area == 78 && group == 5 && serial == 1120)
            && !(area == 219 && group == 9 && serial == 9999) && !(area == 123 && group == 45 && serial == 6789));
        let ssn = format!("{area:03}-{group:02}-{serial:04}");
        proptest::prop_assume!(!ssn.bytes().filter(u8::is_ascii_digit).all(|b| b == ssn.as_bytes()[0]));
        let text = format!("SSN {ssn} on file");
        proptest::prop_assert_eq!(kinds(&text), vec![(Kind::UsSsn, ssn.as_str())]);
    }

    #[test]
    fn mobile_numbers_of_france_and_japan_are_found(
        rest in proptest::collection::vec(0u8..10, 8),
        first in 1u8..10,
        french in proptest::bool::ANY,
    ) {
        let number = if french {
            let d = digits(&rest);
            format!("06 {} {} {} {}", &d[..2], &d[2..4], &d[4..6], &d[6..])
        } else {
            let d = digits(&rest[1..]);
            format!("090-{first}{}-{}", &d[..3], &d[3..])
        };
        let text = format!("contact {number} merci");
        proptest::prop_assert_eq!(kinds(&text), vec![(Kind::Phone, number.as_str())]);
    }
}
