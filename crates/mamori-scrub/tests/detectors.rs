use mamori_scrub::{Kind, Redaction, Scrubber, Span, find};
use proptest::prelude::*;

fn kinds(text: &str) -> Vec<(Kind, &str)> {
    find(text)
        .into_iter()
        .map(|s| (s.kind, &text[s.start..s.end]))
        .collect()
}

#[test]
fn published_test_card_numbers_are_found() {
    // The card networks' published test numbers.
    for pan in [
        "4111111111111111",
        "4111 1111 1111 1111",
        "4111-1111-1111-1111",
        "5500005555555559",
        "2223003122003222",
        "378282246310005",
        "3782 822463 10005",
        "6011111111111117",
        "3530111333300000",
        "30569309025904",
        "6200000000000005",
    ] {
        let text = format!("my card is {pan}, thanks");
        assert_eq!(kinds(&text), [(Kind::PaymentCard, pan)], "{text}");
    }
}

#[test]
fn registry_example_ibans_are_found() {
    // Examples from the SWIFT IBAN registry.
    for iban in [
        "GB82 WEST 1234 5698 7654 32",
        "GB82WEST12345698765432",
        "DE89 3704 0044 0532 0130 00",
        "FR14 2004 1010 0505 0001 3M02 606",
        "NL91 ABNA 0417 1643 00",
        "BE68 5390 0754 7034",
        "NO93 8601 1117 947",
    ] {
        let text = format!("IBAN: {iban}.");
        assert_eq!(kinds(&text), [(Kind::Iban, iban)], "{text}");
    }
    // One digit changed fails the check; a country's wrong length too.
    assert!(find("GB82 WEST 1234 5698 7654 33").is_empty());
    assert!(find("DE89 3704 0044 0532 0130").is_empty());
}

#[test]
fn emails_and_ips_are_found_with_their_exact_extent() {
    assert_eq!(
        kinds("Write to ada.lovelace+shop@mail.example.co.uk."),
        [(Kind::Email, "ada.lovelace+shop@mail.example.co.uk")]
    );
    assert_eq!(
        kinds("メールはtaro@example.jpです"),
        [(Kind::Email, "taro@example.jp")]
    );
    assert_eq!(
        kinds("from 192.168.0.12 and 2001 at 10.0.0.1."),
        [
            (Kind::IpAddress, "192.168.0.12"),
            (Kind::IpAddress, "10.0.0.1")
        ]
    );
}

#[test]
fn full_width_digits_count_as_digits() {
    let text = "カード番号は４１１１　１１１１　１１１１　１１１１です";
    let found = kinds(text);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, Kind::PaymentCard);
    assert!(found[0].1.starts_with('４') && found[0].1.ends_with('１'));
}

#[test]
fn look_alikes_survive() {
    for text in [
        "Order #12345678 shipped on 2025-11-24",
        "Total: €1,299.00 (was 1 499,00 €)",
        "Running v2.3.1 on build 4111111111111112",
        "SKU-4111111111111111 is out of stock",
        "ticket 4111111111111111X",
        "1.2.3 and 300.1.1.1 and 01.2.3.4",
        "a@b, user@localhost, foo@bar.c0m, @handle",
        "FR76 is the code, GB99 too",
        "tracking 1Z999AA10123456784",
        "phone count 0123 4567",
    ] {
        assert_eq!(find(text), Vec::<Span>::new(), "{text}");
    }
}

#[test]
fn each_redaction_mode() {
    let text = "card 4111 1111 1111 1111 from ada@example.com";
    assert_eq!(Scrubber::new().scrub(text), "card [CARD] from [EMAIL]");
    let masked = Scrubber::new().with(Kind::PaymentCard, Redaction::MaskLast4);
    assert_eq!(masked.scrub(text), "card **** **** **** 1111 from [EMAIL]");
    let dropped = Scrubber::new().with(Kind::Email, Redaction::Drop);
    assert_eq!(dropped.scrub(text), "card [CARD] from ");
    let key = Redaction::KeyedHash {
        key: b"k1".to_vec(),
    };
    let hashed = Scrubber::new().with(Kind::Email, key.clone());
    let a = hashed.scrub("ada@example.com");
    assert!(
        a.starts_with("[EMAIL:") && a.len() == "[EMAIL:]".len() + 16,
        "{a}"
    );
    assert_eq!(a, hashed.scrub("ADA@example.com"), "one address, one tag");
    assert_ne!(a, hashed.scrub("bob@example.com"));
    let other_key = Scrubber::new().with(
        Kind::Email,
        Redaction::KeyedHash {
            key: b"k2".to_vec(),
        },
    );
    assert_ne!(a, other_key.scrub("ada@example.com"));
}

/// A card number from `prefix` of `len` digits whose last digit makes the Luhn check pass.
fn card_number(prefix: &str, len: usize, body: &[u8]) -> String {
    let mut digits: Vec<u8> = prefix.bytes().map(|b| b - b'0').collect();
    digits.extend(body.iter().take(len - 1 - digits.len()).map(|d| d % 10));
    for check in 0..10 {
        let mut candidate = digits.clone();
        candidate.push(check);
        let sum: u32 = candidate
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
            return candidate.iter().map(|d| char::from(b'0' + d)).collect();
        }
    }
    unreachable!()
}

fn grouped(number: &str, sep: &str) -> String {
    number
        .as_bytes()
        .chunks(4)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join(sep)
}

proptest! {
    #[test]
    fn valid_cards_are_found_however_written(
        issuer in prop::sample::select(vec![("4", 16), ("51", 16), ("55", 16), ("2221", 16), ("34", 15), ("37", 15), ("6011", 16), ("65", 16), ("3528", 16)]),
        body in prop::collection::vec(0u8..10, 20),
        sep in prop::sample::select(vec!["", " ", "-"]),
        before in "[a-z ]{0,12}",
        after in "[a-z ]{0,12}",
    ) {
        let number = card_number(issuer.0, issuer.1, &body);
        let written = grouped(&number, sep);
        let text = format!("{before} {written} {after}");
        let found = kinds(&text);
        prop_assert_eq!(found, vec![(Kind::PaymentCard, written.as_str())]);
        let scrubbed = Scrubber::new().scrub(&text);
        prop_assert!(!scrubbed.contains(&written), "{}", scrubbed);
    }

    #[test]
    fn numbers_failing_luhn_are_left_alone(body in prop::collection::vec(0u8..10, 20), bump in 1u8..10) {
        let valid = card_number("4", 16, &body);
        let mut digits = valid.into_bytes();
        let last = digits.len() - 1;
        digits[last] = b'0' + (digits[last] - b'0' + bump) % 10;
        let text = format!("ref {}", String::from_utf8(digits).unwrap());
        prop_assert!(find(&text).is_empty(), "{}", text);
    }

    #[test]
    fn addresses_are_found(local in "[a-z][a-z0-9._+-]{0,15}[a-z0-9]", domain in "[a-z][a-z0-9-]{0,10}[a-z0-9]", tld in "[a-z]{2,6}") {
        let address = format!("{local}@{domain}.{tld}");
        let text = format!("contact: {address}, please");
        prop_assert_eq!(kinds(&text), vec![(Kind::Email, address.as_str())]);
    }

    #[test]
    fn any_text_scrubs_without_panicking(text in "\\PC{0,200}") {
        let (out, spans) = Scrubber::new().scrub_spans(&text);
        for s in &spans {
            prop_assert!(s.start < s.end && s.end <= text.len());
        }
        if spans.is_empty() {
            prop_assert_eq!(out, text);
        }
    }
}
