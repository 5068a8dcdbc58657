//! Event envelopes as JSON (export lines, `events` output, `--json` results) and back, and the conversions between stored and domain events.

use chrono::{DateTime, SecondsFormat, Utc};
use expo_domain::Event;
use expo_store::{NewEvent, RecordedEvent, StoreError};
use serde_json::{Map, Value};
use uuid::Uuid;

/// The longest JSON line `import` reads: far above any real event (values are
/// at most a few hundred characters), low enough to refuse a runaway file.
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// An envelope's fields as they are written out: the fields the contract
/// lists, named in sorted order (the order a JSON map writes them in, which
/// exports have always had).
#[derive(serde::Serialize)]
struct Envelope<'a> {
    actor: &'a str,
    command_id: Option<String>,
    data: Value,
    id: String,
    position: u64,
    recorded_at: String,
    schema: u32,
    stream: &'a str,
    #[serde(rename = "type")]
    event_type: &'a str,
    version: u64,
}

impl<'a> Envelope<'a> {
    fn of(e: &'a RecordedEvent) -> Self {
        Envelope {
            actor: &e.actor,
            command_id: e.command_id.map(|c| c.to_string()),
            data: data_json(e),
            id: e.id.to_string(),
            position: e.position,
            recorded_at: format_time(e.recorded_at),
            schema: e.schema,
            stream: &e.stream,
            event_type: &e.event_type,
            version: e.version,
        }
    }
}

/// The envelope of a stored event as JSON, with the fields the contract lists.
pub fn to_json(e: &RecordedEvent) -> Value {
    serde_json::to_value(Envelope::of(e))
        .expect("an envelope is text, numbers and a JSON value, which always serialise")
}

/// A stored event's data as JSON: the binary form decoded and written out
/// as the event's fields, JSON text parsed. Data that does not decode is
/// shown as text rather than dropped (verify reports it properly).
fn data_json(e: &RecordedEvent) -> Value {
    let decoded = if expo_domain::binary::is_binary(&e.data) {
        Event::from_binary(&e.event_type, e.schema, &e.data)
            .ok()
            .map(|event| event.data_json())
    } else {
        serde_json::from_slice::<Value>(&e.data).ok()
    };
    decoded.unwrap_or_else(|| Value::String(String::from_utf8_lossy(&e.data).into_owned()))
}

/// One JSON line for an envelope: the text of [`to_json`], written
/// straight from the event (an export spent most of its time building and
/// writing out a JSON tree for every envelope; only the data is a tree now).
pub fn to_line(e: &RecordedEvent) -> String {
    serde_json::to_string(&Envelope::of(e))
        .expect("an envelope is text, numbers and a JSON value, which always serialise")
}

/// RFC 3339 in UTC with as many fraction digits as needed, so a time read
/// back from an export is the same time.
pub fn format_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// An RFC 3339 time, as chrono reads it. The form [`format_time`] writes
/// (`YYYY-MM-DDTHH:MM:SS`, up to nine digits of fraction, `Z`) is read
/// without chrono's general parser, which was ~1.7 % of an import's
/// instructions (callgrind); any other text is chrono's to judge.
pub fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    utc_time(text).or_else(|| {
        DateTime::parse_from_rfc3339(text)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    })
}

/// [`parse_time`] of the form [`format_time`] writes, if `text` has it
/// and names a moment (no leap second: chrono's to read).
fn utc_time(text: &str) -> Option<DateTime<Utc>> {
    let b = text.as_bytes();
    let rest = b.get(19..)?.strip_suffix(b"Z")?;
    let number = expo_domain::values::ascii_number;
    let shaped = [(10, b'T'), (13, b':'), (16, b':')]
        .iter()
        .all(|&(i, c)| b[i] == c);
    if !shaped {
        return None;
    }
    let nanos = match rest {
        [] => 0,
        [b'.', fraction @ ..] if (1..=9).contains(&fraction.len()) => {
            number(fraction)? * 10u32.pow(9 - fraction.len() as u32)
        }
        _ => return None,
    };
    let date = expo_domain::values::plain_date(text.get(..10)?)?;
    let (hour, minute, second) = (
        number(&b[11..13])?,
        number(&b[14..16])?,
        number(&b[17..19])?,
    );
    if second > 59 {
        return None;
    }
    Some(
        date.and_hms_nano_opt(hour, minute, second, nanos)?
            .and_utc(),
    )
}

/// The present moment, to microseconds (the one clock read of a command).
pub fn now() -> DateTime<Utc> {
    let t = DateTime::<Utc>::from(std::time::SystemTime::now());
    let micros = t.timestamp_micros();
    DateTime::<Utc>::from_timestamp_micros(micros).unwrap_or(t)
}

