//! `underhood sim`: list, run and explore simulator scenarios.

use std::io::{self, Write};
use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use underhood_sim::model::{
    self, CheckRequest, CheckerOptions, LiveVerdict, Order, ScenarioCheck, Symmetry, TwoPhaseTla,
    Verdict,
};
use underhood_sim::{Fault, FaultKinds, Replay, Run, RunOptions, Scenario, explore_with, gallery};

/// Exit status when an invariant was violated.
const VIOLATED: u8 = 1;
/// Exit status of a check or exploration that a budget (`--max-states`, `--max-seconds`) cut
/// short: no verdict.
const TRUNCATED: u8 = 3;
/// The default `--max-states` of `sim check`: about 1.5 GiB of fingerprints and search tree.
const DEFAULT_MAX_STATES: u64 = 100_000_000;
/// The most seeds `sim explore` takes without `--max-seconds`.
const MAX_SEEDS_UNBOUNDED: u64 = 1_000_000_000;
/// How often a long check or exploration prints its progress on stderr.
const PROGRESS_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

#[derive(Subcommand, Debug)]
pub(crate) enum SimCommand {
    /// List the gallery scenarios.
    List {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Run one scenario and check its invariants.
    Run {
        #[command(flatten)]
        source: Source,
        /// The seed (default: the scenario's own).
        #[arg(long)]
        seed: Option<u64>,
        /// Extra faults to add, as a JSON list (as `explore` prints them).
        #[arg(long)]
        faults: Option<String>,
        /// Print the full trace as JSON instead of the summary.
        #[arg(long)]
        json: bool,
    },
    /// Check a model exhaustively: every reachable state of a small configuration.
    Check {
        /// The model to check (`two-phase-tla`: Gray & Lamport's TwoPhase spec).
        #[arg(long, value_parser = ["two-phase-tla"], conflicts_with = "scenario", required_unless_present = "scenario")]
        model: Option<String>,
        /// Check a gallery scenario's protocol code and variant instead (its nodes and
        /// requests; the checker tries every order, timeout and crash itself).
        #[arg(long)]
        scenario: Option<String>,
        /// Explore paths of at most this many steps (scenarios; default: the scenario's small
        /// configuration, 24 for 2PC and 14 for Multi-Paxos).
        #[arg(long)]
        max_depth: Option<u32>,
        /// Crashes allowed in one path (scenarios; default: what the scenario's bug needs, one
        /// for 2PC).
        #[arg(long)]
        crashes: Option<u8>,
        /// Timer firings allowed in one path (scenarios; default: two for Multi-Paxos, any
        /// number for 2PC).
        #[arg(long)]
        timeouts: Option<u8>,
        /// Let the network lose messages (scenarios).
        #[arg(long)]
        loss: bool,
        /// Let the network deliver a message and keep a copy for later (scenarios).
        #[arg(long)]
        duplication: bool,
        /// Let one disk fault strike per path (scenarios): a comma-separated list of
        /// torn_write (at a crash, including one right before a log write), corrupt and
        /// lost_fsync.
        #[arg(long, value_name = "FAULTS", value_parser = parse_disk_faults, requires = "scenario")]
        disk_faults: Option<DiskFaults>,
        /// Resource managers (1 to 15).
        #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=15))]
        rms: u32,
        /// Depth first instead of breadth first.
        #[arg(long)]
        dfs: bool,
        /// Count one state per orbit under permutations of resource managers.
        #[arg(long)]
        symmetry: bool,
        /// Worker threads for breadth-first search.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=64))]
        threads: u32,
        /// Print one JSON object instead of lines.
        #[arg(long)]
        json: bool,
        /// Write the counterexample, if one is found, as a replay file for `sim replay`
        /// (scenarios).
        #[arg(long, value_name = "FILE", requires = "scenario")]
        save_replay: Option<PathBuf>,
        /// Stop after about this many unique states: the verdict is "truncated" and the exit
        /// status 3.
        #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_STATES, value_parser = clap::value_parser!(u64).range(1..))]
        max_states: u64,
        /// Stop after this many seconds: the verdict is "truncated" and the exit status 3.
        /// Progress goes to stderr every 2 seconds either way.
        #[arg(long, value_name = "S", value_parser = parse_seconds)]
        max_seconds: Option<f64>,
    },
    /// Replay a scripted run (a counterexample saved by `sim check --save-replay`) in the
    /// simulator, step by step.
    Replay {
        /// The replay file (JSON: scenario, seed, script).
        file: PathBuf,
        /// Print the full trace as JSON instead of the steps and the summary.
        #[arg(long)]
        json: bool,
    },
    /// Run one workload and one fault schedule on Two-Phase Commit, Three-Phase Commit and
    /// Paxos Commit side by side, and compare outcomes and costs.
    Compare {
        /// A comparison from the gallery (`compare-coordinator-crash`, `compare-partition`).
        #[arg(long)]
        scenario: String,
        /// The seed (default: the comparison's own).
        #[arg(long)]
        seed: Option<u64>,
        /// Print one JSON object instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Run a scenario over many seeds with random faults; shrink the first failure.
    Explore {
        #[command(flatten)]
        source: Source,
        /// Seeds to try: `A..B` (inclusive), `A..=B`, or one number. More than a billion seeds
        /// need `--max-seconds`.
        #[arg(long, value_parser = parse_seeds)]
        seeds: RangeInclusive<u64>,
        /// Which random faults to draw: a comma-separated list of network, crash, clock and
        /// disk (torn writes, corrupted records and failed fsyncs; never a lying fsync).
        #[arg(long, default_value = "network,crash", value_parser = parse_fault_kinds)]
        fault_kinds: FaultKinds,
        /// Stop after this many seconds: "truncated" and exit status 3 if no seed broke
        /// anything by then. Progress (seeds done) goes to stderr every 2 seconds either way.
        #[arg(long, value_name = "S", value_parser = parse_seconds)]
        max_seconds: Option<f64>,
        /// Stop once the runs have simulated about this many events in all (checked every 64
        /// seeds): "truncated" and exit status 3 if no seed broke anything by then.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
        max_states: Option<u64>,
    },
}

#[derive(Args, Debug)]
#[group(required = true, multiple = false)]
pub(crate) struct Source {
    /// A gallery scenario's name (see `underhood sim list`).
    #[arg(long)]
    scenario: Option<String>,
    /// A scenario file (JSON).
    #[arg(long)]
    file: Option<PathBuf>,
}

/// Runs one `underhood sim` command.
pub(crate) fn run(command: SimCommand) -> Result<ExitCode> {
    let stdout = io::stdout();
    let mut out = stdout.lock();
    match command {
        SimCommand::List { json } => {
            let scenarios = gallery::gallery();
            if json {
                writeln!(
                    out,
                    "{}",
                    serde_json::to_string_pretty(&gallery::listing())?
                )?;
            } else {
                let width = scenarios.iter().map(|s| s.name.len()).max().unwrap_or(0);
                for s in &scenarios {
                    writeln!(out, "{:width$}  {}", s.name, s.description)?;
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        SimCommand::Run {
            source,
            seed,
            faults,
            json,
        } => {
            let mut scenario = load(&source)?;
            if let Some(text) = faults {
                let extra: Vec<Fault> =
                    serde_json::from_str(&text).context("--faults is not a JSON list of faults")?;
                scenario = scenario.with_faults(&extra)?;
            }
            let mut run = Run::new(
                &scenario,
                RunOptions {
                    seed,
                    ..RunOptions::default()
                },
            )?;
            run.run_to_end();
            // A run cut short by its budget has no verdict: say which limit, exit 2.
            if let Some(limit) = run.limit_exceeded() {
                return Err(limit.into());
            }
            finish_run(&mut out, &run, json, false)
        }
        SimCommand::Check {
            model: _,
            scenario,
            max_depth,
            crashes,
            timeouts,
            loss,
            duplication,
            disk_faults,
            rms,
            dfs,
            symmetry,
            threads,
            json,
            save_replay,
            max_states,
            max_seconds,
        } => {
            if let Some(name) = scenario {
                let scenario = gallery::find(&name)?;
                let request = CheckRequest {
                    max_depth,
                    crashes,
                    timeouts,
                    loss,
                    duplication,
                    order: if dfs {
                        Order::DepthFirst
                    } else {
                        Order::BreadthFirst
                    },
                    threads: threads as usize,
                    max_states: Some(max_states),
                    disk_faults: disk_faults.map(|d| d.0).unwrap_or_default(),
                };
                let start = std::time::Instant::now();
                let Some(report) = bounded(max_seconds, move |progress| {
                    model::check_scenario(&scenario, &request, &mut |p| progress(states(p)))
                })?
                else {
                    return truncated_by_time(&mut out, max_seconds);
                };
                let report = report?;
                let seconds = start.elapsed().as_secs_f64();
                let cut = StatesCut::of(report.truncated, report.unique_states, max_states);
                let code = print_check(
                    &mut out,
                    &report,
                    seconds,
                    save_replay.as_deref(),
                    json,
                    cut,
                )?;
                return Ok(cut.exit_code(code));
            }
            let options = CheckerOptions {
                order: if dfs {
                    Order::DepthFirst
                } else {
                    Order::BreadthFirst
                },
                symmetry: if symmetry {
                    Symmetry::On
                } else {
                    Symmetry::Off
                },
                threads: threads as usize,
                max_states,
                ..CheckerOptions::default()
            };
            let start = std::time::Instant::now();
            let Some(report) = bounded(max_seconds, move |progress| {
                model::check_with_progress(&TwoPhaseTla::new(rms), &options, &mut |p| {
                    progress(states(p))
                })
            })?
            else {
                return truncated_by_time(&mut out, max_seconds);
            };
            let seconds = start.elapsed().as_secs_f64();
            let cut = StatesCut::of(report.truncated, report.unique_states, max_states);
            let verdict = cut.verdict(report.verdict);
            if json {
                let value = serde_json::json!({
                    "model": "two-phase-tla", "rms": rms,
                    "unique_states": report.unique_states, "states": report.states,
                    "max_depth": report.max_depth, "verdict": verdict, "seconds": seconds,
                    "unique_states_per_second": report.unique_states as f64 / seconds.max(1e-9),
                    "bytes_per_state": report.bytes_per_state,
                    "counterexample": report.counterexample,
                });
                writeln!(out, "{value}")?;
            } else {
                writeln!(out, "model: two-phase-tla, {rms} resource managers")?;
                writeln!(out, "unique-states: {}", report.unique_states)?;
                writeln!(out, "states: {}", report.states)?;
                writeln!(out, "max-depth: {}", report.max_depth)?;
                writeln!(out, "verdict: {}", cut.verdict_line(report.verdict))?;
                writeln!(
                    out,
                    "seconds: {seconds:.3} ({:.0} unique states/s, {:.1} bytes/state)",
                    report.unique_states as f64 / seconds.max(1e-9),
                    report.bytes_per_state
                )?;
                for d in &report.discoveries {
                    match d.actions.len() {
                        0 => writeln!(out, "sometimes: {} is reachable", d.property)?,
                        n => writeln!(out, "sometimes: {} is reachable in {n} steps", d.property)?,
                    }
                }
                if let Some(c) = &report.counterexample {
                    writeln!(out, "counterexample ({}):", c.property)?;
                    for (action, state) in c.actions.iter().zip(c.states.iter().skip(1)) {
                        let arg = action.arg.map(|a| format!("({a})")).unwrap_or_default();
                        writeln!(out, "  {}{arg} -> {state}", action.name)?;
                    }
                }
            }
            let code = match report.verdict {
                Verdict::Ok => ExitCode::SUCCESS,
                Verdict::Violated => ExitCode::from(VIOLATED),
            };
            Ok(cut.exit_code(code))
        }
        SimCommand::Replay { file, json } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read replay file {}", file.display()))?;
            let replay =
                Replay::from_json(&text).with_context(|| format!("in {}", file.display()))?;
            let mut run = replay
                .run()
                .with_context(|| format!("in {}", file.display()))?;
            run.run_to_end();
            finish_run(&mut out, &run, json, true)
        }
        SimCommand::Compare {
            scenario,
            seed,
            json,
        } => {
            let comparison = underhood_sim::compare::find(&scenario)?;
            let report = underhood_sim::compare::compare(&comparison, seed);
            if json {
                writeln!(out, "{}", serde_json::to_string(&report)?)?;
            } else {
                print_comparison(&mut out, &report)?;
            }
            // A protocol that breaks atomicity here is the comparison's finding, not a failure
            // of the command: the report says which.
            Ok(ExitCode::SUCCESS)
        }
        SimCommand::Explore {
            source,
            seeds,
            fault_kinds,
            max_seconds,
            max_states,
        } => {
            let scenario = load(&source)?;
            let (first, last) = (*seeds.start(), *seeds.end());
            let count = u128::from(last.abs_diff(first)) + 1;
            if count > u128::from(MAX_SEEDS_UNBOUNDED)
                && max_seconds.is_none()
                && max_states.is_none()
            {
                bail!(
                    "--seeds {first}..={last} is {count} seeds, more than {MAX_SEEDS_UNBOUNDED} without a budget; add --max-seconds S or --max-states N (or a shorter range)"
                );
            }
            let budget = ExploreBudget {
                max_seconds,
                max_states,
            };
            let report = match explore_bounded(&scenario, first, last, fault_kinds, budget)? {
                Explored::Done(report) => report,
                Explored::OutOfTime => return truncated_by_time(&mut out, max_seconds),
                Explored::OutOfStates(events) => {
                    writeln!(
                        out,
                        "verdict: truncated (--max-states {} reached: {events} events simulated; nothing was found before it)",
                        max_states.unwrap_or_default()
                    )?;
                    return Ok(ExitCode::from(TRUNCATED));
                }
            };
            let Some(failure) = report.failure else {
                writeln!(
                    out,
                    "explored {} seeds ({first}..={last}) of {}: every invariant held",
                    report.runs, scenario.name
                )?;
                return Ok(ExitCode::SUCCESS);
            };
            let v = &failure.violation;
            writeln!(
                out,
                "explored {} seeds of {}: seed {} breaks {}: {}",
                report.runs, scenario.name, failure.seed, v.invariant, v.detail
            )?;
            writeln!(out, "first violating seed: {}", failure.seed)?;
            writeln!(out, "random faults ({}):", failure.faults.len())?;
            for f in &failure.faults {
                writeln!(out, "  {}", serde_json::to_string(f)?)?;
            }
            writeln!(
                out,
                "shrunk fault schedule ({} faults, {} runs to shrink):",
                failure.shrunk.len(),
                failure.shrink_runs
            )?;
            for f in &failure.shrunk {
                writeln!(out, "  {}", serde_json::to_string(f)?)?;
            }
            let source_flag = match (&source.scenario, &source.file) {
                (Some(name), _) => format!("--scenario {name}"),
                (None, Some(path)) => format!("--file {}", path.display()),
                (None, None) => String::new(),
            };
            writeln!(
                out,
                "reproduce: underhood sim run {source_flag} --seed {} --faults '{}'",
                failure.seed,
                serde_json::to_string(&failure.shrunk)?
            )?;
            Ok(ExitCode::from(VIOLATED))
        }
    }
}

/// Prints a finished run: its full trace as JSON, or (with `events`, every event as a line
/// and then) its summary; the exit status says whether an invariant broke.
fn finish_run(out: &mut impl Write, run: &Run, json: bool, events: bool) -> Result<ExitCode> {
    if json {
        let trace = serde_json::json!({
            "scenario": run.scenario().name,
            "seed": run.seed(),
            "steps": run.steps(),
            "now": run.now_ms(),
            "trace_hash": format!("{:016x}", run.trace_hash()),
            "violations": run.violations(),
            "events": run.events_json(0),
        });
        serde_json::to_writer(&mut *out, &trace)?;
        writeln!(out)?;
    } else {
        if events {
            let state = run.state_json();
            let names: Vec<&str> = state["nodes"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|n| n["name"].as_str().unwrap_or("?"))
                .collect();
            for event in run.events_json(0).as_array().into_iter().flatten() {
                writeln!(out, "{}", event_line(event, &names))?;
            }
        }
        write!(out, "{}", run.summary())?;
    }
    Ok(if run.violations().is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(VIOLATED)
    })
}

/// One trace event as a line: time, who, what.
fn event_line(event: &serde_json::Value, names: &[&str]) -> String {
    let name = |key: &str| {
        event[key]
            .as_u64()
            .and_then(|n| names.get(n as usize).copied())
            .unwrap_or("?")
    };
    let label = event["label"].as_str().unwrap_or_default();
    let kind = event["kind"].as_str().unwrap_or_default();
    let what = match kind {
        "send" | "deliver" => format!("{} → {}  {kind} {label}", name("from"), name("to")),
        "drop" => format!(
            "{} → {}  lost {label} ({})",
            name("from"),
            name("to"),
            event["reason"].as_str().unwrap_or("?")
        ),
        "timer" => format!("{}  timer {label}", name("node")),
        "persist" => format!("{}  log {label}", name("node")),
        "request" => format!("{}  request {label}", name("node")),
        "output" => format!("{}  {label}", name("node")),
        _ => label.to_owned(),
    };
    format!("{:>6} ms  {what}", event["t"].as_u64().unwrap_or_default())
}

/// Runs `work` on its own thread, printing its progress (the latest line it reported) on stderr
/// every [`PROGRESS_EVERY`]; `None` when `max_seconds` passed first (the thread is left behind:
/// the process is about to exit).
fn bounded<T: Send + 'static>(
    max_seconds: Option<f64>,
    work: impl FnOnce(&dyn Fn(String)) -> T + Send + 'static,
) -> Result<Option<T>> {
    use std::sync::{Arc, Mutex, mpsc};
    let latest = Arc::new(Mutex::new(String::from("starting")));
    let (done, result) = mpsc::channel();
    let shared = Arc::clone(&latest);
    std::thread::Builder::new()
        .name("sim-check".into())
        .spawn(move || {
            let progress = |line: String| {
                if let Ok(mut l) = shared.lock() {
                    *l = line;
                }
            };
            // The receiver is gone only when the budget ran out and the process is exiting.
            let _ = done.send(work(&progress));
        })
        .context("cannot start the checking thread")?;
    let start = std::time::Instant::now();
    loop {
        let wait = match max_seconds {
            Some(s) => PROGRESS_EVERY
                .min(std::time::Duration::from_secs_f64(s).saturating_sub(start.elapsed())),
            None => PROGRESS_EVERY,
        };
        match result.recv_timeout(wait) {
            Ok(value) => return Ok(Some(value)),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                bail!("the checking thread stopped without a result")
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        let elapsed = start.elapsed().as_secs_f64();
        if max_seconds.is_some_and(|s| elapsed >= s) {
            return Ok(None);
        }
        let line = latest.lock().map(|l| l.clone()).unwrap_or_default();
        eprintln!("progress: {elapsed:.0} s, {line}");
    }
}

/// A checker's progress as one line.
fn states(p: model::Progress) -> String {
    format!(
        "depth {}, {} unique states, {} states generated",
        p.depth, p.unique_states, p.states
    )
}

/// Explores seeds `first..=last` a chunk at a time, so progress (seeds done) shows and
/// the budget can stop it between chunks; the first violating seed ends it as one `explore`
/// over the whole range would.
fn explore_bounded(
    scenario: &Scenario,
    first: u64,
    last: u64,
    fault_kinds: FaultKinds,
    budget: ExploreBudget,
) -> Result<Explored> {
    const CHUNK: u64 = 64;
    let start = std::time::Instant::now();
    let mut last_progress = start;
    let mut runs = 0;
    let mut events = 0;
    let mut from = first;
    loop {
        let to = from.saturating_add(CHUNK - 1).min(last);
        let mut report = explore_with(scenario, from..=to, fault_kinds)?;
        runs += report.runs;
        events += report.events;
        if report.failure.is_some() || to == last {
            report.runs = runs;
            report.events = events;
            return Ok(Explored::Done(report));
        }
        from = to + 1;
        let elapsed = start.elapsed();
        if budget
            .max_seconds
            .is_some_and(|s| elapsed.as_secs_f64() >= s)
        {
            eprintln!("progress: {runs} seeds explored ({first}..={to}), no violation");
            return Ok(Explored::OutOfTime);
        }
        if budget.max_states.is_some_and(|n| events >= n) {
            eprintln!("progress: {runs} seeds explored ({first}..={to}), no violation");
            return Ok(Explored::OutOfStates(events));
        }
        if last_progress.elapsed() >= PROGRESS_EVERY {
            last_progress = std::time::Instant::now();
            eprintln!(
                "progress: {:.0} s, {runs} seeds explored ({first}..={to}), {events} events, no violation yet",
                elapsed.as_secs_f64()
            );
        }
    }
}

/// What `sim explore` may spend.
#[derive(Clone, Copy)]
struct ExploreBudget {
    max_seconds: Option<f64>,
    max_states: Option<u64>,
}

/// How a bounded exploration ended.
enum Explored {
    /// Every seed ran, or one failed.
    Done(underhood_sim::ExploreReport),
    /// `--max-seconds` passed first.
    OutOfTime,
    /// `--max-states` events were simulated first (how many).
    OutOfStates(u64),
}

/// The "truncated" verdict of a search or exploration that `--max-seconds` stopped: exit 3.
fn truncated_by_time(out: &mut impl Write, max_seconds: Option<f64>) -> Result<ExitCode> {
    writeln!(
        out,
        "verdict: truncated (--max-seconds {} reached; nothing was found before it)",
        max_seconds.unwrap_or_default()
    )?;
    Ok(ExitCode::from(TRUNCATED))
}

/// Whether `--max-states` cut a search short. A search cut short that found nothing has the
/// verdict "truncated" (exit 3) instead of "ok"; one that found a violation keeps it.
#[derive(Clone, Copy)]
struct StatesCut(Option<u64>);

impl StatesCut {
    fn of(truncated: bool, unique_states: u64, max_states: u64) -> Self {
        Self((truncated && unique_states >= max_states).then_some(max_states))
    }

    /// The verdict word, as `--json` prints it.
    fn verdict(self, verdict: Verdict) -> &'static str {
        match (verdict, self.0) {
            (Verdict::Violated, _) => "violated",
            (Verdict::Ok, Some(_)) => "truncated",
            (Verdict::Ok, None) => "ok",
        }
    }

    /// The verdict line's text, with the limit that cut the search.
    fn verdict_line(self, verdict: Verdict) -> String {
        match (verdict, self.0) {
            (Verdict::Ok, Some(max)) => {
                format!("truncated (--max-states {max} reached; nothing was found before it)")
            }
            _ => self.verdict(verdict).to_owned(),
        }
    }

    fn exit_code(self, code: ExitCode) -> ExitCode {
        match self.0 {
            Some(_) if code == ExitCode::SUCCESS => ExitCode::from(TRUNCATED),
            _ => code,
        }
    }
}

/// Parses a positive number of seconds.
fn parse_seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(s) if s > 0.0 && s.is_finite() => Ok(s),
        _ => Err(format!("{text:?} is not a positive number of seconds")),
    }
}

