//! IPVS-style schedulers as one state machine: `pick` a backend for a flow, report connections
//! as they open and close, add, remove and reweight backends.

use std::fmt;
use std::str::FromStr;

use crate::error::ConnectionState;
use crate::maglev::gcd;
use crate::{Backend, Backends, FlowKey, LbError, MAX_WEIGHT, Maglev, TableSize};

/// The number of source-hashing buckets, IPVS's default (`CONFIG_IP_VS_SH_TAB_BITS = 8`).
pub const SH_BUCKETS: usize = 256;

/// A backend's identity inside one [`Scheduler`]: handed out by `new` and `add`, never reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BackendId(pub u32);

impl fmt::Display for BackendId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// A scheduling algorithm, named as `ipvsadm -s` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// `rr`: the next backend of positive weight, in turn.
    RoundRobin,
    /// `wrr`: IPVS's weighted round robin, which steps a current weight down from the largest
    /// by the gcd of the weights and picks each backend whose weight reaches it.
    WeightedRoundRobin,
    /// `lc`: the fewest connections, counted as `active × 256 + inactive`.
    LeastConnection,
    /// `wlc`: the fewest connections per unit of weight.
    WeightedLeastConnection,
    /// `sh`: the source address hashed into [`SH_BUCKETS`] buckets, each backend holding
    /// `weight` consecutive buckets in turn. The bucket is the top byte of the crate's keyed
    /// SipHash of the address, where IPVS uses a multiplicative hash; a bucket of a drained
    /// backend schedules nothing, as IPVS without `sh-fallback`.
    SourceHashing,
    /// `mh`: the source address looked up in a Maglev table. Unlike IPVS, turns go in name
    /// order and weights are not shifted down when large (see [`Maglev`]).
    MaglevHashing {
        /// The Maglev table size.
        table_size: TableSize,
    },
}

impl Algorithm {
    /// The `ipvsadm` name: `rr`, `wrr`, `lc`, `wlc`, `sh` or `mh`.
    pub fn name(&self) -> &'static str {
        match self {
            Algorithm::RoundRobin => "rr",
            Algorithm::WeightedRoundRobin => "wrr",
            Algorithm::LeastConnection => "lc",
            Algorithm::WeightedLeastConnection => "wlc",
            Algorithm::SourceHashing => "sh",
            Algorithm::MaglevHashing { .. } => "mh",
        }
    }
}

impl FromStr for Algorithm {
    type Err = LbError;

    /// Parses an `ipvsadm` name; `mh` gets [`TableSize::DEFAULT`].
    fn from_str(name: &str) -> Result<Algorithm, LbError> {
        Ok(match name {
            "rr" => Algorithm::RoundRobin,
            "wrr" => Algorithm::WeightedRoundRobin,
            "lc" => Algorithm::LeastConnection,
            "wlc" => Algorithm::WeightedLeastConnection,
            "sh" => Algorithm::SourceHashing,
            "mh" => Algorithm::MaglevHashing {
                table_size: TableSize::DEFAULT,
            },
            _ => {
                return Err(LbError::UnknownAlgorithm {
                    name: name.to_owned(),
                });
            }
        })
    }
}

/// A backend inside a scheduler, with its connection counters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    id: BackendId,
    backend: Backend,
    active: u32,
    inactive: u32,
}

impl Destination {
    /// Its id.
    pub fn id(&self) -> BackendId {
        self.id
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.backend.name
    }

    /// Its weight; 0 means drained.
    pub fn weight(&self) -> u32 {
        self.backend.weight
    }

    /// Established connections.
    pub fn active(&self) -> u32 {
        self.active
    }

    /// Connections in other states (`TIME_WAIT` and the like).
    pub fn inactive(&self) -> u32 {
        self.inactive
    }

    /// IPVS's load measure for `lc` and `wlc`: `active × 256 + inactive`, because an
    /// established connection costs far more than one that is closing.
    pub fn overhead(&self) -> u64 {
        (u64::from(self.active) << 8) + u64::from(self.inactive)
    }
}

/// A virtual service's scheduler: the backends, their counters and the algorithm's state.
///
/// Deterministic: the same calls in the same order give the same picks. Weight 0 drains a
/// backend: it keeps its connections but `pick` never returns it.
#[derive(Debug, Clone)]
pub struct Scheduler {
    algorithm: Algorithm,
    destinations: Vec<Destination>,
    next_id: u32,
    state: State,
}

