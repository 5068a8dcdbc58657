//! Runs one child process to its end and measures it as a whole: wall time from spawn to exit, and peak resident memory.

use crate::BenchError;
use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// What one finished child process did.
#[derive(Debug, Clone)]
pub struct Finished {
    /// From just before spawn to just after the child was reaped: the time a user waits.
    pub wall: Duration,
    /// The child's peak resident set size (`ru_maxrss` from `wait4`), in bytes; 0 where unknown.
    pub max_rss_bytes: u64,
    /// Everything the child wrote on stdout.
    pub stdout: String,
    /// Everything the child wrote on stderr.
    pub stderr: String,
}

impl Finished {
    /// A number field of the JSON document on the last non-empty stdout line, if there is one.
    ///
    /// Both `expo --json` and the peer print their own timing this way; the
    /// driver uses it only to show where a whole-process time goes.
    pub fn reported(&self, field: &str) -> Option<f64> {
        let last = self.stdout.lines().rev().find(|l| !l.trim().is_empty())?;
        let doc: serde_json::Value = serde_json::from_str(last.trim()).ok()?;
        doc.get(field)?.as_f64()
    }

    /// Wall time in seconds.
    pub fn seconds(&self) -> f64 {
        self.wall.as_secs_f64()
    }
}

/// Runs `command` to completion; anything but exit 0 is an error naming `what`.
pub fn run(what: &str, command: &mut Command) -> Result<Finished, BenchError> {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let program = command.get_program().to_string_lossy().into_owned();
    let started = Instant::now();
    let mut child = command.spawn().map_err(|source| BenchError::Spawn {
        what: what.to_owned(),
        program: program.clone(),
        source,
    })?;
    // stderr drains on its own thread so that a chatty child can never block
    // on a full pipe while we are reading stdout.
    let err_pipe = child.stderr.take();
    let err_reader = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = err_pipe {
            let _ = pipe.read_to_end(&mut bytes);
        }
        bytes
    });
    let mut out = Vec::new();
    if let Some(mut pipe) = child.stdout.take() {
        let _ = pipe.read_to_end(&mut out);
    }
    let reaped = reap(&mut child);
    let wall = started.elapsed();
    let err = err_reader.join().unwrap_or_default();
    let (status, max_rss_bytes) = reaped.map_err(|source| BenchError::Spawn {
        what: what.to_owned(),
        program,
        source,
    })?;
    let finished = Finished {
        wall,
        max_rss_bytes,
        stdout: String::from_utf8_lossy(&out).into_owned(),
        stderr: String::from_utf8_lossy(&err).into_owned(),
    };
    match status {
        Exit::Code(0) => Ok(finished),
        other => Err(BenchError::Failed {
            what: what.to_owned(),
            status: other.to_string(),
            stderr: if finished.stderr.trim().is_empty() {
                finished.stdout
            } else {
                finished.stderr
            },
        }),
    }
}

/// How a child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Exit {
    Code(i32),
    Signal(i32),
    Unknown,
}

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Exit::Code(c) => write!(f, "exit code {c}"),
            Exit::Signal(s) => write!(f, "killed by signal {s}"),
            Exit::Unknown => write!(f, "unknown exit status"),
        }
    }
}

/// `ru_maxrss` is in KiB on Linux and in bytes on macOS.
#[cfg(target_os = "macos")]
const RSS_UNIT_BYTES: u64 = 1;
#[cfg(not(target_os = "macos"))]
const RSS_UNIT_BYTES: u64 = 1024;

/// Waits for `child` with `wait4`, the one call that hands back the
/// resource usage of exactly this child (getrusage(RUSAGE_CHILDREN) only
/// gives the largest child so far, and std's `wait` drops the rusage).
#[cfg(unix)]
#[allow(unsafe_code)]
fn reap(child: &mut Child) -> std::io::Result<(Exit, u64)> {
    let pid = libc::pid_t::try_from(child.id())
        .map_err(|_| std::io::Error::other("child pid out of range"))?;
    let mut status: libc::c_int = 0;
    // SAFETY: `rusage` is a plain C struct of integers and timevals, for
    // which all-zero bytes are a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: `status` and `usage` are live, writable locals of exactly
        // the types wait4 writes; `pid` is our own child, which nothing else
        // waits for (std only reaps when asked, and we never ask).
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r == pid {
            break;
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
    let exit = if libc::WIFEXITED(status) {
        Exit::Code(libc::WEXITSTATUS(status))
    } else if libc::WIFSIGNALED(status) {
        Exit::Signal(libc::WTERMSIG(status))
    } else {
        Exit::Unknown
    };
    let rss = u64::try_from(usage.ru_maxrss)
        .unwrap_or(0)
        .saturating_mul(RSS_UNIT_BYTES);
    Ok((exit, rss))
}

/// Elsewhere the peak memory is unknown (reported as 0).
#[cfg(not(unix))]
fn reap(child: &mut Child) -> std::io::Result<(Exit, u64)> {
    let status = child.wait()?;
    Ok((status.code().map_or(Exit::Unknown, Exit::Code), 0))
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn a_child_is_timed_measured_and_its_output_kept() {
        // given a child that prints its own timing as JSON
        let mut c = Command::new("sh");
        c.args(["-c", "echo starting; echo '{\"seconds\": 0.5}'"]);
        // when it runs
        let f = run("sh", &mut c).unwrap();
        // then its output, time and memory are all there
        assert_eq!(f.reported("seconds"), Some(0.5));
        assert!(f.wall > Duration::ZERO);
        assert!(f.max_rss_bytes > 0, "ru_maxrss of the child");
    }

    #[test]
    fn a_failing_child_is_an_error_with_its_words() {
        let mut c = Command::new("sh");
        c.args(["-c", "echo no such store >&2; exit 3"]);
        let e = run("expo verify", &mut c).unwrap_err().to_string();
        assert!(e.contains("expo verify failed (exit code 3)"), "{e}");
        assert!(e.contains("no such store"), "{e}");
    }

    #[test]
    fn a_missing_program_is_a_spawn_error() {
        let e = run("ghost", &mut Command::new("/nonexistent/ghost")).unwrap_err();
        assert!(matches!(e, BenchError::Spawn { .. }), "{e}");
    }
}
