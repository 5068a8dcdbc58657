//! The registry's rules as a pure decider: values, commands, events, `decide` and `evolve`.
//!
//! Nothing here reads a clock, draws a random number or touches a file: time
//! and ids arrive with the command (see `crates/domain/clippy.toml`).
#![deny(missing_docs)]

pub mod binary;
pub mod command;
pub mod decide;
pub mod error;
pub mod event;
pub mod sample;
pub mod state;
pub mod values;

pub use command::Command;
pub use decide::{decide, evolve, fold};
pub use error::DomainError;
pub use event::{DecodeError, Event, RemovalCause};
pub use state::{Delegate, Delegation, DelegationStatus, Registration, RegistrationStatus, State};
