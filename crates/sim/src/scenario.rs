//! Scenario files: everything that defines a run besides the seed, as JSON.
//!
//! Parse, don't validate: [`Scenario::from_json`] (or [`Scenario::new`] from a
//! [`ScenarioSpec`]) checks everything at once, so a `Scenario` that exists is one the
//! simulator can run: node ids are in range, rates are per-mille, message kinds exist, and the
//! protocol's own settings ([`ProtocolConfig`]) are valid. A `Scenario` cannot be changed in
//! place; [`Scenario::edit`] makes a new, checked one.
//!
//! The engine sees only the protocol-neutral part, an [`Environment`] (nodes, duration,
//! network, faults).

use serde::{Deserialize, Serialize};

use crate::error::ScenarioError;
pub(crate) use crate::fault::fault_type;
pub use crate::fault::{
    ClockChange, DiskFault, Fault, MAX_CLOCK_JUMP_MS, MAX_DRIFT_PPM, Pattern, SenderFault, When,
    WriteCrash,
};
use crate::protocols::ProtocolConfig;

/// The most nodes a scenario may have; the space-time diagram and link tables are sized by it.
pub const MAX_NODES: u32 = 64;
/// The longest virtual duration a scenario may ask for (about 11.6 days).
pub const MAX_DURATION_MS: u64 = 1_000_000_000;
/// The most client transactions a scenario may ask for.
pub const MAX_TRANSACTIONS: u64 = 10_000_000;

/// The most events a scenario may allow itself (`limits.max_events`).
pub const MAX_EVENTS: u64 = 100_000_000;
/// The most memory, in MiB, a scenario may allow its kept trace (`limits.max_memory_mb`).
pub const MAX_MEMORY_MB: u64 = 4096;
/// Trace events a transaction (or Multi-Paxos operation) is assumed to cost per node when a
/// scenario's size is estimated before it runs: a send and a delivery each way of a round trip,
/// twice (2PC's prepare, vote, decision and ack; Paxos's accept, accepted and commit).
pub const EVENTS_PER_NODE_PER_TRANSACTION: u64 = 8;
/// The bytes one kept trace event is assumed to take when a scenario's memory is estimated
/// before it runs.
pub const BYTES_PER_EVENT: u64 = 160;

/// A scenario's resource budgets: a run stops with [`crate::LimitExceeded`] when it records more
/// events, or keeps a trace bigger, than these allow; and [`Scenario::new`] refuses a workload
/// whose estimated size is already over them.
///
/// JSON: `"limits": {"max_events": 5000000, "max_memory_mb": 512}` (these are the defaults).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// The most trace events a run records (kept or only hashed); 1 to [`MAX_EVENTS`].
    pub max_events: u64,
    /// The most memory a kept trace may take, in MiB; 1 to [`MAX_MEMORY_MB`].
    pub max_memory_mb: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_events: 5_000_000,
            max_memory_mb: 512,
        }
    }
}

impl Limits {
    fn is_default(&self) -> bool {
        *self == Limits::default()
    }
}

/// A scenario as written: every field public, nothing checked yet. [`Scenario::new`] turns it
/// into a [`Scenario`] or says what is wrong.
///
/// In JSON the protocol's fields sit next to the others:
/// `{"name", "protocol": "two-phase-commit", "variant", "timeouts", "nodes", …}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Wire", into = "Wire")]
pub struct ScenarioSpec {
    /// Short unique name, used on the command line and in links.
    pub name: String,
    /// What the scenario shows, in a sentence or two.
    pub description: String,
    /// Which protocol runs, its variant and its settings.
    pub protocol: ProtocolConfig,
    /// How many nodes (what each one is, the protocol says).
    pub nodes: u32,
    /// The seed used when none is given.
    pub seed: u64,
    /// The run stops when virtual time passes this.
    pub duration_ms: u64,
    /// How the network behaves.
    pub network: Network,
    /// What clients ask for.
    pub workload: Workload,
    /// Scripted faults and message rules.
    pub faults: Vec<Fault>,
    /// Resource budgets (the defaults unless written).
    pub limits: Limits,
}

