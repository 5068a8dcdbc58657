//! Bulk commands: CSV registrations, JSON Lines export and import, round trips.

use crate::fixtures::{self, D};
use crate::harness::{n, parse_json_lines, s, Store};

/// The header `import-registrations` expects.
pub const HEADER: &str = "ntn,legal_name,sector,city,contact_email,full_name,passport_no,passport_expiry,designation,nationality";

/// A registration CSV with a BOM, CRLF line ends, quoted commas and quotes,
/// Urdu and Japanese names: three companies, five delegates.
pub fn good_csv() -> String {
    let rows = [
        HEADER,
        r#"1234567,"Lahore Looms (Pvt) Ltd, Gulberg",textiles,Lahore,desk@looms.pk,عائشہ خان,ab1234567,2028-01-31,"Director, Exports",PK"#,
        r#"1234567,"Lahore Looms (Pvt) Ltd, Gulberg",textiles,Lahore,desk@looms.pk,Bilal Ahmed,CD7654321,2027-12-31,CEO,"#,
        r#"2345678-9,"Karachi ""Quality"" Steel",steel,Karachi,info@ksw.com.pk,山田 太郎,JP1234567,2029-03-01,Advisor,JP"#,
        r#"3456789,محمد ٹیکسٹائل,it-hr,Islamabad,hr@example.pk,محمد علی,MA7654321,2028-06-30,Engineer,PK"#,
        r#"3456789,محمد ٹیکسٹائل,it-hr,Islamabad,hr@example.pk,佐藤 花子,SH1234567,2028-06-30,Interpreter,JP"#,
    ];
    format!("\u{feff}{}\r\n", rows.join("\r\n"))
}

/// Imports the good CSV into `D` (max 3 delegates a company) and returns the store.
fn imported() -> Store {
    let store = Store::new();
    fixtures::create(&store, D, &[]);
    let file = store.file("registrations.csv", good_csv());
    store.ok(&["import-registrations", D, &file]);
    store
}

#[test]
fn csv_import_reads_quotes_commas_bom_crlf_urdu_and_japanese() {
    // given a registration CSV with every awkward feature
    // when it is imported
    let store = imported();
    // then three companies and five delegates were recorded, text exactly as written
    let events = store.events();
    let registered: Vec<&serde_json::Value> = events
        .iter()
        .filter(|e| s(e, "type") == "CompanyRegistered")
        .collect();
    let added: Vec<&serde_json::Value> = events
        .iter()
        .filter(|e| s(e, "type") == "DelegateAdded")
        .collect();
    assert_eq!(registered.len(), 3, "{events:?}");
    assert_eq!(added.len(), 5, "{events:?}");
    let names: Vec<&str> = registered
        .iter()
        .map(|e| s(&e["data"], "legal_name"))
        .collect();
    assert!(
        names.contains(&"Lahore Looms (Pvt) Ltd, Gulberg"),
        "{names:?}"
    );
    assert!(names.contains(&"Karachi \"Quality\" Steel"), "{names:?}");
    assert!(names.contains(&"محمد ٹیکسٹائل"), "{names:?}");
    // the BOM is not part of the first NTN
    assert!(registered.iter().any(|e| s(&e["data"], "ntn") == "1234567"));
    // and the visa-letter list (all registrations are submitted, so approve them first) shows them
    for ntn in ["1234567", "2345678-9", "3456789"] {
        store.ok(&["company", "approve", D, ntn]);
    }
    let visa = store.ok(&["report", "visa-letters", D, "--format", "csv"]);
    for text in [
        "عائشہ خان",
        "山田 太郎",
        "佐藤 花子",
        "محمد علی",
        "AB1234567",
        "Director, Exports",
    ] {
        assert!(visa.stdout.contains(text), "{text}: {}", visa.stdout);
    }
    let table = store.ok(&["roster", D]);
    assert!(table.stdout.contains("山田 太郎"), "{}", table.stdout);
    assert!(table.stdout.contains("عائشہ خان"), "{}", table.stdout);
    let roster = store.roster(D, &["--full"]);
    assert_eq!(n(&roster["counts"], "delegates"), 5);
    let text = roster.to_string();
    assert!(!text.contains('\r'), "no CR leaked into values: {text}");
    // an empty nationality means PK
    let bilal = roster["companies"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["delegates"].as_array().unwrap().clone())
        .find(|p| s(p, "full_name") == "Bilal Ahmed")
        .unwrap();
    assert_eq!(s(&bilal, "nationality"), "PK");
}

