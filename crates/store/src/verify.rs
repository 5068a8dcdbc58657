//! `verify`: one pass over every key, in key order, checking every promise the layout makes.
//!
//! Key order is `C` < `G` < `H` < `I` < `L` < `P` < `Q` < `S` < `V`, so the
//! log is walked before the stream index and the stream heads that must agree
//! with it, and checkpoint metas before their state. Memory is one small entry
//! per stream (a count and an order-sensitive hash of its positions), not per event.

use crate::api::{CompactString, StoreError, VerifyReport};
use crate::codec::{self, CheckpointMeta};
use crate::guard::sled_err;
use crate::store::Inner;
use std::collections::{HashMap, HashSet};

#[derive(Default)]
struct StreamFacts {
    version: u64,
    position: u64,
    hash: u64,
    index_hash: u64,
    index_next: u64,
    index_checked: bool,
    head_checked: bool,
}

fn mix(h: u64, position: u64) -> u64 {
    (h ^ position)
        .wrapping_mul(0x0000_0100_0000_01b3)
        .rotate_left(5)
}

fn bad(position: u64, problem: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        position,
        problem: problem.into(),
    }
}

/// Walks the store (under the write lock) and returns the first problem.
pub(crate) fn verify(inner: &Inner, head: u64) -> Result<VerifyReport, StoreError> {
    let mut streams: HashMap<CompactString, StreamFacts> = HashMap::new();
    let mut next = 1u64;
    let mut log_done = false;
    let mut garbage: HashSet<(String, u64)> = HashSet::new();
    let mut generations: HashMap<String, u64> = HashMap::new();
    let mut checkpoints = 0u64;
    let mut index_stream: Option<String> = None;
    let finish_index = |streams: &mut HashMap<CompactString, StreamFacts>,
                        name: &Option<String>|
     -> Result<(), StoreError> {
        if let Some(name) = name {
            let s = streams.get_mut(name.as_str()).ok_or_else(|| {
                bad(
                    0,
                    format!("stream index of {name}, a stream with no events"),
                )
            })?;
            if s.index_next != s.version + 1 || s.index_hash != s.hash {
                return Err(bad(
                    s.position,
                    format!("stream index of {name} disagrees with the log"),
                ));
            }
            s.index_checked = true;
        }
        Ok(())
    };
    for kv in inner.db.iter() {
        let (k, v) = kv.map_err(sled_err)?;
        let prefix = k.first().copied().unwrap_or(0);
        if prefix > codec::PFX_LOG && !log_done {
            log_done = true;
            if next != head + 1 {
                return Err(bad(
                    next,
                    format!("log ends at {} but the head is {head}", next - 1),
                ));
            }
        }
        if prefix > codec::PFX_INDEX && index_stream.is_some() {
            finish_index(&mut streams, &index_stream)?;
            index_stream = None;
        }
        match prefix {
            codec::PFX_COMMAND => {
                let o = codec::decode_outcome(&v)
                    .map_err(|p| bad(0, format!("idempotency record: {p}")))?;
                if o.last_position > head {
                    return Err(bad(o.last_position, "idempotency record beyond the head"));
                }
            }
            codec::PFX_GARBAGE => {
                let (name, rest) =
                    codec::split_named(&k).ok_or_else(|| bad(0, "bad garbage key"))?;
                let generation = codec::be_u64(rest).ok_or_else(|| bad(0, "bad garbage key"))?;
                garbage.insert((name.to_string(), generation));
            }
            _ if &*k == codec::KEY_HEAD => {
                if codec::be_u64(&v) != Some(head) {
                    return Err(bad(head, "stored head disagrees with the open store"));
                }
            }
            codec::PFX_LOG => {
                let first = codec::log_key_position(&k).ok_or_else(|| bad(next, "bad log key"))?;
                if first > head {
                    return Err(bad(first, "log record beyond the head"));
                }
                if first != next {
                    return Err(bad(
                        next,
                        format!("gap: next record starts at position {first}"),
                    ));
                }
                let (count, body) = codec::open_record(&v).map_err(|p| bad(first, p))?;
                let mut events = Vec::with_capacity(count as usize);
                codec::decode_events(&body, count, first, &mut events)
                    .map_err(|(p, problem)| bad(p, problem))?;
                for e in events {
                    let s = streams.entry(e.stream.clone()).or_default();
                    if e.version != s.version + 1 {
                        return Err(bad(
                            e.position,
                            format!(
                                "stream {} jumps from version {} to {}",
                                e.stream, s.version, e.version
                            ),
                        ));
                    }
                    s.version = e.version;
                    s.position = e.position;
                    s.hash = mix(s.hash, e.position);
                }
                next = first + u64::from(count);
                if next > head + 1 {
                    return Err(bad(head + 1, "log record straddles the head"));
                }
            }
            codec::PFX_CHECKPOINT => {
                let (name, _) =
                    codec::split_named(&k).ok_or_else(|| bad(0, "bad checkpoint key"))?;
                let m = CheckpointMeta::decode(&v)
                    .ok_or_else(|| bad(0, format!("bad checkpoint {name}")))?;
                if m.position > head {
                    return Err(bad(
                        m.position,
                        format!("checkpoint {name} is beyond the head {head}"),
                    ));
                }
                generations.insert(name.to_string(), m.generation);
                checkpoints += 1;
            }
            codec::PFX_STATE => {
                let (name, rest) = codec::split_named(&k).ok_or_else(|| bad(0, "bad state key"))?;
                let generation = codec::be_u64(rest).ok_or_else(|| bad(0, "bad state key"))?;
                let live = generations.get(name) == Some(&generation);
                if !live && !garbage.contains(&(name.to_string(), generation)) {
                    return Err(bad(0, format!("state of checkpoint {name} generation {generation} belongs to no checkpoint")));
                }
                codec::split_state_suffix(&rest[8..])
                    .ok_or_else(|| bad(0, format!("bad state key in checkpoint {name}")))?;
            }
            codec::PFX_INDEX => {
                let (name, rest) = codec::split_named(&k).ok_or_else(|| bad(0, "bad index key"))?;
                let first_version = codec::be_u64(rest)
                    .filter(|_| rest.len() == 8)
                    .ok_or_else(|| bad(0, "bad index key"))?;
                let positions = codec::decode_positions(&v)
                    .map_err(|p| bad(0, format!("index of {name}: {p}")))?;
                if index_stream.as_deref() != Some(name) {
                    finish_index(&mut streams, &index_stream)?;
                    index_stream = Some(name.to_string());
                    let s = streams.get_mut(name).ok_or_else(|| {
                        bad(
                            positions[0],
                            format!("stream index of {name}, a stream with no events"),
                        )
                    })?;
                    s.index_next = 1;
                    s.index_hash = 0;
                }
                let s = streams.get_mut(name).ok_or_else(|| bad(0, "stream map"))?;
                if first_version != s.index_next {
                    return Err(bad(
                        positions[0],
                        format!("stream index of {name} jumps to version {first_version}"),
                    ));
                }
                for p in positions {
                    if p > head {
                        return Err(bad(
                            p,
                            format!("stream index of {name} points beyond the head"),
                        ));
                    }
                    s.index_hash = mix(s.index_hash, p);
                    s.index_next += 1;
                }
            }
            codec::PFX_VERSION => {
                let name =
                    std::str::from_utf8(&k[1..]).map_err(|_| bad(0, "stream name is not UTF-8"))?;
                let (version, position) = codec::read_stream_head(&v)
                    .ok_or_else(|| bad(0, format!("bad head of stream {name}")))?;
                let s = streams.get_mut(name).ok_or_else(|| {
                    bad(
                        position,
                        format!("head of stream {name}, a stream with no events"),
                    )
                })?;
                if (version, position) != (s.version, s.position) {
                    return Err(bad(s.position, format!("head of stream {name} says version {version} at {position}, the log says {} at {}", s.version, s.position)));
                }
                s.head_checked = true;
            }
            _ => {
                return Err(bad(
                    0,
                    format!("stray key {:?}", String::from_utf8_lossy(&k)),
                ))
            }
        }
    }
    if !log_done && next != head + 1 {
        return Err(bad(
            next,
            format!("log ends at {} but the head is {head}", next - 1),
        ));
    }
    finish_index(&mut streams, &index_stream)?;
    for (name, s) in &streams {
        if !s.index_checked {
            return Err(bad(s.position, format!("stream {name} has no index")));
        }
        if !s.head_checked {
            return Err(bad(s.position, format!("stream {name} has no head")));
        }
    }
    Ok(VerifyReport {
        events: head,
        streams: streams.len() as u64,
        checkpoints,
    })
}
