//! Three-Phase Commit in the simulator: the [`Process`] impl for `consensus::three_phase::Node`,
//! on the commit family's shared workload and invariants ([`super::commit`]). Node 0
//! coordinates, the others participate.
//!
//! 3PC never blocks when failures are crashes and every message beats its timeout; a partition,
//! or a message later than a timeout, makes the two sides decide differently. The gallery shows
//! both, and the untimed model checker finds the second (any timer may fire before any message).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use underhood_consensus::three_phase::{
    Config, Msg, Node, Outcome, Output, Record, Request, Role, Timer, Variant,
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
use crate::scenario::{Scenario, ScenarioSpec, check_range};

/// The gallery scenarios of Three-Phase Commit, in display order.
pub(crate) const GALLERY: &[&str] = &[
    include_str!("../../scenarios/3pc-happy-path.json"),
    include_str!("../../scenarios/3pc-coordinator-crash.json"),
    include_str!("../../scenarios/3pc-partition.json"),
    include_str!("../../scenarios/3pc-no-termination.json"),
    include_str!("../../scenarios/3pc-backup-skips-pre-commit.json"),
];

/// The message kinds of Three-Phase Commit, as fault rules name them.
const MSG_KINDS: &[&str] = &[
    "can-commit",
    "vote",
    "pre-commit",
    "ack",
    "commit",
    "abort",
    "elect",
    "state-req",
    "state-report",
    "query",
];

/// Three-Phase Commit's part of a scenario (`"protocol": "three-phase-commit"`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThreePhaseConfig {
    /// Which variant runs (`"correct"`, `"no-termination"`, `"backup-skips-pre-commit"`).
    #[serde(default)]
    pub variant: Variant,
    /// The protocol's timeouts.
    #[serde(default)]
    pub timeouts: ThreePhaseTimeouts,
}

/// Three-Phase Commit timeouts in milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ThreePhaseTimeouts {
    /// Coordinator: how long to wait for votes before aborting.
    pub vote_timeout_ms: u64,
    /// Coordinator: how long to wait for acknowledgements of PRECOMMIT before committing.
    pub ack_timeout_ms: u64,
    /// Participant: how long to wait for the coordinator before the termination protocol.
    pub decision_timeout_ms: u64,
    /// Backup: how long to wait for state reports and acknowledgements (followers wait twice).
    pub termination_timeout_ms: u64,
    /// Recovered node in doubt: how often to ask again.
    pub retry_ms: u64,
}

impl Default for ThreePhaseTimeouts {
    fn default() -> Self {
        let c = Config::default();
        ThreePhaseTimeouts {
            vote_timeout_ms: c.vote_timeout_ms,
            ack_timeout_ms: c.ack_timeout_ms,
            decision_timeout_ms: c.decision_timeout_ms,
            termination_timeout_ms: c.termination_timeout_ms,
            retry_ms: c.retry_ms,
        }
    }
}

impl ThreePhaseConfig {
    /// The Three-Phase Commit settings of `scenario` (the defaults for another protocol's).
    pub fn of(scenario: &Scenario) -> ThreePhaseConfig {
        match &scenario.protocol {
            super::ProtocolConfig::ThreePhaseCommit(c) => c.clone(),
            _ => ThreePhaseConfig::default(),
        }
    }

    fn consensus(&self) -> Config {
        let t = self.timeouts;
        Config {
            vote_timeout_ms: t.vote_timeout_ms,
            ack_timeout_ms: t.ack_timeout_ms,
            decision_timeout_ms: t.decision_timeout_ms,
            termination_timeout_ms: t.termination_timeout_ms,
            retry_ms: t.retry_ms,
            variant: self.variant,
        }
    }
}

