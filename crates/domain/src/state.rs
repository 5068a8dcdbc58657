//! A delegation's state as the decider sees it, built only by `evolve`.
//!
//! Everything is kept in `BTreeMap`s and `Vec`s so that folding the same
//! events always gives the same state, down to iteration order.

use crate::values::{CountryCode, DelegationId, Email, Ntn, PassportNo, Sector, Text};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// The delegation's header, as recorded by `DelegationCreated`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delegation {
    /// The delegation's slug (also the stream name).
    pub id: DelegationId,
    /// Display name.
    pub name: Text,
    /// Country the delegation comes from.
    pub country: CountryCode,
    /// Arrival in Osaka.
    pub arrive: NaiveDate,
    /// Departure from Osaka.
    pub depart: NaiveDate,
    /// Approved companies at most.
    pub max_companies: u32,
    /// Delegates per company at most.
    pub max_delegates_per_company: u32,
    /// Months a passport must stay valid after `depart`.
    pub passport_validity_months: u32,
}

/// Whether a delegation still accepts changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DelegationStatus {
    /// Changes are accepted.
    Open,
    /// Finalised: every command is refused.
    Closed,
}

impl DelegationStatus {
    /// The status as written in rosters (`open`, `closed`).
    pub fn as_str(self) -> &'static str {
        match self {
            DelegationStatus::Open => "open",
            DelegationStatus::Closed => "closed",
        }
    }
}

impl fmt::Display for DelegationStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a company registration stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegistrationStatus {
    /// Applied, not yet decided.
    Submitted,
    /// Holds one of the delegation's seats.
    Approved,
    /// Waiting for a seat.
    Waitlisted,
    /// Refused by staff (final).
    Rejected,
    /// Given up by the company (final).
    Withdrawn,
}

impl RegistrationStatus {
    /// Every status, in report order.
    pub const ALL: [RegistrationStatus; 5] = [
        RegistrationStatus::Submitted,
        RegistrationStatus::Approved,
        RegistrationStatus::Waitlisted,
        RegistrationStatus::Rejected,
        RegistrationStatus::Withdrawn,
    ];

    /// Submitted, approved or waitlisted: the registration can still change.
    pub fn is_active(self) -> bool {
        matches!(
            self,
            RegistrationStatus::Submitted
                | RegistrationStatus::Approved
                | RegistrationStatus::Waitlisted
        )
    }

    /// The status as written in rosters and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            RegistrationStatus::Submitted => "submitted",
            RegistrationStatus::Approved => "approved",
            RegistrationStatus::Waitlisted => "waitlisted",
            RegistrationStatus::Rejected => "rejected",
            RegistrationStatus::Withdrawn => "withdrawn",
        }
    }
}

impl fmt::Display for RegistrationStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One traveller of a company registration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delegate {
    /// Name exactly as in the passport.
    pub full_name: Text,
    /// Passport number.
    pub passport_no: PassportNo,
    /// Nationality.
    pub nationality: CountryCode,
    /// Passport expiry date.
    #[serde(with = "crate::values::date_form")]
    pub passport_expiry: NaiveDate,
    /// Job title.
    pub designation: Text,
}

/// One company's application to the delegation. A company that registers
/// again after a rejection or withdrawal gets a new `Registration`; the old
/// one stays in the history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    /// The company's NTN.
    pub ntn: Ntn,
    /// Legal name.
    pub legal_name: Text,
    /// Sector.
    pub sector: Sector,
    /// City.
    pub city: Text,
    /// Contact e-mail.
    pub contact_email: Email,
    /// Where the registration stands.
    pub status: RegistrationStatus,
    /// The registration's current delegates, in the order they were added.
    /// Empty once the registration is rejected or withdrawn.
    pub delegates: Vec<Delegate>,
}

