//! The measuring itself: rounds of expo against the peer on one export, whole processes, A then B, and the rows made from the medians.

use crate::dataset::{self, expo_on, Dataset, Shape};
use crate::machine;
use crate::process::{self, Finished};
use crate::report::{median, thousands, Report, Round, Row, Target, MIB};
use crate::BenchError;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// What to run, where, and how often.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The `expo` binary under test.
    pub expo: PathBuf,
    /// The `peer-sqlite` binary.
    pub peer: PathBuf,
    /// About how many events to seed (the export's exact count is used for rates).
    pub events: u64,
    /// Rounds of import, replay and single commands, each round A then B.
    pub rounds: u32,
    /// Runs of each single command (expo command, peer append, expo roster) per round.
    pub repeats: u32,
    /// Scratch folder for the export and the stores; `bench.md` is written here.
    pub work_dir: PathBuf,
    /// The seeded delegations' shape.
    pub shape: Shape,
    /// Also run import and replay at 10× the events and report the growth ratios.
    pub growth: bool,
    /// Keep the export and the last round's stores afterwards.
    pub keep: bool,
    /// Say what is happening on stderr.
    pub progress: bool,
}

/// Targets from issue 6.
const IMPORT_AT_LEAST: f64 = 3.0;
const REPLAY_AT_LEAST: f64 = 3.0;
const COMMAND_AT_MOST: f64 = 1.5;
const ROSTER_AT_MOST: f64 = 1.5;
const DISK_AT_MOST: f64 = 1.0;
const REPLAY_RSS_MIB_AT_MOST: f64 = 256.0;
const GROWTH_RATE_AT_LEAST: f64 = 0.8;
const GROWTH_RSS_AT_MOST: f64 = 1.2;
/// How many never-closed delegations to try when looking for one with seats left.
const CANDIDATES: usize = 20;

/// Runs the whole benchmark and writes its table to `work_dir/bench.md`.
pub fn run(config: &Config) -> Result<Report, BenchError> {
    if config.events == 0 || config.rounds == 0 || config.repeats == 0 {
        return Err(BenchError::Config(
            "events, rounds and repeats must each be at least 1".to_owned(),
        ));
    }
    let work = &config.work_dir;
    std::fs::create_dir_all(work).map_err(BenchError::io(work))?;
    let log = Log {
        started: Instant::now(),
        on: config.progress,
    };

    log.say(&format!(
        "seeding about {} events",
        thousands(config.events)
    ));
    let per_delegation = dataset::events_per_delegation(&config.expo, work, &config.shape)?;
    let data = dataset::prepare(
        &config.expo,
        work,
        &config.shape,
        config.events,
        per_delegation,
    )?;
    log.say(&format!(
        "export: {} events, {} bytes (expo seed {})",
        thousands(data.events),
        thousands(data.bytes),
        data.seeded_with
    ));

    let mut singles = Singles::default();
    let mut rounds = Vec::new();
    for number in 1..=config.rounds {
        rounds.push(measure_round(config, &data, number, &mut singles, &log)?);
    }
    let bulk = Bulk::of(&rounds, &data);
    let mut rows = main_rows(config, &bulk, &singles);
    if config.growth {
        rows.extend(growth_rows(config, &data, per_delegation, &bulk, &log)?);
    }
    if !config.keep {
        dataset::remove_file(&data.export)?;
    }

    let report = Report {
        date: machine::now_utc(),
        machine: machine::this_machine(),
        events: data.events,
        export_bytes: data.bytes,
        seeded_with: data.seeded_with.clone(),
        rounds: config.rounds,
        repeats: config.repeats,
        delegation: singles.delegation.unwrap_or_default(),
        rows,
        round_details: rounds.into_iter().map(|r| r.round).collect(),
    };
    let md = work.join("bench.md");
    std::fs::write(&md, report.to_markdown()).map_err(BenchError::io(&md))?;
    Ok(report)
}

/// One round's bulk runs, kept whole for the medians.
struct Measured {
    round: Round,
    expo_import: Finished,
    peer_import: Finished,
    expo_replay: Finished,
    peer_replay: Finished,
}

/// The single commands of every round so far, and what they ran on.
#[derive(Default)]
struct Singles {
    expo_command_ms: Vec<f64>,
    peer_append_ms: Vec<f64>,
    expo_roster_ms: Vec<f64>,
    /// Chosen in the first round, kept for the rest.
    delegation: Option<String>,
    /// Numbers the fresh NTNs, across rounds.
    registered: u64,
}

