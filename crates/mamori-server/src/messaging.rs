//! How the server reaches people: e-mail over SMTP (lettre), text messages through an HTTP
//! gateway, and where its links point. Messages carry personal data (the address, the code), so
//! nothing here logs them; a failure is logged by kind only.

use std::sync::Arc;
use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use mamori_core::CoreError;
use mamori_core::mail::{Delivery, Mail, Mailer, NoMailer, TextSender};

/// The transports and the public address of the privacy center.
#[derive(Clone)]
pub struct Messaging {
    pub mailer: Arc<dyn Mailer>,
    pub texter: Arc<dyn TextSender>,
    /// Where people reach the privacy center (`https://privacy.example.com`), for links in
    /// messages. Never taken from a request's Host header: a forged one would send a person's
    /// sign-in link to someone else's site.
    pub public_url: String,
}

impl Messaging {
    /// Nothing configured: messages fail (and say so in the log); links point at `public_url`.
    pub fn none(public_url: &str) -> Messaging {
        Messaging {
            mailer: Arc::new(NoMailer),
            texter: Arc::new(NoMailer),
            public_url: public_url.trim_end_matches('/').to_string(),
        }
    }
}

/// E-mail over SMTP. The URL is lettre's: `smtp://host:25` (plain, for a local relay),
/// `smtp://user:pass@host:587?tls=required` (STARTTLS), `smtps://user:pass@host:465`.
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: lettre::message::Mailbox,
}

impl SmtpMailer {
    pub fn new(url: &str, from: &str) -> Result<SmtpMailer, String> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| format!("mail.smtp_url cannot be used: {e}"))?
            .timeout(Some(Duration::from_secs(20)))
            .build();
        let from = from
            .parse()
            .map_err(|e| format!("mail.from is not a mailbox (\"Name <addr@host>\"): {e}"))?;
        Ok(SmtpMailer { transport, from })
    }
}

impl SmtpMailer {
    fn message(&self, mail: Mail) -> mamori_core::Result<Message> {
        let to = mail
            .to
            .parse()
            .map_err(|_| CoreError::Internal("recipient address refused by the mailer".into()))?;
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject)
            .header(ContentType::TEXT_PLAIN)
            .body(mail.body)
            .map_err(|_| CoreError::Internal("message not built".into()))
    }
}

#[async_trait::async_trait]
impl Mailer for SmtpMailer {
    async fn deliver(&self, mail: Mail) -> Delivery {
        let Ok(message) = self.message(mail) else {
            return Delivery::Refused;
        };
        match self.transport.send(message).await {
            Ok(_) => Delivery::Accepted,
            // The server answered no (a reply code), or the message or TLS failed before
            // anything was sent: not delivered. A network failure or a timeout may come after
            // the message left, so it is not taken for a refusal.
            Err(e)
                if e.is_permanent()
                    || e.is_transient()
                    || e.is_client()
                    || e.is_tls()
                    || e.is_transport_shutdown() =>
            {
                tracing::warn!(code = e.status().map(|c| c.to_string()), "mail refused");
                Delivery::Refused
            }
            // No answer in time, or the connection dropped: the message may have gone out.
            Err(e) => {
                tracing::warn!(
                    timeout = e.is_timeout(),
                    "mail may or may not have been delivered"
                );
                Delivery::Unknown
            }
        }
    }

    async fn ready(&self) -> bool {
        self.transport.test_connection().await.unwrap_or(false)
    }

    async fn send(&self, mail: Mail) -> mamori_core::Result<()> {
        let to = mail
            .to
            .parse()
            .map_err(|_| CoreError::Internal("recipient address refused by the mailer".into()))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject)
            .header(ContentType::TEXT_PLAIN)
            .body(mail.body)
            .map_err(|_| CoreError::Internal("message not built".into()))?;
        self.transport.send(message).await.map_err(|e| {
            // Only the kind and the reply code: the server's reply text can quote the recipient.
            tracing::warn!(
                code = e.status().map(|c| c.to_string()),
                permanent = e.is_permanent(),
                transient = e.is_transient(),
                timeout = e.is_timeout(),
                "mail could not be delivered to the SMTP server"
            );
            CoreError::Internal("mail not sent".into())
        })?;
        Ok(())
    }
}

/// Text messages through an HTTP gateway: `POST url` with `{"to": "+33…", "text": "…"}` and,
/// if set, `Authorization: Bearer TOKEN`. Most SMS providers take this shape directly or
/// through a small adapter; a 2xx answer means accepted.
pub struct HttpTextSender {
    client: reqwest::Client,
    url: String,
    token: Option<String>,
}

impl HttpTextSender {
    pub fn new(url: &str, token: Option<String>) -> Result<HttpTextSender, String> {
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err("sms.url must be an http(s) URL".into());
        }
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| e.to_string())?;
        Ok(HttpTextSender {
            client,
            url: url.to_string(),
            token,
        })
    }
}

#[async_trait::async_trait]
impl TextSender for HttpTextSender {
    /// A gateway that answered is sure (2xx: accepted; else refused); one that did not answer
    /// in time may have taken the text.
    async fn deliver_text(&self, to: &str, body: &str) -> Delivery {
        let mut request =
            (self.client.post(&self.url)).json(&serde_json::json!({ "to": to, "text": body }));
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        match request.send().await {
            Ok(r) if r.status().is_success() => Delivery::Accepted,
            Ok(_) => Delivery::Refused,
            Err(e) if e.is_connect() || e.is_builder() => Delivery::Refused,
            Err(_) => Delivery::Unknown,
        }
    }

    async fn send_text(&self, to: &str, body: &str) -> mamori_core::Result<()> {
        let mut request = self
            .client
            .post(&self.url)
            .json(&serde_json::json!({ "to": to, "text": body }));
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        match request.send().await {
            Ok(r) if r.status().is_success() => Ok(()),
            Ok(r) => {
                tracing::warn!(
                    status = r.status().as_u16(),
                    "the SMS gateway refused a message"
                );
                Err(CoreError::Internal("text not sent".into()))
            }
            Err(e) => {
                tracing::warn!(
                    timeout = e.is_timeout(),
                    "the SMS gateway could not be reached"
                );
                Err(CoreError::Internal("text not sent".into()))
            }
        }
    }
}
