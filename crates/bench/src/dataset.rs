//! The benchmark's input: a store of about N events seeded by `expo seed`, exported once to JSON Lines, and what the driver reads back from that export.

use crate::process;
use crate::BenchError;
use serde::Deserialize;
use std::collections::HashSet;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The shape of each seeded delegation (the `expo seed` arguments other than the count).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    /// Companies registering per delegation.
    pub companies: u64,
    /// Delegates per company at most.
    pub delegates: u64,
    /// The seed.
    pub seed: u64,
}

impl Default for Shape {
    /// The domain's typical delegation: 10–30 companies (so with the seeder's
    /// 70 % cap some are waitlisted and promoted), up to 3 delegates each.
    fn default() -> Self {
        Shape {
            companies: 25,
            delegates: 3,
            seed: 7,
        }
    }
}

/// An export both sides work on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dataset {
    /// The JSON Lines file.
    pub export: PathBuf,
    /// Its events (non-empty lines).
    pub events: u64,
    /// Its size.
    pub bytes: u64,
    /// The `expo seed` arguments that made it.
    pub seeded_with: String,
    /// Delegations never closed in it, in the order they first appear.
    pub open_streams: Vec<String>,
}

/// A command running `expo` on the store at `data`, as the benchmark's actor.
pub(crate) fn expo_on(expo: &Path, data: &Path) -> Command {
    let mut c = Command::new(expo);
    c.arg("--data").arg(data).args(["--actor", "bench"]);
    c
}

/// Delegations seeded for calibration: enough to average out the per-delegation dice.
const SAMPLE_DELEGATIONS: u64 = 40;

/// Events one seeded delegation of `shape` makes on average, measured on a small sample.
pub(crate) fn events_per_delegation(
    expo: &Path,
    work: &Path,
    shape: &Shape,
) -> Result<f64, BenchError> {
    let d = seed_and_export(expo, work, "calibrate", shape, SAMPLE_DELEGATIONS)?;
    remove_file(&d.export)?;
    if d.events == 0 {
        return Err(BenchError::unexpected(
            "expo seed",
            "a seeded sample exported no events",
        ));
    }
    Ok(d.events as f64 / SAMPLE_DELEGATIONS as f64)
}

/// Seeds about `target` events of `shape` and exports them to `work/export-<target>.jsonl`.
pub(crate) fn prepare(
    expo: &Path,
    work: &Path,
    shape: &Shape,
    target: u64,
    per_delegation: f64,
) -> Result<Dataset, BenchError> {
    let delegations = ((target as f64 / per_delegation).round() as u64).max(1);
    seed_and_export(expo, work, &format!("export-{target}"), shape, delegations)
}

fn seed_and_export(
    expo: &Path,
    work: &Path,
    name: &str,
    shape: &Shape,
    delegations: u64,
) -> Result<Dataset, BenchError> {
    let store = work.join(format!("{name}.store"));
    let export = work.join(format!("{name}.jsonl"));
    remove_dir(&store)?;
    remove_file(&export)?;
    let args = [
        "--delegations".to_owned(),
        delegations.to_string(),
        "--companies".to_owned(),
        shape.companies.to_string(),
        "--delegates".to_owned(),
        shape.delegates.to_string(),
        "--seed".to_owned(),
        shape.seed.to_string(),
    ];
    process::run("expo seed", expo_on(expo, &store).arg("seed").args(&args))?;
    process::run(
        "expo export",
        expo_on(expo, &store).arg("export").arg(&export),
    )?;
    // The seeded store is not measured; only its export is.
    remove_dir(&store)?;
    let (events, open_streams) = scan(&export)?;
    let bytes = std::fs::metadata(&export)
        .map_err(BenchError::io(&export))?
        .len();
    Ok(Dataset {
        export,
        events,
        bytes,
        seeded_with: args.join(" "),
        open_streams,
    })
}

/// The two envelope fields the driver needs from each export line.
#[derive(Deserialize)]
struct Head {
    stream: String,
    #[serde(rename = "type")]
    kind: String,
}

/// Counts an export's events and lists the delegations it never closes.
pub(crate) fn scan(export: &Path) -> Result<(u64, Vec<String>), BenchError> {
    let file = std::fs::File::open(export).map_err(BenchError::io(export))?;
    let reader = std::io::BufReader::with_capacity(1 << 20, file);
    let mut order: Vec<String> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut closed: HashSet<String> = HashSet::new();
    let mut events = 0u64;
    for (i, line) in reader.lines().enumerate() {
        let line = line.map_err(BenchError::io(export))?;
        if line.trim().is_empty() {
            continue;
        }
        let head: Head = serde_json::from_str(&line)
            .map_err(|e| BenchError::unexpected("expo export", format!("line {}: {e}", i + 1)))?;
        events += 1;
        if head.kind == "DelegationClosed" {
            closed.insert(head.stream.clone());
        }
        if seen.insert(head.stream.clone()) {
            order.push(head.stream);
        }
    }
    order.retain(|s| !closed.contains(s));
    Ok((events, order))
}

/// Bytes of every file under `dir` (apparent sizes, as `du -b` counts them).
pub(crate) fn dir_bytes(dir: &Path) -> Result<u64, BenchError> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir).map_err(BenchError::io(dir))? {
        let entry = entry.map_err(BenchError::io(dir))?;
        let meta = entry.metadata().map_err(BenchError::io(entry.path()))?;
        total += if meta.is_dir() {
            dir_bytes(&entry.path())?
        } else {
            meta.len()
        };
    }
    Ok(total)
}

/// Removes a folder and everything in it, if it is there.
pub(crate) fn remove_dir(dir: &Path) -> Result<(), BenchError> {
    match std::fs::remove_dir_all(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(BenchError::io(dir)(e)),
        _ => Ok(()),
    }
}

/// Removes a file, if it is there.
pub(crate) fn remove_file(file: &Path) -> Result<(), BenchError> {
    match std::fs::remove_file(file) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(BenchError::io(file)(e)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_counts_events_and_leaves_out_closed_delegations() {
        // given an export where delegation b is closed
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("e.jsonl");
        let lines = [
            r#"{"position":1,"stream":"a","version":1,"type":"DelegationCreated","data":{}}"#,
            r#"{"position":2,"stream":"b","version":1,"type":"DelegationCreated","data":{}}"#,
            "",
            r#"{"position":3,"stream":"b","version":2,"type":"DelegationClosed","data":{}}"#,
            r#"{"position":4,"stream":"c","version":1,"type":"DelegationCreated","data":{}}"#,
        ];
        std::fs::write(&f, lines.join("\n")).unwrap();
        // when it is scanned
        let (events, open) = scan(&f).unwrap();
        // then blank lines are not events and b is not offered
        assert_eq!(events, 4);
        assert_eq!(open, ["a", "c"]);
    }

    #[test]
    fn a_broken_export_line_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("e.jsonl");
        std::fs::write(&f, "{\"stream\":\"a\",\"type\":\"X\"}\nnot json\n").unwrap();
        let e = scan(&f).unwrap_err().to_string();
        assert!(e.contains("line 2"), "{e}");
    }

    #[test]
    fn dir_bytes_adds_up_nested_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("a"), [0u8; 10]).unwrap();
        std::fs::write(dir.path().join("sub/b"), [0u8; 32]).unwrap();
        assert_eq!(dir_bytes(dir.path()).unwrap(), 42);
    }
}
