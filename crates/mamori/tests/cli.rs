//! The `mamori` binary: init, policy check, API keys and ledger verification against tampering.

use std::process::Command;

#[path = "cli/architecture.rs"]
mod architecture;
#[path = "cli/carving_pg.rs"]
mod carving_pg;
#[path = "cli/commands.rs"]
mod commands;
#[path = "cli/disk_full_pg.rs"]
mod disk_full_pg;
#[path = "cli/doctor.rs"]
mod doctor;
#[path = "cli/faults.rs"]
mod faults;
#[path = "cli/imports.rs"]
mod imports;
#[path = "cli/incidents.rs"]
mod incidents;
#[path = "cli/interrupted.rs"]
mod interrupted;
#[path = "cli/ledger.rs"]
mod ledger;
#[path = "cli/multi_server_pg.rs"]
mod multi_server_pg;
#[path = "cli/notices.rs"]
mod notices;
#[path = "cli/readme.rs"]
mod readme;
#[path = "cli/restore.rs"]
mod restore;
#[path = "cli/serving.rs"]
mod serving;
#[path = "cli/staff.rs"]
mod staff;

fn mamori(data: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_mamori"))
        .arg("--data")
        .arg(data)
        .args(args)
        .env_remove("MAMORI_MASTER_KEY")
        .env_remove("MAMORI_DATABASE")
        .env_remove("MAMORI_POLICY")
        .output()
        .unwrap()
}

fn query_i64(db: &std::path::Path, sql: &'static str) -> i64 {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        use sqlx::{Connection, Row};
        let url = format!("sqlite://{}?mode=ro", db.display());
        let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
        sqlx::query(sql)
            .fetch_optional(&mut conn)
            .await
            .unwrap()
            .map_or(0, |r| r.get::<i64, _>(0))
    })
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `mamori serve` on `data` at a free port, quiet; its base URL.
fn serve(data: &std::path::Path) -> (std::process::Child, String) {
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_mamori"))
        .arg("--data")
        .arg(data)
        .args(["--listen", &format!("127.0.0.1:{port}"), "serve"])
        .env_remove("MAMORI_MASTER_KEY")
        .env("MAMORI_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    (child, format!("http://127.0.0.1:{port}"))
}

async fn wait_up(client: &reqwest::Client, base: &str) {
    for _ in 0..300 {
        if client.get(format!("{base}/healthz")).send().await.is_ok() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("server did not start");
}

/// A fake SMTP server: accepts every message and hands over what came after DATA.
async fn fake_smtp() -> (u16, tokio::sync::mpsc::UnboundedReceiver<String>) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                write.write_all(b"220 fake ESMTP\r\n").await.unwrap();
                let (mut in_data, mut message) = (false, String::new());
                while let Ok(Some(line)) = lines.next_line().await {
                    if in_data {
                        if line == "." {
                            in_data = false;
                            let _ = tx.send(std::mem::take(&mut message));
                            write.write_all(b"250 queued\r\n").await.unwrap();
                        } else {
                            message.push_str(&line);
                            message.push('\n');
                        }
                        continue;
                    }
                    let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
                    // Like real servers, the refusal quotes the recipient.
                    if verb == "RCPT" && line.contains("bounce@") {
                        write
                            .write_all(b"550 5.1.1 <bounce@example.com>: no such user\r\n")
                            .await
                            .unwrap();
                        continue;
                    }
                    let answer: &[u8] = match verb.as_str() {
                        "EHLO" | "HELO" => b"250 fake\r\n",
                        "DATA" => {
                            in_data = true;
                            b"354 go on\r\n"
                        }
                        "QUIT" => {
                            write.write_all(b"221 bye\r\n").await.unwrap();
                            return;
                        }
                        _ => b"250 ok\r\n",
                    };
                    write.write_all(answer).await.unwrap();
                }
            });
        }
    });
    (port, rx)
}

/// The message as a reader sees it: soft line breaks joined, `=XX` bytes restored.
fn quoted_printable_decoded(raw: &str) -> String {
    let joined = raw.replace("=\n", "");
    let bytes = joined.as_bytes();
    let (mut out, mut i) = (Vec::new(), 0);
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok());
        match (bytes[i], hex) {
            (b'=', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn cookie_of(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| {
            c.strip_prefix(&format!("{name}="))?
                .split(';')
                .next()
                .map(str::to_string)
        })
}

/// Runs `mamori scrub ARGS` with `input` on standard input.
fn scrub(args: &[&str], input: &[u8], env: &[(&str, &str)]) -> std::process::Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_mamori"))
        .arg("scrub")
        .args(args)
        .envs(env.iter().copied())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| text(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Bytes free on the file system holding `path`, as `df` sees them.
fn free_bytes(path: &std::path::Path) -> u64 {
    let out = Command::new("df")
        .args(["-B1", "--output=avail"])
        .arg(path)
        .output()
        .unwrap();
    text(&out.stdout)
        .lines()
        .nth(1)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}
