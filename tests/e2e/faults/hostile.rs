//! Hostile input: random and mutated bytes fed to the JSON Lines import and the registrations CSV through the binary; refused plainly, never a panic, never half written.

use super::rig::{
    assert_clean, copy_dir, create_delegation, registrations_csv, Expo, Rng, Scratch,
};
use crate::harness::slow_tests;
use std::time::Instant;

/// Cases per parser: (default, slow).
const CASES: (usize, usize) = (50, 600);

fn cases() -> usize {
    if slow_tests() {
        CASES.1
    } else {
        CASES.0
    }
}

/// Values that have broken parsers before: wrong types, extremes, odd text.
const NASTY: &[&str] = &[
    "null",
    "true",
    "-1",
    "0",
    "1e400",
    "18446744073709551616",
    "18446744073709551615",
    "9223372036854775808",
    "-9223372036854775809",
    "1.5",
    "\"\"",
    "\"\\u0000\"",
    "\"\\ud800\"",
    "[]",
    "{}",
    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
    "\"2025-13-45T99:99:99Z\"",
    "\"not-a-uuid\"",
    "\"00000000-0000-0000-0000-000000000000\"",
    "\"DelegationCreated\"",
    "\"CompanyRegistered\"",
    "\"NoSuchEvent\"",
    "\"\u{202e}evil\"",
];

/// Mutates one line of JSON text.
fn mutate_line(rng: &mut Rng, line: &str) -> String {
    let mut v: serde_json::Value = match serde_json::from_str(line) {
        Ok(v) => v,
        Err(_) => return line.to_owned(),
    };
    match rng.below(5) {
        0 => {
            // A field replaced with something nasty.
            if let Some(o) = v.as_object_mut() {
                let keys: Vec<String> = o.keys().cloned().collect();
                let k = &keys[rng.index(keys.len())];
                let nasty = NASTY[rng.index(NASTY.len())];
                o.insert(
                    k.clone(),
                    serde_json::from_str(nasty).unwrap_or(serde_json::Value::Null),
                );
            }
            v.to_string()
        }
        1 => {
            // A field of the event's data replaced or removed.
            if let Some(d) = v.get_mut("data").and_then(|d| d.as_object_mut()) {
                let keys: Vec<String> = d.keys().cloned().collect();
                if !keys.is_empty() {
                    let k = keys[rng.index(keys.len())].clone();
                    if rng.chance(1, 2) {
                        d.remove(&k);
                    } else {
                        let nasty = NASTY[rng.index(NASTY.len())];
                        d.insert(
                            k,
                            serde_json::from_str(nasty).unwrap_or(serde_json::Value::Null),
                        );
                    }
                }
            }
            v.to_string()
        }
        2 => {
            // A field removed from the envelope.
            if let Some(o) = v.as_object_mut() {
                let keys: Vec<String> = o.keys().cloned().collect();
                let k = keys[rng.index(keys.len())].clone();
                o.remove(&k);
            }
            v.to_string()
        }
        3 => {
            // Raw byte damage to the text.
            let mut b = line.as_bytes().to_vec();
            for _ in 0..1 + rng.index(4) {
                let i = rng.index(b.len());
                b[i] = rng.next_u64() as u8;
            }
            String::from_utf8_lossy(&b).into_owned()
        }
        _ => {
            // Cut short.
            let cut = rng.index(line.len());
            let mut c = cut;
            while !line.is_char_boundary(c) {
                c -= 1;
            }
            line[..c].to_owned()
        }
    }
}

