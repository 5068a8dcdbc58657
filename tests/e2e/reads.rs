//! Reading commands: rosters, reports, the event log and views as of an earlier point.

use crate::fixtures::{self, D, FABRICS, LEADER_MASKED, LEADER_PASSPORT, LOOMS, STEEL};
use crate::harness::{assert_has_fields, n, s, Store};
use serde_json::Value;
use std::time::Duration;

/// The full passports of the sample's current delegates.
const PASSPORTS: [&str; 3] = [LEADER_PASSPORT, "CD7654321", "EF1122334"];
/// The same, masked.
const MASKED: [&str; 3] = [LEADER_MASKED, "CD••••321", "EF••••334"];

#[test]
fn roster_json_has_the_contract_fields() {
    // given the sample delegation
    let store = Store::new();
    fixtures::sample(&store);
    // when its roster is asked for as JSON
    let r = store.roster(D, &[]);
    // then every field of the contract is there with the sample's values
    assert_has_fields(
        &r,
        &[
            "delegation",
            "leader",
            "companies",
            "waitlist",
            "counts",
            "as_of_position",
        ],
    );
    let d = &r["delegation"];
    assert_has_fields(
        d,
        &[
            "id",
            "name",
            "country",
            "arrive",
            "depart",
            "status",
            "max_companies",
            "max_delegates_per_company",
        ],
    );
    assert_eq!(s(d, "id"), D);
    assert_eq!(s(d, "country"), "PK");
    assert_eq!(
        (s(d, "arrive"), s(d, "depart")),
        ("2025-05-10", "2025-05-20")
    );
    assert_eq!(s(d, "status"), "open");
    assert_eq!(n(d, "max_companies"), 2);
    assert_eq!(n(d, "max_delegates_per_company"), 3);

    let leader = &r["leader"];
    assert_has_fields(leader, &["full_name", "passport_no", "ntn"]);
    assert_eq!(s(leader, "full_name"), "Ayesha Khan");
    assert_eq!(s(leader, "passport_no"), LEADER_MASKED);
    assert_eq!(s(leader, "ntn"), LOOMS.ntn);

    // approved companies only, sorted by sector then legal name: steel before textiles
    let companies = r["companies"].as_array().unwrap();
    let ntns: Vec<&str> = companies.iter().map(|c| s(c, "ntn")).collect();
    assert_eq!(ntns, [STEEL.ntn, LOOMS.ntn]);
    for c in companies {
        assert_has_fields(
            c,
            &["ntn", "legal_name", "sector", "city", "status", "delegates"],
        );
        assert_eq!(s(c, "status"), "approved");
        for p in c["delegates"].as_array().unwrap() {
            assert_has_fields(
                p,
                &[
                    "full_name",
                    "passport_no",
                    "nationality",
                    "passport_expiry",
                    "designation",
                ],
            );
            assert_eq!(s(p, "nationality"), "PK");
            assert_eq!(s(p, "passport_expiry"), "2028-01-31");
        }
    }
    let looms = &companies[1];
    assert_eq!(s(looms, "legal_name"), LOOMS.legal_name);
    assert_eq!(s(looms, "sector"), "textiles");
    assert_eq!(s(looms, "city"), "Lahore");
    assert_eq!(looms["delegates"].as_array().unwrap().len(), 2);

    let waitlist = r["waitlist"].as_array().unwrap();
    assert_eq!(waitlist.len(), 1);
    assert_has_fields(&waitlist[0], &["ntn", "legal_name", "sector"]);
    assert_eq!(s(&waitlist[0], "ntn"), FABRICS.ntn);

    let counts = &r["counts"];
    assert_has_fields(
        counts,
        &[
            "approved_companies",
            "delegates",
            "waitlisted",
            "seats_left",
        ],
    );
    assert_eq!(n(counts, "approved_companies"), 2);
    assert_eq!(n(counts, "delegates"), 3);
    assert_eq!(n(counts, "waitlisted"), 1);
    assert_eq!(n(counts, "seats_left"), 0);
    assert_eq!(n(&r, "as_of_position"), store.events().len() as i64);
}

