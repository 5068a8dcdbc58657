//! Value types that cannot hold an invalid value: each parses trimmed input into itself or a typed error.

use chrono::{Months, NaiveDate};
use compact_str::CompactString;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a value was refused. Each variant names the field and carries what was given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    /// A delegation id that is not 3–64 characters of `a-z`, `0-9` and `-`.
    #[error("invalid delegation id {0:?}: use 3 to 64 characters of a-z, 0-9 and '-' (e.g. pk-textiles-may)")]
    DelegationId(String),
    /// An NTN that is not 7 digits with an optional `-` and check digit.
    #[error("invalid NTN {0:?}: use 7 digits, optionally '-' and one check digit (1234567 or 1234567-8)")]
    Ntn(String),
    /// A passport number that is not 6–9 characters of A–Z and 0–9.
    #[error("invalid passport number {0:?}: use 6 to 9 letters and digits")]
    PassportNo(String),
    /// A sector outside the list.
    #[error("unknown sector {0:?}: use one of automobile, steel, machinery, textiles, minerals, it-hr, other")]
    Sector(String),
    /// A country code that is not an ISO 3166-1 alpha-2 code.
    #[error("invalid country code {0:?}: use an ISO 3166-1 alpha-2 code such as PK or JP")]
    Country(String),
    /// An e-mail address without one `@`, text on both sides and a dot in the domain.
    #[error("invalid e-mail address {0:?}: it needs one '@' with text on both sides and a dot in the domain")]
    Email(String),
    /// A text field that is empty or too long after trimming.
    #[error("{field} must be {min} to {max} characters, got {len}")]
    TextLength {
        /// Which field.
        field: &'static str,
        /// The least number of characters.
        min: usize,
        /// The most characters.
        max: usize,
        /// How many were given (after trimming).
        len: usize,
    },
    /// A text field holding control characters (line breaks, tabs, NULs).
    #[error("{field} must not contain control characters")]
    TextControl {
        /// Which field.
        field: &'static str,
    },
    /// A date that is not `YYYY-MM-DD`.
    #[error("invalid date {0:?}: use YYYY-MM-DD")]
    Date(String),
    /// A date outside the Expo window.
    #[error("{field} {date} is outside the Expo window (2025-04-13 to 2025-10-13)")]
    OutsideExpo {
        /// Which field.
        field: &'static str,
        /// The date given.
        date: NaiveDate,
    },
    /// A number outside its range.
    #[error("{field} must be {min} to {max}, got {value}")]
    Range {
        /// Which field.
        field: &'static str,
        /// Least allowed.
        min: i64,
        /// Most allowed.
        max: i64,
        /// What was given.
        value: i64,
    },
}

/// The first day of World Expo 2025 (Asia/Tokyo).
pub const EXPO_OPENS: NaiveDate = match NaiveDate::from_ymd_opt(2025, 4, 13) {
    Some(d) => d,
    None => panic!("a valid constant date"),
};
/// The last day of World Expo 2025 (Asia/Tokyo).
pub const EXPO_CLOSES: NaiveDate = match NaiveDate::from_ymd_opt(2025, 10, 13) {
    Some(d) => d,
    None => panic!("a valid constant date"),
};

macro_rules! string_value {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        #[serde(transparent)]
        pub struct $name(CompactString);

        impl $name {
            /// The value as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        // Deserialising goes through the parser, so a stored or imported value
        // can never hold what the parser would refuse.
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                parse_str_from(d, $name::parse)
            }
        }

        impl std::str::FromStr for $name {
            type Err = ValueError;
            fn from_str(s: &str) -> Result<Self, ValueError> {
                $name::parse(s)
            }
        }
    };
}

