//! A one-call harness for other projects' CI: run your own sans-IO protocol under random faults
//! over many seeds, check your invariants after every event, and get back the first failure with
//! its fault schedule shrunk to a minimal one.
//!
//!
//! See [`check`] for a complete example, and `docs/HARNESS.md` in the repository.

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use underhood_consensus::Time;

use crate::engine::{Invariant, OnViolation, PANIC, Recording, Sim, ViolationAt, panic_message};
use crate::error::ScenarioError;
use crate::explore::{random_faults_of_kinds, shrink_with};
use crate::process::{Process, Protocol};
use crate::protocols::{CustomConfig, ProtocolConfig};
use crate::recorded::{Drive, Failed, FoundBy, RecordedRun, record};
use crate::scenario::{Environment, Fault, Network, Scenario, ScenarioSpec, Workload};

/// The environment variable that sets [`CheckOptions::recordings`] by default.
pub const RECORDINGS_VAR: &str = "UNDERHOOD_RECORDINGS";

/// How [`check_with`] runs a protocol.
#[derive(Clone, Debug)]
pub struct CheckOptions {
    /// How many seeds to try.
    pub runs: u64,
    /// The first seed; seeds are `first_seed..first_seed + runs`.
    pub first_seed: u64,
    /// Virtual duration of each run.
    pub duration_ms: u64,
    /// The network.
    pub network: Network,
    /// Whether each seed adds a random fault schedule (crashes, partitions, drops, delays).
    pub random_faults: bool,
    /// Faults added to every run (rules or timed faults), for example to reproduce a failure.
    pub faults: Vec<Fault>,
    /// A directory to save a failure's [`RecordedRun`] in (as
    /// `<invariant>-seed-<seed>.json`), for the browser page to open; the failure's message
    /// says where it went. By default the environment variable `UNDERHOOD_RECORDINGS`, if set.
    pub recordings: Option<PathBuf>,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            runs: 100,
            first_seed: 1,
            duration_ms: 1_000,
            network: Network::default(),
            random_faults: true,
            faults: Vec::new(),
            recordings: std::env::var_os(RECORDINGS_VAR).map(PathBuf::from),
        }
    }
}

/// What a passing [`check`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckReport {
    /// Seeds run.
    pub runs: u64,
    /// Queue events processed over all runs.
    pub events: u64,
}

/// The first failing seed, with the fault schedule shrunk to a minimal one.
///
/// A panic in the protocol's code (`boot`, `recover`, `step`, a client or checker hook) breaks
/// the property `no-panic`; a panicking invariant breaks itself. Either way the detail holds the
/// panic message, and the failure shrinks and reproduces like any other.
#[derive(Clone, Debug)]
pub struct CheckFailure {
    /// The seed.
    pub seed: u64,
    /// The broken invariant (with the shrunk schedule; boxed, as is the setup below, so a
    /// `Result` stays small).
    pub violation: Box<ViolationAt>,
    /// Every fault of the failing run: the caller's ([`CheckOptions::faults`]) first, then the
    /// random ones the seed drew.
    pub faults: Vec<Fault>,
    /// A minimal subset of [`CheckFailure::faults`] that still breaks an invariant.
    pub shrunk: Vec<Fault>,
    /// The run's duration and network.
    setup: Box<(u64, Network)>,
    /// Where the recorded run was saved, or why it could not be.
    saved: Option<Result<PathBuf, (PathBuf, String)>>,
}

impl CheckFailure {
    /// The options that rebuild exactly the shrunk failing run: this seed only, no random
    /// faults, the shrunk schedule (caller-supplied faults included), the same network and
    /// duration.
    pub fn options(&self) -> CheckOptions {
        CheckOptions {
            runs: 1,
            first_seed: self.seed,
            duration_ms: self.setup.0,
            network: self.setup.1.clone(),
            random_faults: false,
            faults: self.shrunk.clone(),
            recordings: None,
        }
    }

    /// Runs the shrunk failing run once more and records it for people to look at: every
    /// event, each node's state as it changed, the violation, the seed and the faults. Save it
    /// with [`RecordedRun::save`] and open it in the browser page ("Open a recorded run").
    ///
    /// `make` and `invariants` are those of the failing [`check_with`], as for
    /// [`CheckFailure::reproduce`].
    pub fn recorded_run<P: Protocol>(
        &self,
        make: impl Fn(u64) -> P,
        invariants: &[Invariant<P::Node>],
    ) -> RecordedRun {
        let failed = Failed {
            found_by: FoundBy::Check,
            seed: self.seed,
            violation: &self.violation,
            faults: &self.faults,
            shrunk: &self.shrunk,
        };
        let n_nodes = catch_unwind(AssertUnwindSafe(|| make(self.seed).n_nodes())).unwrap_or(0);
        let environment = Environment::new(
            n_nodes,
            self.setup.0,
            self.setup.1.clone(),
            self.shrunk.clone(),
            listed_kinds::<P>(),
        );
        match environment {
            Ok(environment) => record(&make, invariants, &environment, Drive::Queue, &failed),
            // The run could not be set up (the failure is `harness-setup`): nothing ran.
            Err(_) => RecordedRun::empty(n_nodes, self.setup.0, &self.setup.1, &failed),
        }
    }

