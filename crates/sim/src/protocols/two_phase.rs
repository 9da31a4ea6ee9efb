//! Two-Phase Commit in the simulator: the [`Process`] impl for `consensus::two_phase::Node`,
//! the client workload, the invariants (atomicity, commit validity, stable decisions) and the
//! liveness report (how long each participant stayed in doubt).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use underhood_consensus::two_phase::{
    Config, Msg, Node, Outcome, Output, Record, Request, Role, Status, Timer, TxView, Variant, Vote,
};
use underhood_consensus::{NodeId, Time, TxId};

use super::Plugin;
use super::commit::{Commit, Fact, outcome_word};
use crate::error::ScenarioError;
use crate::model::{
    self, CheckRefusal, CheckRequest, Progress, ProtocolModel, Reachable, ScenarioCheck,
    SmallConfig,
};
use crate::process::{Effects, Inputs, Process, Protocol, Violation};
use crate::rng::SimRng;
use crate::run::{Driver, DynRun};
use crate::scenario::{Scenario, ScenarioSpec};

/// The gallery scenarios of Two-Phase Commit, in display order.
pub(crate) const GALLERY: &[&str] = &[
    include_str!("../../scenarios/happy-path.json"),
    include_str!("../../scenarios/no-vote.json"),
    include_str!("../../scenarios/coordinator-crash-before-decision.json"),
    include_str!("../../scenarios/coordinator-crash-after-decision.json"),
    include_str!("../../scenarios/participant-crash-after-yes.json"),
    include_str!("../../scenarios/lost-messages.json"),
    include_str!("../../scenarios/partition-during-commit.json"),
    include_str!("../../scenarios/announce-before-log.json"),
    include_str!("../../scenarios/vote-before-log.json"),
    include_str!("../../scenarios/abort-on-timeout.json"),
    include_str!("../../scenarios/disk-torn-write.json"),
    include_str!("../../scenarios/disk-corrupt-prepared.json"),
    include_str!("../../scenarios/disk-lost-fsync.json"),
    include_str!("../../scenarios/bench.json"),
];

/// The message kinds of Two-Phase Commit, as fault rules name them.
const MSG_KINDS: &[&str] = &[
    "prepare", "vote", "commit", "abort", "ack", "query", "status",
];

/// Two-Phase Commit's part of a scenario (`"protocol": "two-phase-commit"`): its variant and
/// timeouts. Node 0 is the coordinator, the others participants.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TwoPhaseConfig {
    /// Which variant runs (`"correct"` or a deliberately broken one).
    #[serde(default)]
    pub variant: Variant,
    /// The protocol's timeouts.
    #[serde(default)]
    pub timeouts: Timeouts,
}

/// Two-Phase Commit timeouts in milliseconds.
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
        let c = Config::default();
        Timeouts {
            vote_timeout_ms: c.vote_timeout_ms,
            decision_timeout_ms: c.decision_timeout_ms,
            retry_ms: c.retry_ms,
        }
    }
}

impl TwoPhaseConfig {
    /// The Two-Phase Commit settings of `scenario` (the defaults for another protocol's).
    pub fn of(scenario: &Scenario) -> TwoPhaseConfig {
        match &scenario.protocol {
            super::ProtocolConfig::TwoPhaseCommit(c) => c.clone(),
            _ => TwoPhaseConfig::default(),
        }
    }
}

impl Plugin for TwoPhaseConfig {
    fn name(&self) -> &'static str {
        "two-phase-commit"
    }

    fn variant_name(&self) -> &'static str {
        self.variant.name()
    }

    fn correct(&self) -> super::ProtocolConfig {
        super::ProtocolConfig::TwoPhaseCommit(Self {
            variant: Variant::Correct,
            ..self.clone()
        })
    }

    fn assumptions(&self) -> Option<super::Assumptions> {
        // Timers only drive retries and the coordinator's presumed-abort timeout; a participant's forced PREPARED and the coordinator's forced COMMIT must survive a crash.
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
        super::commit::check_workload(spec, spec.nodes - 1)
    }

    fn run(
        &self,
        scenario: &Scenario,
        seed: u64,
        driver: Driver,
    ) -> Result<Box<dyn DynRun>, ScenarioError> {
        crate::run::start(TwoPhase::new(scenario), scenario, seed, driver)
    }

    /// A coordinator and two participants, one transaction, one crash.
    fn small_config(&self, scenario: &Scenario) -> Result<SmallConfig, CheckRefusal> {
        let scenario = scenario
            .edit(|s| {
                s.nodes = s.nodes.min(3);
                // The checker chooses every fault itself.
                s.faults.clear();
                s.workload.transactions = 1;
            })
            .map_err(CheckRefusal::Scenario)?;
        Ok(SmallConfig {
            scenario,
            crashes: 1,
            timeouts: None,
            max_depth: 24,
        })
    }

    fn check_small(
        &self,
        config: &SmallConfig,
        request: &CheckRequest,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<ScenarioCheck, CheckRefusal> {
        Ok(model::check_small(
            two_phase_model(config),
            config,
            request,
            progress,
        ))
    }
}

