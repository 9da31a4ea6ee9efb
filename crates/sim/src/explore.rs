//! Random exploration: run a scenario over many seeds, each with a random fault schedule added
//! to the scenario's own faults, and shrink the first failing schedule to a minimal one.

use std::ops::RangeInclusive;

use crate::engine::{OnViolation, Recording, ViolationAt};
use crate::error::ScenarioError;
use crate::rng::{SimRng, Stream};
use crate::run::{Run, RunOptions};
use crate::scenario::{ClockChange, DiskFault, Fault, Pattern, Scenario, When, WriteCrash};

/// What an exploration found.
#[derive(Clone, Debug)]
pub struct ExploreReport {
    /// Seeds run.
    pub runs: u64,
    /// Events simulated by those seeds' runs (shrinking's runs not counted): the measure of
    /// work that `sim explore --max-states` bounds.
    pub events: u64,
    /// The first failing seed, if any.
    pub failure: Option<Failure>,
}

/// A failing seed with its fault schedule before and after shrinking.
#[derive(Clone, Debug)]
pub struct Failure {
    /// The seed.
    pub seed: u64,
    /// The random faults added for this seed.
    pub faults: Vec<Fault>,
    /// A minimal subset (with simplified rules) that still breaks an invariant.
    pub shrunk: Vec<Fault>,
    /// The first violation with the shrunk schedule.
    pub violation: ViolationAt,
    /// Runs spent shrinking.
    pub shrink_runs: u64,
}

impl Failure {
    /// The scenario that reproduces the shrunk failure with `underhood sim run --file`.
    pub fn reproducer(&self, scenario: &Scenario) -> Result<Scenario, ScenarioError> {
        scenario.edit(|s| {
            s.seed = self.seed;
            s.faults.extend(self.shrunk.iter().cloned());
        })
    }
}

/// Which kinds of random faults exploration draws: `network` (partitions, drop and delay
/// rules), `crash` (crashes, restarts, crash-after-send rules), `clock` (clock jumps and
/// drifts) and `disk` (torn writes, corrupted records, failed fsyncs). The default is network
/// and crash, what exploration drew before clocks and disks existed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FaultKinds {
    network: bool,
    crash: bool,
    clock: bool,
    disk: bool,
}

impl Default for FaultKinds {
    fn default() -> Self {
        FaultKinds {
            network: true,
            crash: true,
            clock: false,
            disk: false,
        }
    }
}

/// A `--fault-kinds` list that cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FaultKindsError {
    /// A name that is not a fault kind.
    #[error("unknown fault kind {0:?} (expected network, crash, clock or disk)")]
    Unknown(String),
    /// An empty list.
    #[error("no fault kind given (expected a comma-separated list of network, crash, clock, disk)")]
    Empty,
}

impl FaultKinds {
    /// Parses a comma-separated list such as `network,crash,clock,disk`.
    ///
    /// ```
    /// use underhood_sim::FaultKinds;
    /// let kinds = FaultKinds::parse("network,crash,clock")?;
    /// assert_ne!(kinds, FaultKinds::default());
    /// assert_eq!(FaultKinds::parse("crash,network")?, FaultKinds::default());
    /// assert!(FaultKinds::parse("weather").is_err());
    /// # Ok::<(), underhood_sim::FaultKindsError>(())
    /// ```
    pub fn parse(text: &str) -> Result<FaultKinds, FaultKindsError> {
        const NONE: FaultKinds = FaultKinds {
            network: false,
            crash: false,
            clock: false,
            disk: false,
        };
        let mut kinds = NONE;
        for name in text.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            match name {
                "network" => kinds.network = true,
                "crash" => kinds.crash = true,
                "clock" => kinds.clock = true,
                "disk" => kinds.disk = true,
                other => return Err(FaultKindsError::Unknown(other.to_owned())),
            }
        }
        if kinds == NONE {
            return Err(FaultKindsError::Empty);
        }
        Ok(kinds)
    }

    fn keeps(&self, fault: &Fault) -> bool {
        match fault {
            Fault::Crash { .. }
            | Fault::Restart { .. }
            | Fault::CrashAfterSend { .. }
            | Fault::OnSend { .. }
            | Fault::OnWrite { .. } => self.crash,
            Fault::Partition { .. }
            | Fault::Heal { .. }
            | Fault::Drop { .. }
            | Fault::Delay { .. }
            | Fault::DropMessage { .. } => self.network,
            Fault::Clock { .. } => self.clock,
            Fault::Disk { .. } => self.disk,
        }
    }
}