    /// Where [`CheckOptions::recordings`] made [`check_with`] save the recorded run, if it did.
    pub fn saved(&self) -> Option<&Path> {
        self.saved.as_ref()?.as_ref().ok().map(PathBuf::as_path)
    }

    /// Runs the shrunk failing run again: `Err` with the same violation when it reproduces
    /// (as it must, for a deterministic protocol).
    pub fn reproduce<P: Protocol>(
        &self,
        make: impl Fn(u64) -> P,
        invariants: &[Invariant<P::Node>],
    ) -> Result<CheckReport, CheckFailure> {
        check_with(make, invariants, &self.options())
    }
}

impl fmt::Display for CheckFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = &self.violation;
        writeln!(
            f,
            "invariant `{}` broken with seed {} at {} ms (event {}): {}",
            v.invariant, self.seed, v.time.0, v.event, v.detail
        )?;
        writeln!(
            f,
            "shrunk fault schedule ({} of {} faults):",
            self.shrunk.len(),
            self.faults.len()
        )?;
        for fault in &self.shrunk {
            writeln!(f, "  {}", serde_json::to_string(fault).unwrap_or_default())?;
        }
        match &self.saved {
            Some(Ok(path)) => writeln!(
                f,
                "recorded run saved to {} (open it in the underhood page: Open a recorded run, or drop it on the page)",
                path.display()
            )?,
            Some(Err((path, error))) => writeln!(
                f,
                "could not save the recorded run to {}: {error}",
                path.display()
            )?,
            None => {}
        }
        write!(
            f,
            "reproduce with failure.reproduce(..), or check_with(.., &CheckOptions {{ first_seed: {}, runs: 1, random_faults: false, faults: <the list above>, duration_ms: {}, network: {} }})",
            self.seed,
            self.setup.0,
            serde_json::to_string(&self.setup.1).unwrap_or_default()
        )
    }
}

impl std::error::Error for CheckFailure {}

