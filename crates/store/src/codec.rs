//! Byte layouts: sled keys, log records (header + compact event envelopes), stream index blocks, and small values.
//!
//! Every decoder here returns `Err(problem)` on bad bytes and never panics:
//! the bytes come from disk and may be damaged.

use crate::api::{AppendOutcome, CompactString, RecordedEvent};
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// Record format version written in every log record's first byte. Format
/// 2 lays events out as format 1 did, but an event's data may be any bytes
/// (format 1 held JSON text): a program that knows only format 1 refuses
/// such a record by its format instead of calling its data damaged.
pub(crate) const RECORD_FORMAT: u8 = 2;
/// The format of records written before event data could be binary; still read.
const RECORD_FORMAT_TEXT: u8 = 1;
/// Flag bit: the body is lz4-compressed (size-prepended).
const FLAG_LZ4: u8 = 1;
/// Header: format (1) + flags (1) + event count (u32 LE) + crc32 of the stored body (u32 LE).
const HEADER_LEN: usize = 10;
/// Bodies at least this long are compressed (when it helps).
const COMPRESS_FROM: usize = 2048;
/// Raw body size at which a record is closed and a new one started. sled
/// writes a whole leaf node (up to 16 keys) as one message, and a message over
/// 128 KiB goes to a blob file; 14 KiB raw (about 6 KiB after lz4) keeps a
/// leaf of 16 records under that, so the log stays in the `db` file. (With
/// 60 KiB records a 1M-event store had ~600 blob files.)
pub(crate) const RECORD_RAW_TARGET: usize = 14 * 1024;
/// Limit on a decompressed body, so a damaged size field cannot ask for gigabytes.
const MAX_RAW_BODY: usize = 64 << 20;
/// Largest event (encoded) the store accepts: one event alone must fit a record under the blob threshold.
pub(crate) const MAX_EVENT_BYTES: usize = 96 * 1024;
/// Checkpoint state values are split into chunks of at most this many bytes.
/// Like records, a leaf of 16 chunks must stay under sled's 128 KiB blob
/// threshold: blob files are never reclaimed by sled 0.34 (32 KiB chunks left
/// tens of thousands of them after a few replays) and the store's promise is
/// that no value lives in one.
pub(crate) const STATE_CHUNK: usize = 6 * 1024;

// ---------------------------------------------------------------- keys

/// `H`: the head, the last committed position (visibility boundary).
pub(crate) const KEY_HEAD: &[u8] = b"H";
/// `I`: an import in progress; value = its first position.
pub(crate) const KEY_IMPORT: &[u8] = b"I";
pub(crate) const PFX_LOG: u8 = b'L';
pub(crate) const PFX_INDEX: u8 = b'S';
pub(crate) const PFX_VERSION: u8 = b'V';
pub(crate) const PFX_COMMAND: u8 = b'C';
pub(crate) const PFX_CHECKPOINT: u8 = b'P';
pub(crate) const PFX_STATE: u8 = b'Q';
pub(crate) const PFX_GARBAGE: u8 = b'G';

/// `L` + first position (u64 BE).
pub(crate) fn log_key(position: u64) -> [u8; 9] {
    let mut k = [0u8; 9];
    k[0] = PFX_LOG;
    k[1..].copy_from_slice(&position.to_be_bytes());
    k
}

/// Reads the position of an `L` key.
pub(crate) fn log_key_position(key: &[u8]) -> Option<u64> {
    if key.len() == 9 && key[0] == PFX_LOG {
        Some(u64::from_be_bytes(key[1..9].try_into().ok()?))
    } else {
        None
    }
}

/// `prefix` + name length (u16 BE) + name: unambiguous for any name.
fn named(prefix: u8, name: &str) -> Result<Vec<u8>, String> {
    let len = u16::try_from(name.len())
        .map_err(|_| format!("name of {} bytes is too long (at most 65535)", name.len()))?;
    let mut k = Vec::with_capacity(3 + name.len() + 8);
    k.push(prefix);
    k.extend_from_slice(&len.to_be_bytes());
    k.extend_from_slice(name.as_bytes());
    Ok(k)
}