/// A complete, checked description of a run, except the seed it may be run with.
///
/// Read its fields through `Deref` ([`ScenarioSpec`]); change them with [`Scenario::edit`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "ScenarioSpec", into = "ScenarioSpec")]
pub struct Scenario {
    spec: ScenarioSpec,
}

/// The protocol-neutral part of a scenario, all the engine sees: the nodes, how long the run
/// lasts, the network and the faults, and which message kinds fault rules may name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Environment {
    nodes: u32,
    duration_ms: u64,
    network: Network,
    faults: Vec<Fault>,
    msg_kinds: Option<&'static [&'static str]>,
    limits: Limits,
}

/// The JSON shape of a scenario: the common fields, and the protocol's own (`protocol`,
/// `variant`, its settings) collected aside for [`ProtocolConfig`] to read, so that only the
/// protocol's module knows its fields and unknown fields are still refused.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
struct Wire {
    name: String,
    #[serde(default)]
    description: String,
    #[serde(flatten)]
    protocol: serde_json::Map<String, serde_json::Value>,
    nodes: u32,
    #[serde(default = "one")]
    seed: u64,
    duration_ms: u64,
    #[serde(default)]
    network: Network,
    #[serde(default)]
    workload: Workload,
    #[serde(default)]
    faults: Vec<Fault>,
    #[serde(default, skip_serializing_if = "Limits::is_default")]
    limits: Limits,
}

impl TryFrom<Wire> for ScenarioSpec {
    type Error = serde_json::Error;

    fn try_from(w: Wire) -> Result<ScenarioSpec, serde_json::Error> {
        let protocol = ProtocolConfig::deserialize(serde_json::Value::Object(w.protocol))?;
        Ok(ScenarioSpec {
            name: w.name,
            description: w.description,
            protocol,
            nodes: w.nodes,
            seed: w.seed,
            duration_ms: w.duration_ms,
            network: w.network,
            workload: w.workload,
            faults: w.faults,
            limits: w.limits,
        })
    }
}

impl From<ScenarioSpec> for Wire {
    fn from(s: ScenarioSpec) -> Wire {
        let protocol = match serde_json::to_value(&s.protocol) {
            Ok(serde_json::Value::Object(map)) => map,
            // A tagged enum of plain structs always serializes to an object.
            _ => serde_json::Map::new(),
        };
        Wire {
            name: s.name,
            description: s.description,
            protocol,
            nodes: s.nodes,
            seed: s.seed,
            duration_ms: s.duration_ms,
            network: s.network,
            workload: s.workload,
            faults: s.faults,
            limits: s.limits,
        }
    }
}

impl TryFrom<ScenarioSpec> for Scenario {
    type Error = ScenarioError;

    fn try_from(spec: ScenarioSpec) -> Result<Scenario, ScenarioError> {
        Scenario::new(spec)
    }
}

impl From<Scenario> for ScenarioSpec {
    fn from(s: Scenario) -> ScenarioSpec {
        s.spec
    }
}

impl std::ops::Deref for Scenario {
    type Target = ScenarioSpec;

    fn deref(&self) -> &ScenarioSpec {
        &self.spec
    }
}

impl Scenario {
    /// Checks a scenario as written: ranges, node ids, message kinds, and the protocol's own
    /// settings.
    pub fn new(spec: ScenarioSpec) -> Result<Scenario, ScenarioError> {
        let env = Environment::new(
            spec.nodes,
            spec.duration_ms,
            spec.network.clone(),
            spec.faults.clone(),
            spec.protocol.msg_kinds(),
        )?;
        check_workload(&spec.workload, &env)?;
        check_limits(&spec)?;
        spec.protocol.check(&spec)?;
        Ok(Scenario { spec })
    }

    /// Parses and checks a scenario.
    pub fn from_json(text: &str) -> Result<Scenario, ScenarioError> {
        let spec: ScenarioSpec = serde_json::from_str(text).map_err(ScenarioError::Json)?;
        Scenario::new(spec)
    }

