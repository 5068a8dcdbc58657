//! Shared helpers for the store's tests: opening stores, making events and metadata.
#![allow(dead_code)]

use chrono::{DateTime, Utc};
use expo_store::*;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

pub fn options() -> OpenOptions {
    OpenOptions {
        wait: Duration::from_secs(10),
        upcaster: None,
        bulk: false,
        one_shot: false,
    }
}

pub fn open(dir: &Path) -> SledStore {
    SledStore::open(dir, options()).expect("open store")
}

pub fn open_with(dir: &Path, upcaster: Arc<dyn Upcaster>) -> SledStore {
    SledStore::open(
        dir,
        OpenOptions {
            wait: Duration::from_secs(10),
            upcaster: Some(upcaster),
            bulk: false,
            one_shot: false,
        },
    )
    .expect("open store")
}

pub fn at() -> DateTime<Utc> {
    DateTime::from_timestamp(1_750_000_000, 123_456_789).expect("time")
}

pub fn meta(command_id: Option<Uuid>) -> AppendMeta {
    AppendMeta {
        command_id,
        actor: "tester".into(),
        recorded_at: at(),
    }
}

pub fn event(data: &str) -> NewEvent {
    NewEvent {
        id: Uuid::now_v7(),
        event_type: "Thing".into(),
        schema: 1,
        data: data.as_bytes().to_vec(),
    }
}

pub fn events(n: usize, tag: &str) -> Vec<NewEvent> {
    (0..n)
        .map(|i| event(&format!(r#"{{"tag":"{tag}","i":{i}}}"#)))
        .collect()
}

pub fn all(store: &SledStore) -> Vec<RecordedEvent> {
    store
        .read_all(1)
        .collect::<Result<Vec<_>, _>>()
        .expect("read_all")
}

pub fn stream(store: &SledStore, name: &str, from: u64) -> Vec<RecordedEvent> {
    store
        .read_stream(name, from)
        .collect::<Result<Vec<_>, _>>()
        .expect("read_stream")
}

/// Reopens a store right after dropping it (sled may release its lock a moment later).
pub fn reopen(store: SledStore) -> SledStore {
    let dir = store.path().to_path_buf();
    drop(store);
    open(&dir)
}

/// Appends to a stream with no version check and no command id.
pub fn append_any(store: &SledStore, stream: &str, events: &[NewEvent]) -> AppendOutcome {
    store
        .append(stream, ExpectedVersion::Any, &meta(None), events, None)
        .expect("append")
}

/// Runs one test of this test binary in a fresh process, with `var` set to
/// `dir`, and returns the numbers it printed after `tag` on one line. For
/// measurements (memory, bytes written) that earlier work in the same
/// process would disturb.
pub fn figures_from_child(test: &str, var: &str, dir: &Path, tag: &str) -> Vec<u64> {
    let out = std::process::Command::new(std::env::current_exe().expect("test binary"))
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(var, dir)
        .output()
        .expect("run the child test");
    let stdout = String::from_utf8_lossy(&out.stdout);
    stdout
        .lines()
        .find_map(|l| l.split_once(tag).map(|(_, figures)| figures.to_owned()))
        .unwrap_or_else(|| panic!("no figures from the child {test}: {stdout}"))
        .split_whitespace()
        .map(|n| n.parse().expect("a number"))
        .collect()
}

/// A small xorshift generator: the tests need variety, not quality.
pub struct Rng(pub u64);
impl Rng {
    /// The next number.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// The next number below `n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}
