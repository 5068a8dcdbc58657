//! `SledStore`: opening (lock wait), appends with group commit, import, reads, checkpoints, and durability (flush + fsync).

use crate::api::*;
use crate::codec::{self, CheckpointMeta, EventFields};
use crate::guard::{guarded, io_err, sled_err};
use std::collections::{BTreeMap, HashSet};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// sled's page cache. Small: one command reads a few pages, and a replay or
/// an export streams the log once, so a page is rarely read twice. (sled
/// 0.34.7 only honours this limit with the patched LRU in vendor/sled;
/// before, reading a 1M-event log kept all 70 MB of it.) Measured on the
/// bench's 1M store: 64 → 8 MiB took replay's peak from 265 to 200-210 MiB,
/// and import's CPU time did not grow.
const CACHE_BYTES: u64 = 8 << 20;

/// sled's cache for a bulk writer (`OpenOptions::bulk`). With 8 MiB an
/// import of 1M events read 21,000 pages back from disk (the `S` and `Q`
/// pages it keeps revisiting); with 64 MiB the import ran 8-10 % faster at
/// the same peak memory (measured: 1.83/2.05 s -> 1.65/1.78 s, RSS ~300 MB
/// either way).
const BULK_CACHE_BYTES: u64 = 64 << 20;
/// Raw bytes per import/replace write batch before it is applied.
const BATCH_BYTES: usize = 1 << 20;
/// Raw bytes of a `checkpoint_replace`'s puts stored at a time (on two
/// threads, see `Build::store_pending_on_two_threads`): a little more than
/// a write batch, so both threads stay busy between hand-overs (2 and 8
/// MiB measured alike).
const REPLACE_SET_BYTES: usize = 2 << 20;
/// Keys per batch for many small keys that need no atomic batch: deleting a
/// generation of a projection's state (garbage), and the last index blocks
/// of an import. Unpatched, sled kept a copy of a leaf for every key a batch
/// changed until the batch ended: with 10,000 keys a batch, deleting the old
/// rosters after a 10M-event replay took its peak memory from ~90 to ~250 MB.
/// (The vendored sled now frees them every 64 keys of a batch; small batches
/// still keep each one short.)
const SMALL_KEYS_BATCH: usize = 256;
/// Positions per stream index block written by an import.
const INDEX_BLOCK: usize = 1024;

/// The sled-backed event store. Cheap to share: clone it (all clones use one sled `Db`).
#[derive(Clone)]
pub struct SledStore {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) db: sled::Db,
    path: PathBuf,
    pub(crate) upcaster: Option<Arc<dyn Upcaster>>,
    /// Serialises every write: the head (position counter) and write sequence.
    write: Mutex<WriteState>,
    /// (write sequence, head) of the last applied batch; a leaf lock.
    applied: Mutex<(u64, u64)>,
    /// Group commit: the sequence known durable, and the files to fsync.
    sync: Mutex<SyncState>,
    /// The durable head, for subscribers.
    pub(crate) head_tx: watch::Sender<u64>,
    /// The head recorded in `expo-head` at the last clean close: sled must
    /// never come back with less (it silently truncates a damaged log).
    floor: u64,
    /// Set after each write to sled, cleared by the group commit before its
    /// flush: a close with nothing unsynced (a process that wrote nothing, or
    /// whose writes its group commits covered) skips flushing and fsyncing.
    unsynced: AtomicBool,
    /// `OpenOptions::one_shot`: a close that leaves nothing unsynced leaves
    /// sled to the process's exit instead of tearing it down.
    one_shot: bool,
}

/// The file beside sled's where a clean close records the durable head.
const HEAD_FILE: &str = "expo-head";

fn read_floor(path: &Path) -> u64 {
    // A missing or unreadable file only weakens the check; it never fails the open.
    std::fs::read_to_string(path.join(HEAD_FILE))
        .ok()
        .and_then(|s| parse_head_file(&s))
        .unwrap_or(0)
}

/// The head a head file records: `expo-head v2 <20 digits> <crc32 hex>`
/// (the crc of what precedes its space), or `expo-head v1 <n>` as written
/// before; `None` for anything else, so a torn overwrite never reads as a
/// number.
fn parse_head_file(text: &str) -> Option<u64> {
    if let Some(v1) = text.strip_prefix("expo-head v1 ") {
        return v1.trim().parse().ok();
    }
    let line = text.strip_suffix('\n')?;
    let (body, crc) = line.rsplit_once(' ')?;
    let digits = body.strip_prefix("expo-head v2 ")?;
    if digits.len() != 20
        || crc.len() != 8
        || u32::from_str_radix(crc, 16).ok()? != crc32fast::hash(body.as_bytes())
    {
        return None;
    }
    digits.parse().ok()
}

/// The head file's text for `head`: always 43 bytes, so that it can be
/// overwritten in place.
fn head_file_text(head: u64) -> String {
    let body = format!("expo-head v2 {head:020}");
    let crc = crc32fast::hash(body.as_bytes());
    format!("{body} {crc:08x}\n")
}

/// Overwrites the head file in place (creating it if missing). No rename:
/// replacing a file by rename cost ~0.3 ms of every write command (ext4
/// starts writing the new file's data at the rename). After a power loss
/// the file holds the old text, the new one, or a mix that fails its crc
/// and reads as no floor: each a true lower bound, as before.
fn write_head_file(path: &Path, head: u64) -> std::io::Result<()> {
    use std::io::Write;
    let text = head_file_text(head);
    // A new handle writes from offset 0.
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(path.join(HEAD_FILE))?;
    file.write_all(text.as_bytes())?;
    if file.metadata()?.len() != text.len() as u64 {
        file.set_len(text.len() as u64)?;
    }
    Ok(())
}

impl Drop for Inner {
    fn drop(&mut self) {
        let head = lock(&self.write).head;
        if head < self.floor {
            return;
        }
        // A process that wrote nothing (a roster, a report, an export) has
        // nothing to sync, and a command's group commit already flushed and
        // fsynced its write: only what came after one (e.g. deleting old
        // rosters) needs it here.
        if self.unsynced.load(Ordering::SeqCst)
            && (self.db.flush().is_err() || self.sync_files(&mut lock(&self.sync)).is_err())
        {
            return;
        }
        // Written with no fsync: every head written here was already
        // durable, so after a power loss the file holds this value, an older
        // one, or nothing readable, each a true lower bound. The same head
        // as the file's needs no new file.
        if head != self.floor {
            let _ = write_head_file(&self.path, head);
        }
        // Everything this process wrote is on disk now (its group commits,
        // or the flush and fsyncs above): sled's own teardown would only
        // flush and fsync again.
        self.leave_to_exit();
    }
}

impl Inner {
    /// In a one-shot process (`OpenOptions::one_shot`), which exits right
    /// after this close, keeps sled from tearing itself down: one more handle,
    /// never dropped, spares freeing its page table and joining its threads
    /// (~0.5 ms of every `expo` command on a 1M-event store). Called only
    /// when nothing this process wrote is left unsynced; exit releases the
    /// file lock.
    fn leave_to_exit(&self) {
        if self.one_shot {
            std::mem::forget(self.db.clone());
        }
    }
}

