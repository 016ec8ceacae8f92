//! Counting responses: the `Codec` form (one byte per question or a choice bitmask), tallies,
//! and results per question with every group below k suppressed.

use super::*;
use mamori_proto::ErrorCode;
use mamori_proto::surveys::{Breakdown, Cell, Group, QuestionResult, SurveyResults};

/// A count, or `null` with `suppressed: true` when below k.
pub(super) fn cell(count: usize, k: u32) -> Cell {
    let shown = count >= k as usize;
    Cell {
        value: None,
        choice: None,
        count: shown.then_some(count as u64),
        suppressed: !shown,
    }
}

/// No answer, in a one-byte code.
pub(super) const NO_ANSWER: u8 = 255;
/// Free-text answers shown with the results: a sample, in the order of the random ids.
pub const TEXTS_SHOWN: i64 = 100;

/// Where each question's code sits in a coded response, so results count bytes instead of
/// parsing JSON: one byte for a rating, an NPS value, a single choice (its index) or whether a
/// text was given; four bytes, a bitmask of choices, for a multiple choice. 255 (or an empty
/// mask) means no answer. A survey's questions never change, so neither do the positions.
pub struct Codec {
    pub(crate) offsets: Vec<usize>,
    pub(crate) len: usize,
}

impl Codec {
    pub fn new(survey: &Survey) -> Codec {
        let mut offsets = Vec::new();
        let mut len = 0;
        for q in &survey.definition.questions {
            offsets.push(len);
            len += if q.kind == QuestionKind::Multiple {
                4
            } else {
                1
            };
        }
        Codec { offsets, len }
    }

    /// Codes checked answers (from [`parse_answers`]).
    pub fn encode(&self, survey: &Survey, answers: &Value) -> Vec<u8> {
        let mut out = vec![NO_ANSWER; self.len];
        for (i, q) in survey.definition.questions.iter().enumerate() {
            let at = self.offsets[i];
            let given = answers.get(&q.id);
            match q.kind {
                QuestionKind::Rating | QuestionKind::Nps => {
                    if let Some(v) = given.and_then(Value::as_u64) {
                        out[at] = v as u8;
                    }
                }
                QuestionKind::Single => {
                    if let Some(c) = given
                        .and_then(Value::as_str)
                        .and_then(|v| q.choices.iter().position(|c| c.id == v))
                    {
                        out[at] = c as u8;
                    }
                }
                QuestionKind::Multiple => {
                    let mask =
                        given
                            .and_then(Value::as_array)
                            .into_iter()
                            .flatten()
                            .fold(0u32, |m, v| {
                                let bit = v
                                    .as_str()
                                    .and_then(|v| q.choices.iter().position(|c| c.id == v));
                                bit.map_or(m, |b| m | (1 << b))
                            });
                    out[at..at + 4].copy_from_slice(&mask.to_le_bytes());
                }
                QuestionKind::Text => out[at] = u8::from(given.is_some()),
            }
        }
        out
    }
}

/// Counts for one question over some responses.
#[derive(Clone)]
pub(crate) struct Tally {
    pub(crate) answered: usize,
    /// Per rating value (from the scale's bottom) or per choice.
    pub(crate) counts: Vec<usize>,
    pub(crate) sum: i64,
}

pub(crate) fn scale(kind: QuestionKind) -> (i64, i64) {
    if kind == QuestionKind::Rating {
        (1, 5)
    } else {
        (0, 10)
    }
}

pub(crate) fn empty_tallies(survey: &Survey) -> Vec<Tally> {
    survey
        .definition
        .questions
        .iter()
        .map(|q| {
            let slots = match q.kind {
                QuestionKind::Rating | QuestionKind::Nps => {
                    let (min, max) = scale(q.kind);
                    (max - min + 1) as usize
                }
                _ => q.choices.len(),
            };
            Tally {
                answered: 0,
                counts: vec![0; slots],
                sum: 0,
            }
        })
        .collect()
}

pub(crate) fn count(survey: &Survey, codec: &Codec, code: &[u8], tallies: &mut [Tally]) {
    for (i, q) in survey.definition.questions.iter().enumerate() {
        let at = codec.offsets[i];
        let t = &mut tallies[i];
        match q.kind {
            QuestionKind::Rating | QuestionKind::Nps => {
                let (min, max) = scale(q.kind);
                let v = i64::from(code[at]);
                if (min..=max).contains(&v) {
                    t.answered += 1;
                    t.counts[(v - min) as usize] += 1;
                    t.sum += v;
                }
            }
            QuestionKind::Single => {
                if let Some(c) = t.counts.get_mut(code[at] as usize) {
                    *c += 1;
                    t.answered += 1;
                }
            }
            QuestionKind::Multiple => {
                let mask = u32::from_le_bytes([code[at], code[at + 1], code[at + 2], code[at + 3]]);
                if mask != 0 {
                    t.answered += 1;
                    for (b, c) in t.counts.iter_mut().enumerate() {
                        *c += ((mask >> b) & 1) as usize;
                    }
                }
            }
            QuestionKind::Text => t.answered += usize::from(code[at] == 1),
        }
    }
}

