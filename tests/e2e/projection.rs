//! The stored rosters under stress: a rebuild killed half way leaves them served, and a read after new events folds only those events.
//!
//! Both tests watch the projection's work through `EXPO_TRACE=1`, which makes
//! `expo` print one stderr line per catch-up (`expo: trace: rosters caught up
//! N events from position P`): the counts are the evidence, not timings.

use crate::harness::{finish, n, s, slow_tests, written, Output, Store};
use serde_json::Value;
use std::time::{Duration, Instant};

/// `expo seed` sizes: about 650 events per delegation with these settings.
const COMPANIES: &str = "100";
const DELEGATES: &str = "5";
/// Delegations for about 50,000 events (the default runs).
const DELEGATIONS_50K: u64 = 77;
/// Delegations for about 1,000,000 events (`EXPO_SLOW_TESTS=1`).
const DELEGATIONS_1M: u64 = 1_540;

/// Runs `expo args…` with `EXPO_TRACE=1`; it must succeed.
#[track_caller]
fn traced(store: &Store, args: &[&str]) -> Output {
    let out = finish(store.command(args).env("EXPO_TRACE", "1").spawn().unwrap());
    out.ok();
    out
}

/// The trace lines of a run, without the `expo: trace: ` prefix.
fn traces(out: &Output) -> Vec<&str> {
    out.stderr
        .lines()
        .filter_map(|l| l.strip_prefix("expo: trace: "))
        .collect()
}

/// The one catch-up a run reported, as (events folded, from position);
/// fails unless there is exactly one.
#[track_caller]
fn caught_up(out: &Output) -> (u64, u64) {
    let found: Vec<(u64, u64)> = traces(out)
        .into_iter()
        .filter_map(|l| {
            let rest = l.strip_prefix("rosters caught up ")?;
            let (folded, from) = rest.split_once(" events from position ")?;
            Some((folded.parse().ok()?, from.parse().ok()?))
        })
        .collect();
    assert_eq!(
        found.len(),
        1,
        "want exactly one catch-up trace, stderr:\n{}",
        out.stderr
    );
    found[0]
}

/// Adds synthetic delegations to the store (into an empty one, or continuing
/// it) and returns the log's head afterwards.
#[track_caller]
fn seed(store: &Store, delegations: u64, seed: u64) -> u64 {
    let started = Instant::now();
    store.ok(&[
        "seed",
        "--delegations",
        &delegations.to_string(),
        "--companies",
        COMPANIES,
        "--delegates",
        DELEGATES,
        "--seed",
        &seed.to_string(),
    ]);
    let secs = started.elapsed().as_secs_f64();
    let head = head(store);
    eprintln!(
        "projection: seeded {delegations} delegations (seed {seed}), head {head}, in {secs:.2} s"
    );
    head
}

/// The log's head, from `expo verify` (which must pass).
#[track_caller]
fn head(store: &Store) -> u64 {
    let report = store.json(&["verify"]);
    assert_eq!(report["ok"], true, "{report}");
    u64::try_from(n(&report, "events")).unwrap()
}

/// Fails unless `expo verify` passes and says the stored rosters match a
/// rebuild at `position`.
#[track_caller]
fn assert_verified_at(store: &Store, position: u64) {
    let report = store.json(&["verify"]);
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(
        s(&report, "rosters"),
        format!("rosters match a rebuild at position {position}"),
        "{report}"
    );
}

