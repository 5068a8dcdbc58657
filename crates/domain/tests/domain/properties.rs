//! Property tests: random command sequences over small pools of NTNs and passports, so rules collide, and the invariants on every state reached.

use crate::fixtures::*;
use expo_domain::state::RegistrationStatus;
use expo_domain::{decide, evolve, fold, Command, DomainError, Event, State};
use proptest::prelude::*;
use std::collections::BTreeSet;

const NTNS: [&str; 4] = ["1111111", "2222222", "3333333", "4444444-5"];
const PASSPORTS: [&str; 6] = [
    "AA111111", "AA222222", "BB333333", "BB444444", "CC555555", "CC666666",
];
/// Expiry dates around the limits: some too soon for any delegation here.
const EXPIRIES: [&str; 5] = [
    "2025-10-20",
    "2025-12-31",
    "2026-06-01",
    "2028-03-01",
    "2030-01-01",
];
/// Arrive / depart pairs, one of them backwards.
const TRIPS: [(&str, &str); 4] = [
    ("2025-05-10", "2025-05-20"),
    ("2025-04-13", "2025-04-13"),
    ("2025-09-01", "2025-10-13"),
    ("2025-06-10", "2025-06-01"),
];

fn create_cmd(cap: u32, per: u32, months: u32, trip: usize) -> Command {
    let mut cmd = create_with(cap, per, months);
    if let Command::CreateDelegation { arrive, depart, .. } = &mut cmd {
        *arrive = date(TRIPS[trip].0);
        *depart = date(TRIPS[trip].1);
    }
    cmd
}

fn a_create() -> impl Strategy<Value = Command> {
    // Caps of 0 and 4 delegates exercise the range refusals now and then.
    (0u32..5, 0u32..4, 0u32..13, 0..TRIPS.len())
        .prop_map(|(cap, per, months, trip)| create_cmd(cap, per, months, trip))
}

fn a_command() -> impl Strategy<Value = Command> {
    let n = || (0..NTNS.len()).prop_map(|i| NTNS[i]);
    let p = || (0..PASSPORTS.len()).prop_map(|i| PASSPORTS[i]);
    prop_oneof![
        1 => a_create(),
        6 => n().prop_map(register),
        5 => n().prop_map(approve),
        2 => n().prop_map(waitlist),
        1 => n().prop_map(reject),
        2 => n().prop_map(withdraw),
        6 => (n(), p(), 0..EXPIRIES.len()).prop_map(|(n, p, e)| add_expiring(n, p, EXPIRIES[e])),
        1 => p().prop_map(remove),
        5 => p().prop_map(lead),
        1 => Just(close()),
    ]
}

/// Mostly a valid create first, then a mix of everything.
fn a_sequence() -> impl Strategy<Value = Vec<Command>> {
    (
        prop_oneof![9 => (1u32..4, 1u32..4, 0u32..8, 0usize..3).prop_map(|(c, p, m, t)| create_cmd(c, p, m, t)), 1 => a_create()],
        prop::collection::vec(a_command(), 20..40),
    )
        .prop_map(|(first, mut rest)| {
            rest.insert(0, first);
            rest
        })
}

/// The rules that must hold on every state reached by accepted commands.
fn assert_invariants(state: &State) {
    let Some(d) = state.delegation() else {
        // Only a create is accepted without a delegation, so nothing was folded.
        assert_eq!(state, &State::default());
        return;
    };
    assert!(
        state.n_approved() <= d.max_companies,
        "approved over the cap"
    );
    let mut passports = BTreeSet::new();
    let mut active_ntns = BTreeSet::new();
    for r in state.registrations() {
        if r.status.is_active() {
            assert!(
                active_ntns.insert(&r.ntn),
                "two active registrations of {}",
                r.ntn
            );
            assert_eq!(state.registration(&r.ntn), Some(r));
        } else {
            assert!(
                r.delegates.is_empty(),
                "delegates left on a {} company",
                r.status
            );
        }
        assert!(r.delegates.len() <= d.max_delegates_per_company as usize);
        for delegate in &r.delegates {
            assert!(passports.insert(&delegate.passport_no), "passport twice");
            let (holder, _) = state.delegate(&delegate.passport_no).expect("indexed");
            assert_eq!(holder.ntn, r.ntn);
        }
    }
    assert_eq!(passports.len(), state.n_delegates());
    if let Some(leader) = state.leader() {
        let (company, _) = state
            .delegate(leader)
            .expect("leader is a current delegate");
        assert_eq!(
            company.status,
            RegistrationStatus::Approved,
            "leader's company not approved"
        );
    }
    let waitlisted: Vec<_> = state
        .registrations()
        .iter()
        .filter(|r| r.status == RegistrationStatus::Waitlisted)
        .map(|r| &r.ntn)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut in_waitlist: Vec<_> = state.waitlist().map(|r| &r.ntn).collect();
    assert_eq!(in_waitlist.len(), waitlisted.len(), "waitlist out of step");
    in_waitlist.sort();
    assert_eq!(in_waitlist, waitlisted);
}

