//! Opening a store that wrote nothing since its last close writes (almost) nothing: sled's free segments and the tail of its active one are zeroed once, not at every open (vendor/sled/PATCHES.md).
//!
//! The reopening runs in a fresh process (this test binary started again for
//! one test) and reads its own write counter (`/proc/self/io`), which the
//! threads of any earlier store in the same process could disturb.
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use expo_store::*;

/// Bytes this process has handed to write syscalls so far.
fn written() -> u64 {
    let io = std::fs::read_to_string("/proc/self/io").expect("/proc/self/io");
    io.lines()
        .find_map(|l| l.strip_prefix("wchar: "))
        .and_then(|n| n.trim().parse().ok())
        .expect("wchar line")
}

/// State values that do not compress, so the store really holds their bytes.
fn noisy_state(generation: u64, keys: u64, bytes: usize) -> Vec<(String, Vec<u8>)> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15_u64 ^ generation);
    (0..keys)
        .map(|k| {
            let value = (0..bytes).map(|_| rng.next_u64() as u8).collect();
            (format!("view/{k:06}"), value)
        })
        .collect()
}

/// Where the children of this file's tests (this test binary started again
/// for one child test) find the store.
const DIR_VAR: &str = "EXPO_TEST_REOPEN_WRITES_DIR";

/// The names of sled's finished snapshot files in the store.
fn snapshots(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("snap.") && !n.ends_with(".generating"))
        .collect();
    names.sort();
    names
}

/// Runs `child` on the store in a fresh process and returns what it printed.
fn child(test: &str, dir: &std::path::Path) -> Vec<u64> {
    figures_from_child(test, DIR_VAR, dir, "reopen: ")
}

#[test]
fn reopening_a_store_does_not_rewrite_its_free_segments() {
    // given a store whose projection state (~8 MB) was replaced three times,
    // so sled's file holds free segments, opened and closed once since
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    append_any(&store, "d-one", &events(10, "d-one"));
    for generation in 0..3 {
        let mut entries = noisy_state(generation, 1_400, 6_000).into_iter();
        store
            .checkpoint_replace("rosters", "test/1", 10, &mut entries)
            .unwrap();
    }
    drop(reopen(store));
    let db_len = std::fs::metadata(dir.path().join("db")).unwrap().len();
    assert!(
        db_len > 16 << 20,
        "the churn left a large file ({db_len} bytes)"
    );

    // when a fresh process (this test binary, running only the child test:
    // no thread of an earlier store in this process can write meanwhile)
    // opens it and closes it without writing
    let wrote = child("child_opens_and_closes", dir.path())[0];

    // then it wrote at most a few hundred KB: its snapshot, and pages sled
    // may move out of a sparse segment while opening (0-460 KB measured).
    // sled 0.34.7 as released rewrote every free segment here: 26 MB.
    assert!(wrote < 2 << 20, "reopening wrote {wrote} bytes");

    // when another fresh process opens and closes it again
    let again = child("child_opens_and_closes", dir.path())[0];

    // then it wrote nothing at all: the tail of sled's active segment past
    // the last message already reads as zeroes, so it is not zeroed (and
    // fsynced) again. sled as released rewrote it at every open: 41-177 KB
    // per `expo roster` on the bench store.
    assert_eq!(again, 0, "a second reopen wrote {again} bytes");
}

/// In a child started by a test (and only there): the bytes this process
/// had written before opening the store, and the store.
fn child_store() -> Option<(SledStore, u64)> {
    let dir = std::env::var_os(DIR_VAR)?;
    let before = written();
    Some((open(std::path::Path::new(&dir)), before))
}

/// A child of the test above: opens the store and closes it at once (sled's
/// flusher, which may move pages out of sparse segments, gets no time),
/// printing the bytes written.
#[test]
fn child_opens_and_closes() {
    let Some((store, before)) = child_store() else {
        return;
    };
    assert_eq!(store.last_position().unwrap(), 10);
    drop(store);
    println!("reopen: {}", written() - before);
}

