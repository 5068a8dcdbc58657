//! The decider: `decide` turns a command and the state into events or a refusal; `evolve` folds an event into the state.

use crate::{Command, DomainError, Event, State};

/// Decides what a command on a delegation yields: events, or the rule it breaks.
pub fn decide(_command: &Command, _state: &State) -> Result<Vec<Event>, DomainError> {
    Ok(Vec::new())
}

/// Folds one event into the state.
pub fn evolve(state: State, _event: &Event) -> State {
    state
}

/// Folds events, in order, from the initial state.
pub fn fold<'a>(events: impl IntoIterator<Item = &'a Event>) -> State {
    events.into_iter().fold(State::default(), evolve)
}
