//! mamori serve: codes by SMTP and SMS, TLS, webhooks surviving a kill, the CLI beside a running
//! server.

use super::*;

/// A consent change committed while its webhook target is down, then the server killed with
/// SIGKILL: after a restart the event is still delivered (the outbox is the source of truth).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_event_survives_a_killed_server() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    assert!(mamori(&data, &["init"]).status.success());
    // The receiver listens on loopback, which only an [outbound] allow opens.
    std::fs::write(
        data.join("mamori.toml"),
        "[outbound]\nallow = [\"127.0.0.1\"]\n",
    )
    .unwrap();
    let key = text(
        &mamori(
            &data,
            &["apikey", "create", "--role", "service", "--name", "t"],
        )
        .stdout,
    )
    .trim()
    .to_string();
    let hook_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let hook = format!("http://127.0.0.1:{hook_port}/hook");
    let add = mamori(
        &data,
        &[
            "webhook",
            "add",
            "--url",
            &hook,
            "--events",
            "consent.changed",
        ],
    );
    assert!(add.status.success(), "{}", text(&add.stderr));

    let client = reqwest::Client::new();
    let (mut server, base) = serve(&data);
    wait_up(&client, &base).await;
    let created: serde_json::Value = client
        .post(format!("{base}/v1/subjects"))
        .bearer_auth(&key)
        .header("mamori-purpose", "order_fulfilment")
        .json(&serde_json::json!({"data": {"contact": {"name": "Kill Test"}}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap().to_string();
    let r = client
        .put(format!("{base}/v1/consent/{id}"))
        .bearer_auth(&key)
        .json(
            &serde_json::json!({"purpose": "marketing_email", "channel": "email", "granted": true}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // Let the worker try (the target is down), then kill the server without warning.
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    server.kill().unwrap();
    server.wait().unwrap();

    // The target comes up — `mamori webhook listen`, checking signatures with the secret
    // `webhook add` printed — and so does the server again.
    let secret = text(&add.stdout)
        .trim()
        .split('\t')
        .nth(1)
        .unwrap()
        .to_string();
    let mut listener = Command::new(env!("CARGO_BIN_EXE_mamori"))
        .args([
            "webhook",
            "listen",
            "--on",
            &format!("127.0.0.1:{hook_port}"),
        ])
        .args(["--secret", &secret])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let printed = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let sink = printed.clone();
    let mut stdout = listener.stdout.take().unwrap();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n @ 1..) = std::io::Read::read(&mut stdout, &mut buf) {
            sink.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    let (mut server, base) = serve(&data);
    wait_up(&client, &base).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !printed.lock().unwrap().contains("consent.changed") {
        assert!(std::time::Instant::now() < deadline, "the event was lost");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    server.kill().unwrap();
    server.wait().unwrap();
    listener.kill().unwrap();
    listener.wait().unwrap();
    let printed = printed.lock().unwrap().clone();
    let (head, body) = printed.split_once('\n').unwrap();
    assert!(head.ends_with("signature ok"), "{printed}");
    let body: serde_json::Value = serde_json::from_str(body.lines().next().unwrap()).unwrap();
    assert_eq!(body["type"], "consent.changed");
    assert_eq!(body["data"]["subject"], id.as_str());
}

/// The CLI beside a running server is a second process writing the same database: a key it
/// creates works on the server at once, one it revokes stops working within the key cache's
/// 2 s, the server goes on writing after it (it used to fail every write from then on: the
/// ledger index it meant to use was taken), and the ledger still verifies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_writes_beside_a_running_server() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    assert!(mamori(&data, &["init"]).status.success());
    let create_key = |name: &str| {
        let out = mamori(
            &data,
            &["apikey", "create", "--role", "service", "--name", name],
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout).trim().to_string()
    };
    let first = create_key("before");
    let client = reqwest::Client::new();
    let (mut server, base) = serve(&data);
    wait_up(&client, &base).await;
    let create = async |key: &str, name: &str| {
        client
            .post(format!("{base}/v1/subjects"))
            .bearer_auth(key)
            .header("mamori-purpose", "order_fulfilment")
            .json(&serde_json::json!({"data": {"contact": {"name": name}}}))
            .send()
            .await
            .unwrap()
            .status()
    };
    assert_eq!(create(&first, "One").await, 201);
    let second = create_key("beside");
    assert_eq!(create(&second, "Two").await, 201);
    assert_eq!(create(&first, "Three").await, 201);

    let listed = text(&mamori(&data, &["apikey", "list"]).stdout);
    let first_id = listed
        .lines()
        .find(|l| l.ends_with("\tbefore"))
        .and_then(|l| l.split('\t').next())
        .unwrap()
        .to_string();
    let revoked = mamori(&data, &["apikey", "revoke", &first_id]);
    assert!(revoked.status.success(), "{}", text(&revoked.stderr));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while create(&first, "Refused").await != 401 {
        assert!(
            std::time::Instant::now() < deadline,
            "the revoked key still works"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(create(&second, "Four").await, 201);
    server.kill().unwrap();
    server.wait().unwrap();

    let verified = mamori(&data, &["ledger", "verify"]);
    assert!(
        verified.status.success(),
        "{}{}",
        text(&verified.stdout),
        text(&verified.stderr)
    );
}

/// `mamori serve` with a configuration file: sign-in codes by e-mail go out over SMTP with a
/// link that fills in the code (the link alone signs nobody in), codes to phone numbers go to
/// the SMS gateway with its token, and a broken configuration stops the server with a clear
/// message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_sends_codes_by_smtp_and_sms() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    assert!(mamori(&data, &["init"]).status.success());
    let key = text(
        &mamori(
            &data,
            &["apikey", "create", "--role", "service", "--name", "t"],
        )
        .stdout,
    )
    .trim()
    .to_string();
    let (smtp_port, mut mails) = fake_smtp().await;
    let (sms_tx, mut texts) = tokio::sync::mpsc::unbounded_channel::<(String, serde_json::Value)>();
    let gateway = axum::Router::new().route(
        "/send",
        axum::routing::post(
            move |headers: axum::http::HeaderMap,
                  axum::Json(body): axum::Json<serde_json::Value>| {
                let sms_tx = sms_tx.clone();
                async move {
                    let auth = headers
                        .get("authorization")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_string();
                    let _ = sms_tx.send((auth, body));
                    axum::http::StatusCode::ACCEPTED
                }
            },
        ),
    );
    let gateway_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let gateway_port = gateway_listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(gateway_listener, gateway).await.unwrap() });
    std::fs::write(
        data.join("mamori.toml"),
        format!(
            "public_url = \"https://privacy.shop.example\"\n\
             [mail]\nsmtp_url = \"smtp://127.0.0.1:{smtp_port}\"\nfrom = \"Shop <privacy@shop.example>\"\n\
             [sms]\nurl = \"http://127.0.0.1:{gateway_port}/send\"\ntoken_env = \"MAMORI_TEST_SMS_TOKEN\"\n\
             [deadlines]\nappi = {{ answer = \"7d\" }}\n"
        ),
    )
    .unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = Command::new(env!("CARGO_BIN_EXE_mamori"))
        .arg("--data")
        .arg(&data)
        .args(["--listen", &format!("127.0.0.1:{port}"), "serve"])
        .env_remove("MAMORI_MASTER_KEY")
        .env("MAMORI_TEST_SMS_TOKEN", "gateway-secret")
        .stdout(std::process::Stdio::null())
        .env("MAMORI_LOG", "warn")
        .stderr(std::fs::File::create(dir.path().join("serve.log")).unwrap())
        .spawn()
        .unwrap();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut up = false;
    for _ in 0..300 {
        if client.get(format!("{base}/healthz")).send().await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(up, "server did not start");
    let r = client
        .post(format!("{base}/v1/subjects"))
        .bearer_auth(&key)
        .header("mamori-purpose", "order_fulfilment")
        .json(&serde_json::json!({"data": {"contact": {"email": "mia@example.com", "phone": "+33 6 12 34 56 78"}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let r = client
        .post(format!("{base}/v1/subjects"))
        .bearer_auth(&key)
        .header("mamori-purpose", "order_fulfilment")
        .json(&serde_json::json!({"data": {"contact": {"email": "bounce@example.com"}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);

    let page = client
        .get(format!("{base}/privacy/sign-in"))
        .send()
        .await
        .unwrap();
    let browser = cookie_of(&page, "mamori_csrf").unwrap();
    let html = page.text().await.unwrap();
    let csrf = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_string();
    let jar = format!("mamori_csrf={browser}");
    let ask = async |address: &str| {
        let r = client
            .post(format!("{base}/privacy/sign-in"))
            .header("cookie", &jar)
            .form(&[("csrf", csrf.as_str()), ("lang", "en"), ("email", address)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    };
    let wait = std::time::Duration::from_secs(10);

    // E-mail: over SMTP, with the code and a link to the configured public address.
    ask("mia@example.com").await;
    let mail = tokio::time::timeout(wait, mails.recv())
        .await
        .expect("mail sent")
        .unwrap();
    let mail = quoted_printable_decoded(&mail);
    assert!(mail.contains("To: mia@example.com"), "{mail}");
    assert!(mail.contains("From: Shop <privacy@shop.example>"), "{mail}");
    let link_start = mail
        .find("https://privacy.shop.example/privacy/sign-in/link?")
        .expect("link");
    let link: String = mail[link_start..]
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    let code = link.split("code=").nth(1).unwrap()[..6].to_string();
    // Opening the link shows the form filled in; it signs nobody in by itself.
    let path = link.trim_start_matches("https://privacy.shop.example");
    let r = client.get(format!("{base}{path}")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(cookie_of(&r, "mamori_session").is_none());
    assert_eq!(r.headers()["referrer-policy"], "same-origin");
    let html = r.text().await.unwrap();
    assert!(
        html.contains(&format!("value=\"{code}\"")),
        "code filled in"
    );
    let challenge = link
        .split("challenge=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_string();
    let r = client
        .post(format!("{base}/privacy/sign-in/code"))
        .header("cookie", &jar)
        .form(&[
            ("csrf", csrf.as_str()),
            ("lang", "en"),
            ("challenge", &challenge),
            ("code", &code),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "one click signs in");
    assert!(cookie_of(&r, "mamori_session").is_some());
    // A link cut short says so.
    let r = client
        .get(format!("{base}/privacy/sign-in/link?challenge=x&lang=en"))
        .send()
        .await
        .unwrap();
    assert!(r.text().await.unwrap().contains("link is incomplete"));

    // Phone: through the SMS gateway, with its token; the number is normalised.
    ask("+33 6 12 34 56 78").await;
    let (auth, body) = tokio::time::timeout(wait, texts.recv())
        .await
        .expect("text sent")
        .unwrap();
    assert_eq!(auth, "Bearer gateway-secret");
    assert_eq!(body["to"], "+33612345678");
    assert!(body["text"].as_str().unwrap().contains("code"), "{body}");
    // An unknown number gets the same answer and no message.
    ask("+33 6 99 99 99 99").await;
    let r = client
        .post(format!("{base}/privacy/sign-in"))
        .header("cookie", &jar)
        .form(&[
            ("csrf", csrf.as_str()),
            ("lang", "en"),
            ("email", "not an address"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        422,
        "neither an e-mail address nor a phone number"
    );
    // A refused recipient: logged by reply code, never with the server's text quoting it.
    ask("bounce@example.com").await;
    let log_path = dir.path().join("serve.log");
    let mut logged = String::new();
    for _ in 0..100 {
        logged = std::fs::read_to_string(&log_path).unwrap_or_default();
        if logged.contains("mail could not be delivered") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(logged.contains("mail could not be delivered"), "{logged}");
    assert!(logged.contains("550"), "{logged}");
    assert!(!logged.contains("bounce@example.com"), "{logged}");
    server.kill().unwrap();
    server.wait().unwrap();
    assert!(
        tokio::time::timeout(std::time::Duration::from_millis(300), texts.recv())
            .await
            .is_err()
    );

    // A configuration mistake stops the server with a message naming it.
    std::fs::write(
        data.join("mamori.toml"),
        "[deadlines]\ngdpr = { answer = \"soon\" }\n",
    )
    .unwrap();
    let out = mamori(&data, &["serve"]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("deadlines.gdpr.answer"),
        "{}",
        text(&out.stderr)
    );
}

/// `mamori serve --tls-cert --tls-key`: HTTPS only, with HSTS and Secure cookies; plain HTTP on
/// that port gets no page; an unusable key stops the server with a clear message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_over_tls() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    assert!(mamori(&data, &["init"]).status.success());
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-days",
            "1",
        ])
        .args([
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost",
        ])
        // An end-entity certificate (a CA one is refused as a server's own by webpki).
        .args([
            "-addext",
            "basicConstraints=critical,CA:FALSE",
            "-addext",
            "extendedKeyUsage=serverAuth",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl is installed");
    assert!(made.status.success(), "{}", text(&made.stderr));

    let bad = mamori(
        &data,
        &[
            "serve",
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            cert.to_str().unwrap(),
        ],
    );
    assert!(!bad.status.success());
    assert!(
        text(&bad.stderr).contains("cannot be used"),
        "{}",
        text(&bad.stderr)
    );
    let half = mamori(&data, &["serve", "--tls-cert", cert.to_str().unwrap()]);
    assert!(
        !half.status.success(),
        "a certificate without its key is refused"
    );

    let port = free_port();
    let mut server = Command::new(env!("CARGO_BIN_EXE_mamori"))
        .arg("--data")
        .arg(&data)
        .args([
            "--listen",
            &format!("127.0.0.1:{port}"),
            "serve",
            "--tls-cert",
        ])
        .arg(&cert)
        .arg("--tls-key")
        .arg(&key)
        .env_remove("MAMORI_MASTER_KEY")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();

    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut roots = rustls::RootCertStore::empty();
    let pem = std::fs::read_to_string(&cert).unwrap();
    let der = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        pem.lines()
            .filter(|l| !l.starts_with("-----"))
            .collect::<String>(),
    )
    .unwrap();
    roots
        .add(rustls::pki_types::CertificateDer::from(der))
        .unwrap();
    let config = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
    let get = async |path: &str| -> Option<String> {
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .ok()?;
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        let mut tls = connector.connect(name, tcp).await.ok()?;
        let request =
            format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        tls.write_all(request.as_bytes()).await.ok()?;
        let mut answer = Vec::new();
        let _ = tls.read_to_end(&mut answer).await;
        Some(String::from_utf8_lossy(&answer).into_owned())
    };
    let mut answer = None;
    for _ in 0..300 {
        answer = get("/privacy/sign-in").await;
        if answer.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let answer = answer.expect("HTTPS answers").to_ascii_lowercase();
    assert!(answer.starts_with("http/1.1 200"), "{answer}");
    assert!(
        answer.contains("strict-transport-security: max-age=31536000"),
        "{answer}"
    );
    let cookie = answer
        .lines()
        .find(|l| l.starts_with("set-cookie: mamori_csrf="))
        .expect("csrf cookie");
    assert!(
        cookie.contains("; secure")
            && cookie.contains("httponly")
            && cookie.contains("samesite=strict"),
        "{cookie}"
    );

    // Plain HTTP to the same port gets no page.
    let plain = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{port}/healthz"))
        .timeout(std::time::Duration::from_secs(5))
        .send()
        .await;
    assert!(plain.is_err() || !plain.unwrap().status().is_success());
    server.kill().unwrap();
    server.wait().unwrap();
}
