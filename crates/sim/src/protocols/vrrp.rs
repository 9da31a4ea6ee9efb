//! VRRP in the simulator: the [`Process`] impl for `consensus::vrrp::Node`, operator actions
//! (graceful shutdown, start, priority changes as keepalived's tracking makes them), the
//! invariant "at most one router holds the virtual IP", and the availability report (how long
//! nobody held the address, how long two did, how often it moved).
//!
//! Plain VRRP (variant `correct`, RFC 5798 as written) breaks the invariant under a partition:
//! that is the protocol's design, and the scenarios show it. Variant `lease` gates mastership on a
//! PaxosLease from a majority of routers and witnesses, and keeps the invariant at the price of
//! availability.

use std::collections::BTreeSet;
use std::fmt::Write;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use underhood_consensus::vrrp::{
    Config, DEFAULT_MAX_DRIFT_PPM, Lease, MAX_DRIFT_PPM as MAX_LEASE_DRIFT_PPM, Msg, Node,
    OWNER_PRIORITY, Output, Record, Request, StepDown, Timer,
};
use underhood_consensus::{NodeId, Time};

use super::Plugin;
use crate::error::ScenarioError;
use crate::model::{CheckRefusal, CheckRequest, Progress, ScenarioCheck, SmallConfig};
use crate::process::{Effects, Inputs, Process, Protocol, Violation};
use crate::rng::SimRng;
use crate::run::{Driver, DynRun};
use crate::scenario::{MAX_DURATION_MS, Scenario, ScenarioSpec, check_range};

/// The gallery scenarios of VRRP, in display order.
pub(crate) const GALLERY: &[&str] = &[
    include_str!("../../scenarios/vrrp-master-crash.json"),
    include_str!("../../scenarios/vrrp-preempt.json"),
    include_str!("../../scenarios/vrrp-no-preempt.json"),
    include_str!("../../scenarios/vrrp-flapping.json"),
    include_str!("../../scenarios/vrrp-split-brain.json"),
    include_str!("../../scenarios/vrrp-lease-partition.json"),
    include_str!("../../scenarios/vrrp-lease-no-quorum.json"),
    include_str!("../../scenarios/vrrp-lease-clock-drift.json"),
    include_str!("../../scenarios/vrrp-lease-drift-within-bound.json"),
];

/// The variants a `vrrp` scenario may name.
pub const VARIANTS: [&str; 2] = ["correct", "lease"];

/// Which VRRP runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum VrrpVariant {
    /// RFC 5798 as written: two masters under a partition, by design.
    #[default]
    Correct,
    /// Mastership gated on a PaxosLease from a majority of routers and witnesses.
    Lease,
}

impl VrrpVariant {
    /// The variant's name.
    pub fn name(self) -> &'static str {
        match self {
            VrrpVariant::Correct => VARIANTS[0],
            VrrpVariant::Lease => VARIANTS[1],
        }
    }
}

/// VRRP's part of a scenario (`"protocol": "vrrp"`): its variant and settings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VrrpConfig {
    /// Which variant runs.
    #[serde(default)]
    pub variant: VrrpVariant,
    /// Priorities, timing and operator actions.
    #[serde(default, skip_serializing_if = "VrrpSettings::is_default")]
    pub vrrp: VrrpSettings,
}

impl VrrpConfig {
    /// The VRRP settings of `scenario` (the defaults for another protocol's).
    pub fn of(scenario: &Scenario) -> VrrpConfig {
        match &scenario.protocol {
            super::ProtocolConfig::Vrrp(c) => c.clone(),
            _ => VrrpConfig::default(),
        }
    }
}

