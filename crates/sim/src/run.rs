//! [`Run`]: a simulation of whichever protocol a scenario names, behind one object-safe
//! interface, for the CLI and the browser.

use serde_json::Value;

use crate::engine::{
    Choice, Counts, OnViolation, Recording, SCRIPT_STEP_MS, ScriptError, Sim, ViolationAt,
};
use crate::error::{InjectRefusal, LimitExceeded, ScenarioError};
use crate::process::Protocol;
use crate::scenario::{Fault, Scenario, fault_type};
use crate::violation::{InvariantStatus, RunInvariant, ViolatedSince};

/// A scripted run as data: the scenario, the seed and the choices, as `underhood sim check
/// --save-replay` writes them and `underhood sim replay` and the browser read them.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Replay {
    /// The scenario (for a counterexample: the checker's small configuration of it).
    pub scenario: Scenario,
    /// The seed of the protocol and its clients.
    pub seed: u64,
    /// What happens, step by step.
    pub script: Vec<Choice>,
}

impl Replay {
    /// The replay of `script` in `scenario` with `seed`. The scenario's faults and network
    /// losses are left out: the script says everything that happens.
    pub fn new(scenario: &Scenario, seed: u64, script: Vec<Choice>) -> Replay {
        Replay {
            scenario: without_faults(scenario),
            seed,
            script,
        }
    }

    /// Reads a replay from JSON, checking its scenario.
    pub fn from_json(text: &str) -> Result<Replay, ScenarioError> {
        /// The replay as written, its scenario not yet checked (so the error is typed).
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Written {
            scenario: crate::scenario::ScenarioSpec,
            seed: u64,
            script: Vec<Choice>,
        }
        let w: Written = serde_json::from_str(text).map_err(ScenarioError::ReplayJson)?;
        Ok(Replay {
            scenario: Scenario::new(w.scenario)?,
            seed: w.seed,
            script: w.script,
        })
    }

    /// The scripted run, ready to step (see [`Run::scripted`]).
    pub fn run(&self) -> Result<Run, ScenarioError> {
        Run::scripted(&self.scenario, self.seed, self.script.clone())
    }
}

/// A simulation of any protocol the simulator knows.
pub struct Run {
    scenario: Scenario,
    inner: Box<dyn DynRun>,
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Run")
            .field("scenario", &self.scenario.name)
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
        let inner = scenario
            .protocol
            .plugin()
            .run(scenario, seed, Driver::Queue(options))?;
        Ok(Run {
            scenario: scenario.clone(),
            inner,
        })
    }

    /// A scripted run of `scenario`'s protocol with `seed`: `script` says what happens next,
    /// step by step (see [`Choice`]); the network loses, duplicates and partitions nothing
    /// besides what the script says, and the scenario's faults are left out. This is how a
    /// model checker counterexample ([`crate::model::ProtocolModel::script`]) replays. Fails
    /// at once, naming the step, when a choice cannot happen.
    pub fn scripted(
        scenario: &Scenario,
        seed: u64,
        script: Vec<Choice>,
    ) -> Result<Run, ScenarioError> {
        let s = without_faults(scenario);
        let make = |recording| {
            s.protocol.plugin().run(
                &s,
                seed,
                Driver::Script {
                    script: script.clone(),
                    recording,
                },
            )
        };
        // A dry run first, so a script that does not fit fails here, not half way through.
        let mut dry = make(Recording::HashOnly)?;
        dry.run_to_end();
        if let Some(e) = dry.script_error() {
            return Err(ScenarioError::Script(e.clone()));
        }
        Ok(Run {
            scenario: s.clone(),
            inner: make(Recording::Full)?,
        })
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

    /// How long the run lasts in virtual ms: the scenario's duration, or for a scripted run
    /// the time its last choice happens.
    pub fn duration_ms(&self) -> u64 {
        self.inner.duration_ms()
    }

    /// The scenario budget (`limits`) the run outgrew, if it stopped for that: a run that
    /// stopped so is not a verdict.
    pub fn limit_exceeded(&self) -> Option<LimitExceeded> {
        self.inner.limit_exceeded()
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
        &self.scenario
    }

    /// The trace hash.
    pub fn trace_hash(&self) -> u64 {
        self.inner.trace_hash()
    }

    /// Messages sent and forced log writes so far.
    pub fn counts(&self) -> Counts {
        self.inner.counts()
    }

    /// Broken invariants so far.
    pub fn violations(&self) -> &[ViolationAt] {
        self.inner.violations()
    }

    /// Where each invariant of the scenario's protocol stands now: it holds, or it has been
    /// violated since an event. Any other invariant a violation names (a custom check) follows
    /// the protocol's, in the order first broken.
    ///
    /// ```
    /// use underhood_sim::{Run, RunOptions, gallery};
    ///
    /// let mut run = Run::new(&gallery::find("announce-before-log")?, RunOptions::default())?;
    /// let before = run.invariants();
    /// assert!(before.iter().all(|i| i.violated_since.is_none()));
    /// run.run_to_end();
    /// let atomicity = run.invariants().into_iter().find(|i| i.name == "atomicity").unwrap();
    /// assert_eq!(atomicity.violated_since.map(|v| v.event), Some(run.violations()[0].event));
    /// # Ok::<(), underhood_sim::ScenarioError>(())
    /// ```
    pub fn invariants(&self) -> Vec<InvariantStatus> {
        invariant_status(self.scenario.protocol.invariants(), self.violations())
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
        let mut state = self.inner.state_json();
        state["protocol"]["name"] = Value::from(self.scenario.protocol_name());
        state
    }

    /// Trace events from index `from`, as JSON.
    pub fn events_json(&self, from: usize) -> Value {
        self.inner.events_json(from)
    }

    /// The plain-text summary, ending with the `trace-hash:` line.
    pub fn summary(&self) -> String {
        let s = &self.scenario;
        format!(
            "scenario: {} ({}, variant {}), seed {}\n{}",
            s.name,
            s.protocol_name(),
            s.variant_name(),
            self.inner.seed(),
            self.inner.summary()
        )
    }
}

