//! Scenario files: everything that defines a run besides the seed, as JSON.
//!
//! [`Scenario::from_json`] parses and checks a scenario at once, so a `Scenario` that exists is
//! one the simulator can run: node ids are in range, rates are per-mille, message kinds exist.

use serde::{Deserialize, Serialize};
use underhood_consensus::{multi_paxos, two_phase};

use crate::error::ScenarioError;
use crate::vrrp::{Action, VrrpSettings};

/// The most nodes a scenario may have; the space-time diagram and link tables are sized by it.
pub const MAX_NODES: u32 = 64;
/// The longest virtual duration a scenario may ask for (about 11.6 days).
pub const MAX_DURATION_MS: u64 = 1_000_000_000;
/// The most client transactions a scenario may ask for.
pub const MAX_TRANSACTIONS: u64 = 10_000_000;

/// A complete description of a run, except the seed it may be run with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Short unique name, used on the command line and in links.
    pub name: String,
    /// What the scenario shows, in a sentence or two.
    #[serde(default)]
    pub description: String,
    /// Which protocol runs.
    pub protocol: ProtocolName,
    /// Which variant of the protocol runs (`"correct"` or a deliberately broken one).
    #[serde(default = "correct")]
    pub variant: String,
    /// How many nodes. For Two-Phase Commit node 0 is the coordinator, the rest participants.
    pub nodes: u32,
    /// The seed used when none is given.
    #[serde(default = "one")]
    pub seed: u64,
    /// The run stops when virtual time passes this.
    pub duration_ms: u64,
    /// Two-Phase Commit timeouts.
    #[serde(default)]
    pub timeouts: Timeouts,
    /// Multi-Paxos timing.
    #[serde(default)]
    pub paxos: PaxosTimeouts,
    /// How the network behaves.
    #[serde(default)]
    pub network: Network,
    /// What clients ask for.
    #[serde(default)]
    pub workload: Workload,
    /// VRRP priorities, timing and operator actions.
    #[serde(default, skip_serializing_if = "VrrpSettings::is_default")]
    pub vrrp: VrrpSettings,
    /// Scripted faults and message rules.
    #[serde(default)]
    pub faults: Vec<Fault>,
}

/// The protocols the simulator can run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ProtocolName {
    /// Two-Phase Commit with presumed abort (`underhood_consensus::two_phase`).
    #[serde(rename = "two-phase-commit")]
    TwoPhaseCommit,
    /// Multi-Paxos serving a key-value store (`underhood_consensus::multi_paxos`).
    #[serde(rename = "multi-paxos")]
    MultiPaxos,
    /// VRRP v3 virtual-IP failover (`underhood_consensus::vrrp`).
    #[serde(rename = "vrrp")]
    Vrrp,
    /// A protocol of your own, run through [`crate::check`]; it cannot be run by name.
    #[serde(rename = "custom")]
    Custom,
}

impl ProtocolName {
    /// The protocol's name as scenario files spell it.
    pub fn name(self) -> &'static str {
        match self {
            ProtocolName::TwoPhaseCommit => "two-phase-commit",
            ProtocolName::MultiPaxos => "multi-paxos",
            ProtocolName::Vrrp => "vrrp",
            ProtocolName::Custom => "custom",
        }
    }

    /// The variant names the protocol accepts.
    pub fn variants(self) -> &'static [&'static str] {
        match self {
            ProtocolName::TwoPhaseCommit => &two_phase::Variant::NAMES,
            ProtocolName::MultiPaxos => &multi_paxos::Variant::NAMES,
            ProtocolName::Vrrp => &crate::vrrp::VARIANTS,
            ProtocolName::Custom => &["correct"],
        }
    }

    /// The message kinds scripted rules may match.
    pub fn msg_kinds(self) -> &'static [&'static str] {
        match self {
            ProtocolName::TwoPhaseCommit => &[
                "prepare", "vote", "commit", "abort", "ack", "query", "status",
            ],
            ProtocolName::MultiPaxos => &multi_paxos::Msg::KINDS,
            ProtocolName::Vrrp => &underhood_consensus::vrrp::Msg::KINDS,
            // Unknown to the simulator: rules match any kind the protocol reports.
            ProtocolName::Custom => &[],
        }
    }
}

/// Protocol timeouts in milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Timeouts {
    /// Coordinator: how long to wait for votes before aborting.
    pub vote_timeout_ms: u64,
    /// Participant: how long to stay in doubt before asking.
    pub decision_timeout_ms: u64,
    /// How often queries and unacknowledged decisions are re-sent.
    pub retry_ms: u64,
}

impl Default for Timeouts {
    fn default() -> Self {
        let c = two_phase::Config::default();
        Timeouts {
            vote_timeout_ms: c.vote_timeout_ms,
            decision_timeout_ms: c.decision_timeout_ms,
            retry_ms: c.retry_ms,
        }
    }
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
        let c = multi_paxos::Config::default();
        PaxosTimeouts {
            election_ms: c.election_ms,
            heartbeat_ms: c.heartbeat_ms,
            backoff_ms: c.backoff_ms,
            snapshot_every: c.snapshot_every,
        }
    }
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