impl Plugin for VrrpConfig {
    fn name(&self) -> &'static str {
        "vrrp"
    }

    fn variant_name(&self) -> &'static str {
        self.variant.name()
    }

    fn correct(&self) -> super::ProtocolConfig {
        super::ProtocolConfig::Vrrp(Self {
            variant: VrrpVariant::Correct,
            ..self.clone()
        })
    }

    fn assumptions(&self) -> Option<super::Assumptions> {
        // Plain VRRP promises nothing a clock could keep; the lease is safe while every clock
        // drifts within `max_drift_ppm`. PaxosLease keeps nothing on disk: a restarted acceptor
        // stays silent for a lease duration instead.
        Some(super::Assumptions {
            clocks: match self.variant {
                VrrpVariant::Correct => super::ClockAssumption::NoSafetyPromise,
                VrrpVariant::Lease => super::ClockAssumption::BoundedDrift,
            },
            disk: super::DiskAssumption::NoDurableState,
        })
    }

    fn msg_kinds(&self) -> Option<&'static [&'static str]> {
        Some(&Msg::KINDS)
    }

    fn invariants(&self) -> &'static [crate::violation::RunInvariant] {
        &[crate::violation::RunInvariant {
            name: "single-vip-holder",
            promise: "at most one router holds the virtual IP at a time",
        }]
    }

    fn check(&self, spec: &ScenarioSpec) -> Result<(), ScenarioError> {
        let v = &self.vrrp;
        let witnesses = v.witness_count(self.variant);
        check_range(
            "vrrp.witnesses",
            u64::from(witnesses),
            0,
            u64::from(spec.nodes - 1),
        )?;
        let routers = spec.nodes - witnesses;
        check_range(
            "vrrp.priorities (one per router)",
            v.priorities.len() as u64,
            0,
            u64::from(routers),
        )?;
        check_range("vrrp.advert_ms", v.advert_ms, 1, 40_950)?;
        for &p in &v.priorities {
            check_range("vrrp.priorities[]", u64::from(p), 1, 255)?;
        }
        if self.variant == VrrpVariant::Lease {
            check_range("vrrp.lease_ms", v.lease_ms, 2, MAX_DURATION_MS)?;
            check_range(
                "vrrp.max_drift_ppm",
                v.max_drift_ppm,
                0,
                MAX_LEASE_DRIFT_PPM,
            )?;
            let lease = Lease {
                acceptors: Vec::new(),
                duration_ms: v.lease_ms,
                renew_ms: v.renew_ms,
                max_drift_ppm: v.max_drift_ppm,
            };
            check_range(
                "vrrp.renew_ms",
                v.renew_ms,
                1,
                lease.holder_ms().saturating_sub(1),
            )?;
        }
        for a in &v.operator {
            check_range(
                "vrrp.operator[].node",
                u64::from(a.node),
                0,
                u64::from(routers) - 1,
            )?;
            if let Action::SetPriority { priority } = a.action {
                check_range("vrrp.operator[].priority", u64::from(priority), 1, 254)?;
            }
        }
        Ok(())
    }

    fn run(
        &self,
        scenario: &Scenario,
        seed: u64,
        driver: Driver,
    ) -> Result<Box<dyn DynRun>, ScenarioError> {
        crate::run::start(Vrrp::new(scenario), scenario, seed, driver)
    }

    fn small_config(&self, _: &Scenario) -> Result<SmallConfig, CheckRefusal> {
        Err(CheckRefusal::Timing { protocol: "vrrp" })
    }

    fn check_small(
        &self,
        _: &SmallConfig,
        _: &CheckRequest,
        _: &mut dyn FnMut(Progress),
    ) -> Result<ScenarioCheck, CheckRefusal> {
        Err(CheckRefusal::Timing { protocol: "vrrp" })
    }
}

/// VRRP settings of a scenario (the `vrrp` object).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VrrpSettings {
    /// Router priorities in node order (missing ones: 200, 150, 100, … down to 1).
    pub priorities: Vec<u8>,
    /// The advertisement interval.
    pub advert_ms: u64,
    /// Whether backups preempt a master of lower priority.
    pub preempt: bool,
    /// Variant `lease`: how many of the last nodes are witnesses (default 1).
    pub witnesses: Option<u32>,
    /// Variant `lease`: the lease duration.
    pub lease_ms: u64,
    /// Variant `lease`: how often the holder renews.
    pub renew_ms: u64,
    /// Variant `lease`: the most any clock may drift, in parts per million (default 1 000);
    /// holders give up early and acceptors hold grants late by the margin it needs.
    pub max_drift_ppm: u64,
    /// What the operator does, and when.
    pub operator: Vec<OperatorAction>,
}

impl Default for VrrpSettings {
    fn default() -> Self {
        VrrpSettings {
            priorities: Vec::new(),
            advert_ms: 1000,
            preempt: true,
            witnesses: None,
            lease_ms: 3000,
            renew_ms: 1000,
            max_drift_ppm: DEFAULT_MAX_DRIFT_PPM,
            operator: Vec::new(),
        }
    }
}

impl VrrpSettings {
    /// Whether nothing differs from the defaults (then scenario files leave it out).
    pub fn is_default(&self) -> bool {
        *self == VrrpSettings::default()
    }

