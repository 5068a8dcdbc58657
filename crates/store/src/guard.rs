//! Error mapping from sled and I/O, and the panic guard that turns a sled panic on damaged data into `StoreError::Corrupt`.
//!
//! sled 0.34 can panic on some damaged files instead of returning an error.
//! Every public entry point runs inside [`guarded`]: a panic there becomes a
//! typed error. While a guarded call runs, a process-wide panic hook
//! (installed once, chaining to the previous hook) stays quiet for panics on
//! that thread, so the user sees one error message rather than a backtrace.
//! Panics on sled's own background threads cannot be caught this way.

use crate::api::StoreError;
use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Once;

thread_local! {
    static GUARDED: Cell<u32> = const { Cell::new(0) };
}

static HOOK: Once = Once::new();

/// Runs `f`, turning a panic inside it into `StoreError::Corrupt`.
pub(crate) fn guarded<T>(f: impl FnOnce() -> Result<T, StoreError>) -> Result<T, StoreError> {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if GUARDED.with(|g| g.get()) == 0 {
                previous(info);
            }
        }));
    });
    GUARDED.with(|g| g.set(g.get() + 1));
    let res = catch_unwind(AssertUnwindSafe(f));
    GUARDED.with(|g| g.set(g.get().saturating_sub(1)));
    match res {
        Ok(r) => r,
        Err(payload) => {
            let msg = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            Err(StoreError::Corrupt {
                position: 0,
                problem: format!("the storage engine failed on damaged data: {msg}"),
            })
        }
    }
}

/// Maps an I/O error, recognising a full disk.
pub(crate) fn io_err(e: std::io::Error) -> StoreError {
    if e.kind() == std::io::ErrorKind::StorageFull || e.raw_os_error() == Some(libc::ENOSPC) {
        StoreError::DiskFull(e.to_string())
    } else {
        StoreError::Io(e.to_string())
    }
}

/// Maps a sled error.
pub(crate) fn sled_err(e: sled::Error) -> StoreError {
    match e {
        sled::Error::Io(io) => io_err(io),
        sled::Error::Corruption { at, .. } => StoreError::Damaged(match at {
            Some(at) => format!("the storage engine found damaged data in its log at {at}"),
            None => "the storage engine found damaged data in its log".to_owned(),
        }),
        other => StoreError::Io(other.to_string()),
    }
}
