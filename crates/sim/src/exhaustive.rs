//! The exhaustive counterpart of [`crate::check`]: every interleaving of a small configuration
//! of your protocol, breadth first, with the same invariants checked at every state, and a
//! shortest counterexample when one breaks.

use std::fmt;
use std::hash::Hash;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use underhood_consensus::Time;

use crate::engine::{Choice, Invariant, PANIC, SCRIPT_STEP_MS, ViolationAt, panic_message};
use crate::harness::{RECORDINGS_VAR, listed_kinds, save_recording};
use crate::model::{self, Action, CheckerOptions, ProtocolModel, Verdict};
use crate::process::Protocol;
use crate::recorded::{Drive, Failed, FoundBy, RecordedRun, record};
use crate::scenario::{Environment, Network};

/// How [`check_exhaustive`] explores: the budgets that keep the state space finite.
#[derive(Clone, Debug)]
pub struct ExhaustiveOptions {
    /// Crashes allowed in one path; with crashes, a node may also crash part way through a step
    /// or lose its un-synced log writes (a power loss).
    pub crashes: u8,
    /// Timer firings allowed in one path (`None`: any number; a protocol that re-arms its
    /// timers then has an infinite state space).
    pub timeouts: Option<u8>,
    /// Whether the network may lose any message in flight.
    pub loss: bool,
    /// Whether the network may deliver any message in flight and keep a copy for later.
    pub duplication: bool,
    /// Stop after this many distinct states (the report then says it was cut short).
    pub max_states: u64,
    /// A directory where a failure saves its counterexample as a recorded run
    /// (`<invariant>-exhaustive.json`, see [`ExhaustiveFailure::recorded_run`]) and says where.
    /// By default the environment variable `UNDERHOOD_RECORDINGS`, if set, as for
    /// [`crate::CheckOptions::recordings`].
    pub recordings: Option<PathBuf>,
}

impl Default for ExhaustiveOptions {
    fn default() -> Self {
        ExhaustiveOptions {
            crashes: 1,
            timeouts: Some(2),
            loss: false,
            duplication: false,
            max_states: 1_000_000,
            recordings: std::env::var_os(RECORDINGS_VAR).map(PathBuf::from),
        }
    }
}

/// What a passing [`check_exhaustive`] explored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExhaustiveReport {
    /// Distinct states.
    pub unique_states: u64,
    /// The longest shortest path, in states (the initial state counts as 1).
    pub max_depth: u32,
    /// Whether [`ExhaustiveOptions::max_states`] cut the search short: then "no violation"
    /// holds only for the states explored.
    pub truncated: bool,
}

/// A shortest path (in steps) from the initial state to a state that breaks a property.
#[derive(Clone, Debug)]
pub struct ExhaustiveFailure {
    /// The broken invariant (`no-panic` for a panic in the protocol's code).
    pub invariant: &'static str,
    /// Why it is broken, in the invariant's words (or the panic message).
    pub detail: String,
    /// The steps, in order, as human labels (`"deliver n1 → n2: Replicate(1)"`).
    pub steps: Vec<String>,
    /// The same path as the choices of a scripted simulation ([`crate::Run::scripted`]).
    pub script: Vec<Choice>,
    /// The checker's actions, for [`ProtocolModel::trace`] and [`ProtocolModel::script`].
    pub actions: Vec<Action>,
    /// Distinct states explored before the counterexample.
    pub unique_states: u64,
    /// Where [`ExhaustiveOptions::recordings`] made the check save the recorded run, or why it
    /// could not (boxed, so a `Result` stays small).
    saved: Option<Box<Result<PathBuf, (PathBuf, String)>>>,
}

impl fmt::Display for ExhaustiveFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invariant `{}` broken after {} steps (a shortest path; {} states explored): {}",
            self.invariant,
            self.steps.len(),
            self.unique_states,
            self.detail
        )?;
        for (i, step) in self.steps.iter().enumerate() {
            write!(f, "\n  {:>2}. {step}", i + 1)?;
        }
        match self.saved.as_deref() {
            Some(Ok(path)) => write!(
                f,
                "\nrecorded run saved to {} (open it in the underhood page: Open a recorded run, or drop it on the page)",
                path.display()
            ),
            Some(Err((path, error))) => write!(
                f,
                "\ncould not save the recorded run to {}: {error}",
                path.display()
            ),
            None => Ok(()),
        }
    }
}

impl std::error::Error for ExhaustiveFailure {}

impl ExhaustiveFailure {
    /// Where [`ExhaustiveOptions::recordings`] made [`check_exhaustive`] save the recorded run,
    /// if it did.
    pub fn saved(&self) -> Option<&Path> {
        self.saved.as_deref()?.as_ref().ok().map(PathBuf::as_path)
    }

