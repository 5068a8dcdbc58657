//! The result of a run: rows of figures with their targets, and the markdown table that shows them.

use std::fmt::Write as _;

/// What a row's target is checked against.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target {
    /// `expo ÷ peer` must be at least this (rates: higher is better).
    RatioAtLeast(f64),
    /// `expo ÷ peer` must be at most this (times: lower is better).
    RatioAtMost(f64),
    /// expo's own figure must be at most this (disk per byte, MiB).
    ValueAtMost(f64),
    /// expo's own figure must be at least this (growth ratios).
    ValueAtLeast(f64),
}

/// One figure of the table.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// What was measured and how, in words.
    pub figure: String,
    /// The unit of the expo and peer columns.
    pub unit: String,
    /// expo's figure.
    pub expo: f64,
    /// The peer's figure on the same work, where there is one.
    pub peer: Option<f64>,
    /// The target.
    pub target: Target,
}

impl Row {
    /// `expo ÷ peer`, where there is a peer figure.
    pub fn ratio(&self) -> Option<f64> {
        self.peer.filter(|p| *p > 0.0).map(|p| self.expo / p)
    }

    /// Whether the target is met.
    pub fn passes(&self) -> bool {
        match self.target {
            Target::RatioAtLeast(t) => self.ratio().is_some_and(|r| r >= t),
            Target::RatioAtMost(t) => self.ratio().is_some_and(|r| r <= t),
            Target::ValueAtMost(t) => self.expo <= t,
            Target::ValueAtLeast(t) => self.expo >= t,
        }
    }

    fn target_text(&self) -> String {
        match self.target {
            Target::RatioAtLeast(t) => format!("≥ {t:.1}× peer"),
            Target::RatioAtMost(t) => format!("≤ {t:.1}× peer"),
            Target::ValueAtMost(t) => format!("expo ≤ {}", limit(t)),
            Target::ValueAtLeast(t) => format!("expo ≥ {}", limit(t)),
        }
    }
}

/// The machine a run happened on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Machine {
    /// CPUs available to the process.
    pub cpus: usize,
    /// Total memory, in bytes (0 where unknown).
    pub memory_bytes: u64,
    /// The CPU's model name, where the OS says.
    pub cpu_model: String,
}

/// One round's raw figures, kept to show where the time goes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Round {
    /// 1-based.
    pub number: u32,
    /// Whole-process seconds of `expo import`, and what expo itself reported.
    pub expo_import_s: (f64, Option<f64>),
    /// Whole-process seconds of `peer-sqlite import`, and what the peer reported.
    pub peer_import_s: (f64, Option<f64>),
    /// Whole-process seconds of `expo replay`, and what expo itself reported.
    pub expo_replay_s: (f64, Option<f64>),
    /// Whole-process seconds of `peer-sqlite replay`, and what the peer reported.
    pub peer_replay_s: (f64, Option<f64>),
    /// Median milliseconds of one durable expo command this round.
    pub expo_command_ms: f64,
    /// Median milliseconds of one peer append this round.
    pub peer_append_ms: f64,
    /// Median milliseconds of one expo roster this round.
    pub expo_roster_ms: f64,
    /// Bytes of expo's store right after import.
    pub expo_disk_bytes: u64,
    /// Bytes of the peer's database files right after import.
    pub peer_disk_bytes: u64,
    /// Peak RSS of `expo replay`, bytes.
    pub expo_replay_rss: u64,
}

/// Everything one run found.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// When the run ended, `YYYY-MM-DD HH:MM UTC`.
    pub date: String,
    /// Where it ran.
    pub machine: Machine,
    /// Events in the export both sides worked on.
    pub events: u64,
    /// Bytes of that export.
    pub export_bytes: u64,
    /// How the store was seeded, in words (the `expo seed` arguments).
    pub seeded_with: String,
    /// Rounds run.
    pub rounds: u32,
    /// Runs of each single command per round.
    pub repeats: u32,
    /// The delegation the single commands and rosters ran on.
    pub delegation: String,
    /// The figures, in table order.
    pub rows: Vec<Row>,
    /// Each round's raw figures.
    pub round_details: Vec<Round>,
}