/// Runs `scenario` with random faults for every seed in `seeds`; stops at the first violation
/// and shrinks its schedule.
pub fn explore(
    scenario: &Scenario,
    seeds: RangeInclusive<u64>,
) -> Result<ExploreReport, ScenarioError> {
    explore_with(scenario, seeds, FaultKinds::default())
}

/// [`explore`] drawing only the fault kinds in `kinds`.
pub fn explore_with(
    scenario: &Scenario,
    seeds: RangeInclusive<u64>,
    kinds: FaultKinds,
) -> Result<ExploreReport, ScenarioError> {
    let mut runs = 0;
    let mut events = 0;
    for seed in seeds {
        runs += 1;
        let faults = random_faults_of(scenario, seed, kinds);
        let (violation, seed_events) = run_seed(scenario, seed, &faults)?;
        events += seed_events;
        if let Some(original) = violation {
            let (shrunk, shrink_runs) = shrink(scenario, seed, faults.clone())?;
            // `shrink` only keeps schedules that still fail, so this finds a violation.
            let violation = first_violation(scenario, seed, &shrunk)?.unwrap_or(original);
            return Ok(ExploreReport {
                runs,
                events,
                failure: Some(Failure {
                    seed,
                    faults,
                    shrunk,
                    violation,
                    shrink_runs,
                }),
            });
        }
    }
    Ok(ExploreReport {
        runs,
        events,
        failure: None,
    })
}

/// Runs `scenario` plus `extra` faults with `seed`; returns the first violation.
pub fn first_violation(
    scenario: &Scenario,
    seed: u64,
    extra: &[Fault],
) -> Result<Option<ViolationAt>, ScenarioError> {
    Ok(run_seed(scenario, seed, extra)?.0)
}

/// One run of `scenario` under `seed` with `extra` faults, stopping at the first violation:
/// that violation and the events simulated.
fn run_seed(
    scenario: &Scenario,
    seed: u64,
    extra: &[Fault],
) -> Result<(Option<ViolationAt>, u64), ScenarioError> {
    let s = scenario.with_faults(extra)?;
    let mut run = Run::new(
        &s,
        RunOptions {
            seed: Some(seed),
            injected: Vec::new(),
            recording: Recording::HashOnly,
            on_violation: OnViolation::Stop,
        },
    )?;
    run.run_to_end();
    Ok((run.violations().first().cloned(), run.n_events()))
}

/// Delta debugging, one fault at a time: drop every fault whose removal keeps the failure, then
/// simplify what is left (rules match fewer messages, crashes keep their synced writes).
/// Returns the schedule and the runs spent.
pub fn shrink(
    scenario: &Scenario,
    seed: u64,
    faults: Vec<Fault>,
) -> Result<(Vec<Fault>, u64), ScenarioError> {
    shrink_with(faults, |candidate| {
        Ok(first_violation(scenario, seed, candidate)?.is_some())
    })
}

/// The shrinking loop of [`shrink`] over any failure predicate (`Ok(true)`: still fails).
pub(crate) fn shrink_with<E>(
    mut faults: Vec<Fault>,
    mut fails: impl FnMut(&[Fault]) -> Result<bool, E>,
) -> Result<(Vec<Fault>, u64), E> {
    let mut runs = 0;
    let mut changed = true;
    while changed {
        changed = false;
        let mut i = 0;
        while i < faults.len() {
            let mut candidate = faults.clone();
            candidate.remove(i);
            runs += 1;
            if fails(&candidate)? {
                faults = candidate;
                changed = true;
            } else {
                i += 1;
            }
        }
        for i in 0..faults.len() {
            for simpler in simplifications(&faults[i]) {
                let mut candidate = faults.clone();
                candidate[i] = simpler;
                runs += 1;
                if fails(&candidate)? {
                    faults = candidate;
                    changed = true;
                    break;
                }
            }
        }
    }
    Ok((faults, runs))
}

