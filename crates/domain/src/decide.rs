//! The decider: `decide` turns a command and the state into events or a refusal; `evolve` folds an event into the state.
//!
//! Choices the spec leaves open, made here:
//! - Naming a new leader while one is assigned emits `LeaderAssigned` only:
//!   the event replaces the old leader. Naming the current leader again is
//!   refused ([`DomainError::AlreadyLeader`]) so the log never holds no-ops.
//! - When delegates leave with their company (reject, withdraw) or one is
//!   removed, the events come in this order: the command's own event, one
//!   `DelegateRemoved` per delegate (in the order they were added),
//!   `LeaderUnassigned` if the leader was among them, then `CompanyPromoted`
//!   for the first waitlisted company when an approved company withdrew.
//!   The rules hold after the last event of each command.
//! - Only an approved company's delegate can lead, and an approved company
//!   leaves `approved` only by withdrawing, which unassigns its leader; so
//!   the leader is always a current delegate of an approved company.
//! - Every command on a closed delegation is refused, creating it again included.

use crate::event::RemovalCause;
use crate::state::{Delegate, Delegation, Registration, RegistrationStatus};
use crate::values::{self, limits, DelegationId, Ntn, PassportNo, Text, ValueError};
use crate::{Command, DomainError, Event, State};
use RegistrationStatus::{Approved, Submitted, Waitlisted};

