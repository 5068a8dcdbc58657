//! The store's promises, in process: appends, conflicts, reads, idempotency, subscriptions, upcasting, verify, checkpoints, import.

// Helpers outside #[test] functions unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use expo_store::*;
use std::collections::HashSet;
use std::sync::Arc;
use uuid::Uuid;

#[test]
fn appends_read_back_by_stream_and_log_with_expected_versions() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    assert_eq!(store.last_position().unwrap(), 0);
    // given / when / then rows: (stream, expected, n events, expected outcome or conflict actual)
    #[track_caller]
    fn check(
        store: &SledStore,
        stream: &str,
        expected: ExpectedVersion,
        n: usize,
        want: Result<(u64, u64, u64, u64), Option<u64>>,
    ) {
        let got = store.append(stream, expected, &meta(None), &events(n, stream), None);
        match (got, want) {
            (Ok(o), Ok((fv, lv, fp, lp))) => {
                assert_eq!(
                    (
                        o.first_version,
                        o.last_version,
                        o.first_position,
                        o.last_position
                    ),
                    (fv, lv, fp, lp)
                );
                assert!(!o.duplicate);
            }
            (Err(AppendError::Conflict { actual, .. }), Err(want_actual)) => {
                assert_eq!(actual, want_actual)
            }
            (got, want) => panic!("got {got:?}, wanted {want:?}"),
        }
    }
    check(&store, "a", ExpectedVersion::NoStream, 2, Ok((1, 2, 1, 2)));
    check(&store, "b", ExpectedVersion::Any, 1, Ok((1, 1, 3, 3)));
    check(
        &store,
        "a",
        ExpectedVersion::Exactly(2),
        3,
        Ok((3, 5, 4, 6)),
    );
    check(&store, "a", ExpectedVersion::NoStream, 1, Err(Some(5)));
    check(&store, "a", ExpectedVersion::Exactly(4), 1, Err(Some(5)));
    check(&store, "c", ExpectedVersion::Exactly(0), 1, Err(None));
    check(
        &store,
        "b",
        ExpectedVersion::Exactly(1),
        600,
        Ok((2, 601, 7, 606)),
    );

    assert_eq!(store.last_position().unwrap(), 606);
    assert_eq!(store.stream_version("a").unwrap(), Some(5));
    assert_eq!(store.stream_version("zzz").unwrap(), None);
    assert_eq!(
        store.streams().unwrap(),
        vec![("a".to_string(), 5), ("b".to_string(), 601)]
    );

    let log = all(&store);
    assert_eq!(
        log.iter().map(|e| e.position).collect::<Vec<_>>(),
        (1..=606).collect::<Vec<_>>()
    );
    assert_eq!(log[0].actor, "tester");
    assert_eq!(log[0].recorded_at, at());
    let a = stream(&store, "a", 1);
    assert_eq!(
        a.iter()
            .map(|e| (e.version, e.position))
            .collect::<Vec<_>>(),
        vec![(1, 1), (2, 2), (3, 4), (4, 5), (5, 6)]
    );
    assert_eq!(
        stream(&store, "a", 4)
            .iter()
            .map(|e| e.version)
            .collect::<Vec<_>>(),
        vec![4, 5]
    );
    assert_eq!(stream(&store, "b", 300).len(), 302);
    assert!(stream(&store, "nope", 1).is_empty());
    assert_eq!(
        store
            .read_all(605)
            .map(|e| e.unwrap().position)
            .collect::<Vec<_>>(),
        vec![605, 606]
    );
    assert_eq!(store.read_all(607).count(), 0);
    let report = store.verify().unwrap();
    assert_eq!((report.events, report.streams), (606, 2));

    // and the same after a reopen
    let store = reopen(store);
    assert_eq!(all(&store), log);
    assert_eq!(store.last_position().unwrap(), 606);
}

