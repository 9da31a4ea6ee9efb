//! The event loop: one queue ordered by (virtual time, sequence number), a seeded network,
//! nodes that crash and recover from their durable logs, scripted rules, and the trace.
//!
//! **Invariant:** nothing here reads a clock, iterates a hash map or looks at threads; a run is a
//! function of (scenario, seed, injected faults).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use underhood_consensus::{Durability, Effect, Input, NodeId, Time};

use crate::error::{InjectRefusal, LimitExceeded, ScenarioError};
use crate::hash::TraceHasher;
use crate::process::{Effects, Process, Protocol, Violation};
use crate::rng::{SimRng, Stream};
use crate::scenario::{DiskFault, Environment, Fault, fault_type};
use crate::trace::{DropReason, Event, EventKind};
use crate::violation::Evidence;

mod clock;
mod disk;
mod faults;
mod in_flight;
mod invariant;
mod network;
mod scripted;
mod view;

pub use disk::{Damage, DiskEvent, Refusal};
pub use invariant::Invariant;
pub(crate) use invariant::{PANIC, first_broken, panic_message};
pub use scripted::{Choice, Cut, NodeProblem, SCRIPT_STEP_MS, ScriptError};

use clock::LocalClock;
pub(crate) use disk::Disk;
use disk::Write;
use in_flight::InFlight;
use network::{Rule, RuleAction};

/// Whether a run keeps every event or only folds them into the trace hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recording {
    /// Keep every event (for display, `--json` and replay).
    Full,
    /// Keep only the hash and the violations (for exploration and benchmarks).
    HashOnly,
}

/// What a run has cost: messages sent (duplicates the network makes not counted) and forced
/// (synced) log writes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    /// Messages nodes sent.
    pub sends: u64,
    /// Log writes forced to disk.
    pub forced_writes: u64,
}

/// What to do when an invariant breaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnViolation {
    /// Keep running, to show what happens next.
    Continue,
    /// Stop at once (exploration).
    Stop,
}

/// A broken invariant and where in the trace it broke.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ViolationAt {
    /// The invariant's name.
    pub invariant: &'static str,
    /// What happened, in one sentence.
    pub detail: String,
    /// What it is about, as data (serialised inline: `nodes`, `tx`, `slot`, …).
    #[serde(flatten)]
    pub evidence: Box<Evidence>,
    /// The index of the `violation` event in the trace.
    pub event: u64,
    /// When.
    pub time: Time,
    /// Set when the environment, not the protocol, broke a promise the protocol relies on
    /// before this violation (a disk that acknowledged a write and lost it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub broken_by: Option<BrokenBy>,
}

/// The environment fault that broke what a protocol assumes (see [`ViolationAt::broken_by`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct BrokenBy {
    /// Always `"disk"` for now.
    pub environment: &'static str,
    /// The node whose disk lied.
    pub node: u32,
    /// The disk fault.
    pub fault: DiskFault,
    /// When the lie came to light (the power loss that took the acknowledged write).
    pub at_ms: u64,
}

impl BrokenBy {
    /// One sentence, naming the node `name`.
    pub fn describe(&self, name: &str) -> String {
        format!(
            "the {} of {name}, not the protocol, broke the promise: it acknowledged a write and \
             lost it ({}, at {} ms)",
            self.environment,
            self.fault.name(),
            self.at_ms
        )
    }
}

/// A running simulation of protocol `P`.
pub struct Sim<P: Protocol> {
    protocol: P,
    env: Environment,
    seed: u64,
    duration: Time,
    now: Time,
    steps: u64,
    seq: u64,
    queue: BinaryHeap<Reverse<Entry<P::Node>>>,
    nodes: Vec<Slot<P::Node>>,
    in_flight: InFlight<P::Node>,
    next_msg: u64,
    net_rng: SimRng,
    workload_rng: SimRng,
    /// Partition group of each node; all zero when healed.
    group: Vec<u32>,
    /// Latest delivery time per (from, to) link, for FIFO ordering.
    link_last: Vec<Time>,
    rules: Vec<Rule>,
    /// On-write rules and how many matching writes each has seen.
    write_rules: Vec<(Fault, u64)>,
    replays: Vec<(u64, Time, Fault)>,
    injected: Vec<Fault>,
    recording: Recording,
    on_violation: OnViolation,
    trace: Vec<Event<P::Node>>,
    n_events: u64,
    counts: Counts,
    hasher: TraceHasher,
    violations: Vec<ViolationAt>,
    stopped: bool,
    limit_exceeded: Option<LimitExceeded>,
    out: Vec<Effects<P::Node>>,
    found: Vec<Violation>,
    wake: Vec<(Time, u64)>,
    finished_checked: bool,
    invariants: Vec<Invariant<P::Node>>,
    broken_by: Option<BrokenBy>,
}

