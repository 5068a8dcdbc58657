//! Keeping the rosters' stored projection caught up with the log: inline with an append, incrementally, or by a full rebuild.

use crate::envelope;
use crate::failure::Failure;
use crate::progress::Progress;
use expo_domain::Event;
use expo_projection::{
    Projector, Rebuild, Recorded, Registry, Spill, StateSource, NAME, RESIDENT_BUDGET, STAMP,
};
use expo_store::{CheckpointWrite, EventStore, RecordedEvent, StateBuild, StoreError};

/// Past this many events behind, a full rebuild (one pass, one atomic
/// switch) is cheaper than an incremental catch-up that would hold every
/// changed key in memory anyway.
const REBUILD_THRESHOLD: u64 = 50_000;

/// With `EXPO_TRACE=1`, one line on stderr saying how much projection work a
/// run did, so tests and operators can see that a read folded only the new
/// events (the counts are otherwise invisible by design).
fn trace(line: std::fmt::Arguments<'_>) {
    if std::env::var_os("EXPO_TRACE").is_some_and(|v| v == "1") {
        use std::io::Write;
        // A trace that cannot be written is not worth failing the command for.
        let _ = writeln!(std::io::stderr().lock(), "expo: trace: {line}");
    }
}

/// The projection's stored state, read through the store.
pub struct StoreSource<'a>(pub &'a dyn EventStore);

impl StateSource for StoreSource<'_> {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, String> {
        self.0.checkpoint_get(NAME, key).map_err(|e| e.to_string())
    }

    fn scan(&self, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, String> {
        self.0
            .checkpoint_scan(NAME, prefix)
            .map_err(|e| e.to_string())
    }
}

fn projection_failure(problem: expo_projection::ProjectionError) -> StoreError {
    StoreError::Corrupt {
        position: 0,
        problem: format!("the stored rosters cannot be read: {problem}"),
    }
}

/// The checkpoint update to store with an append, if the rosters stand at
/// `head` with the current stamp; `None` otherwise (they catch up after).
pub fn inline_checkpoint(
    store: &dyn EventStore,
    head: u64,
    recorded: &[RecordedEvent],
    events: &[Event],
) -> Result<Option<CheckpointWrite>, StoreError> {
    match store.checkpoint(NAME)? {
        Some(cp) if cp.position == head && cp.stamp == STAMP => {}
        _ => return Ok(None),
    }
    let source = StoreSource(store);
    let mut projector = Projector::new(&source);
    for (r, e) in recorded.iter().zip(events) {
        let rec = Recorded {
            position: r.position,
            stream: r.stream.clone(),
            version: r.version,
            recorded_at: r.recorded_at,
            event: e.clone(),
        };
        projector.apply(&rec).map_err(projection_failure)?;
    }
    trace(format_args!(
        "rosters folded {} events with the append from position {head}",
        recorded.len()
    ));
    Ok(Some(CheckpointWrite {
        name: NAME.to_owned(),
        stamp: STAMP.to_owned(),
        writes: projector.writes(),
    }))
}

/// Brings the stored rosters up to the log's head: nothing if they are
/// there, the missing events if a few, a full rebuild if many or if the
/// stored state was written by another version of the code (stale stamp).
/// Returns how many events were folded.
pub fn catch_up(store: &dyn EventStore, show_progress: bool) -> Result<u64, Failure> {
    let head = store.last_position()?;
    let from = match store.checkpoint(NAME)? {
        Some(cp) if cp.stamp == STAMP && cp.position <= head => cp.position,
        _ => return rebuild(store, show_progress),
    };
    if from == head {
        trace(format_args!(
            "rosters caught up 0 events from position {from}"
        ));
        return Ok(0);
    }
    if head - from > REBUILD_THRESHOLD {
        return rebuild(store, show_progress);
    }
    let source = StoreSource(store);
    let mut projector = Projector::new(&source);
    let mut n = 0;
    let mut last = from;
    for e in store.read_all(from + 1) {
        let e = e?;
        if e.position > head {
            break;
        }
        projector
            .apply(&envelope::recorded(&e)?)
            .map_err(projection_failure)?;
        last = e.position;
        n += 1;
    }
    let write = CheckpointWrite {
        name: NAME.to_owned(),
        stamp: STAMP.to_owned(),
        writes: projector.writes(),
    };
    // If another process moved the checkpoint meanwhile it did the same
    // work; ours is simply not needed.
    store.checkpoint_commit(&write, from, last)?;
    trace(format_args!(
        "rosters caught up {n} events from position {from}"
    ));
    Ok(n)
}