/// A domain event made ready to append: a fresh UUID v7, type, schema, and
/// its data in the binary form.
pub fn new_event(e: &Event) -> NewEvent {
    NewEvent {
        id: Uuid::now_v7(),
        event_type: e.type_name().to_owned(),
        schema: e.schema(),
        data: e.to_binary(),
    }
}

/// The data to store for `event`, read from an export line whose type has
/// schema `schema`: the binary form when that is the current schema (what a
/// command would have written), else the line's JSON text, which the store
/// keeps as it was and upcasts when read.
fn stored_data(event: &Event, schema: u32, json: impl FnOnce() -> String) -> Vec<u8> {
    if schema == event.schema() {
        event.to_binary()
    } else {
        json().into_bytes()
    }
}

/// Decodes a stored event into the domain's event.
pub fn decode(e: &RecordedEvent) -> Result<Event, StoreError> {
    decode_parts(&e.event_type, e.schema, &e.data).map_err(|problem| StoreError::Corrupt {
        position: e.position,
        problem,
    })
}

/// Decodes an event from its type, schema and stored data: the binary form
/// (only ever of the current schema), or JSON text.
fn decode_parts(event_type: &str, schema: u32, data: &[u8]) -> Result<Event, String> {
    if expo_domain::binary::is_binary(data) {
        return Event::from_binary(event_type, schema, data).map_err(|err| err.to_string());
    }
    let data = std::str::from_utf8(data).map_err(|_| "event data is not UTF-8 text".to_owned())?;
    decode_text(event_type, schema, data)
}

/// Decodes an event from its type, schema and data text. A current schema
/// (the common case: the store upcasts on read) is parsed straight from the
/// text, without building a JSON tree first.
fn decode_text(event_type: &str, schema: u32, data: &str) -> Result<Event, String> {
    if expo_domain::event::schema_of(event_type) == Some(schema) {
        return tagged::decode(event_type, data)
            .map_err(|err| format!("event {event_type} has bad data: {err}"));
    }
    let value: Value =
        serde_json::from_str(data).map_err(|err| format!("event data is not JSON: {err}"))?;
    Event::from_parts(event_type, schema, value).map_err(|err| err.to_string())
}

/// [`decode_parts`] for data already parsed (an export line's): decoded
/// from the tree, not written out and parsed again.
fn decode_value(event_type: &str, schema: u32, data: &Value) -> Result<Event, String> {
    if expo_domain::event::schema_of(event_type) == Some(schema) {
        return tagged::decode_value(event_type, data)
            .map_err(|err| format!("event {event_type} has bad data: {err}"));
    }
    Event::from_parts(event_type, schema, data.clone()).map_err(|err| err.to_string())
}

/// A stored event and its decoded domain event as the projection takes it.
pub fn recorded_with(e: &RecordedEvent, event: Event) -> expo_projection::Recorded {
    expo_projection::Recorded {
        position: e.position,
        stream: e.stream.clone(),
        version: e.version,
        recorded_at: e.recorded_at,
        event,
    }
}

/// The projection's view of a stored event, taking it apart (no copies).
pub fn into_recorded(e: RecordedEvent) -> Result<expo_projection::Recorded, StoreError> {
    let event = decode(&e)?;
    Ok(expo_projection::Recorded {
        position: e.position,
        stream: e.stream,
        version: e.version,
        recorded_at: e.recorded_at,
        event,
    })
}

/// The projection's view of a stored event.
pub fn recorded(e: &RecordedEvent) -> Result<expo_projection::Recorded, StoreError> {
    Ok(recorded_with(e, decode(e)?))
}

/// Parses one export line into a stored event and its domain event,
/// checking everything the store cannot: the fields, the event type and
/// schema, and the data.
///
/// A well-formed line takes the fast path: one typed pass over the text,
/// strings borrowed, the data kept as the text it was (an import of the 1M
/// export spent most of its time building and freeing JSON trees). Any
/// line the fast path does not accept goes through the tree-based parse,
/// which accepts exactly the same lines and names the problem.
pub fn parse_line(line: &str) -> Result<(RecordedEvent, Event), String> {
    if line.len() > MAX_LINE_BYTES {
        return Err(format!("line is longer than {MAX_LINE_BYTES} bytes"));
    }
    fast::parse_line(line).map_or_else(|| parse_line_tree(line), Ok)
}

/// The rule [`in_its_stream`] and `verify` hold a log to, as they word it.
pub const STREAM_RULE: &str = "a delegation's events belong in the stream of its id";

/// A delegation's events are in the stream named by its id: a creation
/// naming another delegation than its stream would leave a delegation that
/// is listed under one id and found under another.
fn in_its_stream(recorded: &RecordedEvent, event: &Event) -> Result<(), String> {
    match event {
        Event::DelegationCreated { id, .. } if id.as_str() != recorded.stream.as_str() => {
            Err(format!(
                "the DelegationCreated of delegation {id} is in stream {:?}: {STREAM_RULE}",
                recorded.stream.as_str()
            ))
        }
        _ => Ok(()),
    }
}

