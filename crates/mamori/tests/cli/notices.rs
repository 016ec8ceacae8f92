//! Notices to the people an incident affected go out once, even across `kill -9`: the server
//! is killed while the mail server holds one message without answering; after a restart every
//! other person is told once and the one in flight is never sent again.

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use super::*;

/// An SMTP server that records each message's recipient, a little slowly (50 ms each); the
/// `hang_at`-th message is taken and never answered.
async fn holding_smtp(hang_at: usize) -> (u16, Arc<Mutex<Vec<String>>>) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let received = Arc::new(Mutex::new(Vec::<String>::new()));
    let got = received.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let got = got.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                let _ = write.write_all(b"220 fake ESMTP\r\n").await;
                let (mut in_data, mut to) = (false, String::new());
                while let Ok(Some(line)) = lines.next_line().await {
                    if in_data {
                        if line == "." {
                            in_data = false;
                            let count = {
                                let mut got = got.lock().unwrap();
                                got.push(std::mem::take(&mut to));
                                got.len()
                            };
                            if count == hang_at {
                                std::future::pending::<()>().await;
                            }
                            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                            let _ = write.write_all(b"250 queued\r\n").await;
                        }
                        continue;
                    }
                    let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
                    if verb == "RCPT" {
                        to = line.split(['<', '>']).nth(1).unwrap_or("").to_string();
                    }
                    let answer: &[u8] = match verb.as_str() {
                        "EHLO" | "HELO" => b"250 fake\r\n",
                        "DATA" => {
                            in_data = true;
                            b"354 go on\r\n"
                        }
                        "QUIT" => b"221 bye\r\n",
                        _ => b"250 ok\r\n",
                    };
                    let _ = write.write_all(answer).await;
                }
            });
        }
    });
    (port, received)
}

