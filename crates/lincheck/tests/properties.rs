//! Laws of the checker: recorded sequential executions are linearizable whatever their overlap,
//! a read of a value never written is not, and on small histories the search agrees with a
//! brute-force search over every order, with one thread or several, and `minimize` leaves a
//! 1-minimal failing subset.

use std::num::NonZeroUsize;

use proptest::prelude::*;
use underhood_lincheck::{
    Format, History, ModelKind, Op, Options, Partitioning, Return, Settings, Value, Verdict, check,
    check_history, minimize,
};

/// A register per key with compare-and-set, over small values.
struct Registers;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Read,
    Write(u8),
    Cas(u8, u8),
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct Input {
    key: u8,
    kind: Kind,
}

/// A read's output is the value read; writes and CASes return nothing of interest.
type Output = Option<u8>;

fn apply(state: Option<u8>, kind: Kind, output: Option<&Output>) -> Option<Option<u8>> {
    match kind {
        Kind::Read => output.is_none_or(|read| *read == state).then_some(state),
        Kind::Write(v) => Some(Some(v)),
        Kind::Cas(old, new) => (state == Some(old)).then_some(Some(new)),
    }
}

impl underhood_lincheck::Model for Registers {
    type State = Option<u8>;
    type Input = Input;
    type Output = Output;

    fn init(&self) -> Option<u8> {
        None
    }

    fn step(
        &self,
        state: &Option<u8>,
        input: &Input,
        output: Option<&Output>,
    ) -> Option<Option<u8>> {
        apply(*state, input.kind, output)
    }

    fn partition(&self, input: &Input) -> u64 {
        u64::from(input.key)
    }
}

/// Every order of the operations that respects real time, each `Unknown` one optional.
fn brute_force(ops: &[Op<Input, Output>]) -> bool {
    fn go(ops: &[Op<Input, Output>], placed: &mut Vec<bool>, state: &mut [Option<u8>; 2]) -> bool {
        let known_left = ops
            .iter()
            .zip(placed.iter())
            .any(|(op, p)| !p && matches!(op.ret, Return::At { .. }));
        if !known_left {
            return true;
        }
        for i in 0..ops.len() {
            if placed[i] {
                continue;
            }
            // `i` may go next unless an unplaced operation returned before `i` was called.
            let blocked = ops.iter().zip(placed.iter()).any(|(other, p)| {
                !p && matches!(other.ret, Return::At { time, .. } if time < ops[i].call)
            });
            if blocked {
                continue;
            }
            let key = usize::from(ops[i].input.key);
            let Some(after) = apply(state[key], ops[i].input.kind, ops[i].output()) else {
                continue;
            };
            let before = std::mem::replace(&mut state[key], after);
            placed[i] = true;
            if go(ops, placed, state) {
                return true;
            }
            placed[i] = false;
            state[key] = before;
        }
        false
    }
    go(ops, &mut vec![false; ops.len()], &mut [None, None])
}

fn arb_op() -> impl Strategy<Value = Op<Input, Output>> {
    let kind = prop_oneof![
        Just(Kind::Read),
        (0u8..3).prop_map(Kind::Write),
        (0u8..3, 0u8..3).prop_map(|(a, b)| Kind::Cas(a, b)),
    ];
    (
        0u8..2,
        kind,
        0u64..12,
        0u64..8,
        prop::option::of(0u8..3),
        0u8..5,
    )
        .prop_map(|(key, kind, call, len, read, unknown)| Op {
            input: Input { key, kind },
            call,
            ret: match unknown {
                0 => Return::Unknown,
                _ => Return::At {
                    time: call + len,
                    output: read,
                },
            },
        })
}

fn options(threads: usize) -> Options {
    Options {
        threads: NonZeroUsize::new(threads).unwrap(),
        ..Options::default()
    }
}

/// A sequential execution of `script` (key, kind) on fresh registers, each operation taking
/// effect at 10·i and called and returning up to `spread` before and after; `unknown` marks
/// operations recorded as `:info`.
fn recorded(script: &[(u8, Kind, u64, u64, bool)]) -> Vec<Op<Input, Output>> {
    let mut state = [None, None];
    script
        .iter()
        .enumerate()
        .map(|(i, &(key, kind, before, after, unknown))| {
            let at = 100 + 10 * i as u64;
            let read = state[usize::from(key)];
            let output = match kind {
                Kind::Read => read,
                _ => None,
            };
            // A CAS that does not apply is recorded as a read of the value it saw, so the
            // history stays one of this execution.
            let kind = match kind {
                Kind::Cas(old, _) if read != Some(old) => Kind::Read,
                k => k,
            };
            let output = if kind == Kind::Read { read } else { output };
            if let Some(next) = apply(read, kind, None) {
                state[usize::from(key)] = next;
            }
            Op {
                input: Input { key, kind },
                call: at - before,
                ret: match unknown {
                    true => Return::Unknown,
                    false => Return::At {
                        time: at + after,
                        output,
                    },
                },
            }
        })
        .collect()
}