/// Splits a `named` key into (name, rest).
pub(crate) fn split_named(key: &[u8]) -> Option<(&str, &[u8])> {
    let len = u16::from_be_bytes(key.get(1..3)?.try_into().ok()?) as usize;
    let name = std::str::from_utf8(key.get(3..3 + len)?).ok()?;
    Some((name, &key[3 + len..]))
}

/// `S` + stream (length-prefixed): the prefix of one stream's index blocks.
pub(crate) fn index_prefix(stream: &str) -> Result<Vec<u8>, String> {
    named(PFX_INDEX, stream)
}

/// `S` + stream + first version (u64 BE).
pub(crate) fn index_key(stream: &str, first_version: u64) -> Result<Vec<u8>, String> {
    let mut k = index_prefix(stream)?;
    k.extend_from_slice(&first_version.to_be_bytes());
    Ok(k)
}

/// `V` + stream: the stream's head (last version, last position).
pub(crate) fn version_key(stream: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + stream.len());
    k.push(PFX_VERSION);
    k.extend_from_slice(stream.as_bytes());
    k
}

/// `C` + command uuid.
pub(crate) fn command_key(id: &Uuid) -> [u8; 17] {
    let mut k = [0u8; 17];
    k[0] = PFX_COMMAND;
    k[1..].copy_from_slice(id.as_bytes());
    k
}

/// `P` + checkpoint name.
pub(crate) fn checkpoint_key(name: &str) -> Result<Vec<u8>, String> {
    named(PFX_CHECKPOINT, name)
}

/// `G` + name + generation: a generation of state that is garbage (or being built).
pub(crate) fn garbage_key(name: &str, generation: u64) -> Result<Vec<u8>, String> {
    let mut k = named(PFX_GARBAGE, name)?;
    k.extend_from_slice(&generation.to_be_bytes());
    Ok(k)
}

/// `Q` + name + generation: the prefix of one generation of a projection's state.
pub(crate) fn state_generation_prefix(name: &str, generation: u64) -> Result<Vec<u8>, String> {
    let mut k = named(PFX_STATE, name)?;
    k.extend_from_slice(&generation.to_be_bytes());
    Ok(k)
}

/// Escapes a state key so that it sorts like the key and can be followed by a terminator:
/// 0x00 becomes 0x00 0xFF; the terminator is 0x00 0x01.
pub(crate) fn escape_into(out: &mut Vec<u8>, key: &[u8]) {
    for &b in key {
        out.push(b);
        if b == 0 {
            out.push(0xFF);
        }
    }
}

/// The prefix of every chunk of one state key.
pub(crate) fn state_key_prefix(name: &str, generation: u64, key: &str) -> Result<Vec<u8>, String> {
    let mut k = state_generation_prefix(name, generation)?;
    escape_into(&mut k, key.as_bytes());
    k.extend_from_slice(&[0, 1]);
    Ok(k)
}

/// Splits the part after a generation prefix into (state key, chunk number).
pub(crate) fn split_state_suffix(rest: &[u8]) -> Option<(String, u32)> {
    let mut key = Vec::with_capacity(rest.len());
    let mut i = 0;
    while i < rest.len() {
        let b = rest[i];
        if b == 0 {
            match rest.get(i + 1)? {
                0xFF => {
                    key.push(0);
                    i += 2;
                }
                1 => {
                    let chunk = u32::from_be_bytes(rest.get(i + 2..i + 6)?.try_into().ok()?);
                    if rest.len() != i + 6 {
                        return None;
                    }
                    return String::from_utf8(key).ok().map(|k| (k, chunk));
                }
                _ => return None,
            }
        } else {
            key.push(b);
            i += 1;
        }
    }
    None
}

// ---------------------------------------------------------------- small values

/// Reads a u64 BE value.
pub(crate) fn be_u64(bytes: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(bytes.get(..8)?.try_into().ok()?))
}

/// `V` value: last version + last position.
pub(crate) fn stream_head_value(version: u64, position: u64) -> [u8; 16] {
    let mut v = [0u8; 16];
    v[..8].copy_from_slice(&version.to_be_bytes());
    v[8..].copy_from_slice(&position.to_be_bytes());
    v
}

/// Reads a `V` value.
pub(crate) fn read_stream_head(bytes: &[u8]) -> Option<(u64, u64)> {
    if bytes.len() != 16 {
        return None;
    }
    Some((be_u64(bytes)?, be_u64(&bytes[8..])?))
}

