//! The one place that turns any failure into a plain message on stderr and an exit code (0/1/2/3).
//!
//! Every other module returns a [`Failure`]; only `main` calls [`Failure::exit`].
//! The exit codes are a contract (`shared/spec/cli.md`): 1 refused (a rule or
//! an invalid value, store unchanged), 2 usage, 3 storage.

use expo_domain::values::ValueError;
use expo_domain::DomainError;
use expo_store::{AppendError, StoreError};
use std::fmt;
use std::process::ExitCode;

/// Why a command did not complete.
#[derive(Debug)]
pub enum Failure {
    /// A value the user gave is invalid (exit 1).
    Value(ValueError),
    /// An invalid input that is not one domain value: a bad option, file or line (exit 1).
    Invalid(String),
    /// A domain rule refused the command on a delegation (exit 1).
    Refused {
        /// The delegation the command was for.
        delegation: String,
        /// The rule (boxed: domain errors carry the values they name).
        error: Box<DomainError>,
    },
    /// Several rows of an input file are bad (exit 1). The lines are printed one a line.
    Rows {
        /// What was being read, for the heading.
        what: String,
        /// One line per problem.
        problems: Vec<String>,
    },
    /// The command cannot be used like that (exit 2).
    Usage(String),
    /// The store failed (exit 3).
    Store(StoreError),
    /// The store kept changing under us, or another storage problem worded here (exit 3).
    Storage(String),
    /// Writing the output failed: a file, or stdout (exit 3).
    Output(String),
    /// The reader of stdout went away (`expo export | head`): stop quietly, exit 0.
    Closed,
}

impl Failure {
    /// The exit code of this failure.
    pub fn code(&self) -> u8 {
        match self {
            Failure::Value(_)
            | Failure::Invalid(_)
            | Failure::Refused { .. }
            | Failure::Rows { .. } => 1,
            Failure::Usage(_) => 2,
            Failure::Store(_) | Failure::Storage(_) | Failure::Output(_) => 3,
            Failure::Closed => 0,
        }
    }

    /// Prints the message on stderr and gives the exit code.
    pub fn exit(&self) -> ExitCode {
        use std::io::Write;
        if let Failure::Closed = self {
            return ExitCode::SUCCESS;
        }
        let mut err = std::io::stderr().lock();
        // If stderr itself is gone there is nobody to tell; the exit code still says it.
        let _ = writeln!(err, "expo: {self}");
        ExitCode::from(self.code())
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Value(e) => write!(f, "{e}"),
            Failure::Invalid(m) | Failure::Usage(m) | Failure::Storage(m) | Failure::Output(m) => {
                f.write_str(m)
            }
            Failure::Refused { delegation, error } => {
                let message = error.to_string();
                if message.contains(delegation.as_str()) {
                    f.write_str(&message)
                } else {
                    write!(f, "delegation {delegation}: {message}")
                }
            }
            Failure::Rows { what, problems } => {
                write!(f, "{what}: {} bad row(s), nothing written", problems.len())?;
                for p in problems {
                    write!(f, "\n  {p}")?;
                }
                Ok(())
            }
            Failure::Store(e) => write!(f, "{e}"),
            Failure::Closed => f.write_str("the output was closed"),
        }
    }
}

impl From<ValueError> for Failure {
    fn from(e: ValueError) -> Self {
        Failure::Value(e)
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Failure::Store(e)
    }
}

impl From<AppendError> for Failure {
    fn from(e: AppendError) -> Self {
        match e {
            AppendError::Store(e) => Failure::Store(e),
            // Only reached after the retries ran out: another writer kept winning.
            AppendError::Conflict { stream, .. } => Failure::Storage(format!(
                "delegation {stream} kept changing while this command was being recorded; nothing was written, try again"
            )),
        }
    }
}

/// A domain refusal on a delegation.
pub fn refused(delegation: impl ToString, error: DomainError) -> Failure {
    Failure::Refused {
        delegation: delegation.to_string(),
        error: Box::new(error),
    }
}

/// A short way to say "this value is invalid".
pub fn invalid(message: impl Into<String>) -> Failure {
    Failure::Invalid(message.into())
}

/// Turns a failed write to stdout into a failure; a closed pipe is a quiet stop.
pub fn stdout_error(e: std::io::Error) -> Failure {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        Failure::Closed
    } else {
        Failure::Output(format!("cannot write the output: {e}"))
    }
}
