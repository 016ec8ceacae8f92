//! SQLite point reads on the calling thread. sqlx runs each SQLite query on a worker thread of
//! its own and hands the command and every row across threads; for a read that takes a few
//! microseconds (a consent state by primary key) those wake-ups cost many times the query, and
//! they capped consent checks at a third of what the HTTP stack can serve. These connections are
//! read-only, used for lookups by key only (never scans), and kept in a small pool.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::{Result, StoreError};

/// Idle connections kept; more than the runtime has worker threads is never needed.
const IDLE: usize = 8;

pub struct InlineReads {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

pub fn database_error(e: rusqlite::Error) -> StoreError {
    if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull) {
        return StoreError::Full;
    }
    StoreError::Database(sqlx::Error::Protocol(e.to_string()))
}

impl InlineReads {
    pub fn new(path: PathBuf) -> InlineReads {
        InlineReads {
            path,
            idle: Mutex::new(Vec::new()),
        }
    }

    fn open(&self) -> rusqlite::Result<Connection> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.pragma_update(None, "cache_size", -8192)?;
        // `rarray(?)`: a list of values as a table, for lookups of many keys in one statement.
        rusqlite::vtab::array::load_module(&conn)?;
        Ok(conn)
    }

    /// Runs `read` on a pooled connection (opened on first use).
    pub fn with<T>(&self, read: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T> {
        let pooled = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let conn = match pooled {
            Some(conn) => conn,
            None => self.open().map_err(database_error)?,
        };
        let answer = read(&conn).map_err(database_error);
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < IDLE {
            idle.push(conn);
        }
        answer
    }

    /// Like [`InlineReads::with`], on a blocking thread: for reads long enough (thousands of
    /// probes) that they would hold up other requests on this runtime thread.
    pub async fn with_blocking<T: Send + 'static>(
        self: &Arc<Self>,
        read: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T> {
        let reads = self.clone();
        tokio::task::spawn_blocking(move || reads.with(read))
            .await
            .map_err(|e| StoreError::Database(sqlx::Error::Protocol(e.to_string())))?
    }
}
