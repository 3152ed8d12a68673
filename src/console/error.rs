//! Why a console could not run.

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("terminal error: {0} (is this an interactive terminal?)")]
    Terminal(#[from] std::io::Error),
    #[error(transparent)]
    Demo(#[from] crate::demo::DemoError),
}

/// A backend that cannot fail (ratatui's `TestBackend`).
impl From<std::convert::Infallible> for RunError {
    fn from(e: std::convert::Infallible) -> RunError {
        match e {}
    }
}
