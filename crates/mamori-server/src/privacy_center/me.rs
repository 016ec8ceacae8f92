//! "My data": every field the person has, by category, and the newest records of each kind.

use super::*;
use mamori_core::disclosures::PersonDisclosure;
use mamori_core::incidents::notice_sending::{NoticeLinks, PersonNotice};

pub(super) struct CategoryData {
    name: String,
    label: String,
    purposes: String,
    retention: String,
    fields: Vec<(String, String)>,
    /// Records of this kind (orders, requests…), newest first, at most [`RECORDS_SHOWN`].
    records: Vec<RecordData>,
    /// Says how many older ones the page leaves to the download, if any.
    older: Option<String>,
}

pub(crate) struct RecordData {
    pub(crate) date: String,
    pub(crate) fields: Vec<(String, String)>,
}

/// A record as the privacy center shows it: its day and its fields, labelled.
pub(crate) fn record_data(
    c: &mamori_policy::Category,
    r: &mamori_core::vault::RecordView,
    lang: Language,
) -> RecordData {
    RecordData {
        date: r.created_at.get(..10).unwrap_or_default().to_string(),
        fields: c
            .fields
            .iter()
            .filter_map(|f| {
                let value = r.data.get(&f.name)?;
                let text = value
                    .as_str()
                    .map_or_else(|| value.to_string(), str::to_string);
                Some((f.label.get(lang).to_string(), text))
            })
            .collect(),
    }
}

/// "N older records are in your download", with each language's typography.
pub(super) fn older_records(lang: Language, n: usize) -> Option<String> {
    (n > 0).then(|| match lang {
        Language::Ja => format!("それ以前の記録（{n}件）はダウンロードに含まれています。"),
        Language::Fr => {
            format!("{n} enregistrements plus anciens de ce type sont dans votre téléchargement.")
        }
        Language::En => format!("{n} older records of this kind are in your download."),
    })
}

/// The newest records "My data" reads, of all kinds together.
pub(super) const RECENT_RECORDS: i64 = 200;

/// Records shown per kind on "My data"; the download has them all.
pub(super) const RECORDS_SHOWN: usize = 20;

#[derive(Template)]
#[template(path = "me.html")]
pub(super) struct MePage {
    lang: &'static str,
    s: Strings,
    organisation: String,
    csrf: String,
    categories: Vec<CategoryData>,
    holds: super::holds::HoldsView,
    notices: NoticesView,
    shared: SharedView,
}

/// "Who we shared your data with": a heading and a line per disclosure.
pub(super) struct SharedView {
    title: &'static str,
    lines: Vec<String>,
}

fn shared_view(
    policy: &mamori_policy::Policy,
    found: Vec<PersonDisclosure>,
    lang: Language,
) -> SharedView {
    let title = match lang {
        Language::En => "Who we shared your data with",
        Language::Ja => "お客様のデータの提供先",
        Language::Fr => "Avec qui nous avons partagé vos données",
    };
    let sep = if lang == Language::Ja { "、" } else { ", " };
    let lines = (found.into_iter())
        .map(|d| {
            let purpose =
                (policy.purpose(&d.purpose)).map_or(d.purpose.as_str(), |p| p.label.get(lang));
            let categories: Vec<&str> = (d.categories.iter())
                .map(|c| policy.category(c).map_or(c.as_str(), |c| c.label.get(lang)))
                .collect();
            let (cats, countries) = (categories.join(sep), d.countries.join(sep));
            match lang {
                Language::En => format!(
                    "{}: {cats}, for {purpose}, on {} ({countries})",
                    d.vendor, d.day
                ),
                Language::Ja => format!(
                    "{}：{cats}（{purpose}のため、{}、{countries}）",
                    d.vendor, d.day
                ),
                Language::Fr => format!(
                    "{}\u{a0}: {cats}, pour {purpose}, le {} ({countries})",
                    d.vendor, d.day
                ),
            }
        })
        .collect();
    SharedView { title, lines }
}

/// The notices of incidents that concerned the person, each as its subject and paragraphs.
pub(super) struct NoticesView {
    title: &'static str,
    notices: Vec<(String, Vec<String>)>,
}

