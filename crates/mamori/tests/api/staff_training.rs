//! Training before access, under the example policy as shipped: a member of staff of a role
//! with `require_training` cannot act until they pass the role's course (generated from the
//! policy, in their language); failing and passing are ledgered; the record expires.

use std::time::Duration;

use mamori_core::staff::TrainingStatus;
use mamori_policy::Language;
use mamori_proto::ErrorCode;
use reqwest::StatusCode;

use crate::common::{Backend, EXAMPLE_POLICY, TestApp, spawn_app_with_policy};
use crate::staff::now_seconds;
use crate::staff_sign_in::{console_get, enrol, sign_in, staff_events};
use crate::{between, form_csrf};

async fn staff_act_only_with_current_training(backend: Backend) {
    let Some(app) = spawn_app_with_policy(backend, EXAMPLE_POLICY).await else {
        return;
    };
    let mia = enrol(&app, "mia.training@example.com", "privacy_officer").await;
    app.clock.advance(Duration::from_secs(30));
    let code = mia.secret.code_at(now_seconds(&app));
    let cookie = sign_in(&app, &mia.email, &mia.password, &code)
        .await
        .1
        .unwrap();
    let session = app.vault.staff_session(&cookie).await.unwrap().unwrap();
    let refused = app.vault.staff_actor(&session, "request.list").await;
    assert_eq!(refused.unwrap_err().code(), ErrorCode::TrainingRequired);
    let training_listed = async || {
        let officer = mamori_core::Actor {
            id: "test:officer".into(),
            role: "privacy_officer".into(),
        };
        let listed = app.vault.list_staff(&officer).await.unwrap();
        listed[0].training.unwrap()
    };
    assert_eq!(training_listed().await, TrainingStatus::Required);
    let (_, home) = console_get(&app, &cookie, "/console").await;
    assert!(
        home.contains("id=\"take-training\"") && !home.contains("id=\"overdue\""),
        "{home}"
    );

    let (status, page) = console_get(&app, &cookie, "/console/training?lang=fr").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("Vérifier qui demande") && page.matches("<fieldset").count() == 4,
        "{page}"
    );
    let course = app.vault.training_course(&session, Language::En).unwrap();
    let post = async |answers: Vec<(String, String)>| {
        let mut form = vec![
            ("csrf".to_string(), form_csrf(&page)),
            ("lang".into(), "fr".into()),
        ];
        form.extend(answers);
        let r = (reqwest::Client::new().post(app.url("/console/training")))
            .header("cookie", format!("mamori_staff={cookie}"))
            .form(&form)
            .send()
            .await
            .unwrap();
        (r.status(), r.text().await.unwrap())
    };
    let all_no = course
        .questions
        .iter()
        .map(|q| (format!("q_{}", q.id), "no".to_string()));
    let (status, failed) = post(all_no.collect()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(failed.contains("Réponse inexacte"), "{failed}");
    let right = course
        .questions
        .iter()
        .map(|q| (format!("q_{}", q.id), q.answer().to_string()));
    let (status, passed) = post(right.collect()).await;
    assert_eq!(status, StatusCode::OK, "{passed}");
    assert!(
        between(&passed, "id=\"training-status\">", "<").contains("valable jusqu"),
        "{passed}"
    );
    let session = app.vault.staff_session(&cookie).await.unwrap().unwrap();
    let actor = app
        .vault
        .staff_actor(&session, "request.list")
        .await
        .unwrap();
    assert_eq!(actor.role, "privacy_officer");
    assert!(matches!(
        training_listed().await,
        TrainingStatus::Current { .. }
    ));
    let (_, home) = console_get(&app, &cookie, "/console").await;
    assert!(
        home.contains("id=\"overdue\""),
        "trained: the register opens: {home}"
    );
    let events = staff_events(&app).await;
    for (action, outcome) in [
        ("request.list", "training_required"),
        ("staff.training_failed", "wrong_answers"),
        // The version in force (this test app never published its policy: 0).
        ("staff.training_passed:v0", "allowed"),
    ] {
        let found = events.iter().any(|(a, o)| a == action && o == outcome);
        assert!(found, "{action} {outcome}: {events:?}");
    }
    // Thirty days before it expires, one reminder; a year and a day on, it has expired.
    app.clock.advance(Duration::from_secs(336 * 86_400));
    reminded_once(&app, &mia.email).await;
    app.clock.advance(Duration::from_secs(30 * 86_400));
    let code = mia.secret.code_at(now_seconds(&app));
    let cookie = sign_in(&app, &mia.email, &mia.password, &code)
        .await
        .1
        .unwrap();
    let session = app.vault.staff_session(&cookie).await.unwrap().unwrap();
    let refused = app.vault.staff_actor(&session, "request.list").await;
    assert_eq!(refused.unwrap_err().code(), ErrorCode::TrainingExpired);
}

/// The reminder: an outbox event naming the staff id and role (no address), an e-mail to the
/// person, ledgered; once.
async fn reminded_once(app: &TestApp, email: &str) {
    let outbox = std::sync::Arc::new(mamori_core::mail::DemoOutbox::default());
    let mailer: std::sync::Arc<dyn mamori_core::mail::Mailer> = outbox.clone();
    assert_eq!(
        app.vault
            .send_training_reminders(Some(&mailer))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        app.vault
            .send_training_reminders(Some(&mailer))
            .await
            .unwrap(),
        0,
        "once"
    );
    let mails = outbox.messages();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].to, email);
    assert!(
        mails[0].subject.contains("your training expires soon"),
        "{:?}",
        mails[0]
    );
    let (status, feed) = app
        .get_as("/v1/events?after=0", "service", "order_fulfilment")
        .await;
    assert_eq!(status, StatusCode::OK);
    let text = feed.to_string();
    assert!(
        text.contains("staff.training_expiring") && text.contains("privacy_officer"),
        "{text}"
    );
    assert!(
        !text.contains(email),
        "the feed carries ids, never the address"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_act_only_with_current_training_on_sqlite() {
    staff_act_only_with_current_training(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_act_only_with_current_training_on_postgres() {
    staff_act_only_with_current_training(Backend::Postgres).await;
}
