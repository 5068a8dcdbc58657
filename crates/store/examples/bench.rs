//! Measures the store at scale: import rate (durable), full scan + JSON decode rate, reopen time, one durable append, disk bytes per event, scan peak RSS.
//!
//! `cargo run --release -p expo-store --example bench [-- EVENTS]` (default 1,000,000).
//! Each phase runs in its own process (this binary again) so reopen times and
//! peak memory are those of a fresh process, as the CLI would see them.

use chrono::DateTime;
use expo_store::*;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use uuid::Uuid;

const CITIES: [&str; 6] = [
    "Lahore",
    "Karachi",
    "Islamabad",
    "Faisalabad",
    "Sialkot",
    "Multan",
];
const SECTORS: [&str; 5] = [
    "textiles",
    "surgical_instruments",
    "sports_goods",
    "it_services",
    "leather",
];
const TYPES: [&str; 5] = [
    "CompanyRegistered",
    "CompanyApproved",
    "DelegateAdded",
    "CompanyWaitlisted",
    "DelegateRemoved",
];

fn event(p: u64, streams: u64, versions: &mut [u64]) -> RecordedEvent {
    let s = (p.wrapping_mul(2_654_435_761)) % streams;
    versions[s as usize] += 1;
    let n = p.wrapping_mul(0x9E37_79B9) % 10_000_000;
    let data = format!(
        r#"{{"ntn":"{:07}-{}","legal_name":"Company {n} Trading (Private) Limited","sector":"{}","city":"{}","contact_email":"contact.{n}@company{}.example.pk","passport_no":"AB{:07}","full_name":"Delegate Number {n} Of Company","note":"{}"}}"#,
        n % 10_000_000,
        n % 10,
        SECTORS[(n % 5) as usize],
        CITIES[(n % 6) as usize],
        n % 977,
        n.wrapping_mul(31) % 10_000_000,
        "x".repeat((n % 17) as usize),
    );
    RecordedEvent {
        position: p,
        stream: format!("delegation-{s:05}").into(),
        version: versions[s as usize],
        id: Uuid::now_v7(),
        event_type: TYPES[(n % 5) as usize].into(),
        schema: 1,
        recorded_at: DateTime::from_timestamp(1_750_000_000 + p as i64, 0).unwrap_or_default(),
        command_id: Some(Uuid::now_v7()),
        actor: "staff:ayesha".into(),
        data: data.into_bytes(),
    }
}

fn opts() -> OpenOptions {
    OpenOptions {
        wait: Duration::from_secs(10),
        upcaster: None,
        bulk: false,
        one_shot: false,
    }
}

