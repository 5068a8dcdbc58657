//! Bulk input and output: registrations from CSV (checked row by row, all or nothing), and JSON Lines export and import.

use crate::args::ImportRegistrationsArgs;
use crate::context::Context;
use crate::envelope;
use crate::failure::{invalid, Failure};
use crate::lines::{self, JsonLines};
use crate::progress::Progress;
use crate::{output, parse, project, write};
use expo_domain::values::Ntn;
use expo_domain::{decide, evolve, Command, Event, State};
use expo_projection::Rebuild;
use expo_store::StoreError;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io::{BufReader, Read, Write};
use std::path::Path;
use std::time::Instant;

/// The CSV header the contract fixes, in order.
pub const CSV_HEADER: [&str; 10] = [
    "ntn",
    "legal_name",
    "sector",
    "city",
    "contact_email",
    "full_name",
    "passport_no",
    "passport_expiry",
    "designation",
    "nationality",
];

/// The largest registrations CSV read: a full delegation (500 companies of
/// 20 delegates) is well under 2 MiB.
const MAX_CSV_BYTES: u64 = 16 * 1024 * 1024;
/// The most data rows in one registrations CSV.
const MAX_CSV_ROWS: usize = 20_000;

/// One data row, its line number, and its commands or why it is bad.
struct Row {
    line: u64,
    parsed: Result<RowCommands, String>,
}

/// A row as commands: the company's registration (sent once per company) and the delegate.
struct RowCommands {
    ntn: Ntn,
    register: Command,
    add: Command,
}

/// `expo import-registrations DELEGATION FILE.csv [--skip-invalid]`
pub fn import_registrations(ctx: &Context, a: &ImportRegistrationsArgs) -> Result<(), Failure> {
    let id = parse::delegation(&a.delegation)?;
    let rows = read_csv(&a.file)?;
    let what = format!("{}", a.file.display());
    let store = ctx.open_existing()?;
    let mut skipped = Vec::new();
    let mut counts = (0usize, 0usize);
    let written = write::execute_with(store.as_ref(), ctx, &id, None, |state| {
        if !state.exists() {
            return Err(invalid(format!(
                "there is no delegation {id}: create it before importing registrations into it"
            )));
        }
        let checked = check_rows(state, &rows);
        if !checked.bad.is_empty() && (!a.skip_invalid || checked.events.is_empty()) {
            return Err(Failure::Rows {
                what: what.clone(),
                problems: checked.bad,
            });
        }
        if checked.events.is_empty() {
            return Err(invalid(format!("{what}: no rows to import")));
        }
        skipped = checked.bad;
        counts = (checked.companies, checked.delegates);
        Ok(checked.events)
    })?;
    if ctx.json {
        let mut doc: serde_json::Value = serde_json::from_str(&write::report(ctx, &written))
            .map_err(|e| Failure::Output(e.to_string()))?;
        doc["skipped"] = serde_json::Value::from(skipped.clone());
        output::print(&doc.to_string())?;
    } else if written.outcome.duplicate {
        output::print(&write::report(ctx, &written))?;
    } else {
        output::print(&format!(
            "imported {what}: registered {} companies, added {} delegates — delegation {id}, version {}, position {}",
            counts.0, counts.1, written.outcome.last_version, written.outcome.last_position
        ))?;
    }
    if !skipped.is_empty() {
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "expo: skipped {} bad row(s):", skipped.len());
        for s in &skipped {
            let _ = writeln!(err, "  {s}");
        }
    }
    Ok(())
}

/// What checking the rows against the delegation's state gave.
struct Checked {
    events: Vec<Event>,
    bad: Vec<String>,
    companies: usize,
    delegates: usize,
}

