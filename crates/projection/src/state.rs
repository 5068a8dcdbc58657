//! Keyed projection state: the incremental `Projector` over stored state, the in-memory `Registry`, and their keys.
//!
//! The stored state is one `view/<id>` and one `summary/<id>` per delegation
//! (postcard, lz4-compressed when large enough to gain). The store keeps it together with the last folded position and
//! [`crate::STAMP`]; this crate never sees the store, only a [`StateSource`]
//! to read from, and hands back the keys to write.

use crate::view::{Summary, View};
use crate::{ProjectionError, Recorded};
use expo_domain::values::DelegationId;
use std::collections::{BTreeMap, BTreeSet};

/// Prefix of the per-delegation view keys.
pub const VIEW_PREFIX: &str = "view/";
/// Prefix of the per-delegation summary keys.
pub const SUMMARY_PREFIX: &str = "summary/";

/// The key of a delegation's view.
pub fn view_key(id: &str) -> String {
    format!("{VIEW_PREFIX}{id}")
}

/// The key of a delegation's summary.
pub fn summary_key(id: &str) -> String {
    format!("{SUMMARY_PREFIX}{id}")
}

/// Read access to the stored projection state (the CLI implements it over
/// the store's `checkpoint_get` / `checkpoint_scan` for [`crate::NAME`]).
/// Errors are the store's, as text.
pub trait StateSource {
    /// One key's value, `None` if absent.
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, String>;
    /// Every key starting with `prefix`, with its value, in key order.
    fn scan(&self, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, String>;
}

/// An in-memory [`StateSource`] (tests, and as-of folds that must not touch
/// the stored state). `apply` stores a [`Projector::writes`] batch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemorySource {
    /// The keyed state.
    pub entries: BTreeMap<String, Vec<u8>>,
}

impl MemorySource {
    /// Stores a batch of writes (`None` deletes).
    pub fn apply(&mut self, writes: Vec<(String, Option<Vec<u8>>)>) {
        for (k, v) in writes {
            match v {
                Some(v) => {
                    self.entries.insert(k, v);
                }
                None => {
                    self.entries.remove(&k);
                }
            }
        }
    }
}

impl StateSource for MemorySource {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, String> {
        Ok(self.entries.get(key).cloned())
    }

