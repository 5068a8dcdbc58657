//! Fuzz target: the registrations CSV parsing (`expo import-registrations`) must report bad rows, never panic.
//!
//! `expo-cli` is a binary only: its `parse` module (every field's check, with
//! its `args`/`failure` dependencies) is compiled here from source, and the
//! row framing of `bulk::read_csv`/`parse_row` is repeated (same csv reader
//! settings, same calls). Once the CLI exposes its CSV reader (see
//! fuzz/README.md), this target should call that instead.
#![no_main]
#![allow(dead_code)]

#[path = "../../crates/cli/src/args.rs"]
mod args;
#[path = "../../crates/cli/src/failure.rs"]
mod failure;
#[path = "../../crates/cli/src/parse.rs"]
mod parse;

use libfuzzer_sys::fuzz_target;

const COLUMNS: usize = 10;

fuzz_target!(|data: &[u8]| {
    let body = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(body);
    for record in reader.byte_records() {
        let Ok(record) = record else { continue };
        let _ = record.position().map(|p| p.byte());
        if record.len() != COLUMNS {
            continue;
        }
        let fields: Option<Vec<&str>> =
            record.iter().map(|f| std::str::from_utf8(f).ok()).collect();
        let Some(f) = fields else { continue };
        let _ = parse::register_company(f[0], f[1], f[2], f[3], f[4]).map(|c| format!("{c:?}"));
        let _ = parse::delegate_command(f[0], f[5], f[6], f[7], f[8], Some(f[9]))
            .map(|c| format!("{c:?}"));
        let _ = expo_domain::values::Ntn::parse(f[0]);
    }
});
