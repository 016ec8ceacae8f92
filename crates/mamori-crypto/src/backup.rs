//! Backup files: the database snapshot sealed in 1 MiB chunks with the STREAM construction
//! (`aead-stream`, AES-256-GCM-SIV), under a fresh key per backup that is itself wrapped under the
//! epoch key of the day. Once that epoch is destroyed the backup is noise, whoever holds it.
//!
//! Every chunk is bound to the backup's manifest (the header), so neither can be changed, cut
//! short, reordered or swapped with another backup's without the restore refusing.

use std::io::{self, Read, Write};

use aead_stream::{DecryptorBE32, EncryptorBE32};
use aes_gcm_siv::Aes256GcmSiv;
use aes_gcm_siv::aead::{KeyInit, Payload};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::{CryptoError, KEY_LEN, Keyring, os_random};

/// Plaintext bytes per sealed chunk.
pub const BACKUP_CHUNK: usize = 1 << 20;
const TAG_LEN: usize = 16;
const STREAM_NONCE_LEN: usize = 7;
const BACKUP_LABEL: &[u8] = b"mamori/backup/v1:";

/// One backup's key.
pub struct BackupKey(Zeroizing<[u8; KEY_LEN]>);

impl std::fmt::Debug for BackupKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BackupKey(<redacted>)")
    }
}

/// What went wrong opening a backup stream.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("reading or writing: {0}")]
    Io(#[from] io::Error),
    /// A chunk failed to open: the file was changed, cut short, or belongs to another manifest.
    #[error("the backup does not open: it was changed, cut short, or its manifest does not match")]
    Tampered,
}

/// What was sealed or opened: the plaintext's length and SHA-256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamSummary {
    pub bytes: u64,
    pub sha256: [u8; 32],
}

impl Keyring {
    /// A fresh key for backup `backup_id`, and its form wrapped under the current epoch.
    pub fn new_backup_key(
        &self,
        backup_id: &[u8; 16],
    ) -> Result<(BackupKey, Vec<u8>), CryptoError> {
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        os_random(key.as_mut())?;
        let wrapped = self.wrap_under_epoch(BACKUP_LABEL, backup_id, key.as_ref())?;
        Ok((BackupKey(key), wrapped))
    }

    /// Opens a backup's key; [`CryptoError::UnknownEpoch`] once its epoch has been destroyed.
    pub fn open_backup_key(
        &self,
        backup_id: &[u8; 16],
        wrapped: &[u8],
    ) -> Result<BackupKey, CryptoError> {
        let bytes = self.unwrap_under_epoch(BACKUP_LABEL, backup_id, wrapped)?;
        let key: [u8; KEY_LEN] = bytes.as_slice().try_into().map_err(|_| CryptoError::Open)?;
        Ok(BackupKey(Zeroizing::new(key)))
    }
}

impl BackupKey {
    fn cipher(&self) -> Aes256GcmSiv {
        Aes256GcmSiv::new_from_slice(self.0.as_ref()).expect("32-byte key")
    }

    /// Seals everything `from` gives into `to`, each chunk bound to `header`; `progress` hears
    /// the plaintext bytes done so far.
    pub fn seal_stream(
        &self,
        header: &[u8],
        mut from: impl Read,
        mut to: impl Write,
        mut progress: impl FnMut(u64),
    ) -> Result<StreamSummary, BackupError> {
        let mut nonce = [0u8; STREAM_NONCE_LEN];
        os_random(&mut nonce).map_err(|e| io::Error::other(e.to_string()))?;
        to.write_all(&nonce)?;
        let mut stream = EncryptorBE32::from_aead(self.cipher(), &nonce.into());
        let mut hash = Sha256::new();
        let mut done = 0u64;
        let mut chunk = vec![0u8; BACKUP_CHUNK];
        let mut next = vec![0u8; BACKUP_CHUNK];
        let mut len = read_full(&mut from, &mut chunk)?;
        // Read one chunk ahead: the last chunk is sealed as the last, so a cut is detected.
        while len == BACKUP_CHUNK {
            let next_len = read_full(&mut from, &mut next)?;
            if next_len == 0 {
                break;
            }
            let sealed = stream
                .encrypt_next(Payload {
                    msg: &chunk[..len],
                    aad: header,
                })
                .map_err(|_| BackupError::Tampered)?;
            hash.update(&chunk[..len]);
            done += len as u64;
            to.write_all(&sealed)?;
            progress(done);
            std::mem::swap(&mut chunk, &mut next);
            len = next_len;
        }
        let sealed = stream
            .encrypt_last(Payload {
                msg: &chunk[..len],
                aad: header,
            })
            .map_err(|_| BackupError::Tampered)?;
        hash.update(&chunk[..len]);
        done += len as u64;
        to.write_all(&sealed)?;
        progress(done);
        to.flush()?;
        Ok(StreamSummary {
            bytes: done,
            sha256: hash.finalize().into(),
        })
    }

