//! The delegation roster: header, leader, approved companies with their delegates, waitlist and counts.

use crate::render::{self, Format, Render};
use crate::view::{DelegationStatus, RegistrationStatus, View};
use chrono::NaiveDate;
use expo_domain::values::{CountryCode, DelegationId, Ntn, PassportNo, Sector, Text};
use serde::Serialize;
use std::fmt::Write as _;

/// One delegation's roster. Its JSON is the CLI contract (`expo roster
/// --format json`). Passport numbers are held in full; [`Render`] masks
/// them unless asked for in full.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Roster {
    /// The delegation's header.
    pub delegation: RosterDelegation,
    /// The leader, if one is named.
    pub leader: Option<RosterLeader>,
    /// Approved companies, by sector then legal name.
    pub companies: Vec<RosterCompany>,
    /// Waitlisted companies, first waitlisted first.
    pub waitlist: Vec<WaitlistEntry>,
    /// Counts that agree with the lists.
    pub counts: RosterCounts,
    /// The log position the roster stands at.
    pub as_of_position: u64,
}

/// The roster's delegation header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RosterDelegation {
    /// Slug.
    pub id: DelegationId,
    /// Display name.
    pub name: Text,
    /// Country.
    pub country: CountryCode,
    /// Arrival.
    pub arrive: NaiveDate,
    /// Departure.
    pub depart: NaiveDate,
    /// Open or closed.
    pub status: DelegationStatus,
    /// Approved companies at most.
    pub max_companies: u32,
    /// Delegates per company at most.
    pub max_delegates_per_company: u32,
}

/// The delegation's leader.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RosterLeader {
    /// Name as in the passport.
    pub full_name: Text,
    /// Passport number (in full here; masked when rendered unless `full`).
    pub passport_no: String,
    /// The leader's company.
    pub ntn: Ntn,
}

/// An approved company and its delegates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RosterCompany {
    /// NTN.
    pub ntn: Ntn,
    /// Legal name.
    pub legal_name: Text,
    /// Sector.
    pub sector: Sector,
    /// City.
    pub city: Text,
    /// Always `approved` in a roster.
    pub status: RegistrationStatus,
    /// Delegates in the order they were added.
    pub delegates: Vec<RosterDelegate>,
}

/// A delegate on the roster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RosterDelegate {
    /// Name as in the passport.
    pub full_name: Text,
    /// Passport number (in full here; masked when rendered unless `full`).
    pub passport_no: String,
    /// Nationality.
    pub nationality: CountryCode,
    /// Passport expiry.
    pub passport_expiry: NaiveDate,
    /// Job title.
    pub designation: Text,
}

/// A company on the waitlist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WaitlistEntry {
    /// NTN.
    pub ntn: Ntn,
    /// Legal name.
    pub legal_name: Text,
    /// Sector.
    pub sector: Sector,
}

/// The roster's counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RosterCounts {
    /// Approved companies (`companies.len()`).
    pub approved_companies: u32,
    /// Delegates of approved companies.
    pub delegates: u32,
    /// Waitlisted companies (`waitlist.len()`).
    pub waitlisted: u32,
    /// `max_companies` minus approved companies.
    pub seats_left: u32,
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The roster of `view` as it stands at log position `as_of_position`.
pub fn roster(view: &View, as_of_position: u64) -> Roster {
    let companies: Vec<RosterCompany> = view
        .approved()
        .into_iter()
        .map(|(ntn, r)| RosterCompany {
            ntn: ntn.clone(),
            legal_name: r.legal_name.clone(),
            sector: r.sector,
            city: r.city.clone(),
            status: r.status,
            delegates: r
                .delegates
                .iter()
                .map(|d| RosterDelegate {
                    full_name: d.full_name.clone(),
                    passport_no: d.passport_no.to_string(),
                    nationality: d.nationality.clone(),
                    passport_expiry: d.passport_expiry,
                    designation: d.designation.clone(),
                })
                .collect(),
        })
        .collect();
    let waitlist: Vec<WaitlistEntry> = view
        .waitlisted()
        .into_iter()
        .map(|(ntn, r)| WaitlistEntry {
            ntn: ntn.clone(),
            legal_name: r.legal_name.clone(),
            sector: r.sector,
        })
        .collect();
    let approved = count(companies.len());
    let counts = RosterCounts {
        approved_companies: approved,
        delegates: count(companies.iter().map(|c| c.delegates.len()).sum()),
        waitlisted: count(waitlist.len()),
        seats_left: view.max_companies.saturating_sub(approved),
    };
    Roster {
        delegation: RosterDelegation {
            id: view.id.clone(),
            name: view.name.clone(),
            country: view.country.clone(),
            arrive: view.arrive,
            depart: view.depart,
            status: view.status,
            max_companies: view.max_companies,
            max_delegates_per_company: view.max_delegates_per_company,
        },
        leader: view.leader().map(|(ntn, d)| RosterLeader {
            full_name: d.full_name.clone(),
            passport_no: d.passport_no.to_string(),
            ntn: ntn.clone(),
        }),
        companies,
        waitlist,
        counts,
        as_of_position,
    }
}

/// `AB••••567` for a passport number; a string that is not one (never the
/// case for a roster built here) is hidden entirely rather than shown.
pub fn mask(passport_no: &str) -> String {
    PassportNo::parse(passport_no)
        .map(|p| p.masked())
        .unwrap_or_else(|_| "•".repeat(passport_no.chars().count()))
}

impl Roster {
    /// The same roster with every passport number masked.
    pub fn masked(&self) -> Roster {
        let mut r = self.clone();
        if let Some(l) = &mut r.leader {
            l.passport_no = mask(&l.passport_no);
        }
        for d in r.companies.iter_mut().flat_map(|c| c.delegates.iter_mut()) {
            d.passport_no = mask(&d.passport_no);
        }
        r
    }

