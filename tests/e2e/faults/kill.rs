//! kill -9 at random moments during import, import-registrations, single registrations and replay: nothing acknowledged is lost, nothing half written.

use super::rig::{
    by_command, copy_dir, create_delegation, register_args, registrations_csv, strs, timed_ok,
    Expo, Pace, Rng, Scratch,
};
use crate::harness::slow_tests;
use std::time::Instant;

/// Trials per campaign: (default, slow).
const IMPORT_TRIALS: (usize, usize) = (10, 100);
const CSV_TRIALS: (usize, usize) = (25, 160);
const SINGLE_TRIALS: (usize, usize) = (25, 160);
const REPLAY_TRIALS: (usize, usize) = (20, 100);
const WITHDRAW_TRIALS: (usize, usize) = (15, 100);

fn trials(n: (usize, usize)) -> usize {
    if slow_tests() {
        n.1
    } else {
        n.0
    }
}

/// The delegation the write campaigns use.
const D: &str = "pk-faults-jun";
/// Registrations a store holds before the single-registration kill trials.
const ESTABLISHED: u64 = 20;

/// A seeded store with about `events` events, its export, and its delegations.
struct Seeded {
    store: Expo,
    export: Vec<u8>,
    events: usize,
    delegations: Vec<String>,
}

fn seeded(
    scratch: &Scratch,
    name: &str,
    delegations: u64,
    companies: u64,
    delegates: u64,
) -> Seeded {
    let store = Expo::at(scratch.path(name));
    store.ok(
        "seed",
        &[
            "seed",
            "--delegations",
            &delegations.to_string(),
            "--companies",
            &companies.to_string(),
            "--delegates",
            &delegates.to_string(),
            "--seed",
            "11",
        ],
    );
    let export = store.export("export the seed");
    let events = export.iter().filter(|b| **b == b'\n').count();
    let list = store.json("list", &["delegation", "list", "--json"]);
    let delegations = list["delegations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap().to_owned())
        .collect();
    Seeded {
        store,
        export,
        events,
        delegations,
    }
}

/// Runs the kill campaign on `expo import` with an export of `companies`
/// companies in each of `delegations` delegations.
fn import_campaign(rng: &mut Rng, n: usize, delegations: u64, companies: u64) {
    let scratch = Scratch::new("kill-import");
    let source = seeded(&scratch, "source", delegations, companies, 3);
    let file = scratch.file("export.jsonl", &source.export);
    let file = file.to_str().unwrap();
    let some: Vec<&str> = source
        .delegations
        .iter()
        .take(2)
        .map(String::as_str)
        .collect();
    // A clean import: the reference, and how long one takes.
    let clean = Expo::at(scratch.path("clean"));
    let (_, took) = timed_ok(&clean, "clean import", &["import", file]);
    let mut pace = Pace::new(took);
    for i in 0..2 {
        let again = Expo::at(scratch.path(&format!("clean-{i}")));
        pace.add(timed_ok(&again, "clean import", &["import", file]).1);
        let _ = std::fs::remove_dir_all(&again.data);
    }
    let clean_views = clean.views("clean views", &some);
    assert_eq!(
        clean.export("clean export"),
        source.export,
        "a clean import changed the events"
    );
    eprintln!(
        "kill/import: {} events, clean import {:.2} s, {n} trials",
        source.events,
        pace.typical().as_secs_f64()
    );
    let (mut killed, mut empty, mut full) = (0, 0, 0);
    for trial in 0..n {
        let store = Expo::at(scratch.path(&format!("trial-{trial}")));
        let delay = pace.delay(rng);
        let ctx = format!("import trial {trial} (kill after {delay:?})");
        let t0 = Instant::now();
        let run = store.run_killed(&scratch, &["import", file], delay);
        if !run.killed {
            pace.add(t0.elapsed());
        }
        super::rig::assert_clean(&ctx, &["import"], &run.out);
        killed += usize::from(run.killed);
        if !run.killed {
            assert_eq!(
                run.out.code, 0,
                "{ctx}: import failed unkilled: {}",
                run.out.stderr
            );
        }
        // Killed before the store existed, or the failed import removed it: nothing to check but the retry.
        let present = if store.data.join("db").exists() {
            store.verify(&ctx);
            let export = store.export(&ctx);
            if export.is_empty() {
                0
            } else {
                assert!(
                    export == source.export,
                    "{ctx}: the store holds part of the import ({} of {} lines)",
                    export.iter().filter(|b| **b == b'\n').count(),
                    source.events
                );
                let views = store.views(&ctx, &some);
                assert_eq!(
                    views, clean_views,
                    "{ctx}: projections after the kill differ from a clean import"
                );
                store.ok(&ctx, &["replay"]);
                assert_eq!(
                    store.views(&ctx, &some),
                    clean_views,
                    "{ctx}: a rebuild differs"
                );
                source.events
            }
        } else {
            0
        };
        assert!(
            present > 0 || !run.acknowledged(),
            "{ctx}: the import was acknowledged but its events are gone"
        );
        if present == 0 {
            empty += 1;
        } else {
            full += 1;
        }
        // Retrying: into an empty store it imports everything; into a full one it is refused, writing nothing.
        let retry = store.run(&["import", file]);
        super::rig::assert_clean(&ctx, &["import"], &retry);
        let want = if present == 0 { 0 } else { 1 };
        assert_eq!(
            retry.code, want,
            "{ctx}: retry exited {}: {}",
            retry.code, retry.stderr
        );
        assert_eq!(
            store.export(&ctx),
            source.export,
            "{ctx}: after the retry the events differ"
        );
        if present == 0 {
            assert_eq!(
                store.views(&ctx, &some),
                clean_views,
                "{ctx}: retried import's projections"
            );
        }
        let _ = std::fs::remove_dir_all(&store.data);
    }
    eprintln!("kill/import: {n} trials, {killed} killed mid-run; after the kill {empty} empty, {full} complete");
}

/// kill -9 during `expo import`: the import is all or nothing, and a retry completes it exactly once.
#[test]
fn kill_during_import_leaves_all_or_nothing() {
    let mut rng = Rng::for_campaign("kill-import");
    let started = Instant::now();
    if slow_tests() {
        import_campaign(&mut rng, trials(IMPORT_TRIALS), 100, 100);
        // A few trials on a million-event export, as the issue asks.
        import_campaign(&mut rng, 3, 1000, 200);
    } else {
        import_campaign(&mut rng, trials(IMPORT_TRIALS), 40, 100);
    }
    eprintln!(
        "kill/import: done in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

/// kill -9 during `expo import-registrations`: the file's events are all there or none, and a retry with the same command id records them once.
#[test]
fn kill_during_import_registrations_leaves_all_or_nothing() {
    let mut rng = Rng::for_campaign("kill-csv");
    let started = Instant::now();
    let n = trials(CSV_TRIALS);
    let scratch = Scratch::new("kill-csv");
    let base = Expo::at(scratch.path("base"));
    create_delegation(&base, D);
    let base_events = base.events("base").len();
    let csv = scratch.file("registrations.csv", registrations_csv(0, 60, 2));
    let csv = csv.to_str().unwrap();
    // The clean run: how many events one import writes, and how long it takes.
    let clean = Expo::at(scratch.path("clean"));
    copy_dir(&base.data, &clean.data);
    let clean_id = rng.uuid();
    let (_, took) = timed_ok(
        &clean,
        "clean import-registrations",
        &["--command-id", &clean_id, "import-registrations", D, csv],
    );
    let per_command = by_command(&clean.events("clean"))[&Some(clean_id.clone())];
    let mut pace = Pace::new(took);
    let clean_views = clean.views("clean", &[D]);
    let (mut killed, mut none, mut all) = (0, 0, 0);
    for trial in 0..n {
        let store = Expo::at(scratch.path(&format!("trial-{trial}")));
        copy_dir(&base.data, &store.data);
        let id = rng.uuid();
        let args = ["--command-id", id.as_str(), "import-registrations", D, csv];
        let delay = pace.delay(&mut rng);
        let ctx =
            format!("import-registrations trial {trial} (kill after {delay:?}, command {id})");
        let t0 = Instant::now();
        let run = store.run_killed(&scratch, &args, delay);
        if !run.killed {
            pace.add(t0.elapsed());
        }
        super::rig::assert_clean(&ctx, &args, &run.out);
        killed += usize::from(run.killed);
        store.verify(&ctx);
        let events = store.events(&ctx);
        let counts = by_command(&events);
        let mine = counts.get(&Some(id.clone())).copied().unwrap_or(0);
        assert!(
            mine == 0 || mine == per_command,
            "{ctx}: half the command is there: {mine} of {per_command} events"
        );
        assert_eq!(
            events.len(),
            base_events + mine,
            "{ctx}: events without the command's id appeared"
        );
        assert!(
            mine > 0 || !run.acknowledged(),
            "{ctx}: acknowledged, but its events are missing"
        );
        if mine == 0 {
            none += 1;
        } else {
            all += 1;
            assert_eq!(
                store.views(&ctx, &[D]),
                clean_views,
                "{ctx}: projections after the kill"
            );
        }
        // Rosters equal a rebuild.
        let before = store.views(&ctx, &[D]);
        store.ok(&ctx, &["replay"]);
        assert_eq!(
            store.views(&ctx, &[D]),
            before,
            "{ctx}: roster differs from a rebuild"
        );
        // Retrying with the same command id records it exactly once.
        store.ok(&ctx, &args);
        let counts = by_command(&store.events(&ctx));
        assert_eq!(
            counts.get(&Some(id.clone())).copied(),
            Some(per_command),
            "{ctx}: after the retry"
        );
        assert_eq!(
            store.views(&ctx, &[D]),
            clean_views,
            "{ctx}: projections after the retry"
        );
        let _ = std::fs::remove_dir_all(&store.data);
    }
    eprintln!(
        "kill/import-registrations: {n} trials ({killed} killed mid-run, {none} left nothing, {all} complete; {per_command} events a command, typical run {:.0} ms) in {:.1} s",
        pace.typical().as_secs_f64() * 1000.0,
        started.elapsed().as_secs_f64()
    );
}

/// kill -9 in a loop of single registrations: every acknowledged command is there exactly once, the killed one at most once, and its retry records it once.
#[test]
fn kill_during_single_registrations_keeps_every_acknowledged_one() {
    let mut rng = Rng::for_campaign("kill-single");
    let started = Instant::now();
    let n = trials(SINGLE_TRIALS);
    let scratch = Scratch::new("kill-single");
    let base = Expo::at(scratch.path("base"));
    create_delegation(&base, D);
    // The trials run on a store with some history; kills during the open of
    // a store only one or two processes old are the campaign of
    // `young_store_killed_during_open_stays_readable` below.
    for company in 1..=ESTABLISHED {
        base.ok("base", &strs(&register_args(D, company)));
    }
    let base_events = base.events("base").len();
    let probe = Expo::at(scratch.path("probe"));
    copy_dir(&base.data, &probe.data);
    let (_, took) = timed_ok(
        &probe,
        "one registration",
        &strs(&register_args(D, 999_999)),
    );
    let mut pace = Pace::new(took);
    let (mut killed, mut acked_total, mut landed) = (0, 0, 0);
    let mut company = ESTABLISHED;
    for trial in 0..n {
        let store = Expo::at(scratch.path(&format!("trial-{trial}")));
        copy_dir(&base.data, &store.data);
        let before_kill = rng.below(4) as usize;
        let mut acked: Vec<String> = Vec::new();
        let mut ctx = format!("single registrations trial {trial}");
        for _ in 0..before_kill {
            company += 1;
            let id = rng.uuid();
            let mut args = vec!["--command-id".to_owned(), id.clone()];
            args.extend(register_args(D, company));
            store.ok(&ctx, &strs(&args));
            acked.push(id);
        }
        company += 1;
        let id = rng.uuid();
        let mut args = vec!["--command-id".to_owned(), id.clone()];
        args.extend(register_args(D, company));
        let delay = pace.delay(&mut rng);
        ctx = format!(
            "{ctx} (kill after {delay:?}, command {id}, {} acknowledged before)",
            acked.len()
        );
        let t0 = Instant::now();
        let run = store.run_killed(&scratch, &strs(&args), delay);
        if !run.killed {
            pace.add(t0.elapsed());
        }
        super::rig::assert_clean(&ctx, &strs(&args), &run.out);
        killed += usize::from(run.killed);
        if run.acknowledged() {
            acked.push(id.clone());
        }
        acked_total += acked.len();
        store.verify(&ctx);
        let events = store.events(&ctx);
        let counts = by_command(&events);
        for a in &acked {
            assert_eq!(
                counts.get(&Some(a.clone())).copied(),
                Some(1),
                "{ctx}: acknowledged command {a}"
            );
        }
        let mine = counts.get(&Some(id.clone())).copied().unwrap_or(0);
        assert!(mine <= 1, "{ctx}: the killed command is there {mine} times");
        landed += mine;
        let expected = base_events + before_kill + mine;
        assert_eq!(
            events.len(),
            expected,
            "{ctx}: unexpected events: {counts:?}"
        );
        // Rosters equal a rebuild.
        let views = store.views(&ctx, &[D]);
        store.ok(&ctx, &["replay"]);
        assert_eq!(
            store.views(&ctx, &[D]),
            views,
            "{ctx}: roster differs from a rebuild"
        );
        // Retry the killed command, and an acknowledged one: each is there once.
        store.ok(&ctx, &strs(&args));
        if let Some(first) = acked.first() {
            let mut again = vec!["--command-id".to_owned(), first.clone()];
            again.extend(register_args(D, company - before_kill as u64));
            store.ok(&ctx, &strs(&again));
        }
        let events = store.events(&ctx);
        let counts = by_command(&events);
        assert_eq!(
            counts.get(&Some(id.clone())).copied(),
            Some(1),
            "{ctx}: after the retry"
        );
        assert_eq!(
            events.len(),
            base_events + before_kill + 1,
            "{ctx}: after the retries"
        );
        let _ = std::fs::remove_dir_all(&store.data);
    }
    eprintln!(
        "kill/single: {n} trials ({killed} killed mid-run, {acked_total} acknowledged commands kept, {landed} last commands had landed; typical registration {:.0} ms) in {:.1} s",
        pace.typical().as_secs_f64() * 1000.0,
        started.elapsed().as_secs_f64()
    );
}

/// kill -9 during `expo replay`: the log is untouched and the projections equal a rebuild.
/// Every other trial gives the rebuild room for few views, so that it is
/// killed while writing views out and reading them back too.
#[test]
fn kill_during_replay_keeps_log_and_rosters() {
    let mut rng = Rng::for_campaign("kill-replay");
    let started = Instant::now();
    let n = trials(REPLAY_TRIALS);
    let scratch = Scratch::new("kill-replay");
    let (d, c) = if slow_tests() { (20, 100) } else { (6, 60) };
    let base = seeded(&scratch, "base", d, c, 3);
    let some: Vec<&str> = base
        .delegations
        .iter()
        .take(2)
        .map(String::as_str)
        .collect();
    let base_views = base.store.views("base", &some);
    let probe = Expo::at(scratch.path("probe"));
    copy_dir(&base.store.data, &probe.data);
    let (_, took) = timed_ok(&probe, "clean replay", &["replay"]);
    let mut pace = Pace::new(took);
    let mut killed = 0;
    let mut spilling = 0;
    for trial in 0..n {
        let mut store = Expo::at(scratch.path(&format!("trial-{trial}")));
        if trial % 2 == 1 {
            store = store.with_rebuild_budget(64);
            spilling += 1;
        }
        copy_dir(&base.store.data, &store.data);
        let delay = pace.delay(&mut rng);
        let ctx = format!(
            "replay trial {trial} (kill after {delay:?}{})",
            if trial % 2 == 1 { ", budget 64" } else { "" }
        );
        let t0 = Instant::now();
        let run = store.run_killed(&scratch, &["replay"], delay);
        if !run.killed {
            pace.add(t0.elapsed());
        }
        super::rig::assert_clean(&ctx, &["replay"], &run.out);
        killed += usize::from(run.killed);
        store.verify(&ctx);
        assert_eq!(
            store.views(&ctx, &some),
            base_views,
            "{ctx}: projections after the kill"
        );
        assert!(store.export(&ctx) == base.export, "{ctx}: the log changed");
        store.ok(&ctx, &["replay"]);
        assert_eq!(
            store.views(&ctx, &some),
            base_views,
            "{ctx}: projections after a retried replay"
        );
        let _ = std::fs::remove_dir_all(&store.data);
    }
    eprintln!(
        "kill/replay: {n} trials ({killed} killed mid-run; {spilling} with room for 64 events' worth of views) on {} events, typical replay {:.0} ms, in {:.1} s",
        base.events,
        pace.typical().as_secs_f64() * 1000.0,
        started.elapsed().as_secs_f64()
    );
}

/// kill -9 during a withdrawal that promotes a waitlisted company (two events from one command): both are there or neither, and the retry records both once.
#[test]
fn kill_during_withdraw_with_promotion_keeps_both_events_or_neither() {
    let mut rng = Rng::for_campaign("kill-withdraw");
    let started = Instant::now();
    let n = trials(WITHDRAW_TRIALS);
    let scratch = Scratch::new("kill-withdraw");
    let base = Expo::at(scratch.path("base"));
    let d = "pk-withdraw-faults";
    base.ok(
        "create",
        &[
            "delegation",
            "create",
            d,
            "--name",
            "Withdrawal trials",
            "--arrive",
            "2025-06-02",
            "--depart",
            "2025-06-09",
            "--max-companies",
            "1",
        ],
    );
    base.ok("register", &strs(&register_args(d, 1)));
    base.ok("register", &strs(&register_args(d, 2)));
    base.ok("approve", &["company", "approve", d, "3000001"]);
    base.ok("waitlist", &["company", "waitlist", d, "3000002"]);
    let base_events = base.events("base").len();
    let withdraw = |id: &str| -> Vec<String> {
        [
            "--command-id",
            id,
            "company",
            "withdraw",
            d,
            "3000001",
            "--reason",
            "cannot travel in June",
        ]
        .map(str::to_owned)
        .to_vec()
    };
    let clean = Expo::at(scratch.path("clean"));
    copy_dir(&base.data, &clean.data);
    let clean_id = rng.uuid();
    let (_, took) = timed_ok(&clean, "clean withdraw", &strs(&withdraw(&clean_id)));
    let per_command = by_command(&clean.events("clean"))[&Some(clean_id.clone())];
    assert_eq!(
        per_command, 2,
        "a withdrawal with a waitlist writes two events"
    );
    let clean_views = clean.views("clean", &[d]);
    let mut pace = Pace::new(took);
    let (mut killed, mut none, mut both) = (0, 0, 0);
    for trial in 0..n {
        let store = Expo::at(scratch.path(&format!("trial-{trial}")));
        copy_dir(&base.data, &store.data);
        let id = rng.uuid();
        let args = withdraw(&id);
        let delay = pace.delay(&mut rng);
        let ctx = format!("withdraw trial {trial} (kill after {delay:?}, command {id})");
        let t0 = Instant::now();
        let run = store.run_killed(&scratch, &strs(&args), delay);
        if !run.killed {
            pace.add(t0.elapsed());
        }
        super::rig::assert_clean(&ctx, &strs(&args), &run.out);
        killed += usize::from(run.killed);
        store.verify(&ctx);
        let events = store.events(&ctx);
        let mine = by_command(&events)
            .get(&Some(id.clone()))
            .copied()
            .unwrap_or(0);
        assert!(
            mine == 0 || mine == 2,
            "{ctx}: {mine} of the command's 2 events are there"
        );
        assert_eq!(events.len(), base_events + mine, "{ctx}: unexpected events");
        assert!(
            mine == 2 || !run.acknowledged(),
            "{ctx}: acknowledged, but missing"
        );
        if mine == 0 {
            none += 1;
        } else {
            both += 1;
            assert_eq!(store.views(&ctx, &[d]), clean_views, "{ctx}: projections");
        }
        let views = store.views(&ctx, &[d]);
        store.ok(&ctx, &["replay"]);
        assert_eq!(
            store.views(&ctx, &[d]),
            views,
            "{ctx}: roster differs from a rebuild"
        );
        store.ok(&ctx, &strs(&args));
        let mine = by_command(&store.events(&ctx))
            .get(&Some(id.clone()))
            .copied();
        assert_eq!(mine, Some(2), "{ctx}: after the retry");
        assert_eq!(
            store.views(&ctx, &[d]),
            clean_views,
            "{ctx}: projections after the retry"
        );
        let _ = std::fs::remove_dir_all(&store.data);
    }
    eprintln!(
        "kill/withdraw: {n} trials ({killed} killed mid-run, {none} left neither event, {both} both; typical run {:.0} ms) in {:.1} s",
        pace.typical().as_secs_f64() * 1000.0,
        started.elapsed().as_secs_f64()
    );
}

/// kill -9 while a young store (one or two processes old) is opened or
/// written: the next process opens it and `verify` passes.
///
/// This pinned a sled 0.34.7 bug. Each open writes a snapshot of sled's page
/// table to `snap.<lsn>.generating`, fsyncs it and renames it `snap.<lsn>`;
/// a kill after the file was created but before its crc was written left it
/// empty or cut short, and the next open picked it (it sorts after every
/// finished snapshot) and refused the store as damaged: exit 3, unusable until
/// restored from an export. It hit about 1 kill in 100 here (10 in 929 kills,
/// 2–12 ms after the start), and as often on a store 21 processes old (20 in
/// 1,940 kills) — not only young ones. Fixed in `vendor/sled` (`read_snapshot`
/// ignores unfinished `.generating` files; see `vendor/sled/PATCHES.md`).
#[test]
fn young_store_killed_during_open_stays_readable() {
    let mut rng = Rng::for_campaign("young-store");
    let started = Instant::now();
    let n = trials((60, 600));
    let scratch = Scratch::new("young-store");
    let mut killed = 0;
    for trial in 0..n {
        let store = Expo::at(scratch.path(&format!("trial-{trial}")));
        create_delegation(&store, D);
        let ctx = format!("young store trial {trial}");
        let delay = std::time::Duration::from_micros(2_000 + rng.below(13_000));
        let run = store.run_killed(&scratch, &strs(&register_args(D, 1)), delay);
        super::rig::assert_clean(&ctx, &strs(&register_args(D, 1)), &run.out);
        killed += usize::from(run.killed);
        store.verify(&ctx);
        let _ = std::fs::remove_dir_all(&store.data);
    }
    eprintln!(
        "kill/young-store: {n} trials ({killed} killed mid-run) in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