/// Decides every row in order against an in-memory copy of the state: a
/// company's first good row registers it (unless it is already registered
/// and active), every row adds its delegate. A bad row contributes nothing.
fn check_rows(state: &State, rows: &[Row]) -> Checked {
    let mut state = state.clone();
    let mut out = Checked {
        events: Vec::new(),
        bad: Vec::new(),
        companies: 0,
        delegates: 0,
    };
    // The first good row of each company in this file, to check repeats against.
    let mut first_row: BTreeMap<Ntn, (u64, Command)> = BTreeMap::new();
    for row in rows {
        let r = match &row.parsed {
            Ok(r) => r,
            Err(reason) => {
                out.bad.push(format!("line {}: {reason}", row.line));
                continue;
            }
        };
        if let Some((line, first)) = first_row.get(&r.ntn) {
            if *first != r.register {
                out.bad.push(format!(
                    "line {}: company {}'s details differ from line {line}",
                    row.line, r.ntn
                ));
                continue;
            }
        }
        let registers = state.registration(&r.ntn).is_none();
        let mut row_events = Vec::new();
        let mut next = None;
        if registers {
            match decide(&r.register, &state) {
                Ok(events) => {
                    next = Some(events.iter().fold(state.clone(), evolve));
                    row_events = events;
                }
                Err(e) => {
                    out.bad.push(format!("line {}: {e}", row.line));
                    continue;
                }
            }
        }
        let basis = next.as_ref().unwrap_or(&state);
        match decide(&r.add, basis) {
            Ok(events) => {
                let base = next.take().unwrap_or_else(|| state.clone());
                state = events.iter().fold(base, evolve);
                row_events.extend(events);
            }
            Err(e) => {
                out.bad.push(format!("line {}: {e}", row.line));
                continue;
            }
        }
        if registers {
            out.companies += 1;
        }
        first_row
            .entry(r.ntn.clone())
            .or_insert_with(|| (row.line, r.register.clone()));
        out.delegates += 1;
        out.events.extend(row_events);
    }
    out
}

/// Reads and parses the CSV: a wrong header, an unreadable or oversized file
/// fails as a whole; a bad row is kept with its reason.
fn read_csv(path: &Path) -> Result<Vec<Row>, Failure> {
    let name = path.display().to_string();
    let file =
        std::fs::File::open(path).map_err(|e| invalid(format!("cannot read {name}: {e}")))?;
    let mut bytes = Vec::new();
    file.take(MAX_CSV_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| invalid(format!("cannot read {name}: {e}")))?;
    if bytes.len() as u64 > MAX_CSV_BYTES {
        return Err(invalid(format!(
            "{name} is larger than {} MiB: split it into several files",
            MAX_CSV_BYTES / 1024 / 1024
        )));
    }
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(body);
    let mut records = reader.byte_records();
    let header = match records.next() {
        None => {
            return Err(invalid(format!(
                "{name} is empty: expected the header {}",
                CSV_HEADER.join(",")
            )))
        }
        Some(Err(e)) => return Err(invalid(format!("{name} line 1: {}", csv_problem(&e)))),
        Some(Ok(h)) => h,
    };
    let found: Vec<String> = header
        .iter()
        .map(|f| String::from_utf8_lossy(f).trim().to_ascii_lowercase())
        .collect();
    if found != CSV_HEADER {
        return Err(invalid(format!(
            "{name} line 1: wrong header: expected {}, found {}",
            CSV_HEADER.join(","),
            found.join(",")
        )));
    }
    // Line numbers are counted here from byte offsets: the csv crate's own
    // count is off by one line per CRLF-ended record.
    let mut lines = LineCounter::new(body);
    let mut rows = Vec::new();
    for record in records {
        if rows.len() >= MAX_CSV_ROWS {
            return Err(invalid(format!(
                "{name} has more than {MAX_CSV_ROWS} rows: split it into several files"
            )));
        }
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| lines.line_at(p.byte()));
                rows.push(Row {
                    line,
                    parsed: Err(csv_problem(&e)),
                });
                continue;
            }
        };
        let line = record.position().map_or(0, |p| lines.line_at(p.byte()));
        rows.push(Row {
            line,
            parsed: parse_row(&record),
        });
    }
    if rows.is_empty() {
        return Err(invalid(format!("{name} has a header but no rows")));
    }
    Ok(rows)
}

/// Turns increasing byte offsets into 1-based line numbers.
struct LineCounter<'a> {
    text: &'a [u8],
    offset: usize,
    line: u64,
}

impl<'a> LineCounter<'a> {
    fn new(text: &'a [u8]) -> Self {
        LineCounter {
            text,
            offset: 0,
            line: 1,
        }
    }

