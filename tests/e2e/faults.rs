//! Fault campaign: kill -9, a full disk, damaged store files, contention and hostile input, driving the real `expo` binary.
//!
//! Every random choice comes from a seeded PRNG whose seed each test prints
//! (`EXPO_FAULT_SEED=N` repeats a run). The default run is small (95 kills,
//! 40 damage trials, 10 s of contention, 100 hostile files); set
//! `EXPO_SLOW_TESTS=1` for the long campaign (620+ kills including a
//! million-event import, 300 damage trials, 30 s of contention, 1,200
//! hostile files). Bugs found get a regression test in `regressions`.

mod contention;
mod damage;
mod disk;
mod hostile;
mod kill;
mod regressions;
mod rig;