/// [`parse_line`] through a JSON tree: slower, and the source of every
/// error message.
fn parse_line_tree(line: &str) -> Result<(RecordedEvent, Event), String> {
    let v: Value = serde_json::from_str(line).map_err(|e| {
        if e.is_eof() {
            "truncated JSON".to_owned()
        } else {
            format!("not valid JSON: {e}")
        }
    })?;
    let Value::Object(o) = v else {
        return Err("not a JSON object".to_owned());
    };
    let command_id = match o.get("command_id") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.as_str()),
        Some(_) => return Err("field \"command_id\" must be a UUID or null".to_owned()),
    };
    let fields = Fields {
        position: field_u64(&o, "position")?,
        version: field_u64(&o, "version")?,
        stream: field_str(&o, "stream")?,
        event_type: field_str(&o, "type")?,
        schema: field_u64(&o, "schema")?,
        id: field_str(&o, "id")?,
        recorded_at: field_str(&o, "recorded_at")?,
        command_id,
        actor: field_str(&o, "actor")?,
    };
    let data = match o.get("data") {
        Some(d @ Value::Object(_)) => d,
        _ => return Err("field \"data\" must be a JSON object".to_owned()),
    };
    let mut recorded = fields.check(Vec::new())?;
    // The whole event must decode now, so the store never holds what it
    // could not read back (unknown type, unknown schema, bad field).
    let event = decode_value(&recorded.event_type, recorded.schema, data)?;
    in_its_stream(&recorded, &event)?;
    recorded.data = stored_data(&event, recorded.schema, || data.to_string());
    Ok((recorded, event))
}

/// An export line's envelope fields as read, before they are checked; both
/// ways of reading a line end in [`Fields::check`].
struct Fields<'a> {
    position: u64,
    version: u64,
    stream: &'a str,
    event_type: &'a str,
    schema: u64,
    id: &'a str,
    recorded_at: &'a str,
    command_id: Option<&'a str>,
    actor: &'a str,
}

impl Fields<'_> {
    /// Checks every field and builds the stored event around `data` (the
    /// callers put the data in once the event has decoded).
    fn check(self, data: Vec<u8>) -> Result<RecordedEvent, String> {
        if self.position == 0 || self.version == 0 {
            return Err("position and version start at 1".to_owned());
        }
        let id = expo_domain::values::DelegationId::parse(self.stream)
            .map_err(|e| format!("field \"stream\": {e}"))?;
        // The id as written: the stream's name is the delegation's id.
        if id.as_str() != self.stream {
            return Err(format!(
                "field \"stream\" {:?} has space around the delegation id",
                self.stream
            ));
        }
        let schema =
            u32::try_from(self.schema).map_err(|_| "field \"schema\" is too large".to_owned())?;
        let id = Uuid::parse_str(self.id).map_err(|_| "field \"id\" is not a UUID".to_owned())?;
        let recorded_at = parse_time(self.recorded_at)
            .ok_or_else(|| "field \"recorded_at\" is not an RFC 3339 time".to_owned())?;
        let command_id = self
            .command_id
            .map(|c| {
                Uuid::parse_str(c).map_err(|_| "field \"command_id\" is not a UUID".to_owned())
            })
            .transpose()?;
        Ok(RecordedEvent {
            position: self.position,
            stream: self.stream.into(),
            version: self.version,
            id,
            event_type: self.event_type.into(),
            schema,
            recorded_at,
            command_id,
            actor: self.actor.into(),
            data,
        })
    }
}

/// The typed fast path of [`parse_line`]: `None` means "not sure", never
/// "wrong": the caller then parses the line the careful way.
mod fast {
    use super::{decode_text, stored_data, Fields, RecordedEvent};
    use expo_domain::Event;
    use serde::de::{DeserializeSeed, Deserializer, Error as _, IgnoredAny, MapAccess, Visitor};
    use serde::Deserialize;
    use serde_json::value::RawValue;
    use std::borrow::Cow;
    use std::marker::PhantomData;

    pub(super) fn parse_line(line: &str) -> Option<(RecordedEvent, Event)> {
        one_pass(line).or_else(|| two_pass(line))
    }

