//! Output formats: the `Format` choice, the `Render` trait, and the shared table, CSV and JSON writers.

use comfy_table::{presets, CellAlignment, Table};
use serde::Serialize;
use std::fmt;

/// How a read model is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// A human-readable table with headings, counts and empty-state lines.
    #[default]
    Table,
    /// CSV with a header row, for spreadsheets.
    Csv,
    /// One pretty-printed JSON document.
    Json,
}

impl Format {
    /// Every format, as named on the command line.
    pub const NAMES: [&'static str; 3] = ["table", "csv", "json"];

    /// The format's name (`table`, `csv`, `json`).
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Csv => "csv",
            Format::Json => "json",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A format name that is not `table`, `csv` or `json`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown format {0:?}: use table, csv or json")]
pub struct UnknownFormat(pub String);

impl std::str::FromStr for Format {
    type Err = UnknownFormat;
    fn from_str(s: &str) -> Result<Self, UnknownFormat> {
        match s.trim().to_ascii_lowercase().as_str() {
            "table" => Ok(Format::Table),
            "csv" => Ok(Format::Csv),
            "json" => Ok(Format::Json),
            _ => Err(UnknownFormat(s.to_owned())),
        }
    }
}

/// A read model that prints itself. The text always ends with a newline
/// (print it with `print!`).
pub trait Render {
    /// Renders in `format`; `full` shows passport numbers in full where they
    /// are otherwise masked.
    fn render(&self, format: Format, full: bool) -> String;
}

/// A table with the house look; columns listed in `right` are numbers and
/// are right-aligned.
pub(crate) fn table(headers: &[&str], rows: Vec<Vec<String>>, right: &[usize]) -> String {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED);
    t.set_header(headers.to_vec());
    for row in rows {
        t.add_row(row);
    }
    for &i in right {
        if let Some(c) = t.column_mut(i) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
    let mut s = t.to_string();
    s.push('\n');
    s
}

/// CSV with a header row. Writing into memory cannot fail and every row has
/// the header's length, so a failure is a bug in this crate.
pub(crate) fn csv(headers: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(headers).expect("CSV into memory");
    for row in rows {
        w.write_record(&row)
            .expect("CSV rows have the header's length");
    }
    let bytes = w.into_inner().expect("CSV into memory flushes");
    String::from_utf8(bytes).expect("CSV of UTF-8 fields is UTF-8")
}

/// Pretty JSON and a newline. Read models have string map keys only.
pub(crate) fn json<T: Serialize>(value: &T) -> String {
    let mut s = serde_json::to_string_pretty(value).expect("read models serialise to JSON");
    s.push('\n');
    s
}
