//! `mamori demo`: synthetic customers through the normal, ledgered create path, and two API keys.

use std::collections::BTreeMap;

use serde_json::json;

use crate::context::{Context, operator};

const FIRST: [&str; 12] = [
    "Aiko", "Louis", "Maya", "Kenji", "Chloé", "Sam", "Yuki", "Hugo", "Emma", "Haruto", "Léa",
    "Noah",
];
const LAST: [&str; 10] = [
    "Tanaka", "Martin", "Smith", "Sato", "Dubois", "Brown", "Suzuki", "Bernard", "Wilson", "Kato",
];
const CITIES: [(&str, &str); 4] = [
    ("Paris", "FR"),
    ("Osaka", "JP"),
    ("Seattle", "US"),
    ("Lyon", "FR"),
];

/// examples/survey.toml: "How do you feel about how we use your data?"
const BUILTIN_SURVEY: &str = include_str!("../../../examples/survey.toml");
use mamori_core::report::BUILTIN_SURVEY_SLUG;

/// Synthetic customers up to `customers` (a restarted demo adds none it has), each with an order
/// and a support request.
async fn create_customers(
    vault: &mamori_core::Vault,
    service: &mamori_core::Actor,
    customers: usize,
) -> anyhow::Result<()> {
    let existing = vault.subject_count().await?;
    for i in (existing as usize)..customers {
        let first = FIRST[i % FIRST.len()];
        let last = LAST[(i / FIRST.len()) % LAST.len()];
        let (city, country) = CITIES[i % CITIES.len()];
        let data: BTreeMap<String, BTreeMap<String, serde_json::Value>> = serde_json::from_value(
            json!({
                "contact": { "name": format!("{first} {last}"), "email": format!("customer{i}@example.com"), "phone": format!("+3361{:07}", i) },
                "address": { "street": format!("{} Demo Street", i + 1), "city": city, "postal_code": format!("{:05}", 10000 + i), "country": country },
            }),
        )?;
        let id = vault
            .create_subject(
                service,
                "order_fulfilment",
                Some(&format!("cust-{i:05}")),
                &data,
            )
            .await?;
        // An order (kept for tax law after an erasure) and a support request (not kept), so
        // every page and "Delete my account" have something to show.
        let id = mamori_core::parse_id(&id).ok_or_else(|| anyhow::anyhow!("created id"))?;
        let order = json!({ "order_number": format!("K-{:05}", 1000 + i), "total": 20 + i % 80, "currency": "EUR", "items": "Tea set" });
        let ticket = json!({ "subject": "Delivery question", "message": "When will my parcel arrive?", "status": "closed" });
        let mut added = Vec::new();
        for (purpose, category, data) in [
            ("order_fulfilment", "orders", order),
            ("customer_support", "support_tickets", ticket),
        ] {
            let data = serde_json::from_value(data)?;
            let record = vault.add_record(service, purpose, &id, category, &data);
            added.push(record.await?);
        }
        // The parcel went out with the courier: a disclosure the person sees on My data (when
        // the policy still declares the example's courier).
        if vault.policy.vendor(COURIER).is_some() {
            let ask = mamori_proto::disclosures::Disclose {
                vendor: COURIER.into(),
                purpose: "order_fulfilment".into(),
                categories: vec!["contact".into(), "address".into(), "orders".into()],
                records: added.into_iter().take(1).collect(),
            };
            vault.disclose(service, &id, &ask).await?;
        }
    }
    Ok(())
}

/// The example policy's courier (`[vendors.kuroneko_logistics]`).
const COURIER: &str = "kuroneko_logistics";