    /// The scenario as pretty JSON, which [`Scenario::from_json`] reads back unchanged.
    pub fn to_json(&self) -> String {
        // Serializing plain data structs to a string cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// A copy with `change` applied, checked again.
    pub fn edit(&self, change: impl FnOnce(&mut ScenarioSpec)) -> Result<Scenario, ScenarioError> {
        let mut spec = self.spec.clone();
        change(&mut spec);
        Scenario::new(spec)
    }

    /// A copy with `extra` faults added after its own, checked.
    pub fn with_faults(&self, extra: &[Fault]) -> Result<Scenario, ScenarioError> {
        self.edit(|s| s.faults.extend(extra.iter().cloned()))
    }

    /// The written form, to change and check again.
    pub fn spec(&self) -> &ScenarioSpec {
        &self.spec
    }

    /// What the engine runs in: nodes, duration, network and faults.
    pub fn environment(&self) -> Environment {
        Environment {
            nodes: self.spec.nodes,
            duration_ms: self.spec.duration_ms,
            network: self.spec.network.clone(),
            faults: self.spec.faults.clone(),
            msg_kinds: self.spec.protocol.msg_kinds(),
            limits: self.spec.limits,
        }
    }

    /// The protocol's name as scenario files spell it (`"two-phase-commit"`).
    pub fn protocol_name(&self) -> &'static str {
        self.spec.protocol.name()
    }

    /// The variant's name (`"correct"`, `"vote-before-log"`).
    pub fn variant_name(&self) -> &'static str {
        self.spec.protocol.variant_name()
    }
}

