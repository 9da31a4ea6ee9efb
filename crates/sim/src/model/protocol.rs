//! Model checking of the real protocol code: the same `Process` state machines the simulator and
//! the browser run, explored over every order of message deliveries, timer firings, client
//! requests, crashes and restarts (within a crash budget), with the protocol's own invariants.
//!
//! A state holds every node (or `None` when down), every durable log, the messages in flight
//! (a multiset: delivery order is the choice), pending timers and client wake-ups, and the
//! protocol's checker. The model has no clock: any timer and any client wake-up may come next.
//! Client events alone advance a logical time (invocations at even, outputs at odd instants), so
//! the checkers still see which operation finished before which began. The fingerprint hashes
//! the nodes, logs, multisets (order-independently) and what the protocol says its checker must
//! tell apart ([`Protocol::hash_model_state`]), with the portable trace hasher; wake-up times
//! are left out, as the model ignores them.

use std::hash::{Hash, Hasher};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use serde_json::{Value, json};
use underhood_consensus::{Effect, Input, NodeId, Time};

use super::{Action, Model, Symmetry};
use crate::engine::{Choice, Cut, Disk, Invariant, PANIC, first_broken, panic_message};
use crate::hash::TraceHasher;
use crate::process::{Effects, Process, Protocol, Violation};
use crate::rng::{SimRng, Stream};
use crate::scenario::DiskFault;

type Msg<P> = <<P as Protocol>::Node as Process>::Msg;
type Timer<P> = <<P as Protocol>::Node as Process>::Timer;
type Record<P> = <<P as Protocol>::Node as Process>::Record;
type Request<P> = <<P as Protocol>::Node as Process>::Request;
type Wake<P> = Option<(NodeId, Request<P>)>;

/// A protocol's real code as a [`Model`].
pub struct ProtocolModel<P: Protocol> {
    make: Box<dyn Fn() -> P + Sync>,
    crashes: u8,
    loss: bool,
    duplication: bool,
    prune_timers: bool,
    timeouts: Option<u8>,
    restarts_forced: bool,
    whole_steps: bool,
    workload_seed: u64,
    sometimes: Vec<Reachable<P::Node>>,
    goals: Vec<Reachable<P::Node>>,
    goal_names: Vec<&'static str>,
    invariants: Vec<Invariant<P::Node>>,
    disk_faults: Vec<DiskFault>,
    disk_budget: u8,
}

/// A "sometimes" property over every node's state (`None` for a node that is down): the
/// checker reports whether, and by which shortest path, a state where it holds is reachable.
pub struct Reachable<N> {
    /// The property's name.
    pub name: &'static str,
    /// Whether a state shows it.
    pub holds: fn(&[Option<&N>]) -> bool,
}

/// One global state of the protocol.
pub struct ProtocolState<P: Protocol> {
    // Shared between a state and its successors until one of them changes it: a step changes
    // one node, so a successor copies one node, not all of them.
    nodes: Vec<Option<Arc<P::Node>>>,
    /// Per node: the durable log, through the same simulated disk as the engine's.
    disks: Vec<Arc<Disk<Record<P>>>>,
    /// Disk faults left in a path.
    disk_faults_left: u8,
    in_flight: Vec<(NodeId, NodeId, Msg<P>)>,
    timers: Vec<(NodeId, Timer<P>)>,
    /// Client wake-ups (time, token) not yet happened; the times are only kept for the checker.
    wakes: Vec<(Time, u64)>,
    /// The clients' random stream.
    rng: Arc<SimRng>,
    /// Client invocations so far: the logical clock.
    clock: u64,
    crashes_left: u8,
    /// Timer firings left, when the model bounds them.
    timeouts_left: Option<u8>,
    checker: Arc<P>,
    broken: Option<&'static str>,
    broken_detail: String,
}

