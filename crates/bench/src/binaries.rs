//! Builds the two programs under test with cargo: `expo` from this workspace, and the SQLite peer from `../shared/peer-sqlite`.

use crate::process;
use crate::BenchError;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

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
    /// The test profile (its output lands in a `debug/` directory): what `cargo test`
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
/// The binaries' paths are the ones cargo reports (`--message-format json`),
/// so they are right whatever target this workspace's `.cargo/config.toml`
/// builds for (its binaries land in a directory named after the target).
/// With `quiet`, cargo's output is kept and shown only if a build fails.
pub fn build(profile: Profile, target_dir: &Path, quiet: bool) -> Result<Binaries, BenchError> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    // Absolute, since the peer is built from another directory.
    let target_dir = &std::path::absolute(target_dir).unwrap_or_else(|_| target_dir.to_path_buf());
    let mut expo = Command::new(&cargo);
    expo.current_dir(workspace_root())
        .args(["build", "--profile", profile.name(), "-p", "expo-cli"])
        .arg("--target-dir")
        .arg(target_dir);
    let expo = cargo_build(
        "building expo (cargo build -p expo-cli)",
        &mut expo,
        "expo",
        quiet,
    )?;
    let mut peer = Command::new(&cargo);
    // Built from its own directory, so that this workspace's
    // `.cargo/config.toml` (expo's static linking) does not apply to it: the
    // peer is measured as its own manifest builds it.
    let peer_dir = peer_manifest()
        .parent()
        .map_or_else(workspace_root, Path::to_path_buf);
    peer.current_dir(peer_dir)
        .args(["build", "--profile", profile.name(), "--manifest-path"])
        .arg(peer_manifest())
        .arg("--target-dir")
        .arg(target_dir.join("peer-sqlite"));
    let peer = cargo_build(
        "building the peer (cargo build --manifest-path ../shared/peer-sqlite/Cargo.toml)",
        &mut peer,
        "peer-sqlite",
        quiet,
    )?;
    Ok(Binaries { expo, peer })
}

/// Runs a `cargo build` and returns the path of the binary named `name` it
/// reports. Cargo's messages go to stderr as usual (kept, with `quiet`).
fn cargo_build(
    what: &str,
    command: &mut Command,
    name: &str,
    quiet: bool,
) -> Result<PathBuf, BenchError> {
    command.arg("--message-format=json-render-diagnostics");
    let stdout = if quiet {
        process::run(what, command)?.stdout
    } else {
        let program = command.get_program().to_string_lossy().into_owned();
        let output = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .output()
            .map_err(|source| BenchError::Spawn {
                what: what.to_owned(),
                program,
                source,
            })?;
        if !output.status.success() {
            return Err(BenchError::Failed {
                what: what.to_owned(),
                status: output.status.to_string(),
                stderr: "(cargo's output is above)".to_owned(),
            });
        }
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    executable(&stdout, name).ok_or_else(|| BenchError::Failed {
        what: what.to_owned(),
        status: "exit 0".to_owned(),
        stderr: format!("cargo reported no binary named {name}"),
    })
}

/// The executable of the binary target `name` in cargo's JSON messages.
fn executable(messages: &str, name: &str) -> Option<PathBuf> {
    messages
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == name)
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_binary_path_is_the_one_cargo_reports() {
        // Given cargo's messages for a build: a library, the binary, a build script's run
        let messages = r#"{"reason":"compiler-artifact","target":{"name":"expo_store","kind":["lib"]},"executable":null}
{"reason":"build-script-executed","package_id":"x"}
not json at all
{"reason":"compiler-artifact","target":{"name":"expo","kind":["bin"]},"executable":"/t/x86_64-unknown-linux-gnu/release/expo","fresh":true}
{"reason":"build-finished","success":true}"#;
        // When the binary named expo is looked up
        // Then its reported path is found, and a name not built is not
        assert_eq!(
            executable(messages, "expo"),
            Some(PathBuf::from("/t/x86_64-unknown-linux-gnu/release/expo"))
        );
        assert_eq!(executable(messages, "expo_store"), None);
        assert_eq!(executable(messages, "peer-sqlite"), None);
    }
}