    fn scan(&self, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, String> {
        Ok(self
            .entries
            .range(prefix.to_owned()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect())
    }
}

/// A bounded rebuild into memory (tests): the new state is these entries.
impl crate::rebuild::Spill for MemorySource {
    fn put(&mut self, key: String, value: Vec<u8>) -> Result<(), String> {
        self.entries.insert(key, value);
        Ok(())
    }

    fn get(&mut self, key: &str) -> Result<Option<Vec<u8>>, String> {
        Ok(self.entries.get(key).cloned())
    }
}

/// Encodes a stored value in postcard, a compact binary form: a rebuild
/// writes every view, and JSON's field names were half of those bytes and
/// most of the time spent storing them. Our types serialise without fail
/// (every sequence and map knows its length), so a failure here is a bug in
/// this crate.
///
/// The postcard bytes of a value of [`COMPRESS_FROM`] bytes or more are then
/// lz4-compressed when that makes them smaller
/// (first byte [`PLAIN`] or [`LZ4`]). Views repeat sectors, cities and
/// designations; compressed, a rebuild writes a third of the bytes, which is
/// less for sled to hold in memory while storing, and less garbage left in
/// its file for every later process to walk.
pub(crate) fn encode<T: serde::Serialize>(value: &T) -> Vec<u8> {
    let plain =
        postcard::to_allocvec(value).expect("projection state serialises: sized sequences only");
    let packed = (plain.len() >= COMPRESS_FROM)
        .then(|| lz4_flex::block::compress_prepend_size(&plain))
        .filter(|packed| packed.len() < plain.len());
    let (tag, body) = match packed {
        Some(packed) => (LZ4, packed),
        None => (PLAIN, plain),
    };
    let mut out = Vec::with_capacity(1 + body.len());
    out.push(tag);
    out.extend_from_slice(&body);
    out
}

/// Smaller values are stored plain: a summary (~90 bytes) came out of lz4
/// one byte shorter on average, for a compressor set up on every call.
const COMPRESS_FROM: usize = 256;
/// First byte of a stored value: the postcard bytes follow as they are.
const PLAIN: u8 = 0;
/// First byte of a stored value: lz4 (size-prepended block) of the postcard bytes.
const LZ4: u8 = 1;
/// No stored view or summary comes near this; a larger declared size is damage,
/// refused before anything is allocated for it.
const MAX_DECODED: usize = 64 << 20;

pub(crate) fn decode<T: serde::de::DeserializeOwned>(
    key: &str,
    bytes: &[u8],
) -> Result<T, ProjectionError> {
    let fail = |message: String| ProjectionError::Decode {
        key: key.to_owned(),
        message,
    };
    let unpacked;
    let plain = match bytes.split_first() {
        Some((&PLAIN, rest)) => rest,
        Some((&LZ4, rest)) => {
            let size = rest
                .get(..4)
                .and_then(|b| <[u8; 4]>::try_from(b).ok())
                .map(|b| u32::from_le_bytes(b) as usize)
                .ok_or_else(|| fail("compressed value too short".into()))?;
            if size > MAX_DECODED {
                return Err(fail(format!("declares {size} bytes uncompressed")));
            }
            unpacked = lz4_flex::block::decompress_size_prepended(rest)
                .map_err(|e| fail(e.to_string()))?;
            &unpacked
        }
        Some((tag, _)) => return Err(fail(format!("unknown encoding {tag}"))),
        None => return Err(fail("empty value".into())),
    };
    postcard::from_bytes(plain).map_err(|e| fail(e.to_string()))
}

pub(crate) fn source_error(e: String) -> ProjectionError {
    ProjectionError::Source(e)
}

/// Loads one delegation's stored view, `None` if it has none.
pub fn load_view(src: &dyn StateSource, id: &str) -> Result<Option<View>, ProjectionError> {
    let key = view_key(id);
    match src.get(&key).map_err(source_error)? {
        Some(bytes) => decode(&key, &bytes).map(Some),
        None => Ok(None),
    }
}

/// Loads every delegation's stored summary, in id order.
pub fn load_summaries(src: &dyn StateSource) -> Result<Vec<Summary>, ProjectionError> {
    src.scan(SUMMARY_PREFIX)
        .map_err(source_error)?
        .iter()
        .map(|(k, v)| decode(k, v))
        .collect()
}

/// Folds one event into a delegation's slot: a creation starts the view,
/// anything else updates it. Returns whether the event was folded.
fn fold_into(slot: &mut Option<View>, e: &Recorded) -> bool {
    match slot {
        Some(view) => view.apply(e),
        None => {
            *slot = View::start(e);
            slot.is_some()
        }
    }
}

/// The entries stored for one delegation: its view and its summary, under
/// the stream's name (which the CLI makes the delegation id).
pub(crate) fn entries_of(id: &str, view: &View) -> [(String, Vec<u8>); 2] {
    [
        (summary_key(id), encode(&view.summary())),
        (view_key(id), encode(view)),
    ]
}

/// Folds new events into the stored state, loading each touched
/// delegation's view once, lazily. Hand it the events after the stored
/// checkpoint position, then store [`Projector::writes`] with the new
/// position in one atomic commit.
pub struct Projector<'a> {
    src: &'a dyn StateSource,
    // `None`: loaded, but the delegation has no view (yet).
    views: BTreeMap<String, Option<View>>,
    dirty: BTreeSet<String>,
    folded: u64,
    position: Option<u64>,
}

impl<'a> Projector<'a> {
    /// A projector over the stored state `src`; nothing is read yet.
    pub fn new(src: &'a dyn StateSource) -> Self {
        Projector {
            src,
            views: BTreeMap::new(),
            dirty: BTreeSet::new(),
            folded: 0,
            position: None,
        }
    }

