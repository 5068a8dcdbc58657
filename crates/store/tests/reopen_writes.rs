//! Opening a store that wrote nothing since its last close writes (almost) nothing: sled's free segments are zeroed once, not at every open (vendor/sled/PATCHES.md).
//!
//! Its own test binary: it reads the process's write counter
//! (`/proc/self/io`), which other tests running alongside would disturb.
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
    let mut x = 0x9E37_79B9_7F4A_7C15_u64 ^ generation;
    (0..keys)
        .map(|k| {
            let value = (0..bytes)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x as u8
                })
                .collect();
            (format!("view/{k:06}"), value)
        })
        .collect()
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
    let store = reopen(store);
    drop(store);
    std::thread::sleep(std::time::Duration::from_millis(50));
    let db_len = std::fs::metadata(dir.path().join("db")).unwrap().len();
    assert!(
        db_len > 16 << 20,
        "the churn left a large file ({db_len} bytes)"
    );

    // when it is opened and closed again without writing
    let before = written();
    let store = open(dir.path());
    assert_eq!(store.last_position().unwrap(), 10);
    drop(store);
    let wrote = written() - before;

    // then the open and close wrote well under one 512 KiB segment (sled
    // 0.34.7 as released rewrote every free segment here, megabytes)
    assert!(wrote < 256 << 10, "reopening wrote {wrote} bytes");
}