/// The model of a 2PC configuration, with the blocking state as a "sometimes" property and
/// "every node decides" as an "eventually" one.
pub fn two_phase_model(config: &SmallConfig) -> ProtocolModel<TwoPhase> {
    model::small_model(config, TwoPhase::new)
        .sometimes(Reachable {
            name: "in-doubt-while-coordinator-down",
            holds: TwoPhase::in_doubt_while_coordinator_down,
        })
        .eventually(Reachable {
            name: "all-decided",
            holds: TwoPhase::all_decided,
        })
}

/// The coordinator's id: node 0.
pub const COORDINATOR: NodeId = super::commit::COORDINATOR;

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
            Msg::Vote { tx, vote } => format!("vote {} {tx}", vote_word(*vote)),
            Msg::Decision { tx, outcome } => format!("{} {tx}", outcome_word(*outcome)),
            Msg::Ack { tx } => format!("ack {tx}"),
            Msg::Query { tx } => format!("query {tx}"),
            Msg::Status {
                tx,
                status: Status::Decided(o),
            } => format!("status {tx}: {}", outcome_word(*o)),
            Msg::Status {
                tx,
                status: Status::InDoubt,
            } => format!("status {tx}: in doubt"),
        }
    }

    fn label_timer(timer: &Timer) -> String {
        match timer {
            Timer::VoteTimeout(tx) => format!("vote timeout {tx}"),
            Timer::Resend(tx) => format!("resend {tx}"),
            Timer::DecisionTimeout(tx) => format!("decision timeout {tx}"),
        }
    }

    fn label_record(record: &Record) -> String {
        match record {
            Record::Prepared { tx, .. } => format!("prepared {tx}"),
            Record::Committed { tx, .. } => format!("committed {tx}"),
            Record::Aborted { tx } => format!("aborted {tx}"),
            Record::End { tx } => format!("end {tx}"),
        }
    }

    fn label_request(request: &Request) -> String {
        match request {
            Request::Begin { tx, .. } => format!("begin {tx}"),
        }
    }

    fn label_output(output: &Output) -> String {
        match output {
            Output::Voted { tx, vote } => format!("voted {} {tx}", vote_word(*vote)),
            Output::Decided { tx, outcome } => format!("decided {} {tx}", outcome_word(*outcome)),
            Output::Replied { tx, outcome } => format!("replied {} {tx}", outcome_word(*outcome)),
        }
    }
}

/// `C` for the coordinator, `P1`, `P2`, … for participants.
fn node_name(id: NodeId) -> String {
    super::commit::node_name(id, None)
}

fn vote_word(vote: Vote) -> &'static str {
    match vote {
        Vote::Commit => "commit",
        Vote::Abort => "abort",
    }
}

/// A Two-Phase Commit cluster: node 0 coordinates, nodes 1.. participate.
#[derive(Clone, Debug)]
pub struct TwoPhase {
    config: Config,
    n_nodes: u32,
    commit: Commit,
}

impl TwoPhase {
    /// The cluster a scenario describes (see [`TwoPhaseConfig::of`]).
    pub fn new(scenario: &Scenario) -> TwoPhase {
        let c = TwoPhaseConfig::of(scenario);
        let t = c.timeouts;
        let config = Config {
            vote_timeout_ms: t.vote_timeout_ms,
            decision_timeout_ms: t.decision_timeout_ms,
            retry_ms: t.retry_ms,
            variant: c.variant,
        };
        TwoPhase {
            config,
            n_nodes: scenario.nodes,
            commit: Commit::new(scenario, scenario.nodes - 1),
        }
    }