/// Prints a scenario check: the verdict, the reachable and "eventually" properties, and the
/// counterexample as a trace; saves the counterexample's replay file when asked.
fn print_check(
    out: &mut impl Write,
    report: &ScenarioCheck,
    seconds: f64,
    save_replay: Option<&std::path::Path>,
    json: bool,
    cut: StatesCut,
) -> Result<ExitCode> {
    if let (Some(path), Some(replay)) = (save_replay, &report.replay) {
        let text = serde_json::to_string_pretty(replay)?;
        std::fs::write(path, text + "\n")
            .with_context(|| format!("cannot write replay file {}", path.display()))?;
    }
    if json {
        let mut value = serde_json::to_value(report)?;
        value["seconds"] = serde_json::json!(seconds);
        if cut.0.is_some() {
            value["verdict"] = serde_json::json!(cut.verdict(report.verdict));
        }
        writeln!(out, "{value}")?;
    } else {
        writeln!(out, "scenario: {}", report.scenario)?;
        writeln!(out, "unique-states: {}", report.unique_states)?;
        writeln!(out, "states: {}", report.states)?;
        writeln!(out, "max-depth: {}", report.max_depth)?;
        writeln!(out, "verdict: {}", cut.verdict_line(report.verdict))?;
        if report.truncated {
            writeln!(out, "note: the depth or state limit cut the search short")?;
        }
        writeln!(out, "seconds: {seconds:.3}")?;
        for d in &report.reachable {
            writeln!(
                out,
                "sometimes: {} is reachable in {} steps:",
                d.property, d.steps
            )?;
            print_trace(out, &d.trace)?;
        }
        for l in &report.eventually {
            let verdict = match l.verdict {
                LiveVerdict::Holds => "holds",
                LiveVerdict::Violated => "violated",
                LiveVerdict::Unknown => "unknown (limits cut the graph short)",
            };
            writeln!(out, "eventually {}: {verdict}", l.property)?;
            if l.verdict == LiveVerdict::Violated {
                let what = if l.cycle == 0 {
                    format!("stops after {} steps", l.stem)
                } else {
                    format!("{} steps, then a fair cycle of {} forever", l.stem, l.cycle)
                };
                writeln!(out, "  a fair execution that never gets there ({what}):")?;
                print_trace(out, &l.trace)?;
            }
        }
        if let Some(property) = report.property {
            writeln!(
                out,
                "counterexample: {property} broken after {} steps (a shortest path):",
                report.counterexample_steps
            )?;
            print_trace(out, &report.counterexample)?;
            match save_replay {
                Some(path) => writeln!(
                    out,
                    "replay: saved to {0}; `underhood sim replay {0}` runs it in the simulator",
                    path.display()
                )?,
                None => writeln!(
                    out,
                    "replay: add --save-replay FILE, then `underhood sim replay FILE` runs it \
                     in the simulator"
                )?,
            }
        }
    }
    Ok(match report.verdict {
        Verdict::Ok => ExitCode::SUCCESS,
        Verdict::Violated => ExitCode::from(VIOLATED),
    })
}

