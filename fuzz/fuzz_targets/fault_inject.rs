//! Any bytes given as an injected fault list are refused with an error or replay without
//! panicking, and a replay of the recorded injections gives the same trace.
#![no_main]

use libfuzzer_sys::fuzz_target;
use underhood_sim::{Fault, Recording, Run, RunOptions, gallery};

fuzz_target!(|data: &[u8]| {
    let Ok(faults) = serde_json::from_slice::<Vec<Fault>>(data) else {
        return;
    };
    let Ok(scenario) = gallery::find("lost-messages") else {
        return;
    };
    let options = |injected: Vec<Fault>| RunOptions {
        injected,
        recording: Recording::HashOnly,
        ..RunOptions::default()
    };
    let Ok(mut run) = Run::new(&scenario, options(faults.clone())) else {
        return;
    };
    run.step_n(5_000);
    let mut again = Run::new(&scenario, options(faults)).expect("the same faults load twice");
    again.step_n(5_000);
    assert_eq!(run.trace_hash(), again.trace_hash());
});
