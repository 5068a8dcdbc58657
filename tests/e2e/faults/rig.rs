//! The campaign's tools: a seeded PRNG, stores in scratch folders, runs of `expo` that can be killed, and store copies.

use crate::harness::{self, Output, EXPO};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The actor the campaign's commands run as.
pub const ACTOR: &str = "faults-desk";

/// A small, seeded PRNG (SplitMix64): every random choice of a campaign
/// comes from it, so a failure is repeated by giving its seed back.
pub struct Rng {
    state: u64,
    seed: u64,
}

impl Rng {
    /// A generator for `what`, seeded from `EXPO_FAULT_SEED` or the clock.
    /// The seed is printed, so a failing run (whose output Cargo shows) names it.
    pub fn for_campaign(what: &str) -> Rng {
        let seed = std::env::var("EXPO_FAULT_SEED")
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos() as u64)
                    .unwrap_or(7)
            });
        eprintln!("faults/{what}: seed {seed} (repeat with EXPO_FAULT_SEED={seed})");
        Rng { state: seed, seed }
    }

    /// A generator with a given seed (for a worker, from its campaign's generator).
    pub fn seeded(seed: u64) -> Rng {
        Rng { state: seed, seed }
    }

    /// The seed this generator started from.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// An index into a slice of length `n`.
    pub fn index(&mut self, n: usize) -> usize {
        self.below(n as u64) as usize
    }

    /// True with probability `num/den`.
    pub fn chance(&mut self, num: u64, den: u64) -> bool {
        self.below(den) < num
    }

    /// A duration drawn uniformly from `0..=max`.
    pub fn delay(&mut self, max: Duration) -> Duration {
        let micros = max.as_micros().max(1) as u64;
        Duration::from_micros(self.below(micros + 1))
    }

    /// A random UUID (version 4 bits set, so it is a well-formed id).
    pub fn uuid(&mut self) -> String {
        let a = self.next_u64();
        let b = self.next_u64();
        let a = (a & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_4000;
        let b = (b & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000;
        format!(
            "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xFFFF,
            a & 0xFFFF,
            b >> 48,
            b & 0xFFFF_FFFF_FFFF
        )
    }

    /// `n` random bytes.
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }
}

/// A scratch folder for one campaign: stores, input files and output files.
pub struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    /// A new, empty scratch folder.
    pub fn new(what: &str) -> Scratch {
        Scratch {
            dir: tempfile::Builder::new()
                .prefix(&format!("expo-faults-{what}-"))
                .tempdir()
                .unwrap(),
        }
    }

    /// A path inside the scratch folder.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes a file in the scratch folder and returns its path.
    pub fn file(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, contents).unwrap();
        p
    }
}

/// `expo` pointed at one store directory.
#[derive(Clone)]
pub struct Expo {
    /// The store's directory.
    pub data: PathBuf,
    /// `EXPO_REBUILD_BUDGET` for every run (unset: the default).
    rebuild_budget: Option<u64>,
}

impl Expo {
    /// `expo --data DATA`.
    pub fn at(data: impl Into<PathBuf>) -> Expo {
        Expo {
            data: data.into(),
            rebuild_budget: None,
        }
    }

    /// The same, with room for only `events` events' worth of views in a
    /// rebuild, so that views go out to the store and come back.
    pub fn with_rebuild_budget(mut self, events: u64) -> Expo {
        self.rebuild_budget = Some(events);
        self
    }