impl Plugin for ThreePhaseConfig {
    fn name(&self) -> &'static str {
        "three-phase-commit"
    }

    fn variant_name(&self) -> &'static str {
        self.variant.name()
    }

    fn correct(&self) -> super::ProtocolConfig {
        super::ProtocolConfig::ThreePhaseCommit(Self {
            variant: Variant::Correct,
            ..self.clone()
        })
    }

    fn assumptions(&self) -> Option<super::Assumptions> {
        // The termination protocol trusts timeouts (a timed-out participant is presumed crashed), so a fast clock lies like a slow network; VOTED, PRE-COMMITTED and COMMITTED must survive a crash.
        Some(super::Assumptions {
            clocks: super::ClockAssumption::Synchrony,
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
        let t = self.timeouts;
        for (field, value) in [
            ("timeouts.vote_timeout_ms", t.vote_timeout_ms),
            ("timeouts.ack_timeout_ms", t.ack_timeout_ms),
            ("timeouts.decision_timeout_ms", t.decision_timeout_ms),
            ("timeouts.termination_timeout_ms", t.termination_timeout_ms),
            ("timeouts.retry_ms", t.retry_ms),
        ] {
            check_range(field, value, 1, crate::MAX_DURATION_MS)?;
        }
        super::commit::check_workload(spec, spec.nodes - 1)
    }

    fn run(
        &self,
        scenario: &Scenario,
        seed: u64,
        driver: Driver,
    ) -> Result<Box<dyn DynRun>, ScenarioError> {
        crate::run::start(ThreePhase::new(scenario), scenario, seed, driver)
    }

    /// A coordinator and two participants, one transaction, no crash: any timer may fire
    /// before any message, which is what breaks 3PC.
    fn small_config(&self, scenario: &Scenario) -> Result<SmallConfig, CheckRefusal> {
        let scenario = scenario
            .edit(|s| {
                s.nodes = 3;
                s.faults.clear();
                s.workload.transactions = 1;
                s.workload.participants_per_tx = None;
                s.workload.conflicts.clear();
            })
            .map_err(CheckRefusal::Scenario)?;
        Ok(SmallConfig {
            scenario,
            crashes: 0,
            timeouts: Some(3),
            max_depth: 20,
        })
    }

    fn check_small(
        &self,
        config: &SmallConfig,
        request: &CheckRequest,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<ScenarioCheck, CheckRefusal> {
        Ok(model::check_small(
            three_phase_model(config),
            config,
            request,
            progress,
        ))
    }
}

/// The model of a 3PC configuration (timers carry a wait number that only grows, so stale
/// ones are dropped).
pub fn three_phase_model(config: &SmallConfig) -> ProtocolModel<ThreePhase> {
    model::small_model(config, ThreePhase::new).with_stale_timers_dropped()
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
            Msg::CanCommit { tx, .. } => format!("can-commit {tx}"),
            Msg::Vote { tx, vote } => format!("vote {} {tx}", vote_word(*vote)),
            Msg::PreCommit { tx, term } => format!("pre-commit {tx} ({term})"),
            Msg::Ack { tx, term } => format!("ack {tx} ({term})"),
            Msg::Decision { tx, outcome } => format!("{} {tx}", outcome_word(*outcome)),
            Msg::Elect { tx, term } => format!("elect {tx} ({term})"),
            Msg::StateReq { tx, term } => format!("state-req {tx} ({term})"),
            Msg::StateReport { tx, term, state } => {
                format!("state {} {tx} ({term})", state.letter())
            }
            Msg::Query { tx } => format!("query {tx}"),
        }
    }

    fn label_timer(timer: &Timer) -> String {
        match timer {
            Timer::VoteTimeout(tx) => format!("vote timeout {tx}"),
            Timer::AckTimeout(tx) => format!("ack timeout {tx}"),
            Timer::Retry(tx) => format!("retry {tx}"),
            Timer::Wait { tx, wait } => format!("timeout {tx} (wait {wait})"),
        }
    }
}

fn vote_word(vote: underhood_consensus::three_phase::Vote) -> &'static str {
    match vote {
        underhood_consensus::three_phase::Vote::Commit => "yes",
        underhood_consensus::three_phase::Vote::Abort => "no",
    }
}

/// A Three-Phase Commit cluster: node 0 coordinates, nodes 1.. participate.
#[derive(Clone, Debug)]
pub struct ThreePhase {
    config: Config,
    n_nodes: u32,
    commit: Commit,
}

impl ThreePhase {
    /// The cluster a scenario describes (see [`ThreePhaseConfig::of`]).
    pub fn new(scenario: &Scenario) -> ThreePhase {
        ThreePhase {
            config: ThreePhaseConfig::of(scenario).consensus(),
            n_nodes: scenario.nodes,
            commit: Commit::new(scenario, scenario.nodes - 1),
        }
    }

    fn role(id: NodeId) -> Role {
        if id == COORDINATOR {
            Role::Coordinator
        } else {
            Role::Participant {
                coordinator: COORDINATOR,
            }
        }
    }

    /// How each node decided `tx`, if it did.
    pub fn decisions(&self, tx: underhood_consensus::TxId) -> Vec<(NodeId, Outcome)> {
        self.commit.decisions(tx)
    }
}

fn node_name(id: NodeId) -> String {
    super::commit::node_name(id, None)
}

impl Protocol for ThreePhase {
    type Node = Node;

    fn n_nodes(&self) -> u32 {
        self.n_nodes
    }

    fn node_name(&self, id: NodeId) -> String {
        node_name(id)
    }

    fn boot(&self, id: NodeId, _out: &mut Vec<Effects<Node>>) -> Node {
        match Self::role(id) {
            Role::Coordinator => Node::coordinator(id, self.config),
            Role::Participant { coordinator } => Node::participant(id, coordinator, self.config),
        }
    }

    fn recover(&self, id: NodeId, log: &[Record], now: Time, out: &mut Vec<Effects<Node>>) -> Node {
        Node::recover(id, Self::role(id), self.config, log, now, out)
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
            Output::PreCommitted { .. } | Output::TookOver { .. } | Output::Replied { .. } => {
                return;
            }
        };
        self.commit.observe(now, node, fact, node_name, violations);
    }

    fn details(&self, now: Time) -> Map<String, Value> {
        let mut map = Map::new();
        map.insert("commit".into(), json!(self.commit.report(now)));
        map
    }

    fn node_details(&self, id: NodeId, node: Option<&Node>, now: Time) -> Map<String, Value> {
        let role = if id == COORDINATOR {
            "coordinator"
        } else {
            "participant"
        };
        let views = node.map(Node::views).unwrap_or_default();
        let keep_from = views.len().saturating_sub(8);
        let txs: Vec<Value> = views[keep_from..]
            .iter()
            .map(|(tx, v)| {
                json!({
                    "tx": tx.0, "state": v.state, "letter": v.state.letter().to_string(),
                    "term": v.term.0, "backup": v.backup,
                    "in_doubt_since": v.in_doubt_since.map(|t| t.0),
                })
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
        self.commit.summarize(now, node_name, out);
    }
}
