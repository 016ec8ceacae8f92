//! The stored form of a subject's fields: a list of (category, field, sealed value). Each value is
//! sealed on its own with associated data naming subject, category and field, so the map can be
//! stored as one blob without letting a value move between fields unnoticed.

use mamori_store::StoreError;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SealedFields(pub Vec<(String, String, Vec<u8>)>);

impl SealedFields {
    pub fn encode(&self) -> Vec<u8> {
        let size: usize = self
            .0
            .iter()
            .map(|(c, f, v)| 8 + c.len() + f.len() + v.len())
            .sum();
        let mut out = Vec::with_capacity(1 + size);
        out.push(1u8);
        for (category, field, sealed) in &self.0 {
            out.push(category.len() as u8);
            out.extend_from_slice(category.as_bytes());
            out.push(field.len() as u8);
            out.extend_from_slice(field.as_bytes());
            out.extend_from_slice(&(sealed.len() as u32).to_be_bytes());
            out.extend_from_slice(sealed);
        }
        out
    }

    pub fn decode(bytes: &[u8]) -> Result<SealedFields, StoreError> {
        const BAD: StoreError = StoreError::Corrupt("sealed field map");
        let (&version, mut rest) = bytes.split_first().ok_or(BAD)?;
        if version != 1 {
            return Err(BAD);
        }
        let mut out = Vec::new();
        let take = |n: usize, rest: &mut &[u8]| -> Result<Vec<u8>, StoreError> {
            if rest.len() < n {
                return Err(StoreError::Corrupt("sealed field map"));
            }
            let (head, tail) = rest.split_at(n);
            *rest = tail;
            Ok(head.to_vec())
        };
        while !rest.is_empty() {
            let n = take(1, &mut rest)?[0] as usize;
            let category = String::from_utf8(take(n, &mut rest)?).map_err(|_| BAD)?;
            let n = take(1, &mut rest)?[0] as usize;
            let field = String::from_utf8(take(n, &mut rest)?).map_err(|_| BAD)?;
            let len = u32::from_be_bytes(take(4, &mut rest)?.try_into().map_err(|_| BAD)?) as usize;
            out.push((category, field, take(len, &mut rest)?));
        }
        Ok(SealedFields(out))
    }

    pub fn set(&mut self, category: &str, field: &str, sealed: Option<Vec<u8>>) {
        self.0.retain(|(c, f, _)| !(c == category && f == field));
        if let Some(sealed) = sealed {
            self.0
                .push((category.to_string(), field.to_string(), sealed));
            self.0.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_truncation_is_caught() {
        let mut m = SealedFields::default();
        m.set("contact", "email", Some(vec![1, 2, 3]));
        m.set("address", "city", Some(vec![4; 40]));
        m.set("contact", "email", Some(vec![9]));
        let bytes = m.encode();
        assert_eq!(SealedFields::decode(&bytes).unwrap(), m);
        for cut in 1..bytes.len() {
            let _ = SealedFields::decode(&bytes[..cut]); // never panics
        }
        assert!(SealedFields::decode(&bytes[..bytes.len() - 1]).is_err());
        assert!(SealedFields::decode(&[]).is_err());
    }
}
