//! Model checking of the real protocol code: the same `Process` state machines the simulator and
//! the browser run, explored over every order of message deliveries, timer firings, client
//! requests, crashes and restarts (within a crash budget), with the protocol's own invariants.
//!
//! A state holds every node (or `None` when down), every durable log, the messages in flight
//! (a multiset: delivery order is the choice), pending timers and requests, and the protocol's
//! checker. The fingerprint hashes everything but the checker, order-independently for the
//! multisets, with the portable trace hasher.

use std::hash::{Hash, Hasher};

use serde_json::{Value, json};
use underhood_consensus::{Durability, Effect, Input, NodeId, Time};

use super::{Action, Model, Symmetry};
use crate::hash::TraceHasher;
use crate::process::{Effects, Process, Protocol, Violation};
use crate::rng::{SimRng, Stream};

type Msg<P> = <<P as Protocol>::Node as Process>::Msg;
type Timer<P> = <<P as Protocol>::Node as Process>::Timer;
type Record<P> = <<P as Protocol>::Node as Process>::Record;
type Request<P> = <<P as Protocol>::Node as Process>::Request;

/// A protocol's real code as a [`Model`].
pub struct ProtocolModel<P: Protocol> {
    make: Box<dyn Fn() -> P + Sync>,
    crashes: u8,
    loss: bool,
    duplication: bool,
    sometimes: Vec<Reachable<P::Node>>,
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
    nodes: Vec<Option<P::Node>>,
    logs: Vec<Vec<Record<P>>>,
    /// Per node: how many log records are synced (survive a power loss).
    synced: Vec<usize>,
    in_flight: Vec<(NodeId, NodeId, Msg<P>)>,
    timers: Vec<(NodeId, Timer<P>)>,
    requests: Vec<(NodeId, Request<P>)>,
    crashes_left: u8,
    checker: P,
    broken: Option<&'static str>,
}

impl<P: Protocol + Clone> Clone for ProtocolState<P> {
    fn clone(&self) -> Self {
        ProtocolState {
            nodes: self.nodes.clone(),
            logs: self.logs.clone(),
            synced: self.synced.clone(),
            in_flight: self.in_flight.clone(),
            timers: self.timers.clone(),
            requests: self.requests.clone(),
            crashes_left: self.crashes_left,
            checker: self.checker.clone(),
            broken: self.broken,
        }
    }
}

impl<P: Protocol> std::fmt::Debug for ProtocolState<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let up: Vec<bool> = self.nodes.iter().map(Option::is_some).collect();
        write!(
            f,
            "up={up:?} in_flight={} timers={} requests={}",
            self.in_flight.len(),
            self.timers.len(),
            self.requests.len()
        )
    }
}

impl<P> ProtocolModel<P>
where
    P: Protocol + Clone + Send + Sync,
    P::Node: Hash + Send + Sync,
{
    /// Explores the protocol `make()` builds, allowing up to `crashes` crashes in a path.
    /// The protocol's clients are asked for their requests once, up front; each becomes a
    /// request that can arrive at any moment.
    pub fn new(make: impl Fn() -> P + Sync + 'static, crashes: u8) -> ProtocolModel<P> {
        ProtocolModel {
            make: Box::new(make),
            crashes,
            loss: false,
            duplication: false,
            sometimes: Vec::new(),
        }
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
            let label = describe::<P>(&state, action, &name);
            events.push(json!({
                "i": events.len(), "t": t, "kind": action.name, "node": action.arg,
                "label": label,
            }));
            if let Some(v) = next.broken {
                events.push(json!({
                    "i": events.len(), "t": t, "kind": "violation", "invariant": v,
                    "label": format!("{v} violated"),
                }));
            }
            state = next.clone();
        }
        events
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
        if let Some(node) = base.nodes[id.0 as usize].as_mut() {
            node.step(Time(0), input, &mut effects);
        }
        let action = |crash_after| Action {
            name,
            arg: Some(arg as u32),
            crash_after,
        };
        // The whole step first, so a shortest counterexample prefers paths without crashes.
        let mut whole = base.clone();
        self.apply(&mut whole, id, effects.clone());
        out.push((whole, action(None)));
        if state.crashes_left > 0 && base.nodes[id.0 as usize].is_some() {
            for (k, e) in effects.iter().enumerate() {
                if !matches!(e, Effect::Send { .. }) || k + 1 == effects.len() {
                    continue;
                }
                for power_loss in [false, true] {
                    let mut s = base.clone();
                    self.apply(&mut s, id, effects[..=k].to_vec());
                    crash(&mut s, id, power_loss);
                    let point = (k as u32 + 1) * 2 + u32::from(power_loss);
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
                    let log = &mut state.logs[id.0 as usize];
                    log.push(record);
                    if durability == Durability::Forced {
                        state.synced[id.0 as usize] = log.len();
                    }
                }
                Effect::Output(o) => state
                    .checker
                    .observe(Time(0), id, &o, &mut found, &mut wake),
            }
        }
        if state.broken.is_none() {
            state.broken = found.first().map(|v| v.invariant);
        }
    }
}

