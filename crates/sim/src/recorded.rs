//! A failing run as a file people can look at: the trace as the engine renders it, each node's
//! state as it changed, the violation, the seed and the shrunk faults. The browser page opens
//! it ("Open a recorded run") and draws it without running the protocol's code.

use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use underhood_consensus::{Durability, NodeId};

use crate::engine::{Choice, Invariant, OnViolation, Recording, Sim, ViolationAt};
use crate::error::ScenarioError;
use crate::process::Protocol;
use crate::scenario::{Environment, Fault, Network};
use crate::trace::DropReason;

/// The `format` tag of a recorded run file.
pub const RECORDED_RUN_FORMAT: &str = "underhood-recorded-run";
/// The version of the file format this crate writes and reads.
pub const RECORDED_RUN_VERSION: u32 = 1;
/// The largest file [`RecordedRun::from_json`] reads (16 MiB), as the browser page does.
pub const MAX_RECORDED_RUN_BYTES: usize = 16 * 1024 * 1024;

/// A failing run of [`crate::check`] (or the exhaustive checker's counterexample), recorded for
/// people to look at: node names, every trace event (in the JSON shape of
/// [`crate::Event::to_json`], which the browser draws), each node's state whenever it changed
/// (`Debug`, pretty-printed), the violation, the seed and the fault schedules.
///
/// Made by [`crate::CheckFailure::recorded_run`] and [`crate::ExhaustiveFailure::recorded_run`]
/// ([`RecordedRun::found_by`] tells which); written with [`RecordedRun::to_json`] or
/// [`RecordedRun::save`], read back with [`RecordedRun::from_json`], which checks that every
/// event and state names a node of the run, in order, so a file that parses can be drawn.
///
/// ```
/// use underhood_sim::RecordedRun;
///
/// let text = r#"{"format": "underhood-recorded-run", "version": 1, "seed": 7,
///   "duration_ms": 100, "network": {}, "nodes": ["a", "b"],
///   "violation": {"invariant": "agree", "detail": "a and b differ", "event": 1, "t": 5},
///   "faults": [], "shrunk": [],
///   "events": [{"i": 0, "t": 5, "kind": "crash", "node": 1, "lost": 0, "label": "crash b"}],
///   "states": [{"events": 0, "node": 0, "up": true, "state": "A", "log": [], "log_len": 0, "unsynced": 0}]}"#;
/// let run = RecordedRun::from_json(text)?;
/// assert_eq!(run.violation().invariant, "agree");
/// assert_eq!(RecordedRun::from_json(&run.to_json())?, run);
///
/// // A node that is not in the run is refused, with where and what.
/// let bad = text.replace(r#""node": 1"#, r#""node": 5"#);
/// assert!(RecordedRun::from_json(&bad).unwrap_err().to_string().contains("node 5"));
/// # Ok::<(), underhood_sim::RecordedRunError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RecordedRun {
    format: &'static str,
    version: u32,
    /// Absent for [`FoundBy::Check`], so files of random runs read as they always did.
    #[serde(skip_serializing_if = "FoundBy::is_check")]
    found_by: FoundBy,
    seed: u64,
    duration_ms: u64,
    network: Network,
    nodes: Vec<String>,
    violation: RecordedViolation,
    faults: Vec<Fault>,
    shrunk: Vec<Fault>,
    events: Vec<RecordedEvent>,
    states: Vec<NodeSnapshot>,
}

/// What found the failure a [`RecordedRun`] records (the file's optional `found_by`; absent
/// means [`FoundBy::Check`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum FoundBy {
    /// Random runs ([`crate::check`], [`crate::check_with`]): the seed and the shrunk fault
    /// schedule reproduce it.
    #[default]
    Check,
    /// The exhaustive checker ([`crate::check_exhaustive`]): a shortest path of `steps` steps,
    /// found after `unique_states` distinct states. The steps are the schedule, so the run has
    /// no seed or fault list of its own: its crashes, power losses, losses and duplicates are
    /// events in the trace.
    Exhaustive {
        /// The counterexample's length.
        steps: u64,
        /// Distinct states explored before it.
        unique_states: u64,
    },
}

impl FoundBy {
    fn is_check(&self) -> bool {
        *self == FoundBy::Check
    }
}

