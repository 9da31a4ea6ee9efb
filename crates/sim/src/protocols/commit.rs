//! What the atomic-commit protocols (Two-Phase Commit, Three-Phase Commit, Paxos Commit) share
//! in the simulator: the client workload (transactions begun at the coordinator, node 0, over
//! participants `1..=N`), the invariants (atomicity, commit validity, stable decisions), the
//! in-doubt accounting, the decisions summary, and a structured report ([`CommitReport`]) that
//! `sim compare` reads.
//!
//! Each protocol's module turns its outputs into [`Fact`]s; only this module knows what the
//! facts mean.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::{Deserialize, Serialize};
use underhood_consensus::two_phase::{Outcome, Request, Vote, Work};
use underhood_consensus::{NodeId, Time, TxId};

use crate::error::ScenarioError;
use crate::process::Violation;
use crate::rng::SimRng;
use crate::scenario::{Scenario, ScenarioSpec, Workload};
use crate::violation::Decided;
use crate::violation::RunInvariant;

/// The invariants every atomic-commit run checks (2PC, 3PC and Paxos Commit alike).
pub(crate) const INVARIANTS: &[RunInvariant] = &[
    RunInvariant {
        name: "atomicity",
        promise: "no transaction commits at one node and aborts at another",
    },
    RunInvariant {
        name: "commit-validity",
        promise: "a transaction commits only if every participant voted to commit",
    },
    RunInvariant {
        name: "stable-decision",
        promise: "a node never changes a decision it announced",
    },
];

/// The coordinator (transaction manager) of every commit protocol: node 0.
pub(crate) const COORDINATOR: NodeId = NodeId(0);

/// What a commit protocol's output tells the checkers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fact {
    /// A participant voted.
    Voted {
        /// The transaction.
        tx: TxId,
        /// The vote.
        vote: Vote,
    },
    /// A node decided.
    Decided {
        /// The transaction.
        tx: TxId,
        /// The outcome.
        outcome: Outcome,
    },
}

/// The shared state of a commit-family cluster: workload and checkers.
#[derive(Clone, Debug)]
pub(crate) struct Commit {
    n_nodes: u32,
    participants: u32,
    workload: Workload,
    txs: BTreeMap<TxId, TxTrack>,
    /// Per node: total ms in doubt over finished spells, and the open spells.
    in_doubt_total: Vec<u64>,
    in_doubt_open: Vec<BTreeMap<TxId, Time>>,
}

#[derive(Clone, Debug, Default)]
struct TxTrack {
    started: Time,
    participants: Vec<NodeId>,
    votes: BTreeMap<NodeId, Vote>,
    decided: BTreeMap<NodeId, (Outcome, Time)>,
}

/// The outcome of a commit run as data: per transaction who decided what and when, and per
/// node how long it was in doubt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitReport {
    /// Every transaction begun.
    pub txs: Vec<TxReport>,
    /// Per node: ms in doubt in total, open spells counted up to the report.
    pub in_doubt_ms: Vec<u64>,
    /// Per node: transactions it is in doubt about now.
    pub in_doubt_now: Vec<u32>,
}

/// One transaction in a [`CommitReport`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxReport {
    /// The transaction's number.
    pub tx: u64,
    /// When the client began it.
    pub started_ms: u64,
    /// Its participants.
    pub participants: Vec<u32>,
    /// Who decided it, how, and when.
    pub decided: Vec<Decision>,
}

/// One node's decision of one transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// The node.
    pub node: u32,
    /// Whether it committed.
    pub commit: bool,
    /// When.
    pub at_ms: u64,
}

impl Commit {
    /// The shared state for `scenario` with participants `1..=participants`.
    pub(crate) fn new(scenario: &Scenario, participants: u32) -> Commit {
        Commit {
            n_nodes: scenario.nodes,
            participants,
            workload: scenario.workload.clone(),
            txs: BTreeMap::new(),
            in_doubt_total: vec![0; scenario.nodes as usize],
            in_doubt_open: vec![BTreeMap::new(); scenario.nodes as usize],
        }
    }

    /// Schedules the first transaction.
    pub(crate) fn start_clients(&self, wake: &mut Vec<(Time, u64)>) {
        if self.workload.transactions > 0 {
            wake.push((Time(self.workload.start_ms), 1));
        }
    }