/// A fault: either an action at a moment (`at_ms`, or `after_event` for exact replays of
/// injected faults), or a rule that applies to matching messages for the whole run.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Fault {
    /// The node stops: volatile state is lost, the durable log is kept (with `lose_unsynced`,
    /// lazy writes not yet synced are lost too, as in a power failure).
    Crash {
        /// The node.
        node: u32,
        /// Whether un-synced log writes are lost.
        #[serde(default, skip_serializing_if = "is_false")]
        lose_unsynced: bool,
        /// When.
        #[serde(flatten)]
        when: When,
    },
    /// The node starts again from its durable log.
    Restart {
        /// The node.
        node: u32,
        /// When.
        #[serde(flatten)]
        when: When,
    },
    /// Nodes in different groups cannot exchange messages (nodes in no group form one more group).
    Partition {
        /// The groups.
        groups: Vec<Vec<u32>>,
        /// When.
        #[serde(flatten)]
        when: When,
    },
    /// Every node can reach every other again.
    Heal {
        /// When.
        #[serde(flatten)]
        when: When,
    },
    /// The in-flight message with this id is lost.
    DropMessage {
        /// The message id, as in the trace.
        id: u64,
        /// When.
        #[serde(flatten)]
        when: When,
    },
    /// Rule: lose matching messages, from the `nth` match on, `count` of them.
    Drop {
        /// Which messages.
        #[serde(flatten)]
        pattern: Pattern,
    },
    /// Rule: delay matching messages by `extra_ms`, from the `nth` match on, `count` of them.
    Delay {
        /// Which messages.
        #[serde(flatten)]
        pattern: Pattern,
        /// The extra delay.
        extra_ms: u64,
    },
    /// Rule: crash `node` right after it sends its `nth` matching message, before it carries out
    /// anything else (the classic "crash between two effects").
    CrashAfterSend {
        /// The node that crashes.
        node: u32,
        /// Which of its messages.
        #[serde(flatten)]
        pattern: Pattern,
        /// Whether un-synced log writes are lost.
        #[serde(default, skip_serializing_if = "is_false")]
        lose_unsynced: bool,
    },
}

/// When a timed fault happens.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct When {
    /// At this virtual time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_ms: Option<u64>,
    /// Right after this many queue events were processed (how injected faults replay exactly);
    /// `at_ms` then gives the time, which may be later than the last event's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_event: Option<u64>,
}

/// Which messages a rule matches; absent fields match anything.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Pattern {
    /// The message kind (`"commit"`, `"vote"`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The sender.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<u32>,
    /// The receiver.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<u32>,
    /// The first match affected, counting from 1.
    #[serde(default = "one")]
    pub nth: u64,
    /// How many matches in a row are affected.
    #[serde(default = "one")]
    pub count: u64,
}

impl Fault {
    /// The moment of a timed fault; `None` for rules.
    pub fn when(&self) -> Option<When> {
        match self {
            Fault::Crash { when, .. }
            | Fault::Restart { when, .. }
            | Fault::Partition { when, .. }
            | Fault::Heal { when }
            | Fault::DropMessage { when, .. } => Some(*when),
            Fault::Drop { .. } | Fault::Delay { .. } | Fault::CrashAfterSend { .. } => None,
        }
    }
}

impl Scenario {
    /// Parses and checks a scenario.
    pub fn from_json(text: &str) -> Result<Scenario, ScenarioError> {
        let scenario: Scenario = serde_json::from_str(text).map_err(ScenarioError::Json)?;
        scenario.check()?;
        Ok(scenario)
    }

