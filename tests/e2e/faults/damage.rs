//! Damaged store files: flipped bytes, truncation, deletion and garbage; `expo` says plainly that the store is damaged, or (if sled repairs it) shows every event intact — never a panic, never a silently different roster.

use super::rig::{copy_dir, files_under, Expo, Rng, Scratch};
use crate::harness::{slow_tests, Output};
use std::path::Path;
use std::time::{Duration, Instant};

/// Trials: (default, slow).
const TRIALS: (usize, usize) = (40, 300);

/// How long one command on a damaged store may take before it counts as hung.
const HANG: Duration = Duration::from_secs(30);

/// One way of damaging a file.
fn damage(rng: &mut Rng, file: &Path) -> String {
    let data = std::fs::read(file).unwrap_or_default();
    let len = data.len();
    let name = file.file_name().unwrap().to_string_lossy().into_owned();
    let kind = if len == 0 { 5 } else { rng.below(7) };
    match kind {
        0 | 1 => {
            // A few flipped bytes: bit rot.
            let mut d = data;
            let n = 1 + rng.index(8);
            let mut at = Vec::new();
            for _ in 0..n {
                let i = rng.index(len);
                d[i] ^= 1 + rng.below(255) as u8;
                at.push(i);
            }
            std::fs::write(file, d).unwrap();
            format!("flipped bytes of {name} at {at:?}")
        }
        2 => {
            // A run of garbage: a torn or misdirected write.
            let mut d = data;
            let start = rng.index(len);
            let n = (1 + rng.index(4096)).min(len - start);
            for b in &mut d[start..start + n] {
                *b = rng.next_u64() as u8;
            }
            std::fs::write(file, d).unwrap();
            format!("{n} random bytes over {name} at {start}")
        }
        3 => {
            // A run of zeros: a lost page.
            let mut d = data;
            let start = rng.index(len);
            let n = (1 + rng.index(8192)).min(len - start);
            d[start..start + n].fill(0);
            std::fs::write(file, d).unwrap();
            format!("{n} zero bytes over {name} at {start}")
        }
        4 => {
            let to = rng.index(len);
            let f = std::fs::OpenOptions::new().write(true).open(file).unwrap();
            f.set_len(to as u64).unwrap();
            format!("truncated {name} from {len} to {to} bytes")
        }
        5 => {
            std::fs::remove_file(file).unwrap();
            format!("deleted {name}")
        }
        _ => {
            let k = 1 + rng.index(2048);
            let extra = rng.bytes(k);
            let mut d = data;
            d.extend_from_slice(&extra);
            std::fs::write(file, d).unwrap();
            format!("appended {} random bytes to {name}", extra.len())
        }
    }
}

/// Runs one command on a damaged store; a hang, a panic, an exit code other than 0 or 3, or an exit 3 without a plain message is a finding.
fn run(store: &Expo, scratch: &Scratch, args: &[&str]) -> Result<Output, String> {
    let run = store.run_killed(scratch, args, HANG);
    let cmd = format!("`expo {}`", args.join(" "));
    if run.killed {
        return Err(format!("{cmd} hung for {HANG:?}"));
    }
    let out = run.out;
    let panicked = out.code == 101
        || ["panicked", "RUST_BACKTRACE", "stack backtrace"]
            .iter()
            .any(|p| out.stderr.contains(p) || out.stdout.contains(p));
    if panicked {
        return Err(format!(
            "{cmd} panicked (exit {}): {}",
            out.code,
            out.stderr.trim()
        ));
    }
    if !matches!(out.code, 0 | 3) {
        return Err(format!(
            "{cmd} exited {} (want 0, or 3 naming the damage): {}",
            out.code,
            out.stderr.trim()
        ));
    }
    if out.code == 3 {
        let msg = out.stderr.trim();
        if msg.is_empty() || msg.lines().count() > 3 || !msg.starts_with("expo: ") {
            return Err(format!(
                "{cmd} exited 3 without a plain message naming the problem: {msg:?}"
            ));
        }
    }
    Ok(out)
}

/// What one trial on a damaged store found.
enum Outcome {
    Intact,
    Reported,
    ReadsStillRight,
}

/// Runs the reading commands on a damaged store and judges them against the undamaged store.
fn judge(
    store: &Expo,
    scratch: &Scratch,
    roster_args: &[&str],
    roster: &str,
    export: &[u8],
) -> Result<Outcome, String> {
    let verify = run(store, scratch, &["verify"])?;
    let roster_out = run(store, scratch, roster_args)?;
    let export_out = run(store, scratch, &["export"])?;
    if roster_out.code == 0 && roster_out.stdout != roster {
        return Err(format!(
            "roster exited 0 but differs from the undamaged one (verify exited {}: {})\n--- damaged\n{}",
            verify.code,
            verify.stderr.trim(),
            super::rig::tail(&roster_out.stdout)
        ));
    }
    if export_out.code == 0 && export_out.stdout_bytes != export {
        return Err(format!(
            "export exited 0 but differs from the undamaged export: {} of {} lines (verify exited {}: {})",
            export_out.stdout_bytes.iter().filter(|b| **b == b'\n').count(),
            export.iter().filter(|b| **b == b'\n').count(),
            verify.code,
            verify.stderr.trim()
        ));
    }
    if verify.code == 0 {
        if export_out.code != 0 {
            return Err(format!(
                "verify passed but export failed: {}",
                export_out.stderr.trim()
            ));
        }
        Ok(Outcome::Intact)
    } else if roster_out.code == 0 || export_out.code == 0 {
        Ok(Outcome::ReadsStillRight)
    } else {
        Ok(Outcome::Reported)
    }
}

