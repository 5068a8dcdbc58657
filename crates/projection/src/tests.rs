//! Tests of the projection: the fold's rules, golden rosters and reports of the demo, and properties over random histories.

use super::*;
use chrono::{DateTime, Utc};
use expo_domain::sample::{self, DEMO_START_SECS};
use expo_domain::values::{CountryCode, DelegationId, Email, Ntn, PassportNo, Sector, Text};
use expo_domain::{decide, evolve, Command, Event, RemovalCause, State};
use proptest::prelude::*;
use std::collections::BTreeMap;

// ---------------------------------------------------------------- helpers

fn at(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(DEMO_START_SECS + secs, 0).unwrap()
}

/// Runs commands through the decider, stream by stream, and records the
/// accepted ones' events as a log (positions from 1; a refused command
/// writes nothing, as in the CLI). `reg` mirrors the log, so a generator
/// can aim its next command at what exists.
#[derive(Default)]
struct Recorder {
    states: BTreeMap<String, (State, u64)>,
    log: Vec<Recorded>,
    reg: Registry,
}

impl Recorder {
    fn push(&mut self, stream: &str, command: &Command, recorded_at: DateTime<Utc>) {
        let (state, mut version) = self.states.remove(stream).unwrap_or_default();
        let state = match decide(command, &state) {
            Ok(events) => {
                for event in &events {
                    version += 1;
                    let e = Recorded {
                        position: self.log.len() as u64 + 1,
                        stream: stream.into(),
                        version,
                        recorded_at,
                        event: event.clone(),
                    };
                    self.reg.apply(&e);
                    self.log.push(e);
                }
                events.iter().fold(state, evolve)
            }
            Err(_) => state,
        };
        self.states.insert(stream.to_owned(), (state, version));
    }
}

/// The demo data set as a log, every step accepted.
fn demo_log() -> Vec<Recorded> {
    let steps = sample::demo();
    let mut rec = Recorder::default();
    for s in &steps {
        rec.push(s.delegation.as_str(), &s.command, s.at());
    }
    let log = rec.log;
    assert!(log.len() >= steps.len(), "the decider refused demo steps");
    log
}

const DEMO_IDS: [&str; 4] = [
    "pk-textiles-may",
    "pk-auto-steel-jun",
    "pk-machinery-minerals-jul",
    "pk-it-hr-sep",
];

fn ntn(s: &str) -> Ntn {
    Ntn::parse(s).unwrap()
}
fn pp(s: &str) -> PassportNo {
    PassportNo::parse(s).unwrap()
}
fn text(s: &str) -> Text {
    Text::parse("test", s, 1, 200).unwrap()
}
fn date(s: &str) -> chrono::NaiveDate {
    expo_domain::values::parse_date(s).unwrap()
}

/// Hand-written events of one stream `d-one` (no decider involved), for the
/// fold's own rules.
fn log_of(events: Vec<Event>) -> Vec<Recorded> {
    events
        .into_iter()
        .enumerate()
        .map(|(i, event)| Recorded {
            position: i as u64 + 1,
            stream: "d-one".into(),
            version: i as u64 + 1,
            recorded_at: at(i as i64),
            event,
        })
        .collect()
}

fn created(max_companies: u32) -> Event {
    Event::DelegationCreated {
        id: DelegationId::parse("d-one").unwrap(),
        name: text("Test delegation"),
        country: CountryCode::pakistan(),
        arrive: date("2025-06-01"),
        depart: date("2025-06-05"),
        max_companies,
        max_delegates_per_company: 3,
        passport_validity_months: 6,
    }
}
fn registered(n: &str, name: &str, sector: Sector) -> Event {
    Event::CompanyRegistered {
        ntn: ntn(n),
        legal_name: text(name),
        sector,
        city: text("Lahore"),
        contact_email: Email::parse("a@b.pk").unwrap(),
    }
}
fn added(n: &str, name: &str, p: &str) -> Event {
    Event::DelegateAdded {
        ntn: ntn(n),
        full_name: text(name),
        passport_no: pp(p),
        nationality: CountryCode::pakistan(),
        passport_expiry: date("2030-01-01"),
        designation: text("Director"),
    }
}

