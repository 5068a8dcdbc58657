//! Fuzz target: the store's log-record decoder (header, crc, lz4, compact envelopes) and its small value decoders must never panic.
//!
//! The decoders are crate-private in `expo-store`, so the codec module is
//! compiled here from its source file (`#[path]`), with a shim for the one
//! `crate::api` import it has. Once `expo-store` exposes a decoding entry
//! point (see fuzz/README.md), this target should call that instead.
#![no_main]
#![allow(dead_code)]

/// The shim `codec.rs` imports its types through.
mod api {
    pub use expo_store::{AppendOutcome, RecordedEvent};
}

#[path = "../../crates/store/src/codec.rs"]
mod codec;

use libfuzzer_sys::fuzz_target;

/// Record header layout (mirrors codec.rs: format, flags, count LE, crc32 LE).
const HEADER_LEN: usize = 10;
const FLAG_LZ4: u8 = 1;

fn decode(record: &[u8], first_position: u64) {
    if let Ok((count, body)) = codec::open_record(record) {
        // A damaged count must not make the decoder allocate or loop for ever:
        // it stops at the first event that does not decode.
        let mut out = Vec::new();
        let _ = codec::decode_events(&body, count, first_position, &mut out);
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let count = u32::from(rest.first().copied().unwrap_or(1)) % 64;
    let first_position = 1 + u64::from(rest.get(1).copied().unwrap_or(0));
    match mode % 5 {
        // Raw bytes as a stored value: mostly stopped by the header and crc.
        0 => decode(rest, first_position),
        // A body sealed with a valid header and crc: the event decoder itself.
        1 => {
            let sealed = codec::seal_record(rest, count.max(1));
            decode(&sealed, first_position);
        }
        // A "compressed" body with a valid crc: lz4 and its size prefix.
        2 => {
            let mut v = Vec::with_capacity(HEADER_LEN + rest.len());
            v.push(codec::RECORD_FORMAT);
            v.push(FLAG_LZ4);
            v.extend_from_slice(&count.max(1).to_le_bytes());
            v.extend_from_slice(&crc32fast::hash(rest).to_le_bytes());
            v.extend_from_slice(rest);
            decode(&v, first_position);
        }
        // Well-formed events built from the input: they must decode to what
        // was encoded; then the same body with a few bytes changed must not panic.
        3 => {
            let text = String::from_utf8_lossy(rest);
            let (stream, data) =
                text.split_at(text.char_indices().nth(8).map_or(text.len(), |(i, _)| i));
            let id = uuid::Uuid::from_u128(u128::from(count) * 0x9E37_79B9);
            let at = chrono::DateTime::from_timestamp(i64::from(count) * 86_400 * 31, count)
                .unwrap_or_default();
            let n = 1 + count % 3;
            let mut body = Vec::new();
            for v in 0..u64::from(n) {
                codec::encode_event(
                    &mut body,
                    &codec::EventFields {
                        stream,
                        version: v + 1,
                        id: &id,
                        event_type: "CompanyRegistered",
                        schema: count,
                        recorded_at: &at,
                        command_id: (count % 2 == 0).then_some(&id),
                        actor: stream,
                        data,
                    },
                );
            }
            let sealed = codec::seal_record(&body, n);
            let (c, opened) = codec::open_record(&sealed).expect("a sealed record opens");
            let mut out = Vec::new();
            codec::decode_events(&opened, c, first_position, &mut out)
                .expect("encoded events decode");
            assert_eq!(out.len(), n as usize);
            for (k, e) in out.iter().enumerate() {
                assert_eq!(e.position, first_position + k as u64);
                assert_eq!(
                    (e.stream.as_str(), e.data.as_str(), e.schema),
                    (stream, data, count)
                );
                assert_eq!(e.recorded_at, at);
            }
            // Damage: each input byte past the first two moves a byte of the body.
            let mut bad = body.clone();
            for (k, b) in rest.iter().enumerate().skip(2).take(4) {
                if !bad.is_empty() {
                    let i = (usize::from(*b) * 31 + k * 7) % bad.len();
                    bad[i] ^= b | 1;
                }
            }
            decode(&codec::seal_record(&bad, n), first_position);
        }
        // The small values: outcomes, index blocks, checkpoints, heads, keys.
        _ => {
            let _ = codec::decode_outcome(rest);
            let _ = codec::decode_positions(rest);
            let _ = codec::first_indexed_position(rest);
            let _ = codec::CheckpointMeta::decode(rest);
            let _ = codec::read_stream_head(rest);
            let _ = codec::split_state_suffix(rest);
            let _ = codec::log_key_position(rest);
            let _ = codec::split_named(rest);
            let _ = codec::record_count(rest);
        }
    }
});
