//! The sources every console has: the keyboard, the clock's ticks and the signals that end a
//! session; and the demo's timeline. Each is a task (the keyboard a reader thread, because
//! crossterm's read blocks) that only sends messages.

use super::bus::Bus;
use super::clock::Clock;
use crate::app::{Msg, Signal};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Keyboard and resizes: a blocking reader thread (crossterm's `read` has no async form here).
pub(crate) fn spawn_keys(bus: &Bus) {
    let keys = bus.clone();
    std::thread::spawn(move || {
        use crossterm::event::{Event, read};
        loop {
            let msg = match read() {
                Ok(Event::Key(k)) => super::keys::key_of(&k).map(Msg::Key),
                Ok(Event::Resize(width, height)) => Some(Msg::Resize { width, height }),
                Ok(_) => None,
                Err(_) => break,
            };
            if let Some(m) = msg
                && !keys.blocking_send(m)
            {
                break;
            }
        }
    });
}

/// The clock: a tick per second carrying its own time.
pub(crate) fn spawn_ticks(bus: &Bus, clock: Arc<dyn Clock>) {
    let ticks = bus.clone();
    tokio::spawn(async move {
        let mut iv = tokio::time::interval(Duration::from_secs(1));
        loop {
            iv.tick().await;
            if !ticks.send(Msg::Tick { now: clock.now() }).await {
                break;
            }
        }
    });
}

/// SIGTERM / SIGHUP: quit through the reducer so the terminal is restored.
pub(crate) fn spawn_signals(bus: &Bus) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let sigs = bus.clone();
        tokio::spawn(async move {
            let (Ok(mut term), Ok(mut hup)) = (
                signal(SignalKind::terminate()),
                signal(SignalKind::hangup()),
            ) else {
                return;
            };
            let sig = tokio::select! {
                _ = term.recv() => Signal::Term,
                _ = hup.recv() => Signal::Hup,
            };
            sigs.send(Msg::Signal(sig)).await;
        });
    }
    #[cfg(not(unix))]
    let _ = bus;
}

/// `vigil live`'s poller: a poll on the blocking pool (the AWS clients block), its findings as one
/// batch, each failing target as a message; then the clock's wait.
pub(crate) fn spawn_live(
    bus: &Bus,
    poller: super::live::Poller,
    interval: Duration,
    clock: Arc<dyn Clock>,
) {
    let live = bus.clone();
    tokio::spawn(async move {
        let mut poller = poller;
        loop {
            let Ok((p, poll)) = tokio::task::spawn_blocking(move || {
                let poll = poller.poll();
                (poller, poll)
            })
            .await
            else {
                return;
            };
            poller = p;
            if !poll.findings.is_empty() && !live.send(Msg::Findings(poll.findings)).await {
                return;
            }
            let polled = Msg::Polled {
                failed: poll.failed,
                administrators: poller.administrators(),
            };
            if !live.send(polled).await {
                return;
            }
            clock.sleep(interval).await;
        }
    });
}

/// A demo scenario's findings on its timeline, paced from `started` (the start of play).
pub(crate) fn spawn_demo_timeline(
    bus: &Bus,
    scenario: Arc<crate::demo::Scenario>,
    pacing: crate::demo::Pacing,
    started: Instant,
) {
    let timeline = bus.clone();
    tokio::spawn(async move {
        let started = tokio::time::Instant::from_std(started);
        for (due, cue) in scenario.schedule(pacing) {
            tokio::time::sleep_until(started + due).await;
            let msg = match cue {
                crate::demo::Cue::Quiet(d) => Msg::QuietSkipped(d),
                crate::demo::Cue::Finding(f) => Msg::Findings(vec![f.clone()]),
            };
            if !timeline.send(msg).await {
                break;
            }
        }
    });
}