#[derive(Debug, Clone)]
enum State {
    /// Where the next search starts.
    RoundRobin {
        next: usize,
    },
    /// IPVS's `ip_vs_wrr_mark`: the last pick (`None` = the list head), the current weight,
    /// the (adjusted) maximum weight and the gcd of the weights.
    WeightedRoundRobin {
        last: Option<usize>,
        current: i64,
        max: i64,
        gcd: i64,
    },
    LeastConnection,
    /// Bucket → destination position; empty when there are no destinations.
    SourceHashing {
        buckets: Vec<usize>,
    },
    /// Positions match `destinations`; `None` when there are no destinations.
    MaglevHashing {
        table: Option<Maglev>,
    },
}

impl Scheduler {
    /// A scheduler over `backends`, ids `#0`, `#1`, … in their order.
    pub fn new(algorithm: Algorithm, backends: &Backends) -> Result<Scheduler, LbError> {
        let destinations: Vec<Destination> = backends
            .as_slice()
            .iter()
            .enumerate()
            .map(|(idx, backend)| Destination {
                // Fits: a `Backends` this long would not fit in memory.
                id: BackendId(idx as u32),
                backend: backend.clone(),
                active: 0,
                inactive: 0,
            })
            .collect();
        let state = state_for(algorithm, &destinations, None)?;
        Ok(Scheduler {
            algorithm,
            next_id: destinations.len() as u32,
            destinations,
            state,
        })
    }

    /// Picks the backend for a new flow, or `None` when every backend is drained (or, for
    /// `sh`, the flow's bucket belongs to a drained backend, as in IPVS without `sh-fallback`).
    pub fn pick(&mut self, flow: &FlowKey) -> Option<BackendId> {
        let dests = &self.destinations;
        let idx = match &mut self.state {
            State::RoundRobin { next } => {
                let n = dests.len();
                let idx = (0..n)
                    .map(|k| (*next + k) % n)
                    .find(|&i| dests[i].weight() > 0)?;
                *next = idx + 1;
                idx
            }
            State::WeightedRoundRobin {
                last,
                current,
                max,
                gcd,
            } => {
                if *max == 0 {
                    return None;
                }
                // Some weight is at least `max` ≥ `current` ≥ 1, so this ends within two passes.
                let mut idx = last.map_or(0, |l| l + 1);
                loop {
                    if let Some(found) =
                        (idx..dests.len()).find(|&i| i64::from(dests[i].weight()) >= *current)
                    {
                        *last = Some(found);
                        break found;
                    }
                    *current -= *gcd;
                    if *current <= 0 {
                        *current = *max;
                    }
                    idx = 0;
                }
            }
            State::LeastConnection => match self.algorithm {
                Algorithm::WeightedLeastConnection => least_weighted(dests)?,
                _ => least(dests)?,
            },
            State::SourceHashing { buckets } => {
                let bucket = (flow.source_hash() >> 56) as usize % SH_BUCKETS;
                let idx = *buckets.get(bucket)?;
                if dests[idx].weight() == 0 {
                    return None;
                }
                idx
            }
            State::MaglevHashing { table } => table.as_ref()?.lookup(flow.source_hash())?,
        };
        Some(dests[idx].id)
    }

    /// A connection to `id` was established.
    pub fn on_connect(&mut self, id: BackendId) -> Result<(), LbError> {
        let dest = self.destination_mut(id)?;
        dest.active = dest.active.saturating_add(1);
        Ok(())
    }

    /// A connection to `id` left the established state (it is now closing, e.g. `TIME_WAIT`).
    pub fn on_disconnect(&mut self, id: BackendId) -> Result<(), LbError> {
        let dest = self.destination_mut(id)?;
        if dest.active == 0 {
            return Err(LbError::NoConnection {
                id,
                state: ConnectionState::Active,
            });
        }
        dest.active -= 1;
        dest.inactive = dest.inactive.saturating_add(1);
        Ok(())
    }

    /// A closing connection to `id` expired.
    pub fn on_expire(&mut self, id: BackendId) -> Result<(), LbError> {
        let dest = self.destination_mut(id)?;
        if dest.inactive == 0 {
            return Err(LbError::NoConnection {
                id,
                state: ConnectionState::Inactive,
            });
        }
        dest.inactive -= 1;
        Ok(())
    }

