//! A linearizability checker for key-value histories: Wing & Gong's search with Lowe's
//! memoization of (linearized set, state), as in Knossos and Porcupine, run key by key
//! (a history of independent registers is linearizable if each key's sub-history is).
//!
//! Operations still pending when the history ends may take effect at any later moment or never;
//! their return is placed after every other event and their result is unknown.
//! On failure the checker shrinks the failing key's operations to a 1-minimal sub-history that
//! is still not linearizable: every operation in it is needed for the contradiction.

use std::collections::HashSet;

use serde::Serialize;

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

/// Checks a history; `Err` names the smallest failing sub-history found.
pub fn check(history: &[Operation]) -> Result<(), NonLinearizable> {
    let mut keys: Vec<u32> = history.iter().map(|o| o.key).collect();
    keys.sort_unstable();
    keys.dedup();
    for key in keys {
        let ops: Vec<usize> = (0..history.len())
            .filter(|i| history[*i].key == key)
            // A pending read has no result to check and no effect.
            .filter(|i| {
                !matches!(history[*i].kind, OpKind::Get(_)) || history[*i].response.is_some()
            })
            .collect();
        // A read of a value no operation on this key wrote is a witness on its own.
        if let Some(&bad) = ops.iter().find(|i| match history[**i].kind {
            OpKind::Get(Some(v)) => !ops.iter().any(|j| history[*j].kind == OpKind::Put(v)),
            OpKind::Get(None) | OpKind::Put(_) => false,
        }) {
            return Err(NonLinearizable {
                key,
                ops: vec![bad],
            });
        }
        if !linearizable(history, &ops) {
            let mut minimal = minimize(history, ops);
            minimal.sort_by_key(|i| (history[*i].invoke, *i));
            return Err(NonLinearizable { key, ops: minimal });
        }
    }
    Ok(())
}

/// Delta debugging over the failing operations: drop chunks while the rest still fails, with
/// chunks halving down to single operations. A sub-history stays closed under "reads from":
/// dropping a write drops the reads that saw its value, so the witness never blames a read
/// merely for having lost its write. (Written values are assumed unique, as in our workloads.)
fn minimize(history: &[Operation], mut ops: Vec<usize>) -> Vec<usize> {
    let mut chunk = ops.len().div_ceil(2).max(1);
    loop {
        let mut start = 0;
        let mut removed_any = false;
        while start < ops.len() {
            let end = (start + chunk).min(ops.len());
            let kept: Vec<usize> = ops[..start].iter().chain(&ops[end..]).copied().collect();
            let candidate = close(history, kept);
            if !candidate.is_empty() && !linearizable(history, &candidate) {
                ops = candidate;
                removed_any = true;
            } else {
                start = end;
            }
        }
        if chunk == 1 && !removed_any {
            return ops;
        }
        if !removed_any {
            chunk = chunk.div_ceil(2);
        }
    }
}

/// Drops the reads whose value no remaining write produced.
pub(crate) fn close(history: &[Operation], ops: Vec<usize>) -> Vec<usize> {
    let written: Vec<u64> = ops
        .iter()
        .filter_map(|i| match history[*i].kind {
            OpKind::Put(v) => Some(v),
            OpKind::Get(_) => None,
        })
        .collect();
    ops.into_iter()
        .filter(|i| match history[*i].kind {
            OpKind::Get(Some(v)) => written.contains(&v),
            OpKind::Get(None) | OpKind::Put(_) => true,
        })
        .collect()
}

/// One entry of the event list: the call or the return of operation `op` (an index into the
/// sub-history), linked to its neighbours.
#[derive(Clone, Copy, Debug)]
struct Entry {
    op: usize,
    is_call: bool,
    /// For a call: the index of its return entry.
    partner: usize,
    prev: usize,
    next: usize,
}

const NIL: usize = usize::MAX;

