//! Checking a gallery scenario exhaustively: its protocol's small configuration (as few nodes,
//! clients, requests, crashes and timeouts as its bug needs, so a breadth-first search reaches
//! the shortest counterexample), the search, and one structured report. The CLI and the WASM
//! binding both call [`check_scenario`], so they check and report the same thing.

use serde::Serialize;
use serde_json::Value;

use super::{
    CheckerOptions, LiveVerdict, Order, Progress, ProtocolModel, Verdict, check_with_progress,
};
use crate::error::ScenarioError;
use crate::process::Protocol;
use crate::run::Replay;
use crate::scenario::Scenario;

/// What to explore for one scenario.
#[derive(Clone, Debug)]
pub struct SmallConfig {
    /// The scenario, shrunk (nodes, clients, requests); its variant is kept.
    pub scenario: Scenario,
    /// Crashes allowed in one path.
    pub crashes: u8,
    /// Timer firings allowed in one path (`None`: any number).
    pub timeouts: Option<u8>,
    /// Depth (in states, the initial one counting as 1) within which the search finishes.
    pub max_depth: u32,
}

/// How to check a scenario: overrides of its small configuration's budgets, network faults,
/// and search settings.
#[derive(Clone, Debug)]
pub struct CheckRequest {
    /// Paths of at most this many steps (default: the small configuration's).
    pub max_depth: Option<u32>,
    /// Crashes allowed in one path (default: the small configuration's).
    pub crashes: Option<u8>,
    /// Timer firings allowed in one path (default: the small configuration's).
    pub timeouts: Option<u8>,
    /// Whether the network may lose messages.
    pub loss: bool,
    /// Whether the network may deliver a message and keep a copy for later.
    pub duplication: bool,
    /// Breadth or depth first.
    pub order: Order,
    /// Worker threads for breadth-first search.
    pub threads: usize,
    /// Stop after about this many unique states, truncated (default: no limit).
    pub max_states: Option<u64>,
    /// Disk faults that may strike, at most one per path (see
    /// [`ProtocolModel::with_disk_faults`]); none by default.
    pub disk_faults: Vec<crate::scenario::DiskFault>,
}

impl Default for CheckRequest {
    fn default() -> Self {
        CheckRequest {
            max_depth: None,
            crashes: None,
            timeouts: None,
            loss: false,
            duplication: false,
            order: Order::BreadthFirst,
            threads: 1,
            max_states: None,
            disk_faults: Vec::new(),
        }
    }
}

/// Why a scenario cannot be checked exhaustively.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CheckRefusal {
    /// The protocol's safety rests on timing, which the untimed checker does not model.
    #[error(
        "{protocol} is built on timing (master-down intervals, lease durations); the untimed \
         model checker would report every timer race as a violation: use `sim run` or `sim explore`"
    )]
    Timing {
        /// The protocol.
        protocol: &'static str,
    },
    /// Custom protocols have no gallery configuration.
    #[error("custom protocols are checked with underhood_sim::check")]
    Custom,
    /// The small configuration is not a valid scenario.
    #[error("the checker's small configuration is not valid: {0}")]
    Scenario(ScenarioError),
}

/// A property the checker found reachable, with a shortest path there.
#[derive(Clone, Debug, Serialize)]
pub struct Reached {
    /// The property.
    pub property: &'static str,
    /// Steps to get there.
    pub steps: usize,
    /// The path as trace events.
    pub trace: Vec<Value>,
}

/// An "eventually" property's verdict, with a fair execution that never gets there.
#[derive(Clone, Debug, Serialize)]
pub struct Eventually {
    /// The property.
    pub property: &'static str,
    /// Holds, violated, or unknown.
    pub verdict: LiveVerdict,
    /// Steps before the cycle.
    pub stem: usize,
    /// Steps in the cycle (0: the execution stops).
    pub cycle: usize,
    /// Stem and cycle as trace events.
    pub trace: Vec<Value>,
}

/// The result of [`check_scenario`]: everything the CLI prints and the browser draws.
#[derive(Clone, Debug, Serialize)]
pub struct ScenarioCheck {
    /// The gallery scenario's name.
    pub scenario: String,
    /// Distinct states.
    pub unique_states: u64,
    /// States generated.
    pub states: u64,
    /// The deepest level reached.
    pub max_depth: u32,
    /// Whether an "always" property broke.
    pub verdict: Verdict,
    /// Whether a depth or state limit cut the search short.
    pub truncated: bool,
    /// The property a counterexample breaks.
    pub property: Option<&'static str>,
    /// A shortest counterexample as trace events (empty when none).
    pub counterexample: Vec<Value>,
    /// The counterexample's length in checker steps (0 when none).
    pub counterexample_steps: usize,
    /// The counterexample as a scripted run (`Run::scripted`, `sim replay`, the browser).
    pub replay: Option<Replay>,
    /// "Sometimes" properties found reachable.
    pub reachable: Vec<Reached>,
    /// "Eventually" properties.
    pub eventually: Vec<Eventually>,
}

