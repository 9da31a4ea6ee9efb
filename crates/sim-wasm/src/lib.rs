//! The simulator for JavaScript: an opaque [`Simulation`] handle that steps a run and returns
//! small JSON texts (state, trace events since a cursor, summary, trace hash).
//! All the work happens in `underhood-sim`; this crate only translates types at the boundary.
//!
//! # Example
//!
//! The same calls work from Rust, which is how this crate is tested natively:
//!
//! ```
//! use underhood_sim_wasm::Simulation;
//!
//! let mut sim = Simulation::from_gallery("happy-path", "", "[]")?;
//! sim.run_to_end()?;
//! let state: serde_json::Value = serde_json::from_str(&sim.state())?;
//! assert_eq!(state["violations"].as_array().map(Vec::len), Some(0));
//! assert_eq!(sim.trace_hash().len(), 16);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # What this crate refuses to do
//!
//! It keeps no state of its own besides the run, reads no clock and draws no random numbers: a
//! run here hashes exactly like the same run natively.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

// The README's Rust examples run as doc tests, so they cannot go stale.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

use underhood_sim::{
    Fault, Replay, Run, RunOptions, Scenario, ScenarioError, gallery, model, parse_seed,
};
use wasm_bindgen::prelude::*;

mod history;
pub use history::{MAX_HISTORY_STEPS, check_history_json};
mod recorded;
pub use recorded::parse_recorded_run;

/// An error for JavaScript: its message is the Rust error's text.
#[derive(Debug)]
pub struct Error(String);

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl From<ScenarioError> for Error {
    fn from(e: ScenarioError) -> Error {
        Error(e.to_string())
    }
}

impl From<Error> for JsValue {
    fn from(e: Error) -> JsValue {
        js_sys_error(&e.0)
    }
}

fn js_sys_error(message: &str) -> JsValue {
    JsError::new(message).into()
}

/// A running simulation.
#[wasm_bindgen]
pub struct Simulation {
    seed: u64,
    run: Run,
}

#[wasm_bindgen]
impl Simulation {
    /// Every gallery scenario as JSON: `[{name, description, protocol, variant}]`.
    pub fn gallery() -> String {
        serde_json::to_string(&gallery::listing()).unwrap_or_default()
    }

    /// The JSON text of a gallery scenario.
    #[wasm_bindgen(js_name = scenarioJson)]
    pub fn scenario_json(name: &str) -> Result<String, Error> {
        Ok(gallery::source(name)?.to_owned())
    }

    /// A run of the gallery scenario `name`; `seed` is decimal or empty for the scenario's own.
    #[wasm_bindgen(js_name = fromGallery)]
    pub fn from_gallery(name: &str, seed: &str, injected_json: &str) -> Result<Simulation, Error> {
        Simulation::start(gallery::find(name)?, seed, injected_json)
    }

    /// A run of a scenario given as JSON text.
    #[wasm_bindgen(constructor)]
    pub fn new(scenario_json: &str, seed: &str, injected_json: &str) -> Result<Simulation, Error> {
        Simulation::start(Scenario::from_json(scenario_json)?, seed, injected_json)
    }

    /// A scripted run: a model-checker counterexample (`replay` in [`check_scenario`]'s
    /// report, or a file from `underhood sim check --save-replay`) replayed step by step
    /// through the simulator. It takes no injections.
    #[wasm_bindgen(js_name = fromReplay)]
    pub fn from_replay(replay_json: &str) -> Result<Simulation, Error> {
        let replay = Replay::from_json(replay_json)?;
        let run = replay.run()?;
        Ok(Simulation {
            seed: replay.seed,
            run,
        })
    }

    /// One protocol's run of a side-by-side comparison (`protocol`: `two-phase-commit`,
    /// `three-phase-commit` or `paxos-commit`); `seed` is decimal or empty for the comparison's.
    #[wasm_bindgen(js_name = fromComparison)]
    pub fn from_comparison(name: &str, protocol: &str, seed: &str) -> Result<Simulation, Error> {
        let comparison = underhood_sim::compare::find(name)?;
        let scenario = comparison
            .scenario(protocol)
            .ok_or_else(|| Error(format!("no protocol {protocol:?} in a comparison")))?
            .clone();
        Simulation::start(scenario, seed, "")
    }

    /// The seed in use, in decimal.
    pub fn seed(&self) -> String {
        self.seed.to_string()
    }