    /// Opens what [`BackupKey::seal_stream`] sealed with the same `header`, writing the
    /// plaintext to `to`. Anything changed, cut or appended is [`BackupError::Tampered`] (what
    /// was written before that point must then be thrown away).
    pub fn open_stream(
        &self,
        header: &[u8],
        mut from: impl Read,
        mut to: impl Write,
        mut progress: impl FnMut(u64),
    ) -> Result<StreamSummary, BackupError> {
        let mut nonce = [0u8; STREAM_NONCE_LEN];
        if read_full(&mut from, &mut nonce)? != STREAM_NONCE_LEN {
            return Err(BackupError::Tampered);
        }
        let mut stream = DecryptorBE32::from_aead(self.cipher(), &nonce.into());
        let mut hash = Sha256::new();
        let mut done = 0u64;
        let sealed_chunk = BACKUP_CHUNK + TAG_LEN;
        let mut chunk = vec![0u8; sealed_chunk];
        let mut next = vec![0u8; sealed_chunk];
        let mut len = read_full(&mut from, &mut chunk)?;
        let mut write = |plain: Vec<u8>, to: &mut dyn Write| -> io::Result<()> {
            hash.update(&plain);
            to.write_all(&plain)?;
            done += plain.len() as u64;
            progress(done);
            Ok(())
        };
        while len == sealed_chunk {
            let next_len = read_full(&mut from, &mut next)?;
            if next_len == 0 {
                break;
            }
            let plain = stream
                .decrypt_next(Payload {
                    msg: &chunk[..len],
                    aad: header,
                })
                .map_err(|_| BackupError::Tampered)?;
            write(plain, &mut to)?;
            std::mem::swap(&mut chunk, &mut next);
            len = next_len;
        }
        let plain = stream
            .decrypt_last(Payload {
                msg: &chunk[..len],
                aad: header,
            })
            .map_err(|_| BackupError::Tampered)?;
        write(plain, &mut to)?;
        to.flush()?;
        Ok(StreamSummary {
            bytes: done,
            sha256: hash.finalize().into(),
        })
    }
}

/// Reads until `buf` is full or the input ends; how much was read.
fn read_full(from: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match from.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{EpochRing, EpochSecret, MasterKey};

    fn keyring() -> Keyring {
        let keyring = Keyring::new(&MasterKey::generate().unwrap());
        keyring.install_epochs(EpochRing::new([(1, EpochSecret::generate().unwrap())]));
        keyring
    }

    fn seal(key: &BackupKey, header: &[u8], plain: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        key.seal_stream(header, plain, &mut out, |_| {}).unwrap();
        out
    }

    fn open(key: &BackupKey, header: &[u8], sealed: &[u8]) -> Result<Vec<u8>, BackupError> {
        let mut out = Vec::new();
        key.open_stream(header, sealed, &mut out, |_| {})?;
        Ok(out)
    }

    #[test]
    fn what_is_sealed_opens_whole_at_every_length_around_a_chunk() {
        let keyring = keyring();
        let (key, wrapped) = keyring.new_backup_key(&[3; 16]).unwrap();
        let key_again = keyring.open_backup_key(&[3; 16], &wrapped).unwrap();
        for len in [
            0,
            1,
            BACKUP_CHUNK - 1,
            BACKUP_CHUNK,
            BACKUP_CHUNK + 1,
            2 * BACKUP_CHUNK,
        ] {
            let plain: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let sealed = seal(&key, b"manifest", &plain);
            assert_eq!(
                open(&key_again, b"manifest", &sealed).unwrap(),
                plain,
                "{len}"
            );
        }
    }

    #[test]
    fn a_changed_cut_or_extended_stream_or_another_header_is_refused() {
        let keyring = keyring();
        let (key, _) = keyring.new_backup_key(&[3; 16]).unwrap();
        let plain = vec![7u8; 2 * BACKUP_CHUNK + 10];
        let sealed = seal(&key, b"manifest", &plain);
        let mut flipped = sealed.clone();
        flipped[BACKUP_CHUNK + 100] ^= 1;
        let cut_at_chunk = &sealed[..STREAM_NONCE_LEN + 2 * (BACKUP_CHUNK + TAG_LEN)];
        let mut extended = sealed.clone();
        extended.extend_from_slice(&[0; 40]);
        for bad in [&flipped[..], cut_at_chunk, &extended[..], &sealed[..3]] {
            assert!(matches!(
                open(&key, b"manifest", bad),
                Err(BackupError::Tampered)
            ));
        }
        assert!(matches!(
            open(&key, b"other manifest", &sealed),
            Err(BackupError::Tampered)
        ));
    }

    #[test]
    fn a_backup_key_is_lost_with_its_epoch() {
        let keyring = keyring();
        let (_, wrapped) = keyring.new_backup_key(&[3; 16]).unwrap();
        assert!(keyring.open_backup_key(&[4; 16], &wrapped).is_err());
        keyring.install_epochs(EpochRing::new([(2, EpochSecret::generate().unwrap())]));
        assert_eq!(
            keyring.open_backup_key(&[3; 16], &wrapped).unwrap_err(),
            CryptoError::UnknownEpoch(1)
        );
    }
}
