//! The linearizability check of the simulator's key-value histories, on
//! [`underhood_lincheck`]: each key is a register that starts unset, checked alone
//! (P-compositionality), and a failure is shrunk to a 1-minimal sub-history with
//! [`underhood_lincheck::minimize`], closed under "reads from".
//!
//! Operations still pending when the history ends may take effect at any later moment or never;
//! their result is unknown. A pending read has no effect and nothing to check, so it is left
//! out.

use serde::Serialize;
use underhood_lincheck::{Model, Op, Options, Return, Verdict};
/// One client operation on a register-valued key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Operation {
    /// The client that issued it.
    pub client: u32,
    /// The key.
    pub key: u32,
    /// What it did.
    pub kind: OpKind,
    /// When it was invoked.
    pub invoke: u64,
    /// When it returned, or `None` if it was still pending at the end.
    pub response: Option<u64>,
}

/// A register operation and its observed result.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OpKind {
    /// Wrote a value.
    Put(u64),
    /// Read a value (`None`: never written). Pending reads are dropped before checking.
    Get(Option<u64>),
}

/// A history that is not linearizable, with a minimal sub-history that shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NonLinearizable {
    /// The key whose sub-history fails.
    pub key: u32,
    /// Indices (into the checked history) of a 1-minimal non-linearizable sub-history, in
    /// invocation order.
    pub ops: Vec<usize>,
}

/// Checks a history; `Err` names the smallest failing sub-history found, on the smallest
/// failing key.
pub fn check(history: &[Operation]) -> Result<(), NonLinearizable> {
    // A pending read has no result to check and no effect.
    let checked: Vec<usize> = (0..history.len())
        .filter(|i| !matches!(history[*i].kind, OpKind::Get(_)) || history[*i].response.is_some())
        .collect();
    let ops: Vec<Op<Access, Option<u64>>> = checked.iter().map(|i| to_op(&history[*i])).collect();
    let options = Options::default();
    if underhood_lincheck::check(&Registers, &ops, &options).verdict == Verdict::Linearizable {
        return Ok(());
    }
    // Some key fails: name the smallest one, and shrink its operations.
    let mut keys: Vec<u32> = history.iter().map(|o| o.key).collect();
    keys.sort_unstable();
    keys.dedup();
    for key in keys {
        // Indices into `ops`, whose order is the history's.
        let on_key: Vec<usize> = (0..ops.len())
            .filter(|i| ops[*i].input.key == key)
            .collect();
        let original =
            |local: &[usize]| -> Vec<usize> { local.iter().map(|i| checked[*i]).collect() };
        // A read of a value no operation on this key wrote is a witness on its own.
        if let Some(&bad) = on_key.iter().find(|i| match history[checked[**i]].kind {
            OpKind::Get(Some(v)) => !on_key
                .iter()
                .any(|j| history[checked[*j]].kind == OpKind::Put(v)),
            OpKind::Get(None) | OpKind::Put(_) => false,
        }) {
            return Err(NonLinearizable {
                key,
                ops: original(&[bad]),
            });
        }
        let alone: Vec<Op<Access, Option<u64>>> = on_key.iter().map(|i| ops[*i].clone()).collect();
        if underhood_lincheck::check(&Registers, &alone, &options).verdict == Verdict::Linearizable
        {
            continue;
        }
        let minimal = underhood_lincheck::minimize(&Registers, &ops, on_key, &options, |subset| {
            close_local(&ops, subset)
        });
        return Err(NonLinearizable {
            key,
            ops: original(&minimal),
        });
    }
    // Unreachable: a history fails only if one of its keys does.
    Ok(())
}

/// What an operation asks of its key's register.
#[derive(Clone, Copy, Debug)]
struct Access {
    key: u32,
    /// `Some(v)`: write `v`; `None`: read.
    write: Option<u64>,
}

/// The simulator's store as a model: one register per key, each starting unset. A read's
/// output is what it saw (`None`: unset).
struct Registers;

