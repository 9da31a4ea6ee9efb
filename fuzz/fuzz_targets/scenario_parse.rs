//! Any bytes given to the scenario parser either fail with an error or give a scenario that
//! prints back to itself and runs (a bounded number of steps) without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use underhood_sim::{Recording, Run, RunOptions, Scenario};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(scenario) = Scenario::from_json(text) else {
        return;
    };
    let printed = scenario.to_json();
    let back = Scenario::from_json(&printed).expect("a printed scenario parses");
    assert_eq!(back, scenario, "parse ∘ print is not the identity");
    let options = RunOptions {
        recording: Recording::HashOnly,
        ..RunOptions::default()
    };
    let mut run = Run::new(&scenario, options).expect("a checked scenario runs");
    run.step_n(5_000);
    let _ = run.summary();
});
