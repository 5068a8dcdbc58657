//! Every rule of the spec as given / when / then rows through one `check` helper: a new rule is a new row.

use crate::fixtures::*;
use expo_domain::event::RemovalCause::{CompanyRejected, CompanyWithdrawn, Removed};
use expo_domain::state::RegistrationStatus::{
    Approved, Rejected, Submitted, Waitlisted, Withdrawn,
};
use expo_domain::values::{CountryCode, ValueError};
use expo_domain::{decide, evolve, fold, Command, DomainError, Event};

/// Given the events so far, when the command is decided, then it yields
/// exactly `then`. Accepted events must also fold without disturbing the
/// state they do not touch (the state is rebuilt and compared to a fold).
#[track_caller]
fn check(given: &[Event], when: Command, then: Result<Vec<Event>, DomainError>) {
    let state = fold(given);
    let got = decide(&when, &state);
    assert_eq!(got, then, "when {when:?}");
    if let Ok(events) = got {
        let after = events.iter().fold(state, evolve);
        let all: Vec<Event> = given.iter().chain(&events).cloned().collect();
        assert_eq!(after, fold(&all));
    }
}

/// The events of a delegation with companies 1111111 (approved, delegates
/// AA111111 and AA222222, the first leading) and 2222222 (submitted).
fn staffed() -> Vec<Event> {
    vec![
        created(),
        registered("1111111"),
        approved("1111111"),
        added("1111111", "AA111111"),
        added("1111111", "AA222222"),
        led("AA111111"),
        registered("2222222"),
    ]
}

fn with(mut base: Vec<Event>, more: impl IntoIterator<Item = Event>) -> Vec<Event> {
    base.extend(more);
    base
}

fn full_of(cap: u32) -> Vec<Event> {
    let mut e = vec![created_with(cap, 3, 6)];
    for i in 0..cap {
        let n = format!("{:07}", 1000000 + i);
        e.push(registered(&n));
        e.push(approved(&n));
    }
    e
}

#[test]
fn creating() {
    check(&[], create(), Ok(vec![created()]));
    check(
        &[created()],
        create(),
        Err(DomainError::DelegationExists { delegation: id() }),
    );
    // Arrive on the day of departure is fine; departing first is not.
    let mut same_day = create();
    let mut backwards = create();
    if let (
        Command::CreateDelegation {
            arrive: a1,
            depart: d1,
            ..
        },
        Command::CreateDelegation {
            arrive: a2,
            depart: d2,
            ..
        },
    ) = (&mut same_day, &mut backwards)
    {
        *a1 = date("2025-05-20");
        *d1 = date("2025-05-20");
        *a2 = date("2025-05-21");
        *d2 = date("2025-05-20");
    }
    check(
        &[],
        same_day.clone(),
        Ok(decide(&same_day, &fold(&[])).unwrap()),
    );
    check(
        &[],
        backwards,
        Err(DomainError::DepartBeforeArrive {
            delegation: id(),
            arrive: date("2025-05-21"),
            depart: date("2025-05-20"),
        }),
    );
    // Limits at their edges, then one beyond.
    check(&[], create_with(1, 1, 0), Ok(vec![created_with(1, 1, 0)]));
    check(
        &[],
        create_with(500, 20, 24),
        Ok(vec![created_with(500, 20, 24)]),
    );
    let range = |field: &'static str, min, max, value| {
        Err(DomainError::Value(ValueError::Range {
            field,
            min,
            max,
            value,
        }))
    };
    check(&[], create_with(0, 3, 6), range("max companies", 1, 500, 0));
    check(
        &[],
        create_with(501, 3, 6),
        range("max companies", 1, 500, 501),
    );
    check(
        &[],
        create_with(20, 0, 6),
        range("max delegates per company", 1, 20, 0),
    );
    check(
        &[],
        create_with(20, 21, 6),
        range("max delegates per company", 1, 20, 21),
    );
    check(
        &[],
        create_with(20, 3, 25),
        range("passport validity months", 0, 24, 25),
    );
}

