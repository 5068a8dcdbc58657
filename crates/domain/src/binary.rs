//! The stored binary form of an event's data: its fields in declaration order, read back through the same value parsers as JSON.
//!
//! A replay decoded every stored event's data from JSON text; the text
//! parse, the date parse and the string copies were most of the work of the
//! thread that reads the log. This form holds the same fields (the current
//! schema of the type only; older schemas stay JSON) in about a third of
//! the bytes.
//!
//! It is a stored format, and the schema stored beside the data says which
//! layout it is in. Binary data is only ever written for the current
//! schema of its type, so when a type's schema changes, the layout of the
//! schema it replaces must stay readable: give [`Event::from_binary`] a
//! reader for it that yields that schema's JSON data, for the upcaster to
//! upgrade (as it does for JSON text). The golden test at the end of this
//! file fails when a layout or a schema changes, as a reminder.
//!
//! Layout: [`TAG`], then each field of the variant in the order the enum
//! declares it: text as a varint byte length and UTF-8, a whole number as a
//! varint, a date as a zigzag varint of days from the common era, a sector
//! or removal cause as one byte. Nothing may follow the last field.
//!
//! Decoding never trusts the bytes: every value goes through its parser, as
//! a JSON value does, so a stored event can hold nothing a command could
//! not have written.

use crate::event::{DecodeError, Event, RemovalCause};
use crate::values::{CountryCode, DelegationId, Email, Ntn, PassportNo, Sector, Text};
use chrono::{Datelike, NaiveDate};

/// The first byte of binary data. JSON text can never start with it (it is
/// not even a UTF-8 lead byte), so stored data of either form tells which
/// it is by its first byte.
pub const TAG: u8 = 0xB1;

/// True when stored data is in this binary form (else it is JSON text).
pub fn is_binary(data: &[u8]) -> bool {
    data.first() == Some(&TAG)
}

impl Event {
    /// The event's data in the stored binary form (current schema).
    pub fn to_binary(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64);
        out.push(TAG);
        let w = &mut out;
        match self {
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
                put_str(w, id.as_str());
                put_str(w, name.as_str());
                put_str(w, country.as_str());
                put_date(w, *arrive);
                put_date(w, *depart);
                put_varint(w, u64::from(*max_companies));
                put_varint(w, u64::from(*max_delegates_per_company));
                put_varint(w, u64::from(*passport_validity_months));
            }
            Event::CompanyRegistered {
                ntn,
                legal_name,
                sector,
                city,
                contact_email,
            } => {
                put_str(w, ntn.as_str());
                put_str(w, legal_name.as_str());
                w.push(code_of(&Sector::ALL, sector));
                put_str(w, city.as_str());
                put_str(w, contact_email.as_str());
            }
            Event::CompanyApproved { ntn }
            | Event::CompanyWaitlisted { ntn }
            | Event::CompanyPromoted { ntn } => put_str(w, ntn.as_str()),
            Event::CompanyRejected { ntn, reason } | Event::CompanyWithdrawn { ntn, reason } => {
                put_str(w, ntn.as_str());
                put_str(w, reason.as_str());
            }
            Event::DelegateAdded {
                ntn,
                full_name,
                passport_no,
                nationality,
                passport_expiry,
                designation,
            } => {
                put_str(w, ntn.as_str());
                put_str(w, full_name.as_str());
                put_str(w, passport_no.as_str());
                put_str(w, nationality.as_str());
                put_date(w, *passport_expiry);
                put_str(w, designation.as_str());
            }
            Event::DelegateRemoved {
                ntn,
                passport_no,
                cause,
            } => {
                put_str(w, ntn.as_str());
                put_str(w, passport_no.as_str());
                w.push(code_of(&CAUSES, cause));
            }
            Event::LeaderAssigned { passport_no } | Event::LeaderUnassigned { passport_no } => {
                put_str(w, passport_no.as_str());
            }
            Event::DelegationClosed {} => {}
        }
        out
    }

    /// Rebuilds an event of type `type_name` from its binary data, stored
    /// with schema `schema` (which must be the type's current one: no older
    /// schema has a binary layout yet).
    pub fn from_binary(type_name: &str, schema: u32, data: &[u8]) -> Result<Event, DecodeError> {
        let bad = |message: String| DecodeError::Data {
            type_name: type_name.to_owned(),
            message,
        };
        match crate::event::schema_of(type_name) {
            None => return Err(DecodeError::UnknownType(type_name.to_owned())),
            Some(current) if current != schema => {
                return Err(DecodeError::UnknownSchema {
                    type_name: type_name.to_owned(),
                    schema,
                })
            }
            Some(_) => {}
        }
        let Some((&TAG, body)) = data.split_first() else {
            return Err(bad("data is not in the binary form".to_owned()));
        };
        let mut r = Reader { b: body, i: 0 };
        let event = read_fields(type_name, &mut r).map_err(bad)?;
        if r.i != r.b.len() {
            return Err(bad(format!(
                "{} bytes after the last field",
                r.b.len() - r.i
            )));
        }
        Ok(event)
    }
}