/// The broken invariant of a [`RecordedRun`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordedViolation {
    /// The invariant's name (`no-panic` for a panic).
    pub invariant: String,
    /// What happened, in one sentence.
    pub detail: String,
    /// How many trace events came before it (the index of its `violation` event, if any).
    pub event: u64,
    /// When, in ms of virtual time.
    pub t: u64,
}

/// One trace event of a [`RecordedRun`], as [`crate::Event::to_json`] renders it: its index
/// `i`, its time `t` (and the local clock's `local_t` after a clock fault), and what happened,
/// with a `label` for people and the protocol's messages, timers, records, requests and outputs
/// as the JSON their `Serialize` gives.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecordedEvent {
    /// The index in the trace.
    pub i: u64,
    /// Virtual time, in ms.
    pub t: u64,
    /// The node's local time, when its clock is not virtual time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_t: Option<u64>,
    /// What happened.
    #[serde(flatten)]
    pub what: RecordedKind,
}

/// What a [`RecordedEvent`] says happened (the `kind` field), with the same fields as
/// [`crate::EventKind`] and a label.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
#[allow(missing_docs)] // The fields are those of `EventKind`, documented there.
pub enum RecordedKind {
    /// A client request arrived.
    Request {
        node: u32,
        label: String,
        request: Value,
    },
    /// A message entered the network.
    Send {
        id: u64,
        from: u32,
        to: u32,
        label: String,
        msg: Value,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        duplicate: bool,
    },
    /// A message arrived.
    Deliver {
        id: u64,
        from: u32,
        to: u32,
        label: String,
    },
    /// A message was lost.
    Drop {
        id: u64,
        from: u32,
        to: u32,
        reason: DropReason,
        label: String,
    },
    /// A timer fired.
    Timer {
        node: u32,
        label: String,
        timer: Value,
    },
    /// A record was appended to a node's durable log.
    Persist {
        node: u32,
        durability: Durability,
        label: String,
        record: Value,
    },
    /// A node produced an output.
    Output {
        node: u32,
        label: String,
        output: Value,
    },
    /// A node crashed.
    Crash { node: u32, lost: u32, label: String },
    /// A node restarted from its durable log.
    Restart { node: u32, label: String },
    /// The network split into groups.
    Partition {
        groups: Vec<Vec<u32>>,
        label: String,
    },
    /// The network healed.
    Heal { label: String },
    /// An invariant broke; `evidence` holds the violation's data fields (`nodes`, `tx`, …).
    Violation {
        invariant: String,
        detail: String,
        label: String,
        #[serde(flatten)]
        evidence: Map<String, Value>,
    },
    /// A node's clock jumped or changed rate.
    Clock {
        node: u32,
        offset_ms: i64,
        drift_ppm: i64,
        label: String,
    },
    /// A node's simulated disk did something; `fields` holds what (see `DiskEvent`).
    Disk {
        node: u32,
        label: String,
        #[serde(flatten)]
        fields: Map<String, Value>,
    },
}

/// A node as it was after the first `events` trace events, recorded whenever it changed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NodeSnapshot {
    /// How many trace events came before (the state after event `events - 1`).
    pub events: u64,
    /// The node.
    pub node: u32,
    /// Whether it is up.
    pub up: bool,
    /// Its state as `{:#?}` prints it; `None` while down.
    pub state: Option<String>,
    /// Labels of the newest records of its durable log (up to 40).
    pub log: Vec<String>,
    /// Records in its durable log.
    pub log_len: u64,
    /// Of which not synced yet (a crash that loses unsynced writes loses them).
    pub unsynced: u64,
    /// The protocol's fields for the node ([`Protocol::node_details`]).
    #[serde(flatten)]
    pub details: Map<String, Value>,
}

