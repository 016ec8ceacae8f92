//! Sending messages to people (sign-in and confirmation codes): e-mail through a [`Mailer`],
//! text messages through a [`TextSender`]. Both are pluggable: the server sends mail over SMTP
//! and texts through an HTTP gateway as configured, and `mamori demo` keeps messages in memory
//! and shows them on a page, so every flow works without a mail server. Messages hold personal data (the address, the code): they are never
//! logged, and the demo outbox is never written to disk.

use std::collections::VecDeque;
use std::sync::Mutex;

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
}

/// Sends a text message (SMS) to a phone number in E.164 form.
#[async_trait::async_trait]
pub trait TextSender: Send + Sync {
    async fn send_text(&self, to: &str, body: &str) -> Result<()>;
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