    fn slot(&mut self, id: &str) -> Result<&mut Option<View>, ProjectionError> {
        if !self.views.contains_key(id) {
            let view = load_view(self.src, id)?;
            self.views.insert(id.to_owned(), view);
        }
        // Inserted just above when missing.
        Ok(self.views.entry(id.to_owned()).or_default())
    }

    /// Folds one event (of stream `e.stream`). An event at or before the
    /// delegation's last folded position is a repeat and is skipped.
    pub fn apply(&mut self, e: &Recorded) -> Result<(), ProjectionError> {
        let slot = self.slot(&e.stream)?;
        if fold_into(slot, e) {
            self.dirty.insert(e.stream.to_string());
            self.folded += 1;
        }
        self.position = Some(self.position.map_or(e.position, |p| p.max(e.position)));
        Ok(())
    }

    /// The changed keys and their new values, to store with the new position.
    pub fn writes(&self) -> Vec<(String, Option<Vec<u8>>)> {
        self.dirty
            .iter()
            .filter_map(|id| Some((id, self.views.get(id)?.as_ref()?)))
            .flat_map(|(id, view)| entries_of(id, view))
            .map(|(k, v)| (k, Some(v)))
            .collect()
    }

    /// How many events were folded in (repeats not counted).
    pub fn folded(&self) -> u64 {
        self.folded
    }

    /// The highest position handed in, `None` before the first event.
    pub fn position(&self) -> Option<u64> {
        self.position
    }

    /// A delegation's current view: stored state plus what was folded here.
    pub fn view(&mut self, id: &str) -> Result<Option<&View>, ProjectionError> {
        Ok(self.slot(id)?.as_ref())
    }

    /// Every delegation's summary: stored summaries, with the delegations
    /// folded here brought up to date.
    pub fn summaries(&self) -> Result<Vec<Summary>, ProjectionError> {
        let mut by_id: BTreeMap<String, Summary> = load_summaries(self.src)?
            .into_iter()
            .map(|s| (s.id.as_str().to_owned(), s))
            .collect();
        for id in &self.dirty {
            if let Some(Some(view)) = self.views.get(id) {
                by_id.insert(id.clone(), view.summary());
            }
        }
        Ok(by_id.into_values().collect())
    }
}

/// The whole projection folded in memory: for a rebuild (`expo replay`,
/// whose [`Registry::entries`] replace the stored state), for `verify`, and
/// for rosters as of an earlier point (which never touch the stored state).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Registry {
    views: BTreeMap<String, View>,
    position: u64,
    folded: u64,
}

impl Registry {
    /// Folds one event. Repeats (at or before the delegation's last folded
    /// position) and events of a stream without a creation are skipped.
    pub fn apply(&mut self, e: &Recorded) {
        // The common case (an existing delegation) costs one lookup and no
        // allocation: a rebuild runs this for every event of the log.
        let folded = match self.views.get_mut(e.stream.as_str()) {
            Some(view) => view.apply(e),
            None => match View::start(e) {
                Some(view) => {
                    self.views.insert(e.stream.to_string(), view);
                    true
                }
                None => false,
            },
        };
        if folded {
            self.folded += 1;
        }
        self.position = self.position.max(e.position);
    }

    /// [`Registry::apply`] for an event handed over whole: what the views
    /// keep of it is moved in, not copied (a rebuild's path).
    pub fn apply_owned(&mut self, e: Recorded) {
        let position = e.position;
        let folded = match self.views.get_mut(e.stream.as_str()) {
            Some(view) => view.apply_owned(e),
            None => match View::start(&e) {
                Some(view) => {
                    self.views.insert(e.stream.into_string(), view);
                    true
                }
                None => false,
            },
        };
        if folded {
            self.folded += 1;
        }
        self.position = self.position.max(position);
    }

