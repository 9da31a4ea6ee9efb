//! Paxos Commit in the simulator: the [`Process`] impl for `consensus::paxos_commit::Node`, on
//! the commit family's shared workload and invariants ([`super::commit`]).
//!
//! Node 0 is the transaction manager (the coordinator), nodes `1..=N` the resource managers
//! (participants), and the last `2F + 1` nodes the acceptors, so a scenario with `nodes` nodes
//! and `f` has `N = nodes - 2 - 2F` participants. Each participant's vote is decided by its own
//! Paxos instance over the acceptors; any participant can finish an instance when the
//! transaction manager dies, which is why Paxos Commit does not block.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use underhood_consensus::paxos_commit::{
    Acceptors, Config, FastPath, Msg, Node, Output, Record, Request, RmState, Role, Timer, TxView,
    Value as Vote2, Variant,
};
use underhood_consensus::{NodeId, Time};

use super::Plugin;
use super::commit::{COORDINATOR, Commit, Fact, outcome_word};
use crate::error::ScenarioError;
use crate::model::{
    self, CheckRefusal, CheckRequest, Progress, ProtocolModel, ScenarioCheck, SmallConfig,
};
use crate::process::{Effects, Inputs, Process, Protocol, Violation};
use crate::rng::SimRng;
use crate::run::{Driver, DynRun};
use crate::scenario::{MAX_DURATION_MS, Scenario, ScenarioSpec, check_range};

/// The gallery scenarios of Paxos Commit, in display order.
pub(crate) const GALLERY: &[&str] = &[
    include_str!("../../scenarios/pc-happy-path.json"),
    include_str!("../../scenarios/pc-coordinator-crash.json"),
    include_str!("../../scenarios/pc-partition.json"),
    include_str!("../../scenarios/pc-ignore-accepted-votes.json"),
];

/// The message kinds of Paxos Commit, as fault rules name them.
const MSG_KINDS: &[&str] = &[
    "prepare", "phase2a", "phase2b", "phase1a", "phase1b", "commit", "abort",
];

/// Paxos Commit's part of a scenario (`"protocol": "paxos-commit"`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaxosCommitConfig {
    /// Which variant runs (`"correct"` or `"ignore-accepted-votes"`).
    #[serde(default)]
    pub variant: Variant,
    /// How many acceptor failures to tolerate: `2F + 1` acceptors.
    #[serde(default = "one")]
    pub f: u32,
    /// Where participants send their ballot-0 votes.
    #[serde(default)]
    pub fast_path: FastPath,
    /// The protocol's timeouts.
    #[serde(default)]
    pub timeouts: PaxosCommitTimeouts,
}

impl Default for PaxosCommitConfig {
    fn default() -> Self {
        PaxosCommitConfig {
            variant: Variant::default(),
            f: 1,
            fast_path: FastPath::default(),
            timeouts: PaxosCommitTimeouts::default(),
        }
    }
}

/// Paxos Commit timeouts in milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PaxosCommitTimeouts {
    /// Transaction manager: how long to wait for every instance before finishing the open ones.
    pub vote_timeout_ms: u64,
    /// Participant in doubt: how long to wait before it leads (plus its rank times `retry_ms`).
    pub takeover_timeout_ms: u64,
    /// Leader: how long a round may take (times its rank plus one).
    pub retry_ms: u64,
}

impl Default for PaxosCommitTimeouts {
    fn default() -> Self {
        // The defaults do not depend on the acceptors.
        let c = Config::new(one_acceptor(NodeId(1)));
        PaxosCommitTimeouts {
            vote_timeout_ms: c.vote_timeout_ms,
            takeover_timeout_ms: c.takeover_timeout_ms,
            retry_ms: c.retry_ms,
        }
    }
}