/// Given these events, when the roster of `d-one` is folded, then it
/// matches `expected` (a compact picture: approved `ntn:n_delegates` in
/// roster order, waitlist, leader, counts, registrations per status).
#[track_caller]
fn check(given: Vec<Event>, expected: &str) {
    let log = log_of(given);
    let reg = Registry::fold(&log, None);
    let view = reg.view("d-one").unwrap();
    let r = roster(view, reg.position());
    let s = view.summary();
    let picture = format!(
        "approved [{}] waitlist [{}] leader {} counts {}/{}/{}/{} statuses {}/{}/{}/{}/{}",
        r.companies
            .iter()
            .map(|c| format!("{}:{}", c.ntn, c.delegates.len()))
            .collect::<Vec<_>>()
            .join(" "),
        r.waitlist
            .iter()
            .map(|w| w.ntn.to_string())
            .collect::<Vec<_>>()
            .join(" "),
        r.leader
            .as_ref()
            .map_or("-".to_owned(), |l| l.passport_no.clone()),
        r.counts.approved_companies,
        r.counts.delegates,
        r.counts.waitlisted,
        r.counts.seats_left,
        s.registrations.submitted,
        s.registrations.approved,
        s.registrations.waitlisted,
        s.registrations.rejected,
        s.registrations.withdrawn,
    );
    assert_eq!(picture, expected);
}

// ------------------------------------------------------- the fold's rules

#[test]
fn roster_sorts_by_sector_then_legal_name() {
    check(
        vec![
            created(5),
            registered("3000003", "Zeta Mills", Sector::Textiles),
            registered("2000002", "Alpha Steel", Sector::Steel),
            registered("1000001", "Beta Mills", Sector::Textiles),
            Event::CompanyApproved { ntn: ntn("3000003") },
            Event::CompanyApproved { ntn: ntn("2000002") },
            Event::CompanyApproved { ntn: ntn("1000001") },
        ],
        "approved [2000002:0 1000001:0 3000003:0] waitlist [] leader - counts 3/0/0/2 statuses 0/3/0/0/0",
    );
}

#[test]
fn promotion_takes_the_first_waitlisted_and_keeps_the_order_of_the_rest() {
    check(
        vec![
            created(1),
            registered("1000001", "A", Sector::Steel),
            registered("2000002", "B", Sector::Steel),
            registered("3000003", "C", Sector::Steel),
            Event::CompanyApproved {
                ntn: ntn("1000001"),
            },
            Event::CompanyWaitlisted {
                ntn: ntn("3000003"),
            },
            Event::CompanyWaitlisted {
                ntn: ntn("2000002"),
            },
            added("1000001", "X", "AB1234567"),
            Event::CompanyWithdrawn {
                ntn: ntn("1000001"),
                reason: text("r"),
            },
            Event::DelegateRemoved {
                ntn: ntn("1000001"),
                passport_no: pp("AB1234567"),
                cause: RemovalCause::CompanyWithdrawn,
            },
            Event::CompanyPromoted {
                ntn: ntn("3000003"),
            },
        ],
        "approved [3000003:0] waitlist [2000002] leader - counts 1/0/1/0 statuses 0/1/1/0/1",
    );
}

#[test]
fn a_new_registration_after_a_rejection_keeps_the_old_one_in_the_counts() {
    check(
        vec![
            created(3),
            registered("1000001", "A", Sector::ItHr),
            Event::CompanyRejected {
                ntn: ntn("1000001"),
                reason: text("r"),
            },
            registered("1000001", "A", Sector::ItHr),
        ],
        "approved [] waitlist [] leader - counts 0/0/0/3 statuses 1/0/0/1/0",
    );
}

#[test]
fn removing_the_leader_clears_the_leader_and_only_approved_delegates_count() {
    check(
        vec![
            created(3),
            registered("1000001", "A", Sector::ItHr),
            registered("2000002", "B", Sector::ItHr),
            Event::CompanyApproved {
                ntn: ntn("1000001"),
            },
            added("1000001", "X", "AB1234567"),
            added("1000001", "Y", "AB1234568"),
            added("2000002", "Z", "CD1234567"),
            Event::LeaderAssigned {
                passport_no: pp("AB1234567"),
            },
            Event::DelegateRemoved {
                ntn: ntn("1000001"),
                passport_no: pp("AB1234567"),
                cause: RemovalCause::Removed,
            },
            Event::LeaderUnassigned {
                passport_no: pp("AB1234567"),
            },
        ],
        "approved [1000001:1] waitlist [] leader - counts 1/1/0/2 statuses 1/1/0/0/0",
    );
}

#[test]
fn the_leader_is_shown_with_the_passport_in_full_until_rendered() {
    check(
        vec![
            created(3),
            registered("1000001", "A", Sector::ItHr),
            Event::CompanyApproved {
                ntn: ntn("1000001"),
            },
            added("1000001", "X", "AB1234567"),
            Event::LeaderAssigned {
                passport_no: pp("AB1234567"),
            },
        ],
        "approved [1000001:1] waitlist [] leader AB1234567 counts 1/1/0/2 statuses 0/1/0/0/0",
    );
}