    /// The line in two passes: the envelope with its data delimited as raw
    /// text, then the data decoded by its type (in an export line `data`
    /// comes before `type`, so the first pass cannot know how to read it).
    fn two_pass(line: &str) -> Option<(RecordedEvent, Event)> {
        let (head, data) = read_line(line, PhantomData::<&RawValue>)?;
        let data = data.get();
        if !data.starts_with('{') {
            return None;
        }
        let mut recorded = head.check()?;
        let event = decode_text(&recorded.event_type, recorded.schema, data).ok()?;
        super::in_its_stream(&recorded, &event).ok()?;
        recorded.data = stored_data(&event, recorded.schema, || data.to_owned());
        Some((recorded, event))
    }

    /// The line in one pass, its data decoded where it stands as the type
    /// the line ends with. That type is a guess, read from the text before
    /// the line is parsed (the last `"type":"…"` near its end, which in an
    /// export line is the envelope's): the parse then reads the envelope's real
    /// `type` and `schema`, and the result is kept only if they are the
    /// guessed type and its current schema. Anything else (another key
    /// order, an older schema, data that is not of that type) is left to
    /// [`two_pass`]. The delimiting pass over every event's data was a
    /// tenth of the reading thread of an import.
    pub(super) fn one_pass(line: &str) -> Option<(RecordedEvent, Event)> {
        let (guess, seen_schema) = guess(line)?;
        let schema = expo_domain::event::schema_of(guess)?;
        // An older schema's line would be parsed whole only to be declined
        // and parsed again: seen near the end, it goes straight to two_pass.
        if seen_schema.is_some_and(|s| s != u64::from(schema)) {
            return None;
        }
        let (head, event) = read_line(line, DataOf(guess))?;
        if head.event_type != guess || head.schema != u64::from(schema) {
            return None;
        }
        let mut recorded = head.check()?;
        super::in_its_stream(&recorded, &event).ok()?;
        recorded.data = event.to_binary();
        Some((recorded, event))
    }

    /// How far from the line's end the envelope's type and schema are
    /// looked for: an export line ends with
    /// `"schema":N,"stream":"…","type":"…","version":N}`.
    const GUESS_WITHIN: usize = 256;