string_value!(
    /// A delegation's slug, chosen by staff: 3–64 chars of `a-z`, `0-9`, `-`. It names the stream.
    DelegationId
);
string_value!(
    /// Pakistan National Tax Number: `1234567` or `1234567-8`.
    Ntn
);
string_value!(
    /// A passport number: 6–9 characters A–Z, 0–9, stored upper-case.
    PassportNo
);
string_value!(
    /// An ISO 3166-1 alpha-2 country code, upper-case.
    CountryCode
);
string_value!(
    /// An e-mail address with one `@`, text on both sides and a dot in the domain.
    Email
);

impl DelegationId {
    /// Parses a slug; input is trimmed.
    pub fn parse(input: &str) -> Result<Self, ValueError> {
        let s = input.trim();
        let ok = (3..=64).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if ok {
            Ok(Self(s.into()))
        } else {
            Err(ValueError::DelegationId(input.to_owned()))
        }
    }
}

impl Ntn {
    /// Parses an NTN; input is trimmed.
    pub fn parse(input: &str) -> Result<Self, ValueError> {
        let s = input.trim();
        let b = s.as_bytes();
        let digits7 = b.len() >= 7 && b[..7].iter().all(u8::is_ascii_digit);
        let ok =
            digits7 && (b.len() == 7 || (b.len() == 9 && b[7] == b'-' && b[8].is_ascii_digit()));
        if ok {
            Ok(Self(s.into()))
        } else {
            Err(ValueError::Ntn(input.to_owned()))
        }
    }
}

impl PassportNo {
    /// Parses a passport number; input is trimmed and upper-cased.
    pub fn parse(input: &str) -> Result<Self, ValueError> {
        let s = input.trim();
        // Letters of either case and digits, upper-cased in place: short
        // enough to stay inline, so no allocation (an import reads one per
        // delegate).
        let ok = (6..=9).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric());
        if ok {
            let mut upper = CompactString::new(s);
            upper.make_ascii_uppercase();
            Ok(Self(upper))
        } else {
            Err(ValueError::PassportNo(input.to_owned()))
        }
    }

    /// The number with its middle hidden (`AB••••567`): personal data in rosters.
    pub fn masked(&self) -> String {
        let s = &self.0;
        let n = s.len();
        format!("{}{}{}", &s[..2], "•".repeat(n - 5), &s[n - 3..])
    }
}

impl CountryCode {
    /// Parses an ISO 3166-1 alpha-2 code; input is trimmed and upper-cased.
    pub fn parse(input: &str) -> Result<Self, ValueError> {
        let s = input.trim();
        if s.len() == 2 {
            let mut upper = CompactString::new(s);
            upper.make_ascii_uppercase();
            if ISO_3166_ALPHA2.binary_search(&upper.as_str()).is_ok() {
                return Ok(Self(upper));
            }
        }
        Err(ValueError::Country(input.to_owned()))
    }

    /// Pakistan, the default nationality and delegation country.
    pub fn pakistan() -> Self {
        Self(CompactString::const_new("PK"))
    }
}

/// Whether `s` holds white space or a control character, as
/// `char::is_whitespace` and `char::is_control` say; ASCII text is checked a
/// byte at a time (every ASCII white space but the space is a control
/// character).
fn blank_or_control(s: &str) -> bool {
    if s.is_ascii() {
        s.bytes().any(|b| b == b' ' || b.is_ascii_control())
    } else {
        s.chars().any(|c| c.is_whitespace() || c.is_control())
    }
}

impl Email {
    /// Parses an e-mail address; input is trimmed.
    pub fn parse(input: &str) -> Result<Self, ValueError> {
        let s = input.trim();
        let ok = s.len() <= 254
            && !blank_or_control(s)
            && match s.split_once('@') {
                Some((local, domain)) => {
                    !local.is_empty()
                        && !domain.contains('@')
                        && domain
                            .split_once('.')
                            .is_some_and(|(a, b)| !a.is_empty() && !b.is_empty())
                        && !domain.ends_with('.')
                }
                None => false,
            };
        if ok {
            Ok(Self(s.into()))
        } else {
            Err(ValueError::Email(input.to_owned()))
        }
    }
}

