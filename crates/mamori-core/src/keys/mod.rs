//! Keys the operator manages: the key epochs that wrap subjects' data keys (their store and
//! their rotation), and backups sealed under them. See docs/SECURITY.md, "Erasure and the
//! copies a database keeps".

pub mod backup;
pub mod backup_schedule;
pub mod epoch_store;
pub mod ledger_keys;
mod rotation;

pub use rotation::{EpochSchedule, RotationReport};

use mamori_crypto::{CryptoError, SubjectKey};

use crate::error::{CoreError, Result};
use crate::vault::Vault;

impl Vault {
    /// `mamori key rotate-master`, before the rotation: decided by the policy (`admin =
    /// ["keys"]`) and ledgered.
    pub async fn record_master_rotation(&self, actor: &crate::vault::Actor) -> Result<()> {
        let keys = crate::access::Permission::Admin(mamori_policy::AdminPermission::Keys);
        let granted = self.grant(actor, keys, "keys.rotate_master").await?;
        self.ledger.submit(vec![], vec![granted.event()]).await??;
        Ok(())
    }

    /// `mamori key status`: what the key store holds is shown only to a role with the `keys`
    /// permission, and the reading is ledgered.
    pub async fn record_key_status(&self, actor: &crate::vault::Actor) -> Result<()> {
        let keys = crate::access::Permission::Admin(mamori_policy::AdminPermission::Keys);
        let granted = self.grant(actor, keys, "keys.status").await?;
        self.ledger.submit(vec![], vec![granted.event()]).await??;
        Ok(())
    }

    /// Unwraps a subject's data key. A key under an epoch this process has not loaded (another
    /// process rotated since) has the key store read again, once; one under an epoch that is
    /// gone is an integrity failure, like any key that does not open.
    pub(crate) fn unwrap_key(&self, id: &[u8; 16], wrapped: &[u8]) -> Result<SubjectKey> {
        match self.keyring.unwrap_subject_key(id, wrapped) {
            Ok(key) => Ok(key),
            Err(CryptoError::UnknownEpoch(_)) if self.reload_epochs() => self
                .keyring
                .unwrap_subject_key(id, wrapped)
                .map_err(|_| CoreError::Integrity),
            Err(_) => Err(CoreError::Integrity),
        }
    }

    /// Reads the key store again; whether that worked.
    pub(super) fn reload_epochs(&self) -> bool {
        let Some(store) = &self.key_epochs else {
            return false;
        };
        match store.install(&self.keyring) {
            Ok(_) => true,
            Err(e) => {
                tracing::error!(error = %e, "the key store could not be read again");
                false
            }
        }
    }
}
