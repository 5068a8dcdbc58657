//! Unit tests of the CLI's parsing and formats: values, export lines, CSV rows, the seed generator, the failure table.
//!
//! The real binary is exercised end to end in the workspace's `tests/e2e`;
//! these check the pieces that have many cases, one row per case.

use crate::args::{Cli, GlobalArgs};
use crate::bulk;
use crate::context::Context;
use crate::envelope;
use crate::failure::Failure;
use crate::parse;
use crate::seed::{Plan, SplitMix64};
use clap::Parser;

/// Given text for a number option, when it is parsed, then it is the
/// number or an error mentioning `want`.
#[track_caller]
fn check_number(input: &str, want: Result<u32, &str>) {
    let got = parse::number("max-companies", Some(input), 20, (1, 500));
    match (got, want) {
        (Ok(n), Ok(w)) => assert_eq!(n, w, "input {input:?}"),
        (Err(f), Err(w)) => {
            assert_eq!(f.code(), 1, "input {input:?}");
            assert!(f.to_string().contains(w), "input {input:?}: {f}");
        }
        (got, want) => panic!("input {input:?}: got {got:?}, want {want:?}"),
    }
}

#[test]
fn numbers_are_parsed_with_bounds_and_named_when_bad() {
    check_number("1", Ok(1));
    check_number(" 500 ", Ok(500));
    check_number("0", Err("must be 1 to 500, got 0"));
    check_number("-5", Err("got -5"));
    check_number("501", Err("got 501"));
    check_number(
        "99999999999999999999999",
        Err("got 99999999999999999999999"),
    );
    check_number(
        "-99999999999999999999999",
        Err("got -99999999999999999999999"),
    );
    check_number("abc", Err("whole number"));
    check_number("", Err("whole number"));
    check_number("1.5", Err("whole number"));
    assert_eq!(parse::number("x", None, 7, (1, 9)).ok(), Some(7));
}

/// Given an export line, when it is parsed, then it is accepted or refused
/// with a problem mentioning `want`.
#[track_caller]
fn check_line(line: &str, want: Result<(), &str>) {
    match (envelope::parse_line(line), want) {
        (Ok(_), Ok(())) => {}
        (Err(problem), Err(w)) => assert!(problem.contains(w), "{line}: {problem}"),
        (got, want) => panic!("{line}: got {got:?}, want {want:?}"),
    }
}

const GOOD_LINE: &str = r#"{"position":2,"stream":"pk-textiles-may","version":2,"type":"CompanyApproved","schema":1,"id":"01a21ffe-79de-7374-9ab2-5bd4a15fd06b","recorded_at":"2025-03-03T04:20:00Z","command_id":null,"actor":"desk","data":{"ntn":"4210387"}}"#;

#[test]
fn export_lines_are_checked_field_by_field() {
    check_line(GOOD_LINE, Ok(()));
    check_line(&GOOD_LINE[..GOOD_LINE.len() - 10], Err("truncated"));
    check_line("not json", Err("not valid JSON"));
    check_line("[1,2]", Err("not a JSON object"));
    check_line(
        &GOOD_LINE.replace("\"position\":2", "\"position\":0"),
        Err("start at 1"),
    );
    check_line(
        &GOOD_LINE.replace("\"position\":2", "\"position\":-2"),
        Err("position"),
    );
    check_line(
        &GOOD_LINE.replace("CompanyApproved", "CompanyBought"),
        Err("unknown event type"),
    );
    check_line(
        &GOOD_LINE.replace("\"schema\":1", "\"schema\":9"),
        Err("schema"),
    );
    check_line(&GOOD_LINE.replace("4210387", "42"), Err("NTN"));
    check_line(
        &GOOD_LINE.replace("pk-textiles-may", "PK TEXTILES"),
        Err("stream"),
    );
    check_line(&GOOD_LINE.replace("01a21ffe", "zz"), Err("UUID"));
    check_line(
        &GOOD_LINE.replace("2025-03-03T04:20:00Z", "yesterday"),
        Err("RFC 3339"),
    );
    check_line(
        &GOOD_LINE.replace("{\"ntn\":\"4210387\"}", "7"),
        Err("data"),
    );
    check_line(
        &"x".repeat(envelope::MAX_LINE_BYTES + 1),
        Err("longer than"),
    );
}

