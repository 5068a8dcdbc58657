//! Two or more processes on one store: the second waits politely, or gives up with exit 3 when told not to wait.

use crate::fixtures::{self, D};
use crate::harness::{finish, n, s, slow_tests, Output, Store};
use std::collections::HashSet;
use std::time::{Duration, Instant};

/// A JSON Lines export of a seeded store with at least `min_events` events,
/// written into `into`'s working folder; returns its path and event count.
fn big_export(into: &Store, min_events: usize) -> (String, usize) {
    let source = Store::new();
    // Roughly a few events per delegate; grow the delegation count until big enough.
    let mut delegations = (min_events / 150).max(1);
    loop {
        source.ok(&[
            "seed",
            "--delegations",
            &delegations.to_string(),
            "--companies",
            "40",
            "--delegates",
            "3",
            "--seed",
            "42",
        ]);
        let path = into.work().join(format!("big-{delegations}.jsonl"));
        let path = path.to_str().unwrap().to_owned();
        source.ok(&["export", &path]);
        let count = std::fs::read(&path)
            .unwrap()
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .count();
        if count >= min_events {
            return (path, count);
        }
        // Too small: start again in a fresh store with more delegations.
        let factor = min_events.div_ceil(count.max(1)) + 1;
        delegations *= factor;
        std::fs::remove_dir_all(source.data()).unwrap();
    }
}

/// What one attempt at holding the store showed.
struct Held {
    probe: Output,
    waiter: Output,
    waiter_done: Instant,
    holder: Output,
    holder_done: Instant,
    imported: usize,
}

/// Starts a long import on `store`, waits until a `--wait 0` probe is locked
/// out, then starts a waiting writer. `None` if the import ended too soon to
/// show anything (the caller retries with a bigger file).
fn hold_and_wait(store: &Store, file: &str, imported: usize) -> Option<Held> {
    let holder = store
        .command(&["--wait", "60", "import", file])
        .spawn()
        .unwrap();
    let holder = std::thread::spawn(move || {
        let out = finish(holder);
        (out, Instant::now())
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let probe = loop {
        let probe = store.expo(&["--wait", "0", "events", "--limit", "1"]);
        if probe.code == 3 {
            break probe;
        }
        if holder.is_finished() || Instant::now() > deadline {
            let (out, _) = holder.join().unwrap();
            out.ok();
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let waiter = store
        .command(&[
            "--wait",
            "120",
            "delegation",
            "create",
            "pk-after-import",
            "--name",
            "Waited politely",
            "--arrive",
            "2025-07-01",
            "--depart",
            "2025-07-05",
        ])
        .spawn()
        .unwrap();
    let still_holding = !holder.is_finished();
    let waiter = finish(waiter);
    let waiter_done = Instant::now();
    let (holder, holder_done) = holder.join().unwrap();
    if !still_holding {
        // The import ended before the waiter started: it proves nothing, so
        // the caller retries on a fresh store with a bigger file.
        return None;
    }
    Some(Held {
        probe,
        waiter,
        waiter_done,
        holder,
        holder_done,
        imported,
    })
}

#[test]
fn a_second_process_waits_for_the_first_or_gives_up_with_exit_3() {
    let work = Store::new();
    let mut min_events = 60_000;
    for _attempt in 0..4 {
        // given a store being filled by a long import
        let (file, imported) = big_export(&work, min_events);
        let store = Store::new();
        // when another process tries with --wait 0, and a third with a long wait
        let Some(held) = hold_and_wait(&store, &file, imported) else {
            min_events *= 2;
            continue;
        };
        // then the impatient one exits 3 saying another process holds the store
        held.probe.expect_code(3);
        assert!(
            held.probe.stderr.to_lowercase().contains("another process"),
            "{}",
            held.probe.stderr
        );
        assert!(
            held.probe.stderr.lines().count() <= 3,
            "{}",
            held.probe.stderr
        );
        // and the patient one succeeds after the holder finished, its event after all imported ones
        held.holder.ok();
        held.waiter.ok();
        eprintln!(
            "import of {} events held the store; the waiter finished {:?} after the holder",
            held.imported,
            held.waiter_done.saturating_duration_since(held.holder_done)
        );
        let events = store
            .ok(&["events", "--from", &held.imported.to_string()])
            .json_lines();
        let last = events.last().unwrap();
        assert_eq!(s(last, "stream"), "pk-after-import");
        assert_eq!(n(last, "position"), held.imported as i64 + 1);
        return;
    }
    panic!("the import never held the store long enough to test waiting");
}

#[test]
fn eight_processes_times_25_registrations_all_recorded() {
    // given one delegation
    let store = Store::new();
    fixtures::create(&store, D, &[]);
    let per = if slow_tests() { 100 } else { 25 };
    // when eight processes each register `per` companies at the same time
    let started = Instant::now();
    let outcomes: Vec<Vec<Output>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|p| {
                let store = &store;
                scope.spawn(move || {
                    (0..per)
                        .map(|i| {
                            let ntn = format!("{}", 6_000_000 + p * 1000 + i);
                            store.expo(&[
                                "--wait",
                                "60",
                                "company",
                                "register",
                                D,
                                &ntn,
                                "--name",
                                &format!("Parallel Co {p}-{i}"),
                                "--sector",
                                "it-hr",
                                "--city",
                                "Islamabad",
                                "--email",
                                "ops@parallel.pk",
                            ])
                        })
                        .collect()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let elapsed = started.elapsed();
    // then every one succeeded and every registration is in the log exactly once
    for out in outcomes.iter().flatten() {
        out.ok();
    }
    let events = store.ok(&["events", "--stream", D]).json_lines();
    let registered: Vec<&str> = events
        .iter()
        .filter(|e| s(e, "type") == "CompanyRegistered")
        .map(|e| s(&e["data"], "ntn"))
        .collect();
    assert_eq!(registered.len(), 8 * per as usize);
    assert_eq!(
        registered.iter().collect::<HashSet<_>>().len(),
        8 * per as usize
    );
    for (i, e) in events.iter().enumerate() {
        assert_eq!(n(e, "version"), i as i64 + 1);
        assert_eq!(n(e, "position"), i as i64 + 1);
    }
    eprintln!("8 x {per} registrations in {elapsed:?}");
}
