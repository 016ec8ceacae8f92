//! `mamori survey create|list|results|close|release|invite`.

use mamori_core::surveys::{Access, ResultsMode, StoredSurvey};

use super::*;

pub(super) async fn run(paths: &Paths, command: SurveyCommand) -> anyhow::Result<()> {
    let ctx = Context::open(paths).await?;
    let operator = context::operator();
    match command {
        SurveyCommand::Create { file } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let survey = mamori_core::surveys::Survey::from_toml(&ctx.vault.policy, &text)?;
            let stored = ctx.vault.create_survey(&operator, survey).await?;
            let slug = &stored.survey.definition.slug;
            println!("created survey {slug}: /survey/{slug}");
        }
        SurveyCommand::List => {
            for v in ctx.vault.list_surveys(&operator).await? {
                println!("{}", list_line(&ctx, &v).await?);
            }
        }
        SurveyCommand::Results { slug, by } => {
            let results = ctx
                .vault
                .survey_results(&operator, &slug, by.as_deref())
                .await?;
            println!("{}", serde_json::to_string_pretty(&results)?);
        }
        SurveyCommand::Close { slug } => {
            ctx.vault.close_survey(&operator, &slug).await?;
            println!("closed survey {slug}");
        }
        SurveyCommand::Release { slug, epsilon } => {
            let release = ctx
                .vault
                .release_survey_results(&operator, &slug, epsilon)
                .await?;
            println!("{}", serde_json::to_string_pretty(&release)?);
        }
        SurveyCommand::Invite {
            slug,
            subjects,
            base_url,
        } => invite(&ctx, &slug, &subjects, &base_url).await?,
    }
    Ok(())
}

/// One survey in `survey list`: slug, state, questions, and its invitations or budget.
async fn list_line(ctx: &Context, v: &StoredSurvey) -> anyhow::Result<String> {
    let state = if v.is_open(ctx.vault.today()) {
        "open"
    } else {
        "closed"
    };
    let budget = match v.survey.definition.results {
        ResultsMode::Exact => String::new(),
        ResultsMode::DifferentialPrivacy => {
            let b = ctx.vault.survey_budget(v).await?;
            format!("\tε spent {:.3} of {}", b.spent, b.total)
        }
    };
    let access = match v.survey.definition.access {
        Access::Open => String::new(),
        Access::Invited => {
            let (sent, issued) = ctx.vault.survey_invitation_counts(v).await?;
            format!("\tinvited: {sent}, tokens issued: {issued}")
        }
    };
    Ok(format!(
        "{}\t{state}\t{} questions{access}{budget}",
        v.survey.definition.slug,
        v.survey.definition.questions.len()
    ))
}

async fn invite(
    ctx: &Context,
    slug: &str,
    subjects: &[String],
    base_url: &str,
) -> anyhow::Result<()> {
    use mamori_core::survey_tokens::Invitation;
    let mut ids = Vec::with_capacity(subjects.len());
    for text in subjects {
        ids.push(
            mamori_core::parse_id(text)
                .with_context(|| format!("{text} is not a subject id (a UUID)"))?,
        );
    }
    let base = base_url.trim_end_matches('/');
    let operator = context::operator();
    for done in ctx.vault.invite_to_survey(&operator, slug, &ids).await? {
        match done {
            Invitation::Sent { subject, code } => println!(
                "{}\t{base}/survey/{slug}#invitation={code}",
                mamori_core::format_id(&subject)
            ),
            Invitation::Refused { subject, reason } => {
                println!("{}\trefused: {reason}", mamori_core::format_id(&subject))
            }
        }
    }
    Ok(())
}