#[test]
fn an_export_line_round_trips_through_the_envelope() {
    let (stored, _) = envelope::parse_line(GOOD_LINE).expect("a good line");
    let again = envelope::to_line(&stored);
    let (a, b): (serde_json::Value, serde_json::Value) = (
        serde_json::from_str(GOOD_LINE).expect("json"),
        serde_json::from_str(&again).expect("json"),
    );
    assert_eq!(a, b);
}

#[test]
fn times_keep_their_precision_through_rfc3339() {
    let now = envelope::now();
    let text = envelope::format_time(now);
    let back = chrono::DateTime::parse_from_rfc3339(&text).expect("rfc3339");
    assert_eq!(back.with_timezone(&chrono::Utc), now);
    assert!(text.ends_with('Z'), "{text}");
}

/// `parse_time` reads `text` as chrono does: the same moment, or neither.
fn parse_time_agrees_with_chrono(text: &str) {
    let chrono = chrono::DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&chrono::Utc));
    assert_eq!(envelope::parse_time(text), chrono, "{text:?}");
}

#[test]
fn a_recorded_time_reads_as_chrono_reads_it() {
    // Given the form export writes, its edges, and forms only chrono reads
    for text in [
        "2025-01-06T00:00:01Z",
        "2025-01-06T00:00:01.5Z",
        "2025-01-06T00:00:01.123456789Z",
        "2025-01-06T00:00:01.1234567891Z",
        "2025-01-06T00:00:01.Z",
        "2024-02-29T23:59:59Z",
        "2023-02-29T23:59:59Z",
        "2025-01-06T24:00:00Z",
        "2025-01-06T23:60:00Z",
        "2025-06-30T23:59:60Z",
        "2025-06-30T23:59:60.999Z",
        "2025-01-06t00:00:01z",
        "2025-01-06 00:00:01Z",
        "2025-01-06T00:00:01+09:00",
        "2025-01-06T00:00:01-00:00",
        "2025-01-06T00:00:01",
        "2025-01-06T00:00:01ZZ",
        "+025-01-06T00:00:01Z",
        "2025-1-06T00:00:01Z",
        "2025-01-06T0a:00:01Z",
        "",
        "0000-01-01T00:00:00Z",
        "9999-12-31T23:59:59.999999999Z",
    ] {
        // When both read it, then they agree
        parse_time_agrees_with_chrono(text);
    }
    // And every moment export writes reads back as itself
    let now = envelope::now();
    assert_eq!(envelope::parse_time(&envelope::format_time(now)), Some(now));
}

proptest::proptest! {
    #[test]
    fn any_text_of_time_characters_reads_as_chrono_reads_it(
        text in "[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{0,11})?(Z|z|[+-][0-9]{2}:[0-9]{2})?",
    ) {
        parse_time_agrees_with_chrono(&text);
    }

    #[test]
    fn every_moment_written_reads_back_as_itself(
        seconds in 0i64..253_402_300_800,
        nanos in 0u32..1_000_000_000,
    ) {
        let t = chrono::DateTime::from_timestamp(seconds, nanos).expect("a moment");
        proptest::prop_assert_eq!(envelope::parse_time(&envelope::format_time(t)), Some(t));
        parse_time_agrees_with_chrono(&envelope::format_time(t));
    }
}

/// A row's line and `Ok` or a part of its reason.
type WantRow<'a> = (u64, Result<(), &'a str>);

