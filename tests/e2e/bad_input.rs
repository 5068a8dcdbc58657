//! The bad-input table: malformed input to every command is refused plainly and changes nothing.

use crate::bulk::{good_csv, HEADER};
use crate::fixtures::{self, FABRICS, LOOMS, QUETTA, SIALKOT, STEEL};
use crate::harness::{debug_leak, Output, Store};
use serde_json::Value;

/// The open sample delegation the rows aim at.
const X: &str = "e2e-table";
/// A closed delegation.
const C: &str = "e2e-closed";
/// An open delegation without a leader or companies.
const BARE: &str = "e2e-bare";
/// An open delegation with an approved company but no leader.
const LEADERLESS: &str = "e2e-leaderless";

/// What a row must exit with.
#[derive(Debug, Clone, Copy)]
enum Exit {
    /// 1: refused, an invalid value or a domain rule.
    Refused,
    /// 2: a usage error.
    Usage,
    /// A typed option that does not parse (a negative or non-numeric number, an
    /// unknown enum value): the contract allows reading it as either.
    RefusedOrUsage,
}

impl Exit {
    fn allows(self, code: i32) -> bool {
        match self {
            Exit::Refused => code == 1,
            Exit::Usage => code == 2,
            Exit::RefusedOrUsage => code == 1 || code == 2,
        }
    }
}

/// One malformed input: what to run, how it must end, and a word its message must hold.
struct Row {
    args: Vec<String>,
    exit: Exit,
    word: String,
}

/// Builds a row from anything string-like.
fn row<S: AsRef<str>>(exit: Exit, word: &str, args: &[S]) -> Row {
    Row {
        args: args.iter().map(|a| a.as_ref().to_owned()).collect(),
        exit,
        word: word.to_owned(),
    }
}

/// `delegation create` with one option changed.
fn create(id: &str, set: &[(&str, &str)]) -> Vec<String> {
    let mut opts = vec![
        ("--name", "Bad input delegation"),
        ("--arrive", "2025-06-01"),
        ("--depart", "2025-06-10"),
    ];
    apply(&mut opts, set);
    let mut args = vec!["delegation".to_owned(), "create".to_owned(), id.to_owned()];
    flatten(&mut args, &opts);
    args
}

/// `company register` with one value changed.
fn register(d: &str, ntn: &str, set: &[(&str, &str)]) -> Vec<String> {
    let mut opts = vec![
        ("--name", "New Company Ltd"),
        ("--sector", "automobile"),
        ("--city", "Karachi"),
        ("--email", "info@newco.pk"),
    ];
    apply(&mut opts, set);
    let mut args = vec![
        "company".to_owned(),
        "register".to_owned(),
        d.to_owned(),
        ntn.to_owned(),
    ];
    flatten(&mut args, &opts);
    args
}

/// `delegate add` with one value changed.
fn add(d: &str, ntn: &str, set: &[(&str, &str)]) -> Vec<String> {
    let mut opts = vec![
        ("--name", "Sana Javed"),
        ("--passport", "SJ1234567"),
        ("--passport-expiry", "2028-01-01"),
        ("--designation", "Manager"),
    ];
    apply(&mut opts, set);
    let mut args = vec![
        "delegate".to_owned(),
        "add".to_owned(),
        d.to_owned(),
        ntn.to_owned(),
    ];
    flatten(&mut args, &opts);
    args
}

/// Replaces options in `opts` (or adds them); an empty value name removes the option.
fn apply<'a>(opts: &mut Vec<(&'a str, &'a str)>, set: &[(&'a str, &'a str)]) {
    for (k, v) in set {
        if let Some(k) = k.strip_prefix('!') {
            opts.retain(|(name, _)| *name != k);
        } else if let Some(slot) = opts.iter_mut().find(|(name, _)| name == k) {
            slot.1 = v;
        } else {
            opts.push((k, v));
        }
    }
}

/// Appends `--option value` pairs to `args`.
fn flatten(args: &mut Vec<String>, opts: &[(&str, &str)]) {
    for (k, v) in opts {
        args.push((*k).to_owned());
        args.push((*v).to_owned());
    }
}