    /// The line of byte `at` (offsets must not go backwards).
    fn line_at(&mut self, at: u64) -> u64 {
        let mut at = usize::try_from(at)
            .unwrap_or(usize::MAX)
            .min(self.text.len());
        // After a CRLF the reported start is the LF; a record itself never
        // starts with a line break (empty lines are skipped).
        while at < self.text.len() && matches!(self.text[at], b'\r' | b'\n') {
            at += 1;
        }
        if at > self.offset {
            self.line += self.text[self.offset..at]
                .iter()
                .filter(|&&b| b == b'\n')
                .count() as u64;
            self.offset = at;
        }
        self.line
    }
}

/// A row's line and whether it parsed (or why not).
#[cfg(test)]
pub type RowOutcome = (u64, Result<(), String>);

/// The rows of a registrations CSV as `(line, ok or reason)` (for tests).
#[cfg(test)]
pub fn read_rows(path: &Path) -> Result<Vec<RowOutcome>, Failure> {
    Ok(read_csv(path)?
        .into_iter()
        .map(|r| (r.line, r.parsed.map(|_| ())))
        .collect())
}

fn csv_problem(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Utf8 { .. } => "not valid UTF-8 text".to_owned(),
        csv::ErrorKind::UnequalLengths { len, .. } => {
            format!("expected {} fields, found {len}", CSV_HEADER.len())
        }
        _ => format!("unreadable CSV: {e}"),
    }
}

fn parse_row(record: &csv::ByteRecord) -> Result<RowCommands, String> {
    if record.len() != CSV_HEADER.len() {
        return Err(format!(
            "expected {} fields, found {}",
            CSV_HEADER.len(),
            record.len()
        ));
    }
    let mut f: Vec<&str> = Vec::with_capacity(CSV_HEADER.len());
    for (i, field) in record.iter().enumerate() {
        let s = std::str::from_utf8(field)
            .map_err(|_| format!("field {} is not valid UTF-8 text", CSV_HEADER[i]))?;
        f.push(s);
    }
    let register =
        parse::register_company(f[0], f[1], f[2], f[3], f[4]).map_err(|e| e.to_string())?;
    let add = parse::delegate_command(f[0], f[5], f[6], f[7], f[8], Some(f[9]))
        .map_err(|e| e.to_string())?;
    let ntn = Ntn::parse(f[0]).map_err(|e| e.to_string())?;
    Ok(RowCommands { ntn, register, add })
}

/// `expo export [FILE]`: every event as a JSON line, in position order.
pub fn export(ctx: &Context, file: Option<&Path>) -> Result<(), Failure> {
    // A missing store exports as an empty one, and stays missing.
    let store = ctx.open_if_exists()?;
    let read_all = || match &store {
        Some(s) => s.read_all(1),
        None => Box::new(std::iter::empty()),
    };
    match file {
        None => {
            let mut out = output::Lines::new();
            for e in read_all() {
                out.line(&envelope::to_line(&e?))?;
            }
            out.finish()
        }
        Some(path) => {
            let n = write_atomically(path, |w| {
                let mut n = 0u64;
                for e in read_all() {
                    let e = e.map_err(|e| std::io::Error::other(e.to_string()))?;
                    w.write_all(envelope::to_line(&e).as_bytes())?;
                    w.write_all(b"\n")?;
                    n += 1;
                }
                Ok(n)
            })?;
            if ctx.json {
                output::print(
                    &serde_json::json!({"file": path.display().to_string(), "events": n})
                        .to_string(),
                )
            } else {
                output::print(&format!("exported {n} events to {}", path.display()))
            }
        }
    }
}

/// Writes a file through a temporary file beside it, synced, then renamed
/// over the target: a reader never sees half a file.
fn write_atomically(
    path: &Path,
    fill: impl FnOnce(&mut std::io::BufWriter<&std::fs::File>) -> std::io::Result<u64>,
) -> Result<u64, Failure> {
    let fail = |e: std::io::Error| Failure::Output(format!("cannot write {}: {e}", path.display()));
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let file_name = path
        .file_name()
        .ok_or_else(|| invalid(format!("{} does not name a file", path.display())))?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        file_name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        let file = std::fs::File::create(&tmp)?;
        let mut w = std::io::BufWriter::new(&file);
        let n = fill(&mut w)?;
        w.flush()?;
        drop(w);
        file.sync_all()?;
        std::fs::rename(&tmp, path)?;
        // Make the rename itself durable; not every platform can open a directory.
        if let Ok(d) = std::fs::File::open(&dir) {
            let _ = d.sync_all();
        }
        Ok(n)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(fail)
}