/// How a run moves on: its own queue (with earlier injections), or a script of choices.
pub(crate) enum Driver {
    /// The queue decides, with these options.
    Queue(RunOptions),
    /// A script decides, step by step.
    Script {
        /// The choices.
        script: Vec<Choice>,
        /// Keep the trace or only hash it.
        recording: Recording,
    },
}

/// A simulation of `protocol` in `scenario` behind the object-safe face: what every
/// protocol's [`crate::protocols::Plugin::run`] calls.
pub(crate) fn start<P: Protocol + 'static>(
    protocol: P,
    scenario: &Scenario,
    seed: u64,
    driver: Driver,
) -> Result<Box<dyn DynRun>, ScenarioError> {
    let env = scenario.environment();
    Ok(match driver {
        Driver::Queue(options) => Box::new(Sim::new(
            protocol,
            &env,
            seed,
            &options.injected,
            options.recording,
            options.on_violation,
        )?),
        Driver::Script { script, recording } => Box::new(Scripted {
            sim: Sim::new(
                protocol,
                &env.without_faults(),
                seed,
                &[],
                recording,
                OnViolation::Continue,
            )?,
            script,
            next: 0,
            error: None,
        }),
    })
}

/// `scenario` with nothing lost, duplicated or broken but what a script says.
fn without_faults(scenario: &Scenario) -> Scenario {
    let env = scenario.environment().without_faults();
    // Removing faults and losses keeps a scenario valid.
    scenario
        .edit(|s| {
            s.faults = env.faults().to_vec();
            s.network = env.network().clone();
        })
        .unwrap_or_else(|_| scenario.clone())
}

/// A simulation stepped through a script of choices instead of its queue.
struct Scripted<P: Protocol> {
    sim: Sim<P>,
    script: Vec<Choice>,
    next: usize,
    error: Option<ScriptError>,
}

/// The object-safe face of [`Sim`].
pub(crate) trait DynRun {
    fn step(&mut self) -> bool;
    fn run_until(&mut self, t: underhood_consensus::Time) -> u64;
    fn run_to_end(&mut self) -> u64;
    fn finished(&self) -> bool;
    fn now(&self) -> underhood_consensus::Time;
    fn steps(&self) -> u64;
    fn n_events(&self) -> u64;
    fn seed(&self) -> u64;
    fn trace_hash(&self) -> u64;
    fn counts(&self) -> Counts;
    fn violations(&self) -> &[ViolationAt];
    fn inject(&mut self, fault: Fault) -> Result<Fault, ScenarioError>;
    fn injected(&self) -> &[Fault];
    fn state_json(&self) -> Value;
    fn events_json(&self, from: usize) -> Value;
    fn summary(&self) -> String;
    fn duration_ms(&self) -> u64;
    fn script_error(&self) -> Option<&ScriptError> {
        None
    }
    fn limit_exceeded(&self) -> Option<LimitExceeded> {
        None
    }
}

