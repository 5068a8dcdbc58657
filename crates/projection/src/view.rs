//! The stored read model of one delegation (its view and its summary) and the fold of one event into it.
//!
//! The fold is total: an event that does not fit (a second `DelegationCreated`,
//! an NTN never registered) changes nothing. The decider guarantees such
//! events are never written and `verify` checks the log, so ignoring them
//! here keeps an incremental fold and a full rebuild identical on any log
//! instead of failing one and not the other.

use crate::Recorded;
use chrono::NaiveDate;
use expo_domain::values::{CountryCode, DelegationId, Ntn, PassportNo, Sector, Text};
use expo_domain::Event;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

// The statuses and a delegate are the domain's own types (with their serde
// derives), so the stored view and the decider's state cannot drift apart.
pub use expo_domain::{Delegate, DelegationStatus, RegistrationStatus};

/// Registrations per status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusCounts {
    /// Submitted.
    pub submitted: u32,
    /// Approved.
    pub approved: u32,
    /// Waitlisted.
    pub waitlisted: u32,
    /// Rejected.
    pub rejected: u32,
    /// Withdrawn.
    pub withdrawn: u32,
}

impl StatusCounts {
    /// Adds one registration of `status`.
    pub fn add(&mut self, status: RegistrationStatus) {
        *self.slot(status) += 1;
    }

    /// The count for `status`.
    pub fn get(&self, status: RegistrationStatus) -> u32 {
        match status {
            RegistrationStatus::Submitted => self.submitted,
            RegistrationStatus::Approved => self.approved,
            RegistrationStatus::Waitlisted => self.waitlisted,
            RegistrationStatus::Rejected => self.rejected,
            RegistrationStatus::Withdrawn => self.withdrawn,
        }
    }

    /// Registrations of every status.
    pub fn total(&self) -> u32 {
        RegistrationStatus::ALL.iter().map(|s| self.get(*s)).sum()
    }

    fn slot(&mut self, status: RegistrationStatus) -> &mut u32 {
        match status {
            RegistrationStatus::Submitted => &mut self.submitted,
            RegistrationStatus::Approved => &mut self.approved,
            RegistrationStatus::Waitlisted => &mut self.waitlisted,
            RegistrationStatus::Rejected => &mut self.rejected,
            RegistrationStatus::Withdrawn => &mut self.withdrawn,
        }
    }
}

/// A company's latest registration in the delegation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    /// Legal name.
    pub legal_name: Text,
    /// Sector.
    pub sector: Sector,
    /// City.
    pub city: Text,
    /// Where it stands.
    pub status: RegistrationStatus,
    /// Current delegates, in the order they were added.
    pub delegates: Vec<Delegate>,
}

/// Everything the roster and the visa-letter list of one delegation need,
/// stored under `view/<id>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct View {
    /// The delegation's slug (the stream name).
    pub id: DelegationId,
    /// Display name.
    pub name: Text,
    /// Country.
    pub country: CountryCode,
    /// Arrival.
    #[serde(with = "expo_domain::values::date_form")]
    pub arrive: NaiveDate,
    /// Departure.
    #[serde(with = "expo_domain::values::date_form")]
    pub depart: NaiveDate,
    /// Approved companies at most.
    pub max_companies: u32,
    /// Delegates per company at most.
    pub max_delegates_per_company: u32,
    /// Months a passport must stay valid after departure.
    pub passport_validity_months: u32,
    /// Open or closed.
    pub status: DelegationStatus,
    /// The latest registration of each company, by NTN.
    pub companies: BTreeMap<Ntn, Registration>,
    /// Earlier registrations that a new registration of the same NTN
    /// replaced (always rejected or withdrawn): kept as counts because the
    /// status report counts every registration ever made.
    pub replaced: StatusCounts,
    /// Waitlisted companies, first waitlisted first.
    pub waitlist: Vec<Ntn>,
    /// The leader's passport number.
    pub leader: Option<PassportNo>,
    /// Global position of the last event folded in: an event at or before
    /// it is a repeat and is not folded again (exactly once).
    pub position: u64,
    /// Stream version of the last event folded in.
    pub version: u64,
}