impl Environment {
    /// Checks an environment: 2 to [`MAX_NODES`] nodes, a duration of 1 ms to
    /// [`MAX_DURATION_MS`], a sane network, and faults that name existing nodes and, when
    /// `msg_kinds` lists them, existing message kinds, and are set no later than the run ends.
    pub fn new(
        nodes: u32,
        duration_ms: u64,
        network: Network,
        faults: Vec<Fault>,
        msg_kinds: Option<&'static [&'static str]>,
    ) -> Result<Environment, ScenarioError> {
        if !(2..=MAX_NODES).contains(&nodes) {
            return Err(ScenarioError::NodeCount {
                nodes,
                max: MAX_NODES,
            });
        }
        if duration_ms == 0 {
            return Err(ScenarioError::ZeroDuration);
        }
        if duration_ms > MAX_DURATION_MS {
            return Err(ScenarioError::DurationTooLong {
                duration_ms,
                max: MAX_DURATION_MS,
            });
        }
        let env = Environment {
            nodes,
            duration_ms,
            network,
            faults: Vec::new(),
            msg_kinds,
            limits: Limits::default(),
        };
        env.check_network()?;
        for fault in &faults {
            env.check_fault(fault)?;
        }
        Ok(Environment { faults, ..env })
    }

    /// How many nodes.
    pub fn nodes(&self) -> u32 {
        self.nodes
    }

    /// When the run ends.
    pub fn duration_ms(&self) -> u64 {
        self.duration_ms
    }

    /// How the network behaves.
    pub fn network(&self) -> &Network {
        &self.network
    }

    /// The scripted faults and rules.
    pub fn faults(&self) -> &[Fault] {
        &self.faults
    }

    /// The run's budgets (the defaults unless its scenario states them).
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// A copy with these budgets.
    pub fn with_limits(mut self, limits: Limits) -> Environment {
        self.limits = limits;
        self
    }

    /// The message kinds rules may name (`None`: any kind, for protocols that do not list them).
    pub fn msg_kinds(&self) -> Option<&'static [&'static str]> {
        self.msg_kinds
    }

    /// A copy with nothing lost, duplicated or broken: no faults, no loss, no duplication.
    pub(crate) fn without_faults(&self) -> Environment {
        let mut env = self.clone();
        env.faults.clear();
        env.network.loss_per_mille = 0;
        env.network.duplicate_per_mille = 0;
        for link in &mut env.network.links {
            link.loss_per_mille = None;
        }
        env
    }

    fn check_network(&self) -> Result<(), ScenarioError> {
        check_latency(self.network.latency_ms)?;
        check_per_mille("network.loss_per_mille", self.network.loss_per_mille)?;
        check_per_mille(
            "network.duplicate_per_mille",
            self.network.duplicate_per_mille,
        )?;
        for link in &self.network.links {
            self.check_node("network.links[].from", link.from)?;
            self.check_node("network.links[].to", link.to)?;
            if let Some(latency) = link.latency_ms {
                check_latency(latency)?;
            }
            if let Some(loss) = link.loss_per_mille {
                check_per_mille("network.links[].loss_per_mille", loss)?;
            }
        }
        Ok(())
    }

    /// Checks one fault against this environment (also for faults injected while running).
    pub(crate) fn check_fault(&self, fault: &Fault) -> Result<(), ScenarioError> {
        if let Some(when) = fault.when()
            && when.at_ms.is_none()
            && when.after_event.is_none()
        {
            return Err(ScenarioError::FaultWithoutTime {
                fault: fault_type(fault),
            });
        }
        if let Some(at_ms) = fault.when().and_then(|w| w.at_ms)
            && at_ms > self.duration_ms
        {
            return Err(ScenarioError::FaultAfterEnd {
                fault: fault_type(fault),
                at_ms,
                duration_ms: self.duration_ms,
            });
        }
        match fault {
            Fault::Crash { node, .. } | Fault::Restart { node, .. } => {
                self.check_node("faults[].node", *node)
            }
            Fault::Partition { groups, .. } => {
                let mut seen = Vec::new();
                for node in groups.iter().flatten() {
                    self.check_node("faults[].groups", *node)?;
                    if seen.contains(node) {
                        return Err(ScenarioError::NodeInTwoGroups { node: *node });
                    }
                    seen.push(*node);
                }
                if groups.iter().all(|g| g.is_empty()) {
                    return Err(ScenarioError::EmptyPartition);
                }
                Ok(())
            }
            Fault::Heal { .. } | Fault::DropMessage { .. } => Ok(()),
            Fault::Clock { node, change, .. } => {
                self.check_node("faults[].node", *node)?;
                match *change {
                    ClockChange::Jump { offset_ms } => check_signed_range(
                        "faults[].offset_ms",
                        offset_ms,
                        -MAX_CLOCK_JUMP_MS,
                        MAX_CLOCK_JUMP_MS,
                    ),
                    ClockChange::Drift { drift_ppm } => check_signed_range(
                        "faults[].drift_ppm",
                        drift_ppm,
                        -MAX_DRIFT_PPM,
                        MAX_DRIFT_PPM,
                    ),
                }
            }
            Fault::Disk { node, count, .. } => {
                self.check_node("faults[].node", *node)?;
                check_range("faults[].count", u64::from(*count), 1, 1000)
            }
            Fault::Drop { pattern } | Fault::Delay { pattern, .. } => self.check_pattern(pattern),
            Fault::CrashAfterSend { node, pattern, .. } => {
                self.check_node("faults[].node", *node)?;
                self.check_pattern(pattern)
            }
            Fault::OnSend {
                pattern,
                undo_after_ms,
                ..
            } => {
                if let Some(ms) = undo_after_ms {
                    check_range("faults[].undo_after_ms", *ms, 1, MAX_DURATION_MS)?;
                }
                self.check_pattern(pattern)
            }
            Fault::OnWrite {
                node,
                nth,
                undo_after_ms,
                ..
            } => {
                if let Some(node) = node {
                    self.check_node("faults[].node", *node)?;
                }
                if *nth == 0 {
                    return Err(ScenarioError::NthIsZero);
                }
                if let Some(ms) = undo_after_ms {
                    check_range("faults[].undo_after_ms", *ms, 1, MAX_DURATION_MS)?;
                }
                Ok(())
            }
        }
    }

    fn check_pattern(&self, pattern: &Pattern) -> Result<(), ScenarioError> {
        if let (Some(kind), Some(kinds)) = (&pattern.kind, self.msg_kinds)
            && !kinds.contains(&kind.as_str())
        {
            return Err(ScenarioError::UnknownMessageKind {
                kind: kind.clone(),
                expected: kinds.join(", "),
            });
        }
        if let Some(n) = pattern.from {
            self.check_node("faults[].from", n)?;
        }
        if let Some(n) = pattern.to {
            self.check_node("faults[].to", n)?;
        }
        if pattern.nth == 0 {
            return Err(ScenarioError::NthIsZero);
        }
        Ok(())
    }

    /// Checks that `node` exists.
    pub(crate) fn check_node(&self, field: &'static str, node: u32) -> Result<(), ScenarioError> {
        if node >= self.nodes {
            return Err(ScenarioError::NodeOutOfRange {
                field,
                node,
                nodes: self.nodes,
            });
        }
        Ok(())
    }
}

