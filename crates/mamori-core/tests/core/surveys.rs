//! Surveys through core: anonymous answers counted, every group below k hidden, no event about
//! anyone.

use mamori_core::surveys::{RawAnswers, Survey};
use mamori_proto::ErrorCode;

use super::*;

const SURVEY: &str = include_str!("../../../../examples/survey.toml");
const SLUG: &str = "how-we-use-your-data";

fn answers(trust: u8, clear: &str) -> RawAnswers {
    RawAnswers::from([
        ("trust".to_string(), vec![trust.to_string()]),
        ("clear".to_string(), vec![clear.to_string()]),
    ])
}

pub(crate) async fn survey_results_hide_every_group_below_k(core: Core) {
    let survey = Survey::from_toml(&core.vault.policy, SURVEY).unwrap();
    core.vault
        .create_survey(&actor("privacy_officer"), survey)
        .await
        .unwrap();
    let before = core.vault.ledger_size();
    for (trust, clear) in [(5, "yes"), (5, "yes"), (5, "yes"), (5, "yes")] {
        core.vault
            .respond(SLUG, &answers(trust, clear), None)
            .await
            .unwrap();
    }
    assert_eq!(
        core.vault.ledger_size(),
        before,
        "an anonymous answer leaves no event"
    );
    let results = async || {
        core.vault
            .survey_results(&actor("analyst"), SLUG, None)
            .await
            .unwrap()
    };
    let four = results().await;
    assert_eq!((four.responses, four.suppressed), (None, true));
    for (trust, clear) in [(5, "yes"), (1, "no")] {
        core.vault
            .respond(SLUG, &answers(trust, clear), None)
            .await
            .unwrap();
    }
    let six = results().await;
    assert_eq!(six.responses, Some(6));
    let histogram = six.questions[0].histogram.as_ref().unwrap();
    assert_eq!(histogram[4].count, Some(5), "five fives: shown");
    assert!(histogram[0].suppressed, "one 1: hidden");
    let bad = core.vault.respond(SLUG, &answers(9, "yes"), None).await;
    assert_eq!(bad.unwrap_err().code(), ErrorCode::OutOfRange);
}