/// Why [`RecordedRun::from_json`] refused a file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecordedRunError {
    /// Larger than [`MAX_RECORDED_RUN_BYTES`].
    #[error("the file is {bytes} bytes; a recorded run is at most {max} bytes")]
    TooLarge {
        /// Its size.
        bytes: usize,
        /// The limit.
        max: usize,
    },
    /// Not JSON, or not in the shape of a recorded run.
    #[error("not a recorded run: {0}")]
    Json(#[source] serde_json::Error),
    /// JSON with another (or no) `format` tag.
    #[error("not a recorded run: its format is {found:?}, expected \"underhood-recorded-run\"")]
    Format {
        /// The tag found, if any.
        found: Option<String>,
    },
    /// A version this crate does not read.
    #[error("recorded run version {found} is not supported (this page reads version {supported})")]
    Version {
        /// The version in the file.
        found: u64,
        /// The version read.
        supported: u32,
    },
    /// Nodes, duration, network or faults the simulator would refuse (2 to [`crate::MAX_NODES`]
    /// nodes, faults that name nodes of the run and come before its end, …).
    #[error("the run's setup is not one the simulator accepts: {0}")]
    Setup(#[source] ScenarioError),
    /// An event whose index is not its position.
    #[error("event at position {position} says it is event {found}")]
    EventIndex {
        /// Its position in `events`.
        position: usize,
        /// Its `i`.
        found: u64,
    },
    /// An event earlier than the one before it.
    #[error("event {event} is at {t} ms, before the event before it ({previous} ms)")]
    TimeWentBackwards {
        /// The event.
        event: u64,
        /// Its time.
        t: u64,
        /// The previous event's time.
        previous: u64,
    },
    /// An event or state naming a node the run does not have.
    #[error("{place} names node {node}; the run has nodes 0 to {last}")]
    UnknownNode {
        /// Where (`event 12`, `state 3`).
        place: Place,
        /// The node.
        node: u32,
        /// The highest node id.
        last: u32,
    },
    /// A violation or state that comes after the last event.
    #[error("{place} is after event {at}, but the run has {events} events")]
    AfterTheEnd {
        /// Where.
        place: Place,
        /// How many events it says came before it.
        at: u64,
        /// How many events there are.
        events: usize,
    },
    /// States out of order.
    #[error("state {index} comes after {at} events, before the state before it")]
    StatesOutOfOrder {
        /// The state's position.
        index: usize,
        /// Its `events`.
        at: u64,
    },
}

/// Where in a recorded run a [`RecordedRunError`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Place {
    /// An event, by index.
    Event(u64),
    /// A node state, by position.
    State(usize),
    /// The violation.
    Violation,
}

impl std::fmt::Display for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Place::Event(i) => write!(f, "event {i}"),
            Place::State(k) => write!(f, "state {k}"),
            Place::Violation => f.write_str("the violation"),
        }
    }
}

