//! Multi-Paxos in the simulator: the [`Process`] impl for `consensus::multi_paxos::Replica`,
//! clients that retry and follow leader hints, and the checkers: agreement (at most one command
//! chosen per slot), validity (chosen commands were submitted), log consistency (replicas apply
//! the same command at the same slot) and, at the end, linearizability of the client history.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use underhood_consensus::multi_paxos::{
    Ballot, Command, Config, Msg, Op, OpResult, Output, Record, Replica, Reply, Request, RoleView,
    Slot, Timer, Variant,
};
use underhood_consensus::{NodeId, Time};

use super::Plugin;
use crate::error::ScenarioError;
use crate::linearizability::{self, OpKind, Operation};
use crate::model::{
    self, CheckRefusal, CheckRequest, Progress, ProtocolModel, ScenarioCheck, SmallConfig,
};
use crate::process::{Effects, Inputs, Process, Protocol, Violation};
use crate::rng::SimRng;
use crate::run::{Driver, DynRun};
use crate::scenario::{MAX_DURATION_MS, Scenario, ScenarioSpec, Workload, check_range};
use crate::violation::RunInvariant;
use crate::violation::{ClientOperation, Decided};

/// The gallery scenarios of Multi-Paxos, in display order.
pub(crate) const GALLERY: &[&str] = &[
    include_str!("../../scenarios/paxos-normal.json"),
    include_str!("../../scenarios/paxos-minority-crash.json"),
    include_str!("../../scenarios/paxos-majority-crash.json"),
    include_str!("../../scenarios/paxos-dueling-proposers.json"),
    include_str!("../../scenarios/paxos-partition-old-leader.json"),
    include_str!("../../scenarios/paxos-storm.json"),
    include_str!("../../scenarios/paxos-leader-crash-mid-slot.json"),
    include_str!("../../scenarios/paxos-ignore-accepted.json"),
    include_str!("../../scenarios/paxos-forgetful-acceptor.json"),
    include_str!("../../scenarios/paxos-non-unique-ballots.json"),
    include_str!("../../scenarios/paxos-stale-reads.json"),
    include_str!("../../scenarios/paxos-corrupt-promise.json"),
    include_str!("../../scenarios/paxos-bench.json"),
];

/// Multi-Paxos's part of a scenario (`"protocol": "multi-paxos"`): its variant and timing.
/// Every node is a replica; clients spread over them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MultiPaxosConfig {
    /// Which variant runs (`"correct"` or a deliberately broken one).
    #[serde(default)]
    pub variant: Variant,
    /// Election, heartbeat and snapshot timing.
    #[serde(default)]
    pub paxos: PaxosTimeouts,
}

/// Multi-Paxos timing in milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PaxosTimeouts {
    /// A follower runs for leader after this long without a leader (plus jitter).
    pub election_ms: u64,
    /// How often the leader sends heartbeats.
    pub heartbeat_ms: u64,
    /// Base of the randomized back-off after a lost election.
    pub backoff_ms: u64,
    /// Compact the log into a snapshot every this many slots (0: never).
    pub snapshot_every: u64,
}

impl Default for PaxosTimeouts {
    fn default() -> Self {
        let c = Config::default();
        PaxosTimeouts {
            election_ms: c.election_ms,
            heartbeat_ms: c.heartbeat_ms,
            backoff_ms: c.backoff_ms,
            snapshot_every: c.snapshot_every,
        }
    }
}

impl MultiPaxosConfig {
    /// The Multi-Paxos settings of `scenario` (the defaults for another protocol's).
    pub fn of(scenario: &Scenario) -> MultiPaxosConfig {
        match &scenario.protocol {
            super::ProtocolConfig::MultiPaxos(c) => c.clone(),
            _ => MultiPaxosConfig::default(),
        }
    }
}

