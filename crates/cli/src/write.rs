//! The write path: read a delegation's stream, fold it, decide, append with optimistic concurrency, keep the rosters caught up.

use crate::context::Context;
use crate::envelope;
use crate::failure::Failure;
use crate::project;
use chrono::{DateTime, Utc};
use expo_domain::values::DelegationId;
use expo_domain::{decide, Command, Event, State};
use expo_store::{
    AppendError, AppendMeta, AppendOutcome, EventStore, ExpectedVersion, RecordedEvent,
};
use uuid::Uuid;

/// How often a command is decided again when another writer got in first.
/// Each retry re-reads the stream, so a conflict only repeats under heavy
/// contention on the same delegation.
const MAX_ATTEMPTS: u32 = 8;

/// What one recorded command wrote (or, for a retried command id, had written).
#[derive(Debug)]
pub struct Written {
    /// The stream, the versions and positions written.
    pub outcome: AppendOutcome,
    /// The events, as stored.
    pub events: Vec<RecordedEvent>,
}

/// A delegation's stream read and folded.
pub struct Loaded {
    /// The state the decider sees.
    pub state: State,
    /// The stream's last version (`None`: no stream yet).
    pub version: Option<u64>,
    /// The stored events, for finding a retried command id.
    pub events: Vec<RecordedEvent>,
}

/// Reads and folds one delegation's stream.
pub fn load(store: &dyn EventStore, stream: &DelegationId) -> Result<Loaded, Failure> {
    let mut state = State::default();
    let mut events = Vec::new();
    for e in store.read_stream(stream.as_str(), 1) {
        let e = e?;
        state = expo_domain::evolve(state, &envelope::decode(&e)?);
        events.push(e);
    }
    let version = events.last().map(|e| e.version);
    Ok(Loaded {
        state,
        version,
        events,
    })
}

/// Decides `command` on `stream` and records its events, retrying on a
/// conflict; the rosters are caught up before it returns.
pub fn execute(
    store: &dyn EventStore,
    ctx: &Context,
    stream: &DelegationId,
    command: &Command,
) -> Result<Written, Failure> {
    execute_with(store, ctx, stream, None, |state| {
        decide(command, state).map_err(|error| crate::failure::refused(stream.to_string(), error))
    })
}