/// Fills a fresh demo (customers, the built-in survey with answers, API keys) and prints how
/// to use it.
pub async fn prepare(ctx: &Context, customers: usize, listen: &str) -> anyhow::Result<()> {
    let vault = &ctx.vault;
    let service = mamori_core::Actor {
        id: "cli:demo".into(),
        role: "service".into(),
    };
    create_customers(vault, &service, customers).await?;
    // The built-in survey on how people feel about the use of their data (anonymous).
    let survey_exists = match vault.survey(BUILTIN_SURVEY_SLUG).await {
        Ok(_) => true,
        Err(mamori_core::CoreError::Missing { .. }) => false,
        Err(e) => return Err(e.into()),
    };
    if !survey_exists {
        let survey = mamori_core::surveys::Survey::from_toml(&vault.policy, BUILTIN_SURVEY)?;
        vault.create_survey(&operator(), survey).await?;
        seed_answers(ctx).await?;
    }
    // Keys are stored as digests only: a restarted demo cannot show them again, and minting
    // new ones at every start would pile up live keys. It names the ones it made instead.
    let existing: Vec<_> = vault
        .list_api_keys(&operator())
        .await?
        .into_iter()
        .filter(|k| !k.revoked && k.name.starts_with("demo "))
        .collect();
    println!("Mamori demo is running with {customers} synthetic customers.");
    println!("  Privacy center:  http://{listen}/privacy");
    println!(
        "  Sign in as a customer at http://{listen}/privacy/sign-in with customer1@example.com;"
    );
    println!("  the code arrives in the demo outbox: http://{listen}/privacy/demo/outbox");
    println!("  Anonymous survey: http://{listen}/survey/{BUILTIN_SURVEY_SLUG}");
    println!("  API spec:        http://{listen}/openapi.json");
    if !existing.is_empty() {
        for k in &existing {
            println!("  API key {} ({} role) from the first start", k.id, k.role);
        }
        println!(
            "  (keys are shown once; lost them? `mamori --data DIR apikey create --role service --name mine`)"
        );
        return Ok(());
    }
    let (_, service_key) = vault
        .create_api_key(&operator(), "service", "demo service key")
        .await?;
    let (_, officer_key) = vault
        .create_api_key(
            &operator(),
            "privacy_ops",
            "demo privacy office automation key",
        )
        .await?;
    println!("  API key (service role):          {service_key}");
    println!("  API key (privacy_ops role):      {officer_key}");
    println!("  For the README's tour: export KEY={service_key} PO={officer_key}");
    println!(
        "Try: curl -H 'Authorization: Bearer {service_key}' -H 'Mamori-Purpose: order_fulfilment' 'http://{listen}/v1/subjects?email=customer1@example.com'"
    );
    Ok(())
}

/// Comments the seeded answers carry (no one's personal data), in the demo's three languages.
const COMMENTS: [&str; 6] = [
    "Fewer marketing e-mails, please.",
    "Say more plainly who you share my data with.",
    "配送の連絡だけにしてほしいです。",
    "Merci de supprimer mes anciennes commandes plus tôt.",
    "The privacy page was easy to find.",
    "データの保存期間を短くしてください。",
];

/// Enough answers to the built-in survey that its results, charts and the privacy officer's
/// report have something to show (every cell of k or more). They go through the same path as
/// answers from the page; a pattern, not randomness, so every demo shows the same figures.
async fn seed_answers(ctx: &Context) -> anyhow::Result<()> {
    const TRUST: [&str; 24] = [
        "4", "5", "3", "4", "2", "4", "5", "3", "4", "4", "3", "5", "1", "4", "3", "4", "5", "2",
        "4", "3", "4", "5", "3", "2",
    ];
    const CLEAR: [&str; 4] = ["yes", "partly", "yes", "no"];
    const WORRIES: [&[&str]; 4] = [
        &["marketing"],
        &["sharing", "security"],
        &[],
        &["retention", "marketing"],
    ];
    for (i, trust) in TRUST.iter().enumerate() {
        let mut raw = mamori_core::surveys::RawAnswers::new();
        raw.insert("trust".into(), vec![trust.to_string()]);
        raw.insert("clear".into(), vec![CLEAR[i % CLEAR.len()].into()]);
        let worries = WORRIES[i % WORRIES.len()];
        raw.insert(
            "worries".into(),
            worries.iter().map(|w| w.to_string()).collect(),
        );
        if i % 3 == 0 {
            raw.insert(
                "comment".into(),
                vec![COMMENTS[(i / 3) % COMMENTS.len()].into()],
            );
        }
        ctx.vault.respond(BUILTIN_SURVEY_SLUG, &raw, None).await?;
    }
    Ok(())
}