impl Plugin for MultiPaxosConfig {
    fn name(&self) -> &'static str {
        "multi-paxos"
    }

    fn variant_name(&self) -> &'static str {
        self.variant.name()
    }

    fn correct(&self) -> super::ProtocolConfig {
        super::ProtocolConfig::MultiPaxos(Self {
            variant: Variant::Correct,
            ..self.clone()
        })
    }

    fn assumptions(&self) -> Option<super::Assumptions> {
        // Reads go through the log, so no lease and no clock bound; an acceptor's promise and accepted values must survive a crash.
        Some(super::Assumptions {
            clocks: super::ClockAssumption::Nothing,
            disk: super::DiskAssumption::SyncedRecordsSurvive,
        })
    }

    fn msg_kinds(&self) -> Option<&'static [&'static str]> {
        Some(&Msg::KINDS)
    }

    fn invariants(&self) -> &'static [RunInvariant] {
        &[
            RunInvariant {
                name: "agreement",
                promise: "no slot is chosen with two different commands",
            },
            RunInvariant {
                name: "validity",
                promise: "every chosen command is one a client submitted",
            },
            RunInvariant {
                name: "log-consistency",
                promise: "every replica applies the same command in each slot",
            },
            RunInvariant {
                name: "linearizability",
                promise: "every reply fits one order of the operations that respects real time",
            },
        ]
    }

    fn check(&self, _spec: &ScenarioSpec) -> Result<(), ScenarioError> {
        let p = &self.paxos;
        for (field, value) in [
            ("paxos.election_ms", p.election_ms),
            ("paxos.heartbeat_ms", p.heartbeat_ms),
            ("paxos.backoff_ms", p.backoff_ms),
        ] {
            check_range(field, value, 1, MAX_DURATION_MS)?;
        }
        Ok(())
    }

    fn run(
        &self,
        scenario: &Scenario,
        seed: u64,
        driver: Driver,
    ) -> Result<Box<dyn DynRun>, ScenarioError> {
        crate::run::start(MultiPaxos::new(scenario, seed), scenario, seed, driver)
    }

    /// Three replicas and at most two timeouts (two elections), plus what the variant needs:
    /// `non-unique-ballots` two clients, one per leader; `stale-reads` a writer and a reader
    /// of one key; `forgetful-acceptor` a crash (between steps) and two clients.
    fn small_config(&self, scenario: &Scenario) -> Result<SmallConfig, CheckRefusal> {
        let (clients, readers, crashes) = match self.variant {
            Variant::NonUniqueBallots => (2, 0, 0),
            Variant::StaleReads => (2, 1, 0),
            Variant::ForgetfulAcceptor => (2, 0, 1),
            Variant::Correct | Variant::IgnoreAccepted => (1, 0, 0),
        };
        let scenario = scenario
            .edit(|s| {
                s.nodes = 3;
                // The checker chooses every fault itself.
                s.faults.clear();
                s.workload.keys = 1;
                s.workload.readers = readers;
                s.workload.clients = clients;
                s.workload.transactions = u64::from(clients);
            })
            .map_err(CheckRefusal::Scenario)?;
        Ok(SmallConfig {
            scenario,
            crashes,
            timeouts: Some(2),
            max_depth: 14,
        })
    }

    fn check_small(
        &self,
        config: &SmallConfig,
        request: &CheckRequest,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<ScenarioCheck, CheckRefusal> {
        Ok(model::check_small(
            multi_paxos_model(config),
            config,
            request,
            progress,
        ))
    }
}

/// The model of a Multi-Paxos configuration (stale timers dropped: replicas' timers carry a
/// generation that only grows).
pub fn multi_paxos_model(config: &SmallConfig) -> ProtocolModel<MultiPaxos> {
    let seed = config.scenario.seed;
    model::small_model(config, move |s| MultiPaxos::new(s, seed))
        .with_stale_timers_dropped()
        .with_crashes_between_steps()
}

impl Process for Replica {
    type Msg = Msg;
    type Timer = Timer;
    type Record = Record;
    type Request = Request;
    type Output = Output;

    fn step(&mut self, now: Time, input: Inputs<Self>, out: &mut Vec<Effects<Self>>) {
        Replica::step(self, now, input, out);
    }

