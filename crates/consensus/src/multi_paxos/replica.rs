//! One Multi-Paxos replica: acceptor, learner, and proposer that becomes leader.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use super::{
    Ballot, Command, Config, Effect, Input, Kv, Msg, Op, OpResult, Output, Record, Reply, Request,
    Slot, Snapshot, Timer, Variant,
};
use crate::{Durability, NodeId, Time};

/// How many applied entries a replica keeps for display.
const RECENT: usize = 16;

/// A Multi-Paxos replica.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Replica {
    id: NodeId,
    config: Config,
    rng: u64,
    // Acceptor.
    promised: Ballot,
    accepted: BTreeMap<Slot, (Ballot, Command)>,
    // Learner.
    chosen: BTreeMap<Slot, Command>,
    next_apply: Slot,
    kv: Kv,
    snapshot: Snapshot,
    recent: VecDeque<(Slot, Command)>,
    // Proposer.
    role: Role,
    max_round: u64,
    leader_hint: Option<NodeId>,
    election_gen: u64,
    heartbeat_gen: u64,
    lost_elections: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Role {
    Follower,
    Candidate {
        ballot: Ballot,
        from: Slot,
        promised_by: BTreeSet<NodeId>,
        /// The best accepted value reported per slot: (ballot, command).
        reported: BTreeMap<Slot, (Ballot, Command)>,
    },
    Leader {
        ballot: Ballot,
        next_slot: Slot,
        pending: BTreeMap<Slot, Pending>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Pending {
    command: Command,
    acks: BTreeSet<NodeId>,
}

/// A replica's role as seen from outside.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoleView {
    /// Follows a leader (or waits for one).
    Follower,
    /// Runs phase 1 for a ballot.
    Candidate,
    /// Leads with a ballot.
    Leader,
}

impl Replica {
    /// A fresh replica with an empty log; arms its first election timer.
    pub fn new(id: NodeId, config: Config, out: &mut Vec<Effect>) -> Replica {
        let mut r = Replica {
            id,
            config,
            rng: config.seed ^ u64::from(id.0).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0x5eed,
            promised: Ballot::default(),
            accepted: BTreeMap::new(),
            chosen: BTreeMap::new(),
            next_apply: Slot(0),
            kv: Kv::default(),
            snapshot: Snapshot::default(),
            recent: VecDeque::new(),
            role: Role::Follower,
            max_round: 0,
            leader_hint: None,
            election_gen: 0,
            heartbeat_gen: 0,
            lost_elections: 0,
        };
        r.reset_election_timer(out);
        r
    }

    /// Rebuilds a replica after a crash from its durable log only.
    pub fn recover(id: NodeId, config: Config, log: &[Record], out: &mut Vec<Effect>) -> Replica {
        let mut r = Replica::new(id, config, out);
        let mut chosen = BTreeMap::new();
        for record in log {
            match record {
                Record::Promised(b) => r.promised = r.promised.max(*b),
                Record::Accepted {
                    slot,
                    ballot,
                    command,
                } => {
                    r.promised = r.promised.max(*ballot);
                    r.accepted.insert(*slot, (*ballot, *command));
                }
                Record::Chosen { slot, command } => {
                    chosen.insert(*slot, *command);
                }
                Record::Snapshot(s) => {
                    if s.next >= r.snapshot.next {
                        r.snapshot = s.clone();
                    }
                }
            }
        }
        r.max_round = r.promised.round;
        r.kv = Kv::restore(&r.snapshot);
        r.next_apply = r.snapshot.next;
        let next = r.next_apply;
        r.accepted.retain(|slot, _| *slot >= next);
        r.chosen = chosen.split_off(&next);
        r.apply_ready(out);
        r
    }

    /// Handles one input, pushing effects in the order they must happen.
    pub fn step(&mut self, _now: Time, input: Input, out: &mut Vec<Effect>) {
        match input {
            Input::Timer(Timer::Election(g)) if g == self.election_gen => self.start_election(out),
            Input::Timer(Timer::Heartbeat(g)) if g == self.heartbeat_gen => {
                self.on_heartbeat_timer(out)
            }
            Input::Timer(_) => {}
            Input::Request(request) => self.on_request(request, out),
            Input::Msg { from, msg } => self.on_msg(from, msg, out),
        }
    }

    /// This replica's id.
    pub fn id(&self) -> NodeId {
        self.id
    }

    /// Whether this replica leads, campaigns or follows.
    pub fn role(&self) -> RoleView {
        match self.role {
            Role::Follower => RoleView::Follower,
            Role::Candidate { .. } => RoleView::Candidate,
            Role::Leader { .. } => RoleView::Leader,
        }
    }

    /// The highest ballot promised.
    pub fn promised(&self) -> Ballot {
        self.promised
    }

    /// The ballot this replica campaigns or leads with.
    pub fn own_ballot(&self) -> Option<Ballot> {
        match &self.role {
            Role::Follower => None,
            Role::Candidate { ballot, .. } | Role::Leader { ballot, .. } => Some(*ballot),
        }
    }

    /// The leader as far as this replica knows.
    pub fn leader_hint(&self) -> Option<NodeId> {
        self.leader_hint
    }

    /// Accepted (slot, ballot, command) not yet compacted, in slot order.
    pub fn accepted(&self) -> impl DoubleEndedIterator<Item = (Slot, Ballot, Command)> + '_ {
        self.accepted.iter().map(|(s, (b, c))| (*s, *b, *c))
    }

    /// The first slot not yet applied.
    pub fn next_apply(&self) -> Slot {
        self.next_apply
    }

    /// The first slot not compacted into the snapshot.
    pub fn snapshot_next(&self) -> Slot {
        self.snapshot.next
    }

    /// The latest applied entries, oldest first.
    pub fn recent(&self) -> impl Iterator<Item = (Slot, Command)> + '_ {
        self.recent.iter().copied()
    }

    /// The state machine.
    pub fn kv(&self) -> &Kv {
        &self.kv
    }

    fn ballot_for(&self, round: u64) -> Ballot {
        let leader = match self.config.variant {
            // Bug on purpose: every proposer uses the same id, so ballots collide.
            Variant::NonUniqueBallots => NodeId(0),
            _ => self.id,
        };
        Ballot { round, leader }
    }

    fn peers(&self) -> impl Iterator<Item = NodeId> + use<> {
        let me = self.id;
        (0..self.config.n).map(NodeId).filter(move |p| *p != me)
    }

    fn broadcast(&self, msg: &Msg, out: &mut Vec<Effect>) {
        for p in self.peers() {
            out.push(crate::Effect::Send {
                to: p,
                msg: msg.clone(),
            });
        }
    }

    fn persist(&self, record: Record, durability: Durability, out: &mut Vec<Effect>) {
        let forgetful = self.config.variant == Variant::ForgetfulAcceptor
            && matches!(record, Record::Promised(_) | Record::Accepted { .. });
        // Bug on purpose (forgetful-acceptor): acceptor state stays in memory only.
        if !forgetful {
            out.push(crate::Effect::Persist { record, durability });
        }
    }

    fn next_random(&mut self) -> u64 {
        // SplitMix64: a tiny, portable generator for back-off jitter.
        self.rng = self.rng.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn reset_election_timer(&mut self, out: &mut Vec<Effect>) {
        self.election_gen += 1;
        let base = self.config.election_ms.max(1);
        let jitter = self.next_random() % base;
        out.push(crate::Effect::SetTimer {
            timer: Timer::Election(self.election_gen),
            after_ms: base + jitter,
        });
    }

    /// After a lost election: wait a random time that doubles with each loss, then try again.
    fn back_off(&mut self, out: &mut Vec<Effect>) {
        self.lost_elections = self.lost_elections.saturating_add(1);
        self.election_gen += 1;
        let window = self
            .config
            .backoff_ms
            .max(1)
            .saturating_mul(1 << self.lost_elections.min(6));
        let wait = self.config.election_ms / 2 + self.next_random() % window;
        out.push(crate::Effect::SetTimer {
            timer: Timer::Election(self.election_gen),
            after_ms: wait.max(1),
        });
    }

    fn step_down(&mut self) {
        if !matches!(self.role, Role::Follower) {
            self.role = Role::Follower;
            self.heartbeat_gen += 1;
        }
    }

    fn start_election(&mut self, out: &mut Vec<Effect>) {
        self.max_round = self.max_round.max(self.promised.round) + 1;
        let ballot = self.ballot_for(self.max_round);
        let from = self.next_apply;
        self.leader_hint = None;
        self.role = Role::Candidate {
            ballot,
            from,
            promised_by: BTreeSet::new(),
            reported: BTreeMap::new(),
        };
        // Retry (with back-off) if no majority answers in time.
        self.back_off(out);
        if self.promise(ballot, out) {
            let reported: Vec<(Slot, Ballot, Command)> = self
                .accepted
                .range(from..)
                .map(|(s, (b, c))| (*s, *b, *c))
                .collect();
            self.on_promise(self.id, ballot, reported, Vec::new(), None, out);
        }
        self.broadcast(&Msg::Prepare { ballot, from }, out);
    }

    /// The acceptor's promise: refuse anything below, remember durably before answering.
    fn promise(&mut self, ballot: Ballot, out: &mut Vec<Effect>) -> bool {
        if ballot < self.promised {
            return false;
        }
        if ballot > self.promised {
            self.promised = ballot;
            self.persist(Record::Promised(ballot), Durability::Forced, out);
        }
        true
    }

    fn on_msg(&mut self, from: NodeId, msg: Msg, out: &mut Vec<Effect>) {
        match msg {
            Msg::Prepare { ballot, from: slot } => self.on_prepare(from, ballot, slot, out),
            Msg::Promise {
                ballot,
                accepted,
                chosen,
                snapshot,
            } => self.on_promise(from, ballot, accepted, chosen, snapshot, out),
            Msg::Nack { ballot, promised } => {
                self.max_round = self.max_round.max(promised.round);
                if self.own_ballot() == Some(ballot) {
                    self.step_down();
                    self.back_off(out);
                }
            }
            Msg::Accept {
                ballot,
                slot,
                command,
            } => self.on_accept(from, ballot, slot, command, out),
            Msg::Accepted { ballot, slot } => self.on_accepted(from, ballot, slot, out),
            Msg::Commit { slot, command } => self.learn(slot, command, out),
            Msg::Heartbeat { ballot, commit } => {
                self.max_round = self.max_round.max(ballot.round);
                if ballot < self.promised {
                    return;
                }
                if self.own_ballot().is_some_and(|own| own < ballot) {
                    self.step_down();
                }
                if !matches!(self.role, Role::Leader { .. }) {
                    self.leader_hint = Some(from);
                    self.lost_elections = 0;
                    self.reset_election_timer(out);
                }
                if commit > self.next_apply {
                    out.push(crate::Effect::Send {
                        to: from,
                        msg: Msg::CatchUp {
                            from: self.next_apply,
                        },
                    });
                }
            }
            Msg::CatchUp { from: slot } => {
                let snapshot = (slot < self.snapshot.next).then(|| self.snapshot.clone());
                let start = slot.max(self.snapshot.next);
                let entries: Vec<(Slot, Command)> =
                    self.chosen.range(start..).map(|(s, c)| (*s, *c)).collect();
                if snapshot.is_some() || !entries.is_empty() {
                    out.push(crate::Effect::Send {
                        to: from,
                        msg: Msg::Entries { snapshot, entries },
                    });
                }
            }
            Msg::Entries { snapshot, entries } => {
                if let Some(s) = snapshot {
                    self.install(s, out);
                }
                for (slot, command) in entries {
                    self.learn(slot, command, out);
                }
            }
        }
    }

    fn on_prepare(&mut self, from: NodeId, ballot: Ballot, slot: Slot, out: &mut Vec<Effect>) {
        self.max_round = self.max_round.max(ballot.round);
        if !self.promise(ballot, out) {
            out.push(crate::Effect::Send {
                to: from,
                msg: Msg::Nack {
                    ballot,
                    promised: self.promised,
                },
            });
            return;
        }
        if self.own_ballot().is_some_and(|own| own < ballot) {
            self.step_down();
        }
        if !matches!(self.role, Role::Leader { .. }) {
            // Give the candidate time to finish before running ourselves.
            self.reset_election_timer(out);
        }
        let accepted = self
            .accepted
            .range(slot..)
            .map(|(s, (b, c))| (*s, *b, *c))
            .collect();
        let chosen = self
            .chosen
            .range(slot.max(self.snapshot.next)..)
            .map(|(s, c)| (*s, *c))
            .collect();
        let snapshot = (slot < self.snapshot.next).then(|| self.snapshot.clone());
        out.push(crate::Effect::Send {
            to: from,
            msg: Msg::Promise {
                ballot,
                accepted,
                chosen,
                snapshot,
            },
        });
    }

    fn on_promise(
        &mut self,
        from: NodeId,
        ballot: Ballot,
        accepted: Vec<(Slot, Ballot, Command)>,
        chosen: Vec<(Slot, Command)>,
        snapshot: Option<Snapshot>,
        out: &mut Vec<Effect>,
    ) {
        if self.own_ballot() != Some(ballot) || !matches!(self.role, Role::Candidate { .. }) {
            return;
        }
        if let Some(s) = snapshot {
            self.install(s, out);
        }
        for (slot, command) in chosen {
            self.learn(slot, command, out);
        }
        let Role::Candidate {
            promised_by,
            reported,
            ..
        } = &mut self.role
        else {
            return;
        };
        promised_by.insert(from);
        for (slot, b, command) in accepted {
            let better = reported.get(&slot).is_none_or(|(known, _)| b > *known);
            if better {
                reported.insert(slot, (b, command));
            }
        }
        if promised_by.len() >= self.config.majority() {
            self.become_leader(out);
        }
    }

    fn become_leader(&mut self, out: &mut Vec<Effect>) {
        let Role::Candidate {
            ballot,
            from,
            reported,
            ..
        } = std::mem::replace(&mut self.role, Role::Follower)
        else {
            return;
        };
        let start = from.max(self.next_apply);
        let last = reported
            .keys()
            .chain(self.chosen.keys())
            .max()
            .copied()
            .filter(|s| *s >= start);
        let next_slot = last.map_or(start, |s| Slot(s.0 + 1));
        self.role = Role::Leader {
            ballot,
            next_slot,
            pending: BTreeMap::new(),
        };
        self.leader_hint = Some(self.id);
        self.lost_elections = 0;
        self.election_gen += 1;
        out.push(crate::Effect::Output(Output::Elected { ballot }));
        // Finish every slot a previous leader may have started, in order; fill gaps with no-ops.
        for s in start.0..next_slot.0 {
            let slot = Slot(s);
            if let Some(command) = self.chosen.get(&slot).copied() {
                self.broadcast(&Msg::Commit { slot, command }, out);
                continue;
            }
            let command = match (reported.get(&slot), self.config.variant) {
                // Bug on purpose: the new leader ignores what was accepted before.
                (Some(_), Variant::IgnoreAccepted) => Command::Noop,
                (Some((_, command)), _) => *command,
                (None, _) => Command::Noop,
            };
            self.propose(slot, command, out);
        }
        self.heartbeat_gen += 1;
        self.broadcast(
            &Msg::Heartbeat {
                ballot,
                commit: self.next_apply,
            },
            out,
        );
        out.push(crate::Effect::SetTimer {
            timer: Timer::Heartbeat(self.heartbeat_gen),
            after_ms: self.config.heartbeat_ms.max(1),
        });
    }

    fn propose(&mut self, slot: Slot, command: Command, out: &mut Vec<Effect>) {
        let Role::Leader {
            ballot, pending, ..
        } = &mut self.role
        else {
            return;
        };
        let ballot = *ballot;
        pending.insert(
            slot,
            Pending {
                command,
                acks: BTreeSet::new(),
            },
        );
        if self.accept_local(ballot, slot, command, out) {
            self.on_accepted(self.id, ballot, slot, out);
        }
        self.broadcast(
            &Msg::Accept {
                ballot,
                slot,
                command,
            },
            out,
        );
    }

    /// The acceptor's accept: durable before it is reported.
    fn accept_local(
        &mut self,
        ballot: Ballot,
        slot: Slot,
        command: Command,
        out: &mut Vec<Effect>,
    ) -> bool {
        if ballot < self.promised {
            return false;
        }
        self.promised = ballot;
        self.accepted.insert(slot, (ballot, command));
        self.persist(
            Record::Accepted {
                slot,
                ballot,
                command,
            },
            Durability::Forced,
            out,
        );
        out.push(crate::Effect::Output(Output::Accepted {
            slot,
            ballot,
            command,
        }));
        true
    }

    fn on_accept(
        &mut self,
        from: NodeId,
        ballot: Ballot,
        slot: Slot,
        command: Command,
        out: &mut Vec<Effect>,
    ) {
        self.max_round = self.max_round.max(ballot.round);
        if !self.accept_local(ballot, slot, command, out) {
            out.push(crate::Effect::Send {
                to: from,
                msg: Msg::Nack {
                    ballot,
                    promised: self.promised,
                },
            });
            return;
        }
        if self.own_ballot().is_some_and(|own| own < ballot) {
            self.step_down();
        }
        if !matches!(self.role, Role::Leader { .. }) {
            self.leader_hint = Some(from);
            self.reset_election_timer(out);
        }
        out.push(crate::Effect::Send {
            to: from,
            msg: Msg::Accepted { ballot, slot },
        });
    }

    fn on_accepted(&mut self, from: NodeId, ballot: Ballot, slot: Slot, out: &mut Vec<Effect>) {
        let majority = self.config.majority();
        let Role::Leader {
            ballot: own,
            pending,
            ..
        } = &mut self.role
        else {
            return;
        };
        if *own != ballot {
            return;
        }
        let Some(p) = pending.get_mut(&slot) else {
            return;
        };
        p.acks.insert(from);
        if p.acks.len() < majority {
            return;
        }
        let command = p.command;
        pending.remove(&slot);
        self.broadcast(&Msg::Commit { slot, command }, out);
        self.learn(slot, command, out);
    }

    fn on_heartbeat_timer(&mut self, out: &mut Vec<Effect>) {
        let Role::Leader {
            ballot, pending, ..
        } = &self.role
        else {
            return;
        };
        let ballot = *ballot;
        self.broadcast(
            &Msg::Heartbeat {
                ballot,
                commit: self.next_apply,
            },
            out,
        );
        // Re-send accepts that some acceptor has not answered (lost messages).
        let resend: Vec<(Slot, Command, BTreeSet<NodeId>)> = pending
            .iter()
            .map(|(s, p)| (*s, p.command, p.acks.clone()))
            .collect();
        for (slot, command, acks) in resend {
            for p in self.peers().filter(|p| !acks.contains(p)) {
                out.push(crate::Effect::Send {
                    to: p,
                    msg: Msg::Accept {
                        ballot,
                        slot,
                        command,
                    },
                });
            }
        }
        out.push(crate::Effect::SetTimer {
            timer: Timer::Heartbeat(self.heartbeat_gen),
            after_ms: self.config.heartbeat_ms.max(1),
        });
    }

    fn on_request(&mut self, request: Request, out: &mut Vec<Effect>) {
        let Request { client, seq, op } = request;
        let Role::Leader {
            pending, next_slot, ..
        } = &mut self.role
        else {
            out.push(crate::Effect::Output(Output::Reply {
                client,
                seq,
                reply: Reply::NotLeader {
                    hint: self.leader_hint,
                },
            }));
            return;
        };
        if let (Op::Get { key }, Variant::StaleReads) = (op, self.config.variant) {
            // Bug on purpose: a read answered locally, with no proof of still being leader.
            let result = OpResult::Read(self.kv.get(key));
            out.push(crate::Effect::Output(Output::Reply {
                client,
                seq,
                reply: Reply::Done(result),
            }));
            return;
        }
        if let Some(result) = self.kv.answered(client, seq) {
            out.push(crate::Effect::Output(Output::Reply {
                client,
                seq,
                reply: Reply::Done(result),
            }));
            return;
        }
        let command = Command::Client { client, seq, op };
        if pending.values().any(|p| p.command == command) {
            return;
        }
        let slot = *next_slot;
        *next_slot = Slot(slot.0 + 1);
        self.propose(slot, command, out);
    }

    fn learn(&mut self, slot: Slot, command: Command, out: &mut Vec<Effect>) {
        if slot < self.next_apply || self.chosen.contains_key(&slot) {
            return;
        }
        self.chosen.insert(slot, command);
        out.push(crate::Effect::Persist {
            record: Record::Chosen { slot, command },
            durability: Durability::Lazy,
        });
        self.apply_ready(out);
    }

    fn install(&mut self, snapshot: Snapshot, out: &mut Vec<Effect>) {
        if snapshot.next <= self.next_apply {
            return;
        }
        self.kv = Kv::restore(&snapshot);
        self.next_apply = snapshot.next;
        // The entries shown as recently applied are older than the snapshot now.
        self.recent.clear();
        self.chosen = self.chosen.split_off(&snapshot.next);
        self.accepted = self.accepted.split_off(&snapshot.next);
        out.push(crate::Effect::Persist {
            record: Record::Snapshot(snapshot.clone()),
            durability: Durability::Forced,
        });
        self.snapshot = snapshot;
        self.apply_ready(out);
    }

    fn apply_ready(&mut self, out: &mut Vec<Effect>) {
        while let Some(command) = self.chosen.get(&self.next_apply).copied() {
            let slot = self.next_apply;
            let answer = self.kv.apply(&command);
            out.push(crate::Effect::Output(Output::Applied { slot, command }));
            if let (Some((client, seq, result)), Role::Leader { .. }) = (answer, &self.role) {
                out.push(crate::Effect::Output(Output::Reply {
                    client,
                    seq,
                    reply: Reply::Done(result),
                }));
            }
            self.recent.push_back((slot, command));
            if self.recent.len() > RECENT {
                self.recent.pop_front();
            }
            self.next_apply = Slot(slot.0 + 1);
            let every = self.config.snapshot_every;
            if every > 0 && self.next_apply.0.is_multiple_of(every) {
                self.compact(out);
            }
        }
    }

    fn compact(&mut self, out: &mut Vec<Effect>) {
        let next = self.next_apply;
        self.snapshot = self.kv.snapshot(next);
        self.chosen = self.chosen.split_off(&next);
        self.accepted = self.accepted.split_off(&next);
        out.push(crate::Effect::Persist {
            record: Record::Snapshot(self.snapshot.clone()),
            durability: Durability::Forced,
        });
    }
}