struct Slot<N: Process> {
    node: Option<N>,
    /// The durable log, through the node's simulated disk.
    disk: Disk<N::Record>,
    incarnation: u32,
    /// The node's local clock, and how many times it changed (a timer set under an older
    /// clock was scheduled again when it changed).
    clock: LocalClock,
    clock_epoch: u32,
}

struct Flight<N: Process> {
    from: NodeId,
    to: NodeId,
    msg: N::Msg,
    sent_at: Time,
    deliver_at: Time,
}

struct Entry<N: Process> {
    time: Time,
    seq: u64,
    item: Item<N>,
}

enum Item<N: Process> {
    Deliver(u64),
    Timer {
        node: NodeId,
        incarnation: u32,
        timer: N::Timer,
        /// When it fires by the node's clock.
        deadline: u64,
        /// The node's clock epoch when this entry was queued.
        epoch: u32,
    },
    Wake(u64),
    Fault(Box<Fault>),
}

impl<N: Process> PartialEq for Entry<N> {
    fn eq(&self, other: &Self) -> bool {
        (self.time, self.seq) == (other.time, other.seq)
    }
}
impl<N: Process> Eq for Entry<N> {}
impl<N: Process> PartialOrd for Entry<N> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl<N: Process> Ord for Entry<N> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.time, self.seq).cmp(&(other.time, other.seq))
    }
}

impl<P: Protocol> Sim<P> {
    /// Sets up a run of `protocol` in `env` with `seed`; `injected` are earlier injections to
    /// replay.
    pub fn new(
        protocol: P,
        env: &Environment,
        seed: u64,
        injected: &[Fault],
        recording: Recording,
        on_violation: OnViolation,
    ) -> Result<Sim<P>, ScenarioError> {
        let n = protocol.n_nodes();
        if n != env.nodes() {
            return Err(ScenarioError::NodeMismatch {
                protocol: n,
                environment: env.nodes(),
            });
        }
        let mut boot_effects = Vec::new();
        let nodes = (0..n)
            .map(|i| {
                let mut out = Vec::new();
                let node = protocol.boot(NodeId(i), &mut out);
                boot_effects.push(out);
                Slot {
                    node: Some(node),
                    disk: Disk::default(),
                    incarnation: 0,
                    clock: LocalClock::default(),
                    clock_epoch: 0,
                }
            })
            .collect();
        let mut sim = Sim {
            protocol,
            env: env.clone(),
            seed,
            duration: Time(env.duration_ms()),
            now: Time(0),
            steps: 0,
            seq: 0,
            queue: BinaryHeap::new(),
            nodes,
            in_flight: InFlight::default(),
            next_msg: 0,
            net_rng: SimRng::new(seed, Stream::Network),
            workload_rng: SimRng::new(seed, Stream::Workload),
            group: vec![0; n as usize],
            link_last: vec![Time(0); (n * n) as usize],
            rules: Vec::new(),
            write_rules: Vec::new(),
            replays: Vec::new(),
            injected: Vec::new(),
            recording,
            on_violation,
            trace: Vec::new(),
            n_events: 0,
            counts: Counts::default(),
            hasher: TraceHasher::default(),
            violations: Vec::new(),
            stopped: false,
            limit_exceeded: None,
            out: Vec::new(),
            found: Vec::new(),
            wake: Vec::new(),
            finished_checked: false,
            invariants: Vec::new(),
            broken_by: None,
        };
        for fault in env.faults() {
            sim.schedule_fault(fault.clone());
        }
        for fault in injected {
            env.check_fault(fault)?;
            if fault.when().is_none() {
                return Err(ScenarioError::Inject {
                    fault: fault_type(fault),
                    reason: InjectRefusal::RuleNotTimed,
                });
            }
            sim.injected.push(fault.clone());
            sim.schedule_fault(fault.clone());
        }
        for (i, mut out) in boot_effects.into_iter().enumerate() {
            sim.execute(NodeId(i as u32), &mut out);
        }
        // Replays run in the order they were injected at equal step counts.
        sim.replays.sort_by_key(|(after, _, _)| *after);
        let mut wake = Vec::new();
        sim.protocol.start_clients(&mut sim.workload_rng, &mut wake);
        sim.schedule_wakes(&mut wake);
        Ok(sim)
    }