    fn msg_kind(msg: &Msg) -> &'static str {
        msg.kind()
    }

    fn label_msg(msg: &Msg) -> String {
        match msg {
            Msg::Prepare { ballot, from } => format!("prepare b{ballot} from {from}"),
            Msg::Promise {
                ballot, accepted, ..
            } => format!("promise b{ballot} ({} accepted)", accepted.len()),
            Msg::Nack { ballot, promised } => format!("nack b{ballot} < b{promised}"),
            Msg::Accept {
                ballot,
                slot,
                command,
            } => format!("accept b{ballot} {slot} {}", label_command(command)),
            Msg::Accepted { ballot, slot } => format!("accepted b{ballot} {slot}"),
            Msg::Commit { slot, command } => format!("commit {slot} {}", label_command(command)),
            Msg::Heartbeat { ballot, commit } => format!("heartbeat b{ballot} commit {commit}"),
            Msg::CatchUp { from } => format!("catch up from {from}"),
            Msg::Entries { snapshot, entries } => match snapshot {
                Some(s) => format!("snapshot to {} + {} entries", s.next, entries.len()),
                None => format!("{} entries", entries.len()),
            },
        }
    }

    fn label_timer(timer: &Timer) -> String {
        match timer {
            Timer::Election(_) => "election timeout".to_owned(),
            Timer::Heartbeat(_) => "heartbeat".to_owned(),
        }
    }

    fn label_record(record: &Record) -> String {
        match record {
            Record::Promised(b) => format!("promised b{b}"),
            Record::Accepted {
                slot,
                ballot,
                command,
            } => format!("accepted {slot} b{ballot} {}", label_command(command)),
            Record::Chosen { slot, command } => format!("chosen {slot} {}", label_command(command)),
            Record::Snapshot(s) => format!("snapshot to {}", s.next),
        }
    }

    fn label_request(request: &Request) -> String {
        format!(
            "c{} #{} {}",
            request.client,
            request.seq,
            label_op(&request.op)
        )
    }

    fn label_output(output: &Output) -> String {
        match output {
            Output::Accepted {
                slot,
                ballot,
                command,
            } => format!("accepted {slot} b{ballot} {}", label_command(command)),
            Output::Applied { slot, command } => {
                format!("applied {slot} {}", label_command(command))
            }
            Output::Elected { ballot } => format!("elected leader b{ballot}"),
            Output::Reply {
                client,
                seq,
                reply: Reply::Done(result),
            } => format!("reply c{client} #{seq} {}", label_result(result)),
            Output::Reply {
                client,
                seq,
                reply: Reply::NotLeader { hint },
            } => match hint {
                Some(h) => format!("reply c{client} #{seq} not leader, try R{}", h.0),
                None => format!("reply c{client} #{seq} not leader"),
            },
        }
    }
}

fn label_op(op: &Op) -> String {
    match op {
        Op::Put { key, value } => format!("put k{key}={value}"),
        Op::Get { key } => format!("get k{key}"),
    }
}

fn label_command(command: &Command) -> String {
    match command {
        Command::Noop => "no-op".to_owned(),
        Command::Client { client, seq, op } => format!("c{client}#{seq} {}", label_op(op)),
    }
}

fn label_result(result: &OpResult) -> String {
    match result {
        OpResult::Written => "ok".to_owned(),
        OpResult::Read(Some(v)) => format!("= {v}"),
        OpResult::Read(None) => "= nil".to_owned(),
    }
}

/// A Multi-Paxos cluster of replicas `R0..Rn` serving key-value clients.
#[derive(Clone, Debug)]
pub struct MultiPaxos {
    config: Config,
    workload: Workload,
    clients: Vec<Client>,
    issued: u64,
    /// Every operation clients invoked, in invocation order.
    history: Vec<HistoryEntry>,
    /// (client, seq) of every command a client submitted.
    submitted: BTreeSet<(u32, u64, OpKey)>,
    /// Per (slot, ballot): which acceptors accepted which command.
    acceptances: BTreeMap<(Slot, Ballot), Vec<Acceptance>>,
    /// The command chosen at each slot, and under which ballot it was first chosen.
    chosen: BTreeMap<Slot, (Command, Ballot)>,
    /// The command each slot was applied with, and by whom first.
    applied: BTreeMap<Slot, (Command, NodeId)>,
    leaders: Vec<(Time, NodeId, Ballot)>,
    /// (slot, command) pairs already reported as conflicting.
    conflicts: BTreeSet<(Slot, Command)>,
}

/// A command and the acceptors that accepted it at one (slot, ballot).
type Acceptance = (Command, BTreeSet<NodeId>);

/// An operation's identity for validity: the operation itself, hashed as plain data.
type OpKey = (u8, u32, u64);

fn op_key(op: &Op) -> OpKey {
    match *op {
        Op::Put { key, value } => (0, key, value),
        Op::Get { key } => (1, key, 0),
    }
}