/// One round on fresh stores: import, disk, replay, then the single commands, each figure expo then peer.
fn measure_round(
    config: &Config,
    data: &Dataset,
    number: u32,
    singles: &mut Singles,
    log: &Log,
) -> Result<Measured, BenchError> {
    let stores = Stores::new(&config.work_dir)?;
    let mut round = Round {
        number,
        ..Round::default()
    };

    let ei = import_expo(config, data, &stores.expo)?;
    let pi = checked(
        "peer-sqlite import",
        Command::new(&config.peer)
            .arg("import")
            .arg(&stores.peer_db)
            .arg(&data.export),
        data.events,
    )?;
    round.expo_import_s = (ei.seconds(), ei.reported("seconds"));
    round.peer_import_s = (pi.seconds(), pi.reported("seconds"));
    round.expo_disk_bytes = dataset::dir_bytes(&stores.expo)?;
    round.peer_disk_bytes = dataset::dir_bytes(&stores.peer)?;
    log.say(&format!(
        "round {number}: import expo {:.2} s, peer {:.2} s",
        ei.seconds(),
        pi.seconds()
    ));

    let er = replay_expo(config, data, &stores.expo)?;
    let pr = checked(
        "peer-sqlite replay",
        Command::new(&config.peer)
            .arg("replay")
            .arg(&stores.peer_db),
        data.events,
    )?;
    round.expo_replay_s = (er.seconds(), er.reported("seconds"));
    round.peer_replay_s = (pr.seconds(), pr.reported("seconds"));
    round.expo_replay_rss = er.max_rss_bytes;
    log.say(&format!(
        "round {number}: replay expo {:.2} s ({:.0} MiB), peer {:.2} s ({:.0} MiB)",
        er.seconds(),
        er.max_rss_bytes as f64 / MIB,
        pr.seconds(),
        pr.max_rss_bytes as f64 / MIB
    ));

    let delegation = match &singles.delegation {
        Some(d) => d.clone(),
        None => {
            let d = pick_delegation(config, &stores.expo, data)?;
            log.say(&format!("single commands on delegation {d}"));
            singles.delegation = Some(d.clone());
            d
        }
    };
    let (mut c, mut a, mut r) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..config.repeats {
        singles.registered += 1;
        let n = singles.registered;
        c.push(register_company(config, &stores.expo, &delegation, n)?.seconds() * 1e3);
        let append = process::run(
            "peer-sqlite append",
            Command::new(&config.peer)
                .arg("append")
                .arg(&stores.peer_db)
                .arg(&delegation),
        )?;
        a.push(append.seconds() * 1e3);
        r.push(roster(config, &stores.expo, &delegation)?.seconds() * 1e3);
    }
    round.expo_command_ms = median(&c).unwrap_or(0.0);
    round.peer_append_ms = median(&a).unwrap_or(0.0);
    round.expo_roster_ms = median(&r).unwrap_or(0.0);
    log.say(&format!(
        "round {number}: medians: expo command {:.2} ms, peer append {:.2} ms, expo roster {:.2} ms",
        round.expo_command_ms, round.peer_append_ms, round.expo_roster_ms
    ));
    singles.expo_command_ms.extend(c);
    singles.peer_append_ms.extend(a);
    singles.expo_roster_ms.extend(r);
    if !(config.keep && number == config.rounds) {
        stores.remove()?;
    }
    Ok(Measured {
        round,
        expo_import: ei,
        peer_import: pi,
        expo_replay: er,
        peer_replay: pr,
    })
}

/// The bulk figures over all rounds: median rates and disk, largest peak memory.
struct Bulk {
    expo_import: f64,
    peer_import: f64,
    expo_replay: f64,
    peer_replay: f64,
    expo_disk: f64,
    peer_disk: f64,
    expo_rss: f64,
    peer_rss: f64,
}

impl Bulk {
    fn of(rounds: &[Measured], data: &Dataset) -> Bulk {
        let med = |pick: &dyn Fn(&Measured) -> f64| {
            median(&rounds.iter().map(pick).collect::<Vec<_>>()).unwrap_or(0.0)
        };
        let rate = |f: &Finished| rate(data.events, f);
        let peak =
            |pick: &dyn Fn(&Measured) -> u64| rounds.iter().map(pick).max().unwrap_or(0) as f64;
        let bytes = data.bytes.max(1) as f64;
        Bulk {
            expo_import: med(&|r| rate(&r.expo_import)),
            peer_import: med(&|r| rate(&r.peer_import)),
            expo_replay: med(&|r| rate(&r.expo_replay)),
            peer_replay: med(&|r| rate(&r.peer_replay)),
            expo_disk: med(&|r| r.round.expo_disk_bytes as f64) / bytes,
            peer_disk: med(&|r| r.round.peer_disk_bytes as f64) / bytes,
            expo_rss: peak(&|r| r.expo_replay.max_rss_bytes),
            peer_rss: peak(&|r| r.peer_replay.max_rss_bytes),
        }
    }
}