/// A comparison as a table, one row per protocol.
fn print_comparison(
    out: &mut impl Write,
    report: &underhood_sim::compare::ComparisonReport,
) -> Result<()> {
    writeln!(out, "comparison: {}, seed {}", report.scenario, report.seed)?;
    writeln!(
        out,
        "{:<20} {:<10} {:<8} {:<8} {:>12} {:>9} {:>13} {:>17}",
        "protocol",
        "atomicity",
        "decided",
        "blocked",
        "in-doubt max",
        "messages",
        "forced writes",
        "decision latency"
    )?;
    for r in &report.runs {
        let atomicity = match r.atomicity {
            underhood_sim::compare::Verdict::Held => "held",
            underhood_sim::compare::Verdict::Violated => "VIOLATED",
        };
        let latency = r
            .decision_latency_ms
            .map_or_else(|| "-".to_owned(), |ms| format!("{ms} ms"));
        writeln!(
            out,
            "{:<20} {:<10} {:<8} {:<8} {:>9} ms {:>9} {:>13} {:>17}",
            r.protocol,
            atomicity,
            if r.decided_everywhere { "yes" } else { "no" },
            if r.blocked { "yes" } else { "no" },
            r.in_doubt_ms_max,
            r.messages,
            r.forced_writes,
            latency
        )?;
    }
    Ok(())
}