/// A CSV made of the header and `rows`.
fn csv(rows: &[&str]) -> String {
    let mut text = HEADER.to_owned();
    for r in rows {
        text.push('\n');
        text.push_str(r);
    }
    text.push('\n');
    text
}

/// One good registration row.
const CSV_OK: &str =
    "8888888,Good Row Ltd,steel,Lahore,a@b.pk,Nadia Ali,NA1234567,2028-01-01,CEO,PK";

/// Builds the store the table runs against: the demo, the sample, a closed and a bare delegation.
fn given_a_realistic_store() -> Store {
    let store = Store::new();
    store.ok(&["demo"]);
    fixtures::sample_in(&store, X);
    fixtures::add_delegate(&store, X, LOOMS.ntn, "Omar Farooq", "GH1234567");
    fixtures::add_delegate(&store, X, SIALKOT.ntn, "Saad Khan", "SK1234567");
    fixtures::closed(&store, C);
    fixtures::create(&store, BARE, &[]);
    fixtures::create(&store, LEADERLESS, &[]);
    fixtures::register(&store, LEADERLESS, &STEEL);
    store.ok(&["company", "approve", LEADERLESS, STEEL.ntn]);
    store
}

/// Lines of an export file that correctly continue `store`'s log: made by
/// running two more commands on a copy of it and keeping the new lines.
fn continuation(store: &Store) -> (usize, Vec<String>) {
    let export = store.export();
    let count = export
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .count();
    let copy = Store::new();
    let file = copy.file("copy.jsonl", &export);
    copy.ok(&["import", &file]);
    copy.ok(&["company", "waitlist", X, SIALKOT.ntn]);
    fixtures::register(&copy, BARE, &LOOMS);
    let all = String::from_utf8(copy.export()).unwrap();
    let lines: Vec<String> = all.lines().map(str::to_owned).collect();
    (count, lines[count..].to_vec())
}

