//! The resource manager: votes through its own instance's ballot-0 phase 2a, applies the
//! outcome, and leads the transaction to an outcome itself when it stays in doubt.

use std::collections::BTreeMap;

use super::leader::Leader;
use super::{
    Ballot, Config, Effect, FastPath, Input, Msg, Outcome, Output, Record, RmState, Timer, TxView,
    Value, Vote, Work, output, persist, send, set_timer,
};
use crate::{Durability, NodeId, Time, TxId};

/// A Paxos Commit resource manager.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ResourceManager {
    id: NodeId,
    tm: NodeId,
    config: Config,
    txs: BTreeMap<TxId, Tx>,
    leader: Leader,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Tx {
    rms: Vec<NodeId>,
    state: RmState,
    since: Time,
}

impl ResourceManager {
    pub(super) fn new(id: NodeId, tm: NodeId, config: Config) -> ResourceManager {
        ResourceManager {
            id,
            tm,
            config,
            txs: BTreeMap::new(),
            leader: Leader::new(id, config),
        }
    }

    /// The RM's id.
    pub fn id(&self) -> NodeId {
        self.id
    }

    /// The RM's TM.
    pub fn tm(&self) -> NodeId {
        self.tm
    }

    pub(super) fn recover(
        id: NodeId,
        tm: NodeId,
        config: Config,
        log: &[Record],
        now: Time,
        out: &mut Vec<Effect>,
    ) -> ResourceManager {
        let mut rm = ResourceManager::new(id, tm, config);
        rm.leader = Leader::recover(id, config, log);
        for record in log {
            match record {
                Record::Prepared { tx, rms } => {
                    let state = RmState::Prepared;
                    let rms = rms.clone();
                    rm.txs.insert(
                        *tx,
                        Tx {
                            rms,
                            state,
                            since: now,
                        },
                    );
                }
                Record::Committed { tx } => rm.settle(*tx, RmState::Committed, now),
                Record::Aborted { tx } => rm.settle(*tx, RmState::Aborted, now),
                // Leader rounds went to `Leader::recover`; acceptor records are foreign.
                Record::Round(_) | Record::Promised { .. } | Record::Accepted { .. } => {}
            }
        }
        // Still in doubt after a restart: lead soon rather than wait a full timeout.
        for (tx, t) in &rm.txs {
            if t.state == RmState::Prepared {
                out.push(set_timer(Timer::Takeover(*tx), config.retry_ms));
            }
        }
        rm
    }

    fn settle(&mut self, tx: TxId, state: RmState, now: Time) {
        match self.txs.get_mut(&tx) {
            Some(t) => t.state = state,
            None => {
                let rms = Vec::new();
                self.txs.insert(
                    tx,
                    Tx {
                        rms,
                        state,
                        since: now,
                    },
                );
            }
        }
    }

    pub(super) fn step(&mut self, now: Time, input: Input, out: &mut Vec<Effect>) {
        match input {
            Input::Msg { from, msg } => self.on_msg(now, from, msg, out),
            Input::Timer(Timer::Takeover(tx)) => {
                let Some(t) = self.txs.get(&tx) else {
                    return;
                };
                if t.state != RmState::Prepared || self.leader.leading(tx).is_some() {
                    return;
                }
                let rms = t.rms.clone();
                self.leader.track(tx, &rms);
                self.leader.start_round(tx, out);
            }
            Input::Timer(Timer::Retry { tx, round }) => self.leader.on_retry(tx, round, out),
            // The TM's timer; clients talk to the TM only.
            Input::Timer(Timer::VoteTimeout(_)) | Input::Request(_) => {}
        }
    }

    fn on_msg(&mut self, now: Time, from: NodeId, msg: Msg, out: &mut Vec<Effect>) {
        match msg {
            Msg::Prepare { tx, work, rms } => self.prepare(now, tx, work, rms, out),
            Msg::Decision { tx, outcome } => self.learn(tx, outcome, out),
            Msg::Phase2b { tx, votes } => {
                if let Some(outcome) = self.leader.on_2b(from, tx, &votes) {
                    self.learn(tx, outcome, out);
                    self.announce(tx, outcome, out);
                }
            }
            Msg::Phase1b {
                tx,
                rm,
                ballot,
                accepted,
            } => self.leader.on_1b(from, tx, rm, ballot, accepted, out),
            // Messages for acceptors.
            Msg::Phase2a { .. } | Msg::Phase1a { .. } => {}
        }
    }