#[test]
fn roster_masks_passports_in_every_format_unless_full() {
    // given the sample delegation
    let store = Store::new();
    fixtures::sample(&store);
    for format in ["table", "csv", "json"] {
        // when the roster is printed without --full
        let masked = store.ok(&["roster", D, "--format", format]);
        // then no passport shows in full, and the masked forms do
        for (full, mask) in PASSPORTS.iter().zip(MASKED) {
            assert!(!masked.stdout.contains(full), "{format}: {}", masked.stdout);
            assert!(masked.stdout.contains(mask), "{format}: {}", masked.stdout);
        }
        // when it is printed with --full, then they show in full
        let full = store.ok(&["roster", D, "--format", format, "--full"]);
        for p in PASSPORTS {
            assert!(full.stdout.contains(p), "{format} --full: {}", full.stdout);
        }
        // and every format names the companies and people
        for text in [
            LOOMS.legal_name,
            STEEL.legal_name,
            "Ayesha Khan",
            "Imran Qureshi",
        ] {
            assert!(masked.stdout.contains(text), "{format}: {}", masked.stdout);
        }
    }
    // and --json means --format json
    assert_eq!(store.json(&["roster", D]), store.roster(D, &[]));
}

#[test]
fn roster_csv_is_real_csv() {
    // given a company whose name holds a comma and a quote
    let store = Store::new();
    fixtures::create(&store, D, &[]);
    let name = "Ali \"Best\" Textiles, Lahore";
    store.ok(&[
        "company", "register", D, "1111111", "--name", name, "--sector", "textiles", "--city",
        "Lahore", "--email", "a@b.pk",
    ]);
    store.ok(&["company", "approve", D, "1111111"]);
    fixtures::add_delegate(&store, D, "1111111", "Hina Shah", "HS1234567");
    // when the roster is printed as CSV
    let out = store.ok(&["roster", D, "--format", "csv"]);
    // then a CSV reader gets the name back whole
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(out.stdout.as_bytes());
    let fields: Vec<String> = reader
        .records()
        .flat_map(|r| r.unwrap().iter().map(str::to_owned).collect::<Vec<_>>())
        .collect();
    assert!(fields.iter().any(|f| f == name), "{}", out.stdout);
    assert!(fields.iter().any(|f| f == "Hina Shah"), "{}", out.stdout);
}

