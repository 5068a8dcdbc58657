//! The registry's events: what happened to a delegation, past tense, with a stable type name and schema version.

use crate::values::{CountryCode, DelegationId, Email, Ntn, PassportNo, Sector, Text};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Why a delegate left the delegation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RemovalCause {
    /// Staff removed the delegate.
    Removed,
    /// The delegate's company was rejected.
    CompanyRejected,
    /// The delegate's company withdrew.
    CompanyWithdrawn,
}

/// One thing that happened to a delegation. A delegation is one stream.
///
/// Serialised adjacently tagged: `{"type": "CompanyApproved", "data": {...}}`.
/// The `type` names and the fields of `data` are a stored format: change
/// them only with a new schema version and an upcaster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum Event {
    /// A delegation was created (always the stream's first event).
    DelegationCreated {
        /// The delegation's slug (also the stream name).
        id: DelegationId,
        /// Display name.
        name: Text,
        /// Country the delegation comes from.
        country: CountryCode,
        /// Arrival in Osaka.
        #[serde(deserialize_with = "crate::values::date_text")]
        arrive: NaiveDate,
        /// Departure from Osaka.
        #[serde(deserialize_with = "crate::values::date_text")]
        depart: NaiveDate,
        /// Approved companies at most.
        max_companies: u32,
        /// Delegates per company at most.
        max_delegates_per_company: u32,
        /// Months a passport must stay valid after `depart`.
        passport_validity_months: u32,
    },
    /// A company applied to join the delegation (a new registration).
    CompanyRegistered {
        /// The company's NTN.
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
    /// A registration was approved by staff.
    CompanyApproved {
        /// The company's NTN.
        ntn: Ntn,
    },
    /// A registration was put on the waitlist.
    CompanyWaitlisted {
        /// The company's NTN.
        ntn: Ntn,
    },
    /// A waitlisted registration took the seat an approved company gave up.
    CompanyPromoted {
        /// The company's NTN.
        ntn: Ntn,
    },
    /// A registration was rejected (final).
    CompanyRejected {
        /// The company's NTN.
        ntn: Ntn,
        /// Why.
        reason: Text,
    },
    /// A registration was withdrawn (final).
    CompanyWithdrawn {
        /// The company's NTN.
        ntn: Ntn,
        /// Why.
        reason: Text,
    },
    /// A traveller joined a company's registration.
    DelegateAdded {
        /// The company's NTN.
        ntn: Ntn,
        /// Name exactly as in the passport.
        full_name: Text,
        /// Passport number.
        passport_no: PassportNo,
        /// Nationality.
        nationality: CountryCode,
        /// Passport expiry date.
        #[serde(deserialize_with = "crate::values::date_text")]
        passport_expiry: NaiveDate,
        /// Job title.
        designation: Text,
    },
    /// A traveller left the delegation.
    DelegateRemoved {
        /// The company's NTN.
        ntn: Ntn,
        /// Passport number.
        passport_no: PassportNo,
        /// Why the delegate left.
        cause: RemovalCause,
    },
    /// A delegate was named leader (replacing any earlier leader).
    LeaderAssigned {
        /// The leader's passport number.
        passport_no: PassportNo,
    },
    /// The delegation lost its leader.
    LeaderUnassigned {
        /// The former leader's passport number.
        passport_no: PassportNo,
    },
    /// The delegation was finalised: nothing changes after this.
    DelegationClosed {},
}

impl Event {
    /// Every event type name, as stored.
    pub const TYPES: [&'static str; 12] = [
        "DelegationCreated",
        "CompanyRegistered",
        "CompanyApproved",
        "CompanyWaitlisted",
        "CompanyPromoted",
        "CompanyRejected",
        "CompanyWithdrawn",
        "DelegateAdded",
        "DelegateRemoved",
        "LeaderAssigned",
        "LeaderUnassigned",
        "DelegationClosed",
    ];