/// The good CSV with two bad rows inserted at lines 3 and 5.
fn csv_with_bad_rows() -> String {
    let good = good_csv();
    let mut lines: Vec<&str> = good.trim_end().split("\r\n").collect();
    lines.insert(
        2,
        "12345,Bad NTN Co,steel,Lahore,a@b.pk,Some One,ZZ1234567,2028-01-01,CEO,PK",
    );
    lines.insert(
        4,
        "7777777,Bad Sector Co,shipbuilding,Lahore,a@b.pk,Other One,YY1234567,2028-01-01,CEO,PK",
    );
    lines.join("\r\n") + "\r\n"
}

#[test]
fn csv_import_is_all_or_nothing_and_lists_every_bad_row() {
    // given a CSV with bad rows at lines 3 and 5
    let store = Store::new();
    fixtures::create(&store, D, &[]);
    let before = store.export();
    let file = store.file("bad.csv", csv_with_bad_rows());
    // when it is imported without --skip-invalid
    let out = store.expo(&["import-registrations", D, &file]);
    // then it is refused, naming both lines and their reasons, and nothing is written
    out.expect_code(1);
    let err = out.stderr.to_lowercase();
    assert!(err.contains("line 3"), "{}", out.stderr);
    assert!(err.contains("line 5"), "{}", out.stderr);
    assert!(err.contains("ntn"), "{}", out.stderr);
    assert!(err.contains("sector"), "{}", out.stderr);
    assert!(
        !err.contains("line 2"),
        "good rows are not listed: {}",
        out.stderr
    );
    assert_eq!(store.export(), before);
}

#[test]
fn csv_import_with_skip_invalid_writes_the_good_rows_and_lists_the_bad() {
    // given the same CSV with two bad rows
    let store = Store::new();
    fixtures::create(&store, D, &[]);
    let file = store.file("bad.csv", csv_with_bad_rows());
    // when it is imported with --skip-invalid
    let out = store.expo(&["import-registrations", D, &file, "--skip-invalid"]);
    // then the good rows are written and the bad ones listed
    // (exit 0: the store changed, and exit 1 promises an unchanged store)
    out.ok();
    let said = format!("{}{}", out.stdout, out.stderr).to_lowercase();
    assert!(said.contains("line 3") && said.contains("line 5"), "{said}");
    let events = store.events();
    let count = |t: &str| events.iter().filter(|e| s(e, "type") == t).count();
    assert_eq!(count("CompanyRegistered"), 3);
    assert_eq!(count("DelegateAdded"), 5);
    assert!(!events
        .to_vec()
        .iter()
        .any(|e| e.to_string().contains("7777777")));
}

#[test]
fn export_then_import_into_a_fresh_store_gives_identical_rosters_and_export() {
    // given a realistic store: the demo plus the sample and a closed delegation
    let source = Store::new();
    source.ok(&["demo"]);
    fixtures::sample_in(&source, "e2e-sample");
    fixtures::closed(&source, "pk-closed");
    let export = source.export();
    let file = source.file("backup.jsonl", &export);
    // when the export is imported into a fresh store
    let target = Store::new();
    let out = target.ok(&["import", &file]);
    // then it reports the events, and the stores agree byte for byte and roster for roster
    let count = parse_json_lines(std::str::from_utf8(&export).unwrap()).len();
    assert!(out.stdout.contains(&count.to_string()), "{}", out.stdout);
    assert!(out.stdout.contains("events/s"), "{}", out.stdout);
    assert!(!out.stdout.contains('\r'), "no progress bar off a terminal");
    assert_eq!(target.export(), export);
    let ids = delegation_ids(&source);
    assert!(ids.len() >= 3, "{ids:?}");
    for id in &ids {
        for extra in [&[][..], &["--full"][..]] {
            assert_eq!(target.roster(id, extra), source.roster(id, extra), "{id}");
        }
        assert_eq!(
            target
                .ok(&["report", "visa-letters", id, "--format", "csv"])
                .stdout,
            source
                .ok(&["report", "visa-letters", id, "--format", "csv"])
                .stdout
        );
    }
    for report in ["sectors", "status"] {
        assert_eq!(
            target.json(&["report", report]),
            source.json(&["report", report])
        );
    }
    // and `export FILE` writes the same bytes as stdout
    let path = target.work().join("again.jsonl");
    target.ok(&["export", path.to_str().unwrap()]);
    assert_eq!(std::fs::read(&path).unwrap(), export);
}

