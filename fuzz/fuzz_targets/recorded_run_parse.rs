//! Any bytes given to the recorded-run parser (the browser's "Open a recorded run", through
//! WASM) either fail with a typed error or give a run that prints back to the same text and
//! parses back to itself, whose events and states name only its nodes, in order.
// The same checks run over the committed corpus in `crates/sim/tests/fuzz_corpus.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use underhood_sim::RecordedRun;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(run) = RecordedRun::from_json(text) else {
        return;
    };
    let printed = run.to_json();
    let back = RecordedRun::from_json(&printed).expect("a printed recorded run parses");
    assert_eq!(back, run, "parse ∘ print is not the identity");
    assert_eq!(back.to_json(), printed, "print ∘ parse ∘ print is not print");
    let n = run.nodes().len() as u32;
    assert!(run.states().iter().all(|s| s.node < n));
    assert!(run.violation().event <= run.events().len() as u64);
});
