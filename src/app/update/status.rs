//! The status line, as the reducer sets it.

use crate::app::state::{State, Status, StatusLevel};

pub(crate) fn info(s: &mut State, text: impl Into<String>) {
    s.status = Some(Status {
        level: StatusLevel::Info,
        text: text.into(),
    });
}

pub(crate) fn warn(s: &mut State, text: impl Into<String>) {
    s.status = Some(Status {
        level: StatusLevel::Warn,
        text: text.into(),
    });
}

pub(crate) fn error(s: &mut State, text: impl Into<String>) {
    s.status = Some(Status {
        level: StatusLevel::Error,
        text: text.into(),
    });
}