/// The budgets are in range, and the workload's estimated size fits them: about
/// [`EVENTS_PER_NODE_PER_TRANSACTION`] events per node per transaction, each kept in
/// [`BYTES_PER_EVENT`] bytes. (Timers are not estimated: a run that outgrows its budget on them
/// stops with [`crate::LimitExceeded`].)
fn check_limits(spec: &ScenarioSpec) -> Result<(), ScenarioError> {
    let limits = spec.limits;
    check_range("limits.max_events", limits.max_events, 1, MAX_EVENTS)?;
    check_range(
        "limits.max_memory_mb",
        limits.max_memory_mb,
        1,
        MAX_MEMORY_MB,
    )?;
    let estimated = spec
        .workload
        .transactions
        .saturating_mul(u64::from(spec.nodes))
        .saturating_mul(EVENTS_PER_NODE_PER_TRANSACTION);
    if estimated > limits.max_events {
        return Err(ScenarioError::EventBudget {
            estimated,
            max_events: limits.max_events,
        });
    }
    let estimated_mb = estimated.saturating_mul(BYTES_PER_EVENT).div_ceil(1 << 20);
    if estimated_mb > limits.max_memory_mb {
        return Err(ScenarioError::MemoryBudget {
            estimated_mb,
            max_memory_mb: limits.max_memory_mb,
        });
    }
    Ok(())
}

/// The workload's limits, common to every protocol (what a field means is the protocol's).
fn check_workload(w: &Workload, env: &Environment) -> Result<(), ScenarioError> {
    if w.transactions > 0 && w.start_ms > env.duration_ms {
        return Err(ScenarioError::WorkloadAfterEnd {
            start_ms: w.start_ms,
            duration_ms: env.duration_ms,
        });
    }
    if w.transactions > MAX_TRANSACTIONS {
        return Err(ScenarioError::TooManyTransactions {
            transactions: w.transactions,
            max: MAX_TRANSACTIONS,
        });
    }
    check_per_mille("workload.conflict_per_mille", w.conflict_per_mille)?;
    check_per_mille("workload.read_per_mille", w.read_per_mille)?;
    if w.readers > w.clients {
        return Err(ScenarioError::OutOfRange {
            field: "workload.readers",
            value: u64::from(w.readers),
            min: 0,
            max: u64::from(w.clients),
        });
    }
    for (field, value, max) in [
        (
            "workload.clients",
            u64::from(w.clients),
            u64::from(MAX_NODES),
        ),
        ("workload.keys", u64::from(w.keys), 1_000_000),
        (
            "workload.client_timeout_ms",
            w.client_timeout_ms,
            MAX_DURATION_MS,
        ),
    ] {
        check_range(field, value, 1, max)?;
    }
    for c in &w.conflicts {
        env.check_node("workload.conflicts[].node", c.node)?;
    }
    Ok(())
}

/// Refuses `value` outside `min..=max`, naming `field`.
pub(crate) fn check_range(
    field: &'static str,
    value: u64,
    min: u64,
    max: u64,
) -> Result<(), ScenarioError> {
    if value < min || value > max {
        return Err(ScenarioError::OutOfRange {
            field,
            value,
            min,
            max,
        });
    }
    Ok(())
}