    fn push(&mut self, time: Time, item: Item<P::Node>) {
        self.seq += 1;
        self.queue.push(Reverse(Entry {
            time,
            seq: self.seq,
            item,
        }));
    }

    fn schedule_wakes(&mut self, wake: &mut Vec<(Time, u64)>) {
        for (time, token) in wake.drain(..) {
            self.push(time.max(self.now), Item::Wake(token));
        }
    }

    /// The environment being run in: nodes, duration, network, faults.
    pub fn environment(&self) -> &Environment {
        &self.env
    }

    /// When the run ends.
    pub fn duration(&self) -> Time {
        self.duration
    }

    /// The protocol, with its checker state.
    pub fn protocol(&self) -> &P {
        &self.protocol
    }

    /// The seed in use.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Virtual time now.
    pub fn now(&self) -> Time {
        self.now
    }

    /// Queue events processed so far.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Trace events so far (kept or only hashed).
    pub fn n_events(&self) -> u64 {
        self.n_events
    }

    /// The kept trace (empty with [`Recording::HashOnly`]).
    pub fn trace(&self) -> &[Event<P::Node>] {
        &self.trace
    }

    /// Every broken invariant so far.
    pub fn violations(&self) -> &[ViolationAt] {
        &self.violations
    }

    /// The budget the run outgrew, if it stopped for that.
    pub fn limit_exceeded(&self) -> Option<LimitExceeded> {
        self.limit_exceeded
    }

    /// Faults injected into this run, each with the moment it applied, for exact replay.
    pub fn injected(&self) -> &[Fault] {
        &self.injected
    }

    /// The trace hash: equal for equal runs on every platform.
    pub fn trace_hash(&self) -> u64 {
        std::hash::Hasher::finish(&self.hasher)
    }

    /// Whether the run is over: nothing left before the end of its duration, or stopped at a
    /// violation.
    pub fn finished(&self) -> bool {
        self.stopped
            || (self.replays.is_empty()
                && self
                    .queue
                    .peek()
                    .is_none_or(|Reverse(e)| e.time > self.duration))
    }

    /// Processes one queue event; returns false when the run is over.
    pub fn step(&mut self) -> bool {
        self.apply_due_replays(Time(u64::MAX));
        if self.finished() {
            self.check_at_end();
            return false;
        }
        let Some(Reverse(entry)) = self.queue.pop() else {
            return false;
        };
        if let Item::Timer { node, epoch, .. } = &entry.item
            && *epoch != self.nodes[node.0 as usize].clock_epoch
        {
            // Queued under a clock that has changed since; its new copy fires instead.
            return true;
        }
        self.now = self.now.max(entry.time);
        self.steps += 1;
        match entry.item {
            Item::Deliver(id) => self.deliver(id, None),
            Item::Timer {
                node,
                incarnation,
                timer,
                ..
            } => {
                let slot = &self.nodes[node.0 as usize];
                if slot.incarnation == incarnation && slot.node.is_some() {
                    self.emit(EventKind::Timer {
                        node,
                        timer: timer.clone(),
                    });
                    self.step_node(node, Input::Timer(timer));
                }
            }
            Item::Wake(token) => {
                if let Some((node, request)) = self.wake_client(token) {
                    self.step_node(node, Input::Request(request));
                }
            }
            Item::Fault(fault) => self.apply_fault(*fault),
        }
        if !self.invariants.is_empty() {
            self.check_state_invariants();
        }
        true
    }

    /// Client wake-up `token` happens. Returns the request to hand to its node when the client
    /// sends one and the node is up (a request to a node that is down is lost).
    fn wake_client(&mut self, token: u64) -> Option<(NodeId, RequestOf<P>)> {
        let mut wake = std::mem::take(&mut self.wake);
        let request = self
            .protocol
            .wake_client(self.now, token, &mut self.workload_rng, &mut wake);
        self.schedule_wakes(&mut wake);
        self.wake = wake;
        let (node, request) = request?;
        self.emit(EventKind::Request {
            node,
            request: request.clone(),
        });
        self.nodes[node.0 as usize]
            .node
            .is_some()
            .then_some((node, request))
    }