/// Decides what a command on a delegation yields: events, or the rule it breaks.
pub fn decide(command: &Command, state: &State) -> Result<Vec<Event>, DomainError> {
    if let Some(d) = &state.delegation {
        if state.closed {
            return Err(DomainError::DelegationClosed {
                delegation: d.id.clone(),
                action: command.verb(),
            });
        }
    }
    let delegation = match (&state.delegation, command) {
        (_, Command::CreateDelegation { .. }) => return create(command, state),
        (None, _) => {
            return Err(DomainError::DelegationNotFound {
                action: command.verb(),
            })
        }
        (Some(delegation), _) => delegation,
    };
    let d = Decision { state, delegation };
    match command {
        // Decided above, before the delegation must exist.
        Command::CreateDelegation { .. } => create(command, state),
        Command::RegisterCompany {
            ntn,
            legal_name,
            sector,
            city,
            contact_email,
        } => {
            if let Some(r) = state.registration(ntn) {
                return Err(DomainError::AlreadyRegistered {
                    delegation: d.id(),
                    ntn: ntn.clone(),
                    status: r.status,
                });
            }
            check_len("legal name", legal_name, limits::LEGAL_NAME)?;
            check_len("city", city, limits::CITY)?;
            Ok(vec![Event::CompanyRegistered {
                ntn: ntn.clone(),
                legal_name: legal_name.clone(),
                sector: *sector,
                city: city.clone(),
                contact_email: contact_email.clone(),
            }])
        }
        Command::ApproveCompany { ntn } => {
            let r = d.active(ntn)?;
            d.allow(r, APPROVE, &[Submitted, Waitlisted])?;
            let approved = state.n_approved();
            if approved >= delegation.max_companies {
                return Err(DomainError::DelegationFull {
                    delegation: d.id(),
                    ntn: ntn.clone(),
                    approved,
                    max_companies: delegation.max_companies,
                });
            }
            Ok(vec![Event::CompanyApproved { ntn: ntn.clone() }])
        }
        Command::WaitlistCompany { ntn } => {
            let r = d.active(ntn)?;
            d.allow(r, WAITLIST, &[Submitted])?;
            Ok(vec![Event::CompanyWaitlisted { ntn: ntn.clone() }])
        }
        Command::RejectCompany { ntn, reason } => {
            let r = d.active(ntn)?;
            d.allow(r, REJECT, &[Submitted, Waitlisted])?;
            check_len("reason", reason, limits::REASON)?;
            let mut events = vec![Event::CompanyRejected {
                ntn: ntn.clone(),
                reason: reason.clone(),
            }];
            d.delegates_leave(r, RemovalCause::CompanyRejected, &mut events);
            Ok(events)
        }
        Command::WithdrawCompany { ntn, reason } => {
            let r = d.active(ntn)?;
            check_len("reason", reason, limits::REASON)?;
            let mut events = vec![Event::CompanyWithdrawn {
                ntn: ntn.clone(),
                reason: reason.clone(),
            }];
            d.delegates_leave(r, RemovalCause::CompanyWithdrawn, &mut events);
            // The seat goes to the company waitlisted first, in the same command.
            if r.status == Approved {
                if let Some(next) = state.waitlist().next() {
                    events.push(Event::CompanyPromoted {
                        ntn: next.ntn.clone(),
                    });
                }
            }
            Ok(events)
        }
        Command::AddDelegate {
            ntn,
            full_name,
            passport_no,
            nationality,
            passport_expiry,
            designation,
        } => {
            let r = d.active(ntn)?;
            check_len("full name", full_name, limits::FULL_NAME)?;
            check_len("designation", designation, limits::DESIGNATION)?;
            let n = u32::try_from(r.delegates.len()).unwrap_or(u32::MAX);
            if n >= delegation.max_delegates_per_company {
                return Err(DomainError::TooManyDelegates {
                    delegation: d.id(),
                    ntn: ntn.clone(),
                    delegates: n,
                    max_delegates: delegation.max_delegates_per_company,
                });
            }
            if let Some((holder, _)) = state.delegate(passport_no) {
                return Err(DomainError::PassportInUse {
                    delegation: d.id(),
                    passport_no: passport_no.clone(),
                    holder_ntn: holder.ntn.clone(),
                });
            }
            let valid_until = values::passport_valid_until(
                delegation.depart,
                delegation.passport_validity_months,
            );
            if *passport_expiry < valid_until {
                return Err(DomainError::PassportExpiresTooSoon {
                    delegation: d.id(),
                    passport_no: passport_no.clone(),
                    passport_expiry: *passport_expiry,
                    valid_until,
                    depart: delegation.depart,
                    months: delegation.passport_validity_months,
                });
            }
            Ok(vec![Event::DelegateAdded {
                ntn: ntn.clone(),
                full_name: full_name.clone(),
                passport_no: passport_no.clone(),
                nationality: nationality.clone(),
                passport_expiry: *passport_expiry,
                designation: designation.clone(),
            }])
        }
        Command::RemoveDelegate { passport_no } => {
            let (r, _) = d.current_delegate(passport_no)?;
            let mut events = vec![Event::DelegateRemoved {
                ntn: r.ntn.clone(),
                passport_no: passport_no.clone(),
                cause: RemovalCause::Removed,
            }];
            if state.leader.as_ref() == Some(passport_no) {
                events.push(Event::LeaderUnassigned {
                    passport_no: passport_no.clone(),
                });
            }
            Ok(events)
        }
        Command::AssignLeader { passport_no } => {
            let (r, _) = d.current_delegate(passport_no)?;
            if r.status != Approved {
                return Err(DomainError::LeaderNotApproved {
                    delegation: d.id(),
                    passport_no: passport_no.clone(),
                    ntn: r.ntn.clone(),
                    status: r.status,
                });
            }
            if state.leader.as_ref() == Some(passport_no) {
                return Err(DomainError::AlreadyLeader {
                    delegation: d.id(),
                    passport_no: passport_no.clone(),
                });
            }
            Ok(vec![Event::LeaderAssigned {
                passport_no: passport_no.clone(),
            }])
        }
        Command::CloseDelegation => {
            if state.n_approved() == 0 {
                return Err(DomainError::CloseWithoutApprovedCompany { delegation: d.id() });
            }
            if state.leader.is_none() {
                return Err(DomainError::CloseWithoutLeader { delegation: d.id() });
            }
            Ok(vec![Event::DelegationClosed {}])
        }
    }
}