/// The priority sectors named for Expo 2025, and `other`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Sector {
    /// Automobiles and parts.
    Automobile,
    /// Steel.
    Steel,
    /// Machinery.
    Machinery,
    /// Textiles.
    Textiles,
    /// Minerals.
    Minerals,
    /// IT and HR services.
    ItHr,
    /// Anything else.
    Other,
}

impl Sector {
    /// Every sector, in report order.
    pub const ALL: [Sector; 7] = [
        Sector::Automobile,
        Sector::Steel,
        Sector::Machinery,
        Sector::Textiles,
        Sector::Minerals,
        Sector::ItHr,
        Sector::Other,
    ];

    /// Parses a sector name; input is trimmed and lower-cased.
    pub fn parse(input: &str) -> Result<Self, ValueError> {
        let s = input.trim().to_ascii_lowercase();
        Sector::ALL
            .into_iter()
            .find(|sector| sector.as_str() == s)
            .ok_or_else(|| ValueError::Sector(input.to_owned()))
    }

    /// The sector's name as written in commands and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Sector::Automobile => "automobile",
            Sector::Steel => "steel",
            Sector::Machinery => "machinery",
            Sector::Textiles => "textiles",
            Sector::Minerals => "minerals",
            Sector::ItHr => "it-hr",
            Sector::Other => "other",
        }
    }
}

impl fmt::Display for Sector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Sector {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, ValueError> {
        Sector::parse(s)
    }
}

/// Free text with a length limit, trimmed, without control characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Text(CompactString);

impl Text {
    /// Parses text for `field`, allowing `min..=max` characters after trimming.
    pub fn parse(
        field: &'static str,
        input: &str,
        min: usize,
        max: usize,
    ) -> Result<Self, ValueError> {
        let s = input.trim();
        // ASCII text (nearly all of it) is checked a byte at a time: one
        // byte is one character, and no byte past 0x7f needs decoding.
        let (control, len) = if s.is_ascii() {
            (s.bytes().any(|b| b.is_ascii_control()), s.len())
        } else {
            (s.chars().any(char::is_control), s.chars().count())
        };
        if control {
            return Err(ValueError::TextControl { field });
        }
        if len < min || len > max {
            return Err(ValueError::TextLength {
                field,
                min,
                max,
                len,
            });
        }
        Ok(Self(s.into()))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Reads stored text back (JSON or binary event data): whatever any
    /// text field could have held when it was written.
    pub(crate) fn parse_stored(input: &str) -> Result<Self, ValueError> {
        Text::parse("text", input, 1, 500)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Stored text was checked when the command was decided; reading it
        // back must still refuse what could never have been written.
        parse_str_from(d, Text::parse_stored)
    }
}

/// Reads a string and parses it, without a copy of its own: the parser
/// sees the text where the deserializer has it (the JSON line, the stored
/// bytes, or its buffer for text with escapes). Taking a `String` first
/// allocated and copied every text field of every event an import reads.
fn parse_str_from<'de, D, T>(
    d: D,
    parse: impl FnOnce(&str) -> Result<T, ValueError>,
) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
{
    struct Parse<F>(F);

    impl<'de, T, F: FnOnce(&str) -> Result<T, ValueError>> serde::de::Visitor<'de> for Parse<F> {
        type Value = T;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string")
        }

        fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<T, E> {
            (self.0)(s).map_err(E::custom)
        }
    }

    d.deserialize_str(Parse(parse))
}

/// Length limits of the spec's text fields.
pub mod limits {
    /// Delegation name.
    pub const DELEGATION_NAME: (usize, usize) = (1, 200);
    /// Company legal name.
    pub const LEGAL_NAME: (usize, usize) = (1, 200);
    /// City.
    pub const CITY: (usize, usize) = (1, 100);
    /// Delegate's full name.
    pub const FULL_NAME: (usize, usize) = (1, 100);
    /// Delegate's designation.
    pub const DESIGNATION: (usize, usize) = (1, 100);
    /// Reason for a rejection or withdrawal.
    pub const REASON: (usize, usize) = (1, 500);
    /// Approved companies at most.
    pub const MAX_COMPANIES: (u32, u32) = (1, 500);
    /// Delegates per company at most.
    pub const MAX_DELEGATES: (u32, u32) = (1, 20);
    /// Passport validity after departure, in months.
    pub const PASSPORT_VALIDITY_MONTHS: (u32, u32) = (0, 24);
}