/// Builds a hostile export file from a valid one.
fn hostile_export(rng: &mut Rng, valid: &str) -> Vec<u8> {
    let mut lines: Vec<String> = valid.lines().map(str::to_owned).collect();
    match rng.below(8) {
        0 => {
            let k = rng_len(rng);
            rng.bytes(k)
        }
        1 => {
            // Lines swapped: positions out of order.
            let (a, b) = (rng.index(lines.len()), rng.index(lines.len()));
            lines.swap(a, b);
            join(&lines)
        }
        2 => {
            // A line repeated.
            let a = rng.index(lines.len());
            let dup = lines[a].clone();
            lines.insert(a, dup);
            join(&lines)
        }
        3 => {
            // A line dropped: a gap.
            let a = rng.index(lines.len());
            lines.remove(a);
            join(&lines)
        }
        4 => {
            // A very long line, and blank ones.
            let a = rng.index(lines.len());
            lines.insert(a, "x".repeat(2 << 20));
            lines.insert(a, String::new());
            join(&lines)
        }
        _ => {
            for _ in 0..1 + rng.index(3) {
                let a = rng.index(lines.len());
                lines[a] = mutate_line(rng, &lines[a]);
            }
            let mut out = join(&lines);
            if rng.chance(1, 4) {
                out = String::from_utf8_lossy(&out)
                    .replace('\n', "\r\n")
                    .into_bytes();
            }
            out
        }
    }
}

fn rng_len(rng: &mut Rng) -> usize {
    rng.index(4096)
}

fn join(lines: &[String]) -> Vec<u8> {
    let mut s = lines.join("\n");
    s.push('\n');
    s.into_bytes()
}

