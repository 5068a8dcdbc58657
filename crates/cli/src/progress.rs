//! A progress bar on stderr for long runs, shown only when stderr is a terminal so scripts and logs stay clean.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

/// Updates are cheap but not free: the bar is touched once per this many events.
const STEP: u64 = 4096;

/// A progress bar, or nothing.
pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    /// A bar of `total` events when `wanted` and stderr is a terminal.
    pub fn new(wanted: bool, total: u64, what: &str) -> Progress {
        if !wanted || !std::io::stderr().is_terminal() {
            return Progress { bar: None };
        }
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template(
            "{msg} [{bar:40}] {pos}/{len} events ({per_sec}, {eta} left)",
        )
        .map(|s| s.progress_chars("=> "))
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        bar.set_message(what.to_owned());
        Progress { bar: Some(bar) }
    }

    /// Moves the bar to `done` events (redrawn every few thousand).
    pub fn set(&self, done: u64) {
        if let Some(bar) = &self.bar {
            if done % STEP == 0 {
                bar.set_position(done);
            }
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