#[test]
fn events_before_a_creation_and_repeats_are_not_folded() {
    let mut log = log_of(vec![
        Event::CompanyApproved {
            ntn: ntn("1000001"),
        },
        created(2),
        registered("1000001", "A", Sector::Steel),
    ]);
    let repeat = log[2].clone();
    log.push(repeat);
    let reg = Registry::fold(&log, None);
    assert_eq!(reg.folded(), 2);
    let src = MemorySource::default();
    let mut p = Projector::new(&src);
    for e in &log {
        p.apply(e).unwrap();
    }
    assert_eq!(p.folded(), 2);
    let mut mem = MemorySource::default();
    mem.apply(p.writes());
    assert_eq!(reg.first_difference(&mem).unwrap(), None);
}

#[test]
fn masking_hides_the_middle_of_every_passport_but_the_visa_list_shows_them() {
    let log = log_of(vec![
        created(3),
        registered("1000001", "A", Sector::ItHr),
        Event::CompanyApproved {
            ntn: ntn("1000001"),
        },
        added("1000001", "X", "AB1234567"),
        Event::LeaderAssigned {
            passport_no: pp("AB1234567"),
        },
    ]);
    let reg = Registry::fold(&log, None);
    let view = reg.view("d-one").unwrap();
    let r = roster(view, 5);
    for format in [Format::Table, Format::Csv, Format::Json] {
        let masked = r.render(format, false);
        assert!(!masked.contains("AB1234567"), "{format}: {masked}");
        assert!(masked.contains("AB••••567"), "{format}: {masked}");
        assert!(r.render(format, true).contains("AB1234567"), "{format}");
        assert!(visa_letters(view, 5)
            .render(format, false)
            .contains("AB1234567"));
    }
}

#[test]
fn a_bad_stored_view_is_a_decode_error_naming_the_key() {
    let mut mem = MemorySource::default();
    mem.entries.insert(view_key("d-one"), b"{not json".to_vec());
    let err = load_view(&mem, "d-one").unwrap_err();
    assert!(
        matches!(&err, ProjectionError::Decode { key, .. } if key == "view/d-one"),
        "{err}"
    );
    let e = &log_of(vec![created(1)])[0];
    assert!(Projector::new(&mem).apply(e).is_err());
    mem.entries.insert(summary_key("d-one"), b"[]".to_vec());
    assert!(load_summaries(&mem).is_err());
}

#[test]
fn damaged_stored_bytes_of_every_shape_are_decode_errors_not_panics() {
    // given stored values damaged in each way the encoding can be: empty, an
    // unknown first byte, a compressed value cut short, one declaring a
    // huge size (refused before allocating), garbage after either tag
    let damaged: [(&str, Vec<u8>); 7] = [
        ("empty", vec![]),
        ("unknown tag", vec![7, 1, 2, 3]),
        ("lz4, no size", vec![1, 5]),
        (
            "lz4, 4 GiB declared",
            vec![1, 0xff, 0xff, 0xff, 0xff, 0x10, 0x41],
        ),
        ("lz4, garbage body", vec![1, 40, 0, 0, 0, 0xff, 0xff, 0xff]),
        ("plain, garbage", vec![0, 0xff, 0xff, 0xff, 0xff, 0xff]),
        ("plain, cut short", vec![0, 3]),
    ];
    for (what, bytes) in damaged {
        let mut mem = MemorySource::default();
        mem.entries.insert(view_key("d-one"), bytes);
        // when the view is read
        let err = load_view(&mem, "d-one").unwrap_err();
        // then it is a decode error naming the key
        assert!(
            matches!(&err, ProjectionError::Decode { key, .. } if key == "view/d-one"),
            "{what}: {err}"
        );
    }
}