/// A lifecycle step's words for [`DomainError::TransitionNotAllowed`]:
/// (verb, past tense, allowed-from in words).
type Step = (&'static str, &'static str, &'static str);
const APPROVE: Step = ("approve", "approved", "submitted or waitlisted");
const WAITLIST: Step = ("waitlist", "waitlisted", "submitted");
const REJECT: Step = ("reject", "rejected", "submitted or waitlisted");

/// `CreateDelegation`: re-checks every field, since a command's fields are
/// public and may not have come through the parsers.
fn create(command: &Command, state: &State) -> Result<Vec<Event>, DomainError> {
    let Command::CreateDelegation {
        id,
        name,
        country,
        arrive,
        depart,
        max_companies,
        max_delegates_per_company,
        passport_validity_months,
    } = command
    else {
        return Ok(Vec::new());
    };
    if let Some(d) = &state.delegation {
        return Err(DomainError::DelegationExists {
            delegation: d.id.clone(),
        });
    }
    check_len("delegation name", name, limits::DELEGATION_NAME)?;
    values::check_expo_date("arrive", *arrive)?;
    values::check_expo_date("depart", *depart)?;
    if depart < arrive {
        return Err(DomainError::DepartBeforeArrive {
            delegation: id.clone(),
            arrive: *arrive,
            depart: *depart,
        });
    }
    let max_companies = values::check_range(
        "max companies",
        i64::from(*max_companies),
        limits::MAX_COMPANIES,
    )?;
    let max_delegates_per_company = values::check_range(
        "max delegates per company",
        i64::from(*max_delegates_per_company),
        limits::MAX_DELEGATES,
    )?;
    let passport_validity_months = values::check_range(
        "passport validity months",
        i64::from(*passport_validity_months),
        limits::PASSPORT_VALIDITY_MONTHS,
    )?;
    Ok(vec![Event::DelegationCreated {
        id: id.clone(),
        name: name.clone(),
        country: country.clone(),
        arrive: *arrive,
        depart: *depart,
        max_companies,
        max_delegates_per_company,
        passport_validity_months,
    }])
}

/// Re-checks a text field's length limit (a `Text` may have been parsed with
/// another field's limits, or read back with the loosest ones).
fn check_len(
    field: &'static str,
    text: &Text,
    (min, max): (usize, usize),
) -> Result<(), ValueError> {
    Text::parse(field, text.as_str(), min, max).map(|_| ())
}

/// What the rules about an existing, open delegation look up.
struct Decision<'a> {
    state: &'a State,
    delegation: &'a Delegation,
}

impl<'a> Decision<'a> {
    fn id(&self) -> DelegationId {
        self.delegation.id.clone()
    }

    /// The NTN's active registration, or why there is none.
    fn active(&self, ntn: &Ntn) -> Result<&'a Registration, DomainError> {
        if let Some(r) = self.state.registration(ntn) {
            return Ok(r);
        }
        Err(match self.state.latest_registration(ntn) {
            Some(r) => DomainError::RegistrationEnded {
                delegation: self.id(),
                ntn: ntn.clone(),
                status: r.status,
            },
            None => DomainError::NotRegistered {
                delegation: self.id(),
                ntn: ntn.clone(),
            },
        })
    }

    /// Refuses a lifecycle step from a status outside `from`.
    fn allow(
        &self,
        r: &Registration,
        (action, done, allowed): Step,
        from: &[RegistrationStatus],
    ) -> Result<(), DomainError> {
        if from.contains(&r.status) {
            Ok(())
        } else {
            Err(DomainError::TransitionNotAllowed {
                delegation: self.id(),
                ntn: r.ntn.clone(),
                action,
                done,
                status: r.status,
                allowed,
            })
        }
    }

    /// A current delegate and their company, or why there is none.
    fn current_delegate(
        &self,
        passport_no: &PassportNo,
    ) -> Result<(&'a Registration, &'a Delegate), DomainError> {
        self.state
            .delegate(passport_no)
            .ok_or_else(|| DomainError::DelegateNotFound {
                delegation: self.id(),
                passport_no: passport_no.clone(),
            })
    }

    /// The events of a registration's delegates leaving with it, and of the
    /// leader going if they were one of them.
    fn delegates_leave(&self, r: &Registration, cause: RemovalCause, events: &mut Vec<Event>) {
        for delegate in &r.delegates {
            events.push(Event::DelegateRemoved {
                ntn: r.ntn.clone(),
                passport_no: delegate.passport_no.clone(),
                cause,
            });
        }
        if let Some(leader) = &self.state.leader {
            if r.delegates.iter().any(|d| &d.passport_no == leader) {
                events.push(Event::LeaderUnassigned {
                    passport_no: leader.clone(),
                });
            }
        }
    }
}

