//! `expo`: parse the command line, run the command, turn the outcome into an exit code.
//!
//! Two stages, as in ripgrep: `args` says what may be typed (clap, usage
//! errors exit 2), `parse` turns it into domain values (a bad value exits 1),
//! then `commands` runs it over the store. Every failure becomes words and an
//! exit code in one place, `failure`.

mod alloc;
mod args;
mod bulk;
mod commands;
mod context;
mod envelope;
mod failure;
mod lines;
mod maintain;
mod output;
mod parse;
mod progress;
mod project;
mod read;
mod seed;
#[cfg(test)]
mod tests;
mod write;

use clap::Parser;

/// jemalloc for the commands that go through the whole log (an import or a
/// rebuild allocates and frees millions of small values, parsed on one
/// thread and freed on another, which glibc's arenas serve with locks and
/// fragmentation), the system allocator for a single command, which ran
/// ~0.6 ms slower on jemalloc (`alloc`).
#[global_allocator]
static GLOBAL: alloc::Allocator = alloc::Allocator;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match args::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // clap prints usage errors on stderr (exit 2) and --help or
            // --version on stdout (exit 0); a closed stdout is not our problem.
            let _ = e.print();
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
        }
    };
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.exit(),
    }
}
