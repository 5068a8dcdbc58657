//! The store across real processes: a second process waits then gets `Locked`; SIGKILL during appends and imports loses nothing acknowledged.
//!
//! Children are this test binary run again with `EXPO_STORE_CHILD` naming
//! their role and `--exact child` selecting the one test that plays it.

// Helpers outside #[test] functions unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use expo_store::*;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use uuid::Uuid;

fn child_command(role: &str, dir: &Path, seed: u64) -> Command {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", "child", "--nocapture", "--test-threads=1"])
        .env("EXPO_STORE_CHILD", role)
        .env("EXPO_STORE_DIR", dir)
        .env("EXPO_STORE_SEED", seed.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    cmd
}

/// The child roles. Without `EXPO_STORE_CHILD` this test does nothing.
#[test]
fn child() {
    let Ok(role) = std::env::var("EXPO_STORE_CHILD") else {
        return;
    };
    let dir = std::path::PathBuf::from(std::env::var("EXPO_STORE_DIR").unwrap());
    let seed: u64 = std::env::var("EXPO_STORE_SEED").unwrap().parse().unwrap();
    let mut out = std::io::stdout();
    // libtest prints "test child ... " without a newline: start our lines on a fresh one.
    writeln!(out).unwrap();
    match role.as_str() {
        "lock" => {
            let start = Instant::now();
            let res = SledStore::open(
                &dir,
                OpenOptions {
                    wait: Duration::from_millis(400),
                    upcaster: None,
                    bulk: false,
                    one_shot: false,
                },
            );
            let tag = match res {
                Err(StoreError::Locked { waited_ms, .. }) => format!("locked {waited_ms}"),
                Err(e) => format!("error {e}"),
                Ok(_) => "opened".to_string(),
            };
            writeln!(out, "result {tag} {}", start.elapsed().as_millis()).unwrap();
        }
        "append" => {
            let store = open(&dir);
            let mut rng = Rng(seed | 1);
            for batch in 0u64.. {
                let n = if rng.below(2) == 0 {
                    1
                } else {
                    1 + rng.below(500)
                };
                let id = format!("{seed}-{batch}");
                let evs: Vec<NewEvent> = (0..n)
                    .map(|i| event(&format!(r#"{{"batch":"{id}","n":{n},"i":{i}}}"#)))
                    .collect();
                let o = store
                    .append(
                        &format!("s{}", rng.below(4)),
                        ExpectedVersion::Any,
                        &meta(Some(Uuid::now_v7())),
                        &evs,
                        None,
                    )
                    .unwrap();
                writeln!(out, "ack {} {} {id}", o.first_position, o.last_position).unwrap();
                out.flush().unwrap();
            }
        }
        "import" => {
            let store = open(&dir);
            let start = store.last_position().unwrap();
            let mut events = (1..=2_000_000u64).map(|i| {
                Ok(RecordedEvent {
                    position: start + i,
                    stream: "imported".into(),
                    version: i,
                    id: Uuid::now_v7(),
                    event_type: "Thing".into(),
                    schema: 1,
                    recorded_at: at(),
                    command_id: None,
                    actor: "importer".into(),
                    data: format!("{{\"i\":{i}}}").into_bytes(),
                })
            });
            store
                .import(&mut events, &mut |k| {
                    let _ = writeln!(std::io::stdout(), "progress {k}");
                })
                .unwrap();
            writeln!(out, "done").unwrap();
        }
        "one-shot" => {
            // Opens as the command line does, reads everything (and with seed
            // 1 appends one event), closes, then tries to open again here.
            let options = || OpenOptions {
                wait: Duration::from_millis(200),
                upcaster: None,
                bulk: false,
                one_shot: true,
            };
            let store = SledStore::open(&dir, options()).unwrap();
            let head = store.last_position().unwrap();
            let read = store.read_all(1).filter(Result::is_ok).count();
            if seed == 1 {
                append_any(&store, "one-shot", &[event(r#"{"wrote":true}"#)]);
            }
            drop(store);
            let again = match SledStore::open(&dir, options()) {
                Ok(_) => "opened".to_string(),
                Err(StoreError::Locked { .. }) => "locked".to_string(),
                Err(e) => format!("error {e}"),
            };
            writeln!(out, "one-shot {head} {read} {again}").unwrap();
        }
        other => panic!("unknown role {other}"),
    }
}

#[test]
fn a_second_process_waits_then_gets_locked() {
    let dir = tempfile::tempdir().unwrap();
    let _held = open(dir.path());
    let output = child_command("lock", dir.path(), 1).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .find(|l| l.starts_with("result "))
        .unwrap_or_else(|| panic!("child said {stdout}"));
    let words: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(words[1], "locked", "{line}");
    let waited: u64 = words[2].parse().unwrap();
    let elapsed: u64 = words[3].parse().unwrap();
    assert!(waited >= 400 && elapsed >= 400, "it waited first: {line}");
    assert!(elapsed < 5_000, "and not much longer: {line}");
}

#[test]
fn sigkill_during_appends_loses_nothing_acknowledged_and_no_batch_is_half_there() {
    let rounds = if std::env::var("EXPO_SLOW_TESTS").is_ok_and(|v| v == "1") {
        300
    } else {
        30
    };
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut acked: Vec<(u64, u64, String)> = Vec::new();
    let mut checked_upto = 0u64;
    for round in 0..rounds {
        let mut child = child_command("append", dir.path(), round + 1)
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            let mut lines = Vec::new();
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(rest) = line.strip_prefix("ack ") {
                    let w: Vec<&str> = rest.split_whitespace().collect();
                    lines.push((
                        w[0].parse::<u64>().unwrap(),
                        w[1].parse::<u64>().unwrap(),
                        w[2].to_string(),
                    ));
                }
            }
            lines
        });
        std::thread::sleep(Duration::from_millis(60 + rng.below(200)));
        child.kill().unwrap();
        child.wait().unwrap();
        let got = reader.join().unwrap();

        // Earlier rounds' events were checked then; `verify` re-walks them
        // (checksums, gapless positions, head). Check this round's region.
        let store = open(dir.path());
        let region: Vec<RecordedEvent> = store
            .read_all(checked_upto + 1)
            .map(|e| e.unwrap())
            .collect();
        assert_eq!(
            region.iter().map(|e| e.position).collect::<Vec<_>>(),
            (checked_upto + 1..=checked_upto + region.len() as u64).collect::<Vec<_>>(),
            "round {round}: gapless"
        );
        check_acknowledged(&region, checked_upto, &got, round);
        // every batch present is whole and contiguous
        let mut batches: BTreeMap<String, (u64, Vec<u64>)> = BTreeMap::new();
        for e in &region {
            let v: serde_json::Value = serde_json::from_slice(&e.data).unwrap();
            let b = batches
                .entry(v["batch"].as_str().unwrap().to_string())
                .or_insert((v["n"].as_u64().unwrap(), Vec::new()));
            b.1.push(e.position);
        }
        for (id, (n, positions)) in &batches {
            assert_eq!(
                positions.len() as u64,
                *n,
                "round {round}: batch {id} is half there"
            );
            assert_eq!(
                positions.last().unwrap() - positions[0] + 1,
                *n,
                "round {round}: batch {id} is not contiguous"
            );
        }
        checked_upto = store.last_position().unwrap();
        acked.extend(got);
        store.verify().unwrap();
    }
    // and at the end, every acknowledged event of every round, once more
    let store = open(dir.path());
    check_acknowledged(&all(&store), 0, &acked, rounds);
    assert!(
        acked.len() >= rounds as usize,
        "the children got work done: {} acknowledged",
        acked.len()
    );
}

/// Every acknowledged (first, last, batch id) is in `log`, which starts after `offset`.
#[track_caller]
fn check_acknowledged(
    log: &[RecordedEvent],
    offset: u64,
    acked: &[(u64, u64, String)],
    round: u64,
) {
    for (first, last, id) in acked {
        for p in *first..=*last {
            let e = (p > offset)
                .then(|| log.get((p - offset - 1) as usize))
                .flatten()
                .unwrap_or_else(|| panic!("round {round}: acknowledged position {p} lost"));
            let data = String::from_utf8_lossy(&e.data);
            assert!(
                data.contains(&format!("\"batch\":\"{id}\"")),
                "round {round}: position {p} holds {data}"
            );
        }
    }
}

#[test]
fn sigkill_during_an_import_leaves_nothing_of_it() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = open(dir.path());
        append_any(&store, "s", &events(5, "before"));
    }
    let mut child = child_command("import", dir.path(), 1).spawn().unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    for line in stdout.lines() {
        let line = line.unwrap();
        if let Some(k) = line.strip_prefix("progress ") {
            if k.parse::<u64>().unwrap() >= 100_000 {
                break;
            }
        }
        assert_ne!(
            line, "done",
            "the import finished before it could be killed"
        );
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let store = open(dir.path());
    assert_eq!(store.last_position().unwrap(), 5);
    assert_eq!(store.stream_version("imported").unwrap(), None);
    assert_eq!(all(&store).len(), 5);
    store.verify().unwrap(); // no stray records, index blocks or import marker
}

/// Runs the "one-shot" child on `dir` and returns its report line.
fn one_shot_child(dir: &Path, write: bool) -> String {
    let output = child_command("one-shot", dir, u64::from(write))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    stdout
        .lines()
        .find(|l| l.starts_with("one-shot "))
        .unwrap_or_else(|| panic!("child said {stdout}"))
        .to_owned()
}

/// Opens without waiting: a store still held by anyone is `Locked` at once.
fn open_now(dir: &Path) -> Result<SledStore, StoreError> {
    SledStore::open(
        dir,
        OpenOptions {
            wait: Duration::ZERO,
            upcaster: None,
            bulk: false,
            one_shot: false,
        },
    )
}

#[test]
fn a_one_shot_process_that_only_read_skips_the_teardown_and_leaves_the_store_as_it_was() {
    // given a store of 10 events, closed
    let dir = tempfile::tempdir().unwrap();
    append_any(&open(dir.path()), "d-one", &events(10, "d-one"));
    let head_file = std::fs::read(dir.path().join("expo-head")).unwrap();

    // when a one-shot process reads all of it, closes it and exits
    let line = one_shot_child(dir.path(), false);

    // then it read every event, and its own second open found the store
    // still held: the close really left sled standing
    assert_eq!(line, "one-shot 10 10 locked");
    // and once it has exited the store opens at once, unchanged and sound
    let store = open_now(dir.path()).expect("the exit released the store");
    assert_eq!(store.last_position().unwrap(), 10);
    store.verify().unwrap();
    drop(store);
    assert_eq!(
        std::fs::read(dir.path().join("expo-head")).unwrap(),
        head_file
    );
}

#[test]
fn a_one_shot_process_that_wrote_makes_it_durable_then_skips_the_teardown() {
    // given a store of 10 events, closed
    let dir = tempfile::tempdir().unwrap();
    append_any(&open(dir.path()), "d-one", &events(10, "d-one"));

    // when a one-shot process reads it, appends one event, closes it and exits
    let line = one_shot_child(dir.path(), true);

    // then its close left sled standing too (a second open in it was refused)
    assert_eq!(line, "one-shot 10 10 locked");
    // and the event is there, with the head file the close writes
    let store = open_now(dir.path()).expect("the exit released the store");
    assert_eq!(store.last_position().unwrap(), 11);
    store.verify().unwrap();
    drop(store);
    // (head 11, zero-padded, then the crc32 of what precedes it)
    let head_file = std::fs::read_to_string(dir.path().join("expo-head")).unwrap();
    let (body, crc) = head_file.trim_end().rsplit_once(' ').unwrap();
    assert_eq!(body, "expo-head v2 00000000000000000011");
    assert_eq!(crc, format!("{:08x}", crc32fast::hash(body.as_bytes())));
}