    /// The command line for `expo args…` on this store, not started.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(EXPO);
        cmd.arg("--data")
            .arg(&self.data)
            .args(args)
            .env("EXPO_ACTOR", ACTOR)
            .env_remove("EXPO_DATA")
            .env_remove("RUST_BACKTRACE")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null());
        match self.rebuild_budget {
            Some(n) => cmd.env("EXPO_REBUILD_BUDGET", n.to_string()),
            None => cmd.env_remove("EXPO_REBUILD_BUDGET"),
        };
        cmd
    }

    /// Runs `expo args…` to the end.
    pub fn run(&self, args: &[&str]) -> Output {
        let child = self
            .command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        harness::finish(child)
    }

    /// Runs `expo args…` and fails (naming `ctx`) unless it exits 0 without a panic.
    #[track_caller]
    pub fn ok(&self, ctx: &str, args: &[&str]) -> Output {
        let out = self.run(args);
        assert_clean(ctx, args, &out);
        assert!(
            out.code == 0,
            "{ctx}: `expo {}` exited {}\n--- stdout\n{}\n--- stderr\n{}",
            args.join(" "),
            out.code,
            tail(&out.stdout),
            out.stderr
        );
        out
    }

    /// `expo verify`, which must pass.
    #[track_caller]
    pub fn verify(&self, ctx: &str) {
        self.ok(ctx, &["verify"]);
    }

    /// The `expo export` output, byte for byte.
    #[track_caller]
    pub fn export(&self, ctx: &str) -> Vec<u8> {
        self.ok(ctx, &["export"]).stdout_bytes
    }

    /// Every event's envelope (`expo events`).
    #[track_caller]
    pub fn events(&self, ctx: &str) -> Vec<Value> {
        let out = self.ok(ctx, &["events"]);
        harness::parse_json_lines(&out.stdout)
    }

    /// A JSON reading command's document.
    #[track_caller]
    pub fn json(&self, ctx: &str, args: &[&str]) -> Value {
        let out = self.ok(ctx, args);
        serde_json::from_str(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "{ctx}: `expo {}` printed no JSON ({e}): {}",
                args.join(" "),
                tail(&out.stdout)
            )
        })
    }

    /// What every projection shows: the status report and each named roster, as JSON.
    #[track_caller]
    pub fn views(&self, ctx: &str, delegations: &[&str]) -> Vec<Value> {
        let mut all = vec![self.json(ctx, &["report", "status", "--format", "json"])];
        for d in delegations {
            all.push(self.json(ctx, &["roster", d, "--format", "json", "--full"]));
        }
        all
    }

    /// Starts `expo args…` with its output going to files `out`/`err` (no pipe can fill up).
    pub fn spawn_to_files(&self, args: &[&str], out: &Path, err: &Path) -> Child {
        self.command(args)
            .stdout(Stdio::from(File::create(out).unwrap()))
            .stderr(Stdio::from(File::create(err).unwrap()))
            .spawn()
            .unwrap()
    }

    /// Runs `expo args…` and SIGKILLs it after `delay` unless it finished first.
    /// Returns whether it was killed and what it printed.
    pub fn run_killed(&self, scratch: &Scratch, args: &[&str], delay: Duration) -> Killed {
        let (out_p, err_p) = (scratch.path("killed.out"), scratch.path("killed.err"));
        let mut child = self.spawn_to_files(args, &out_p, &err_p);
        let start = Instant::now();
        let status = loop {
            if let Some(st) = child.try_wait().unwrap() {
                break Some(st);
            }
            let left = delay.saturating_sub(start.elapsed());
            if left.is_zero() {
                break None;
            }
            std::thread::sleep(left.min(Duration::from_micros(500)));
        };
        let (killed, code) = match status {
            Some(st) => (false, st.code().unwrap_or(-1)),
            None => {
                // SIGKILL: no destructor, no flush, no goodbye.
                let _ = child.kill();
                let st = child.wait().unwrap();
                (st.code().is_none(), st.code().unwrap_or(-1))
            }
        };
        let stdout_bytes = std::fs::read(&out_p).unwrap_or_default();
        let out = Output {
            code,
            stdout: String::from_utf8_lossy(&stdout_bytes).into_owned(),
            stdout_bytes,
            stderr: std::fs::read_to_string(&err_p).unwrap_or_default(),
        };
        Killed { killed, out }
    }
}

/// What a run that may have been killed did.
pub struct Killed {
    /// True when SIGKILL ended it (it had not finished).
    pub killed: bool,
    /// Its exit code and what it printed before the end.
    pub out: Output,
}

impl Killed {
    /// True when it finished and reported success: the command is acknowledged.
    pub fn acknowledged(&self) -> bool {
        !self.killed && self.out.code == 0
    }
}

/// Fails unless a run ended in an orderly way: no panic, no debug dump, no exit 101.
#[track_caller]
pub fn assert_clean(ctx: &str, args: &[&str], out: &Output) {
    let panicked = out.code == 101
        || ["panicked", "RUST_BACKTRACE", "stack backtrace"]
            .iter()
            .any(|p| out.stderr.contains(p) || out.stdout.contains(p));
    assert!(
        !panicked,
        "{ctx}: `expo {}` panicked (exit {})\n--- stderr\n{}",
        args.join(" "),
        out.code,
        out.stderr
    );
}

