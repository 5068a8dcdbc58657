//! Fuzz target: the JSON Lines import parser (`expo import`'s per-line envelope parser) must refuse bad lines with a reason, never panic.
//!
//! `expo-cli` is a binary only, so its `envelope` module is compiled here from
//! its source file (`#[path]`). Once the CLI has a library target exposing it
//! (see fuzz/README.md), this target should call that instead.
#![no_main]
#![allow(dead_code)]

#[path = "../../crates/cli/src/envelope.rs"]
mod envelope;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // Every line on its own, as `import` reads them.
    for line in text.lines() {
        if let Ok((recorded, _event)) = envelope::parse_line(line) {
            // What was accepted must survive the trip back to a line and in again.
            let again = envelope::to_line(&recorded);
            let (mut back, _) = envelope::parse_line(&again).expect("a written line parses");
            // The data is kept as the text it came in (spacing, key order);
            // written out it is canonical JSON: equal as JSON, not as text.
            let json = |s: &str| serde_json::from_str::<serde_json::Value>(s).expect("stored data is JSON");
            assert_eq!(json(&back.data), json(&recorded.data), "round trip changed the data");
            back.data.clone_from(&recorded.data);
            assert_eq!(back, recorded, "round trip changed the event");
        }
    }
});
