//! The leader's part of Paxos, shared by the TM and by an RM that takes over: learn chosen
//! values from phase 2b, and finish open instances with a higher ballot (phase 1, then 2a).

use std::collections::{BTreeMap, BTreeSet};

use super::{
    Ballot, Config, Effect, Msg, Outcome, Output, Record, Timer, Value, Variant, output, persist,
    send, set_timer,
};
use crate::{Durability, NodeId, TxId};

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(super) struct Leader {
    id: NodeId,
    config: Config,
    /// The highest round this node has used, durably.
    round: u64,
    txs: BTreeMap<TxId, Lead>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Lead {
    rms: Vec<NodeId>,
    /// 0 for the TM, `k + 1` for the `k`-th RM: a round of rank `r` lasts `(r + 1)` retries,
    /// so competing leaders fall out of step and one of them finishes a round.
    rank: u64,
    instances: BTreeMap<NodeId, Instance>,
    /// The round this leader runs for `tx`, once it started one.
    round: Option<u64>,
    outcome: Option<Outcome>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
struct Instance {
    /// Phase 2b heard: which acceptors voted for each (ballot, value).
    votes: BTreeMap<(Ballot, Value), BTreeSet<NodeId>>,
    chosen: Option<Value>,
    /// Phase 1b heard for this leader's current ballot.
    promises: BTreeMap<NodeId, Option<(Ballot, Value)>>,
    proposed: bool,
}

impl Leader {
    pub(super) fn new(id: NodeId, config: Config) -> Leader {
        Leader {
            id,
            config,
            round: 0,
            txs: BTreeMap::new(),
        }
    }

    /// A leader rebuilt from its ROUND records (it knows no transaction).
    pub(super) fn recover(id: NodeId, config: Config, log: &[Record]) -> Leader {
        let mut leader = Leader::new(id, config);
        for record in log {
            if let Record::Round(round) = record {
                leader.round = leader.round.max(*round);
            }
        }
        leader
    }

    /// Starts following `tx`, whose instances belong to `rms`.
    pub(super) fn track(&mut self, tx: TxId, rms: &[NodeId]) {
        let rank = rms
            .iter()
            .position(|rm| *rm == self.id)
            .map_or(0, |k| k as u64 + 1);
        self.txs.entry(tx).or_insert_with(|| Lead {
            rank,
            rms: rms.to_vec(),
            instances: rms.iter().map(|rm| (*rm, Instance::default())).collect(),
            round: None,
            outcome: None,
        });
    }

    pub(super) fn tracks(&self, tx: TxId) -> bool {
        self.txs.contains_key(&tx)
    }

    /// The outcome, once every instance is chosen Prepared or one is chosen Aborted.
    pub(super) fn outcome(&self, tx: TxId) -> Option<Outcome> {
        self.txs.get(&tx)?.outcome
    }

    /// Somebody else decided: stop leading.
    pub(super) fn settle(&mut self, tx: TxId, outcome: Outcome) {
        if let Some(lead) = self.txs.get_mut(&tx) {
            lead.outcome = Some(outcome);
        }
    }

    /// The round this node leads for `tx`, if it started one.
    pub(super) fn leading(&self, tx: TxId) -> Option<u64> {
        self.txs.get(&tx)?.round
    }

    /// Each instance and its chosen value, as far as this leader learned.
    pub(super) fn chosen(&self, tx: TxId) -> Option<Vec<(NodeId, Option<Value>)>> {
        let lead = self.txs.get(&tx)?;
        Some(
            lead.rms
                .iter()
                .map(|rm| (*rm, lead.instances.get(rm).and_then(|i| i.chosen)))
                .collect(),
        )
    }

    pub(super) fn txs(&self) -> impl Iterator<Item = TxId> + '_ {
        self.txs.keys().copied()
    }

    /// Phase 2b from acceptor `from`. Returns the outcome if this message decided `tx`.
    pub(super) fn on_2b(
        &mut self,
        from: NodeId,
        tx: TxId,
        votes: &[(NodeId, Ballot, Value)],
    ) -> Option<Outcome> {
        if !self.config.acceptors.contains(from) {
            return None;
        }
        let majority = self.config.acceptors.majority();
        let lead = self.txs.get_mut(&tx)?;
        if lead.outcome.is_some() {
            return None;
        }
        for (rm, ballot, value) in votes {
            let Some(instance) = lead.instances.get_mut(rm) else {
                continue;
            };
            let voters = instance.votes.entry((*ballot, *value)).or_default();
            voters.insert(from);
            if voters.len() >= majority && instance.chosen.is_none() {
                instance.chosen = Some(*value);
            }
        }
        let chosen: Vec<Option<Value>> = lead.instances.values().map(|i| i.chosen).collect();
        let outcome = if chosen.contains(&Some(Value::Aborted)) {
            Outcome::Abort
        } else if chosen.iter().all(|c| *c == Some(Value::Prepared)) {
            Outcome::Commit
        } else {
            return None;
        };
        lead.outcome = Some(outcome);
        Some(outcome)
    }

    /// Starts a round higher than any this node used, for every open instance of `tx`: forces
    /// the round, then sends phase 1a to every acceptor.
    pub(super) fn start_round(&mut self, tx: TxId, out: &mut Vec<Effect>) {
        let Some(lead) = self.txs.get_mut(&tx) else {
            return;
        };
        if lead.outcome.is_some() {
            return;
        }
        self.round += 1;
        let round = self.round;
        lead.round = Some(round);
        out.push(persist(Record::Round(round), Durability::Forced));
        out.push(output(Output::Leading { tx, round }));
        let ballot = Ballot {
            round,
            leader: self.id,
        };
        for (rm, instance) in &mut lead.instances {
            if instance.chosen.is_some() {
                continue;
            }
            instance.promises.clear();
            instance.proposed = false;
            for acceptor in self.config.acceptors.ids() {
                let msg = Msg::Phase1a {
                    tx,
                    rm: *rm,
                    ballot,
                    rms: lead.rms.clone(),
                };
                out.push(send(acceptor, msg));
            }
        }
        let after_ms = self.config.retry_ms.saturating_mul(lead.rank + 1);
        out.push(set_timer(Timer::Retry { tx, round }, after_ms));
    }

    /// The round of `tx` named by a retry timer made no progress: start a higher one.
    pub(super) fn on_retry(&mut self, tx: TxId, round: u64, out: &mut Vec<Effect>) {
        if self.leading(tx) == Some(round) && self.outcome(tx).is_none() {
            self.start_round(tx, out);
        }
    }

    /// Phase 1b: with a majority of promises, propose the value of the highest ballot reported
    /// (Aborted if none).
    pub(super) fn on_1b(
        &mut self,
        from: NodeId,
        tx: TxId,
        rm: NodeId,
        ballot: Ballot,
        accepted: Option<(Ballot, Value)>,
        out: &mut Vec<Effect>,
    ) {
        if !self.config.acceptors.contains(from) || ballot.leader != self.id {
            return;
        }
        let majority = self.config.acceptors.majority();
        let Some(lead) = self.txs.get_mut(&tx) else {
            return;
        };
        if lead.round != Some(ballot.round) || lead.outcome.is_some() {
            return;
        }
        let Some(instance) = lead.instances.get_mut(&rm) else {
            return;
        };
        if instance.chosen.is_some() || instance.proposed {
            return;
        }
        instance.promises.insert(from, accepted);
        if instance.promises.len() < majority {
            return;
        }
        instance.proposed = true;
        let highest = instance.promises.values().flatten().max_by_key(|(b, _)| *b);
        let value = match self.config.variant {
            // Safety hinges on this line: a value possibly chosen must be proposed again.
            Variant::Correct => highest.map_or(Value::Aborted, |(_, v)| *v),
            // Bug on purpose: every instance is treated as free.
            Variant::IgnoreAcceptedVotes => Value::Aborted,
        };
        for acceptor in self.config.acceptors.ids() {
            let msg = Msg::Phase2a {
                tx,
                rm,
                ballot,
                value,
                rms: lead.rms.clone(),
            };
            out.push(send(acceptor, msg));
        }
    }
}