#[test]
fn creating_outside_the_expo_window_is_refused() {
    for (arrive, depart, field, bad) in [
        ("2025-04-12", "2025-05-01", "arrive", "2025-04-12"),
        ("2025-10-01", "2025-10-14", "depart", "2025-10-14"),
    ] {
        let mut cmd = create();
        if let Command::CreateDelegation {
            arrive: a,
            depart: d,
            ..
        } = &mut cmd
        {
            *a = date(arrive);
            *d = date(depart);
        }
        check(
            &[],
            cmd,
            Err(DomainError::Value(ValueError::OutsideExpo {
                field,
                date: date(bad),
            })),
        );
    }
    let mut edges = create();
    if let Command::CreateDelegation { arrive, depart, .. } = &mut edges {
        *arrive = date("2025-04-13");
        *depart = date("2025-10-13");
    }
    let events = decide(&edges, &fold(&[])).unwrap();
    check(&[], edges, Ok(events));
}

#[test]
fn text_limits_are_checked_again_by_decide() {
    let long = text(&"x".repeat(201));
    let mut cmd = create();
    if let Command::CreateDelegation { name, .. } = &mut cmd {
        *name = long.clone();
    }
    let too_long = |field| {
        Err(DomainError::Value(ValueError::TextLength {
            field,
            min: 1,
            max: 200,
            len: 201,
        }))
    };
    check(&[], cmd, too_long("delegation name"));
    let mut reg = register("1234567");
    if let Command::RegisterCompany { legal_name, .. } = &mut reg {
        *legal_name = long;
    }
    check(&[created()], reg, too_long("legal name"));
}

#[test]
fn commands_need_an_existing_delegation() {
    for (cmd, action) in [
        (register("1234567"), "register company"),
        (approve("1234567"), "approve company"),
        (add("1234567", "AB1234567"), "add delegate"),
        (lead("AB1234567"), "assign leader"),
        (close(), "close delegation"),
    ] {
        check(&[], cmd, Err(DomainError::DelegationNotFound { action }));
    }
}

#[test]
fn registering() {
    check(
        &[created()],
        register("1234567"),
        Ok(vec![registered("1234567")]),
    );
    // The check-digit form is a different NTN.
    check(
        &[created(), registered("1234567")],
        register("1234567-8"),
        Ok(vec![registered("1234567-8")]),
    );
    for status_events in [
        vec![],
        vec![approved("1234567")],
        vec![waitlisted("1234567")],
    ] {
        let given = with(
            vec![created(), registered("1234567")],
            status_events.clone(),
        );
        let status = fold(&given).registration(&ntn("1234567")).unwrap().status;
        check(
            &given,
            register("1234567"),
            Err(DomainError::AlreadyRegistered {
                delegation: id(),
                ntn: ntn("1234567"),
                status,
            }),
        );
    }
    // Re-registration after a final status starts a new registration.
    for end in [rejected("1234567"), withdrawn("1234567")] {
        let given = vec![created(), registered("1234567"), end];
        check(&given, register("1234567"), Ok(vec![registered("1234567")]));
    }
}

#[test]
fn re_registration_keeps_history() {
    let given = vec![
        created(),
        registered("1234567"),
        rejected("1234567"),
        registered("1234567"),
        approved("1234567"),
    ];
    let state = fold(&given);
    let history: Vec<_> = state.registrations().iter().map(|r| r.status).collect();
    assert_eq!(history, [Rejected, Approved]);
    assert_eq!(
        state.registration(&ntn("1234567")).unwrap().status,
        Approved
    );
}

#[test]
fn approving() {
    let base = vec![created(), registered("1234567")];
    check(&base, approve("1234567"), Ok(vec![approved("1234567")]));
    check(
        &with(base.clone(), [waitlisted("1234567")]),
        approve("1234567"),
        Ok(vec![approved("1234567")]),
    );
    check(
        &with(base.clone(), [approved("1234567")]),
        approve("1234567"),
        Err(DomainError::TransitionNotAllowed {
            delegation: id(),
            ntn: ntn("1234567"),
            action: "approve",
            done: "approved",
            status: Approved,
            allowed: "submitted or waitlisted",
        }),
    );
    check(
        &[created()],
        approve("1234567"),
        Err(DomainError::NotRegistered {
            delegation: id(),
            ntn: ntn("1234567"),
        }),
    );
    check(
        &with(base.clone(), [rejected("1234567")]),
        approve("1234567"),
        Err(DomainError::RegistrationEnded {
            delegation: id(),
            ntn: ntn("1234567"),
            status: Rejected,
        }),
    );
    check(
        &with(base, [withdrawn("1234567")]),
        approve("1234567"),
        Err(DomainError::RegistrationEnded {
            delegation: id(),
            ntn: ntn("1234567"),
            status: Withdrawn,
        }),
    );
}

