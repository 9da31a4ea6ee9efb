//! The coordinator: CANCOMMIT, then PRECOMMIT once every vote is yes, then DOCOMMIT once every
//! acknowledgement is in or overdue; after a crash in `p` it asks until somebody knows.

use std::collections::{BTreeMap, BTreeSet};

use super::{
    Config, Effect, Input, Msg, Outcome, Output, Record, Request, State, Term, Timer, TxView, Vote,
    Work, output, persist, send, set_timer,
};
use crate::{Durability, NodeId, Time, TxId};

/// A Three-Phase Commit coordinator.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Coordinator {
    id: NodeId,
    config: Config,
    txs: BTreeMap<TxId, Tx>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Tx {
    /// `w`: collecting votes.
    Waiting {
        participants: Vec<NodeId>,
        yes: BTreeSet<NodeId>,
    },
    /// `p`: collecting acknowledgements of PRECOMMIT.
    PreCommitted {
        participants: Vec<NodeId>,
        acked: BTreeSet<NodeId>,
    },
    /// `p` after a crash: only somebody who knows may end it.
    Recovered {
        participants: Vec<NodeId>,
        since: Time,
    },
    Done(Outcome),
}

impl Coordinator {
    pub(super) fn new(id: NodeId, config: Config) -> Coordinator {
        Coordinator {
            id,
            config,
            txs: BTreeMap::new(),
        }
    }

    /// The coordinator's id.
    pub fn id(&self) -> NodeId {
        self.id
    }

    pub(super) fn recover(
        id: NodeId,
        config: Config,
        log: &[Record],
        now: Time,
        out: &mut Vec<Effect>,
    ) -> Coordinator {
        let mut c = Coordinator::new(id, config);
        for record in log {
            match record {
                Record::PreCommitted { tx, participants } => {
                    c.txs.insert(
                        *tx,
                        Tx::Recovered {
                            participants: participants.clone(),
                            since: now,
                        },
                    );
                }
                Record::Committed { tx } => {
                    c.txs.insert(*tx, Tx::Done(Outcome::Commit));
                }
                Record::Aborted { tx } => {
                    c.txs.insert(*tx, Tx::Done(Outcome::Abort));
                }
                // A coordinator never votes; ignore it rather than trust a foreign log.
                Record::Voted { .. } => {}
            }
        }
        let in_doubt: Vec<TxId> = c
            .txs
            .iter()
            .filter(|(_, s)| matches!(s, Tx::Recovered { .. }))
            .map(|(tx, _)| *tx)
            .collect();
        for tx in in_doubt {
            c.query(tx, out);
        }
        c
    }

    pub(super) fn step(&mut self, _now: Time, input: Input, out: &mut Vec<Effect>) {
        match input {
            Input::Request(Request::Begin { tx, work }) => self.begin(tx, work, out),
            Input::Msg { from, msg } => self.on_msg(from, msg, out),
            Input::Timer(timer) => self.on_timer(timer, out),
        }
    }

    fn begin(&mut self, tx: TxId, work: Vec<(NodeId, Work)>, out: &mut Vec<Effect>) {
        if let Some(state) = self.txs.get(&tx) {
            // A retried request: answer again if decided, otherwise the answer is coming.
            if let Tx::Done(outcome) = state {
                out.push(output(Output::Replied {
                    tx,
                    outcome: *outcome,
                }));
            }
            return;
        }
        let mut participants: Vec<NodeId> = work.iter().map(|(p, _)| *p).collect();
        participants.sort_unstable();
        participants.dedup();
        for (p, w) in &work {
            out.push(send(
                *p,
                Msg::CanCommit {
                    tx,
                    work: *w,
                    participants: participants.clone(),
                },
            ));
        }
        self.txs.insert(
            tx,
            Tx::Waiting {
                participants,
                yes: BTreeSet::new(),
            },
        );
        out.push(set_timer(
            Timer::VoteTimeout(tx),
            self.config.vote_timeout_ms,
        ));
        self.maybe_pre_commit(tx, out);
    }

    fn on_msg(&mut self, from: NodeId, msg: Msg, out: &mut Vec<Effect>) {
        match msg {
            Msg::Vote {
                tx,
                vote: Vote::Commit,
            } => {
                if let Some(Tx::Waiting { participants, yes }) = self.txs.get_mut(&tx) {
                    if participants.contains(&from) {
                        yes.insert(from);
                    }
                    self.maybe_pre_commit(tx, out);
                }
            }
            Msg::Vote {
                tx,
                vote: Vote::Abort,
            } => {
                if matches!(self.txs.get(&tx), Some(Tx::Waiting { .. })) {
                    self.abort(tx, out);
                }
            }
            Msg::Ack { tx, term: Term(0) } => {
                if let Some(Tx::PreCommitted {
                    participants,
                    acked,
                }) = self.txs.get_mut(&tx)
                {
                    if participants.contains(&from) {
                        acked.insert(from);
                    }
                    if participants.iter().all(|p| acked.contains(p)) {
                        self.commit(tx, out);
                    }
                }
            }
            // A backup or a peer tells the outcome: adopt it (a recovered coordinator needs it;
            // a live one in `w` or `p` only hears one when the network misled a backup).
            Msg::Decision { tx, outcome } => self.learn(tx, outcome, out),
            Msg::Query { tx } => {
                let outcome = match self.txs.get(&tx) {
                    Some(Tx::Done(outcome)) => *outcome,
                    // No record: this coordinator never pre-committed `tx`, so nobody committed.
                    None => Outcome::Abort,
                    // Still deciding, or in doubt itself.
                    Some(Tx::Waiting { .. } | Tx::PreCommitted { .. } | Tx::Recovered { .. }) => {
                        return;
                    }
                };
                out.push(send(from, Msg::Decision { tx, outcome }));
            }
            // Acknowledgements of a backup's PRECOMMIT, and the termination protocol, are
            // between participants only.
            Msg::Ack { .. }
            | Msg::CanCommit { .. }
            | Msg::PreCommit { .. }
            | Msg::Elect { .. }
            | Msg::StateReq { .. }
            | Msg::StateReport { .. } => {}
        }
    }