/// Given CSV bytes, when they are read as registrations, then the rows are
/// good or bad as `want` says: `(line, Ok(()))` or `(line, Err(reason part))`.
#[track_caller]
fn check_csv(bytes: &[u8], want: Result<Vec<WantRow<'_>>, &str>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("r.csv");
    std::fs::write(&path, bytes).expect("write");
    let got = bulk::read_rows(&path);
    match (got, want) {
        (Ok(rows), Ok(want)) => {
            let got: Vec<(u64, Result<(), String>)> = rows
                .into_iter()
                .map(|(line, r)| (line, r.map(|_| ())))
                .collect();
            assert_eq!(got.len(), want.len(), "{got:?}");
            for ((gl, gr), (wl, wr)) in got.iter().zip(&want) {
                assert_eq!(gl, wl, "{got:?}");
                match (gr, wr) {
                    (Ok(()), Ok(())) => {}
                    (Err(g), Err(w)) => assert!(g.contains(w), "line {gl}: {g}"),
                    _ => panic!("line {gl}: got {gr:?}, want {wr:?}"),
                }
            }
        }
        (Err(f), Err(w)) => {
            assert_eq!(f.code(), 1);
            assert!(f.to_string().contains(w), "{f}");
        }
        (got, want) => panic!(
            "got {:?}, want {want:?}",
            got.map(|r| r.len()).map_err(|f| f.to_string())
        ),
    }
}

const HEADER: &str =
    "ntn,legal_name,sector,city,contact_email,full_name,passport_no,passport_expiry,designation,nationality";

#[test]
fn csv_rows_are_read_with_quotes_bom_crlf_and_line_numbers() {
    let good = "1234567,\"Lahore Looms (Pvt) Ltd, Gulberg\",textiles,Lahore,a@b.pk,عائشہ خان,ab1234567,2028-01-31,\"Director, Exports\",";
    let japanese = "2345678-9,\"Karachi \"\"Quality\"\" Steel\",steel,Karachi,i@k.pk,山田 太郎,JP1234567,2029-03-01,Advisor,JP";
    // BOM and CRLF, quoted commas and quotes, Urdu and Japanese names.
    let text = format!("\u{feff}{HEADER}\r\n{good}\r\n{japanese}\r\n");
    check_csv(text.as_bytes(), Ok(vec![(2, Ok(())), (3, Ok(()))]));
    // A header in other case and with spaces is the same header.
    let loose = HEADER.to_uppercase().replace(',', " , ");
    check_csv(
        format!("{loose}\n{good}\n").as_bytes(),
        Ok(vec![(2, Ok(()))]),
    );
    // A quoted line break keeps later line numbers right.
    let multi = good.replace("Director, Exports", "Director,\nExports");
    check_csv(
        format!("{HEADER}\n{multi}\n12345,a,steel,b,a@b.pk,c,AB1234567,2028-01-01,d,\n").as_bytes(),
        Ok(vec![(2, Err("control characters")), (4, Err("NTN"))]),
    );
    // Bad rows say why, by line.
    let rows = [
        good.replace("textiles", "shipbuilding"),
        good.replace("a@b.pk", "nobody"),
        good.replace("2028-01-31", "31/01/2028"),
        good.replace("ab1234567", "AB-1"),
        "1234567,only,three".to_owned(),
    ];
    check_csv(
        format!("{HEADER}\n{}\n", rows.join("\n")).as_bytes(),
        Ok(vec![
            (2, Err("sector")),
            (3, Err("e-mail")),
            (4, Err("date")),
            (5, Err("passport")),
            (6, Err("expected 10 fields")),
        ]),
    );
    // Invalid UTF-8 is a bad row with its line number.
    let mut bytes = format!("{HEADER}\n{good}\n").into_bytes();
    bytes.extend_from_slice(b"1234567,\xff\xfe,steel,L,a@b.pk,X,AB1234567,2028-01-01,CEO,PK\n");
    check_csv(&bytes, Ok(vec![(2, Ok(())), (3, Err("UTF-8"))]));
    // A wrong header, or nothing at all, refuses the whole file.
    check_csv(b"ntn,name\n1,2\n", Err("wrong header"));
    check_csv(b"", Err("empty"));
    check_csv(format!("{HEADER}\n").as_bytes(), Err("no rows"));
}