/// A checkpoint's meta value: position, generation, stamp.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CheckpointMeta {
    pub position: u64,
    pub generation: u64,
    pub stamp: String,
}

impl CheckpointMeta {
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(16 + self.stamp.len());
        v.extend_from_slice(&self.position.to_be_bytes());
        v.extend_from_slice(&self.generation.to_be_bytes());
        v.extend_from_slice(self.stamp.as_bytes());
        v
    }
    pub(crate) fn decode(bytes: &[u8]) -> Option<Self> {
        Some(CheckpointMeta {
            position: be_u64(bytes)?,
            generation: be_u64(bytes.get(8..)?)?,
            stamp: String::from_utf8(bytes.get(16..)?.to_vec()).ok()?,
        })
    }
}

/// Encodes an append outcome for the idempotency record.
pub(crate) fn encode_outcome(o: &AppendOutcome) -> Vec<u8> {
    let mut v = Vec::with_capacity(48 + o.stream.len());
    put_str(&mut v, &o.stream);
    for n in [
        o.first_version,
        o.last_version,
        o.first_position,
        o.last_position,
    ] {
        put_varint(&mut v, n);
    }
    v.push(u8::from(o.checkpoint_applied));
    v
}

/// Decodes an idempotency record.
pub(crate) fn decode_outcome(bytes: &[u8]) -> Result<AppendOutcome, String> {
    let mut r = Reader { b: bytes, i: 0 };
    let stream = r.string()?;
    let first_version = r.varint()?;
    let last_version = r.varint()?;
    let first_position = r.varint()?;
    let last_position = r.varint()?;
    let checkpoint_applied = r.byte()? == 1;
    r.end()?;
    Ok(AppendOutcome {
        stream,
        first_version,
        last_version,
        first_position,
        last_position,
        duplicate: false,
        checkpoint_applied,
    })
}

/// An index block: the positions of a run of consecutive versions of one stream.
pub(crate) fn encode_positions(positions: &[u64]) -> Vec<u8> {
    let mut v = Vec::with_capacity(4 + positions.len() * 2);
    put_varint(&mut v, positions.len() as u64);
    let mut prev = 0;
    for &p in positions {
        put_varint(&mut v, p - prev);
        prev = p;
    }
    v
}

/// Decodes an index block; positions must increase strictly.
pub(crate) fn decode_positions(bytes: &[u8]) -> Result<Vec<u64>, String> {
    let mut r = Reader { b: bytes, i: 0 };
    let n = r.varint()?;
    if n == 0 || n > (bytes.len() as u64) {
        return Err(format!("index block claims {n} positions"));
    }
    let mut out = Vec::with_capacity(n as usize);
    let mut prev = 0u64;
    for _ in 0..n {
        let d = r.varint()?;
        if d == 0 {
            return Err("index block positions do not increase".into());
        }
        prev = prev
            .checked_add(d)
            .ok_or("index block position overflows")?;
        out.push(prev);
    }
    r.end()?;
    Ok(out)
}

/// The first position of an index block, read without decoding it all.
pub(crate) fn first_indexed_position(bytes: &[u8]) -> Option<u64> {
    let mut r = Reader { b: bytes, i: 0 };
    r.varint().ok()?;
    r.varint().ok()
}

// ---------------------------------------------------------------- records

/// The envelope fields of one event, borrowed, for encoding.
pub(crate) struct EventFields<'a> {
    pub stream: &'a str,
    pub version: u64,
    pub id: &'a Uuid,
    pub event_type: &'a str,
    pub schema: u32,
    pub recorded_at: &'a DateTime<Utc>,
    pub command_id: Option<&'a Uuid>,
    pub actor: &'a str,
    pub data: &'a [u8],
}

/// Appends one event's envelope to a record body.
pub(crate) fn encode_event(body: &mut Vec<u8>, e: &EventFields<'_>) {
    put_str(body, e.stream);
    put_varint(body, e.version);
    body.extend_from_slice(e.id.as_bytes());
    put_str(body, e.event_type);
    put_varint(body, u64::from(e.schema));
    body.extend_from_slice(&e.recorded_at.timestamp().to_le_bytes());
    body.extend_from_slice(&e.recorded_at.timestamp_subsec_nanos().to_le_bytes());
    match e.command_id {
        Some(c) => {
            body.push(1);
            body.extend_from_slice(c.as_bytes());
        }
        None => body.push(0),
    }
    put_str(body, e.actor);
    put_bytes(body, e.data);
}