    /// One client submits transaction `token` to the coordinator and plans the next one an
    /// interval later.
    pub(crate) fn wake_client(
        &mut self,
        now: Time,
        token: u64,
        rng: &mut SimRng,
        wake: &mut Vec<(Time, u64)>,
    ) -> Option<(NodeId, Request)> {
        let w = &self.workload;
        let tx = token;
        if tx > w.transactions {
            return None;
        }
        if tx < w.transactions {
            wake.push((now.after(w.interval_ms), tx + 1));
        }
        let mut pool: Vec<NodeId> = (1..=self.participants).map(NodeId).collect();
        let chosen: Vec<NodeId> = match w.participants_per_tx {
            None => pool,
            Some(k) => {
                // A partial Fisher-Yates shuffle, then sorted so requests go out in id order.
                for i in 0..k as usize {
                    let j = i + rng.below((pool.len() - i) as u64) as usize;
                    pool.swap(i, j);
                }
                pool.truncate(k as usize);
                pool.sort_unstable();
                pool
            }
        };
        let work = chosen
            .iter()
            .map(|p| {
                let scripted = w.conflicts.iter().any(|c| c.tx == tx && c.node == p.0);
                let random = rng.chance(w.conflict_per_mille);
                let work = if scripted || random {
                    Work::Conflict
                } else {
                    Work::Ready
                };
                (*p, work)
            })
            .collect();
        self.txs.insert(
            TxId(tx),
            TxTrack {
                started: now,
                participants: chosen,
                ..TxTrack::default()
            },
        );
        Some((COORDINATOR, Request::Begin { tx: TxId(tx), work }))
    }

    /// Checks one fact against atomicity, commit validity and stable decisions.
    pub(crate) fn observe(
        &mut self,
        now: Time,
        node: NodeId,
        fact: Fact,
        name: impl Fn(NodeId) -> String,
        violations: &mut Vec<Violation>,
    ) {
        match fact {
            Fact::Voted { tx, vote } => {
                if let Some(t) = self.txs.get_mut(&tx) {
                    t.votes.insert(node, vote);
                }
                if vote == Vote::Commit {
                    self.in_doubt_open[node.0 as usize].insert(tx, now);
                }
            }
            Fact::Decided { tx, outcome } => {
                let in_doubt = self.in_doubt_open[node.0 as usize].remove(&tx);
                let spell = in_doubt.map(|since| now.0.saturating_sub(since.0));
                self.in_doubt_total[node.0 as usize] += spell.unwrap_or(0);
                let t = self.txs.entry(tx).or_default();
                if let Some((before, _)) = t.decided.get(&node)
                    && *before != outcome
                {
                    let detail = format!(
                        "{} decided {tx} {} and later {}",
                        name(node),
                        outcome_word(*before),
                        outcome_word(outcome)
                    );
                    violations.push(
                        Violation::new("stable-decision", detail)
                            .tx(tx)
                            .nodes([node])
                            .decisions([
                                Decided::by(node, outcome_word(*before)),
                                Decided::by(node, outcome_word(outcome)),
                            ]),
                    );
                }
                if let Some(other) = t
                    .decided
                    .iter()
                    .find(|(n, (o, _))| **n != node && *o != outcome)
                    .map(|(n, _)| *n)
                {
                    let (committed, aborted) = match outcome {
                        Outcome::Commit => (node, other),
                        Outcome::Abort => (other, node),
                    };
                    let detail = format!(
                        "{tx} committed at {} but aborted at {}",
                        name(committed),
                        name(aborted)
                    );
                    let first = if other == committed {
                        "commit"
                    } else {
                        "abort"
                    };
                    violations.push(
                        Violation::new("atomicity", detail)
                            .tx(tx)
                            .nodes([node, other])
                            .decisions([
                                Decided::by(other, first),
                                Decided::by(node, outcome_word(outcome)),
                            ]),
                    );
                }
                if outcome == Outcome::Commit
                    && let Some(p) = t
                        .participants
                        .iter()
                        .find(|p| t.votes.get(p) != Some(&Vote::Commit))
                {
                    let detail = format!(
                        "{tx} committed at {} although {} did not vote to commit",
                        name(node),
                        name(*p)
                    );
                    violations.push(
                        Violation::new("commit-validity", detail)
                            .tx(tx)
                            .nodes([node, *p])
                            .decisions([Decided::by(node, outcome_word(outcome))]),
                    );
                }
                t.decided.insert(node, (outcome, now));
            }
        }
    }

    /// Milliseconds `node` has spent in doubt up to `now`, counting open spells.
    pub(crate) fn in_doubt_ms(&self, node: NodeId, now: Time) -> u64 {
        let i = node.0 as usize;
        self.in_doubt_total[i]
            + self.in_doubt_open[i]
                .values()
                .map(|since| now.0.saturating_sub(since.0))
                .sum::<u64>()
    }

    /// How many transactions `node` is in doubt about now.
    pub(crate) fn in_doubt_now(&self, node: NodeId) -> usize {
        self.in_doubt_open[node.0 as usize].len()
    }

