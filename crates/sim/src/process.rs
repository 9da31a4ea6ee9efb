//! The two traits a protocol implements to run in the simulator: [`Process`] for one node and
//! [`Protocol`] for the cluster (how nodes boot and recover, the workload, and the invariants).

use std::fmt::Debug;
use std::hash::Hash;

use serde::Serialize;
use underhood_consensus::{Effect, Input, NodeId, Time};

use crate::rng::SimRng;
// Protocols import the violation they report from here, beside the traits that report it.
pub(crate) use crate::violation::Violation;

/// The effects of a [`Process`].
pub type Effects<P> = Effect<
    <P as Process>::Msg,
    <P as Process>::Timer,
    <P as Process>::Record,
    <P as Process>::Output,
>;

/// The inputs of a [`Process`].
pub type Inputs<P> = Input<<P as Process>::Msg, <P as Process>::Timer, <P as Process>::Request>;

/// What the simulator needs of a protocol's messages, timers, log records, requests and
/// outputs: `Clone`, `Debug` (for labels), `Hash` (for trace hashes and the model checker),
/// `Send + Sync`, and a JSON form for traces, replays and recorded runs.
///
/// Every type that implements serde's `Serialize` has it, and shows as its JSON (derive it with
/// `#[derive(Serialize)] #[serde(crate = "underhood_sim::serde")]`: no serde dependency of your
/// own). Any other type gets it in one line and shows as its `Debug` text, so serde is needed
/// only for JSON traces:
///
/// ```
/// use underhood_sim::TraceValue;
///
/// #[derive(Clone, Debug, Hash)]
/// enum Msg { Write(u64), Ack(u64) }
/// impl TraceValue for Msg {}
///
/// assert_eq!(Msg::Write(1).to_trace_json(), "Write(1)");
/// assert_eq!(7u64.to_trace_json(), 7); // serde's JSON
/// ```
pub trait TraceValue: Clone + Debug + Hash + Send + Sync {
    /// The value in JSON traces: its `Debug` text by default.
    fn to_trace_json(&self) -> serde_json::Value {
        serde_json::Value::String(format!("{self:?}"))
    }
}

impl<T: Serialize + Clone + Debug + Hash + Send + Sync> TraceValue for T {
    /// serde's JSON of the value (its `Debug` text if serialising fails, as a map with
    /// non-string keys does).
    fn to_trace_json(&self) -> serde_json::Value {
        serde_json::to_value(self)
            .unwrap_or_else(|_| serde_json::Value::String(format!("{self:?}")))
    }
}

/// One node of a protocol: a deterministic state machine from inputs to effects.
///
/// The simulator owns time, the network, the durable log and crashes; the process only reacts.
/// Nodes are `Clone` so checkers can snapshot and branch them.
pub trait Process: Clone + Debug {
    /// Messages between nodes.
    type Msg: TraceValue;
    /// Timers a node sets for itself.
    type Timer: TraceValue;
    /// Durable log records.
    type Record: TraceValue;
    /// Client requests.
    type Request: TraceValue;
    /// Observable outputs (decisions, replies) that invariants watch.
    type Output: TraceValue;

    /// Handles one input at `now`, pushing effects in the order they must be carried out.
    fn step(&mut self, now: Time, input: Inputs<Self>, out: &mut Vec<Effects<Self>>);

    /// Every kind [`Process::msg_kind`] returns. When listed, fault rules that name another kind
    /// are refused, and the random drop, delay and crash-after-send rules of [`crate::check`]
    /// pick among these kinds; when empty (the default), rules match any message.
    const MSG_KINDS: &'static [&'static str] = &[];

    /// A message's kind as a short lowercase word, matched by scripted rules (`"commit"`).
    fn msg_kind(msg: &Self::Msg) -> &'static str {
        let _ = msg;
        "msg"
    }

    /// Short human labels for traces and the browser (`Debug` by default).
    fn label_msg(msg: &Self::Msg) -> String {
        format!("{msg:?}")
    }
    /// See [`Process::label_msg`].
    fn label_timer(timer: &Self::Timer) -> String {
        format!("{timer:?}")
    }
    /// See [`Process::label_msg`].
    fn label_record(record: &Self::Record) -> String {
        format!("{record:?}")
    }
    /// See [`Process::label_msg`].
    fn label_request(request: &Self::Request) -> String {
        format!("{request:?}")
    }
    /// See [`Process::label_msg`].
    fn label_output(output: &Self::Output) -> String {
        format!("{output:?}")
    }
}