    fn prepare(
        &mut self,
        now: Time,
        tx: TxId,
        work: Work,
        rms: Vec<NodeId>,
        out: &mut Vec<Effect>,
    ) {
        if let Some(t) = self.txs.get(&tx) {
            // A duplicate PREPARE (or a restarted TM): repeat the vote this node cast.
            let value = match t.state {
                RmState::Prepared | RmState::Committed => Value::Prepared,
                RmState::Aborted => Value::Aborted,
            };
            if !t.rms.is_empty() {
                let rms = t.rms.clone();
                self.phase2a(tx, value, &rms, out);
            }
            return;
        }
        match work {
            Work::Conflict => {
                let vote = Vote::Abort;
                let state = RmState::Aborted;
                self.txs.insert(
                    tx,
                    Tx {
                        rms: rms.clone(),
                        state,
                        since: now,
                    },
                );
                out.push(persist(Record::Aborted { tx }, Durability::Lazy));
                out.push(output(Output::Voted { tx, vote }));
                self.phase2a(tx, Value::Aborted, &rms, out);
                let outcome = Outcome::Abort;
                out.push(output(Output::Decided { tx, outcome }));
            }
            Work::Ready => {
                let vote = Vote::Commit;
                let record = Record::Prepared {
                    tx,
                    rms: rms.clone(),
                };
                out.push(persist(record, Durability::Forced));
                // Reported before it leaves, so a crash right after the send cannot hide it.
                out.push(output(Output::Voted { tx, vote }));
                self.phase2a(tx, Value::Prepared, &rms, out);
                let position = rms.iter().position(|rm| *rm == self.id).unwrap_or(0) as u64;
                let stagger = position.saturating_mul(self.config.retry_ms);
                let after_ms = self.config.takeover_timeout_ms.saturating_add(stagger);
                out.push(set_timer(Timer::Takeover(tx), after_ms));
                let state = RmState::Prepared;
                self.txs.insert(
                    tx,
                    Tx {
                        rms,
                        state,
                        since: now,
                    },
                );
            }
        }
    }

    /// The RM's own instance, ballot 0: straight to the acceptors, no phase 1.
    fn phase2a(&self, tx: TxId, value: Value, rms: &[NodeId], out: &mut Vec<Effect>) {
        let ballot = Ballot {
            round: 0,
            leader: self.id,
        };
        let acceptors = self.config.acceptors;
        let targets = match self.config.fast_path {
            FastPath::AllAcceptors => acceptors.count() as usize,
            FastPath::FirstMajority => acceptors.majority(),
        };
        for acceptor in acceptors.ids().take(targets) {
            let msg = Msg::Phase2a {
                tx,
                rm: self.id,
                ballot,
                value,
                rms: rms.to_vec(),
            };
            out.push(send(acceptor, msg));
        }
    }

    /// The outcome arrived (from the TM or a leading RM, or from this node's own leading).
    fn learn(&mut self, tx: TxId, outcome: Outcome, out: &mut Vec<Effect>) {
        let state = match outcome {
            Outcome::Commit => RmState::Committed,
            Outcome::Abort => RmState::Aborted,
        };
        match self.txs.get_mut(&tx) {
            Some(t) if t.state != RmState::Prepared => return,
            Some(t) => t.state = state,
            // Never prepared: an abort needs no record; a commit cannot happen without this
            // node's vote, but record it faithfully if a broken leader claims one.
            None => {
                let rms = Vec::new();
                self.txs.insert(
                    tx,
                    Tx {
                        rms,
                        state,
                        since: Time(0),
                    },
                );
                if outcome == Outcome::Abort {
                    out.push(output(Output::Decided { tx, outcome }));
                    return;
                }
            }
        }
        self.leader.settle(tx, outcome);
        let (record, durability) = match outcome {
            Outcome::Commit => (Record::Committed { tx }, Durability::Forced),
            Outcome::Abort => (Record::Aborted { tx }, Durability::Lazy),
        };
        out.push(persist(record, durability));
        out.push(output(Output::Decided { tx, outcome }));
    }

    /// This RM led `tx` to its outcome: tell the other RMs and the TM.
    fn announce(&self, tx: TxId, outcome: Outcome, out: &mut Vec<Effect>) {
        let Some(t) = self.txs.get(&tx) else {
            return;
        };
        for rm in t.rms.iter().filter(|rm| **rm != self.id) {
            out.push(send(*rm, Msg::Decision { tx, outcome }));
        }
        out.push(send(self.tm, Msg::Decision { tx, outcome }));
    }

    pub(super) fn view(&self, tx: TxId) -> Option<TxView> {
        let t = self.txs.get(&tx)?;
        Some(TxView::Rm {
            state: t.state,
            in_doubt_since: (t.state == RmState::Prepared).then_some(t.since),
            leading: self.leader.leading(tx),
        })
    }

    pub(super) fn views(&self) -> Vec<(TxId, TxView)> {
        self.txs
            .keys()
            .filter_map(|tx| Some((*tx, self.view(*tx)?)))
            .collect()
    }
}