    /// The text of the last `"type":"…"` near the end of the line, if it has
    /// no escapes, and the number of the last `"schema":N` before it there,
    /// if any: one pass over the colons from the end (a reverse substring
    /// search per line cost 5 % of an import's instructions).
    pub(super) fn guess(line: &str) -> Option<(&str, Option<u64>)> {
        let bytes = line.as_bytes();
        let from = bytes.len().saturating_sub(GUESS_WITHIN);
        let mut colons = memchr::memrchr_iter(b':', &bytes[from..]).map(|i| from + i);
        let colon = colons
            .by_ref()
            .find(|&i| bytes[..i].ends_with(br#""type""#) && bytes.get(i + 1) == Some(&b'"'))?;
        let start = colon + 2;
        let len = memchr::memchr(b'"', &bytes[start..])?;
        let event_type = line.get(start..start + len)?;
        if event_type.contains('\\') {
            return None;
        }
        let schema = colons
            .find(|&i| bytes[..i].ends_with(br#""schema""#))
            .and_then(|colon| {
                let digits = bytes[colon + 1..]
                    .iter()
                    .take_while(|b| b.is_ascii_digit())
                    .count();
                line.get(colon + 1..colon + 1 + digits)?.parse().ok()
            });
        Some((event_type, schema))
    }

    /// A string of the envelope, borrowed from the line unless it holds escapes.
    #[derive(Deserialize)]
    struct Str<'a>(#[serde(borrow)] Cow<'a, str>);

    /// The envelope's keys; any other is skipped.
    #[derive(Deserialize)]
    #[serde(field_identifier, rename_all = "snake_case")]
    enum Key {
        Position,
        Stream,
        Version,
        Type,
        Schema,
        Id,
        RecordedAt,
        CommandId,
        Actor,
        Data,
        #[serde(other)]
        Other,
    }

    /// An export line's envelope fields as read, strings borrowed unless
    /// they hold escapes.
    struct Head<'a> {
        position: u64,
        stream: Cow<'a, str>,
        version: u64,
        event_type: Cow<'a, str>,
        schema: u64,
        id: Cow<'a, str>,
        recorded_at: Cow<'a, str>,
        command_id: Option<Cow<'a, str>>,
        actor: Cow<'a, str>,
    }

    impl Head<'_> {
        /// The stored event these fields make, its data still empty, if
        /// every field is sound.
        fn check(&self) -> Option<RecordedEvent> {
            Fields {
                position: self.position,
                version: self.version,
                stream: &self.stream,
                event_type: &self.event_type,
                schema: self.schema,
                id: &self.id,
                recorded_at: &self.recorded_at,
                command_id: self.command_id.as_deref(),
                actor: &self.actor,
            }
            .check(Vec::new())
            .ok()
        }
    }

    /// The whole line as one JSON object (nothing but space after it): its
    /// envelope, and its `data` as `data` reads it.
    fn read_line<'a, S: DeserializeSeed<'a>>(
        line: &'a str,
        data: S,
    ) -> Option<(Head<'a>, S::Value)> {
        let mut de = serde_json::Deserializer::from_str(line);
        let read = de.deserialize_map(LineVisitor { data }).ok()?;
        de.end().ok()?;
        Some(read)
    }

    struct LineVisitor<S> {
        data: S,
    }

    /// Sets a field read from the line; a key seen twice is an error.
    fn once<T, E: serde::de::Error>(
        slot: &mut Option<T>,
        value: T,
        name: &'static str,
    ) -> Result<(), E> {
        if slot.replace(value).is_some() {
            return Err(E::duplicate_field(name));
        }
        Ok(())
    }

    impl<'de, S: DeserializeSeed<'de>> Visitor<'de> for LineVisitor<S> {
        type Value = (Head<'de>, S::Value);

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an event envelope")
        }

        fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
            let (mut position, mut stream, mut version, mut event_type, mut schema) =
                (None, None, None, None, None);
            let (mut id, mut recorded_at, mut command_id, mut actor) = (None, None, None, None);
            let (mut seed, mut data) = (Some(self.data), None);
            while let Some(key) = map.next_key::<Key>()? {
                match key {
                    Key::Position => once(&mut position, map.next_value::<u64>()?, "position")?,
                    Key::Stream => once(&mut stream, map.next_value::<Str<'de>>()?.0, "stream")?,
                    Key::Version => once(&mut version, map.next_value::<u64>()?, "version")?,
                    Key::Type => once(&mut event_type, map.next_value::<Str<'de>>()?.0, "type")?,
                    Key::Schema => once(&mut schema, map.next_value::<u64>()?, "schema")?,
                    Key::Id => once(&mut id, map.next_value::<Str<'de>>()?.0, "id")?,
                    Key::RecordedAt => once(
                        &mut recorded_at,
                        map.next_value::<Str<'de>>()?.0,
                        "recorded_at",
                    )?,
                    Key::CommandId => once(
                        &mut command_id,
                        map.next_value::<Option<Str<'de>>>()?.map(|s| s.0),
                        "command_id",
                    )?,
                    Key::Actor => once(&mut actor, map.next_value::<Str<'de>>()?.0, "actor")?,
                    Key::Data => {
                        let seed = seed
                            .take()
                            .ok_or_else(|| M::Error::duplicate_field("data"))?;
                        data = Some(map.next_value_seed(seed)?);
                    }
                    Key::Other => {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
            }
            let missing = |name| M::Error::missing_field(name);
            let head = Head {
                position: position.ok_or_else(|| missing("position"))?,
                stream: stream.ok_or_else(|| missing("stream"))?,
                version: version.ok_or_else(|| missing("version"))?,
                event_type: event_type.ok_or_else(|| missing("type"))?,
                schema: schema.ok_or_else(|| missing("schema"))?,
                id: id.ok_or_else(|| missing("id"))?,
                recorded_at: recorded_at.ok_or_else(|| missing("recorded_at"))?,
                command_id: command_id.flatten(),
                actor: actor.ok_or_else(|| missing("actor"))?,
            };
            Ok((head, data.ok_or_else(|| missing("data"))?))
        }
    }

    /// The `data` value, decoded as an event of the given type.
    struct DataOf<'g>(&'g str);

    impl<'de> DeserializeSeed<'de> for DataOf<'_> {
        type Value = Event;

        fn deserialize<D: Deserializer<'de>>(self, data: D) -> Result<Event, D::Error> {
            super::tagged::decode_from(self.0, data)
        }
    }
}

fn field_u64(o: &Map<String, Value>, name: &str) -> Result<u64, String> {
    o.get(name)
        .and_then(Value::as_u64)
        .ok_or_else(|| format!("field {name:?} is missing or not a whole number"))
}

fn field_str<'a>(o: &'a Map<String, Value>, name: &str) -> Result<&'a str, String> {
    o.get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("field {name:?} is missing or not text"))
}

/// The domain's events are adjacently tagged (`{"type": …, "data": …}`);
/// this hands the type and the data to their derived decoder as that map
/// without writing it out, so a replay copies no event's data. The data
/// comes from any deserializer: its own text, a parsed tree, or the export
/// line being read, whose `data` value is decoded where it stands.
mod tagged {
    use expo_domain::Event;
    use serde::de::value::StrDeserializer;
    use serde::de::{DeserializeSeed, Deserializer, MapAccess, Visitor};
    use serde::Deserialize;
    use serde_json::Value;

    /// Decodes an event of a known type from its data text.
    pub fn decode(event_type: &str, data: &str) -> Result<Event, serde_json::Error> {
        let mut de = serde_json::Deserializer::from_str(data);
        let event = decode_from(event_type, &mut de)?;
        // Nothing may follow the data object.
        de.end()?;
        Ok(event)
    }