    /// The stable type name stored with the event.
    pub fn type_name(&self) -> &'static str {
        match self {
            Event::DelegationCreated { .. } => "DelegationCreated",
            Event::CompanyRegistered { .. } => "CompanyRegistered",
            Event::CompanyApproved { .. } => "CompanyApproved",
            Event::CompanyWaitlisted { .. } => "CompanyWaitlisted",
            Event::CompanyPromoted { .. } => "CompanyPromoted",
            Event::CompanyRejected { .. } => "CompanyRejected",
            Event::CompanyWithdrawn { .. } => "CompanyWithdrawn",
            Event::DelegateAdded { .. } => "DelegateAdded",
            Event::DelegateRemoved { .. } => "DelegateRemoved",
            Event::LeaderAssigned { .. } => "LeaderAssigned",
            Event::LeaderUnassigned { .. } => "LeaderUnassigned",
            Event::DelegationClosed { .. } => "DelegationClosed",
        }
    }

    /// The current schema version of this event's type.
    pub fn schema(&self) -> u32 {
        schema_of(self.type_name()).unwrap_or(1)
    }

    /// The event's own fields as JSON (the envelope's `data`).
    pub fn data_json(&self) -> serde_json::Value {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(mut o)) => {
                o.remove("data").unwrap_or(serde_json::Value::Null)
            }
            _ => serde_json::Value::Null,
        }
    }

    /// Rebuilds an event from its stored type name, schema version and data,
    /// upgrading an older schema first (see [`upcast`]).
    pub fn from_parts(
        type_name: &str,
        schema: u32,
        data: serde_json::Value,
    ) -> Result<Event, DecodeError> {
        let (schema, data) = upcast(type_name, schema, data)?;
        let current =
            schema_of(type_name).ok_or_else(|| DecodeError::UnknownType(type_name.to_owned()))?;
        if schema != current {
            return Err(DecodeError::UnknownSchema {
                type_name: type_name.to_owned(),
                schema,
            });
        }
        let tagged = serde_json::json!({ "type": type_name, "data": data });
        serde_json::from_value(tagged).map_err(|e| DecodeError::Data {
            type_name: type_name.to_owned(),
            message: e.to_string(),
        })
    }
}

/// Why stored event data could not be turned back into an [`Event`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The type name is not one of [`Event::TYPES`].
    #[error("unknown event type {0:?}")]
    UnknownType(String),
    /// The schema version is newer than this program knows, or has no upcaster.
    #[error("event type {type_name} has unknown schema version {schema}")]
    UnknownSchema {
        /// Type name.
        type_name: String,
        /// Schema given.
        schema: u32,
    },
    /// The data does not match the type's fields.
    #[error("event {type_name} has bad data: {message}")]
    Data {
        /// Type name.
        type_name: String,
        /// What serde said.
        message: String,
    },
}

/// The current schema version of each event type, or `None` for an unknown type.
pub fn schema_of(type_name: &str) -> Option<u32> {
    match type_name {
        // Schema 2 of DelegateAdded added `nationality`; schema 1 records
        // (written before nationality was asked for) are upcast with `PK`.
        "DelegateAdded" => Some(2),
        t if Event::TYPES.contains(&t) => Some(1),
        _ => None,
    }
}

/// Upgrades stored data of an older schema to the current one. Old records
/// are never rewritten in place: this runs every time one is read.
pub fn upcast(
    type_name: &str,
    schema: u32,
    data: serde_json::Value,
) -> Result<(u32, serde_json::Value), DecodeError> {
    match (type_name, schema) {
        ("DelegateAdded", 1) => {
            let mut data = data;
            if let serde_json::Value::Object(o) = &mut data {
                o.entry("nationality")
                    .or_insert_with(|| serde_json::Value::from("PK"));
            }
            Ok((2, data))
        }
        _ => Ok((schema, data)),
    }
}
