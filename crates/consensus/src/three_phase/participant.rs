//! The participant: votes, follows the coordinator through `w` and `p`, and when the coordinator
//! falls silent runs the termination protocol, as a follower or as the backup coordinator.

use std::collections::{BTreeMap, BTreeSet};

use super::{
    Config, Effect, Input, Msg, Outcome, Output, Record, State, Term, Timer, TxView, Variant, Vote,
    Work, output, persist, send, set_timer,
};
use crate::{Durability, NodeId, Time, TxId};

/// A Three-Phase Commit participant.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Participant {
    id: NodeId,
    coordinator: NodeId,
    config: Config,
    txs: BTreeMap<TxId, Tx>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Tx {
    /// Every participant, in id order (empty if this node never heard CANCOMMIT).
    participants: Vec<NodeId>,
    state: State,
    /// The highest term this node has taken part in; messages of lower terms are ignored.
    term: Term,
    phase: Phase,
    /// Since when the node is in doubt.
    since: Time,
    /// The number of the current wait; a timer for an older wait is stale.
    wait: u32,
}

/// What the node is waiting for.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Phase {
    /// The coordinator (term 0).
    Coordinator,
    /// The backup of the current term.
    Follower,
    /// Backup: the other participants' states.
    Collecting { reports: BTreeMap<NodeId, State> },
    /// Backup: acknowledgements of its PRECOMMIT.
    PreCommitting { waiting_for: BTreeSet<NodeId> },
    /// Rebuilt from the log while in doubt: only asks, never runs a termination round.
    Recovered,
    /// Decided.
    Done,
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
            let (participants, state) = match record {
                Record::Voted { participants, .. } => (participants.clone(), State::Waiting),
                Record::PreCommitted { participants, .. } => {
                    (participants.clone(), State::PreCommitted)
                }
                Record::Committed { .. } => (Vec::new(), State::Committed),
                Record::Aborted { .. } => (Vec::new(), State::Aborted),
            };
            let tx = p.txs.entry(record.tx()).or_insert(Tx {
                participants: Vec::new(),
                state,
                term: Term(0),
                phase: Phase::Recovered,
                since: now,
                wait: 0,
            });
            if !participants.is_empty() {
                tx.participants = participants;
            }
            tx.state = state;
            if state.outcome().is_some() {
                tx.phase = Phase::Done;
            }
        }
        let in_doubt: Vec<TxId> = p
            .txs
            .iter()
            .filter(|(_, t)| t.phase == Phase::Recovered)
            .map(|(tx, _)| *tx)
            .collect();
        for tx in in_doubt {
            p.query(tx, out);
            p.arm(tx, config.retry_ms, out);
        }
        p
    }

    pub(super) fn step(&mut self, now: Time, input: Input, out: &mut Vec<Effect>) {
        match input {
            Input::Msg { from, msg } => self.on_msg(now, from, msg, out),
            Input::Timer(Timer::Wait { tx, wait }) => self.on_wait_over(tx, wait, out),
            // Coordinator timers, and clients, who talk to the coordinator only.
            Input::Timer(_) | Input::Request(_) => {}
        }
    }

    fn on_msg(&mut self, now: Time, from: NodeId, msg: Msg, out: &mut Vec<Effect>) {
        match msg {
            Msg::CanCommit {
                tx,
                work,
                participants,
            } => self.can_commit(now, tx, work, participants, out),
            Msg::PreCommit { tx, term } => self.pre_commit(from, tx, term, out),
            Msg::Decision { tx, outcome } => self.learn(tx, outcome, out),
            Msg::Elect { tx, term } => self.elect(from, tx, term, out),
            Msg::StateReq { tx, term } => self.state_req(from, tx, term, out),
            Msg::StateReport { tx, term, state } => {
                let Some(t) = self.txs.get_mut(&tx) else {
                    return;
                };
                if t.term != term {
                    return;
                }
                if let Phase::Collecting { reports } = &mut t.phase {
                    reports.insert(from, state);
                    let everyone = t
                        .participants
                        .iter()
                        .all(|p| *p == self.id || reports.contains_key(p));
                    if everyone {
                        self.decide(tx, out);
                    }
                }
            }
            Msg::Ack { tx, term } => {
                let Some(t) = self.txs.get_mut(&tx) else {
                    return;
                };
                if t.term != term {
                    return;
                }
                if let Phase::PreCommitting { waiting_for } = &mut t.phase {
                    waiting_for.remove(&from);
                    if waiting_for.is_empty() {
                        self.backup_decides(tx, Outcome::Commit, out);
                    }
                }
            }
            Msg::Query { tx } => match self.txs.get(&tx).map(|t| t.state.outcome()) {
                Some(Some(outcome)) => out.push(send(from, Msg::Decision { tx, outcome })),
                // In doubt too: nothing useful to say.
                Some(None) => {}
                // Never voted: abort now, durably, and say so.
                None => {
                    self.abort_unvoted(tx, out);
                    let outcome = Outcome::Abort;
                    out.push(send(from, Msg::Decision { tx, outcome }));
                }
            },
            // Votes go to the coordinator only.
            Msg::Vote { .. } => {}
        }
    }

    fn can_commit(
        &mut self,
        now: Time,
        tx: TxId,
        work: Work,
        participants: Vec<NodeId>,
        out: &mut Vec<Effect>,
    ) {
        if let Some(t) = self.txs.get(&tx) {
            // A duplicate CANCOMMIT: repeat the vote this node already cast.
            let vote = match t.state {
                State::Aborted | State::Initial => Vote::Abort,
                State::Waiting | State::PreCommitted | State::Committed => Vote::Commit,
            };
            out.push(send(self.coordinator, Msg::Vote { tx, vote }));
            return;
        }
        match work {
            Work::Conflict => {
                let vote = Vote::Abort;
                self.txs.insert(tx, decided_tx(State::Aborted, now));
                out.push(persist(Record::Aborted { tx }, Durability::Lazy));
                out.push(output(Output::Voted { tx, vote }));
                out.push(send(self.coordinator, Msg::Vote { tx, vote }));
                let outcome = Outcome::Abort;
                out.push(output(Output::Decided { tx, outcome }));
            }
            Work::Ready => {
                let vote = Vote::Commit;
                let record = Record::Voted {
                    tx,
                    participants: participants.clone(),
                };
                out.push(persist(record, Durability::Forced));
                // Reported before it leaves, so a crash right after the send cannot hide it.
                out.push(output(Output::Voted { tx, vote }));
                out.push(send(self.coordinator, Msg::Vote { tx, vote }));
                self.txs.insert(
                    tx,
                    Tx {
                        participants,
                        state: State::Waiting,
                        term: Term(0),
                        phase: Phase::Coordinator,
                        since: now,
                        wait: 0,
                    },
                );
                self.arm(tx, self.config.decision_timeout_ms, out);
            }
        }
    }

    fn pre_commit(&mut self, from: NodeId, tx: TxId, term: Term, out: &mut Vec<Effect>) {
        let Some(t) = self.txs.get_mut(&tx) else {
            return;
        };
        if term < t.term || t.state.outcome().is_some() {
            return;
        }
        if term > t.term {
            t.term = term;
            if t.phase != Phase::Recovered {
                t.phase = Phase::Follower;
            }
        }
        if t.state == State::Waiting {
            t.state = State::PreCommitted;
            let participants = t.participants.clone();
            out.push(persist(
                Record::PreCommitted { tx, participants },
                Durability::Forced,
            ));
            out.push(output(Output::PreCommitted { tx }));
        }
        out.push(send(from, Msg::Ack { tx, term }));
        let timeout = match t.phase {
            Phase::Coordinator => self.config.decision_timeout_ms,
            Phase::Follower => self.follower_timeout_ms(),
            // A backup hears PRECOMMIT only from a higher term (then it follows); a recovered
            // node keeps its retry timer.
            Phase::Collecting { .. }
            | Phase::PreCommitting { .. }
            | Phase::Recovered
            | Phase::Done => return,
        };
        self.arm(tx, timeout, out);
    }

    /// Another participant asks this one to be the backup of `term`.
    fn elect(&mut self, from: NodeId, tx: TxId, term: Term, out: &mut Vec<Effect>) {
        let Some(t) = self.txs.get(&tx) else {
            // Never voted: abort unilaterally, as Skeen's `q` may, and say so.
            self.abort_unvoted(tx, out);
            let outcome = Outcome::Abort;
            out.push(send(from, Msg::Decision { tx, outcome }));
            return;
        };
        if let Some(outcome) = t.state.outcome() {
            out.push(send(from, Msg::Decision { tx, outcome }));
            return;
        }
        let runs_termination = self.config.variant != Variant::NoTermination;
        if term > t.term
            && t.phase != Phase::Recovered
            && runs_termination
            && backup_of(&t.participants, term) == Some(self.id)
        {
            self.take_over(tx, term, out);
        }
    }

    fn state_req(&mut self, from: NodeId, tx: TxId, term: Term, out: &mut Vec<Effect>) {
        if !self.txs.contains_key(&tx) {
            self.abort_unvoted(tx, out);
        }
        let Some(t) = self.txs.get_mut(&tx) else {
            return;
        };
        if let Some(outcome) = t.state.outcome() {
            // Whatever the term: a decision is final.
            let state = t.state;
            out.push(send(from, Msg::StateReport { tx, term, state }));
            out.push(send(from, Msg::Decision { tx, outcome }));
            return;
        }
        if term < t.term {
            return;
        }
        if term > t.term {
            t.term = term;
            if t.phase != Phase::Recovered {
                t.phase = Phase::Follower;
            }
        }
        let state = t.state;
        out.push(send(from, Msg::StateReport { tx, term, state }));
        if t.phase == Phase::Follower {
            self.arm(tx, self.follower_timeout_ms(), out);
        }
    }

    fn on_wait_over(&mut self, tx: TxId, wait: u32, out: &mut Vec<Effect>) {
        let Some(t) = self.txs.get(&tx) else {
            return;
        };
        if t.wait != wait {
            return;
        }
        match &t.phase {
            Phase::Coordinator if self.config.variant == Variant::NoTermination => {
                // 2PC's cooperative termination: ask, and wait for somebody who knows.
                out.push(send(self.coordinator, Msg::Query { tx }));
                for peer in t.participants.iter().filter(|p| **p != self.id) {
                    out.push(send(*peer, Msg::Query { tx }));
                }
                self.arm(tx, self.config.retry_ms, out);
            }
            Phase::Coordinator | Phase::Follower => {
                let next = Term(t.term.0 + 1);
                self.next_term(tx, next, out);
            }
            Phase::Collecting { .. } => self.decide(tx, out),
            // Who did not acknowledge crashed; it will learn the outcome when it recovers.
            Phase::PreCommitting { .. } => self.backup_decides(tx, Outcome::Commit, out),
            Phase::Recovered => {
                self.query(tx, out);
                self.arm(tx, self.config.retry_ms, out);
            }
            Phase::Done => {}
        }
    }

    /// Moves to `term`: takes over if this node is its backup, otherwise asks the backup to.
    fn next_term(&mut self, tx: TxId, term: Term, out: &mut Vec<Effect>) {
        let Some(t) = self.txs.get_mut(&tx) else {
            return;
        };
        let Some(backup) = backup_of(&t.participants, term) else {
            return;
        };
        if backup == self.id {
            self.take_over(tx, term, out);
            return;
        }
        t.term = term;
        t.phase = Phase::Follower;
        out.push(send(backup, Msg::Elect { tx, term }));
        self.arm(tx, self.follower_timeout_ms(), out);
    }

    /// Becomes the backup coordinator of `term` and asks every other participant its state.
    fn take_over(&mut self, tx: TxId, term: Term, out: &mut Vec<Effect>) {
        let Some(t) = self.txs.get_mut(&tx) else {
            return;
        };
        t.term = term;
        t.phase = Phase::Collecting {
            reports: BTreeMap::new(),
        };
        out.push(output(Output::TookOver { tx, term }));
        let others: Vec<NodeId> = t
            .participants
            .iter()
            .copied()
            .filter(|p| *p != self.id)
            .collect();
        if others.is_empty() {
            self.decide(tx, out);
            return;
        }
        for p in others {
            out.push(send(p, Msg::StateReq { tx, term }));
        }
        self.arm(tx, self.config.termination_timeout_ms, out);
    }

    /// The backup's decision rules, over its own state and the reports it has.
    fn decide(&mut self, tx: TxId, out: &mut Vec<Effect>) {
        let Some(t) = self.txs.get_mut(&tx) else {
            return;
        };
        let Phase::Collecting { reports } = &t.phase else {
            return;
        };
        let states: Vec<State> = std::iter::once(t.state)
            .chain(reports.values().copied())
            .collect();
        let uncertain: BTreeSet<NodeId> = reports
            .iter()
            .filter(|(_, s)| **s == State::Waiting)
            .map(|(p, _)| *p)
            .collect();
        // Rules 1 to 3.
        if states.contains(&State::Aborted) {
            return self.backup_decides(tx, Outcome::Abort, out);
        }
        if states.contains(&State::Committed) {
            return self.backup_decides(tx, Outcome::Commit, out);
        }
        if states.iter().all(|s| *s == State::Waiting) {
            return self.backup_decides(tx, Outcome::Abort, out);
        }
        // Rule 4: some `p`, nobody decided.
        if self.config.variant == Variant::BackupSkipsPreCommit {
            // Bug on purpose: the `w` participants never reach `p` before the commit.
            return self.backup_decides(tx, Outcome::Commit, out);
        }
        let term = t.term;
        if t.state == State::Waiting {
            t.state = State::PreCommitted;
            let participants = t.participants.clone();
            out.push(persist(
                Record::PreCommitted { tx, participants },
                Durability::Forced,
            ));
            out.push(output(Output::PreCommitted { tx }));
        }
        if uncertain.is_empty() {
            return self.backup_decides(tx, Outcome::Commit, out);
        }
        for p in &uncertain {
            out.push(send(*p, Msg::PreCommit { tx, term }));
        }
        t.phase = Phase::PreCommitting {
            waiting_for: uncertain,
        };
        self.arm(tx, self.config.termination_timeout_ms, out);
    }

    /// The backup decided: log it, then tell every participant and the old coordinator.
    fn backup_decides(&mut self, tx: TxId, outcome: Outcome, out: &mut Vec<Effect>) {
        let Some(t) = self.txs.get(&tx) else {
            return;
        };
        let others: Vec<NodeId> = t
            .participants
            .iter()
            .copied()
            .filter(|p| *p != self.id)
            .chain([self.coordinator])
            .collect();
        self.learn(tx, outcome, out);
        for p in others {
            out.push(send(p, Msg::Decision { tx, outcome }));
        }
    }

    /// The outcome is known: make it durable (a commit before anything else) and report it.
    fn learn(&mut self, tx: TxId, outcome: Outcome, out: &mut Vec<Effect>) {
        let state = match outcome {
            Outcome::Commit => State::Committed,
            Outcome::Abort => State::Aborted,
        };
        match self.txs.get_mut(&tx) {
            Some(t) if t.state.outcome().is_some() => return,
            Some(t) => {
                t.state = state;
                t.phase = Phase::Done;
            }
            None => {
                self.txs.insert(tx, decided_tx(state, Time(0)));
            }
        }
        let (record, durability) = match outcome {
            Outcome::Commit => (Record::Committed { tx }, Durability::Forced),
            Outcome::Abort => (Record::Aborted { tx }, Durability::Lazy),
        };
        out.push(persist(record, durability));
        out.push(output(Output::Decided { tx, outcome }));
    }

    /// Aborts a transaction this node never voted on, durably, so a late CANCOMMIT gets "no".
    fn abort_unvoted(&mut self, tx: TxId, out: &mut Vec<Effect>) {
        self.txs.insert(tx, decided_tx(State::Aborted, Time(0)));
        out.push(persist(Record::Aborted { tx }, Durability::Forced));
        let outcome = Outcome::Abort;
        out.push(output(Output::Decided { tx, outcome }));
    }

    fn query(&self, tx: TxId, out: &mut Vec<Effect>) {
        let Some(t) = self.txs.get(&tx) else {
            return;
        };
        out.push(send(self.coordinator, Msg::Query { tx }));
        for peer in t.participants.iter().filter(|p| **p != self.id) {
            out.push(send(*peer, Msg::Query { tx }));
        }
    }

    /// A follower outwaits one whole step of its backup (which waits one termination timeout)
    /// plus the message that ends it.
    fn follower_timeout_ms(&self) -> u64 {
        self.config.termination_timeout_ms.saturating_mul(2)
    }

    /// Starts a new wait on `tx` that ends after `after_ms`.
    fn arm(&mut self, tx: TxId, after_ms: u64, out: &mut Vec<Effect>) {
        let Some(t) = self.txs.get_mut(&tx) else {
            return;
        };
        t.wait = t.wait.wrapping_add(1);
        let wait = t.wait;
        out.push(set_timer(Timer::Wait { tx, wait }, after_ms));
    }

    /// The number of the current wait on `tx`, for tests that fire its timer.
    #[cfg(test)]
    pub(super) fn current_wait(&self, tx: TxId) -> u32 {
        self.txs.get(&tx).map_or(0, |t| t.wait)
    }

    pub(super) fn view(&self, tx: TxId) -> Option<TxView> {
        self.txs.get(&tx).map(|t| self.view_of(t))
    }

    pub(super) fn views(&self) -> Vec<(TxId, TxView)> {
        self.txs
            .iter()
            .map(|(tx, t)| (*tx, self.view_of(t)))
            .collect()
    }

    fn view_of(&self, t: &Tx) -> TxView {
        let backup = matches!(
            t.phase,
            Phase::Collecting { .. } | Phase::PreCommitting { .. }
        );
        let in_doubt = matches!(t.state, State::Waiting | State::PreCommitted);
        TxView {
            state: t.state,
            term: t.term,
            backup,
            in_doubt_since: in_doubt.then_some(t.since),
        }
    }
}

/// The backup coordinator of `term` (`>= 1`): the `term`-th participant in id order, wrapping.
fn backup_of(participants: &[NodeId], term: Term) -> Option<NodeId> {
    if participants.is_empty() || term.0 == 0 {
        return None;
    }
    let idx = (term.0 as usize - 1) % participants.len();
    participants.get(idx).copied()
}

fn decided_tx(state: State, since: Time) -> Tx {
    Tx {
        participants: Vec::new(),
        state,
        term: Term(0),
        phase: Phase::Done,
        since,
        wait: 0,
    }
}
