//! Maintenance and set-up commands: replay, verify, demo, seed, completions, help and usage errors.

use crate::bulk::delegation_ids;
use crate::fixtures::{self, D};

use crate::harness::{n, s, types, Store};
use serde_json::Value;

#[test]
fn demo_fills_an_empty_store_with_a_realistic_sample_and_refuses_a_second_time() {
    // given an empty store
    let store = Store::new();
    // when the demo runs
    let out = store.ok(&["demo"]);
    // then it printed a roster, and the log has several delegations across the six sectors
    assert!(out.stdout.lines().count() >= 5, "{}", out.stdout);
    let events = store.events();
    let ids = delegation_ids(&store);
    assert!(ids.len() >= 2, "several delegations: {ids:?}");
    let types = types(&events);
    for t in [
        "CompanyApproved",
        "CompanyWaitlisted",
        "CompanyWithdrawn",
        "CompanyPromoted",
        "LeaderAssigned",
        "DelegateAdded",
    ] {
        assert!(types.contains(&t), "demo lacks {t}");
    }
    let sectors: Vec<&str> = events
        .iter()
        .filter(|e| s(e, "type") == "CompanyRegistered")
        .map(|e| s(&e["data"], "sector"))
        .collect();
    for sector in [
        "automobile",
        "steel",
        "machinery",
        "textiles",
        "minerals",
        "it-hr",
    ] {
        assert!(sectors.contains(&sector), "demo lacks sector {sector}");
    }
    for id in &ids {
        let r = store.roster(id, &[]);
        assert_eq!(s(&r["delegation"], "country"), "PK");
    }
    // when it runs again on the now non-empty store
    let again = store.expo(&["demo"]);
    // then it is refused and writes nothing
    again.expect_code(1);
    assert!(
        again.stderr.to_lowercase().contains("empty"),
        "{}",
        again.stderr
    );
    assert_eq!(store.events().len(), events.len());
}

#[test]
fn seed_is_deterministic_for_a_given_seed() {
    // given two empty stores
    let (a, b, c) = (Store::new(), Store::new(), Store::new());
    let args = [
        "seed",
        "--delegations",
        "3",
        "--companies",
        "4",
        "--delegates",
        "2",
    ];
    // when both are seeded with the same seed, and a third with another
    for (store, seed) in [(&a, "7"), (&b, "7"), (&c, "8")] {
        let mut all = args.to_vec();
        all.extend(["--seed", seed]);
        store.ok(&all);
    }
    // then the first two hold the same events (streams, types, data), the third differs
    let shape = |store: &Store| -> Vec<Value> {
        store
            .events()
            .iter()
            .map(|e| {
                serde_json::json!([
                    e["position"],
                    e["stream"],
                    e["version"],
                    e["type"],
                    e["data"]
                ])
            })
            .collect()
    };
    let (sa, sb, sc) = (shape(&a), shape(&b), shape(&c));
    assert_eq!(sa, sb);
    assert_ne!(sa, sc);
    assert_eq!(delegation_ids(&a).len(), 3);
    let registered = sa.iter().filter(|e| e[3] == "CompanyRegistered").count();
    assert!(
        registered >= 3 * 4,
        "companies per delegation: {registered}"
    );
    let added = sa.iter().filter(|e| e[3] == "DelegateAdded").count();
    assert!(added >= 3 * 4 * 2 / 2, "delegates: {added}");
    // and the seeded store is sound and readable
    a.ok(&["verify"]);
    for id in delegation_ids(&a) {
        a.roster(&id, &[]);
    }
}

#[test]
fn replay_rebuilds_the_same_projections_and_reports_its_rate() {
    // given the demo and the sample
    let store = Store::new();
    store.ok(&["demo"]);
    fixtures::sample_in(&store, "e2e-sample");
    let ids = delegation_ids(&store);
    let rosters: Vec<Value> = ids.iter().map(|id| store.roster(id, &["--full"])).collect();
    let status = store.json(&["report", "status"]);
    let count = store.events().len();
    // when the projections are rebuilt
    let out = store.ok(&["replay"]);
    // then it names the event count and a rate, stays quiet off a terminal, and nothing changed
    assert!(out.stdout.contains(&count.to_string()), "{}", out.stdout);
    assert!(out.stdout.contains("events/s"), "{}", out.stdout);
    assert!(!out.stdout.contains('\r'), "no progress bar off a terminal");
    let after: Vec<Value> = ids.iter().map(|id| store.roster(id, &["--full"])).collect();
    assert_eq!(after, rosters);
    assert_eq!(store.json(&["report", "status"]), status);
    assert_eq!(store.events().len(), count, "replay writes no events");
}

