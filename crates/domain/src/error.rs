//! Why a command was refused: one variant per rule, carrying the values the message names.

use crate::state::RegistrationStatus;
use crate::values::{DelegationId, Ntn, PassportNo, ValueError};
use chrono::NaiveDate;

/// A command refused by a rule of the registry. The CLI prints the message
/// as it is and exits 1; nothing is written.
///
/// Messages are written for the registration desk: each names the
/// delegation and the company (NTN) or traveller (passport) involved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// A value in the command is invalid.
    #[error(transparent)]
    Value(#[from] ValueError),

    /// Creating a delegation whose id is taken.
    #[error("delegation {delegation} already exists")]
    DelegationExists {
        /// The delegation.
        delegation: DelegationId,
    },

    /// A command other than create on a delegation that was never created.
    /// The stream's name is not in the state, so the CLI adds it if it wants.
    #[error("cannot {action}: the delegation does not exist (create it first)")]
    DelegationNotFound {
        /// What was asked (`approve company`, ...).
        action: &'static str,
    },

    /// Any command on a closed (finalised) delegation.
    #[error("delegation {delegation} is closed: nothing can change any more (refused: {action})")]
    DelegationClosed {
        /// The delegation.
        delegation: DelegationId,
        /// What was asked.
        action: &'static str,
    },

    /// Creating a delegation that departs before it arrives.
    #[error("delegation {delegation} would depart on {depart}, before it arrives on {arrive}")]
    DepartBeforeArrive {
        /// The delegation.
        delegation: DelegationId,
        /// Arrival date given.
        arrive: NaiveDate,
        /// Departure date given.
        depart: NaiveDate,
    },

    /// Registering a company that already has an active registration.
    #[error(
        "company {ntn} is already registered in delegation {delegation} ({status}); \
         withdraw that registration before registering again"
    )]
    AlreadyRegistered {
        /// The delegation.
        delegation: DelegationId,
        /// The company.
        ntn: Ntn,
        /// Status of the active registration.
        status: RegistrationStatus,
    },

    /// A command about a company that never registered in the delegation.
    #[error("company {ntn} is not registered in delegation {delegation}")]
    NotRegistered {
        /// The delegation.
        delegation: DelegationId,
        /// The company.
        ntn: Ntn,
    },

    /// A command about a company whose last registration is rejected or
    /// withdrawn: final, so only a new registration can change anything.
    #[error(
        "company {ntn}'s registration in delegation {delegation} was {status}, which is final; \
         register the company again to start a new registration"
    )]
    RegistrationEnded {
        /// The delegation.
        delegation: DelegationId,
        /// The company.
        ntn: Ntn,
        /// `rejected` or `withdrawn`.
        status: RegistrationStatus,
    },

    /// A lifecycle step the registration's status does not allow
    /// (approve an approved company, waitlist a waitlisted one, reject an approved one).
    #[error(
        "cannot {action} company {ntn} in delegation {delegation}: it is {status}; \
         only a {allowed} company can be {done}"
    )]
    TransitionNotAllowed {
        /// The delegation.
        delegation: DelegationId,
        /// The company.
        ntn: Ntn,
        /// The step asked for (`approve`, `waitlist`, `reject`).
        action: &'static str,
        /// The step in the past tense (`approved`, ...).
        done: &'static str,
        /// The registration's status.
        status: RegistrationStatus,
        /// The statuses the step is allowed from, in words.
        allowed: &'static str,
    },

    /// Approving when `max_companies` companies are approved already.
    #[error(
        "delegation {delegation} is full: {approved} of {max_companies} companies approved; \
         waitlist the company instead"
    )]
    DelegationFull {
        /// The delegation.
        delegation: DelegationId,
        /// The company that was to be approved.
        ntn: Ntn,
        /// Companies approved now.
        approved: u32,
        /// The delegation's cap.
        max_companies: u32,
    },

    /// Adding a delegate to a company that has `max_delegates_per_company`.
    #[error(
        "company {ntn} already has {delegates} of {max_delegates} delegates in delegation \
         {delegation}; remove one before adding another"
    )]
    TooManyDelegates {
        /// The delegation.
        delegation: DelegationId,
        /// The company.
        ntn: Ntn,
        /// Delegates the company has now.
        delegates: u32,
        /// The delegation's per-company cap.
        max_delegates: u32,
    },

    /// Adding a delegate whose passport number is already a current delegate's.
    #[error(
        "passport {passport_no} is already used by a delegate of company {holder_ntn} in \
         delegation {delegation}"
    )]
    PassportInUse {
        /// The delegation.
        delegation: DelegationId,
        /// The passport number.
        passport_no: PassportNo,
        /// The company the passport's delegate belongs to.
        holder_ntn: Ntn,
    },

    /// Adding a delegate whose passport expires too soon after departure.
    #[error(
        "passport {passport_no} expires on {passport_expiry}, but delegation {delegation} needs \
         it valid until at least {valid_until} ({months} months after departure on {depart})"
    )]
    PassportExpiresTooSoon {
        /// The delegation.
        delegation: DelegationId,
        /// The passport number.
        passport_no: PassportNo,
        /// The passport's expiry date.
        passport_expiry: NaiveDate,
        /// The first acceptable expiry date.
        valid_until: NaiveDate,
        /// The delegation's departure date.
        depart: NaiveDate,
        /// The delegation's required validity after departure.
        months: u32,
    },

    /// Removing or naming as leader a passport that is not a current delegate.
    #[error("passport {passport_no} is not a current delegate of delegation {delegation}")]
    DelegateNotFound {
        /// The delegation.
        delegation: DelegationId,
        /// The passport number.
        passport_no: PassportNo,
    },

    /// Naming as leader a delegate whose company is not approved.
    #[error(
        "passport {passport_no} cannot lead delegation {delegation}: their company {ntn} is \
         {status}, and only a delegate of an approved company can lead"
    )]
    LeaderNotApproved {
        /// The delegation.
        delegation: DelegationId,
        /// The passport number.
        passport_no: PassportNo,
        /// The delegate's company.
        ntn: Ntn,
        /// The company's status.
        status: RegistrationStatus,
    },

    /// Naming the current leader as leader again.
    #[error("passport {passport_no} already leads delegation {delegation}")]
    AlreadyLeader {
        /// The delegation.
        delegation: DelegationId,
        /// The passport number.
        passport_no: PassportNo,
    },

    /// Closing a delegation without an approved company.
    #[error("delegation {delegation} cannot be closed: no company is approved")]
    CloseWithoutApprovedCompany {
        /// The delegation.
        delegation: DelegationId,
    },

    /// Closing a delegation without a leader.
    #[error("delegation {delegation} cannot be closed: it has no leader; assign one first")]
    CloseWithoutLeader {
        /// The delegation.
        delegation: DelegationId,
    },
}