#[derive(Clone, Debug, Hash)]
struct Client {
    seq: u64,
    target: NodeId,
    /// Bumped whenever the client stops waiting for a wake-up, so stale ones are ignored.
    generation: u64,
    pending: Option<PendingOp>,
}

#[derive(Clone, Copy, Debug, Hash)]
struct PendingOp {
    op: Op,
    history: usize,
}

#[derive(Clone, Copy, Debug, Hash, serde::Serialize)]
struct HistoryEntry {
    client: u32,
    seq: u64,
    op: Op,
    invoke: Time,
    response: Option<Time>,
    result: Option<OpResult>,
}

impl MultiPaxos {
    /// The cluster a scenario describes (see [`MultiPaxosConfig::of`]).
    pub fn new(scenario: &Scenario, seed: u64) -> MultiPaxos {
        let c = MultiPaxosConfig::of(scenario);
        let p = c.paxos;
        let config = Config {
            n: scenario.nodes,
            election_ms: p.election_ms,
            heartbeat_ms: p.heartbeat_ms,
            backoff_ms: p.backoff_ms,
            snapshot_every: p.snapshot_every,
            seed,
            variant: c.variant,
        };
        let clients = (0..scenario.workload.clients)
            .map(|c| Client {
                seq: 0,
                target: NodeId(c % scenario.nodes),
                generation: 0,
                pending: None,
            })
            .collect();
        MultiPaxos {
            config,
            workload: scenario.workload.clone(),
            clients,
            issued: 0,
            history: Vec::new(),
            submitted: BTreeSet::new(),
            acceptances: BTreeMap::new(),
            chosen: BTreeMap::new(),
            applied: BTreeMap::new(),
            leaders: Vec::new(),
            conflicts: BTreeSet::new(),
        }
    }

    /// The client history so far as linearizability-checker operations.
    pub fn operations(&self) -> Vec<Operation> {
        self.checked_history().map(|(_, op)| op).collect()
    }

    /// The history as the linearizability checker sees it, each operation with the index of
    /// its history entry.
    fn checked_history(&self) -> impl Iterator<Item = (usize, Operation)> + '_ {
        self.history.iter().enumerate().filter_map(|(i, h)| {
            let (key, kind) = match (h.op, h.result) {
                (Op::Put { key, value }, _) => (key, OpKind::Put(value)),
                (Op::Get { key }, Some(OpResult::Read(v))) => (key, OpKind::Get(v)),
                (Op::Get { key }, _) => (key, OpKind::Get(None)),
            };
            // A read that never returned says nothing.
            if matches!(h.op, Op::Get { .. }) && h.response.is_none() {
                return None;
            }
            Some((
                i,
                Operation {
                    client: h.client,
                    key,
                    kind,
                    invoke: h.invoke.0,
                    response: h.response.map(|t| t.0),
                },
            ))
        })
    }

    /// Operations completed by clients.
    pub fn completed(&self) -> usize {
        self.history.iter().filter(|h| h.response.is_some()).count()
    }

    /// A wake-up token: the client, whether it is a timeout (then the client moves on to the
    /// next replica) and the generation that makes older wake-ups stale.
    fn token(client: u32, timeout: bool, generation: u64) -> u64 {
        (generation << 17) | (u64::from(timeout) << 16) | u64::from(client)
    }

    fn send(&mut self, client: u32) -> Option<(NodeId, Request)> {
        let c = &self.clients[client as usize];
        let pending = c.pending?;
        Some((
            c.target,
            Request {
                client,
                seq: c.seq,
                op: pending.op,
            },
        ))
    }

    fn wait(
        &mut self,
        now: Time,
        client: u32,
        after_ms: u64,
        timeout: bool,
        wake: &mut Vec<(Time, u64)>,
    ) {
        let c = &mut self.clients[client as usize];
        c.generation += 1;
        wake.push((
            now.after(after_ms),
            MultiPaxos::token(client, timeout, c.generation),
        ));
    }
}

impl Protocol for MultiPaxos {
    type Node = Replica;

    fn n_nodes(&self) -> u32 {
        self.config.n
    }

    fn node_name(&self, id: NodeId) -> String {
        format!("R{}", id.0)
    }

    fn boot(&self, id: NodeId, out: &mut Vec<Effects<Replica>>) -> Replica {
        Replica::new(id, self.config, out)
    }