#[test]
fn the_seed_generator_is_deterministic_and_accepted_by_the_domain() {
    let plan = Plan {
        delegations: 3,
        companies: 15,
        delegates: 4,
        seed: 42,
    };
    let a = crate::seed::generate(plan, "seed-test").expect("the domain accepts seeded commands");
    let b = crate::seed::generate(plan, "seed-test").expect("again");
    assert_eq!(a, b);
    let types = |t: &str| a.iter().filter(|e| e.event_type == t).count();
    assert_eq!(types("DelegationCreated"), 3);
    assert_eq!(types("CompanyRegistered"), 45);
    assert!(types("CompanyApproved") > 20, "most are approved");
    assert!(types("DelegateAdded") >= 45 * 2);
    // Positions and versions are gapless.
    for (i, e) in a.iter().enumerate() {
        assert_eq!(e.position, i as u64 + 1);
    }
    let other = crate::seed::generate(Plan { seed: 43, ..plan }, "seed-test").expect("seed 43");
    assert_ne!(a, other, "another seed gives other data");
}

#[test]
fn splitmix64_stays_in_range() {
    let mut r = SplitMix64::new(7);
    for n in 1..200 {
        assert!(r.below(n) < n);
    }
}

/// Given global options, when they are validated, then the result is `want`.
#[track_caller]
fn check_globals(args: &[&str], want: Result<(), &str>) {
    let mut all = vec!["expo"];
    all.extend_from_slice(args);
    all.push("verify");
    let cli = Cli::try_parse_from(&all).expect("parses");
    let g: &GlobalArgs = &cli.global;
    match (Context::from_args(g), want) {
        (Ok(_), Ok(())) => {}
        (Err(f), Err(w)) => {
            assert_eq!(f.code(), 1);
            assert!(f.to_string().contains(w), "{args:?}: {f}");
        }
        (got, want) => panic!("{args:?}: got {got:?}, want {want:?}"),
    }
}

#[test]
fn global_options_are_validated() {
    check_globals(&["--wait", "0"], Ok(()));
    check_globals(&["--wait", "2.5"], Ok(()));
    check_globals(&["--wait", "-1"], Err("--wait"));
    check_globals(&["--wait", "inf"], Err("--wait"));
    check_globals(&["--wait", "NaN"], Err("--wait"));
    check_globals(&["--wait", "1e30"], Err("--wait"));
    check_globals(
        &["--command-id", "0190a5e2-7c3b-7d8e-9f00-123456789abc"],
        Ok(()),
    );
    check_globals(&["--command-id", "nope"], Err("--command-id"));
    check_globals(&["--actor", "desk 3"], Ok(()));
    check_globals(&["--actor", "  "], Err("--actor"));
    check_globals(&["--actor", "a\u{7}b"], Err("--actor"));
}

#[test]
fn failures_map_to_the_contract_exit_codes() {
    use expo_store::StoreError;
    let cases: [(Failure, u8); 6] = [
        (Failure::Invalid("x".into()), 1),
        (
            Failure::Value(expo_domain::values::ValueError::Ntn("1".into())),
            1,
        ),
        (Failure::Usage("x".into()), 2),
        (Failure::Store(StoreError::Io("disk".into())), 3),
        (
            Failure::Store(StoreError::Locked {
                path: "d".into(),
                waited_ms: 0,
            }),
            3,
        ),
        (Failure::Closed, 0),
    ];
    for (failure, code) in cases {
        assert_eq!(failure.code(), code, "{failure}");
        assert!(!failure.to_string().contains('\n') || matches!(failure, Failure::Rows { .. }));
    }
}