    /// Processes up to `n` queue events; returns how many ran (0 once finished). Throws when
    /// the run outgrew its scenario's `limits` (it stops there; the page stays usable).
    pub fn step(&mut self, n: u32) -> Result<u32, Error> {
        let ran = self.run.step_n(u64::from(n)) as u32;
        self.within_limits()?;
        Ok(ran)
    }

    /// Processes every event up to `t_ms`; returns how many ran. Throws as [`Simulation::step`].
    #[wasm_bindgen(js_name = runUntil)]
    pub fn run_until(&mut self, t_ms: f64) -> Result<f64, Error> {
        let ran = self.run.run_until(ms(t_ms)) as f64;
        self.within_limits()?;
        Ok(ran)
    }

    /// Runs to the end; returns how many queue events ran. Throws as [`Simulation::step`].
    #[wasm_bindgen(js_name = runToEnd)]
    pub fn run_to_end(&mut self) -> Result<f64, Error> {
        let ran = self.run.run_to_end() as f64;
        self.within_limits()?;
        Ok(ran)
    }

    /// The run's budget error, if it stopped at one.
    fn within_limits(&self) -> Result<(), Error> {
        match self.run.limit_exceeded() {
            Some(limit) => Err(Error(limit.to_string())),
            None => Ok(()),
        }
    }

    /// Virtual time in ms.
    pub fn now(&self) -> f64 {
        self.run.now_ms() as f64
    }

    /// Queue events processed so far.
    pub fn steps(&self) -> f64 {
        self.run.steps() as f64
    }

    /// Whether the run is over.
    pub fn finished(&self) -> bool {
        self.run.finished()
    }

    /// The scenario's duration in ms.
    #[wasm_bindgen(js_name = durationMs)]
    pub fn duration_ms(&self) -> f64 {
        self.run.duration_ms() as f64
    }

    /// The state as JSON.
    pub fn state(&self) -> String {
        self.run.state_json().to_string()
    }

    /// How many trace events exist.
    #[wasm_bindgen(js_name = eventCount)]
    pub fn event_count(&self) -> f64 {
        self.run.n_events() as f64
    }

    /// Trace events from index `cursor` on, as a JSON array.
    #[wasm_bindgen(js_name = eventsSince)]
    pub fn events_since(&self, cursor: f64) -> String {
        self.run.events_json(ms(cursor) as usize).to_string()
    }

    /// Applies a fault now (JSON, see the API doc); returns it as recorded for replay.
    pub fn inject(&mut self, fault_json: &str) -> Result<String, Error> {
        let fault: Fault = serde_json::from_str(fault_json)
            .map_err(|e| Error(format!("invalid fault JSON: {e}")))?;
        let recorded = self.run.inject(fault)?;
        Ok(serde_json::to_string(&recorded).unwrap_or_default())
    }

    /// Every injection so far, as JSON, for a link that replays this run.
    pub fn injected(&self) -> String {
        serde_json::to_string(self.run.injected()).unwrap_or_default()
    }

    /// The trace hash as 16 hex digits.
    #[wasm_bindgen(js_name = traceHash)]
    pub fn trace_hash(&self) -> String {
        format!("{:016x}", self.run.trace_hash())
    }

    /// Broken invariants as JSON.
    pub fn violations(&self) -> String {
        serde_json::to_string(self.run.violations()).unwrap_or_default()
    }

    /// Each invariant of the running protocol and where it stands now, as JSON:
    /// `[{name, promise, violated_since: null | {event, time}, violations}]` (see
    /// `Run::invariants`).
    pub fn invariants(&self) -> String {
        serde_json::to_string(&self.run.invariants()).unwrap_or_default()
    }

    /// The plain-text summary, as `underhood sim run` prints it.
    pub fn summary(&self) -> String {
        self.run.summary()
    }
}

/// The gallery's side-by-side comparisons as JSON: `[{name, description, participants, f}]`.
#[wasm_bindgen(js_name = comparisons)]
pub fn comparisons() -> String {
    let list: Vec<serde_json::Value> = underhood_sim::compare::gallery()
        .iter()
        .map(|c| {
            let s = c.spec();
            serde_json::json!({
                "name": s.name, "description": s.description,
                "participants": s.participants, "f": s.f,
            })
        })
        .collect();
    serde_json::Value::Array(list).to_string()
}

/// Runs a comparison on every commit protocol with `seed` (decimal, or empty for its own);
/// returns the report `underhood sim compare --json` prints.
#[wasm_bindgen(js_name = compareScenario)]
pub fn compare_scenario(name: &str, seed: &str) -> Result<String, Error> {
    let comparison = underhood_sim::compare::find(name)?;
    let seed = if seed.trim().is_empty() {
        None
    } else {
        Some(parse_seed(seed)?)
    };
    let report = underhood_sim::compare::compare(&comparison, seed);
    Ok(serde_json::to_string(&report).unwrap_or_default())
}