    /// Folds `events` in order, stopping at the first one that `as_of` does
    /// not include (all of them with `None`): the roster or report as of an
    /// earlier point.
    pub fn fold<'e>(
        events: impl IntoIterator<Item = &'e Recorded>,
        as_of: Option<AsOf>,
    ) -> Registry {
        let mut r = Registry::default();
        for e in events {
            if as_of.is_some_and(|a| !a.includes(e)) {
                break;
            }
            r.apply(e);
        }
        r
    }

    /// The highest position folded (0 before any).
    pub fn position(&self) -> u64 {
        self.position
    }

    /// How many events were folded in.
    pub fn folded(&self) -> u64 {
        self.folded
    }

    /// One delegation's view.
    pub fn view(&self, id: &str) -> Option<&View> {
        self.views.get(id)
    }

    /// Every delegation's view, in id order.
    pub fn views(&self) -> impl Iterator<Item = &View> {
        self.views.values()
    }

    /// The first stream (in name order) whose creation named another
    /// delegation than the stream, with that delegation's id. Nothing
    /// `expo` writes does that (an import refuses it since 2026-12-03); a
    /// store imported before may hold one, listed under one id and found
    /// under another.
    pub fn misplaced(&self) -> Option<(&str, &DelegationId)> {
        self.views
            .iter()
            .find(|(stream, view)| view.id.as_str() != stream.as_str())
            .map(|(stream, view)| (stream.as_str(), &view.id))
    }

    /// Every delegation's summary, in id order.
    pub fn summaries(&self) -> Vec<Summary> {
        self.views.values().map(View::summary).collect()
    }

    /// The full keyed state to store, in key order, encoded as it is needed
    /// (so a rebuild of many delegations streams into the store).
    pub fn entries(&self) -> impl Iterator<Item = (String, Vec<u8>)> + '_ {
        let summaries = self
            .views
            .iter()
            .map(|(id, v)| (summary_key(id), encode(&v.summary())));
        let views = self.views.iter().map(|(id, v)| (view_key(id), encode(v)));
        // Every "summary/" key sorts before every "view/" key.
        summaries.chain(views)
    }

    /// Compares the stored state with this registry, key by key and byte by
    /// byte: `None` if identical, else the first difference in words.
    pub fn first_difference(
        &self,
        src: &dyn StateSource,
    ) -> Result<Option<String>, ProjectionError> {
        let stored = src.scan("").map_err(source_error)?;
        let mut stored = stored.into_iter();
        let mut mine = self.entries();
        loop {
            match (stored.next(), mine.next()) {
                (None, None) => return Ok(None),
                (Some((k, _)), None) => {
                    return Ok(Some(format!(
                        "stored state has {k}, which a rebuild does not"
                    )))
                }
                (None, Some((k, _))) => return Ok(Some(format!("stored state lacks {k}"))),
                (Some((ks, vs)), Some((km, vm))) => {
                    if ks != km {
                        let (first, which) = if ks < km {
                            (ks, "has an extra key")
                        } else {
                            (km, "lacks the key")
                        };
                        return Ok(Some(format!("stored state {which} {first}")));
                    }
                    if vs != vm {
                        return Ok(Some(format!("stored {ks} differs from a rebuild")));
                    }
                }
            }
        }
    }
}

/// An earlier point of the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AsOf {
    /// Up to and including this global position.
    Position(u64),
    /// The longest prefix of the log recorded at or before this moment: the
    /// state staff saw then (a prefix, so it is a state that really existed).
    Time(chrono::DateTime<chrono::Utc>),
}

impl AsOf {
    /// Whether `e` is inside the point; fold events in order and stop at the
    /// first one that is not.
    pub fn includes(&self, e: &Recorded) -> bool {
        match self {
            AsOf::Position(p) => e.position <= *p,
            AsOf::Time(t) => e.recorded_at <= *t,
        }
    }
}
