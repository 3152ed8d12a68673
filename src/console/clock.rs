//! The clock the edge reads, injected so tests run on a fixed time and never wait.

use crate::model::Ts;
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// What a timer-driven source or effect needs from time: the wall clock (for ticks) and a way to
/// wait (the snapshot poll delay).
pub trait Clock: Send + Sync {
    fn now(&self) -> Ts;
    fn sleep(&self, d: Duration) -> Pin<Box<dyn Future<Output = ()> + Send>>;
}

/// The machine's clock and tokio's timers.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Ts {
        Ts(SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64))
    }

    fn sleep(&self, d: Duration) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        Box::pin(tokio::time::sleep(d))
    }
}

/// A clock that never moves and never waits: headless tests and replays.
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub Ts);

impl Clock for FixedClock {
    fn now(&self) -> Ts {
        self.0
    }

    fn sleep(&self, _: Duration) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        Box::pin(std::future::ready(()))
    }
}
