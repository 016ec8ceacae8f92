//! The staff console under the same server: a privacy officer enrolled (password and TOTP),
//! trained and signed in over HTTP, then the console's pages timed — home (request counts), the
//! request register (a page of the open queue), the customer lookup and view (two access
//! decisions and ledger events), the training course, My sessions (sessions and sign-in
//! methods), the ledger (the newest events), one event's inclusion proof, and the administration
//! pages (policy versions and changes, the privacy report, keys, webhooks, agents, holds) — each
//! as a p95 against the privacy center's My data page measured in the same run. And a refused
//! sign-in's time for a known address against an unknown one (the page must not tell them apart).

use mamori_crypto::second_factor::TotpSecret;

use super::*;

/// What signing in to the console takes.
pub(super) struct StaffLogin {
    email: String,
    password: String,
    /// A recovery code: the bench signs in over HTTP without waiting for a TOTP step the
    /// enrolment and the training sign-in have not used yet.
    recovery: String,
}

const EMAIL: &str = "bench.officer@example.com";
const PASSWORD: &str = "a bench officer's long password";

/// Invites, enrols and trains a privacy officer through the vault (as the console would).
pub(super) async fn enrol_officer(vault: &Vault) -> anyhow::Result<StaffLogin> {
    let invited = (vault.invite_staff(&context::operator(), EMAIL, "privacy_officer")).await?;
    let setup = (vault.enrolment_setup(&invited.token, None).await?).context("enrolment link")?;
    let secret = TotpSecret::from_base32(&setup.secret).context("TOTP secret")?;
    let now = (mamori_core::now_ms() / 1000) as u64;
    let enrolled = vault
        .enrol_staff(
            &invited.token,
            PASSWORD,
            &setup.pending,
            &secret.code_at(now),
        )
        .await?;
    // The next step's code (one step of skew is allowed): the enrolment took this one.
    let signed = (vault
        .sign_in_staff(EMAIL, PASSWORD, &secret.code_at(now + 30))
        .await?)
        .map_err(|r| anyhow::anyhow!("bench staff sign-in refused: {r:?}"))?;
    let session = (vault.staff_session(&signed.token).await?).context("staff session")?;
    let course =
        (vault.training_course(&session, mamori_policy::Language::En)).context("course")?;
    let answer = |id: &str| {
        course
            .questions
            .iter()
            .find(|q| q.id == id)
            .map(|q| q.answer())
    };
    (vault.pass_training(&session, answer).await?)
        .map_err(|failed| anyhow::anyhow!("bench training failed: {failed:?}"))?;
    Ok(StaffLogin {
        email: EMAIL.into(),
        password: PASSWORD.into(),
        recovery: enrolled.recovery_codes[0].clone(),
    })
}

fn between<'t>(text: &'t str, before: &str, after: &str) -> Option<&'t str> {
    let start = text.find(before)? + before.len();
    let end = text[start..].find(after)?;
    Some(&text[start..start + end])
}

fn cookie_of(response: &reqwest::Response, name: &str) -> Option<String> {
    (response.headers().get_all("set-cookie").iter())
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix(&format!("{name}=")))
        .and_then(|v| v.split(';').next())
        .map(str::to_string)
}

/// Signs in over HTTP as a browser would: the session cookie, and a form token of the session.
async fn sign_in(
    client: &reqwest::Client,
    url: &str,
    login: &StaffLogin,
) -> anyhow::Result<(String, String)> {
    let page = client.get(format!("{url}/console/sign-in")).send().await?;
    let browser = cookie_of(&page, "mamori_console_csrf").context("pre-session cookie")?;
    let html = page.text().await?;
    let csrf = between(&html, "name=\"csrf\" value=\"", "\"")
        .context("form token")?
        .to_string();
    let code = login.recovery.as_str();
    let form = [
        ("csrf", csrf.as_str()),
        ("email", &login.email),
        ("password", &login.password),
        ("code", code),
    ];
    let signed = (client.post(format!("{url}/console/sign-in")))
        .header("cookie", format!("mamori_console_csrf={browser}"))
        .form(&form)
        .send()
        .await?;
    let session = cookie_of(&signed, "mamori_staff").context("console sign-in refused")?;
    let home = (client.get(format!("{url}/console")))
        .header("cookie", format!("mamori_staff={session}"))
        .send()
        .await?
        .text()
        .await?;
    let csrf = between(&home, "name=\"csrf\" value=\"", "\"").context("session form token")?;
    Ok((session, csrf.to_string()))
}