impl<P: Protocol + Clone> Clone for ProtocolState<P> {
    fn clone(&self) -> Self {
        ProtocolState {
            nodes: self.nodes.clone(),
            disks: self.disks.clone(),
            disk_faults_left: self.disk_faults_left,
            in_flight: self.in_flight.clone(),
            timers: self.timers.clone(),
            wakes: self.wakes.clone(),
            rng: self.rng.clone(),
            clock: self.clock,
            crashes_left: self.crashes_left,
            timeouts_left: self.timeouts_left,
            checker: self.checker.clone(),
            broken: self.broken,
            broken_detail: self.broken_detail.clone(),
        }
    }
}

impl<P: Protocol> std::fmt::Debug for ProtocolState<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let up: Vec<bool> = self.nodes.iter().map(Option::is_some).collect();
        write!(
            f,
            "up={up:?} in_flight={} timers={} client_wakes={}",
            self.in_flight.len(),
            self.timers.len(),
            self.wakes.len()
        )
    }
}

impl<P> ProtocolModel<P>
where
    P: Protocol + Clone + Send + Sync,
    P::Node: Hash + Send + Sync,
{
    /// A fresh protocol, as the model builds it.
    pub(crate) fn make(&self) -> P {
        (self.make)()
    }

    /// Explores the protocol `make()` builds, allowing up to `crashes` crashes in a path.
    /// The protocol's clients run as in the simulator (think times, timeouts and retries), except
    /// that any pending client wake-up may happen next, whatever its time.
    pub fn new(make: impl Fn() -> P + Sync + 'static, crashes: u8) -> ProtocolModel<P> {
        ProtocolModel {
            make: Box::new(make),
            crashes,
            loss: false,
            duplication: false,
            prune_timers: false,
            timeouts: None,
            restarts_forced: true,
            whole_steps: false,
            workload_seed: 1,
            sometimes: Vec::new(),
            goals: Vec::new(),
            goal_names: Vec::new(),
            invariants: Vec::new(),
            disk_faults: Vec::new(),
            disk_budget: 0,
        }
    }

    /// Lets up to `budget` disk faults of the kinds in `faults` strike in a path, each as a
    /// choice of its own, as the scenario faults do: `corrupt` damages a node's newest
    /// undamaged record, `torn_write` tears the write in flight (or the newest un-synced one)
    /// at the node's next crash, and `lost_fsync` makes its next fsync lie. With a torn write
    /// armed, a step may also be cut by a crash right before each of its log writes.
    /// `fsync_error` is not explored (it only stops a node, which a crash already covers).
    pub fn with_disk_faults(mut self, faults: &[DiskFault], budget: u8) -> Self {
        self.disk_faults = faults
            .iter()
            .copied()
            .filter(|f| *f != DiskFault::FsyncError)
            .collect();
        self.disk_budget = budget;
        self
    }

    /// Checks `invariants` at every state, as the simulator checks them after every event
    /// (a panicking invariant counts as broken).
    pub fn with_invariants(mut self, invariants: &[Invariant<P::Node>]) -> Self {
        self.invariants.extend(invariants.iter().cloned());
        self
    }

    /// The first property `state` breaks, with its detail: the protocol's own checks (and a
    /// panic in a step), then the invariants.
    pub fn broken(&self, state: &ProtocolState<P>) -> Option<(&'static str, String)> {
        if let Some(name) = state.broken {
            return Some((name, state.broken_detail.clone()));
        }
        let nodes: Vec<Option<&P::Node>> = state.nodes.iter().map(|n| n.as_deref()).collect();
        first_broken(&self.invariants, &nodes)
    }

    /// Seeds the clients' random stream as a simulation with `seed` does (1 by default), so
    /// a counterexample's [`ProtocolModel::script`] replays in a [`crate::Run`] with that seed.
    pub fn with_workload_seed(mut self, seed: u64) -> Self {
        self.workload_seed = seed;
        self
    }

    /// Lets the network lose any message in flight (one more choice per message).
    pub fn with_loss(mut self) -> Self {
        self.loss = true;
        self
    }

    /// Lets the network deliver any message in flight and keep a copy for later.
    pub fn with_duplication(mut self) -> Self {
        self.duplication = true;
        self
    }

    /// Drops, after every step of a node, each of its timers that would do nothing if it fired
    /// now (no effect, no change of state). Sound only for protocols whose stale timers stay
    /// stale, like Multi-Paxos's, which carry a generation that only grows; it removes the
    /// choice of when to fire a dead timer, which otherwise multiplies the states.
    pub fn with_stale_timers_dropped(mut self) -> Self {
        self.prune_timers = true;
        self
    }

    /// Allows at most `budget` timer firings in a path, as the crash budget bounds crashes.
    /// Without it any pending timer may fire at any moment, and in a protocol whose every node
    /// always has an election timer pending, repeated elections dominate the state space; a
    /// counterexample found under a budget is a shortest one among paths with that many
    /// timeouts.
    pub fn with_timeout_budget(mut self, budget: u8) -> Self {
        self.timeouts = Some(budget);
        self
    }

    /// Adds an "eventually" property: every execution that is weakly fair to deliveries, timers,
    /// client wake-ups and restarts reaches a state where `goal.holds`. Crashes, losses and
    /// duplicates are never forced.
    pub fn eventually(mut self, goal: Reachable<P::Node>) -> Self {
        self.goal_names.push(goal.name);
        self.goals.push(goal);
        self
    }

    /// Crashes only between steps, never in the middle of one, and never with power loss: far
    /// fewer choices, for bugs that need a node to forget, not a torn step.
    pub fn with_crashes_between_steps(mut self) -> Self {
        self.whole_steps = true;
        self
    }

    /// Lets a crashed node stay down forever: fairness no longer forces its restart.
    pub fn restarts_not_forced(mut self) -> Self {
        self.restarts_forced = false;
        self
    }

    /// Adds a "sometimes" property to demonstrate.
    pub fn sometimes(mut self, property: Reachable<P::Node>) -> Self {
        self.sometimes.push(property);
        self
    }

    /// The events of a path of actions, as simulator trace JSON (one virtual millisecond per
    /// action), so a counterexample shows like any simulated run.
    pub fn trace(&self, actions: &[Action]) -> Vec<Value> {
        let mut events = Vec::new();
        let mut init = Vec::new();
        self.init(&mut init);
        let Some(mut state) = init.pop() else {
            return events;
        };
        let names: Vec<String> = (0..state.nodes.len() as u32)
            .map(|i| state.checker.node_name(NodeId(i)))
            .collect();
        let mut out = Vec::new();
        for (step, action) in actions.iter().enumerate() {
            let t = step as u64 + 1;
            out.clear();
            self.next(&state, &mut out);
            let Some((next, _)) = out.iter().find(|(_, a)| a == action) else {
                break;
            };
            let name = |n: u32| names.get(n as usize).cloned().unwrap_or_default();
            let woken = match action.name {
                "request" => fire_wake(&state, action.arg.unwrap_or(0) as usize).1,
                _ => None,
            };
            let label = describe::<P>(&state, action, woken.as_ref(), &name);
            events.push(json!({
                "i": events.len(), "t": t, "kind": action.name, "node": action.arg,
                "label": label,
            }));
            if let Some((v, detail)) = self.broken(next) {
                events.push(json!({
                    "i": events.len(), "t": t, "kind": "violation", "invariant": v,
                    "label": format!("{v} violated"), "detail": detail,
                }));
            }
            state = next.clone();
        }
        events
    }

    /// A path of actions as the choices of a scripted simulation ([`crate::Run::scripted`]):
    /// the same deliveries, timers, client wake-ups and crashes, replayed through the engine,
    /// so a counterexample shows in the simulator's trace format and in the browser's
    /// space-time diagram. Stops at the first action the model does not offer.
    pub fn script(&self, actions: &[Action]) -> Vec<Choice> {
        let mut choices = Vec::new();
        let mut init = Vec::new();
        self.init(&mut init);
        let Some(mut state) = init.pop() else {
            return choices;
        };
        let mut out = Vec::new();
        for action in actions {
            out.clear();
            self.next(&state, &mut out);
            let Some((next, _)) = out.iter().find(|(_, a)| a == action) else {
                break;
            };
            let Some(choice) = choice_of(&state, action) else {
                break;
            };
            choices.push(choice);
            state = next.clone();
        }
        choices
    }

    /// Every outcome of one step of node `id`: the whole step, and (with crashes left) the
    /// step cut short by a crash right after each message it sends, keeping or losing its
    /// un-synced log writes.
    #[allow(clippy::too_many_arguments)] // One call site; the arguments name one action.
    fn step_node(
        &self,
        state: &ProtocolState<P>,
        id: NodeId,
        input: Input<Msg<P>, Timer<P>, Request<P>>,
        take: impl Fn(&mut ProtocolState<P>),
        name: &'static str,
        arg: usize,
        out: &mut Vec<(ProtocolState<P>, Action)>,
    ) {
        let mut base = state.clone();
        take(&mut base);
        let mut effects = Vec::new();
        if let Some(node) = base.nodes[id.0 as usize].as_mut().map(Arc::make_mut) {
            // A panic in the protocol's step is a violation like any other, with a path to it.
            let stepped = catch_unwind(AssertUnwindSafe(|| {
                node.step(Time(0), input, &mut effects);
            }));
            if let Err(payload) = stepped {
                base.broken = Some(PANIC);
                base.broken_detail = format!("{} panicked: {}", id, panic_message(&*payload));
                out.push((
                    base,
                    Action {
                        name,
                        arg: Some(arg as u32),
                        crash_after: None,
                    },
                ));
                return;
            }
        }
        let action = |crash_after| Action {
            name,
            arg: Some(arg as u32),
            crash_after,
        };
        // The whole step first, so a shortest counterexample prefers paths without crashes.
        // With a torn write armed, a crash may also strike right before each log write.
        let tearing = state.disks[id.0 as usize].armed().torn_write > 0;
        let cut_at = |k: usize, e: &Effects<P::Node>| {
            (matches!(e, Effect::Send { .. }) && k + 1 < effects.len())
                || (tearing && k > 0 && matches!(effects[k - 1], Effect::Persist { .. }))
        };
        let crashable = !self.whole_steps
            && state.crashes_left > 0
            && base.nodes[id.0 as usize].is_some()
            && (effects.iter().enumerate().any(|(k, e)| cut_at(k, e))
                || (tearing && matches!(effects.first(), Some(Effect::Persist { .. }))));
        if !crashable {
            self.apply(&mut base, id, effects);
            out.push((base, action(None)));
            return;
        }
        let mut whole = base.clone();
        self.apply(&mut whole, id, effects.clone());
        out.push((whole, action(None)));
        {
            // Cut after `done` effects: after a send, or (tearing) right before a log write,
            // which is then in flight. A torn write before the first effect counts too.
            let mut points: Vec<usize> = effects
                .iter()
                .enumerate()
                .filter(|(k, e)| cut_at(*k, e))
                .map(|(k, e)| {
                    if matches!(e, Effect::Send { .. }) {
                        k + 1
                    } else {
                        k
                    }
                })
                .collect();
            if tearing && matches!(effects.first(), Some(Effect::Persist { .. })) {
                points.insert(0, 0);
            }
            points.dedup();
            for done in points {
                for power_loss in [false, true] {
                    let mut s = base.clone();
                    self.apply(&mut s, id, effects[..done].to_vec());
                    let in_flight = match effects.get(done) {
                        Some(Effect::Persist { record, .. }) => Some(record.clone()),
                        _ => None,
                    };
                    crash(&mut s, id, power_loss, in_flight);
                    let point = done as u32 * 2 + u32::from(power_loss);
                    out.push((s, action(Some(point))));
                }
            }
        }
    }

    fn apply(&self, state: &mut ProtocolState<P>, id: NodeId, out: Vec<Effects<P::Node>>) {
        let mut found: Vec<Violation> = Vec::new();
        let mut wake = Vec::new();
        for effect in out {
            match effect {
                Effect::Send { to, msg } => state.in_flight.push((id, to, msg)),
                Effect::SetTimer { timer, .. } => state.timers.push((id, timer)),
                Effect::Persist { record, durability } => {
                    // `with_disk_faults` never arms a failing fsync, so every write completes.
                    let _ =
                        Arc::make_mut(&mut state.disks[id.0 as usize]).append(record, durability);
                }
                Effect::Output(o) => {
                    let now = Time(2 * state.clock + 1);
                    Arc::make_mut(&mut state.checker).observe(now, id, &o, &mut found, &mut wake);
                }
            }
        }
        // A client woken by an output saw an answer: its history grew, so the end-of-run checks
        // (linearizability), which judge prefixes too, run on a copy.
        let answered = !wake.is_empty();
        state.wakes.extend(wake);
        if answered && found.is_empty() {
            let mut checker = P::clone(&state.checker);
            checker.finish(Time(2 * state.clock + 1), &mut found);
        }
        if state.broken.is_none()
            && let Some(v) = found.first()
        {
            state.broken = Some(v.invariant);
            state.broken_detail = v.detail.clone();
        }
        if self.prune_timers {
            prune_stale_timers(state, id);
        }
    }
}

