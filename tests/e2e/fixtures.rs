//! Realistic sample data built through the CLI itself, shared by the tests.

use crate::harness::Store;

/// The delegation most tests use.
pub const D: &str = "pk-textiles-may";

/// A company of the sample: NTN, legal name, sector, city.
pub struct Company {
    pub ntn: &'static str,
    pub legal_name: &'static str,
    pub sector: &'static str,
    pub city: &'static str,
}

/// Lahore Looms: approved, two delegates, one of them the leader.
pub const LOOMS: Company = Company {
    ntn: "1234567",
    legal_name: "Lahore Looms (Pvt) Ltd",
    sector: "textiles",
    city: "Lahore",
};
/// Karachi Steel Works: approved, one delegate.
pub const STEEL: Company = Company {
    ntn: "2345678-9",
    legal_name: "Karachi Steel Works",
    sector: "steel",
    city: "Karachi",
};
/// Faisalabad Fabrics: waitlisted.
pub const FABRICS: Company = Company {
    ntn: "3456789",
    legal_name: "Faisalabad Fabrics",
    sector: "textiles",
    city: "Faisalabad",
};
/// Sialkot Instruments: submitted, not yet decided.
pub const SIALKOT: Company = Company {
    ntn: "4567890",
    legal_name: "Sialkot Instruments",
    sector: "machinery",
    city: "Sialkot",
};
/// Quetta Minerals: rejected.
pub const QUETTA: Company = Company {
    ntn: "5678901",
    legal_name: "Quetta Minerals Co",
    sector: "minerals",
    city: "Quetta",
};

/// The leader's passport, in full and masked.
pub const LEADER_PASSPORT: &str = "AB1234567";
/// The leader's passport as rosters show it.
pub const LEADER_MASKED: &str = "AB••••567";

/// `expo delegation create ID` with sensible dates, plus `extra` options.
#[track_caller]
pub fn create(store: &Store, id: &str, extra: &[&str]) {
    let mut args = vec![
        "delegation",
        "create",
        id,
        "--name",
        "Pakistan textiles delegation, May",
        "--arrive",
        "2025-05-10",
        "--depart",
        "2025-05-20",
    ];
    args.extend_from_slice(extra);
    store.write(&args);
}

/// `expo company register` for one sample company.
#[track_caller]
pub fn register(store: &Store, d: &str, c: &Company) {
    store.write(&[
        "company",
        "register",
        d,
        c.ntn,
        "--name",
        c.legal_name,
        "--sector",
        c.sector,
        "--city",
        c.city,
        "--email",
        "desk@example.pk",
    ]);
}

/// `expo company register` for a numbered filler company (`NTN = 7000000 + i`).
#[track_caller]
pub fn register_nth(store: &Store, d: &str, i: u32) -> String {
    let ntn = format!("{}", 7_000_000 + i);
    store.write(&[
        "company",
        "register",
        d,
        &ntn,
        "--name",
        &format!("Filler Company {i}"),
        "--sector",
        "other",
        "--city",
        "Multan",
        "--email",
        "filler@example.pk",
    ]);
    ntn
}

/// `expo delegate add` with a passport valid well past the Expo.
#[track_caller]
pub fn add_delegate(store: &Store, d: &str, ntn: &str, full_name: &str, passport: &str) {
    store.write(&[
        "delegate",
        "add",
        d,
        ntn,
        "--name",
        full_name,
        "--passport",
        passport,
        "--passport-expiry",
        "2028-01-31",
        "--designation",
        "Director",
    ]);
}

/// Builds the sample delegation `D`: two approved companies with three
/// delegates and a leader, one waitlisted, one submitted, one rejected.
#[track_caller]
pub fn sample(store: &Store) {
    sample_in(store, D);
}

/// Builds the sample delegation under another id.
#[track_caller]
pub fn sample_in(store: &Store, d: &str) {
    create(store, d, &["--max-companies", "2"]);
    for c in [&LOOMS, &STEEL, &FABRICS, &SIALKOT, &QUETTA] {
        register(store, d, c);
    }
    store.write(&["company", "approve", d, LOOMS.ntn]);
    store.write(&["company", "approve", d, STEEL.ntn]);
    store.write(&["company", "waitlist", d, FABRICS.ntn]);
    store.write(&[
        "company",
        "reject",
        d,
        QUETTA.ntn,
        "--reason",
        "not an exporter",
    ]);
    add_delegate(store, d, LOOMS.ntn, "Ayesha Khan", LEADER_PASSPORT);
    add_delegate(store, d, LOOMS.ntn, "Bilal Ahmed", "CD7654321");
    add_delegate(store, d, STEEL.ntn, "Imran Qureshi", "EF1122334");
    store.write(&["delegate", "lead", d, LEADER_PASSPORT]);
}

/// A delegation that has been closed: one approved company, one delegate who leads.
#[track_caller]
pub fn closed(store: &Store, id: &str) {
    create(store, id, &[]);
    register(store, id, &LOOMS);
    store.write(&["company", "approve", id, LOOMS.ntn]);
    add_delegate(store, id, LOOMS.ntn, "Zara Malik", "ZM9876543");
    store.write(&["delegate", "lead", id, "ZM9876543"]);
    store.write(&["delegation", "close", id]);
}
