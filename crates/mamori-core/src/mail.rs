//! Sending messages to people (sign-in and confirmation codes): e-mail through a [`Mailer`],
//! text messages through a [`TextSender`]. Both are pluggable: the server sends mail over SMTP
//! and texts through an HTTP gateway as configured, and `mamori demo` keeps messages in memory
//! and shows them on a page, so every flow works without a mail server. Messages hold personal data (the address, the code): they are never
//! logged, and the demo outbox is never written to disk.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use crate::error::{CoreError, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
}

#[async_trait::async_trait]
pub trait Mailer: Send + Sync {
    async fn send(&self, mail: Mail) -> Result<()>;

    /// Sends a message that must go out at most once, saying whether it may have gone out
    /// when it failed. By default a failure is a refusal; a transport that can fail after the
    /// message left (a timeout waiting for the server's answer) says [`Delivery::Unknown`].
    async fn deliver(&self, mail: Mail) -> Delivery {
        match self.send(mail).await {
            Ok(()) => Delivery::Accepted,
            Err(_) => Delivery::Refused,
        }
    }

    /// Whether the transport is reachable now (asked before sending again after a failure, so
    /// an outage does not use up messages).
    async fn ready(&self) -> bool {
        true
    }
}

/// What became of a message that must go out at most once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    Accepted,
    /// Not sent: it may be tried again.
    Refused,
    /// It may or may not have gone out: it must not be sent again by itself.
    Unknown,
}

/// Sends a text message (SMS) to a phone number in E.164 form.
#[async_trait::async_trait]
pub trait TextSender: Send + Sync {
    async fn send_text(&self, to: &str, body: &str) -> Result<()>;

    /// Sends a text that must go out at most once (see [`Mailer::deliver`]).
    async fn deliver_text(&self, to: &str, body: &str) -> Delivery {
        match self.send_text(to, body).await {
            Ok(()) => Delivery::Accepted,
            Err(_) => Delivery::Refused,
        }
    }
}

/// Where a one-time code goes: an e-mail address or a phone number (E.164), normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recipient {
    Email(String),
    Phone(String),
}

/// A one-time code's message, in the person's language (the wording is the caller's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeMessage {
    /// The e-mail's subject (a text message has none).
    pub subject: String,
    /// The words with the code in them: all a text message carries.
    pub body: String,
    /// What an e-mail adds below the body (a one-click link, with its words).
    pub email_footer: Option<String>,
}

/// Sends one-time codes (signing in, confirming a new address) by e-mail or text message, the
/// one way both flows do.
#[derive(Clone)]
pub struct CodeSender {
    mailer: Arc<dyn Mailer>,
    texter: Arc<dyn TextSender>,
}

impl CodeSender {
    pub fn new(mailer: Arc<dyn Mailer>, texter: Arc<dyn TextSender>) -> CodeSender {
        CodeSender { mailer, texter }
    }

    /// Sends and waits for the transport's answer. Only where the person has shown who they
    /// are already (a signed-in correction), so saying the code could not be sent reveals
    /// nothing.
    pub async fn send(&self, to: Recipient, message: CodeMessage) -> Result<()> {
        match to {
            Recipient::Phone(number) => self.texter.send_text(&number, &message.body).await,
            Recipient::Email(address) => {
                let body = match message.email_footer {
                    Some(footer) => format!("{}\n\n{footer}\n", message.body),
                    None => message.body,
                };
                let subject = message.subject;
                self.mailer
                    .send(Mail {
                        to: address,
                        subject,
                        body,
                    })
                    .await
            }
        }
    }

    /// Hands the message over and returns at once: an answer to "send me a code" then takes as
    /// long whether a code went out (a known address) or none did (an unknown one), and a
    /// failure, which would tell the two apart, is logged, never shown.
    pub fn send_detached(&self, to: Recipient, message: CodeMessage) {
        let sender = self.clone();
        tokio::spawn(async move {
            if let Err(e) = sender.send(to, message).await {
                tracing::warn!(
                    code = e.code().as_str(),
                    "a one-time code could not be sent"
                );
            }
        });
    }
}

/// No transport configured: nothing can be sent (the reason is logged, never the message).
pub struct NoMailer;

#[async_trait::async_trait]
impl TextSender for NoMailer {
    async fn send_text(&self, _to: &str, _body: &str) -> Result<()> {
        tracing::warn!("a text message could not be sent: no SMS sender is configured");
        Err(CoreError::Internal("no SMS sender configured".into()))
    }
}

#[async_trait::async_trait]
impl Mailer for NoMailer {
    async fn send(&self, _mail: Mail) -> Result<()> {
        tracing::warn!("a message could not be sent: no mail transport is configured");
        Err(CoreError::Internal("no mail transport configured".into()))
    }

    /// Never: what must go out waits until a transport is configured.
    async fn ready(&self) -> bool {
        false
    }
}

/// The demo's outbox: the latest messages, in memory only.
#[derive(Default)]
pub struct DemoOutbox {
    messages: Mutex<VecDeque<Mail>>,
}

const DEMO_KEEP: usize = 50;

impl DemoOutbox {
    /// Newest first.
    pub fn messages(&self) -> Vec<Mail> {
        let messages = self.messages.lock().unwrap_or_else(|p| p.into_inner());
        messages.iter().rev().cloned().collect()
    }
}

#[async_trait::async_trait]
impl TextSender for DemoOutbox {
    async fn send_text(&self, to: &str, body: &str) -> Result<()> {
        let text = Mail {
            to: to.to_string(),
            subject: "SMS".to_string(),
            body: body.to_string(),
        };
        self.send(text).await
    }
}

#[async_trait::async_trait]
impl Mailer for DemoOutbox {
    async fn send(&self, mail: Mail) -> Result<()> {
        let mut messages = self.messages.lock().unwrap_or_else(|p| p.into_inner());
        if messages.len() == DEMO_KEEP {
            messages.pop_front();
        }
        messages.push_back(mail);
        Ok(())
    }
}
