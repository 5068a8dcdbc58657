//! A rebuild of the whole projection in bounded memory: views beyond a budget are written to the new state and read back when their delegation has events again.
//!
//! [`crate::Registry`] holds every delegation's view until the end, so its
//! memory grows with the log (1.3 GB at 10M events). A [`Rebuild`] keeps
//! the views it touched last, up to a budget; when the budget is passed, the
//! least recently touched half goes to the new state being built (a
//! [`Spill`], which the CLI implements over the store's state build), and a
//! delegation with more events later is read back from there. What it stores
//! is the same, key for key and byte for byte, as `Registry::entries`
//! of the same events.

use crate::state::{decode, entries_of, source_error, view_key};
use crate::view::View;
use crate::{ProjectionError, Recorded};
use std::collections::BTreeMap;

/// Where a bounded rebuild keeps what it has no room for, and finds it
/// again: the new state being built. Errors are the store's, as text.
pub trait Spill {
    /// Sets `key` in the new state, replacing an earlier put of it.
    fn put(&mut self, key: String, value: Vec<u8>) -> Result<(), String>;
    /// What the new state holds under `key` so far.
    fn get(&mut self, key: &str) -> Result<Option<Vec<u8>>, String>;
}

/// A new state kept in memory, encoded: a bulk write (`import`, `seed`),
/// which holds the store's write lock while it folds, keeps what it has no
/// room for here. An encoded view takes a fraction of the memory of the
/// view itself, and the entries come out in key order, ready to be stored.
impl Spill for BTreeMap<String, Vec<u8>> {
    fn put(&mut self, key: String, value: Vec<u8>) -> Result<(), String> {
        self.insert(key, value);
        Ok(())
    }

    fn get(&mut self, key: &str) -> Result<Option<Vec<u8>>, String> {
        Ok(BTreeMap::get(self, key).cloned())
    }
}

/// The default budget, in folded events' worth of views: ~12 MB. A folded
/// event costs a view about 90 bytes (a replay of the 1M-event bench log
/// peaked at 133 MB holding every view, at 43 MB holding almost none).
/// A log whose delegations take turns reads views back less with more room;
/// the bench log, whose delegations come one after another, reads none back.
pub const RESIDENT_BUDGET: u64 = 1 << 17;

struct Resident {
    view: View,
    /// The rebuild's event count when this view last had an event.
    touched: u64,
    /// Its share of the budget: events folded into it while resident, or
    /// its size when read back (see [`weight_of`]).
    weight: u64,
}

/// A view read back costs about one unit per company and delegate it holds
/// (what the events that built it added).
fn weight_of(view: &View) -> u64 {
    let delegates: usize = view.companies.values().map(|r| r.delegates.len()).sum();
    1 + view.companies.len() as u64 + delegates as u64
}

/// What a finished [`Rebuild`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RebuildStats {
    /// Events folded in (repeats and events before a creation not counted).
    pub folded: u64,
    /// The highest position handed in.
    pub position: u64,
    /// Views written out before the end to stay in the budget.
    pub spilled: u64,
    /// Views read back because their delegation had more events.
    pub reloaded: u64,
}

/// The whole projection folded from the log's start into a new state,
/// holding at most a budget of views in memory. Hand it every event in
/// order, then [`Rebuild::finish`] and commit the new state.
pub struct Rebuild<'s> {
    spill: &'s mut dyn Spill,
    views: foldhash::HashMap<String, Resident>,
    budget: u64,
    resident: u64,
    tick: u64,
    stats: RebuildStats,
}

impl<'s> Rebuild<'s> {
    /// A rebuild into `spill` (an empty new state) keeping about `budget`
    /// events' worth of views in memory ([`RESIDENT_BUDGET`] by default).
    pub fn new(spill: &'s mut dyn Spill, budget: u64) -> Self {
        Rebuild {
            spill,
            views: foldhash::HashMap::default(),
            budget: budget.max(1),
            resident: 0,
            tick: 0,
            stats: RebuildStats::default(),
        }
    }

    /// Folds one event, moving what the view keeps of it in. Like
    /// `Registry::apply_owned`: repeats and events of a stream without a
    /// creation are skipped.
    pub fn apply_owned(&mut self, e: Recorded) -> Result<(), ProjectionError> {
        self.tick += 1;
        let position = e.position;
        // One lookup for an event of a view in memory, the common case (a
        // second one, to see whether it is there first, was a few percent
        // of a replay's folding thread).
        let mut r = self.views.get_mut(e.stream.as_str());
        if r.is_none() {
            self.reload(&e.stream)?;
            r = self.views.get_mut(e.stream.as_str());
        }
        let folded = match r {
            Some(r) => {
                r.touched = self.tick;
                let folded = r.view.apply_owned(e);
                if folded {
                    r.weight += 1;
                    self.resident += 1;
                }
                folded
            }
            None => match View::start(&e) {
                Some(view) => {
                    let r = Resident {
                        view,
                        touched: self.tick,
                        weight: 1,
                    };
                    self.views.insert(e.stream.into_string(), r);
                    self.resident += 1;
                    true
                }
                None => false,
            },
        };
        if folded {
            self.stats.folded += 1;
        }
        self.stats.position = self.stats.position.max(position);
        if self.resident > self.budget {
            self.spill_oldest()?;
        }
        Ok(())
    }

    /// Brings a view written out earlier back into memory, if there is one.
    fn reload(&mut self, id: &str) -> Result<(), ProjectionError> {
        let key = view_key(id);
        let Some(bytes) = self.spill.get(&key).map_err(source_error)? else {
            return Ok(());
        };
        let view: View = decode(&key, &bytes)?;
        let weight = weight_of(&view);
        self.resident += weight;
        self.stats.reloaded += 1;
        self.views.insert(
            id.to_owned(),
            Resident {
                view,
                touched: self.tick,
                weight,
            },
        );
        Ok(())
    }

    /// Writes out the least recently touched views until half the budget is
    /// left, so this runs once per many events. The view of the event just
    /// folded stays, however large.
    fn spill_oldest(&mut self) -> Result<(), ProjectionError> {
        let mut order: Vec<(u64, String)> = self
            .views
            .iter()
            .filter(|(_, r)| r.touched != self.tick)
            .map(|(id, r)| (r.touched, id.clone()))
            .collect();
        order.sort_unstable();
        for (_, id) in order {
            if self.resident <= self.budget / 2 {
                break;
            }
            if let Some(r) = self.views.remove(&id) {
                self.resident -= r.weight;
                self.stats.spilled += 1;
                self.write(&id, &r.view)?;
            }
        }
        Ok(())
    }

    fn write(&mut self, id: &str, view: &View) -> Result<(), ProjectionError> {
        for (key, value) in entries_of(id, view) {
            self.spill.put(key, value).map_err(source_error)?;
        }
        Ok(())
    }

    /// Writes every view still in memory; the new state is then complete
    /// (commit it at [`RebuildStats::position`] or the head folded to).
    pub fn finish(mut self) -> Result<RebuildStats, ProjectionError> {
        let mut views: Vec<(String, Resident)> = self.views.drain().collect();
        views.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        for (id, r) in views {
            self.write(&id, &r.view)?;
        }
        Ok(self.stats)
    }
}