#[test]
fn an_import_that_keeps_few_views_in_memory_stores_the_same_rosters() {
    // given an export with the demo, the sample, and two delegations whose
    // companies register taking turns, so their events interleave
    let source = Store::new();
    source.ok(&["demo"]);
    fixtures::sample_in(&source, "e2e-sample");
    fixtures::create(&source, "turns-a", &[]);
    fixtures::create(&source, "turns-b", &[]);
    for i in 0..6 {
        fixtures::register_nth(&source, "turns-a", i);
        fixtures::register_nth(&source, "turns-b", 100 + i);
    }
    let file = source.file("backup.jsonl", source.export());
    let ids = delegation_ids(&source);
    for budget in ["1", "7"] {
        // when it is imported with room for a handful of views, so views
        // leave memory encoded and come back when their delegation goes on
        let target = Store::new();
        let out = target
            .command(&["import", &file])
            .env("EXPO_REBUILD_BUDGET", budget)
            .env("EXPO_TRACE", "1")
            .output()
            .unwrap();
        let trace = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{trace}");
        // then views did leave memory and came back (the fold's counts)
        assert!(trace.contains("read back"), "{trace}");
        assert!(!trace.contains(" 0 read back"), "{trace}");
        // and the stored rosters are the source's, and verify finds them
        // equal to a rebuild
        for id in &ids {
            assert_eq!(
                target.roster(id, &["--full"]),
                source.roster(id, &["--full"]),
                "{id}"
            );
        }
        assert_eq!(
            target.json(&["report", "status"]),
            source.json(&["report", "status"])
        );
        let verified = target.ok(&["verify"]);
        assert!(
            verified.stdout.contains("rosters match a rebuild"),
            "{}",
            verified.stdout
        );
    }
}

#[test]
fn import_continues_a_store_from_where_it_ends() {
    // given an export split in two at line k
    let source = Store::new();
    fixtures::sample(&source);
    fixtures::closed(&source, "pk-closed");
    let export = String::from_utf8(source.export()).unwrap();
    let lines: Vec<&str> = export.lines().collect();
    let k = lines.len() / 2;
    let head = source.file("head.jsonl", lines[..k].join("\n") + "\n");
    let tail = source.file("tail.jsonl", lines[k..].join("\n") + "\n");
    let target = Store::new();
    // when the tail comes first, then it is refused: it does not continue an empty store
    let out = target.expo(&["import", &tail]);
    out.expect_code(1);
    assert!(out.stderr.contains("line 1"), "{}", out.stderr);
    // when the head and then the tail are imported
    target.ok(&["import", &head]);
    let out = target.expo(&["import", &head]);
    out.expect_code(1);
    target.ok(&["import", &tail]);
    // then the store equals the source
    assert_eq!(String::from_utf8(target.export()).unwrap(), export);
}

/// Every delegation id the store knows, read from its events.
pub fn delegation_ids(store: &Store) -> Vec<String> {
    let mut ids: Vec<String> = store
        .events()
        .iter()
        .filter(|e| s(e, "type") == "DelegationCreated")
        .map(|e| s(e, "stream").to_owned())
        .collect();
    ids.dedup();
    ids
}
