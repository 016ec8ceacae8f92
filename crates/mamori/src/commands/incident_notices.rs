//! `mamori incident notify`: prepare and queue the notices to the people an incident affected,
//! as the operator (the running server sends them).

use anyhow::Context as _;
use mamori_core::incidents::impact::ImpactWindow;
use mamori_proto::incident_notices::NoticeAdvice;

use crate::cli::NotifyArgs;
use crate::context::{self, Context};

pub(super) async fn notify(ctx: &Context, args: NotifyArgs) -> anyhow::Result<()> {
    let NotifyArgs {
        id,
        actors,
        from,
        to,
        purpose,
        advice_en,
        advice_ja,
        advice_fr,
        language,
    } = args;
    let id = mamori_core::parse_id(&id).context("not an incident id")?;
    let window = ImpactWindow {
        actors,
        from_ms: super::incidents::rfc3339_ms(&from).context("--from is not an RFC 3339 time")?,
        to_ms: super::incidents::rfc3339_ms(&to).context("--to is not an RFC 3339 time")?,
        purposes: None,
        categories: None,
    };
    let advice = NoticeAdvice {
        en: advice_en,
        ja: advice_ja,
        fr: advice_fr,
    };
    let given = advice != NoticeAdvice::default();
    let summary = ctx
        .vault
        .prepare_notices(
            &context::operator(),
            &id,
            &purpose,
            &window,
            given.then_some(&advice),
            language.as_deref(),
        )
        .await?;
    super::incidents::print_notices(&summary);
    Ok(())
}

/// `mamori incident notices ID`.
pub(super) async fn notices(ctx: &Context, id: &str) -> anyhow::Result<()> {
    let id = mamori_core::parse_id(id).context("not an incident id")?;
    let operator = context::operator();
    let summary = ctx.vault.incident_notices(&operator, &id).await?;
    super::incidents::print_notices(&summary);
    Ok(())
}

/// `mamori incident draft ID --jurisdiction LAW [--lang L]`: the draft as Markdown.
pub(super) async fn draft(
    ctx: &Context,
    id: &str,
    jurisdiction: &str,
    lang: &str,
) -> anyhow::Result<()> {
    let id = mamori_core::parse_id(id).context("not an incident id")?;
    let lang = mamori_policy::Language::parse(lang).context("--lang must be en, ja or fr")?;
    let operator = context::operator();
    let draft = ctx
        .vault
        .regulator_draft(&operator, &id, jurisdiction, lang);
    print!("{}", draft.await?.markdown());
    Ok(())
}