    fn recover(
        &self,
        id: NodeId,
        log: &[Record],
        _now: Time,
        out: &mut Vec<Effects<Replica>>,
    ) -> Replica {
        Replica::recover(id, self.config, log, out)
    }

    fn start_clients(&mut self, _rng: &mut SimRng, wake: &mut Vec<(Time, u64)>) {
        let start = Time(self.workload.start_ms);
        for c in 0..self.clients.len() as u32 {
            // Stagger clients by a millisecond so their first requests do not all coincide.
            wake.push((start.after(u64::from(c)), MultiPaxos::token(c, false, 0)));
        }
    }

    fn wake_client(
        &mut self,
        now: Time,
        token: u64,
        rng: &mut SimRng,
        wake: &mut Vec<(Time, u64)>,
    ) -> Option<(NodeId, Request)> {
        let client = (token & 0xffff) as u32;
        let timeout = token & (1 << 16) != 0;
        let generation = token >> 17;
        let n = self.config.n;
        let c = self.clients.get_mut(client as usize)?;
        if c.generation != generation {
            return None;
        }
        if c.pending.is_some() {
            if timeout {
                // No answer in time: try the next replica with the same request.
                c.target = NodeId((c.target.0 + 1) % n);
            }
        } else {
            if self.issued >= self.workload.transactions {
                return None;
            }
            self.issued += 1;
            c.seq += 1;
            let key = rng.below(u64::from(self.workload.keys)) as u32;
            let reader = client < self.workload.readers;
            let op = if rng.chance(self.workload.read_per_mille) || reader {
                Op::Get { key }
            } else {
                // Unique values make reads attributable to one write.
                Op::Put {
                    key,
                    value: c.seq * 100 + u64::from(client),
                }
            };
            c.pending = Some(PendingOp {
                op,
                history: self.history.len(),
            });
            self.submitted.insert((client, c.seq, op_key(&op)));
            self.history.push(HistoryEntry {
                client,
                seq: c.seq,
                op,
                invoke: now,
                response: None,
                result: None,
            });
        }
        let timeout = self.workload.client_timeout_ms;
        self.wait(now, client, timeout, true, wake);
        self.send(client)
    }

    fn hash_model_state(&self, state: &mut dyn std::hash::Hasher) {
        use std::hash::Hash;
        let mut state = state;
        // Leaders are display only; everything else decides what clients and checkers do next.
        self.clients.hash(&mut state);
        self.issued.hash(&mut state);
        self.history.hash(&mut state);
        self.submitted.hash(&mut state);
        self.acceptances.hash(&mut state);
        self.chosen.hash(&mut state);
        self.applied.hash(&mut state);
        self.conflicts.hash(&mut state);
    }

