//! Rosters and reports folded from events handed in as values: incremental, exactly once, as of any moment.
//!
//! The read side of the registry. This crate does not know the store: the
//! CLI reads events and hands them in as [`Recorded`] values, reads the
//! stored state through a [`StateSource`], and writes what [`Projector::writes`]
//! (incremental) or a [`Rebuild`] (from scratch, in bounded memory) puts
//! under the checkpoint [`NAME`] with the stamp [`STAMP`].
//!
//! - Incremental: the stored state and the position it has seen move
//!   together (one atomic checkpoint commit), so a roster after new events
//!   folds only those events; each view also remembers its last position, so
//!   an event handed twice is folded once.
//! - As of: [`Registry::fold`] with an [`AsOf`] folds a prefix of the log in
//!   memory, never touching the stored state.
//! - Stale state: a stored state whose stamp is not [`STAMP`] is rebuilt,
//!   never read.
//!
//! The CLI's round, with the store's checkpoint standing at `checkpoint`:
//!
//! ```
//! use expo_projection::{roster, Format, MemorySource, Projector, Recorded, Render};
//! # fn events_after(_p: u64) -> Vec<Recorded> { Vec::new() }
//! let stored = MemorySource::default(); // the CLI: checkpoint_get / checkpoint_scan of NAME
//! let checkpoint = 0;
//! let mut p = Projector::new(&stored);
//! for e in events_after(checkpoint) {
//!     p.apply(&e)?;
//! }
//! let new_position = p.position().unwrap_or(checkpoint);
//! // The CLI: checkpoint_commit({NAME, STAMP, writes}, checkpoint, new_position).
//! let writes = p.writes();
//! if let Some(view) = p.view("pk-textiles-may")? {
//!     print!("{}", roster(view, new_position).render(Format::Table, false));
//! }
//! # let _ = writes;
//! # Ok::<(), expo_projection::ProjectionError>(())
//! ```
#![deny(missing_docs)]

mod rebuild;
mod render;
mod reports;
mod roster;
mod state;
mod view;

#[cfg(test)]
mod tests;

pub use rebuild::{Rebuild, RebuildStats, Spill, RESIDENT_BUDGET};
pub use render::{Format, Render, UnknownFormat};
pub use reports::{
    sector_report, status_report, visa_letters, SectorReport, SectorRow, StatusReport, StatusRow,
    VisaLetter, VisaLetters,
};
pub use roster::{
    mask, roster, Roster, RosterCompany, RosterCounts, RosterDelegate, RosterDelegation,
    RosterLeader, WaitlistEntry,
};
pub use state::{
    load_summaries, load_view, summary_key, view_key, AsOf, MemorySource, Projector, Registry,
    StateSource, SUMMARY_PREFIX, VIEW_PREFIX,
};
pub use view::{
    Delegate, DelegationStatus, Registration, RegistrationStatus, SectorCounts, StatusCounts,
    Summary, View,
};

use chrono::{DateTime, Utc};

/// The checkpoint name the projection's state is stored under.
pub const NAME: &str = "rosters";

/// Version stamp of the stored format and of the fold that produced it.
/// Bump it on any change to either: a stored state with another stamp is
/// stale and is rebuilt from the log, never misread.
pub const STAMP: &str = "rosters/5";

/// One event from the log, as the CLI hands it in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// Global position, gapless from 1.
    pub position: u64,
    /// Stream name (the delegation id).
    pub stream: compact_str::CompactString,
    /// Version in the stream, from 1.
    pub version: u64,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
    /// The event.
    pub event: expo_domain::Event,
}

/// Why the projection could not be read or built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProjectionError {
    /// A stored value does not decode: the stored state is bad. Handling:
    /// rebuild the projection from the log (`expo replay`).
    #[error(
        "stored projection state {key} is unreadable ({message}); rebuild it with `expo replay`"
    )]
    Decode {
        /// The key.
        key: String,
        /// What the decoder said.
        message: String,
    },
    /// Reading the stored state failed (the store's error, as text).
    #[error("reading the stored projection state failed: {0}")]
    Source(String),
    /// A report asked for a delegation that does not exist (at that point).
    #[error("no delegation {0:?}")]
    UnknownDelegation(String),
}