#[test]
fn a_retried_command_id_returns_the_first_outcome_across_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let cid = Uuid::now_v7();
    let first = store
        .append(
            "s",
            ExpectedVersion::NoStream,
            &meta(Some(cid)),
            &events(3, "x"),
            None,
        )
        .unwrap();
    let store = reopen(store);
    // expected version would now conflict: the duplicate is recognised first
    let again = store
        .append(
            "s",
            ExpectedVersion::NoStream,
            &meta(Some(cid)),
            &events(3, "x"),
            None,
        )
        .unwrap();
    assert!(again.duplicate);
    assert_eq!(
        AppendOutcome {
            duplicate: false,
            ..again
        },
        first
    );
    assert_eq!(store.last_position().unwrap(), 3);
    store.verify().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixteen_tasks_racing_on_one_stream_lose_no_update() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(open(dir.path()));
    let mut tasks = Vec::new();
    for t in 0..16 {
        let store = store.clone();
        tasks.push(tokio::task::spawn_blocking(move || {
            let mut accepted = Vec::new();
            let mut conflicts = 0;
            while accepted.len() < 10 {
                let v = store.stream_version("race").unwrap();
                let expected = v.map_or(ExpectedVersion::NoStream, ExpectedVersion::Exactly);
                let data = format!(r#"{{"task":{t},"n":{}}}"#, accepted.len());
                match store.append("race", expected, &meta(None), &[event(&data)], None) {
                    Ok(o) => accepted.push((o.first_version, data)),
                    Err(AppendError::Conflict { .. }) => conflicts += 1,
                    Err(e) => panic!("{e}"),
                }
            }
            (accepted, conflicts)
        }));
    }
    let mut accepted = Vec::new();
    for t in tasks {
        accepted.extend(t.await.unwrap().0);
    }
    let events = stream(&store, "race", 1);
    assert_eq!(events.len(), 160);
    assert_eq!(
        events.iter().map(|e| e.version).collect::<Vec<_>>(),
        (1..=160).collect::<Vec<_>>()
    );
    for (version, data) in &accepted {
        assert_eq!(
            &events[*version as usize - 1].data,
            data.as_bytes(),
            "accepted append at version {version} is there"
        );
    }
    let distinct: HashSet<&Vec<u8>> = events.iter().map(|e| &e.data).collect();
    assert_eq!(distinct.len(), 160, "every accepted append is there once");
    store.verify().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_starting_mid_way_sees_every_position_once_in_order() {
    const N: u64 = 10_000;
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(open(dir.path()));
    let mut writers = Vec::new();
    for w in 0..8 {
        let store = store.clone();
        writers.push(tokio::task::spawn_blocking(move || {
            for i in 0..N / 8 {
                store
                    .append(
                        &format!("w{}", (w + i) % 5),
                        ExpectedVersion::Any,
                        &meta(None),
                        &[event(&format!("{{\"w\":{w},\"i\":{i}}}"))],
                        None,
                    )
                    .unwrap();
            }
        }));
    }
    while store.last_position().unwrap() < 500 {
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    let mut from_start = store.subscribe(1);
    let mut from_middle = store.subscribe(N / 2);
    let mut seen = Vec::new();
    while seen.len() < N as usize {
        let e = tokio::time::timeout(std::time::Duration::from_secs(60), from_start.next())
            .await
            .expect("no stall")
            .unwrap()
            .unwrap();
        seen.push(e.position);
    }
    assert_eq!(seen, (1..=N).collect::<Vec<_>>());
    let mut middle = Vec::new();
    while middle.len() < (N / 2 + 1) as usize {
        middle.push(from_middle.next().await.unwrap().unwrap().position);
    }
    assert_eq!(middle, (N / 2..=N).collect::<Vec<_>>());
    for w in writers {
        w.await.unwrap();
    }
    // nothing more arrives
    assert!(
        tokio::time::timeout(std::time::Duration::from_millis(100), from_start.next())
            .await
            .is_err()
    );
    store.verify().unwrap();
}

/// Schema 1 of `Thing` had `name`; schema 2 calls it `title`.
struct RenameName;
impl Upcaster for RenameName {
    fn upcast(
        &self,
        event_type: &str,
        schema: u32,
        data: &[u8],
    ) -> Result<Option<(u32, Vec<u8>)>, String> {
        if event_type != "Thing" || schema != 1 {
            return Ok(None);
        }
        let mut v: serde_json::Value = serde_json::from_slice(data).map_err(|e| e.to_string())?;
        let obj = v.as_object_mut().ok_or("not an object")?;
        let name = obj.remove("name").ok_or("no name")?;
        obj.insert("title".into(), name);
        Ok(Some((2, v.to_string().into_bytes())))
    }
}

#[test]
fn an_old_schema_record_is_upcast_when_read_and_never_rewritten() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    append_any(&store, "s", &[event(r#"{"name":"old"}"#)]);
    let current = NewEvent {
        schema: 2,
        ..event(r#"{"title":"new"}"#)
    };
    append_any(&store, "s", &[current]);
    drop(store);
    let store = open_with(dir.path(), Arc::new(RenameName));
    let got: Vec<(u32, Vec<u8>)> = all(&store)
        .into_iter()
        .map(|e| (e.schema, e.data))
        .collect();
    assert_eq!(
        got,
        vec![
            (2, br#"{"title":"old"}"#.to_vec()),
            (2, br#"{"title":"new"}"#.to_vec())
        ]
    );
    assert_eq!(stream(&store, "s", 1)[0].data, br#"{"title":"old"}"#);
    drop(store);
    // the stored record is still schema 1
    let store = open(dir.path());
    assert_eq!(all(&store)[0].schema, 1);
}

#[test]
fn a_flipped_byte_in_a_stored_record_is_reported_by_verify_with_its_position() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    for i in 0..10 {
        append_any(&store, "s", &[event(&format!("{{\"i\":{i}}}"))]);
    }
    store.verify().unwrap();
    drop(store);
    {
        // sled may hold its lock a moment after the store is dropped: retry.
        let started = std::time::Instant::now();
        let db = loop {
            match sled::open(dir.path()) {
                Ok(db) => break db,
                Err(e) if started.elapsed() < std::time::Duration::from_secs(10) => {
                    let _ = e;
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                Err(e) => panic!("{e}"),
            }
        };
        let key = [b'L', 0, 0, 0, 0, 0, 0, 0, 7];
        let mut v = db.get(key).unwrap().unwrap().to_vec();
        let last = v.len() - 3;
        v[last] ^= 0x01;
        db.insert(key, v).unwrap();
        db.flush().unwrap();
    }
    let store = open(dir.path());
    match store.verify() {
        Err(StoreError::Corrupt { position, problem }) => {
            assert_eq!(position, 7);
            assert!(problem.contains("checksum"), "{problem}");
        }
        other => panic!("verify said {other:?}"),
    }
    // reading past it is an error at that position too, never a skip
    let positions: Vec<Result<u64, u64>> = store
        .read_all(1)
        .map(|e| {
            e.map(|e| e.position).map_err(|e| match e {
                StoreError::Corrupt { position, .. } => position,
                _ => 0,
            })
        })
        .collect();
    assert_eq!(
        positions,
        vec![Ok(1), Ok(2), Ok(3), Ok(4), Ok(5), Ok(6), Err(7)]
    );
}

#[test]
fn damaged_sled_files_give_typed_errors_never_a_panic() {
    for seed in 0..6u64 {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path());
        for i in 0..200 {
            store
                .append(
                    &format!("s{}", i % 7),
                    ExpectedVersion::Any,
                    &meta(None),
                    &[event(&format!("{{\"marker\":\"QQQQQQQQ\",\"i\":{i}}}"))],
                    None,
                )
                .unwrap();
        }
        drop(store);
        let path = dir.path().join("db");
        let mut bytes = std::fs::read(&path).unwrap();
        let len = bytes.len();
        // damage a run of bytes at a seed-chosen place past the header
        let start = 512 + (seed as usize * 7919) % (len - 1024);
        for b in &mut bytes[start..start + 64] {
            *b ^= 0x5A;
        }
        std::fs::write(&path, &bytes).unwrap();
        let result = std::panic::catch_unwind(|| match SledStore::open(dir.path(), options()) {
            Err(e) => Err(e),
            Ok(store) => {
                store.verify()?;
                for e in store.read_all(1) {
                    e?;
                }
                Ok(store.last_position()?)
            }
        });
        eprintln!("seed {seed}: {result:?}");
        match result {
            Ok(Ok(n)) => assert_eq!(n, 200, "if the damage went unnoticed, nothing was lost"),
            Ok(Err(StoreError::Corrupt { .. })) | Ok(Err(StoreError::Io(_))) => {}
            Ok(Err(e)) => panic!("unexpected error kind {e:?}"),
            Err(_) => panic!("panicked on a damaged file (seed {seed})"),
        }
    }
}

#[test]
fn checkpoints_store_state_with_their_position_and_commit_only_from_the_expected_position() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    append_any(&store, "s", &events(5, "x"));
    assert_eq!(store.checkpoint("p").unwrap(), None);
    let big = vec![7u8; 100_000];
    let w = CheckpointWrite {
        name: "p".into(),
        stamp: "v1".into(),
        writes: vec![
            ("a".into(), Some(b"1".to_vec())),
            ("big".into(), Some(big.clone())),
            ("b\0x".into(), Some(vec![])),
        ],
    };
    assert!(store.checkpoint_commit(&w, 0, 3).unwrap());
    assert!(
        !store.checkpoint_commit(&w, 0, 4).unwrap(),
        "stale expected position writes nothing"
    );
    assert!(!store
        .checkpoint_commit(
            &CheckpointWrite {
                name: "p".into(),
                stamp: "v1".into(),
                writes: vec![]
            },
            7,
            5
        )
        .unwrap());
    assert!(
        matches!(
            store.checkpoint_commit(&w, 3, 99),
            Err(StoreError::Corrupt { .. })
        ),
        "never beyond the head"
    );
    assert_eq!(
        store.checkpoint("p").unwrap(),
        Some(Checkpoint {
            position: 3,
            stamp: "v1".into()
        })
    );
    assert_eq!(store.checkpoint_get("p", "big").unwrap(), Some(big.clone()));
    assert_eq!(store.checkpoint_get("p", "b\0x").unwrap(), Some(vec![]));
    assert_eq!(store.checkpoint_get("p", "zz").unwrap(), None);
    let shrink = CheckpointWrite {
        name: "p".into(),
        stamp: "v1".into(),
        writes: vec![
            ("big".into(), Some(b"small".to_vec())),
            ("a".into(), None),
            ("a".into(), Some(b"2".to_vec())),
            ("b\0x".into(), None),
        ],
    };
    assert!(store.checkpoint_commit(&shrink, 3, 5).unwrap());
    assert_eq!(
        store.checkpoint_scan("p", "").unwrap(),
        vec![
            ("a".to_string(), b"2".to_vec()),
            ("big".to_string(), b"small".to_vec())
        ]
    );
    assert_eq!(
        store.checkpoint_scan("p", "b").unwrap(),
        vec![("big".to_string(), b"small".to_vec())]
    );

    // an append carrying a checkpoint write applies it only when the checkpoint stood at the head
    let cw = CheckpointWrite {
        name: "p".into(),
        stamp: "v1".into(),
        writes: vec![("c".into(), Some(b"3".to_vec()))],
    };
    let o = store
        .append(
            "s",
            ExpectedVersion::Any,
            &meta(None),
            &events(1, "y"),
            Some(&cw),
        )
        .unwrap();
    assert!(o.checkpoint_applied);
    assert_eq!(store.checkpoint("p").unwrap().unwrap().position, 6);
    let behind = CheckpointWrite {
        name: "q".into(),
        stamp: "v1".into(),
        writes: vec![("c".into(), Some(b"3".to_vec()))],
    };
    let o = store
        .append(
            "s",
            ExpectedVersion::Any,
            &meta(None),
            &events(1, "z"),
            Some(&behind),
        )
        .unwrap();
    assert!(!o.checkpoint_applied);
    assert_eq!(store.checkpoint("q").unwrap(), None);
    let store = reopen(store);
    assert_eq!(store.checkpoint_get("p", "c").unwrap(), Some(b"3".to_vec()));
    assert_eq!(store.verify().unwrap().checkpoints, 1);
}

/// A store of 10 events whose checkpoint "p" (stamp v1, position 4) holds
/// `keys` keys `k0…`; returns it with that state.
fn given_a_checkpoint_of(dir: &std::path::Path, keys: u8) -> (SledStore, Vec<(String, Vec<u8>)>) {
    let store = open(dir);
    append_any(&store, "s", &events(10, "x"));
    let mut old = (0..keys).map(|i| (format!("k{i}"), vec![i; 10]));
    store.checkpoint_replace("p", "v1", 4, &mut old).unwrap();
    let state = store.checkpoint_scan("p", "").unwrap();
    (store, state)
}

#[test]
fn checkpoint_replace_switches_atomically_and_a_crash_mid_replace_leaves_the_old_state() {
    let dir = tempfile::tempdir().unwrap();
    let (store, before) = given_a_checkpoint_of(dir.path(), 5);
    assert_eq!(before.len(), 5);

    // the replace dies half-way (the entries' producer panics: the process would have died here)
    let mut dying = (0..50_000).map(|i| {
        assert!(i < 30_000, "crash");
        (format!("n{i:06}"), vec![1u8; 100])
    });
    assert!(store.checkpoint_replace("p", "v2", 10, &mut dying).is_err());
    let store = reopen(store);
    assert_eq!(
        store.checkpoint("p").unwrap(),
        Some(Checkpoint {
            position: 4,
            stamp: "v1".into()
        })
    );
    assert_eq!(store.checkpoint_scan("p", "").unwrap(), before);
    store.verify().unwrap();

    // a full replace switches to the new state, position and stamp at once
    let mut new = (0..40_000).map(|i| (format!("n{i:06}"), vec![2u8; 100]));
    store.checkpoint_replace("p", "v2", 10, &mut new).unwrap();
    assert_eq!(
        store.checkpoint("p").unwrap(),
        Some(Checkpoint {
            position: 10,
            stamp: "v2".into()
        })
    );
    assert_eq!(store.checkpoint_get("p", "k1").unwrap(), None);
    assert_eq!(store.checkpoint_scan("p", "n0399").unwrap().len(), 100);
    let store = reopen(store);
    assert_eq!(store.checkpoint_scan("p", "").unwrap().len(), 40_000);
    store.verify().unwrap();
}

/// Given a stored state, when a new one is built aside — keys put, read
/// back, put again shorter and longer (values span several chunks), past
/// several write batches — then nothing of it shows before the commit, and
/// after it exactly the last value of every key does, across a reopen; a
/// build dropped uncommitted leaves the old state and a sound store.
#[test]
fn a_state_built_aside_reads_back_its_own_puts_and_switches_at_commit() {
    let dir = tempfile::tempdir().unwrap();
    let (store, before) = given_a_checkpoint_of(dir.path(), 3);

    let mut rng = Rng(17);
    let mut model = std::collections::BTreeMap::new();
    let mut build = store.checkpoint_build("p").unwrap();
    assert_eq!(
        build.get("k1").unwrap(),
        None,
        "the old state is not the new one"
    );
    for round in 0..6_000u64 {
        let key = format!("n{:04}", rng.below(700));
        // Mostly small values, some of several chunks (the store cuts at 6 KiB).
        let len = if round % 7 == 0 { 20_000 } else { 100 } + rng.below(50) as usize;
        let value = vec![(round % 251) as u8; len];
        build.put(key.clone(), value.clone()).unwrap();
        model.insert(key, value);
        if round % 50 == 0 {
            let probe = format!("n{:04}", rng.below(700));
            let got = build.get(&probe).unwrap();
            assert!(
                got.as_ref() == model.get(&probe),
                "{probe}: read back {:?} bytes, put {:?}",
                got.map(|v| v.len()),
                model.get(&probe).map(Vec::len)
            );
        }
    }
    assert_eq!(store.checkpoint_scan("p", "").unwrap(), before);
    build.commit("v2", 10).unwrap();

    let want: Vec<(String, Vec<u8>)> = model.into_iter().collect();
    // Compared without printing megabytes of values on a failure.
    assert!(store.checkpoint_scan("p", "").unwrap() == want);
    assert_eq!(
        store.checkpoint("p").unwrap(),
        Some(Checkpoint {
            position: 10,
            stamp: "v2".into()
        })
    );
    let store = reopen(store);
    assert!(store.checkpoint_scan("p", "").unwrap() == want);
    store.verify().unwrap();

    // A build dropped half-way changes nothing; the next write removes it.
    let mut build = store.checkpoint_build("p").unwrap();
    for i in 0..3_000 {
        build.put(format!("z{i:05}"), vec![9u8; 1_000]).unwrap();
    }
    drop(build);
    assert!(store.checkpoint_scan("p", "").unwrap() == want);
    append_any(&store, "s", &events(1, "y"));
    store.verify().unwrap();
    let store = reopen(store);
    assert!(store.checkpoint_scan("p", "").unwrap() == want);
    assert_eq!(store.verify().unwrap().checkpoints, 1);
}

fn recorded(position: u64, stream: &str, version: u64) -> RecordedEvent {
    RecordedEvent {
        position,
        stream: stream.into(),
        version,
        id: Uuid::now_v7(),
        event_type: "Thing".into(),
        schema: 1,
        recorded_at: at(),
        command_id: Some(Uuid::now_v7()),
        actor: "importer".into(),
        data: format!("{{\"p\":{position},\"pad\":\"{}\"}}", "x".repeat(200)).into_bytes(),
    }
}

#[test]
fn import_continues_the_store_exactly_or_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    // 20,000 events over 37 streams: many records and index blocks
    let mut versions = std::collections::HashMap::new();
    let batch: Vec<RecordedEvent> = (1..=20_000u64)
        .map(|p| {
            let s = format!("s{}", p % 37);
            let v = versions.entry(s.clone()).or_insert(0u64);
            *v += 1;
            recorded(p, &s, *v)
        })
        .collect();
    let mut seen = 0;
    let n = store
        .import(&mut batch.clone().into_iter().map(Ok), &mut |k| seen = k)
        .unwrap();
    assert_eq!((n, seen), (20_000, 20_000));
    assert_eq!(all(&store), batch);
    assert_eq!(
        stream(&store, "s5", 1),
        batch
            .iter()
            .filter(|e| e.stream == "s5")
            .cloned()
            .collect::<Vec<_>>()
    );
    assert_eq!(
        stream(&store, "s5", 500).first().map(|e| e.version),
        Some(500)
    );

    // rows: (events after the store, the failing 1-based index)
    #[track_caller]
    fn rejects(store: &SledStore, events: Vec<RecordedEvent>, index: u64) {
        let before = store.last_position().unwrap();
        match store.import(&mut events.into_iter().map(Ok), &mut |_| {}) {
            Err(StoreError::Discontinuous { index: got, .. }) => assert_eq!(got, index),
            other => panic!("import said {other:?}"),
        }
        assert_eq!(store.last_position().unwrap(), before, "nothing visible");
        store.verify().unwrap();
    }
    let mut long: Vec<RecordedEvent> = (20_001..=25_000)
        .map(|p| recorded(p, "new", p - 20_000))
        .collect();
    long.push(recorded(25_002, "new", 5001)); // a gap at the very end
    rejects(&store, long, 5001);
    rejects(&store, vec![recorded(20_001, "s1", 1)], 1); // stream already at a later version
    rejects(&store, vec![recorded(20_000, "z", 1)], 1); // overlaps the store
    rejects(
        &store,
        vec![recorded(20_001, "z", 1), recorded(20_002, "z", 3)],
        2,
    );

    // a failed event source is all-or-nothing too
    let mut failing = (20_001..=23_000).map(|p| {
        if p == 22_999 {
            Err(StoreError::Io("source broke".into()))
        } else {
            Ok(recorded(p, "f", p - 20_000))
        }
    });
    assert!(matches!(
        store.import(&mut failing, &mut |_| {}),
        Err(StoreError::Io(_))
    ));
    assert_eq!(store.stream_version("f").unwrap(), None);

    // continuing exactly works, after reopen too
    let store = reopen(store);
    let more: Vec<RecordedEvent> = (20_001..=20_010)
        .map(|p| recorded(p, "s1", versions["s1"] + p - 20_000))
        .collect();
    assert_eq!(
        store
            .import(&mut more.into_iter().map(Ok), &mut |_| {})
            .unwrap(),
        10
    );
    assert_eq!(
        store.stream_version("s1").unwrap(),
        Some(versions["s1"] + 10)
    );
    let o = store
        .append(
            "s1",
            ExpectedVersion::Exactly(versions["s1"] + 10),
            &meta(None),
            &events(1, "after"),
            None,
        )
        .unwrap();
    assert_eq!(o.first_position, 20_011);
    assert_eq!(store.verify().unwrap().events, 20_011);
}

#[test]
fn an_import_of_many_streams_indexes_every_one_of_them() {
    // Given 1,000 streams taking turns, 3 events each: more streams than the
    // import writes last index blocks in one batch (256)
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let streams = 1_000u64;
    let batch: Vec<RecordedEvent> = (1..=3 * streams)
        .map(|p| recorded(p, &format!("m{}", (p - 1) % streams), (p - 1) / streams + 1))
        .collect();
    // When they are imported
    let n = store
        .import(&mut batch.clone().into_iter().map(Ok), &mut |_| {})
        .unwrap();
    assert_eq!(n, 3 * streams);
    // Then every stream reads back whole, from the start and from its
    // last version, before and after a reopen, and the store verifies
    let store = reopen(store);
    for i in 0..streams {
        let name = format!("m{i}");
        let want: Vec<RecordedEvent> = batch.iter().filter(|e| e.stream == name).cloned().collect();
        assert_eq!(stream(&store, &name, 1), want, "stream {name}");
        assert_eq!(
            stream(&store, &name, 3),
            want[2..].to_vec(),
            "stream {name}"
        );
        assert_eq!(store.stream_version(&name).unwrap(), Some(3));
    }
    assert_eq!(store.verify().unwrap().events, 3 * streams);
}

#[test]
fn an_import_that_crashed_before_its_last_batch_is_invisible_and_cleaned_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    append_any(&store, "s", &events(3, "x"));
    // the event source panics half-way: the process would have died here
    let mut dying = (4..=30_000u64).map(|p| {
        assert!(p < 20_000, "crash");
        Ok(recorded(p, "imp", p - 3))
    });
    assert!(store.import(&mut dying, &mut |_| {}).is_err());
    drop(store);
    // simulate the crash leaving records behind: nothing was cleaned in-process if the marker remains
    let store = open(dir.path());
    assert_eq!(store.last_position().unwrap(), 3);
    assert_eq!(store.stream_version("imp").unwrap(), None);
    assert_eq!(all(&store).len(), 3);
    store.verify().unwrap();
}