/// A cluster running one protocol: how its nodes start and recover, what clients ask of it, and
/// which invariants must hold.
pub trait Protocol {
    /// The node type.
    type Node: Process;

    /// How many nodes the cluster has; ids are `0..n_nodes()`.
    fn n_nodes(&self) -> u32;

    /// A node's display name (`"C"`, `"P1"`; `"n3"` by default).
    fn node_name(&self, id: NodeId) -> String {
        id.to_string()
    }

    /// A fresh node with an empty log; effects it needs at start (timers) go to `out`.
    /// By default, [`Protocol::recover`] from an empty log at time 0.
    fn boot(&self, id: NodeId, out: &mut Vec<Effects<Self::Node>>) -> Self::Node {
        self.recover(id, &[], Time(0), out)
    }

    /// A node rebuilt after a crash from its durable log only.
    fn recover(
        &self,
        id: NodeId,
        log: &[<Self::Node as Process>::Record],
        now: Time,
        out: &mut Vec<Effects<Self::Node>>,
    ) -> Self::Node;

    /// Starts the clients: schedules their first wake-ups (a time and a protocol-chosen token).
    /// By default there are no clients.
    fn start_clients(&mut self, rng: &mut SimRng, wake: &mut Vec<(Time, u64)>) {
        let _ = (rng, wake);
    }

    /// A client wakes up (think time over, a timeout, a retry): returns the request it sends
    /// now and to which node, if any, and may schedule more wake-ups.
    fn wake_client(
        &mut self,
        now: Time,
        token: u64,
        rng: &mut SimRng,
        wake: &mut Vec<(Time, u64)>,
    ) -> Option<(NodeId, <Self::Node as Process>::Request)> {
        let _ = (now, token, rng, wake);
        None
    }

    /// Watches every output: reports the invariants it breaks and may wake clients (a reply
    /// ends a client's wait).
    fn observe(
        &mut self,
        now: Time,
        node: NodeId,
        output: &<Self::Node as Process>::Output,
        violations: &mut Vec<Violation>,
        wake: &mut Vec<(Time, u64)>,
    ) {
        let _ = (now, node, output, violations, wake);
    }

    /// Feeds the model checker what it must tell apart in this value besides the nodes: client
    /// progress and whatever the checkers remember (a history, acceptances). Two global states
    /// that differ only in what this leaves out count as one. Nothing by default.
    fn hash_model_state(&self, state: &mut dyn std::hash::Hasher) {
        let _ = state;
    }

    /// A node crashed (its volatile state is gone); protocols that track who holds what by
    /// outputs forget the node's claims here. Nothing by default.
    fn crashed(&mut self, now: Time, node: NodeId) {
        let _ = (now, node);
    }

    /// Checks what can only be judged on the whole run (linearizability of client histories);
    /// called once, when the run ends.
    fn finish(&mut self, now: Time, violations: &mut Vec<Violation>) {
        let _ = (now, violations);
    }

    /// Cluster-wide fields for display (a client history, a chosen log); empty by default.
    fn details(&self, now: Time) -> serde_json::Map<String, serde_json::Value> {
        let _ = now;
        serde_json::Map::new()
    }

    /// Protocol-specific fields of a node's view for display (role, transactions, …).
    fn node_details(
        &self,
        id: NodeId,
        node: Option<&Self::Node>,
        now: Time,
    ) -> serde_json::Map<String, serde_json::Value> {
        let _ = (id, node, now);
        serde_json::Map::new()
    }

    /// Appends the protocol's part of the run summary (decisions, liveness) to `out`.
    fn summarize(&self, now: Time, out: &mut String) {
        let _ = (now, out);
    }
}
