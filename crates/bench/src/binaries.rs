//! Builds the two programs under test with cargo: `expo` from this workspace, and the SQLite peer from `../shared/peer-sqlite`.

use crate::process;
use crate::BenchError;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Where the two programs under test are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binaries {
    /// The `expo` binary.
    pub expo: PathBuf,
    /// The `peer-sqlite` binary.
    pub peer: PathBuf,
}

/// Which cargo profile to build with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// `--release`: what the benchmark measures.
    Release,
    /// The test profile (its output lands in `debug/`): what `cargo test`
    /// already built, so the smoke test rebuilds nothing it need not.
    Test,
}

impl Profile {
    fn name(self) -> &'static str {
        match self {
            Profile::Release => "release",
            Profile::Test => "test",
        }
    }

    fn dir(self) -> &'static str {
        match self {
            Profile::Release => "release",
            Profile::Test => "debug",
        }
    }
}

/// The workspace's root, fixed when this crate was compiled.
pub fn workspace_root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    here.canonicalize().unwrap_or(here)
}

/// The peer's manifest, beside the workspace in `../shared`.
pub fn peer_manifest() -> PathBuf {
    workspace_root().join("../shared/peer-sqlite/Cargo.toml")
}

/// `$CARGO_TARGET_DIR` if set, else the workspace's `target/`.
pub fn default_target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .filter(|d| !d.is_empty())
        .map_or_else(|| workspace_root().join("target"), PathBuf::from)
}

/// Builds `expo` into `target_dir` and the peer into `target_dir/peer-sqlite`.
///
/// With `quiet`, cargo's output is kept and shown only if a build fails.
pub fn build(profile: Profile, target_dir: &Path, quiet: bool) -> Result<Binaries, BenchError> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let peer_target = target_dir.join("peer-sqlite");
    let mut expo = Command::new(&cargo);
    expo.current_dir(workspace_root())
        .args([
            "build",
            "--profile",
            profile.name(),
            "-p",
            "expo-cli",
            "--target-dir",
        ])
        .arg(target_dir);
    cargo_run("building expo (cargo build -p expo-cli)", &mut expo, quiet)?;
    let mut peer = Command::new(&cargo);
    peer.current_dir(workspace_root())
        .args(["build", "--profile", profile.name(), "--manifest-path"])
        .arg(peer_manifest())
        .arg("--target-dir")
        .arg(&peer_target);
    cargo_run(
        "building the peer (cargo build --manifest-path ../shared/peer-sqlite/Cargo.toml)",
        &mut peer,
        quiet,
    )?;
    Ok(Binaries {
        expo: target_dir.join(profile.dir()).join(exe("expo")),
        peer: peer_target.join(profile.dir()).join(exe("peer-sqlite")),
    })
}

fn cargo_run(what: &str, command: &mut Command, quiet: bool) -> Result<(), BenchError> {
    if quiet {
        return process::run(what, command).map(|_| ());
    }
    let program = command.get_program().to_string_lossy().into_owned();
    let status = command.status().map_err(|source| BenchError::Spawn {
        what: what.to_owned(),
        program,
        source,
    })?;
    if status.success() {
        Ok(())
    } else {
        Err(BenchError::Failed {
            what: what.to_owned(),
            status: status.to_string(),
            stderr: "(cargo's output is above)".to_owned(),
        })
    }
}

fn exe(name: &str) -> String {
    format!("{name}{}", std::env::consts::EXE_SUFFIX)
}