/// Removes the timers of node `id` that would change nothing if they fired now.
fn prune_stale_timers<P: Protocol>(state: &mut ProtocolState<P>, id: NodeId)
where
    P::Node: Hash,
{
    let Some(node) = state.nodes[id.0 as usize].as_ref() else {
        return;
    };
    let fingerprint = |n: &P::Node| {
        let mut h = TraceHasher::default();
        n.hash(&mut h);
        h.finish()
    };
    let before = fingerprint(node);
    let mut effects = Vec::new();
    state.timers.retain(|(owner, timer)| {
        if *owner != id {
            return true;
        }
        let mut probe = P::Node::clone(node);
        effects.clear();
        probe.step(Time(0), Input::Timer(timer.clone()), &mut effects);
        !effects.is_empty() || fingerprint(&probe) != before
    });
}

/// The scripted-run choice that makes `action` happen in `state`.
fn choice_of<P: Protocol>(state: &ProtocolState<P>, action: &Action) -> Option<Choice> {
    let idx = action.arg? as usize;
    // `crash_after` counts sends and power loss as `effects * 2 + power_loss`.
    let cut = action.crash_after.map(|point| Cut {
        effects: point / 2,
        power_loss: point % 2 == 1,
    });
    let message = |idx: usize| {
        let (from, to, msg) = state.in_flight.get(idx)?;
        Some((from.0, to.0, json(msg)))
    };
    Some(match action.name {
        "deliver" => {
            let (from, to, msg) = message(idx)?;
            Choice::Deliver { from, to, msg, cut }
        }
        "duplicate" => {
            let (from, to, msg) = message(idx)?;
            Choice::Duplicate { from, to, msg, cut }
        }
        "drop" => {
            let (from, to, msg) = message(idx)?;
            Choice::Drop { from, to, msg }
        }
        "timer" => {
            let (node, timer) = state.timers.get(idx)?;
            Choice::Timer {
                node: node.0,
                timer: json(timer),
                cut,
            }
        }
        "request" => Choice::Wake {
            token: state.wakes.get(idx)?.1,
            cut,
        },
        "crash" | "power-loss" => Choice::Crash {
            node: idx as u32,
            power_loss: action.name == "power-loss",
        },
        "restart" => Choice::Restart { node: idx as u32 },
        "corrupt" | "torn-write" | "lost-fsync" => Choice::Disk {
            node: idx as u32,
            fault: disk_fault_of(action.name)?,
        },
        _ => return None,
    })
}

