//! The store's interface: the types and the `EventStore` trait a second backend (e.g. PostgreSQL) could implement.

use chrono::{DateTime, Utc};
pub use compact_str::CompactString;
use std::time::Duration;
use uuid::Uuid;

/// What an append expects the stream's version to be (optimistic concurrency).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpectedVersion {
    /// The stream must not exist yet.
    NoStream,
    /// The stream's last version must be exactly this.
    Exactly(u64),
    /// No check.
    Any,
}

/// An event to append: its type name, schema version and data (the event's own fields, in the caller's encoding).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    /// Event id (UUID v7, made by the caller).
    pub id: Uuid,
    /// Stable type name, e.g. `CompanyApproved`.
    pub event_type: String,
    /// Schema version of that type.
    pub schema: u32,
    /// The event's fields, as bytes the store does not interpret (`expo`
    /// writes JSON text or the domain's binary form; the first byte tells).
    pub data: Vec<u8>,
}

/// Metadata shared by the events of one append (one command).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendMeta {
    /// Idempotency key: the same id again returns the first outcome and writes nothing.
    pub command_id: Option<Uuid>,
    /// Who issued the command.
    pub actor: String,
    /// When the command was issued (given by the caller; the store does not read the clock for it).
    pub recorded_at: DateTime<Utc>,
}

/// A stored event with its full envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedEvent {
    /// Global position, gapless from 1.
    pub position: u64,
    /// Stream name.
    pub stream: CompactString,
    /// Version in its stream, gapless from 1.
    pub version: u64,
    /// Event id.
    pub id: Uuid,
    /// Type name.
    pub event_type: CompactString,
    /// Schema version (after upcasting, when read).
    pub schema: u32,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
    /// The command that produced it.
    pub command_id: Option<Uuid>,
    /// Who issued that command.
    pub actor: CompactString,
    /// The event's fields, as appended (bytes the store does not interpret).
    pub data: Vec<u8>,
}

/// Where an append landed. For a retried command id, the first append's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendOutcome {
    /// Stream appended to.
    pub stream: String,
    /// Version of the first event written.
    pub first_version: u64,
    /// Version of the last event written.
    pub last_version: u64,
    /// Position of the first event written.
    pub first_position: u64,
    /// Position of the last event written.
    pub last_position: u64,
    /// True when the command id was already recorded and nothing was written now.
    pub duplicate: bool,
    /// True when the checkpoint update carried by the append was applied with it.
    pub checkpoint_applied: bool,
}

/// A projection's keyed state change, to store atomically with a new position.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CheckpointWrite {
    /// The projection's name.
    pub name: String,
    /// The projection's code/format version stamp: a different stamp means stale state.
    pub stamp: String,
    /// Keys to set (`Some`) or delete (`None`). Values may be of any size.
    pub writes: Vec<(String, Option<Vec<u8>>)>,
}

/// Where a projection's stored state stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The last log position folded into the stored state.
    pub position: u64,
    /// The version stamp it was written with.
    pub stamp: String,
}

/// What `verify` found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VerifyReport {
    /// Events checked.
    pub events: u64,
    /// Streams checked.
    pub streams: u64,
    /// Checkpoints checked.
    pub checkpoints: u64,
}

/// How to open a store.
#[derive(Clone)]
pub struct OpenOptions {
    /// How long to wait, with back-off, for a store held by another process.
    pub wait: Duration,
    /// Upgrades older event schemas when read; `None` reads records as stored.
    pub upcaster: Option<std::sync::Arc<dyn Upcaster>>,
    /// The process is about to write a great deal (an import): the storage
    /// engine then keeps more of what it writes in memory (64 MiB instead of
    /// 8 MiB), so the index and state pages it revisits are not read back
    /// from disk. Reads, replays and single commands leave it off.
    pub bulk: bool,
    /// The process opens this store once and exits soon after closing it
    /// (the `expo` command line). Closing the store then skips the storage
    /// engine's teardown once everything written is on disk (or when nothing
    /// was written); the operating system releases its files and lock at
    /// exit. A process that may open the same store again must leave it off:
    /// it would find the store still locked. Such a process also runs
    /// without the storage engine's periodic flusher and, unless `bulk`,
    /// writes the engine's small log buffers itself instead of starting its
    /// I/O threads (the same writes and syncs, fewer threads).
    pub one_shot: bool,
}

/// Upgrades a stored event of an older schema when it is read (never rewriting it).
pub trait Upcaster: Send + Sync {
    /// Returns the upgraded `(schema, data)`, or `Ok(None)` when the record is current.
    fn upcast(
        &self,
        event_type: &str,
        schema: u32,
        data: &[u8],
    ) -> Result<Option<(u32, Vec<u8>)>, String>;
}

/// Storage failures. A conflict is not here: see [`AppendError`].
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another process holds the store and did not let go within the wait.
    #[error("another process holds the store at {path} (waited {waited_ms} ms); try again when it has finished, or raise --wait")]
    Locked {
        /// The store's directory.
        path: String,
        /// How long we waited.
        waited_ms: u64,
    },
    /// The disk is full.
    #[error("the disk holding the store is full: {0}")]
    DiskFull(String),
    /// Any other I/O failure.
    #[error("storage I/O error: {0}")]
    Io(String),
    /// A record that does not decode or breaks an invariant, at a position.
    #[error("store is damaged at position {position}: {problem}")]
    Corrupt {
        /// The position (or nearest) of the bad record.
        position: u64,
        /// What is wrong.
        problem: String,
    },
    /// Damage the storage engine found in its own files, where no event
    /// position can be named.
    #[error("store is damaged: {0}")]
    Damaged(String),
    /// An import that does not continue the store exactly.
    #[error("event {index} of the import does not continue the store: {problem}")]
    Discontinuous {
        /// 1-based index of the offending event in the import.
        index: u64,
        /// What is wrong.
        problem: String,
    },
}