/// Checks Gray & Lamport's TLA+ TwoPhase spec with `rms` resource managers exhaustively (one
/// thread); returns JSON `{unique_states, states, max_depth, verdict, bytes_per_state}`.
#[wasm_bindgen(js_name = checkTwoPhaseTla)]
pub fn check_two_phase_tla(rms: u32, symmetry: bool) -> String {
    tla(rms, symmetry, &mut |_| {})
}

/// [`check_two_phase_tla`], calling `progress` with JSON `{depth, unique_states, states}`
/// after every level (for a page that runs the check in a worker).
#[wasm_bindgen(js_name = checkTwoPhaseTlaProgress)]
pub fn check_two_phase_tla_progress(rms: u32, symmetry: bool, progress: &JsFunction) -> String {
    tla(rms, symmetry, &mut |p| report_progress(progress, p))
}

fn tla(rms: u32, symmetry: bool, progress: &mut dyn FnMut(model::Progress)) -> String {
    let options = model::CheckerOptions {
        symmetry: if symmetry {
            model::Symmetry::On
        } else {
            model::Symmetry::Off
        },
        ..model::CheckerOptions::default()
    };
    let report = model::check_with_progress(&model::TwoPhaseTla::new(rms), &options, progress);
    serde_json::to_string(&report).unwrap_or_default()
}

/// Checks a gallery scenario's protocol code exhaustively up to `max_depth` steps in the
/// scenario's small configuration (`model::small_config`: its crash and timeout budgets);
/// returns JSON `{unique_states, states, max_depth, verdict, truncated, property,
/// counterexample: [trace events], replay: {scenario, seed, script} | null,
/// reachable: [{property, trace}]}`.
#[wasm_bindgen(js_name = checkScenario)]
pub fn check_scenario(name: &str, max_depth: u32) -> Result<String, Error> {
    scenario_check(name, max_depth, &mut |_| {})
}

/// Whether the model checker explores gallery scenario `name`, without checking it: JSON `null`
/// when it does, or `{refusal, protocol, message}` when [`check_scenario`] would refuse
/// (`refusal`: `"timing"` for a protocol whose safety rests on timing, such as VRRP; `"custom"`;
/// `"scenario"` when its small configuration is not valid; `protocol`: the protocol's name;
/// `message`: the refusal in one sentence).
#[wasm_bindgen(js_name = checkSupport)]
pub fn check_support(name: &str) -> Result<String, Error> {
    let scenario = gallery::find(name)?;
    let Err(refusal) = model::small_config(&scenario) else {
        return Ok("null".to_owned());
    };
    let kind = match &refusal {
        model::CheckRefusal::Timing { .. } => "timing",
        model::CheckRefusal::Custom => "custom",
        model::CheckRefusal::Scenario(_) => "scenario",
        // A refusal added later: the page shows its message.
        _ => "other",
    };
    Ok(serde_json::json!({
        "refusal": kind,
        "protocol": scenario.protocol.name(),
        "message": refusal.to_string(),
    })
    .to_string())
}

/// [`check_scenario`], calling `progress` with JSON `{depth, unique_states, states}` after
/// every level (for a page that runs the check in a worker).
#[wasm_bindgen(js_name = checkScenarioProgress)]
pub fn check_scenario_progress(
    name: &str,
    max_depth: u32,
    progress: &JsFunction,
) -> Result<String, Error> {
    scenario_check(name, max_depth, &mut |p| report_progress(progress, p))
}

fn scenario_check(
    name: &str,
    max_depth: u32,
    progress: &mut dyn FnMut(model::Progress),
) -> Result<String, Error> {
    let scenario = gallery::find(name)?;
    // The same small configuration and report as `underhood sim check --scenario`.
    let request = model::CheckRequest {
        max_depth: Some(max_depth),
        ..model::CheckRequest::default()
    };
    let report =
        model::check_scenario(&scenario, &request, progress).map_err(|e| Error(e.to_string()))?;
    Ok(serde_json::to_string(&report).unwrap_or_default())
}

#[wasm_bindgen]
extern "C" {
    /// A JavaScript function (imported as a type, so this crate needs no `js-sys`).
    #[wasm_bindgen(js_name = Function)]
    pub type JsFunction;

    #[wasm_bindgen(method, js_name = call)]
    fn call1(this: &JsFunction, context: &JsValue, arg: &JsValue) -> JsValue;
}