struct WriteState {
    head: u64,
    seq: u64,
    /// A failed import could not remove what it wrote past the head: clean up before the next write.
    orphans: bool,
}

struct SyncState {
    synced_seq: u64,
    db_file: File,
    /// Names in the store directory and in `blobs/` already made durable.
    known_entries: HashSet<PathBuf>,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding a lock (a sled panic caught by `guarded`) must not
    // make the store unusable: the protected values are plain counters.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl SledStore {
    /// Opens (or creates) the store in directory `path`. If another process
    /// holds it, retries with back-off for up to `options.wait`, then fails
    /// with [`StoreError::Locked`].
    pub fn open(path: &Path, options: OpenOptions) -> Result<SledStore, StoreError> {
        guarded(|| {
            let db = open_with_wait(path, &options)?;
            let head = match db.get(codec::KEY_HEAD).map_err(sled_err)? {
                Some(v) => codec::be_u64(&v).ok_or(StoreError::Corrupt {
                    position: 0,
                    problem: "bad head key".into(),
                })?,
                None => 0,
            };
            let db_file = File::open(path.join("db")).map_err(io_err)?;
            let (head_tx, _) = watch::channel(head);
            let store = SledStore {
                inner: Arc::new(Inner {
                    db,
                    path: path.to_path_buf(),
                    upcaster: options.upcaster,
                    write: Mutex::new(WriteState {
                        head,
                        seq: 0,
                        orphans: false,
                    }),
                    applied: Mutex::new((0, head)),
                    sync: Mutex::new(SyncState {
                        synced_seq: 0,
                        db_file,
                        known_entries: HashSet::new(),
                    }),
                    head_tx,
                    floor: read_floor(path),
                    unsynced: AtomicBool::new(false),
                    one_shot: options.one_shot,
                }),
            };
            {
                let w = lock(&store.inner.write);
                store.inner.clean_up(&w)?;
            }
            // After a clean close (the head file matches) every file here was
            // fsynced by that close: remember them without syncing again. After
            // a crash, fsync everything once (sled may have recovered log
            // entries, or blob files, that the dead process never fsynced).
            if store.inner.floor == head && head > 0 {
                let mut s = lock(&store.inner.sync);
                for dir in [path.join("blobs"), path.to_path_buf()] {
                    if let Ok(entries) = std::fs::read_dir(dir) {
                        s.known_entries.extend(entries.flatten().map(|e| e.path()));
                    }
                }
            } else {
                File::open(path.join("conf"))
                    .and_then(|f| f.sync_all())
                    .map_err(io_err)?;
                store.inner.sync_files(&mut lock(&store.inner.sync))?;
            }
            Ok(store)
        })
    }

    /// The store's directory.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }
}

/// Opens sled with the settings `options` ask for, retrying while another
/// process holds the store (up to `options.wait`).
///
/// A bulk writer gets the larger cache. A one-shot process (one command)
/// runs without sled's periodic flusher: every write it acknowledges is
/// flushed and fsynced by the store itself, and the flusher's thread and its
/// fsync as soon as it starts were ~0.2-0.3 ms of every command. Unless it
/// is a bulk writer, it also writes sled's small log buffers in the thread
/// that waits for them (`inline_io`): no I/O pool to start for two or three
/// writes (~0.7 ms of a `company register`). Same writes, same
/// `sync_file_range`, same fsyncs. A state build switches back to the pool
/// while it runs (`Build`), since it writes buffer after buffer.
fn open_with_wait(path: &Path, options: &OpenOptions) -> Result<sled::Db, StoreError> {
    let wait = options.wait;
    let cache = if options.bulk {
        BULK_CACHE_BYTES
    } else {
        CACHE_BYTES
    };
    let flush_every_ms = if options.one_shot { None } else { Some(500) };
    let inline_io = options.one_shot && !options.bulk;
    let start = Instant::now();
    let mut pause = Duration::from_millis(5);
    loop {
        let res = sled::Config::new()
            .path(path)
            .cache_capacity(cache)
            .flush_every_ms(flush_every_ms)
            .inline_io(inline_io)
            .open();
        match res {
            Ok(db) => return Ok(db),
            Err(sled::Error::Io(e))
                if e.to_string().contains("could not acquire lock")
                    || e.kind() == std::io::ErrorKind::WouldBlock =>
            {
                let waited = start.elapsed();
                if waited >= wait {
                    return Err(StoreError::Locked {
                        path: path.display().to_string(),
                        waited_ms: u64::try_from(waited.as_millis()).unwrap_or(u64::MAX),
                    });
                }
                std::thread::sleep(pause.min(wait - waited));
                pause = (pause * 2).min(Duration::from_millis(200));
            }
            Err(e) => return Err(sled_err(e)),
        }
    }
}

fn corrupt(position: u64, problem: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        position,
        problem: problem.into(),
    }
}

fn bad_name(problem: String) -> StoreError {
    StoreError::Io(problem)
}

impl Inner {
    /// Refuses writes (and fails verify) when sled came back with fewer events than a clean close recorded.
    pub(crate) fn check_floor(&self, head: u64) -> Result<(), StoreError> {
        if head < self.floor {
            return Err(corrupt(head + 1, format!("the log ends at position {head}, but {} events were stored at the last clean close: the storage engine dropped a damaged part of its log", self.floor)));
        }
        Ok(())
    }

    /// Checks the floor and removes what a failed import left past the head.
    fn before_write(&self, w: &mut WriteState) -> Result<(), StoreError> {
        self.check_floor(w.head)?;
        if w.orphans {
            self.clean_up(w)?;
            w.orphans = false;
        }
        Ok(())
    }

    fn head(&self) -> u64 {
        lock(&self.applied).1
    }

    /// Every write this process makes to sled goes through here (single keys
    /// as one-entry batches), so the close knows whether anything is unsynced.
    fn apply_batch(&self, batch: sled::Batch) -> Result<(), StoreError> {
        let applied = self.db.apply_batch(batch).map_err(sled_err);
        // After the batch, so that a group commit that clears the flag
        // before its flush never leaves a later batch unsynced and unflagged.
        self.unsynced.store(true, Ordering::SeqCst);
        applied
    }

    /// Applies one batch under the write lock and records the new head.
    fn apply(
        &self,
        w: &mut WriteState,
        batch: sled::Batch,
        new_head: u64,
    ) -> Result<u64, StoreError> {
        self.apply_batch(batch)?;
        w.head = new_head;
        w.seq += 1;
        *lock(&self.applied) = (w.seq, w.head);
        Ok(w.seq)
    }