impl RecordedRun {
    /// Reads a recorded run, checking its format tag and version, its size (at most
    /// [`MAX_RECORDED_RUN_BYTES`]), and that its events and states are in order and name
    /// nodes of the run.
    pub fn from_json(text: &str) -> Result<RecordedRun, RecordedRunError> {
        if text.len() > MAX_RECORDED_RUN_BYTES {
            return Err(RecordedRunError::TooLarge {
                bytes: text.len(),
                max: MAX_RECORDED_RUN_BYTES,
            });
        }
        /// The tag alone, so another file is refused as such rather than by its first odd field.
        #[derive(Deserialize)]
        struct Header {
            format: Option<Value>,
            version: Option<Value>,
        }
        let header: Header = serde_json::from_str(text).map_err(RecordedRunError::Json)?;
        match header.format {
            Some(Value::String(s)) if s == RECORDED_RUN_FORMAT => {}
            other => {
                return Err(RecordedRunError::Format {
                    found: other.map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned)),
                });
            }
        }
        match header.version.as_ref().and_then(Value::as_u64) {
            Some(v) if v == u64::from(RECORDED_RUN_VERSION) => {}
            found => {
                return Err(RecordedRunError::Version {
                    found: found.unwrap_or(0),
                    supported: RECORDED_RUN_VERSION,
                });
            }
        }
        /// The file as written, not yet checked.
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Written {
            #[allow(dead_code)] // Checked above.
            format: String,
            #[allow(dead_code)] // Checked above.
            version: u32,
            #[serde(default)]
            found_by: FoundBy,
            seed: u64,
            duration_ms: u64,
            network: Network,
            nodes: Vec<String>,
            violation: RecordedViolation,
            faults: Vec<Fault>,
            shrunk: Vec<Fault>,
            events: Vec<RecordedEvent>,
            states: Vec<NodeSnapshot>,
        }
        let w: Written = serde_json::from_str(text).map_err(RecordedRunError::Json)?;
        let run = RecordedRun {
            format: RECORDED_RUN_FORMAT,
            version: RECORDED_RUN_VERSION,
            found_by: w.found_by,
            seed: w.seed,
            duration_ms: w.duration_ms,
            network: w.network,
            nodes: w.nodes,
            violation: w.violation,
            faults: w.faults,
            shrunk: w.shrunk,
            events: w.events,
            states: w.states,
        };
        run.check()?;
        Ok(run)
    }

    /// The file's text (JSON, indented).
    pub fn to_json(&self) -> String {
        // Serialising plain data (strings, numbers, maps with string keys) cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Writes the file to `path`, creating its directory if needed.
    pub fn save(&self, path: impl AsRef<Path>) -> io::Result<()> {
        let path = path.as_ref();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, self.to_json())
    }

    /// The seed of the run.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The run's virtual duration.
    pub fn duration_ms(&self) -> u64 {
        self.duration_ms
    }

    /// The network it ran on.
    pub fn network(&self) -> &Network {
        &self.network
    }

    /// The nodes' display names, by id.
    pub fn nodes(&self) -> &[String] {
        &self.nodes
    }

    /// The broken invariant.
    pub fn violation(&self) -> &RecordedViolation {
        &self.violation
    }

    /// Every fault of the failing run before shrinking.
    pub fn faults(&self) -> &[Fault] {
        &self.faults
    }

    /// The shrunk fault schedule the recorded run ran with.
    pub fn shrunk(&self) -> &[Fault] {
        &self.shrunk
    }

    /// The trace.
    pub fn events(&self) -> &[RecordedEvent] {
        &self.events
    }

    /// What found the failure: random runs, or the exhaustive checker.
    pub fn found_by(&self) -> FoundBy {
        self.found_by
    }

    /// Each node's state whenever it changed, in order of `events`.
    pub fn states(&self) -> &[NodeSnapshot] {
        &self.states
    }

    /// A recording of a run that could not be set up: the failure, no events.
    pub(crate) fn empty(
        n_nodes: u32,
        duration_ms: u64,
        network: &Network,
        failed: &Failed<'_>,
    ) -> RecordedRun {
        RecordedRun {
            format: RECORDED_RUN_FORMAT,
            version: RECORDED_RUN_VERSION,
            found_by: failed.found_by,
            seed: failed.seed,
            duration_ms,
            network: network.clone(),
            nodes: (0..n_nodes).map(|i| NodeId(i).to_string()).collect(),
            violation: recorded_violation(failed.violation, 0),
            faults: failed.faults.to_vec(),
            shrunk: failed.shrunk.to_vec(),
            events: Vec::new(),
            states: Vec::new(),
        }
    }

    fn check(&self) -> Result<(), RecordedRunError> {
        let n = u32::try_from(self.nodes.len()).unwrap_or(u32::MAX);
        let faults = self.faults.iter().chain(&self.shrunk).cloned().collect();
        Environment::new(n, self.duration_ms, self.network.clone(), faults, None)
            .map_err(RecordedRunError::Setup)?;
        // At least two nodes, as the environment just checked.
        let last = n - 1;
        let known = |place, node: u32| {
            if node <= last {
                Ok(())
            } else {
                Err(RecordedRunError::UnknownNode { place, node, last })
            }
        };
        let mut previous = 0;
        for (position, e) in self.events.iter().enumerate() {
            if e.i != position as u64 {
                return Err(RecordedRunError::EventIndex {
                    position,
                    found: e.i,
                });
            }
            if e.t < previous {
                return Err(RecordedRunError::TimeWentBackwards {
                    event: e.i,
                    t: e.t,
                    previous,
                });
            }
            previous = e.t;
            for node in e.what.nodes() {
                known(Place::Event(e.i), node)?;
            }
        }
        let after_end = |place, at: u64| {
            if at <= self.events.len() as u64 {
                Ok(())
            } else {
                Err(RecordedRunError::AfterTheEnd {
                    place,
                    at,
                    events: self.events.len(),
                })
            }
        };
        after_end(Place::Violation, self.violation.event)?;
        let mut at = 0;
        for (index, s) in self.states.iter().enumerate() {
            known(Place::State(index), s.node)?;
            after_end(Place::State(index), s.events)?;
            if s.events < at {
                return Err(RecordedRunError::StatesOutOfOrder {
                    index,
                    at: s.events,
                });
            }
            at = s.events;
        }
        Ok(())
    }
}

