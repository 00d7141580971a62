//! One store shared by the detections that keep state across runs, so a
//! scan opens a single SQLite connection and a single write transaction.

use std::cell::RefCell;
use std::rc::Rc;

use wiretrust_store::{MemoryStore, SqliteStore, Store, StoreError};

use super::fleet_divergence::StoreLocation;

/// A store opened on first use and shared by clones of this handle.
#[derive(Clone)]
pub struct SharedStore(Rc<RefCell<Slot>>);

struct Slot {
    location: StoreLocation,
    store: Option<Box<dyn Store>>,
}

impl SharedStore {
    /// Creates a handle that opens the store at `location` on first use,
    /// so runs that need no store never touch the file.
    pub fn new(location: StoreLocation) -> SharedStore {
        SharedStore(Rc::new(RefCell::new(Slot {
            location,
            store: None,
        })))
    }

    /// Creates a handle over an open store.
    pub fn with_store(store: Box<dyn Store>) -> SharedStore {
        SharedStore(Rc::new(RefCell::new(Slot {
            location: StoreLocation::Memory,
            store: Some(store),
        })))
    }

    /// Runs `work` on the store, opening it first when needed.
    pub fn with<R>(
        &self,
        work: impl FnOnce(&mut dyn Store) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        let mut slot = self.0.borrow_mut();
        if slot.store.is_none() {
            let store: Box<dyn Store> = match &slot.location {
                StoreLocation::Memory => Box::new(MemoryStore::new()),
                StoreLocation::File(path) => Box::new(SqliteStore::open(path)?),
            };
            slot.store = Some(store);
        }
        match slot.store.as_mut() {
            Some(store) => work(store.as_mut()),
            None => unreachable!("the store was opened above"),
        }
    }

    /// Returns the name evidence gives the store: its file's path, or
    /// `memory store` for one kept in memory.
    ///
    /// NOTE: a store passed to [`SharedStore::with_store`] is named
    /// `memory store` whatever its kind, because the handle has no path.
    pub fn name(&self) -> String {
        match &self.0.borrow().location {
            StoreLocation::Memory => "memory store".to_owned(),
            StoreLocation::File(path) => path.display().to_string(),
        }
    }

    /// Commits the writes so far, when the store was opened.
    pub fn commit(&self) -> Result<(), StoreError> {
        match self.0.borrow_mut().store.as_mut() {
            Some(store) => store.commit(),
            None => Ok(()),
        }
    }
}
