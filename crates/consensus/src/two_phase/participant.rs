//! The participant: votes, stays in doubt until it learns the outcome, asks the coordinator and
//! its peers when the outcome is late, and answers its peers' questions.

use std::collections::BTreeMap;

use super::{
    Config, Effect, Input, Msg, Outcome, Output, Record, Status, Timer, TxView, Variant, Vote,
    Work, output, persist, send, set_timer,
};
use crate::{Durability, NodeId, Time, TxId};

/// A Two-Phase Commit participant.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Participant {
    id: NodeId,
    coordinator: NodeId,
    config: Config,
    txs: BTreeMap<TxId, Tx>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Tx {
    InDoubt {
        participants: Vec<NodeId>,
        since: Time,
    },
    Done(Outcome),
}

impl Participant {
    pub(super) fn new(id: NodeId, coordinator: NodeId, config: Config) -> Participant {
        Participant {
            id,
            coordinator,
            config,
            txs: BTreeMap::new(),
        }
    }

    /// The participant's id.
    pub fn id(&self) -> NodeId {
        self.id
    }

    /// The participant's coordinator.
    pub fn coordinator(&self) -> NodeId {
        self.coordinator
    }

    pub(super) fn recover(
        id: NodeId,
        coordinator: NodeId,
        config: Config,
        log: &[Record],
        now: Time,
        out: &mut Vec<Effect>,
    ) -> Participant {
        let mut p = Participant::new(id, coordinator, config);
        for record in log {
            match record {
                Record::Prepared { tx, participants } => {
                    p.txs.insert(
                        *tx,
                        Tx::InDoubt {
                            participants: participants.clone(),
                            since: now,
                        },
                    );
                }
                Record::Committed { tx, .. } => {
                    p.txs.insert(*tx, Tx::Done(Outcome::Commit));
                }
                Record::Aborted { tx } => {
                    p.txs.insert(*tx, Tx::Done(Outcome::Abort));
                }
                Record::End { .. } => {}
            }
        }
        // Still in doubt after a restart: ask at once rather than wait a full timeout.
        let in_doubt: Vec<TxId> = p
            .txs
            .iter()
            .filter(|(_, s)| matches!(s, Tx::InDoubt { .. }))
            .map(|(tx, _)| *tx)
            .collect();
        for tx in in_doubt {
            p.query(tx, out);
            out.push(set_timer(Timer::DecisionTimeout(tx), config.retry_ms));
        }
        p
    }

    pub(super) fn step(&mut self, now: Time, input: Input, out: &mut Vec<Effect>) {
        match input {
            Input::Msg { from, msg } => self.on_msg(now, from, msg, out),
            Input::Timer(timer) => self.on_timer(timer, out),
            // Clients talk to the coordinator only.
            Input::Request(_) => {}
        }
    }

    fn on_msg(&mut self, now: Time, from: NodeId, msg: Msg, out: &mut Vec<Effect>) {
        match msg {
            Msg::Prepare {
                tx,
                work,
                participants,
            } => self.prepare(now, tx, work, participants, out),
            Msg::Decision { tx, outcome } => self.learn(tx, outcome, out),
            Msg::Status {
                tx,
                status: Status::Decided(outcome),
            } => self.learn(tx, outcome, out),
            Msg::Status {
                status: Status::InDoubt,
                ..
            } => {}
            Msg::Query { tx } => {
                let status = match self.txs.get(&tx) {
                    Some(Tx::InDoubt { .. }) => Status::InDoubt,
                    Some(Tx::Done(outcome)) => Status::Decided(*outcome),
                    None => {
                        // Never voted: abort now, durably, so a late PREPARE gets a vote to abort.
                        self.txs.insert(tx, Tx::Done(Outcome::Abort));
                        out.push(persist(Record::Aborted { tx }, Durability::Forced));
                        out.push(output(Output::Decided {
                            tx,
                            outcome: Outcome::Abort,
                        }));
                        Status::Decided(Outcome::Abort)
                    }
                };
                out.push(send(from, Msg::Status { tx, status }));
            }
            // Messages only the coordinator handles.
            Msg::Vote { .. } | Msg::Ack { .. } => {}
        }
    }

