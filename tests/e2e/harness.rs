//! The harness: a temporary store per test and a way to run the real `expo` binary on it.

use serde_json::Value;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The binary under test, built by Cargo for this test target.
pub const EXPO: &str = env!("CARGO_BIN_EXE_expo");

/// The actor every test command runs as, unless a test says otherwise.
pub const ACTOR: &str = "e2e-desk";

/// How long one `expo` run may take before the test calls it hung. Generous:
/// the machine is shared, and a hang should fail the test, not the whole run.
const RUN_TIMEOUT: Duration = Duration::from_secs(180);

/// What one run of `expo` did.
#[derive(Debug, Clone)]
pub struct Output {
    /// The exit code (-1 when killed by a signal).
    pub code: i32,
    /// Standard output, as text (lossy for invalid UTF-8).
    pub stdout: String,
    /// Standard output, byte for byte.
    pub stdout_bytes: Vec<u8>,
    /// Standard error, as text.
    pub stderr: String,
}

impl Output {
    /// Fails the test unless the run exited with `code`, showing what it said.
    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "expected exit {code}, got {}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        );
        self.assert_no_panic();
        self
    }

    /// Fails the test unless the run succeeded.
    #[track_caller]
    pub fn ok(&self) -> &Self {
        self.expect_code(0)
    }

    /// Fails the test if the binary panicked or printed a debug dump.
    #[track_caller]
    pub fn assert_no_panic(&self) {
        for (name, text) in [("stdout", &self.stdout), ("stderr", &self.stderr)] {
            for bad in ["panicked", "RUST_BACKTRACE", "stack backtrace"] {
                assert!(
                    !text.contains(bad),
                    "{name} contains {bad:?}:\n{text}\n--- stderr\n{}",
                    self.stderr
                );
            }
        }
    }

    /// Fails unless stderr is a plain error: one to `most` non-empty lines,
    /// no Rust debug formatting leaking through.
    #[track_caller]
    pub fn assert_plain_error(&self, most: usize) {
        self.assert_no_panic();
        let lines = self.stderr.lines().filter(|l| !l.trim().is_empty()).count();
        assert!(
            (1..=most).contains(&lines),
            "stderr has {lines} lines, want 1 to {most}:\n{}",
            self.stderr
        );
        if let Some(leak) = debug_leak(&self.stderr) {
            panic!("stderr shows Rust debug output {leak:?}:\n{}", self.stderr);
        }
    }

    /// Stdout parsed as one JSON document.
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not one JSON document ({e}):\n{}\n--- stderr\n{}",
                self.stdout, self.stderr
            )
        })
    }

    /// Stdout parsed as JSON Lines (empty lines are not allowed).
    #[track_caller]
    pub fn json_lines(&self) -> Vec<Value> {
        parse_json_lines(&self.stdout)
    }
}

/// The first sign of Rust debug formatting in a message meant for people, if any.
pub fn debug_leak(text: &str) -> Option<&'static str> {
    ["Some(", "None", "Err(", "Ok(", "Error {", "{ "]
        .into_iter()
        .find(|leak| text.contains(leak))
}

/// Parses JSON Lines text, failing the test on any bad line.
#[track_caller]
pub fn parse_json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .enumerate()
        .map(|(i, line)| {
            serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("line {} is not JSON ({e}): {line:?}", i + 1))
        })
        .collect()
}

/// A temporary store (and working folder) that disappears with the test.
pub struct Store {
    dir: tempfile::TempDir,
}

impl Default for Store {
    fn default() -> Self {
        Self::new()
    }
}

impl Store {
    /// A fresh, empty store.
    pub fn new() -> Self {
        Self {
            dir: tempfile::Builder::new()
                .prefix("expo-e2e-")
                .tempdir()
                .unwrap(),
        }
    }

    /// The store's directory (passed as `EXPO_DATA`; it may not exist yet).
    pub fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The working folder: a place for input files next to the store.
    pub fn work(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `contents` to a file in the working folder and returns its path as text.
    pub fn file(&self, name: &str, contents: impl AsRef<[u8]>) -> String {
        let path = self.dir.path().join(name);
        std::fs::write(&path, contents).unwrap();
        path.to_str().unwrap().to_owned()
    }

    /// The command line for `expo args…` on this store, not yet started.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(EXPO);
        cmd.args(args)
            .env("EXPO_DATA", self.data())
            .env("EXPO_ACTOR", ACTOR)
            // A panic must show its usual note, so the no-panic check can see it.
            .env_remove("RUST_BACKTRACE")
            .env_remove("RUST_LOG")
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }

