//! Writing commands: what they record, what they print, and the rules they refuse on.

use crate::fixtures::{self, D, FABRICS, LEADER_PASSPORT, LOOMS, SIALKOT, STEEL};
use crate::harness::{assert_has_fields, n, s, types, written, Store, ACTOR};
use serde_json::Value;

/// The envelope fields the contract lists for every event.
pub const ENVELOPE: &[&str] = &[
    "position",
    "stream",
    "version",
    "type",
    "schema",
    "id",
    "recorded_at",
    "command_id",
    "actor",
    "data",
];

/// Checks one envelope's fields and their shapes.
#[track_caller]
pub fn check_envelope(e: &Value) {
    assert_has_fields(e, ENVELOPE);
    assert!(n(e, "position") >= 1, "position from 1: {e}");
    assert!(n(e, "version") >= 1, "version from 1: {e}");
    assert!(n(e, "schema") >= 1, "schema version from 1: {e}");
    uuid::Uuid::parse_str(s(e, "id")).unwrap_or_else(|_| panic!("id is not a UUID: {e}"));
    // Without --command-id there is no idempotency key: null is fine, anything else is a UUID.
    if !e["command_id"].is_null() {
        uuid::Uuid::parse_str(s(e, "command_id"))
            .unwrap_or_else(|_| panic!("command_id is not a UUID: {e}"));
    }
    let at = chrono::DateTime::parse_from_rfc3339(s(e, "recorded_at"))
        .unwrap_or_else(|_| panic!("recorded_at is not RFC 3339: {e}"));
    assert_eq!(at.offset().local_minus_utc(), 0, "recorded_at in UTC: {e}");
    assert!(e["data"].is_object(), "data is an object: {e}");
}

#[test]
fn create_prints_one_line_and_records_delegation_created() {
    // given an empty store
    let store = Store::new();
    // when a delegation is created
    let out = store.ok(&[
        "delegation",
        "create",
        D,
        "--name",
        "Pakistan textiles delegation, May",
        "--arrive",
        "2025-05-10",
        "--depart",
        "2025-05-20",
    ]);
    // then it says so in one line, and the log holds one DelegationCreated
    assert_eq!(out.stdout.trim().lines().count(), 1, "{}", out.stdout);
    assert!(out.stdout.contains(D), "{}", out.stdout);
    let events = store.events();
    assert_eq!(events.len(), 1);
    let e = &events[0];
    check_envelope(e);
    assert_eq!(s(e, "type"), "DelegationCreated");
    assert_eq!(s(e, "stream"), D);
    assert_eq!((n(e, "position"), n(e, "version")), (1, 1));
    assert_eq!(s(e, "actor"), ACTOR);
    let data = &e["data"];
    assert_eq!(s(data, "id"), D);
    assert_eq!(s(data, "name"), "Pakistan textiles delegation, May");
    assert_eq!(s(data, "arrive"), "2025-05-10");
    assert_eq!(s(data, "depart"), "2025-05-20");
    assert_eq!(s(data, "country"), "PK");
    assert_eq!(n(data, "max_companies"), 20);
    assert_eq!(n(data, "max_delegates_per_company"), 3);
    assert_eq!(n(data, "passport_validity_months"), 6);
}

#[test]
fn write_json_output_has_stream_version_position_and_envelopes() {
    // given a delegation with one registered company
    let store = Store::new();
    fixtures::create(&store, D, &[]);
    fixtures::register(&store, D, &LOOMS);
    // when the company is approved with --json
    let out = store.json(&["company", "approve", D, LOOMS.ntn]);
    // then the output is {stream, version, position, events} with full envelopes
    assert_has_fields(&out, &["stream", "version", "position", "events"]);
    assert_eq!(s(&out, "stream"), D);
    assert_eq!(n(&out, "version"), 3);
    assert_eq!(n(&out, "position"), 3);
    let events = written(&out);
    assert_eq!(events.len(), 1);
    check_envelope(&events[0]);
    assert_eq!(s(&events[0], "type"), "CompanyApproved");
    assert_eq!(s(&events[0]["data"], "ntn"), LOOMS.ntn);
    assert_eq!(n(&events[0], "position"), 3);
    // and the same envelope is what `expo events` shows
    let logged = store.events();
    assert_eq!(logged[2], events[0]);
}

