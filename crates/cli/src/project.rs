//! Keeping the rosters' stored projection caught up with the log: inline with an append, incrementally, or by a full rebuild.

use crate::envelope;
use crate::failure::Failure;
use crate::progress::Progress;
use expo_domain::Event;
use expo_projection::{Projector, Recorded, Registry, StateSource, NAME, STAMP};
use expo_store::{CheckpointWrite, EventStore, RecordedEvent, StoreError};

/// Past this many events behind, a full rebuild (one pass, one atomic
/// switch) is cheaper than an incremental catch-up that would hold every
/// changed key in memory anyway.
const REBUILD_THRESHOLD: u64 = 50_000;

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
    Ok(n)
}

/// Folds the whole log into the rosters in memory and stores them in one
/// atomic switch. Returns how many events were folded.
pub fn rebuild(store: &dyn EventStore, show_progress: bool) -> Result<u64, Failure> {
    let head = store.last_position()?;
    let registry = fold_until(store, head, |_| true, show_progress)?;
    replace(store, &registry, head)?;
    Ok(head)
}

/// Stores a registry folded from the whole log up to `position` as the
/// rosters' state, in one atomic switch (used after a bulk write that
/// folded its events as it wrote them, instead of reading them back).
pub fn replace(store: &dyn EventStore, registry: &Registry, position: u64) -> Result<(), Failure> {
    let mut entries = registry.entries();
    store.checkpoint_replace(NAME, STAMP, position, &mut entries)?;
    Ok(())
}

/// Folds the log from the start into an in-memory registry, up to position
/// `until` and while `keep` holds (for `--as-of`), touching no stored state.
pub fn fold_until(
    store: &dyn EventStore,
    until: u64,
    mut keep: impl FnMut(&RecordedEvent) -> bool,
    show_progress: bool,
) -> Result<Registry, Failure> {
    let progress = Progress::new(show_progress, until, "folding events");
    let mut registry = Registry::default();
    for e in store.read_all(1) {
        let e = e?;
        if e.position > until || !keep(&e) {
            break;
        }
        registry.apply(&envelope::recorded(&e)?);
        progress.set(e.position);
    }
    progress.finish();
    Ok(registry)
}
