//! mamori serve: codes by SMTP and SMS, TLS, webhooks surviving a kill, the CLI beside a running
//! server.

use serde_json::json;

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

/// `mamori serve` with a configuration file naming an SMTP server (a fake one here), an SMS
/// gateway (a small receiver) and a public address; two customers, one whose mail bounces.
struct Messaging {
    dir: tempfile::TempDir,
    server: std::process::Child,
    base: String,
    client: reqwest::Client,
    csrf: String,
    jar: String,
    mails: tokio::sync::mpsc::UnboundedReceiver<String>,
    texts: tokio::sync::mpsc::UnboundedReceiver<(String, serde_json::Value)>,
}

/// An SMS gateway on a free port that accepts every message: its port, and what it got
/// (the Authorization header and the body).
async fn sms_gateway() -> (
    u16,
    tokio::sync::mpsc::UnboundedReceiver<(String, serde_json::Value)>,
) {
    let (sms_tx, texts) = tokio::sync::mpsc::unbounded_channel::<(String, serde_json::Value)>();
    let receive = move |headers: axum::http::HeaderMap,
                        axum::Json(body): axum::Json<serde_json::Value>| {
        let sms_tx = sms_tx.clone();
        async move {
            let auth = headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            let _ = sms_tx.send((auth.to_string(), body));
            axum::http::StatusCode::ACCEPTED
        }
    };
    let gateway = axum::Router::new().route("/send", axum::routing::post(receive));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, gateway).await.unwrap() });
    (port, texts)
}

impl Messaging {
    async fn serve() -> Messaging {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("d");
        assert!(mamori(&data, &["init"]).status.success());
        let key = mamori(
            &data,
            &["apikey", "create", "--role", "service", "--name", "t"],
        );
        let key = text(&key.stdout).trim().to_string();
        let (smtp_port, mails) = fake_smtp().await;
        let (gateway_port, texts) = sms_gateway().await;
        let config = format!(
            "public_url = \"https://privacy.shop.example\"\n\
             [mail]\nsmtp_url = \"smtp://127.0.0.1:{smtp_port}\"\nfrom = \"Shop <privacy@shop.example>\"\n\
             [sms]\nurl = \"http://127.0.0.1:{gateway_port}/send\"\ntoken_env = \"MAMORI_TEST_SMS_TOKEN\"\n\
             [deadlines]\nappi = {{ answer = \"7d\" }}\n"
        );
        std::fs::write(data.join("mamori.toml"), config).unwrap();
        let port = free_port();
        let base = format!("http://127.0.0.1:{port}");
        let server = Command::new(env!("CARGO_BIN_EXE_mamori"))
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
        wait_up(&client, &base).await;
        for contact in [
            json!({"email": "mia@example.com", "phone": "+33 6 12 34 56 78"}),
            json!({"email": "bounce@example.com"}),
        ] {
            let r = client
                .post(format!("{base}/v1/subjects"))
                .bearer_auth(&key)
                .header("mamori-purpose", "order_fulfilment");
            let r = r
                .json(&json!({"data": {"contact": contact}}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 201);
        }
        let page = client
            .get(format!("{base}/privacy/sign-in"))
            .send()
            .await
            .unwrap();
        let jar = format!("mamori_csrf={}", cookie_of(&page, "mamori_csrf").unwrap());
        let html = page.text().await.unwrap();
        let csrf = html
            .split("name=\"csrf\" value=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap()
            .to_string();
        Messaging {
            dir,
            server,
            base,
            client,
            csrf,
            jar,
            mails,
            texts,
        }
    }

    /// Asks for a sign-in code for `address` (English page).
    async fn ask(&self, address: &str) -> reqwest::Response {
        let form = [
            ("csrf", self.csrf.as_str()),
            ("lang", "en"),
            ("email", address),
        ];
        let r = self
            .client
            .post(format!("{}/privacy/sign-in", self.base))
            .header("cookie", &self.jar);
        r.form(&form).send().await.unwrap()
    }

    /// The server's log so far.
    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("serve.log")).unwrap_or_default()
    }
}

impl Messaging {
    fn stop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}

impl Drop for Messaging {
    fn drop(&mut self) {
        self.stop();
    }
}

const WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Sign-in codes by e-mail go out over SMTP with a link to the configured public address that
/// fills in the code (the link alone signs nobody in; one click does); a link cut short says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_sends_codes_by_smtp() {
    let mut m = Messaging::serve().await;
    assert_eq!(m.ask("mia@example.com").await.status(), 200);
    let mail = tokio::time::timeout(WAIT, m.mails.recv())
        .await
        .expect("mail sent")
        .unwrap();
    let mail = quoted_printable_decoded(&mail);
    assert!(
        mail.contains("To: mia@example.com") && mail.contains("From: Shop <privacy@shop.example>"),
        "{mail}"
    );
    let link_start = mail
        .find("https://privacy.shop.example/privacy/sign-in/link?")
        .expect("link");
    let link = mail[link_start..]
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    let code = link.split("code=").nth(1).unwrap()[..6].to_string();
    let path = link.trim_start_matches("https://privacy.shop.example");
    let r = m
        .client
        .get(format!("{}{path}", m.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(cookie_of(&r, "mamori_session").is_none());
    assert_eq!(r.headers()["referrer-policy"], "same-origin");
    assert!(
        r.text()
            .await
            .unwrap()
            .contains(&format!("value=\"{code}\"")),
        "code filled in"
    );
    let challenge = link
        .split("challenge=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    let form = [
        ("csrf", m.csrf.as_str()),
        ("lang", "en"),
        ("challenge", challenge),
        ("code", &code),
    ];
    let r = m
        .client
        .post(format!("{}/privacy/sign-in/code", m.base))
        .header("cookie", &m.jar);
    let r = r.form(&form).send().await.unwrap();
    assert_eq!(r.status(), 303, "one click signs in");
    assert!(cookie_of(&r, "mamori_session").is_some());
    let cut = m.client.get(format!(
        "{}/privacy/sign-in/link?challenge=x&lang=en",
        m.base
    ));
    assert!(
        cut.send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
            .contains("link is incomplete")
    );
}

/// Codes to phone numbers go to the SMS gateway with its token, the number normalised; an
/// unknown number gets the same answer and no message; what is neither is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_sends_codes_by_sms() {
    let mut m = Messaging::serve().await;
    assert_eq!(m.ask("+33 6 12 34 56 78").await.status(), 200);
    let (auth, body) = tokio::time::timeout(WAIT, m.texts.recv())
        .await
        .expect("text sent")
        .unwrap();
    assert_eq!(auth, "Bearer gateway-secret");
    assert_eq!(body["to"], "+33612345678");
    assert!(body["text"].as_str().unwrap().contains("code"), "{body}");
    assert_eq!(m.ask("+33 6 99 99 99 99").await.status(), 200);
    let neither = m.ask("not an address").await.status();
    assert_eq!(neither, 422, "neither an e-mail address nor a phone number");
    let quiet = tokio::time::timeout(std::time::Duration::from_millis(300), m.texts.recv()).await;
    assert!(quiet.is_err(), "no message to the unknown number");
}

/// A refused recipient is logged by reply code, never with the server's text quoting it; a
/// configuration mistake stops the server with a message naming it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undeliverable_mail_and_bad_configuration_are_reported_clearly() {
    let m = Messaging::serve().await;
    assert_eq!(m.ask("bounce@example.com").await.status(), 200);
    for _ in 0..100 {
        if m.log().contains("mail could not be delivered") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let logged = m.log();
    assert!(
        logged.contains("mail could not be delivered") && logged.contains("550"),
        "{logged}"
    );
    assert!(!logged.contains("bounce@example.com"), "{logged}");
    let mut m = m;
    m.stop();
    let data = m.dir.path().join("d");
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
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    assert!(mamori(&data, &["init"]).status.success());
    let (cert, key) = self_signed_certificate(dir.path());
    let (cert_arg, key_arg) = (cert.to_str().unwrap(), key.to_str().unwrap());
    let bad = mamori(
        &data,
        &["serve", "--tls-cert", cert_arg, "--tls-key", cert_arg],
    );
    assert!(!bad.status.success());
    assert!(
        text(&bad.stderr).contains("cannot be used"),
        "{}",
        text(&bad.stderr)
    );
    let half = mamori(&data, &["serve", "--tls-cert", cert_arg]);
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
            cert_arg,
            "--tls-key",
            key_arg,
        ])
        .env_remove("MAMORI_MASTER_KEY")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut answer = None;
    for _ in 0..300 {
        answer = https_get(&cert, port, "/privacy/sign-in").await;
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
    let flags = ["; secure", "httponly", "samesite=strict"];
    assert!(flags.iter().all(|f| cookie.contains(f)), "{cookie}");
    // Plain HTTP to the same port gets no page.
    let plain = reqwest::Client::new().get(format!("http://127.0.0.1:{port}/healthz"));
    let plain = plain
        .timeout(std::time::Duration::from_secs(5))
        .send()
        .await;
    assert!(plain.is_err() || !plain.unwrap().status().is_success());
    server.kill().unwrap();
    server.wait().unwrap();
}

/// A self-signed end-entity certificate for localhost (a CA one is refused as a server's own
/// by webpki), made with openssl in `dir`: the certificate's and the key's paths.
fn self_signed_certificate(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
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
    (cert, key)
}

/// GET `path` over HTTPS on `port`, trusting `cert` alone: the raw answer, or None if the
/// server is not there yet.
async fn https_get(cert: &std::path::Path, port: u16, path: &str) -> Option<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut roots = rustls::RootCertStore::empty();
    let pem = std::fs::read_to_string(cert).unwrap();
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, body).unwrap();
    roots
        .add(rustls::pki_types::CertificateDer::from(der))
        .unwrap();
    let config = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .ok()?;
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let mut tls = connector.connect(name, tcp).await.ok()?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    tls.write_all(request.as_bytes()).await.ok()?;
    let mut answer = Vec::new();
    let _ = tls.read_to_end(&mut answer).await;
    Some(String::from_utf8_lossy(&answer).into_owned())
}
