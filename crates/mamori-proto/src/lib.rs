//! The typed boundary: what the API takes and answers. The server serialises these, the CLI
//! and the tests read them, and the OpenAPI document is generated from them, so a field
//! renamed here is renamed everywhere at once. Nothing here knows about storage or HTTP
//! frameworks; a status code is a plain number.

mod codes;
pub mod consent;
pub mod disclosures;
pub mod drp;
pub mod errors;
pub mod health;
pub mod holds;
pub mod incident_notices;
pub mod incidents;
pub mod ledger;
pub mod outbox;
pub mod records;
pub mod reports;
pub mod requests;
pub mod scrub;
pub mod subjects;
pub mod surveys;
pub mod webhooks;

pub use errors::{ErrorCode, Problem};
pub use requests::{
    DenialReason, ExtensionReason, Request, RequestKind, RequestPage, RequestSource, RequestState,
    VerifiedBy, WaitReason,
};

#[cfg(test)]
mod tests {
    use crate::consent::ConsentReason;
    use crate::health::{CheckName, ReadinessStatus};
    use crate::holds::HoldReason;
    use crate::outbox::EventType;
    use crate::requests::{DenialReason, ExtensionReason};
    use crate::surveys::{Access, Mode, QuestionKind, ResultsMode};
    use crate::{ErrorCode, RequestKind, RequestSource, RequestState};

    /// Every value of a wire enum serialises as its own text, parses back, and is unique.
    macro_rules! round_trips {
        ($($enum:ty),*) => {$(
            let mut seen = std::collections::BTreeSet::new();
            for &value in <$enum>::ALL {
                let json = serde_json::to_value(value).unwrap();
                assert_eq!(json, value.as_str(), "{}", stringify!($enum));
                assert_eq!(serde_json::from_value::<$enum>(json).unwrap(), value);
                assert_eq!(<$enum>::parse(value.as_str()), Some(value));
                assert!(seen.insert(value.as_str()), "{} repeats {value}", stringify!($enum));
            }
            assert_eq!(<$enum>::parse("not-a-value"), None);
        )*};
    }

    #[test]
    fn every_wire_enum_travels_as_its_own_text() {
        round_trips!(
            ErrorCode,
            RequestKind,
            RequestState,
            RequestSource,
            DenialReason,
            ExtensionReason,
            HoldReason,
            Mode,
            Access,
            ResultsMode,
            QuestionKind,
            ConsentReason,
            CheckName,
            ReadinessStatus,
            EventType,
            crate::incident_notices::NoticeState,
            crate::incidents::EntryKind
        );
    }

    #[test]
    fn only_open_and_in_progress_requests_are_not_closed() {
        let open: Vec<_> = (RequestState::ALL.iter())
            .filter(|s| !s.is_closed())
            .collect();
        assert_eq!(open, [&RequestState::Open, &RequestState::InProgress]);
    }
}
