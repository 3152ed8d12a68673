//! The time window a pivot is scoped to.

use crate::model::Ts;

/// A half-open time window `[from, to)`; either end may be open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Window {
    pub from: Option<Ts>,
    pub to: Option<Ts>,
}

impl Window {
    pub fn all() -> Window {
        Window::default()
    }

    pub fn contains(&self, t: Ts) -> bool {
        self.from.is_none_or(|f| t >= f) && self.to.is_none_or(|to| t < to)
    }
}