    /// How many witnesses a scenario of `variant` has.
    pub fn witness_count(&self, variant: VrrpVariant) -> u32 {
        match variant {
            VrrpVariant::Lease => self.witnesses.unwrap_or(1),
            VrrpVariant::Correct => 0,
        }
    }
}

/// An operator's action on a router at a moment. (serde cannot deny unknown fields next to a
/// flattened enum; `Scenario::check` validates the values.)
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct OperatorAction {
    /// When.
    pub at_ms: u64,
    /// Which router.
    pub node: u32,
    /// What.
    #[serde(flatten)]
    pub action: Action,
}

/// What the operator does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// `systemctl stop keepalived`: a master says goodbye with priority 0.
    Shutdown,
    /// `systemctl start keepalived`.
    Start,
    /// A tracked interface or script changes the priority.
    SetPriority {
        /// The new priority (1–254).
        priority: u8,
    },
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
            Msg::Advert { priority: 0, .. } => "advert prio 0 (goodbye)".to_owned(),
            Msg::Advert { priority, .. } => format!("advert prio {priority}"),
            Msg::Prepare { ballot, .. } => format!("lease prepare {ballot}"),
            Msg::Promise {
                ballot,
                holder: Some(h),
            } => format!("promise {ballot} (held by n{})", h.0),
            Msg::Promise { ballot, .. } => format!("promise {ballot}"),
            Msg::Propose { ballot, .. } => format!("lease propose {ballot}"),
            Msg::Accepted { ballot } => format!("accepted {ballot}"),
            Msg::Reject { ballot, promised } => format!("reject {ballot} (promised {promised})"),
            Msg::Release { ballot } => format!("release {ballot}"),
        }
    }

    fn label_timer(timer: &Timer) -> String {
        match timer {
            Timer::Advert(_) => "advert timer".to_owned(),
            Timer::MasterDown(_) => "master-down timer".to_owned(),
            Timer::LeaseEnd(_) => "lease end".to_owned(),
            Timer::LeaseRetry(_) => "lease renew/retry".to_owned(),
        }
    }

    fn label_record(record: &Record) -> String {
        match *record {}
    }

    fn label_request(request: &Request) -> String {
        match request {
            Request::Shutdown => "shutdown".to_owned(),
            Request::Start => "start".to_owned(),
            Request::SetPriority(p) => format!("set priority {p}"),
        }
    }

    fn label_output(output: &Output) -> String {
        match output {
            Output::BecameMaster { .. } => "MASTER: takes the VIP".to_owned(),
            Output::GratuitousArp { vrid } => format!("gratuitous ARP (vrid {vrid})"),
            Output::BecameBackup { reason } => match reason {
                StepDown::Startup => "backup".to_owned(),
                StepDown::HigherPriority { master } => {
                    format!("BACKUP: releases the VIP (n{} has priority)", master.0)
                }
                StepDown::Preempted { by } => {
                    format!("BACKUP: releases the VIP (preempted by n{})", by.0)
                }
                StepDown::LeaseExpired => "BACKUP: releases the VIP (lease ran out)".to_owned(),
            },
            Output::Stopped => "stopped".to_owned(),
            Output::LeaseGranted { until } => format!("lease until {until}"),
        }
    }
}

/// A VRRP virtual router: routers `0..routers`, then the witnesses.
#[derive(Clone, Debug)]
pub struct Vrrp {
    routers: u32,
    witnesses: u32,
    configs: Vec<Config>,
    lease_ms: u64,
    max_drift_ppm: u64,
    operator: Vec<OperatorAction>,
    /// Who holds the VIP now, by the routers' own outputs.
    holders: BTreeSet<NodeId>,
    /// Every span of a router holding the VIP: (router, from, to).
    spans: Vec<(NodeId, Time, Option<Time>)>,
    /// When the count of holders last changed, and the running totals.
    since: Time,
    first_master: Option<Time>,
    no_holder_ms: u64,
    split_ms: u64,
    longest_gap_ms: u64,
    moves: u64,
    last_holder: Option<NodeId>,
}