#[test]
fn stored_views_keep_dates_as_days_and_json_keeps_them_as_text() {
    // given the demo's views, every one with dates (arrival, departure,
    // each delegate's passport expiry)
    let reg = Registry::fold(&demo_log(), None);
    for view in reg.views() {
        let id = view.id.as_str();
        // when a view is stored and read back
        let stored = crate::state::encode(view);
        let back: View = crate::state::decode(&view_key(id), &stored).expect("decodes");
        // then it is the same view, and its postcard form holds no date text
        assert_eq!(&back, view);
        let plain = postcard::to_allocvec(view).expect("serialises");
        let text = String::from_utf8_lossy(&plain);
        assert!(!text.contains(&view.arrive.to_string()), "{id}: {text}");
        // and a delegate in JSON still shows its date as the contract's text
        for r in view.companies.values() {
            for d in &r.delegates {
                let json = serde_json::to_value(d).expect("JSON");
                assert_eq!(json["passport_expiry"], d.passport_expiry.to_string());
                let again: expo_domain::state::Delegate = serde_json::from_value(json).unwrap();
                assert_eq!(&again, d);
            }
        }
    }
    // and a stored day count that is no date is an error, not a panic
    let first = reg.views().next().expect("the demo has views");
    let mut bytes = postcard::to_allocvec(first).unwrap();
    let arrive_days =
        postcard::to_allocvec(&chrono::Datelike::num_days_from_ce(&first.arrive)).unwrap();
    let at = bytes
        .windows(arrive_days.len())
        .position(|w| w == arrive_days.as_slice())
        .expect("the arrival's days are in the bytes");
    let huge = postcard::to_allocvec(&i32::MAX).unwrap();
    bytes.splice(at..at + arrive_days.len(), huge);
    assert!(postcard::from_bytes::<View>(&bytes).is_err());
}

#[test]
fn formats_parse_from_their_names() {
    for name in Format::NAMES {
        assert_eq!(name.parse::<Format>().unwrap().as_str(), name);
    }
    assert!("xml".parse::<Format>().is_err());
}

#[test]
fn a_sector_report_of_an_unknown_delegation_is_an_error() {
    let err = sector_report(&[], Some("pk-nowhere"), 0).unwrap_err();
    assert_eq!(
        err,
        ProjectionError::UnknownDelegation("pk-nowhere".to_owned())
    );
}

#[test]
fn empty_reports_say_so() {
    let s = status_report(&[], 0).render(Format::Table, false);
    assert!(s.contains("No delegations yet."), "{s}");
    let s = sector_report(&[], None, 0)
        .unwrap()
        .render(Format::Table, false);
    assert!(s.contains("No delegations yet."), "{s}");
    let log = log_of(vec![created(2)]);
    let reg = Registry::fold(&log, None);
    let s = roster(reg.view("d-one").unwrap(), 1).render(Format::Table, false);
    assert!(
        s.contains("Approved companies: none yet") && s.contains("Waitlist: empty"),
        "{s}"
    );
    let s = visa_letters(reg.view("d-one").unwrap(), 1).render(Format::Table, false);
    assert!(s.contains("No delegates of approved companies yet."), "{s}");
}

// ---------------------------------------------------- golden: the demo

/// Given the demo data set, each roster and report in each format is
/// pinned (snapshots in `src/snapshots`, reviewed by eye).
#[test]
fn golden_demo_rosters_and_reports() {
    let log = demo_log();
    let reg = Registry::fold(&log, None);
    let pos = reg.position();
    let formats = [
        (Format::Table, "table"),
        (Format::Csv, "csv"),
        (Format::Json, "json"),
    ];
    for id in DEMO_IDS {
        let view = reg.view(id).unwrap();
        for (format, name) in formats {
            insta::assert_snapshot!(
                format!("roster_{id}_{name}"),
                roster(view, pos).render(format, false)
            );
            insta::assert_snapshot!(
                format!("visa_{id}_{name}"),
                visa_letters(view, pos).render(format, false)
            );
        }
    }
    let summaries = reg.summaries();
    for (format, name) in formats {
        insta::assert_snapshot!(
            format!("sectors_all_{name}"),
            sector_report(&summaries, None, pos)
                .unwrap()
                .render(format, false)
        );
        insta::assert_snapshot!(
            format!("sectors_pk-auto-steel-jun_{name}"),
            sector_report(&summaries, Some("pk-auto-steel-jun"), pos)
                .unwrap()
                .render(format, false)
        );
        insta::assert_snapshot!(
            format!("status_{name}"),
            status_report(&summaries, pos).render(format, false)
        );
    }
    insta::assert_snapshot!(
        "roster_pk-textiles-may_json_full",
        roster(reg.view("pk-textiles-may").unwrap(), pos).render(Format::Json, true)
    );
}

/// Given the demo, the textiles roster as of the moment before Karachi
/// Denim withdrew still shows it approved and two companies waitlisted.
#[test]
fn golden_demo_roster_as_of_before_the_withdrawal() {
    let log = demo_log();
    let withdrawn = log
        .iter()
        .find(|e| matches!(&e.event, Event::CompanyWithdrawn { ntn, .. } if ntn.as_str() == "3598211-6"))
        .unwrap();
    let as_of = AsOf::Time(withdrawn.recorded_at - chrono::Duration::seconds(1));
    let reg = Registry::fold(&log, Some(as_of));
    assert_eq!(reg.position(), withdrawn.position - 1);
    let r = roster(reg.view("pk-textiles-may").unwrap(), reg.position());
    assert_eq!(r.counts.waitlisted, 2);
    assert!(r.companies.iter().any(|c| c.ntn.as_str() == "3598211-6"));
    insta::assert_snapshot!(
        "roster_pk-textiles-may_before_withdrawal_table",
        r.render(Format::Table, false)
    );
}

