//! The acceptor: one Paxos acceptor per instance, forcing each promise and each accepted value
//! before it answers, and bundling its ballot-0 votes into one phase 2b for the TM.

use std::collections::BTreeMap;

use super::{
    Ballot, Config, Effect, Input, InstanceView, Msg, Record, TxView, Value, persist, send,
};
use crate::{Durability, NodeId, TxId};

/// A Paxos Commit acceptor.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Acceptor {
    id: NodeId,
    tm: NodeId,
    config: Config,
    txs: BTreeMap<TxId, Tx>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
struct Tx {
    rms: Vec<NodeId>,
    instances: BTreeMap<NodeId, Instance>,
    /// The ballot-0 bundle went to the TM.
    bundled: bool,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
struct Instance {
    promised: Ballot,
    accepted: Option<(Ballot, Value)>,
}

impl Acceptor {
    pub(super) fn new(id: NodeId, tm: NodeId, config: Config) -> Acceptor {
        Acceptor {
            id,
            tm,
            config,
            txs: BTreeMap::new(),
        }
    }

    /// The acceptor's id.
    pub fn id(&self) -> NodeId {
        self.id
    }

    /// The TM its ballot-0 votes go to.
    pub fn tm(&self) -> NodeId {
        self.tm
    }

    /// Rebuilt from promises and accepted values. A bundle not yet sent is not re-sent: the TM
    /// (or a leading RM) will ask with phase 1a.
    pub(super) fn recover(id: NodeId, tm: NodeId, config: Config, log: &[Record]) -> Acceptor {
        let mut a = Acceptor::new(id, tm, config);
        for record in log {
            match record {
                Record::Promised { tx, rm, ballot } => {
                    let i = a.instance(*tx, *rm, &[]);
                    i.promised = i.promised.max(*ballot);
                }
                Record::Accepted {
                    tx,
                    rm,
                    ballot,
                    value,
                    rms,
                } => {
                    let i = a.instance(*tx, *rm, rms);
                    i.promised = i.promised.max(*ballot);
                    i.accepted = Some((*ballot, *value));
                }
                // Records of RMs and leaders are foreign here.
                Record::Prepared { .. }
                | Record::Committed { .. }
                | Record::Aborted { .. }
                | Record::Round(_) => {}
            }
        }
        for t in a.txs.values_mut() {
            t.bundled = true;
        }
        a
    }

    fn instance(&mut self, tx: TxId, rm: NodeId, rms: &[NodeId]) -> &mut Instance {
        let t = self.txs.entry(tx).or_default();
        if t.rms.is_empty() {
            t.rms = rms.to_vec();
        }
        t.instances.entry(rm).or_default()
    }

    pub(super) fn step(&mut self, input: Input, out: &mut Vec<Effect>) {
        let Input::Msg { from, msg } = input else {
            return;
        };
        match msg {
            Msg::Phase1a {
                tx,
                rm,
                ballot,
                rms,
            } => {
                let i = self.instance(tx, rm, &rms);
                if ballot < i.promised {
                    return;
                }
                if ballot > i.promised {
                    i.promised = ballot;
                    out.push(persist(
                        Record::Promised { tx, rm, ballot },
                        Durability::Forced,
                    ));
                }
                let accepted = i.accepted;
                let msg = Msg::Phase1b {
                    tx,
                    rm,
                    ballot,
                    accepted,
                };
                out.push(send(from, msg));
            }
            Msg::Phase2a {
                tx,
                rm,
                ballot,
                value,
                rms,
            } => self.phase2a(tx, rm, ballot, value, rms, out),
            // Messages for the TM and RMs.
            Msg::Prepare { .. }
            | Msg::Phase2b { .. }
            | Msg::Phase1b { .. }
            | Msg::Decision { .. } => {}
        }
    }

    fn phase2a(
        &mut self,
        tx: TxId,
        rm: NodeId,
        ballot: Ballot,
        value: Value,
        rms: Vec<NodeId>,
        out: &mut Vec<Effect>,
    ) {
        // Ballot 0 belongs to the RM itself; a round-0 ballot naming anybody else is forged.
        if ballot.round == 0 && ballot.leader != rm {
            return;
        }
        let i = self.instance(tx, rm, &rms);
        if ballot < i.promised {
            return;
        }
        let already = i.accepted == Some((ballot, value));
        if !already {
            i.promised = ballot;
            i.accepted = Some((ballot, value));
            let record = Record::Accepted {
                tx,
                rm,
                ballot,
                value,
                rms,
            };
            out.push(persist(record, Durability::Forced));
        }
        let vote = (rm, ballot, value);
        if ballot.round > 0 {
            let msg = Msg::Phase2b {
                tx,
                votes: vec![vote],
            };
            out.push(send(ballot.leader, msg));
            return;
        }
        // Ballot 0 goes to the TM, bundled: an Aborted vote at once (it decides alone), a
        // Prepared one with every other instance's vote.
        let Some(t) = self.txs.get_mut(&tx) else {
            return;
        };
        if t.bundled || value == Value::Aborted {
            let msg = Msg::Phase2b {
                tx,
                votes: vec![vote],
            };
            out.push(send(self.tm, msg));
            return;
        }
        let votes: Option<Vec<(NodeId, Ballot, Value)>> = t
            .rms
            .iter()
            .map(|rm| {
                let (ballot, value) = t.instances.get(rm)?.accepted?;
                Some((*rm, ballot, value))
            })
            .collect();
        if let Some(votes) = votes {
            t.bundled = true;
            out.push(send(self.tm, Msg::Phase2b { tx, votes }));
        }
    }

    pub(super) fn view(&self, tx: TxId) -> Option<TxView> {
        let t = self.txs.get(&tx)?;
        let instances = t
            .instances
            .iter()
            .map(|(rm, i)| InstanceView {
                rm: *rm,
                promised: i.promised,
                accepted: i.accepted,
            })
            .collect();
        Some(TxView::Acceptor { instances })
    }

    pub(super) fn views(&self) -> Vec<(TxId, TxView)> {
        self.txs
            .keys()
            .filter_map(|tx| Some((*tx, self.view(*tx)?)))
            .collect()
    }
}