impl RecordedKind {
    /// Every node the event names.
    fn nodes(&self) -> Vec<u32> {
        match self {
            RecordedKind::Request { node, .. }
            | RecordedKind::Timer { node, .. }
            | RecordedKind::Persist { node, .. }
            | RecordedKind::Output { node, .. }
            | RecordedKind::Crash { node, .. }
            | RecordedKind::Restart { node, .. }
            | RecordedKind::Clock { node, .. }
            | RecordedKind::Disk { node, .. } => vec![*node],
            RecordedKind::Send { from, to, .. }
            | RecordedKind::Deliver { from, to, .. }
            | RecordedKind::Drop { from, to, .. } => vec![*from, *to],
            RecordedKind::Partition { groups, .. } => groups.iter().flatten().copied().collect(),
            RecordedKind::Heal { .. } | RecordedKind::Violation { .. } => Vec::new(),
        }
    }
}

/// What the harness knows of a failure, for [`record`].
pub(crate) struct Failed<'a> {
    pub(crate) found_by: FoundBy,
    pub(crate) seed: u64,
    pub(crate) violation: &'a ViolationAt,
    pub(crate) faults: &'a [Fault],
    pub(crate) shrunk: &'a [Fault],
}

/// How a recording moves on.
#[derive(Clone, Copy)]
pub(crate) enum Drive<'a> {
    /// The queue decides: a simulated run with the environment's faults, stopped at the first
    /// violation.
    Queue,
    /// A model checker's counterexample decides: these choices, one every
    /// [`crate::SCRIPT_STEP_MS`], with nothing lost or broken but what they say.
    Script(&'a [Choice]),
}

/// Runs `environment` (the shrunk schedule, or a counterexample's choices) with `seed` once
/// more, keeping every event and each node's state whenever it changes. A panic ends the
/// recording where it happened.
pub(crate) fn record<P: Protocol>(
    make: &impl Fn(u64) -> P,
    invariants: &[Invariant<P::Node>],
    environment: &Environment,
    drive: Drive<'_>,
    failed: &Failed<'_>,
) -> RecordedRun {
    let seed = failed.seed;
    let mut sim = None;
    let mut states = Vec::new();
    let mut last: Vec<Option<Value>> = vec![None; environment.nodes() as usize];
    // A panic is the failure being recorded (or another one the run reports): the recording
    // keeps what happened before it.
    let _ = catch_unwind(AssertUnwindSafe(|| {
        let (env, on_violation) = match drive {
            Drive::Queue => (environment.clone(), OnViolation::Stop),
            Drive::Script(_) => (environment.without_faults(), OnViolation::Continue),
        };
        let Ok(s) = Sim::new(make(seed), &env, seed, &[], Recording::Full, on_violation) else {
            return;
        };
        let s = sim.insert(s);
        for invariant in invariants {
            s.add_invariant(invariant.clone());
        }
        snapshot(s, &mut last, &mut states);
        match drive {
            Drive::Queue => {
                while s.step() {
                    snapshot(s, &mut last, &mut states);
                }
            }
            Drive::Script(script) => {
                for (i, choice) in script.iter().enumerate() {
                    if s.apply_choice(i, choice).is_err() {
                        break;
                    }
                    snapshot(s, &mut last, &mut states);
                    if !s.violations().is_empty() {
                        return;
                    }
                }
                s.end_script();
                snapshot(s, &mut last, &mut states);
            }
        }
    }));
    let nodes: Vec<String> = (0..environment.nodes())
        .map(|i| {
            sim.as_ref().map_or_else(
                || NodeId(i).to_string(),
                |s| s.protocol().node_name(NodeId(i)),
            )
        })
        .collect();
    let events: Vec<RecordedEvent> = sim.as_ref().map_or_else(Vec::new, |s| {
        s.trace()
            .iter()
            .enumerate()
            // Every event the engine renders has a `RecordedKind` (a test runs every gallery
            // scenario through this); one that did not would end the recording there, so the
            // file stays one `from_json` reads.
            .map_while(|(i, e)| serde_json::from_value(e.to_json(i as u64, &nodes)).ok())
            .collect()
    });
    // A replayed counterexample breaks the invariant in the replay too, where it has a place in
    // the trace; the checker's own account is the fallback (a panic ended the replay first).
    let replayed = match drive {
        Drive::Queue => None,
        Drive::Script(_) => sim.as_ref().and_then(|s| {
            s.violations()
                .iter()
                .find(|v| v.invariant == failed.violation.invariant)
        }),
    };
    let violation = match replayed {
        Some(v) => recorded_violation(v, events.len()),
        None => {
            let mut v = recorded_violation(failed.violation, events.len());
            if let (Drive::Script(_), Some(last)) = (drive, events.last()) {
                v.event = events.len() as u64;
                v.t = last.t;
            }
            v
        }
    };
    RecordedRun {
        format: RECORDED_RUN_FORMAT,
        version: RECORDED_RUN_VERSION,
        found_by: failed.found_by,
        seed,
        duration_ms: environment.duration_ms(),
        network: environment.network().clone(),
        nodes,
        violation,
        faults: failed.faults.to_vec(),
        shrunk: failed.shrunk.to_vec(),
        events,
        states,
    }
}