/// Given a stored state of all but the last 10 demo events, when a new
/// projector is handed those 10 (and one repeat), then it folds exactly
/// 10 and reads only the touched delegations' views.
#[test]
fn after_a_reload_the_projector_folds_only_the_new_events() {
    struct Counting<'a>(&'a MemorySource, std::cell::Cell<u32>);
    impl StateSource for Counting<'_> {
        fn get(&self, key: &str) -> Result<Option<Vec<u8>>, String> {
            self.1.set(self.1.get() + 1);
            self.0.get(key)
        }
        fn scan(&self, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, String> {
            self.1.set(self.1.get() + 1000);
            self.0.scan(prefix)
        }
    }
    let log = demo_log();
    let (old, new) = log.split_at(log.len() - 10);
    let mut mem = MemorySource::default();
    let mut p = Projector::new(&mem);
    for e in old {
        p.apply(e).unwrap();
    }
    assert_eq!(p.folded(), old.len() as u64);
    let writes = p.writes();
    mem.apply(writes);

    let counting = Counting(&mem, std::cell::Cell::new(0));
    let mut p = Projector::new(&counting);
    p.apply(&old[old.len() - 1]).unwrap(); // a repeat: not folded again
    for e in new {
        p.apply(e).unwrap();
    }
    assert_eq!(p.folded(), 10);
    assert_eq!(p.position(), Some(log.len() as u64));
    let touched: std::collections::BTreeSet<_> = old[old.len() - 1..]
        .iter()
        .chain(new)
        .map(|e| &e.stream)
        .collect();
    assert_eq!(
        counting.1.get(),
        touched.len() as u32,
        "one get per touched delegation, no scans"
    );
    let mut mem2 = mem.clone();
    mem2.apply(p.writes());
    assert_eq!(
        Registry::fold(&log, None).first_difference(&mem2).unwrap(),
        None
    );
}

/// The demo's events with its delegations taking turns, one event each,
/// renumbered (each stream's events keep their order and versions).
fn demo_log_interleaved() -> Vec<Recorded> {
    let mut streams: BTreeMap<String, std::collections::VecDeque<Recorded>> = BTreeMap::new();
    for e in demo_log() {
        streams
            .entry(e.stream.to_string())
            .or_default()
            .push_back(e);
    }
    let mut log = Vec::new();
    while streams.values().any(|q| !q.is_empty()) {
        for q in streams.values_mut() {
            if let Some(mut e) = q.pop_front() {
                e.position = log.len() as u64 + 1;
                log.push(e);
            }
        }
    }
    log
}

/// Given the demo's delegations taking turns, when they are rebuilt with
/// room for only a few events' worth of views, then views go out and come
/// back, and the new state equals an in-memory fold's, byte for byte.
#[test]
fn a_rebuild_over_budget_writes_views_out_and_reads_them_back() {
    let log = demo_log_interleaved();
    let whole = Registry::fold(&log, None);
    let mut built = MemorySource::default();
    let mut rebuild = Rebuild::new(&mut built, 8);
    for e in &log {
        rebuild.apply_owned(e.clone()).unwrap();
    }
    let stats = rebuild.finish().unwrap();
    assert!(stats.spilled > 0, "{stats:?}");
    assert!(stats.reloaded > 0, "{stats:?}");
    assert_eq!(stats.folded, whole.folded());
    assert_eq!(whole.first_difference(&built).unwrap(), None);
}

/// Given a stored view that does not decode, when a rebuild meets its
/// delegation again, then it fails with a decode error naming the key.
#[test]
fn a_rebuild_that_reads_back_damage_fails_naming_the_key() {
    let log = demo_log_interleaved();
    let mut built = MemorySource::default();
    let first = log[0].stream.clone();
    built.entries.insert(view_key(&first), vec![1, 0xFF, 0xFF]);
    let mut rebuild = Rebuild::new(&mut built, 8);
    let err = log
        .iter()
        .skip(1)
        .filter(|e| e.stream == first)
        .map(|e| rebuild.apply_owned(e.clone()))
        .find_map(Result::err)
        .expect("the damaged view is read back");
    assert!(
        matches!(&err, ProjectionError::Decode { key, .. } if *key == view_key(&first)),
        "{err}"
    );
}

// ------------------------------------------- properties: random histories