    /// Group commit: returns once write `seq` is durable. One caller flushes
    /// and fsyncs for every write applied before it started; the others wait
    /// on the lock and find their write already covered.
    fn make_durable(&self, seq: u64) -> Result<(), StoreError> {
        let mut s = lock(&self.sync);
        if s.synced_seq >= seq {
            return Ok(());
        }
        let (applied_seq, applied_head) = *lock(&self.applied);
        // Cleared before the flush: every batch applied so far is covered by
        // it, and one applied meanwhile sets the flag again after itself.
        self.unsynced.store(false, Ordering::SeqCst);
        let synced = self
            .db
            .flush()
            .map_err(sled_err)
            .and_then(|_| self.sync_files(&mut s));
        if let Err(e) = synced {
            self.unsynced.store(true, Ordering::SeqCst);
            return Err(e);
        }
        s.synced_seq = applied_seq;
        self.head_tx.send_if_modified(|h| {
            let newer = applied_head > *h;
            if newer {
                *h = applied_head;
            }
            newer
        });
        Ok(())
    }

    /// fsync #2: any new blob file and the `blobs/` directory (before `db`,
    /// which may point at them). fsync #3: the store directory when its
    /// entries changed (sled's `snap.*` renames, new files). fsync #1: the
    /// `db` file (sled's log and pages).
    fn sync_files(&self, s: &mut SyncState) -> Result<(), StoreError> {
        // Blobs first: once `db` is durable it may point at them.
        let blobs = self.path.join("blobs");
        for dir in [&blobs, &self.path] {
            let Ok(entries) = std::fs::read_dir(dir) else {
                continue;
            };
            let mut changed = false;
            let mut seen = Vec::new();
            for entry in entries.flatten() {
                let p = entry.path();
                if !s.known_entries.contains(&p) {
                    changed = true;
                    if dir == &blobs {
                        // sled never fsyncs blob files.
                        if let Ok(f) = File::open(&p) {
                            f.sync_all().map_err(io_err)?;
                        }
                    }
                }
                seen.push(p);
            }
            if changed {
                File::open(dir).and_then(|f| f.sync_all()).map_err(io_err)?;
                s.known_entries.extend(seen);
            }
        }
        s.db_file.sync_all().map_err(io_err)
    }

    /// Removes what a crashed import left past the head, and dead checkpoint
    /// generations. Cheap when there is nothing to do (two prefix probes).
    fn clean_up(&self, w: &WriteState) -> Result<(), StoreError> {
        if let Some(v) = self.db.get(codec::KEY_IMPORT).map_err(sled_err)? {
            let start = codec::be_u64(&v).ok_or_else(|| corrupt(w.head, "bad import marker"))?;
            self.remove_past(start)?;
        }
        let garbage: Vec<sled::IVec> = self
            .db
            .scan_prefix([codec::PFX_GARBAGE])
            .keys()
            .collect::<Result<_, _>>()
            .map_err(sled_err)?;
        for g in garbage {
            let (name, rest) =
                codec::split_named(&g).ok_or_else(|| corrupt(w.head, "bad garbage key"))?;
            let generation =
                codec::be_u64(rest).ok_or_else(|| corrupt(w.head, "bad garbage key"))?;
            self.drop_generation(name, generation)?;
        }
        Ok(())
    }

    /// Deletes one generation of a checkpoint's state, then its garbage
    /// marker: a crash part-way leaves the marker, and the next open finishes.
    fn drop_generation(&self, name: &str, generation: u64) -> Result<(), StoreError> {
        self.remove_prefix(&codec::state_generation_prefix(name, generation).map_err(bad_name)?)?;
        let mut batch = sled::Batch::default();
        batch.remove(codec::garbage_key(name, generation).map_err(bad_name)?);
        self.apply_batch(batch)
    }

    /// Deletes log records at or after `start` and index blocks starting at or after it, then the import marker.
    fn remove_past(&self, start: u64) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        for k in self
            .db
            .range(codec::log_key(start)..=codec::log_key(u64::MAX))
            .keys()
        {
            batch.remove(k.map_err(sled_err)?);
        }
        for kv in self.db.scan_prefix([codec::PFX_INDEX]) {
            let (k, v) = kv.map_err(sled_err)?;
            if codec::first_indexed_position(&v).is_none_or(|p| p >= start) {
                batch.remove(k);
            }
        }
        batch.remove(codec::KEY_IMPORT);
        self.apply_batch(batch)
    }

    /// One state value: its chunks under `prefix` (a state key's prefix) in
    /// order, joined; `None` if there are none.
    fn read_state(&self, prefix: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let mut value: Option<Vec<u8>> = None;
        for v in self.db.scan_prefix(prefix).values() {
            value
                .get_or_insert_with(Vec::new)
                .extend_from_slice(&v.map_err(sled_err)?);
        }
        Ok(value)
    }

    /// Inserts `puts` (in key order) key by key, the second half on another
    /// thread, for keys that no reader looks at yet (a generation of state
    /// before its switch).
    ///
    /// Not as sled batches: sled applies one batch at a time and holds
    /// every other reader and writer in the process meanwhile (its global
    /// concurrency lock), while single inserts run side by side. Whatever
    /// part of them a crash leaves is garbage the next open removes (the
    /// generation is marked `G` until its switch, one batch after these).
    fn insert_on_two_threads(&self, puts: &[(Vec<u8>, &[u8])]) -> Result<(), StoreError> {
        let insert_all = |part: &[(Vec<u8>, &[u8])]| {
            guarded(|| {
                for (k, v) in part {
                    self.db.insert(k.as_slice(), *v).map_err(sled_err)?;
                }
                Ok(())
            })
        };
        let (first, second) = puts.split_at(puts.len() / 2);
        let inserted = std::thread::scope(|s| {
            let other = s.spawn(|| insert_all(second));
            let mine = insert_all(first);
            let theirs = other
                .join()
                .unwrap_or_else(|_| Err(corrupt(0, "a writer thread stopped".to_owned())));
            mine.and(theirs)
        });
        // After the writes, as `apply_batch` sets it.
        self.unsynced.store(true, Ordering::SeqCst);
        inserted
    }

    /// Deletes every key under `prefix`, in batches of `SMALL_KEYS_BATCH` keys
    /// (nothing here needs one atomic batch: the callers delete garbage).
    fn remove_prefix(&self, prefix: &[u8]) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        let mut n = 0;
        for k in self.db.scan_prefix(prefix).keys() {
            batch.remove(k.map_err(sled_err)?);
            n += 1;
            if n % SMALL_KEYS_BATCH == 0 {
                self.apply_batch(std::mem::take(&mut batch))?;
            }
        }
        self.apply_batch(batch)
    }

    fn stream_head(&self, stream: &str) -> Result<Option<(u64, u64)>, StoreError> {
        match self.db.get(codec::version_key(stream)).map_err(sled_err)? {
            Some(v) => codec::read_stream_head(&v)
                .map(Some)
                .ok_or_else(|| corrupt(0, format!("bad head of stream {stream}"))),
            None => Ok(None),
        }
    }

    fn checkpoint_meta(&self, name: &str) -> Result<Option<CheckpointMeta>, StoreError> {
        let key = codec::checkpoint_key(name).map_err(bad_name)?;
        match self.db.get(key).map_err(sled_err)? {
            Some(v) => CheckpointMeta::decode(&v)
                .map(Some)
                .ok_or_else(|| corrupt(0, format!("bad checkpoint {name}"))),
            None => Ok(None),
        }
    }

    /// Adds a checkpoint's key writes (last write per key wins) to `batch`.
    fn stage_state_writes(
        &self,
        batch: &mut sled::Batch,
        name: &str,
        generation: u64,
        writes: &[(String, Option<Vec<u8>>)],
    ) -> Result<(), StoreError> {
        let mut last: BTreeMap<&str, Option<&Vec<u8>>> = BTreeMap::new();
        for (k, v) in writes {
            last.insert(k, v.as_ref());
        }
        for (key, value) in last {
            let prefix = codec::state_key_prefix(name, generation, key).map_err(bad_name)?;
            for old in self.db.scan_prefix(&prefix).keys() {
                batch.remove(old.map_err(sled_err)?);
            }
            if let Some(v) = value {
                stage_chunks(batch, &prefix, v);
            }
        }
        Ok(())
    }

    /// Decodes the record holding `position` (the last `L` key at or before it).
    pub(crate) fn record_at(&self, position: u64) -> Result<Vec<RecordedEvent>, StoreError> {
        let found = self
            .db
            .range(codec::log_key(0)..=codec::log_key(position))
            .next_back()
            .transpose()
            .map_err(sled_err)?;
        let Some((k, v)) = found else {
            return Err(corrupt(position, "no log record holds this position"));
        };
        let first = codec::log_key_position(&k).ok_or_else(|| corrupt(position, "bad log key"))?;
        self.decode_record(first, &v)
    }

    /// Decodes a record and applies the upcaster to each event.
    pub(crate) fn decode_record(
        &self,
        first: u64,
        value: &[u8],
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let (count, body) = codec::open_record(value).map_err(|p| corrupt(first, p))?;
        let mut out = Vec::with_capacity(count as usize);
        codec::decode_events(&body, count, first, &mut out)
            .map_err(|(p, problem)| corrupt(p, problem))?;
        if let Some(up) = &self.upcaster {
            for e in &mut out {
                match up.upcast(&e.event_type, e.schema, &e.data) {
                    Ok(Some((schema, data))) => {
                        e.schema = schema;
                        e.data = data;
                    }
                    Ok(None) => {}
                    Err(problem) => {
                        return Err(corrupt(
                            e.position,
                            format!(
                                "upcasting {} schema {} failed: {problem}",
                                e.event_type, e.schema
                            ),
                        ))
                    }
                }
            }
        }
        Ok(out)
    }
}

