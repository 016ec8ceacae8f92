//! The ledger: proofs, a second writer, streaming every leaf, letting go of the store.

use super::*;

/// The CLI beside a running server is a second process writing the same database. Each writer
/// takes in the events the other appended before adding its own, so both keep working and the
/// ledger stays one tree (a key created from the CLI used to leave the server failing every
/// write: the next leaf index it meant to use was taken).
pub(crate) async fn a_second_process_on_the_database_takes_turns_on_the_ledger(app: TestApp) {
    let store: std::sync::Arc<dyn mamori_store::Store> =
        std::sync::Arc::from(mamori_store::open(&app.database_url).await.unwrap());
    let keyring = mamori_crypto::Keyring::new(
        &mamori_crypto::MasterKey::from_hex(common::MASTER_HEX).unwrap(),
    );
    let signer = mamori_ledger::HeadSigner::from_seed(&keyring.ledger_signing_seed());
    let public = signer.public_key();
    let ledger = mamori_core::ledger::Ledger::start(store.clone(), signer)
        .await
        .unwrap();
    let cli = mamori_core::vault::Vault::new(
        app.vault.policy.clone(),
        std::sync::Arc::new(keyring),
        store.clone(),
        ledger,
    );
    let operator = mamori_core::Actor {
        id: "cli".into(),
        role: "privacy_officer".into(),
    };
    for round in 0..3 {
        let (_, key) = cli
            .create_api_key(&operator, "service", &format!("from the CLI {round}"))
            .await
            .unwrap();
        let created = app
            .client
            .post(app.url("/v1/subjects"))
            .bearer_auth(&key)
            .header("Mamori-Purpose", "order_fulfilment")
            .json(&json!({"data": {"contact": {"name": format!("Turn {round}")}}}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            created.status(),
            StatusCode::CREATED,
            "round {round}: {}",
            created.text().await.unwrap()
        );
    }
    // At the same time too: the two writers take turns (on PostgreSQL, an advisory lock).
    let service = &app.keys["service"];
    for round in 0..10 {
        let name = format!("at once {round}");
        let (cli_write, api_write) = tokio::join!(
            cli.create_api_key(&operator, "service", &name),
            app.client
                .post(app.url("/v1/subjects"))
                .bearer_auth(service)
                .header("Mamori-Purpose", "order_fulfilment")
                .json(&json!({"data": {"contact": {"name": format!("At once {round}")}}}))
                .send()
        );
        cli_write.unwrap();
        assert_eq!(
            api_write.unwrap().status(),
            StatusCode::CREATED,
            "round {round}"
        );
    }
    // One tree: every stored leaf once, in order, and the server's latest signed head is the
    // root of all of them, the CLI's included.
    app.ledger.flush().await.unwrap();
    let head = app.ledger.latest_head().unwrap();
    assert!(mamori_ledger::verify_head(&public, &head));
    let hashes = store.leaf_hashes(0, i64::MAX).await.unwrap();
    assert_eq!(hashes.len() as u64, head.head.size);
    let mut tree = mamori_ledger::MerkleTree::new();
    hashes.iter().for_each(|h| tree.push_leaf_hash(*h));
    let root = tree
        .root(head.head.size, &mamori_ledger::Blocks::default())
        .unwrap();
    assert_eq!(root, head.head.root);
    // The last commit of the rounds may be the CLI's; the server's flush then took it in.
    let cli_head = cli.latest_head().unwrap();
    assert!(cli_head.head.size <= head.head.size);
    assert_eq!(
        tree.root(cli_head.head.size, &mamori_ledger::Blocks::default())
            .ok(),
        Some(cli_head.head.root),
        "the CLI's last head is a past state of the same tree"
    );
}

/// Once every handle of a ledger is gone its writer stops and lets go of the store, so the
/// database connections close (a writer that kept itself alive leaked a pool per start, and a
/// long test run ran PostgreSQL out of connections).
pub(crate) async fn a_dropped_ledger_lets_go_of_its_store(app: TestApp) {
    let store: std::sync::Arc<dyn mamori_store::Store> =
        std::sync::Arc::from(mamori_store::open(&app.database_url).await.unwrap());
    let keyring = mamori_crypto::Keyring::new(
        &mamori_crypto::MasterKey::from_hex(common::MASTER_HEX).unwrap(),
    );
    let ledger = mamori_core::ledger::Ledger::start(
        store.clone(),
        mamori_ledger::HeadSigner::from_seed(&keyring.ledger_signing_seed()),
    )
    .await
    .unwrap();
    ledger.flush().await.unwrap();
    assert!(
        std::sync::Arc::strong_count(&store) > 1,
        "the writer holds the store"
    );
    drop(ledger);
    for _ in 0..250 {
        if std::sync::Arc::strong_count(&store) == 1 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!(
        "the ledger writer still holds the store 5 s after its last handle was dropped ({} holders)",
        std::sync::Arc::strong_count(&store)
    );
}

/// Hashes as the proof endpoints give them (base64).
fn hashes(list: &Value) -> Vec<Vec<u8>> {
    let list = list.as_array().unwrap();
    list.iter()
        .map(|h| b64::decode(h.as_str().unwrap()).unwrap())
        .collect()
}

/// A person read 300 times: more leaves than one block of the tree (256), so proofs of early
/// leaves read their block's leaf hashes back from the database. The signed head then, and its
/// size.
async fn ledger_of_more_than_one_block(app: &TestApp) -> (Value, u64) {
    let id = create(app, &customer("proof")).await;
    for _ in 0..300 {
        app.get_as(&format!("/v1/subjects/{id}"), "service", "order_fulfilment")
            .await;
    }
    let (_, head) = app
        .get_as("/v1/ledger/head", "service", "order_fulfilment")
        .await;
    let size = head["size"].as_u64().unwrap();
    assert!(size > 300, "{head}");
    (head, size)
}

pub(crate) async fn ledger_proofs_verify(app: TestApp) {
    let (head, size) = ledger_of_more_than_one_block(&app).await;
    let sth = app.ledger.latest_head().unwrap();
    assert!(mamori_ledger::verify_head(&app.ledger.public_key(), &sth));
    let root = b64::decode(head["root"].as_str().unwrap()).unwrap();
    for leaf in [0, size / 2, size - 1] {
        let path = format!("/v1/ledger/proof/inclusion?leaf={leaf}&size={size}");
        let (_, p) = app.get_as(&path, "service", "x").await;
        let leaf_hash = b64::decode(p["leaf_hash"].as_str().unwrap()).unwrap();
        verify_inclusion(leaf, size, &leaf_hash, &hashes(&p["proof"]), &root).unwrap();
        let stored = app.store.leaves(leaf, 1).await.unwrap();
        assert_eq!(
            mamori_ledger::leaf_hash(&stored[0].data).to_vec(),
            leaf_hash
        );
    }
    let path = format!("/v1/ledger/proof/consistency?first=3&second={size}");
    let (_, c) = app.get_as(&path, "service", "x").await;
    let r1 = b64::decode(c["first_root"].as_str().unwrap()).unwrap();
    verify_consistency(3, size, &r1, &root, &hashes(&c["proof"])).unwrap();
    let r = app
        .client
        .get(app.url("/v1/ledger/head"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

/// A leaf hash altered in the database no longer matches its block's root in the tree: the
/// proof is refused as an integrity failure, never answered from the altered hash.
pub(crate) async fn an_altered_leaf_hash_fails_its_proof(app: TestApp) {
    let (_, size) = ledger_of_more_than_one_block(&app).await;
    let first_leaf = app.store.leaves(0, 1).await.unwrap().remove(0);
    let alter = "UPDATE ledger_leaves SET leaf_hash = $1 WHERE leaf_hash = $2";
    app.execute_raw(alter, &[7u8; 32], &first_leaf.hash).await;
    let path = format!("/v1/ledger/proof/inclusion?leaf=1&size={size}");
    let r = app
        .as_role(Method::GET, &path, "service", "x")
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::INTERNAL_SERVER_ERROR, "integrity_failure").await;
}

/// Health, metrics (route templates, never ids) and the OpenAPI document.
pub(crate) async fn health_metrics_and_the_spec_are_served(app: TestApp) {
    let id = create(&app, &customer("metrics")).await;
    app.get_as(&format!("/v1/subjects/{id}"), "service", "order_fulfilment")
        .await;
    let get = async |path: &str| app.client.get(app.url(path)).send().await.unwrap();
    let h: Value = get("/healthz").await.json().await.unwrap();
    assert_eq!(h["status"], "ok");
    let m = get("/metrics").await.text().await.unwrap();
    assert!(
        m.contains("mamori_http_requests_total") && m.contains("route=\"/v1/subjects/{id}\""),
        "{m}"
    );
    assert!(!m.contains(&id), "metrics carry route templates, not ids");
    let spec: Value = get("/openapi.json").await.json().await.unwrap();
    assert!(spec["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in [
        "/v1/subjects",
        "/v1/subjects/{id}",
        "/v1/subjects/{id}/records",
        "/v1/ledger/head",
        "/v1/ledger/proof/inclusion",
        "/v1/ledger/proof/consistency",
        "/v1/consent/{id}",
        "/v1/consent/filter",
        "/v1/webhooks",
        "/v1/requests",
        "/v1/scrub",
        "/v1/agent/{agent_id}",
        "/v1/data-rights-request",
        "/v1/data-rights-request/{request_id}",
        "/healthz",
    ] {
        assert!(spec["paths"].get(path).is_some(), "spec misses {path}");
    }
}

/// The streaming read `ledger verify` uses returns exactly the stored leaves, in order.
pub(crate) async fn ledger_streams_every_leaf_in_order(app: TestApp) {
    for i in 0..5 {
        let body = json!({"data": {"contact": {"name": format!("Stream {i}")}}});
        create(&app, &body).await;
    }
    let stored = app.store.leaves(0, 100_000).await.unwrap();
    assert!(stored.len() >= 5);
    let mut streamed = Vec::new();
    let mut pages = app.store.stream_leaves(0);
    while let Some(page) = pages.recv().await {
        streamed.extend(page.unwrap());
    }
    assert_eq!(streamed.len(), stored.len());
    for (a, b) in streamed.iter().zip(&stored) {
        assert_eq!((a.index, &a.data, a.hash), (b.index, &b.data, b.hash));
    }
    let mut tail = app.store.stream_leaves(3);
    let first = tail.recv().await.unwrap().unwrap();
    assert_eq!(first[0].index, 3);
}

/// The signing keys are published as a JWK Set; the head names its key by the RFC 7638
/// thumbprint the set lists, and consent receipts carry the same `kid`.
pub(crate) async fn the_signing_keys_are_published_as_a_jwk_set(app: TestApp) {
    use base64::Engine;
    let id = create(&app, &customer("jwks")).await;
    let (_, head) = app
        .get_as("/v1/ledger/head", "service", "order_fulfilment")
        .await;
    let (_, set) = app
        .get_as("/v1/ledger/keys", "service", "order_fulfilment")
        .await;
    let keys = set["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1, "{set}");
    let key = &keys[0];
    assert_eq!(
        (&key["kty"], &key["crv"], &key["alg"]),
        (&json!("OKP"), &json!("Ed25519"), &json!("EdDSA"))
    );
    assert_eq!(key["kid"], head["key_id"]);
    let public = hex::decode(head["public_key"].as_str().unwrap()).unwrap();
    let x = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&public);
    assert_eq!(key["x"], json!(x));
    assert_eq!(key["valid_until_ms"], Value::Null);
    let body = json!({"purpose": "marketing_email", "channel": "email", "granted": true});
    let granted: Value = consent(&app, &id, "service", body)
        .await
        .json()
        .await
        .unwrap();
    let receipt = granted["receipt"].as_str().unwrap();
    let header = receipt.split('.').next().unwrap();
    let header: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(header)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(header["kid"], key["kid"]);
}
