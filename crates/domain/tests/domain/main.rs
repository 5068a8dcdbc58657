//! The domain's tests as one binary: the rules as given/when/then rows, property tests over random command sequences, and the events' pinned JSON.

// Test helpers outside `#[test]` functions unwrap too: a panic here is a
// failed test, never input reaching a user.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod events;
mod fixtures;
mod properties;
mod rules;
