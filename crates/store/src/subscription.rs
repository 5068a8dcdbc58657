//! Live subscriptions for tokio: catch up with range scans, then wait on the store's own watch of the durable head.
//!
//! No sled `watch_prefix`: it can miss events and reorder a batch. The append
//! path publishes the durable head on a `tokio::sync::watch` after every group
//! commit; a subscription reads the log up to the head it has seen, then waits
//! for the head to move. Positions are gapless, so reading `next..=head` again
//! after each change delivers every event once, in order.

use crate::api::{RecordedEvent, StoreError};
use crate::store::{Inner, LogReader, SledStore};
use std::collections::VecDeque;
use std::sync::Arc;
use tokio::sync::watch;

/// Events read per catch-up step, so a far-behind subscriber does not buffer the whole log.
const STEP: u64 = 4096;

/// A live, ordered feed of the log from a position. See [`SledStore::subscribe`].
pub struct Subscription {
    inner: Arc<Inner>,
    head: watch::Receiver<u64>,
    next: u64,
    buf: VecDeque<RecordedEvent>,
}

impl SledStore {
    /// Follows the log from `from_position` (1 = everything): first the events
    /// already stored, then each new one as its append becomes durable, in
    /// order, none missed, none twice.
    pub fn subscribe(&self, from_position: u64) -> Subscription {
        Subscription {
            inner: self.inner.clone(),
            head: self.inner.head_tx.subscribe(),
            next: from_position.max(1),
            buf: VecDeque::new(),
        }
    }
}

impl Subscription {
    /// The next event. Waits when caught up. `None` only if the store is gone;
    /// after an `Err` the subscription has stopped and returns `None`.
    pub async fn next(&mut self) -> Option<Result<RecordedEvent, StoreError>> {
        loop {
            if let Some(e) = self.buf.pop_front() {
                return Some(Ok(e));
            }
            let head = *self.head.borrow_and_update();
            if self.next <= head {
                let upto = head.min(self.next + STEP - 1);
                let reader = LogReader::new(self.inner.clone(), self.next, upto);
                for item in reader {
                    match item {
                        Ok(e) => self.buf.push_back(e),
                        Err(e) => {
                            self.next = u64::MAX;
                            self.buf.clear();
                            return Some(Err(e));
                        }
                    }
                }
                self.next = upto + 1;
                continue;
            }
            if self.next == u64::MAX || self.head.changed().await.is_err() {
                return None;
            }
        }
    }

    /// The position of the next event this subscription will deliver.
    pub fn next_position(&self) -> u64 {
        self.next.saturating_sub(self.buf.len() as u64)
    }
}