/// Random and mutated exports given to `expo import`: exit 0 (and the store is sound and readable) or exit 1 naming a line (and nothing written); never a panic.
#[test]
fn hostile_import_files_are_refused_plainly_or_imported_whole() {
    let mut rng = Rng::for_campaign("hostile-import");
    let started = Instant::now();
    let n = cases();
    let scratch = Scratch::new("hostile-import");
    let source = Expo::at(scratch.path("source"));
    source.ok(
        "seed",
        &[
            "seed",
            "--delegations",
            "2",
            "--companies",
            "4",
            "--delegates",
            "2",
            "--seed",
            "5",
        ],
    );
    let valid = String::from_utf8(source.export("source")).unwrap();
    let (mut refused, mut accepted) = (0, 0);
    for case in 0..n {
        let bytes = hostile_export(&mut rng, &valid);
        let file = scratch.file("hostile.jsonl", &bytes);
        let store = Expo::at(scratch.path(&format!("case-{case}")));
        let args = ["import", file.to_str().unwrap()];
        let out = store.run(&args);
        let ctx = format!(
            "hostile import case {case} (file kept at {})",
            file.display()
        );
        assert_clean(&ctx, &args, &out);
        match out.code {
            1 => {
                refused += 1;
                assert!(
                    out.stderr.contains("line"),
                    "{ctx}: the refusal names no line: {}",
                    out.stderr
                );
                assert!(
                    !store.data.join("db").exists() || store.events(&ctx).is_empty(),
                    "{ctx}: a refused import wrote events"
                );
            }
            0 => {
                accepted += 1;
                store.verify(&ctx);
                let events = store.events(&ctx);
                let list = store.json(&ctx, &["delegation", "list", "--json"]);
                for d in list["delegations"].as_array().unwrap() {
                    store.ok(
                        &ctx,
                        &["roster", d["id"].as_str().unwrap(), "--format", "json"],
                    );
                }
                assert!(
                    !events.is_empty() || bytes.iter().all(u8::is_ascii_whitespace),
                    "{ctx}: accepted, but nothing is there"
                );
            }
            c => panic!("{ctx}: import exited {c} (want 0 or 1): {}", out.stderr),
        }
        let _ = std::fs::remove_dir_all(&store.data);
    }
    eprintln!(
        "faults/hostile-import: {n} files: {refused} refused, {accepted} accepted whole; {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

/// Mutates a registrations CSV.
fn hostile_csv(rng: &mut Rng, valid: &str) -> Vec<u8> {
    let mut lines: Vec<String> = valid.lines().map(str::to_owned).collect();
    match rng.below(7) {
        0 => {
            let k = rng_len(rng);
            rng.bytes(k)
        }
        1 => {
            // Raw byte damage.
            let mut b = valid.as_bytes().to_vec();
            for _ in 0..1 + rng.index(8) {
                let i = rng.index(b.len());
                b[i] = rng.next_u64() as u8;
            }
            b
        }
        2 => {
            // A field replaced with something odd.
            let odd = [
                "",
                "\"",
                "\"\"\"",
                "\"a,b\"",
                "\u{0}",
                "\u{feff}ntn",
                "9999999999999999999999",
                "-1",
                "2025-02-30",
                "0000-00-00",
                "ab",
                "\u{202e}x",
                "a\nb",
                " ",
                "PK,PK",
            ];
            let a = 1 + rng.index(lines.len() - 1);
            let mut fields: Vec<String> = lines[a].split(',').map(str::to_owned).collect();
            let f = rng.index(fields.len());
            fields[f] = odd[rng.index(odd.len())].to_owned();
            lines[a] = fields.join(",");
            join(&lines)
        }
        3 => {
            // Too few or too many columns.
            let a = rng.index(lines.len());
            if rng.chance(1, 2) {
                lines[a].push_str(",extra");
            } else if let Some(p) = lines[a].rfind(',') {
                lines[a].truncate(p);
            }
            join(&lines)
        }
        4 => {
            // A huge field.
            let a = 1 + rng.index(lines.len() - 1);
            lines[a] = lines[a].replacen(',', &format!(",{},", "Z".repeat(200_000)), 1);
            join(&lines)
        }
        5 => {
            // Rows repeated (the same delegate twice).
            let a = 1 + rng.index(lines.len() - 1);
            let dup = lines[a].clone();
            lines.push(dup);
            join(&lines)
        }
        _ => {
            // Header damaged.
            lines[0] = mutate_header(rng, &lines[0]);
            join(&lines)
        }
    }
}

fn mutate_header(rng: &mut Rng, h: &str) -> String {
    let mut cols: Vec<&str> = h.split(',').collect();
    match rng.below(3) {
        0 => {
            let (a, b) = (rng.index(cols.len()), rng.index(cols.len()));
            cols.swap(a, b);
        }
        1 => {
            cols.remove(rng.index(cols.len()));
        }
        _ => cols.push("surprise"),
    }
    cols.join(",")
}

/// Random and mutated CSVs given to `expo import-registrations`: exit 0 (sound store) or 1 (nothing written); never a panic.
#[test]
fn hostile_registration_csvs_are_refused_plainly_or_recorded_whole() {
    let mut rng = Rng::for_campaign("hostile-csv");
    let started = Instant::now();
    let n = cases();
    let scratch = Scratch::new("hostile-csv");
    let base = Expo::at(scratch.path("base"));
    let d = "pk-hostile-csv";
    create_delegation(&base, d);
    let before = base.events("base").len();
    let valid = registrations_csv(0, 4, 2);
    let (mut refused, mut accepted) = (0, 0);
    for case in 0..n {
        let bytes = hostile_csv(&mut rng, &valid);
        let file = scratch.file("hostile.csv", &bytes);
        let store = Expo::at(scratch.path(&format!("case-{case}")));
        copy_dir(&base.data, &store.data);
        let skip = rng.chance(1, 3);
        let mut args = vec!["import-registrations", d, file.to_str().unwrap()];
        if skip {
            args.push("--skip-invalid");
        }
        let out = store.run(&args);
        let ctx = format!("hostile csv case {case} (file kept at {})", file.display());
        assert_clean(&ctx, &args, &out);
        let after = store.events(&ctx).len();
        match out.code {
            1 => {
                refused += 1;
                assert_eq!(
                    after, before,
                    "{ctx}: a refused import wrote events: {}",
                    out.stderr
                );
            }
            0 => {
                accepted += 1;
                assert!(after > before, "{ctx}: accepted, but nothing was written");
                store.verify(&ctx);
                store.ok(&ctx, &["roster", d, "--format", "json"]);
            }
            c => panic!(
                "{ctx}: import-registrations exited {c} (want 0 or 1): {}",
                out.stderr
            ),
        }
        let _ = std::fs::remove_dir_all(&store.data);
    }
    eprintln!(
        "faults/hostile-csv: {n} files: {refused} refused, {accepted} accepted; {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