/// `expo import FILE`: appends an export's events, all or nothing.
pub fn import(ctx: &Context, path: &Path) -> Result<(), Failure> {
    let name = path.display().to_string();
    let file =
        std::fs::File::open(path).map_err(|e| invalid(format!("cannot read {name}: {e}")))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let created = !ctx.data.exists();
    let result = (|| {
        let store = ctx.open_for_bulk_write()?;
        let started = Instant::now();
        // Into an empty store the rosters are folded from the events as they
        // are read, and stored at the end; otherwise they catch up after.
        // The fold keeps a budget of views as they are and the rest encoded,
        // as stored (a 10M-event import held 1.3 GB of views until the end).
        let head = store.last_position()?;
        let budget = project::rebuild_budget()?;
        let mut encoded = BTreeMap::new();
        let mut rosters = (head == 0).then(|| Rebuild::new(&mut encoded, budget));
        // The first bad line, kept aside: the store only sees that the
        // import stopped, and writes nothing.
        let bad_line: RefCell<Option<(u64, String)>> = RefCell::new(None);
        // A second thread reads the lines and parses them; this one folds,
        // encodes, compresses and stores, and parses lines too whenever the
        // next ones are not ready (see `lines`). Results come in line order,
        // so the first bad line is the one reported; nothing is read past it.
        let imported = std::thread::scope(|s| {
            let lines = JsonLines::new(BufReader::with_capacity(1 << 20, file));
            let mut parsed = lines::parse_on_two_threads(s, lines, envelope::parse_line);
            let mut events = std::iter::from_fn(|| match parsed.next()? {
                Ok((stored, event)) => {
                    if let Some(r) = rosters.as_mut() {
                        if let Err(e) = r.apply_owned(envelope::recorded_with(&stored, event)) {
                            return Some(Err(StoreError::Damaged(project::fold_problem(e))));
                        }
                    }
                    Some(Ok(stored))
                }
                Err((n, problem)) => {
                    *bad_line.borrow_mut() = Some((n, problem.clone()));
                    Some(Err(StoreError::Discontinuous { index: n, problem }))
                }
            });
            // Progress against an estimate of the count (about 350 bytes a line).
            let progress = Progress::new(true, (size / 350).max(1), "importing");
            let imported = store.import(&mut events, &mut |n| progress.set(n));
            progress.finish();
            imported
        });
        let n = match imported {
            Ok(n) => n,
            Err(StoreError::Discontinuous { index, problem }) => {
                let (line, problem) = bad_line.borrow_mut().take().unwrap_or((index, problem));
                return Err(invalid(format!(
                    "{name} line {line}: {problem}; nothing was imported"
                )));
            }
            Err(e) => {
                if let Some((line, problem)) = bad_line.borrow_mut().take() {
                    return Err(invalid(format!(
                        "{name} line {line}: {problem}; nothing was imported"
                    )));
                }
                return Err(e.into());
            }
        };
        let write_secs = started.elapsed().as_secs_f64();
        match rosters {
            Some(r) => {
                project::store_folded(store.as_ref(), r.finish(), encoded, store.last_position()?)?
            }
            None => {
                project::catch_up(store.as_ref(), true)?;
            }
        }
        let secs = started.elapsed().as_secs_f64();
        Ok((n, write_secs, secs))
    })();
    match result {
        Ok((n, write_secs, secs)) => {
            let rate = rate(n, secs);
            if ctx.json {
                output::print(
                    &serde_json::json!({"events": n, "seconds": round3(secs), "write_seconds": round3(write_secs), "events_per_second": rate.round()})
                        .to_string(),
                )
            } else {
                output::print(&format!(
                    "imported {n} events in {secs:.2} s ({rate:.0} events/s, rosters included)"
                ))
            }
        }
        Err(f) => {
            // A store this command created and could not fill goes away
            // again, so a failed import leaves things as they were.
            if created {
                let _ = std::fs::remove_dir_all(&ctx.data);
            }
            Err(f)
        }
    }
}

/// Events per second, guarding against a zero duration.
pub fn rate(n: u64, secs: f64) -> f64 {
    n as f64 / secs.max(1e-9)
}

/// Seconds to three decimals, for JSON output.
pub fn round3(secs: f64) -> f64 {
    (secs * 1000.0).round() / 1000.0
}