    /// Adds a state invariant checked after every event from now on.
    pub fn add_invariant(&mut self, invariant: Invariant<P::Node>) {
        self.invariants.push(invariant);
    }

    fn check_state_invariants(&mut self) {
        let nodes: Vec<Option<&P::Node>> = self.nodes.iter().map(|s| s.node.as_ref()).collect();
        let mut found: Vec<Violation> = self
            .invariants
            .iter()
            .filter_map(|inv| {
                invariant::judge(inv, &nodes).map(|detail| Violation::new(inv.name(), detail))
            })
            .collect();
        if !found.is_empty() {
            self.report(&mut found);
        }
    }

    /// Runs the whole-run checks once, when the run is over.
    fn check_at_end(&mut self) {
        if self.finished_checked {
            return;
        }
        self.finished_checked = true;
        let mut found = std::mem::take(&mut self.found);
        self.protocol.finish(self.now, &mut found);
        self.report(&mut found);
        self.found = found;
    }

    fn report(&mut self, found: &mut Vec<Violation>) {
        for v in found.drain(..) {
            self.violations.push(ViolationAt {
                invariant: v.invariant,
                detail: v.detail.clone(),
                evidence: v.evidence.clone(),
                event: self.n_events,
                time: self.now,
                broken_by: self.broken_by,
            });
            self.emit(EventKind::Violation(v));
            if self.on_violation == OnViolation::Stop {
                self.stopped = true;
            }
        }
    }

    /// Processes every event up to and including time `t` (capped at the duration), then sets
    /// the clock to `t`. Returns how many events ran.
    pub fn run_until(&mut self, t: Time) -> u64 {
        let t = t.min(self.duration);
        let start = self.steps;
        loop {
            self.apply_due_replays(t);
            if self.stopped {
                break;
            }
            match self.queue.peek() {
                Some(Reverse(e)) if e.time <= t => {}
                _ if self
                    .replays
                    .iter()
                    .any(|(after, at, _)| *after <= self.steps && *at <= t) => {}
                _ => break,
            }
            self.step();
        }
        if !self.stopped {
            self.now = self.now.max(t);
        }
        if self.finished() {
            self.check_at_end();
        }
        self.steps - start
    }

    /// Runs to the end; returns how many events ran.
    pub fn run_to_end(&mut self) -> u64 {
        let start = self.steps;
        while self.step() {}
        self.steps - start
    }

    /// `node` crashes, with `in_flight` the log record it was writing at that moment, if any.
    fn crash(&mut self, node: NodeId, lose_unsynced: bool, in_flight: Option<RecordOf<P>>) {
        let slot = &mut self.nodes[node.0 as usize];
        if slot.node.is_none() {
            return;
        }
        slot.node = None;
        slot.incarnation += 1;
        let crashed = slot.disk.crash(lose_unsynced, in_flight);
        self.emit(EventKind::Crash {
            node,
            lost: crashed.lost,
        });
        if let Some(record) = crashed.torn {
            self.emit(EventKind::Disk {
                node,
                what: DiskEvent::Torn {
                    record: record as u64,
                },
            });
        }
        if crashed.vanished > 0 {
            self.broken_by.get_or_insert(BrokenBy {
                environment: "disk",
                node: node.0,
                fault: DiskFault::LostFsync,
                at_ms: self.now.0,
            });
            self.emit(EventKind::Disk {
                node,
                what: DiskEvent::LostOnPowerLoss {
                    records: crashed.vanished,
                },
            });
        }
        self.protocol.crashed(self.now, node);
    }