fn simplifications(fault: &Fault) -> Vec<Fault> {
    let mut out = Vec::new();
    let simpler_pattern = |p: &Pattern| {
        let mut v = Vec::new();
        if p.count > 1 {
            v.push(Pattern {
                count: 1,
                ..p.clone()
            });
        }
        if p.nth > 1 {
            v.push(Pattern {
                nth: 1,
                ..p.clone()
            });
        }
        v
    };
    match fault {
        Fault::Crash {
            node,
            lose_unsynced: true,
            when,
        } => out.push(Fault::Crash {
            node: *node,
            lose_unsynced: false,
            when: *when,
        }),
        Fault::Drop { pattern } => {
            for p in simpler_pattern(pattern) {
                out.push(Fault::Drop { pattern: p });
            }
        }
        Fault::Delay { pattern, extra_ms } => {
            for p in simpler_pattern(pattern) {
                out.push(Fault::Delay {
                    pattern: p,
                    extra_ms: *extra_ms,
                });
            }
        }
        Fault::CrashAfterSend {
            node,
            pattern,
            lose_unsynced,
        } => {
            for p in simpler_pattern(pattern) {
                out.push(Fault::CrashAfterSend {
                    node: *node,
                    pattern: p,
                    lose_unsynced: *lose_unsynced,
                });
            }
            if *lose_unsynced {
                out.push(Fault::CrashAfterSend {
                    node: *node,
                    pattern: pattern.clone(),
                    lose_unsynced: false,
                });
            }
        }
        Fault::OnWrite {
            node,
            nth,
            then: WriteCrash::PowerLoss,
            undo_after_ms,
        } => out.push(Fault::OnWrite {
            node: *node,
            nth: *nth,
            then: WriteCrash::Crash,
            undo_after_ms: *undo_after_ms,
        }),
        _ => {}
    }
    out
}

/// A random fault schedule for `seed` of the kinds in `kinds`: [`random_faults`]' schedule
/// without the kinds left out, then, with `clock`, one to three clock jumps (up to 2 s either
/// way) or drifts (up to 20% either way), then, with `disk`, one or two disk faults (a torn
/// write, a corrupted record or a failed fsync on a random node at a random time), each drawn
/// after the others so adding a kind keeps the faults already drawn. A lying fsync is never
/// drawn: no protocol survives one, so it would only find the disk at fault.
pub fn random_faults_of(scenario: &Scenario, seed: u64, kinds: FaultKinds) -> Vec<Fault> {
    let mut rng = SimRng::new(seed, Stream::Faults);
    let msg_kinds = scenario.protocol.msg_kinds().unwrap_or_default();
    let mut faults = draw_faults(scenario, msg_kinds, &mut rng);
    faults.retain(|f| kinds.keeps(f));
    if kinds.clock {
        let n = u64::from(scenario.nodes);
        let end = scenario.duration_ms.max(1);
        for _ in 0..1 + rng.below(3) {
            let node = rng.below(n) as u32;
            let at = rng.below(end);
            let magnitude = rng.range(1, 2_000) as i64;
            let sign = if rng.chance(500) { -1 } else { 1 };
            let change = if rng.chance(500) {
                ClockChange::Jump {
                    offset_ms: sign * magnitude,
                }
            } else {
                ClockChange::Drift {
                    drift_ppm: sign * magnitude * 100,
                }
            };
            faults.push(Fault::Clock {
                node,
                change,
                when: at_ms(at),
            });
        }
    }
    if kinds.disk {
        let n = u64::from(scenario.nodes);
        let end = scenario.duration_ms.max(1);
        for _ in 0..1 + rng.below(2) {
            let node = rng.below(n) as u32;
            let at = rng.below(end);
            let fault = match rng.below(3) {
                0 => DiskFault::TornWrite,
                1 => DiskFault::Corrupt,
                _ => DiskFault::FsyncError,
            };
            faults.push(Fault::Disk {
                node,
                fault,
                count: 1,
                when: at_ms(at),
            });
        }
    }
    faults
}