/// The fields of one variant, read in the order [`Event::to_binary`] wrote them.
fn read_fields(type_name: &str, r: &mut Reader<'_>) -> Result<Event, String> {
    Ok(match type_name {
        "DelegationCreated" => Event::DelegationCreated {
            id: value(DelegationId::parse(r.str()?))?,
            name: text(r)?,
            country: value(CountryCode::parse(r.str()?))?,
            arrive: r.date()?,
            depart: r.date()?,
            max_companies: r.u32()?,
            max_delegates_per_company: r.u32()?,
            passport_validity_months: r.u32()?,
        },
        "CompanyRegistered" => Event::CompanyRegistered {
            ntn: ntn(r)?,
            legal_name: text(r)?,
            sector: *Sector::ALL
                .get(usize::from(r.byte()?))
                .ok_or("unknown sector code")?,
            city: text(r)?,
            contact_email: value(Email::parse(r.str()?))?,
        },
        "CompanyApproved" => Event::CompanyApproved { ntn: ntn(r)? },
        "CompanyWaitlisted" => Event::CompanyWaitlisted { ntn: ntn(r)? },
        "CompanyPromoted" => Event::CompanyPromoted { ntn: ntn(r)? },
        "CompanyRejected" => Event::CompanyRejected {
            ntn: ntn(r)?,
            reason: text(r)?,
        },
        "CompanyWithdrawn" => Event::CompanyWithdrawn {
            ntn: ntn(r)?,
            reason: text(r)?,
        },
        "DelegateAdded" => Event::DelegateAdded {
            ntn: ntn(r)?,
            full_name: text(r)?,
            passport_no: passport(r)?,
            nationality: value(CountryCode::parse(r.str()?))?,
            passport_expiry: r.date()?,
            designation: text(r)?,
        },
        "DelegateRemoved" => Event::DelegateRemoved {
            ntn: ntn(r)?,
            passport_no: passport(r)?,
            cause: *CAUSES
                .get(usize::from(r.byte()?))
                .ok_or("unknown removal cause code")?,
        },
        "LeaderAssigned" => Event::LeaderAssigned {
            passport_no: passport(r)?,
        },
        "LeaderUnassigned" => Event::LeaderUnassigned {
            passport_no: passport(r)?,
        },
        "DelegationClosed" => Event::DelegationClosed {},
        other => return Err(format!("unknown event type {other:?}")),
    })
}

fn value<T>(parsed: Result<T, crate::values::ValueError>) -> Result<T, String> {
    parsed.map_err(|e| e.to_string())
}

/// Text, checked as JSON text is when read back.
fn text(r: &mut Reader<'_>) -> Result<Text, String> {
    value(Text::parse_stored(r.str()?))
}

fn ntn(r: &mut Reader<'_>) -> Result<Ntn, String> {
    value(Ntn::parse(r.str()?))
}

fn passport(r: &mut Reader<'_>) -> Result<PassportNo, String> {
    value(PassportNo::parse(r.str()?))
}

/// Removal causes by their one-byte code (the index), as sectors are by
/// their place in [`Sector::ALL`]: one table for both directions.
const CAUSES: [RemovalCause; 3] = [
    RemovalCause::Removed,
    RemovalCause::CompanyRejected,
    RemovalCause::CompanyWithdrawn,
];

/// The index of `x` in `table` as one byte (every table here is short).
fn code_of<T: PartialEq>(table: &[T], x: &T) -> u8 {
    table
        .iter()
        .position(|t| t == x)
        .and_then(|i| u8::try_from(i).ok())
        .unwrap_or(u8::MAX)
}

fn put_varint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_varint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

fn put_date(out: &mut Vec<u8>, d: NaiveDate) {
    let days = i64::from(d.num_days_from_ce());
    put_varint(out, ((days << 1) ^ (days >> 63)) as u64);
}

