//! State invariants checked after every event (for the `check` harness).

/// A named predicate over every node's state (`None` for a node that is down), checked after
/// every event: "at most one leader per ballot", "a backup never runs ahead of its primary".
pub struct Invariant<N> {
    /// The invariant's name, as violations report it.
    pub name: &'static str,
    /// `Err(detail)` when broken.
    pub check: fn(&[Option<&N>]) -> Result<(), String>,
}

impl<N> Clone for Invariant<N> {
    fn clone(&self) -> Self {
        Invariant {
            name: self.name,
            check: self.check,
        }
    }
}

impl<N> std::fmt::Debug for Invariant<N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Invariant")
            .field("name", &self.name)
            .finish()
    }
}
