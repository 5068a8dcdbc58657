//! The facts the table is dated and sized with: now in UTC, CPUs, memory and CPU model.

use crate::report::Machine;
use std::time::{SystemTime, UNIX_EPOCH};

/// Now, as `YYYY-MM-DD HH:MM UTC`.
pub fn now_utc() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0));
    chrono::DateTime::from_timestamp(secs, 0).map_or_else(
        || "unknown date".to_owned(),
        |t| t.format("%Y-%m-%d %H:%M UTC").to_string(),
    )
}

/// This machine's size, from the OS (Linux `/proc`; elsewhere what std knows).
pub fn this_machine() -> Machine {
    let cpus = std::thread::available_parallelism().map_or(0, std::num::NonZeroUsize::get);
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    Machine {
        cpus,
        memory_bytes: mem_total(&meminfo),
        cpu_model: cpu_model(&cpuinfo),
    }
}

/// `MemTotal:  24684084 kB` → bytes.
fn mem_total(meminfo: &str) -> u64 {
    meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kb| kb.parse::<u64>().ok())
        .map_or(0, |kb| kb.saturating_mul(1024))
}

/// The first `model name : ...` line.
fn cpu_model(cpuinfo: &str) -> String {
    cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.split_whitespace().collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_files_are_read_for_memory_and_model() {
        let meminfo = "MemTotal:       24684084 kB\nMemFree:  1 kB\n";
        assert_eq!(mem_total(meminfo), 24_684_084 * 1024);
        assert_eq!(mem_total("garbage"), 0);
        let cpuinfo = "processor\t: 0\nmodel name\t: AMD  EPYC 7B13\nflags : x\n";
        assert_eq!(cpu_model(cpuinfo), "AMD EPYC 7B13");
        assert_eq!(cpu_model(""), "");
    }

    #[test]
    fn now_is_a_utc_minute() {
        let s = now_utc();
        assert_eq!(s.len(), "2026-11-28 04:00 UTC".len(), "{s}");
        assert!(s.ends_with(" UTC") && s.starts_with("20"), "{s}");
    }
}