/// A random fault schedule for `seed`: one to six faults among crashes (with or without a
/// restart, some losing un-synced writes), partitions with a heal, and drop, delay and
/// crash-after-send rules, each timed within 100 ms of some transaction's start.
pub fn random_faults(scenario: &Scenario, seed: u64) -> Vec<Fault> {
    random_faults_of_kinds(
        scenario,
        seed,
        scenario.protocol.msg_kinds().unwrap_or_default(),
    )
}

/// [`random_faults`] whose rules name the message kinds `kinds` (any message when empty): what
/// the harness draws for a protocol that lists its kinds ([`crate::Process::MSG_KINDS`]).
pub(crate) fn random_faults_of_kinds(
    scenario: &Scenario,
    seed: u64,
    kinds: &[&'static str],
) -> Vec<Fault> {
    let mut rng = SimRng::new(seed, Stream::Faults);
    draw_faults(scenario, kinds, &mut rng)
}

fn draw_faults(scenario: &Scenario, kinds: &[&'static str], rng: &mut SimRng) -> Vec<Fault> {
    let n = u64::from(scenario.nodes);
    let w = &scenario.workload;
    let busy_end = w
        .start_ms
        .saturating_add(w.transactions.saturating_mul(w.interval_ms))
        .saturating_add(100)
        .min(scenario.duration_ms);
    let mut faults = Vec::new();
    let count = 1 + rng.below(6);
    for _ in 0..count {
        // Faults land where the protocol is busy: within 100 ms after some transaction starts.
        let tx = rng.below(w.transactions.max(1));
        let at = w
            .start_ms
            .saturating_add(tx.saturating_mul(w.interval_ms))
            .saturating_add(rng.below(100))
            .min(busy_end);
        let node = rng.below(n) as u32;
        let pattern = |rng: &mut SimRng| Pattern {
            kind: (!kinds.is_empty())
                .then(|| kinds[rng.below(kinds.len() as u64) as usize].to_owned()),
            from: None,
            to: Some(rng.below(n) as u32),
            nth: 1 + rng.below(3),
            count: 1 + rng.below(2),
        };
        match rng.below(6) {
            0 | 1 => {
                faults.push(Fault::Crash {
                    node,
                    lose_unsynced: rng.chance(300),
                    when: at_ms(at),
                });
                if rng.chance(700) {
                    faults.push(Fault::Restart {
                        node,
                        when: at_ms(at.saturating_add(rng.range(5, 300))),
                    });
                }
            }
            2 => {
                let mut side: Vec<u32> = (0..n as u32).filter(|_| rng.chance(500)).collect();
                if side.is_empty() || side.len() as u64 == n {
                    side = vec![node];
                }
                faults.push(Fault::Partition {
                    groups: vec![side],
                    when: at_ms(at),
                });
                faults.push(Fault::Heal {
                    when: at_ms(at.saturating_add(rng.range(5, 300))),
                });
            }
            3 => faults.push(Fault::Drop {
                pattern: pattern(rng),
            }),
            4 => faults.push(Fault::Delay {
                pattern: pattern(rng),
                extra_ms: rng.range(20, 300),
            }),
            _ => {
                let mut p = pattern(rng);
                p.to = None;
                p.count = 1;
                faults.push(Fault::CrashAfterSend {
                    node,
                    pattern: p,
                    lose_unsynced: rng.chance(300),
                });
                if rng.chance(700) {
                    faults.push(Fault::Restart {
                        node,
                        when: at_ms(busy_end.min(at.saturating_add(rng.range(5, 300)))),
                    });
                }
            }
        }
    }
    // A restart or heal drawn past the end would never happen (and a scenario refuses it):
    // leaving it out changes nothing in the run.
    faults.retain(|f| {
        f.when()
            .and_then(|w| w.at_ms)
            .is_none_or(|at| at <= scenario.duration_ms)
    });
    faults
}

fn at_ms(at: u64) -> When {
    When {
        at_ms: Some(at),
        after_event: None,
    }
}
