//! An incident's impact from the ledger, timed against `ledger verify` over the same leaves in
//! the same run (issue 21: at most 2× its time): the service key's accesses over the whole
//! ledger, the widest window one actor can have.

use std::time::Instant;

use mamori::context::{self, Context, Paths};
use mamori_core::incidents::impact::ImpactWindow;
use mamori_proto::incidents::{IncidentKind, IncidentSeverity, OpenIncident};

/// An incident for the bench's service key, and the window of its whole life.
async fn leaked_service_key(
    ctx: &Context,
    title: &str,
) -> anyhow::Result<([u8; 16], ImpactWindow)> {
    let operator = context::operator();
    let keys = ctx.vault.list_api_keys(&operator).await?;
    let service = (keys.iter())
        .find(|k| k.role == "service")
        .ok_or_else(|| anyhow::anyhow!("the bench made no service key"))?;
    let open = OpenIncident {
        title: title.into(),
        kind: IncidentKind::LeakedCredential,
        severity: IncidentSeverity::High,
        detected_at: None,
    };
    let incident = (ctx.vault.open_incident(&operator, &open, None, false)).await?;
    let id = mamori_core::parse_id(&incident.id).expect("an incident id");
    let window = ImpactWindow {
        actors: vec![format!("key:{}", service.id)],
        from_ms: 0,
        to_ms: ctx.vault.now_ms() + 3_600_000,
        purposes: None,
        categories: None,
    };
    Ok((id, window))
}

/// (people reached, leaves scanned, seconds).
pub(super) async fn impact_of_the_service_key(paths: &Paths) -> anyhow::Result<(u64, u64, f64)> {
    let ctx = Context::open(paths).await?;
    let operator = context::operator();
    let (id, window) = leaked_service_key(&ctx, "Bench: the service key leaked").await?;
    let started = Instant::now();
    let impact = ctx.vault.incident_impact(&operator, &id, &window).await?;
    let seconds = started.elapsed().as_secs_f64();
    ctx.vault.flush_ledger().await?;
    Ok((impact.people, impact.leaves_scanned, seconds))
}

/// An SMTP server on loopback that accepts every message at once and keeps nothing: the
/// mailer's own cost, with nothing behind it.
async fn smtp_sink() -> anyhow::Result<u16> {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                let _ = write.write_all(b"220 sink ESMTP\r\n").await;
                let mut in_data = false;
                while let Ok(Some(line)) = lines.next_line().await {
                    let answer: &[u8] = if in_data {
                        if line != "." {
                            continue;
                        }
                        in_data = false;
                        b"250 ok\r\n"
                    } else {
                        match line.get(..4).map(str::to_ascii_uppercase).as_deref() {
                            Some("EHLO") | Some("HELO") => b"250 sink\r\n",
                            Some("DATA") => {
                                in_data = true;
                                b"354 go on\r\n"
                            }
                            Some("QUIT") => b"221 bye\r\n",
                            _ => b"250 ok\r\n",
                        }
                    };
                    if write.write_all(answer).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    Ok(port)
}

/// Notices for everyone the service key reached, prepared and sent through the SMTP mailer to
/// a sink, against the same mailer sending ready-made messages to the same sink, as many at
/// once (issue 21: at least 0.5×). (people, mailer messages/s, notices/s).
pub(super) async fn notices_against_the_mailer(
    paths: &Paths,
    baseline: usize,
) -> anyhow::Result<(u64, f64, f64)> {
    use futures_util::{StreamExt, stream};
    use mamori_core::incidents::notice_sending::{IN_FLIGHT, NoticeLinks};
    use mamori_core::mail::{Mail, Mailer};

    let port = smtp_sink().await?;
    let url = format!("smtp://127.0.0.1:{port}");
    let mailer = mamori_server::messaging::SmtpMailer::new(&url, "Bench <bench@example.com>")
        .map_err(|e| anyhow::anyhow!(e))?;
    let started = Instant::now();
    stream::iter(0..baseline)
        .for_each_concurrent(IN_FLIGHT, |n| {
            let mail = Mail {
                to: format!("p{n}@example.com"),
                subject: "Bench: a notice".into(),
                body: "A notice of about the size of a real one.\n".repeat(12),
            };
            let mailer = &mailer;
            async move {
                let _ = mailer.deliver(mail).await;
            }
        })
        .await;
    let mailer_per_s = baseline as f64 / started.elapsed().as_secs_f64();

    let ctx = Context::open(paths).await?;
    let operator = context::operator();
    let title = "Bench: tell everyone the service key reached";
    let (id, window) = leaked_service_key(&ctx, title).await?;
    let links = NoticeLinks {
        privacy_center: "https://privacy.example/privacy/me".into(),
        texts: None,
    };
    let started = Instant::now();
    let rights = mamori_policy::RIGHTS_PURPOSE;
    let prepared = ctx
        .vault
        .prepare_notices(&operator, &id, rights, &window, None, None)
        .await?;
    while let mamori_core::jobs::Ran::More =
        ctx.vault.send_incident_notices(&mailer, &links).await?
    {}
    let seconds = started.elapsed().as_secs_f64();
    let summary = ctx.vault.incident_notices(&operator, &id).await?;
    let sent = (summary.by_state.iter())
        .find(|c| c.state == mamori_proto::incident_notices::NoticeState::Sent)
        .map_or(0, |c| c.people);
    ctx.vault.flush_ledger().await?;
    anyhow::ensure!(
        sent > 0,
        "no notice was sent ({} prepared)",
        prepared.people
    );
    Ok((sent, mailer_per_s, sent as f64 / seconds))
}