fn notices_view(found: Vec<PersonNotice>, lang: Language) -> NoticesView {
    let title = match lang {
        Language::En => "Security incidents that concerned you",
        Language::Ja => "お客様に関わるセキュリティ事故",
        Language::Fr => "Incidents de sécurité qui vous ont concerné",
    };
    let notices = (found.into_iter())
        .map(|n| {
            let lines = n.body.lines().filter(|l| !l.is_empty());
            (n.subject, lines.map(str::to_string).collect())
        })
        .collect();
    NoticesView { title, notices }
}

/// long it is kept — read through the access decision as the person, and ledgered.
pub async fn my_data(
    State(s): State<AppState>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let policy = &s.vault.policy;
    let lang = page_language(policy, q.lang.as_deref());
    let (subject, actor) = match signed_in(&s, &headers, lang).await {
        Ok(session) => session,
        Err(r) => return r,
    };
    let view = match s.vault.read_subject(&actor, RIGHTS_PURPOSE, &subject).await {
        Ok(view) => view,
        Err(e) => return crate::problem::ApiError::from(e).into_response(),
    };
    // Orders, support requests…: records, not fields, shown with their kind (the newest; the
    // download has them all).
    let recent = s
        .vault
        .recent_records(&actor, RIGHTS_PURPOSE, &subject, RECENT_RECORDS)
        .await;
    let (records, counts) = match recent {
        Ok(found) => found,
        Err(e) => return crate::problem::ApiError::from(e).into_response(),
    };
    let holds = match s.vault.holds_on(&actor, &subject).await {
        Ok(holds) => super::holds::holds_view(policy, &holds, lang),
        Err(e) => return crate::problem::ApiError::from(e).into_response(),
    };
    let links = NoticeLinks {
        privacy_center: format!("{}/privacy/me", s.public_url),
        texts: None,
    };
    let notices = match (s.vault)
        .notices_for_person(&actor, &subject, lang, &links)
        .await
    {
        Ok(found) => notices_view(found, lang),
        Err(e) => return crate::problem::ApiError::from(e).into_response(),
    };
    let shared = match s.vault.disclosures_for_person(&actor, &subject).await {
        Ok(found) => shared_view(policy, found, lang),
        Err(e) => return crate::problem::ApiError::from(e).into_response(),
    };
    let categories = category_views(policy, &view, &records, &counts, lang);
    let (csrf, set) = csrf_token(&s, &headers);
    let page = MePage {
        lang: lang.code(),
        s: strings(lang),
        organisation: policy.organisation.name.clone(),
        csrf,
        categories,
        holds,
        notices,
        shared,
    };
    with_cookie(html_page(page.render()), set)
}

/// Each category of the policy with what the person has in it: fields, the newest records.
fn category_views(
    policy: &mamori_policy::Policy,
    view: &mamori_core::vault::SubjectView,
    records: &[mamori_core::vault::RecordView],
    counts: &[(String, i64)],
    lang: Language,
) -> Vec<CategoryData> {
    policy
        .categories
        .iter()
        .map(|c| {
            let held = view.data.get(&c.name);
            let fields = c
                .fields
                .iter()
                .filter_map(|f| {
                    let value = held?.get(&f.name)?;
                    let text = value
                        .as_str()
                        .map_or_else(|| value.to_string(), str::to_string);
                    Some((f.label.get(lang).to_string(), text))
                })
                .collect();
            let purposes = policy
                .purposes
                .iter()
                .filter(|p| p.categories.contains(c.id))
                .map(|p| p.label.get(lang))
                .collect::<Vec<_>>()
                .join(if lang == Language::Ja { "、" } else { ", " });
            let mine: Vec<_> = records.iter().filter(|r| r.category == c.name).collect();
            let total = counts
                .iter()
                .find(|(name, _)| *name == c.name)
                .map_or(0, |(_, n)| *n as usize);
            let shown = mine
                .iter()
                .take(RECORDS_SHOWN)
                .map(|r| record_data(c, r, lang))
                .collect();
            CategoryData {
                name: c.name.clone(),
                label: c.label.get(lang).to_string(),
                purposes,
                retention: mamori_policy::notice::retention_text(c, lang),
                fields,
                records: shown,
                older: older_records(lang, total.saturating_sub(mine.len().min(RECORDS_SHOWN))),
            }
        })
        .collect()
}