/// A date in serde: `YYYY-MM-DD` text in human-readable forms (JSON, as
/// chrono writes it), a whole number of days from 1 January of year 1 in
/// compact binary ones (postcard, the stored rosters' form). Writing the
/// text was ~5 % of a rebuild's instructions (callgrind), all of it in the
/// thread that folds: every delegate of every stored view has a date.
/// Use with `#[serde(with = "expo_domain::values::date_form")]`.
pub mod date_form {
    use chrono::{Datelike, NaiveDate};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    /// Writes `date` in the form the serializer reads best.
    pub fn serialize<S: Serializer>(date: &NaiveDate, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            date.serialize(s)
        } else {
            s.serialize_i32(date.num_days_from_ce())
        }
    }

    /// Reads a date written by [`serialize`] to the same kind of form.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDate, D::Error> {
        if d.is_human_readable() {
            super::date_text(d)
        } else {
            let days = i32::deserialize(d)?;
            NaiveDate::from_num_days_from_ce_opt(days)
                .ok_or_else(|| serde::de::Error::custom(format!("{days} days is not a date")))
        }
    }
}

/// An event's date read from text: exactly what chrono's own
/// `Deserialize` accepts (its parser, its messages), but the plain
/// `YYYY-MM-DD` of every export line is read without chrono's general
/// parser, which was 2.5 % of an import's instructions (callgrind).
/// Use with `#[serde(deserialize_with = "crate::values::date_text")]`.
pub fn date_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<NaiveDate, D::Error> {
    struct DateText;

    impl serde::de::Visitor<'_> for DateText {
        type Value = NaiveDate;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            // chrono's words, so a bad line's message is the same.
            f.write_str("a formatted date string")
        }

        fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<NaiveDate, E> {
            plain_date(s).map_or_else(|| s.parse().map_err(E::custom), Ok)
        }
    }

    d.deserialize_str(DateText)
}

/// `YYYY-MM-DD` with digits only, if it names a day (what chrono's parser
/// makes of that form); `None` for anything else, untrimmed.
pub fn plain_date(s: &str) -> Option<NaiveDate> {
    let b: &[u8; 10] = s.as_bytes().try_into().ok()?;
    if b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year = i32::try_from(ascii_number(&b[..4])?).ok()?;
    NaiveDate::from_ymd_opt(year, ascii_number(&b[5..7])?, ascii_number(&b[8..])?)
}

/// The number `digits` spell, if they are all ASCII digits (and at least
/// one) and it fits a `u32`.
pub fn ascii_number(digits: &[u8]) -> Option<u32> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u32, |n, &c| {
        if c.is_ascii_digit() {
            n.checked_mul(10)?.checked_add(u32::from(c - b'0'))
        } else {
            None
        }
    })
}

/// Parses a `YYYY-MM-DD` date (trimmed).
pub fn parse_date(input: &str) -> Result<NaiveDate, ValueError> {
    // Exactly `DDDD-DD-DD`: chrono's `%Y` alone would also take a sign
    // (`+025-05-10` is year 25).
    plain_date(input.trim()).ok_or_else(|| ValueError::Date(input.to_owned()))
}

/// Parses a date that must fall inside the Expo window.
pub fn parse_expo_date(field: &'static str, input: &str) -> Result<NaiveDate, ValueError> {
    let date = parse_date(input)?;
    check_expo_date(field, date)
}

/// Checks that a date falls inside the Expo window.
pub fn check_expo_date(field: &'static str, date: NaiveDate) -> Result<NaiveDate, ValueError> {
    if (EXPO_OPENS..=EXPO_CLOSES).contains(&date) {
        Ok(date)
    } else {
        Err(ValueError::OutsideExpo { field, date })
    }
}