impl View {
    /// The view a `DelegationCreated` event starts, or `None` for any other event.
    pub fn start(e: &Recorded) -> Option<View> {
        match &e.event {
            Event::DelegationCreated {
                id,
                name,
                country,
                arrive,
                depart,
                max_companies,
                max_delegates_per_company,
                passport_validity_months,
            } => Some(View {
                id: id.clone(),
                name: name.clone(),
                country: country.clone(),
                arrive: *arrive,
                depart: *depart,
                max_companies: *max_companies,
                max_delegates_per_company: *max_delegates_per_company,
                passport_validity_months: *passport_validity_months,
                status: DelegationStatus::Open,
                companies: BTreeMap::new(),
                replaced: StatusCounts::default(),
                waitlist: Vec::new(),
                leader: None,
                position: e.position,
                version: e.version,
            }),
            _ => None,
        }
    }

    /// Folds one later event of the delegation's stream into the view.
    /// Returns false, changing nothing, for a repeat (position not after
    /// the view's); any other event is folded and moves the position.
    pub fn apply(&mut self, e: &Recorded) -> bool {
        // A repeat is skipped before anything is copied.
        e.position > self.position && self.fold(e.position, e.version, e.event.clone())
    }

    /// [`View::apply`] for an event handed over whole: what the view keeps
    /// is moved in, not copied (a rebuild folds every event of the log).
    pub fn apply_owned(&mut self, e: Recorded) -> bool {
        e.position > self.position && self.fold(e.position, e.version, e.event)
    }

    fn fold(&mut self, position: u64, version: u64, event: Event) -> bool {
        if position <= self.position {
            return false;
        }
        self.position = position;
        self.version = version;
        match event {
            // A stream has one creation; a second one changes nothing.
            Event::DelegationCreated { .. } => {}
            Event::CompanyRegistered {
                ntn,
                legal_name,
                sector,
                city,
                contact_email: _,
            } => {
                self.waitlist.retain(|n| n != &ntn);
                let new = Registration {
                    legal_name,
                    sector,
                    city,
                    status: RegistrationStatus::Submitted,
                    delegates: Vec::new(),
                };
                if let Some(old) = self.companies.insert(ntn, new) {
                    self.replaced.add(old.status);
                }
            }
            Event::CompanyApproved { ntn } | Event::CompanyPromoted { ntn } => {
                self.set_status(&ntn, RegistrationStatus::Approved);
            }
            Event::CompanyWaitlisted { ntn } => {
                if self.set_status(&ntn, RegistrationStatus::Waitlisted)
                    && !self.waitlist.contains(&ntn)
                {
                    self.waitlist.push(ntn);
                }
            }
            Event::CompanyRejected { ntn, .. } => {
                self.set_status(&ntn, RegistrationStatus::Rejected);
            }
            Event::CompanyWithdrawn { ntn, .. } => {
                self.set_status(&ntn, RegistrationStatus::Withdrawn);
            }
            Event::DelegateAdded {
                ntn,
                full_name,
                passport_no,
                nationality,
                passport_expiry,
                designation,
            } => {
                if let Some(r) = self.companies.get_mut(&ntn) {
                    // Grow by one: a company sends a few delegates, and a
                    // rebuild holds every company's list at once (doubling
                    // left a fourth slot empty in most of 200,000 lists).
                    r.delegates.reserve_exact(1);
                    r.delegates.push(Delegate {
                        full_name,
                        passport_no,
                        nationality,
                        passport_expiry,
                        designation,
                    });
                }
            }
            Event::DelegateRemoved {
                ntn, passport_no, ..
            } => {
                if let Some(r) = self.companies.get_mut(&ntn) {
                    r.delegates.retain(|d| d.passport_no != passport_no);
                }
            }
            Event::LeaderAssigned { passport_no } => self.leader = Some(passport_no),
            Event::LeaderUnassigned { passport_no } => {
                if self.leader.as_ref() == Some(&passport_no) {
                    self.leader = None;
                }
            }
            Event::DelegationClosed {} => self.status = DelegationStatus::Closed,
        }
        true
    }