/// The new state of a rebuild, being built in the store.
struct BuildSpill<'b, 's>(&'b mut (dyn StateBuild + 's));

impl Spill for BuildSpill<'_, '_> {
    fn put(&mut self, key: String, value: Vec<u8>) -> Result<(), String> {
        self.0.put(key, value).map_err(|e| e.to_string())
    }

    fn get(&mut self, key: &str) -> Result<Option<Vec<u8>>, String> {
        self.0.get(key).map_err(|e| e.to_string())
    }
}

/// The largest `EXPO_REBUILD_BUDGET` accepted: 2^40 events' worth of views
/// is far past any log, so a larger number is a typo.
const MAX_REBUILD_BUDGET: u64 = 1 << 40;

/// How many events' worth of views a rebuild keeps in memory:
/// `EXPO_REBUILD_BUDGET` if set and not empty (tests set it tiny, so that
/// views go out to the store and come back), else [`RESIDENT_BUDGET`]. Checked with the
/// global options, before the store is opened.
pub fn rebuild_budget() -> Result<u64, Failure> {
    let raw = std::env::var_os("EXPO_REBUILD_BUDGET").unwrap_or_default();
    let text = raw.to_string_lossy();
    // Set but empty is unset, as with EXPO_DATA.
    if text.trim().is_empty() {
        return Ok(RESIDENT_BUDGET);
    }
    match text.trim().parse::<u64>() {
        Ok(n) if (1..=MAX_REBUILD_BUDGET).contains(&n) => Ok(n),
        _ => Err(crate::failure::invalid(format!(
            "invalid EXPO_REBUILD_BUDGET {text:?}: use a whole number of events from 1 to \
             {MAX_REBUILD_BUDGET}, or unset it (default {RESIDENT_BUDGET})"
        ))),
    }
}

/// Folds the whole log into a new state of the rosters, built aside in the
/// store with a bounded number of views in memory, and switches to it in
/// one atomic commit. Returns how many events were folded.
pub fn rebuild(store: &dyn EventStore, show_progress: bool) -> Result<u64, Failure> {
    let head = store.last_position()?;
    trace(format_args!(
        "rosters rebuilding {head} events from position 0"
    ));
    let budget = rebuild_budget()?;
    let mut build = store.checkpoint_build(NAME)?;
    let stats = {
        let mut spill = BuildSpill(build.as_mut());
        let mut rebuild = Rebuild::new(&mut spill, budget);
        fold_each(
            store,
            head,
            |_| true,
            show_progress,
            |e| rebuild.apply_owned(e).map_err(projection_failure),
        )?;
        rebuild.finish().map_err(projection_failure)?
    };
    trace(format_args!(
        "rosters folded {head} events ({} views written early, {} read back), storing them",
        stats.spilled, stats.reloaded
    ));
    build.commit(STAMP, head)?;
    trace(format_args!(
        "rosters caught up {head} events from position 0"
    ));
    Ok(head)
}

/// Events per batch handed from the reading thread to the folding one:
/// large enough that the channel costs nothing per event, small enough that
/// the batches in flight hold little memory.
const BATCH: usize = 1024;

/// Batches in flight between the two threads of a fold. A rebuild writes
/// out views in bursts (half its budget at a time); with 4 batches the
/// reading thread soon stood waiting through each burst, with 16 it reads
/// on (1M replays, alternating: median 1.095 -> 0.985 s; peak 42 -> 45 MiB,
/// the 16,000 decoded events in flight).
const IN_FLIGHT: usize = 16;

/// What a bulk write says when folding its events into the rosters fails
/// (only a view it encoded itself failing to decode again).
pub fn fold_problem(e: expo_projection::ProjectionError) -> String {
    format!("the rosters could not be folded: {e}")
}