/// Folds one event into the state. Events come from the log and were decided
/// against the state they follow, so an event that does not fit (which only a
/// damaged or hand-written log could hold) changes nothing rather than panic.
pub fn evolve(mut state: State, event: &Event) -> State {
    state.n_events += 1;
    match event {
        Event::DelegationCreated {
            id,
            name,
            country,
            arrive,
            depart,
            max_companies,
            max_delegates_per_company,
            passport_validity_months,
        } => {
            state.delegation = Some(Delegation {
                id: id.clone(),
                name: name.clone(),
                country: country.clone(),
                arrive: *arrive,
                depart: *depart,
                max_companies: *max_companies,
                max_delegates_per_company: *max_delegates_per_company,
                passport_validity_months: *passport_validity_months,
            });
        }
        Event::CompanyRegistered {
            ntn,
            legal_name,
            sector,
            city,
            contact_email,
        } => {
            state.registrations.push(Registration {
                ntn: ntn.clone(),
                legal_name: legal_name.clone(),
                sector: *sector,
                city: city.clone(),
                contact_email: contact_email.clone(),
                status: Submitted,
                delegates: Vec::new(),
            });
            state
                .active
                .insert(ntn.clone(), state.registrations.len() - 1);
        }
        Event::CompanyApproved { ntn } | Event::CompanyPromoted { ntn } => {
            set_status(&mut state, ntn, Approved);
        }
        Event::CompanyWaitlisted { ntn } => {
            if set_status(&mut state, ntn, Waitlisted) && !state.waitlist.contains(ntn) {
                state.waitlist.push(ntn.clone());
            }
        }
        Event::CompanyRejected { ntn, .. } => {
            set_status(&mut state, ntn, RegistrationStatus::Rejected);
        }
        Event::CompanyWithdrawn { ntn, .. } => {
            set_status(&mut state, ntn, RegistrationStatus::Withdrawn);
        }
        Event::DelegateAdded {
            ntn,
            full_name,
            passport_no,
            nationality,
            passport_expiry,
            designation,
        } => {
            if let Some(&i) = state.active.get(ntn) {
                if let Some(r) = state.registrations.get_mut(i) {
                    r.delegates.push(Delegate {
                        full_name: full_name.clone(),
                        passport_no: passport_no.clone(),
                        nationality: nationality.clone(),
                        passport_expiry: *passport_expiry,
                        designation: designation.clone(),
                    });
                    state.delegates.insert(passport_no.clone(), i);
                }
            }
        }
        Event::DelegateRemoved { passport_no, .. } => {
            // Looked up by passport, not NTN: after a rejection or withdrawal
            // the registration is no longer the NTN's active one.
            if let Some(i) = state.delegates.remove(passport_no) {
                if let Some(r) = state.registrations.get_mut(i) {
                    r.delegates.retain(|d| &d.passport_no != passport_no);
                }
            }
        }
        Event::LeaderAssigned { passport_no } => {
            state.leader = Some(passport_no.clone());
        }
        Event::LeaderUnassigned { passport_no } => {
            if state.leader.as_ref() == Some(passport_no) {
                state.leader = None;
            }
        }
        Event::DelegationClosed {} => {
            state.closed = true;
        }
    }
    state
}

/// Sets the NTN's active registration's status, keeping the active index and
/// the waitlist in step. Returns whether there was an active registration.
fn set_status(state: &mut State, ntn: &Ntn, status: RegistrationStatus) -> bool {
    let Some(&i) = state.active.get(ntn) else {
        return false;
    };
    let Some(r) = state.registrations.get_mut(i) else {
        return false;
    };
    r.status = status;
    if status != Waitlisted {
        state.waitlist.retain(|w| w != ntn);
    }
    if !status.is_active() {
        state.active.remove(ntn);
    }
    true
}

/// Folds events, in order, from the initial state.
pub fn fold<'a>(events: impl IntoIterator<Item = &'a Event>) -> State {
    events.into_iter().fold(State::default(), evolve)
}