    /// Adds a backend at the end of the list.
    pub fn add(&mut self, backend: Backend) -> Result<BackendId, LbError> {
        let mut list: Vec<Backend> = self
            .destinations
            .iter()
            .map(|d| d.backend.clone())
            .collect();
        list.push(backend.clone());
        Backends::new(list)?;
        let id = BackendId(self.next_id);
        let mut destinations = self.destinations.clone();
        destinations.push(Destination {
            id,
            backend,
            active: 0,
            inactive: 0,
        });
        self.replace(destinations)?;
        self.next_id += 1;
        Ok(id)
    }

    /// Removes a backend, returning it with its counters.
    pub fn remove(&mut self, id: BackendId) -> Result<Destination, LbError> {
        let idx = self.position(id)?;
        let mut destinations = self.destinations.clone();
        let removed = destinations.remove(idx);
        if let State::RoundRobin { next } = &mut self.state
            && idx < *next
        {
            *next -= 1;
        }
        self.replace(destinations)?;
        Ok(removed)
    }

    /// Changes a backend's weight; 0 drains it.
    pub fn set_weight(&mut self, id: BackendId, weight: u32) -> Result<(), LbError> {
        let idx = self.position(id)?;
        if weight > MAX_WEIGHT {
            return Err(LbError::WeightOutOfRange {
                name: self.destinations[idx].backend.name.clone(),
                weight: u64::from(weight),
                max: MAX_WEIGHT,
            });
        }
        let mut destinations = self.destinations.clone();
        destinations[idx].backend.weight = weight;
        self.replace(destinations)
    }

    /// The algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The backends, in list order.
    pub fn destinations(&self) -> &[Destination] {
        &self.destinations
    }

    /// One backend by id.
    pub fn destination(&self, id: BackendId) -> Option<&Destination> {
        self.destinations.iter().find(|d| d.id == id)
    }

    /// The id of the backend called `name`.
    pub fn find(&self, name: &str) -> Option<BackendId> {
        self.destinations
            .iter()
            .find(|d| d.backend.name == name)
            .map(|d| d.id)
    }

    /// Installs a new destination list and the algorithm state for it, or changes nothing.
    fn replace(&mut self, destinations: Vec<Destination>) -> Result<(), LbError> {
        let state = state_for(self.algorithm, &destinations, Some(&self.state))?;
        self.destinations = destinations;
        self.state = state;
        Ok(())
    }

    fn position(&self, id: BackendId) -> Result<usize, LbError> {
        self.destinations
            .iter()
            .position(|d| d.id == id)
            .ok_or(LbError::UnknownBackendId { id })
    }

    fn destination_mut(&mut self, id: BackendId) -> Result<&mut Destination, LbError> {
        let idx = self.position(id)?;
        Ok(&mut self.destinations[idx])
    }
}

/// The algorithm's state after the destination list changed (IPVS's `update_service` or
/// `*_dest_changed`).
fn state_for(
    algorithm: Algorithm,
    dests: &[Destination],
    old: Option<&State>,
) -> Result<State, LbError> {
    Ok(match algorithm {
        Algorithm::RoundRobin => State::RoundRobin {
            next: match old {
                Some(State::RoundRobin { next }) => *next,
                _ => 0,
            },
        },
        Algorithm::WeightedRoundRobin => {
            let old_current = match old {
                Some(State::WeightedRoundRobin { current, .. }) => *current,
                _ => 0,
            };
            let gcd = i64::from(dests.iter().map(Destination::weight).fold(0, gcd));
            let largest = i64::from(dests.iter().map(Destination::weight).max().unwrap_or(0));
            // As `ip_vs_wrr_dest_changed`: the steps are max, max − gcd, … down to 1 … gcd.
            let max = if gcd == 0 { 0 } else { largest - (gcd - 1) };
            let current = if old_current > max || old_current == 0 {
                max
            } else if gcd > 1 {
                (old_current / gcd) * gcd + 1
            } else {
                old_current
            };
            State::WeightedRoundRobin {
                last: None,
                current,
                max,
                gcd,
            }
        }
        Algorithm::LeastConnection | Algorithm::WeightedLeastConnection => State::LeastConnection,
        Algorithm::SourceHashing => State::SourceHashing {
            buckets: sh_buckets(dests),
        },
        Algorithm::MaglevHashing { table_size } => {
            let list: Vec<Backend> = dests.iter().map(|d| d.backend.clone()).collect();
            State::MaglevHashing {
                table: if list.is_empty() {
                    None
                } else {
                    Some(Maglev::new(&Backends::new(list)?, table_size)?)
                },
            }
        }
    })
}

