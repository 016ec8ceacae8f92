use mamori_policy::{Action, LegalBasis, Mask, Policy};

const EXAMPLE: &str = include_str!("../../../examples/policy.toml");

fn problems(source: &str) -> Vec<String> {
    match Policy::parse("policy.toml", source) {
        Ok(_) => vec![],
        Err(e) => e.0.iter().map(|d| d.to_string()).collect(),
    }
}

#[test]
fn example_policy_is_valid_and_complete() {
    let p = Policy::parse("examples/policy.toml", EXAMPLE).unwrap_or_else(|e| panic!("{e}"));
    for name in [
        "order_fulfilment",
        "customer_support",
        "marketing_email",
        "marketing_sms",
        "personalisation",
        "analytics",
        "partner_sharing",
        "legal_accounting",
    ] {
        assert!(p.purpose(name).is_some(), "missing purpose {name}");
    }
    for name in [
        "support",
        "marketing",
        "analyst",
        "privacy_officer",
        "service",
    ] {
        assert!(p.role(name).is_some(), "missing role {name}");
    }
    assert_eq!(
        p.purpose("marketing_email").unwrap().legal_basis,
        LegalBasis::Consent
    );
    let support = p.role("support").unwrap();
    let payment = p.category("payment").unwrap();
    let (digits, _) = payment.field("card_last_digits").unwrap();
    let (brand, _) = payment.field("card_brand").unwrap();
    assert_eq!(support.mask_for(payment.id, digits), Some(Mask::Last4));
    assert_eq!(support.mask_for(payment.id, brand), Some(Mask::Redacted));
    assert!(support.may(Action::View).contains(payment.id));
    assert!(!support.may(Action::Delete).contains(payment.id));
}

/// Replaces one exact snippet of the example, failing loudly if the snippet is not there.
fn broken(from: &str, to: &str) -> String {
    assert!(EXAMPLE.contains(from), "snippet not in example: {from}");
    EXAMPLE.replacen(from, to, 1)
}

fn assert_reports(source: &str, needle: &str, line: usize) {
    let found = problems(source);
    let hit = found.iter().find(|p| p.contains(needle));
    let hit =
        hit.unwrap_or_else(|| panic!("expected a problem containing {needle:?}, got {found:#?}"));
    assert!(
        hit.starts_with(&format!("policy.toml:{line}:")),
        "wrong location: {hit}"
    );
    assert!(hit.contains("hint:"), "no hint: {hit}");
}

fn line_of(source: &str, needle: &str) -> usize {
    source
        .lines()
        .position(|l| l.contains(needle))
        .expect("needle")
        + 1
}

