//! The bench's one error type: which step failed, and what the failing program said.

use std::path::PathBuf;

/// Why a benchmark run stopped before producing its table.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// A program could not be started at all (missing binary, no permission).
    #[error("could not start {what} ({program}): {source}")]
    Spawn {
        /// The step, in words.
        what: String,
        /// The program that was to run.
        program: String,
        /// Why the OS refused.
        #[source]
        source: std::io::Error,
    },
    /// A program ran but did not exit 0.
    #[error("{what} failed ({status}); it said:\n{stderr}")]
    Failed {
        /// The step, in words.
        what: String,
        /// The exit code or signal.
        status: String,
        /// What the program wrote on stderr (and stdout, if stderr was empty).
        stderr: String,
    },
    /// A file or folder could not be read, written or removed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A program's output or the export broke the contract the driver relies on.
    #[error("{what}: {detail}")]
    Unexpected {
        /// The step, in words.
        what: String,
        /// What was wrong.
        detail: String,
    },
    /// The configuration cannot produce a benchmark (for example zero rounds).
    #[error("invalid configuration: {0}")]
    Config(String),
}

impl BenchError {
    /// An I/O error on `path`.
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> BenchError {
        let path = path.into();
        move |source| BenchError::Io { path, source }
    }

    /// Output that broke a contract.
    pub(crate) fn unexpected(what: &str, detail: impl Into<String>) -> BenchError {
        BenchError::Unexpected {
            what: what.to_owned(),
            detail: detail.into(),
        }
    }
}
