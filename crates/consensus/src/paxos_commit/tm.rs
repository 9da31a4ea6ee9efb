//! The transaction manager: sends PREPARE, learns each instance's value from the acceptors'
//! phase 2b, announces the outcome, and finishes open instances itself after a timeout.

use super::leader::Leader;
use super::{
    Config, Effect, Input, Msg, Outcome, Output, Record, Request, Timer, TxView, Work, output,
    send, set_timer,
};
use crate::{NodeId, Time, TxId};

/// The Paxos Commit transaction manager: the initial leader of every instance.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TransactionManager {
    id: NodeId,
    config: Config,
    leader: Leader,
}

impl TransactionManager {
    pub(super) fn new(id: NodeId, config: Config) -> TransactionManager {
        TransactionManager {
            id,
            config,
            leader: Leader::new(id, config),
        }
    }

    /// The TM's id.
    pub fn id(&self) -> NodeId {
        self.id
    }

    pub(super) fn recover(id: NodeId, config: Config, log: &[Record]) -> TransactionManager {
        TransactionManager {
            id,
            config,
            leader: Leader::recover(id, config, log),
        }
    }

    pub(super) fn step(&mut self, _now: Time, input: Input, out: &mut Vec<Effect>) {
        match input {
            Input::Request(Request::Begin { tx, work }) => self.begin(tx, work, out),
            Input::Msg { from, msg } => self.on_msg(from, msg, out),
            Input::Timer(Timer::VoteTimeout(tx)) => {
                if self.leader.outcome(tx).is_none() {
                    self.leader.start_round(tx, out);
                }
            }
            Input::Timer(Timer::Retry { tx, round }) => self.leader.on_retry(tx, round, out),
            Input::Timer(Timer::Takeover(_)) => {}
        }
    }

    fn begin(&mut self, tx: TxId, work: Vec<(NodeId, Work)>, out: &mut Vec<Effect>) {
        if self.leader.tracks(tx) {
            // A retried request: answer again if decided, otherwise the answer is coming.
            if let Some(outcome) = self.leader.outcome(tx) {
                out.push(output(Output::Replied { tx, outcome }));
            }
            return;
        }
        let mut rms: Vec<NodeId> = work.iter().map(|(rm, _)| *rm).collect();
        rms.sort_unstable();
        rms.dedup();
        self.leader.track(tx, &rms);
        for (rm, w) in &work {
            let msg = Msg::Prepare {
                tx,
                work: *w,
                rms: rms.clone(),
            };
            out.push(send(*rm, msg));
        }
        out.push(set_timer(
            Timer::VoteTimeout(tx),
            self.config.vote_timeout_ms,
        ));
    }

    fn on_msg(&mut self, from: NodeId, msg: Msg, out: &mut Vec<Effect>) {
        match msg {
            Msg::Phase2b { tx, votes } => {
                if let Some(outcome) = self.leader.on_2b(from, tx, &votes) {
                    self.announce(tx, outcome, out);
                }
            }
            Msg::Phase1b {
                tx,
                rm,
                ballot,
                accepted,
            } => self.leader.on_1b(from, tx, rm, ballot, accepted, out),
            // A leading RM finished the transaction.
            Msg::Decision { tx, outcome } => {
                if self.leader.tracks(tx) && self.leader.outcome(tx).is_none() {
                    self.leader.settle(tx, outcome);
                    out.push(output(Output::Decided { tx, outcome }));
                    out.push(output(Output::Replied { tx, outcome }));
                }
            }
            // Messages for RMs and acceptors.
            Msg::Prepare { .. } | Msg::Phase2a { .. } | Msg::Phase1a { .. } => {}
        }
    }

    fn announce(&mut self, tx: TxId, outcome: Outcome, out: &mut Vec<Effect>) {
        out.push(output(Output::Decided { tx, outcome }));
        let rms: Vec<NodeId> = self
            .leader
            .chosen(tx)
            .unwrap_or_default()
            .into_iter()
            .map(|(rm, _)| rm)
            .collect();
        for rm in rms {
            out.push(send(rm, Msg::Decision { tx, outcome }));
        }
        out.push(output(Output::Replied { tx, outcome }));
    }

    pub(super) fn view(&self, tx: TxId) -> Option<TxView> {
        Some(TxView::Tm {
            chosen: self.leader.chosen(tx)?,
            outcome: self.leader.outcome(tx),
        })
    }

    pub(super) fn views(&self) -> Vec<(TxId, TxView)> {
        self.leader
            .txs()
            .filter_map(|tx| Some((tx, self.view(tx)?)))
            .collect()
    }
}
