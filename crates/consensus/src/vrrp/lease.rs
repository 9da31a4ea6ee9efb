//! PaxosLease: the acceptor and the candidate's round bookkeeping. The router (in `router.rs`)
//! decides when to ask and what holding a lease means.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::Msg;
use crate::{NodeId, Time};

/// A lease round: unique per candidate because it carries the candidate's id.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Ballot {
    /// Compared first.
    pub round: u64,
    /// Breaks ties.
    pub node: NodeId,
}

impl fmt::Display for Ballot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.round, self.node.0)
    }
}

/// An acceptor's volatile state: PaxosLease keeps nothing on disk, so a restarted acceptor is
/// silent for one lease duration instead (it may have forgotten a promise or a grant).
#[derive(Clone, Debug, Default, Hash)]
pub(super) struct Acceptor {
    pub(super) promised: Ballot,
    /// The live grant: round, holder, and when this acceptor forgets it.
    pub(super) granted: Option<(Ballot, NodeId, Time)>,
    pub(super) silent_until: Time,
}

impl Acceptor {
    /// An acceptor that (re)started at `now` and must not answer for `duration_ms`.
    pub(super) fn restarted(now: Time, duration_ms: u64) -> Acceptor {
        Acceptor {
            silent_until: now.after(duration_ms),
            ..Acceptor::default()
        }
    }

    /// The holder of an unexpired grant.
    pub(super) fn live(&self, now: Time) -> Option<(NodeId, Time)> {
        self.granted
            .filter(|(_, _, until)| now < *until)
            .map(|(_, holder, until)| (holder, until))
    }

    /// Handles a lease message from `from`; returns the answer, if any. A grant is kept for
    /// the proposed duration lengthened by the margin `max_drift_ppm` needs.
    pub(super) fn handle(
        &mut self,
        now: Time,
        from: NodeId,
        msg: &Msg,
        max_drift_ppm: u64,
    ) -> Option<Msg> {
        if now < self.silent_until {
            return None;
        }
        if self.live(now).is_none() {
            self.granted = None;
        }
        match *msg {
            Msg::Prepare { ballot, .. } => Some(if ballot > self.promised {
                self.promised = ballot;
                Msg::Promise {
                    ballot,
                    holder: self.live(now).map(|(h, _)| h),
                }
            } else {
                Msg::Reject {
                    ballot,
                    promised: self.promised,
                }
            }),
            Msg::Propose {
                ballot,
                duration_ms,
            } => Some(if ballot >= self.promised {
                self.promised = ballot;
                let hold = super::lengthen(duration_ms, max_drift_ppm);
                self.granted = Some((ballot, from, now.after(hold)));
                Msg::Accepted { ballot }
            } else {
                Msg::Reject {
                    ballot,
                    promised: self.promised,
                }
            }),
            Msg::Release { ballot } => {
                if self
                    .granted
                    .is_some_and(|(b, holder, _)| b == ballot && holder == from)
                {
                    self.granted = None;
                }
                None
            }
            Msg::Advert { .. }
            | Msg::Promise { .. }
            | Msg::Accepted { .. }
            | Msg::Reject { .. } => None,
        }
    }
}

/// A candidate's round in progress.
#[derive(Clone, Debug, Hash)]
pub(super) struct Round {
    pub(super) ballot: Ballot,
    pub(super) phase: Phase,
    /// Acceptors that answered this phase.
    pub(super) votes: BTreeSet<NodeId>,
    /// Phase 1: someone else holds a live lease at one of the promising acceptors.
    pub(super) blocked: bool,
    /// Phase 2: the lease's end, counted from before the proposal was sent.
    pub(super) until: Time,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum Phase {
    Prepare,
    Propose,
}

impl Round {
    pub(super) fn new(ballot: Ballot) -> Round {
        Round {
            ballot,
            phase: Phase::Prepare,
            votes: BTreeSet::new(),
            blocked: false,
            until: Time(0),
        }
    }
}