/// `ip_vs_sh_reassign`: walk the destinations in a circle, giving each `weight` consecutive
/// buckets (and a drained one a single bucket, which then maps to no backend).
fn sh_buckets(dests: &[Destination]) -> Vec<usize> {
    if dests.is_empty() {
        return Vec::new();
    }
    let mut buckets = Vec::with_capacity(SH_BUCKETS);
    let (mut idx, mut count) = (0, 0);
    while buckets.len() < SH_BUCKETS {
        buckets.push(idx);
        count += 1;
        if count >= dests[idx].weight() {
            idx = (idx + 1) % dests.len();
            count = 0;
        }
    }
    buckets
}

/// `lc`: the smallest overhead among backends of positive weight; the first one on ties.
fn least(dests: &[Destination]) -> Option<usize> {
    let mut best: Option<usize> = None;
    for (idx, dest) in dests.iter().enumerate() {
        if dest.weight() == 0 {
            continue;
        }
        if best.is_none_or(|b| dest.overhead() < dests[b].overhead()) {
            best = Some(idx);
        }
    }
    best
}

/// `wlc`: the smallest overhead / weight, compared as `overhead_a × weight_b` against
/// `overhead_b × weight_a` (at most 2^40 × 2^16, no overflow); the first one on ties.
fn least_weighted(dests: &[Destination]) -> Option<usize> {
    let mut best: Option<usize> = None;
    for (idx, dest) in dests.iter().enumerate() {
        if dest.weight() == 0 {
            continue;
        }
        let better = best.is_none_or(|b| {
            let least = &dests[b];
            least.overhead() * u64::from(dest.weight())
                > dest.overhead() * u64::from(least.weight())
        });
        if better {
            best = Some(idx);
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synthetic_flows;

    /// Picks `n` flows and returns the names, in order.
    fn picks(algorithm: &str, spec: &str, n: u64) -> Vec<String> {
        let mut s =
            Scheduler::new(algorithm.parse().unwrap(), &Backends::parse(spec).unwrap()).unwrap();
        synthetic_flows(n)
            .map(|flow| match s.pick(&flow) {
                Some(id) => s.destination(id).unwrap().name().to_owned(),
                None => "-".to_owned(),
            })
            .collect()
    }

    #[track_caller]
    fn check(algorithm: &str, spec: &str, expected: &str) {
        let n = expected.split(' ').count() as u64;
        assert_eq!(
            picks(algorithm, spec, n).join(" "),
            expected,
            "{algorithm} {spec}"
        );
    }

    #[test]
    fn round_robin_sequences() {
        check("rr", "a,b,c", "a b c a b c a");
        check("rr", "a,b:0,c", "a c a c");
        check("rr", "a:0,b:0", "- -");
        // IPVS's classic example: weights 4, 3, 2 give a a b a b c a b c.
        check("wrr", "a:4,b:3,c:2", "a a b a b c a b c a");
        check("wrr", "a:4,b:2", "a a b a a b");
        check("wrr", "a:2,b:2,c:0", "a b a b");
        check("wrr", "a:0", "- -");
    }

    #[test]
    fn least_connection_follows_the_counters() {
        let backends = Backends::parse("a,b:3,c:0").unwrap();
        let flow = synthetic_flows(1).next().unwrap();
        let mut lc = Scheduler::new(Algorithm::LeastConnection, &backends).unwrap();
        let mut wlc = Scheduler::new(Algorithm::WeightedLeastConnection, &backends).unwrap();
        let (a, b, c) = (BackendId(0), BackendId(1), BackendId(2));
        assert_eq!(lc.pick(&flow), Some(a), "ties go to the first");
        lc.on_connect(a).unwrap();
        assert_eq!(lc.pick(&flow), Some(b));
        lc.on_connect(b).unwrap();
        lc.on_disconnect(b).unwrap();
        // a: 1 active = 256; b: 1 inactive = 1.
        assert_eq!(lc.pick(&flow), Some(b));
        // wlc: a 0/1 vs b 0/3 tie → a; then a 256/1 vs b 0/3 → b, … until b carries 3 to a's 1.
        let mut got = Vec::new();
        for _ in 0..8 {
            let id = wlc.pick(&flow).unwrap();
            wlc.on_connect(id).unwrap();
            got.push(wlc.destination(id).unwrap().name().to_owned());
        }
        assert_eq!(got.join(" "), "a b b b a b b b");
        assert_eq!(wlc.destination(c).unwrap().active(), 0);
    }

    #[test]
    fn connection_accounting_errors() {
        let backends = Backends::parse("a").unwrap();
        let mut s = Scheduler::new(Algorithm::LeastConnection, &backends).unwrap();
        let a = BackendId(0);
        let gone = BackendId(9);
        assert_eq!(
            s.on_disconnect(a),
            Err(LbError::NoConnection {
                id: a,
                state: ConnectionState::Active
            })
        );
        assert_eq!(
            s.on_expire(a),
            Err(LbError::NoConnection {
                id: a,
                state: ConnectionState::Inactive
            })
        );
        assert_eq!(
            s.on_connect(gone),
            Err(LbError::UnknownBackendId { id: gone })
        );
        s.on_connect(a).unwrap();
        s.on_disconnect(a).unwrap();
        s.on_expire(a).unwrap();
        assert_eq!(s.destination(a).unwrap().overhead(), 0);
    }

    #[test]
    fn membership_changes() {
        let mut s =
            Scheduler::new(Algorithm::RoundRobin, &Backends::parse("a,b").unwrap()).unwrap();
        let flow = synthetic_flows(1).next().unwrap();
        let c = s.add(Backend::new("c")).unwrap();
        assert_eq!(c, BackendId(2));
        assert_eq!(
            s.add(Backend::new("a")),
            Err(LbError::DuplicateName { name: "a".into() })
        );
        assert_eq!(s.pick(&flow), Some(BackendId(0)));
        s.remove(BackendId(0)).unwrap();
        // The search goes on after the removed `a`: b, then c.
        assert_eq!(s.pick(&flow), Some(BackendId(1)));
        assert_eq!(s.pick(&flow), Some(c));
        s.set_weight(c, 0).unwrap();
        assert_eq!(s.pick(&flow), Some(BackendId(1)));
        assert_eq!(s.pick(&flow), Some(BackendId(1)));
        assert!(matches!(
            s.set_weight(c, 70_000),
            Err(LbError::WeightOutOfRange { .. })
        ));
        assert_eq!(
            s.remove(BackendId(0)),
            Err(LbError::UnknownBackendId { id: BackendId(0) })
        );
        // Ids are not reused.
        assert_eq!(s.add(Backend::new("a")), Ok(BackendId(3)));
    }

    #[test]
    fn hashing_schedulers_keep_a_client_on_one_backend() {
        for name in ["sh", "mh"] {
            let mut s =
                Scheduler::new(name.parse().unwrap(), &Backends::parse("a,b,c").unwrap()).unwrap();
            let vip = "192.0.2.1:80".parse().unwrap();
            let first = s.pick(&FlowKey::tcp("10.9.9.9:1000".parse().unwrap(), vip));
            let second = s.pick(&FlowKey::tcp("10.9.9.9:2000".parse().unwrap(), vip));
            assert!(first.is_some());
            assert_eq!(first, second, "{name}");
        }
    }

    #[test]
    fn sh_buckets_follow_weights() {
        let backends = Backends::parse("a:2,b:1,c:0").unwrap();
        let s = Scheduler::new(Algorithm::SourceHashing, &backends).unwrap();
        let State::SourceHashing { buckets } = &s.state else {
            unreachable!("an sh scheduler has sh state")
        };
        assert_eq!(&buckets[..8], [0, 0, 1, 2, 0, 0, 1, 2]);
    }

    #[test]
    fn mh_refuses_more_backends_than_slots() {
        let small = Algorithm::MaglevHashing {
            table_size: TableSize::new(2).unwrap(),
        };
        let mut s = Scheduler::new(small, &Backends::parse("a,b").unwrap()).unwrap();
        assert_eq!(
            s.add(Backend::new("c")),
            Err(LbError::TableTooSmall {
                size: 2,
                backends: 3
            })
        );
        assert_eq!(s.destinations().len(), 2);
        assert_eq!(
            "xx".parse::<Algorithm>(),
            Err(LbError::UnknownAlgorithm { name: "xx".into() })
        );
    }
}
