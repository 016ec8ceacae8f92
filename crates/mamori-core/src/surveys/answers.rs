//! Checking a response against its survey: every answer in range, required ones given, free
//! text scrubbed of personal data.

use super::*;
use mamori_proto::ErrorCode;

pub(super) fn bad_answer(
    code: mamori_proto::ErrorCode,
    question: &str,
    message: impl Into<String>,
) -> CoreError {
    CoreError::invalid(code, format!("answers.{question}"), message)
}

/// Checks answers against the survey and turns them into the stored JSON; free text is scrubbed.
pub fn parse_answers(survey: &Survey, raw: &RawAnswers) -> Result<Value> {
    // The id comes from the client: say it is unknown without repeating it.
    if raw.keys().any(|q| survey.question(q).is_none()) {
        return Err(CoreError::invalid(
            ErrorCode::UnknownQuestion,
            "answers",
            "an answer names a question this survey does not have",
        ));
    }
    let scrubber = mamori_scrub::Scrubber::new();
    let mut out = serde_json::Map::new();
    for q in &survey.definition.questions {
        let values: Vec<&str> = raw
            .get(&q.id)
            .map(|v| {
                v.iter()
                    .map(|s| s.trim())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        if values.is_empty() {
            if q.required {
                return Err(bad_answer(
                    ErrorCode::AnswerRequired,
                    &q.id,
                    format!("question {} needs an answer", q.id),
                ));
            }
            continue;
        }
        let value = parse_answer(q, &values, &scrubber)?;
        out.insert(q.id.clone(), value);
    }
    Ok(Value::Object(out))
}

/// One question's answer (its given values, trimmed, at least one) as stored.
fn parse_answer(q: &Question, values: &[&str], scrubber: &mamori_scrub::Scrubber) -> Result<Value> {
    let one = || -> Result<&str> {
        match values {
            [v] => Ok(v),
            _ => Err(bad_answer(
                ErrorCode::OneAnswer,
                &q.id,
                format!("question {} takes one answer", q.id),
            )),
        }
    };
    Ok(match q.kind {
        QuestionKind::Rating | QuestionKind::Nps => {
            let (min, max) = if q.kind == QuestionKind::Rating {
                (1, 5)
            } else {
                (0, 10)
            };
            let n: i64 = one()?.parse().map_err(|_| out_of_range(&q.id, min, max))?;
            if !(min..=max).contains(&n) {
                return Err(out_of_range(&q.id, min, max));
            }
            json!(n)
        }
        QuestionKind::Single => {
            let v = one()?;
            if !q.choices.iter().any(|c| c.id == v) {
                return Err(unknown_choice(&q.id));
            }
            json!(v)
        }
        QuestionKind::Multiple => {
            let mut picked: Vec<&str> = Vec::new();
            for v in values {
                if !q.choices.iter().any(|c| c.id == *v) {
                    return Err(unknown_choice(&q.id));
                }
                if !picked.contains(v) {
                    picked.push(v);
                }
            }
            json!(picked)
        }
        QuestionKind::Text => {
            let v = one()?;
            if v.chars().count() > MAX_TEXT_CHARS {
                let message = format!(
                    "an answer to {} is at most {MAX_TEXT_CHARS} characters",
                    q.id
                );
                return Err(bad_answer(ErrorCode::AnswerTooLong, &q.id, message));
            }
            json!(scrubber.scrub(v))
        }
    })
}

pub(super) fn out_of_range(question: &str, min: i64, max: i64) -> CoreError {
    bad_answer(
        ErrorCode::OutOfRange,
        question,
        format!("question {question} takes a whole number from {min} to {max}"),
    )
}

pub(super) fn unknown_choice(question: &str) -> CoreError {
    bad_answer(
        ErrorCode::UnknownChoice,
        question,
        format!("question {question} has no such choice"),
    )
}