#[test]
fn a_replay_with_room_for_few_views_writes_them_out_and_stores_the_same_rosters() {
    // given the demo, then two delegations whose companies register by turns
    let store = Store::new();
    store.ok(&["demo"]);
    for id in ["pk-turns-a", "pk-turns-b"] {
        store.ok(&[
            "delegation",
            "create",
            id,
            "--name",
            "Turns",
            "--arrive",
            "2025-08-01",
            "--depart",
            "2025-08-06",
        ]);
    }
    for round in 0..4 {
        for (i, id) in ["pk-turns-a", "pk-turns-b"].into_iter().enumerate() {
            let ntn = format!("{}", 7_000_000 + round * 10 + i);
            let name = format!("Turn {round}{i} Ltd");
            store.ok(&[
                "company",
                "register",
                id,
                &ntn,
                "--name",
                &name,
                "--sector",
                "textiles",
                "--city",
                "Lahore",
                "--email",
                "desk@turns.pk",
            ]);
            store.ok(&["company", "approve", id, &ntn]);
        }
    }
    let ids = delegation_ids(&store);
    let rosters: Vec<Value> = ids.iter().map(|id| store.roster(id, &["--full"])).collect();
    let status = store.json(&["report", "status"]);
    // when the rosters are rebuilt with room for a few events' worth of views
    let trace = replay_with_budget(&store, "3");
    // then views went out to the store and came back while folding
    let counts: Vec<u64> = trace
        .lines()
        .find(|l| l.contains("views written early"))
        .unwrap_or_else(|| panic!("no rebuild trace: {trace}"))
        .split(['(', ' '])
        .filter_map(|w| w.parse().ok())
        .collect();
    assert!(
        counts.len() == 3 && counts[1] > 0 && counts[2] > 0,
        "{trace}"
    );
    // and every roster and report is the same, and verify finds the stored
    // rosters byte for byte equal to a rebuild in memory
    let after: Vec<Value> = ids.iter().map(|id| store.roster(id, &["--full"])).collect();
    assert_eq!(after, rosters);
    assert_eq!(store.json(&["report", "status"]), status);
    let verified = store.ok(&["verify"]);
    assert!(
        verified.stdout.contains("rosters match a rebuild"),
        "{}",
        verified.stdout
    );
}

#[test]
fn a_bad_rebuild_budget_is_refused_before_anything_runs() {
    // given the demo store
    let store = Store::new();
    store.ok(&["demo"]);
    let before = store.export();
    let status = store.json(&["report", "status"]);
    for value in ["0", "lots", "-5", "1e6", "99999999999999999999"] {
        for args in [&["replay"][..], &["report", "status"][..]] {
            // when a command runs with EXPO_REBUILD_BUDGET set to nonsense
            let out = store
                .command(args)
                .env("EXPO_REBUILD_BUDGET", value)
                .output()
                .unwrap();
            // then it is refused in one line naming the variable
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{value}: {stderr}");
            assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
            assert!(stderr.contains("EXPO_REBUILD_BUDGET"), "{stderr}");
        }
    }
    // and nothing changed; an empty value means the default
    assert_eq!(store.export(), before);
    replay_with_budget(&store, "");
    assert_eq!(store.json(&["report", "status"]), status);
}

