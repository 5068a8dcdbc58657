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

/// Where the child run of [`child_opens_and_closes`] finds the store.
const DIR_VAR: &str = "EXPO_TEST_REOPEN_WRITES_DIR";

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
    let wrote = figures_from_child(
        "child_opens_and_closes",
        DIR_VAR,
        dir.path(),
        "reopen-writes: ",
    )[0];

    // then it wrote at most a few hundred KB: its snapshot, and pages sled
    // may move out of a sparse segment while opening (0-460 KB measured).
    // sled 0.34.7 as released rewrote every free segment here: 26 MB.
    assert!(wrote < 2 << 20, "reopening wrote {wrote} bytes");

    // when another fresh process opens and closes it again
    let again = figures_from_child(
        "child_opens_and_closes",
        DIR_VAR,
        dir.path(),
        "reopen-writes: ",
    )[0];

    // then it wrote nothing at all: the tail of sled's active segment past
    // the last message already reads as zeroes, so it is not zeroed (and
    // fsynced) again. sled as released rewrote it at every open: 41-177 KB
    // per `expo roster` on the bench store.
    assert_eq!(again, 0, "a second reopen wrote {again} bytes");
}

/// The child half of the test above; does nothing unless started by it.
#[test]
fn child_opens_and_closes() {
    let Some(dir) = std::env::var_os(DIR_VAR) else {
        return;
    };
    let before = written();
    let store = open(std::path::Path::new(&dir));
    assert_eq!(store.last_position().unwrap(), 10);
    drop(store);
    println!("reopen-writes: {}", written() - before);
}