/// Turns a body into a stored record: header, crc, optional lz4.
pub(crate) fn seal_record(body: &[u8], count: u32) -> Vec<u8> {
    let compressed = if body.len() >= COMPRESS_FROM {
        let c = lz4_flex::compress_prepend_size(body);
        (c.len() < body.len()).then_some(c)
    } else {
        None
    };
    let (flags, stored): (u8, &[u8]) = match &compressed {
        Some(c) => (FLAG_LZ4, c),
        None => (0, body),
    };
    let mut out = Vec::with_capacity(HEADER_LEN + stored.len());
    out.push(RECORD_FORMAT);
    out.push(flags);
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(stored).to_le_bytes());
    out.extend_from_slice(stored);
    out
}

/// The event count in a record's header (without checking the body).
pub(crate) fn record_count(value: &[u8]) -> Option<u32> {
    Some(u32::from_le_bytes(value.get(2..6)?.try_into().ok()?))
}

/// Checks a record's header and crc and returns (count, raw body).
pub(crate) fn open_record(value: &[u8]) -> Result<(u32, std::borrow::Cow<'_, [u8]>), String> {
    if value.len() < HEADER_LEN {
        return Err(format!(
            "record of {} bytes is shorter than its header",
            value.len()
        ));
    }
    if value[0] != RECORD_FORMAT && value[0] != RECORD_FORMAT_TEXT {
        return Err(format!("unknown record format {}", value[0]));
    }
    let flags = value[1];
    let count = record_count(value).ok_or("record header")?;
    let crc = u32::from_le_bytes(value[6..10].try_into().map_err(|_| "record header")?);
    let stored = &value[HEADER_LEN..];
    if crc32fast::hash(stored) != crc {
        return Err("record checksum mismatch".into());
    }
    if count == 0 {
        return Err("record holds no events".into());
    }
    match flags {
        0 => Ok((count, std::borrow::Cow::Borrowed(stored))),
        FLAG_LZ4 => {
            let claimed = stored
                .get(..4)
                .and_then(|b| b.try_into().ok())
                .map(u32::from_le_bytes)
                .ok_or("compressed record too short")? as usize;
            if claimed > MAX_RAW_BODY {
                return Err(format!("compressed record claims {claimed} bytes"));
            }
            lz4_flex::decompress_size_prepended(stored)
                .map(|b| (count, std::borrow::Cow::Owned(b)))
                .map_err(|e| format!("record does not decompress: {e}"))
        }
        f => Err(format!("unknown record flags {f:#x}")),
    }
}

/// Decodes every event of a record body; the first has position `first_position`.
pub(crate) fn decode_events(
    body: &[u8],
    count: u32,
    first_position: u64,
    out: &mut Vec<RecordedEvent>,
) -> Result<(), (u64, String)> {
    let mut r = Reader { b: body, i: 0 };
    let mut names = RecordNames::default();
    for n in 0..u64::from(count) {
        let position = first_position + n;
        let ev = decode_one(&mut r, &mut names, position).map_err(|p| (position, p))?;
        out.push(ev);
    }
    r.end()
        .map_err(|p| (first_position + u64::from(count) - 1, p))
}

/// The names read so far from one record body, per field. The events of a
/// record mostly repeat the stream, type and actor of those before them: a
/// name whose bytes were read already is that name again, with no second
/// UTF-8 check (reading names was a twelfth of a replay's instructions).
#[derive(Default)]
struct RecordNames<'a> {
    streams: Recent<'a, 4>,
    types: Recent<'a, 16>,
    actors: Recent<'a, 2>,
}

/// Up to `N` names with the bytes they were read from, the oldest replaced first.
struct Recent<'a, const N: usize> {
    seen: Vec<(&'a [u8], CompactString)>,
    oldest: usize,
}

impl<const N: usize> Default for Recent<'_, N> {
    fn default() -> Self {
        Recent {
            seen: Vec::new(),
            oldest: 0,
        }
    }
}