/// The action name of a disk fault choice.
fn disk_action(fault: DiskFault) -> &'static str {
    match fault {
        DiskFault::Corrupt => "corrupt",
        DiskFault::TornWrite => "torn-write",
        DiskFault::LostFsync => "lost-fsync",
        DiskFault::FsyncError => "fsync-error",
    }
}

/// The disk fault an action names.
fn disk_fault_of(name: &str) -> Option<DiskFault> {
    [
        DiskFault::Corrupt,
        DiskFault::TornWrite,
        DiskFault::LostFsync,
        DiskFault::FsyncError,
    ]
    .into_iter()
    .find(|f| disk_action(*f) == name)
}

/// A message's or timer's JSON, as a scripted choice names it.
fn json<T: crate::process::TraceValue>(value: &T) -> Value {
    value.to_trace_json()
}

/// A crash: the node stops and its timers with it; a power loss also drops un-synced writes.
/// `in_flight` is the log record being written at that moment (an armed torn write tears it).
fn crash<P: Protocol>(
    state: &mut ProtocolState<P>,
    id: NodeId,
    power_loss: bool,
    in_flight: Option<Record<P>>,
) {
    let i = id.0 as usize;
    state.nodes[i] = None;
    state.crashes_left = state.crashes_left.saturating_sub(1);
    state.timers.retain(|(n, _)| *n != id);
    if power_loss || in_flight.is_some() || !state.disks[i].is_plain() {
        Arc::make_mut(&mut state.disks[i]).crash(power_loss, in_flight);
    }
}