const STREAMS: [&str; 2] = ["del-a", "del-b"];
const NTNS: [&str; 5] = ["1000001", "2000002-3", "3000003", "4000004", "5000005"];
const PASSPORTS: [&str; 6] = [
    "AA100001", "AB200002", "AC300003", "AD400004", "AE500005", "AF600006",
];

/// Turns four random bytes into a command on one of two delegations. Most
/// commands aim at a company or delegate that exists (read from `reg`, the
/// fold so far), so that most are accepted and the interesting rules
/// (full, waitlist, promotion, leader, close) come up often.
fn command_of((s, op, a, b): (u8, u8, u8, u8), reg: &Registry) -> (String, Command) {
    let stream = STREAMS[s as usize % 2];
    let view = reg.view(stream);
    let known_ntns: Vec<&Ntn> = view
        .map(|v| v.companies.keys().collect())
        .unwrap_or_default();
    let known_passports: Vec<&PassportNo> = view
        .map(|v| {
            v.companies
                .values()
                .flat_map(|r| r.delegates.iter().map(|d| &d.passport_no))
                .collect()
        })
        .unwrap_or_default();
    let n = match known_ntns.get(a as usize % known_ntns.len().max(1)) {
        Some(n) if a % 4 != 0 => (*n).clone(),
        _ => ntn(NTNS[a as usize % NTNS.len()]),
    };
    let known_p = match known_passports.get(b as usize % known_passports.len().max(1)) {
        Some(p) if b % 4 != 0 => (*p).clone(),
        _ => pp(PASSPORTS[b as usize % PASSPORTS.len()]),
    };
    let new_p = pp(PASSPORTS[b as usize % PASSPORTS.len()]);
    let command = match op % 16 {
        // A second creation is refused: rare, just to show it writes nothing.
        0 if a % 8 == 0 => Command::CreateDelegation {
            id: DelegationId::parse(stream).unwrap(),
            name: text("Random delegation"),
            country: CountryCode::pakistan(),
            arrive: date("2025-06-01"),
            depart: date("2025-06-05"),
            max_companies: u32::from(a % 3) + 1,
            max_delegates_per_company: u32::from(b % 2) + 1,
            passport_validity_months: 6,
        },
        0..=2 => Command::RegisterCompany {
            ntn: ntn(NTNS[a as usize % NTNS.len()]),
            legal_name: text(["Indus Ltd", "Ravi Co", "Kohat Mills"][b as usize % 3]),
            sector: Sector::ALL[b as usize % Sector::ALL.len()],
            city: text("Karachi"),
            contact_email: Email::parse("desk@example.pk").unwrap(),
        },
        3..=5 => Command::ApproveCompany { ntn: n },
        6 => Command::WaitlistCompany { ntn: n },
        7 => Command::RejectCompany {
            ntn: n,
            reason: text("r"),
        },
        8 => Command::WithdrawCompany {
            ntn: n,
            reason: text("w"),
        },
        9..=11 => Command::AddDelegate {
            ntn: n,
            full_name: text("Some Body"),
            passport_no: new_p,
            nationality: CountryCode::pakistan(),
            // Now and then too short-lived to be accepted.
            passport_expiry: if b % 7 == 0 {
                date("2025-08-01")
            } else {
                date("2030-01-01")
            },
            designation: text("Director"),
        },
        12 => Command::RemoveDelegate {
            passport_no: known_p,
        },
        13 | 14 => Command::AssignLeader {
            passport_no: known_p,
        },
        _ if a % 6 == 0 => Command::CloseDelegation,
        _ => Command::AssignLeader {
            passport_no: known_p,
        },
    };
    (stream.to_owned(), command)
}

fn history() -> impl Strategy<Value = (Vec<Recorded>, Vec<usize>)> {
    let creates = prop::collection::vec(any::<(u8, u8)>(), 2);
    let commands = prop::collection::vec(any::<(u8, u8, u8, u8)>(), 0..200);
    let cuts = prop::collection::vec(1usize..12, 0..12);
    (creates, commands, cuts).prop_map(|(creates, commands, cuts)| {
        // Each delegation is created first so that histories get somewhere.
        let creates = creates
            .into_iter()
            .enumerate()
            .map(|(i, (a, b))| (i as u8, 0u8, a & !7, b));
        let mut rec = Recorder::default();
        for (i, c) in creates.chain(commands).enumerate() {
            let (stream, command) = command_of(c, &rec.reg);
            rec.push(&stream, &command, at(i as i64 * 60));
        }
        (rec.log, cuts)
    })
}