#[test]
fn approving_respects_the_cap() {
    // One seat below the cap: accepted.
    let mut almost = full_of(20);
    almost.truncate(almost.len() - 1);
    check(&almost, approve("1000019"), Ok(vec![approved("1000019")]));
    // At the cap: refused with the numbers, whether submitted or waitlisted.
    let full = with(full_of(20), [registered("7777777")]);
    let refusal = Err(DomainError::DelegationFull {
        delegation: id(),
        ntn: ntn("7777777"),
        approved: 20,
        max_companies: 20,
    });
    check(&full, approve("7777777"), refusal.clone());
    check(
        &with(full.clone(), [waitlisted("7777777")]),
        approve("7777777"),
        refusal,
    );
    // ... and waitlisting is the way out.
    check(&full, waitlist("7777777"), Ok(vec![waitlisted("7777777")]));
    // A withdrawn approved company frees its seat.
    let freed = with(full, [withdrawn("1000000")]);
    check(&freed, approve("7777777"), Ok(vec![approved("7777777")]));
}

#[test]
fn waitlisting() {
    let base = vec![created(), registered("1234567")];
    check(&base, waitlist("1234567"), Ok(vec![waitlisted("1234567")]));
    for (given, status) in [
        (approved("1234567"), Approved),
        (waitlisted("1234567"), Waitlisted),
    ] {
        check(
            &with(base.clone(), [given]),
            waitlist("1234567"),
            Err(DomainError::TransitionNotAllowed {
                delegation: id(),
                ntn: ntn("1234567"),
                action: "waitlist",
                done: "waitlisted",
                status,
                allowed: "submitted",
            }),
        );
    }
    check(
        &[created()],
        waitlist("1234567"),
        Err(DomainError::NotRegistered {
            delegation: id(),
            ntn: ntn("1234567"),
        }),
    );
}

#[test]
fn waitlist_order_is_the_order_of_waitlisting() {
    let given = vec![
        created(),
        registered("3333333"),
        registered("1111111"),
        registered("2222222"),
        waitlisted("2222222"),
        waitlisted("3333333"),
        waitlisted("1111111"),
        approved("3333333"),
    ];
    let state = fold(&given);
    let order: Vec<_> = state.waitlist().map(|r| r.ntn.to_string()).collect();
    assert_eq!(order, ["2222222", "1111111"]);
}

#[test]
fn rejecting() {
    let base = vec![created(), registered("1234567")];
    check(&base, reject("1234567"), Ok(vec![rejected("1234567")]));
    check(
        &with(base.clone(), [waitlisted("1234567")]),
        reject("1234567"),
        Ok(vec![rejected("1234567")]),
    );
    check(
        &with(base.clone(), [approved("1234567")]),
        reject("1234567"),
        Err(DomainError::TransitionNotAllowed {
            delegation: id(),
            ntn: ntn("1234567"),
            action: "reject",
            done: "rejected",
            status: Approved,
            allowed: "submitted or waitlisted",
        }),
    );
    check(
        &with(base.clone(), [rejected("1234567")]),
        reject("1234567"),
        Err(DomainError::RegistrationEnded {
            delegation: id(),
            ntn: ntn("1234567"),
            status: Rejected,
        }),
    );
    // Its delegates leave with it, in the order they were added.
    check(
        &with(
            base,
            [added("1234567", "BB111111"), added("1234567", "BB222222")],
        ),
        reject("1234567"),
        Ok(vec![
            rejected("1234567"),
            removed("1234567", "BB111111", CompanyRejected),
            removed("1234567", "BB222222", CompanyRejected),
        ]),
    );
}

#[test]
fn withdrawing() {
    let base = vec![created(), registered("1234567")];
    for status in [
        vec![],
        vec![approved("1234567")],
        vec![waitlisted("1234567")],
    ] {
        check(
            &with(base.clone(), status),
            withdraw("1234567"),
            Ok(vec![withdrawn("1234567")]),
        );
    }
    check(
        &with(base, [withdrawn("1234567")]),
        withdraw("1234567"),
        Err(DomainError::RegistrationEnded {
            delegation: id(),
            ntn: ntn("1234567"),
            status: Withdrawn,
        }),
    );
    check(
        &[created()],
        withdraw("1234567"),
        Err(DomainError::NotRegistered {
            delegation: id(),
            ntn: ntn("1234567"),
        }),
    );
}

