//! `expo-bench`: builds `expo` and the SQLite peer, runs the side-by-side benchmark of issue 6, prints the table and writes it to DIR/bench.md.

use clap::Parser;
use expo_bench::{build, default_target_dir, run, Config, Profile, Shape};
use std::path::PathBuf;
use std::process::ExitCode;

/// Benchmark expo against the plain SQLite peer on the same export.
#[derive(Debug, Parser)]
#[command(
    name = "expo-bench",
    after_help = "Example (the README's benchmark):\n  cargo run --release -p expo-bench -- --events 1000000 --rounds 3\n\n\
                  Without --expo/--peer it first runs `cargo build --release -p expo-cli` and\n\
                  `cargo build --release --manifest-path ../shared/peer-sqlite/Cargo.toml`\n\
                  into the same target folder."
)]
struct Args {
    /// About how many events to seed.
    #[arg(long, default_value_t = 1_000_000)]
    events: u64,
    /// Rounds (each: expo then peer, for every figure).
    #[arg(long, default_value_t = 3)]
    rounds: u32,
    /// Runs of each single command per round.
    #[arg(long, default_value_t = 11)]
    repeats: u32,
    /// Scratch and output folder [default: TARGET/bench].
    #[arg(long)]
    out: Option<PathBuf>,
    /// Also run import and replay at 10× the events and report the growth ratios.
    #[arg(long)]
    growth: bool,
    /// Companies registering per seeded delegation.
    #[arg(long, default_value_t = Shape::default().companies)]
    companies: u64,
    /// Delegates per company at most.
    #[arg(long, default_value_t = Shape::default().delegates)]
    delegates: u64,
    /// The seed for `expo seed`.
    #[arg(long, default_value_t = Shape::default().seed)]
    seed: u64,
    /// Use this `expo` binary instead of building one.
    #[arg(long, env = "EXPO_BENCH_EXPO")]
    expo: Option<PathBuf>,
    /// Use this `peer-sqlite` binary instead of building one.
    #[arg(long, env = "EXPO_BENCH_PEER")]
    peer: Option<PathBuf>,
    /// The target folder to build into [default: $CARGO_TARGET_DIR or the workspace's target/].
    #[arg(long)]
    target_dir: Option<PathBuf>,
    /// Keep the export and the last round's stores.
    #[arg(long)]
    keep: bool,
    /// Exit 1 when any figure is short of its target.
    #[arg(long)]
    strict: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let target_dir = args.target_dir.clone().unwrap_or_else(default_target_dir);
    let (expo, peer) = match (args.expo.clone(), args.peer.clone()) {
        (Some(e), Some(p)) => (e, p),
        (e, p) => match build(Profile::Release, &target_dir, false) {
            Ok(b) => (e.unwrap_or(b.expo), p.unwrap_or(b.peer)),
            Err(err) => {
                eprintln!("expo-bench: {err}");
                return ExitCode::from(3);
            }
        },
    };
    let config = Config {
        expo,
        peer,
        events: args.events,
        rounds: args.rounds,
        repeats: args.repeats,
        work_dir: args.out.unwrap_or_else(|| target_dir.join("bench")),
        shape: Shape {
            companies: args.companies,
            delegates: args.delegates,
            seed: args.seed,
        },
        growth: args.growth,
        keep: args.keep,
        progress: true,
    };
    match run(&config) {
        Ok(report) => {
            println!("{}", report.to_markdown());
            eprintln!("written to {}", config.work_dir.join("bench.md").display());
            if args.strict && !report.all_pass() {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(err) => {
            eprintln!("expo-bench: {err}");
            ExitCode::from(3)
        }
    }
}