/// The small configuration the checker explores for `scenario`.
pub fn small_config(scenario: &Scenario) -> Result<SmallConfig, CheckRefusal> {
    scenario.protocol.plugin().small_config(scenario)
}

/// Checks `scenario`'s protocol code exhaustively in its small configuration, with the
/// request's overrides; `progress` hears after every level.
pub fn check_scenario(
    scenario: &Scenario,
    request: &CheckRequest,
    progress: &mut dyn FnMut(Progress),
) -> Result<ScenarioCheck, CheckRefusal> {
    let plugin = scenario.protocol.plugin();
    let mut config = plugin.small_config(scenario)?;
    config.crashes = request.crashes.unwrap_or(config.crashes);
    config.timeouts = request.timeouts.or(config.timeouts);
    config.max_depth = request.max_depth.unwrap_or(config.max_depth);
    let mut report = plugin.check_small(&config, request, progress)?;
    report.scenario.clone_from(&scenario.name);
    Ok(report)
}

/// The model of a small configuration: `make` builds the protocol from its scenario, clients
/// are seeded with the scenario's seed (so a counterexample's script replays in a
/// [`crate::Run::scripted`] with that seed), and the crash and timeout budgets are the
/// configuration's. Each protocol's model adds its own properties and options on top.
pub(crate) fn small_model<P>(
    config: &SmallConfig,
    make: impl Fn(&Scenario) -> P + Sync + 'static,
) -> ProtocolModel<P>
where
    P: Protocol + Clone + Send + Sync,
    P::Node: std::hash::Hash + Send + Sync,
{
    let s = config.scenario.clone();
    let seed = s.seed;
    let model = ProtocolModel::new(move || make(&s), config.crashes).with_workload_seed(seed);
    match config.timeouts {
        Some(t) => model.with_timeout_budget(t),
        None => model,
    }
}

/// Checks `model` (a small configuration's) with the request's network and search settings:
/// what each protocol's plug-in calls.
pub(crate) fn check_small<P>(
    mut model: ProtocolModel<P>,
    config: &SmallConfig,
    request: &CheckRequest,
    progress: &mut dyn FnMut(Progress),
) -> ScenarioCheck
where
    P: Protocol + Clone + Send + Sync,
    P::Node: std::hash::Hash + Send + Sync,
{
    if request.loss {
        model = model.with_loss();
    }
    if request.duplication {
        model = model.with_duplication();
    }
    if !request.disk_faults.is_empty() {
        model = model.with_disk_faults(&request.disk_faults, 1);
    }
    let options = CheckerOptions {
        max_depth: config.max_depth,
        order: request.order,
        threads: request.threads.max(1),
        max_states: request.max_states.unwrap_or(u64::MAX),
        ..CheckerOptions::default()
    };
    let report = check_with_progress(&model, &options, progress);
    let scenario = &config.scenario;
    let counterexample = report
        .counterexample
        .as_ref()
        .map(|c| model.trace(&c.actions))
        .unwrap_or_default();
    let replay = report
        .counterexample
        .as_ref()
        .map(|c| Replay::new(scenario, scenario.seed, model.script(&c.actions)));
    ScenarioCheck {
        scenario: scenario.name.clone(),
        unique_states: report.unique_states,
        states: report.states,
        max_depth: report.max_depth,
        verdict: report.verdict,
        truncated: report.truncated,
        property: report.counterexample.as_ref().map(|c| c.property),
        counterexample,
        counterexample_steps: report
            .counterexample
            .as_ref()
            .map_or(0, |c| c.actions.len()),
        replay,
        reachable: report
            .discoveries
            .iter()
            .map(|d| Reached {
                property: d.property,
                steps: d.actions.len(),
                trace: model.trace(&d.actions),
            })
            .collect(),
        eventually: report
            .eventually
            .iter()
            .map(|l| Eventually {
                property: l.property,
                verdict: l.verdict,
                stem: l.stem.len(),
                cycle: l.cycle.len(),
                trace: model.trace(&[l.stem.clone(), l.cycle.clone()].concat()),
            })
            .collect(),
    }
}