fn key(data: &std::path::Path, role: &str) -> (String, String) {
    let out = mamori(data, &["apikey", "create", "--role", role, "--name", role]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let token = text(&out.stdout).trim().to_string();
    let listed = text(&mamori(data, &["apikey", "list"]).stdout);
    let id = (listed.lines())
        .find(|l| l.ends_with(&format!("\t{role}")))
        .and_then(|l| l.split('\t').next())
        .unwrap()
        .to_string();
    (token, id)
}

async fn summary(client: &reqwest::Client, base: &str, key: &str, id: &str) -> Value {
    let r = client.get(format!("{base}/v1/incidents/{id}/notices"));
    r.bearer_auth(key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn count(summary: &Value, state: &str) -> u64 {
    (summary["by_state"].as_array().into_iter().flatten())
        .find(|c| c["state"] == state)
        .map_or(0, |c| c["people"].as_u64().unwrap())
}

/// More than the server hands over at once, so some wait while others are in flight.
const PEOPLE: usize = 40;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notices_go_out_once_across_a_kill() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    assert!(mamori(&data, &["init"]).status.success());
    let (service, service_id) = key(&data, "service");
    let (ops, _) = key(&data, "privacy_ops");
    let (smtp_port, received) = holding_smtp(4).await;
    let config = format!(
        "public_url = \"https://privacy.shop.example\"\n\
         [mail]\nsmtp_url = \"smtp://127.0.0.1:{smtp_port}\"\nfrom = \"Shop <privacy@shop.example>\"\n"
    );
    std::fs::write(data.join("mamori.toml"), config).unwrap();
    let (mut server, base) = serve(&data);
    let client = reqwest::Client::new();
    wait_up(&client, &base).await;
    let from = mamori_core::format_time(mamori_core::now_ms() - 60_000);
    for n in 0..PEOPLE {
        let body = json!({"data": {"contact": {"email": format!("p{n}@example.com")}}});
        let r = (client
            .post(format!("{base}/v1/subjects"))
            .bearer_auth(&service))
        .header("mamori-purpose", "order_fulfilment")
        .json(&body);
        let created: Value = r.send().await.unwrap().json().await.unwrap();
        let r = client.get(format!(
            "{base}/v1/subjects/{}",
            created["id"].as_str().unwrap()
        ));
        let r = r
            .bearer_auth(&service)
            .header("mamori-purpose", "order_fulfilment");
        assert_eq!(r.send().await.unwrap().status(), 200);
    }
    let to = mamori_core::format_time(mamori_core::now_ms() + 60_000);
    let open =
        json!({"title": "Service key leaked", "kind": "leaked_credential", "severity": "high"});
    let r = client
        .post(format!("{base}/v1/incidents"))
        .bearer_auth(&ops)
        .json(&open);
    let incident: Value = r.send().await.unwrap().json().await.unwrap();
    let id = incident["id"].as_str().unwrap();
    let scope = json!({"actors": [format!("key:{service_id}")], "from": from, "to": to});
    let r = (client
        .post(format!("{base}/v1/incidents/{id}/notices"))
        .bearer_auth(&ops))
    .header("mamori-purpose", "data_subject_rights")
    .json(&json!({"scope": scope}));
    assert_eq!(r.send().await.unwrap().status(), 200);

    // The fourth message is taken and never answered: kill -9 while it waits.
    for _ in 0..300 {
        if received.lock().unwrap().len() >= 4 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(received.lock().unwrap().len() < PEOPLE, "killed midway");
    server.kill().unwrap();
    server.wait().unwrap();

    let (mut server, base) = serve(&data);
    wait_up(&client, &base).await;
    // Until nothing waits and nothing moves for a second.
    let mut left = Value::Null;
    for _ in 0..60 {
        let before = count(&left, "sent");
        tokio::time::sleep(std::time::Duration::from_millis(1000)).await;
        left = summary(&client, &base, &ops, id).await;
        if count(&left, "pending") == 0 && count(&left, "sent") == before {
            break;
        }
    }
    server.kill().unwrap();
    let got = received.lock().unwrap().clone();
    let mut distinct = got.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), got.len(), "nobody twice: {got:?}");
    // Those waiting at the kill were sent after the restart; those in flight stay `sending`
    // (uncertain once their server is long gone) and are never resent.
    let (sent, sending) = (count(&left, "sent"), count(&left, "sending"));
    assert_eq!(sent + sending, PEOPLE as u64, "{left:#}");
    assert!(
        (1..=16).contains(&sending),
        "at most the ones in flight: {left:#}"
    );
    assert!(
        got.len() as u64 >= sent,
        "every one marked sent was received"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_takes_the_business_breach_deadlines_and_warns_of_longer_ones() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    assert!(mamori(&data, &["init"]).status.success());
    let (ops, _) = key(&data, "privacy_ops");
    let config = "[breach_deadlines.gdpr]\nauthority = \"48h\"\npeople = \"2d\"\n";
    std::fs::write(data.join("mamori.toml"), config).unwrap();
    let port = free_port();
    let log = dir.path().join("serve.log");
    let mut server = Command::new(env!("CARGO_BIN_EXE_mamori"))
        .arg("--data")
        .arg(&data)
        .args(["--listen", &format!("127.0.0.1:{port}"), "serve"])
        .env_remove("MAMORI_MASTER_KEY")
        .env("MAMORI_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    wait_up(&client, &base).await;
    let open = json!({"title": "Tape lost", "kind": "lost_device", "severity": "high",
        "detected_at": "2026-01-01T09:00:00Z"});
    let r = client
        .post(format!("{base}/v1/incidents"))
        .bearer_auth(&ops)
        .json(&open);
    let incident: Value = r.send().await.unwrap().json().await.unwrap();
    let path = format!(
        "{base}/v1/incidents/{}/deadlines",
        incident["id"].as_str().unwrap()
    );
    let v: Value = (client
        .get(path)
        .bearer_auth(&ops)
        .send()
        .await
        .unwrap()
        .json()
        .await)
        .unwrap();
    server.kill().unwrap();
    server.wait().unwrap();
    let gdpr = (v["deadlines"].as_array().unwrap().iter())
        .find(|d| d["jurisdiction"] == "gdpr" && d["recipient"] == "authority")
        .unwrap();
    assert_eq!(
        (&gdpr["within"], &gdpr["configured"], &gdpr["due_at"]),
        (&json!("48h"), &json!(true), &json!("2026-01-03T09:00:00Z"))
    );
    let said = std::fs::read_to_string(&log).unwrap();
    assert!(
        said.contains("warning: breach_deadlines.gdpr.people"),
        "{said}"
    );
}