impl<'a, const N: usize> Recent<'a, N> {
    fn read(&mut self, r: &mut Reader<'a>) -> Result<CompactString, String> {
        let n = usize::try_from(r.varint()?).map_err(|_| "length out of range")?;
        let raw = r.bytes(n)?;
        if let Some((_, name)) = self.seen.iter().find(|(bytes, _)| *bytes == raw) {
            return Ok(name.clone());
        }
        let name = CompactString::new(std::str::from_utf8(raw).map_err(|_| "text is not UTF-8")?);
        if self.seen.len() < N {
            self.seen.push((raw, name.clone()));
        } else {
            self.seen[self.oldest] = (raw, name.clone());
            self.oldest = (self.oldest + 1) % N;
        }
        Ok(name)
    }
}

fn decode_one<'a>(
    r: &mut Reader<'a>,
    names: &mut RecordNames<'a>,
    position: u64,
) -> Result<RecordedEvent, String> {
    let stream = names.streams.read(r)?;
    let version = r.varint()?;
    let id = Uuid::from_bytes(r.array::<16>()?);
    let event_type = names.types.read(r)?;
    let schema = u32::try_from(r.varint()?).map_err(|_| "schema out of range")?;
    let secs = i64::from_le_bytes(r.array::<8>()?);
    let nanos = u32::from_le_bytes(r.array::<4>()?);
    let recorded_at = DateTime::from_timestamp(secs, nanos).ok_or("recorded_at out of range")?;
    let command_id = match r.byte()? {
        0 => None,
        1 => Some(Uuid::from_bytes(r.array::<16>()?)),
        b => return Err(format!("bad command id flag {b}")),
    };
    let actor = names.actors.read(r)?;
    let data = r.byte_vec()?;
    if version == 0 {
        return Err("stream version 0".into());
    }
    Ok(RecordedEvent {
        position,
        stream,
        version,
        id,
        event_type,
        schema,
        recorded_at,
        command_id,
        actor,
        data,
    })
}

fn put_varint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_bytes(out, s.as_bytes());
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_varint(out, b.len() as u64);
    out.extend_from_slice(b);
}