/// Runs `make(seed)` for `runs` seeds with random faults and checks `invariants` after every
/// event (and the protocol's own checks in [`Protocol::observe`] and [`Protocol::finish`]).
///
/// # Example
///
/// A client (node 0) asks a server (node 1) to add one, re-sending until acknowledged; the server
/// must apply each request once, however often the network duplicates or the client re-sends.
/// The buggy server forgets to de-duplicate, and the harness says so.
///
/// ```
/// use std::collections::BTreeSet;
/// use underhood_consensus::{Durability, Effect, Input, NodeId, Time};
/// use underhood_sim::{CheckOptions, Effects, Inputs, Invariant, Network, Process, Protocol};
///
/// #[derive(Clone, Debug)]
/// enum Node {
///     Client { next: u64, acked: u64 },
///     Server { count: u64, seen: BTreeSet<u64>, dedup: bool },
/// }
///
/// #[derive(Clone, Debug, Hash, serde::Serialize)]
/// enum Msg { Add(u64), Ack(u64) }
///
/// impl Process for Node {
///     type Msg = Msg;
///     type Timer = ();
///     type Record = u64;
///     type Request = ();
///     type Output = ();
///
///     fn step(&mut self, _now: Time, input: Inputs<Self>, out: &mut Vec<Effects<Self>>) {
///         match (self, input) {
///             // Every 10 ms the client (re-)sends its oldest unacknowledged request.
///             (Node::Client { next, acked }, Input::Timer(())) => {
///                 if *acked == *next && *next < 20 {
///                     *next += 1;
///                 }
///                 if *acked < *next {
///                     out.push(Effect::Send { to: NodeId(1), msg: Msg::Add(*next) });
///                 }
///                 out.push(Effect::SetTimer { timer: (), after_ms: 10 });
///             }
///             (Node::Client { acked, .. }, Input::Msg { msg: Msg::Ack(id), .. }) => {
///                 *acked = (*acked).max(id);
///             }
///             (Node::Server { count, seen, dedup }, Input::Msg { from, msg: Msg::Add(id) }) => {
///                 if seen.insert(id) || !*dedup {
///                     *count += 1;
///                 }
///                 out.push(Effect::Persist { record: id, durability: Durability::Forced });
///                 out.push(Effect::Send { to: from, msg: Msg::Ack(id) });
///             }
///             _ => {}
///         }
///     }
/// }
///
/// struct Counter { dedup: bool }
///
/// impl Protocol for Counter {
///     type Node = Node;
///     fn n_nodes(&self) -> u32 { 2 }
///     fn boot(&self, id: NodeId, out: &mut Vec<Effects<Node>>) -> Node {
///         self.recover(id, &[], Time(0), out)
///     }
///     fn recover(&self, id: NodeId, log: &[u64], _: Time, out: &mut Vec<Effects<Node>>) -> Node {
///         if id == NodeId(0) {
///             out.push(Effect::SetTimer { timer: (), after_ms: 1 });
///             return Node::Client { next: 0, acked: 0 };
///         }
///         let seen: BTreeSet<u64> = log.iter().copied().collect();
///         Node::Server { count: seen.len() as u64, seen, dedup: self.dedup }
///     }
/// }
///
/// fn applied_once(nodes: &[Option<&Node>]) -> Result<(), String> {
///     match nodes.get(1).copied().flatten() {
///         Some(Node::Server { count, seen, .. }) if *count as usize != seen.len() => {
///             Err(format!("counted {count} adds for {} distinct requests", seen.len()))
///         }
///         _ => Ok(()),
///     }
/// }
/// let invariants = [Invariant::new("applied-once", applied_once)];
/// let options = CheckOptions {
///     runs: 30,
///     network: Network { duplicate_per_mille: 50, ..Network::default() },
///     ..CheckOptions::default()
/// };
///
/// // The correct server passes every seed, faults and all.
/// let report = underhood_sim::check_with(|_seed| Counter { dedup: true }, &invariants, &options)?;
/// assert_eq!(report.runs, 30);
///
/// // The buggy one fails, with a seed and a shrunk fault schedule that reproduce it.
/// let failure = underhood_sim::check_with(|_seed| Counter { dedup: false }, &invariants, &options)
///     .unwrap_err();
/// assert_eq!(failure.violation.invariant, "applied-once");
/// assert!(failure.to_string().contains("seed"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn check<P: Protocol>(
    make: impl Fn(u64) -> P,
    invariants: &[Invariant<P::Node>],
    runs: u64,
) -> Result<CheckReport, CheckFailure> {
    check_with(
        make,
        invariants,
        &CheckOptions {
            runs,
            ..CheckOptions::default()
        },
    )
}

/// [`check`] with every knob.
///
/// Each seed runs with the caller's faults ([`CheckOptions::faults`]) followed by the random
/// ones the seed draws; a failing schedule is shrunk as a whole, so the failure's
/// [`CheckFailure::options`] rebuild it exactly.
pub fn check_with<P: Protocol>(
    make: impl Fn(u64) -> P,
    invariants: &[Invariant<P::Node>],
    options: &CheckOptions,
) -> Result<CheckReport, CheckFailure> {
    let failure = |seed, violation, faults: Vec<Fault>, shrunk| CheckFailure {
        seed,
        violation: Box::new(violation),
        faults,
        shrunk,
        setup: Box::new((options.duration_ms, options.network.clone())),
        saved: None,
    };
    let mut events = 0;
    for seed in options.first_seed..options.first_seed.saturating_add(options.runs) {
        // A panic in `make` or `n_nodes` is the protocol's too.
        let n_nodes = match catch_unwind(AssertUnwindSafe(|| make(seed).n_nodes())) {
            Ok(n) => n,
            Err(payload) => {
                let violation = panic_violation(&*payload, 0, Time(0));
                return Err(failure(seed, violation, Vec::new(), Vec::new()));
            }
        };
        // The message kinds rules may name, when the protocol lists them.
        let kinds = <P::Node as Process>::MSG_KINDS;
        let listed = listed_kinds::<P>();
        let setup = |schedule: &[Fault]| {
            Environment::new(
                n_nodes,
                options.duration_ms,
                options.network.clone(),
                schedule.to_vec(),
                listed,
            )
        };
        // The options' faults are checked once, here.
        let scenario = match setup(&options.faults).and_then(|_| workload(n_nodes, options)) {
            Ok(s) => s,
            Err(e) => return Err(failure(seed, setup_error(&e), Vec::new(), Vec::new())),
        };
        let mut faults = options.faults.clone();
        if options.random_faults {
            faults.extend(random_faults_of_kinds(&scenario, seed, kinds));
        }
        let run = |schedule: &[Fault]| -> Result<(Option<ViolationAt>, u64), ScenarioError> {
            Ok(run_one(&make, invariants, &setup(schedule)?, seed))
        };
        // A random schedule that does not fit the environment is a bug of the harness, reported
        // as a violation of its own rather than a panic.
        let (violation, steps) = run(&faults).unwrap_or_else(|e| (Some(setup_error(&e)), 0));
        events += steps;
        let Some(original) = violation else {
            continue;
        };
        let (shrunk, _) = shrink_with(faults.clone(), |candidate| {
            run(candidate).map(|(v, _)| v.is_some())
        })
        .unwrap_or_else(|_| (faults.clone(), 0));
        let violation = run(&shrunk).ok().and_then(|(v, _)| v).unwrap_or(original);
        let mut failed = failure(seed, violation, faults, shrunk);
        if let Some(dir) = &options.recordings {
            failed.saved = Some(save(&failed, dir, &make, invariants));
        }
        return Err(failed);
    }
    Ok(CheckReport {
        runs: options.runs,
        events,
    })
}

