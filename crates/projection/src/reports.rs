//! The sector report, the status report and the visa-letter list.

use crate::render::{self, Format, Render};
use crate::view::{DelegationStatus, SectorCounts, StatusCounts, Summary, View};
use crate::ProjectionError;
use chrono::NaiveDate;
use expo_domain::values::{CountryCode, DelegationId, Ntn, Sector, Text};
use serde::Serialize;
use std::fmt::Write as _;

/// Approved companies and delegates per sector, across all delegations or one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SectorReport {
    /// The one delegation reported on, or `None` for all.
    pub delegation: Option<DelegationId>,
    /// How many delegations the report covers.
    pub delegations: u32,
    /// Every sector, in the fixed sector order (zeros included).
    pub sectors: Vec<SectorRow>,
    /// Sums over the sectors.
    pub totals: SectorCounts,
    /// The log position the report stands at.
    pub as_of_position: u64,
}

/// One sector's line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SectorRow {
    /// Sector.
    pub sector: Sector,
    /// Approved companies.
    pub approved_companies: u32,
    /// Their delegates.
    pub delegates: u32,
}

/// The sector report over `summaries`, or over the one delegation `only`
/// (an error if it is not among them).
pub fn sector_report(
    summaries: &[Summary],
    only: Option<&str>,
    as_of_position: u64,
) -> Result<SectorReport, ProjectionError> {
    let chosen: Vec<&Summary> = match only {
        Some(id) => {
            let s = summaries
                .iter()
                .find(|s| s.id.as_str() == id)
                .ok_or_else(|| ProjectionError::UnknownDelegation(id.to_owned()))?;
            vec![s]
        }
        None => summaries.iter().collect(),
    };
    let sectors: Vec<SectorRow> = Sector::ALL
        .iter()
        .map(|&sector| {
            let mut row = SectorRow {
                sector,
                approved_companies: 0,
                delegates: 0,
            };
            for c in chosen.iter().filter_map(|s| s.sectors.get(&sector)) {
                row.approved_companies += c.approved_companies;
                row.delegates += c.delegates;
            }
            row
        })
        .collect();
    let totals = SectorCounts {
        approved_companies: sectors.iter().map(|r| r.approved_companies).sum(),
        delegates: sectors.iter().map(|r| r.delegates).sum(),
    };
    Ok(SectorReport {
        delegation: chosen
            .first()
            .filter(|_| only.is_some())
            .map(|s| s.id.clone()),
        delegations: u32::try_from(chosen.len()).unwrap_or(u32::MAX),
        sectors,
        totals,
        as_of_position,
    })
}

impl Render for SectorReport {
    fn render(&self, format: Format, _full: bool) -> String {
        let rows = || {
            self.sectors.iter().map(|r| {
                vec![
                    r.sector.to_string(),
                    r.approved_companies.to_string(),
                    r.delegates.to_string(),
                ]
            })
        };
        match format {
            Format::Json => render::json(self),
            Format::Csv => render::csv(
                &["sector", "approved_companies", "delegates"],
                rows().collect(),
            ),
            Format::Table => {
                let scope = match &self.delegation {
                    Some(id) => format!("delegation {id}"),
                    None => format!("all delegations ({})", self.delegations),
                };
                let mut s = format!("Approved companies and delegates by sector: {scope}\n");
                if self.delegations == 0 {
                    s.push_str("No delegations yet.\n");
                } else {
                    let mut all: Vec<Vec<String>> = rows().collect();
                    all.push(vec![
                        "total".to_owned(),
                        self.totals.approved_companies.to_string(),
                        self.totals.delegates.to_string(),
                    ]);
                    s.push_str(&render::table(
                        &["Sector", "Approved companies", "Delegates"],
                        all,
                        &[1, 2],
                    ));
                }
                let _ = writeln!(s, "As of position {}", self.as_of_position);
                s
            }
        }
    }
}

/// Registrations per status and seats left, per delegation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusReport {
    /// One line per delegation, by id.
    pub delegations: Vec<StatusRow>,
    /// Sums over the delegations.
    pub totals: StatusCounts,
    /// The log position the report stands at.
    pub as_of_position: u64,
}

/// One delegation's line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusRow {
    /// Slug.
    pub id: DelegationId,
    /// Display name.
    pub name: Text,
    /// Open or closed.
    pub status: DelegationStatus,
    /// Every registration ever made, per status.
    pub registrations: StatusCounts,
    /// Approved companies at most.
    pub max_companies: u32,
    /// Seats still free.
    pub seats_left: u32,
}

/// The status report over `summaries`.
pub fn status_report(summaries: &[Summary], as_of_position: u64) -> StatusReport {
    let delegations: Vec<StatusRow> = summaries
        .iter()
        .map(|s| StatusRow {
            id: s.id.clone(),
            name: s.name.clone(),
            status: s.status,
            registrations: s.registrations,
            max_companies: s.max_companies,
            seats_left: s.seats_left,
        })
        .collect();
    let mut totals = StatusCounts::default();
    for r in &delegations {
        totals.submitted += r.registrations.submitted;
        totals.approved += r.registrations.approved;
        totals.waitlisted += r.registrations.waitlisted;
        totals.rejected += r.registrations.rejected;
        totals.withdrawn += r.registrations.withdrawn;
    }
    StatusReport {
        delegations,
        totals,
        as_of_position,
    }
}

