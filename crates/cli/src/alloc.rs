//! The process's memory allocator: the system's for a single command, jemalloc for whole-log work.
//!
//! jemalloc serves an import or a rebuild far better than glibc's malloc:
//! millions of small values are parsed on one thread and freed on another
//! (1M-event import 1.5-2.0 s against 2.4-2.6 s with glibc's, replay
//! 1.3-1.5 s against 1.7-1.8 s). But a short command ran ~0.6 ms slower on
//! it, a sixth of the whole command (alternating 300 + 300 `expo roster`
//! runs on the 1M store: median 3.82 ms with jemalloc, 3.22 ms with
//! glibc's): the memory it maps and touches for a few thousand small
//! allocations. (jemalloc still sets itself up in every process, from its
//! own constructor; that part is not saved.)
//!
//! So the choice is made once per process, before `main`, from the command
//! line: the commands that read or write the whole log get jemalloc, every
//! other one the system allocator. A pointer is always freed by the
//! allocator that made it because the choice never changes after the first
//! allocation: whichever comes first, the choice below or an allocation,
//! fixes it for good (an allocation that came first would get jemalloc,
//! the choice of every platform where the command line cannot be read this
//! early). A command misread here (a value that looks like a command name)
//! only runs with the other allocator.

#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU8, Ordering};
use tikv_jemallocator::Jemalloc;

const UNDECIDED: u8 = 0;
const SYSTEM: u8 = 1;
const JEMALLOC: u8 = 2;

/// The allocator this process uses, fixed once.
static CHOICE: AtomicU8 = AtomicU8::new(UNDECIDED);

/// The commands that go through the whole log (or a whole file of it) and
/// allocate per event: jemalloc's.
const WHOLE_LOG: &[&[u8]] = &[
    b"import",
    b"import-registrations",
    b"export",
    b"replay",
    b"verify",
    b"events",
    b"report",
    b"seed",
];

/// The global options that take a value (`--data DIR`): their value is not
/// the command.
const VALUED_OPTIONS: &[&[u8]] = &[b"--data", b"--actor", b"--command-id", b"--wait"];

/// The command named by `args` (the arguments after the program's name):
/// the first word that is neither an option nor a global option's value.
fn command_word<'a>(args: impl IntoIterator<Item = &'a [u8]>) -> Option<&'a [u8]> {
    let mut skip_value = false;
    for arg in args {
        if skip_value {
            skip_value = false;
        } else if VALUED_OPTIONS.contains(&arg) {
            skip_value = true;
        } else if !arg.starts_with(b"-") {
            return Some(arg);
        }
    }
    None
}

/// Whether `args` run a whole-log command.
fn wants_jemalloc<'a>(args: impl IntoIterator<Item = &'a [u8]>) -> bool {
    command_word(args).is_some_and(|word| WHOLE_LOG.contains(&word))
}

/// Fixes the choice if nothing has yet.
fn choose(choice: u8) -> u8 {
    match CHOICE.compare_exchange(UNDECIDED, choice, Ordering::Relaxed, Ordering::Relaxed) {
        Ok(_) => choice,
        Err(already) => already,
    }
}

/// glibc calls the functions of `.init_array` with the program's arguments
/// before `main` (a documented extension; the standard library reads its
/// own `std::env::args` the same way), so the command line can be read
/// here without allocating.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[used]
#[link_section = ".init_array"]
static CHOOSE_AT_START: extern "C" fn(
    std::ffi::c_int,
    *const *const std::ffi::c_char,
    *const *const std::ffi::c_char,
) = choose_at_start;

#[cfg(all(target_os = "linux", target_env = "gnu"))]
extern "C" fn choose_at_start(
    argc: std::ffi::c_int,
    argv: *const *const std::ffi::c_char,
    _envp: *const *const std::ffi::c_char,
) {
    let count = usize::try_from(argc).unwrap_or(0);
    if argv.is_null() {
        return;
    }
    let args = (1..count).filter_map(|i| {
        // SAFETY: glibc passes `argc` valid pointers in `argv`, each to a
        // NUL-terminated string that lives as long as the process.
        let arg = unsafe { *argv.add(i) };
        (!arg.is_null()).then(|| unsafe { std::ffi::CStr::from_ptr(arg) }.to_bytes())
    });
    choose(if wants_jemalloc(args) {
        JEMALLOC
    } else {
        SYSTEM
    });
}