    fn observe(
        &mut self,
        now: Time,
        node: NodeId,
        output: &Output,
        violations: &mut Vec<Violation>,
        wake: &mut Vec<(Time, u64)>,
    ) {
        let majority = self.config.majority();
        match *output {
            Output::Accepted {
                slot,
                ballot,
                command,
            } => {
                let votes = self.acceptances.entry((slot, ballot)).or_default();
                let idx = match votes.iter().position(|(c, _)| *c == command) {
                    Some(i) => i,
                    None => {
                        votes.push((command, BTreeSet::new()));
                        votes.len() - 1
                    }
                };
                votes[idx].1.insert(node);
                if votes[idx].1.len() < majority {
                    return;
                }
                match self.chosen.get(&slot) {
                    // One report per slot and command: every further acceptor would repeat it.
                    Some((c, b)) if *c != command && self.conflicts.insert((slot, command)) => {
                        let detail = format!(
                            "slot {slot} chose {} under ballot {b} and {} under ballot {ballot}",
                            label_command(c),
                            label_command(&command)
                        );
                        violations.push(
                            Violation::new("agreement", detail)
                                .slot(slot.0)
                                .nodes(votes[idx].1.iter().copied())
                                .decisions([
                                    Decided::chosen(label_command(c), b),
                                    Decided::chosen(label_command(&command), ballot),
                                ]),
                        );
                    }
                    Some(_) => {}
                    None => {
                        self.chosen.insert(slot, (command, ballot));
                        if let Command::Client { client, seq, op } = command
                            && !self.submitted.contains(&(client, seq, op_key(&op)))
                        {
                            let detail = format!(
                                "slot {slot} chose {}, which no client submitted",
                                label_command(&command)
                            );
                            violations.push(
                                Violation::new("validity", detail)
                                    .slot(slot.0)
                                    .nodes(votes[idx].1.iter().copied())
                                    .decisions([Decided::chosen(label_command(&command), ballot)]),
                            );
                        }
                    }
                }
            }
            Output::Applied { slot, command } => match self.applied.get(&slot) {
                Some((c, first)) if *c != command && self.conflicts.insert((slot, command)) => {
                    let detail = format!(
                        "R{} applied {} at {slot}, but R{} applied {}",
                        node.0,
                        label_command(&command),
                        first.0,
                        label_command(c)
                    );
                    violations.push(
                        Violation::new("log-consistency", detail)
                            .slot(slot.0)
                            .nodes([node, *first])
                            .decisions([
                                Decided::by(*first, label_command(c)),
                                Decided::by(node, label_command(&command)),
                            ]),
                    );
                }
                Some(_) => {}
                None => {
                    self.applied.insert(slot, (command, node));
                }
            },
            Output::Elected { ballot } => self.leaders.push((now, node, ballot)),
            Output::Reply { client, seq, reply } => {
                let Some(c) = self.clients.get_mut(client as usize) else {
                    return;
                };
                if c.seq != seq || c.pending.is_none() {
                    return;
                }
                match reply {
                    Reply::Done(result) => {
                        if let Some(p) = c.pending.take() {
                            let h = &mut self.history[p.history];
                            h.response = Some(now);
                            h.result = Some(result);
                        }
                        let think = self.workload.interval_ms;
                        self.wait(now, client, think, false, wake);
                    }
                    Reply::NotLeader { hint } => {
                        let n = self.config.n;
                        c.target = hint
                            .filter(|h| *h != node)
                            .unwrap_or(NodeId((node.0 + 1) % n));
                        self.wait(now, client, 1, false, wake);
                    }
                }
            }
        }
    }

    fn finish(&mut self, _now: Time, violations: &mut Vec<Violation>) {
        let (entries, ops): (Vec<usize>, Vec<Operation>) = self.checked_history().unzip();
        if let Err(e) = linearizability::check(&ops) {
            let shown: Vec<String> = e
                .ops
                .iter()
                .map(|i| {
                    let o = &ops[*i];
                    let what = match o.kind {
                        OpKind::Put(v) => format!("put k{}={v}", o.key),
                        OpKind::Get(Some(v)) => format!("get k{} = {v}", o.key),
                        OpKind::Get(None) => format!("get k{} = nil", o.key),
                    };
                    let end = o
                        .response
                        .map_or("pending".to_owned(), |r| format!("{r} ms"));
                    format!("c{} {what} [{} ms, {end}]", o.client, o.invoke)
                })
                .collect();
            let detail = format!(
                "no legal order for key k{}: {} operation(s) contradict each other: {}",
                e.key,
                e.ops.len(),
                shown.join("; ")
            );
            let named = e.ops.iter().map(|i| {
                let h = &self.history[entries[*i]];
                let op = ClientOperation::new(h.client, h.seq, label_op(&h.op), h.invoke);
                match (h.response, &h.result) {
                    (Some(at), Some(result)) => op.replied(at, label_result(result)),
                    _ => op,
                }
            });
            violations.push(
                Violation::new("linearizability", detail)
                    .key(u64::from(e.key))
                    .operations(named),
            );
        }
    }

    fn node_details(&self, _id: NodeId, node: Option<&Replica>, _now: Time) -> Map<String, Value> {
        let mut map = Map::new();
        map.insert("role".into(), json!("replica"));
        let Some(r) = node else {
            return map;
        };
        let role = match r.role() {
            RoleView::Follower => "follower",
            RoleView::Candidate => "candidate",
            RoleView::Leader => "leader",
        };
        map.insert("paxos_role".into(), json!(role));
        map.insert("promised".into(), json!(r.promised().to_string()));
        map.insert(
            "ballot".into(),
            json!(r.own_ballot().map(|b| b.to_string())),
        );
        map.insert("leader".into(), json!(r.leader_hint().map(|l| l.0)));
        let accepted: Vec<Value> = r
            .accepted()
            .rev()
            .take(6)
            .map(|(s, b, c)| json!({"slot": s.0, "ballot": b.to_string(), "command": label_command(&c)}))
            .collect();
        map.insert("accepted".into(), Value::Array(accepted));
        let chosen: Vec<Value> = r
            .recent()
            .map(|(s, c)| json!({"slot": s.0, "command": label_command(&c)}))
            .collect();
        map.insert("chosen".into(), Value::Array(chosen));
        map.insert("next_apply".into(), json!(r.next_apply().0));
        map.insert("snapshot".into(), json!(r.snapshot_next().0));
        let kv: Vec<Value> = r.kv().entries().map(|(k, v)| json!([k, v])).collect();
        map.insert("kv".into(), Value::Array(kv));
        map
    }