impl Model for Registers {
    type State = Option<u64>;
    type Input = Access;
    type Output = Option<u64>;

    fn init(&self) -> Option<u64> {
        None
    }

    fn step(
        &self,
        state: &Option<u64>,
        input: &Access,
        output: Option<&Option<u64>>,
    ) -> Option<Option<u64>> {
        match input.write {
            Some(v) => Some(Some(v)),
            None => output.is_none_or(|seen| seen == state).then_some(*state),
        }
    }

    fn partition(&self, input: &Access) -> u64 {
        u64::from(input.key)
    }
}

fn to_op(o: &Operation) -> Op<Access, Option<u64>> {
    let (write, output) = match o.kind {
        OpKind::Put(v) => (Some(v), None),
        OpKind::Get(seen) => (None, seen),
    };
    Op {
        input: Access { key: o.key, write },
        call: o.invoke,
        ret: match o.response {
            Some(time) => Return::At { time, output },
            None => Return::Unknown,
        },
    }
}

/// Drops the reads whose value no remaining write produced, so a witness never blames a read
/// merely for having lost its write. (Written values are assumed unique, as in our workloads.)
fn close_local(ops: &[Op<Access, Option<u64>>], subset: Vec<usize>) -> Vec<usize> {
    let written: Vec<u64> = subset.iter().filter_map(|i| ops[*i].input.write).collect();
    subset
        .into_iter()
        .filter(|i| match (ops[*i].input.write, ops[*i].output()) {
            (None, Some(Some(v))) => written.contains(v),
            _ => true,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn op(client: u32, kind: OpKind, invoke: u64, response: Option<u64>) -> Operation {
        Operation {
            client,
            key: 0,
            kind,
            invoke,
            response,
        }
    }

    #[track_caller]
    fn check_ops(ops: &[Operation], expected_minimal: Option<&[usize]>) {
        let got = check(ops).err().map(|e| e.ops);
        assert_eq!(got.as_deref(), expected_minimal);
    }

    #[test]
    fn sequential_history_is_linearizable() {
        check_ops(
            &[
                op(1, OpKind::Get(None), 0, Some(1)),
                op(1, OpKind::Put(5), 2, Some(3)),
                op(2, OpKind::Get(Some(5)), 4, Some(5)),
            ],
            None,
        );
    }

    #[test]
    fn a_stale_read_after_a_completed_write_is_not() {
        // Put(1) completes, Put(2) completes, then a read sees 1: every one is needed.
        check_ops(
            &[
                op(1, OpKind::Put(1), 0, Some(1)),
                op(1, OpKind::Put(2), 2, Some(3)),
                op(2, OpKind::Get(Some(1)), 4, Some(5)),
            ],
            Some(&[0, 1, 2]),
        );
    }

    #[test]
    fn concurrent_operations_may_take_effect_in_either_order() {
        check_ops(
            &[
                op(1, OpKind::Put(1), 0, Some(10)),
                op(2, OpKind::Get(Some(1)), 1, Some(2)),
                op(3, OpKind::Get(None), 3, Some(4)),
            ],
            // The read of None ends after the read of 1 began... but the read of 1 forces the
            // put before it, and the read of None starts after that read ended.
            Some(&[0, 1, 2]),
        );
        check_ops(
            &[
                op(1, OpKind::Put(1), 0, Some(10)),
                op(3, OpKind::Get(None), 1, Some(2)),
                op(2, OpKind::Get(Some(1)), 3, Some(4)),
            ],
            None,
        );
    }

    #[test]
    fn a_pending_write_may_or_may_not_have_happened() {
        check_ops(
            &[
                op(1, OpKind::Put(7), 0, None),
                op(2, OpKind::Get(None), 1, Some(2)),
                op(2, OpKind::Get(Some(7)), 3, Some(4)),
            ],
            None,
        );
        check_ops(
            &[
                op(1, OpKind::Put(7), 0, None),
                op(2, OpKind::Get(Some(7)), 1, Some(2)),
                op(2, OpKind::Get(None), 3, Some(4)),
            ],
            Some(&[0, 1, 2]),
        );
    }

    #[test]
    fn a_read_of_a_value_never_written_is_caught_on_its_own() {
        check_ops(&[op(1, OpKind::Get(Some(9)), 0, Some(1))], Some(&[0]));
    }

    #[test]
    fn keys_are_checked_independently() {
        let mut ops = vec![
            op(1, OpKind::Put(1), 0, Some(1)),
            op(1, OpKind::Get(Some(1)), 2, Some(3)),
        ];
        ops.push(Operation {
            key: 1,
            ..op(2, OpKind::Get(Some(1)), 4, Some(5))
        });
        let err = check(&ops).unwrap_err();
        assert_eq!((err.key, err.ops), (1, vec![2]));
    }

    /// A history produced by a real register (each op takes effect at one instant inside its
    /// interval) is always linearizable.
    fn register_history() -> impl Strategy<Value = Vec<Operation>> {
        prop::collection::vec((0u32..4, prop::bool::ANY, 0u64..5, 1u64..6, 0u64..4), 1..60)
            .prop_map(|specs| {
                let mut value: Option<u64> = None;
                let mut t: u64 = 0;
                let mut ops = Vec::new();
                for (i, (client, is_put, pre, post, v)) in specs.into_iter().enumerate() {
                    // The effect happens at t; the interval stretches around it.
                    t += 1;
                    let kind = if is_put {
                        value = Some(v * 100 + i as u64);
                        OpKind::Put(v * 100 + i as u64)
                    } else {
                        OpKind::Get(value)
                    };
                    ops.push(Operation {
                        client,
                        key: 0,
                        kind,
                        invoke: (t * 10).saturating_sub(pre),
                        response: Some(t * 10 + post),
                    });
                }
                ops
            })
    }

    proptest! {
        #[test]
        fn real_register_histories_are_linearizable(ops in register_history()) {
            prop_assert!(check(&ops).is_ok());
        }

        #[test]
        fn a_read_of_an_unwritten_value_is_its_own_witness(
            mut ops in register_history(),
            corrupt in any::<prop::sample::Index>(),
        ) {
            let i = corrupt.index(ops.len());
            ops[i].kind = OpKind::Get(Some(999_999));
            prop_assert_eq!(check(&ops).unwrap_err().ops, vec![i]);
        }

        /// Make a read that follows two completed writes return the older one: the witness
        /// fails, and removing any one of its operations (with the reads of its value) passes.
        #[test]
        fn a_stale_read_witness_is_1_minimal(ops in register_history()) {
            let mut ops = ops;
            let puts: Vec<usize> = (0..ops.len())
                .filter(|i| matches!(ops[*i].kind, OpKind::Put(_)))
                .collect();
            let Some(w) = puts.windows(2).next() else { return Ok(()) };
            let OpKind::Put(old) = ops[w[0]].kind else { return Ok(()) };
            let after = ops[w[1]].response.unwrap_or(0) + 1;
            ops.push(Operation {
                client: 9,
                key: 0,
                kind: OpKind::Get(Some(old)),
                invoke: after,
                response: Some(after + 1),
            });
            // Later writes of `old` do not exist (values are unique), so this read is stale.
            let err = check(&ops).unwrap_err();
            let sub: Vec<Operation> = err.ops.iter().map(|i| ops[*i]).collect();
            prop_assert!(check(&sub).is_err());
            for skip in 0..sub.len() {
                let rest: Vec<usize> = (0..sub.len()).filter(|j| *j != skip).collect();
                let sub_ops: Vec<Op<Access, Option<u64>>> = sub.iter().map(to_op).collect();
                let smaller: Vec<Operation> =
                    close_local(&sub_ops, rest).iter().map(|j| sub[*j]).collect();
                prop_assert!(check(&smaller).is_ok(), "not 1-minimal: {:?}", sub);
            }
        }
    }
}