/// Runs `expo replay` with `EXPO_REBUILD_BUDGET=budget` and `EXPO_TRACE=1`;
/// it must succeed. Returns its stderr (the trace).
fn replay_with_budget(store: &Store, budget: &str) -> String {
    let out = store
        .command(&["replay"])
        .env("EXPO_REBUILD_BUDGET", budget)
        .env("EXPO_TRACE", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    stderr
}

#[test]
fn verify_passes_a_sound_store() {
    // given the demo store
    let store = Store::new();
    store.ok(&["demo"]);
    // when it is verified, then it exits 0
    let out = store.ok(&["verify"]);
    assert!(!out.stdout.trim().is_empty(), "verify says what it checked");
}

#[test]
fn verify_fails_with_3_on_a_damaged_store() {
    // given a store whose files were damaged on disk: a run of bytes flipped
    // in every 4 KiB block, so that live data is hit wherever sled put it
    // (three runs at fixed fractions of each file now and then landed only
    // on superseded page versions: no damage to find, and verify rightly
    // passed — about 1 run in 10)
    let store = Store::new();
    store.ok(&[
        "seed",
        "--delegations",
        "5",
        "--companies",
        "20",
        "--delegates",
        "3",
    ]);
    store.ok(&["verify"]);
    let mut damaged = 0;
    for entry in walk(&store.data()) {
        let len = std::fs::metadata(&entry).unwrap().len();
        if len > 4096 {
            let mut bytes = std::fs::read(&entry).unwrap();
            for block in bytes.chunks_mut(4096) {
                for b in block.iter_mut().skip(2048).take(64) {
                    *b ^= 0x5a;
                }
            }
            std::fs::write(&entry, bytes).unwrap();
            damaged += 1;
        }
    }
    assert!(damaged > 0, "found no store file to damage");
    // when it is verified
    let out = store.expo(&["verify"]);
    // then it exits 3 naming a problem, without a panic
    out.expect_code(3);
    out.assert_plain_error(3);
    assert!(
        out.stderr.to_lowercase().contains("damaged"),
        "{}",
        out.stderr
    );
}

/// Every file under `dir`.
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

#[test]
fn completions_for_bash() {
    // when bash completions are asked for
    let out = Store::new().ok(&["completions", "bash"]);
    // then a bash completion script for expo is printed
    assert!(out.stdout.contains("complete"), "{}", out.stdout);
    assert!(out.stdout.contains("expo"), "{}", out.stdout);
    assert!(out.stdout.contains("roster"), "knows the subcommands");
}

#[test]
fn every_command_has_help_with_an_example() {
    let store = Store::new();
    let commands: &[&[&str]] = &[
        &["delegation", "create"],
        &["delegation", "close"],
        &["delegation", "list"],
        &["company", "register"],
        &["company", "approve"],
        &["company", "waitlist"],
        &["company", "reject"],
        &["company", "withdraw"],
        &["delegate", "add"],
        &["delegate", "remove"],
        &["delegate", "lead"],
        &["roster"],
        &["report", "sectors"],
        &["report", "status"],
        &["report", "visa-letters"],
        &["events"],
        &["import-registrations"],
        &["export"],
        &["import"],
        &["replay"],
        &["verify"],
        &["demo"],
        &["seed"],
        &["completions"],
    ];
    for cmd in commands {
        // when --help is asked for
        let mut args = cmd.to_vec();
        args.push("--help");
        let out = store.ok(&args);
        // then it shows an example invocation
        let text = out.stdout.to_lowercase();
        let example = text
            .find("example")
            .map(|at| &text[at..])
            .unwrap_or_else(|| panic!("{cmd:?} has no example: {}", out.stdout));
        let last = cmd.last().unwrap();
        assert!(
            example.contains("expo ") && example.contains(last),
            "{cmd:?}: {}",
            out.stdout
        );
    }
    assert!(!store.data().exists(), "help creates no store");
}

#[test]
fn exit_codes_zero_one_two_three() {
    // given the sample
    let store = Store::new();
    fixtures::sample(&store);
    // 0: done
    store.expo(&["roster", D]).expect_code(0);
    // 1: refused by a rule
    let out = store.expo(&["company", "approve", D, "9999999"]);
    out.expect_code(1);
    assert!(out.stderr.contains("9999999"), "{}", out.stderr);
    // 2: usage
    for args in [
        &["frobnicate"][..],
        &["roster"][..],
        &[][..],
        &["company", "approve", D][..],
    ] {
        let out = store.expo(args);
        out.expect_code(2);
        assert!(!out.stderr.trim().is_empty());
    }
    // 3: storage — the data path is a file, not a folder, so nothing can be written there
    let file = store.file("not-a-dir", "x");
    let out = store.expo(&[
        "--data",
        &file,
        "delegation",
        "create",
        "pk-x",
        "--name",
        "x",
        "--arrive",
        "2025-05-01",
        "--depart",
        "2025-05-02",
    ]);
    out.expect_code(3);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "x");
}

#[test]
fn seeded_store_counts_add_up() {
    // given a store seeded with 2 delegations
    let store = Store::new();
    store.ok(&[
        "seed",
        "--delegations",
        "2",
        "--companies",
        "5",
        "--delegates",
        "2",
        "--seed",
        "1",
    ]);
    // when its events are read
    let events = store.events();
    // then positions are gapless and each stream's versions are gapless
    let mut versions = std::collections::HashMap::<String, i64>::new();
    for (i, e) in events.iter().enumerate() {
        assert_eq!(n(e, "position"), i as i64 + 1);
        let v = versions.entry(s(e, "stream").to_owned()).or_insert(0);
        *v += 1;
        assert_eq!(n(e, "version"), *v, "{e}");
    }
    assert_eq!(versions.len(), 2);
}

#[test]
fn verify_names_a_delegation_created_in_a_stream_of_another_name() {
    // given a store holding what an import accepted before 2026-12-03: a
    // creation of delegation pk-fresh in stream pk-other (appended here
    // through the store itself, as no command writes it)
    let store = Store::new();
    {
        use expo_store::{
            AppendMeta, EventStore, ExpectedVersion, NewEvent, OpenOptions, SledStore,
        };
        let options = OpenOptions {
            wait: std::time::Duration::from_secs(10),
            upcaster: None,
            bulk: false,
            one_shot: false,
        };
        let sled = SledStore::open(&store.data(), options).unwrap();
        let data = r#"{"arrive":"2025-06-19","country":"PK","depart":"2025-06-22","id":"pk-fresh","max_companies":3,"max_delegates_per_company":3,"name":"Fresh","passport_validity_months":6}"#;
        let meta = AppendMeta {
            command_id: None,
            actor: "desk".into(),
            recorded_at: chrono::DateTime::from_timestamp(1_750_000_000, 0).unwrap(),
        };
        let created = NewEvent {
            id: uuid::Uuid::now_v7(),
            event_type: "DelegationCreated".into(),
            schema: 1,
            data: data.as_bytes().to_vec(),
        };
        sled.append(
            "pk-other",
            ExpectedVersion::NoStream,
            &meta,
            &[created],
            None,
        )
        .unwrap();
    }
    // when the rosters are built and the store is verified
    store.ok(&["delegation", "list"]);
    let out = store.expo(&["verify"]);
    // then verify fails naming the stream and the delegation
    out.expect_code(3);
    assert!(
        out.stderr.contains("pk-fresh") && out.stderr.contains("\"pk-other\""),
        "{}",
        out.stderr
    );
}
