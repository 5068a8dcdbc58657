//! Contention: 8 processes issue commands against one store at once; each succeeds or exits 3 after --wait, and the log holds exactly the succeeded ones.

use super::rig::{
    assert_clean, by_command, create_delegation, register_args, strs, Expo, Rng, Scratch,
};
use crate::harness::slow_tests;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const D: &str = "pk-contention";
const WORKERS: u64 = 8;

/// What the workers saw.
#[derive(Default)]
struct Tally {
    succeeded: BTreeSet<String>,
    timed_out: BTreeSet<String>,
    reads_ok: usize,
    reads_waited: usize,
}

/// 8 processes for 10 s (30 s when slow): every command exits 0 or 3, and the log holds exactly the ones that exited 0.
#[test]
fn contention_each_command_succeeds_or_waits_out_and_log_matches() {
    let mut rng = Rng::for_campaign("contention");
    let seconds = if slow_tests() { 30 } else { 10 };
    let scratch = Scratch::new("contention");
    let store = Expo::at(scratch.path("store"));
    create_delegation(&store, D);
    // Commands run without --command-id get one of their own: those of the set-up are not the workers'.
    let setup: BTreeSet<String> = by_command(&store.events("setup"))
        .keys()
        .filter_map(|k| k.clone())
        .collect();
    let tally = Arc::new(Mutex::new(Tally::default()));
    let until = Instant::now() + Duration::from_secs(seconds);
    let mut threads = Vec::new();
    for w in 0..WORKERS {
        let mut rng = Rng::seeded(rng.next_u64());
        let store = store.clone();
        let tally = Arc::clone(&tally);
        threads.push(std::thread::spawn(move || {
            let mut i = 0u64;
            while Instant::now() < until {
                i += 1;
                // Mostly short waits, so some commands give up; now and then a long one.
                let wait = ["0", "0.05", "0.2", "1", "5"][rng.index(5)];
                if rng.chance(1, 5) {
                    let args = ["--wait", wait, "roster", D, "--format", "json"];
                    let out = store.run(&args);
                    assert_clean("contention read", &args, &out);
                    let mut t = tally.lock().unwrap();
                    match out.code {
                        0 => t.reads_ok += 1,
                        3 => t.reads_waited += 1,
                        c => panic!("contention: a read exited {c}: {}", out.stderr),
                    }
                    continue;
                }
                let id = rng.uuid();
                let mut args = vec![
                    "--wait".to_owned(),
                    wait.to_owned(),
                    "--command-id".to_owned(),
                    id.clone(),
                ];
                args.extend(register_args(D, w * 100_000 + i));
                let out = store.run(&strs(&args));
                assert_clean("contention write", &strs(&args), &out);
                match out.code {
                    0 => {
                        tally.lock().unwrap().succeeded.insert(id);
                    }
                    3 => {
                        let msg = out.stderr.to_lowercase();
                        assert!(
                            msg.contains("another process holds the store")
                                || msg.contains("try again"),
                            "contention: exit 3 for something other than waiting out the lock: {}",
                            out.stderr
                        );
                        tally.lock().unwrap().timed_out.insert(id);
                    }
                    c => panic!(
                        "contention: a write (--wait {wait}) exited {c}: {}",
                        out.stderr
                    ),
                }
            }
        }));
    }
    for t in threads {
        t.join().unwrap();
    }
    let tally = tally.lock().unwrap();
    store.verify("after contention");
    let events = store.events("after contention");
    let counts = by_command(&events);
    let logged: BTreeSet<String> = counts
        .keys()
        .filter_map(|k| k.clone())
        .filter(|k| !setup.contains(k))
        .collect();
    for (id, c) in &counts {
        assert!(id.is_none() || *c == 1, "command {id:?} has {c} events");
    }
    let missing: Vec<_> = tally.succeeded.difference(&logged).collect();
    let extra: Vec<_> = logged.difference(&tally.succeeded).collect();
    assert!(
        missing.is_empty(),
        "succeeded but not in the log: {missing:?}"
    );
    assert!(
        extra.is_empty(),
        "in the log but not succeeded (exited 3): {extra:?}"
    );
    let before = store.views("before replay", &[D]);
    store.ok("replay", &["replay"]);
    assert_eq!(
        store.views("after replay", &[D]),
        before,
        "roster differs from a rebuild"
    );
    eprintln!(
        "faults/contention: {WORKERS} processes for {seconds} s: {} writes succeeded, {} exited 3 after --wait; {} reads ok, {} reads waited out",
        tally.succeeded.len(),
        tally.timed_out.len(),
        tally.reads_ok,
        tally.reads_waited
    );
    assert!(!tally.succeeded.is_empty(), "no write succeeded at all");
}
