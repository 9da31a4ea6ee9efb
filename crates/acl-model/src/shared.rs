//! A copy-on-write handle: readers keep checking while an admin adds or removes ACLs.

use crate::Authorizer;
use crate::sync::{Arc, AtomicU64, Mutex, Ordering, lock};

/// The current [`Authorizer`] shared between threads.
///
/// An update clones the current snapshot, changes the clone and publishes it whole, so a
/// reader sees every update completely or not at all. Updates are serialized.
///
/// What a reader waits for: [`AuthorizerReader::current`] is one atomic load while nothing
/// changed. After an update, and in [`reader`](Self::reader) and [`snapshot`](Self::snapshot),
/// it takes a mutex that is only ever held to clone or replace the snapshot's `Arc` (a reference
/// count and a pointer), so a reader waits at most for another thread doing that; never for an
/// update's copy of the ACLs or for its change, which run outside that mutex
/// (`tests/loom.rs` checks that a reader finishes while an update's change is under way).
/// It is not lock-free in the strict sense: a thread descheduled while holding that mutex
/// delays readers that need a new snapshot.
#[derive(Clone, Debug)]
pub struct SharedAuthorizer {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// Serializes writers (read, modify, publish).
    writer: Mutex<()>,
    /// The published snapshot; held only to swap or clone the `Arc`.
    current: Mutex<Arc<Authorizer>>,
    /// Bumped under `current`'s lock at each publish.
    version: AtomicU64,
}

/// One thread's view: the snapshot it last saw and its version.
#[derive(Debug)]
pub struct AuthorizerReader {
    inner: Arc<Inner>,
    version: u64,
    snapshot: Arc<Authorizer>,
}

impl SharedAuthorizer {
    /// Shares `authorizer`.
    pub fn new(authorizer: Authorizer) -> Self {
        Self {
            inner: Arc::new(Inner {
                writer: Mutex::new(()),
                current: Mutex::new(Arc::new(authorizer)),
                version: AtomicU64::new(0),
            }),
        }
    }

    /// A reader starting at the current snapshot.
    pub fn reader(&self) -> AuthorizerReader {
        let current = lock(&self.inner.current);
        AuthorizerReader {
            inner: Arc::clone(&self.inner),
            version: self.inner.version.load(Ordering::Relaxed),
            snapshot: Arc::clone(&current),
        }
    }

    /// The current snapshot.
    pub fn snapshot(&self) -> Arc<Authorizer> {
        Arc::clone(&lock(&self.inner.current))
    }

    /// Applies `change` to a copy of the current snapshot and publishes the copy.
    pub fn update<R>(&self, change: impl FnOnce(&mut Authorizer) -> R) -> R {
        let _writer = lock(&self.inner.writer);
        // Take the snapshot's `Arc` under the lock, and copy the ACLs after releasing it, so
        // readers never wait for the copy.
        let base = Arc::clone(&lock(&self.inner.current));
        let mut next = Authorizer::clone(&base);
        drop(base);
        let result = change(&mut next);
        let mut current = lock(&self.inner.current);
        *current = Arc::new(next);
        self.inner.version.fetch_add(1, Ordering::Release);
        result
    }
}

impl AuthorizerReader {
    /// The newest published snapshot: one atomic load unless an update happened since the last
    /// call, and then a mutex held only to clone the snapshot's `Arc` (see [`SharedAuthorizer`]).
    pub fn current(&mut self) -> &Authorizer {
        if self.inner.version.load(Ordering::Acquire) != self.version {
            let current = lock(&self.inner.current);
            self.snapshot = Arc::clone(&current);
            self.version = self.inner.version.load(Ordering::Relaxed);
        }
        &self.snapshot
    }
}
