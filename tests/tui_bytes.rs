//! Bytes written to the terminal (through crossterm, as the real console writes them) for the
//! first full frame at 80×24 and for one new finding arriving on the findings screen.

use crate::tui_support;

use ratatui::backend::CrosstermBackend;
use ratatui::layout::Rect;
use ratatui::{Terminal, TerminalOptions, Viewport};
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tui_support::*;

#[derive(Clone)]
struct Counting(Arc<AtomicUsize>);

impl Write for Counting {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.fetch_add(buf.len(), Ordering::Relaxed);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn bytes_per_frame_at_80x24() {
    let mut s = state(80, 24);
    let count = Arc::new(AtomicUsize::new(0));
    let backend = CrosstermBackend::new(Counting(count.clone()));
    let mut term = Terminal::with_options(
        backend,
        TerminalOptions {
            viewport: Viewport::Fixed(Rect::new(0, 0, 80, 24)),
        },
    )
    .expect("terminal");
    term.draw(|f| vigil::views::render(&s, f)).expect("draw");
    let first = count.swap(0, Ordering::Relaxed);

    // Nothing changed: redrawing writes (almost) nothing.
    term.draw(|f| vigil::views::render(&s, f)).expect("draw");
    let idle = count.swap(0, Ordering::Relaxed);

    // One new finding arrives while the operator is on the findings screen.
    let extra = vigil::ingest::load(&[fixture("findings.json")]).expect("load");
    let mut f = extra.findings[2].clone();
    f.id = "9new0000000000000000000000000000".into();
    f.severity = 5.0;
    f.finding_type = "Discovery:IAMUser/AnomalousBehavior".into();
    send(&mut s, vigil::app::Msg::Findings(vec![f]));
    term.draw(|f| vigil::views::render(&s, f)).expect("draw");
    let new_finding = count.swap(0, Ordering::Relaxed);

    println!("first full frame 80x24: {first} bytes");
    println!("redraw without change: {idle} bytes");
    println!("one new finding on the findings screen: {new_finding} bytes");
    assert!(first > 1000, "a full frame is drawn: {first}");
    assert!(
        idle < 64,
        "an unchanged frame writes next to nothing: {idle}"
    );
    assert!(
        new_finding < 2048,
        "a new finding costs under 2 KB: {new_finding}"
    );
}
