//! The global options, validated: where the store is, who acts, the idempotency key, how long to wait; and opening the store.

use crate::args::GlobalArgs;
use crate::failure::{invalid, Failure};
use expo_store::{EventStore, OpenOptions, StoreError, Upcaster};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// The longest `--wait` accepted: a day is already far more than any command takes.
const MAX_WAIT_SECONDS: f64 = 86_400.0;
/// Where the store lives when neither --data nor EXPO_DATA says.
const DEFAULT_DATA: &str = "./expo-data";
/// The longest actor name recorded with each event.
const MAX_ACTOR_CHARS: usize = 100;

/// The global options after validation.
#[derive(Debug, Clone)]
pub struct Context {
    /// The store's directory.
    pub data: PathBuf,
    /// Machine-readable output.
    pub json: bool,
    /// Who issues the command.
    pub actor: String,
    /// Idempotency key of a write.
    pub command_id: Option<Uuid>,
    /// How long to wait for a store another process holds.
    pub wait: Duration,
}

impl Context {
    /// Validates the global options; a bad value is a refusal naming it (exit 1).
    pub fn from_args(g: &GlobalArgs) -> Result<Context, Failure> {
        let wait = parse_wait(g.wait.as_deref().unwrap_or("10"))?;
        let command_id = match &g.command_id {
            None => None,
            Some(s) => Some(Uuid::parse_str(s.trim()).map_err(|_| {
                invalid(format!(
                    "invalid --command-id {s:?}: use a UUID such as 0190a5e2-7c3b-7d8e-9f00-123456789abc"
                ))
            })?),
        };
        let actor = match &g.actor {
            Some(a) => parse_actor(a)?,
            None => os_user_name().unwrap_or_else(|| "unknown".to_owned()),
        };
        let data = match &g.data {
            Some(d) => d.clone(),
            None => match std::env::var_os("EXPO_DATA") {
                Some(d) if !d.is_empty() => PathBuf::from(d),
                _ => PathBuf::from(DEFAULT_DATA),
            },
        };
        if data.as_os_str().is_empty() {
            return Err(invalid("invalid --data \"\": name the store's directory"));
        }
        // Any command may rebuild the rosters: a bad setting is refused
        // before the store is opened, not half-way through a command.
        crate::project::rebuild_budget()?;
        Ok(Context {
            data,
            json: g.json,
            actor,
            command_id,
            wait,
        })
    }

    /// Opens the store for a command that writes, creating the directory on first use.
    pub fn open_for_write(&self) -> Result<Store, Failure> {
        self.create_and_open(false)
    }

    /// Opens the store for a bulk write (an import), creating the directory
    /// on first use: the storage engine keeps more of what it writes in
    /// memory (see `OpenOptions::bulk`).
    pub fn open_for_bulk_write(&self) -> Result<Store, Failure> {
        self.create_and_open(true)
    }

    fn create_and_open(&self, bulk: bool) -> Result<Store, Failure> {
        if !self.data.exists() {
            std::fs::create_dir_all(&self.data).map_err(|e| {
                Failure::Store(StoreError::Io(format!(
                    "cannot create the store directory {}: {e}",
                    self.data.display()
                )))
            })?;
        }
        self.open(bulk)
    }

    /// Opens an existing store for a command that reads; a missing store is
    /// reported, never created.
    pub fn open_existing(&self) -> Result<Store, Failure> {
        self.open_if_exists()?.ok_or_else(|| {
            invalid(format!(
                "there is no store at {} (create a delegation, run `expo demo`, or point --data / EXPO_DATA at a store)",
                self.data.display()
            ))
        })
    }

    /// Opens the store if there is one; `None` when the directory does not
    /// exist (reads then show an empty registry, and create nothing).
    pub fn open_if_exists(&self) -> Result<Option<Store>, Failure> {
        if !self.data.exists() {
            return Ok(None);
        }
        self.open(false).map(Some)
    }

    fn open(&self, bulk: bool) -> Result<Store, Failure> {
        if !self.data.is_dir() {
            return Err(Failure::Store(StoreError::Io(format!(
                "{} is not a directory: --data must name the store's folder",
                self.data.display()
            ))));
        }
        let options = OpenOptions {
            wait: self.wait,
            upcaster: Some(Arc::new(DomainUpcaster)),
            bulk,
            // Every command opens the store once and exits after.
            one_shot: true,
        };
        let store = expo_store::SledStore::open(&self.data, options)?;
        // Asking for the head right away surfaces a store the engine could
        // only partly recover before any command reads or writes it.
        store.last_position()?;
        Ok(Box::new(store))
    }
}

/// The store, behind its interface (promise 11: nothing else here names sled).
pub type Store = Box<dyn EventStore>;

/// Applies the domain's upcasters to records read from the store.
struct DomainUpcaster;

impl Upcaster for DomainUpcaster {
    fn upcast(
        &self,
        event_type: &str,
        schema: u32,
        data: &[u8],
    ) -> Result<Option<(u32, Vec<u8>)>, String> {
        // Binary data is not JSON: its schema is checked where it is
        // decoded (`Event::from_binary`), which has no older layout yet.
        if expo_domain::event::schema_of(event_type) == Some(schema)
            || expo_domain::binary::is_binary(data)
        {
            return Ok(None);
        }
        let value: serde_json::Value = serde_json::from_slice(data).map_err(|e| e.to_string())?;
        let (schema, value) =
            expo_domain::event::upcast(event_type, schema, value).map_err(|e| e.to_string())?;
        Ok(Some((schema, value.to_string().into_bytes())))
    }
}

fn parse_wait(s: &str) -> Result<Duration, Failure> {
    let bad = || {
        invalid(format!(
            "invalid --wait {s:?}: use a number of seconds from 0 to {MAX_WAIT_SECONDS}"
        ))
    };
    let secs: f64 = s.trim().parse().map_err(|_| bad())?;
    if !secs.is_finite() || !(0.0..=MAX_WAIT_SECONDS).contains(&secs) {
        return Err(bad());
    }
    Ok(Duration::from_secs_f64(secs))
}

fn parse_actor(s: &str) -> Result<String, Failure> {
    let a = s.trim();
    if a.is_empty() || a.chars().count() > MAX_ACTOR_CHARS || a.chars().any(char::is_control) {
        return Err(invalid(format!(
            "invalid --actor {s:?}: use 1 to {MAX_ACTOR_CHARS} characters without control characters"
        )));
    }
    Ok(a.to_owned())
}

/// The OS user name: `USER` or `LOGNAME`, else the passwd entry of our uid.
fn os_user_name() -> Option<String> {
    for var in ["USER", "LOGNAME"] {
        if let Ok(v) = std::env::var(var) {
            if let Ok(a) = parse_actor(&v) {
                return Some(a);
            }
        }
    }
    passwd_name()
}

/// Looks our uid up in /etc/passwd (no `unsafe` libc call needed: the uid
/// is the owner of our own /proc entry).
#[cfg(unix)]
fn passwd_name() -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let uid = std::fs::metadata("/proc/self").ok()?.uid();
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let mut f = line.split(':');
        let name = f.next()?;
        let _password = f.next()?;
        let id: u32 = f.next()?.parse().ok()?;
        (id == uid).then(|| name.to_owned())
    })
}

#[cfg(not(unix))]
fn passwd_name() -> Option<String> {
    None
}