    fn role(&self, id: NodeId) -> Role {
        if id == COORDINATOR {
            Role::Coordinator
        } else {
            Role::Participant {
                coordinator: COORDINATOR,
            }
        }
    }

    /// Milliseconds `node` has spent in doubt up to `now`, counting open spells.
    pub fn in_doubt_ms(&self, node: NodeId, now: Time) -> u64 {
        self.commit.in_doubt_ms(node, now)
    }

    /// A "sometimes" property for the model checker: a participant is in doubt while the
    /// coordinator is down (2PC's blocking state).
    pub fn in_doubt_while_coordinator_down(nodes: &[Option<&Node>]) -> bool {
        nodes.first().is_some_and(Option::is_none)
            && nodes.iter().skip(1).flatten().any(|n| {
                n.views()
                    .iter()
                    .any(|(_, v)| matches!(v, TxView::InDoubt { .. }))
            })
    }

    /// An "eventually" goal for the model checker: every node that is up has decided every
    /// transaction it heard of, and the coordinator is up and heard of one.
    pub fn all_decided(nodes: &[Option<&Node>]) -> bool {
        let decided = |n: &&Node| {
            n.views()
                .iter()
                .all(|(_, v)| matches!(v, TxView::Decided { .. }))
        };
        nodes
            .first()
            .copied()
            .flatten()
            .is_some_and(|c| !c.views().is_empty())
            && nodes.iter().flatten().all(decided)
    }

    /// How each node decided `tx`, if it did.
    pub fn decisions(&self, tx: TxId) -> Vec<(NodeId, Outcome)> {
        self.commit.decisions(tx)
    }
}

impl Protocol for TwoPhase {
    type Node = Node;

    fn n_nodes(&self) -> u32 {
        self.n_nodes
    }

    fn node_name(&self, id: NodeId) -> String {
        node_name(id)
    }

    fn boot(&self, id: NodeId, _out: &mut Vec<Effects<Node>>) -> Node {
        match self.role(id) {
            Role::Coordinator => Node::coordinator(id, self.config),
            Role::Participant { coordinator } => Node::participant(id, coordinator, self.config),
        }
    }

    fn recover(&self, id: NodeId, log: &[Record], now: Time, out: &mut Vec<Effects<Node>>) -> Node {
        Node::recover(id, self.role(id), self.config, log, now, out)
    }

    fn start_clients(&mut self, _rng: &mut SimRng, wake: &mut Vec<(Time, u64)>) {
        self.commit.start_clients(wake);
    }

    /// One client submits transaction `token` and plans the next one an interval later.
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
            Output::Replied { .. } => return,
        };
        self.commit.observe(now, node, fact, node_name, violations);
    }

    fn details(&self, now: Time) -> Map<String, Value> {
        let mut map = Map::new();
        map.insert("commit".into(), json!(self.commit.report(now)));
        map
    }

    fn node_details(&self, id: NodeId, node: Option<&Node>, now: Time) -> Map<String, Value> {
        let role = match self.role(id) {
            Role::Coordinator => "coordinator",
            Role::Participant { .. } => "participant",
        };
        let views = node.map(Node::views).unwrap_or_default();
        // Show every open transaction and the latest few decided ones.
        let decided: Vec<usize> = views
            .iter()
            .enumerate()
            .filter(|(_, (_, v))| matches!(v, TxView::Decided { .. }))
            .map(|(i, _)| i)
            .collect();
        let keep_from = decided.len().saturating_sub(8);
        let txs: Vec<Value> = views
            .iter()
            .enumerate()
            .filter(|(i, (_, v))| {
                !matches!(v, TxView::Decided { .. }) || decided[keep_from..].contains(i)
            })
            .map(|(_, (tx, v))| {
                let mut j = serde_json::to_value(v).unwrap_or(Value::Null);
                j["tx"] = json!(tx.0);
                j
            })
            .collect();
        let mut map = Map::new();
        map.insert("role".into(), json!(role));
        map.insert("txs".into(), Value::Array(txs));
        map.insert("in_doubt_ms".into(), json!(self.in_doubt_ms(id, now)));
        map.insert("in_doubt_now".into(), json!(self.commit.in_doubt_now(id)));
        map
    }

    fn summarize(&self, now: Time, out: &mut String) {
        self.commit.summarize(now, node_name, out);
    }
}