    /// How each node decided `tx`, if it did.
    pub(crate) fn decisions(&self, tx: TxId) -> Vec<(NodeId, Outcome)> {
        self.txs
            .get(&tx)
            .map(|t| t.decided.iter().map(|(n, (o, _))| (*n, *o)).collect())
            .unwrap_or_default()
    }

    /// The run so far as data.
    pub(crate) fn report(&self, now: Time) -> CommitReport {
        CommitReport {
            txs: self
                .txs
                .iter()
                .map(|(tx, t)| TxReport {
                    tx: tx.0,
                    started_ms: t.started.0,
                    participants: t.participants.iter().map(|p| p.0).collect(),
                    decided: t
                        .decided
                        .iter()
                        .map(|(n, (o, at))| Decision {
                            node: n.0,
                            commit: *o == Outcome::Commit,
                            at_ms: at.0,
                        })
                        .collect(),
                })
                .collect(),
            in_doubt_ms: (0..self.n_nodes)
                .map(|n| self.in_doubt_ms(NodeId(n), now))
                .collect(),
            in_doubt_now: self.in_doubt_open.iter().map(|o| o.len() as u32).collect(),
        }
    }

    /// Appends the transactions, decisions and in-doubt times to the run summary.
    pub(crate) fn summarize(&self, now: Time, name: impl Fn(NodeId) -> String, out: &mut String) {
        let (mut committed, mut aborted, mut open) = (0, 0, 0);
        for t in self.txs.values() {
            let everyone = t.participants.len() + 1;
            let outcomes: Vec<Outcome> = t.decided.values().map(|(o, _)| *o).collect();
            if t.decided.len() < everyone {
                open += 1;
            } else if outcomes.iter().all(|o| *o == Outcome::Commit) {
                committed += 1;
            } else if outcomes.iter().all(|o| *o == Outcome::Abort) {
                aborted += 1;
            }
        }
        let _ = writeln!(
            out,
            "transactions: {} started, {committed} committed everywhere, {aborted} aborted everywhere, {open} not decided everywhere",
            self.txs.len()
        );
        let _ = writeln!(out, "decisions:");
        const SHOWN: usize = 20;
        for (tx, t) in self.txs.iter().take(SHOWN) {
            let mut line = format!("  {tx}:");
            for id in std::iter::once(COORDINATOR).chain(t.participants.iter().copied()) {
                let word = match t.decided.get(&id) {
                    Some((o, _)) => outcome_word(*o),
                    None if self.in_doubt_open[id.0 as usize].contains_key(tx) => "in-doubt",
                    None => "undecided",
                };
                let _ = write!(line, " {}={word}", name(id));
            }
            let _ = writeln!(out, "{line}");
        }
        if self.txs.len() > SHOWN {
            let _ = writeln!(out, "  … {} more", self.txs.len() - SHOWN);
        }
        let _ = writeln!(out, "in doubt:");
        for id in 1..=self.participants {
            let node = NodeId(id);
            let open: Vec<String> = self.in_doubt_open[id as usize]
                .iter()
                .map(|(tx, since)| format!("{tx} since {} ms", since.0))
                .collect();
            let blocked = if open.is_empty() {
                String::new()
            } else {
                format!(", still in doubt at the end: {}", open.join(", "))
            };
            let _ = writeln!(
                out,
                "  {}: {} ms in total{blocked}",
                name(node),
                self.in_doubt_ms(node, now)
            );
        }
    }
}

/// A commit-family node's display name: `C` for the coordinator, `P1`… for participants, and
/// `A1`… from `acceptors_from` on.
pub(crate) fn node_name(id: NodeId, acceptors_from: Option<u32>) -> String {
    match (id, acceptors_from) {
        (COORDINATOR, _) => "C".to_owned(),
        (NodeId(n), Some(first)) if n >= first => format!("A{}", n - first + 1),
        (NodeId(n), _) => format!("P{n}"),
    }
}

/// Checks the workload against `participants` participants `1..=participants`.
pub(crate) fn check_workload(spec: &ScenarioSpec, participants: u32) -> Result<(), ScenarioError> {
    let w = &spec.workload;
    if let Some(k) = w.participants_per_tx
        && (k == 0 || k > participants)
    {
        return Err(ScenarioError::ParticipantsPerTx {
            participants_per_tx: k,
            participants,
        });
    }
    if let Some(c) = w
        .conflicts
        .iter()
        .find(|c| c.node == COORDINATOR.0 || c.node > participants)
    {
        return Err(ScenarioError::NotAParticipant { node: c.node });
    }
    Ok(())
}

/// `commit` or `abort`.
pub(crate) fn outcome_word(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Commit => "commit",
        Outcome::Abort => "abort",
    }
}
