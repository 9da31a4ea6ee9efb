//! State invariants: named predicates over every node's state, checked after every event by the
//! simulator ([`crate::check`]) and at every state by the model checker
//! ([`crate::check_exhaustive`]).

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

/// The property a panic in a protocol's code breaks, as violations and counterexamples name it.
pub(crate) const PANIC: &str = "no-panic";

/// The check of an [`Invariant`]: `Err(detail)` when broken.
type CheckFn<N> = dyn Fn(&[Option<&N>]) -> Result<(), String> + Send + Sync;

/// A named predicate over every node's state (`None` for a node that is down), checked after
/// every event: "at most one leader per ballot", "a backup never runs behind an acknowledged
/// write". A value: a closure may capture parameters, and one list serves the simulator and the
/// model checker alike.
///
/// ```
/// use underhood_sim::Invariant;
///
/// // At most `limit` nodes are up at once (a parameter captured by the closure).
/// fn at_most_up(limit: usize) -> Invariant<u64> {
///     Invariant::new("at-most-up", move |nodes: &[Option<&u64>]| {
///         let up = nodes.iter().flatten().count();
///         if up <= limit { Ok(()) } else { Err(format!("{up} nodes up, at most {limit}")) }
///     })
/// }
/// let invariant = at_most_up(1);
/// assert_eq!(invariant.name(), "at-most-up");
/// assert!(invariant.check(&[Some(&1), None]).is_ok());
/// assert_eq!(invariant.check(&[Some(&1), Some(&2)]), Err("2 nodes up, at most 1".to_owned()));
/// ```
pub struct Invariant<N> {
    name: &'static str,
    check: Arc<CheckFn<N>>,
}

impl<N> Invariant<N> {
    /// An invariant called `name` (as violations report it) that `check` judges: `Err(detail)`
    /// when broken.
    pub fn new(
        name: &'static str,
        check: impl Fn(&[Option<&N>]) -> Result<(), String> + Send + Sync + 'static,
    ) -> Invariant<N> {
        Invariant {
            name,
            check: Arc::new(check),
        }
    }

    /// The name violations report.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Judges one state: `Err(detail)` when broken.
    pub fn check(&self, nodes: &[Option<&N>]) -> Result<(), String> {
        (self.check)(nodes)
    }
}

impl<N> Clone for Invariant<N> {
    fn clone(&self) -> Self {
        Invariant {
            name: self.name,
            check: Arc::clone(&self.check),
        }
    }
}

impl<N> fmt::Debug for Invariant<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Invariant")
            .field("name", &self.name)
            .finish()
    }
}

/// The first invariant of `invariants` that `nodes` break, with its detail; an invariant that
/// panics counts as broken, with the panic message as its detail.
pub(crate) fn first_broken<N>(
    invariants: &[Invariant<N>],
    nodes: &[Option<&N>],
) -> Option<(&'static str, String)> {
    invariants
        .iter()
        .find_map(|inv| judge(inv, nodes).map(|detail| (inv.name, detail)))
}

/// Why `nodes` break `invariant`, if they do; a panic counts as broken.
pub(crate) fn judge<N>(invariant: &Invariant<N>, nodes: &[Option<&N>]) -> Option<String> {
    match catch_unwind(AssertUnwindSafe(|| invariant.check(nodes))) {
        Ok(Ok(())) => None,
        Ok(Err(detail)) => Some(detail),
        Err(payload) => Some(format!("panicked: {}", panic_message(&*payload))),
    }
}

/// The message of a caught panic (`panic!("…")` payloads are `&str` or `String`).
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic with a payload that is not a string".to_owned()
    }
}
