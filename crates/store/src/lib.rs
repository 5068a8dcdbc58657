//! The event store: atomic, ordered, durable, idempotent, subscribable appends of opaque events, on sled.
//!
//! The store knows streams, positions, versions, envelopes and checkpoints;
//! it does not know the registry's rules or event types. Only this crate
//! names sled (promise 11 of `shared/spec/storage.md`).
#![deny(missing_docs)]

mod api;

pub use api::*;