/// Events per second of a whole-process run over `events` events.
fn rate(events: u64, f: &Finished) -> f64 {
    events as f64 / f.seconds().max(f64::MIN_POSITIVE)
}

/// The six figures of issue 6's table.
fn main_rows(config: &Config, bulk: &Bulk, singles: &Singles) -> Vec<Row> {
    let runs = config.repeats * config.rounds;
    let peer_append = median(&singles.peer_append_ms).unwrap_or(0.0);
    vec![
        row(
            "bulk import: `expo import` vs `peer-sqlite import`",
            "events/s",
            bulk.expo_import,
            Some(bulk.peer_import),
            Target::RatioAtLeast(IMPORT_AT_LEAST),
        ),
        row(
            "full rebuild: `expo replay` vs `peer-sqlite replay`",
            "events/s",
            bulk.expo_replay,
            Some(bulk.peer_replay),
            Target::RatioAtLeast(REPLAY_AT_LEAST),
        ),
        row(
            &format!(
                "one durable command: `expo company register` vs `peer-sqlite append`, median of {runs}"
            ),
            "ms",
            median(&singles.expo_command_ms).unwrap_or(0.0),
            Some(peer_append),
            Target::RatioAtMost(COMMAND_AT_MOST),
        ),
        row(
            &format!("one roster: `expo roster --format json` vs `peer-sqlite append`, median of {runs}"),
            "ms",
            median(&singles.expo_roster_ms).unwrap_or(0.0),
            Some(peer_append),
            Target::RatioAtMost(ROSTER_AT_MOST),
        ),
        row(
            "disk: store bytes after import ÷ export bytes",
            "bytes/byte",
            bulk.expo_disk,
            Some(bulk.peer_disk),
            Target::ValueAtMost(DISK_AT_MOST),
        ),
        row(
            "memory: peak RSS of replay, largest round",
            "MiB",
            bulk.expo_rss / MIB,
            Some(bulk.peer_rss / MIB),
            Target::ValueAtMost(REPLAY_RSS_MIB_AT_MOST),
        ),
    ]
}

/// expo alone at 10× the events: import and replay rates and replay's peak
/// memory, each as a ratio to the same figure at 1×.
fn growth_rows(
    config: &Config,
    data: &Dataset,
    per_delegation: f64,
    at_one: &Bulk,
    log: &Log,
) -> Result<Vec<Row>, BenchError> {
    let big = config.events.saturating_mul(10);
    log.say(&format!("growth: seeding about {} events", thousands(big)));
    let data10 = dataset::prepare(
        &config.expo,
        &config.work_dir,
        &config.shape,
        big,
        per_delegation,
    )?;
    let (mut imports, mut replays, mut rss) = (Vec::new(), Vec::new(), 0u64);
    for number in 1..=config.rounds {
        let stores = Stores::new(&config.work_dir)?;
        let i = import_expo(config, &data10, &stores.expo)?;
        let r = replay_expo(config, &data10, &stores.expo)?;
        log.say(&format!(
            "growth round {number}: import {:.2} s, replay {:.2} s ({:.0} MiB)",
            i.seconds(),
            r.seconds(),
            r.max_rss_bytes as f64 / MIB
        ));
        imports.push(rate(data10.events, &i));
        replays.push(rate(data10.events, &r));
        rss = rss.max(r.max_rss_bytes);
        stores.remove()?;
    }
    if !config.keep {
        dataset::remove_file(&data10.export)?;
    }
    let ratio = |big: f64, small: f64| if small > 0.0 { big / small } else { 0.0 };
    let scale = format!(
        "{} ÷ {} events",
        thousands(data10.events),
        thousands(data.events)
    );
    let growth = [
        (
            "import rate",
            ratio(median(&imports).unwrap_or(0.0), at_one.expo_import),
            Target::ValueAtLeast(GROWTH_RATE_AT_LEAST),
        ),
        (
            "replay rate",
            ratio(median(&replays).unwrap_or(0.0), at_one.expo_replay),
            Target::ValueAtLeast(GROWTH_RATE_AT_LEAST),
        ),
        (
            "replay peak RSS",
            ratio(rss as f64, at_one.expo_rss),
            Target::ValueAtMost(GROWTH_RSS_AT_MOST),
        ),
    ];
    Ok(growth
        .into_iter()
        .map(|(what, value, target)| {
            row(
                &format!("growth: {what}, {scale}"),
                "ratio",
                value,
                None,
                target,
            )
        })
        .collect())
}

/// This round's two empty stores.
struct Stores {
    expo: PathBuf,
    peer: PathBuf,
    peer_db: PathBuf,
}