    /// Runs `expo args…` on this store and waits for it.
    pub fn expo(&self, args: &[&str]) -> Output {
        finish(self.command(args).spawn().unwrap())
    }

    /// Runs `expo args…`, fails the test unless it exits 0, and returns its output.
    #[track_caller]
    pub fn ok(&self, args: &[&str]) -> Output {
        let out = self.expo(args);
        out.ok();
        out
    }

    /// Runs a writing command in text mode: it must exit 0 and print one line
    /// saying what was recorded (the contract's promise for writes).
    #[track_caller]
    pub fn write(&self, args: &[&str]) -> Output {
        let out = self.ok(args);
        let lines = out.stdout.lines().filter(|l| !l.trim().is_empty()).count();
        assert_eq!(lines, 1, "{args:?} printed:\n{}", out.stdout);
        out
    }

    /// Runs `expo --json args…`, fails unless it exits 0, and parses stdout.
    #[track_caller]
    pub fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        self.ok(&all).json()
    }

    /// Every event of the log, as envelopes.
    #[track_caller]
    pub fn events(&self) -> Vec<Value> {
        self.ok(&["events"]).json_lines()
    }

    /// The `expo export` output, byte for byte.
    #[track_caller]
    pub fn export(&self) -> Vec<u8> {
        self.ok(&["export"]).stdout_bytes
    }

    /// The JSON roster of one delegation, with extra arguments.
    #[track_caller]
    pub fn roster(&self, delegation: &str, extra: &[&str]) -> Value {
        let mut args = vec!["roster", delegation, "--format", "json"];
        args.extend_from_slice(extra);
        self.ok(&args).json()
    }
}

/// Waits for a started `expo` and collects what it printed, killing it if it hangs.
pub fn finish(mut child: Child) -> Output {
    // Read both pipes while waiting, so a chatty child never blocks on a full
    // pipe. A pipe the caller already took (to close it early) reads as empty.
    let out_pipe = child.stdout.take();
    let err_pipe = child.stderr.take();
    let out_reader = std::thread::spawn(move || read_all(out_pipe));
    let err_reader = std::thread::spawn(move || read_all(err_pipe));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > RUN_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("expo did not finish within {RUN_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let stdout_bytes = out_reader.join().unwrap();
    let stderr = err_reader.join().unwrap();
    Output {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout_bytes).into_owned(),
        stdout_bytes,
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

/// Everything a child's pipe still holds, if the pipe is there.
fn read_all(pipe: Option<impl Read>) -> Vec<u8> {
    let mut buf = Vec::new();
    if let Some(mut pipe) = pipe {
        let _ = pipe.read_to_end(&mut buf);
    }
    buf
}

/// Whether the long tests were asked for (`EXPO_SLOW_TESTS=1`).
pub fn slow_tests() -> bool {
    std::env::var("EXPO_SLOW_TESTS").is_ok_and(|v| v == "1")
}

/// Field `key` of a JSON object as text, failing the test if it is missing or not text.
#[track_caller]
pub fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no text field {key:?} in {v}"))
}

/// Field `key` of a JSON object as an integer, failing the test if it is missing.
#[track_caller]
pub fn n(v: &Value, key: &str) -> i64 {
    v.get(key)
        .and_then(Value::as_i64)
        .unwrap_or_else(|| panic!("no integer field {key:?} in {v}"))
}

/// The `type` of each event envelope, in order.
#[track_caller]
pub fn types(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| s(e, "type")).collect()
}

/// The envelopes a write's `--json` answer lists under `events`.
#[track_caller]
pub fn written(answer: &Value) -> &[Value] {
    answer["events"]
        .as_array()
        .unwrap_or_else(|| panic!("no events array in {answer}"))
}

/// The keys of a JSON object, sorted.
#[track_caller]
pub fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .cloned()
        .collect();
    k.sort();
    k
}

/// Fails unless `v` has at least the fields `want` (extra fields are allowed by the contract).
#[track_caller]
pub fn assert_has_fields(v: &Value, want: &[&str]) {
    let have = keys(v);
    let missing: Vec<&&str> = want
        .iter()
        .filter(|k| !have.iter().any(|h| h == *k))
        .collect();
    assert!(missing.is_empty(), "missing fields {missing:?} in {v}");
}
