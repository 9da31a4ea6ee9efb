//! The property every lincheck history-reader target checks, whatever the format: any bytes
//! either fail with a located error or give a history that every built-in model either rejects
//! with a located error or checks within a step budget, with the same verdict on one thread and
//! on two; nothing panics.

use std::num::NonZeroUsize;

use underhood_lincheck::{
    Budget, Format, History, ModelKind, Options, Partitioning, Settings, Value, check_history,
};

/// Checks the property on `data` read as `format`.
pub fn check(data: &[u8], format: Format) {
    let Ok(history) = History::parse(data, format) else {
        return;
    };
    assert!(history.operations().len() * 2 >= history.events());
    let models = [
        ModelKind::Register {
            initial: Value::Nil,
        },
        ModelKind::CasRegister {
            initial: Value::Int(0),
        },
        ModelKind::Kv,
    ];
    for model in models {
        for partitioning in [Partitioning::ByKey, Partitioning::Whole] {
            let run = |threads| {
                let settings = Settings {
                    model: model.clone(),
                    partitioning,
                    options: Options {
                        budget: Budget {
                            deadline: None,
                            max_steps: Some(1 << 16),
                        },
                        threads: NonZeroUsize::new(threads).expect("nonzero"),
                    },
                };
                check_history(&history, &settings)
            };
            let (one, two) = (run(1), run(2));
            match (&one, &two) {
                (Ok(a), Ok(b)) => assert_eq!(
                    std::mem::discriminant(&a.verdict),
                    std::mem::discriminant(&b.verdict)
                ),
                (Err(a), Err(b)) => assert!(a.line >= 1 && a == b),
                _ => panic!("{one:?} vs {two:?}"),
            }
        }
    }
}
