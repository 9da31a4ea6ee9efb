//! Every verdict Porcupine's own tests expect, on its published histories
//! (`testdata/porcupine/verdicts.txt`), reproduced with Jepsen's semantics.

use std::num::NonZeroUsize;

use underhood_lincheck::{
    Completion, Format, History, ModelKind, Options, Partitioning, Settings, Value, Verdict,
    check_history, minimal_failing,
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

/// The operations `minimal_failing` names for a non-linearizable etcd log, written out on their
/// own as JSON lines, are still not linearizable.
#[test]
fn minimal_failing_sets_fail_on_their_own() {
    let list = include_str!("../testdata/porcupine/verdicts.txt");
    let failing: Vec<&str> = list
        .lines()
        .filter(|l| l.starts_with("jepsen/etcd") && l.ends_with(" not-linearizable"))
        .filter_map(|l| l.split_whitespace().next())
        .take(3)
        .collect();
    assert_eq!(failing.len(), 3);
    let settings = Settings {
        model: ModelKind::CasRegister {
            initial: Value::Nil,
        },
        partitioning: Partitioning::ByKey,
        options: Options::default(),
    };
    for file in failing {
        let path = format!("{}/testdata/porcupine/{file}", env!("CARGO_MANIFEST_DIR"));
        let history = History::parse(&std::fs::read(&path).unwrap(), Format::Auto).unwrap();
        let Verdict::NotLinearizable(witness) = check_history(&history, &settings).unwrap().verdict
        else {
            panic!("{file} is linearizable");
        };
        let minimal = minimal_failing(&history, &settings, &witness).unwrap();
        assert!(
            !minimal.is_empty() && minimal.len() < history.operations().len(),
            "{file}"
        );
        let mut lines: Vec<(usize, String)> = Vec::new();
        for &i in &minimal {
            let op = &history.operations()[i];
            let line = |kind: &str, value: &Value| {
                serde_json::json!({"process": op.process, "type": kind, "f": op.f, "value": value})
                    .to_string()
            };
            lines.push((op.invoke.event, line("invoke", &op.value)));
            match &op.completion {
                Completion::Ok { value, at } => lines.push((at.event, line("ok", value))),
                Completion::Fail { at } => lines.push((at.event, line("fail", &op.value))),
                Completion::Info { at: Some(at) } => {
                    lines.push((at.event, line("info", &op.value)))
                }
                Completion::Info { at: None } => {}
            }
        }
        lines.sort();
        let text: Vec<String> = lines.into_iter().map(|(_, l)| l).collect();
        let alone = History::parse(text.join("\n").as_bytes(), Format::JsonLines).unwrap();
        let verdict = check_history(&alone, &settings).unwrap().verdict;
        assert!(
            matches!(verdict, Verdict::NotLinearizable(_)),
            "{file}: the {} operations named pass on their own",
            minimal.len()
        );
    }
}