#[test]
fn withdrawing_the_leaders_company_removes_delegates_and_leader() {
    check(
        &staffed(),
        withdraw("1111111"),
        Ok(vec![
            withdrawn("1111111"),
            removed("1111111", "AA111111", CompanyWithdrawn),
            removed("1111111", "AA222222", CompanyWithdrawn),
            unled("AA111111"),
        ]),
    );
    // Another company's withdrawal leaves the leader alone.
    check(
        &with(staffed(), [added("2222222", "CC111111")]),
        withdraw("2222222"),
        Ok(vec![
            withdrawn("2222222"),
            removed("2222222", "CC111111", CompanyWithdrawn),
        ]),
    );
}

#[test]
fn an_approved_company_withdrawing_promotes_the_first_waitlisted() {
    let given = with(
        full_of(2),
        [
            registered("8888888"),
            registered("9999999"),
            waitlisted("9999999"),
            waitlisted("8888888"),
        ],
    );
    check(
        &given,
        withdraw("1000001"),
        Ok(vec![withdrawn("1000001"), promoted("9999999")]),
    );
    let after = fold(&with(
        given.clone(),
        [withdrawn("1000001"), promoted("9999999")],
    ));
    assert_eq!(
        after.registration(&ntn("9999999")).unwrap().status,
        Approved
    );
    let rest: Vec<_> = after.waitlist().map(|r| r.ntn.to_string()).collect();
    assert_eq!(rest, ["8888888"]);
    // A submitted or waitlisted company withdrawing frees no seat: no promotion.
    check(&given, withdraw("8888888"), Ok(vec![withdrawn("8888888")]));
    // No one waitlisted: no promotion.
    check(
        &full_of(2),
        withdraw("1000000"),
        Ok(vec![withdrawn("1000000")]),
    );
}

#[test]
fn adding_delegates() {
    let base = vec![created(), registered("1234567")];
    for status in [
        vec![],
        vec![approved("1234567")],
        vec![waitlisted("1234567")],
    ] {
        check(
            &with(base.clone(), status),
            add("1234567", "AB1234567"),
            Ok(vec![added("1234567", "AB1234567")]),
        );
    }
    for (end, status) in [
        (rejected("1234567"), Rejected),
        (withdrawn("1234567"), Withdrawn),
    ] {
        check(
            &with(base.clone(), [end]),
            add("1234567", "AB1234567"),
            Err(DomainError::RegistrationEnded {
                delegation: id(),
                ntn: ntn("1234567"),
                status,
            }),
        );
    }
    check(
        &[created()],
        add("1234567", "AB1234567"),
        Err(DomainError::NotRegistered {
            delegation: id(),
            ntn: ntn("1234567"),
        }),
    );
}

#[test]
fn delegates_per_company_are_capped() {
    let base = vec![
        created_with(20, 2, 6),
        registered("1234567"),
        added("1234567", "AB000001"),
    ];
    check(
        &base,
        add("1234567", "AB000002"),
        Ok(vec![added("1234567", "AB000002")]),
    );
    let full = with(base, [added("1234567", "AB000002")]);
    check(
        &full,
        add("1234567", "AB000003"),
        Err(DomainError::TooManyDelegates {
            delegation: id(),
            ntn: ntn("1234567"),
            delegates: 2,
            max_delegates: 2,
        }),
    );
    // Removing one makes room again.
    let room = with(full, [removed("1234567", "AB000001", Removed)]);
    check(
        &room,
        add("1234567", "AB000003"),
        Ok(vec![added("1234567", "AB000003")]),
    );
}

#[test]
fn passports_are_unique_among_current_delegates() {
    let given = with(staffed(), []);
    // The same passport for another company, or for the same one.
    for n in ["2222222", "1111111"] {
        check(
            &given,
            add(n, "AA222222"),
            Err(DomainError::PassportInUse {
                delegation: id(),
                passport_no: pass("AA222222"),
                holder_ntn: ntn("1111111"),
            }),
        );
    }
    // Upper-casing makes a lower-case entry the same passport.
    check(
        &given,
        add("2222222", "aa222222"),
        Err(DomainError::PassportInUse {
            delegation: id(),
            passport_no: pass("AA222222"),
            holder_ntn: ntn("1111111"),
        }),
    );
    // Once removed, the passport can come back (here with another company).
    let gone = with(given, [removed("1111111", "AA222222", Removed)]);
    check(
        &gone,
        add("2222222", "AA222222"),
        Ok(vec![added("2222222", "AA222222")]),
    );
}

