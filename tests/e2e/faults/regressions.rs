//! Regression tests for the bugs the fault campaign found, each named after what broke.

use super::rig::{assert_clean, files_under, Expo, Scratch};

/// Found by the damage campaign: when sled recovers only a prefix of a
/// damaged log (here: the log file cut short and the snapshot gone), `verify`
/// says the store is damaged, but reading commands showed the shorter
/// history and exited 0 (an export that silently drops events, a roster that
/// says the delegation does not exist). Every command must refuse instead.
#[test]
fn reads_refuse_a_log_the_storage_engine_truncated() {
    let scratch = Scratch::new("regress-truncated");
    let store = Expo::at(scratch.path("store"));
    store.ok("demo", &["demo"]);
    let full = store.events("before the damage").len();
    for f in files_under(&store.data) {
        if f.file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("snap."))
        {
            std::fs::remove_file(f).unwrap();
        }
    }
    let db = std::fs::OpenOptions::new()
        .write(true)
        .open(store.data.join("db"))
        .unwrap();
    db.set_len(100_000).unwrap();
    drop(db);
    let verify = store.run(&["verify"]);
    assert_clean("verify", &["verify"], &verify);
    assert_eq!(
        verify.code, 3,
        "verify on a truncated log: {}",
        verify.stderr
    );
    let mut wrong = Vec::new();
    for args in [
        vec!["events"],
        vec!["export"],
        vec!["delegation", "list", "--json"],
        vec!["roster", "pk-textiles-may", "--format", "json"],
        vec!["report", "status", "--format", "json"],
    ] {
        let out = store.run(&args);
        assert_clean("read", &args, &out);
        if out.code != 3 || !out.stderr.contains("damaged") {
            wrong.push(format!(
                "`expo {}` exited {} (the log held {full} events): {}",
                args.join(" "),
                out.code,
                if out.code == 0 {
                    super::rig::tail(&out.stdout)
                        .chars()
                        .take(300)
                        .collect::<String>()
                } else {
                    out.stderr.trim().to_owned()
                }
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "reads on a log sled truncated must exit 3 naming the damage, as verify does:\n{}",
        wrong.join("\n")
    );
}
