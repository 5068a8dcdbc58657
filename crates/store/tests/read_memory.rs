//! Reading the whole log keeps memory flat: sled's page cache holds to its capacity (vendor/sled/PATCHES.md), it does not keep every page read.
//!
//! The reading runs in a fresh process (this test binary started again for
//! one test): a process that has just written the store has a heap that the
//! read would reuse, hiding what sled keeps.
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use expo_store::*;

/// Resident memory of this process, in bytes.
fn resident() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .expect("VmRSS line")
        * 1024
}

/// Where the child run of [`child_reads_the_log`] finds the store.
const DIR_VAR: &str = "EXPO_TEST_READ_MEMORY_DIR";

#[test]
fn reading_a_120_mb_log_keeps_memory_flat() {
    // given a store holding ~120 MB of event data (written by import, as a
    // restored backup is)
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    // Words picked at random: text that lz4 shrinks about as much as real
    // events, so records have their real size on disk.
    const WORDS: [&str; 16] = [
        "Karachi",
        "Lahore",
        "textiles",
        "steel",
        "Osaka",
        "delegate",
        "approved",
        "waitlist",
        "passport",
        "leader",
        "Faisalabad",
        "machinery",
        "minerals",
        "company",
        "Sialkot",
        "visa",
    ];
    let mut noise = |n: usize| -> String {
        (0..n)
            .map(|_| WORDS[rng.below(16) as usize])
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut position = 0;
    let mut events = (0..600_u64)
        .flat_map(|d| (1..=100_u64).map(move |v| (d, v)))
        .map(|(d, v)| {
            position += 1;
            Ok(RecordedEvent {
                position,
                stream: format!("d-{d:03}").into(),
                version: v,
                id: uuid::Uuid::from_u128(u128::from(position)),
                event_type: "Thing".into(),
                schema: 1,
                recorded_at: at(),
                command_id: None,
                actor: "tester".into(),
                data: format!(r#"{{"noise":"{}"}}"#, noise(250)).into_bytes(),
            })
        });
    store.import(&mut events, &mut |_| {}).unwrap();
    drop(store);

    // when a fresh process (this test binary, running only the child test)
    // opens it and reads every event
    let figures = figures_from_child("child_reads_the_log", DIR_VAR, dir.path(), "read-memory: ");
    let (bytes, grew) = (figures[0], figures[1]);

    // then all ~120 MB went through, and its memory grew by about sled's
    // 8 MiB cache, far less than the ~45 MB the log takes on disk (sled
    // 0.34.7 as released kept every page it read: 47 MB here)
    assert!(bytes > 110 << 20, "read {bytes} bytes");
    assert!(grew < 24 << 20, "memory grew {grew} bytes reading {bytes}");
}

/// The child half of the test above; does nothing unless started by it.
#[test]
fn child_reads_the_log() {
    let Some(dir) = std::env::var_os(DIR_VAR) else {
        return;
    };
    let store = open(std::path::Path::new(&dir));
    let before = resident();
    let mut bytes = 0_u64;
    for e in store.read_all(1) {
        bytes += e.unwrap().data.len() as u64;
    }
    let grew = resident().saturating_sub(before);
    println!("read-memory: {bytes} {grew}");
}