impl Vrrp {
    /// The virtual router a scenario describes (a [`Scenario`] exists only checked).
    pub fn new(scenario: &Scenario) -> Vrrp {
        let c = VrrpConfig::of(scenario);
        let v = &c.vrrp;
        let witnesses = v.witness_count(c.variant);
        let routers = scenario.nodes - witnesses;
        let peers: Vec<NodeId> = (0..routers).map(NodeId).collect();
        let lease = (c.variant == VrrpVariant::Lease).then(|| Lease {
            acceptors: (0..scenario.nodes).map(NodeId).collect(),
            duration_ms: v.lease_ms,
            renew_ms: v.renew_ms,
            max_drift_ppm: v.max_drift_ppm,
        });
        let configs = (0..routers)
            .map(|i| Config {
                vrid: 1,
                priority: v
                    .priorities
                    .get(i as usize)
                    .copied()
                    .unwrap_or_else(|| default_priority(i)),
                advert_interval_ms: v.advert_ms,
                preempt: v.preempt,
                peers: peers.clone(),
                lease: lease.clone(),
            })
            .collect();
        Vrrp {
            routers,
            witnesses,
            configs,
            lease_ms: v.lease_ms,
            max_drift_ppm: v.max_drift_ppm,
            operator: v.operator.clone(),
            holders: BTreeSet::new(),
            spans: Vec::new(),
            since: Time(0),
            first_master: None,
            no_holder_ms: 0,
            split_ms: 0,
            longest_gap_ms: 0,
            moves: 0,
            last_holder: None,
        }
    }

    /// Who holds the virtual IP now.
    pub fn holders(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.holders.iter().copied()
    }

    /// Milliseconds with nobody holding the VIP (after the first master), and with two or more.
    pub fn outage_and_split_ms(&self, now: Time) -> (u64, u64) {
        let open = now.0.saturating_sub(self.since.0);
        let (mut none, mut split) = (self.no_holder_ms, self.split_ms);
        if self.first_master.is_some() && self.holders.is_empty() {
            none += open;
        }
        if self.holders.len() >= 2 {
            split += open;
        }
        (none, split)
    }

    /// A "sometimes" or state property: how many routers are master (`None`: down).
    pub fn masters(nodes: &[Option<&Node>]) -> usize {
        nodes.iter().flatten().filter(|n| n.holds_vip()).count()
    }

    fn name(&self, id: NodeId) -> String {
        if id.0 >= self.routers {
            if self.witnesses == 1 {
                "W".to_owned()
            } else {
                format!("W{}", id.0 - self.routers + 1)
            }
        } else {
            format!("R{}", id.0 + 1)
        }
    }

    /// Node `id` starting at `now`: a router with its configuration, or a witness.
    fn start(&self, id: NodeId, now: Time, out: &mut Vec<Effects<Node>>) -> Node {
        match self.configs.get(id.0 as usize) {
            // `Scenario::check` validated every router's configuration, so this never falls back.
            Some(config) => Node::router(id, config.clone(), now, out)
                .unwrap_or_else(|_| Node::witness(id, self.lease_ms, self.max_drift_ppm)),
            None => Node::witness(id, self.lease_ms, self.max_drift_ppm),
        }
    }

    /// Closes the running totals at `now`, before the set of holders changes.
    fn account(&mut self, now: Time) {
        let open = now.0.saturating_sub(self.since.0);
        if self.first_master.is_some() && self.holders.is_empty() {
            self.no_holder_ms += open;
            self.longest_gap_ms = self.longest_gap_ms.max(open);
        }
        if self.holders.len() >= 2 {
            self.split_ms += open;
        }
        self.since = now;
    }

    fn release(&mut self, now: Time, node: NodeId) {
        if !self.holders.contains(&node) {
            return;
        }
        self.account(now);
        self.holders.remove(&node);
        if let Some(span) = self
            .spans
            .iter_mut()
            .rev()
            .find(|(n, _, to)| *n == node && to.is_none())
        {
            span.2 = Some(now);
        }
    }
}

fn default_priority(i: u32) -> u8 {
    200u32.saturating_sub(50 * i).max(1) as u8
}

impl Protocol for Vrrp {
    type Node = Node;

    fn n_nodes(&self) -> u32 {
        self.routers + self.witnesses
    }

    fn node_name(&self, id: NodeId) -> String {
        self.name(id)
    }

    fn boot(&self, id: NodeId, out: &mut Vec<Effects<Node>>) -> Node {
        self.start(id, Time(0), out)
    }

    fn recover(
        &self,
        id: NodeId,
        _log: &[Record],
        now: Time,
        out: &mut Vec<Effects<Node>>,
    ) -> Node {
        let node = self.start(id, now, out);
        node.restarted(now)
    }

    fn start_clients(&mut self, _rng: &mut SimRng, wake: &mut Vec<(Time, u64)>) {
        for (i, a) in self.operator.iter().enumerate() {
            wake.push((Time(a.at_ms), i as u64));
        }
    }