/// A bounds-checked cursor over bytes.
struct Reader<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Reader<'a> {
    fn byte(&mut self) -> Result<u8, String> {
        let b = *self.b.get(self.i).ok_or("truncated")?;
        self.i += 1;
        Ok(b)
    }
    fn varint(&mut self) -> Result<u64, String> {
        let mut n = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            n |= u64::from(b & 0x7F) << shift;
            if b & 0x80 == 0 {
                return Ok(n);
            }
        }
        Err("varint too long".into())
    }
    fn bytes(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self.i.checked_add(n).ok_or("length overflows")?;
        let s = self.b.get(self.i..end).ok_or("truncated")?;
        self.i = end;
        Ok(s)
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], String> {
        self.bytes(N)?
            .try_into()
            .map_err(|_| "truncated".to_string())
    }
    fn string(&mut self) -> Result<String, String> {
        String::from_utf8(self.byte_vec()?).map_err(|_| "text is not UTF-8".to_string())
    }
    fn byte_vec(&mut self) -> Result<Vec<u8>, String> {
        let n = usize::try_from(self.varint()?).map_err(|_| "length out of range")?;
        Ok(self.bytes(n)?.to_vec())
    }
    fn end(&self) -> Result<(), String> {
        if self.i == self.b.len() {
            Ok(())
        } else {
            Err(format!("{} trailing bytes", self.b.len() - self.i))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_keys_round_trip_and_sort_like_their_keys() {
        let keys = ["", "a", "a\0", "a\0b", "ab", "b"];
        let mut encoded: Vec<Vec<u8>> = Vec::new();
        for k in keys {
            let mut e = state_key_prefix("p", 1, k).unwrap();
            e.extend_from_slice(&7u32.to_be_bytes());
            let prefix = state_generation_prefix("p", 1).unwrap();
            assert_eq!(
                split_state_suffix(&e[prefix.len()..]),
                Some((k.to_string(), 7))
            );
            encoded.push(e);
        }
        let mut sorted = encoded.clone();
        sorted.sort();
        assert_eq!(sorted, encoded);
    }

    #[test]
    fn positions_round_trip() {
        let p = vec![3, 4, 90, 1_000_000, 1_000_001];
        assert_eq!(decode_positions(&encode_positions(&p)).unwrap(), p);
        assert!(decode_positions(&[]).is_err());
    }

    /// Given a record holding binary (non-UTF-8) data, when it is read
    /// back as written and as a format-1 record of an older store, then the
    /// data is the same bytes; an unknown format is refused by name.
    #[test]
    fn binary_data_round_trips_and_format_1_records_are_still_read() {
        let id = Uuid::from_u128(7);
        let at = DateTime::from_timestamp(1_750_000_000, 5).unwrap();
        let data: &[u8] = &[0xB1, 0xFF, 0x00, b'{'];
        let mut body = Vec::new();
        encode_event(
            &mut body,
            &EventFields {
                stream: "s",
                version: 1,
                id: &id,
                event_type: "Thing",
                schema: 1,
                recorded_at: &at,
                command_id: None,
                actor: "a",
                data,
            },
        );
        let record = seal_record(&body, 1);
        assert_eq!(record[0], RECORD_FORMAT);
        let mut old = record.clone();
        old[0] = RECORD_FORMAT_TEXT;
        for r in [&record, &old] {
            let (count, body) = open_record(r).unwrap();
            let mut out = Vec::new();
            decode_events(&body, count, 9, &mut out).unwrap();
            assert_eq!(out[0].data, data);
            assert_eq!(out[0].position, 9);
        }
        let mut newer = record;
        newer[0] = 3;
        assert_eq!(open_record(&newer).unwrap_err(), "unknown record format 3");
    }

    #[test]
    fn names_repeated_in_a_record_read_back_as_written() {
        // Given a record of events cycling through more streams, types and
        // actors than are kept per record, names that are prefixes of one
        // another, and a long name (not inline)
        let long = "a-delegation-id-longer-than-twenty-four-bytes";
        let streams = ["s1", "s2", "s", "s10", "t", "u", "v", long];
        let types: Vec<String> = (0..20).map(|i| format!("Type{i}")).collect();
        let actors = ["desk", "desk2", "d\u{e9}sk"];
        let at = DateTime::from_timestamp(1_750_000_000, 5).unwrap();
        let ids: Vec<Uuid> = (0..97u128).map(Uuid::from_u128).collect();
        let mut body = Vec::new();
        for (i, id) in ids.iter().enumerate() {
            encode_event(
                &mut body,
                &EventFields {
                    stream: streams[i * 7 % streams.len()],
                    version: i as u64 + 1,
                    id,
                    event_type: &types[i * 3 % types.len()],
                    schema: 1,
                    recorded_at: &at,
                    command_id: None,
                    actor: actors[i % actors.len()],
                    data: b"{}",
                },
            );
        }
        // When it is read
        let mut out = Vec::new();
        decode_events(&body, 97, 1, &mut out).unwrap();
        // Then every event has the names it was written with
        for (i, e) in out.iter().enumerate() {
            assert_eq!(e.stream, streams[i * 7 % streams.len()], "event {i}");
            assert_eq!(
                e.event_type,
                types[i * 3 % types.len()].as_str(),
                "event {i}"
            );
            assert_eq!(e.actor, actors[i % actors.len()], "event {i}");
        }
        // And a name that is not UTF-8 is refused even after good ones
        let mut bad = body.clone();
        let mut tail = Vec::new();
        encode_event(
            &mut tail,
            &EventFields {
                stream: "s\u{e9}",
                version: 98,
                id: &ids[0],
                event_type: "Type0",
                schema: 1,
                recorded_at: &at,
                command_id: None,
                actor: "desk",
                data: b"{}",
            },
        );
        // "s\u{e9}" is 0x73 0xC3 0xA9: cut its last byte's continuation
        tail[3] = b'x';
        bad.extend_from_slice(&tail);
        let err = decode_events(&bad, 98, 1, &mut Vec::new()).unwrap_err();
        assert_eq!(err, (98, "text is not UTF-8".to_owned()));
    }

    #[test]
    fn damaged_records_are_errors_not_panics() {
        let body = vec![7u8; 5000];
        let rec = seal_record(&body, 1);
        for i in 0..rec.len() {
            let mut bad = rec.clone();
            bad[i] ^= 0x10;
            if let Ok((count, body)) = open_record(&bad) {
                let mut out = Vec::new();
                let _ = decode_events(&body, count, 1, &mut out);
            }
        }
    }
}
