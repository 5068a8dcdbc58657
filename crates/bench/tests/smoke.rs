//! Smoke test: the whole benchmark at 20,000 events and one round, so the driver never rots; it asserts the table, never speed.
// Test helpers outside #[test] functions may unwrap too: a failure here is a failed test.
#![allow(clippy::unwrap_used)]

use expo_bench::{build, default_target_dir, run, Binaries, Config, Profile, Report, Shape};
use std::path::Path;
use std::sync::OnceLock;

/// Both programs, built once for this test binary in the test profile into
/// the workspace's target folder (a no-op when `cargo test` already built `expo`).
fn binaries() -> &'static Binaries {
    static BINARIES: OnceLock<Binaries> = OnceLock::new();
    BINARIES.get_or_init(|| build(Profile::Test, &default_target_dir(), true).unwrap())
}

fn config(work: &Path, events: u64, growth: bool) -> Config {
    let b = binaries();
    Config {
        expo: b.expo.clone(),
        peer: b.peer.clone(),
        events,
        rounds: 1,
        repeats: 2,
        work_dir: work.to_owned(),
        shape: Shape::default(),
        growth,
        keep: false,
        progress: false,
    }
}

/// The part of each row's label before the colon: what the figure is.
fn kinds(report: &Report) -> Vec<String> {
    report
        .rows
        .iter()
        .map(|r| r.figure.split(':').next().unwrap_or_default().to_owned())
        .collect()
}

#[track_caller]
fn check_sane(report: &Report, work: &Path) {
    for r in &report.rows {
        assert!(r.expo.is_finite() && r.expo > 0.0, "{r:?}");
        if let Some(p) = r.peer {
            assert!(p.is_finite() && p > 0.0, "{r:?}");
            assert!(r.ratio().is_some_and(|x| x.is_finite() && x > 0.0), "{r:?}");
        }
    }
    assert_eq!(report.round_details.len(), 1);
    let d = &report.round_details[0];
    for (what, x) in [
        ("expo import", d.expo_import_s.0),
        ("peer import", d.peer_import_s.0),
        ("expo replay", d.expo_replay_s.0),
        ("peer replay", d.peer_replay_s.0),
        ("expo command", d.expo_command_ms),
        ("peer append", d.peer_append_ms),
        ("expo roster", d.expo_roster_ms),
    ] {
        assert!(x > 0.0, "{what}: {x}");
    }
    assert!(
        d.expo_disk_bytes > 0 && d.peer_disk_bytes > 0 && d.expo_replay_rss > 0,
        "{d:?}"
    );
    assert!(report.machine.cpus > 0);
    // bench.md is the table as printed, and the scratch stores and export are gone.
    let md = std::fs::read_to_string(work.join("bench.md")).unwrap();
    assert_eq!(md, report.to_markdown());
    for r in &report.rows {
        assert!(md.contains(&r.figure), "{} missing from\n{md}", r.figure);
    }
    let left: Vec<_> = std::fs::read_dir(work)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, ["bench.md"]);
}

#[test]
fn the_benchmark_runs_end_to_end_and_fills_every_row() {
    // given an empty scratch folder
    let work = tempfile::tempdir().unwrap();
    // when the benchmark runs at 20,000 events, one round, two runs of each command
    let report = run(&config(work.path(), 20_000, false)).unwrap();
    // then the seeded export is about that size and every figure is there, positive, on both sides
    assert!(
        (16_000..=24_000).contains(&report.events),
        "{}",
        report.events
    );
    assert!(
        report.export_bytes > report.events * 100,
        "{}",
        report.export_bytes
    );
    assert_eq!(
        kinds(&report),
        [
            "bulk import",
            "full rebuild",
            "one durable command",
            "one roster",
            "disk",
            "memory"
        ]
    );
    assert!(report.rows.iter().all(|r| r.peer.is_some()));
    assert!(
        report.delegation.starts_with("seed7-"),
        "{}",
        report.delegation
    );
    check_sane(&report, work.path());
}

#[test]
fn growth_adds_three_rows_measured_at_ten_times_the_events() {
    // given an empty scratch folder
    let work = tempfile::tempdir().unwrap();
    // when the benchmark runs at 2,000 events with --growth (so also at 20,000)
    let report = run(&config(work.path(), 2_000, true)).unwrap();
    // then the growth rows follow the six figures, as ratios of expo alone
    assert_eq!(
        kinds(&report),
        [
            "bulk import",
            "full rebuild",
            "one durable command",
            "one roster",
            "disk",
            "memory",
            "growth",
            "growth",
            "growth"
        ]
    );
    assert!(report.rows[6..].iter().all(|r| r.peer.is_none()));
    check_sane(&report, work.path());
}