    fn wake_client(
        &mut self,
        _now: Time,
        token: u64,
        _rng: &mut SimRng,
        _wake: &mut Vec<(Time, u64)>,
    ) -> Option<(NodeId, Request)> {
        let a = self.operator.get(usize::try_from(token).ok()?)?;
        let request = match a.action {
            Action::Shutdown => Request::Shutdown,
            Action::Start => Request::Start,
            Action::SetPriority { priority } => Request::SetPriority(priority),
        };
        Some((NodeId(a.node), request))
    }

    fn observe(
        &mut self,
        now: Time,
        node: NodeId,
        output: &Output,
        violations: &mut Vec<Violation>,
        _wake: &mut Vec<(Time, u64)>,
    ) {
        match output {
            Output::BecameMaster { .. } => {
                if self.holders.contains(&node) {
                    return;
                }
                self.account(now);
                if self.first_master.is_none() {
                    self.first_master = Some(now);
                }
                if self.last_holder.is_some_and(|l| l != node) {
                    self.moves += 1;
                }
                self.last_holder = Some(node);
                if let Some(&other) = self.holders.iter().next() {
                    let why = if self.configs.iter().any(|c| c.lease.is_some()) {
                        "a lease is safe only while every clock drifts within the bound it \
                         states: a holder whose clock runs slower keeps it too long"
                    } else {
                        "VRRP asks nobody: a backup that stops hearing the master, or outranks \
                         it, takes over at once"
                    };
                    let detail = format!(
                        "{} took the virtual IP while {} still holds it: two routers answer for \
                         one address ({why})",
                        self.name(node),
                        self.name(other)
                    );
                    violations
                        .push(Violation::new("single-vip-holder", detail).nodes([node, other]));
                }
                self.holders.insert(node);
                self.spans.push((node, now, None));
            }
            Output::BecameBackup { .. } | Output::Stopped => self.release(now, node),
            Output::GratuitousArp { .. } | Output::LeaseGranted { .. } => {}
        }
    }

    fn crashed(&mut self, now: Time, node: NodeId) {
        self.release(now, node);
    }

    fn details(&self, now: Time) -> Map<String, Value> {
        let (none, split) = self.outage_and_split_ms(now);
        let mut m = Map::new();
        m.insert(
            "vip".into(),
            json!({
                "holders": self.holders.iter().map(|n| n.0).collect::<Vec<_>>(),
                "spans": self.spans.iter().map(|(n, from, to)| json!({
                    "node": n.0, "from_ms": from.0, "to_ms": to.map(|t| t.0),
                })).collect::<Vec<_>>(),
                "no_holder_ms": none,
                "split_ms": split,
                "moves": self.moves,
            }),
        );
        m
    }

    fn node_details(&self, id: NodeId, node: Option<&Node>, now: Time) -> Map<String, Value> {
        let mut m = Map::new();
        let witness = id.0 >= self.routers;
        m.insert(
            "role".into(),
            json!(if witness { "witness" } else { "router" }),
        );
        let Some(node) = node else {
            return m;
        };
        let v = node.view(now);
        m.insert(
            "vrrp".into(),
            json!({
                "witness": v.witness,
                "state": if v.witness { "witness" } else { v.state.name() },
                "priority": v.priority,
                "owner": v.priority == OWNER_PRIORITY,
                "vip": node.holds_vip(),
                "master": v.master.map(|m| m.0),
                "master_down_at_ms": v.master_down_at.map(|t| t.0),
                "lease_until_ms": v.lease_until.map(|t| t.0),
                "granted": v.granted.map(|(h, until)| json!({"holder": h.0, "until_ms": until.0})),
            }),
        );
        m
    }

    fn summarize(&self, now: Time, out: &mut String) {
        let (none, split) = self.outage_and_split_ms(now);
        let holders: Vec<String> = self.holders.iter().map(|&n| self.name(n)).collect();
        let _ = writeln!(
            out,
            "vip holder at the end: {}",
            if holders.is_empty() {
                "nobody".to_owned()
            } else {
                holders.join(" and ")
            }
        );
        let _ = writeln!(
            out,
            "vip moves: {}, without a holder: {none} ms (longest gap {} ms), split brain: {split} ms",
            self.moves,
            self.longest_gap_ms
                .max(if self.holders.is_empty() && self.first_master.is_some() {
                    now.0.saturating_sub(self.since.0)
                } else {
                    0
                })
        );
    }
}