impl<P: Protocol> DynRun for Sim<P> {
    fn step(&mut self) -> bool {
        Sim::step(self)
    }
    fn limit_exceeded(&self) -> Option<LimitExceeded> {
        Sim::limit_exceeded(self)
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
    fn duration_ms(&self) -> u64 {
        Sim::duration(self).0
    }
    fn trace_hash(&self) -> u64 {
        Sim::trace_hash(self)
    }
    fn counts(&self) -> Counts {
        Sim::counts(self)
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

impl<P: Protocol> DynRun for Scripted<P> {
    fn step(&mut self) -> bool {
        if self.finished() {
            return false;
        }
        match self.sim.apply_choice(self.next, &self.script[self.next]) {
            Ok(()) => self.next += 1,
            Err(e) => self.error = Some(e),
        }
        if self.finished() {
            self.sim.end_script();
        }
        true
    }
    fn run_until(&mut self, t: underhood_consensus::Time) -> u64 {
        let mut ran = 0;
        while !self.finished() && self.sim.now().after(SCRIPT_STEP_MS) <= t {
            self.step();
            ran += 1;
        }
        ran
    }
    fn run_to_end(&mut self) -> u64 {
        let mut ran = 0;
        while self.step() {
            ran += 1;
        }
        ran
    }
    fn finished(&self) -> bool {
        self.error.is_some() || self.next >= self.script.len()
    }
    fn now(&self) -> underhood_consensus::Time {
        self.sim.now()
    }
    fn steps(&self) -> u64 {
        self.sim.steps()
    }
    fn n_events(&self) -> u64 {
        self.sim.n_events()
    }
    fn seed(&self) -> u64 {
        self.sim.seed()
    }
    fn trace_hash(&self) -> u64 {
        self.sim.trace_hash()
    }
    fn counts(&self) -> Counts {
        self.sim.counts()
    }
    fn violations(&self) -> &[ViolationAt] {
        self.sim.violations()
    }
    fn inject(&mut self, fault: Fault) -> Result<Fault, ScenarioError> {
        Err(ScenarioError::Inject {
            fault: fault_type(&fault),
            reason: InjectRefusal::Scripted,
        })
    }
    fn injected(&self) -> &[Fault] {
        &[]
    }
    fn state_json(&self) -> Value {
        let mut v = self.sim.state_json();
        v["finished"] = Value::Bool(self.finished());
        v["duration_ms"] = serde_json::json!(self.duration_ms());
        v["script"] = serde_json::json!({"steps": self.script.len(), "done": self.next});
        v
    }
    fn events_json(&self, from: usize) -> Value {
        self.sim.events_json(from)
    }
    fn summary(&self) -> String {
        self.sim.summary()
    }
    fn script_error(&self) -> Option<&ScriptError> {
        self.error.as_ref()
    }
    fn duration_ms(&self) -> u64 {
        self.script.len() as u64 * SCRIPT_STEP_MS
    }
}

/// Parses a seed given as text.
pub fn parse_seed(text: &str) -> Result<u64, ScenarioError> {
    text.trim().parse().map_err(|_| ScenarioError::BadSeed {
        text: text.to_owned(),
    })
}

/// The status of each listed invariant, then of any other that `violations` name.
fn invariant_status(listed: &[RunInvariant], violations: &[ViolationAt]) -> Vec<InvariantStatus> {
    let mut out: Vec<InvariantStatus> = listed
        .iter()
        .map(|i| InvariantStatus {
            name: i.name,
            promise: i.promise,
            violated_since: None,
            violations: 0,
        })
        .collect();
    for v in violations {
        let idx = match out.iter().position(|s| s.name == v.invariant) {
            Some(idx) => idx,
            None => {
                out.push(InvariantStatus {
                    name: v.invariant,
                    promise: "",
                    violated_since: None,
                    violations: 0,
                });
                out.len() - 1
            }
        };
        let status = &mut out[idx];
        status.violations += 1;
        status.violated_since.get_or_insert(ViolatedSince {
            event: v.event,
            time: v.time,
        });
    }
    out
}