impl Render for StatusReport {
    fn render(&self, format: Format, _full: bool) -> String {
        let row = |r: &StatusRow, name: bool| {
            let mut v = vec![r.id.to_string()];
            if name {
                v.push(r.name.to_string());
            }
            v.push(r.status.to_string());
            let c = &r.registrations;
            v.extend(
                [
                    c.submitted,
                    c.approved,
                    c.waitlisted,
                    c.rejected,
                    c.withdrawn,
                ]
                .map(|n| n.to_string()),
            );
            v.push(r.max_companies.to_string());
            v.push(r.seats_left.to_string());
            v
        };
        match format {
            Format::Json => render::json(self),
            Format::Csv => render::csv(
                &[
                    "id",
                    "name",
                    "status",
                    "submitted",
                    "approved",
                    "waitlisted",
                    "rejected",
                    "withdrawn",
                    "max_companies",
                    "seats_left",
                ],
                self.delegations.iter().map(|r| row(r, true)).collect(),
            ),
            Format::Table => {
                let mut s = format!(
                    "Registrations by status: {} delegations\n",
                    self.delegations.len()
                );
                if self.delegations.is_empty() {
                    s.push_str("No delegations yet.\n");
                } else {
                    let rows = self.delegations.iter().map(|r| row(r, false)).collect();
                    s.push_str(&render::table(
                        &[
                            "Delegation",
                            "Status",
                            "Submitted",
                            "Approved",
                            "Waitlisted",
                            "Rejected",
                            "Withdrawn",
                            "Max companies",
                            "Seats left",
                        ],
                        rows,
                        &[2, 3, 4, 5, 6, 7, 8],
                    ));
                    let t = &self.totals;
                    let _ = writeln!(
                        s,
                        "Total: {} submitted · {} approved · {} waitlisted · {} rejected · {} withdrawn",
                        t.submitted, t.approved, t.waitlisted, t.rejected, t.withdrawn
                    );
                }
                let _ = writeln!(s, "As of position {}", self.as_of_position);
                s
            }
        }
    }
}

/// Everything needed to request invitation letters for one delegation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VisaLetters {
    /// Slug.
    pub delegation: DelegationId,
    /// Display name.
    pub name: Text,
    /// Arrival.
    pub arrive: NaiveDate,
    /// Departure.
    pub depart: NaiveDate,
    /// One letter per delegate of an approved company, in roster order.
    pub letters: Vec<VisaLetter>,
    /// The log position the list stands at.
    pub as_of_position: u64,
}

/// One delegate's invitation-letter line. The passport number is always in full.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VisaLetter {
    /// Name as in the passport.
    pub full_name: Text,
    /// Passport number, in full.
    pub passport_no: String,
    /// Passport expiry.
    pub passport_expiry: NaiveDate,
    /// Nationality.
    pub nationality: CountryCode,
    /// Job title.
    pub designation: Text,
    /// The company's legal name.
    pub legal_name: Text,
    /// The company's NTN.
    pub ntn: Ntn,
    /// Arrival.
    pub arrive: NaiveDate,
    /// Departure.
    pub depart: NaiveDate,
}

/// The visa-letter list of `view` at log position `as_of_position`.
pub fn visa_letters(view: &View, as_of_position: u64) -> VisaLetters {
    let letters = view
        .approved()
        .into_iter()
        .flat_map(|(ntn, r)| {
            r.delegates.iter().map(move |d| VisaLetter {
                full_name: d.full_name.clone(),
                passport_no: d.passport_no.to_string(),
                passport_expiry: d.passport_expiry,
                nationality: d.nationality.clone(),
                designation: d.designation.clone(),
                legal_name: r.legal_name.clone(),
                ntn: ntn.clone(),
                arrive: view.arrive,
                depart: view.depart,
            })
        })
        .collect();
    VisaLetters {
        delegation: view.id.clone(),
        name: view.name.clone(),
        arrive: view.arrive,
        depart: view.depart,
        letters,
        as_of_position,
    }
}

impl Render for VisaLetters {
    /// The list is for visa requests, so passports are shown in full
    /// whatever `full` says.
    fn render(&self, format: Format, _full: bool) -> String {
        let row = |l: &VisaLetter| {
            vec![
                l.full_name.to_string(),
                l.passport_no.clone(),
                l.passport_expiry.to_string(),
                l.nationality.to_string(),
                l.designation.to_string(),
                l.legal_name.to_string(),
                l.ntn.to_string(),
                l.arrive.to_string(),
                l.depart.to_string(),
            ]
        };
        match format {
            Format::Json => render::json(self),
            Format::Csv => render::csv(
                &[
                    "full_name",
                    "passport_no",
                    "passport_expiry",
                    "nationality",
                    "designation",
                    "legal_name",
                    "ntn",
                    "arrive",
                    "depart",
                ],
                self.letters.iter().map(row).collect(),
            ),
            Format::Table => {
                let mut s = format!(
                    "Visa-letter list: {} ({}), in Osaka {} to {}\n",
                    self.delegation, self.name, self.arrive, self.depart
                );
                if self.letters.is_empty() {
                    s.push_str("No delegates of approved companies yet.\n");
                } else {
                    let rows = self
                        .letters
                        .iter()
                        .enumerate()
                        .map(|(i, l)| {
                            let mut r = vec![(i + 1).to_string()];
                            r.extend(row(l).into_iter().take(7));
                            r
                        })
                        .collect();
                    s.push_str(&render::table(
                        &[
                            "#",
                            "Full name",
                            "Passport",
                            "Passport expiry",
                            "Nationality",
                            "Designation",
                            "Company",
                            "NTN",
                        ],
                        rows,
                        &[0],
                    ));
                    let _ = writeln!(
                        s,
                        "{} delegates, all arriving {} and departing {}",
                        self.letters.len(),
                        self.arrive,
                        self.depart
                    );
                }
                let _ = writeln!(s, "As of position {}", self.as_of_position);
                s
            }
        }
    }
}