    /// Sets a registration's status; leaving `waitlisted` leaves the waitlist.
    fn set_status(&mut self, ntn: &Ntn, status: RegistrationStatus) -> bool {
        let Some(r) = self.companies.get_mut(ntn) else {
            return false;
        };
        r.status = status;
        if status != RegistrationStatus::Waitlisted {
            self.waitlist.retain(|n| n != ntn);
        }
        true
    }

    /// Approved companies, sorted by sector then legal name (then NTN, so
    /// two companies of the same name still come in a fixed order).
    pub fn approved(&self) -> Vec<(&Ntn, &Registration)> {
        let mut v: Vec<_> = self
            .companies
            .iter()
            .filter(|(_, r)| r.status == RegistrationStatus::Approved)
            .collect();
        v.sort_by(|(na, a), (nb, b)| {
            (a.sector, a.legal_name.as_str(), na.as_str()).cmp(&(
                b.sector,
                b.legal_name.as_str(),
                nb.as_str(),
            ))
        });
        v
    }

    /// The waitlisted companies in waitlist order.
    pub fn waitlisted(&self) -> Vec<(&Ntn, &Registration)> {
        self.waitlist
            .iter()
            .filter_map(|n| self.companies.get_key_value(n))
            .filter(|(_, r)| r.status == RegistrationStatus::Waitlisted)
            .collect()
    }

    /// The leader as a delegate with their company's NTN, if there is one.
    pub fn leader(&self) -> Option<(&Ntn, &Delegate)> {
        let p = self.leader.as_ref()?;
        self.companies.iter().find_map(|(n, r)| {
            r.delegates
                .iter()
                .find(|d| &d.passport_no == p)
                .map(|d| (n, d))
        })
    }

    /// Approved companies' seats still free (never negative).
    pub fn seats_left(&self) -> u32 {
        self.max_companies
            .saturating_sub(self.count(RegistrationStatus::Approved))
    }

    /// Current registrations (the latest of each company) of `status`.
    pub fn count(&self, status: RegistrationStatus) -> u32 {
        let n = self
            .companies
            .values()
            .filter(|r| r.status == status)
            .count();
        u32::try_from(n).unwrap_or(u32::MAX)
    }

    /// The small record the sector and status reports read.
    pub fn summary(&self) -> Summary {
        let mut registrations = self.replaced;
        let mut sectors: BTreeMap<Sector, SectorCounts> = BTreeMap::new();
        for r in self.companies.values() {
            registrations.add(r.status);
            if r.status == RegistrationStatus::Approved {
                let s = sectors.entry(r.sector).or_default();
                s.approved_companies += 1;
                s.delegates += u32::try_from(r.delegates.len()).unwrap_or(u32::MAX);
            }
        }
        Summary {
            id: self.id.clone(),
            name: self.name.clone(),
            country: self.country.clone(),
            arrive: self.arrive,
            depart: self.depart,
            status: self.status,
            max_companies: self.max_companies,
            seats_left: self.seats_left(),
            registrations,
            sectors,
            position: self.position,
        }
    }
}

/// Approved companies and their delegates, for one sector.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SectorCounts {
    /// Approved companies.
    pub approved_companies: u32,
    /// Their delegates.
    pub delegates: u32,
}

/// What the sector and status reports (and `delegation list`) need of one
/// delegation, stored under `summary/<id>` so reports never load full views.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Slug.
    pub id: DelegationId,
    /// Display name.
    pub name: Text,
    /// Country.
    pub country: CountryCode,
    /// Arrival.
    #[serde(with = "expo_domain::values::date_form")]
    pub arrive: NaiveDate,
    /// Departure.
    #[serde(with = "expo_domain::values::date_form")]
    pub depart: NaiveDate,
    /// Open or closed.
    pub status: DelegationStatus,
    /// Approved companies at most.
    pub max_companies: u32,
    /// Seats still free.
    pub seats_left: u32,
    /// Every registration ever made, per status.
    pub registrations: StatusCounts,
    /// Approved companies and delegates per sector (sectors with none left out).
    pub sectors: BTreeMap<Sector, SectorCounts>,
    /// Global position of the last event folded into the delegation.
    pub position: u64,
}