#[test]
fn global_options_work_before_and_after_the_subcommand() {
    // given a store named only by --data (no EXPO_DATA)
    let store = Store::new();
    let data = store.work().join("elsewhere");
    let data = data.to_str().unwrap();
    let mut cmd = store.command(&[
        "--data",
        data,
        "--json",
        "delegation",
        "create",
        "pk-steel-june",
        "--name",
        "Steel, June",
        "--arrive",
        "2025-06-01",
        "--depart",
        "2025-06-07",
    ]);
    cmd.env_remove("EXPO_DATA");
    let first = crate::harness::finish(cmd.spawn().unwrap());
    first.ok();
    assert_eq!(s(&first.json(), "stream"), "pk-steel-june");
    // when the options come after the subcommand, with --actor overriding EXPO_ACTOR
    let mut cmd = store.command(&[
        "delegation",
        "list",
        "--data",
        data,
        "--json",
        "--actor",
        "someone-else",
    ]);
    cmd.env_remove("EXPO_DATA");
    let list = crate::harness::finish(cmd.spawn().unwrap());
    list.ok();
    // then the delegation is listed, and the EXPO_DATA store was never created
    assert!(list.stdout.contains("pk-steel-june"), "{}", list.stdout);
    assert!(
        !store.data().exists(),
        "EXPO_DATA store must not be created"
    );
    let mut cmd = store.command(&["events", "--data", data]);
    cmd.env_remove("EXPO_DATA");
    let events = crate::harness::finish(cmd.spawn().unwrap());
    events.ok();
    assert_eq!(events.json_lines().len(), 1, "{}", events.stdout);
}

#[test]
fn without_data_or_actor_the_store_is_expo_data_here_and_the_actor_the_os_user() {
    // given no EXPO_DATA, no --data, no EXPO_ACTOR and no --actor
    let store = Store::new();
    let bare = |args: &[&str]| {
        let mut cmd = store.command(args);
        cmd.env_remove("EXPO_DATA").env_remove("EXPO_ACTOR");
        crate::harness::finish(cmd.spawn().unwrap())
    };
    // when a delegation is created
    bare(&[
        "delegation",
        "create",
        D,
        "--name",
        "x",
        "--arrive",
        "2025-05-01",
        "--depart",
        "2025-05-02",
    ])
    .ok();
    // then the store is ./expo-data in the working folder, and the actor is a non-empty name
    assert!(store.work().join("expo-data").is_dir());
    let events = bare(&["events"]);
    events.ok();
    let e = &events.json_lines()[0];
    assert!(!s(e, "actor").trim().is_empty(), "{e}");
    assert_ne!(s(e, "actor"), ACTOR);
}

#[test]
fn export_into_a_closed_pipe_stops_quietly() {
    // given a store with a few thousand events
    let store = Store::new();
    store.ok(&[
        "seed",
        "--delegations",
        "20",
        "--companies",
        "20",
        "--delegates",
        "3",
    ]);
    for args in [&["export"][..], &["events"][..]] {
        // when a reader takes one line of the output and goes away (like `| head -1`)
        let mut child = store.command(args).spawn().unwrap();
        let mut first = [0u8; 64];
        let mut pipe = child.stdout.take().unwrap();
        std::io::Read::read_exact(&mut pipe, &mut first).unwrap();
        drop(pipe);
        let out = crate::harness::finish(child);
        // then expo stops without a panic or an error message
        out.assert_no_panic();
        assert!(out.code == 0, "{args:?}: exit {}: {}", out.code, out.stderr);
        assert!(out.stderr.trim().is_empty(), "{args:?}: {}", out.stderr);
    }
}

