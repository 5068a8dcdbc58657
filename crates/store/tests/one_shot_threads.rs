//! A one-shot process (the command line) writes without starting sled's threads: no periodic flusher, and small log buffers written by the thread that waits for them (vendor/sled/PATCHES.md, `inline_io`).
//!
//! Each check runs in a fresh process (this test binary started again for
//! one child test): sled's I/O pool is global to a process, so threads
//! started by another test's store would be counted too.
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use expo_store::*;

/// Where a child test finds its store.
const DIR_VAR: &str = "EXPO_TEST_ONE_SHOT_THREADS_DIR";

/// How many of this process's threads sled started: its I/O pool's workers
/// and its periodic flusher.
fn sled_threads() -> (u64, u64) {
    // A new thread names itself once it runs; until then it carries the
    // name of the thread that started it (this one). Under load (CI, a
    // build beside the tests) the flusher was counted before it had its
    // name, so wait, briefly, until no other thread is still named as this one.
    let me = std::fs::read_to_string("/proc/thread-self/comm").unwrap_or_default();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let (mut io, mut flusher, mut unnamed) = (0, 0, 0);
        for task in std::fs::read_dir("/proc/self/task").unwrap() {
            let comm =
                std::fs::read_to_string(task.unwrap().path().join("comm")).unwrap_or_default();
            let name = comm.trim();
            if name.starts_with("sled-io") {
                io += 1;
            } else if name == "log flusher" {
                flusher += 1;
            } else if comm == me {
                unnamed += 1;
            }
        }
        // This thread is one of those named as itself.
        if unnamed <= 1 || std::time::Instant::now() > deadline {
            return (io, flusher);
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// Runs a child test on a fresh store and returns its figures: sled's I/O
/// and flusher threads after three durable appends, then the events it read
/// back after a rebuild and one more append.
fn run_child(test: &str) -> Vec<u64> {
    let dir = tempfile::tempdir().unwrap();
    figures_from_child(test, DIR_VAR, dir.path(), "threads: ")
}

#[test]
fn a_one_shot_process_appends_durably_without_sleds_threads() {
    // given a fresh process that opens a new store one-shot
    // when it appends three times (each durable before it returns)
    let figures = run_child("child_one_shot");

    // then sled started neither I/O workers nor its flusher for them
    assert_eq!(figures[..2], [0, 0], "sled threads (io, flusher)");
    // and after a rebuild (whose buffers go to the I/O pool) and one more
    // append, every event is there
    assert_eq!(figures[2], 4, "events read back");
}

#[test]
fn a_long_lived_process_keeps_sleds_flusher() {
    // given a fresh process that opens a new store as a server would (not
    // one-shot): the count above would see sled's threads if there were any
    // when it appends three times
    let figures = run_child("child_long_lived");

    // then sled's periodic flusher runs as released
    assert_eq!(figures[1], 1, "flusher threads");
    assert_eq!(figures[2], 4, "events read back");
}

/// In a child started by a test (and only there): see `appends_and_rebuilds`.
#[test]
fn child_one_shot() {
    appends_and_rebuilds(true);
}

/// In a child started by a test (and only there): see `appends_and_rebuilds`.
#[test]
fn child_long_lived() {
    appends_and_rebuilds(false);
}

/// Appends, counts sled's threads, rebuilds a projection state, appends
/// again, and prints the figures; does nothing outside a child.
fn appends_and_rebuilds(one_shot: bool) {
    let Some(dir) = std::env::var_os(DIR_VAR) else {
        return;
    };
    let store = SledStore::open(
        std::path::Path::new(&dir),
        OpenOptions {
            one_shot,
            ..options()
        },
    )
    .unwrap();
    for i in 0..3 {
        append_any(&store, "d-one", &events(1, &format!("d-one {i}")));
    }
    let (io, flusher) = sled_threads();
    let mut entries = (0..2_000u32).map(|k| (format!("view/{k:05}"), vec![k as u8; 2_000]));
    store
        .checkpoint_replace("rosters", "test/1", 3, &mut entries)
        .unwrap();
    append_any(&store, "d-one", &events(1, "d-one 3"));
    let read = all(&store).len();
    println!("threads: {io} {flusher} {read}");
}
