//! [`Run`]: a simulation of whichever protocol a scenario names, behind one object-safe
//! interface, for the CLI and the browser.

use serde_json::Value;

use crate::engine::{OnViolation, Recording, Sim, ViolationAt};
use crate::error::ScenarioError;
use crate::multi_paxos::MultiPaxos;
use crate::process::Protocol;
use crate::scenario::{Fault, ProtocolName, Scenario};
use crate::two_phase::TwoPhase;
use crate::vrrp::Vrrp;

/// A simulation of any protocol the simulator knows.
pub struct Run {
    inner: Box<dyn DynRun>,
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Run")
            .field("scenario", &self.inner.scenario().name)
            .field("seed", &self.inner.seed())
            .field("steps", &self.inner.steps())
            .finish_non_exhaustive()
    }
}

/// How a [`Run`] is set up besides its scenario.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// The seed; `None` uses the scenario's.
    pub seed: Option<u64>,
    /// Earlier injections to replay.
    pub injected: Vec<Fault>,
    /// Keep the trace or only hash it.
    pub recording: Recording,
    /// Stop at the first violation or keep going.
    pub on_violation: OnViolation,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            seed: None,
            injected: Vec::new(),
            recording: Recording::Full,
            on_violation: OnViolation::Continue,
        }
    }
}

impl Run {
    /// Sets up a run of `scenario`.
    pub fn new(scenario: &Scenario, options: RunOptions) -> Result<Run, ScenarioError> {
        let seed = options.seed.unwrap_or(scenario.seed);
        let inner = match scenario.protocol {
            ProtocolName::TwoPhaseCommit => {
                boxed(TwoPhase::new(scenario), scenario, seed, &options)?
            }
            ProtocolName::MultiPaxos => {
                boxed(MultiPaxos::new(scenario, seed), scenario, seed, &options)?
            }
            ProtocolName::Vrrp => boxed(Vrrp::new(scenario), scenario, seed, &options)?,
            ProtocolName::Custom => return Err(ScenarioError::CustomProtocol),
        };
        Ok(Run { inner })
    }

    /// Processes one queue event; false when the run is over.
    pub fn step(&mut self) -> bool {
        self.inner.step()
    }

    /// Processes up to `n` queue events; returns how many ran.
    pub fn step_n(&mut self, n: u64) -> u64 {
        let mut done = 0;
        while done < n && self.inner.step() {
            done += 1;
        }
        done
    }

    /// Processes every event up to time `t_ms`; returns how many ran.
    pub fn run_until(&mut self, t_ms: u64) -> u64 {
        self.inner.run_until(underhood_consensus::Time(t_ms))
    }

    /// Runs to the end; returns how many queue events ran.
    pub fn run_to_end(&mut self) -> u64 {
        self.inner.run_to_end()
    }

    /// Whether the run is over.
    pub fn finished(&self) -> bool {
        self.inner.finished()
    }

    /// Virtual time in ms.
    pub fn now_ms(&self) -> u64 {
        self.inner.now().0
    }

    /// Queue events processed.
    pub fn steps(&self) -> u64 {
        self.inner.steps()
    }

    /// Trace events so far.
    pub fn n_events(&self) -> u64 {
        self.inner.n_events()
    }

    /// The seed in use.
    pub fn seed(&self) -> u64 {
        self.inner.seed()
    }

    /// The scenario.
    pub fn scenario(&self) -> &Scenario {
        self.inner.scenario()
    }

    /// The trace hash.
    pub fn trace_hash(&self) -> u64 {
        self.inner.trace_hash()
    }

    /// Broken invariants so far.
    pub fn violations(&self) -> &[ViolationAt] {
        self.inner.violations()
    }

    /// Applies a timed fault now; returns it as recorded for replay.
    pub fn inject(&mut self, fault: Fault) -> Result<Fault, ScenarioError> {
        self.inner.inject(fault)
    }

    /// Every injection so far.
    pub fn injected(&self) -> &[Fault] {
        self.inner.injected()
    }

    /// The state as JSON.
    pub fn state_json(&self) -> Value {
        self.inner.state_json()
    }

    /// Trace events from index `from`, as JSON.
    pub fn events_json(&self, from: usize) -> Value {
        self.inner.events_json(from)
    }

    /// The plain-text summary, ending with the `trace-hash:` line.
    pub fn summary(&self) -> String {
        self.inner.summary()
    }
}

/// A simulation of `protocol` behind the object-safe face.
fn boxed<P: Protocol + 'static>(
    protocol: P,
    scenario: &Scenario,
    seed: u64,
    options: &RunOptions,
) -> Result<Box<dyn DynRun>, ScenarioError> {
    Ok(Box::new(Sim::new(
        protocol,
        scenario,
        seed,
        &options.injected,
        options.recording,
        options.on_violation,
    )?))
}

/// The object-safe face of [`Sim`].
trait DynRun {
    fn step(&mut self) -> bool;
    fn run_until(&mut self, t: underhood_consensus::Time) -> u64;
    fn run_to_end(&mut self) -> u64;
    fn finished(&self) -> bool;
    fn now(&self) -> underhood_consensus::Time;
    fn steps(&self) -> u64;
    fn n_events(&self) -> u64;
    fn seed(&self) -> u64;
    fn scenario(&self) -> &Scenario;
    fn trace_hash(&self) -> u64;
    fn violations(&self) -> &[ViolationAt];
    fn inject(&mut self, fault: Fault) -> Result<Fault, ScenarioError>;
    fn injected(&self) -> &[Fault];
    fn state_json(&self) -> Value;
    fn events_json(&self, from: usize) -> Value;
    fn summary(&self) -> String;
}

impl<P: Protocol> DynRun for Sim<P> {
    fn step(&mut self) -> bool {
        Sim::step(self)
    }
    fn run_until(&mut self, t: underhood_consensus::Time) -> u64 {
        Sim::run_until(self, t)
    }
    fn run_to_end(&mut self) -> u64 {
        Sim::run_to_end(self)
    }
    fn finished(&self) -> bool {
        Sim::finished(self)
    }
    fn now(&self) -> underhood_consensus::Time {
        Sim::now(self)
    }
    fn steps(&self) -> u64 {
        Sim::steps(self)
    }
    fn n_events(&self) -> u64 {
        Sim::n_events(self)
    }
    fn seed(&self) -> u64 {
        Sim::seed(self)
    }
    fn scenario(&self) -> &Scenario {
        Sim::scenario(self)
    }
    fn trace_hash(&self) -> u64 {
        Sim::trace_hash(self)
    }
    fn violations(&self) -> &[ViolationAt] {
        Sim::violations(self)
    }
    fn inject(&mut self, fault: Fault) -> Result<Fault, ScenarioError> {
        Sim::inject(self, fault)
    }
    fn injected(&self) -> &[Fault] {
        Sim::injected(self)
    }
    fn state_json(&self) -> Value {
        Sim::state_json(self)
    }
    fn events_json(&self, from: usize) -> Value {
        Sim::events_json(self, from)
    }
    fn summary(&self) -> String {
        Sim::summary(self)
    }
}

/// Parses a seed given as text.
pub fn parse_seed(text: &str) -> Result<u64, ScenarioError> {
    text.trim().parse().map_err(|_| ScenarioError::BadSeed {
        text: text.to_owned(),
    })
}