/// What a reader sees of the whole registry: the status report and the
/// rosters of a few delegations (first, middle, last), all as JSON.
#[track_caller]
fn served(store: &Store) -> Vec<Value> {
    let list = store.json(&["delegation", "list"]);
    let ids: Vec<&str> = list["delegations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| s(d, "id"))
        .collect();
    assert!(!ids.is_empty(), "no delegations: {list}");
    let mut views = vec![store.json(&["report", "status"])];
    for i in [0, ids.len() / 2, ids.len() - 1] {
        views.push(store.roster(ids[i], &["--full"]));
    }
    views
}

/// How a killed `expo replay` ended, as far as its trace tells.
#[derive(Debug, PartialEq)]
enum KilledIn {
    /// Before it opened the store (too early to count).
    Start,
    /// While folding the log in memory.
    Folding,
    /// While writing the new state, before reporting the switch.
    Storing,
    /// It had finished (the kill came too late to count).
    Done,
}

/// Starts `expo replay`, kills it with SIGKILL after `delay`, and says where it was.
fn kill_replay(store: &Store, delay: Duration) -> KilledIn {
    let mut child = store
        .command(&["replay"])
        .env("EXPO_TRACE", "1")
        .spawn()
        .unwrap();
    std::thread::sleep(delay);
    let running = child.try_wait().unwrap().is_none();
    if running {
        child.kill().unwrap();
    }
    let out = finish(child);
    out.assert_no_panic();
    let lines = traces(&out);
    let has = |start: &str| lines.iter().any(|l| l.starts_with(start));
    if !running || has("rosters caught up") {
        KilledIn::Done
    } else if has("rosters folded") {
        KilledIn::Storing
    } else if has("rosters rebuilding") {
        KilledIn::Folding
    } else {
        KilledIn::Start
    }
}

#[test]
fn a_rebuild_killed_half_way_leaves_the_old_rosters_served_and_a_second_rebuild_succeeds() {
    let started = Instant::now();
    // given a store of about 50,000 events whose rosters are stored and sound
    let store = Store::new();
    let mut head = seed(&store, DELEGATIONS_50K, 11);
    let mut growth_seed = 12;
    // ... and how long a full rebuild takes on it (rosters unchanged by it)
    let mut before = served(&store);
    let t = Instant::now();
    let replay = store.json(&["replay"]);
    let mut full = t.elapsed();
    assert_eq!(u64::try_from(n(&replay, "events")).unwrap(), head);
    assert_eq!(served(&store), before, "a rebuild changed the rosters");
    // when rebuilds are killed (SIGKILL) at a fifth, two fifths, three and
    // four fifths of a full rebuild's time, growing the store and retrying
    // if no kill landed half way (the rebuild outran them all)
    let mut attempts = Vec::new();
    let mut half_way = 0;
    for round in 1..=4 {
        for fifth in 1..=4u32 {
            let delay = full * fifth / 5;
            let killed = kill_replay(&store, delay);
            attempts.push(format!(
                "head {head}, full rebuild {:.3} s, killed after {:.3} s: {killed:?}",
                full.as_secs_f64(),
                delay.as_secs_f64()
            ));
            if !matches!(killed, KilledIn::Folding | KilledIn::Storing) {
                continue;
            }
            half_way += 1;
            // then the old rosters are still served, read straight from the
            // stored state (nothing to catch up, no rebuild on read) ...
            let read = traced(&store, &["roster", "--format", "json", "seed11-000000"]);
            assert_eq!(caught_up(&read), (0, head), "{}", read.stderr);
            assert_eq!(
                served(&store),
                before,
                "the rebuild killed {killed:?} changed the rosters"
            );
            // ... and the stored state is untouched: it matches a rebuild at the head
            assert_verified_at(&store, head);
        }
        if half_way > 0 {
            break;
        }
        assert!(round < 4, "never killed a rebuild half way: {attempts:#?}");
        // The rebuild outran the kills: double the store and re-time.
        head = seed(&store, head / 650 + 1, growth_seed);
        growth_seed += 1;
        before = served(&store);
        let t = Instant::now();
        store.ok(&["replay"]);
        full = t.elapsed();
    }
    eprintln!("projection: kill attempts: {attempts:#?}");
    // when a second rebuild runs to the end
    let again = traced(&store, &["--json", "replay"]);
    // then it folded the whole log and switched, and nothing a reader sees changed
    assert_eq!(caught_up(&again), (head, 0), "{}", again.stderr);
    assert_eq!(u64::try_from(n(&again.json(), "events")).unwrap(), head);
    assert_eq!(
        served(&store),
        before,
        "the second rebuild changed the rosters"
    );
    assert_verified_at(&store, head);
    eprintln!(
        "projection: kill-and-rebuild test took {:.2} s",
        started.elapsed().as_secs_f64()
    );
}

/// The ten commands (one event each) that continue a store.
#[rustfmt::skip]
const TEN_EVENTS: &[&[&str]] = &[
    &[
        "delegation", "create", "pk-late-aug", "--name", "Late August trade mission",
        "--arrive", "2025-08-01", "--depart", "2025-08-06",
    ],
    &[
        "company", "register", "pk-late-aug", "1000001", "--name", "Gujranwala Fans Ltd",
        "--sector", "machinery", "--city", "Gujranwala", "--email", "export@gfans.pk",
    ],
    &[
        "company", "register", "pk-late-aug", "1000002", "--name", "Multan Cotton Mills",
        "--sector", "textiles", "--city", "Multan", "--email", "trade@mcm.pk",
    ],
    &["company", "approve", "pk-late-aug", "1000001"],
    &["company", "approve", "pk-late-aug", "1000002"],
    &[
        "delegate", "add", "pk-late-aug", "1000001", "--name", "Ayesha Siddiqui",
        "--passport", "CD7654321", "--passport-expiry", "2028-03-31", "--designation", "CEO",
    ],
    &[
        "delegate", "add", "pk-late-aug", "1000002", "--name", "Bilal Chaudhry",
        "--passport", "EF2468135", "--passport-expiry", "2029-11-30",
        "--designation", "Director Exports",
    ],
    &["delegate", "lead", "pk-late-aug", "CD7654321"],
    &[
        "company", "register", "pk-late-aug", "1000003", "--name", "Peshawar Marble Co",
        "--sector", "minerals", "--city", "Peshawar", "--email", "sales@pmc.pk",
    ],
    &["company", "waitlist", "pk-late-aug", "1000003"],
];

/// The whole scenario on a seeded store of `delegations` delegations.
/// Returns the seeded store's head.
fn after_ten_new_events_a_roster_folds_only_those(delegations: u64) -> u64 {
    let started = Instant::now();
    // given two stores seeded identically (the seed is deterministic), with
    // their rosters stored at the head by the seed itself
    let (ours, theirs) = (Store::new(), Store::new());
    let (head, other) = std::thread::scope(|scope| {
        let a = scope.spawn(|| seed(&ours, delegations, 5));
        let b = scope.spawn(|| seed(&theirs, delegations, 5));
        (a.join().unwrap(), b.join().unwrap())
    });
    assert_eq!(head, other, "the same seed gave different stores");
    let seeded = started.elapsed();
    let read = traced(&ours, &["roster", "--format", "json", "seed5-000000"]);
    assert_eq!(caught_up(&read), (0, head), "{}", read.stderr);

    // when ten events are written to the other store by commands
    let mut position = head;
    for args in TEN_EVENTS {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let out = traced(&theirs, &all);
        let k = written(&out.json()).len() as u64;
        // then each write folded exactly its own events, in the same append
        assert_eq!(
            traces(&out),
            [format!(
                "rosters folded {k} events with the append from position {position}"
            )],
            "{args:?}"
        );
        position += k;
    }
    assert_eq!(
        position,
        head + 10,
        "the commands did not record ten events"
    );
    // ... and a roster after them has nothing left to fold
    let read = traced(&theirs, &["roster", "--format", "json", "pk-late-aug"]);
    assert_eq!(caught_up(&read), (0, head + 10), "{}", read.stderr);

    // when those ten events reach our store by import, behind its checkpoint
    let tail = theirs.ok(&["events", "--from", &(head + 1).to_string()]);
    assert_eq!(tail.json_lines().len(), 10);
    let file = ours.file("continuation.jsonl", &tail.stdout_bytes);
    let t = Instant::now();
    let import = traced(&ours, &["import", &file]);
    let import_secs = t.elapsed().as_secs_f64();
    // then catching up read only the ten new events, not the whole log
    assert_eq!(caught_up(&import), (10, head), "{}", import.stderr);
    assert!(
        !traces(&import).iter().any(|l| l.contains("rebuilding")),
        "{}",
        import.stderr
    );
    // ... a roster after that folds nothing, and matches the other store's
    let t = Instant::now();
    let read = traced(&ours, &["roster", "--format", "json", "pk-late-aug"]);
    let read_secs = t.elapsed().as_secs_f64();
    assert_eq!(caught_up(&read), (0, head + 10), "{}", read.stderr);
    let roster = read.json();
    assert_eq!(roster, theirs.roster("pk-late-aug", &[]));
    assert_eq!(
        n(&roster, "as_of_position"),
        i64::try_from(head + 10).unwrap()
    );
    assert_eq!(n(&roster["counts"], "approved_companies"), 2);
    assert_eq!(n(&roster["counts"], "waitlisted"), 1);
    assert_eq!(s(&roster["leader"], "full_name"), "Ayesha Siddiqui");
    assert_eq!(
        ours.roster("seed5-000000", &[]),
        theirs.roster("seed5-000000", &[])
    );
    // ... and the stored rosters match a rebuild at the new head
    assert_verified_at(&ours, head + 10);
    eprintln!(
        "projection: {head} events seeded twice in {:.2} s; import of 10 in {import_secs:.2} s; \
         roster after it in {read_secs:.2} s; whole test {:.2} s",
        seeded.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    head
}

#[test]
fn after_ten_new_events_a_roster_on_a_50k_event_store_folds_only_those_ten() {
    let head = after_ten_new_events_a_roster_folds_only_those(DELEGATIONS_50K);
    assert!(head >= 45_000, "the store held only {head} events");
}

#[test]
fn after_ten_new_events_a_roster_on_a_million_event_store_folds_only_those_ten() {
    if !slow_tests() {
        eprintln!("projection: the 1M-event run needs EXPO_SLOW_TESTS=1");
        return;
    }
    let head = after_ten_new_events_a_roster_folds_only_those(DELEGATIONS_1M);
    assert!(head >= 1_000_000, "the store held only {head} events");
}