#[test]
fn actor_flag_is_recorded_in_the_metadata() {
    // given an empty store
    let store = Store::new();
    // when a command runs with --actor
    let out = store.json(&[
        "--actor",
        "amna.siddiqui",
        "delegation",
        "create",
        D,
        "--name",
        "x",
        "--arrive",
        "2025-04-13",
        "--depart",
        "2025-10-13",
        "--country",
        "jp",
        "--max-companies",
        "500",
        "--max-delegates",
        "20",
        "--passport-validity-months",
        "0",
    ]);
    // then the event names that actor, and the optional values were taken (country upper-cased)
    let e = &out["events"][0];
    assert_eq!(s(e, "actor"), "amna.siddiqui");
    assert_eq!(s(&e["data"], "country"), "JP");
    assert_eq!(n(&e["data"], "max_companies"), 500);
    assert_eq!(n(&e["data"], "max_delegates_per_company"), 20);
    assert_eq!(n(&e["data"], "passport_validity_months"), 0);
}

#[test]
fn every_write_command_records_its_event() {
    // given the sample delegation (create, register ×5, approve, waitlist, reject, add ×3, lead)
    let store = Store::new();
    fixtures::sample(&store);
    // when a delegate is removed, a company withdrawn and the delegation closed
    let removed = store.json(&["delegate", "remove", D, "CD7654321"]);
    let withdrawn = store.json(&[
        "company",
        "withdraw",
        D,
        SIALKOT.ntn,
        "--reason",
        "changed plans",
    ]);
    let closed = store.json(&["delegation", "close", D]);
    // then each printed the events it recorded
    assert_eq!(s(&removed["events"][0], "type"), "DelegateRemoved");
    assert_eq!(s(&withdrawn["events"][0], "type"), "CompanyWithdrawn");
    assert_eq!(s(&closed["events"][0], "type"), "DelegationClosed");
    // and the log has every type, in order, with gapless positions and versions
    let events = store.events();
    let types = types(&events);
    for t in [
        "DelegationCreated",
        "CompanyRegistered",
        "CompanyApproved",
        "CompanyWaitlisted",
        "CompanyRejected",
        "DelegateAdded",
        "LeaderAssigned",
        "DelegateRemoved",
        "CompanyWithdrawn",
        "DelegationClosed",
    ] {
        assert!(types.contains(&t), "{t} missing from {types:?}");
    }
    for (i, e) in events.iter().enumerate() {
        check_envelope(e);
        assert_eq!(n(e, "position"), i as i64 + 1);
        assert_eq!(
            n(e, "version"),
            i as i64 + 1,
            "one stream: version = position"
        );
    }
    assert_eq!(*types.last().unwrap(), "DelegationClosed");
    assert_eq!(n(&closed, "position"), events.len() as i64);
}

#[test]
fn approving_past_capacity_is_refused_naming_the_numbers() {
    // given a delegation of at most 2 companies, both seats taken
    let store = Store::new();
    fixtures::sample(&store);
    let before = store.export();
    // when a third company is approved
    let out = store.expo(&["company", "approve", D, SIALKOT.ntn]);
    // then it is refused with the numbers, and nothing is written
    out.expect_code(1);
    assert!(out.stderr.contains("2 of 2"), "{}", out.stderr);
    assert!(out.stderr.contains(D), "{}", out.stderr);
    assert!(out.stderr.to_lowercase().contains("full"), "{}", out.stderr);
    assert!(out.stdout.is_empty(), "{}", out.stdout);
    assert_eq!(store.export(), before);
    // and once a seat is freed (a multi-event write, still one line of text) the waitlist moves up
    store.write(&[
        "company",
        "withdraw",
        D,
        STEEL.ntn,
        "--reason",
        "cannot travel",
    ]);
    let out = store.expo(&["company", "approve", D, SIALKOT.ntn]);
    out.expect_code(1);
    assert!(out.stderr.contains("2 of 2"), "{}", out.stderr);
}