/// A latency range in milliseconds; each message draws uniformly from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Latency {
    /// The shortest delay.
    pub min: u64,
    /// The longest delay.
    pub max: u64,
}

/// Whether messages on one link may overtake each other.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ordering {
    /// Any order: each message draws its own latency, so later ones can arrive first.
    #[default]
    Any,
    /// First in, first out on each (from, to) link, like TCP.
    Fifo,
}

/// Network behaviour, the same for every link unless a link overrides it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Network {
    /// Delay of each message.
    pub latency_ms: Latency,
    /// Chance in a thousand that a message is lost.
    pub loss_per_mille: u32,
    /// Chance in a thousand that a message is delivered twice.
    pub duplicate_per_mille: u32,
    /// Whether a link keeps order.
    pub ordering: Ordering,
    /// Per-link overrides.
    pub links: Vec<Link>,
}

impl Default for Network {
    fn default() -> Self {
        Network {
            latency_ms: Latency { min: 2, max: 8 },
            loss_per_mille: 0,
            duplicate_per_mille: 0,
            ordering: Ordering::Any,
            links: Vec::new(),
        }
    }
}

/// Overrides for the one-way link `from → to`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Link {
    /// The sender.
    pub from: u32,
    /// The receiver.
    pub to: u32,
    /// The link's latency, if different.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<Latency>,
    /// The link's loss rate, if different.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss_per_mille: Option<u32>,
}

/// Client transactions: `transactions` of them, the first at `start_ms`, then one every
/// `interval_ms`, each touching every participant (or `participants_per_tx` drawn at random).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Workload {
    /// How many transactions.
    pub transactions: u64,
    /// When the first arrives.
    pub start_ms: u64,
    /// Time between arrivals.
    pub interval_ms: u64,
    /// How many participants each transaction touches; all of them when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub participants_per_tx: Option<u32>,
    /// Chance in a thousand that a participant's local work conflicts (it will vote to abort).
    pub conflict_per_mille: u32,
    /// Scripted conflicts: this participant votes to abort this transaction.
    pub conflicts: Vec<Conflict>,
    /// Multi-Paxos: how many clients run operations concurrently (`transactions` is then the
    /// total number of operations and `interval_ms` each client's think time).
    pub clients: u32,
    /// Multi-Paxos: how many keys the operations spread over.
    pub keys: u32,
    /// Multi-Paxos: chance in a thousand that an operation is a read.
    pub read_per_mille: u32,
    /// Multi-Paxos: how many of the clients only read (dashboards, caches); the first ones.
    pub readers: u32,
    /// Multi-Paxos: a client retries at another node after waiting this long.
    pub client_timeout_ms: u64,
}

impl Default for Workload {
    fn default() -> Self {
        Workload {
            transactions: 1,
            start_ms: 10,
            interval_ms: 100,
            participants_per_tx: None,
            conflict_per_mille: 0,
            conflicts: Vec::new(),
            clients: 3,
            keys: 2,
            read_per_mille: 500,
            readers: 0,
            client_timeout_ms: 150,
        }
    }
}

/// A scripted vote to abort.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Conflict {
    /// The transaction, numbered from 1.
    pub tx: u64,
    /// The participant that votes to abort.
    pub node: u32,
}

fn check_latency(latency: Latency) -> Result<(), ScenarioError> {
    if latency.min > latency.max {
        return Err(ScenarioError::LatencyRange {
            min: latency.min,
            max: latency.max,
        });
    }
    Ok(())
}

fn check_per_mille(field: &'static str, value: u32) -> Result<(), ScenarioError> {
    if value > 1000 {
        return Err(ScenarioError::PerMille { field, value });
    }
    Ok(())
}

fn one() -> u64 {
    1
}

/// Refuses a signed `value` outside `min..=max`, naming `field`.
fn check_signed_range(
    field: &'static str,
    value: i64,
    min: i64,
    max: i64,
) -> Result<(), ScenarioError> {
    if value < min || value > max {
        return Err(ScenarioError::SignedOutOfRange {
            field,
            value,
            min,
            max,
        });
    }
    Ok(())
}