/// After a bulk write that folded its events as it wrote them (`finished`
/// is that fold's end; the views it held are then in `encoded`, as
/// stored), stores them as the rosters' whole state at `position`, in one
/// atomic switch; each entry is freed as it is written.
pub fn store_folded(
    store: &dyn EventStore,
    finished: Result<expo_projection::RebuildStats, expo_projection::ProjectionError>,
    encoded: std::collections::BTreeMap<String, Vec<u8>>,
    position: u64,
) -> Result<(), Failure> {
    let stats = finished.map_err(|e| Failure::Storage(fold_problem(e)))?;
    trace(format_args!(
        "rosters folded during the write ({} views encoded early, {} read back), storing them",
        stats.spilled, stats.reloaded
    ));
    store.checkpoint_replace(NAME, STAMP, position, &mut encoded.into_iter())?;
    Ok(())
}

/// Folds the log from the start into an in-memory registry, up to position
/// `until` and while `keep` holds (for `--as-of`), touching no stored state.
pub fn fold_until(
    store: &dyn EventStore,
    until: u64,
    keep: impl FnMut(&RecordedEvent) -> bool + Send,
    show_progress: bool,
) -> Result<Registry, Failure> {
    let mut registry = Registry::default();
    fold_each(store, until, keep, show_progress, |e| {
        registry.apply_owned(e);
        Ok(())
    })?;
    Ok(registry)
}

/// The end of the longest prefix of the log (up to `head`) recorded at or
/// before `t`: the position before the first event recorded later, read
/// from the events' envelopes (their data is not decoded).
pub fn last_recorded_by(
    store: &dyn EventStore,
    head: u64,
    t: chrono::DateTime<chrono::Utc>,
) -> Result<u64, Failure> {
    for e in store.read_all(1) {
        let e = e?;
        if e.position > head {
            break;
        }
        if e.recorded_at > t {
            return Ok(e.position - 1);
        }
    }
    Ok(head)
}

/// Folds one delegation's stream, up to position `until`, into an in-memory
/// registry holding its view alone (a roster at an earlier position: what
/// a fold of the whole log would give for it, reading only its events).
pub fn fold_stream_until(
    store: &dyn EventStore,
    stream: &str,
    until: u64,
) -> Result<Registry, Failure> {
    let mut registry = Registry::default();
    for e in store.read_stream(stream, 1) {
        let e = e?;
        if e.position > until {
            break;
        }
        registry.apply_owned(envelope::into_recorded(e)?);
    }
    trace(format_args!(
        "rosters folded {} events of {stream} up to position {until}",
        registry.folded()
    ));
    Ok(registry)
}

/// Hands `fold` every event of the log from the start, up to position
/// `until` and while `keep` holds, decoded.
///
/// Reading and decoding (the larger part of the work) run on a second
/// thread, handing batches of decoded events to this one, which folds them
/// (moving each event's values into the views). Splitting the decoding
/// between both threads measured slower: the folder then competes for the
/// allocator and the cache with the reader.
fn fold_each(
    store: &dyn EventStore,
    until: u64,
    mut keep: impl FnMut(&RecordedEvent) -> bool + Send,
    show_progress: bool,
    mut fold: impl FnMut(Recorded) -> Result<(), StoreError>,
) -> Result<(), Failure> {
    let progress = Progress::new(show_progress, until, "folding events");
    std::thread::scope(|s| {
        let (tx, rx) =
            std::sync::mpsc::sync_channel::<Result<Vec<Recorded>, StoreError>>(IN_FLIGHT);
        s.spawn(move || {
            let mut batch = Vec::with_capacity(BATCH);
            for e in store.read_all(1) {
                let item = e.and_then(|e| {
                    if e.position > until || !keep(&e) {
                        Ok(None)
                    } else {
                        envelope::into_recorded(e).map(Some)
                    }
                });
                match item {
                    Ok(Some(item)) => {
                        batch.push(item);
                        if batch.len() == BATCH
                            && tx
                                .send(Ok(std::mem::replace(&mut batch, Vec::with_capacity(BATCH))))
                                .is_err()
                        {
                            // The folder stopped: nothing more to read.
                            return;
                        }
                    }
                    Ok(None) => break,
                    Err(err) => {
                        // Everything before the failure first, then the failure.
                        let _ = tx.send(Ok(batch));
                        let _ = tx.send(Err(err));
                        return;
                    }
                }
            }
            let _ = tx.send(Ok(batch));
        });
        for batch in rx {
            let mut last = None;
            for e in batch? {
                last = Some(e.position);
                fold(e)?;
            }
            if let Some(last) = last {
                progress.set(last);
            }
        }
        Ok::<(), Failure>(())
    })?;
    progress.finish();
    Ok(())
}