    /// Replays the counterexample through the simulator, one step every [`SCRIPT_STEP_MS`] of
    /// virtual time, and records it for people to look at, as [`crate::CheckFailure::recorded_run`]
    /// does for a random run: every event, each node's state as it changed and the broken
    /// invariant. Save it with [`RecordedRun::save`] and open it in the browser page ("Open a
    /// recorded run").
    ///
    /// `make` and `invariants` are those of the failing [`check_exhaustive`]. The recording is
    /// [`crate::FoundBy::Exhaustive`]: its seed is 0 and it lists no faults, since the
    /// counterexample's steps are its schedule, and its crashes, losses and duplicates are
    /// events in the trace.
    pub fn recorded_run<P: Protocol>(
        &self,
        make: impl Fn() -> P,
        invariants: &[Invariant<P::Node>],
    ) -> RecordedRun {
        let make = |_seed: u64| make();
        let violation = ViolationAt {
            invariant: self.invariant,
            detail: self.detail.clone(),
            evidence: Box::default(),
            event: 0,
            time: Time(0),
            broken_by: None,
        };
        let failed = Failed {
            found_by: FoundBy::Exhaustive {
                steps: self.steps.len() as u64,
                unique_states: self.unique_states,
            },
            seed: 0,
            violation: &violation,
            faults: &[],
            shrunk: &[],
        };
        let n_nodes = catch_unwind(AssertUnwindSafe(|| make(0).n_nodes())).unwrap_or(0);
        let duration_ms = (self.script.len() as u64 + 1) * SCRIPT_STEP_MS;
        let network = Network::default();
        match Environment::new(
            n_nodes,
            duration_ms,
            network.clone(),
            Vec::new(),
            listed_kinds::<P>(),
        ) {
            Ok(env) => record(
                &make,
                invariants,
                &env,
                Drive::Script(&self.script),
                &failed,
            ),
            // The protocol could not be built (it panicked, or has too few or too many nodes):
            // nothing ran.
            Err(_) => RecordedRun::empty(n_nodes, duration_ms, &network, &failed),
        }
    }
}

/// Explores every order of deliveries, timer firings, client wake-ups, crashes and restarts of
/// the protocol `make()` builds, within `options`' budgets, and checks `invariants` at every
/// state (besides the protocol's own checks); a panic in the protocol's code or in an invariant
/// is a violation too. Breadth first, so the counterexample is a shortest one.
///
/// The model has no clock: any pending timer may fire at any moment, which covers every timing
/// the simulator could produce and more. Use it on small configurations (two or three nodes, a
/// few requests); [`crate::check`] covers the large ones by sampling.
// The failure is returned once per check and read field by field; boxing it would only make
// every caller write `*failure` (it is 128 bytes, 8 over clippy's bar since it says where its
// recording went).
#[allow(clippy::result_large_err)]
pub fn check_exhaustive<P>(
    make: impl Fn() -> P + Sync + 'static,
    invariants: &[Invariant<P::Node>],
    options: &ExhaustiveOptions,
) -> Result<ExhaustiveReport, ExhaustiveFailure>
where
    P: Protocol + Clone + Send + Sync,
    P::Node: Hash + Send + Sync,
{
    let mut model = ProtocolModel::new(make, options.crashes).with_invariants(invariants);
    if let Some(budget) = options.timeouts {
        model = model.with_timeout_budget(budget);
    }
    if options.loss {
        model = model.with_loss();
    }
    if options.duplication {
        model = model.with_duplication();
    }
    let checker = CheckerOptions {
        max_states: options.max_states,
        ..CheckerOptions::default()
    };
    // A failure saves its recording when asked to, and says where.
    let fail = |mut failure: ExhaustiveFailure| {
        if let Some(dir) = &options.recordings {
            let recorded = failure.recorded_run(|| model.make(), invariants);
            failure.saved = Some(Box::new(save_recording(
                &recorded,
                dir,
                failure.invariant,
                "exhaustive",
            )));
        }
        failure
    };
    // Steps and invariants are caught where they run; what is left is `boot` and `recover`.
    let report = match catch_unwind(AssertUnwindSafe(|| model::check(&model, &checker))) {
        Ok(report) => report,
        Err(payload) => {
            return Err(fail(ExhaustiveFailure {
                invariant: PANIC,
                detail: format!(
                    "panicked while booting or recovering a node: {}",
                    panic_message(&*payload)
                ),
                steps: Vec::new(),
                script: Vec::new(),
                actions: Vec::new(),
                unique_states: 0,
                saved: None,
            }));
        }
    };
    let Some(counterexample) = report
        .counterexample
        .filter(|_| report.verdict == Verdict::Violated)
    else {
        return Ok(ExhaustiveReport {
            unique_states: report.unique_states,
            max_depth: report.max_depth,
            truncated: report.truncated,
        });
    };
    let trace = model.trace(&counterexample.actions);
    let label = |e: &serde_json::Value| e["label"].as_str().unwrap_or_default().to_owned();
    let steps = trace
        .iter()
        .filter(|e| e["kind"] != "violation")
        .map(label)
        .collect();
    let detail = trace
        .iter()
        .rev()
        .find(|e| e["kind"] == "violation")
        .and_then(|e| e["detail"].as_str())
        .unwrap_or_default()
        .to_owned();
    Err(fail(ExhaustiveFailure {
        invariant: counterexample.property,
        detail,
        steps,
        script: model.script(&counterexample.actions),
        actions: counterexample.actions,
        unique_states: report.unique_states,
        saved: None,
    }))
}