/// A bounds-checked cursor: damaged bytes are an error, never a panic.
struct Reader<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Reader<'a> {
    fn byte(&mut self) -> Result<u8, String> {
        let b = *self.b.get(self.i).ok_or("data ends early")?;
        self.i += 1;
        Ok(b)
    }

    fn varint(&mut self) -> Result<u64, String> {
        let mut n = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            n |= u64::from(b & 0x7F) << shift;
            if b & 0x80 == 0 {
                return Ok(n);
            }
        }
        Err("number too long".to_owned())
    }

    fn u32(&mut self) -> Result<u32, String> {
        u32::try_from(self.varint()?).map_err(|_| "number out of range".to_owned())
    }

    fn str(&mut self) -> Result<&'a str, String> {
        let n = usize::try_from(self.varint()?).map_err(|_| "length out of range")?;
        let end = self.i.checked_add(n).ok_or("length out of range")?;
        let s = self.b.get(self.i..end).ok_or("data ends early")?;
        self.i = end;
        std::str::from_utf8(s).map_err(|_| "text is not UTF-8".to_owned())
    }

    fn date(&mut self) -> Result<NaiveDate, String> {
        let z = self.varint()?;
        let days = ((z >> 1) as i64) ^ -((z & 1) as i64);
        i32::try_from(days)
            .ok()
            .and_then(NaiveDate::from_num_days_from_ce_opt)
            .ok_or_else(|| "date out of range".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{decide, evolve, sample, State};
    use std::collections::BTreeMap;

    /// Every event the demo decides, and one of each removal cause and of
    /// the leader's losing the post (the demo has neither).
    fn all_events() -> Vec<Event> {
        let mut states: BTreeMap<DelegationId, State> = BTreeMap::new();
        let mut out = Vec::new();
        for step in sample::demo() {
            let state = states.remove(&step.delegation).unwrap_or_default();
            let events = decide(&step.command, &state).expect("the demo is accepted");
            states.insert(step.delegation.clone(), events.iter().fold(state, evolve));
            out.extend(events);
        }
        let ntn = Ntn::parse("1234567-8").expect("ntn");
        let passport_no = PassportNo::parse("AB1234567").expect("passport");
        for cause in [
            RemovalCause::Removed,
            RemovalCause::CompanyRejected,
            RemovalCause::CompanyWithdrawn,
        ] {
            out.push(Event::DelegateRemoved {
                ntn: ntn.clone(),
                passport_no: passport_no.clone(),
                cause,
            });
        }
        out.push(Event::LeaderUnassigned { passport_no });
        out
    }

    /// Given every event of the sample registry, when each is written in
    /// the binary form and read back, then it is the same event, in fewer
    /// bytes than its JSON.
    #[test]
    fn every_sample_event_round_trips_in_fewer_bytes() {
        let events = all_events();
        let mut types = std::collections::BTreeSet::new();
        for e in &events {
            let bytes = e.to_binary();
            assert!(is_binary(&bytes));
            assert_eq!(
                Event::from_binary(e.type_name(), e.schema(), &bytes).as_ref(),
                Ok(e)
            );
            assert!(bytes.len() < e.data_json().to_string().len(), "{e:?}");
            types.insert(e.type_name());
        }
        assert_eq!(types.len(), Event::TYPES.len(), "the sample has every type");
    }

    /// Given binary data, when any byte is changed or the data is cut
    /// short, then reading it back is an error or a valid event, never a
    /// panic, and a cut is always an error.
    #[test]
    fn damaged_binary_data_is_an_error_not_a_panic() {
        for e in all_events() {
            let bytes = e.to_binary();
            for i in 0..bytes.len() {
                for flip in [0x01, 0x80, 0xFF] {
                    let mut bad = bytes.clone();
                    bad[i] ^= flip;
                    let _ = Event::from_binary(e.type_name(), e.schema(), &bad);
                }
                if i > 0 || bytes.len() == 1 {
                    let cut = Event::from_binary(e.type_name(), e.schema(), &bytes[..i]);
                    assert!(cut.is_err(), "{e:?} cut at {i}");
                }
            }
            let mut long = bytes.clone();
            long.push(0);
            assert!(Event::from_binary(e.type_name(), e.schema(), &long).is_err());
        }
    }

    /// Given data that holds what no command could write (an empty name, a
    /// bad passport number), when it is read back, then it is refused, as
    /// the same data in JSON is.
    #[test]
    fn binary_data_goes_through_the_value_parsers() {
        let mut empty_name = vec![TAG];
        put_str(&mut empty_name, "1234567");
        put_str(&mut empty_name, "   ");
        assert!(Event::from_binary("CompanyRejected", 1, &empty_name).is_err());
        let mut bad_passport = vec![TAG];
        put_str(&mut bad_passport, "A!");
        assert!(Event::from_binary("LeaderAssigned", 1, &bad_passport).is_err());
        assert!(Event::from_binary("NoSuchType", 1, &[TAG]).is_err());
        assert!(Event::from_binary("DelegationClosed", 1, b"{}").is_err());
    }
    /// One event of each type, fixed here (not taken from the sample, which
    /// may change).
    fn one_of_each() -> Vec<Event> {
        let ntn = Ntn::parse("1234567-8").expect("ntn");
        let passport_no = PassportNo::parse("AB1234567").expect("passport");
        let text = |s: &str| Text::parse_stored(s).expect("text");
        let date = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("date");
        vec![
            Event::DelegationCreated {
                id: DelegationId::parse("pk-textiles-may").expect("id"),
                name: text("Textiles, May"),
                country: CountryCode::parse("PK").expect("country"),
                arrive: date(2025, 5, 12),
                depart: date(2025, 5, 18),
                max_companies: 300,
                max_delegates_per_company: 4,
                passport_validity_months: 6,
            },
            Event::CompanyRegistered {
                ntn: ntn.clone(),
                legal_name: text("Kohinoor Mills"),
                sector: Sector::ItHr,
                city: text("Lahore"),
                contact_email: Email::parse("a@b.pk").expect("email"),
            },
            Event::CompanyApproved { ntn: ntn.clone() },
            Event::CompanyWaitlisted { ntn: ntn.clone() },
            Event::CompanyPromoted { ntn: ntn.clone() },
            Event::CompanyRejected {
                ntn: ntn.clone(),
                reason: text("late"),
            },
            Event::CompanyWithdrawn {
                ntn: ntn.clone(),
                reason: text("é"),
            },
            Event::DelegateAdded {
                ntn: ntn.clone(),
                full_name: text("Ayesha Khan"),
                passport_no: passport_no.clone(),
                nationality: CountryCode::parse("JP").expect("country"),
                passport_expiry: date(1969, 12, 31),
                designation: text("CEO"),
            },
            Event::DelegateRemoved {
                ntn,
                passport_no: passport_no.clone(),
                cause: RemovalCause::CompanyWithdrawn,
            },
            Event::LeaderAssigned {
                passport_no: passport_no.clone(),
            },
            Event::LeaderUnassigned { passport_no },
            Event::DelegationClosed {},
        ]
    }

    /// Given one event of each type, when each is written in the binary
    /// form, then the bytes and the schema are exactly these.
    ///
    /// Stores hold these bytes. If this fails because a layout or a schema
    /// changed, the old layout must stay readable (see the module's
    /// documentation) before the expected text here is updated.
    #[test]
    fn the_stored_layouts_do_not_change_unnoticed() {
        let got: String = one_of_each()
            .iter()
            .map(|e| {
                let hex: String = e.to_binary().iter().map(|b| format!("{b:02x}")).collect();
                format!("{} {} {hex}\n", e.type_name(), e.schema())
            })
            .collect();
        let expected = "\
DelegationCreated 1 b10f706b2d74657874696c65732d6d61790d54657874696c65732c204d617902504beea05afaa05aac020406
CompanyRegistered 1 b109313233343536372d380e4b6f68696e6f6f72204d696c6c7305064c61686f7265066140622e706b
CompanyApproved 1 b109313233343536372d38
CompanyWaitlisted 1 b109313233343536372d38
CompanyPromoted 1 b109313233343536372d38
CompanyRejected 1 b109313233343536372d38046c617465
CompanyWithdrawn 1 b109313233343536372d3802c3a9
DelegateAdded 2 b109313233343536372d380b417965736861204b68616e09414231323334353637024a50f4e4570343454f
DelegateRemoved 1 b109313233343536372d380941423132333435363702
LeaderAssigned 1 b109414231323334353637
LeaderUnassigned 1 b109414231323334353637
DelegationClosed 1 b1
";
        assert_eq!(got, expected);
        for e in one_of_each() {
            let back = Event::from_binary(e.type_name(), e.schema(), &e.to_binary());
            assert_eq!(back, Ok(e));
        }
        // No older schema has a binary layout: such data is refused by name.
        let added = &one_of_each()[7];
        assert_eq!(
            Event::from_binary("DelegateAdded", 1, &added.to_binary()),
            Err(DecodeError::UnknownSchema {
                type_name: "DelegateAdded".to_owned(),
                schema: 1
            })
        );
    }
}