/// A crash: the node stops and its timers with it; a power loss also drops un-synced writes.
fn crash<P: Protocol>(state: &mut ProtocolState<P>, id: NodeId, power_loss: bool) {
    let i = id.0 as usize;
    state.nodes[i] = None;
    state.crashes_left = state.crashes_left.saturating_sub(1);
    state.timers.retain(|(n, _)| *n != id);
    if power_loss {
        let synced = state.synced[i];
        state.logs[i].truncate(synced);
    }
}

fn describe<P: Protocol>(
    state: &ProtocolState<P>,
    action: &Action,
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
        "request" => state
            .requests
            .get(idx)
            .map(|(n, r)| {
                format!(
                    "{} at {}",
                    <P::Node as Process>::label_request(r),
                    name(n.0)
                )
            })
            .unwrap_or_default(),
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

    fn init(&self, out: &mut Vec<ProtocolState<P>>) {
        let mut checker = (self.make)();
        let n = checker.n_nodes();
        let mut rng = SimRng::new(1, Stream::Workload);
        let mut wake = Vec::new();
        checker.start_clients(&mut rng, &mut wake);
        let mut requests = Vec::new();
        // Ask the clients for everything they will send, in wake-up order.
        while let Some(i) = (0..wake.len()).min_by_key(|i| (wake[*i].0, *i)) {
            let (t, token) = wake.remove(i);
            if let Some(r) = checker.wake_client(t, token, &mut rng, &mut wake) {
                requests.push(r);
            }
            if requests.len() > 64 {
                break;
            }
        }
        let mut state = ProtocolState {
            nodes: Vec::new(),
            logs: vec![Vec::new(); n as usize],
            synced: vec![0; n as usize],
            in_flight: Vec::new(),
            timers: Vec::new(),
            requests,
            crashes_left: self.crashes,
            checker: checker.clone(),
            broken: None,
        };
        for i in 0..n {
            let mut effects = Vec::new();
            state
                .nodes
                .push(Some(checker.boot(NodeId(i), &mut effects)));
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
        for i in 0..state.timers.len() {
            let (node, timer) = state.timers[i].clone();
            let take = move |s: &mut ProtocolState<P>| {
                s.timers.remove(i);
            };
            self.step_node(state, node, Input::Timer(timer), take, "timer", i, out);
        }
        if let Some((node, request)) = state.requests.first().cloned() {
            // Requests arrive in the order clients issue them, at any moment; one sent to a
            // node that is down is lost.
            let take = |s: &mut ProtocolState<P>| {
                s.requests.remove(0);
            };
            self.step_node(
                state,
                node,
                Input::Request(request),
                take,
                "request",
                0,
                out,
            );
        }
        for i in 0..state.nodes.len() {
            let id = NodeId(i as u32);
            if state.nodes[i].is_some() && state.crashes_left > 0 {
                for (name, power_loss) in [("crash", false), ("power-loss", true)] {
                    let mut s = state.clone();
                    crash(&mut s, id, power_loss);
                    out.push((s, act(name, i)));
                }
            } else if state.nodes[i].is_none() {
                let mut s = state.clone();
                let mut effects = Vec::new();
                let node = s.checker.recover(id, &s.logs[i], Time(0), &mut effects);
                s.nodes[i] = Some(node);
                s.synced[i] = s.logs[i].len();
                self.apply(&mut s, id, effects);
                out.push((s, act("restart", i)));
            }
        }
    }

    fn fingerprint(&self, state: &ProtocolState<P>, _symmetry: Symmetry) -> u64 {
        let mut h = TraceHasher::default();
        state.nodes.hash(&mut h);
        state.logs.hash(&mut h);
        state.crashes_left.hash(&mut h);
        state.requests.len().hash(&mut h);
        state.synced.hash(&mut h);
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
        h.finish()
    }

    fn violation(&self, state: &ProtocolState<P>) -> Option<&'static str> {
        state.broken
    }

    fn reachable(&self, state: &ProtocolState<P>, found: &mut Vec<&'static str>) {
        if self.sometimes.is_empty() {
            return;
        }
        let nodes: Vec<Option<&P::Node>> = state.nodes.iter().map(Option::as_ref).collect();
        for property in &self.sometimes {
            if (property.holds)(&nodes) {
                found.push(property.name);
            }
        }
    }
}