#[test]
fn bad_inputs_are_refused_plainly_and_change_nothing() {
    // given a realistic store
    let store = given_a_realistic_store();
    let before = store.export();
    let (count, next) = continuation(&store);
    assert!(!next.is_empty(), "a continuation line");
    let good = next[0].clone();
    let with = |key: &str, value: Value| {
        let mut v: Value = serde_json::from_str(&good).unwrap();
        v[key] = value;
        serde_json::to_string(&v).unwrap()
    };
    let long201 = "x".repeat(201);
    let long101 = "y".repeat(101);
    let long501 = "z".repeat(501);
    let id65 = "a".repeat(65);

    // files the rows read
    let f = |name: &str, body: &[u8]| store.file(name, body);
    let csv_good = f("good.csv", good_csv().as_bytes());
    let csv_header = f(
        "header.csv",
        b"ntn,name,sector,city,email,full_name,passport,expiry,designation,nationality\n1234567,A,steel,B,a@b.pk,C,AB1234567,2028-01-01,D,PK\n",
    );
    let csv_missing_col = f(
        "missing-col.csv",
        b"ntn,legal_name,sector,city,contact_email,full_name,passport_no,passport_expiry,designation\n",
    );
    let mut utf8 = csv(&[CSV_OK]).into_bytes();
    utf8.extend_from_slice(
        b"8888889,Bad \xff\xfe Bytes,steel,Lahore,a@b.pk,X Y,XY1234567,2028-01-01,CEO,PK\n",
    );
    let csv_utf8 = f("utf8.csv", &utf8);
    let csv_ntn = f(
        "ntn.csv",
        csv(&["12345,Short NTN,steel,Lahore,a@b.pk,A B,AB7654321,2028-01-01,CEO,PK"]).as_bytes(),
    );
    let csv_fields = f(
        "fields.csv",
        csv(&[CSV_OK, "8888889,Too Few,steel,Lahore"]).as_bytes(),
    );
    let csv_sector = f(
        "sector.csv",
        csv(&["8888889,Ships Ltd,shipbuilding,Karachi,a@b.pk,A B,AB7654321,2028-01-01,CEO,PK"])
            .as_bytes(),
    );
    let csv_expiry = f(
        "expiry.csv",
        csv(&["8888889,Old Passports,steel,Karachi,a@b.pk,A B,AB7654321,2025-07-01,CEO,PK"])
            .as_bytes(),
    );
    let csv_dup = f(
        "dup.csv",
        csv(&[
            CSV_OK,
            "8888889,Dup Ltd,steel,Karachi,a@b.pk,Other Person,NA1234567,2028-01-01,CEO,PK",
        ])
        .as_bytes(),
    );
    let csv_email = f(
        "email.csv",
        csv(&[
            CSV_OK,
            "8888889,Mail Ltd,steel,Karachi,not-an-email,A B,AB7654321,2028-01-01,CEO,PK",
        ])
        .as_bytes(),
    );
    let csv_quote = f(
        "quote.csv",
        csv(&["8888889,\"Unterminated Ltd,steel,Karachi,a@b.pk,A B,AB7654321,2028-01-01,CEO,PK"])
            .as_bytes(),
    );
    let csv_passport = f(
        "passport.csv",
        csv(&["8888889,P Ltd,steel,Karachi,a@b.pk,A B,AB-1,2028-01-01,CEO,PK"]).as_bytes(),
    );
    let csv_active = f(
        "active.csv",
        csv(&[&format!(
            "{},Again Ltd,steel,Karachi,a@b.pk,A B,AB7654321,2028-01-01,CEO,PK",
            LOOMS.ntn
        )])
        .as_bytes(),
    );
    let csv_nat = f(
        "nat.csv",
        csv(&["8888889,N Ltd,steel,Karachi,a@b.pk,A B,AB7654321,2028-01-01,CEO,XX"]).as_bytes(),
    );
    let csv_empty = f("empty.csv", b"");
    let huge = format!(
        "8888889,{},steel,Karachi,a@b.pk,A B,AB7654321,2028-01-01,CEO,PK",
        "w".repeat(2_000_000)
    );
    let csv_huge = f("huge.csv", csv(&[&huge]).as_bytes());
    let csv_tab = f(
        "tab.csv",
        csv(&["8888889,Tab\tLtd,steel,Karachi,a@b.pk,A B,AB7654321,2028-01-01,CEO,PK"]).as_bytes(),
    );
    let jl = |name: &str, lines: &[String]| f(name, (lines.join("\n") + "\n").as_bytes());
    let imp_trunc1 = jl("trunc1.jsonl", &[good[..good.len() / 2].to_owned()]);
    let imp_trunc2 = jl(
        "trunc2.jsonl",
        &[
            good.clone(),
            "{\"position\": 1, \"stream\": \"e2e".to_owned(),
        ],
    );
    let imp_pos_gap = jl(
        "gap.jsonl",
        &[with("position", Value::from(count as u64 + 5))],
    );
    let imp_pos_old = jl("old.jsonl", &[with("position", Value::from(1))]);
    let imp_pos_str = jl("posstr.jsonl", &[with("position", Value::from("one"))]);
    let imp_pos_neg = jl("posneg.jsonl", &[with("position", Value::from(-3))]);
    let imp_version = jl("version.jsonl", &[with("version", Value::from(99))]);
    let imp_type = jl(
        "type.jsonl",
        &[with("type", Value::from("CompanyTeleported"))],
    );
    let imp_data = jl("data.jsonl", &[with("data", Value::from("nothing"))]);
    // a new delegation's creation, continuing the log, in a stream other
    // than its id: with space around the id, or another id altogether
    let creation = |stream: &str| {
        let first = String::from_utf8(before.clone()).unwrap();
        let mut v: Value = serde_json::from_str(first.lines().next().unwrap()).unwrap();
        assert_eq!(
            v["type"], "DelegationCreated",
            "the export starts with a creation"
        );
        v["position"] = Value::from(count as u64 + 1);
        v["version"] = Value::from(1);
        v["stream"] = Value::from(stream);
        v["data"]["id"] = Value::from("pk-fresh");
        serde_json::to_string(&v).unwrap()
    };
    let imp_stream_space = jl("space.jsonl", &[creation(" pk-fresh")]);
    let imp_stream_other = jl("other.jsonl", &[creation("pk-other")]);
    let imp_dup = jl("dup.jsonl", &[good.clone(), good.clone()]);
    let imp_text = jl("text.jsonl", &["this is not json".to_owned()]);
    let mut bad_utf8 = b"{\"position\": \xff}\n".to_vec();
    bad_utf8.extend_from_slice(good.as_bytes());
    let imp_utf8 = f("utf8.jsonl", &bad_utf8);
    let imp_whole = f("whole.jsonl", &before);
    let imp_huge = jl(
        "huge.jsonl",
        &[with("data", Value::from("h".repeat(3_000_000)))],
    );

    use Exit::{Refused as R, RefusedOrUsage as E, Usage as U};
    #[rustfmt::skip]
    let rows: Vec<Row> = vec![
        // delegation create
        row(R, "delegation id", &create("ab", &[])),
        row(R, "delegation id", &create("PK-Upper", &[])),
        row(R, "delegation id", &create("pk textiles", &[])),
        row(R, "delegation id", &create(&id65, &[])),
        row(R, "delegation id", &create("pk_textiles", &[])),
        row(R, "delegation id", &create("pk-ünicode", &[])),
        row(R, "name", &create("pk-new", &[("--name", "")])),
        row(R, "name", &create("pk-new", &[("--name", "   ")])),
        row(R, "name", &create("pk-new", &[("--name", &long201)])),
        row(R, "name", &create("pk-new", &[("--name", "two\nlines")])),
        row(R, "window", &create("pk-new", &[("--arrive", "2025-04-12")])),
        row(R, "window", &create("pk-new", &[("--depart", "2025-10-14")])),
        row(R, "window", &create("pk-new", &[("--arrive", "2024-06-01")])),
        row(R, "arrive", &create("pk-new", &[("--arrive", "2025-06-11")])),
        row(R, "date", &create("pk-new", &[("--arrive", "2025-13-01")])),
        row(R, "date", &create("pk-new", &[("--arrive", "01/06/2025")])),
        row(R, "date", &create("pk-new", &[("--arrive", "2025-02-30")])),
        row(R, "date", &create("pk-new", &[("--depart", "")])),
        row(R, "country", &create("pk-new", &[("--country", "PAK")])),
        row(R, "country", &create("pk-new", &[("--country", "XX")])),
        row(R, "country", &create("pk-new", &[("--country", "p1")])),
        row(R, "companies", &create("pk-new", &[("--max-companies", "0")])),
        row(R, "companies", &create("pk-new", &[("--max-companies", "501")])),
        row(E, "-1", &create("pk-new", &[("--max-companies", "-1")])),
        row(E, "99999999999999999999", &create("pk-new", &[("--max-companies", "99999999999999999999")])),
        row(E, "ten", &create("pk-new", &[("--max-companies", "ten")])),
        row(R, "delegates", &create("pk-new", &[("--max-delegates", "0")])),
        row(R, "delegates", &create("pk-new", &[("--max-delegates", "21")])),
        row(R, "validity", &create("pk-new", &[("--passport-validity-months", "25")])),
        row(E, "-3", &create("pk-new", &[("--passport-validity-months", "-3")])),
        row(R, X, &create(X, &[])),
        row(U, "name", &create("pk-new", &[("!--name", "")])),
        row(U, "depart", &create("pk-new", &[("!--depart", "")])),
        row(U, "required", &["delegation", "create"]),
        // delegation close
        row(R, "pk-nowhere", &["delegation", "close", "pk-nowhere"]),
        row(R, "closed", &["delegation", "close", C]),
        row(R, "approved", &["delegation", "close", BARE]),
        row(R, "leader", &["delegation", "close", LEADERLESS]),
        row(R, "delegation id", &["delegation", "close", "Not An Id"]),
        row(U, "extra", &["delegation", "close", X, "extra"]),
        // company register
        row(R, "ntn", &register(X, "123456", &[])),
        row(R, "ntn", &register(X, "12345678", &[])),
        row(R, "ntn", &register(X, "1234567-", &[])),
        row(R, "ntn", &register(X, "1234567-89", &[])),
        row(R, "ntn", &register(X, "abcdefg", &[])),
        row(R, "ntn", &register(X, "1234567_8", &[])),
        row(R, "ntn", &register(X, "", &[])),
        row(R, "ntn", &register(X, "１２３４５６７", &[])),
        row(R, "sector", &register(X, "8888888", &[("--sector", "shipbuilding")])),
        row(R, "sector", &register(X, "8888888", &[("--sector", "")])),
        row(R, "sector", &register(X, "8888888", &[("--sector", "it")])),
        row(R, "name", &register(X, "8888888", &[("--name", "")])),
        row(R, "name", &register(X, "8888888", &[("--name", &long201)])),
        row(R, "city", &register(X, "8888888", &[("--city", "")])),
        row(R, "city", &register(X, "8888888", &[("--city", &long101)])),
        row(R, "mail", &register(X, "8888888", &[("--email", "info.newco.pk")])),
        row(R, "mail", &register(X, "8888888", &[("--email", "info@newco")])),
        row(R, "mail", &register(X, "8888888", &[("--email", "@newco.pk")])),
        row(R, "mail", &register(X, "8888888", &[("--email", "a@@newco.pk")])),
        row(R, "mail", &register(X, "8888888", &[("--email", "a b@newco.pk")])),
        row(R, "mail", &register(X, "8888888", &[("--email", "info@")])),
        row(R, "pk-nowhere", &register("pk-nowhere", "8888888", &[])),
        row(R, "closed", &register(C, "8888888", &[])),
        row(R, LOOMS.ntn, &register(X, LOOMS.ntn, &[])),
        row(U, "email", &register(X, "8888888", &[("!--email", "")])),
        row(U, "colour", &register(X, "8888888", &[("--colour", "red")])),
        // company approve / waitlist / reject / withdraw
        row(R, "9999999", &["company", "approve", X, "9999999"]),
        row(R, "ntn", &["company", "approve", X, "12-34"]),
        row(R, "2 of 2", &["company", "approve", X, SIALKOT.ntn]),
        row(R, "rejected", &["company", "approve", X, QUETTA.ntn]),
        row(R, "approved", &["company", "approve", X, LOOMS.ntn]),
        row(R, "approved", &["company", "waitlist", X, STEEL.ntn]),
        row(R, "rejected", &["company", "waitlist", X, QUETTA.ntn]),
        row(R, "closed", &["company", "approve", C, LOOMS.ntn]),
        row(R, "pk-nowhere", &["company", "waitlist", "pk-nowhere", LOOMS.ntn]),
        row(U, "reason", &["company", "reject", X, SIALKOT.ntn]),
        row(R, "reason", &["company", "reject", X, SIALKOT.ntn, "--reason", ""]),
        row(R, "reason", &["company", "reject", X, SIALKOT.ntn, "--reason", " \t "]),
        row(R, "reason", &["company", "reject", X, SIALKOT.ntn, "--reason", &long501]),
        row(R, "rejected", &["company", "withdraw", X, QUETTA.ntn, "--reason", "again"]),
        row(R, "9999999", &["company", "withdraw", X, "9999999", "--reason", "gone"]),
        row(R, "closed", &["company", "withdraw", C, LOOMS.ntn, "--reason", "late"]),
        row(R, "waitlisted", &["company", "waitlist", X, FABRICS.ntn]),
        // delegate add
        row(R, "passport", &add(X, LOOMS.ntn, &[("--passport", "AB123")])),
        row(R, "passport", &add(X, LOOMS.ntn, &[("--passport", "AB12345678")])),
        row(R, "passport", &add(X, LOOMS.ntn, &[("--passport", "AB-12345")])),
        row(R, "passport", &add(X, LOOMS.ntn, &[("--passport", "")])),
        row(R, "passport", &add(X, LOOMS.ntn, &[("--passport", "ÄB1234567")])),
        row(R, "expir", &add(X, STEEL.ntn, &[("--passport-expiry", "2025-11-01")])),
        row(R, "date", &add(X, STEEL.ntn, &[("--passport-expiry", "2028-13-40")])),
        row(R, "CD7654321", &add(X, STEEL.ntn, &[("--passport", "cd7654321")])),
        row(R, "rejected", &add(X, QUETTA.ntn, &[])),
        row(R, "9999999", &add(X, "9999999", &[])),
        row(R, "delegates", &add(X, LOOMS.ntn, &[])),
        row(R, "name", &add(X, STEEL.ntn, &[("--name", "")])),
        row(R, "name", &add(X, STEEL.ntn, &[("--name", &long101)])),
        row(R, "designation", &add(X, STEEL.ntn, &[("--designation", "")])),
        row(R, "ZZ", &add(X, STEEL.ntn, &[("--nationality", "ZZ")])),
        row(R, "closed", &add(C, LOOMS.ntn, &[])),
        row(U, "passport-expiry", &add(X, STEEL.ntn, &[("!--passport-expiry", "")])),
        // delegate remove / lead
        row(R, "ZZ9999999", &["delegate", "remove", X, "ZZ9999999"]),
        row(R, "passport", &["delegate", "remove", X, "12"]),
        row(R, "ZZ9999999", &["delegate", "lead", X, "ZZ9999999"]),
        row(R, "approved", &["delegate", "lead", X, "SK1234567"]),
        row(R, "closed", &["delegate", "lead", C, "ZM9876543"]),
        row(R, "closed", &["delegate", "remove", C, "ZM9876543"]),
        row(U, "required", &["delegate", "lead", X]),
        // reading commands
        row(R, "pk-nowhere", &["roster", "pk-nowhere"]),
        row(E, "xml", &["roster", X, "--format", "xml"]),
        row(E, "-1", &["roster", X, "--at", "-1"]),
        row(R, "999999", &["roster", X, "--at", "999999"]),
        row(R, "2000-01-01", &["roster", X, "--as-of", "2000-01-01T00:00:00Z"]),
        row(E, "abc", &["roster", X, "--at", "abc"]),
        row(E, "yesterday", &["roster", X, "--as-of", "yesterday"]),
        row(E, "2025-05-10", &["roster", X, "--as-of", "2025-05-10"]),
        row(E, "2025-13-01", &["roster", X, "--as-of", "2025-13-01T00:00:00Z"]),
        row(U, "as-of", &["roster", X, "--at", "3", "--as-of", "2025-05-10T00:00:00Z"]),
        row(R, "pk-nowhere", &["report", "visa-letters", "pk-nowhere"]),
        row(R, "pk-nowhere", &["report", "sectors", "--delegation", "pk-nowhere"]),
        row(E, "yaml", &["report", "status", "--format", "yaml"]),
        row(E, "abc", &["report", "status", "--at", "abc"]),
        row(U, "bogus", &["report", "bogus"]),
        row(E, "-5", &["events", "--limit", "-5"]),
        row(E, "abc", &["events", "--from", "abc"]),
        row(E, "99999999999999999999999", &["events", "--limit", "99999999999999999999999"]),
        // global options and unknown commands
        row(E, "not-a-uuid", &["--command-id", "not-a-uuid", "company", "approve", X, SIALKOT.ntn]),
        row(E, "1234", &["--command-id", "1234", "delegation", "close", BARE]),
        row(E, "-1", &["--wait", "-1", "delegation", "list"]),
        row(E, "abc", &["--wait", "abc", "delegation", "list"]),
        row(U, "frobnicate", &["frobnicate"]),
        row(U, "--frobnicate", &["roster", X, "--frobnicate"]),
        row(U, "usage", &["delegation"]),
        row(U, "tcsh", &["completions", "tcsh"]),
        row(U, "now", &["verify", "now"]),
        row(E, "abc", &["seed", "--delegations", "abc", "--companies", "1", "--delegates", "1"]),
        row(E, "-2", &["seed", "--delegations", "-2", "--companies", "1", "--delegates", "1"]),
        row(R, "empty", &["demo"]),
        // import-registrations
        row(R, "pk-nowhere", &["import-registrations", "pk-nowhere", &csv_good]),
        row(R, "closed", &["import-registrations", C, &csv_good]),
        row(R, "header", &["import-registrations", X, &csv_header]),
        row(R, "header", &["import-registrations", X, &csv_missing_col]),
        row(R, "utf-8", &["import-registrations", X, &csv_utf8]),
        row(R, "line 2", &["import-registrations", X, &csv_ntn]),
        row(R, "line 3", &["import-registrations", X, &csv_fields]),
        row(R, "sector", &["import-registrations", X, &csv_sector]),
        row(R, "line 2", &["import-registrations", X, &csv_expiry]),
        row(R, "line 3", &["import-registrations", X, &csv_dup]),
        row(R, "line 3", &["import-registrations", X, &csv_email]),
        row(R, "line", &["import-registrations", X, &csv_quote]),
        row(R, "passport", &["import-registrations", X, &csv_passport]),
        row(R, LOOMS.ntn, &["import-registrations", X, &csv_active]),
        row(R, "XX", &["import-registrations", X, &csv_nat]),
        row(R, "header", &["import-registrations", X, &csv_empty]),
        row(R, "line 2", &["import-registrations", X, &csv_huge]),
        row(R, "line 2", &["import-registrations", X, &csv_tab]),
        row(U, "required", &["import-registrations", X]),
        // import
        row(R, "line 1", &["import", &imp_trunc1]),
        row(R, "line 2", &["import", &imp_trunc2]),
        row(R, "line 1", &["import", &imp_pos_gap]),
        row(R, "line 1", &["import", &imp_pos_old]),
        row(R, "line 1", &["import", &imp_pos_str]),
        row(R, "line 1", &["import", &imp_pos_neg]),
        row(R, "line 1", &["import", &imp_version]),
        row(R, "line 1", &["import", &imp_type]),
        row(R, "line 1", &["import", &imp_data]),
        row(R, "space around", &["import", &imp_stream_space]),
        row(R, "stream \"pk-other\"", &["import", &imp_stream_other]),
        row(R, "line 2", &["import", &imp_dup]),
        row(R, "line 1", &["import", &imp_text]),
        row(R, "line 1", &["import", &imp_utf8]),
        row(R, "line 1", &["import", &imp_whole]),
        row(R, "line 1", &["import", &imp_huge]),
        row(U, "required", &["import"]),
    ];
    assert!(rows.len() >= 80, "{} rows", rows.len());

    // when each row runs, then each is refused plainly
    let mut failures = Vec::new();
    for r in &rows {
        let args: Vec<&str> = r.args.iter().map(String::as_str).collect();
        let out = store.expo(&args);
        if let Err(why) = judge(r, &out) {
            failures.push(format!(
                "{:?}\n    {why}\n    exit {}; stderr: {}",
                r.args,
                out.code,
                out.stderr.trim().replace('\n', "\n            ")
            ));
        }
    }
    // and the store is byte for byte what it was
    let after = store.export();
    let unchanged = after == before;
    assert!(
        failures.is_empty() && unchanged,
        "{} of {} rows failed; store unchanged: {unchanged}\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n")
    );
}

/// Why a row's outcome breaks the contract, if it does.
fn judge(r: &Row, out: &Output) -> Result<(), String> {
    for (name, text) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        for bad in ["panicked", "RUST_BACKTRACE"] {
            if text.contains(bad) {
                return Err(format!("{name} contains {bad:?}"));
            }
        }
    }
    if let Some(leak) = debug_leak(&out.stderr) {
        return Err(format!("stderr shows Rust debug output {leak:?}"));
    }
    if !r.exit.allows(out.code) {
        return Err(format!("expected exit {:?}", r.exit));
    }
    let lines = out.stderr.lines().filter(|l| !l.trim().is_empty()).count();
    let most = if out.code == 2 { 30 } else { 8 };
    if lines == 0 || lines > most {
        return Err(format!("stderr has {lines} lines, want 1 to {most}"));
    }
    if !out.stderr.to_lowercase().contains(&r.word.to_lowercase()) {
        return Err(format!("stderr does not mention {:?}", r.word));
    }
    Ok(())
}
