//! Single flight for the YAML side's reads: callers that ask for the same thing while a read of
//! it is in flight wait for that read instead of sending their own.
//!
//! A refresh asks for the release history three ways at once (the history, the pending
//! approvals, the newest stage attempts) and each wants every run; without this each run was
//! read three times per refresh (1,912 Runs - Get on the demo's fleet instead of 637).
//!
//! A caller only joins a read that is still in flight and that started after the last change
//! this backend sent (the `epoch`): a read that began before an approval was decided may not
//! have seen it, and the caller re-reading to confirm that decision must. A finished read is
//! never handed to a later caller (what stays across refreshes is the finished runs' facts,
//! kept by the caller, not here).

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

use super::lock;

/// One read in flight.
struct Flight<V> {
    epoch: u64,
    cell: Arc<OnceCell<V>>,
}

/// Reads in flight by key.
pub(super) struct Flights<K, V> {
    in_flight: Mutex<HashMap<K, Flight<V>>>,
}

impl<K, V> std::fmt::Debug for Flights<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Flights")
    }
}

impl<K: Hash + Eq + Clone, V: Clone> Flights<K, V> {
    pub(super) fn new() -> Flights<K, V> {
        Flights {
            in_flight: Mutex::new(HashMap::new()),
        }
    }

    /// The value of `read` for `key`: the one in flight when there is one of this epoch,
    /// else a new read that later callers may join until it is done.
    pub(super) async fn run<F, Fut>(&self, key: K, epoch: u64, read: F) -> V
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = V>,
    {
        let cell = {
            let mut all = lock(&self.in_flight);
            match all.get(&key) {
                Some(f) if f.epoch == epoch && !f.cell.initialized() => f.cell.clone(),
                _ => {
                    let cell = Arc::new(OnceCell::new());
                    all.insert(
                        key.clone(),
                        Flight {
                            epoch,
                            cell: cell.clone(),
                        },
                    );
                    cell
                }
            }
        };
        // When the caller running the read is dropped, a waiting caller runs its own `read`.
        let value = cell.get_or_init(read).await.clone();
        let mut all = lock(&self.in_flight);
        if all.get(&key).is_some_and(|f| Arc::ptr_eq(&f.cell, &cell)) {
            all.remove(&key);
        }
        value
    }
}

/// Counts the changes a backend sent, so a read started before one is not shared after it.
#[derive(Debug, Default)]
pub(super) struct Epoch(AtomicU64);

impl Epoch {
    pub(super) fn now(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }

    /// A change is about to be sent: reads in flight no longer answer later callers.
    pub(super) fn advance(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    /// Callers arriving while a read is in flight share it; one arriving after it finished,
    /// or after a change was sent, reads again.
    #[tokio::test]
    async fn concurrent_callers_share_one_read_and_later_ones_read_again() {
        let flights: Flights<u32, u32> = Flights::new();
        let reads = AtomicUsize::new(0);
        let (release, gate) = tokio::sync::watch::channel(false);
        let read = || {
            let mut gate = gate.clone();
            let reads = &reads;
            async move {
                let n = reads.fetch_add(1, Ordering::SeqCst) as u32;
                let _ = gate.wait_for(|open| *open).await;
                n
            }
        };
        let all = futures::future::join(
            futures::future::join_all((0..3).map(|_| flights.run(7, 0, read))),
            async {
                // Wait until the first read is in flight, then let it finish.
                while reads.load(Ordering::SeqCst) == 0 {
                    tokio::task::yield_now().await;
                }
                let _ = release.send(true);
            },
        );
        let (values, ()) = all.await;
        assert_eq!(values, [0, 0, 0]);
        assert_eq!(reads.load(Ordering::SeqCst), 1);
        assert_eq!(
            flights.run(7, 0, read).await,
            1,
            "a finished read is not reused"
        );
        assert_eq!(
            flights.run(8, 0, read).await,
            2,
            "another key reads on its own"
        );
    }

    #[tokio::test]
    async fn a_read_begun_before_a_change_is_not_joined_after_it() {
        let flights: Flights<u32, u32> = Flights::new();
        let epoch = Epoch::default();
        let (release, gate) = tokio::sync::watch::channel(false);
        let reads = AtomicUsize::new(0);
        let read = || {
            let mut gate = gate.clone();
            let reads = &reads;
            async move {
                let n = reads.fetch_add(1, Ordering::SeqCst) as u32;
                let _ = gate.wait_for(|open| *open).await;
                n
            }
        };
        let counter = &reads;
        let until = move |n: usize| async move {
            while counter.load(Ordering::SeqCst) < n {
                tokio::task::yield_now().await;
            }
        };
        let first = flights.run(1, epoch.now(), read);
        let second = async {
            until(1).await;
            epoch.advance();
            // The second read must start while the first is still in flight.
            let started = async {
                let waited = tokio::time::timeout(std::time::Duration::from_secs(10), until(2));
                assert!(
                    waited.await.is_ok(),
                    "the caller after the change joined the old read"
                );
                let _ = release.send(true);
            };
            futures::future::join(flights.run(1, epoch.now(), read), started)
                .await
                .0
        };
        let (a, b) = futures::future::join(first, second).await;
        assert_eq!((a, b), (0, 1));
        assert_eq!(reads.load(Ordering::SeqCst), 2);
    }
}
