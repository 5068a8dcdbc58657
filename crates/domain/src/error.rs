//! Why a command was refused: one variant per rule, carrying the values the message names.

use crate::values::ValueError;

/// A command refused by a rule of the registry. The CLI prints the message
/// as it is and exits 1; nothing is written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// A value in the command is invalid.
    #[error(transparent)]
    Value(#[from] ValueError),
}
