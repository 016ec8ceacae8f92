//! My choices, Download my data, and Who accessed my data.

use super::*;

/// My choices: one click grants or withdraws, recorded as the person's own decision (source
/// portal) and effective at once; "Do not sell or share" withdraws every sale/sharing purpose.
pub(crate) async fn my_choices_change_consent_in_one_click(app: TestApp) {
    let id = create(&app, &customer("choices")).await;
    let (client, jar, csrf) = signed_in_browser(&app, "ada.choices@example.com").await;
    let page = |client: &reqwest::Client| {
        client
            .get(app.url("/privacy/choices?lang=en"))
            .header("cookie", jar.clone())
            .send()
    };
    let r = page(&client).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("id=\"state-marketing_email-email\">E-mail: Off"),
        "off by default: {html}"
    );
    let choose = async |purpose: &str, channel: &str, granted: bool, token: &str| {
        let form = [
            ("purpose", purpose),
            ("channel", channel),
            ("granted", if granted { "true" } else { "false" }),
            ("csrf", token),
            ("lang", "en"),
        ];
        client
            .post(app.url("/privacy/choices"))
            .header("cookie", jar.clone())
            .form(&form)
            .send()
            .await
            .unwrap()
    };
    let r = choose("marketing_email", "email", true, &csrf).await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Saved") && html.contains("E-mail: On"),
        "{html}"
    );
    let v: Value = consent_check(&app, &id, "purpose=marketing_email&channel=email")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["allowed"], true);
    let rows = app
        .store
        .consents(&mamori_core::parse_id(&id).unwrap())
        .await
        .unwrap();
    assert!(rows.iter().all(|r| r.source == "portal"));

    // Sharing granted, then "Do not sell or share" turns it off again.
    choose("partner_sharing", "email", true, &csrf).await;
    let r = client
        .post(app.url("/privacy/choices/do-not-sell"))
        .header("cookie", jar.clone())
        .form(&[("csrf", csrf.as_str()), ("lang", "en")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("we will not sell or share")
    );
    let v: Value = consent_check_as(
        &app,
        "service",
        &id,
        "purpose=partner_sharing&channel=email",
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(
        (v["allowed"].clone(), v["reason"].clone()),
        (json!(false), json!("withdrawn"))
    );

    // Bad input: forged token, a purpose that is not consent-based, no session.
    let before = app
        .store
        .consents(&mamori_core::parse_id(&id).unwrap())
        .await
        .unwrap();
    let r = choose("marketing_email", "email", false, "forged").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = choose("order_fulfilment", "", false, &csrf).await;
    problem(r, StatusCode::UNPROCESSABLE_ENTITY, "not_consent_based").await;
    let r = client
        .post(app.url("/privacy/choices/do-not-sell"))
        .header("cookie", jar.clone())
        .form(&[("csrf", "forged"), ("lang", "en")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = choose("marketing_email", "fax", true, &csrf).await;
    problem(r, StatusCode::UNPROCESSABLE_ENTITY, "unknown_channel").await;
    let after = app
        .store
        .consents(&mamori_core::parse_id(&id).unwrap())
        .await
        .unwrap();
    assert_eq!(before, after, "refused choices change nothing");
    let r = client
        .get(app.url("/privacy/choices"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

/// Someone with a support ticket and a consent history (a grant, a withdrawal, a grant again);
/// their id.
async fn customer_with_a_ticket_and_history(app: &TestApp) -> String {
    let id = create(app, &customer("download")).await;
    let ticket = json!({"category": "support_tickets", "data": {"subject": "Late parcel", "message": "Where is it?", "status": "open"}});
    let path = format!("/v1/subjects/{id}/records");
    let r = app
        .as_role(Method::POST, &path, "support", "customer_support")
        .json(&ticket);
    assert_eq!(r.send().await.unwrap().status(), StatusCode::CREATED);
    for granted in [true, false, true] {
        let change = json!({"purpose": "marketing_email", "channel": "email", "granted": granted});
        assert_eq!(
            consent(app, &id, "service", change).await.status(),
            StatusCode::OK
        );
    }
    id
}

/// A downloaded zip, read file by file.
struct Zip(zip::ZipArchive<std::io::Cursor<Vec<u8>>>);

impl Zip {
    fn text(&mut self, name: &str) -> String {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut self.0.by_name(name).unwrap(), &mut text).unwrap();
        text
    }

    fn json(&mut self, name: &str) -> Value {
        serde_json::from_str(&self.text(name)).unwrap()
    }
}

/// The signed-in person's own download.
async fn download(app: &TestApp) -> Zip {
    let (client, jar, _) = signed_in_browser(app, "ada.download@example.com").await;
    let before = ledger_size(app).await;
    let r = client
        .get(app.url("/privacy/me/download"))
        .header("cookie", jar);
    let r = r.send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/zip");
    assert_eq!(r.headers()["cache-control"], "no-store");
    let disposition = r.headers()["content-disposition"].to_str().unwrap();
    assert!(disposition.contains("attachment"));
    let bytes = r.bytes().await.unwrap();
    assert!(
        ledger_size(app).await > before,
        "the export's reads are ledgered"
    );
    Zip(zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap())
}

/// Download my data: a zip with every field, record and consent, in JSON and CSV, for the
/// signed-in person only; never cached; registered as a fulfilled access request.
pub(crate) async fn download_my_data_is_a_zip_of_json_and_csv(app: TestApp) {
    let id = customer_with_a_ticket_and_history(&app).await;
    let mut zip = download(&app).await;
    let data = zip.json("data.json");
    assert_eq!(data["id"], json!(id));
    assert_eq!(data["data"]["contact"]["email"], "ada.download@example.com");
    assert_eq!(
        zip.json("records.json")[0]["data"]["subject"],
        "Late parcel"
    );
    let history = zip.json("consent-history.json");
    let history = history.as_array().unwrap();
    let granted: Vec<bool> = history
        .iter()
        .map(|h| h["granted"].as_bool().unwrap())
        .collect();
    assert_eq!(
        granted,
        [true, false, true],
        "the whole history: {history:?}"
    );
    for h in history {
        let check = verify_receipt(&app, "service", h["receipt"].as_str().unwrap()).await;
        assert_eq!(check.status(), StatusCode::OK, "each receipt verifies");
    }
    assert_eq!(zip.text("consent-history.csv").lines().count(), 4);
    let records = zip.text("records.csv");
    assert!(records.contains("support_tickets") && records.contains("Late parcel"));
    assert_eq!(zip.json("consents.json")[0]["purpose"], "marketing_email");
    assert!(zip.text("data.csv").starts_with("category,field,value\n"));
    let shared = zip.text("disclosures.csv");
    assert!(
        shared.starts_with("vendor,countries,purpose,categories,disclosed_at\n"),
        "{shared}"
    );
    assert_eq!(
        zip.json("disclosures.json"),
        json!([]),
        "nothing was disclosed about them"
    );
    assert!(
        zip.text("data.csv")
            .contains("contact,email,ada.download@example.com")
    );
    assert!(
        zip.text("consents.csv")
            .contains("marketing_email,email,true")
    );
    // The access log: the ticket added by support, the consent recorded by the service.
    let log = zip.json("access-log.json");
    let log = log.as_array().unwrap();
    let by = |action: &str, role: &str| {
        log.iter()
            .any(|e| e["action"] == action && e["role"] == role && e["allowed"] == true)
    };
    assert!(
        by("record.create", "support") && by("consent.grant", "service"),
        "{log:?}"
    );
    let csv = zip.text("access-log.csv");
    assert!(csv.starts_with("event,at,role,purpose,action,categories,allowed,reason\n"));
    assert!(csv.contains(",support,customer_support,record.create,support_tickets,true,"));
    let (browser, _, _) = sign_in_page(&app).await;
    let r = browser
        .get(app.url("/privacy/me/download"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "signed out: no download");
    let path = format!("/v1/requests?subject={id}&state=fulfilled");
    let (_, register) = app
        .get_as(&path, "privacy_officer", "data_subject_rights")
        .await;
    let kinds: Vec<&str> = register["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["access"], "{register}");
}

/// Staff answering a request export the same through the API, with a role that may; it is
/// not a request of the person's, and bad or unknown ids are clear errors.
pub(crate) async fn staff_export_the_same_through_the_api(app: TestApp) {
    let id = customer_with_a_ticket_and_history(&app).await;
    let mut zip = download(&app).await;
    let path = format!("/v1/subjects/{id}/export");
    let (status, v) = app
        .get_as(&path, "privacy_officer", "data_subject_rights")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["consent_history"], zip.json("consent-history.json"));
    assert_eq!(v["records"], zip.json("records.json"));
    assert_eq!(v["data"]["contact"]["email"], "ada.download@example.com");
    assert_eq!(v["consents"][0]["purpose"], "marketing_email");
    let log = v["access_log"].as_array().unwrap();
    assert!(log.iter().any(|e| e["action"] == "record.create"));
    let r = app
        .as_role(Method::GET, &path, "analyst", "analytics")
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::FORBIDDEN, "purpose_not_allowed_for_role").await;
    let (status, _) = app
        .get_as(
            "/v1/subjects/not-an-id/export",
            "privacy_officer",
            "data_subject_rights",
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let unknown = format!("/v1/subjects/{}/export", uuid::Uuid::from_u128(42));
    let r = app.as_role(
        Method::GET,
        &unknown,
        "privacy_officer",
        "data_subject_rights",
    );
    problem(
        r.send().await.unwrap(),
        StatusCode::NOT_FOUND,
        "subject_not_found",
    )
    .await;
    let path = format!("/v1/requests?subject={id}&state=fulfilled");
    let (_, register) = app
        .get_as(&path, "privacy_officer", "data_subject_rights")
        .await;
    assert_eq!(
        register["requests"].as_array().unwrap().len(),
        1,
        "only the person's own download"
    );
}

/// The events about a person as the ledger holds them, newest first (a full scan: the truth
/// the subject index must agree with).
pub(crate) async fn events_about(app: &TestApp, id: &str) -> Vec<u64> {
    let subject = mamori_core::parse_id(id).unwrap();
    let mut all: Vec<u64> = app
        .store
        .leaves(0, 1_000_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|l| l.subject_id == Some(subject))
        .map(|l| l.index)
        .collect();
    all.reverse();
    all
}

pub(crate) async fn access_log_page(app: &TestApp, id: &str, query: &str) -> Value {
    let r = app
        .as_role(
            Method::GET,
            &format!("/v1/subjects/{id}/access-log{query}"),
            "privacy_officer",
            "data_subject_rights",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

/// Ada and someone else, each read 21 times by support (and Ada once refused to an analyst),
/// with enough indexing passes between for level-0 segments to be merged (16 make one); the
/// last read of Ada's is not indexed yet. Their ids and the segments after the passes.
async fn two_people_read_by_support(
    app: &TestApp,
) -> (String, String, Vec<mamori_store::LeafSegment>) {
    let ada = create(app, &customer("activity")).await;
    let mut someone_else = customer("activity-other");
    someone_else["data"]["contact"]["phone"] = json!("+33 1 23 45 67 89");
    let other = create(app, &someone_else).await;
    let read = async |id: &str, role: &str, purpose: &str| {
        app.get_as(&format!("/v1/subjects/{id}"), role, purpose)
            .await
            .0
    };
    assert_eq!(
        read(&ada, "analyst", "order_fulfilment").await,
        StatusCode::FORBIDDEN
    );
    for _ in 0..20 {
        assert_eq!(
            read(&ada, "support", "customer_support").await,
            StatusCode::OK
        );
        assert_eq!(
            read(&other, "support", "customer_support").await,
            StatusCode::OK
        );
        mamori_core::subject_index::pass(&app.ledger, &*app.store)
            .await
            .unwrap();
    }
    let segments = app.store.leaf_segments().await.unwrap();
    assert!(segments.iter().all(|s| s.level >= 0), "{segments:?}");
    assert!(segments.len() < 16, "merged: {segments:?}");
    // One more read not indexed yet: found by the scan of the newest leaves.
    assert_eq!(
        read(&ada, "support", "customer_support").await,
        StatusCode::OK
    );
    (ada, other, segments)
}

/// Commits one change to the subject index, as the indexer would.
async fn index_change(app: &TestApp, change: mamori_store::Change) -> mamori_store::JobOutcome {
    app.ledger.submit(vec![change], vec![]).await.unwrap()
}

/// The access log holds every ledger event about the person and none about anyone else,
/// found through the subject index across merges (and before indexing), paged without gaps.
pub(crate) async fn the_access_log_is_whole_and_pages_without_gaps(app: TestApp) {
    let (ada, _, _) = two_people_read_by_support(&app).await;
    let truth = events_about(&app, &ada).await;
    assert!(truth.len() >= 22, "{truth:?}");
    let page = access_log_page(&app, &ada, "?limit=500").await;
    assert_eq!(event_numbers(&page), truth);
    assert!(page["older"].is_null());
    let events = page["events"].as_array().unwrap();
    let refused = |e: &&Value| {
        e["allowed"] == false
            && e["role"] == "analyst"
            && e["reason"] == "purpose_not_allowed_for_role"
    };
    assert!(events.iter().any(|e| refused(&e)), "{page}");
    assert!(events.iter().any(|e| e["action"] == "subject.read"
        && e["purpose"] == "customer_support"
        && e["categories"].as_array().is_some_and(|c| !c.is_empty())));
    // Paging: two at a time, no overlap, no gap (reading the log is itself an event).
    let truth = events_about(&app, &ada).await;
    let first = access_log_page(&app, &ada, "?limit=2").await;
    let older = first["older"].as_u64().unwrap();
    let second = access_log_page(&app, &ada, &format!("?limit=2&before={older}")).await;
    let both: Vec<u64> = event_numbers(&first)
        .into_iter()
        .chain(event_numbers(&second))
        .collect();
    assert_eq!(both, truth[..4]);
}

/// A merge that stopped half-way is invisible, and tidied away at the next start.
pub(crate) async fn a_half_finished_merge_is_invisible_and_tidied(app: TestApp) {
    use mamori_store::{Change, KeyRange};
    let (ada, _, segments) = two_people_read_by_support(&app).await;
    let visible: Vec<i64> = segments.iter().map(|s| s.segment).collect();
    let target = visible.iter().max().unwrap() + 100;
    index_change(&app, Change::BeginSegmentMerge { target })
        .await
        .unwrap();
    let chunk = Change::MergeSegmentChunk {
        sources: visible,
        target,
        keys: KeyRange::ALL,
    };
    index_change(&app, chunk).await.unwrap();
    let truth = events_about(&app, &ada).await;
    assert_eq!(
        event_numbers(&access_log_page(&app, &ada, "?limit=500").await),
        truth
    );
    mamori_core::subject_index::tidy(&app.ledger, &*app.store)
        .await
        .unwrap();
    let after = app.store.leaf_segments().await.unwrap();
    assert!(after.iter().all(|s| s.segment != target), "{after:?}");
}

/// A merge in several chunks, cut at sampled keys (here one falls inside Ada's own run of
/// leaves), copies every entry exactly once; the retired segments are then dropped chunk by
/// chunk until none is left.
pub(crate) async fn a_chunked_merge_copies_every_entry_once(app: TestApp) {
    use mamori_store::{Change, KeyRange, LeafKey};
    let (ada, other, current) = two_people_read_by_support(&app).await;
    let truth = events_about(&app, &ada).await;
    let sources: Vec<i64> = current.iter().map(|s| s.segment).collect();
    let entries: i64 = current.iter().map(|s| s.entries).sum();
    let target = sources.iter().max().unwrap() + 1;
    let key = |id: &str, idx: u64| LeafKey {
        subject: mamori_core::parse_id(id).unwrap(),
        idx: idx as i64,
    };
    let bounds = [key(&ada, truth[truth.len() / 2]), key(&other, 0)];
    let mut changes = vec![Change::BeginSegmentMerge { target }];
    for keys in KeyRange::split_at(&bounds) {
        changes.push(Change::MergeSegmentChunk {
            sources: sources.clone(),
            target,
            keys,
        });
    }
    changes.push(Change::FinishSegmentMerge {
        sources: sources.clone(),
        target,
        level: 1,
    });
    for change in changes {
        index_change(&app, change).await.unwrap();
    }
    // Retired segments lose their entries a few at a time (the indexer takes 8,192 a job).
    let mut drops = 0;
    for &segment in &sources {
        let drop = || Change::DropSegmentEntries { segment, limit: 3 };
        while index_change(&app, drop()).await != Err(mamori_store::JobError::Gone) {
            drops += 1;
        }
    }
    assert!(
        drops as i64 >= entries / 3,
        "{drops} drops of {entries} entries"
    );
    mamori_core::subject_index::tidy(&app.ledger, &*app.store)
        .await
        .unwrap();
    // (The server's own indexer may have added a segment of newer leaves meanwhile.)
    let segments = app.store.leaf_segments().await.unwrap();
    assert!(
        segments.iter().any(|s| s.segment == target && s.level == 1),
        "{segments:?}"
    );
    assert!(
        segments
            .iter()
            .all(|s| s.level >= 0 && !sources.contains(&s.segment)),
        "{segments:?}"
    );
    let truth = events_about(&app, &ada).await;
    assert_eq!(
        event_numbers(&access_log_page(&app, &ada, "?limit=500").await),
        truth
    );
}

/// Bad access-log queries and roles that may not read the log.
pub(crate) async fn bad_access_log_queries_are_refused(app: TestApp) {
    let ada = create(&app, &customer("activity")).await;
    let log = format!("/v1/subjects/{ada}/access-log");
    let r = app
        .as_role(Method::GET, &log, "support", "customer_support")
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::FORBIDDEN, "purpose_not_allowed_for_role").await;
    for (query, status, code) in [
        ("?limit=0", StatusCode::UNPROCESSABLE_ENTITY, "out_of_range"),
        ("?before=x", StatusCode::BAD_REQUEST, "invalid_query"),
    ] {
        let path = format!("{log}{query}");
        let r = app.as_role(Method::GET, &path, "privacy_officer", "data_subject_rights");
        problem(r.send().await.unwrap(), status, code).await;
    }
}

/// The person's own page, in each language, and a proof for one event that checks against the
/// signed head; someone else's event, a bad number and no session are refused.
pub(crate) async fn who_accessed_my_data_with_proofs(app: TestApp) {
    let (ada, other, _) = two_people_read_by_support(&app).await;
    let truth = events_about(&app, &ada).await;
    let (client, jar, _) = signed_in_browser(&app, "ada.activity@example.com").await;
    let get = async |path: &str| {
        client
            .get(app.url(path))
            .header("cookie", &jar)
            .send()
            .await
            .unwrap()
    };
    let r = get("/privacy/me/activity?lang=fr").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let html = r.text().await.unwrap();
    let french = ["Qui a accédé à mes données", "Refusé", "analyst"];
    assert!(french.iter().all(|t| html.contains(t)), "{html}");
    let staff_read = *truth.iter().rev().nth(3).unwrap();
    assert!(html.contains(&format!("id=\"event-{staff_read}\"")));
    assert!(!html.contains("activity-other"));
    let ja = get("/privacy/me/activity?lang=ja")
        .await
        .text()
        .await
        .unwrap();
    assert!(ja.contains("データへのアクセス履歴"));
    let r = get(&format!("/privacy/me/activity/proof?leaf={staff_read}")).await;
    assert_eq!(r.status(), StatusCode::OK);
    let proof: Value = r.json().await.unwrap();
    let leaf_data = b64::decode(proof["leaf_data"].as_str().unwrap()).unwrap();
    let leaf_hash = mamori_ledger::leaf_hash(&leaf_data);
    assert_eq!(b64::encode(&leaf_hash), proof["leaf_hash"]);
    let sth: mamori_ledger::SignedTreeHead =
        serde_json::from_value(proof["signed_tree_head"].clone()).unwrap();
    let key = b64::decode(proof["public_key"].as_str().unwrap()).unwrap();
    let key = mamori_ledger::VerifyingKey::from_bytes(&key.try_into().unwrap()).unwrap();
    assert_eq!(key, app.ledger.public_key());
    assert!(mamori_ledger::verify_head(&key, &sth));
    let path: Vec<Vec<u8>> = proof["audit_path"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| b64::decode(h.as_str().unwrap()).unwrap())
        .collect();
    verify_inclusion(staff_read, sth.head.size, &leaf_hash, &path, &sth.head.root).unwrap();
    assert_eq!(proof["event"]["subject"], ada.as_str());
    let theirs = events_about(&app, &other).await[0];
    let r = get(&format!("/privacy/me/activity/proof?leaf={theirs}")).await;
    problem(r, StatusCode::NOT_FOUND, "no_such_event").await;
    problem(
        get("/privacy/me/activity/proof?leaf=-1").await,
        StatusCode::BAD_REQUEST,
        "invalid_query",
    )
    .await;
    let r = client
        .get(app.url("/privacy/me/activity"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}