#[track_caller]
fn assert_counts_agree(r: &Roster) {
    assert_eq!(r.counts.approved_companies as usize, r.companies.len());
    assert_eq!(
        r.counts.delegates as usize,
        r.companies.iter().map(|c| c.delegates.len()).sum::<usize>()
    );
    assert_eq!(r.counts.waitlisted as usize, r.waitlist.len());
    assert_eq!(
        r.counts.seats_left,
        r.delegation.max_companies - r.counts.approved_companies
    );
    assert!(r
        .companies
        .iter()
        .all(|c| c.status == RegistrationStatus::Approved));
}

fn n_histories() -> u32 {
    if std::env::var_os("EXPO_SLOW_TESTS").is_some() {
        50_000
    } else {
        2_000
    }
}

fn rosters(reg: &Registry) -> Vec<Roster> {
    reg.views().map(|v| roster(v, reg.position())).collect()
}

proptest! {
    // 2,000 histories by default; EXPO_SLOW_TESTS=1 runs 50,000.
    #![proptest_config(ProptestConfig { cases: n_histories(), ..ProptestConfig::default() })]

    /// Folding in one go, in random increments with the state stored and
    /// reloaded in between, and rebuilding from scratch agree, key for key
    /// and roster for roster; as-of folds equal folds of prefixes; counts
    /// agree with lists.
    #[test]
    fn one_go_increments_and_rebuild_agree((log, cuts) in history()) {
        let whole = Registry::fold(&log, None);

        // In increments, reloading the stored state each time.
        let mut mem = MemorySource::default();
        let mut start = 0;
        let mut cuts = cuts.into_iter();
        while start < log.len() {
            let end = (start + cuts.next().unwrap_or(log.len())).min(log.len());
            let mut p = Projector::new(&mem);
            for e in &log[start..end] {
                p.apply(e).unwrap();
            }
            prop_assert_eq!(p.folded(), (end - start) as u64);
            let writes = p.writes();
            mem.apply(writes);
            // The stored state at this checkpoint is the fold of the prefix.
            let prefix = Registry::fold(&log[..end], None);
            prop_assert_eq!(prefix.first_difference(&mem).unwrap(), None);
            start = end;
        }
        prop_assert_eq!(whole.first_difference(&mem).unwrap(), None);

        // A rebuild in bounded memory stores the same bytes, however small
        // its budget (1: every view but the current one goes out and comes
        // back as the two delegations take turns).
        for budget in [1, 3, 20, RESIDENT_BUDGET] {
            let mut built = MemorySource::default();
            let mut rebuild = Rebuild::new(&mut built, budget);
            for e in &log {
                rebuild.apply_owned(e.clone()).unwrap();
            }
            let stats = rebuild.finish().unwrap();
            prop_assert_eq!(stats.folded, whole.folded());
            prop_assert_eq!(stats.position, whole.position());
            prop_assert_eq!(whole.first_difference(&built).unwrap(), None);
        }

        // Rosters from the stored views equal the rebuilt ones.
        let rebuilt = rosters(&whole);
        for r in &rebuilt {
            assert_counts_agree(r);
            let stored = load_view(&mem, r.delegation.id.as_str()).unwrap().unwrap();
            prop_assert_eq!(&roster(&stored, whole.position()), r);
        }
        prop_assert_eq!(load_summaries(&mem).unwrap(), whole.summaries());

        // As of position p (and as of the moment of event p) is the fold of
        // the first p events.
        let mut prefix = Registry::default();
        for p in 0..=log.len() {
            if p > 0 {
                prefix.apply(&log[p - 1]);
            }
            let as_of = Registry::fold(&log, Some(AsOf::Position(p as u64)));
            prop_assert_eq!(&as_of, &prefix);
            prop_assert_eq!(rosters(&as_of), rosters(&prefix));
            for r in rosters(&as_of) {
                assert_counts_agree(&r);
            }
            // Events of one command share a moment, so only a command's
            // last event ends a time prefix.
            if p > 0 && log.get(p).is_none_or(|next| next.recorded_at > log[p - 1].recorded_at) {
                let by_time = Registry::fold(&log, Some(AsOf::Time(log[p - 1].recorded_at)));
                prop_assert_eq!(&by_time, &prefix);
            }
        }
    }
}

// ------------------------------------------------------- scale (slow)