/// The violation, placed no later than the `events` recorded.
fn recorded_violation(v: &ViolationAt, events: usize) -> RecordedViolation {
    RecordedViolation {
        invariant: v.invariant.to_owned(),
        detail: v.detail.clone(),
        event: v.event.min(events as u64),
        t: v.time.0,
    }
}

/// Records every node whose view changed since `last`.
fn snapshot<P: Protocol>(sim: &Sim<P>, last: &mut [Option<Value>], out: &mut Vec<NodeSnapshot>) {
    let Value::Object(mut state) = sim.state_json() else {
        return;
    };
    let Some(Value::Array(nodes)) = state.remove("nodes") else {
        return;
    };
    for (i, view) in nodes.into_iter().enumerate() {
        let Value::Object(mut view) = view else {
            continue;
        };
        // The clock's reading moves with time; clock faults are in the trace.
        view.remove("clock");
        view.remove("id");
        view.remove("name");
        let node = sim
            .node(NodeId(i as u32))
            .map(|n| Value::String(format!("{n:#?}")));
        view.insert("state".to_owned(), node.unwrap_or(Value::Null));
        let view = Value::Object(view);
        if last.get(i).is_some_and(|l| l.as_ref() == Some(&view)) {
            continue;
        }
        if let Some(l) = last.get_mut(i) {
            *l = Some(view.clone());
        }
        let Value::Object(mut view) = view else {
            continue;
        };
        view.insert("events".to_owned(), sim.trace().len().into());
        view.insert("node".to_owned(), i.into());
        // The engine's node view has every field a snapshot needs (a test checks).
        if let Ok(snap) = serde_json::from_value::<NodeSnapshot>(Value::Object(view)) {
            out.push(snap);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every event of every gallery scenario (each protocol, faults and violations included)
    /// reads back as a `RecordedEvent` that prints to the same JSON.
    #[test]
    fn every_rendered_event_has_a_recorded_kind_and_prints_back() {
        let mut kinds = std::collections::BTreeSet::new();
        for scenario in crate::gallery::gallery() {
            let mut run = crate::Run::new(&scenario, crate::RunOptions::default()).unwrap();
            run.step_n(3_000);
            let Value::Array(events) = run.events_json(0) else {
                panic!("{}: events are not an array", scenario.name);
            };
            for event in events {
                let recorded: RecordedEvent = serde_json::from_value(event.clone())
                    .unwrap_or_else(|e| panic!("{}: {event}: {e}", scenario.name));
                assert_eq!(
                    serde_json::to_value(&recorded).unwrap(),
                    event,
                    "{}",
                    scenario.name
                );
                kinds.insert(event["kind"].as_str().unwrap_or_default().to_owned());
            }
        }
        for kind in [
            "send",
            "deliver",
            "drop",
            "timer",
            "persist",
            "output",
            "crash",
            "restart",
            "disk",
            "violation",
            "partition",
            "heal",
            "clock",
        ] {
            assert!(
                kinds.contains(kind),
                "no {kind} event in the gallery: {kinds:?}"
            );
        }
    }
}