    fn table(&self) -> String {
        let d = &self.delegation;
        let mut s = String::new();
        let _ = writeln!(s, "Delegation {}: {}", d.id, d.name);
        let _ = writeln!(
            s,
            "Country {} · in Osaka {} to {} · {} · up to {} companies, {} delegates each",
            d.country, d.arrive, d.depart, d.status, d.max_companies, d.max_delegates_per_company
        );
        match &self.leader {
            Some(l) => {
                let company = self
                    .companies
                    .iter()
                    .find(|c| c.ntn == l.ntn)
                    .map_or(String::new(), |c| format!("{}, ", c.legal_name));
                let _ = writeln!(
                    s,
                    "Leader: {} (passport {}), {}NTN {}",
                    l.full_name, l.passport_no, company, l.ntn
                );
            }
            None => s.push_str("Leader: none named yet\n"),
        }
        s.push('\n');
        if self.companies.is_empty() {
            s.push_str("Approved companies: none yet\n");
        } else {
            s.push_str("Approved companies\n");
            let leader = self.leader.as_ref().map(|l| l.passport_no.as_str());
            let mut rows = Vec::new();
            for c in &self.companies {
                let company = [
                    c.sector.to_string(),
                    c.legal_name.to_string(),
                    c.ntn.to_string(),
                    c.city.to_string(),
                ];
                if c.delegates.is_empty() {
                    let mut row = company.to_vec();
                    row.extend([
                        "(no delegates yet)".to_owned(),
                        String::new(),
                        String::new(),
                        String::new(),
                        String::new(),
                    ]);
                    rows.push(row);
                }
                for (i, p) in c.delegates.iter().enumerate() {
                    // Company cells once per company: the eye groups the rows.
                    let mut row = if i == 0 {
                        company.to_vec()
                    } else {
                        vec![String::new(); 4]
                    };
                    let name = if Some(p.passport_no.as_str()) == leader {
                        format!("{} (leader)", p.full_name)
                    } else {
                        p.full_name.to_string()
                    };
                    row.extend([
                        name,
                        p.passport_no.clone(),
                        p.nationality.to_string(),
                        p.passport_expiry.to_string(),
                        p.designation.to_string(),
                    ]);
                    rows.push(row);
                }
            }
            s.push_str(&render::table(
                &[
                    "Sector",
                    "Company",
                    "NTN",
                    "City",
                    "Delegate",
                    "Passport",
                    "Nationality",
                    "Passport expiry",
                    "Designation",
                ],
                rows,
                &[],
            ));
        }
        s.push('\n');
        if self.waitlist.is_empty() {
            s.push_str("Waitlist: empty\n");
        } else {
            s.push_str("Waitlist (first waitlisted is promoted first)\n");
            let rows = self
                .waitlist
                .iter()
                .enumerate()
                .map(|(i, w)| {
                    vec![
                        (i + 1).to_string(),
                        w.legal_name.to_string(),
                        w.ntn.to_string(),
                        w.sector.to_string(),
                    ]
                })
                .collect();
            s.push_str(&render::table(
                &["#", "Company", "NTN", "Sector"],
                rows,
                &[0],
            ));
        }
        s.push('\n');
        let c = &self.counts;
        let _ = writeln!(
            s,
            "{} of {} companies approved · {} delegates · {} waitlisted · {} seats left · as of position {}",
            c.approved_companies, d.max_companies, c.delegates, c.waitlisted, c.seats_left, self.as_of_position
        );
        s
    }

    fn csv(&self) -> String {
        let leader = self.leader.as_ref().map(|l| l.passport_no.as_str());
        let mut rows = Vec::new();
        for c in &self.companies {
            let company = |full_name: &str,
                           passport: &str,
                           nationality: String,
                           expiry: String,
                           designation: &str,
                           is_leader: bool| {
                vec![
                    "approved".to_owned(),
                    String::new(),
                    c.sector.to_string(),
                    c.ntn.to_string(),
                    c.legal_name.to_string(),
                    c.city.to_string(),
                    full_name.to_owned(),
                    passport.to_owned(),
                    nationality,
                    expiry,
                    designation.to_owned(),
                    if is_leader { "yes" } else { "" }.to_owned(),
                ]
            };
            if c.delegates.is_empty() {
                rows.push(company("", "", String::new(), String::new(), "", false));
            }
            for p in &c.delegates {
                rows.push(company(
                    p.full_name.as_str(),
                    &p.passport_no,
                    p.nationality.to_string(),
                    p.passport_expiry.to_string(),
                    p.designation.as_str(),
                    Some(p.passport_no.as_str()) == leader,
                ));
            }
        }
        for (i, w) in self.waitlist.iter().enumerate() {
            let mut row = vec![
                "waitlisted".to_owned(),
                (i + 1).to_string(),
                w.sector.to_string(),
                w.ntn.to_string(),
                w.legal_name.to_string(),
            ];
            row.resize(12, String::new());
            rows.push(row);
        }
        render::csv(
            &[
                "list",
                "waitlist_position",
                "sector",
                "ntn",
                "legal_name",
                "city",
                "full_name",
                "passport_no",
                "nationality",
                "passport_expiry",
                "designation",
                "leader",
            ],
            rows,
        )
    }
}

impl Render for Roster {
    fn render(&self, format: Format, full: bool) -> String {
        let masked;
        let r = if full {
            self
        } else {
            masked = self.masked();
            &masked
        };
        match format {
            Format::Table => r.table(),
            Format::Csv => r.csv(),
            Format::Json => render::json(r),
        }
    }
}