#[test]
fn withdrawing_an_approved_company_promotes_the_first_waitlisted() {
    // given two approved companies and Faisalabad Fabrics waitlisted
    let store = Store::new();
    fixtures::sample(&store);
    // when Karachi Steel withdraws
    let out = store.json(&[
        "company",
        "withdraw",
        D,
        STEEL.ntn,
        "--reason",
        "visa trouble",
    ]);
    // then the same command recorded the withdrawal, the delegate leaving and the promotion
    let types = types(written(&out));
    assert_eq!(types.first(), Some(&"CompanyWithdrawn"), "{types:?}");
    assert!(types.contains(&"DelegateRemoved"), "{types:?}");
    assert!(types.contains(&"CompanyPromoted"), "{types:?}");
    let promoted = written(&out)
        .iter()
        .find(|e| s(e, "type") == "CompanyPromoted")
        .unwrap();
    assert_eq!(s(&promoted["data"], "ntn"), FABRICS.ntn);
    // and the roster shows Fabrics approved and the waitlist empty
    let roster = store.roster(D, &[]);
    let ntns: Vec<&str> = roster["companies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| s(c, "ntn"))
        .collect();
    assert!(ntns.contains(&FABRICS.ntn), "{ntns:?}");
    assert!(!ntns.contains(&STEEL.ntn), "{ntns:?}");
    assert_eq!(roster["waitlist"].as_array().unwrap().len(), 0);
    assert_eq!(n(&roster["counts"], "approved_companies"), 2);
    assert_eq!(n(&roster["counts"], "waitlisted"), 0);
    assert_eq!(n(&roster["counts"], "seats_left"), 0);
}

#[test]
fn removing_the_leader_removes_the_leadership() {
    // given the sample delegation, led by Ayesha Khan
    let store = Store::new();
    fixtures::sample(&store);
    // when her passport is removed
    let out = store.json(&["delegate", "remove", D, "ab1234567"]);
    // then the leadership went with her
    assert_eq!(
        types(written(&out)),
        ["DelegateRemoved", "LeaderUnassigned"]
    );
    assert!(store.roster(D, &[])["leader"].is_null());
}

#[test]
fn a_closed_delegation_refuses_every_command_saying_it_is_closed() {
    // given a closed delegation
    let store = Store::new();
    fixtures::closed(&store, "pk-closed");
    let before = store.export();
    // when any write is tried on it
    let attempts: &[&[&str]] = &[
        &["delegation", "close", "pk-closed"],
        &[
            "company",
            "register",
            "pk-closed",
            "7654321",
            "--name",
            "New Co",
            "--sector",
            "steel",
            "--city",
            "Lahore",
            "--email",
            "a@b.pk",
        ],
        &[
            "company",
            "withdraw",
            "pk-closed",
            LOOMS.ntn,
            "--reason",
            "late",
        ],
        &["delegate", "remove", "pk-closed", "ZM9876543"],
    ];
    for args in attempts {
        let out = store.expo(args);
        // then each is refused, saying closed
        out.expect_code(1);
        assert!(
            out.stderr.to_lowercase().contains("closed"),
            "{args:?}: {}",
            out.stderr
        );
    }
    assert_eq!(store.export(), before);
}

/// A write's JSON answer without the marker some outputs add to say "this was
/// a retry" (extra fields are free in the contract; the outcome is the rest).
fn outcome(mut v: Value) -> Value {
    if let Some(o) = v.as_object_mut() {
        o.remove("duplicate");
    }
    v
}

#[test]
fn retry_with_the_same_command_id_returns_the_first_outcome_and_writes_nothing() {
    // given a delegation and a registered company
    let store = Store::new();
    fixtures::create(&store, D, &[]);
    fixtures::register(&store, D, &LOOMS);
    let id = "0b9e7c1e-5a55-4b8e-9d7c-2a6f3f1d4e01";
    // when the same approve is sent twice with one command id (text and JSON)
    let first = outcome(store.json(&["--command-id", id, "company", "approve", D, LOOMS.ntn]));
    let second = outcome(store.json(&["--command-id", id, "company", "approve", D, LOOMS.ntn]));
    let text_first = store.ok(&["--command-id", id, "company", "approve", D, LOOMS.ntn]);
    let text_again = store.ok(&["--command-id", id, "company", "approve", D, LOOMS.ntn]);
    // then both answers are the same, naming the command id, and one event exists
    assert_eq!(first, second);
    assert_eq!(text_first.stdout, text_again.stdout);
    assert_eq!(s(&first["events"][0], "command_id"), id);
    let events = store.events();
    assert_eq!(events.len(), 3, "one approval only");
    assert_eq!(
        events.iter().filter(|e| s(e, "command_id") == id).count(),
        1
    );
    // and without the id, a second approval is a domain refusal
    store
        .expo(&["company", "approve", D, LOOMS.ntn])
        .expect_code(1);
}

#[test]
fn a_command_id_names_one_command_only_once_recorded() {
    // given a registered company, and a refused attempt under a command id
    let store = Store::new();
    fixtures::create(&store, D, &[]);
    fixtures::register(&store, D, &LOOMS);
    let id = "7c0e4b8a-1d2f-4e3a-8b5c-6d7e8f9a0b1c";
    store
        .expo(&["--command-id", id, "company", "approve", D, "9999999"])
        .expect_code(1);
    // when the id is then used for a command that succeeds
    let first = outcome(store.json(&["--command-id", id, "company", "approve", D, LOOMS.ntn]));
    // then a refusal did not use the id up; and the id sent again with another command
    // returns the first outcome and writes nothing new
    assert_eq!(s(&first["events"][0], "type"), "CompanyApproved");
    let count = store.events().len();
    let other = outcome(store.json(&["--command-id", id, "company", "waitlist", D, LOOMS.ntn]));
    assert_eq!(other, first);
    assert_eq!(store.events().len(), count);
}

#[test]
fn command_id_is_remembered_across_a_multi_event_command() {
    // given the sample, where withdrawing Karachi Steel yields several events
    let store = Store::new();
    fixtures::sample(&store);
    let id = "5f1d3a2b-8c4e-4f6a-9b7d-0e1c2d3f4a5b";
    let args = [
        "--command-id",
        id,
        "company",
        "withdraw",
        D,
        STEEL.ntn,
        "--reason",
        "visa",
    ];
    // when it is sent twice
    let first = outcome(store.json(&args));
    let count = store.events().len();
    let second = outcome(store.json(&args));
    // then the second answer is the first, and the log did not grow
    assert_eq!(first, second);
    assert_eq!(store.events().len(), count);
    assert!(written(&first).len() >= 3);
    for e in written(&first) {
        assert_eq!(s(e, "command_id"), id);
    }
}

#[test]
fn delegate_rules_passport_validity_and_capacity() {
    // given a delegation of at most 1 delegate per company, passports valid 6 months after 2025-05-20
    let store = Store::new();
    fixtures::create(&store, D, &["--max-delegates", "1"]);
    fixtures::register(&store, D, &LOOMS);
    let add = |passport: &str, expiry: &str| {
        store.expo(&[
            "delegate",
            "add",
            D,
            LOOMS.ntn,
            "--name",
            "Ayesha Khan",
            "--passport",
            passport,
            "--passport-expiry",
            expiry,
            "--designation",
            "CEO",
        ])
    };
    // when the passport expires before depart + 6 months, then it is refused
    let out = add(LEADER_PASSPORT, "2025-11-19");
    out.expect_code(1);
    assert!(
        out.stderr.to_lowercase().contains("passport"),
        "{}",
        out.stderr
    );
    // when it is valid long enough (lower-case input), then it is stored upper-case
    add(" ab1234567 ", "2025-11-20").ok();
    let added = store.events().pop().unwrap();
    assert_eq!(s(&added, "type"), "DelegateAdded");
    assert_eq!(s(&added["data"], "passport_no"), LEADER_PASSPORT);
    // when a second delegate is added to the same company, then the limit refuses it
    let out = add("XY7654321", "2030-01-01");
    out.expect_code(1);
    assert!(out.stderr.contains('1'), "{}", out.stderr);
    // and a leader must belong to an approved company (Looms is only submitted)
    let out = store.expo(&["delegate", "lead", D, LEADER_PASSPORT]);
    out.expect_code(1);
    assert!(
        out.stderr.to_lowercase().contains("approved"),
        "{}",
        out.stderr
    );
}
