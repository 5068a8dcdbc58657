//! End-to-end tests: run the real `expo` binary on temporary stores, black-box against the CLI contract.
//!
//! Each test builds its own store in a temporary folder and talks to it only
//! through the command line, as staff and their scripts do. Long runs hide
//! behind `EXPO_SLOW_TESTS=1`.
#![allow(clippy::unwrap_used)]

mod bad_input;
mod bulk;
mod concurrency;
mod faults;
mod fixtures;
mod harness;
mod maintenance;
mod projection;
mod reads;
mod writes;