    fn restart(&mut self, node: NodeId) {
        let idx = node.0 as usize;
        if self.nodes[idx].node.is_some() {
            return;
        }
        // Recovery reads the log back first: a damaged acknowledged record keeps the node down.
        match self.nodes[idx].disk.recover() {
            Err(refusal) => {
                self.emit(EventKind::Disk {
                    node,
                    what: DiskEvent::RecoveryRefused {
                        record: refusal.record,
                        damage: refusal.damage,
                    },
                });
                return;
            }
            Ok(0) => {}
            Ok(records) => self.emit(EventKind::Disk {
                node,
                what: DiskEvent::TornTailDropped { records },
            }),
        }
        self.emit(EventKind::Restart { node });
        let mut out = std::mem::take(&mut self.out);
        let local = self.nodes[idx].clock.local(self.now);
        let recovered =
            self.protocol
                .recover(node, self.nodes[idx].disk.records(), local, &mut out);
        let slot = &mut self.nodes[idx];
        slot.node = Some(recovered);
        slot.incarnation += 1;
        self.execute(node, &mut out);
        self.out = out;
    }

    /// Delivers message `id`; with `cut`, the receiver crashes part way through handling it.
    fn deliver(&mut self, id: u64, cut: Option<Cut>) {
        // Gone already: dropped by an injected fault.
        let Some(f) = self.in_flight.get(id) else {
            return;
        };
        let reason = if self.nodes[f.to.0 as usize].node.is_none() {
            Some(DropReason::ReceiverDown)
        } else if self.group[f.from.0 as usize] != self.group[f.to.0 as usize] {
            Some(DropReason::Partition)
        } else {
            None
        };
        if let Some(reason) = reason {
            self.drop_in_flight(id, reason);
            return;
        }
        let Some(f) = self.in_flight.remove(id) else {
            return;
        };
        let EventKind::Deliver { msg, .. } = self.record(EventKind::Deliver {
            id,
            from: f.from,
            to: f.to,
            msg: f.msg,
        }) else {
            unreachable!("record hands back the event it was given")
        };
        self.step_node_cut(f.to, Input::Msg { from: f.from, msg }, cut);
    }

    fn step_node(&mut self, id: NodeId, input: Input<MsgOf<P>, TimerOf<P>, RequestOf<P>>) {
        self.step_node_cut(id, input, None);
    }

    /// Steps node `id`; with `cut`, only its first `cut.effects` effects happen, then it crashes.
    fn step_node_cut(
        &mut self,
        id: NodeId,
        input: Input<MsgOf<P>, TimerOf<P>, RequestOf<P>>,
        cut: Option<Cut>,
    ) {
        let mut out = std::mem::take(&mut self.out);
        let slot = &mut self.nodes[id.0 as usize];
        let local = slot.clock.local(self.now);
        if let Some(node) = slot.node.as_mut() {
            node.step(local, input, &mut out);
        }
        // The record being written when the crash strikes, if the cut falls on a write.
        let mut in_flight = None;
        if let Some(cut) = cut {
            if let Some(Effect::Persist { record, .. }) = out.get(cut.effects as usize) {
                in_flight = Some(record.clone());
            }
            out.truncate(cut.effects as usize);
        }
        self.execute(id, &mut out);
        if let Some(cut) = cut {
            self.crash(id, cut.power_loss, in_flight);
        }
        self.out = out;
    }

    /// Carries out a node's effects in order; a crash-after-send rule cuts the list short.
    fn execute(&mut self, id: NodeId, out: &mut Vec<Effects<P::Node>>) {
        let mut effects = out.drain(..);
        for effect in effects.by_ref() {
            match effect {
                Effect::Send { to, msg } => {
                    let struck = self.send(id, to, msg);
                    if struck.isolate {
                        self.isolate(id, struck.undo_isolation_at);
                    }
                    if let Some(lose_unsynced) = struck.crash {
                        self.crash(id, lose_unsynced, None);
                        self.schedule_restart(id, struck.restart_at);
                        break;
                    }
                }
                Effect::SetTimer { timer, after_ms } => {
                    let slot = &self.nodes[id.0 as usize];
                    let deadline = slot.clock.local(self.now).0.saturating_add(after_ms);
                    let item = Item::Timer {
                        node: id,
                        incarnation: slot.incarnation,
                        timer,
                        deadline,
                        epoch: slot.clock_epoch,
                    };
                    self.push(slot.clock.when_reads(self.now, deadline), item);
                }
                Effect::Persist { record, durability } => {
                    if let Some((power_loss, restart_at)) = self.write_struck(id) {
                        self.crash(id, power_loss, Some(record));
                        self.schedule_restart(id, restart_at);
                        break;
                    }
                    let disk = &mut self.nodes[id.0 as usize].disk;
                    let write = disk.append(record.clone(), durability);
                    let index = disk.records().len() as u64 - 1;
                    self.emit(EventKind::Persist {
                        node: id,
                        record,
                        durability,
                    });
                    match write {
                        Write::Done => {}
                        Write::FsyncLost => self.emit(EventKind::Disk {
                            node: id,
                            what: DiskEvent::FsyncLost { record: index },
                        }),
                        Write::FsyncFailed => {
                            // As after fsyncgate: the write is never retried; the node stops, and
                            // what it had not synced is gone with the dirty pages.
                            self.emit(EventKind::Disk {
                                node: id,
                                what: DiskEvent::FsyncFailed { record: index },
                            });
                            self.crash(id, true, None);
                            break;
                        }
                    }
                }
                Effect::Output(output) => {
                    let mut found = std::mem::take(&mut self.found);
                    let mut wake = std::mem::take(&mut self.wake);
                    self.protocol
                        .observe(self.now, id, &output, &mut found, &mut wake);
                    self.schedule_wakes(&mut wake);
                    self.wake = wake;
                    self.emit(EventKind::Output { node: id, output });
                    self.report(&mut found);
                    self.found = found;
                }
            }
        }
        // Effects after a crash never happen.
        effects.for_each(drop);
    }

