//! The crate's typed error.

use std::num::ParseIntError;

use thiserror::Error;

use crate::BackendId;

/// Why a backend set, a table or a scheduler call was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum LbError {
    /// A backend set with no backend in it (an empty `--backends`, or removing the last one).
    #[error("no backends: a backend set needs at least one backend")]
    NoBackends,
    /// An empty name in a backend list, such as the middle of `a,,b` or `:3`.
    #[error("backend {position} has an empty name")]
    EmptyName {
        /// Where it is in the list, counting from 1.
        position: usize,
    },
    /// The same name twice.
    #[error("backend {name:?} is listed twice")]
    DuplicateName {
        /// The repeated name.
        name: String,
    },
    /// A weight that is not a decimal number.
    #[error("backend {name:?}: weight {text:?} is not a number")]
    BadWeight {
        /// The backend it belongs to.
        name: String,
        /// The text after the `:`.
        text: String,
        /// What the integer parser said.
        source: ParseIntError,
    },
    /// A weight above [`MAX_WEIGHT`](crate::MAX_WEIGHT), the largest `ipvsadm` accepts.
    #[error("backend {name:?}: weight {weight} is above the maximum {max}")]
    WeightOutOfRange {
        /// The backend it belongs to.
        name: String,
        /// The weight given.
        weight: u64,
        /// The largest weight allowed.
        max: u32,
    },
    /// A Maglev table size that is not prime, so some skips would not visit every slot.
    #[error("table size {size} is not prime (the Maglev permutation needs a prime, e.g. 65537)")]
    TableSizeNotPrime {
        /// The size given.
        size: u64,
    },
    /// A Maglev table size below 2 or above [`TableSize::MAX`](crate::TableSize::MAX).
    #[error("table size {size} is out of range (2..={max})")]
    TableSizeOutOfRange {
        /// The size given.
        size: u64,
        /// The largest size allowed.
        max: u64,
    },
    /// Fewer Maglev slots than backends: some backends could never be chosen.
    #[error("table size {size} is smaller than the number of backends ({backends})")]
    TableTooSmall {
        /// The table size.
        size: u64,
        /// How many backends there are.
        backends: usize,
    },
    /// A name that is not in the backend set.
    #[error("no backend named {name:?}")]
    UnknownBackend {
        /// The name given.
        name: String,
    },
    /// A backend id that the scheduler does not hold (never added, or already removed).
    #[error("no backend with id {id}")]
    UnknownBackendId {
        /// The id given.
        id: BackendId,
    },
    /// `on_disconnect` or `on_expire` with no connection of that kind left to end.
    #[error("backend {id} has no {state} connection to end")]
    NoConnection {
        /// The backend.
        id: BackendId,
        /// Which counter was already zero.
        state: ConnectionState,
    },
    /// A scheduler name other than `rr`, `wrr`, `lc`, `wlc`, `sh` or `mh`.
    #[error("unknown scheduler {name:?} (expected rr, wrr, lc, wlc, sh or mh)")]
    UnknownAlgorithm {
        /// The name given.
        name: String,
    },
}

/// The two connection counters IPVS keeps per destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConnectionState {
    /// Established connections (`activeconns`).
    Active,
    /// Connections in any other state, such as `TIME_WAIT` (`inactconns`).
    Inactive,
}

impl std::fmt::Display for ConnectionState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ConnectionState::Active => "active",
            ConnectionState::Inactive => "inactive",
        })
    }
}