impl Report {
    /// Whether every target is met.
    pub fn all_pass(&self) -> bool {
        self.rows.iter().all(Row::passes)
    }

    /// The whole report as markdown: a heading line, the table, then each round's raw figures.
    pub fn to_markdown(&self) -> String {
        let mut s = String::new();
        let m = &self.machine;
        let _ = writeln!(
            s,
            "expo vs peer-sqlite, {} events ({} bytes of export; `expo seed {}`), {} round(s), single commands ×{} a round; {}; {} CPUs{}, {:.1} GiB memory\n",
            thousands(self.events),
            thousands(self.export_bytes),
            self.seeded_with,
            self.rounds,
            self.repeats,
            self.date,
            m.cpus,
            if m.cpu_model.is_empty() { String::new() } else { format!(" ({})", m.cpu_model) },
            m.memory_bytes as f64 / GIB,
        );
        s.push_str("| figure | expo | peer | ratio | target | result |\n");
        s.push_str("| --- | ---: | ---: | ---: | --- | --- |\n");
        for r in &self.rows {
            let _ = writeln!(
                s,
                "| {} ({}) | {} | {} | {} | {} | {} |",
                r.figure,
                r.unit,
                number(r.expo),
                r.peer.map_or_else(|| "—".to_owned(), number),
                r.ratio()
                    .map_or_else(|| "—".to_owned(), |x| format!("{x:.2}×")),
                r.target_text(),
                if r.passes() { "PASS" } else { "SHORT" },
            );
        }
        let _ = writeln!(
            s,
            "\nWhole-process times; rates are export lines ÷ seconds; medians over rounds (peak memory: the largest). Single commands on delegation `{}`.\n",
            self.delegation
        );
        s.push_str("Per round, whole process (in brackets: the program's own timing, which leaves out start-up and opening):\n\n");
        s.push_str("| round | expo import s | peer import s | expo replay s | peer replay s | expo command ms | peer append ms | expo roster ms | expo disk bytes | peer disk bytes | expo replay RSS MiB |\n");
        s.push_str(
            "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n",
        );
        for d in &self.round_details {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {:.2} | {:.2} | {:.2} | {} | {} | {:.1} |",
                d.number,
                span(d.expo_import_s),
                span(d.peer_import_s),
                span(d.expo_replay_s),
                span(d.peer_replay_s),
                d.expo_command_ms,
                d.peer_append_ms,
                d.expo_roster_ms,
                thousands(d.expo_disk_bytes),
                thousands(d.peer_disk_bytes),
                d.expo_replay_rss as f64 / MIB,
            );
        }
        s
    }
}

/// Bytes in a MiB.
pub const MIB: f64 = 1024.0 * 1024.0;
const GIB: f64 = MIB * 1024.0;

/// The median of `xs` (the mean of the middle two for an even count); `None` when empty.
pub fn median(xs: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = xs.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    })
}

