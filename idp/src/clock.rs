//! Time source. Production uses the system clock; tests move a manual one forward to prove
//! expiry and throttling windows without waiting.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

#[derive(Clone, Debug, Default)]
pub struct Clock {
    manual: Option<Arc<AtomicI64>>,
}

impl Clock {
    pub fn system() -> Self {
        Self { manual: None }
    }

    /// A clock that stands still at `start` (Unix seconds) until advanced.
    pub fn manual(start: i64) -> Self {
        Self {
            manual: Some(Arc::new(AtomicI64::new(start))),
        }
    }

    /// Unix seconds, UTC.
    pub fn now(&self) -> i64 {
        match &self.manual {
            Some(t) => t.load(Ordering::SeqCst),
            None => time::OffsetDateTime::now_utc().unix_timestamp(),
        }
    }

    /// Moves a manual clock forward; the system clock ignores it.
    pub fn advance(&self, secs: i64) {
        if let Some(t) = &self.manual {
            t.fetch_add(secs, Ordering::SeqCst);
        }
    }

    pub fn today(&self) -> time::Date {
        time::OffsetDateTime::from_unix_timestamp(self.now())
            .map(|t| t.date())
            .unwrap_or(time::Date::MIN)
    }
}