fn stage_chunks(batch: &mut sled::Batch, prefix: &[u8], value: &[u8]) {
    for (k, c) in chunk_keys(prefix, value) {
        batch.insert(k, c);
    }
}

/// The keys and chunks a state value is stored as (one empty chunk for an
/// empty value).
fn chunk_keys<'v>(prefix: &[u8], value: &'v [u8]) -> Vec<(Vec<u8>, &'v [u8])> {
    let mut chunks: Vec<&[u8]> = value.chunks(codec::STATE_CHUNK).collect();
    if chunks.is_empty() {
        chunks.push(&[]);
    }
    chunks
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            let mut k = prefix.to_vec();
            k.extend_from_slice(&(i as u32).to_be_bytes());
            (k, c)
        })
        .collect()
}

/// Encodes one append's events into records of about `RECORD_RAW_TARGET` bytes.
fn stage_records(
    batch: &mut sled::Batch,
    first_position: u64,
    events: impl Iterator<Item = Result<Vec<u8>, StoreError>>,
) -> Result<u64, StoreError> {
    let mut body = Vec::new();
    let mut count = 0u32;
    let mut record_first = first_position;
    let mut n = 0u64;
    for encoded in events {
        let encoded = encoded?;
        if count > 0 && body.len() + encoded.len() > codec::RECORD_RAW_TARGET {
            batch.insert(
                &codec::log_key(record_first),
                codec::seal_record(&body, count),
            );
            record_first += u64::from(count);
            body.clear();
            count = 0;
        }
        body.extend_from_slice(&encoded);
        count += 1;
        n += 1;
    }
    if count > 0 {
        batch.insert(
            &codec::log_key(record_first),
            codec::seal_record(&body, count),
        );
    }
    Ok(n)
}

fn encode_checked(fields: &EventFields<'_>) -> Result<Vec<u8>, StoreError> {
    let mut v = Vec::with_capacity(128 + fields.data.len());
    codec::encode_event(&mut v, fields);
    if v.len() > codec::MAX_EVENT_BYTES {
        return Err(StoreError::Io(format!(
            "event of {} bytes is larger than the store's limit of {} bytes",
            v.len(),
            codec::MAX_EVENT_BYTES
        )));
    }
    Ok(v)
}

impl EventStore for SledStore {
    fn append(
        &self,
        stream: &str,
        expected: ExpectedVersion,
        meta: &AppendMeta,
        events: &[NewEvent],
        checkpoint: Option<&CheckpointWrite>,
    ) -> Result<AppendOutcome, AppendError> {
        let inner = &self.inner;
        let mut conflict = None;
        let res = guarded(|| {
            let mut w = lock(&inner.write);
            inner.before_write(&mut w)?;
            if let Some(cid) = &meta.command_id {
                if let Some(v) = inner.db.get(codec::command_key(cid)).map_err(sled_err)? {
                    let mut o = codec::decode_outcome(&v)
                        .map_err(|p| corrupt(0, format!("idempotency record of {cid}: {p}")))?;
                    o.duplicate = true;
                    return Ok(Some(o));
                }
            }
            let current = inner.stream_head(stream)?.map(|(v, _)| v);
            let ok = match expected {
                ExpectedVersion::Any => true,
                ExpectedVersion::NoStream => current.is_none(),
                ExpectedVersion::Exactly(n) => current == Some(n),
            };
            if !ok {
                conflict = Some(current);
                return Ok(None);
            }
            let version0 = current.unwrap_or(0);
            let head0 = w.head;
            let n = events.len() as u64;
            let mut outcome = AppendOutcome {
                stream: stream.to_string(),
                first_version: version0 + 1,
                last_version: version0 + n,
                first_position: head0 + 1,
                last_position: head0 + n,
                duplicate: false,
                checkpoint_applied: false,
            };
            if events.is_empty() {
                return Ok(Some(outcome));
            }
            let mut batch = sled::Batch::default();
            stage_records(
                &mut batch,
                head0 + 1,
                events.iter().enumerate().map(|(i, e)| {
                    encode_checked(&EventFields {
                        stream,
                        version: version0 + 1 + i as u64,
                        id: &e.id,
                        event_type: &e.event_type,
                        schema: e.schema,
                        recorded_at: &meta.recorded_at,
                        command_id: meta.command_id.as_ref(),
                        actor: &meta.actor,
                        data: &e.data,
                    })
                }),
            )?;
            let positions: Vec<u64> = (head0 + 1..=head0 + n).collect();
            batch.insert(
                codec::index_key(stream, version0 + 1).map_err(bad_name)?,
                codec::encode_positions(&positions),
            );
            batch.insert(
                codec::version_key(stream),
                &codec::stream_head_value(version0 + n, head0 + n),
            );
            batch.insert(codec::KEY_HEAD, &(head0 + n).to_be_bytes());
            if let Some(cp) = checkpoint {
                let m = inner.checkpoint_meta(&cp.name)?;
                if m.as_ref().map_or(0, |m| m.position) == head0 {
                    let generation = m.as_ref().map_or(1, |m| m.generation);
                    inner.stage_state_writes(&mut batch, &cp.name, generation, &cp.writes)?;
                    let meta = CheckpointMeta {
                        position: head0 + n,
                        generation,
                        stamp: cp.stamp.clone(),
                    };
                    batch.insert(
                        codec::checkpoint_key(&cp.name).map_err(bad_name)?,
                        meta.encode(),
                    );
                    outcome.checkpoint_applied = true;
                }
            }
            if let Some(cid) = &meta.command_id {
                batch.insert(&codec::command_key(cid), codec::encode_outcome(&outcome));
            }
            let seq = inner.apply(&mut w, batch, head0 + n)?;
            drop(w);
            inner.make_durable(seq)?;
            Ok(Some(outcome))
        })?;
        match res {
            Some(o) => Ok(o),
            None => Err(AppendError::Conflict {
                stream: stream.to_string(),
                expected,
                actual: conflict.flatten(),
            }),
        }
    }