fn arb_script() -> impl Strategy<Value = Vec<(u8, Kind, u64, u64, bool)>> {
    let kind = prop_oneof![
        Just(Kind::Read),
        (0u8..4).prop_map(Kind::Write),
        (0u8..4, 0u8..4).prop_map(|(a, b)| Kind::Cas(a, b)),
    ];
    prop::collection::vec(
        (0u8..2, kind, 0u64..40, 0u64..40, prop::bool::weighted(0.1)),
        0..60,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn agrees_with_brute_force(ops in prop::collection::vec(arb_op(), 0..7)) {
        let expected = brute_force(&ops);
        for threads in [1, 3] {
            let checked = check(&Registers, &ops, &options(threads));
            prop_assert_eq!(
                matches!(checked.verdict, Verdict::Linearizable),
                expected,
                "{:?} with {} threads", ops, threads
            );
        }
    }

    /// `minimize` leaves a subset that the brute-force search finds not linearizable, and
    /// from which dropping any one operation leaves a linearizable rest.
    #[test]
    fn minimize_leaves_a_1_minimal_failing_subset(ops in prop::collection::vec(arb_op(), 0..8)) {
        let all: Vec<usize> = (0..ops.len()).collect();
        prop_assume!(!brute_force(&ops));
        let minimal = minimize(&Registers, &ops, all, &options(1), |s| s);
        let pick = |idx: &[usize]| idx.iter().map(|i| ops[*i].clone()).collect::<Vec<_>>();
        prop_assert!(!brute_force(&pick(&minimal)), "{:?} -> {:?}", ops, minimal);
        prop_assert!(minimal.windows(2).all(|w| (ops[w[0]].call, w[0]) < (ops[w[1]].call, w[1])));
        for skip in 0..minimal.len() {
            let mut rest = minimal.clone();
            rest.remove(skip);
            prop_assert!(brute_force(&pick(&rest)), "{:?} -> {:?} is not 1-minimal", ops, minimal);
        }
    }

    #[test]
    fn recorded_sequential_executions_are_linearizable(script in arb_script()) {
        let ops = recorded(&script);
        for threads in [1, 2] {
            let checked = check(&Registers, &ops, &options(threads));
            prop_assert_eq!(&checked.verdict, &Verdict::Linearizable);
        }
    }

    #[test]
    fn a_read_of_a_value_never_written_is_not(
        script in arb_script(),
        call in 0u64..800,
        len in 0u64..100,
    ) {
        let mut ops = recorded(&script);
        ops.push(Op {
            input: Input { key: 0, kind: Kind::Read },
            call,
            ret: Return::At { time: call + len, output: Some(99) },
        });
        let checked = check(&Registers, &ops, &options(1));
        let Verdict::NotLinearizable(witness) = checked.verdict else {
            panic!("{:?}", checked.verdict);
        };
        // Every linearization gets stuck by the bad read's return; one that gets stuck at
        // another operation returning at the same instant may be found first.
        prop_assert_eq!(witness.prefix_end, call + len);
        let stuck_at = match ops[witness.op].ret {
            Return::At { time, .. } => time,
            Return::Unknown => u64::MAX,
        };
        prop_assert_eq!(stuck_at, call + len);
        prop_assert!(!witness.linearized.contains(&witness.op));
    }

    /// The same law through the whole pipeline: JSON lines text, one process per operation,
    /// the built-in CAS register by key.
    #[test]
    fn recorded_histories_pass_through_the_parser(script in arb_script()) {
        let ops = recorded(&script);
        let mut events: Vec<(u64, u8, String)> = Vec::new();
        for (process, op) in ops.iter().enumerate() {
            let (f, value) = match op.input.kind {
                Kind::Read => ("read", "null".to_owned()),
                Kind::Write(v) => ("write", v.to_string()),
                Kind::Cas(a, b) => ("cas", format!("[{a}, {b}]")),
            };
            let key = op.input.key;
            events.push((op.call, 0, format!(
                r#"{{"process": {process}, "type": "invoke", "f": "{f}", "key": {key}, "value": {value}}}"#
            )));
            if let Return::At { time, output } = op.ret {
                let value = match op.input.kind {
                    Kind::Read => output.map_or("null".to_owned(), |v| v.to_string()),
                    _ => value,
                };
                events.push((time, 1, format!(
                    r#"{{"process": {process}, "type": "ok", "f": "{f}", "key": {key}, "value": {value}}}"#
                )));
            }
        }
        events.sort_by_key(|(t, kind, _)| (*t, *kind));
        let text: Vec<String> = events.into_iter().map(|(_, _, line)| line).collect();
        let history = History::parse(text.join("\n").as_bytes(), Format::Auto).unwrap();
        let settings = Settings {
            model: ModelKind::CasRegister { initial: Value::Nil },
            partitioning: Partitioning::ByKey,
            options: options(2),
        };
        let report = check_history(&history, &settings).unwrap();
        prop_assert_eq!(report.verdict, Verdict::Linearizable);
        prop_assert_eq!(report.operations, ops.len());
    }
}
