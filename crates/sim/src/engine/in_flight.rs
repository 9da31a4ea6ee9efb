//! The messages in flight, by id.

use std::collections::VecDeque;

use super::Flight;
use crate::process::Process;

/// Messages in the network by id. Ids grow by one per send and most messages leave in about
/// the order they came, so a deque indexed by `id - first` beats a map on the hot path.
pub(super) struct InFlight<N: Process> {
    first: u64,
    slots: VecDeque<Option<Flight<N>>>,
}

impl<N: Process> Default for InFlight<N> {
    fn default() -> Self {
        InFlight {
            first: 0,
            slots: VecDeque::new(),
        }
    }
}

impl<N: Process> InFlight<N> {
    pub(super) fn insert(&mut self, id: u64, flight: Flight<N>) {
        if self.slots.is_empty() {
            self.first = id;
        }
        // Ids mostly arrive in increasing order; pad the ids dropped at send time, and grow at
        // the front for the rare smaller one (a message put in flight after its duplicate).
        while id < self.first {
            self.slots.push_front(None);
            self.first -= 1;
        }
        let idx = (id - self.first) as usize;
        while self.slots.len() <= idx {
            self.slots.push_back(None);
        }
        self.slots[idx] = Some(flight);
    }

    pub(super) fn contains(&self, id: u64) -> bool {
        self.get_idx(id).is_some_and(|i| self.slots[i].is_some())
    }

    pub(super) fn get(&self, id: u64) -> Option<&Flight<N>> {
        self.slots.get(self.get_idx(id)?)?.as_ref()
    }

    pub(super) fn remove(&mut self, id: u64) -> Option<Flight<N>> {
        let i = self.get_idx(id)?;
        let flight = self.slots[i].take();
        while let Some(None) = self.slots.front() {
            self.slots.pop_front();
            self.first += 1;
        }
        flight
    }

    fn get_idx(&self, id: u64) -> Option<usize> {
        let i = id.checked_sub(self.first)? as usize;
        (i < self.slots.len()).then_some(i)
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = (u64, &Flight<N>)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, f)| f.as_ref().map(|f| (self.first + i as u64, f)))
    }
}