/// `1234567` as `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A figure with as many decimals as its size deserves.
fn number(x: f64) -> String {
    if !x.is_finite() {
        return x.to_string();
    }
    if x.abs() >= 1000.0 {
        thousands(x.round() as u64)
    } else if x.abs() >= 100.0 {
        format!("{x:.0}")
    } else if x.abs() >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

/// A target as written in the issue: `256`, `1.0`, `0.8`.
fn limit(t: f64) -> String {
    if t >= 100.0 {
        format!("{t:.0}")
    } else {
        format!("{t:.1}")
    }
}

fn span((wall, own): (f64, Option<f64>)) -> String {
    match own {
        Some(o) => format!("{wall:.2} ({o:.2})"),
        None => format!("{wall:.2}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(target: Target, expo: f64, peer: Option<f64>, passes: bool) {
        let row = Row {
            figure: "f".into(),
            unit: "u".into(),
            expo,
            peer,
            target,
        };
        assert_eq!(row.passes(), passes, "{row:?}");
    }

    #[test]
    fn targets_are_checked_on_the_ratio_or_on_expo_alone() {
        check(Target::RatioAtLeast(3.0), 300.0, Some(100.0), true);
        check(Target::RatioAtLeast(3.0), 299.0, Some(100.0), false);
        check(Target::RatioAtMost(1.5), 6.0, Some(4.0), true);
        check(Target::RatioAtMost(1.5), 6.1, Some(4.0), false);
        check(Target::RatioAtMost(1.5), 1.0, None, false);
        check(Target::RatioAtLeast(3.0), 1.0, Some(0.0), false);
        check(Target::ValueAtMost(256.0), 255.9, Some(1000.0), true);
        check(Target::ValueAtMost(1.0), 1.01, Some(0.5), false);
        check(Target::ValueAtLeast(0.8), 0.8, None, true);
        check(Target::ValueAtLeast(0.8), 0.79, None, false);
        assert_eq!(limit(256.0), "256");
        assert_eq!(limit(1.0), "1.0");
    }

    #[test]
    fn medians_and_numbers() {
        let cases: [(&[f64], Option<f64>); 5] = [
            (&[], None),
            (&[3.0], Some(3.0)),
            (&[5.0, 1.0, 3.0], Some(3.0)),
            (&[4.0, 1.0, 3.0, 2.0], Some(2.5)),
            (&[f64::NAN, 2.0], Some(2.0)),
        ];
        for (xs, want) in cases {
            assert_eq!(median(xs), want, "{xs:?}");
        }
        for (n, want) in [
            (0, "0"),
            (999, "999"),
            (1000, "1,000"),
            (1_234_567, "1,234,567"),
        ] {
            assert_eq!(thousands(n), want);
        }
        for (x, want) in [
            (96_000.4, "96,000"),
            (407.0, "407"),
            (12.34, "12.3"),
            (1.234, "1.23"),
        ] {
            assert_eq!(number(x), want);
        }
    }

    #[test]
    fn the_markdown_has_a_line_per_row_with_its_verdict() {
        // given a report with one met and one missed target
        let report = Report {
            date: "2026-11-28 04:00 UTC".into(),
            machine: Machine {
                cpus: 2,
                memory_bytes: 4 << 30,
                cpu_model: "Test CPU".into(),
            },
            events: 1_000_000,
            export_bytes: 357_000_000,
            seeded_with: "--delegations 10".into(),
            rounds: 3,
            repeats: 11,
            delegation: "seed7-000001".into(),
            rows: vec![
                Row {
                    figure: "bulk import".into(),
                    unit: "events/s".into(),
                    expo: 400_000.0,
                    peer: Some(100_000.0),
                    target: Target::RatioAtLeast(3.0),
                },
                Row {
                    figure: "one durable command".into(),
                    unit: "ms".into(),
                    expo: 8.0,
                    peer: Some(4.0),
                    target: Target::RatioAtMost(1.5),
                },
            ],
            round_details: vec![Round {
                number: 1,
                ..Round::default()
            }],
        };
        // when it is rendered
        let md = report.to_markdown();
        // then each row carries its figures, ratio, target and verdict
        assert!(
            md.contains(
                "| bulk import (events/s) | 400,000 | 100,000 | 4.00× | ≥ 3.0× peer | PASS |"
            ),
            "{md}"
        );
        assert!(
            md.contains("| one durable command (ms) | 8.00 | 4.00 | 2.00× | ≤ 1.5× peer | SHORT |"),
            "{md}"
        );
        assert!(md.contains("2 CPUs (Test CPU), 4.0 GiB memory"), "{md}");
        assert!(md.contains("| 1 | 0.00 |"), "{md}");
        assert!(!report.all_pass());
    }
}