/// The last part of a long text, for failure messages.
pub fn tail(s: &str) -> &str {
    let cut = s.len().saturating_sub(2000);
    let mut i = cut;
    while !s.is_char_boundary(i) {
        i += 1;
    }
    &s[i..]
}

/// How many events each command id has in the log (`None` for events without one).
pub fn by_command(events: &[Value]) -> BTreeMap<Option<String>, usize> {
    let mut m = BTreeMap::new();
    for e in events {
        let id = e
            .get("command_id")
            .and_then(Value::as_str)
            .map(str::to_owned);
        *m.entry(id).or_insert(0) += 1;
    }
    m
}

/// Copies a store directory (recursively) to a new place.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Every file under a directory, recursively, sorted.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in rd.flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Times a run that must succeed, for sizing kill delays.
#[track_caller]
pub fn timed_ok(expo: &Expo, ctx: &str, args: &[&str]) -> (Output, Duration) {
    let start = Instant::now();
    let out = expo.ok(ctx, args);
    (out, start.elapsed())
}

/// `expo delegation create ID` with room for many companies.
#[track_caller]
pub fn create_delegation(expo: &Expo, id: &str) {
    expo.ok(
        "create delegation",
        &[
            "delegation",
            "create",
            id,
            "--name",
            "Fault campaign delegation",
            "--arrive",
            "2025-06-02",
            "--depart",
            "2025-06-09",
            "--max-companies",
            "500",
            "--max-delegates",
            "20",
        ],
    );
}

/// The arguments of `expo company register` for filler company number `i`.
pub fn register_args(delegation: &str, i: u64) -> Vec<String> {
    vec![
        "company".into(),
        "register".into(),
        delegation.into(),
        format!("{}", 3_000_000 + i),
        "--name".into(),
        format!("Fault Trial Traders {i} (Pvt) Ltd"),
        "--sector".into(),
        [
            "textiles",
            "steel",
            "machinery",
            "it-hr",
            "minerals",
            "automobile",
        ][(i % 6) as usize]
            .into(),
        "--city".into(),
        "Gujranwala".into(),
        "--email".into(),
        format!("trade{i}@example.pk"),
    ]
}

/// A registrations CSV of `companies` companies with `delegates` delegates each.
pub fn registrations_csv(first: u64, companies: u64, delegates: u64) -> String {
    let mut s = String::from(
        "ntn,legal_name,sector,city,contact_email,full_name,passport_no,passport_expiry,designation,nationality\n",
    );
    for c in first..first + companies {
        for d in 0..delegates {
            s.push_str(&format!(
                "{},Bulk Exporters {c} Ltd,textiles,Sialkot,bulk{c}@example.pk,Delegate {c} {d},{}{:07},2029-03-31,Director,{}\n",
                5_000_000 + c,
                ["AB", "CD", "EF", "GH"][(d % 4) as usize],
                c * 20 + d,
                if d % 2 == 0 { "PK" } else { "" }
            ));
        }
    }
    s
}

/// Borrows a `Vec<String>` as `&[&str]`.
pub fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// How long a command takes on this (shared, busy) machine, learnt from its
/// clean runs, so kill delays cover its whole life: start-up, the write, the
/// moment after the commit and before the acknowledgement.
pub struct Pace {
    samples: Vec<Duration>,
}

impl Pace {
    /// A pace from a first clean run.
    pub fn new(first: Duration) -> Pace {
        Pace {
            samples: vec![first],
        }
    }

    /// Adds the duration of a run that finished before its kill.
    pub fn add(&mut self, d: Duration) {
        self.samples.push(d);
    }

    /// The median duration seen.
    pub fn typical(&self) -> Duration {
        let mut s = self.samples.clone();
        s.sort();
        s[s.len() / 2]
    }

    /// A kill delay: uniform over 0 to 1.3 times the typical duration.
    pub fn delay(&self, rng: &mut Rng) -> Duration {
        rng.delay(self.typical().mul_f64(1.3))
    }
}