    fn import(
        &self,
        events: &mut dyn Iterator<Item = Result<RecordedEvent, StoreError>>,
        progress: &mut dyn FnMut(u64),
    ) -> Result<u64, StoreError> {
        let inner = &self.inner;
        guarded(|| {
            let mut w = lock(&inner.write);
            inner.before_write(&mut w)?;
            let start = w.head + 1;
            let mut imp = Import {
                inner,
                start,
                next: start,
                batch: sled::Batch::default(),
                batch_bytes: 0,
                body: Vec::new(),
                count: 0,
                record_first: start,
                streams: foldhash::HashMap::default(),
                marked: false,
            };
            match imp.run(events, progress) {
                Ok(0) => Ok(0),
                Ok(n) => {
                    // Everything written so far is beyond the head; make it
                    // durable before the one batch that makes it visible.
                    inner.db.flush().map_err(sled_err)?;
                    inner.sync_files(&mut lock(&inner.sync))?;
                    let mut last = sled::Batch::default();
                    for (stream, s) in &imp.streams {
                        if s.touched {
                            last.insert(
                                codec::version_key(stream),
                                &codec::stream_head_value(s.version, s.position),
                            );
                        }
                    }
                    last.insert(codec::KEY_HEAD, &(start + n - 1).to_be_bytes());
                    last.remove(codec::KEY_IMPORT);
                    let seq = inner.apply(&mut w, last, start + n - 1)?;
                    drop(w);
                    inner.make_durable(seq)?;
                    Ok(n)
                }
                Err(e) => {
                    // If this fails too, the `I` marker makes the next write or open clean up.
                    if imp.marked && inner.remove_past(start).is_err() {
                        w.orphans = true;
                    }
                    Err(e)
                }
            }
        })
    }

    fn read_stream(&self, stream: &str, from_version: u64) -> Events<'_> {
        match guarded(|| StreamReader::new(&self.inner, stream, from_version)) {
            Ok(r) => Box::new(r),
            Err(e) => Box::new(std::iter::once(Err(e))),
        }
    }

    fn read_all(&self, from_position: u64) -> Events<'_> {
        Box::new(LogReader::new(
            self.inner.clone(),
            from_position,
            self.inner.head(),
        ))
    }

    fn stream_version(&self, stream: &str) -> Result<Option<u64>, StoreError> {
        guarded(|| Ok(self.inner.stream_head(stream)?.map(|(v, _)| v)))
    }

    fn streams(&self) -> Result<Vec<(String, u64)>, StoreError> {
        guarded(|| {
            let mut out = Vec::new();
            for kv in self.inner.db.scan_prefix([codec::PFX_VERSION]) {
                let (k, v) = kv.map_err(sled_err)?;
                let name = std::str::from_utf8(&k[1..])
                    .map_err(|_| corrupt(0, "stream name is not UTF-8"))?;
                let (version, _) = codec::read_stream_head(&v)
                    .ok_or_else(|| corrupt(0, format!("bad head of stream {name}")))?;
                out.push((name.to_string(), version));
            }
            Ok(out)
        })
    }

    fn last_position(&self) -> Result<u64, StoreError> {
        // Readers must learn of a log the storage engine cut short, not just
        // writers: a shorter log would otherwise serve silently wrong rosters.
        let head = self.inner.head();
        self.inner.check_floor(head)?;
        Ok(head)
    }

    fn checkpoint(&self, name: &str) -> Result<Option<Checkpoint>, StoreError> {
        guarded(|| {
            Ok(self.inner.checkpoint_meta(name)?.map(|m| Checkpoint {
                position: m.position,
                stamp: m.stamp,
            }))
        })
    }

    fn checkpoint_get(&self, name: &str, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        guarded(|| {
            let Some(m) = self.inner.checkpoint_meta(name)? else {
                return Ok(None);
            };
            self.inner
                .read_state(&codec::state_key_prefix(name, m.generation, key).map_err(bad_name)?)
        })
    }

    fn checkpoint_scan(
        &self,
        name: &str,
        prefix: &str,
    ) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        guarded(|| {
            let Some(m) = self.inner.checkpoint_meta(name)? else {
                return Ok(Vec::new());
            };
            let gen_prefix =
                codec::state_generation_prefix(name, m.generation).map_err(bad_name)?;
            let mut scan = gen_prefix.clone();
            codec::escape_into(&mut scan, prefix.as_bytes());
            let mut out: Vec<(String, Vec<u8>)> = Vec::new();
            for kv in self.inner.db.scan_prefix(&scan) {
                let (k, v) = kv.map_err(sled_err)?;
                let (key, chunk) =
                    codec::split_state_suffix(&k[gen_prefix.len()..]).ok_or_else(|| {
                        corrupt(m.position, format!("bad state key in checkpoint {name}"))
                    })?;
                match out.last_mut() {
                    Some((last, value)) if *last == key && chunk > 0 => value.extend_from_slice(&v),
                    _ => out.push((key, v.to_vec())),
                }
            }
            Ok(out)
        })
    }

    fn checkpoint_commit(
        &self,
        write: &CheckpointWrite,
        expected_position: u64,
        new_position: u64,
    ) -> Result<bool, StoreError> {
        let inner = &self.inner;
        guarded(|| {
            let mut w = lock(&inner.write);
            inner.before_write(&mut w)?;
            if new_position > w.head {
                return Err(corrupt(
                    new_position,
                    format!(
                        "checkpoint {} would move beyond the log head {}",
                        write.name, w.head
                    ),
                ));
            }
            let m = inner.checkpoint_meta(&write.name)?;
            if m.as_ref().map_or(0, |m| m.position) != expected_position {
                return Ok(false);
            }
            let generation = m.as_ref().map_or(1, |m| m.generation);
            let mut batch = sled::Batch::default();
            inner.stage_state_writes(&mut batch, &write.name, generation, &write.writes)?;
            let meta = CheckpointMeta {
                position: new_position,
                generation,
                stamp: write.stamp.clone(),
            };
            batch.insert(
                codec::checkpoint_key(&write.name).map_err(bad_name)?,
                meta.encode(),
            );
            let head = w.head;
            let seq = inner.apply(&mut w, batch, head)?;
            drop(w);
            inner.make_durable(seq)?;
            Ok(true)
        })
    }

    fn checkpoint_replace(
        &self,
        name: &str,
        stamp: &str,
        position: u64,
        entries: &mut dyn Iterator<Item = (String, Vec<u8>)>,
    ) -> Result<(), StoreError> {
        guarded(|| {
            let mut build = Build::start(&self.inner, name)?;
            // Refused before writing anything, not after the whole state.
            build.check_position(position)?;
            build.keys_once = true;
            for (key, value) in entries {
                build.stage(key, value)?;
            }
            build.finish(stamp, position)
        })
    }

    fn checkpoint_build(&self, name: &str) -> Result<Box<dyn StateBuild + '_>, StoreError> {
        guarded(|| Ok(Box::new(Build::start(&self.inner, name)?) as Box<dyn StateBuild>))
    }

    fn verify(&self) -> Result<VerifyReport, StoreError> {
        let inner = &self.inner;
        guarded(|| {
            let w = lock(&inner.write);
            inner.check_floor(w.head)?;
            crate::verify::verify(inner, w.head)
        })
    }
}