/// The console pages' p95 (ms), 200 requests each, and their worst as a ratio to `my_data_p95`.
pub(super) async fn console_figures(
    server: &Server,
    my_data_p95: f64,
    out: &mut BTreeMap<&'static str, Value>,
) -> anyhow::Result<()> {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let (session, csrf) = sign_in(&client, &server.url, &server.keys.staff).await?;
    let cookie = format!("mamori_staff={session}");
    let lookup = [
        ("csrf", csrf.as_str()),
        ("kind", "email"),
        ("value", "customer0@example.com"),
        ("purpose", "data_subject_rights"),
    ];
    let mut worst: f64 = 0.0;
    for (name, path, post) in [
        ("page_console_home_p95_ms", "/console", false),
        ("page_console_requests_p95_ms", "/console/requests", false),
        ("page_console_customer_p95_ms", "/console/customers", true),
        ("page_console_training_p95_ms", "/console/training", false),
        ("page_console_sessions_p95_ms", "/console/sessions", false),
        ("page_console_ledger_p95_ms", "/console/ledger", false),
        ("page_console_proof_p95_ms", "/console/ledger/0", false),
        ("page_console_policy_p95_ms", "/console/admin/policy", false),
        ("page_console_report_p95_ms", "/console/admin/report", false),
        ("page_console_keys_p95_ms", "/console/admin/keys", false),
        (
            "page_console_webhooks_p95_ms",
            "/console/admin/webhooks",
            false,
        ),
        ("page_console_agents_p95_ms", "/console/admin/agents", false),
        ("page_console_holds_p95_ms", "/console/admin/holds", false),
    ] {
        let mut times = vec![];
        for _ in 0..200 {
            let url = format!("{}{path}", server.url);
            let request = match post {
                true => client.post(url).form(&lookup),
                false => client.get(url),
            };
            let sent = Instant::now();
            let response = request.header("cookie", &cookie).send().await?;
            let status = response.status();
            response.bytes().await?;
            anyhow::ensure!(
                status == reqwest::StatusCode::OK,
                "{path} answered {status}"
            );
            times.push(sent.elapsed().as_secs_f64() * 1000.0);
        }
        times.sort_by(f64::total_cmp);
        let p95 = times[times.len() * 95 / 100];
        worst = worst.max(p95);
        out.insert(name, json!(round3(p95)));
    }
    out.insert("console_vs_my_data", json!(round3(worst / my_data_p95)));
    Ok(())
}

/// A refused sign-in, known address (wrong password) against unknown address, alternated 20 times
/// each through the vault (the HTTP form limits attempts per address): the medians and their
/// ratio, which should stay near 1 — the unknown address is checked against a decoy hash.
pub(super) async fn sign_in_timing(
    vault: &Vault,
    out: &mut BTreeMap<&'static str, Value>,
) -> anyhow::Result<()> {
    const KNOWN: &str = "bench.timing@example.com";
    let invited = (vault.invite_staff(&context::operator(), KNOWN, "support")).await?;
    let setup = (vault.enrolment_setup(&invited.token, None).await?).context("enrolment link")?;
    let secret = TotpSecret::from_base32(&setup.secret).context("TOTP secret")?;
    let code = secret.code_at((mamori_core::now_ms() / 1000) as u64);
    (vault.enrol_staff(&invited.token, PASSWORD, &setup.pending, &code)).await?;
    let (mut known, mut unknown) = (vec![], vec![]);
    for round in 0..20 {
        for (email, times) in [
            (KNOWN, &mut known),
            ("nobody.here@example.com", &mut unknown),
        ] {
            let started = Instant::now();
            let answer = vault
                .sign_in_staff(email, "not the password at all", "000000")
                .await?;
            anyhow::ensure!(answer.is_err(), "round {round}: a wrong password signed in");
            times.push(started.elapsed().as_secs_f64() * 1000.0);
        }
    }
    let median = |times: &mut Vec<f64>| {
        times.sort_by(f64::total_cmp);
        times[times.len() / 2]
    };
    let (known, unknown) = (median(&mut known), median(&mut unknown));
    out.insert("sign_in_refused_known_median_ms", json!(round3(known)));
    out.insert("sign_in_refused_unknown_median_ms", json!(round3(unknown)));
    out.insert("sign_in_unknown_vs_known", json!(round3(unknown / known)));
    Ok(())
}