fn dir_bytes(p: &Path) -> u64 {
    std::fs::read_dir(p)
        .map(|rd| {
            rd.flatten()
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => dir_bytes(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn phase(name: &str, dir: &Path, n: u64) -> Result<(), StoreError> {
    match name {
        "import" => {
            let store = SledStore::open(dir, opts())?;
            let streams = (n / 100).max(1);
            let mut versions = vec![0u64; streams as usize];
            let gen = Instant::now();
            let made = (1..=n)
                .map(|p| event(p, streams, &mut versions))
                .filter(|e| e.version == 1)
                .count();
            let gen_secs = gen.elapsed().as_secs_f64();
            println!("making the events {gen_secs:>10.2} s (included below; {made} streams)");
            let mut versions = vec![0u64; streams as usize];
            let mut json_bytes = 0u64;
            let start = Instant::now();
            let mut events = (1..=n).map(|p| {
                let e = event(p, streams, &mut versions);
                // the JSON-lines export of this event is about this long
                json_bytes += e.data.len() as u64 + 200;
                Ok(e)
            });
            store.import(&mut events, &mut |_| {})?;
            let secs = start.elapsed().as_secs_f64();
            drop(events);
            println!(
                "import            {:>10.0} events/s  ({secs:.2} s, durable)",
                n as f64 / secs
            );
            println!(
                "import, store only{:>10.0} events/s",
                n as f64 / (secs - gen_secs)
            );
            println!(
                "export estimate   {:>10.0} bytes/event",
                json_bytes as f64 / n as f64
            );
        }
        "scan" => {
            let t = Instant::now();
            let store = SledStore::open(dir, opts())?;
            println!(
                "reopen            {:>10.1} ms",
                t.elapsed().as_secs_f64() * 1e3
            );
            let start = Instant::now();
            let mut count = 0u64;
            let mut fields = 0usize;
            for e in store.read_all(1) {
                let e = e?;
                let v: serde_json::Value =
                    serde_json::from_slice(&e.data).map_err(|e| StoreError::Io(e.to_string()))?;
                fields += v.as_object().map_or(0, |o| o.len());
                count += 1;
            }
            let secs = start.elapsed().as_secs_f64();
            println!(
                "scan + json decode{:>10.0} events/s  ({count} events, {fields} fields)",
                count as f64 / secs
            );
            let start = Instant::now();
            let mut bytes = 0usize;
            for e in store.read_all(1) {
                bytes += e?.data.len();
            }
            let secs = start.elapsed().as_secs_f64();
            println!(
                "scan, no decode   {:>10.0} events/s  ({bytes} data bytes)",
                n as f64 / secs
            );
            println!("scan peak RSS     {:>10.1} MiB", peak_rss_mib());
        }
        "append" => {
            let t = Instant::now();
            let store = SledStore::open(dir, opts())?;
            let opened = t.elapsed();
            let meta = AppendMeta {
                command_id: Some(Uuid::now_v7()),
                actor: "bench".into(),
                recorded_at: DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default(),
            };
            let t2 = Instant::now();
            let ev = NewEvent {
                id: Uuid::now_v7(),
                event_type: "CompanyApproved".into(),
                schema: 1,
                data: r#"{"ntn":"1234567-8"}"#.into(),
            };
            store
                .append("delegation-00001", ExpectedVersion::Any, &meta, &[ev], None)
                .map_err(|e| StoreError::Io(e.to_string()))?;
            let appended = t2.elapsed();
            let r = store.read_stream("delegation-00001", 1).count();
            drop(store);
            println!(
                "durable command   {:>10.2} ms  (open {:.2} ms + append {:.2} ms, close; stream has {r} events)",
                t.elapsed().as_secs_f64() * 1e3,
                opened.as_secs_f64() * 1e3,
                appended.as_secs_f64() * 1e3
            );
        }
        other => return Err(StoreError::Io(format!("unknown phase {other}"))),
    }
    Ok(())
}

fn main() -> Result<(), StoreError> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() == 4 {
        let n = args[3]
            .parse()
            .map_err(|_| StoreError::Io("bad count".into()))?;
        return phase(&args[1], Path::new(&args[2]), n);
    }
    let n: u64 = args
        .get(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let dir: PathBuf =
        std::env::temp_dir().join(format!("expo-store-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let me = std::env::current_exe().map_err(|e| StoreError::Io(e.to_string()))?;
    let run = |p: &str| -> Result<(), StoreError> {
        let st = Command::new(&me)
            .args([p, &dir.display().to_string(), &n.to_string()])
            .status()
            .map_err(|e| StoreError::Io(e.to_string()))?;
        if st.success() {
            Ok(())
        } else {
            Err(StoreError::Io(format!("phase {p} failed")))
        }
    };
    println!(
        "{n} events, ~250-byte data JSON, {} streams",
        (n / 100).max(1)
    );
    run("import")?;
    let bytes = dir_bytes(&dir);
    println!(
        "disk              {:>10.0} bytes/event ({bytes} bytes)",
        bytes as f64 / n as f64
    );
    run("scan")?;
    run("scan")?;
    for _ in 0..5 {
        run("append")?;
    }
    if std::env::var_os("KEEP").is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    } else {
        println!("kept {}", dir.display());
    }
    Ok(())
}