/// A new generation of a projection's state, written aside under the write
/// lock; see `EventStore::checkpoint_build`. Puts wait in `pending` (the
/// last put of a key wins, and `get` sees it) until ~1 MiB of them is
/// applied as one batch (~2 MiB stored on two threads, for a
/// `checkpoint_replace`).
struct Build<'a> {
    inner: &'a Inner,
    w: MutexGuard<'a, WriteState>,
    name: String,
    generation: u64,
    old_generation: Option<u64>,
    pending: foldhash::HashMap<String, Vec<u8>>,
    pending_bytes: usize,
    /// Whether a batch of this generation reached sled: until then no key
    /// can have chunks to replace.
    applied_any: bool,
    /// Every key is put once (`checkpoint_replace`): no chunks to replace,
    /// so no lookup per key.
    keys_once: bool,
    finished: bool,
    /// sled's `inline_io` before the build, put back when it ends.
    inline_io: bool,
}

impl<'a> Build<'a> {
    fn start(inner: &'a Inner, name: &str) -> Result<Self, StoreError> {
        let mut w = lock(&inner.write);
        inner.before_write(&mut w)?;
        let old_generation = inner.checkpoint_meta(name)?.map(|m| m.generation);
        let generation = old_generation.unwrap_or(0) + 1;
        // The new generation is marked garbage until the switch: a crash
        // before it leaves the old state, and the next open removes this one.
        let mut marking = sled::Batch::default();
        marking.insert(codec::garbage_key(name, generation).map_err(bad_name)?, &[]);
        inner.apply_batch(marking)?;
        inner
            .remove_prefix(&codec::state_generation_prefix(name, generation).map_err(bad_name)?)?;
        // A build writes buffer after buffer: sled's I/O pool writes one
        // while the caller fills the next (see `open_with_wait`). Put back
        // when the build is dropped.
        let inline_io = inner.db.set_inline_io(false);
        Ok(Build {
            inner,
            w,
            name: name.to_owned(),
            generation,
            old_generation,
            pending: foldhash::HashMap::default(),
            pending_bytes: 0,
            applied_any: false,
            keys_once: false,
            finished: false,
            inline_io,
        })
    }

    fn key_prefix(&self, key: &str) -> Result<Vec<u8>, StoreError> {
        codec::state_key_prefix(&self.name, self.generation, key).map_err(bad_name)
    }

    fn stage(&mut self, key: String, value: Vec<u8>) -> Result<(), StoreError> {
        self.pending_bytes += key.len() + value.len() + 32;
        if let Some(old) = self.pending.insert(key, value) {
            self.pending_bytes -= old.len();
        }
        let limit = if self.keys_once {
            REPLACE_SET_BYTES
        } else {
            BATCH_BYTES
        };
        if self.pending_bytes >= limit {
            self.apply_pending()?;
        }
        Ok(())
    }

    /// Stores the pending puts: as one batch, in which a key put before
    /// loses its old chunks (a shorter value has fewer); or, when every key
    /// is new (`checkpoint_replace`), key by key on two threads.
    fn apply_pending(&mut self) -> Result<(), StoreError> {
        if self.keys_once {
            return self.store_pending_on_two_threads();
        }
        let mut batch = sled::Batch::default();
        for (key, value) in std::mem::take(&mut self.pending) {
            let prefix = self.key_prefix(&key)?;
            if self.applied_any && !self.keys_once {
                for old in self.inner.db.scan_prefix(&prefix).keys() {
                    batch.remove(old.map_err(sled_err)?);
                }
            }
            stage_chunks(&mut batch, &prefix, &value);
        }
        self.pending_bytes = 0;
        self.applied_any = true;
        self.inner.apply_batch(batch)
    }

    /// Stores the pending puts of a state whose every key is new (a
    /// `checkpoint_replace`), in key order, on two threads
    /// ([`Inner::insert_on_two_threads`]; the rosters stored at the end of
    /// a 1M-event import, six alternating runs: median 0.16 -> 0.12 s and
    /// 0.23 -> 0.15 s; peak memory 118-120 -> 132-136 MB).
    fn store_pending_on_two_threads(&mut self) -> Result<(), StoreError> {
        let mut puts: Vec<(String, Vec<u8>)> =
            std::mem::take(&mut self.pending).into_iter().collect();
        puts.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        self.pending_bytes = 0;
        let mut chunks = Vec::with_capacity(puts.len());
        for (key, value) in &puts {
            chunks.extend(chunk_keys(&self.key_prefix(key)?, value));
        }
        self.applied_any = true;
        self.inner.insert_on_two_threads(&chunks)
    }

    fn lookup(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        if let Some(v) = self.pending.get(key) {
            return Ok(Some(v.clone()));
        }
        if !self.applied_any {
            return Ok(None);
        }
        self.inner.read_state(&self.key_prefix(key)?)
    }

    fn check_position(&self, position: u64) -> Result<(), StoreError> {
        if position > self.w.head {
            return Err(corrupt(
                position,
                format!(
                    "checkpoint {} would move beyond the log head {}",
                    self.name, self.w.head
                ),
            ));
        }
        Ok(())
    }