    /// The scenario as pretty JSON, which [`Scenario::from_json`] reads back unchanged.
    pub fn to_json(&self) -> String {
        // Serializing plain data structs to a string cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Checks everything serde cannot: ranges, node ids, names.
    pub fn check(&self) -> Result<(), ScenarioError> {
        let p = self.protocol;
        if !p.variants().contains(&self.variant.as_str()) {
            return Err(ScenarioError::UnknownVariant {
                protocol: p.name(),
                variant: self.variant.clone(),
                expected: p.variants().join(", "),
            });
        }
        if self.nodes < 2 || self.nodes > MAX_NODES {
            return Err(ScenarioError::NodeCount {
                nodes: self.nodes,
                max: MAX_NODES,
            });
        }
        if self.duration_ms == 0 {
            return Err(ScenarioError::ZeroDuration);
        }
        if self.duration_ms > MAX_DURATION_MS {
            return Err(ScenarioError::DurationTooLong {
                duration_ms: self.duration_ms,
                max: MAX_DURATION_MS,
            });
        }
        // A zero timeout would re-arm at the same instant forever and time would never move.
        for (field, value) in [
            ("timeouts.vote_timeout_ms", self.timeouts.vote_timeout_ms),
            (
                "timeouts.decision_timeout_ms",
                self.timeouts.decision_timeout_ms,
            ),
            ("timeouts.retry_ms", self.timeouts.retry_ms),
        ] {
            if value == 0 {
                return Err(ScenarioError::ZeroTimeout { field });
            }
        }
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
        let w = &self.workload;
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
            ("paxos.election_ms", self.paxos.election_ms, MAX_DURATION_MS),
            (
                "paxos.heartbeat_ms",
                self.paxos.heartbeat_ms,
                MAX_DURATION_MS,
            ),
            ("paxos.backoff_ms", self.paxos.backoff_ms, MAX_DURATION_MS),
        ] {
            if value == 0 || value > max {
                return Err(ScenarioError::OutOfRange {
                    field,
                    value,
                    min: 1,
                    max,
                });
            }
        }
        if let Some(k) = w.participants_per_tx
            && self.protocol == ProtocolName::TwoPhaseCommit
            && (k == 0 || k >= self.nodes)
        {
            return Err(ScenarioError::ParticipantsPerTx {
                participants_per_tx: k,
                participants: self.nodes - 1,
            });
        }
        for c in &w.conflicts {
            if c.node == 0 && self.protocol == ProtocolName::TwoPhaseCommit {
                return Err(ScenarioError::NotAParticipant { node: c.node });
            }
            self.check_node("workload.conflicts[].node", c.node)?;
        }
        for fault in &self.faults {
            self.check_fault(fault)?;
        }
        if self.protocol == ProtocolName::Vrrp {
            self.check_vrrp()?;
        }
        Ok(())
    }

    fn check_vrrp(&self) -> Result<(), ScenarioError> {
        let v = &self.vrrp;
        let witnesses = v.witness_count(&self.variant);
        if witnesses >= self.nodes {
            return Err(ScenarioError::OutOfRange {
                field: "vrrp.witnesses",
                value: u64::from(witnesses),
                min: 0,
                max: u64::from(self.nodes - 1),
            });
        }
        let routers = self.nodes - witnesses;
        if v.priorities.len() > routers as usize {
            return Err(ScenarioError::OutOfRange {
                field: "vrrp.priorities (one per router)",
                value: v.priorities.len() as u64,
                min: 0,
                max: u64::from(routers),
            });
        }
        let mut ranges = vec![("vrrp.advert_ms", v.advert_ms, 1, 40_950)];
        ranges.extend(
            v.priorities
                .iter()
                .map(|&p| ("vrrp.priorities[]", u64::from(p), 1, 255)),
        );
        if self.variant == "lease" {
            ranges.push(("vrrp.lease_ms", v.lease_ms, 2, MAX_DURATION_MS));
            ranges.push(("vrrp.renew_ms", v.renew_ms, 1, v.lease_ms.saturating_sub(1)));
        }
        for a in &v.operator {
            ranges.push((
                "vrrp.operator[].node",
                u64::from(a.node),
                0,
                u64::from(routers) - 1,
            ));
            if let Action::SetPriority { priority } = a.action {
                ranges.push(("vrrp.operator[].priority", u64::from(priority), 1, 254));
            }
        }
        for (field, value, min, max) in ranges {
            if value < min || value > max {
                return Err(ScenarioError::OutOfRange {
                    field,
                    value,
                    min,
                    max,
                });
            }
        }
        Ok(())
    }

    pub(crate) fn check_fault(&self, fault: &Fault) -> Result<(), ScenarioError> {
        if let Some(when) = fault.when()
            && when.at_ms.is_none()
            && when.after_event.is_none()
        {
            return Err(ScenarioError::FaultWithoutTime {
                fault: fault_type(fault),
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
            Fault::Drop { pattern } | Fault::Delay { pattern, .. } => self.check_pattern(pattern),
            Fault::CrashAfterSend { node, pattern, .. } => {
                self.check_node("faults[].node", *node)?;
                self.check_pattern(pattern)
            }
        }
    }

    fn check_pattern(&self, pattern: &Pattern) -> Result<(), ScenarioError> {
        if let Some(kind) = &pattern.kind
            && self.protocol != ProtocolName::Custom
            && !self.protocol.msg_kinds().contains(&kind.as_str())
        {
            return Err(ScenarioError::UnknownMessageKind {
                kind: kind.clone(),
                expected: self.protocol.msg_kinds().join(", "),
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

    fn check_node(&self, field: &'static str, node: u32) -> Result<(), ScenarioError> {
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

/// The fault's `type` as written in JSON.
pub(crate) fn fault_type(fault: &Fault) -> &'static str {
    match fault {
        Fault::Crash { .. } => "crash",
        Fault::Restart { .. } => "restart",
        Fault::Partition { .. } => "partition",
        Fault::Heal { .. } => "heal",
        Fault::DropMessage { .. } => "drop_message",
        Fault::Drop { .. } => "drop",
        Fault::Delay { .. } => "delay",
        Fault::CrashAfterSend { .. } => "crash_after_send",
    }
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

fn correct() -> String {
    "correct".to_owned()
}

fn one() -> u64 {
    1
}

fn is_false(b: &bool) -> bool {
    !*b
}
