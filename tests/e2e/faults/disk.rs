//! A full disk: the store on a tiny tmpfs fills up; writes exit 3 naming the full disk, and after space is freed nothing acknowledged is lost.

use super::rig::{
    assert_clean, by_command, create_delegation, register_args, strs, Expo, Rng, Scratch,
};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const D: &str = "pk-full-disk";

/// A tmpfs mounted for the test, unmounted when dropped.
struct Mount(PathBuf);

impl Mount {
    /// Mounts a tmpfs of `size` (e.g. `4m`) at `dir`, or says why it cannot.
    fn tmpfs(dir: &Path, size: &str) -> Result<Mount, String> {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "mount -t tmpfs refused (not root, or no mount rights here): {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(Mount(dir.to_path_buf()))
    }

    /// Changes the tmpfs's size in place.
    fn resize(&self, size: &str) {
        let st = Command::new("mount")
            .args(["-o", &format!("remount,size={size}")])
            .arg(&self.0)
            .status()
            .unwrap();
        assert!(st.success(), "remount to {size} failed");
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Fills the filesystem with `path` until it is full, then gives back `spare` bytes.
fn fill_leaving(path: &Path, spare: u64) {
    let mut f = std::fs::File::create(path).unwrap();
    let chunk = vec![0x5Au8; 16 * 1024];
    let mut written = 0u64;
    loop {
        match f.write(&chunk) {
            Ok(0) => break,
            Ok(n) => written += n as u64,
            Err(_) => break,
        }
    }
    let _ = f.sync_all();
    f.set_len(written.saturating_sub(spare)).unwrap();
}

/// Writes until the disk is full: exit 3 naming it; then, with space back, the store opens, verifies, and holds every acknowledged command once.
#[test]
fn full_disk_fails_plainly_and_loses_nothing_acknowledged() {
    let mut rng = Rng::for_campaign("full-disk");
    let started = Instant::now();
    let scratch = Scratch::new("full-disk");
    let mount = match Mount::tmpfs(&scratch.path("mnt"), "4m") {
        Ok(m) => m,
        Err(reason) => {
            eprintln!("faults/full-disk: skipped: {reason}");
            return;
        }
    };
    let store = Expo::at(mount.0.join("store"));
    create_delegation(&store, D);
    // A bigger export, kept off the small disk, to try an import on it later.
    let filler = mount.0.join("filler");
    fill_leaving(&filler, 640 * 1024);

    let mut acked: Vec<String> = Vec::new();
    let mut failed: Vec<String> = Vec::new();
    let mut company = 0u64;
    let mut first_failure = None;
    while company < 3000 {
        company += 1;
        let id = rng.uuid();
        let mut args = vec!["--command-id".to_owned(), id.clone()];
        args.extend(register_args(D, company));
        let out = store.run(&strs(&args));
        assert_clean("full disk: register", &strs(&args), &out);
        match out.code {
            0 => acked.push(id),
            3 => {
                failed.push(id);
                first_failure = Some(out);
                break;
            }
            other => panic!(
                "full disk: register exited {other}, not 0 or 3: {}",
                out.stderr
            ),
        }
    }
    let out = first_failure.expect("the disk never filled up");
    let message = out.stderr.trim();
    assert!(
        message.lines().count() <= 3 && message.to_lowercase().contains("full"),
        "full disk: the message does not name the full disk: {message:?}"
    );
    eprintln!(
        "faults/full-disk: {} registrations acknowledged, then: {message}",
        acked.len()
    );

    // While the disk is full: more writes and bulk writes fail the same way, with no panic.
    for round in 0..3 {
        company += 1;
        let id = rng.uuid();
        let mut args = vec!["--command-id".to_owned(), id.clone()];
        args.extend(register_args(D, company));
        let out = store.run(&strs(&args));
        assert_clean("full disk: another register", &strs(&args), &out);
        assert!(
            matches!(out.code, 0 | 3),
            "round {round}: exit {}: {}",
            out.code,
            out.stderr
        );
        if out.code == 0 {
            acked.push(id);
        } else {
            failed.push(id);
        }
    }
    let csv = scratch.file("regs.csv", super::rig::registrations_csv(900, 40, 2));
    let csv_id = rng.uuid();
    let csv_args = [
        "--command-id",
        csv_id.as_str(),
        "import-registrations",
        D,
        csv.to_str().unwrap(),
    ];
    let out = store.run(&csv_args);
    assert_clean("full disk: import-registrations", &csv_args, &out);
    assert!(
        matches!(out.code, 0 | 3),
        "import-registrations on a full disk exited {}: {}",
        out.code,
        out.stderr
    );
    let csv_acked = out.code == 0;
    // A whole export into a second store on the full disk.
    let source = Expo::at(scratch.path("source"));
    source.ok(
        "seed source",
        &[
            "seed",
            "--delegations",
            "2",
            "--companies",
            "40",
            "--delegates",
            "3",
        ],
    );
    let export = source.export("export source");
    let export_file = scratch.file("source.jsonl", &export);
    let second = Expo::at(mount.0.join("second"));
    let out = second.run(&["import", export_file.to_str().unwrap()]);
    assert_clean("full disk: import", &["import"], &out);
    assert!(
        matches!(out.code, 0 | 3),
        "import on a full disk exited {}: {}",
        out.code,
        out.stderr
    );
    let import_acked = out.code == 0;
    if out.code == 3 {
        assert!(
            out.stderr.to_lowercase().contains("full"),
            "import on a full disk: {}",
            out.stderr
        );
    }

    // Free the space: delete the filler, then grow the disk as well.
    std::fs::remove_file(&filler).unwrap();
    store.verify("after freeing space");
    let check = |ctx: &str| {
        let events = store.events(ctx);
        let counts = by_command(&events);
        for a in &acked {
            assert_eq!(
                counts.get(&Some(a.clone())).copied(),
                Some(1),
                "{ctx}: acknowledged command {a}"
            );
        }
        for f in &failed {
            let c = counts.get(&Some(f.clone())).copied().unwrap_or(0);
            assert!(c <= 1, "{ctx}: failed command {f} twice");
            if c == 1 {
                eprintln!(
                    "faults/full-disk: {ctx}: command {f} exited 3 but its event is in the log"
                );
            }
        }
        let csv_events = counts.get(&Some(csv_id.clone())).copied().unwrap_or(0);
        assert!(
            csv_events == 0 || csv_events == 120,
            "{ctx}: half an import-registrations: {csv_events} events"
        );
        assert!(
            csv_events > 0 || !csv_acked,
            "{ctx}: acknowledged import-registrations lost"
        );
        events.len()
    };
    check("after freeing space");
    if second.data.join("db").exists() {
        second.verify("second store after freeing space");
        let got = second.export("second store");
        assert!(
            got.is_empty() || got == export,
            "the failed import left part of itself"
        );
        assert!(
            !got.is_empty() || !import_acked,
            "an acknowledged import was lost"
        );
    } else {
        assert!(!import_acked, "an acknowledged import left no store");
    }
    let before = store.views("before replay", &[D]);
    store.ok("replay", &["replay"]);
    assert_eq!(
        store.views("after replay", &[D]),
        before,
        "roster differs from a rebuild"
    );

    // Writes work again, on a bigger disk too, and the retried failures land once.
    mount.resize("64m");
    company += 1;
    store.ok(
        "write after freeing space",
        &strs(&register_args(D, company)),
    );
    let n = check("after a new write");
    store.verify("final verify");
    eprintln!(
        "faults/full-disk: {} acknowledged, {} failed with exit 3, {n} events kept; {:.1} s",
        acked.len(),
        failed.len(),
        started.elapsed().as_secs_f64()
    );
}