/// An undamaged store and what it shows.
struct Base {
    name: &'static str,
    store: Expo,
    export: Vec<u8>,
    roster_of: String,
    roster: String,
    /// The store's files, relative to its directory.
    rel: Vec<std::path::PathBuf>,
}

impl Base {
    fn new(scratch: &Scratch, name: &'static str, make: &[&str]) -> Base {
        let store = Expo::at(scratch.path(name));
        store.ok(name, make);
        store.verify(name);
        let export = store.export(name);
        let list = store.json(name, &["delegation", "list", "--json"]);
        let roster_of = list["delegations"][0]["id"].as_str().unwrap().to_owned();
        let roster = store
            .ok(name, &["roster", &roster_of, "--format", "json", "--full"])
            .stdout;
        let rel = files_under(&store.data)
            .iter()
            .map(|f| f.strip_prefix(&store.data).unwrap().to_path_buf())
            .collect();
        Base {
            name,
            store,
            export,
            roster_of,
            roster,
            rel,
        }
    }
}

/// Damage inside the store: exit 3 with a plain message, or every event intact; never a panic or a silently different roster.
#[test]
fn damaged_store_is_reported_or_intact_never_silently_wrong() {
    let mut rng = Rng::for_campaign("damage");
    let started = Instant::now();
    let n = if slow_tests() { TRIALS.1 } else { TRIALS.0 };
    let scratch = Scratch::new("damage");
    // Two stores: the small demo (one sled segment) and a seeded one spanning several.
    let bases = [
        Base::new(&scratch, "demo", &["demo"]),
        Base::new(
            &scratch,
            "seeded",
            &[
                "seed",
                "--delegations",
                "6",
                "--companies",
                "40",
                "--delegates",
                "3",
                "--seed",
                "3",
            ],
        ),
    ];
    for b in &bases {
        eprintln!(
            "faults/damage: base {}: files {:?}, export of {} bytes",
            b.store.data.display(),
            b.rel,
            b.export.len()
        );
    }
    eprintln!("faults/damage: {n} trials");
    let (mut reported, mut intact, mut mixed) = (0, 0, 0);
    let mut findings: Vec<String> = Vec::new();
    for trial in 0..n {
        let base = &bases[trial % bases.len()];
        let rel = &base.rel;
        let store = Expo::at(scratch.path(&format!("trial-{trial}")));
        copy_dir(&base.store.data, &store.data);
        let mut what = Vec::new();
        for _ in 0..(1 + usize::from(rng.chance(1, 6))) {
            // The log file most of the time: it holds the events.
            let pick = if rng.chance(3, 5) {
                rel.iter().position(|r| r.as_os_str() == "db").unwrap_or(0)
            } else {
                rng.index(rel.len())
            };
            let file = store.data.join(&rel[pick]);
            if file.exists() {
                what.push(damage(&mut rng, &file));
            }
        }
        let ctx = format!(
            "damage trial {trial} on the {} store: {}",
            base.name,
            what.join("; ")
        );
        // The damaged store as it was before any command touched it, kept for a repro if it fails.
        let pristine = scratch.path("pristine");
        let _ = std::fs::remove_dir_all(&pristine);
        copy_dir(&store.data, &pristine);
        let roster_args = [
            "roster",
            base.roster_of.as_str(),
            "--format",
            "json",
            "--full",
        ];
        match judge(&store, &scratch, &roster_args, &base.roster, &base.export) {
            Ok(Outcome::Intact) => intact += 1,
            Ok(Outcome::Reported) => reported += 1,
            Ok(Outcome::ReadsStillRight) => mixed += 1,
            Err(finding) => {
                let kept = std::env::temp_dir()
                    .join(format!("expo-faults-damaged-{}-{trial}", rng.seed()));
                let _ = std::fs::remove_dir_all(&kept);
                copy_dir(&pristine, &kept);
                findings.push(format!(
                    "{ctx}: {finding}\n    (the damaged store, before any command: {})",
                    kept.display()
                ));
            }
        }
        let _ = std::fs::remove_dir_all(&store.data);
    }
    eprintln!(
        "faults/damage: {n} trials: {} went wrong, {intact} intact (verify passed, export identical), {reported} reported by every command, {mixed} reported by verify while reads still gave the right answer; {:.1} s",
        findings.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(
        findings.is_empty(),
        "{} of {n} damage trials went wrong:\n{}",
        findings.len(),
        findings
            .iter()
            .take(12)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