#[test]
fn roster_sorts_companies_by_sector_then_legal_name() {
    // given three approved companies entered in no particular order
    let store = Store::new();
    fixtures::create(&store, D, &[]);
    for c in [&LOOMS, &FABRICS, &STEEL] {
        fixtures::register(&store, D, c);
        store.ok(&["company", "approve", D, c.ntn]);
    }
    // when the roster is read
    let r = store.roster(D, &[]);
    // then steel comes first, then the textiles companies by legal name
    let names: Vec<&str> = r["companies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| s(c, "legal_name"))
        .collect();
    assert_eq!(
        names,
        [STEEL.legal_name, FABRICS.legal_name, LOOMS.legal_name]
    );
    assert_eq!(n(&r["counts"], "seats_left"), 17);
}

#[test]
fn waitlist_keeps_waitlist_order() {
    // given three companies waitlisted in the order 3, 1, 2
    let store = Store::new();
    fixtures::create(&store, D, &["--max-companies", "1"]);
    let ntns: Vec<String> = (1..=3)
        .map(|i| fixtures::register_nth(&store, D, i))
        .collect();
    for i in [2, 0, 1] {
        store.ok(&["company", "waitlist", D, &ntns[i]]);
    }
    // when the roster is read
    let r = store.roster(D, &[]);
    // then the waitlist is in that order
    let order: Vec<&str> = r["waitlist"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| s(c, "ntn"))
        .collect();
    assert_eq!(order, [&ntns[2], &ntns[0], &ntns[1]]);
}

#[test]
fn roster_at_a_position_or_time_shows_the_earlier_state() {
    // given the sample, its roster then, and a withdrawal a while later
    let store = Store::new();
    fixtures::sample(&store);
    let before = store.roster(D, &[]);
    let sectors_before = store.json(&["report", "sectors"]);
    let status_before = store.json(&["report", "status"]);
    let events = store.events();
    let p1 = events.len();
    let last_at = chrono::DateTime::parse_from_rfc3339(s(&events[p1 - 1], "recorded_at")).unwrap();
    std::thread::sleep(Duration::from_millis(1100));
    store.ok(&["company", "withdraw", D, STEEL.ntn, "--reason", "visa"]);
    let now = store.roster(D, &[]);
    assert_ne!(now, before, "the withdrawal changed the roster");
    let p1 = p1.to_string();
    // when the roster is asked for at the old position
    let at = store.roster(D, &["--at", &p1]);
    // then it is the old roster
    assert_eq!(at, before);
    // when it is asked for as of a time between the two
    let between = (last_at + chrono::Duration::milliseconds(500))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let as_of = store.roster(D, &["--as-of", &between]);
    // then it is the old roster too
    assert_eq!(as_of, before);
    // and the reports go back in time the same way
    assert_eq!(
        store.json(&["report", "sectors", "--at", &p1]),
        sectors_before
    );
    assert_eq!(
        store.json(&["report", "status", "--as-of", &between]),
        status_before
    );
    // and at an early position the delegation has no companies yet
    let early = store.roster(D, &["--at", "2"]);
    assert_eq!(n(&early, "as_of_position"), 2);
    assert_eq!(early["companies"].as_array().unwrap().len(), 0);
}

#[test]
fn a_roster_at_a_position_or_time_reads_only_its_own_delegation() {
    // given two delegations whose companies register by turns, and the
    // first one's roster when the log ended at position p, a second before
    // the next registrations
    let store = Store::new();
    let other = "pk-other-june";
    fixtures::create(&store, D, &[]);
    fixtures::create(&store, other, &[]);
    for i in 0..3 {
        fixtures::register_nth(&store, D, i);
        fixtures::register_nth(&store, other, 10 + i);
    }
    let then = store.roster(D, &[]);
    let events = store.events();
    let p = events.len();
    let last_at = chrono::DateTime::parse_from_rfc3339(s(&events[p - 1], "recorded_at")).unwrap();
    std::thread::sleep(Duration::from_millis(1100));
    for i in 3..6 {
        fixtures::register_nth(&store, other, 10 + i);
        fixtures::register_nth(&store, D, i);
    }
    assert_ne!(
        store.roster(D, &[]),
        then,
        "the later registrations show now"
    );
    let between = (last_at + chrono::Duration::milliseconds(500))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    for when in [["--at", &p.to_string()], ["--as-of", &between]] {
        // when the roster is asked for at position p, or as of a moment
        // between event p and the next
        let out = store
            .command(&["roster", D, when[0], when[1], "--format", "json"])
            .env("EXPO_TRACE", "1")
            .output()
            .unwrap();
        let trace = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{trace}");
        // then it is the roster of then, position included
        let at: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(at, then, "{when:?}");
        assert_eq!(n(&at, "as_of_position"), p as i64);
        // and only the delegation's own 4 events up to p were folded, not all p
        let folded = format!("rosters folded 4 events of {D} up to position {p}");
        assert!(trace.contains(&folded), "{when:?}: {trace}");
    }
}

#[test]
fn reports_in_every_format() {
    // given the sample and a second delegation with one approved company
    let store = Store::new();
    fixtures::sample(&store);
    fixtures::closed(&store, "pk-machinery-june");
    for format in ["table", "csv", "json"] {
        // when each report is printed
        let sectors = store.ok(&["report", "sectors", "--format", format]);
        let one = store.ok(&["report", "sectors", "--delegation", D, "--format", format]);
        let status = store.ok(&["report", "status", "--format", format]);
        let visa = store.ok(&["report", "visa-letters", D, "--format", format]);
        // then they name what they count
        for sector in ["steel", "textiles"] {
            assert!(
                sectors.stdout.contains(sector),
                "{format}: {}",
                sectors.stdout
            );
            assert!(one.stdout.contains(sector), "{format}: {}", one.stdout);
        }
        for d in [D, "pk-machinery-june"] {
            assert!(status.stdout.contains(d), "{format}: {}", status.stdout);
        }
        // and the visa-letter list always shows passports in full, with the company and dates
        for p in PASSPORTS {
            assert!(visa.stdout.contains(p), "{format}: {}", visa.stdout);
        }
        for text in [
            LOOMS.legal_name,
            LOOMS.ntn,
            "2025-05-10",
            "2025-05-20",
            "Director",
        ] {
            assert!(visa.stdout.contains(text), "{format}: {}", visa.stdout);
        }
        assert!(
            !visa.stdout.contains("Zara Malik"),
            "other delegation: {}",
            visa.stdout
        );
        if format == "json" {
            for out in [&sectors, &one, &status, &visa] {
                out.json();
            }
        }
    }
    // and --json means --format json for reports too
    assert_eq!(
        store.json(&["report", "status"]),
        store.ok(&["report", "status", "--format", "json"]).json()
    );
    // and the one-delegation sector report differs from the all-delegation one
    let all = store.json(&["report", "sectors"]);
    let one = store.json(&["report", "sectors", "--delegation", D]);
    assert_ne!(all, one);
}

#[test]
fn events_filters_by_stream_from_and_limit() {
    // given two delegations whose events interleave
    let store = Store::new();
    fixtures::create(&store, "pk-a", &[]);
    fixtures::create(&store, "pk-b", &[]);
    fixtures::register(&store, "pk-a", &LOOMS);
    fixtures::register(&store, "pk-b", &LOOMS);
    fixtures::register(&store, "pk-a", &STEEL);
    // when events are read whole, by stream, from a position and limited
    let all = store.events();
    let a = store.ok(&["events", "--stream", "pk-a"]).json_lines();
    let from = store.ok(&["events", "--from", "3"]).json_lines();
    let limited = store.ok(&["events", "--limit", "2"]).json_lines();
    let window = store
        .ok(&["events", "--from", "2", "--limit", "2", "--stream", "pk-b"])
        .json_lines();
    // then each is the right slice of the log, in position order
    let pos = |v: &[Value]| v.iter().map(|e| n(e, "position")).collect::<Vec<_>>();
    assert_eq!(pos(&all), [1, 2, 3, 4, 5]);
    assert_eq!(pos(&a), [1, 3, 5]);
    assert!(a.iter().all(|e| s(e, "stream") == "pk-a"));
    let versions: Vec<i64> = a.iter().map(|e| n(e, "version")).collect();
    assert_eq!(versions, [1, 2, 3]);
    assert_eq!(pos(&from), [3, 4, 5]);
    assert_eq!(pos(&limited), [1, 2]);
    assert_eq!(pos(&window), [2, 4]);
    assert_eq!(&all[2..], &from[..]);
    // and past the end there is nothing
    assert!(store
        .ok(&["events", "--from", "99"])
        .stdout
        .trim()
        .is_empty());
}

#[test]
fn delegation_list_names_every_delegation() {
    // given two delegations, one closed
    let store = Store::new();
    fixtures::sample(&store);
    fixtures::closed(&store, "pk-closed");
    // when they are listed
    let text = store.ok(&["delegation", "list"]);
    let json = store.ok(&["--json", "delegation", "list"]);
    // then both are named, in text and in JSON
    for id in [D, "pk-closed"] {
        assert!(text.stdout.contains(id), "{}", text.stdout);
        assert!(json.stdout.contains(id), "{}", json.stdout);
    }
    json.json();
}