/// Checks that a number lies in `min..=max`.
pub fn check_range(
    field: &'static str,
    value: i64,
    (min, max): (u32, u32),
) -> Result<u32, ValueError> {
    if value < i64::from(min) || value > i64::from(max) {
        Err(ValueError::Range {
            field,
            min: i64::from(min),
            max: i64::from(max),
            value,
        })
    } else {
        // In range of a u32 pair, so the conversion cannot fail.
        u32::try_from(value).map_err(|_| ValueError::Range {
            field,
            min: i64::from(min),
            max: i64::from(max),
            value,
        })
    }
}

/// The last day a passport must still be valid on: `depart` plus `months`.
pub fn passport_valid_until(depart: NaiveDate, months: u32) -> NaiveDate {
    depart
        .checked_add_months(Months::new(months))
        .unwrap_or(NaiveDate::MAX)
}

/// ISO 3166-1 alpha-2 codes officially assigned, sorted: parsed with a
/// binary search because every stored delegate's nationality goes through
/// this on each replay.
#[rustfmt::skip]
const ISO_3166_ALPHA2: [&str; 249] = [
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ",
    "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS",
    "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN",
    "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE",
    "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF",
    "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM",
    "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM",
    "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC",
    "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK",
    "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA",
    "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG",
    "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW",
    "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS",
    "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO",
    "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
    "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW",
];

#[cfg(test)]
mod tests {
    //! Every value type: what it accepts (trimmed, normalised) and what it refuses.
    use super::*;

    #[test]
    fn country_codes_are_sorted_and_unique_so_binary_search_finds_them() {
        assert!(ISO_3166_ALPHA2.windows(2).all(|w| w[0] < w[1]));
        for code in ISO_3166_ALPHA2 {
            assert_eq!(
                CountryCode::parse(code).map(|c| c.to_string()),
                Ok(code.to_owned())
            );
        }
    }