/// The state of one delegation stream. `State::default()` is the initial
/// state: no delegation yet. Only [`crate::evolve`] changes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct State {
    /// The header, once `DelegationCreated` was folded.
    pub(crate) delegation: Option<Delegation>,
    /// Set by `DelegationClosed`.
    pub(crate) closed: bool,
    /// Every registration ever made, in registration order (history kept).
    pub(crate) registrations: Vec<Registration>,
    /// NTN → index into `registrations` of its one active registration.
    pub(crate) active: BTreeMap<Ntn, usize>,
    /// Passport → index into `registrations` of the current delegate's company.
    pub(crate) delegates: BTreeMap<PassportNo, usize>,
    /// The leader's passport number.
    pub(crate) leader: Option<PassportNo>,
    /// Waitlisted NTNs in the order of their `CompanyWaitlisted` events.
    pub(crate) waitlist: Vec<Ntn>,
    /// How many events were folded into this state.
    pub(crate) n_events: u64,
}

impl State {
    /// The delegation's header, or `None` before `DelegationCreated`.
    pub fn delegation(&self) -> Option<&Delegation> {
        self.delegation.as_ref()
    }

    /// Whether the delegation was created.
    pub fn exists(&self) -> bool {
        self.delegation.is_some()
    }

    /// The delegation's status, or `None` before it was created.
    pub fn status(&self) -> Option<DelegationStatus> {
        self.delegation.as_ref().map(|_| {
            if self.closed {
                DelegationStatus::Closed
            } else {
                DelegationStatus::Open
            }
        })
    }

    /// Whether the delegation was closed (finalised).
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// How many events were folded into this state (the stream's version).
    pub fn n_events(&self) -> u64 {
        self.n_events
    }

    /// The NTN's active (submitted, approved or waitlisted) registration.
    pub fn registration(&self, ntn: &Ntn) -> Option<&Registration> {
        self.active
            .get(ntn)
            .and_then(|&i| self.registrations.get(i))
    }

    /// The NTN's most recent registration, active or not.
    pub fn latest_registration(&self, ntn: &Ntn) -> Option<&Registration> {
        self.registrations.iter().rev().find(|r| &r.ntn == ntn)
    }

    /// Every registration ever made, in registration order, finished ones included.
    pub fn registrations(&self) -> &[Registration] {
        &self.registrations
    }

    /// The active registrations, in registration order.
    pub fn active_registrations(&self) -> impl Iterator<Item = &Registration> + '_ {
        self.registrations.iter().filter(|r| r.status.is_active())
    }

    /// The approved registrations, in registration order.
    pub fn approved(&self) -> impl Iterator<Item = &Registration> + '_ {
        self.registrations
            .iter()
            .filter(|r| r.status == RegistrationStatus::Approved)
    }

    /// How many companies are approved.
    pub fn n_approved(&self) -> u32 {
        let n = self.approved().count();
        u32::try_from(n).unwrap_or(u32::MAX)
    }

    /// Approved companies that can still be added (0 before creation).
    pub fn seats_left(&self) -> u32 {
        self.delegation
            .as_ref()
            .map_or(0, |d| d.max_companies.saturating_sub(self.n_approved()))
    }

    /// The waitlisted registrations, first waitlisted first.
    pub fn waitlist(&self) -> impl Iterator<Item = &Registration> + '_ {
        self.waitlist
            .iter()
            .filter_map(|ntn| self.registration(ntn))
    }

    /// A current delegate by passport number, with their company's registration.
    pub fn delegate(&self, passport_no: &PassportNo) -> Option<(&Registration, &Delegate)> {
        let registration = self
            .delegates
            .get(passport_no)
            .and_then(|&i| self.registrations.get(i))?;
        let delegate = registration
            .delegates
            .iter()
            .find(|d| &d.passport_no == passport_no)?;
        Some((registration, delegate))
    }

    /// How many delegates the delegation has now (all companies, any active status).
    pub fn n_delegates(&self) -> usize {
        self.delegates.len()
    }

    /// The leader's passport number, if a leader is assigned.
    pub fn leader(&self) -> Option<&PassportNo> {
        self.leader.as_ref()
    }

    /// The leader with their company's registration, if a leader is assigned.
    pub fn leader_delegate(&self) -> Option<(&Registration, &Delegate)> {
        self.leader.as_ref().and_then(|p| self.delegate(p))
    }
}
