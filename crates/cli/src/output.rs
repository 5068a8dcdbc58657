//! Writing results to stdout without ever panicking (a closed pipe ends the command quietly).

use crate::failure::{stdout_error, Failure};
use std::io::{BufWriter, StdoutLock, Write};

/// Prints text (a newline is added if missing).
pub fn print(text: &str) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes()).map_err(stdout_error)?;
    if !text.ends_with('\n') {
        out.write_all(b"\n").map_err(stdout_error)?;
    }
    out.flush().map_err(stdout_error)
}

/// A buffered stdout for many lines (JSON Lines).
pub struct Lines {
    out: BufWriter<StdoutLock<'static>>,
}

impl Lines {
    /// Locks stdout for the command's output.
    pub fn new() -> Lines {
        Lines {
            out: BufWriter::with_capacity(1 << 16, std::io::stdout().lock()),
        }
    }

    /// Writes one line.
    pub fn line(&mut self, text: &str) -> Result<(), Failure> {
        self.out.write_all(text.as_bytes()).map_err(stdout_error)?;
        self.out.write_all(b"\n").map_err(stdout_error)
    }

    /// Flushes what is buffered.
    pub fn finish(mut self) -> Result<(), Failure> {
        self.out.flush().map_err(stdout_error)
    }
}