/// A synthetic log of `n_delegations` delegations of 20 approved companies
/// with 2 delegates each, a waitlist of 5 and a leader (about 91 events a
/// delegation), built directly as events: the fold's cost, not the decider's.
fn synthetic_log(n_delegations: usize) -> Vec<Recorded> {
    let mut log = Vec::new();
    for d in 0..n_delegations {
        let stream = format!("pk-synthetic-{d:05}");
        let mut events = vec![Event::DelegationCreated {
            id: DelegationId::parse(&stream).unwrap(),
            name: text("Synthetic delegation"),
            country: CountryCode::pakistan(),
            arrive: date("2025-06-01"),
            depart: date("2025-06-05"),
            max_companies: 20,
            max_delegates_per_company: 3,
            passport_validity_months: 6,
        }];
        for c in 0..25u32 {
            let n = format!("{:07}", 1_000_000 + c);
            events.push(registered(
                &n,
                &format!("Company {c:02} (Pvt) Ltd"),
                Sector::ALL[c as usize % 6],
            ));
            if c < 20 {
                events.push(Event::CompanyApproved { ntn: ntn(&n) });
                for k in 0..2u32 {
                    events.push(added(&n, "Some Body", &format!("PK{:07}", c * 10 + k)));
                }
            } else {
                events.push(Event::CompanyWaitlisted { ntn: ntn(&n) });
            }
        }
        events.push(Event::LeaderAssigned {
            passport_no: pp("PK0000000"),
        });
        for (v, event) in events.into_iter().enumerate() {
            log.push(Recorded {
                position: log.len() as u64 + 1,
                stream: stream.as_str().into(),
                version: v as u64 + 1,
                recorded_at: at(log.len() as i64),
                event,
            });
        }
    }
    log
}

/// Given about 1M events over 11,000 delegations, a full rebuild folds them
/// all, and after storing it a projector handed the next 10 events folds
/// exactly those 10 and touches one delegation. Prints the timings.
#[test]
fn scale_a_million_events_rebuild_then_ten_more() {
    if std::env::var_os("EXPO_SLOW_TESTS").is_none() {
        return;
    }
    let mut log = synthetic_log(11_000);
    let tail: Vec<Recorded> = log.split_off(log.len() - 10);
    let t = std::time::Instant::now();
    let reg = Registry::fold(&log, None);
    let fold_s = t.elapsed().as_secs_f64();
    let t = std::time::Instant::now();
    let mut mem = MemorySource::default();
    mem.entries.extend(reg.entries());
    let encode_s = t.elapsed().as_secs_f64();
    let bytes: usize = mem.entries.values().map(Vec::len).sum();
    let t = std::time::Instant::now();
    let mut p = Projector::new(&mem);
    for e in &tail {
        p.apply(e).unwrap();
    }
    let writes = p.writes();
    let ten_s = t.elapsed().as_secs_f64();
    assert_eq!(p.folded(), 10);
    assert_eq!(writes.len(), 2);
    eprintln!(
        "{} events: fold {fold_s:.2} s ({:.0} events/s), encode {encode_s:.2} s, {} keys, {:.1} MB; 10 more: {:.1} ms",
        log.len(),
        log.len() as f64 / fold_s,
        mem.entries.len(),
        bytes as f64 / 1e6,
        ten_s * 1e3
    );
}

#[test]
fn small_stored_values_are_plain_and_large_ones_compressed_and_both_read_back() {
    // Given the demo's registry, and a summary compressed as an older
    // version stored every value that lz4 made smaller
    let mut registry = Registry::default();
    for e in demo_log() {
        registry.apply(&e);
    }
    let summary = registry.summaries().remove(0);
    let plain = postcard::to_allocvec(&summary).expect("a summary serialises");
    let mut older = vec![1u8];
    older.extend(lz4_flex::block::compress_prepend_size(&plain));
    // When entries are encoded
    for (key, bytes) in registry.entries() {
        // Then a summary is plain, a view of a full delegation compressed
        let expected = if key.starts_with(SUMMARY_PREFIX) {
            0
        } else {
            1
        };
        assert_eq!(bytes[0], expected, "{key}: {} bytes", bytes.len());
    }
    // And both forms read back as the same summary
    let mut mem = MemorySource::default();
    mem.entries.insert(summary_key(summary.id.as_str()), older);
    assert_eq!(
        load_summaries(&mem).expect("the older form reads"),
        vec![summary]
    );
}

#[test]
fn a_creation_in_a_stream_other_than_its_id_is_found() {
    // Given a log whose delegation is created in its own stream
    let mut registry = Registry::default();
    for e in log_of(vec![created(3)]) {
        registry.apply(&e);
    }
    // Then nothing is misplaced
    assert_eq!(registry.misplaced(), None);
    // When another stream holds a creation of delegation d-one
    let mut stray = log_of(vec![created(3)]).remove(0);
    stray.stream = "d-two".into();
    stray.position = 2;
    registry.apply(&stray);
    // Then that stream is named, with the id its creation gave
    let (stream, id) = registry.misplaced().expect("a misplaced creation");
    assert_eq!((stream, id.as_str()), ("d-two", "d-one"));
}
