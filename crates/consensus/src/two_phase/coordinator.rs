//! The coordinator: collects votes, forces the decision, announces it, re-sends COMMIT until
//! every participant acknowledges, and answers queries (presuming abort for what it forgot).

use std::collections::{BTreeMap, BTreeSet};

use super::{
    Config, Effect, Input, Msg, Outcome, Output, Record, Request, Status, Timer, TxView, Variant,
    Vote, Work, output, persist, send, set_timer,
};
use crate::{Durability, NodeId, Time, TxId};

/// A Two-Phase Commit coordinator.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Coordinator {
    id: NodeId,
    config: Config,
    txs: BTreeMap<TxId, Tx>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Tx {
    Voting {
        work: Vec<(NodeId, Work)>,
        commit_votes: BTreeSet<NodeId>,
    },
    Committing {
        participants: Vec<NodeId>,
        acked: BTreeSet<NodeId>,
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
        out: &mut Vec<Effect>,
    ) -> Coordinator {
        let mut c = Coordinator::new(id, config);
        for record in log {
            match record {
                Record::Committed { tx, participants } => {
                    c.txs.insert(
                        *tx,
                        Tx::Committing {
                            participants: participants.clone(),
                            acked: BTreeSet::new(),
                        },
                    );
                }
                Record::End { tx } => {
                    c.txs.insert(*tx, Tx::Done(Outcome::Commit));
                }
                Record::Aborted { tx } => {
                    c.txs.insert(*tx, Tx::Done(Outcome::Abort));
                }
                // A coordinator never writes PREPARED; ignore it rather than trust a foreign log.
                Record::Prepared { .. } => {}
            }
        }
        // Resume announcing every commit that was not yet acknowledged everywhere.
        for (tx, state) in &c.txs {
            if let Tx::Committing { participants, .. } = state {
                for p in participants {
                    out.push(send(
                        *p,
                        Msg::Decision {
                            tx: *tx,
                            outcome: Outcome::Commit,
                        },
                    ));
                }
                out.push(set_timer(Timer::Resend(*tx), config.retry_ms));
            }
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
        let participants: Vec<NodeId> = work.iter().map(|(p, _)| *p).collect();
        for (p, w) in &work {
            out.push(send(
                *p,
                Msg::Prepare {
                    tx,
                    work: *w,
                    participants: participants.clone(),
                },
            ));
        }
        self.txs.insert(
            tx,
            Tx::Voting {
                work,
                commit_votes: BTreeSet::new(),
            },
        );
        out.push(set_timer(
            Timer::VoteTimeout(tx),
            self.config.vote_timeout_ms,
        ));
        self.maybe_commit(tx, out);
    }

    fn on_msg(&mut self, from: NodeId, msg: Msg, out: &mut Vec<Effect>) {
        match msg {
            Msg::Vote {
                tx,
                vote: Vote::Commit,
            } => {
                if let Some(Tx::Voting { work, commit_votes }) = self.txs.get_mut(&tx) {
                    if work.iter().any(|(p, _)| *p == from) {
                        commit_votes.insert(from);
                    }
                    self.maybe_commit(tx, out);
                }
            }
            Msg::Vote {
                tx,
                vote: Vote::Abort,
            } => {
                if matches!(self.txs.get(&tx), Some(Tx::Voting { .. })) {
                    self.abort(tx, out);
                }
            }
            Msg::Ack { tx } => {
                if let Some(Tx::Committing {
                    participants,
                    acked,
                }) = self.txs.get_mut(&tx)
                {
                    acked.insert(from);
                    if participants.iter().all(|p| acked.contains(p)) {
                        self.txs.insert(tx, Tx::Done(Outcome::Commit));
                        out.push(persist(Record::End { tx }, Durability::Lazy));
                    }
                }
            }
            Msg::Query { tx } => {
                let status = match self.txs.get(&tx) {
                    // The decision is coming; the participant will ask again if it is lost.
                    Some(Tx::Voting { .. }) => return,
                    Some(Tx::Committing { .. }) => Status::Decided(Outcome::Commit),
                    Some(Tx::Done(outcome)) => Status::Decided(*outcome),
                    // Presumed abort: no COMMIT record means the transaction never committed.
                    None => Status::Decided(Outcome::Abort),
                };
                out.push(send(from, Msg::Status { tx, status }));
            }
            // Messages only participants handle; a coordinator ignores them.
            Msg::Prepare { .. } | Msg::Decision { .. } | Msg::Status { .. } => {}
        }
    }

    fn on_timer(&mut self, timer: Timer, out: &mut Vec<Effect>) {
        match timer {
            Timer::VoteTimeout(tx) => {
                if matches!(self.txs.get(&tx), Some(Tx::Voting { .. })) {
                    self.abort(tx, out);
                }
            }
            Timer::Resend(tx) => {
                if let Some(Tx::Committing {
                    participants,
                    acked,
                }) = self.txs.get(&tx)
                {
                    for p in participants.iter().filter(|p| !acked.contains(p)) {
                        out.push(send(
                            *p,
                            Msg::Decision {
                                tx,
                                outcome: Outcome::Commit,
                            },
                        ));
                    }
                    out.push(set_timer(Timer::Resend(tx), self.config.retry_ms));
                }
            }
            Timer::DecisionTimeout(_) => {}
        }
    }

    fn maybe_commit(&mut self, tx: TxId, out: &mut Vec<Effect>) {
        let Some(Tx::Voting { work, commit_votes }) = self.txs.get(&tx) else {
            return;
        };
        if !work.iter().all(|(p, _)| commit_votes.contains(p)) {
            return;
        }
        let participants: Vec<NodeId> = work.iter().map(|(p, _)| *p).collect();
        let record = Record::Committed {
            tx,
            participants: participants.clone(),
        };
        let announce = participants.iter().map(|p| {
            send(
                *p,
                Msg::Decision {
                    tx,
                    outcome: Outcome::Commit,
                },
            )
        });
        let decided = output(Output::Decided {
            tx,
            outcome: Outcome::Commit,
        });
        match self.config.variant {
            // Bug on purpose: a crash after the first announcement and before the record is
            // durable leaves some participants committed and this node presuming abort.
            Variant::AnnounceBeforeLog => {
                out.extend(announce);
                out.push(persist(record, Durability::Forced));
                out.push(decided);
            }
            // The decision is taken once it is logged, before anyone hears of it.
            Variant::Correct | Variant::VoteBeforeLog | Variant::AbortOnTimeout => {
                out.push(persist(record, Durability::Forced));
                out.push(decided);
                out.extend(announce);
            }
        }
        out.push(output(Output::Replied {
            tx,
            outcome: Outcome::Commit,
        }));
        out.push(set_timer(Timer::Resend(tx), self.config.retry_ms));
        let acked = BTreeSet::new();
        self.txs.insert(
            tx,
            Tx::Committing {
                participants,
                acked,
            },
        );
    }

    /// Presumed abort: nothing is forced and nobody acknowledges.
    fn abort(&mut self, tx: TxId, out: &mut Vec<Effect>) {
        let Some(Tx::Voting { work, .. }) = self.txs.insert(tx, Tx::Done(Outcome::Abort)) else {
            return;
        };
        for (p, _) in &work {
            out.push(send(
                *p,
                Msg::Decision {
                    tx,
                    outcome: Outcome::Abort,
                },
            ));
        }
        out.push(persist(Record::Aborted { tx }, Durability::Lazy));
        out.push(output(Output::Decided {
            tx,
            outcome: Outcome::Abort,
        }));
        out.push(output(Output::Replied {
            tx,
            outcome: Outcome::Abort,
        }));
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
        Tx::Voting { work, commit_votes } => TxView::Voting {
            commit_votes: commit_votes.len(),
            participants: work.len(),
        },
        Tx::Committing { .. } => TxView::Decided {
            outcome: Outcome::Commit,
        },
        Tx::Done(outcome) => TxView::Decided { outcome: *outcome },
    }
}
