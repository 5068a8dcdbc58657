//! A delegation's state as the decider sees it, built only by `evolve`.

/// The state of one delegation stream. `State::default()` is the initial
/// state: no delegation yet.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct State {}