pub(super) fn question_summary(
    q: &Question,
    t: &Tally,
    k: u32,
    texts: Option<&[String]>,
) -> QuestionResult {
    let mut out = QuestionResult {
        id: q.id.clone(),
        kind: q.kind,
        answered: Some(t.answered as u64),
        suppressed: false,
        mean: None,
        histogram: None,
        nps: None,
        choices: None,
        texts: None,
    };
    if t.answered < k as usize {
        out.suppressed = true;
        out.answered = None;
        return out;
    }
    match q.kind {
        QuestionKind::Rating | QuestionKind::Nps => {
            let (min, _) = scale(q.kind);
            let histogram = (t.counts.iter().enumerate())
                .map(|(i, n)| Cell {
                    value: Some(min + i as i64),
                    ..cell(*n, k)
                })
                .collect();
            out.mean = Some(t.sum as f64 / t.answered as f64);
            out.histogram = Some(histogram);
            if q.kind == QuestionKind::Nps {
                let promoters: usize = t.counts[9..].iter().sum();
                let detractors: usize = t.counts[..7].iter().sum();
                out.nps = Some(
                    ((promoters as f64 - detractors as f64) * 100.0 / t.answered as f64).round(),
                );
            }
        }
        QuestionKind::Single | QuestionKind::Multiple => {
            let choices = (q.choices.iter().zip(&t.counts))
                .map(|(c, n)| Cell {
                    choice: Some(c.id.clone()),
                    ..cell(*n, k)
                })
                .collect();
            out.choices = Some(choices);
        }
        QuestionKind::Text => {
            // Scrubbed before they were stored; a sample in the order of the random ids.
            out.texts = Some(texts.unwrap_or_default().to_vec());
        }
    }
    out
}

/// The position of the single-choice question results are broken down by.
fn breakdown_question(survey: &Survey, by: &str) -> Result<usize> {
    let questions = &survey.definition.questions;
    let found = questions
        .iter()
        .position(|q| q.id == by && q.kind == QuestionKind::Single);
    found.ok_or_else(|| {
        CoreError::invalid(
            ErrorCode::InvalidBreakdown,
            "by",
            "a breakdown is by a single-choice question of this survey",
        )
    })
}

/// Results from coded responses (and a sample of texts per text question, by question id).
pub fn results(
    survey: &Survey,
    codes: &[Vec<u8>],
    texts: &HashMap<String, Vec<String>>,
    by: Option<&str>,
) -> Result<SurveyResults> {
    let k = survey.k;
    // A bad breakdown is refused whether or not there is anything to show yet.
    let group = by.map(|by| breakdown_question(survey, by)).transpose()?;
    let codec = Codec::new(survey);
    let total = codes.len();
    let mut out = SurveyResults {
        slug: survey.definition.slug.clone(),
        k,
        responses: (total >= k as usize).then_some(total as u64),
        suppressed: total < k as usize,
        questions: Vec::new(),
        breakdown: None,
    };
    if out.suppressed {
        return Ok(out);
    }
    let questions = &survey.definition.questions;
    let mut overall = empty_tallies(survey);
    let mut groups = group.map(|g| vec![empty_tallies(survey); questions[g].choices.len()]);
    for code in codes.iter().filter(|c| c.len() == codec.len) {
        count(survey, &codec, code, &mut overall);
        if let (Some(g), Some(groups)) = (group, groups.as_mut())
            && let Some(tallies) = groups.get_mut(code[codec.offsets[g]] as usize)
        {
            count(survey, &codec, code, tallies);
        }
    }
    out.questions = (questions.iter().zip(&overall))
        .map(|(q, t)| question_summary(q, t, k, texts.get(&q.id).map(Vec::as_slice)))
        .collect();
    if let (Some(g), Some(groups)) = (group, groups) {
        let by = &questions[g];
        let groups = (by.choices.iter().zip(&groups).zip(&overall[g].counts))
            .map(|((c, tallies), members)| {
                let shown = cell(*members, k);
                Group {
                    choice: c.id.clone(),
                    count: shown.count,
                    suppressed: shown.suppressed,
                    // Free text is never broken down: it could tell who is in a small group.
                    questions: (*members >= k as usize).then(|| {
                        (questions.iter().zip(tallies))
                            .filter(|(q, _)| q.id != by.id && q.kind != QuestionKind::Text)
                            .map(|(q, t)| question_summary(q, t, k, None))
                            .collect()
                    }),
                }
            })
            .collect();
        out.breakdown = Some(Breakdown {
            by: by.id.clone(),
            groups,
        });
    }
    Ok(out)
}