#[test]
fn passport_must_be_valid_months_after_departure() {
    let base = vec![created(), registered("1234567")];
    // Depart 2025-05-20 + 6 months = 2025-11-20: that day is enough.
    check(
        &base,
        add_expiring("1234567", "AB1234567", "2025-11-20"),
        Ok(decide(
            &add_expiring("1234567", "AB1234567", "2025-11-20"),
            &fold(&base),
        )
        .unwrap()),
    );
    check(
        &base,
        add_expiring("1234567", "AB1234567", "2025-11-19"),
        Err(DomainError::PassportExpiresTooSoon {
            delegation: id(),
            passport_no: pass("AB1234567"),
            passport_expiry: date("2025-11-19"),
            valid_until: date("2025-11-20"),
            depart: date("2025-05-20"),
            months: 6,
        }),
    );
    // With 0 months, valid on the day of departure is enough.
    let zero = vec![created_with(20, 3, 0), registered("1234567")];
    let on_depart = add_expiring("1234567", "AB1234567", "2025-05-20");
    check(
        &zero,
        on_depart.clone(),
        Ok(decide(&on_depart, &fold(&zero)).unwrap()),
    );
    check(
        &zero,
        add_expiring("1234567", "AB1234567", "2025-05-19"),
        Err(DomainError::PassportExpiresTooSoon {
            delegation: id(),
            passport_no: pass("AB1234567"),
            passport_expiry: date("2025-05-19"),
            valid_until: date("2025-05-20"),
            depart: date("2025-05-20"),
            months: 0,
        }),
    );
}

#[test]
fn removing_delegates() {
    check(
        &staffed(),
        remove("AA222222"),
        Ok(vec![removed("1111111", "AA222222", Removed)]),
    );
    // Removing the leader also removes the leadership.
    check(
        &staffed(),
        remove("AA111111"),
        Ok(vec![
            removed("1111111", "AA111111", Removed),
            unled("AA111111"),
        ]),
    );
    check(
        &staffed(),
        remove("ZZ999999"),
        Err(DomainError::DelegateNotFound {
            delegation: id(),
            passport_no: pass("ZZ999999"),
        }),
    );
    check(
        &with(staffed(), [removed("1111111", "AA222222", Removed)]),
        remove("AA222222"),
        Err(DomainError::DelegateNotFound {
            delegation: id(),
            passport_no: pass("AA222222"),
        }),
    );
}

#[test]
fn assigning_the_leader() {
    // Replacing the leader is one LeaderAssigned.
    check(&staffed(), lead("AA222222"), Ok(vec![led("AA222222")]));
    check(
        &staffed(),
        lead("AA111111"),
        Err(DomainError::AlreadyLeader {
            delegation: id(),
            passport_no: pass("AA111111"),
        }),
    );
    check(
        &staffed(),
        lead("ZZ999999"),
        Err(DomainError::DelegateNotFound {
            delegation: id(),
            passport_no: pass("ZZ999999"),
        }),
    );
    for (status_event, status) in [(None, Submitted), (Some(waitlisted("2222222")), Waitlisted)] {
        let given = with(
            with(staffed(), status_event),
            [added("2222222", "CC111111")],
        );
        check(
            &given,
            lead("CC111111"),
            Err(DomainError::LeaderNotApproved {
                delegation: id(),
                passport_no: pass("CC111111"),
                ntn: ntn("2222222"),
                status,
            }),
        );
    }
    // A delegate of a company approved from the waitlist can lead.
    let given = with(
        staffed(),
        [
            waitlisted("2222222"),
            added("2222222", "CC111111"),
            approved("2222222"),
        ],
    );
    check(&given, lead("CC111111"), Ok(vec![led("CC111111")]));
    // A removed delegate cannot.
    check(
        &with(staffed(), [removed("1111111", "AA222222", Removed)]),
        lead("AA222222"),
        Err(DomainError::DelegateNotFound {
            delegation: id(),
            passport_no: pass("AA222222"),
        }),
    );
}

