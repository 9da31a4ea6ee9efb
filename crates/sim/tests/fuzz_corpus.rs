//! Replays the committed corpus of the replay fuzz target (`fuzz/corpus/replay_parse`) with the
//! checks of the target itself (`fuzz/fuzz_targets/replay_parse.rs`), so a crash kept there
//! fails here.
// The corpus reader has twins in `crates/acl-model/tests/fuzz_corpus.rs` and
// `crates/cpuflags/tests/fuzz_corpus.rs`.

use std::fs;
use std::path::PathBuf;

use underhood_sim::{RecordedRun, Replay};

/// The files of one target's corpus, sorted, as text.
fn corpus(target: &str) -> Vec<(String, String)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("../../fuzz/corpus/{target}"));
    let mut files: Vec<(String, String)> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, fs::read_to_string(&path).unwrap())
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} is empty", dir.display());
    files
}

/// Every replay in the corpus parses or fails with a typed error; `seed-*` files parse, print
/// back to themselves and run; `bad-*` files are refused.
#[test]
fn replay_files_parse_print_back_and_run_or_are_refused() {
    for (name, text) in corpus("replay_parse") {
        match Replay::from_json(&text) {
            Ok(replay) => {
                assert!(name.starts_with("seed-"), "{name} parsed");
                let printed = serde_json::to_string(&replay).unwrap();
                assert_eq!(Replay::from_json(&printed).unwrap(), replay, "{name}");
                let mut run = replay.run().unwrap();
                run.step_n(5_000);
                assert!(!run.summary().is_empty(), "{name}");
            }
            Err(e) => {
                assert!(name.starts_with("bad-"), "{name}: {e}");
                assert!(!e.to_string().is_empty(), "{name}");
            }
        }
    }
}

/// Every recorded run in the corpus of `fuzz/fuzz_targets/recorded_run_parse.rs` parses or is
/// refused with a typed error; `seed-*` files parse, print back to the same text and parse back
/// to themselves; `bad-*` files are refused.
#[test]
fn recorded_run_files_parse_and_print_back_or_are_refused() {
    for (name, text) in corpus("recorded_run_parse") {
        match RecordedRun::from_json(&text) {
            Ok(run) => {
                assert!(name.starts_with("seed-"), "{name} parsed");
                let printed = run.to_json();
                let back = RecordedRun::from_json(&printed).unwrap();
                assert_eq!(back, run, "{name}");
                assert_eq!(back.to_json(), printed, "{name}");
            }
            Err(e) => {
                assert!(name.starts_with("bad-"), "{name}: {e}");
                assert!(!e.to_string().is_empty(), "{name}");
            }
        }
    }
}