    /// What `date_text` and chrono's own `Deserialize` make of `text` as a
    /// JSON value: the same date, or errors with the same words.
    fn date_text_agrees_with_chrono(json: &str) {
        let ours = date_text(&mut serde_json::Deserializer::from_str(json));
        let chrono = serde_json::from_str::<NaiveDate>(json);
        match (ours, chrono) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "{json}"),
            (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{json}"),
            (a, b) => panic!("{json}: date_text {a:?}, chrono {b:?}"),
        }
    }

    #[test]
    fn an_event_date_reads_as_chrono_reads_it() {
        // Given the plain form, the edges of the calendar, and every kind
        // of text the plain form's fast reading must leave to chrono
        for text in [
            "2025-04-13",
            "0000-01-01",
            "9999-12-31",
            "2024-02-29",
            "2023-02-29",
            "2025-13-01",
            "2025-00-10",
            "2025-04-00",
            "2025-04-31",
            "+025-05-10",
            "2025-4-13x",
            "2025/04/13",
            " 2025-04-1",
            "2025-04-13 ",
            "2025-04-1 ",
            "20250-4-13",
            "2025-04-13T00:00",
            "",
            "٢٠٢٥-٠٤-١٣",
            "2025-0a-13",
        ] {
            // When both read it, then they agree
            date_text_agrees_with_chrono(&serde_json::to_string(text).expect("a string"));
        }
        for json in ["20250413", "null", "{}", "[2025, 4, 13]", "\"2025-04-13"] {
            date_text_agrees_with_chrono(json);
        }
    }

    #[test]
    fn ascii_numbers_are_digits_only_and_fit_a_u32() {
        for (digits, want) in [
            ("0", Some(0)),
            ("0042", Some(42)),
            ("4294967295", Some(u32::MAX)),
            ("4294967296", None),
            ("", None),
            ("1a", None),
            ("+1", None),
            ("١", None),
        ] {
            assert_eq!(ascii_number(digits.as_bytes()), want, "{digits:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_short_text_of_date_characters_reads_as_chrono_reads_it(
            text in "[0-9+ -]{8,12}",
        ) {
            date_text_agrees_with_chrono(&serde_json::to_string(&text).expect("a string"));
        }

        #[test]
        fn every_day_reads_as_chrono_reads_it(days in 0i32..3_652_059) {
            let day = NaiveDate::from_num_days_from_ce_opt(days + 1).expect("a day");
            date_text_agrees_with_chrono(&format!("\"{day}\""));
        }
    }

    /// The text, passport, country and e-mail parsers as first written
    /// (every character decoded, an upper-cased copy allocated): the ASCII
    /// paths must accept, refuse and keep exactly what these did.
    mod as_first_written {
        use super::super::*;

        pub fn text(input: &str, min: usize, max: usize) -> Result<Text, ValueError> {
            let field = "name";
            let s = input.trim();
            if s.chars().any(char::is_control) {
                return Err(ValueError::TextControl { field });
            }
            let len = s.chars().count();
            if len < min || len > max {
                return Err(ValueError::TextLength {
                    field,
                    min,
                    max,
                    len,
                });
            }
            Ok(Text(s.into()))
        }

        pub fn passport(input: &str) -> Result<PassportNo, ValueError> {
            let s = input.trim().to_ascii_uppercase();
            let ok = (6..=9).contains(&s.len())
                && s.bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
            if ok {
                Ok(PassportNo(s.into()))
            } else {
                Err(ValueError::PassportNo(input.to_owned()))
            }
        }

        pub fn country(input: &str) -> Result<CountryCode, ValueError> {
            let s = input.trim().to_ascii_uppercase();
            if s.len() == 2 && ISO_3166_ALPHA2.binary_search(&s.as_str()).is_ok() {
                Ok(CountryCode(s.into()))
            } else {
                Err(ValueError::Country(input.to_owned()))
            }
        }

        pub fn email_blank_or_control(s: &str) -> bool {
            s.chars().any(|c| c.is_whitespace() || c.is_control())
        }
    }

    /// Characters that tell the paths apart: ASCII letters of both cases,
    /// digits, every ASCII white space and some controls, and non-ASCII
    /// letters, spaces and controls.
    macro_rules! mixed {
        () => {
            "[a-zA-Z0-9 @.\\t\\n\\x0B\\x0C\\r\\x00\\x1F\\x7Féß٢\\u{85}\\u{A0}\\u{2003}]"
        };
    }

    proptest::proptest! {
        #[test]
        fn text_reads_as_it_first_did(text in concat!(mixed!(), "{0,12}"), min in 0usize..4, max in 0usize..10) {
            // Given any short text, when both parsers read it, then they agree
            proptest::prop_assert_eq!(Text::parse("name", &text, min, max), as_first_written::text(&text, min, max));
        }

        #[test]
        fn passports_and_countries_read_as_they_first_did(text in concat!(mixed!(), "{0,11}")) {
            proptest::prop_assert_eq!(PassportNo::parse(&text), as_first_written::passport(&text));
            proptest::prop_assert_eq!(CountryCode::parse(&text), as_first_written::country(&text));
        }

        #[test]
        fn email_spaces_and_controls_are_found_as_they_first_were(text in concat!(mixed!(), "{0,12}")) {
            proptest::prop_assert_eq!(blank_or_control(&text), as_first_written::email_blank_or_control(&text));
        }
    }

    #[test]
    fn passports_and_countries_of_either_case_read_upper_cased() {
        // Given lower- and mixed-case input with space around it
        // When read
        // Then the value is upper case, as before
        assert_eq!(
            PassportNo::parse(" ab12345c ").map(|p| p.0),
            Ok("AB12345C".into())
        );
        assert_eq!(CountryCode::parse(" jP").map(|c| c.0), Ok("JP".into()));
        assert_eq!(
            as_first_written::country("jp").map(|c| c.0),
            Ok("JP".into())
        );
        // And every pair of letters, in any case, is a country for both or for neither
        for a in (b'A'..=b'Z').chain(b'a'..=b'z') {
            for b in (b'A'..=b'Z').chain(b'a'..=b'z') {
                let code = format!(" {}{} ", a as char, b as char);
                assert_eq!(CountryCode::parse(&code), as_first_written::country(&code));
                let passport = format!("{}{}1234{}", a as char, b as char, b as char);
                assert_eq!(
                    PassportNo::parse(&passport),
                    as_first_written::passport(&passport)
                );
            }
        }
    }

    #[track_caller]
    fn check<T: PartialEq + fmt::Debug>(
        parse: fn(&str) -> Result<T, ValueError>,
        input: &str,
        expected: Result<T, ValueError>,
    ) {
        assert_eq!(parse(input), expected, "input {input:?}");
    }

    #[test]
    fn delegation_ids() {
        let ok = |s: &str| Ok(DelegationId(s.into()));
        check(
            DelegationId::parse,
            "pk-textiles-may",
            ok("pk-textiles-may"),
        );
        check(DelegationId::parse, "  pk-1  ", ok("pk-1"));
        check(DelegationId::parse, "abc", ok("abc"));
        check(DelegationId::parse, &"a".repeat(64), ok(&"a".repeat(64)));
        for bad in [
            "ab",
            "PK-Textiles",
            "pk textiles",
            "pk_textiles",
            "",
            "pkö-may",
        ] {
            check(
                DelegationId::parse,
                bad,
                Err(ValueError::DelegationId(bad.to_owned())),
            );
        }
        let long = "a".repeat(65);
        check(
            DelegationId::parse,
            &long,
            Err(ValueError::DelegationId(long.clone())),
        );
    }

    #[test]
    fn ntns() {
        let ok = |s: &str| Ok(Ntn(s.into()));
        check(Ntn::parse, "1234567", ok("1234567"));
        check(Ntn::parse, " 1234567-8 ", ok("1234567-8"));
        for bad in [
            "123456",
            "12345678",
            "1234567-",
            "1234567-89",
            "1234567_8",
            "123456a",
            "1234567-x",
            "",
        ] {
            check(Ntn::parse, bad, Err(ValueError::Ntn(bad.to_owned())));
        }
    }

    #[test]
    fn passports_are_trimmed_and_upper_cased() {
        let ok = |s: &str| Ok(PassportNo(s.into()));
        check(PassportNo::parse, " ab1234567 ", ok("AB1234567"));
        check(PassportNo::parse, "ab1234", ok("AB1234"));
        for bad in ["AB123", "AB12345678", "AB-12345", "AB 12345", "ÄB12345"] {
            check(
                PassportNo::parse,
                bad,
                Err(ValueError::PassportNo(bad.to_owned())),
            );
        }
    }

    #[test]
    fn masked_passports_show_two_first_and_three_last() {
        let masked = |s: &str| PassportNo::parse(s).map(|p| p.masked());
        assert_eq!(masked("AB1234567"), Ok("AB••••567".into()));
        assert_eq!(masked("AB1234"), Ok("AB•234".into()));
    }

    #[test]
    fn country_codes() {
        check(CountryCode::parse, " pk ", Ok(CountryCode::pakistan()));
        check(CountryCode::parse, "JP", Ok(CountryCode("JP".into())));
        for bad in ["XX", "PAK", "P", "", "p k"] {
            check(
                CountryCode::parse,
                bad,
                Err(ValueError::Country(bad.to_owned())),
            );
        }
    }

    #[test]
    fn emails() {
        check(
            Email::parse,
            " desk@example.pk ",
            Ok(Email("desk@example.pk".into())),
        );
        check(Email::parse, "a@b.co.jp", Ok(Email("a@b.co.jp".into())));
        for bad in [
            "desk.example.pk",
            "@example.pk",
            "desk@",
            "desk@example",
            "a@b@c.pk",
            "a@.pk",
            "a@pk.",
            "a b@c.pk",
        ] {
            check(Email::parse, bad, Err(ValueError::Email(bad.to_owned())));
        }
    }

    #[test]
    fn sectors() {
        check(Sector::parse, " IT-HR ", Ok(Sector::ItHr));
        check(Sector::parse, "textiles", Ok(Sector::Textiles));
        check(
            Sector::parse,
            "it_hr",
            Err(ValueError::Sector("it_hr".into())),
        );
        for sector in Sector::ALL {
            assert_eq!(Sector::parse(sector.as_str()), Ok(sector));
            let json = serde_json::to_string(&sector).map_err(|e| e.to_string());
            assert_eq!(json, Ok(format!("\"{}\"", sector.as_str())));
        }
    }

    #[test]
    fn texts_are_trimmed_and_length_checked_in_characters() {
        let name = |s: &str| Text::parse("legal name", s, 1, 200);
        check(name, "  Acme (Pvt) Ltd ", Ok(Text("Acme (Pvt) Ltd".into())));
        check(name, &"ü".repeat(200), Ok(Text("ü".repeat(200).into())));
        let long = "x".repeat(201);
        check(
            name,
            &long,
            Err(ValueError::TextLength {
                field: "legal name",
                min: 1,
                max: 200,
                len: 201,
            }),
        );
        check(
            name,
            "   ",
            Err(ValueError::TextLength {
                field: "legal name",
                min: 1,
                max: 200,
                len: 0,
            }),
        );
        check(
            name,
            "Acme\nLtd",
            Err(ValueError::TextControl {
                field: "legal name",
            }),
        );
    }

    #[test]
    fn dates_and_the_expo_window() {
        let d =
            |y, m, day| NaiveDate::from_ymd_opt(y, m, day).ok_or(ValueError::Date(String::new()));
        check(parse_date, " 2025-05-10 ", d(2025, 5, 10));
        for bad in [
            "2025-5-10",
            "10/05/2025",
            "2025-02-30",
            "2025-05-10T00:00",
            "+025-05-10",
            "",
        ] {
            check(parse_date, bad, Err(ValueError::Date(bad.to_owned())));
        }
        let arrive = |s: &str| parse_expo_date("arrive", s);
        check(arrive, "2025-04-13", d(2025, 4, 13));
        check(arrive, "2025-10-13", d(2025, 10, 13));
        for (bad, y, m, day) in [("2025-04-12", 2025, 4, 12), ("2025-10-14", 2025, 10, 14)] {
            let date = NaiveDate::from_ymd_opt(y, m, day).unwrap();
            check(
                arrive,
                bad,
                Err(ValueError::OutsideExpo {
                    field: "arrive",
                    date,
                }),
            );
        }
    }

    #[test]
    fn ranges_and_passport_validity() {
        assert_eq!(
            check_range("max companies", 20, limits::MAX_COMPANIES),
            Ok(20)
        );
        assert_eq!(
            check_range("max companies", -1, limits::MAX_COMPANIES),
            Err(ValueError::Range {
                field: "max companies",
                min: 1,
                max: 500,
                value: -1
            })
        );
        let date = |s: &str| parse_date(s).unwrap();
        assert_eq!(
            passport_valid_until(date("2025-08-31"), 6),
            date("2026-02-28")
        );
        assert_eq!(
            passport_valid_until(date("2025-05-20"), 0),
            date("2025-05-20")
        );
    }

    #[test]
    fn stored_values_are_parsed_again_when_read() {
        let ntn: Result<Ntn, _> = serde_json::from_str("\"12\"");
        assert!(ntn.is_err());
        let passport: Result<PassportNo, _> = serde_json::from_str("\"ab1234567\"");
        assert_eq!(
            passport.map_err(|e| e.to_string()),
            Ok(PassportNo("AB1234567".into()))
        );
        let text: Result<Text, _> = serde_json::from_str("\"\"");
        assert!(text.is_err());
    }
}
