//! Turning what the user typed into domain values and commands; a bad value is an error naming the option and the value.

use crate::args::{AddDelegateArgs, CreateArgs, RegisterArgs};
use crate::failure::{invalid, Failure};
use chrono::{DateTime, Utc};
use expo_domain::values::{
    self, limits, CountryCode, DelegationId, Email, Ntn, PassportNo, Sector, Text, ValueError,
};
use expo_domain::Command;

/// A delegation id.
pub fn delegation(s: &str) -> Result<DelegationId, Failure> {
    Ok(DelegationId::parse(s)?)
}

/// An NTN.
pub fn ntn(s: &str) -> Result<Ntn, Failure> {
    Ok(Ntn::parse(s)?)
}

/// A passport number.
pub fn passport(s: &str) -> Result<PassportNo, Failure> {
    Ok(PassportNo::parse(s)?)
}

/// Text for `field` within its `(min, max)` characters.
pub fn text(field: &'static str, s: &str, (min, max): (usize, usize)) -> Result<Text, Failure> {
    Ok(Text::parse(field, s, min, max)?)
}

/// A country code, `PK` when not given.
pub fn country(s: Option<&str>) -> Result<CountryCode, Failure> {
    match s {
        None => Ok(CountryCode::pakistan()),
        Some(s) => Ok(CountryCode::parse(s)?),
    }
}

/// A whole number for `field` within `range`, `default` when not given.
pub fn number(
    field: &'static str,
    s: Option<&str>,
    default: u32,
    range: (u32, u32),
) -> Result<u32, Failure> {
    let Some(s) = s else { return Ok(default) };
    let value: i64 = match s.trim().parse::<i64>() {
        Ok(v) => v,
        // Digits too many for i64 are still a number out of range, and say so.
        Err(_) if is_integer(s) => {
            return Err(invalid(format!(
                "{field} must be {} to {}, got {}",
                range.0,
                range.1,
                s.trim()
            )))
        }
        Err(_) => {
            return Err(invalid(format!(
                "{field} must be a whole number from {} to {}, got {s:?}",
                range.0, range.1
            )))
        }
    };
    Ok(values::check_range(field, value, range)?)
}

/// A count or position given on the command line: a whole number in `min..=max`.
pub fn count(option: &str, s: &str, min: u64, max: u64) -> Result<u64, Failure> {
    let bad = || {
        invalid(format!(
            "{option} must be a whole number from {min} to {max}, got {s:?}"
        ))
    };
    let v: u64 = s.trim().parse().map_err(|_| bad())?;
    if (min..=max).contains(&v) {
        Ok(v)
    } else {
        Err(bad())
    }
}

fn is_integer(s: &str) -> bool {
    let t = s.trim();
    let t = t.strip_prefix(['-', '+']).unwrap_or(t);
    !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit())
}

/// An RFC 3339 moment, for `--as-of`.
pub fn moment(s: &str) -> Result<DateTime<Utc>, Failure> {
    DateTime::parse_from_rfc3339(s.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            invalid(format!(
                "invalid --as-of {s:?}: use an RFC 3339 time such as 2025-05-01T09:00:00Z"
            ))
        })
}

/// `delegation create` as a command.
pub fn create(a: &CreateArgs) -> Result<(DelegationId, Command), Failure> {
    let id = delegation(&a.id)?;
    let name = text("name", &a.name, limits::DELEGATION_NAME)?;
    let arrive = values::parse_expo_date("arrive", &a.arrive)?;
    let depart = values::parse_expo_date("depart", &a.depart)?;
    if arrive > depart {
        return Err(invalid(format!(
            "arrive {arrive} is after depart {depart}: a delegation must arrive on or before the day it departs"
        )));
    }
    let command = Command::CreateDelegation {
        id: id.clone(),
        name,
        country: country(a.country.as_deref())?,
        arrive,
        depart,
        max_companies: number(
            "max-companies",
            a.max_companies.as_deref(),
            20,
            limits::MAX_COMPANIES,
        )?,
        max_delegates_per_company: number(
            "max-delegates",
            a.max_delegates.as_deref(),
            3,
            limits::MAX_DELEGATES,
        )?,
        passport_validity_months: number(
            "passport-validity-months",
            a.passport_validity_months.as_deref(),
            6,
            limits::PASSPORT_VALIDITY_MONTHS,
        )?,
    };
    Ok((id, command))
}

/// `company register` as a command.
pub fn register(a: &RegisterArgs) -> Result<(DelegationId, Command), Failure> {
    let id = delegation(&a.at.delegation)?;
    let command = register_company(&a.at.ntn, &a.name, &a.sector, &a.city, &a.email)?;
    Ok((id, command))
}

/// A `RegisterCompany` from its fields as text (also used by the CSV import).
pub fn register_company(
    ntn_text: &str,
    legal_name: &str,
    sector: &str,
    city: &str,
    email: &str,
) -> Result<Command, ValueError> {
    Ok(Command::RegisterCompany {
        ntn: Ntn::parse(ntn_text)?,
        legal_name: Text::parse(
            "legal name",
            legal_name,
            limits::LEGAL_NAME.0,
            limits::LEGAL_NAME.1,
        )?,
        sector: Sector::parse(sector)?,
        city: Text::parse("city", city, limits::CITY.0, limits::CITY.1)?,
        contact_email: Email::parse(email)?,
    })
}

/// `delegate add` as a command.
pub fn add_delegate(a: &AddDelegateArgs) -> Result<(DelegationId, Command), Failure> {
    let id = delegation(&a.at.delegation)?;
    let command = delegate_command(
        &a.at.ntn,
        &a.name,
        &a.passport,
        &a.passport_expiry,
        &a.designation,
        a.nationality.as_deref(),
    )?;
    Ok((id, command))
}

/// An `AddDelegate` from its fields as text (also used by the CSV import);
/// an empty or missing nationality means `PK`.
pub fn delegate_command(
    ntn_text: &str,
    full_name: &str,
    passport_no: &str,
    passport_expiry: &str,
    designation: &str,
    nationality: Option<&str>,
) -> Result<Command, ValueError> {
    let nationality = match nationality.map(str::trim) {
        None | Some("") => CountryCode::pakistan(),
        Some(n) => CountryCode::parse(n)?,
    };
    Ok(Command::AddDelegate {
        ntn: Ntn::parse(ntn_text)?,
        full_name: Text::parse(
            "full name",
            full_name,
            limits::FULL_NAME.0,
            limits::FULL_NAME.1,
        )?,
        passport_no: PassportNo::parse(passport_no)?,
        nationality,
        passport_expiry: values::parse_date(passport_expiry)?,
        designation: Text::parse(
            "designation",
            designation,
            limits::DESIGNATION.0,
            limits::DESIGNATION.1,
        )?,
    })
}

/// A reason for a rejection or withdrawal.
pub fn reason(s: &str) -> Result<Text, Failure> {
    text("reason", s, limits::REASON)
}