fn assert_stored_format_round_trips(event: &Event) {
    let json = serde_json::to_string(event).unwrap();
    assert_eq!(&serde_json::from_str::<Event>(&json).unwrap(), event);
    let back = Event::from_parts(event.type_name(), event.schema(), event.data_json());
    assert_eq!(back.as_ref(), Ok(event));
}

fn run(commands: &[Command]) -> (usize, usize) {
    let mut state = State::default();
    let mut log: Vec<Event> = Vec::new();
    let mut accepted = 0;
    for command in commands {
        let was_closed = state.is_closed();
        match decide(command, &state) {
            Ok(events) => {
                assert!(!was_closed, "{command:?} accepted after close");
                assert!(!events.is_empty(), "{command:?} accepted with no event");
                accepted += 1;
                for event in &events {
                    assert_stored_format_round_trips(event);
                    state = evolve(state, event);
                }
                log.extend(events);
                assert_invariants(&state);
            }
            Err(e) => {
                if was_closed {
                    assert!(matches!(e, DomainError::DelegationClosed { .. }), "{e}");
                }
                // Every refusal is printable and names something.
                assert!(!e.to_string().is_empty());
            }
        }
    }
    assert_eq!(fold(&log), state, "folding the log gives the state");
    assert_eq!(fold(&log), fold(&log), "folding is deterministic");
    (accepted, log.len())
}

fn cases() -> u32 {
    // The default run stays quick; EXPO_SLOW_TESTS=1 runs ten times as many.
    if std::env::var_os("EXPO_SLOW_TESTS").is_some_and(|v| v == "1") {
        100_000
    } else {
        10_000
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn invariants_hold_on_every_accepted_state(commands in a_sequence()) {
        run(&commands);
    }
}

/// Guards the generator: the sequences must reach the interesting states,
/// or the property above proves little.
#[test]
fn sequences_reach_full_waitlisted_led_and_closed_states() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]);
    let mut runner = TestRunner::new_with_rng(Config::default(), rng);
    let (mut full, mut promoted, mut led, mut closed, mut accepted, mut total) = (0, 0, 0, 0, 0, 0);
    for _ in 0..2_000 {
        let commands = a_sequence().new_tree(&mut runner).unwrap().current();
        total += commands.len();
        accepted += run(&commands).0;
        let mut state = State::default();
        for c in &commands {
            if let Ok(events) = decide(c, &state) {
                promoted += events
                    .iter()
                    .filter(|e| e.type_name() == "CompanyPromoted")
                    .count();
                state = events.iter().fold(state, evolve);
                if state.delegation().is_some_and(|_| state.seats_left() == 0) {
                    full += 1;
                }
            }
        }
        led += usize::from(state.leader().is_some());
        closed += usize::from(state.is_closed());
    }
    eprintln!("accepted {accepted} of {total}; full {full}, promoted {promoted}, led {led}, closed {closed}");
    assert!(
        accepted * 4 > total,
        "only {accepted} of {total} commands accepted"
    );
    assert!(
        full > 1_000 && promoted > 20 && led > 100 && closed > 20,
        "full {full}, promoted {promoted}, led {led}, closed {closed}"
    );
}
