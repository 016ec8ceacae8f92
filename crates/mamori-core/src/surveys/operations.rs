//! Surveys as the vault runs them: create, list, close, respond (anonymous or identified),
//! results and the paged free text — each decided, and ledgered where a person is concerned.

use super::*;
use mamori_proto::ErrorCode;
use mamori_proto::surveys::{SurveyResults, TextsPage};

impl Vault {
    /// Who may define and close surveys, invite, release and read the report: a role the
    /// policy grants `surveys = ["manage"]`.
    pub(crate) async fn grant_survey_admin(&self, actor: &Actor, action: &str) -> Result<Granted> {
        let manage = Permission::Surveys(SurveyPermission::Manage);
        self.grant(actor, manage, action).await
    }

    /// Who may read results (aggregates, charts, texts, releases): `surveys = ["results"]`.
    /// The read is ledgered, allowed or denied.
    pub(crate) async fn ledger_results_reader(&self, actor: &Actor, action: &str) -> Result<()> {
        let results = Permission::Surveys(SurveyPermission::Results);
        self.grant_and_ledger(actor, results, action).await
    }

    pub async fn create_survey(&self, actor: &Actor, survey: Survey) -> Result<StoredSurvey> {
        let granted = self.grant_survey_admin(actor, "survey.create").await?;
        let row = SurveyRow {
            id: crate::new_id(),
            slug: survey.definition.slug.clone(),
            definition: serde_json::to_string(&survey.definition)
                .map_err(|e| CoreError::Internal(e.to_string()))?,
            created_ms: self.now_ms(),
            closed_ms: None,
        };
        let event = granted.event();
        let mut changes = vec![Change::InsertSurvey(row.clone())];
        if survey.definition.access == Access::Invited {
            changes.push(self.new_survey_issuer(&row.id).await?);
        }
        match self.ledger.submit(changes, vec![event]).await? {
            Ok(()) => Ok(StoredSurvey {
                id: row.id,
                survey,
                created_ms: row.created_ms,
                closed_ms: None,
            }),
            Err(_) => Err(CoreError::Conflict {
                code: ErrorCode::SurveyExists,
                message: "a survey with this slug exists already; choose another slug".into(),
            }),
        }
    }

    pub async fn survey(&self, slug: &str) -> Result<StoredSurvey> {
        let missing = || CoreError::Missing {
            code: ErrorCode::SurveyNotFound,
            message: "there is no survey with this slug".into(),
        };
        if !is_name(slug, 40) {
            return Err(missing());
        }
        let row = self.store.survey(slug).await?.ok_or_else(missing)?;
        Ok(StoredSurvey {
            id: row.id,
            survey: Survey::from_row(&self.policy, &row)?,
            created_ms: row.created_ms,
            closed_ms: row.closed_ms,
        })
    }

    /// The survey, if it takes responses today, and today.
    pub(crate) async fn open_survey(&self, slug: &str) -> Result<(StoredSurvey, i64)> {
        let stored = self.survey(slug).await?;
        let day = self.today();
        if !stored.is_open(day) {
            return Err(CoreError::Conflict {
                code: ErrorCode::SurveyClosed,
                message: "this survey is not taking responses".into(),
            });
        }
        Ok((stored, day))
    }

    /// Every survey definition, for a role that runs surveys or reads their results; the
    /// listing is ledgered, allowed or denied.
    pub async fn list_surveys(&self, actor: &Actor) -> Result<Vec<StoredSurvey>> {
        let manage = Permission::Surveys(SurveyPermission::Manage);
        if crate::access::permits(&self.policy, &actor.role, manage).is_ok() {
            self.grant_and_ledger(actor, manage, "survey.list").await?;
        } else {
            self.ledger_results_reader(actor, "survey.list").await?;
        }
        self.surveys().await
    }

    pub(crate) async fn surveys(&self) -> Result<Vec<StoredSurvey>> {
        let mut out = Vec::new();
        for row in self.store.surveys().await? {
            out.push(StoredSurvey {
                id: row.id,
                survey: Survey::from_row(&self.policy, &row)?,
                created_ms: row.created_ms,
                closed_ms: row.closed_ms,
            });
        }
        Ok(out)
    }

    pub async fn close_survey(&self, actor: &Actor, slug: &str) -> Result<()> {
        let granted = self.grant_survey_admin(actor, "survey.close").await?;
        let survey = self.survey(slug).await?;
        let event = granted.event();
        let change = Change::CloseSurvey {
            id: survey.id,
            closed_ms: self.now_ms(),
        };
        match self.ledger.submit(vec![change], vec![event]).await? {
            Ok(()) => Ok(()),
            Err(_) => Err(CoreError::Conflict {
                code: ErrorCode::SurveyClosed,
                message: "this survey is closed already".into(),
            }),
        }
    }

