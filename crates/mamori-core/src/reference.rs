//! Short request references people can read out and type: `R-7F3K-92QD`, 40 random bits in
//! Crockford's base32 (no I, L, O or U; typed in lower case, or with I/L for 1 and O for 0, it
//! still reads). The store keeps them unique.

use std::sync::LazyLock;

use data_encoding::{Encoding, Specification};

static CROCKFORD: LazyLock<Encoding> = LazyLock::new(|| {
    let mut spec = Specification::new();
    spec.symbols.push_str("0123456789ABCDEFGHJKMNPQRSTVWXYZ");
    spec.translate.from.push_str("abcdefghjkmnpqrstvwxyzIiLlOo");
    spec.translate.to.push_str("ABCDEFGHJKMNPQRSTVWXYZ111100");
    spec.encoding().expect("a valid base32 alphabet")
});

const BITS: u32 = 40;

/// A fresh random reference (40 bits).
pub fn new_reference() -> i64 {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes[3..]).expect("the operating system's random source");
    i64::from_be_bytes(bytes)
}

/// `R-XXXX-XXXX`.
pub fn format_reference(reference: i64) -> String {
    let bytes = (reference & ((1 << BITS) - 1)).to_be_bytes();
    let text = CROCKFORD.encode(&bytes[3..]);
    format!("R-{}-{}", &text[..4], &text[4..])
}

/// A reference as a person may type it: with or without `R-` and dashes or spaces, any case.
pub fn parse_reference(text: &str) -> Option<i64> {
    let text = text.trim();
    let text = text
        .strip_prefix("R-")
        .or_else(|| text.strip_prefix("r-"))
        .unwrap_or(text);
    let compact: String = text.chars().filter(|c| *c != '-' && *c != ' ').collect();
    if compact.len() != 8 {
        return None;
    }
    let bytes = CROCKFORD.decode(compact.as_bytes()).ok()?;
    let mut full = [0u8; 8];
    full[3..].copy_from_slice(&bytes);
    Some(i64::from_be_bytes(full))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn references_are_short_readable_and_forgiving() {
        assert_eq!(format_reference(0), "R-0000-0000");
        assert_eq!(format_reference(1), "R-0000-0001");
        assert_eq!(format_reference((1 << 40) - 1), "R-ZZZZ-ZZZZ");
        let r = new_reference();
        assert!((0..1 << 40).contains(&r));
        let text = format_reference(r);
        assert_eq!(text.len(), 11);
        assert!(!text[2..].contains(['I', 'L', 'O', 'U']), "{text}");
        assert_eq!(parse_reference(&text), Some(r));
        assert_eq!(parse_reference(&text.to_lowercase()), Some(r));
        assert_eq!(parse_reference("r-0000 000l"), Some(1));
        assert_eq!(parse_reference("0000-000I"), Some(1));
        assert_eq!(parse_reference("R-0000-000O"), Some(0));
        for bad in [
            "",
            "R-",
            "R-0000-000",
            "R-0000-00000",
            "R-0000-000U",
            "R-ÀÀÀÀ-ÀÀÀÀ",
        ] {
            assert_eq!(parse_reference(bad), None, "{bad}");
        }
    }

    proptest! {
        #[test]
        fn every_reference_reads_back(r in 0i64..(1 << 40)) {
            prop_assert_eq!(parse_reference(&format_reference(r)), Some(r));
        }
    }
}