/// Whether the operations `ops` of `history` (one key) are linearizable as a register that
/// starts empty.
fn linearizable(history: &[Operation], ops: &[usize]) -> bool {
    let n = ops.len();
    if n == 0 {
        return true;
    }
    // Events sorted by time; at equal times calls come first (overlap, the lenient reading).
    let mut events: Vec<(u64, bool, usize)> = Vec::with_capacity(2 * n);
    for (i, &h) in ops.iter().enumerate() {
        let op = &history[h];
        events.push((op.invoke, true, i));
        events.push((op.response.unwrap_or(u64::MAX), false, i));
    }
    events.sort_by_key(|(t, is_call, i)| (*t, !*is_call, *i));
    // A doubly linked list with a head sentinel at index 2n.
    let head = 2 * n;
    let mut entries: Vec<Entry> = Vec::with_capacity(2 * n + 1);
    let mut return_at = vec![0; n];
    for (pos, (_, is_call, i)) in events.iter().enumerate() {
        if !is_call {
            return_at[*i] = pos;
        }
        entries.push(Entry {
            op: *i,
            is_call: *is_call,
            partner: NIL,
            prev: if pos == 0 { head } else { pos - 1 },
            next: if pos + 1 == 2 * n { NIL } else { pos + 1 },
        });
    }
    for e in entries.iter_mut() {
        if e.is_call {
            e.partner = return_at[e.op];
        }
    }
    entries.push(Entry {
        op: NIL,
        is_call: false,
        partner: NIL,
        prev: NIL,
        next: 0,
    });

    let words = n.div_ceil(64);
    let mut linearized = vec![0u64; words];
    let mut state: Option<u64> = None;
    let mut cache: HashSet<(Vec<u64>, Option<u64>)> = HashSet::new();
    // The stack of (call entry, state before it).
    let mut stack: Vec<(usize, Option<u64>)> = Vec::new();
    let mut cursor = entries[head].next;
    loop {
        if cursor == NIL {
            // Only returns of linearized operations can be left; the list is empty: success.
            return true;
        }
        let e = entries[cursor];
        if e.is_call {
            let op = &history[ops[e.op]];
            let (ok, next_state) = step(state, op);
            let mut bits = linearized.clone();
            bits[e.op / 64] |= 1 << (e.op % 64);
            if ok && cache.insert((bits.clone(), next_state)) {
                stack.push((cursor, state));
                state = next_state;
                linearized = bits;
                lift(&mut entries, cursor);
                cursor = entries[head].next;
            } else {
                cursor = e.next;
            }
        } else {
            // A return whose call was not linearized yet: undo the last choice.
            let Some((call, before)) = stack.pop() else {
                return false;
            };
            let op = entries[call].op;
            linearized[op / 64] &= !(1 << (op % 64));
            state = before;
            unlift(&mut entries, call);
            cursor = entries[call].next;
        }
    }
}

/// The register's transition: whether `op` can take effect in `state`, and the state after.
fn step(state: Option<u64>, op: &Operation) -> (bool, Option<u64>) {
    match op.kind {
        OpKind::Put(v) => (true, Some(v)),
        OpKind::Get(seen) => (seen == state, state),
    }
}

/// Removes a call entry and its return from the list.
fn lift(entries: &mut [Entry], call: usize) {
    let ret = entries[call].partner;
    for idx in [call, ret] {
        let Entry { prev, next, .. } = entries[idx];
        entries[prev].next = next;
        if next != NIL {
            entries[next].prev = prev;
        }
    }
}

/// Puts a lifted call entry and its return back, in reverse order of removal.
fn unlift(entries: &mut [Entry], call: usize) {
    let ret = entries[call].partner;
    for idx in [ret, call] {
        let Entry { prev, next, .. } = entries[idx];
        entries[prev].next = idx;
        if next != NIL {
            entries[next].prev = idx;
        }
    }
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
                let smaller: Vec<Operation> = close(&sub, rest).iter().map(|j| sub[*j]).collect();
                prop_assert!(check(&smaller).is_ok(), "not 1-minimal: {:?}", sub);
            }
        }
    }
}
