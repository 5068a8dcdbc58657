//! Maintenance: `replay` (rebuild the rosters), `verify` (check the store and the rosters), `demo` (a realistic sample into an empty store).

use crate::bulk::{rate, round3};
use crate::context::Context;
use crate::failure::{invalid, Failure};
use crate::project::{self, StoreSource};
use crate::{envelope, output, write};
use expo_domain::sample;
use expo_projection::{load_view, roster, Format, Render, NAME, STAMP};
use std::time::Instant;

/// `expo replay`: every projection rebuilt from the log.
pub fn replay(ctx: &Context) -> Result<(), Failure> {
    let store = ctx.open_existing()?;
    let started = Instant::now();
    let n = project::rebuild(store.as_ref(), true)?;
    let secs = started.elapsed().as_secs_f64();
    let r = rate(n, secs);
    if ctx.json {
        output::print(
            &serde_json::json!({"events": n, "seconds": round3(secs), "events_per_second": r.round()})
                .to_string(),
        )
    } else {
        output::print(&format!(
            "replayed {n} events in {secs:.2} s ({r:.0} events/s)"
        ))
    }
}

/// `expo verify`: the store's own checks, then the stored rosters compared
/// with a rebuild in memory at the same position.
pub fn verify(ctx: &Context) -> Result<(), Failure> {
    let store = ctx.open_existing()?;
    let report = store
        .verify()
        .map_err(|e| Failure::Storage(format!("verify failed: {e}")))?;
    let rosters = match store.checkpoint(NAME)? {
        None => "rosters not stored yet (built on the next read)".to_owned(),
        Some(cp) if cp.stamp != STAMP => format!(
            "rosters stored by another version ({}), rebuilt on the next read",
            cp.stamp
        ),
        Some(cp) => {
            let registry = project::fold_until(store.as_ref(), cp.position, |_| true, true)?;
            if let Some((stream, id)) = registry.misplaced() {
                return Err(Failure::Storage(format!(
                    "verify failed: delegation {id} was created in stream {stream:?}: {}",
                    envelope::STREAM_RULE
                )));
            }
            match registry
                .first_difference(&StoreSource(store.as_ref()))
                .map_err(|e| Failure::Storage(format!("verify failed: {e}")))?
            {
                Some(problem) => {
                    return Err(Failure::Storage(format!(
                    "verify failed: rosters at position {}: {problem}; `expo replay` rebuilds them",
                    cp.position
                )))
                }
                None => format!("rosters match a rebuild at position {}", cp.position),
            }
        }
    };
    if ctx.json {
        output::print(
            &serde_json::json!({
                "ok": true,
                "events": report.events,
                "streams": report.streams,
                "checkpoints": report.checkpoints,
                "rosters": rosters,
            })
            .to_string(),
        )
    } else {
        output::print(&format!(
            "store is sound: {} events in {} streams, {} checkpoint(s); {rosters}",
            report.events, report.streams, report.checkpoints
        ))
    }
}

/// `expo demo`: the sample delegations, decided and recorded one command at
/// a time with their own moments, into an empty store; then one roster.
pub fn demo(ctx: &Context) -> Result<(), Failure> {
    let store = ctx.open_for_write()?;
    let head = store.last_position()?;
    if head > 0 {
        return Err(invalid(format!(
            "the store at {} already holds {head} events: `expo demo` fills only an empty store; \
             give it a new folder with --data",
            ctx.data.display()
        )));
    }
    // One command id for many commands would make every command after the
    // first a "retry": the demo's commands are recorded without one.
    let ctx = Context {
        command_id: None,
        ..ctx.clone()
    };
    let steps = sample::demo();
    for step in &steps {
        write::execute_with(
            store.as_ref(),
            &ctx,
            &step.delegation,
            Some(step.at()),
            |state| {
                expo_domain::decide(&step.command, state)
                    .map_err(|error| crate::failure::refused(step.delegation.to_string(), error))
            },
        )?;
    }
    project::catch_up(store.as_ref(), false)?;
    let position = store.last_position()?;
    let Some(first) = steps.first() else {
        return output::print("the sample is empty");
    };
    let view = load_view(&StoreSource(store.as_ref()), first.delegation.as_str())
        .map_err(|e| Failure::Storage(e.to_string()))?
        .ok_or_else(|| {
            Failure::Storage(format!(
                "the demo's delegation {} was not projected",
                first.delegation
            ))
        })?;
    let format = if ctx.json {
        Format::Json
    } else {
        Format::Table
    };
    let roster = roster(&view, position).render(format, false);
    if ctx.json {
        return output::print(&roster);
    }
    output::print(&format!(
        "recorded {position} events: {} commands on {} delegations\n\n{roster}\nTry: expo delegation list · expo report status · expo report visa-letters {}",
        steps.len(),
        {
            let mut ids: Vec<&str> = steps.iter().map(|s| s.delegation.as_str()).collect();
            ids.sort_unstable();
            ids.dedup();
            ids.len()
        },
        first.delegation
    ))
}