#[test]
fn unknown_category_in_purpose() {
    let s = broken(
        r#"categories = ["contact", "preferences"]
channels = ["sms"]"#,
        r#"categories = ["contact", "prefs"]
channels = ["sms"]"#,
    );
    assert_reports(&s, "unknown category `prefs`", line_of(&s, r#""prefs"]"#));
}

#[test]
fn role_granting_uncovered_category() {
    let s = broken(
        r#"view = ["orders", "preferences"]"#,
        r#"view = ["orders", "preferences", "contact"]"#,
    );
    assert_reports(
        &s,
        "none of its purposes covers it",
        line_of(&s, r#"view = ["orders", "preferences", "contact"]"#),
    );
}

#[test]
fn missing_translation() {
    let s = broken(
        r#"label = { en = "Orders", ja = "注文履歴", fr = "Commandes" }"#,
        r#"label = { en = "Orders", ja = "注文履歴" }"#,
    );
    assert_reports(
        &s,
        "no `fr` translation",
        line_of(&s, r#"label = { en = "Orders", ja = "注文履歴" }"#),
    );
}

#[test]
fn unparsable_retention() {
    let s = broken(r#"retention = "7y""#, r#"retention = "seven years""#);
    assert_reports(
        &s,
        "retention `seven years` cannot be read",
        line_of(&s, "\"seven years\""),
    );
}

#[test]
fn sale_or_share_without_opt_out() {
    let s = broken(
        "sale_or_share = true\nopt_out = true",
        "sale_or_share = true",
    );
    assert_reports(&s, "offers no opt-out", line_of(&s, "sale_or_share = true"));
}

#[test]
fn unknown_key_is_an_error_with_location() {
    let s = broken(
        "require_mfa = true",
        "require_mfa = true\nrequire_mfaa = true",
    );
    assert_reports(&s, "unknown field", line_of(&s, "require_mfaa"));
}

#[test]
fn every_problem_is_reported_not_just_the_first() {
    let s = broken(r#"retention = "7y""#, r#"retention = "7 years""#);
    let s = s.replacen(
        r#"legal_basis = "legitimate_interest""#,
        r#"legal_basis = "because""#,
        1,
    );
    let found = problems(&s);
    assert!(found.len() >= 2, "{found:#?}");
}

/// Structural mistakes (unknown keys, wrong types) in different entries are all reported, each
/// at its own line: serde alone stops at the first.
#[test]
fn every_structural_problem_is_reported_at_its_line() {
    let s = broken("require_mfa = true", "require_mfaa = true");
    let s = s.replacen("max_length = 40", "max_length = \"forty\"", 1);
    let s = s.replacen("opt_out = true", "opt_out = \"yes\"", 1);
    let s = format!("{s}\n[rolez.x]\npurposes = []\n");
    let found = problems(&s);
    assert_eq!(found.len(), 4, "{found:#?}");
    assert_reports(
        &s,
        "unknown field `require_mfaa`",
        line_of(&s, "require_mfaa"),
    );
    assert_reports(
        &s,
        "invalid type: string \"forty\"",
        line_of(&s, "\"forty\""),
    );
    assert_reports(
        &s,
        "invalid type: string \"yes\"",
        line_of(&s, "opt_out = \"yes\""),
    );
    assert_reports(&s, "unknown section", line_of(&s, "[rolez.x]"));
    assert!(found.iter().any(|p| p.contains("did you mean `roles`?")));
    // A missing key is named too, and a category that is not a table is said to be one.
    let s = broken("sensitivity = \"personal\"\n", "");
    assert!(
        problems(&s)
            .iter()
            .any(|p| p.contains("missing field `sensitivity`"))
    );
    assert!(
        problems("[organisation]\nname = \"x\"\n")
            .iter()
            .any(|p| p.contains("missing field"))
    );
    assert!(
        problems("")
            .iter()
            .any(|p| p.contains("missing [organisation]"))
    );
}

#[test]
fn bad_values_point_at_their_line() {
    let s = broken(r#"type = "country""#, r#"type = "nation""#);
    assert_reports(&s, "unknown field type `nation`", line_of(&s, "nation"));
    let s = broken(r#"sensitivity = "sensitive""#, r#"sensitivity = "secret""#);
    assert_reports(&s, "unknown sensitivity", line_of(&s, "secret"));
    let s = broken(
        r#"mask = { "preferences.birthday" = "year_only", "orders.order_number" = "redacted" }"#,
        r#"mask = { "preferences.birthday" = "year_only", "orders.nope" = "redacted" }"#,
    );
    assert_reports(
        &s,
        "unknown field `orders.nope`",
        line_of(&s, "orders.nope"),
    );
    let s = broken(
        r#"type = "phone"
lookup = true"#,
        r#"type = "text"
lookup = true"#,
    );
    assert!(
        problems(&s)
            .iter()
            .any(|p| p.contains("cannot have a lookup index"))
    );
}

#[test]
fn uncovered_category_is_refused() {
    let s = format!(
        "{EXAMPLE}\n[categories.loyalty]\nsensitivity = \"personal\"\nretention = \"1y\"\nlabel = {{ en = \"L\", ja = \"L\", fr = \"L\" }}\n[categories.loyalty.fields.points]\ntype = \"number\"\nlabel = {{ en = \"P\", ja = \"P\", fr = \"P\" }}\n"
    );
    assert!(
        problems(&s)
            .iter()
            .any(|p| p.contains("`loyalty` is not covered by any purpose"))
    );
}

#[test]
fn syntax_error_has_location() {
    let found = problems("[organisation\nname = 1");
    assert_eq!(found.len(), 1);
    assert!(found[0].starts_with("policy.toml:1:"), "{}", found[0]);
}

#[test]
fn the_built_in_self_role_cannot_be_declared() {
    let s = broken("[roles.analyst]", "[roles.self]");
    assert_reports(&s, "built-in role", line_of(&s, "[roles.self]"));
}

#[test]
fn admin_permissions_are_granted_by_name_and_misspellings_get_a_suggestion() {
    use mamori_policy::AdminPermission;
    let p = Policy::parse("policy.toml", EXAMPLE).unwrap();
    let officer = p.role("privacy_officer").unwrap().admin;
    assert_eq!(
        officer.names(),
        [
            "webhooks",
            "events",
            "api_keys",
            "agents",
            "policy",
            "keys",
            "retention",
            "staff",
            "audit",
            "incidents",
            "vendors"
        ]
    );
    assert!(
        p.role("service")
            .unwrap()
            .admin
            .contains(AdminPermission::Events)
    );
    assert!(
        !p.role("analyst")
            .unwrap()
            .admin
            .contains(AdminPermission::Events)
    );
    assert!(p.role("self").unwrap().admin.names().is_empty());

    let bad = EXAMPLE.replace(
        "admin = [\"events\"]",
        "admin = [\"event\", \"everything\"]",
    );
    let found = problems(&bad);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(
        found[0].contains("unknown admin permission `event`"),
        "{}",
        found[0]
    );
    assert!(found[0].contains("did you mean `events`?"), "{}", found[0]);
    assert!(!found[1].contains("did you mean"), "{}", found[1]);

    let typo = EXAMPLE.replace("purposes = [\"analytics\"]", "purposes = [\"analytic\"]");
    let found = problems(&typo);
    assert!(
        found
            .iter()
            .any(|f| f.contains("did you mean `analytics`?")),
        "{found:?}"
    );
}

/// A retention in months or years ends on the calendar date people read it as ("7 years" from
/// 6 December 2026 is 6 December 2033, not two leap days earlier); days and weeks exactly.
#[test]
fn retention_ends_on_the_calendar_date_it_names() {
    let at = |date: &str| {
        let d =
            time::Date::parse(date, &time::format_description::well_known::Iso8601::DATE).unwrap();
        d.midnight().assume_utc().unix_timestamp() * 1000
    };
    let end = |text: &str, from: &str| {
        mamori_policy::parse_retention(text)
            .unwrap()
            .end_ms(at(from))
    };
    assert_eq!(end("7y", "2026-12-06"), at("2033-12-06"));
    assert_eq!(end("3y", "2028-02-29"), at("2031-02-28"));
    assert_eq!(end("1m", "2027-01-31"), at("2027-02-28"));
    assert_eq!(end("18m", "2026-12-06"), at("2028-06-06"));
    assert_eq!(end("2w", "2026-12-30"), at("2027-01-13"));
    assert_eq!(end("30d", "2026-02-01"), at("2026-03-03"));
    assert_eq!(mamori_policy::parse_retention("7y").unwrap().days, 7 * 365);
    // The cutoff is the inverse: on 6 December 2033, what is dated before 6 December 2026 is
    // past a 7-year retention, and that day itself is not.
    let cutoff = |text: &str, now: &str| {
        mamori_policy::parse_retention(text)
            .unwrap()
            .cutoff_ms(at(now))
    };
    assert_eq!(cutoff("7y", "2033-12-06"), at("2026-12-06") + 1);
    assert_eq!(cutoff("30d", "2026-03-03"), at("2026-02-01") + 1);
    assert_eq!(cutoff("1m", "2027-02-28"), at("2027-01-28") + 1);
}

#[test]
fn only_a_legal_obligation_has_a_retention_of_its_own() {
    let s = broken(
        "legal_basis = \"legitimate_interest\"\n",
        "legal_basis = \"legitimate_interest\"\nretention = \"5y\"\n",
    );
    assert_reports(
        &s,
        "has a retention but is not a legal obligation",
        line_of(&s, "retention = \"5y\""),
    );
    let s = broken(
        "retention = \"7y\"     # what an erasure",
        "retention = \"seven\"     # what an erasure",
    );
    assert_reports(
        &s,
        "retention `seven` cannot be read",
        line_of(&s, "\"seven\""),
    );
}

const PREFERENCES: &str =
    "[categories.preferences]\nsensitivity = \"personal\"\nretention = \"2y\"\n";

/// "Until consent is withdrawn + 30 days": parsed, described in the notice in every language.
#[test]
fn retention_can_count_from_the_withdrawal_of_consent() {
    let source = broken(
        PREFERENCES,
        "[categories.preferences]\nsensitivity = \"personal\"\nretention = \"45d\"\nretention_from = \"consent_withdrawn\"\n",
    );
    let p = Policy::parse("policy.toml", &source).unwrap_or_else(|e| panic!("{e}"));
    let c = p.category("preferences").unwrap();
    assert_eq!(
        c.retention_from,
        mamori_policy::RetentionStart::ConsentWithdrawn
    );
    use mamori_policy::Language::*;
    use mamori_policy::notice::retention_text;
    assert_eq!(
        retention_text(c, En),
        "until you withdraw your consent, then 45 days"
    );
    assert_eq!(retention_text(c, Ja), "同意を撤回されるまで、その後45日");
    assert_eq!(
        retention_text(c, Fr),
        "jusqu'au retrait de votre consentement, puis 45 jours"
    );
    let notice = mamori_policy::notice::short_notice(&p, En);
    assert!(
        notice
            .sections
            .iter()
            .flat_map(|s| &s.items)
            .any(|l| l.contains("until you withdraw")),
        "{notice:?}"
    );
    // The default is the last activity.
    let example = Policy::parse("policy.toml", EXAMPLE).unwrap();
    let default = example.category("preferences").unwrap().retention_from;
    assert_eq!(default, mamori_policy::RetentionStart::LastActivity);
}

#[test]
fn a_consent_clock_needs_a_consent_purpose_and_a_known_value() {
    let source = broken(
        "[categories.support_tickets]\nsensitivity = \"personal\"\nretention = \"2y\"\n",
        "[categories.support_tickets]\nsensitivity = \"personal\"\nretention = \"2y\"\nretention_from = \"consent_withdrawn\"\n",
    );
    // The key's own line (the example's comments mention it too).
    let key = "retention_from = \"consent_withdrawn\"";
    let line = source.lines().position(|l| l == key).unwrap() + 1;
    assert_reports(&source, "no consent-based purpose covers it", line);
    let source = broken(
        PREFERENCES,
        "[categories.preferences]\nsensitivity = \"personal\"\nretention = \"2y\"\nretention_from = \"whenever\"\n",
    );
    let found = problems(&source);
    assert!(
        found.iter().any(|p| p.contains("retention_from")),
        "{found:#?}"
    );
}

#[test]
fn a_machine_role_views_nothing_sensitive_and_takes_keys_where_people_need_mfa() {
    let source = broken(
        "view = [\"contact\", \"address\", \"orders\", \"preferences\", \"support_tickets\", \"survey_answers\"]\nmodify",
        "view = [\"contact\", \"payment\"]\nmodify",
    );
    assert_reports(
        &source,
        "declared for machines (`machine = true`) but may view `payment`",
        line_of(&source, "view = [\"contact\", \"payment\"]"),
    );
    let p = Policy::parse("policy.toml", EXAMPLE).unwrap();
    use mamori_policy::KeyRefusal;
    let refusal = |role: &str| p.role(role).unwrap().key_refusal();
    assert_eq!(refusal("privacy_officer"), Some(KeyRefusal::MfaRequired));
    assert_eq!(refusal("support"), Some(KeyRefusal::TrainingRequired));
    assert_eq!(refusal("privacy_ops"), None, "declared for machines");
    assert_eq!(refusal("service"), None, "asks for neither");
    let ops = p.role("privacy_ops").unwrap();
    assert!(
        ops.machine
            && !ops
                .may(Action::View)
                .contains(p.category("payment").unwrap().id)
    );
    assert!(
        ops.may(Action::Delete)
            .contains(p.category("payment").unwrap().id)
    );
}

#[test]
fn training_valid_days_is_read_and_checked() {
    let p = Policy::parse("policy.toml", EXAMPLE).unwrap();
    assert_eq!(p.organisation.training_valid_days, 365);
    let monthly = broken("training_valid_days = 365", "training_valid_days = 30");
    let p = Policy::parse("policy.toml", &monthly).unwrap();
    assert_eq!(p.organisation.training_valid_days, 30);
    for bad in ["training_valid_days = 0", "training_valid_days = 2000"] {
        let source = broken("training_valid_days = 365", bad);
        assert_reports(
            &source,
            "training_valid_days must be",
            line_of(&source, bad),
        );
    }
}

#[test]
fn the_example_declares_its_vendors() {
    let p = Policy::parse("examples/policy.toml", EXAMPLE).unwrap_or_else(|e| panic!("{e}"));
    let mail = p.vendor("postbird").unwrap();
    let contact = p.category("contact").unwrap().id;
    assert!(mail.categories.contains(contact) && mail.countries == ["US"]);
    let day = |y, m, d| time::Date::from_calendar_date(y, m, d).unwrap();
    assert!(mail.contract_current(day(2026, time::Month::June, 1)));
    assert!(
        !mail.contract_current(day(2025, time::Month::December, 31)),
        "not started"
    );
    let ending = EXAMPLE.replace(
        "start = 2026-01-01 }",
        "start = 2026-01-01, end = 2027-12-31 }",
    );
    let ending = Policy::parse("policy.toml", &ending).unwrap_or_else(|e| panic!("{e}"));
    let mail = ending.vendor("postbird").unwrap();
    assert!(
        mail.contract_current(day(2027, time::Month::December, 31)),
        "its last day"
    );
    assert!(
        !mail.contract_current(day(2028, time::Month::January, 1)),
        "ended"
    );
    let courier = p.vendor("kuroneko_logistics").unwrap();
    assert!(courier.contract.end.is_none() && courier.transfers.is_empty());
    assert!(courier.contract_current(day(2099, time::Month::January, 1)));
}

/// Each refusal `policy check` owes a vendor, at the line of the mistake, with a hint.
#[test]
fn vendors_are_refused_what_their_purposes_laws_and_flags_do_not_allow() {
    let cases = [
        (
            "disclose = [\"kuroneko_logistics\", \"postbird\"]",
            "disclose = [\"kuroneko\", \"postbird\"]",
            "may disclose to unknown vendor `kuroneko`",
        ),
        // A category none of its purposes covers.
        (
            "categories = [\"contact\"]\ncountries = [\"US\"]",
            "categories = [\"contact\", \"orders\"]\ncountries = [\"US\"]",
            "which none of its purposes covers",
        ),
        // A sensitive category without the flag (order_fulfilment covers payment).
        (
            "categories = [\"contact\", \"address\", \"orders\"]",
            "categories = [\"contact\", \"payment\"]",
            "without `sensitive = true`",
        ),
        // A transfer without a safeguard the GDPR accepts.
        (
            "transfers = [\"sccs\", \"appi_equivalent_measures\"]",
            "transfers = [\"appi_equivalent_measures\"]",
            "a transfer under GDPR",
        ),
        // … nor one the APPI accepts.
        (
            "transfers = [\"sccs\", \"appi_equivalent_measures\"]",
            "transfers = [\"sccs\"]",
            "a transfer under APPI",
        ),
        (
            "transfers = [\"sccs\", \"appi_equivalent_measures\"]",
            "transfers = [\"scc\", \"appi_equivalent_measures\"]",
            "unknown transfer safeguard `scc`",
        ),
        (
            "countries = [\"JP\"]",
            "countries = [\"Japan\"]",
            "is not a country code",
        ),
        (
            "role = \"processor\"\npurposes = [\"marketing_email\"]",
            "role = \"procesor\"\npurposes = [\"marketing_email\"]",
            "unknown vendor role",
        ),
        (
            "purposes = [\"marketing_email\"]",
            "purposes = [\"marketing\"]",
            "unknown purpose `marketing`",
        ),
        (
            "start = 2026-01-01 }",
            "start = 2026-01-01, end = 2025-12-31 }",
            "ends before it starts",
        ),
        (
            "start = 2026-01-01 }",
            "start = \"2026-01-01\" }",
            "invalid type",
        ),
        (
            "start = 2025-04-01",
            "start = 2025-04-01T09:00:00Z",
            "expected a date",
        ),
        (
            "result = \"passed\"",
            "result = \"ok\"",
            "unknown review result",
        ),
        (
            "contact = \"privacy@postbird.example\"",
            "contact = \"call us\"",
            "neither an e-mail address",
        ),
        (
            "countries = [\"US\"]\ntransfers",
            "countries = [\"US\"]\nsensitive = true\ntransfers",
            "none of its categories is sensitive",
        ),
        (
            "[vendors.postbird]",
            "[vendors.PostBird]",
            "not a valid identifier",
        ),
    ];
    for (from, to, says) in cases {
        let source = broken(from, to);
        // A transfer is the country's: the problem points at the countries; a flag that means
        // nothing, at the vendor.
        let at = if says.contains("a transfer under") {
            "countries = [\"US\"]"
        } else if says.contains("none of its categories") {
            "[vendors.postbird]"
        } else {
            to.lines().next().unwrap()
        };
        let line = line_of(&source, at);
        let found = problems(&source);
        let hit = found.iter().find(|p| p.contains(says));
        let hit = hit.unwrap_or_else(|| panic!("{to}: expected {says:?}, got {found:#?}"));
        assert!(hit.contains("hint:"), "{hit}");
        if !["invalid type", "not a valid identifier", "ends before"].contains(&says) {
            assert!(
                hit.starts_with(&format!("policy.toml:{line}:")),
                "{to}: {hit}"
            );
        }
    }
}