/// Client wake-up `i` happens: the state after it (clock advanced when the client sends
/// something) and the request it sends, if any.
fn fire_wake<P: Protocol + Clone>(
    state: &ProtocolState<P>,
    i: usize,
) -> (ProtocolState<P>, Wake<P>) {
    let mut s = state.clone();
    let (_, token) = s.wakes.remove(i);
    let now = Time(2 * (s.clock + 1));
    let mut wake = Vec::new();
    let request =
        Arc::make_mut(&mut s.checker).wake_client(now, token, Arc::make_mut(&mut s.rng), &mut wake);
    s.wakes.extend(wake);
    if request.is_some() {
        s.clock += 1;
    }
    (s, request)
}

fn describe<P: Protocol>(
    state: &ProtocolState<P>,
    action: &Action,
    woken: Option<&(NodeId, Request<P>)>,
    name: &dyn Fn(u32) -> String,
) -> String {
    let idx = action.arg.unwrap_or(0) as usize;
    let base = match action.name {
        "deliver" | "drop" | "duplicate" => state
            .in_flight
            .get(idx)
            .map(|(from, to, msg)| {
                format!(
                    "{} {} → {}: {}",
                    action.name,
                    name(from.0),
                    name(to.0),
                    <P::Node as Process>::label_msg(msg)
                )
            })
            .unwrap_or_default(),
        "timer" => state
            .timers
            .get(idx)
            .map(|(n, t)| format!("{} at {}", <P::Node as Process>::label_timer(t), name(n.0)))
            .unwrap_or_default(),
        "request" => match woken {
            Some((n, r)) if state.nodes[n.0 as usize].is_some() => format!(
                "{} at {}",
                <P::Node as Process>::label_request(r),
                name(n.0)
            ),
            Some((n, r)) => format!(
                "{} to {}, which is down",
                <P::Node as Process>::label_request(r),
                name(n.0)
            ),
            None => "a client wakes up and sends nothing".to_owned(),
        },
        other => format!("{other} {}", name(idx as u32)),
    };
    match action.crash_after {
        Some(point) => format!(
            "{base}, then {} after {} effect(s)",
            if point % 2 == 1 {
                "power loss"
            } else {
                "crash"
            },
            point / 2
        ),
        None => base,
    }
}