#[test]
fn closing() {
    check(&staffed(), close(), Ok(vec![closed()]));
    check(
        &[created(), registered("1234567")],
        close(),
        Err(DomainError::CloseWithoutApprovedCompany { delegation: id() }),
    );
    check(
        &[created(), registered("1234567"), approved("1234567")],
        close(),
        Err(DomainError::CloseWithoutLeader { delegation: id() }),
    );
    check(
        &with(
            staffed(),
            [removed("1111111", "AA111111", Removed), unled("AA111111")],
        ),
        close(),
        Err(DomainError::CloseWithoutLeader { delegation: id() }),
    );
}

#[test]
fn a_closed_delegation_refuses_everything() {
    let given = with(staffed(), [closed()]);
    for cmd in [
        create(),
        register("3333333"),
        approve("2222222"),
        waitlist("2222222"),
        reject("2222222"),
        withdraw("1111111"),
        add("1111111", "DD111111"),
        remove("AA222222"),
        lead("AA222222"),
        close(),
    ] {
        let action = cmd.verb();
        check(
            &given,
            cmd,
            Err(DomainError::DelegationClosed {
                delegation: id(),
                action,
            }),
        );
    }
}

#[test]
fn state_accessors_follow_the_events() {
    let state = fold(&staffed());
    assert_eq!(state.delegation().unwrap().id, id());
    assert!(!state.is_closed());
    assert_eq!(state.n_events(), 7);
    assert_eq!(state.n_approved(), 1);
    assert_eq!(state.seats_left(), 19);
    assert_eq!(state.n_delegates(), 2);
    assert_eq!(state.leader(), Some(&pass("AA111111")));
    let (company, delegate) = state.leader_delegate().unwrap();
    assert_eq!(
        (company.ntn.as_str(), delegate.designation.as_str()),
        ("1111111", "Director")
    );
    assert_eq!(
        state.registration(&ntn("2222222")).unwrap().status,
        Submitted
    );
    assert!(state.delegate(&pass("ZZ999999")).is_none());
    let closed_state = fold(&with(staffed(), [closed()]));
    assert!(closed_state.is_closed());
    assert_eq!(closed_state.status().unwrap().as_str(), "closed");
}

#[test]
fn messages_name_the_rule_and_the_values() {
    let cases: Vec<(DomainError, &str)> = vec![
        (
            DomainError::DelegationFull {
                delegation: id(),
                ntn: ntn("1234567"),
                approved: 20,
                max_companies: 20,
            },
            "delegation pk-textiles-may is full: 20 of 20 companies approved; waitlist the company instead",
        ),
        (
            DomainError::NotRegistered { delegation: id(), ntn: ntn("1234567") },
            "company 1234567 is not registered in delegation pk-textiles-may",
        ),
        (
            DomainError::DelegationClosed { delegation: id(), action: "approve company" },
            "delegation pk-textiles-may is closed: nothing can change any more (refused: approve company)",
        ),
        (
            DomainError::PassportExpiresTooSoon {
                delegation: id(),
                passport_no: pass("AB1234567"),
                passport_expiry: date("2025-11-19"),
                valid_until: date("2025-11-20"),
                depart: date("2025-05-20"),
                months: 6,
            },
            "passport AB1234567 expires on 2025-11-19, but delegation pk-textiles-may needs it valid \
             until at least 2025-11-20 (6 months after departure on 2025-05-20)",
        ),
        (
            DomainError::TransitionNotAllowed {
                delegation: id(),
                ntn: ntn("1234567"),
                action: "reject",
                done: "rejected",
                status: Approved,
                allowed: "submitted or waitlisted",
            },
            "cannot reject company 1234567 in delegation pk-textiles-may: it is approved; only a \
             submitted or waitlisted company can be rejected",
        ),
        (
            DomainError::Value(ValueError::Country("XX".into())),
            "invalid country code \"XX\": use an ISO 3166-1 alpha-2 code such as PK or JP",
        ),
    ];
    for (error, message) in cases {
        assert_eq!(error.to_string(), message);
    }
}

#[test]
fn nationality_is_recorded_as_given() {
    let mut cmd = add("1234567", "AB1234567");
    if let Command::AddDelegate { nationality, .. } = &mut cmd {
        *nationality = CountryCode::parse("jp").unwrap();
    }
    let given = vec![created(), registered("1234567")];
    let events = decide(&cmd, &fold(&given)).unwrap();
    let state = fold(&with(given, events));
    let (_, d) = state.delegate(&pass("AB1234567")).unwrap();
    assert_eq!(d.nationality.as_str(), "JP");
}
