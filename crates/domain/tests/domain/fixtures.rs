//! Builders for the tests' events and commands: short names for the values every row repeats.

use chrono::NaiveDate;
use expo_domain::event::RemovalCause;
use expo_domain::values::{CountryCode, DelegationId, Email, Ntn, PassportNo, Sector, Text};
use expo_domain::{Command, Event};

/// The delegation every row is about.
pub const D: &str = "pk-textiles-may";

pub fn id() -> DelegationId {
    DelegationId::parse(D).unwrap()
}
pub fn ntn(s: &str) -> Ntn {
    Ntn::parse(s).unwrap()
}
pub fn pass(s: &str) -> PassportNo {
    PassportNo::parse(s).unwrap()
}
pub fn text(s: &str) -> Text {
    Text::parse("text", s, 1, 500).unwrap()
}
pub fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// Arrive 2025-05-10, depart 2025-05-20: passports must be valid until
/// 2025-11-20 with the default 6 months.
pub fn create_with(max_companies: u32, max_delegates: u32, months: u32) -> Command {
    Command::CreateDelegation {
        id: id(),
        name: text("Pakistan textiles, May"),
        country: CountryCode::pakistan(),
        arrive: date("2025-05-10"),
        depart: date("2025-05-20"),
        max_companies,
        max_delegates_per_company: max_delegates,
        passport_validity_months: months,
    }
}
pub fn create() -> Command {
    create_with(20, 3, 6)
}
pub fn created_with(max_companies: u32, max_delegates: u32, months: u32) -> Event {
    let Command::CreateDelegation {
        id,
        name,
        country,
        arrive,
        depart,
        max_companies,
        max_delegates_per_company,
        passport_validity_months,
    } = create_with(max_companies, max_delegates, months)
    else {
        unreachable!()
    };
    Event::DelegationCreated {
        id,
        name,
        country,
        arrive,
        depart,
        max_companies,
        max_delegates_per_company,
        passport_validity_months,
    }
}
pub fn created() -> Event {
    created_with(20, 3, 6)
}

pub fn register(n: &str) -> Command {
    Command::RegisterCompany {
        ntn: ntn(n),
        legal_name: text(&format!("Company {n} (Pvt) Ltd")),
        sector: Sector::Textiles,
        city: text("Faisalabad"),
        contact_email: Email::parse("desk@example.pk").unwrap(),
    }
}
pub fn registered(n: &str) -> Event {
    let Command::RegisterCompany {
        ntn,
        legal_name,
        sector,
        city,
        contact_email,
    } = register(n)
    else {
        unreachable!()
    };
    Event::CompanyRegistered {
        ntn,
        legal_name,
        sector,
        city,
        contact_email,
    }
}
pub fn approve(n: &str) -> Command {
    Command::ApproveCompany { ntn: ntn(n) }
}
pub fn approved(n: &str) -> Event {
    Event::CompanyApproved { ntn: ntn(n) }
}
pub fn waitlist(n: &str) -> Command {
    Command::WaitlistCompany { ntn: ntn(n) }
}
pub fn waitlisted(n: &str) -> Event {
    Event::CompanyWaitlisted { ntn: ntn(n) }
}
pub fn promoted(n: &str) -> Event {
    Event::CompanyPromoted { ntn: ntn(n) }
}
pub fn reject(n: &str) -> Command {
    Command::RejectCompany {
        ntn: ntn(n),
        reason: text("incomplete papers"),
    }
}
pub fn rejected(n: &str) -> Event {
    Event::CompanyRejected {
        ntn: ntn(n),
        reason: text("incomplete papers"),
    }
}
pub fn withdraw(n: &str) -> Command {
    Command::WithdrawCompany {
        ntn: ntn(n),
        reason: text("cannot travel"),
    }
}
pub fn withdrawn(n: &str) -> Event {
    Event::CompanyWithdrawn {
        ntn: ntn(n),
        reason: text("cannot travel"),
    }
}
pub fn add_expiring(n: &str, p: &str, expiry: &str) -> Command {
    Command::AddDelegate {
        ntn: ntn(n),
        full_name: text(&format!("Traveller {p}")),
        passport_no: pass(p),
        nationality: CountryCode::pakistan(),
        passport_expiry: date(expiry),
        designation: text("Director"),
    }
}
pub fn add(n: &str, p: &str) -> Command {
    add_expiring(n, p, "2030-01-01")
}
pub fn added(n: &str, p: &str) -> Event {
    let Command::AddDelegate {
        ntn,
        full_name,
        passport_no,
        nationality,
        passport_expiry,
        designation,
    } = add(n, p)
    else {
        unreachable!()
    };
    Event::DelegateAdded {
        ntn,
        full_name,
        passport_no,
        nationality,
        passport_expiry,
        designation,
    }
}
pub fn remove(p: &str) -> Command {
    Command::RemoveDelegate {
        passport_no: pass(p),
    }
}
pub fn removed(n: &str, p: &str, cause: RemovalCause) -> Event {
    Event::DelegateRemoved {
        ntn: ntn(n),
        passport_no: pass(p),
        cause,
    }
}
pub fn lead(p: &str) -> Command {
    Command::AssignLeader {
        passport_no: pass(p),
    }
}
pub fn led(p: &str) -> Event {
    Event::LeaderAssigned {
        passport_no: pass(p),
    }
}
pub fn unled(p: &str) -> Event {
    Event::LeaderUnassigned {
        passport_no: pass(p),
    }
}
pub fn close() -> Command {
    Command::CloseDelegation
}
pub fn closed() -> Event {
    Event::DelegationClosed {}
}

/// One of every event type, in `Event::TYPES` order.
pub fn one_of_each_event() -> Vec<Event> {
    vec![
        created(),
        registered("1234567"),
        approved("1234567"),
        waitlisted("1234567-8"),
        promoted("1234567-8"),
        rejected("7654321"),
        withdrawn("1234567"),
        added("1234567", "AB1234567"),
        removed("1234567", "AB1234567", RemovalCause::CompanyWithdrawn),
        led("AB1234567"),
        unled("AB1234567"),
        closed(),
    ]
}