/// One acceptor at `id`.
fn one_acceptor(id: NodeId) -> Acceptors {
    // F = 0 is one acceptor, which fits at any id below `u32::MAX`, and node ids are at most
    // `MAX_NODES`.
    Acceptors::new(NodeId(id.0.min(crate::MAX_NODES)), 0).expect("one acceptor always fits")
}

fn one() -> u32 {
    1
}

impl PaxosCommitConfig {
    /// The Paxos Commit settings of `scenario` (the defaults for another protocol's).
    pub fn of(scenario: &Scenario) -> PaxosCommitConfig {
        match &scenario.protocol {
            super::ProtocolConfig::PaxosCommit(c) => c.clone(),
            _ => PaxosCommitConfig::default(),
        }
    }

    /// How many participants a cluster of `nodes` nodes has (`None`: too few nodes).
    pub fn participants(&self, nodes: u32) -> Option<u32> {
        nodes.checked_sub(1 + 2 * self.f + 1).filter(|n| *n >= 1)
    }

    fn consensus(&self, nodes: u32) -> Option<Config> {
        let participants = self.participants(nodes)?;
        let acceptors = Acceptors::new(NodeId(participants + 1), self.f).ok()?;
        let t = self.timeouts;
        Some(Config {
            acceptors,
            fast_path: self.fast_path,
            vote_timeout_ms: t.vote_timeout_ms,
            takeover_timeout_ms: t.takeover_timeout_ms,
            retry_ms: t.retry_ms,
            variant: self.variant,
        })
    }
}

impl Plugin for PaxosCommitConfig {
    fn name(&self) -> &'static str {
        "paxos-commit"
    }

    fn variant_name(&self) -> &'static str {
        self.variant.name()
    }

    fn correct(&self) -> super::ProtocolConfig {
        super::ProtocolConfig::PaxosCommit(Self {
            variant: Variant::Correct,
            ..self.clone()
        })
    }

    fn assumptions(&self) -> Option<super::Assumptions> {
        // Paxos is safe under any timing; RM and acceptor records (PREPARED, promises, votes) must survive a crash.
        Some(super::Assumptions {
            clocks: super::ClockAssumption::Nothing,
            disk: super::DiskAssumption::SyncedRecordsSurvive,
        })
    }

    fn msg_kinds(&self) -> Option<&'static [&'static str]> {
        Some(MSG_KINDS)
    }

    fn invariants(&self) -> &'static [crate::violation::RunInvariant] {
        super::commit::INVARIANTS
    }

    fn check(&self, spec: &ScenarioSpec) -> Result<(), ScenarioError> {
        let Some(participants) = self.participants(spec.nodes) else {
            return Err(ScenarioError::OutOfRange {
                field: "nodes (a coordinator, participants and 2f+1 acceptors)",
                value: u64::from(spec.nodes),
                min: u64::from(3 + 2 * self.f),
                max: u64::from(crate::MAX_NODES),
            });
        };
        let t = self.timeouts;
        for (field, value) in [
            ("timeouts.vote_timeout_ms", t.vote_timeout_ms),
            ("timeouts.takeover_timeout_ms", t.takeover_timeout_ms),
            ("timeouts.retry_ms", t.retry_ms),
        ] {
            check_range(field, value, 1, MAX_DURATION_MS)?;
        }
        super::commit::check_workload(spec, participants)
    }

    fn run(
        &self,
        scenario: &Scenario,
        seed: u64,
        driver: Driver,
    ) -> Result<Box<dyn DynRun>, ScenarioError> {
        crate::run::start(PaxosCommit::new(scenario), scenario, seed, driver)
    }

    /// A transaction manager, two participants and `2F + 1` acceptors (F as the scenario
    /// says), one transaction, one crash.
    fn small_config(&self, scenario: &Scenario) -> Result<SmallConfig, CheckRefusal> {
        let f = self.f;
        let scenario = scenario
            .edit(|s| {
                s.nodes = 3 + 2 * f + 1;
                s.faults.clear();
                s.workload.transactions = 1;
                s.workload.participants_per_tx = None;
                s.workload.conflicts.clear();
            })
            .map_err(CheckRefusal::Scenario)?;
        Ok(SmallConfig {
            scenario,
            crashes: 1,
            timeouts: Some(2),
            // 165 thousand states at depth 8, 4.2 million at 10 (F = 1).
            max_depth: 9,
        })
    }

    fn check_small(
        &self,
        config: &SmallConfig,
        request: &CheckRequest,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<ScenarioCheck, CheckRefusal> {
        Ok(model::check_small(
            paxos_commit_model(config),
            config,
            request,
            progress,
        ))
    }
}

