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
            decode_on_reading_thread,
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
/// the 16,000 events in flight).
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
    fold_each(
        store,
        until,
        keep,
        show_progress,
        decode_on_reading_thread,
        |e| {
            registry.apply_owned(e);
            Ok(())
        },
    )?;
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
/// Reading runs on a second thread, handing batches of events to this one,
/// which folds them (moving each event's values into the views). Decoding
/// an event's data goes to whichever thread has room: the reading thread
/// decodes a batch itself while batches wait for the folder, and hands it
/// over undecoded when the folder has at most [`DECODE_HERE_BELOW`] waiting
/// (it is then the folder that would wait). Decoding every event on the
/// reading thread left it the slower of the two (perf, 1M replay: reading
/// thread 96 % busy, folding thread 70 %); decoding every batch on the
/// folding thread is as slow (1.10 s against 0.95-0.99 s shared this way),
/// and an earlier split of every batch between the threads was slower
/// still (they then contend for the allocator).
fn fold_each(
    store: &dyn EventStore,
    until: u64,
    mut keep: impl FnMut(&RecordedEvent) -> bool + Send,
    show_progress: bool,
    decode_here: impl Fn(usize) -> bool + Send,
    mut fold: impl FnMut(Recorded) -> Result<(), StoreError>,
) -> Result<(), Failure> {
    let progress = Progress::new(show_progress, until, "folding events");
    let waiting = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Batch, StoreError>>(IN_FLIGHT);
        let waiting = &waiting;
        s.spawn(move || {
            let send = |batch: Vec<RecordedEvent>| {
                use std::sync::atomic::Ordering;
                let batch = if decode_here(waiting.load(Ordering::Relaxed)) {
                    batch
                        .into_iter()
                        .map(envelope::into_recorded)
                        .collect::<Result<Vec<_>, _>>()
                        .map(Batch::Decoded)
                } else {
                    Ok(Batch::Undecoded(batch))
                };
                waiting.fetch_add(1, Ordering::Relaxed);
                tx.send(batch).is_ok()
            };
            let mut batch = Vec::with_capacity(BATCH);
            for e in store.read_all(1) {
                match e {
                    Ok(e) if e.position > until || !keep(&e) => break,
                    Ok(e) => {
                        batch.push(e);
                        if batch.len() == BATCH
                            && !send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)))
                        {
                            // The folder stopped: nothing more to read.
                            return;
                        }
                    }
                    Err(err) => {
                        // Everything before the failure first, then the failure.
                        if send(batch) {
                            let _ = tx.send(Err(err));
                        }
                        return;
                    }
                }
            }
            send(batch);
        });
        for batch in rx {
            let batch = batch?;
            waiting.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
            let mut last = None;
            match batch {
                Batch::Decoded(events) => {
                    for e in events {
                        last = Some(e.position);
                        fold(e)?;
                    }
                }
                Batch::Undecoded(events) => {
                    for e in events {
                        last = Some(e.position);
                        fold(envelope::into_recorded(e)?)?;
                    }
                }
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

/// A batch of events on its way from the reading thread to the folder.
enum Batch {
    /// Decoded by the reading thread.
    Decoded(Vec<Recorded>),
    /// Left for the folder to decode.
    Undecoded(Vec<RecordedEvent>),
}

/// The reading thread decodes a batch itself only while more than this
/// many wait for the folder; otherwise the folder would soon wait for it.
/// (1M replays, six rounds alternating 0, 1, 2 and 4: medians 0.95-0.99 s,
/// within the machine's noise; decoding every batch on the folding
/// thread, 1.10 s.)
const DECODE_HERE_BELOW: usize = 1;

/// Whether the reading thread decodes its next batch, with `waiting`
/// batches queued for the folder.
fn decode_on_reading_thread(waiting: usize) -> bool {
    waiting > DECODE_HERE_BELOW
}

#[cfg(test)]
mod tests {
    use super::*;
    use expo_store::{OpenOptions, SledStore};

    /// A store holding a seeded log of a few thousand events (several
    /// batches), and the registry a fold of it gives on one thread.
    fn seeded_store(dir: &std::path::Path) -> (SledStore, Registry) {
        let plan = crate::seed::Plan {
            delegations: 40,
            companies: 20,
            delegates: 4,
            seed: 5,
        };
        let events = crate::seed::generate(plan, "fold-test").expect("seeded events");
        let store = SledStore::open(
            dir,
            OpenOptions {
                wait: std::time::Duration::ZERO,
                upcaster: None,
                bulk: false,
                one_shot: false,
            },
        )
        .expect("store");
        store
            .import(&mut events.clone().into_iter().map(Ok), &mut |_| {})
            .expect("import");
        let mut alone = Registry::default();
        for e in events {
            alone.apply_owned(envelope::into_recorded(e).expect("decodes"));
        }
        (store, alone)
    }

    /// Whether the reading thread decodes a batch, given the queue's length.
    type Policy = fn(usize) -> bool;

    #[test]
    fn a_fold_is_the_same_whichever_thread_decodes_each_batch() {
        // Given a log of several batches
        let dir = tempfile::tempdir().expect("tempdir");
        let (store, alone) = seeded_store(dir.path());
        let head = store.last_position().expect("head");
        assert!(head > 3 * BATCH as u64, "{head} events");
        let policies: [(&str, Policy); 4] = [
            ("reading thread", |_| true),
            ("folding thread", |_| false),
            ("by turns", |waiting| waiting % 2 == 0),
            ("by the queue", decode_on_reading_thread),
        ];
        for (name, policy) in policies {
            // When it is folded with the batches decoded on either side
            let mut registry = Registry::default();
            let mut order = Vec::new();
            fold_each(
                &store,
                head,
                |_| true,
                false,
                policy,
                |e| {
                    order.push(e.position);
                    registry.apply_owned(e);
                    Ok(())
                },
            )
            .expect("fold");
            // Then every event came once, in order, and folds to the same rosters
            assert_eq!(order, (1..=head).collect::<Vec<_>>(), "{name}");
            assert!(registry == alone, "{name}: the rosters differ");
        }
    }
}
