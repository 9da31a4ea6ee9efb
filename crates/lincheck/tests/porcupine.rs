//! Every verdict Porcupine's own tests expect, on its published histories
//! (`testdata/porcupine/verdicts.txt`), reproduced with Jepsen's semantics.

use std::num::NonZeroUsize;

use underhood_lincheck::{
    Format, History, ModelKind, Options, Partitioning, Settings, Value, Verdict, check_history,
};

#[track_caller]
fn check(file: &str, model: &str, partitioning: &str, expected: &str) {
    let path = format!("{}/testdata/porcupine/{file}", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(&path).unwrap();
    let history = History::parse(&bytes, Format::Auto).unwrap();
    let model = match model {
        "cas-register" => ModelKind::CasRegister {
            initial: Value::Nil,
        },
        "kv" => ModelKind::Kv,
        other => panic!("unknown model {other}"),
    };
    let partitioning = match partitioning {
        "by-key" => Partitioning::ByKey,
        "whole" => Partitioning::Whole,
        other => panic!("unknown partitioning {other}"),
    };
    let settings = Settings {
        model,
        partitioning,
        options: Options {
            threads: std::thread::available_parallelism().unwrap_or(NonZeroUsize::MIN),
            ..Options::default()
        },
    };
    let report = check_history(&history, &settings).unwrap();
    let got = match &report.verdict {
        Verdict::Linearizable => "linearizable",
        Verdict::NotLinearizable(_) => "not-linearizable",
        Verdict::Unknown(_) => "unknown",
    };
    assert_eq!(got, expected, "{file} with {partitioning:?}");
    if let Verdict::NotLinearizable(witness) = &report.verdict {
        // The witness names an operation that returned, after its linearized prefix.
        assert!(witness.prefix_events < history.events(), "{file}");
        assert!(witness.linearized.iter().all(|i| *i != witness.op.index));
        assert!(!witness.states.is_empty());
    }
}

#[test]
fn porcupine_verdicts() {
    let list = include_str!("../testdata/porcupine/verdicts.txt");
    let mut checked = 0;
    for line in list
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [file, model, partitioning, expected] = fields[..] else {
            panic!("bad line {line:?}");
        };
        check(file, model, partitioning, expected);
        checked += 1;
    }
    assert_eq!(checked, 102 + 6 + 4);
}