    fn finish(mut self, stamp: &str, position: u64) -> Result<(), StoreError> {
        let inner = self.inner;
        let name = self.name.clone();
        self.check_position(position)?;
        self.apply_pending()?;
        // Sled recovers batches in order, but make the new state durable before the switch anyway.
        inner.db.flush().map_err(sled_err)?;
        let mut switch = sled::Batch::default();
        switch.insert(
            codec::checkpoint_key(&name).map_err(bad_name)?,
            CheckpointMeta {
                position,
                generation: self.generation,
                stamp: stamp.to_string(),
            }
            .encode(),
        );
        switch.remove(codec::garbage_key(&name, self.generation).map_err(bad_name)?);
        if let Some(g) = self.old_generation {
            switch.insert(codec::garbage_key(&name, g).map_err(bad_name)?, &[]);
        }
        let head = self.w.head;
        let seq = inner.apply(&mut self.w, switch, head)?;
        self.finished = true;
        inner.make_durable(seq)?;
        if let Some(g) = self.old_generation {
            inner.drop_generation(&name, g)?;
        }
        Ok(())
    }
}

impl Drop for Build<'_> {
    fn drop(&mut self) {
        self.inner.db.set_inline_io(self.inline_io);
        if !self.finished {
            // Abandoned (an error or a panic in the caller's fold): the
            // generation stays marked garbage; the next write removes it.
            self.w.orphans = true;
        }
    }
}

impl StateBuild for Build<'_> {
    fn put(&mut self, key: String, value: Vec<u8>) -> Result<(), StoreError> {
        guarded(|| self.stage(key, value))
    }

    fn get(&mut self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        guarded(|| self.lookup(key))
    }

    fn commit(self: Box<Self>, stamp: &str, position: u64) -> Result<(), StoreError> {
        guarded(|| self.finish(stamp, position))
    }
}

struct StreamProgress {
    version: u64,
    position: u64,
    touched: bool,
    pending_first_version: u64,
    pending: Vec<u64>,
}

/// An import in progress: records and index blocks written beyond the head.
struct Import<'a> {
    inner: &'a Inner,
    start: u64,
    next: u64,
    batch: sled::Batch,
    batch_bytes: usize,
    body: Vec<u8>,
    count: u32,
    record_first: u64,
    streams: foldhash::HashMap<String, StreamProgress>,
    marked: bool,
}

impl Import<'_> {
    fn run(
        &mut self,
        events: &mut dyn Iterator<Item = Result<RecordedEvent, StoreError>>,
        progress: &mut dyn FnMut(u64),
    ) -> Result<u64, StoreError> {
        for (i, item) in events.enumerate() {
            let index = i as u64 + 1;
            let e = item?;
            if e.position != self.next {
                return Err(StoreError::Discontinuous {
                    index,
                    problem: format!("position {} where {} was expected", e.position, self.next),
                });
            }
            if !self.streams.contains_key(e.stream.as_str()) {
                let (version, position) = self.inner.stream_head(&e.stream)?.unwrap_or((0, 0));
                self.streams.insert(
                    e.stream.to_string(),
                    StreamProgress {
                        version,
                        position,
                        touched: false,
                        pending_first_version: version + 1,
                        pending: Vec::new(),
                    },
                );
            }
            let s = self
                .streams
                .get_mut(e.stream.as_str())
                .ok_or_else(|| corrupt(e.position, "stream map"))?;
            if e.version != s.version + 1 {
                return Err(StoreError::Discontinuous {
                    index,
                    problem: format!(
                        "stream {} version {} where {} was expected",
                        e.stream,
                        e.version,
                        s.version + 1
                    ),
                });
            }
            let encoded = encode_checked(&EventFields {
                stream: &e.stream,
                version: e.version,
                id: &e.id,
                event_type: &e.event_type,
                schema: e.schema,
                recorded_at: &e.recorded_at,
                command_id: e.command_id.as_ref(),
                actor: &e.actor,
                data: &e.data,
            })?;
            s.version = e.version;
            s.position = e.position;
            s.touched = true;
            s.pending.push(e.position);
            if s.pending.len() >= INDEX_BLOCK {
                let key = codec::index_key(&e.stream, s.pending_first_version).map_err(bad_name)?;
                self.batch.insert(key, codec::encode_positions(&s.pending));
                s.pending.clear();
                s.pending_first_version = s.version + 1;
            }
            if self.count > 0 && self.body.len() + encoded.len() > codec::RECORD_RAW_TARGET {
                self.seal()?;
                progress(self.next - self.start);
            }
            self.body.extend_from_slice(&encoded);
            self.count += 1;
            self.next += 1;
        }
        let n = self.next - self.start;
        if n == 0 {
            return Ok(0);
        }
        self.seal()?;
        self.inner.apply_batch(std::mem::take(&mut self.batch))?;
        // The last index block of every stream, in key order and in batches
        // of `SMALL_KEYS_BATCH` keys. These are one key per stream (8,000
        // after the bench's 1M-event import, 82,000 after 10M), and as one
        // batch (before sled freed a batch's replaced leaves as it went)
        // they cost a 1M import ~10-20 % of its time and a 10M one ~500 MB
        // of peak memory. Nothing needs them atomic: like every block
        // before them they lie past `H`, under the `I` marker. (Written key
        // by key on two threads, like a replaced state, they took the same
        // time: six alternating 1M imports, medians 1.41 / 1.43 s.)
        let mut tails = Vec::new();
        for (stream, s) in &self.streams {
            if !s.pending.is_empty() {
                let key = codec::index_key(stream, s.pending_first_version).map_err(bad_name)?;
                tails.push((key, codec::encode_positions(&s.pending)));
            }
        }
        tails.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        for chunk in tails.chunks(SMALL_KEYS_BATCH) {
            let mut batch = sled::Batch::default();
            for (key, value) in chunk {
                batch.insert(key.as_slice(), value.as_slice());
            }
            self.inner.apply_batch(batch)?;
        }
        progress(n);
        Ok(n)
    }

    fn seal(&mut self) -> Result<(), StoreError> {
        if self.count == 0 {
            return Ok(());
        }
        if !self.marked {
            self.batch
                .insert(codec::KEY_IMPORT, &self.start.to_be_bytes());
            self.marked = true;
        }
        let rec = codec::seal_record(&self.body, self.count);
        self.batch_bytes += rec.len();
        self.batch.insert(&codec::log_key(self.record_first), rec);
        self.record_first += u64::from(self.count);
        self.body.clear();
        self.count = 0;
        if self.batch_bytes >= BATCH_BYTES {
            self.inner.apply_batch(std::mem::take(&mut self.batch))?;
            self.batch_bytes = 0;
        }
        Ok(())
    }
}

/// Streams the log from a position up to a head fixed when reading starts.
pub(crate) struct LogReader {
    inner: Arc<Inner>,
    next: u64,
    head: u64,
    iter: Option<sled::Iter>,
    buf: std::vec::IntoIter<RecordedEvent>,
    failed: bool,
}

impl LogReader {
    pub(crate) fn new(inner: Arc<Inner>, from: u64, head: u64) -> Self {
        LogReader {
            inner,
            next: from.max(1),
            head,
            iter: None,
            buf: Vec::new().into_iter(),
            failed: false,
        }
    }