/// Like [`execute`] with any way of turning the state into events (the CSV
/// import decides many commands as one append) and, for the demo's fixed
/// moments, the time to record (`None`: now).
pub fn execute_with(
    store: &dyn EventStore,
    ctx: &Context,
    stream: &DelegationId,
    at: Option<DateTime<Utc>>,
    mut decide_events: impl FnMut(&State) -> Result<Vec<Event>, Failure>,
) -> Result<Written, Failure> {
    let mut last_conflict = None;
    for _ in 0..MAX_ATTEMPTS {
        let loaded = load(store, stream)?;
        if let Some(id) = ctx.command_id {
            if let Some(written) = already_recorded(&loaded.events, id) {
                return Ok(written);
            }
        }
        let events = decide_events(&loaded.state)?;
        if events.is_empty() {
            return Err(Failure::Invalid(format!(
                "nothing to record on delegation {stream}: the command changes nothing"
            )));
        }
        match append(store, ctx, stream, loaded.version, &events, at) {
            Ok(w) => {
                if !w.outcome.checkpoint_applied {
                    project::catch_up(store, false)?;
                }
                return Ok(w);
            }
            Err(AppendError::Conflict {
                stream,
                expected,
                actual,
            }) => {
                last_conflict = Some(AppendError::Conflict {
                    stream,
                    expected,
                    actual,
                });
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(last_conflict.map_or_else(
        || Failure::Storage(format!("delegation {stream} could not be written")),
        Failure::from,
    ))
}

/// Appends decided events; the rosters' checkpoint goes in the same atomic
/// write when it stands at the log's head, otherwise it catches up after.
fn append(
    store: &dyn EventStore,
    ctx: &Context,
    stream: &DelegationId,
    version: Option<u64>,
    events: &[Event],
    at: Option<DateTime<Utc>>,
) -> Result<Written, AppendError> {
    let meta = AppendMeta {
        // Every command gets an id, so the events of one command can be told
        // apart; only an id the user gave makes a retry recognisable.
        command_id: Some(ctx.command_id.unwrap_or_else(Uuid::now_v7)),
        actor: ctx.actor.clone(),
        recorded_at: at.unwrap_or_else(envelope::now),
    };
    let new_events: Vec<_> = events.iter().map(envelope::new_event).collect();
    let expected = version.map_or(ExpectedVersion::NoStream, ExpectedVersion::Exactly);
    let head = store.last_position()?;
    let first_version = version.unwrap_or(0) + 1;
    // What the stored events will look like if the append lands where we
    // expect; the store ignores the checkpoint if the head moved meanwhile.
    let recorded: Vec<RecordedEvent> = new_events
        .iter()
        .zip(0u64..)
        .map(|(n, i)| RecordedEvent {
            position: head + 1 + i,
            stream: stream.as_str().into(),
            version: first_version + i,
            id: n.id,
            event_type: n.event_type.as_str().into(),
            schema: n.schema,
            recorded_at: meta.recorded_at,
            command_id: meta.command_id,
            actor: meta.actor.as_str().into(),
            data: n.data.clone(),
        })
        .collect();
    let checkpoint =
        project::inline_checkpoint(store, head, &recorded, events).map_err(AppendError::Store)?;
    let outcome = store.append(
        stream.as_str(),
        expected,
        &meta,
        &new_events,
        checkpoint.as_ref(),
    )?;
    let events = if outcome.duplicate {
        read_positions(store, outcome.first_position, outcome.last_position)?
    } else {
        recorded
            .into_iter()
            .zip(0u64..)
            .map(|(mut e, i)| {
                e.position = outcome.first_position + i;
                e.version = outcome.first_version + i;
                e
            })
            .collect()
    };
    Ok(Written { outcome, events })
}

/// The first outcome of a command id already recorded on this stream.
fn already_recorded(events: &[RecordedEvent], id: Uuid) -> Option<Written> {
    let mine: Vec<RecordedEvent> = events
        .iter()
        .filter(|e| e.command_id == Some(id))
        .cloned()
        .collect();
    let (first, last) = (mine.first()?, mine.last()?);
    Some(Written {
        outcome: AppendOutcome {
            stream: first.stream.to_string(),
            first_version: first.version,
            last_version: last.version,
            first_position: first.position,
            last_position: last.position,
            duplicate: true,
            checkpoint_applied: false,
        },
        events: mine,
    })
}

/// Reads the events at positions `first..=last` back.
pub fn read_positions(
    store: &dyn EventStore,
    first: u64,
    last: u64,
) -> Result<Vec<RecordedEvent>, expo_store::StoreError> {
    let n = usize::try_from(last.saturating_sub(first) + 1).unwrap_or(usize::MAX);
    store.read_all(first).take(n).collect()
}

/// The one line a successful write prints, or its JSON document.
pub fn report(ctx: &Context, w: &Written) -> String {
    if ctx.json {
        serde_json::json!({
            "stream": w.outcome.stream,
            "version": w.outcome.last_version,
            "position": w.outcome.last_position,
            "events": w.events.iter().map(envelope::to_json).collect::<Vec<_>>(),
        })
        .to_string()
    } else {
        let what = summarize(&w.events);
        let prefix = if w.outcome.duplicate {
            "already recorded with this command id, nothing new written: "
        } else {
            ""
        };
        format!(
            "{prefix}{what} — delegation {}, version {}, position {}",
            w.outcome.stream, w.outcome.last_version, w.outcome.last_position
        )
    }
}

/// What the events say, as a clause each: `withdrew company 3598211-6;
/// removed delegate CK••••982; promoted company 2750913 from the waitlist`.
/// Passport numbers are masked, as in rosters.
fn summarize(events: &[RecordedEvent]) -> String {
    events
        .iter()
        .map(|e| match envelope::decode(e) {
            Ok(event) => describe(&event),
            Err(_) => e.event_type.to_string(),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn describe(e: &Event) -> String {
    match e {
        Event::DelegationCreated {
            id, arrive, depart, ..
        } => format!("created delegation {id} ({arrive} to {depart})"),
        Event::CompanyRegistered {
            ntn, legal_name, ..
        } => format!("registered company {ntn} ({legal_name})"),
        Event::CompanyApproved { ntn } => format!("approved company {ntn}"),
        Event::CompanyWaitlisted { ntn } => format!("waitlisted company {ntn}"),
        Event::CompanyPromoted { ntn } => format!("promoted company {ntn} from the waitlist"),
        Event::CompanyRejected { ntn, .. } => format!("rejected company {ntn}"),
        Event::CompanyWithdrawn { ntn, .. } => format!("withdrew company {ntn}"),
        Event::DelegateAdded {
            ntn,
            full_name,
            passport_no,
            ..
        } => format!(
            "added delegate {full_name} ({}) to company {ntn}",
            passport_no.masked()
        ),
        Event::DelegateRemoved { passport_no, .. } => {
            format!("removed delegate {}", passport_no.masked())
        }
        Event::LeaderAssigned { passport_no } => {
            format!("named {} leader", passport_no.masked())
        }
        Event::LeaderUnassigned { passport_no } => {
            format!("{} is no longer leader", passport_no.masked())
        }
        Event::DelegationClosed {} => "closed the delegation".to_owned(),
    }
}
