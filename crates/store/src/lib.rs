//! The event store: atomic, ordered, durable, idempotent, subscribable appends of opaque events, on sled.
//!
//! The store knows streams, positions, versions, envelopes and checkpoints;
//! it does not know the registry's rules or event types. Only this crate
//! names sled (promise 11 of `shared/spec/storage.md`). The key layout and
//! every fsync are described in `ARCHITECTURE.md` beside this crate.
#![deny(missing_docs)]

mod api;
mod codec;
mod guard;
mod store;
mod subscription;
mod verify;

pub use api::*;
pub use store::SledStore;
pub use subscription::Subscription;