/// A checker path as lines: logical time and label.
fn print_trace(out: &mut impl Write, trace: &[serde_json::Value]) -> Result<()> {
    for event in trace {
        writeln!(
            out,
            "  {:>3}  {}",
            event["t"],
            event["label"].as_str().unwrap_or_default()
        )?;
    }
    Ok(())
}

fn load(source: &Source) -> Result<Scenario> {
    match (&source.scenario, &source.file) {
        (Some(name), _) => Ok(gallery::find(name)?),
        (None, Some(path)) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read scenario file {}", path.display()))?;
            Scenario::from_json(&text).with_context(|| format!("in {}", path.display()))
        }
        (None, None) => bail!("give --scenario NAME or --file PATH"),
    }
}

/// `A..B` and `A..=B` (both inclusive, as people mean "seeds 1..1000"), or a single seed.
/// The `--disk-faults` list of `sim check`.
#[derive(Clone, Debug)]
pub(crate) struct DiskFaults(Vec<underhood_sim::DiskFault>);

fn parse_disk_faults(text: &str) -> Result<DiskFaults, String> {
    use underhood_sim::DiskFault;
    let mut faults = Vec::new();
    for name in text.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let fault = match name {
            "torn_write" => DiskFault::TornWrite,
            "corrupt" => DiskFault::Corrupt,
            "lost_fsync" => DiskFault::LostFsync,
            other => {
                return Err(format!(
                    "unknown disk fault {other:?} (expected torn_write, corrupt or lost_fsync)"
                ));
            }
        };
        if !faults.contains(&fault) {
            faults.push(fault);
        }
    }
    if faults.is_empty() {
        return Err("no disk fault given (expected torn_write, corrupt or lost_fsync)".into());
    }
    Ok(DiskFaults(faults))
}

fn parse_fault_kinds(text: &str) -> Result<FaultKinds, String> {
    FaultKinds::parse(text).map_err(|e| e.to_string())
}

fn parse_seeds(text: &str) -> Result<RangeInclusive<u64>, String> {
    let number = |s: &str| {
        s.trim()
            .parse::<u64>()
            .map_err(|_| format!("{s:?} is not a whole number"))
    };
    let range = match text.split_once("..") {
        Some((a, b)) => number(a)?..=number(b.strip_prefix('=').unwrap_or(b))?,
        None => number(text)?..=number(text)?,
    };
    if range.is_empty() {
        return Err(format!("{text:?} is an empty range"));
    }
    Ok(range)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_ranges() {
        assert_eq!(parse_seeds("1..1000"), Ok(1..=1000));
        assert_eq!(parse_seeds("5..=6"), Ok(5..=6));
        assert_eq!(parse_seeds("9"), Ok(9..=9));
        assert!(parse_seeds("3..1").is_err());
        assert!(parse_seeds("a..b").is_err());
    }
}