/// Why an append wrote nothing.
#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    /// The stream's version is not what the append expected. Expected outcome
    /// under concurrency: re-read the stream, decide again, append again.
    #[error("stream {stream} is at version {actual:?}, expected {expected:?}")]
    Conflict {
        /// Stream.
        stream: String,
        /// What the append expected.
        expected: ExpectedVersion,
        /// The stream's actual last version (`None`: no stream).
        actual: Option<u64>,
    },
    /// A storage failure.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A projection's new state being built aside (see
/// [`EventStore::checkpoint_build`]). Nothing of it is visible to
/// [`EventStore::checkpoint_get`] or `checkpoint_scan` before `commit`.
pub trait StateBuild {
    /// Sets `key` in the new state, replacing what an earlier `put` of the
    /// same key set.
    fn put(&mut self, key: String, value: Vec<u8>) -> Result<(), StoreError>;
    /// What the new state holds under `key` so far.
    fn get(&mut self, key: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// Makes the new state the projection's state at `position` with
    /// `stamp`, in one atomic, durable switch; the old state is removed.
    fn commit(self: Box<Self>, stamp: &str, position: u64) -> Result<(), StoreError>;
}

/// A boxed iterator of stored events.
pub type Events<'a> = Box<dyn Iterator<Item = Result<RecordedEvent, StoreError>> + 'a>;

/// The event store's interface. `SledStore` implements it; the rest of the
/// program uses only this trait (promise 11).
pub trait EventStore: Send + Sync {
    /// Appends one command's events to one stream, atomically and durably
    /// (returns only after flush and fsync). With `checkpoint`, the projection
    /// state change is stored in the same atomic write and the checkpoint's
    /// position moves to the last appended position — only if that
    /// checkpoint stood at the log's head before the append (else it is
    /// ignored and `checkpoint_applied` is false).
    fn append(
        &self,
        stream: &str,
        expected: ExpectedVersion,
        meta: &AppendMeta,
        events: &[NewEvent],
        checkpoint: Option<&CheckpointWrite>,
    ) -> Result<AppendOutcome, AppendError>;

    /// Appends already-recorded events (an export) that must continue the
    /// store exactly: positions from `last_position() + 1`, versions
    /// contiguous per stream. All or nothing: on any error, or a crash,
    /// nothing of this import is visible. Durable when it returns.
    /// `progress` is called with the number of events written so far.
    fn import(
        &self,
        events: &mut dyn Iterator<Item = Result<RecordedEvent, StoreError>>,
        progress: &mut dyn FnMut(u64),
    ) -> Result<u64, StoreError>;

    /// Events of one stream from `from_version` (1 = all), in order.
    fn read_stream(&self, stream: &str, from_version: u64) -> Events<'_>;
    /// The whole log from `from_position` (1 = all), in order, streaming.
    fn read_all(&self, from_position: u64) -> Events<'_>;
    /// The stream's last version, `None` if it does not exist.
    fn stream_version(&self, stream: &str) -> Result<Option<u64>, StoreError>;
    /// Every stream with its last version, by name.
    fn streams(&self) -> Result<Vec<(String, u64)>, StoreError>;
    /// The last global position (0 when empty).
    fn last_position(&self) -> Result<u64, StoreError>;

    /// Where a projection's stored state stands, `None` if never stored.
    fn checkpoint(&self, name: &str) -> Result<Option<Checkpoint>, StoreError>;
    /// One key of a projection's stored state.
    fn checkpoint_get(&self, name: &str, key: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// Every key of a projection's stored state whose key starts with `prefix`, by key.
    fn checkpoint_scan(
        &self,
        name: &str,
        prefix: &str,
    ) -> Result<Vec<(String, Vec<u8>)>, StoreError>;
    /// Stores a state change and the new position together, atomically and
    /// durably, if the stored position is still `expected_position`.
    /// Returns false (writing nothing) if it is not.
    fn checkpoint_commit(
        &self,
        write: &CheckpointWrite,
        expected_position: u64,
        new_position: u64,
    ) -> Result<bool, StoreError>;
    /// Replaces a projection's whole state: `entries` (each key once) are
    /// written aside and become the state (with `position` and `stamp`) in
    /// one atomic switch at the end; a crash before the switch leaves the old
    /// state and position.
    fn checkpoint_replace(
        &self,
        name: &str,
        stamp: &str,
        position: u64,
        entries: &mut dyn Iterator<Item = (String, Vec<u8>)>,
    ) -> Result<(), StoreError>;
    /// Starts building a projection's whole new state aside, for a rebuild
    /// that cannot hold it all in memory: it writes keys into the new state
    /// and reads them back while it folds. [`StateBuild::commit`] makes it
    /// the state in one atomic switch, as [`EventStore::checkpoint_replace`]
    /// does; dropped uncommitted (or a crash), the old state and position
    /// stay and the new one is removed. Holds the store's writes until then.
    fn checkpoint_build(&self, name: &str) -> Result<Box<dyn StateBuild + '_>, StoreError>;

    /// Walks the whole store and checks every promise; the first problem is an error.
    fn verify(&self) -> Result<VerifyReport, StoreError>;
}