/// The message kinds fault rules may name, when the protocol lists them.
pub(crate) fn listed_kinds<P: Protocol>() -> Option<&'static [&'static str]> {
    let kinds = <P::Node as Process>::MSG_KINDS;
    (!kinds.is_empty()).then_some(kinds)
}

/// Saves `failure`'s recorded run in `dir` as `<invariant>-seed-<seed>.json`.
fn save<P: Protocol>(
    failure: &CheckFailure,
    dir: &Path,
    make: &impl Fn(u64) -> P,
    invariants: &[Invariant<P::Node>],
) -> Result<PathBuf, (PathBuf, String)> {
    let recorded = failure.recorded_run(make, invariants);
    save_recording(
        &recorded,
        dir,
        failure.violation.invariant,
        &format!("seed-{}", failure.seed),
    )
}

/// Saves `recorded` in `dir` as `<invariant>-<what>.json` (the invariant's name with anything
/// but ASCII letters, digits, `-` and `_` replaced by `_`): the path, or the path and why it
/// could not be written.
pub(crate) fn save_recording(
    recorded: &RecordedRun,
    dir: &Path,
    invariant: &str,
    what: &str,
) -> Result<PathBuf, (PathBuf, String)> {
    let name: String = invariant
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let path = dir.join(format!("{name}-{what}.json"));
    match recorded.save(&path) {
        Ok(()) => Ok(path),
        Err(e) => Err((path, e.to_string())),
    }
}

/// One run of `scenario` (faults included) with `seed`: its first violation, a panic in the
/// protocol's code counted as one, and how many events ran.
fn run_one<P: Protocol>(
    make: &impl Fn(u64) -> P,
    invariants: &[Invariant<P::Node>],
    environment: &Environment,
    seed: u64,
) -> (Option<ViolationAt>, u64) {
    let mut sim = None;
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let s = sim.insert(Sim::new(
            make(seed),
            environment,
            seed,
            &[],
            Recording::HashOnly,
            OnViolation::Stop,
        )?);
        for invariant in invariants {
            s.add_invariant(invariant.clone());
        }
        s.run_to_end();
        Ok::<_, ScenarioError>(())
    }));
    let (events, time) = sim
        .as_ref()
        .map_or((0, Time(0)), |s| (s.n_events(), s.now()));
    let steps = sim.as_ref().map_or(0, Sim::steps);
    match outcome {
        Ok(Ok(())) => (sim.and_then(|s| s.violations().first().cloned()), steps),
        Ok(Err(e)) => (Some(setup_error(&e)), steps),
        Err(payload) => (Some(panic_violation(&*payload, events, time)), steps),
    }
}

/// A caught panic as a violation of `no-panic`.
fn panic_violation(payload: &(dyn std::any::Any + Send), event: u64, time: Time) -> ViolationAt {
    ViolationAt {
        invariant: PANIC,
        detail: format!("panicked: {}", panic_message(payload)),
        evidence: Box::default(),
        event,
        time,
        broken_by: None,
    }
}

/// Where random faults go: a scenario with the options' duration and one "transaction" per 50 ms,
/// so `random_faults` spreads them over the whole run.
fn workload(n_nodes: u32, options: &CheckOptions) -> Result<Scenario, ScenarioError> {
    let interval = 50;
    Scenario::new(ScenarioSpec {
        name: "check".into(),
        description: String::new(),
        protocol: ProtocolConfig::Custom(CustomConfig::default()),
        nodes: n_nodes,
        seed: 0,
        duration_ms: options.duration_ms,
        network: options.network.clone(),
        workload: Workload {
            transactions: (options.duration_ms / interval).max(1),
            start_ms: 0,
            interval_ms: interval,
            ..Workload::default()
        },
        faults: Vec::new(),
        limits: Default::default(),
    })
}

fn setup_error(e: &ScenarioError) -> ViolationAt {
    ViolationAt {
        invariant: "harness-setup",
        detail: e.to_string(),
        evidence: Box::default(),
        event: 0,
        time: Time(0),
        broken_by: None,
    }
}
