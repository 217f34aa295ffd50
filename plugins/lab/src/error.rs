//! What goes wrong in the lab, each with what to do about it.

/// A lab error; the message names the board, the store or the flag, and the fix.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    /// A flag or the environment is wrong.
    #[error("{0}")]
    Config(String),
    /// The store cannot be reached or refused a statement.
    #[error("{0}")]
    Store(String),
    /// The request cannot be met as asked (an unknown or quarantined board, no match).
    #[error("{0}")]
    Refused(String),
    /// No board came free within `--lab-wait`.
    #[error("{0}")]
    Timeout(String),
}
