//! "Open a recorded run": a failing run that `underhood_sim::check_with` recorded (for any
//! protocol, ours or a user's), read and checked by `underhood_sim::RecordedRun::from_json`
//! and handed back to the page as JSON to draw. Nothing of the protocol runs here.

use underhood_sim::RecordedRun;
use wasm_bindgen::prelude::*;

use crate::Error;

/// Reads a recorded run file (at most `underhood_sim::MAX_RECORDED_RUN_BYTES`) and returns it
/// as JSON in the same shape (see `docs/sim-wasm-api.md`); a file that is not one, or whose
/// events or states are out of order or name nodes the run lacks, is an error saying what is
/// wrong.
///
/// ```
/// use underhood_sim_wasm::parse_recorded_run;
///
/// let err = parse_recorded_run(r#"{"scenario": {}, "seed": 1, "script": []}"#).unwrap_err();
/// assert!(err.to_string().contains("not a recorded run"));
/// ```
#[wasm_bindgen(js_name = parseRecordedRun)]
pub fn parse_recorded_run(text: &str) -> Result<String, Error> {
    let run = RecordedRun::from_json(text).map_err(|e| Error(e.to_string()))?;
    // Compact, unlike `to_json`: the page parses it at once, and the module already carries
    // serde_json's compact writer (the indented one would add to the download).
    serde_json::to_string(&run).map_err(|e| Error(e.to_string()))
}
