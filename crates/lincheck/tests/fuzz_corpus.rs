//! The committed fuzz seeds and crash regressions (`fuzz/corpus/lincheck_*`) replayed as tests:
//! each reads as a history (or fails with a located error) and checks without panicking.

use underhood_lincheck::{
    Format, History, ModelKind, Options, Partitioning, Settings, Value, check_history,
};

#[track_caller]
fn replay(target: &str, format: Format) -> usize {
    let dir = format!("{}/../../fuzz/corpus/{target}", env!("CARGO_MANIFEST_DIR"));
    let mut parsed = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        let Ok(history) = History::parse(&bytes, format) else {
            continue;
        };
        parsed += 1;
        for model in [
            ModelKind::CasRegister {
                initial: Value::Nil,
            },
            ModelKind::Kv,
        ] {
            for partitioning in [Partitioning::ByKey, Partitioning::Whole] {
                let settings = Settings {
                    model: model.clone(),
                    partitioning,
                    options: Options::default(),
                };
                if let Err(err) = check_history(&history, &settings) {
                    assert!(err.line >= 1 && err.column >= 1, "{err:?}");
                }
            }
        }
    }
    parsed
}

#[test]
fn seeds_read_and_check() {
    assert!(replay("lincheck_edn", Format::Edn) >= 2);
    assert!(replay("lincheck_jepsen_log", Format::JepsenLog) >= 1);
    assert!(replay("lincheck_jsonl", Format::JsonLines) >= 1);
}