    fn prepare(
        &mut self,
        now: Time,
        tx: TxId,
        work: Work,
        participants: Vec<NodeId>,
        out: &mut Vec<Effect>,
    ) {
        if let Some(state) = self.txs.get(&tx) {
            // A duplicate or re-sent PREPARE: repeat the vote this node already cast.
            let vote = match state {
                Tx::InDoubt { .. } | Tx::Done(Outcome::Commit) => Vote::Commit,
                Tx::Done(Outcome::Abort) => Vote::Abort,
            };
            out.push(send(self.coordinator, Msg::Vote { tx, vote }));
            return;
        }
        match work {
            Work::Conflict => {
                self.txs.insert(tx, Tx::Done(Outcome::Abort));
                out.push(persist(Record::Aborted { tx }, Durability::Lazy));
                out.push(output(Output::Voted {
                    tx,
                    vote: Vote::Abort,
                }));
                out.push(send(
                    self.coordinator,
                    Msg::Vote {
                        tx,
                        vote: Vote::Abort,
                    },
                ));
                out.push(output(Output::Decided {
                    tx,
                    outcome: Outcome::Abort,
                }));
            }
            Work::Ready => {
                let record = Record::Prepared {
                    tx,
                    participants: participants.clone(),
                };
                let vote = send(
                    self.coordinator,
                    Msg::Vote {
                        tx,
                        vote: Vote::Commit,
                    },
                );
                // The vote is reported as cast before it leaves, so a crash right after the send
                // cannot hide it from checkers.
                let voted = output(Output::Voted {
                    tx,
                    vote: Vote::Commit,
                });
                match self.config.variant {
                    // Bug on purpose: the vote leaves before the PREPARED record is durable.
                    Variant::VoteBeforeLog => {
                        out.extend([voted, vote]);
                        out.push(persist(record, Durability::Lazy));
                    }
                    Variant::Correct | Variant::AnnounceBeforeLog | Variant::AbortOnTimeout => {
                        out.push(persist(record, Durability::Forced));
                        out.extend([voted, vote]);
                    }
                }
                out.push(set_timer(
                    Timer::DecisionTimeout(tx),
                    self.config.decision_timeout_ms,
                ));
                self.txs.insert(
                    tx,
                    Tx::InDoubt {
                        participants,
                        since: now,
                    },
                );
            }
        }
    }

    /// The outcome arrived (from the coordinator or a peer): make it durable, then acknowledge.
    fn learn(&mut self, tx: TxId, outcome: Outcome, out: &mut Vec<Effect>) {
        match self.txs.get(&tx) {
            Some(Tx::Done(known)) => {
                // Re-acknowledge a re-sent COMMIT whose earlier acknowledgement was lost.
                if *known == Outcome::Commit && outcome == Outcome::Commit {
                    out.push(send(self.coordinator, Msg::Ack { tx }));
                }
                return;
            }
            Some(Tx::InDoubt { .. }) => {}
            // Never prepared: an abort needs no record (presumed abort); a commit cannot happen
            // without this node's vote, but record it faithfully if a broken peer claims one.
            None if outcome == Outcome::Abort => {
                self.txs.insert(tx, Tx::Done(Outcome::Abort));
                out.push(output(Output::Decided { tx, outcome }));
                return;
            }
            None => {}
        }
        self.txs.insert(tx, Tx::Done(outcome));
        // The decision is taken once it is logged, before the acknowledgement leaves.
        match outcome {
            Outcome::Commit => {
                let record = Record::Committed {
                    tx,
                    participants: Vec::new(),
                };
                out.push(persist(record, Durability::Forced));
                out.push(output(Output::Decided { tx, outcome }));
                out.push(send(self.coordinator, Msg::Ack { tx }));
            }
            Outcome::Abort => {
                out.push(persist(Record::Aborted { tx }, Durability::Lazy));
                out.push(output(Output::Decided { tx, outcome }));
            }
        }
    }

    fn on_timer(&mut self, timer: Timer, out: &mut Vec<Effect>) {
        let Timer::DecisionTimeout(tx) = timer else {
            return;
        };
        if !matches!(self.txs.get(&tx), Some(Tx::InDoubt { .. })) {
            return;
        }
        match self.config.variant {
            // Bug on purpose: an in-doubt participant may not decide alone.
            Variant::AbortOnTimeout => self.learn(tx, Outcome::Abort, out),
            Variant::Correct | Variant::AnnounceBeforeLog | Variant::VoteBeforeLog => {
                self.query(tx, out);
                out.push(set_timer(Timer::DecisionTimeout(tx), self.config.retry_ms));
            }
        }
    }

    /// Cooperative termination: ask the coordinator and every peer.
    fn query(&self, tx: TxId, out: &mut Vec<Effect>) {
        let Some(Tx::InDoubt { participants, .. }) = self.txs.get(&tx) else {
            return;
        };
        out.push(send(self.coordinator, Msg::Query { tx }));
        for peer in participants.iter().filter(|p| **p != self.id) {
            out.push(send(*peer, Msg::Query { tx }));
        }
    }

    pub(super) fn view(&self, tx: TxId) -> Option<TxView> {
        self.txs.get(&tx).map(view_of)
    }

    pub(super) fn views(&self) -> Vec<(TxId, TxView)> {
        self.txs.iter().map(|(tx, s)| (*tx, view_of(s))).collect()
    }
}

fn view_of(state: &Tx) -> TxView {
    match state {
        Tx::InDoubt { since, .. } => TxView::InDoubt { since: *since },
        Tx::Done(outcome) => TxView::Decided { outcome: *outcome },
    }
}
