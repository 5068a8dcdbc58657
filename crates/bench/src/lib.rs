//! The benchmark driver's core: seeds and exports an N-event store with `expo`, then measures `expo` against the plain SQLite peer on that same export (issue 6).
//!
//! Every figure is a whole process, as a user or a script would see it:
//! `expo import` and `peer-sqlite import` of the same JSON Lines, `expo
//! replay` and `peer-sqlite replay`, one durable `expo company register`
//! and one `expo roster --format json` against one `peer-sqlite append`,
//! the stores' bytes after import, and replay's peak memory. Each round runs
//! expo (A) then the peer (B), for several rounds, and the table shows
//! medians and the ratio against each target.
//!
//! The binary `expo-bench` builds both programs and calls [`run`]; the smoke
//! test calls it at 20,000 events.
#![deny(missing_docs)]

mod binaries;
mod compare;
mod dataset;
mod error;
mod machine;
mod process;
mod report;

pub use binaries::{build, default_target_dir, peer_manifest, workspace_root, Binaries, Profile};
pub use compare::{run, Config};
pub use dataset::Shape;
pub use error::BenchError;
pub use process::Finished;
pub use report::{median, Machine, Report, Round, Row, Target};