    fn on_timer(&mut self, timer: Timer, out: &mut Vec<Effect>) {
        match timer {
            Timer::VoteTimeout(tx) => {
                if matches!(self.txs.get(&tx), Some(Tx::Waiting { .. })) {
                    self.abort(tx, out);
                }
            }
            // A participant that did not acknowledge crashed (timeouts are taken to be
            // reliable); it will learn the outcome when it recovers.
            Timer::AckTimeout(tx) => {
                if matches!(self.txs.get(&tx), Some(Tx::PreCommitted { .. })) {
                    self.commit(tx, out);
                }
            }
            Timer::Retry(tx) => {
                if matches!(self.txs.get(&tx), Some(Tx::Recovered { .. })) {
                    self.query(tx, out);
                }
            }
            Timer::Wait { .. } => {}
        }
    }

    fn maybe_pre_commit(&mut self, tx: TxId, out: &mut Vec<Effect>) {
        let Some(Tx::Waiting { participants, yes }) = self.txs.get(&tx) else {
            return;
        };
        if !participants.iter().all(|p| yes.contains(p)) {
            return;
        }
        let participants = participants.clone();
        out.push(persist(
            Record::PreCommitted {
                tx,
                participants: participants.clone(),
            },
            Durability::Forced,
        ));
        out.push(output(Output::PreCommitted { tx }));
        for p in &participants {
            out.push(send(*p, Msg::PreCommit { tx, term: Term(0) }));
        }
        out.push(set_timer(Timer::AckTimeout(tx), self.config.ack_timeout_ms));
        let acked = BTreeSet::new();
        self.txs.insert(
            tx,
            Tx::PreCommitted {
                participants,
                acked,
            },
        );
    }

    fn commit(&mut self, tx: TxId, out: &mut Vec<Effect>) {
        let Some(Tx::PreCommitted { participants, .. }) = self.txs.get(&tx) else {
            return;
        };
        let participants = participants.clone();
        self.txs.insert(tx, Tx::Done(Outcome::Commit));
        out.push(persist(Record::Committed { tx }, Durability::Forced));
        let outcome = Outcome::Commit;
        out.push(output(Output::Decided { tx, outcome }));
        for p in &participants {
            out.push(send(*p, Msg::Decision { tx, outcome }));
        }
        out.push(output(Output::Replied { tx, outcome }));
    }

    fn abort(&mut self, tx: TxId, out: &mut Vec<Effect>) {
        let Some(Tx::Waiting { participants, .. }) = self.txs.insert(tx, Tx::Done(Outcome::Abort))
        else {
            return;
        };
        let outcome = Outcome::Abort;
        out.push(persist(Record::Aborted { tx }, Durability::Lazy));
        out.push(output(Output::Decided { tx, outcome }));
        for p in &participants {
            out.push(send(*p, Msg::Decision { tx, outcome }));
        }
        out.push(output(Output::Replied { tx, outcome }));
    }

    /// Somebody else decided `tx`: log it and report it.
    fn learn(&mut self, tx: TxId, outcome: Outcome, out: &mut Vec<Effect>) {
        match self.txs.get(&tx) {
            None | Some(Tx::Done(_)) => return,
            Some(Tx::Waiting { .. } | Tx::PreCommitted { .. } | Tx::Recovered { .. }) => {}
        }
        self.txs.insert(tx, Tx::Done(outcome));
        let record = match outcome {
            Outcome::Commit => Record::Committed { tx },
            Outcome::Abort => Record::Aborted { tx },
        };
        out.push(persist(record, Durability::Lazy));
        out.push(output(Output::Decided { tx, outcome }));
        out.push(output(Output::Replied { tx, outcome }));
    }

    fn query(&self, tx: TxId, out: &mut Vec<Effect>) {
        let Some(Tx::Recovered { participants, .. }) = self.txs.get(&tx) else {
            return;
        };
        for p in participants {
            out.push(send(*p, Msg::Query { tx }));
        }
        out.push(set_timer(Timer::Retry(tx), self.config.retry_ms));
    }

    pub(super) fn view(&self, tx: TxId) -> Option<TxView> {
        self.txs.get(&tx).map(view_of)
    }

    pub(super) fn views(&self) -> Vec<(TxId, TxView)> {
        self.txs.iter().map(|(tx, s)| (*tx, view_of(s))).collect()
    }
}

fn view_of(state: &Tx) -> TxView {
    let (state, in_doubt_since) = match state {
        Tx::Waiting { .. } => (State::Waiting, None),
        Tx::PreCommitted { .. } => (State::PreCommitted, None),
        Tx::Recovered { since, .. } => (State::PreCommitted, Some(*since)),
        Tx::Done(Outcome::Commit) => (State::Committed, None),
        Tx::Done(Outcome::Abort) => (State::Aborted, None),
    };
    TxView {
        state,
        term: Term(0),
        backup: false,
        in_doubt_since,
    }
}