/// The model of a Paxos Commit configuration (leaders' retry timers carry a round that only
/// grows, so stale ones are dropped).
pub fn paxos_commit_model(config: &SmallConfig) -> ProtocolModel<PaxosCommit> {
    model::small_model(config, PaxosCommit::new).with_stale_timers_dropped()
}

impl Process for Node {
    type Msg = Msg;
    type Timer = Timer;
    type Record = Record;
    type Request = Request;
    type Output = Output;

    fn step(&mut self, now: Time, input: Inputs<Self>, out: &mut Vec<Effects<Self>>) {
        Node::step(self, now, input, out);
    }

    fn msg_kind(msg: &Msg) -> &'static str {
        msg.kind()
    }

    fn label_msg(msg: &Msg) -> String {
        match msg {
            Msg::Prepare { tx, .. } => format!("prepare {tx}"),
            Msg::Phase2a {
                tx,
                rm,
                ballot,
                value,
                ..
            } => format!("2a {tx} P{} b{ballot} {}", rm.0, value_word(*value)),
            Msg::Phase2b { tx, votes } => {
                let votes: Vec<String> = votes
                    .iter()
                    .map(|(rm, b, v)| format!("P{} b{b} {}", rm.0, value_word(*v)))
                    .collect();
                format!("2b {tx} {}", votes.join(", "))
            }
            Msg::Phase1a { tx, rm, ballot, .. } => format!("1a {tx} P{} b{ballot}", rm.0),
            Msg::Phase1b {
                tx,
                rm,
                ballot,
                accepted,
            } => match accepted {
                Some((b, v)) => format!("1b {tx} P{} b{ballot} (b{b} {})", rm.0, value_word(*v)),
                None => format!("1b {tx} P{} b{ballot} (none)", rm.0),
            },
            Msg::Decision { tx, outcome } => format!("{} {tx}", outcome_word(*outcome)),
        }
    }

    fn label_timer(timer: &Timer) -> String {
        match timer {
            Timer::VoteTimeout(tx) => format!("vote timeout {tx}"),
            Timer::Takeover(tx) => format!("take over {tx}"),
            Timer::Retry { tx, round } => format!("retry {tx} (round {round})"),
        }
    }
}

fn value_word(value: Vote2) -> &'static str {
    match value {
        Vote2::Prepared => "prepared",
        Vote2::Aborted => "aborted",
    }
}

/// A Paxos Commit cluster: node 0 is the transaction manager, then the participants, then the
/// acceptors.
#[derive(Clone, Debug)]
pub struct PaxosCommit {
    config: Option<Config>,
    n_nodes: u32,
    participants: u32,
    commit: Commit,
}

impl PaxosCommit {
    /// The cluster a scenario describes (see [`PaxosCommitConfig::of`]).
    pub fn new(scenario: &Scenario) -> PaxosCommit {
        let c = PaxosCommitConfig::of(scenario);
        let participants = c.participants(scenario.nodes).unwrap_or(0);
        PaxosCommit {
            config: c.consensus(scenario.nodes),
            n_nodes: scenario.nodes,
            participants,
            commit: Commit::new(scenario, participants),
        }
    }

    fn role(&self, id: NodeId) -> Role {
        if id == COORDINATOR {
            Role::Tm
        } else if id.0 <= self.participants {
            Role::Rm { tm: COORDINATOR }
        } else {
            Role::Acceptor { tm: COORDINATOR }
        }
    }