    fn refill(&mut self) -> Result<bool, StoreError> {
        if self.iter.is_none() {
            // Start at the record holding `next`: the last key at or before it.
            let start = match self
                .inner
                .db
                .range(codec::log_key(0)..=codec::log_key(self.next))
                .next_back()
                .transpose()
                .map_err(sled_err)?
            {
                Some((k, _)) => {
                    codec::log_key_position(&k).ok_or_else(|| corrupt(self.next, "bad log key"))?
                }
                None => 1,
            };
            self.iter = Some(
                self.inner
                    .db
                    .range(codec::log_key(start)..=codec::log_key(self.head)),
            );
        }
        let Some(iter) = self.iter.as_mut() else {
            return Ok(false);
        };
        match iter.next().transpose().map_err(sled_err)? {
            None => Ok(false),
            Some((k, v)) => {
                let first =
                    codec::log_key_position(&k).ok_or_else(|| corrupt(self.next, "bad log key"))?;
                let mut events = self.inner.decode_record(first, &v)?;
                let next = self.next;
                events.retain(|e| e.position >= next);
                self.buf = events.into_iter();
                Ok(true)
            }
        }
    }
}

impl Iterator for LogReader {
    type Item = Result<RecordedEvent, StoreError>;
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.failed || self.next > self.head {
                return None;
            }
            if let Some(e) = self.buf.next() {
                if e.position != self.next {
                    self.failed = true;
                    return Some(Err(corrupt(
                        self.next,
                        format!("log jumps to position {}", e.position),
                    )));
                }
                self.next += 1;
                return Some(Ok(e));
            }
            match guarded(|| self.refill()) {
                Ok(true) => {}
                Ok(false) => {
                    self.failed = true;
                    return Some(Err(corrupt(self.next, "log ends before the head")));
                }
                Err(e) => {
                    self.failed = true;
                    return Some(Err(e));
                }
            }
        }
    }
}

/// Reads one stream through its index blocks, decoding the records that hold its events.
struct StreamReader<'a> {
    inner: &'a Inner,
    stream: String,
    positions: std::vec::IntoIter<u64>,
    blocks: sled::Iter,
    next_version: u64,
    from_version: u64,
    last_version: u64,
    cache: Vec<RecordedEvent>,
    failed: bool,
}

impl<'a> StreamReader<'a> {
    fn new(inner: &'a Inner, stream: &str, from_version: u64) -> Result<Self, StoreError> {
        let from_version = from_version.max(1);
        let last_version = inner.stream_head(stream)?.map_or(0, |(v, _)| v);
        let prefix = codec::index_prefix(stream).map_err(bad_name)?;
        let from_key = codec::index_key(stream, from_version).map_err(bad_name)?;
        let start = inner
            .db
            .range(prefix.clone()..=from_key)
            .next_back()
            .transpose()
            .map_err(sled_err)?
            .map(|(k, _)| k.to_vec())
            .unwrap_or(prefix.clone());
        let end = codec::index_key(stream, u64::MAX).map_err(bad_name)?;
        Ok(StreamReader {
            inner,
            stream: stream.to_string(),
            positions: Vec::new().into_iter(),
            blocks: inner.db.range(start..=end),
            next_version: 0,
            from_version,
            last_version,
            cache: Vec::new(),
            failed: false,
        })
    }

    fn step(&mut self) -> Result<Option<RecordedEvent>, StoreError> {
        loop {
            if self.next_version > self.last_version && self.next_version != 0 {
                return Ok(None);
            }
            let Some(position) = self.positions.next() else {
                let Some((k, v)) = self.blocks.next().transpose().map_err(sled_err)? else {
                    return Ok(None);
                };
                let first_version = k
                    .get(k.len().saturating_sub(8)..)
                    .filter(|_| k.len() >= 8)
                    .and_then(codec::be_u64)
                    .ok_or_else(|| corrupt(0, "bad index key"))?;
                let positions = codec::decode_positions(&v).map_err(|p| corrupt(0, p))?;
                if self.next_version != 0 && first_version != self.next_version {
                    return Err(corrupt(
                        positions[0],
                        format!(
                            "stream index jumps from version {} to {first_version}",
                            self.next_version
                        ),
                    ));
                }
                self.next_version = first_version;
                self.positions = positions.into_iter();
                continue;
            };
            let version = self.next_version;
            self.next_version += 1;
            if version < self.from_version {
                continue;
            }
            if version > self.last_version {
                return Ok(None);
            }
            let hit = |c: &Vec<RecordedEvent>| {
                c.first().is_some_and(|f| f.position <= position)
                    && c.last().is_some_and(|l| l.position >= position)
            };
            if !hit(&self.cache) {
                self.cache = self.inner.record_at(position)?;
            }
            let first = self.cache.first().map_or(0, |f| f.position);
            let e = self
                .cache
                .get((position - first) as usize)
                .cloned()
                .ok_or_else(|| corrupt(position, "stream index points outside its record"))?;
            if e.version != version || e.stream != self.stream {
                return Err(corrupt(
                    position,
                    format!(
                        "stream index says version {version}, the log says {}",
                        e.version
                    ),
                ));
            }
            return Ok(Some(e));
        }
    }
}

impl Iterator for StreamReader<'_> {
    type Item = Result<RecordedEvent, StoreError>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        match guarded(|| self.step()) {
            Ok(Some(e)) => Some(Ok(e)),
            Ok(None) => None,
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_head_file_reads_back_its_head_and_nothing_from_a_damaged_one() {
        // Given the text written for a head
        let text = head_file_text(1_007_596);
        assert_eq!(text.len(), 43);
        // Then it reads back, as does the older format
        assert_eq!(parse_head_file(&text), Some(1_007_596));
        assert_eq!(parse_head_file("expo-head v1 11\n"), Some(11));
        // And a digit changed (a torn overwrite mixing two heads), a cut,
        // a bad crc or stray text reads as no head at all
        let mixed = text.replacen("1007596", "1007599", 1);
        for damaged in [
            mixed.as_str(),
            &text[..30],
            &text[..42],
            "expo-head v2 00000000000001007596 00000000\n",
            "expo-head v2 1007596 196a56af\n",
            "",
            "garbage\n",
        ] {
            assert_eq!(parse_head_file(damaged), None, "{damaged:?}");
        }
    }

    #[test]
    fn the_head_file_is_overwritten_in_place_whatever_was_there() {
        // Given a store directory whose head file is an old-format, a longer
        // garbage and then a current one
        let dir = tempfile::tempdir().unwrap();
        for before in [
            "expo-head v1 11\n".to_owned(),
            "x".repeat(100),
            head_file_text(5),
        ] {
            std::fs::write(dir.path().join(HEAD_FILE), &before).unwrap();
            // When a head is written
            write_head_file(dir.path(), 12).unwrap();
            // Then the file holds exactly its text, and reads back
            assert_eq!(
                std::fs::read_to_string(dir.path().join(HEAD_FILE)).unwrap(),
                head_file_text(12)
            );
            assert_eq!(read_floor(dir.path()), 12);
        }
        // And with no file there, one is created
        std::fs::remove_file(dir.path().join(HEAD_FILE)).unwrap();
        write_head_file(dir.path(), 13).unwrap();
        assert_eq!(read_floor(dir.path()), 13);
    }
}
