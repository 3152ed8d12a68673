//! The one channel's sending side: every source stamps its messages here.

use crate::app::{Envelope, Msg};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;
use tokio::sync::mpsc;

/// Sends messages into the channel, stamping each with its sequence number and time offset.
#[derive(Clone)]
pub struct Bus {
    tx: mpsc::Sender<Envelope>,
    seq: Arc<AtomicU64>,
    start: Instant,
}

impl Bus {
    pub fn new(tx: mpsc::Sender<Envelope>) -> Bus {
        Bus {
            tx,
            seq: Arc::new(AtomicU64::new(0)),
            start: Instant::now(),
        }
    }

    fn envelope(&self, msg: Msg) -> Envelope {
        Envelope {
            seq: self.seq.fetch_add(1, Ordering::Relaxed),
            t_ms: self.start.elapsed().as_millis() as u64,
            msg,
        }
    }

    /// From async code. False when the console has gone.
    pub async fn send(&self, msg: Msg) -> bool {
        self.tx.send(self.envelope(msg)).await.is_ok()
    }

    /// From the loop itself (it cannot wait on its own channel). False when the channel is full
    /// or the console has gone.
    pub fn try_send(&self, msg: Msg) -> bool {
        self.tx.try_send(self.envelope(msg)).is_ok()
    }

    /// From a blocking thread. False when the console has gone.
    pub fn blocking_send(&self, msg: Msg) -> bool {
        self.tx.blocking_send(self.envelope(msg)).is_ok()
    }
}