/// The allocator of the `expo` binary (see the module's documentation).
pub struct Allocator;

impl Allocator {
    #[inline]
    fn jemalloc() -> bool {
        match CHOICE.load(Ordering::Relaxed) {
            UNDECIDED => choose(JEMALLOC) == JEMALLOC,
            choice => choice == JEMALLOC,
        }
    }
}

/// Calls `method` on the allocator this process chose.
macro_rules! on_chosen {
    ($method:ident($($arg:expr),*)) => {
        if Allocator::jemalloc() {
            // SAFETY: the caller upholds `GlobalAlloc`'s contract for this call.
            unsafe { Jemalloc.$method($($arg),*) }
        } else {
            // SAFETY: as above.
            unsafe { System.$method($($arg),*) }
        }
    };
}

// SAFETY: every call goes to one allocator for the whole process (the
// choice is fixed before or at the first allocation and never changes), so
// each pointer is freed or resized by the allocator that made it; both
// uphold `GlobalAlloc`'s contract.
unsafe impl GlobalAlloc for Allocator {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        on_chosen!(alloc(layout))
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        on_chosen!(alloc_zeroed(layout))
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        on_chosen!(dealloc(ptr, layout))
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        on_chosen!(realloc(ptr, layout, new_size))
    }
}

#[cfg(test)]
mod tests {
    use super::{command_word, wants_jemalloc, VALUED_OPTIONS, WHOLE_LOG};

    fn words(line: &str) -> Vec<&[u8]> {
        line.split_whitespace().map(str::as_bytes).collect()
    }

    #[test]
    fn whole_log_commands_get_jemalloc_wherever_the_global_options_stand() {
        // given command lines with and without global options before the command
        for line in [
            "import backup.jsonl",
            "--data /srv/expo replay",
            "--json --data replay-store verify",
            "--wait 30 --actor ops export out.jsonl",
            "--data=/srv/expo import-registrations rows.csv",
            "report visa pk-textiles-may",
            "seed --delegations 10",
        ] {
            // then the command is read past them
            assert!(wants_jemalloc(words(line)), "{line}");
        }
    }

    #[test]
    fn single_commands_get_the_system_allocator() {
        for line in [
            "company register pk-textiles-may 1234567-8 --name import",
            "--data import roster pk-textiles-may",
            "roster pk-textiles-may --format json",
            "delegation list",
            "demo",
            "--help",
            "",
        ] {
            assert!(!wants_jemalloc(words(line)), "{line}");
        }
    }

    #[test]
    fn the_command_word_skips_option_values() {
        assert_eq!(
            command_word(words("--command-id 0192 --json company approve")),
            Some(&b"company"[..])
        );
        assert_eq!(command_word(words("--data")), None);
    }

    #[test]
    fn the_lists_follow_the_command_line_definition() {
        // given the clap definition the command line is parsed with
        use clap::CommandFactory;
        let mut cli = crate::args::Cli::command();
        cli.build();
        // then every whole-log word is a command
        let commands: Vec<&str> = cli.get_subcommands().map(|c| c.get_name()).collect();
        for word in WHOLE_LOG {
            let word = std::str::from_utf8(word).expect("ASCII");
            assert!(commands.contains(&word), "{word} is not a command");
        }
        // and the global options that take a value are exactly those skipped
        let mut valued: Vec<String> = cli
            .get_arguments()
            .filter(|a| a.is_global_set() && a.get_action().takes_values())
            .filter_map(|a| a.get_long().map(|long| format!("--{long}")))
            .collect();
        valued.sort();
        let mut listed: Vec<String> = VALUED_OPTIONS
            .iter()
            .map(|o| String::from_utf8_lossy(o).into_owned())
            .collect();
        listed.sort();
        assert_eq!(valued, listed);
    }
}