impl Stores {
    fn new(work: &Path) -> Result<Self, BenchError> {
        let stores = Stores {
            expo: work.join("expo.store"),
            peer: work.join("peer.store"),
            peer_db: work.join("peer.store").join("peer.db"),
        };
        stores.remove()?;
        std::fs::create_dir_all(&stores.peer).map_err(BenchError::io(&stores.peer))?;
        Ok(stores)
    }

    fn remove(&self) -> Result<(), BenchError> {
        dataset::remove_dir(&self.expo)?;
        dataset::remove_dir(&self.peer)
    }
}

fn import_expo(config: &Config, data: &Dataset, store: &Path) -> Result<Finished, BenchError> {
    checked(
        "expo import",
        expo_on(&config.expo, store)
            .args(["--json", "import"])
            .arg(&data.export),
        data.events,
    )
}

fn replay_expo(config: &Config, data: &Dataset, store: &Path) -> Result<Finished, BenchError> {
    checked(
        "expo replay",
        expo_on(&config.expo, store).args(["--json", "replay"]),
        data.events,
    )
}

/// Runs a bulk job and, where it reports how many events it handled, insists
/// that this is the whole export: a fast run over half the data measures nothing.
fn checked(what: &str, command: &mut Command, events: u64) -> Result<Finished, BenchError> {
    let f = process::run(what, command)?;
    match f.reported("events") {
        Some(n) if n != events as f64 => Err(BenchError::unexpected(
            what,
            format!("handled {n} events, but the export has {events}"),
        )),
        _ => Ok(f),
    }
}

/// An open delegation of the seeded store, preferably one with seats left,
/// so a new registration is an ordinary day's write.
fn pick_delegation(config: &Config, store: &Path, data: &Dataset) -> Result<String, BenchError> {
    let mut open = None;
    for id in data.open_streams.iter().rev().take(CANDIDATES) {
        let doc = roster_doc(&roster(config, store, id)?, id)?;
        let status = doc["delegation"]["status"].as_str().unwrap_or_default();
        if !status.eq_ignore_ascii_case("open") {
            continue;
        }
        if doc["counts"]["seats_left"].as_u64().is_some_and(|n| n > 0) {
            return Ok(id.clone());
        }
        open.get_or_insert_with(|| id.clone());
    }
    open.ok_or_else(|| {
        BenchError::unexpected(
            "choosing a delegation",
            format!("none of the last {CANDIDATES} never-closed delegations of the export is open"),
        )
    })
}

/// `expo company register` of a fresh company: one durable command as a user issues it.
fn register_company(
    config: &Config,
    store: &Path,
    delegation: &str,
    n: u64,
) -> Result<Finished, BenchError> {
    // Seeded NTNs stay below 9,000,000, so 9xxxxxx is always a new company.
    let ntn = format!("{:07}", 9_000_000 + n % 1_000_000);
    process::run(
        "expo company register",
        expo_on(&config.expo, store)
            .args(["company", "register", delegation, &ntn])
            .args(["--name", &format!("Bench Traders {n} (Pvt) Ltd")])
            .args(["--sector", "textiles", "--city", "Karachi"])
            .args(["--email", &format!("exports{n}@benchtraders.com.pk")]),
    )
}

/// `expo roster ID --format json`, whose output must be that delegation's roster.
fn roster(config: &Config, store: &Path, delegation: &str) -> Result<Finished, BenchError> {
    let f = process::run(
        "expo roster",
        expo_on(&config.expo, store).args(["roster", delegation, "--format", "json"]),
    )?;
    roster_doc(&f, delegation)?;
    Ok(f)
}

fn roster_doc(f: &Finished, delegation: &str) -> Result<serde_json::Value, BenchError> {
    let doc: serde_json::Value = serde_json::from_str(f.stdout.trim())
        .map_err(|e| BenchError::unexpected("expo roster --format json", e.to_string()))?;
    if doc["delegation"]["id"].as_str() != Some(delegation) {
        return Err(BenchError::unexpected(
            "expo roster --format json",
            format!("asked for {delegation}, got {}", doc["delegation"]["id"]),
        ));
    }
    Ok(doc)
}

fn row(figure: &str, unit: &str, expo: f64, peer: Option<f64>, target: Target) -> Row {
    Row {
        figure: figure.to_owned(),
        unit: unit.to_owned(),
        expo,
        peer,
        target,
    }
}

/// Progress lines on stderr, stamped with the time since the run began.
struct Log {
    started: Instant,
    on: bool,
}

impl Log {
    fn say(&self, what: &str) {
        if self.on {
            eprintln!("[{:7.1} s] {what}", self.started.elapsed().as_secs_f64());
        }
    }
}
