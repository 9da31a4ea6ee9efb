//! Any bytes given to the replay parser (`sim replay FILE`, the browser's "Show in the diagram")
//! either fail with a typed error or give a replay that prints back to itself and runs (a bounded
//! number of steps) without panicking; a script that does not fit its scenario is an error.
// The same checks run over the committed corpus in `crates/sim/tests/fuzz_corpus.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use underhood_sim::Replay;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(replay) = Replay::from_json(text) else {
        return;
    };
    let printed = serde_json::to_string(&replay).expect("a replay prints");
    let back = Replay::from_json(&printed).expect("a printed replay parses");
    assert_eq!(back, replay, "parse ∘ print is not the identity");
    if let Ok(mut run) = replay.run() {
        run.step_n(5_000);
        let _ = run.summary();
    }
});