    /// Stores one anonymous response: nothing about who sent it or when, beyond the day. An
    /// invited survey takes it only with an unused token it signed (its wire form).
    pub async fn respond(&self, slug: &str, raw: &RawAnswers, token: Option<&[u8]>) -> Result<()> {
        let (stored, day) = self.open_survey(slug).await?;
        if stored.survey.definition.mode == Mode::Identified {
            return Err(CoreError::invalid(
                ErrorCode::IdentifiedSurvey,
                "slug",
                "this survey is linked to the person: answer it signed in, on its page in the privacy center",
            ));
        }
        let answers = parse_answers(&stored.survey, raw)?;
        let mut changes = Vec::with_capacity(2);
        if stored.survey.definition.access == Access::Invited {
            changes.push(self.spend_survey_token(&stored, token).await?);
        }
        changes.push(response_change(&stored, &answers, day));
        match self.ledger.submit(changes, vec![]).await? {
            Ok(()) => Ok(()),
            Err(mamori_store::JobError::Duplicate) if token.is_some() => {
                Err(crate::survey_tokens::token_used())
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Aggregates per question, and optionally broken down by the answers to a single-choice
    /// question; every count below k is suppressed and marked.
    pub async fn survey_results(
        &self,
        actor: &Actor,
        slug: &str,
        by: Option<&str>,
    ) -> Result<SurveyResults> {
        self.ledger_results_reader(actor, "survey.results").await?;
        self.results_of(slug, by).await
    }

    /// Results without a permission check, for the report (which needs `manage`).
    pub(crate) async fn results_of(&self, slug: &str, by: Option<&str>) -> Result<SurveyResults> {
        let stored = self.survey(slug).await?;
        if stored.survey.definition.results == ResultsMode::DifferentialPrivacy {
            return Err(CoreError::Conflict {
                code: ErrorCode::ExactResultsWithheld,
                message: "this survey's results are released only with differential privacy: see its releases".into(),
            });
        }
        let codes = self.store.survey_codes(&stored.id).await?;
        let mut texts: HashMap<String, Vec<String>> = HashMap::new();
        for row in self.store.survey_texts(&stored.id, TEXTS_SHOWN).await? {
            let Ok(Value::Object(answers)) = serde_json::from_str::<Value>(&row) else {
                continue;
            };
            for (question, text) in answers {
                if let Value::String(text) = text {
                    texts.entry(question).or_default().push(text);
                }
            }
        }
        results(&stored.survey, &codes, &texts, by)
    }
}

/// Free-text answers per page of the listing.
pub const TEXTS_PER_PAGE: i64 = 100;

/// The page a texts listing asks for: the cursor (the last response id of the page before)
/// and how many.
fn texts_page(after: Option<&str>, limit: Option<i64>) -> Result<(Option<[u8; 16]>, i64)> {
    let limit = limit.unwrap_or(TEXTS_PER_PAGE);
    if !(1..=1000).contains(&limit) {
        return Err(CoreError::invalid(
            ErrorCode::InvalidLimit,
            "limit",
            "limit is 1 to 1000",
        ));
    }
    let bad_cursor = || {
        CoreError::invalid(
            ErrorCode::InvalidCursor,
            "after",
            "after is the next cursor of an earlier page",
        )
    };
    let after = after
        .map(|a| {
            let bytes = hex::decode(a).map_err(|_| bad_cursor())?;
            <[u8; 16]>::try_from(bytes).map_err(|_| bad_cursor())
        })
        .transpose()?;
    Ok((after, limit))
}

impl Vault {
    /// How many responses answered `question`, from the coded responses.
    async fn answered(&self, stored: &StoredSurvey, question: &str) -> Result<usize> {
        let survey = &stored.survey;
        let codec = Codec::new(survey);
        let at = survey
            .definition
            .questions
            .iter()
            .position(|q| q.id == question)
            .map(|i| codec.offsets[i])
            .unwrap_or_default();
        let codes = self.store.survey_codes(&stored.id).await?;
        Ok(codes
            .iter()
            .filter(|c| c.len() == codec.len && c[at] == 1)
            .count())
    }

    /// One page of the scrubbed free-text answers to `question`, in the order of the responses'
    /// random ids, with the cursor of the next page. Nothing is listed until the question has
    /// at least k answers; a differentially private survey lists none (texts are not noised).
    pub async fn survey_texts(
        &self,
        actor: &Actor,
        slug: &str,
        question: &str,
        after: Option<&str>,
        limit: Option<i64>,
    ) -> Result<TextsPage> {
        self.ledger_results_reader(actor, "survey.texts").await?;
        let stored = self.survey(slug).await?;
        let survey = &stored.survey;
        if survey.definition.results == ResultsMode::DifferentialPrivacy {
            return Err(CoreError::Conflict {
                code: ErrorCode::ExactResultsWithheld,
                message: "this survey's results are released only with differential privacy; its free text is not listed".into(),
            });
        }
        if survey
            .question(question)
            .is_none_or(|q| q.kind != QuestionKind::Text)
        {
            return Err(CoreError::invalid(
                ErrorCode::InvalidQuestion,
                "question",
                "texts are listed for a free-text question of this survey",
            ));
        }
        let (after, limit) = texts_page(after, limit)?;
        let answered = self.answered(&stored, question).await?;
        if answered < survey.k as usize {
            return Ok(TextsPage {
                question: question.to_string(),
                answered: None,
                suppressed: true,
                texts: Vec::new(),
                next: None,
            });
        }
        let mut texts = Vec::new();
        let mut last = None;
        let page = self
            .store
            .survey_texts_page(&stored.id, after, limit)
            .await?;
        let full = page.len() as i64 == limit;
        for (id, row) in page {
            last = Some(id);
            if let Ok(Value::Object(answers)) = serde_json::from_str::<Value>(&row)
                && let Some(Value::String(text)) = answers.get(question)
            {
                texts.push(text.clone());
            }
        }
        Ok(TextsPage {
            question: question.to_string(),
            answered: Some(answered as u64),
            suppressed: false,
            texts,
            next: if full { last.map(hex::encode) } else { None },
        })
    }
}

impl Vault {
    /// Stores a signed-in person's answers to an identified survey as a record of theirs (the
    /// access decision needs their consent to the survey's purpose; ledgered as
    /// `record.create`), with the coded form, unlinked and without free text, for the counts.
    pub async fn respond_identified(
        &self,
        actor: &Actor,
        subject: &[u8; 16],
        slug: &str,
        raw: &RawAnswers,
    ) -> Result<String> {
        let (stored, day) = self.open_survey(slug).await?;
        let definition = &stored.survey.definition;
        let purpose = match (definition.mode, definition.purpose.as_deref()) {
            (Mode::Identified, Some(p)) => self.policy.purpose(p),
            _ => None,
        }
        .ok_or_else(|| {
            CoreError::invalid(
                ErrorCode::NotIdentifiedSurvey,
                "slug",
                "this survey is anonymous: answer it without signing in",
            )
        })?;
        let category = answers_category(&self.policy, purpose)
            .ok_or_else(|| CoreError::Internal("an identified survey lost its category".into()))?;
        let answers = parse_answers(&stored.survey, raw)?;
        let data = std::collections::BTreeMap::from([
            ("survey".to_string(), json!(slug)),
            ("answers".to_string(), json!(answers.to_string())),
        ]);
        // Counted like any response, but the unlinked copy keeps neither answers nor texts:
        // those live only in the person's record, so erasing it takes them away.
        let Change::InsertSurveyResponse {
            id,
            survey_id,
            coded,
            ..
        } = response_change(&stored, &answers, day)
        else {
            return Err(CoreError::Internal("not a response".into()));
        };
        let counted = Change::InsertSurveyResponse {
            id,
            survey_id,
            day,
            answers: "{}".into(),
            coded,
            texts: None,
        };
        let once = Change::MarkSurveyParticipant {
            survey_id: stored.id,
            subject_id: *subject,
        };
        match self
            .add_record_with(
                actor,
                &purpose.name,
                subject,
                &category.name,
                &data,
                vec![counted, once],
            )
            .await
        {
            Err(CoreError::Conflict {
                code: ErrorCode::Duplicate,
                ..
            }) => Err(CoreError::Conflict {
                code: ErrorCode::AlreadyAnswered,
                message: "you have answered this survey already; your answers are in My data"
                    .into(),
            }),
            other => other,
        }
    }
}

/// The change that stores checked `answers` (from [`parse_answers`]) as one response.
pub fn response_change(stored: &StoredSurvey, answers: &Value, day: i64) -> Change {
    let survey = &stored.survey;
    let texts: serde_json::Map<String, Value> = survey
        .definition
        .questions
        .iter()
        .filter(|q| q.kind == QuestionKind::Text)
        .filter_map(|q| answers.get(&q.id).map(|v| (q.id.clone(), v.clone())))
        .collect();
    Change::InsertSurveyResponse {
        // Random, unlike the time-ordered ids elsewhere: the key must not date the response.
        id: *uuid::Uuid::new_v4().as_bytes(),
        survey_id: stored.id,
        day,
        answers: answers.to_string(),
        coded: Codec::new(survey).encode(survey, answers),
        texts: (!texts.is_empty()).then(|| Value::Object(texts).to_string()),
    }
}
