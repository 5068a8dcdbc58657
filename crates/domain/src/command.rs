//! The registry's commands: what staff ask for, imperative, already parsed into valid values.

use crate::values::{CountryCode, DelegationId, Email, Ntn, PassportNo, Sector, Text};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// One request on one delegation. Every value in it has already been parsed,
/// so `decide` only checks the rules that need the delegation's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Command {
    /// Start a new delegation.
    CreateDelegation {
        /// Slug, also the stream name.
        id: DelegationId,
        /// Display name.
        name: Text,
        /// Country.
        country: CountryCode,
        /// Arrival (inside the Expo window).
        arrive: NaiveDate,
        /// Departure (inside the Expo window, not before `arrive`).
        depart: NaiveDate,
        /// Approved companies at most (1–500).
        max_companies: u32,
        /// Delegates per company at most (1–20).
        max_delegates_per_company: u32,
        /// Months a passport must stay valid after `depart` (0–24).
        passport_validity_months: u32,
    },
    /// A company applies to the delegation.
    RegisterCompany {
        /// NTN.
        ntn: Ntn,
        /// Legal name.
        legal_name: Text,
        /// Sector.
        sector: Sector,
        /// City.
        city: Text,
        /// Contact e-mail.
        contact_email: Email,
    },
    /// Approve a submitted or waitlisted registration.
    ApproveCompany {
        /// NTN.
        ntn: Ntn,
    },
    /// Put a submitted registration on the waitlist.
    WaitlistCompany {
        /// NTN.
        ntn: Ntn,
    },
    /// Reject a submitted or waitlisted registration.
    RejectCompany {
        /// NTN.
        ntn: Ntn,
        /// Why.
        reason: Text,
    },
    /// Withdraw an active registration.
    WithdrawCompany {
        /// NTN.
        ntn: Ntn,
        /// Why.
        reason: Text,
    },
    /// Add a traveller to a company's registration.
    AddDelegate {
        /// The company's NTN.
        ntn: Ntn,
        /// Name exactly as in the passport.
        full_name: Text,
        /// Passport number.
        passport_no: PassportNo,
        /// Nationality.
        nationality: CountryCode,
        /// Passport expiry.
        passport_expiry: NaiveDate,
        /// Job title.
        designation: Text,
    },
    /// Remove a traveller.
    RemoveDelegate {
        /// Passport number.
        passport_no: PassportNo,
    },
    /// Name the delegation's leader.
    AssignLeader {
        /// Passport number of a current delegate of an approved company.
        passport_no: PassportNo,
    },
    /// Finalise the delegation.
    CloseDelegation,
}

impl Command {
    /// A short name for messages (`approve`, `register`, ...).
    pub fn verb(&self) -> &'static str {
        match self {
            Command::CreateDelegation { .. } => "create delegation",
            Command::RegisterCompany { .. } => "register company",
            Command::ApproveCompany { .. } => "approve company",
            Command::WaitlistCompany { .. } => "waitlist company",
            Command::RejectCompany { .. } => "reject company",
            Command::WithdrawCompany { .. } => "withdraw company",
            Command::AddDelegate { .. } => "add delegate",
            Command::RemoveDelegate { .. } => "remove delegate",
            Command::AssignLeader { .. } => "assign leader",
            Command::CloseDelegation => "close delegation",
        }
    }
}