    fn name(&self, id: NodeId) -> String {
        super::commit::node_name(id, Some(self.participants + 1))
    }

    /// A valid scenario always has a configuration; this is the fallback for the impossible
    /// case, one acceptor after the last node.
    fn config(&self) -> Config {
        self.config
            .unwrap_or_else(|| Config::new(one_acceptor(NodeId(self.n_nodes.saturating_sub(1)))))
    }
}

impl Protocol for PaxosCommit {
    type Node = Node;

    fn n_nodes(&self) -> u32 {
        self.n_nodes
    }

    fn node_name(&self, id: NodeId) -> String {
        self.name(id)
    }

    fn boot(&self, id: NodeId, _out: &mut Vec<Effects<Node>>) -> Node {
        let config = self.config();
        match self.role(id) {
            Role::Tm => Node::tm(id, config),
            Role::Rm { tm } => Node::rm(id, tm, config),
            Role::Acceptor { tm } => Node::acceptor(id, tm, config),
        }
    }

    fn recover(&self, id: NodeId, log: &[Record], now: Time, out: &mut Vec<Effects<Node>>) -> Node {
        Node::recover(id, self.role(id), self.config(), log, now, out)
    }

    fn start_clients(&mut self, _rng: &mut SimRng, wake: &mut Vec<(Time, u64)>) {
        self.commit.start_clients(wake);
    }

    fn wake_client(
        &mut self,
        now: Time,
        token: u64,
        rng: &mut SimRng,
        wake: &mut Vec<(Time, u64)>,
    ) -> Option<(NodeId, Request)> {
        self.commit.wake_client(now, token, rng, wake)
    }

    fn observe(
        &mut self,
        now: Time,
        node: NodeId,
        output: &Output,
        violations: &mut Vec<Violation>,
        _wake: &mut Vec<(Time, u64)>,
    ) {
        let fact = match *output {
            Output::Voted { tx, vote } => Fact::Voted { tx, vote },
            Output::Decided { tx, outcome } => Fact::Decided { tx, outcome },
            Output::Leading { .. } | Output::Replied { .. } => return,
        };
        let participants = self.participants;
        let name = |id: NodeId| super::commit::node_name(id, Some(participants + 1));
        self.commit.observe(now, node, fact, name, violations);
    }

    fn details(&self, now: Time) -> Map<String, Value> {
        let mut map = Map::new();
        map.insert("commit".into(), json!(self.commit.report(now)));
        map
    }

    fn node_details(&self, id: NodeId, node: Option<&Node>, now: Time) -> Map<String, Value> {
        let role = match self.role(id) {
            Role::Tm => "coordinator",
            Role::Rm { .. } => "participant",
            Role::Acceptor { .. } => "acceptor",
        };
        let views = node.map(Node::views).unwrap_or_default();
        let keep_from = views.len().saturating_sub(8);
        let txs: Vec<Value> = views[keep_from..]
            .iter()
            .map(|(tx, v)| {
                let mut j = serde_json::to_value(v).unwrap_or(Value::Null);
                j["tx"] = json!(tx.0);
                if let TxView::Rm { state, .. } = v {
                    j["decided"] = json!(!matches!(state, RmState::Prepared));
                }
                j
            })
            .collect();
        let mut map = Map::new();
        map.insert("role".into(), json!(role));
        map.insert("txs".into(), Value::Array(txs));
        map.insert(
            "in_doubt_ms".into(),
            json!(self.commit.in_doubt_ms(id, now)),
        );
        map.insert("in_doubt_now".into(), json!(self.commit.in_doubt_now(id)));
        map
    }

    fn summarize(&self, now: Time, out: &mut String) {
        let participants = self.participants;
        let name = |id: NodeId| super::commit::node_name(id, Some(participants + 1));
        self.commit.summarize(now, name, out);
    }
}