/// Hands a progress report to JavaScript as JSON text.
fn report_progress(f: &JsFunction, p: model::Progress) {
    let text = serde_json::to_string(&p).unwrap_or_default();
    f.call1(&JsValue::NULL, &JsValue::from_str(&text));
}

impl Simulation {
    fn start(scenario: Scenario, seed: &str, injected_json: &str) -> Result<Simulation, Error> {
        let seed = if seed.trim().is_empty() {
            scenario.seed
        } else {
            parse_seed(seed)?
        };
        let injected: Vec<Fault> = if injected_json.trim().is_empty() {
            Vec::new()
        } else {
            serde_json::from_str(injected_json)
                .map_err(|e| Error(format!("invalid injected faults JSON: {e}")))?
        };
        let run = Run::new(
            &scenario,
            RunOptions {
                seed: Some(seed),
                injected,
                ..RunOptions::default()
            },
        )?;
        Ok(Simulation { seed, run })
    }
}

/// A JavaScript number as whole milliseconds: negative and NaN become 0, huge values saturate.
fn ms(x: f64) -> u64 {
    if x.is_finite() && x > 0.0 {
        x as u64
    } else if x == f64::INFINITY {
        u64::MAX
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_injected_crash_replays_to_the_same_hash() {
        let mut live = Simulation::from_gallery("happy-path", "7", "[]").unwrap();
        live.run_until(13.0).unwrap();
        live.inject(r#"{"type":"crash","node":0}"#).unwrap();
        live.run_until(200.0).unwrap();
        live.inject(r#"{"type":"restart","node":0}"#).unwrap();
        live.run_to_end().unwrap();
        let mut replay = Simulation::from_gallery("happy-path", "7", &live.injected()).unwrap();
        replay.run_to_end().unwrap();
        assert_eq!(live.trace_hash(), replay.trace_hash());
        assert_eq!(live.summary(), replay.summary());
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        for (scenario, seed, injected) in [
            ("{", "", "[]"),
            (gallery::source("happy-path").unwrap(), "x", "[]"),
            (gallery::source("happy-path").unwrap(), "", "{"),
            (
                gallery::source("happy-path").unwrap(),
                "",
                r#"[{"type":"crash","node":99,"at_ms":1}]"#,
            ),
        ] {
            assert!(Simulation::new(scenario, seed, injected).is_err());
        }
        let mut sim = Simulation::from_gallery("happy-path", "", "[]").unwrap();
        let err = sim
            .inject(r#"{"type":"drop_message","id":12345}"#)
            .unwrap_err();
        assert!(err.to_string().contains("not in flight"), "{err}");
        assert!(sim.inject(r#"{"type":"drop","kind":"commit"}"#).is_err());
        assert!(Simulation::from_gallery("nope", "", "[]").is_err());
    }

    #[test]
    fn the_checkers_run_through_the_bindings() {
        let tla: serde_json::Value = serde_json::from_str(&check_two_phase_tla(3, false)).unwrap();
        assert_eq!(tla["unique_states"], 288);
        let found: serde_json::Value =
            serde_json::from_str(&check_scenario("abort-on-timeout", 10).unwrap()).unwrap();
        assert_eq!(found["verdict"], "violated");
        assert_eq!(found["property"], "atomicity");
        assert!(check_scenario("nope", 3).is_err());
        // The counterexample replays as a simulation that breaks the same invariant.
        let mut replay = Simulation::from_replay(&found["replay"].to_string()).unwrap();
        replay.run_to_end().unwrap();
        let v: serde_json::Value = serde_json::from_str(&replay.violations()).unwrap();
        assert_eq!(v[0]["invariant"], "atomicity");
        let err = replay.inject(r#"{"type":"heal"}"#).unwrap_err();
        assert!(err.to_string().contains("replays a fixed path"), "{err}");
        assert!(Simulation::from_replay("{}").is_err());
    }

    #[test]
    fn check_support_explains_a_refusal_before_any_check() {
        assert_eq!(check_support("abort-on-timeout").unwrap(), "null");
        assert_eq!(check_support("paxos-normal").unwrap(), "null");
        let refused: serde_json::Value =
            serde_json::from_str(&check_support("vrrp-split-brain").unwrap()).unwrap();
        assert_eq!(refused["refusal"], "timing");
        assert_eq!(refused["protocol"], "vrrp");
        // The same sentence `checkScenario` throws.
        let thrown = check_scenario("vrrp-split-brain", 3)
            .unwrap_err()
            .to_string();
        assert_eq!(refused["message"], thrown);
        assert!(check_support("nope").is_err());
    }

    #[test]
    fn comparisons_run_through_the_bindings() {
        let list: serde_json::Value = serde_json::from_str(&comparisons()).unwrap();
        assert_eq!(list[0]["name"], "compare-coordinator-crash");
        let report: serde_json::Value =
            serde_json::from_str(&compare_scenario("compare-partition", "3").unwrap()).unwrap();
        assert_eq!(report["seed"], 3);
        assert_eq!(report["runs"][1]["atomicity"], "violated");
        let mut run =
            Simulation::from_comparison("compare-partition", "three-phase-commit", "3").unwrap();
        run.run_to_end().unwrap();
        assert_eq!(report["runs"][1]["trace_hash"], run.trace_hash());
        assert!(Simulation::from_comparison("compare-partition", "raft", "").is_err());
        assert!(compare_scenario("nope", "").is_err());
    }

    #[test]
    fn violations_reach_javascript_as_data() {
        let mut sim = Simulation::from_gallery("paxos-stale-reads", "", "[]").unwrap();
        sim.run_to_end().unwrap();
        let listed: serde_json::Value = serde_json::from_str(&sim.violations()).unwrap();
        let state: serde_json::Value = serde_json::from_str(&sim.state()).unwrap();
        assert_eq!(state["violations"], listed);
        let v = listed
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["invariant"] == "linearizability")
            .unwrap();
        assert!(v["key"].is_u64(), "{v}");
        let ops = v["operations"].as_array().unwrap();
        assert!(ops.len() >= 2, "{v}");
        for op in ops {
            for field in ["client", "seq", "invoke"] {
                assert!(op[field].is_u64(), "{field} in {op}");
            }
            assert!(op["op"].is_string(), "{op}");
        }
        let events: serde_json::Value =
            serde_json::from_str(&sim.events_since(v["event"].as_f64().unwrap())).unwrap();
        assert_eq!(events[0]["kind"], "violation");
        assert_eq!(events[0]["operations"], v["operations"]);
    }

    #[test]
    fn invariants_say_where_each_stands() {
        let mut sim = Simulation::from_gallery("announce-before-log", "", "[]").unwrap();
        let at_start: serde_json::Value = serde_json::from_str(&sim.invariants()).unwrap();
        let names: Vec<&str> = at_start
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|i| i["name"].as_str())
            .collect();
        assert_eq!(names, ["atomicity", "commit-validity", "stable-decision"]);
        assert!(at_start[0]["violated_since"].is_null(), "{at_start}");
        assert!(!at_start[0]["promise"].as_str().unwrap().is_empty());
        sim.run_to_end().unwrap();
        let at_end: serde_json::Value = serde_json::from_str(&sim.invariants()).unwrap();
        let violations: serde_json::Value = serde_json::from_str(&sim.violations()).unwrap();
        let first = &violations[0];
        assert_eq!(first["invariant"], "atomicity");
        assert_eq!(at_end[0]["violated_since"]["event"], first["event"]);
        assert_eq!(at_end[0]["violated_since"]["time"], first["time"]);
        assert!(at_end[0]["violations"].as_u64().unwrap() >= 1);
    }

    /// The page's Skew clock menu: a live clock fault shows in the node's state and in the
    /// trace (`local_t` beside `t`), and its recorded form replays the run exactly.
    #[test]
    fn a_live_clock_fault_shows_and_replays() {
        let mut live = Simulation::from_gallery("happy-path", "", "[]").unwrap();
        live.step(5).unwrap();
        let recorded: serde_json::Value = serde_json::from_str(
            &live
                .inject(r#"{"type":"clock","node":2,"offset_ms":-500}"#)
                .unwrap(),
        )
        .unwrap();
        assert_eq!(recorded["after_event"], 5, "{recorded}");
        live.inject(r#"{"type":"clock","node":2,"drift_ppm":100000}"#)
            .unwrap();
        let err = live
            .inject(r#"{"type":"clock","node":2,"drift_ppm":2000000}"#)
            .unwrap_err();
        assert!(err.0.contains("drift_ppm"), "{}", err.0);
        let state: serde_json::Value = serde_json::from_str(&live.state()).unwrap();
        let clock = &state["nodes"][2]["clock"];
        assert_eq!(clock["offset_ms"], -500, "{clock}");
        assert_eq!(clock["drift_ppm"], 100000, "{clock}");
        assert_eq!(state["nodes"][1]["clock"]["offset_ms"], 0);
        let from = live.event_count();
        live.run_to_end().unwrap();
        let events: serde_json::Value = serde_json::from_str(&live.events_since(from)).unwrap();
        let at_p2: Vec<&serde_json::Value> = events
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["node"] == 2 && e["kind"] != "clock")
            .collect();
        assert!(!at_p2.is_empty());
        for e in at_p2 {
            // 500 ms behind, then 10 % fast: behind by less, never ahead within this run.
            let (t, local) = (e["t"].as_i64().unwrap(), e["local_t"].as_i64().unwrap());
            assert!(local < t && local > t - 500, "{e}");
        }
        let mut replay = Simulation::from_gallery("happy-path", "", &live.injected()).unwrap();
        replay.run_to_end().unwrap();
        assert_eq!(live.trace_hash(), replay.trace_hash());
    }

    /// The page's Disk fault menu: a live corruption shows in the node's disk state and as a
    /// `disk` trace event, and its recorded form replays the run exactly; disk-lost-fsync's
    /// violation names the disk that broke the promise (`broken_by`).
    #[test]
    fn a_live_disk_fault_shows_and_replays() {
        let mut live = Simulation::from_gallery("happy-path", "", "[]").unwrap();
        let state =
            |sim: &Simulation| -> serde_json::Value { serde_json::from_str(&sim.state()).unwrap() };
        while state(&live)["nodes"][1]["disk"]["synced"] == 0 {
            assert_eq!(live.step(1).unwrap(), 1, "P1 never synced a record");
        }
        let from = live.event_count();
        live.inject(r#"{"type":"disk","node":1,"fault":"corrupt","count":1}"#)
            .unwrap();
        let disk = &state(&live)["nodes"][1]["disk"];
        assert_eq!(disk["damaged"], 1, "{disk}");
        assert!(disk["refused"].is_null(), "{disk}");
        let events: serde_json::Value = serde_json::from_str(&live.events_since(from)).unwrap();
        assert_eq!(events[0]["kind"], "disk", "{events}");
        assert_eq!(events[0]["what"], "corrupted", "{events}");
        assert_eq!(events[0]["node"], 1, "{events}");
        live.run_to_end().unwrap();
        let mut replay = Simulation::from_gallery("happy-path", "", &live.injected()).unwrap();
        replay.run_to_end().unwrap();
        assert_eq!(live.trace_hash(), replay.trace_hash());

        let mut lied = Simulation::from_gallery("disk-lost-fsync", "", "[]").unwrap();
        lied.run_to_end().unwrap();
        let violations: serde_json::Value = serde_json::from_str(&lied.violations()).unwrap();
        let by = &violations[0]["broken_by"];
        assert_eq!(by["environment"], "disk", "{violations}");
        assert_eq!(by["fault"], "lost_fsync", "{violations}");
        assert!(by["node"].is_u64() && by["at_ms"].is_u64(), "{violations}");
    }

    #[test]
    fn gallery_lists_every_scenario() {
        let list: serde_json::Value = serde_json::from_str(&Simulation::gallery()).unwrap();
        let names: Vec<&str> = list
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|s| s["name"].as_str())
            .collect();
        assert!(names.contains(&"coordinator-crash-before-decision"));
        assert!(names.contains(&"announce-before-log"));
    }

    /// A scenario over its budgets is refused up front; a run that outgrows them stops with an
    /// error naming the limit (JavaScript gets an exception, the page shows it), never an abort.
    #[test]
    fn budgets_are_errors_not_aborts() {
        let huge = r#"{"name": "huge", "protocol": "two-phase-commit", "nodes": 64,
            "duration_ms": 1000000000, "workload": {"transactions": 10000000, "interval_ms": 1}}"#;
        let refused = Simulation::new(huge, "", "[]").err().unwrap();
        assert!(refused.0.contains("limits.max_events"), "{}", refused.0);
        let mut spec: serde_json::Value =
            serde_json::from_str(&Simulation::scenario_json("paxos-storm").unwrap()).unwrap();
        spec["limits"] = serde_json::json!({"max_events": 10000});
        let mut sim = Simulation::new(&spec.to_string(), "", "[]").unwrap();
        let stopped = sim.run_to_end().err().unwrap();
        assert!(
            stopped.0.contains("limits.max_events: 10000 events"),
            "{}",
            stopped.0
        );
        assert!(sim.finished());
    }
}
