//! The time core reads: every deadline, expiry, event time and record time comes from the
//! vault's [`Clock`], so a test can move time forward (a sign-in code expiring, a request
//! falling due) instead of waiting or writing rows in the past.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// Milliseconds since the Unix epoch, as the vault sees them.
pub trait Clock: Send + Sync + 'static {
    fn now_ms(&self) -> i64;
}

/// The system's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        crate::now_ms()
    }
}

/// The system's time moved by an offset a test sets: time still passes (retries fall due,
/// rate windows slide), and a test jumps ahead instead of waiting. Clones share the offset.
#[derive(Debug, Clone, Default)]
pub struct FakeClock {
    offset_ms: Arc<AtomicI64>,
}

impl FakeClock {
    /// Moves the time forward.
    pub fn advance(&self, by: std::time::Duration) {
        self.offset_ms
            .fetch_add(by.as_millis() as i64, Ordering::AcqRel);
    }

    /// Back to the system's time.
    pub fn reset(&self) {
        self.offset_ms.store(0, Ordering::Release);
    }
}

impl Clock for FakeClock {
    fn now_ms(&self) -> i64 {
        crate::now_ms() + self.offset_ms.load(Ordering::Acquire)
    }
}
