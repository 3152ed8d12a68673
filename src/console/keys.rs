//! The terminal's keys as the reducer's [`Key`]s (the only place that knows crossterm's events).

use crate::app::{Key, KeyCode};

/// crossterm's key event as the reducer's [`Key`]; releases and repeats are dropped.
pub fn key_of(ev: &crossterm::event::KeyEvent) -> Option<Key> {
    use crossterm::event::{KeyCode as C, KeyEventKind, KeyModifiers as M};
    if ev.kind == KeyEventKind::Release {
        return None;
    }
    let code = match ev.code {
        C::Char(c) => KeyCode::Char(c),
        C::Enter => KeyCode::Enter,
        C::Esc => KeyCode::Esc,
        C::Tab => KeyCode::Tab,
        C::BackTab => KeyCode::BackTab,
        C::Backspace => KeyCode::Backspace,
        C::Delete => KeyCode::Delete,
        C::Up => KeyCode::Up,
        C::Down => KeyCode::Down,
        C::Left => KeyCode::Left,
        C::Right => KeyCode::Right,
        C::PageUp => KeyCode::PageUp,
        C::PageDown => KeyCode::PageDown,
        C::Home => KeyCode::Home,
        C::End => KeyCode::End,
        C::F(n) => KeyCode::F(n),
        _ => return None,
    };
    let ctrl = ev.modifiers.contains(M::CONTROL);
    let code = match code {
        KeyCode::Char(c) if ctrl => KeyCode::Char(c.to_ascii_lowercase()),
        c => c,
    };
    Some(Key {
        code,
        ctrl,
        alt: ev.modifiers.contains(M::ALT),
    })
}