    /// Decodes an event of a known type from its parsed data.
    pub fn decode_value(event_type: &str, data: &Value) -> Result<Event, serde_json::Error> {
        decode_from(event_type, data)
    }

    /// Decodes an event of a known type from the deserializer of its data.
    pub fn decode_from<'de, D: Deserializer<'de>>(
        event_type: &str,
        data: D,
    ) -> Result<Event, D::Error> {
        Event::deserialize(Tagged {
            event_type,
            data: Some(data),
        })
    }

    /// The event's type and the deserializer of its data, as one map.
    struct Tagged<'t, D> {
        event_type: &'t str,
        data: Option<D>,
    }

    impl<'de, D: Deserializer<'de>> Deserializer<'de> for Tagged<'_, D> {
        type Error = D::Error;

        fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
            visitor.visit_map(Fields {
                event_type: self.event_type,
                data: self.data,
                next: 0,
            })
        }

        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
            bytes byte_buf option unit unit_struct newtype_struct seq tuple
            tuple_struct map struct enum identifier ignored_any
        }
    }

    /// The two entries, "type" then "data".
    struct Fields<'t, D> {
        event_type: &'t str,
        data: Option<D>,
        next: u8,
    }

    impl<'de, D: Deserializer<'de>> MapAccess<'de> for Fields<'_, D> {
        type Error = D::Error;

        fn next_key_seed<K: DeserializeSeed<'de>>(
            &mut self,
            seed: K,
        ) -> Result<Option<K::Value>, Self::Error> {
            let key = match self.next {
                0 => "type",
                1 => "data",
                _ => return Ok(None),
            };
            seed.deserialize(StrDeserializer::new(key)).map(Some)
        }

        fn next_value_seed<V: DeserializeSeed<'de>>(
            &mut self,
            seed: V,
        ) -> Result<V::Value, Self::Error> {
            self.next += 1;
            if self.next == 1 {
                return seed.deserialize(StrDeserializer::new(self.event_type));
            }
            match self.data.take() {
                Some(data) => seed.deserialize(data),
                None => Err(serde::de::Error::custom("the event's data was read twice")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{fast, parse_line_tree};
    use serde_json::Value;

    /// Given envelopes of every kind (binary data, JSON text, damaged data,
    /// with and without a command id, text that needs escaping), when each
    /// is written as a line, then the line is the text of its JSON value.
    #[test]
    fn a_line_is_the_text_of_the_envelopes_json() {
        let (mut e, _) = super::parse_line_tree(LINE).expect("the line parses");
        let mut cases = vec![e.clone()];
        e.command_id = Some(uuid::Uuid::from_u128(42));
        e.actor = "desk \"Ayesha\" \u{e9}\t".into();
        cases.push(e.clone());
        e.data = br#"{"ntn":"4210387","b":[1,2.5,null]}"#.to_vec();
        cases.push(e.clone());
        e.data = vec![0xB1, 0xFF];
        cases.push(e.clone());
        e.data = b"not json".to_vec();
        cases.push(e);
        for e in cases {
            assert_eq!(super::to_line(&e), super::to_json(&e).to_string());
        }
    }

    /// Given an event stored as a command stores it now (binary data) and
    /// the same event as stores written before 2026-12-03 hold it (JSON
    /// text of the current schema), when both are read, then they decode to
    /// the same event and show the same envelope; damaged binary data is an
    /// error naming the position, and is shown as text, not dropped.
    #[test]
    fn binary_and_json_data_read_the_same() {
        let (stored, event) = super::parse_line_tree(LINE).expect("the line parses");
        assert!(expo_domain::binary::is_binary(&stored.data));
        let mut old = stored.clone();
        old.data = br#"{"ntn":"4210387"}"#.to_vec();
        assert_eq!(super::decode(&old).unwrap(), event);
        assert_eq!(super::decode(&stored).unwrap(), event);
        assert_eq!(super::to_json(&old), super::to_json(&stored));
        assert_eq!(super::to_json(&stored)["data"]["ntn"], "4210387");

        let mut damaged = stored.clone();
        damaged.data.truncate(3);
        let err = super::decode(&damaged).unwrap_err().to_string();
        assert!(err.contains("position 2"), "{err}");
        assert!(super::to_json(&damaged)["data"].is_string());
        let mut wrong_schema = stored;
        wrong_schema.schema = 7;
        assert!(super::decode(&wrong_schema).is_err());
    }

    const LINE: &str = r#"{"position":2,"stream":"pk-textiles-may","version":2,"type":"CompanyApproved","schema":1,"id":"01a21ffe-79de-7374-9ab2-5bd4a15fd06b","recorded_at":"2025-03-03T04:20:00Z","command_id":null,"actor":"desk","data":{"ntn":"4210387"}}"#;

    /// Given a line, when both paths parse it, then the fast path either
    /// declines or returns what the tree-based path returns (data compared
    /// as JSON: the fast path keeps the text as written).
    #[track_caller]
    fn check_agree(line: &str) -> bool {
        // The one-pass part of the fast path on its own, then the whole.
        if let Some(one) = fast::one_pass(line) {
            agree(line, one);
        }
        match fast::parse_line(line) {
            Some(fast) => {
                agree(line, fast);
                true
            }
            None => false,
        }
    }

    #[track_caller]
    fn agree(line: &str, (fast_rec, fast_event): (expo_store::RecordedEvent, expo_domain::Event)) {
        let tree = parse_line_tree(line);
        let (mut tree_rec, tree_event) = tree.unwrap_or_else(|e| {
            panic!("{line}: fast path accepted what the tree path refuses: {e}")
        });
        assert_eq!(fast_event, tree_event, "{line}");
        // The current schema is stored in the binary form by both; an older
        // one as JSON text (the fast path keeps it as written).
        if expo_domain::binary::is_binary(&fast_rec.data) {
            assert_eq!(fast_rec.data, tree_rec.data, "{line}");
        } else {
            let parse = |s: &[u8]| serde_json::from_slice::<Value>(s).expect("stored data is JSON");
            assert_eq!(parse(&fast_rec.data), parse(&tree_rec.data), "{line}");
        }
        tree_rec.data.clone_from(&fast_rec.data);
        assert_eq!(fast_rec, tree_rec, "{line}");
    }

    #[test]
    fn the_fast_path_never_disagrees_with_the_tree_path() {
        let cid = r#""command_id":"0190e0a4-0000-7000-8000-000000000001""#;
        let added = r#"{"position":9,"stream":"pk-textiles-may","version":9,"type":"DelegateAdded","schema":1,"id":"01a21ffe-79de-7374-9ab2-5bd4a15fd06c","recorded_at":"2025-03-03T04:20:00.123456Z","command_id":null,"actor":"desk","data":{"ntn":"4210387","full_name":"Ayesha Khan","passport_no":"AB1234567","nationality":"PK","passport_expiry":"2030-01-01","designation":"CEO"}}"#;
        let variants = [
            LINE.to_owned(),
            LINE.replace(r#""command_id":null"#, cid),
            LINE.replace(r#","command_id":null"#, ""),
            LINE.replace(r#""command_id":null"#, r#""command_id":7"#),
            LINE.replace(r#""actor":"desk""#, r#""actor":"d\u00e9sk \"x\"""#),
            LINE.replace(
                r#""stream":"pk-textiles-may""#,
                r#""stream":"pk-textiles-m\u0061y""#,
            ),
            LINE.replace(r#""position":2"#, r#""position":2.0"#),
            LINE.replace(r#""position":2"#, r#""position":0"#),
            LINE.replace(r#""schema":1"#, r#""schema":4294967297"#),
            LINE.replace(r#"{"position":2,"#, r#"{"position":2,"position":3,"#),
            LINE.replace(
                r#"{"position":2,"#,
                r#"{"extra":[1,{"a":null}],"position":2,"#,
            ),
            LINE.replace(
                r#""data":{"ntn":"4210387"}"#,
                r#""data": { "ntn" : "4210387" }"#,
            ),
            LINE.replace(
                r#""data":{"ntn":"4210387"}"#,
                r#""data":{"ntn":"4210387","more":1}"#,
            ),
            LINE.replace(r#""data":{"ntn":"4210387"}"#, r#""data":"{}""#),
            LINE.replace(r#""data":{"ntn":"4210387"}"#, r#""data":null"#),
            LINE.replace(
                r#""recorded_at":"2025-03-03T04:20:00Z""#,
                r#""recorded_at":"2025-03-03T09:20:00+05:00""#,
            ),
            format!("  {LINE}  "),
            format!("{LINE} x"),
            added.to_owned(),
            added.replace(r#""schema":1"#, r#""schema":2"#),
            added.replace(
                r#""passport_no":"AB1234567""#,
                r#""passport_no":"ab1234567""#,
            ),
        ];
        let compared = variants.iter().filter(|line| check_agree(line)).count();
        // and the fast path does take the ordinary shapes (else it is no path at all)
        assert!(fast::parse_line(LINE).is_some());
        assert!(
            compared >= 10,
            "only {compared} variants took the fast path"
        );
    }

    #[test]
    fn a_line_in_a_stream_other_than_its_delegation_is_refused() {
        // Given a creation exported from a store
        let created = r#"{"actor":"desk","command_id":null,"data":{"arrive":"2025-06-19","country":"PK","depart":"2025-06-22","id":"pk-fresh","max_companies":3,"max_delegates_per_company":3,"name":"Fresh","passport_validity_months":6},"id":"01a21ffe-79de-7374-9ab2-5bd4a15fd06c","position":1,"recorded_at":"2025-01-06T00:00:01Z","schema":1,"stream":"pk-fresh","type":"DelegationCreated","version":1}"#;
        assert!(super::parse_line(created).is_ok());
        // When its stream has space around the id, or names another delegation
        let spaced = created.replace(r#""stream":"pk-fresh""#, r#""stream":" pk-fresh""#);
        let other = created.replace(r#""stream":"pk-fresh""#, r#""stream":"pk-other""#);
        // Then both are refused, saying why
        let err = super::parse_line(&spaced).unwrap_err();
        assert!(err.contains("space around"), "{err}");
        let err = super::parse_line(&other).unwrap_err();
        assert!(
            err.contains("pk-fresh") && err.contains("\"pk-other\""),
            "{err}"
        );
    }

    /// An export line: its keys in sorted order, so `data` comes before `type`.
    const EXPORTED: &str = r#"{"actor":"desk","command_id":null,"data":{"designation":"CEO","full_name":"Ayesha Khan","nationality":"PK","ntn":"4210387","passport_expiry":"2030-01-01","passport_no":"AB1234567"},"id":"01a21ffe-79de-7374-9ab2-5bd4a15fd06c","position":9,"recorded_at":"2025-03-03T04:20:00.123456Z","schema":2,"stream":"pk-textiles-may","type":"DelegateAdded","version":9}"#;

    /// Given export lines and lines that make the type read ahead of the
    /// parse a wrong guess, when the one-pass parse takes them, then it
    /// returns what the tree-based path returns, and it declines whatever
    /// its guess does not hold for.
    #[test]
    fn the_one_pass_parse_keeps_only_a_guess_the_line_confirms() {
        let approved = r#"{"actor":"desk","command_id":null,"data":{"ntn":"4210387"},"id":"01a21ffe-79de-7374-9ab2-5bd4a15fd06b","position":2,"recorded_at":"2025-03-03T04:20:00Z","schema":1,"stream":"pk-textiles-may","type":"CompanyApproved","version":2}"#;
        let taken = [
            EXPORTED.to_owned(),
            approved.to_owned(),
            EXPORTED.replace(
                r#""full_name":"Ayesha Khan""#,
                r#""full_name":"Ay\u0065sha \"K\"""#,
            ),
            EXPORTED.replace(r#""actor":"desk""#, r#""actor":"d\u00e9sk""#),
            EXPORTED.replace(r#""command_id":null,"#, ""),
            EXPORTED.replace(
                r#"{"actor""#,
                r#"{"extra":{"type":"CompanyApproved"},"actor""#,
            ),
            format!(" {EXPORTED}\t"),
        ];
        for line in &taken {
            assert!(fast::one_pass(line).is_some(), "declined: {line}");
            check_agree(line);
        }
        let declined = [
            // an older schema: kept as its JSON text, by the two-pass path
            EXPORTED.replace(r#""schema":2"#, r#""schema":1"#),
            // the last "type" in the line is not the envelope's
            EXPORTED
                .replace(r#""data":{"#, r#""type":"DelegateAdded","data":{"#)
                .replace(r#","type":"DelegateAdded","version":9"#, r#","version":9"#)
                .replace(
                    r#""designation":"CEO""#,
                    r#""designation":"CEO","x":{"type":"CompanyApproved"}"#,
                ),
            approved.replace(
                r#""type":"CompanyApproved""#,
                r#""type":"CompanyApproved","extra":{"type":"DelegateAdded"}"#,
            ),
            // data that is not an object, though it holds the fields
            approved.replace(r#""data":{"ntn":"4210387"}"#, r#""data":["4210387"]"#),
            // data that is not of the type the line names
            approved.replace(r#""data":{"ntn":"4210387"}"#, r#""data":{"full_name":"A"}"#),
            // a key twice, an unknown type, an escaped type, trailing text
            approved.replace(r#""version":2"#, r#""version":2,"version":3"#),
            approved.replace("CompanyApproved", "CompanyAdored"),
            approved.replace("CompanyApproved", r"Company\u0041pproved"),
            format!("{approved} x"),
        ];
        // and an older schema is seen before the line is parsed
        assert_eq!(fast::guess(&declined[0]), Some(("DelegateAdded", Some(1))));
        assert_eq!(fast::guess(EXPORTED), Some(("DelegateAdded", Some(2))));
        for line in &declined {
            assert!(fast::one_pass(line).is_none(), "taken: {line}");
            check_agree(line);
        }
    }
}