#[test]
fn a_small_write_leaves_sled_snapshot_for_later() {
    // given a store of 10 events whose sled snapshot is current (a reopen
    // after the writes wrote it)
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    append_any(&store, "d-one", &events(10, "d-one"));
    drop(reopen(store));
    let first = snapshots(dir.path());
    assert_eq!(first.len(), 1, "one snapshot: {first:?}");

    // when one process appends an event and the next one opens the store
    assert_eq!(child("child_appends", dir.path()), [11]);
    let [wrote, head, count] = child("child_reads_tail", dir.path())[..] else {
        panic!("three figures")
    };

    // then that open found all 11 events and wrote nothing: the new tail is
    // in the segment the snapshot already ends in, so the snapshot stays
    // (sled as released rewrote it, fsynced and renamed it at this open)
    assert_eq!((head, count), (11, 11));
    assert_eq!(wrote, 0, "the open after a small write wrote {wrote} bytes");
    assert_eq!(snapshots(dir.path()), first);

    // when two more processes append, each opening on the older snapshot
    assert_eq!(child("child_appends", dir.path()), [12]);
    assert_eq!(child("child_appends", dir.path()), [13]);

    // then the log since the snapshot replays whole at the next open
    let [wrote, head, count] = child("child_reads_tail", dir.path())[..] else {
        panic!("three figures")
    };
    assert_eq!((wrote, head, count), (0, 13, 13));
    assert_eq!(snapshots(dir.path()), first);

    // when a process appends past the end of sled's segment (~1 MB of
    // events that do not compress)
    assert_eq!(child("child_appends_much", dir.path()), [1_013]);

    // then the next open writes a new snapshot, so the tail a later open
    // replays stays within one segment, and every event is there
    let [wrote, head, count] = child("child_reads_tail", dir.path())[..] else {
        panic!("three figures")
    };
    assert_eq!((head, count), (1_013, 1_013));
    assert!(wrote > 0, "no new snapshot after a segment's worth of log");
    let second = snapshots(dir.path());
    assert_eq!(second.len(), 1, "one snapshot: {second:?}");
    assert_ne!(second, first);
}

/// A child of `a_small_write_leaves_sled_snapshot_for_later`: appends one event and prints the head.
#[test]
fn child_appends() {
    append_in_child("d-one", || events(1, "more"));
}

/// A child of `a_small_write_leaves_sled_snapshot_for_later`: appends 1,000 events of 1 KB that lz4
/// cannot shrink, and prints the head.
#[test]
fn child_appends_much() {
    append_in_child("d-two", || {
        let mut rng = Rng(0x2545_F491_4F6C_DD1D);
        (0..1_000)
            .map(|_| {
                let hex: String = (0..64)
                    .map(|_| format!("{:016x}", rng.next_u64()))
                    .collect();
                event(&format!(r#"{{"noise":"{hex}"}}"#))
            })
            .collect()
    });
}

/// In a child started by a test (and only there), appends the
/// events to `stream`, closes the store and prints the head.
fn append_in_child(stream: &str, events: impl FnOnce() -> Vec<NewEvent>) {
    let Some((store, _)) = child_store() else {
        return;
    };
    let out = append_any(&store, stream, &events());
    drop(store);
    println!("reopen: {}", out.last_position);
}

/// A child of `a_small_write_leaves_sled_snapshot_for_later`: opens the store, reads and verifies every
/// event, and prints the bytes its open and close wrote, the head and the
/// number of events read.
#[test]
fn child_reads_tail() {
    let Some((store, before)) = child_store() else {
        return;
    };
    let head = store.last_position().unwrap();
    let count = all(&store).len();
    store.verify().unwrap();
    drop(store);
    println!("reopen: {} {head} {count}", written() - before);
}
