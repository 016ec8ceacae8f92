//! The current consent state, bound to what it says. Access decisions and audiences read one
//! row per subject × purpose × channel; someone who can write the database could flip a
//! withdrawal into a grant, or copy one person's grant to another. Each row therefore carries a
//! keyed MAC (subkey `consent-state`) of its subject, purpose, channel, decision, source, notice
//! version and time, written with it and checked on every read: a row that does not match is an
//! integrity failure (500 `integrity_failure`, ledgered), never a grant.
//!
//! Not covered: putting back an earlier row of the same subject, purpose and channel as it was
//! (its MAC was genuine); the history (`consent_events`) and the ledger still show the change.

use mamori_ledger::{Event, Outcome};
use mamori_store::{Change, ConsentRow, ConsentStateRef, StateCheck};

use crate::error::{CoreError, Result};
use crate::format_id;
use crate::vault::Vault;

/// The bytes the MAC covers, handed to `part` in order: each field length-prefixed, so no two
/// rows share an encoding. In parts, so the audience filter checks rows where the database
/// keeps them, assembling nothing.
fn mac_parts(row: &ConsentStateRef<'_>, part: &mut dyn FnMut(&[u8])) {
    fn field(part: &mut dyn FnMut(&[u8]), pieces: &[&[u8]]) {
        let len: usize = pieces.iter().map(|p| p.len()).sum();
        part(&(len as u32).to_be_bytes());
        pieces.iter().for_each(|p| part(p));
    }
    field(part, &[b"consent-state-v1"]);
    field(part, &[row.subject_id]);
    field(part, &[row.purpose.as_bytes()]);
    field(part, &[row.channel.as_bytes()]);
    field(part, &[&[u8::from(row.granted)]]);
    field(part, &[row.source.as_bytes()]);
    match row.notice_version {
        Some(v) => field(part, &[b"=", v.as_bytes()]),
        None => field(part, &[b"-"]),
    }
    field(part, &[&row.created_ms.to_be_bytes()]);
}

fn mac_input(row: &ConsentRow) -> Vec<u8> {
    let mut out = Vec::with_capacity(96);
    mac_parts(&row.as_state_ref(), &mut |part| out.extend_from_slice(part));
    out
}

/// Whether `row` carries the MAC of what it says.
fn state_holds(mac: &mamori_crypto::KeyedMac, row: &ConsentStateRef<'_>) -> bool {
    row.state_mac
        .is_some_and(|tag| mac.verify_parts(|part| mac_parts(row, part), tag))
}

impl Vault {
    /// The check [`mamori_store::Store::consented_among`] runs on each row it reads.
    pub(crate) fn state_check(&self) -> StateCheck {
        let mac = self.consent_state_mac.clone();
        std::sync::Arc::new(move |row: &ConsentStateRef<'_>| state_holds(&mac, row))
    }

    fn state_mac(&self, row: &ConsentRow) -> [u8; 32] {
        self.consent_state_mac.tag(&mac_input(row))
    }

    /// Gives a row about to become the current state its MAC.
    pub(crate) fn seal_state(&self, row: &mut ConsentRow) {
        row.state_mac = Some(self.state_mac(row));
    }

    /// Whether every row says what it was written to say; a failure is ledgered (no value
    /// is: only that the consent state of a subject failed its check).
    pub(crate) async fn check_state(&self, rows: &[ConsentRow]) -> Result<()> {
        let bad = rows
            .iter()
            .find(|row| !state_holds(&self.consent_state_mac, &row.as_state_ref()));
        let Some(bad) = bad else {
            return Ok(());
        };
        tracing::error!("a consent state row failed its integrity check");
        let event = Event {
            time_ms: self.now_ms(),
            actor: "mamori".into(),
            role: "system".into(),
            purpose: Some(bad.purpose.clone()),
            action: "consent.integrity_check".into(),
            subject: Some(format_id(&bad.subject_id)),
            categories: vec![],
            recipient: None,
            outcome: Outcome::Denied {
                reason: "integrity_failure".into(),
            },
        };
        self.ledger.submit(vec![], vec![event]).await??;
        Err(CoreError::Integrity)
    }

    /// `subject`'s current consent rows, each checked.
    pub(crate) async fn consent_state(&self, subject: &[u8; 16]) -> Result<Vec<ConsentRow>> {
        let rows = self.store.consents(subject).await?;
        self.check_state(&rows).await?;
        Ok(rows)
    }

    /// Once, after the upgrade that brought MACs: rows written before get theirs (ledgered as
    /// one event with the count); from then on a row without one fails its check.
    pub async fn seal_unsealed_consent_state(&self) -> Result<usize> {
        let Some(mut rows) = self.store.unsealed_consent_state().await? else {
            return Ok(0);
        };
        rows.iter_mut().for_each(|row| self.seal_state(row));
        let count = rows.len();
        let event = Event {
            time_ms: self.now_ms(),
            actor: "mamori".into(),
            role: "system".into(),
            purpose: None,
            action: "consent.state_sealed".into(),
            subject: None,
            categories: vec![],
            recipient: None,
            outcome: Outcome::Allowed,
        };
        // A database with nothing to seal (a new one) only loses its marker: no event.
        let events = if count > 0 { vec![event] } else { vec![] };
        self.ledger
            .submit(vec![Change::SealConsentState(rows)], events)
            .await??;
        if count > 0 {
            tracing::info!(rows = count, "consent state from before MACs sealed");
        }
        Ok(count)
    }
}