impl<P> Model for ProtocolModel<P>
where
    P: Protocol + Clone + Send + Sync,
    P::Node: Hash + Send + Sync,
{
    type State = ProtocolState<P>;

    fn state_bytes(&self) -> usize {
        // Measured for 3-replica Multi-Paxos frontiers: about 5 KB a state (the node that
        // changed, the messages in flight, the checker's history), the rest shared.
        5 << 10
    }

    fn init(&self, out: &mut Vec<ProtocolState<P>>) {
        let mut checker = (self.make)();
        let n = checker.n_nodes();
        let mut rng = SimRng::new(self.workload_seed, Stream::Workload);
        let mut wakes = Vec::new();
        checker.start_clients(&mut rng, &mut wakes);
        let mut state = ProtocolState {
            nodes: Vec::new(),
            disks: (0..n).map(|_| Arc::new(Disk::default())).collect(),
            disk_faults_left: self.disk_budget,
            in_flight: Vec::new(),
            timers: Vec::new(),
            wakes,
            rng: Arc::new(rng),
            clock: 0,
            crashes_left: self.crashes,
            timeouts_left: self.timeouts,
            checker: Arc::new(checker.clone()),
            broken: None,
            broken_detail: String::new(),
        };
        for i in 0..n {
            let mut effects = Vec::new();
            state
                .nodes
                .push(Some(Arc::new(checker.boot(NodeId(i), &mut effects))));
            self.apply(&mut state, NodeId(i), effects);
        }
        out.push(state);
    }

    fn next(&self, state: &ProtocolState<P>, out: &mut Vec<(ProtocolState<P>, Action)>) {
        if state.broken.is_some() {
            return;
        }
        let act = |name, arg: usize| Action {
            name,
            arg: Some(arg as u32),
            crash_after: None,
        };
        for i in 0..state.in_flight.len() {
            let (from, to, msg) = state.in_flight[i].clone();
            let take = move |s: &mut ProtocolState<P>| {
                s.in_flight.remove(i);
            };
            if self.loss {
                let mut s = state.clone();
                take(&mut s);
                out.push((s, act("drop", i)));
            }
            if self.duplication && state.nodes[to.0 as usize].is_some() {
                let input = Input::Msg {
                    from,
                    msg: msg.clone(),
                };
                self.step_node(state, to, input, |_| {}, "duplicate", i, out);
            }
            if state.nodes[to.0 as usize].is_some() {
                let input = Input::Msg { from, msg };
                self.step_node(state, to, input, take, "deliver", i, out);
            } else {
                let mut s = state.clone();
                take(&mut s);
                out.push((s, act("deliver", i)));
            }
        }
        let timers = match state.timeouts_left {
            Some(0) => 0,
            _ => state.timers.len(),
        };
        for i in 0..timers {
            let (node, timer) = state.timers[i].clone();
            let take = move |s: &mut ProtocolState<P>| {
                s.timers.remove(i);
                s.timeouts_left = s.timeouts_left.map(|t| t.saturating_sub(1));
            };
            self.step_node(state, node, Input::Timer(timer), take, "timer", i, out);
        }
        for i in 0..state.wakes.len() {
            // A client wakes up and (maybe) sends a request, which arrives at once; one sent to
            // a node that is down is lost.
            let (base, request) = fire_wake(state, i);
            match request {
                Some((node, request)) if base.nodes[node.0 as usize].is_some() => {
                    let input = Input::Request(request);
                    self.step_node(&base, node, input, |_| {}, "request", i, out);
                }
                _ => out.push((base, act("request", i))),
            }
        }
        for i in 0..state.nodes.len() {
            let id = NodeId(i as u32);
            if state.nodes[i].is_some() && state.crashes_left > 0 {
                let kinds: &[(&str, bool)] = if self.whole_steps {
                    &[("crash", false)]
                } else {
                    &[("crash", false), ("power-loss", true)]
                };
                for &(name, power_loss) in kinds {
                    let mut s = state.clone();
                    crash(&mut s, id, power_loss, None);
                    out.push((s, act(name, i)));
                }
            } else if state.nodes[i].is_none() {
                let mut s = state.clone();
                // Recovery reads the log back first; a damaged acknowledged record keeps the
                // node down (the state still changes: the refusal is recorded once).
                if Arc::make_mut(&mut s.disks[i]).recover().is_ok() {
                    let mut effects = Vec::new();
                    let node = s
                        .checker
                        .recover(id, s.disks[i].records(), Time(0), &mut effects);
                    s.nodes[i] = Some(Arc::new(node));
                    self.apply(&mut s, id, effects);
                }
                out.push((s, act("restart", i)));
            }
        }
        if state.disk_faults_left > 0 {
            for i in 0..state.nodes.len() {
                for &fault in &self.disk_faults {
                    let disk = &state.disks[i];
                    let armed = disk.armed();
                    let useful = match fault {
                        DiskFault::Corrupt => disk.undamaged() > 0,
                        DiskFault::TornWrite => {
                            state.nodes[i].is_some()
                                && armed.torn_write == 0
                                && state.crashes_left > 0
                        }
                        DiskFault::LostFsync => state.nodes[i].is_some() && armed.lost_fsync == 0,
                        DiskFault::FsyncError => false,
                    };
                    if !useful {
                        continue;
                    }
                    let mut s = state.clone();
                    s.disk_faults_left -= 1;
                    Arc::make_mut(&mut s.disks[i]).fault(fault, 1);
                    out.push((s, act(disk_action(fault), i)));
                }
            }
        }
    }

    fn fingerprint(&self, state: &ProtocolState<P>, _symmetry: Symmetry) -> u64 {
        let mut h = TraceHasher::default();
        state.nodes.hash(&mut h);
        // The logs, then the synced lengths, hashed as they were before logs went through a
        // simulated disk (so fingerprints, and state counts, are what they were).
        let logs: Vec<&[Record<P>]> = state.disks.iter().map(|d| d.records()).collect();
        logs.hash(&mut h);
        state.crashes_left.hash(&mut h);
        state.timeouts_left.hash(&mut h);
        let synced: Vec<usize> = state.disks.iter().map(|d| d.synced()).collect();
        synced.hash(&mut h);
        if self.disk_budget > 0 {
            state.disk_faults_left.hash(&mut h);
            for d in &state.disks {
                d.hash_damage(&mut h);
            }
        }
        state.checker.hash_model_state(&mut h);
        // Multisets: the sum of element hashes does not depend on order.
        let mut sum = 0u64;
        for m in &state.in_flight {
            let mut e = TraceHasher::default();
            m.hash(&mut e);
            sum = sum.wrapping_add(e.finish());
        }
        sum.hash(&mut h);
        let mut sum = 0u64;
        for t in &state.timers {
            let mut e = TraceHasher::default();
            t.hash(&mut e);
            sum = sum.wrapping_add(e.finish());
        }
        sum.hash(&mut h);
        let mut sum = 0u64;
        for (_, token) in &state.wakes {
            let mut e = TraceHasher::default();
            token.hash(&mut e);
            sum = sum.wrapping_add(e.finish());
        }
        sum.hash(&mut h);
        h.finish()
    }

    fn violation(&self, state: &ProtocolState<P>) -> Option<&'static str> {
        self.broken(state).map(|(name, _)| name)
    }

    fn eventually(&self) -> &[&'static str] {
        &self.goal_names
    }

    fn achieves(&self, state: &ProtocolState<P>, index: usize) -> bool {
        let nodes: Vec<Option<&P::Node>> = state.nodes.iter().map(|n| n.as_deref()).collect();
        self.goals.get(index).is_some_and(|g| (g.holds)(&nodes))
    }

    fn fairness(&self, state: &ProtocolState<P>, action: &Action) -> Option<u64> {
        if action.crash_after.is_some() {
            return None;
        }
        let idx = action.arg.unwrap_or(0) as usize;
        let mut h = TraceHasher::default();
        action.name.hash(&mut h);
        match action.name {
            // The same message, timer or client, wherever it sits in the pending lists.
            "deliver" => state.in_flight.get(idx)?.hash(&mut h),
            "timer" => state.timers.get(idx)?.hash(&mut h),
            "request" => state.wakes.get(idx)?.1.hash(&mut h),
            "restart" if self.restarts_forced => idx.hash(&mut h),
            _ => return None,
        }
        Some(h.finish())
    }

    fn reachable(&self, state: &ProtocolState<P>, found: &mut Vec<&'static str>) {
        if self.sometimes.is_empty() {
            return;
        }
        let nodes: Vec<Option<&P::Node>> = state.nodes.iter().map(|n| n.as_deref()).collect();
        for property in &self.sometimes {
            if (property.holds)(&nodes) {
                found.push(property.name);
            }
        }
    }
}