    fn emit(&mut self, kind: EventKind<P::Node>) {
        self.record(kind);
    }

    /// Hashes an event and keeps a copy when recording; hands the event back so the caller can
    /// take its message out again without cloning it when only the hash is kept.
    fn record(&mut self, kind: EventKind<P::Node>) -> EventKind<P::Node> {
        let local = kind
            .node()
            .map(|n| self.nodes[n.0 as usize].clock)
            .filter(|c| !c.is_exact())
            .map(|c| c.local(self.now));
        let event = Event {
            time: self.now,
            local,
            kind,
        };
        std::hash::Hasher::write_u64(&mut self.hasher, self.n_events);
        event.hash_into(&mut self.hasher);
        self.n_events += 1;
        match &event.kind {
            EventKind::Send { .. } => self.counts.sends += 1,
            EventKind::Persist {
                durability: Durability::Forced,
                ..
            } => self.counts.forced_writes += 1,
            _ => {}
        }
        if self.recording == Recording::Full && self.trace_may_grow() {
            self.trace.push(event.clone());
        }
        self.check_event_limit();
        event.kind
    }

    /// Stops the run when it reaches its event budget.
    fn check_event_limit(&mut self) {
        let max_events = self.env.limits().max_events;
        if self.limit_exceeded.is_none() && self.n_events >= max_events {
            self.limit_exceeded = Some(LimitExceeded::Events {
                max_events,
                at_ms: self.now.0,
            });
            self.stopped = true;
        }
    }

    /// Whether the kept trace may take one more event without its memory (the events' in-memory
    /// size, as the vector would grow) going over the budget; stops the run when not.
    fn trace_may_grow(&mut self) -> bool {
        if self.limit_exceeded.is_some() {
            return false;
        }
        if self.trace.len() < self.trace.capacity() {
            return true;
        }
        let max_memory_mb = self.env.limits().max_memory_mb;
        let grown = (self.trace.capacity().max(4) as u64)
            .saturating_mul(2)
            .saturating_mul(size_of::<Event<P::Node>>() as u64);
        if grown <= max_memory_mb.saturating_mul(1 << 20) {
            return true;
        }
        self.limit_exceeded = Some(LimitExceeded::Memory {
            max_memory_mb,
            at_ms: self.now.0,
        });
        self.stopped = true;
        false
    }

    /// The durable log of `node`.
    pub fn log(&self, node: NodeId) -> &[RecordOf<P>] {
        self.nodes[node.0 as usize].disk.records()
    }

    /// What the run has cost so far: messages sent and forced log writes.
    pub fn counts(&self) -> Counts {
        self.counts
    }

    /// Whether `node` is up.
    pub fn is_up(&self, node: NodeId) -> bool {
        self.nodes[node.0 as usize].node.is_some()
    }
}

type MsgOf<P> = <<P as Protocol>::Node as Process>::Msg;
type TimerOf<P> = <<P as Protocol>::Node as Process>::Timer;
type RequestOf<P> = <<P as Protocol>::Node as Process>::Request;
type RecordOf<P> = <<P as Protocol>::Node as Process>::Record;