    fn details(&self, _now: Time) -> Map<String, Value> {
        let mut map = Map::new();
        const SHOWN: usize = 60;
        let start = self.history.len().saturating_sub(SHOWN);
        let history: Vec<Value> = self.history[start..]
            .iter()
            .enumerate()
            .map(|(i, h)| {
                json!({
                    "i": start + i, "client": h.client, "seq": h.seq, "op": label_op(&h.op),
                    "invoke": h.invoke.0, "response": h.response.map(|t| t.0),
                    "result": h.result.as_ref().map(label_result),
                })
            })
            .collect();
        map.insert("history".into(), Value::Array(history));
        let chosen: Vec<Value> = self
            .chosen
            .iter()
            .rev()
            .take(SHOWN)
            .map(|(s, (c, b))| json!({"slot": s.0, "ballot": b.to_string(), "command": label_command(c)}))
            .collect();
        map.insert("chosen".into(), Value::Array(chosen));
        let leaders: Vec<Value> = self
            .leaders
            .iter()
            .map(|(t, n, b)| json!({"time": t.0, "node": n.0, "ballot": b.to_string()}))
            .collect();
        map.insert("leaders".into(), Value::Array(leaders));
        map
    }

    fn summarize(&self, now: Time, out: &mut String) {
        let completed = self.completed();
        let _ = writeln!(
            out,
            "operations: {} invoked, {completed} completed, {} pending",
            self.history.len(),
            self.history.len() - completed
        );
        let _ = writeln!(
            out,
            "slots chosen: {}, committed operations per simulated second: {:.1}",
            self.chosen.len(),
            if now.0 == 0 {
                0.0
            } else {
                completed as f64 * 1000.0 / now.0 as f64
            }
        );
        let _ = write!(out, "leaders:");
        if self.leaders.is_empty() {
            let _ = write!(out, " none elected");
        }
        for (t, n, b) in &self.leaders {
            let _ = write!(out, " R{} (b{b}, {} ms)", n.0, t.0);
        }
        let _ = writeln!(out);
        let _ = writeln!(out, "chosen log (last 10):");
        for (slot, (c, b)) in self
            .chosen
            .iter()
            .rev()
            .take(10)
            .collect::<Vec<_>>()
            .iter()
            .rev()
        {
            let _ = writeln!(out, "  {slot} b{b}: {}", label_command(c));
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use underhood_consensus::multi_paxos::Slot;

    use super::*;
    use crate::gallery;

    #[test]
    fn log_consistency_names_both_replicas_and_what_each_applied() {
        let mut cluster = MultiPaxos::new(&gallery::find("paxos-normal").unwrap(), 1);
        let put = Command::Client {
            client: 1,
            seq: 1,
            op: Op::Put { key: 1, value: 101 },
        };
        let (mut found, mut wake) = (Vec::new(), Vec::new());
        for (node, command) in [(0, put), (2, Command::Noop)] {
            let applied = Output::Applied {
                slot: Slot(3),
                command,
            };
            cluster.observe(Time(5), NodeId(node), &applied, &mut found, &mut wake);
        }
        assert_eq!(
            serde_json::to_value(&found).unwrap(),
            json!([{
                "invariant": "log-consistency",
                "detail": "R2 applied no-op at #3, but R0 applied c1#1 put k1=101",
                "nodes": [2, 0], "tx": null, "slot": 3, "key": null, "operations": [],
                "decisions": [
                    {"node": 0, "value": "c1#1 put k1=101", "ballot": null},
                    {"node": 2, "value": "no-op", "ballot": null},
                ],
            }])
        );
    }
}
