//! The built-in models (register, CAS register, key-value store) applied to a parsed
//! [`History`] with Jepsen's semantics, and the report in the history's own terms.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use serde::Serialize;

use crate::error::{ModelError, ModelErrorKind};
use crate::history::{Completion, History, Operation};
use crate::model::{Model, Op, Return};
use crate::search::{Checked, Options, Verdict, Witness, check, minimize};
use crate::value::Value;

/// A built-in model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ModelKind {
    /// A read/write register: `:read` (its `:ok` value is what it read, `nil` for unset) and
    /// `:write v`. It starts at `initial` (`nil`: unset).
    Register {
        /// The value before any write.
        initial: Value,
    },
    /// A register with compare-and-set: `:read`, `:write v` and `:cas [old new]`, which sets
    /// `new` if the register holds `old`. It starts at `initial`.
    CasRegister {
        /// The value before any write.
        initial: Value,
    },
    /// A map from keys to strings, every key starting as the empty string: `:get` (`:ok` value
    /// the string read, `nil` reads as empty), `:put s` and `:append s`, each with a `:key`.
    Kv,
}

impl ModelKind {
    /// The model's name on the command line: `register`, `cas-register` or `kv`.
    pub fn name(&self) -> &'static str {
        match self {
            ModelKind::Register { .. } => "register",
            ModelKind::CasRegister { .. } => "cas-register",
            ModelKind::Kv => "kv",
        }
    }
}

/// Whether operations on different keys are checked apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Partitioning {
    /// One partition per `:key` (operations without one share the `nil` key): a history of
    /// independent keys is linearizable if each key's operations are.
    ByKey,
    /// The whole history at once, the state holding every key.
    Whole,
}

/// What [`check_history`] checks and how.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The model.
    pub model: ModelKind,
    /// Whether to split by key.
    pub partitioning: Partitioning,
    /// Budget and threads.
    pub options: Options,
}

/// The outcome of [`check_history`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    /// How many operations the history has (all types).
    pub operations: usize,
    /// How many partitions were checked.
    pub partitions: usize,
    /// The answer.
    pub verdict: Verdict<HistoryWitness>,
}

/// A [`Witness`] in the history's terms.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HistoryWitness {
    /// The key of the failing partition (`None` when the history is checked whole).
    pub key: Option<Value>,
    /// The operation that cannot be linearized.
    pub op: Operation,
    /// The last operation of [`HistoryWitness::linearized`] (Knossos' `:previous-ok`).
    pub previous_ok: Option<Operation>,
    /// How many of the history's events precede `op`'s completion: the longest linearizable
    /// prefix of the failing partition ends there.
    pub prefix_events: usize,
    /// One linearization of that prefix: indices into [`History::operations`], in the order they
    /// take effect.
    pub linearized: Vec<usize>,
    /// Distinct states the object can be in just before `op` had to take effect (for a whole
    /// history, a map from key to value).
    pub states: Vec<Value>,
}

/// Checks a history against a built-in model with Jepsen's semantics: `:ok` operations
/// happened between invocation and completion, `:fail` operations did not happen, and `:info`
/// (or never completed) operations may have happened at any time after their invocation, or
/// not at all. An `:info` read observes nothing and is dropped.
///
/// ```
/// use underhood_lincheck::{
///     Format, History, ModelKind, Options, Partitioning, Settings, Value, Verdict, check_history,
/// };
///
/// let text = "INFO  jepsen.util - 0\t:invoke\t:write\t1
/// INFO  jepsen.util - 0\t:ok\t:write\t1
/// INFO  jepsen.util - 1\t:invoke\t:read\tnil
/// INFO  jepsen.util - 1\t:ok\t:read\tnil";
/// let history = History::parse(text.as_bytes(), Format::Auto)?;
/// let settings = Settings {
///     model: ModelKind::Register { initial: Value::Nil },
///     partitioning: Partitioning::ByKey,
///     options: Options::default(),
/// };
/// let report = check_history(&history, &settings)?;
/// let Verdict::NotLinearizable(witness) = report.verdict else { panic!() };
/// // The read of nil after the write completed cannot be placed.
/// assert_eq!(witness.op.index, 1);
/// assert_eq!(witness.states, [Value::Int(1)]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn check_history(history: &History, settings: &Settings) -> Result<Report, ModelError> {
    let operations = history.operations().len();
    let mut keys = Interner::default();
    let (partitions, verdict) = match &settings.model {
        ModelKind::Register { initial } | ModelKind::CasRegister { initial } => {
            let with_cas = matches!(settings.model, ModelKind::CasRegister { .. });
            let mut values = Interner::default();
            let start = values.id(initial);
            let (ops, index) = decode(history, &mut keys, |op| {
                register_op(op, with_cas, &mut values)
            })?;
            let cell = RegisterCell { initial: start };
            let render = |s: &u32| values.value(*s);
            run(cell, settings, &ops, &index, &keys, render)
        }
        ModelKind::Kv => {
            let (ops, index) = decode(history, &mut keys, kv_op)?;
            let render = |s: &Text| Value::Str(s.as_str().to_owned());
            run(KvCell, settings, &ops, &index, &keys, render)
        }
    };
    let verdict = match verdict {
        Verdict::Linearizable => Verdict::Linearizable,
        Verdict::Unknown(why) => Verdict::Unknown(why),
        Verdict::NotLinearizable(w) => Verdict::NotLinearizable(history_witness(history, w)),
    };
    Ok(Report {
        operations,
        partitions,
        verdict,
    })
}

/// The operations that break linearizability together: the failing partition's operations
/// (the witness's key, or the whole history) shrunk by [`minimize`](crate::minimize) to a
/// 1-minimal set that is still not linearizable, as indices into [`History::operations`] in
/// invocation order. For the registers, a read (or an `:ok` CAS) stays only with an operation
/// that wrote the value it saw (or expected), unless that value is the initial one; for `kv`, a
/// `:get` of a non-empty string only with a `:put` or `:append` whose string occurs in it: the
/// set never blames a read merely for having lost its write. Each candidate's check has
/// `settings.options.budget`; one that runs out counts as linearizable, so the set always fails
/// but may then be larger than 1-minimal.
///
/// ```
/// use underhood_lincheck::{
///     Format, History, ModelKind, Options, Partitioning, Settings, Value, Verdict, check_history,
///     minimal_failing,
/// };
///
/// let history = History::parse(
///     br#"[{:process 0, :type :invoke, :f :write, :value 1}
///         {:process 0, :type :ok, :f :write, :value 1}
///         {:process 1, :type :invoke, :f :write, :value 2}
///         {:process 1, :type :ok, :f :write, :value 2}
///         {:process 2, :type :invoke, :f :read, :value nil}
///         {:process 2, :type :ok, :f :read, :value nil}
///         {:process 0, :type :invoke, :f :read, :value nil}
///         {:process 0, :type :ok, :f :read, :value 1}]"#,
///     Format::Edn,
/// )?;
/// let settings = Settings {
///     model: ModelKind::Register { initial: Value::Nil },
///     partitioning: Partitioning::ByKey,
///     options: Options::default(),
/// };
/// let Verdict::NotLinearizable(witness) = check_history(&history, &settings)?.verdict else {
///     panic!("a read of nil after two writes completed is not linearizable");
/// };
/// // Enough to fail: the read of nil after the write of 2 completed.
/// assert_eq!(minimal_failing(&history, &settings, &witness)?, [1, 2]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn minimal_failing(
    history: &History,
    settings: &Settings,
    witness: &HistoryWitness,
) -> Result<Vec<usize>, ModelError> {
    let mut keys = Interner::default();
    match &settings.model {
        ModelKind::Register { initial } | ModelKind::CasRegister { initial } => {
            let with_cas = matches!(settings.model, ModelKind::CasRegister { .. });
            let mut values = Interner::default();
            let start = values.id(initial);
            let (ops, index) = decode(history, &mut keys, |op| {
                register_op(op, with_cas, &mut values)
            })?;
            let cell = RegisterCell { initial: start };
            let close = |subset: Vec<usize>| reads_from(&ops, start, subset);
            Ok(shrink(
                cell,
                settings,
                &ops,
                &index,
                keys.len(),
                witness,
                close,
            ))
        }
        ModelKind::Kv => {
            let (ops, index) = decode(history, &mut keys, kv_op)?;
            let close = |subset: Vec<usize>| kv_reads_from(&ops, subset);
            Ok(shrink(
                KvCell,
                settings,
                &ops,
                &index,
                keys.len(),
                witness,
                close,
            ))
        }
    }
}

/// [`minimal_failing`] for one cell type.
fn shrink<C: Cell>(
    cell: C,
    settings: &Settings,
    ops: &[Op<Keyed<C::Input>, C::Output>],
    index: &[usize],
    keys: usize,
    witness: &HistoryWitness,
    mut close: impl FnMut(Vec<usize>) -> Vec<usize>,
) -> Vec<usize> {
    let failing = index.iter().position(|i| *i == witness.op.index);
    let members: Vec<usize> = match settings.partitioning {
        Partitioning::ByKey => {
            let key = failing.map(|at| ops[at].input.key);
            (0..ops.len())
                .filter(|i| Some(ops[*i].input.key) == key)
                .collect()
        }
        Partitioning::Whole => (0..ops.len()).collect(),
    };
    // A read whose value nothing in the partition could have written fails on its own (from
    // the initial state), and every candidate would drop it: it is the answer.
    let closed = close(members.clone());
    let lone = members.iter().filter(|m| !closed.contains(m));
    if let Some(&lone) = lone.clone().find(|m| Some(**m) == failing).or(lone.min()) {
        return vec![index[lone]];
    }
    let options = &settings.options;
    let minimal = match settings.partitioning {
        Partitioning::ByKey => minimize(&ByKey(cell), ops, members, options, close),
        Partitioning::Whole => minimize(&Whole { cell, keys }, ops, members, options, close),
    };
    minimal.into_iter().map(|i| index[i]).collect()
}

/// Drops each `:get` of a non-empty string that no remaining `:put` or `:append` on its key
/// could have contributed to (none of their strings occurs in it).
fn kv_reads_from(ops: &[Op<Keyed<KvInput>, Text>], subset: Vec<usize>) -> Vec<usize> {
    let writes: Vec<(u32, &str)> = subset
        .iter()
        .filter_map(|i| match &ops[*i].input.input {
            KvInput::Put(t) => Some((ops[*i].input.key, t.as_str())),
            KvInput::Append(t) => Some((ops[*i].input.key, &**t)),
            KvInput::Get => None,
        })
        .collect();
    subset
        .into_iter()
        .filter(|i| {
            let op = &ops[*i];
            match (&op.input.input, op.output()) {
                (KvInput::Get, Some(seen)) if !seen.as_str().is_empty() => writes
                    .iter()
                    .any(|(k, w)| *k == op.input.key && !w.is_empty() && seen.as_str().contains(w)),
                _ => true,
            }
        })
        .collect()
}

/// Drops, until none is left to drop, each read or `:ok` CAS whose value seen (or expected) no
/// remaining operation on its key writes and is not the initial value.
fn reads_from(
    ops: &[Op<Keyed<RegisterInput>, u32>],
    initial: u32,
    mut subset: Vec<usize>,
) -> Vec<usize> {
    loop {
        let written: std::collections::HashSet<(u32, u32)> = subset
            .iter()
            .filter_map(|i| match ops[*i].input.input {
                RegisterInput::Write(v) | RegisterInput::Cas(_, v) => Some((ops[*i].input.key, v)),
                RegisterInput::Read => None,
            })
            .collect();
        let before = subset.len();
        subset.retain(|i| {
            let op = &ops[*i];
            let needs = match (op.input.input, op.output()) {
                (RegisterInput::Read, Some(seen)) => Some(*seen),
                (RegisterInput::Cas(old, _), Some(_)) => Some(old),
                _ => None,
            };
            needs.is_none_or(|v| v == initial || written.contains(&(op.input.key, v)))
        });
        if subset.len() == before {
            return subset;
        }
    }
}

/// A witness whose operations are history indices and states values.
struct Resolved {
    by_key: bool,
    witness: Witness<Value>,
}

fn history_witness(history: &History, resolved: Resolved) -> HistoryWitness {
    let Resolved { by_key, witness } = resolved;
    let ops = history.operations();
    let op = ops[witness.op].clone();
    let key = if by_key { op.key.clone() } else { None };
    let prefix_events = match &op.completion {
        Completion::Ok { at, .. } | Completion::Fail { at } => at.event,
        Completion::Info { .. } => history.events(),
    };
    HistoryWitness {
        key,
        previous_ok: witness.linearized.last().map(|i| ops[*i].clone()),
        op,
        prefix_events,
        linearized: witness.linearized,
        states: witness.states,
    }
}

/// Runs the search by key or whole, and resolves the witness.
fn run<C: Cell>(
    cell: C,
    settings: &Settings,
    ops: &[Op<Keyed<C::Input>, C::Output>],
    index: &[usize],
    keys: &Interner,
    render: impl Fn(&C::State) -> Value,
) -> (usize, Verdict<Resolved>) {
    let resolve = |w: Witness<Value>, by_key: bool| Resolved {
        by_key,
        witness: Witness {
            op: index[w.op],
            linearized: w.linearized.iter().map(|i| index[*i]).collect(),
            ..w
        },
    };
    match settings.partitioning {
        Partitioning::ByKey => {
            let checked = check(&ByKey(cell), ops, &settings.options);
            map_verdict(checked, |w| resolve(w.map_states(&render), true))
        }
        Partitioning::Whole => {
            let model = Whole {
                cell,
                keys: keys.len(),
            };
            let checked = check(&model, ops, &settings.options);
            let mut used = vec![false; keys.len()];
            for op in ops {
                used[op.input.key as usize] = true;
            }
            map_verdict(checked, |w| {
                let w = w.map_states(|cells| {
                    Value::Map(
                        cells
                            .iter()
                            .enumerate()
                            .filter(|(k, _)| used[*k])
                            .map(|(k, s)| (keys.value(k as u32), render(s)))
                            .collect(),
                    )
                });
                resolve(w, false)
            })
        }
    }
}

fn map_verdict<S>(
    checked: Checked<Witness<S>>,
    resolve: impl FnOnce(Witness<S>) -> Resolved,
) -> (usize, Verdict<Resolved>) {
    let verdict = match checked.verdict {
        Verdict::Linearizable => Verdict::Linearizable,
        Verdict::Unknown(why) => Verdict::Unknown(why),
        Verdict::NotLinearizable(w) => Verdict::NotLinearizable(resolve(w)),
    };
    (checked.partitions, verdict)
}

/// Turns history operations into model operations: `:fail` ones and `:info` reads are left
/// out; the second vector maps each kept operation to its history index.
#[allow(clippy::type_complexity)] // Two parallel vectors, named at the call site.
fn decode<I, O>(
    history: &History,
    keys: &mut Interner,
    mut decode_op: impl FnMut(&Operation) -> Result<Option<(I, Option<O>)>, ModelError>,
) -> Result<(Vec<Op<Keyed<I>, O>>, Vec<usize>), ModelError> {
    let mut ops = Vec::with_capacity(history.operations().len());
    let mut index = Vec::with_capacity(history.operations().len());
    for op in history.operations() {
        let key = keys.id(op.key.as_ref().unwrap_or(&Value::Nil));
        let Some((input, output)) = decode_op(op)? else {
            continue;
        };
        let ret = match (&op.completion, output) {
            (Completion::Fail { .. }, _) => continue,
            (Completion::Ok { at, .. }, Some(output)) => Return::At {
                time: at.event as u64,
                output,
            },
            _ => Return::Unknown,
        };
        ops.push(Op {
            input: Keyed { key, input },
            call: op.invoke.event as u64,
            ret,
        });
        index.push(op.index);
    }
    Ok((ops, index))
}

fn model_error(op: &Operation, kind: ModelErrorKind) -> ModelError {
    ModelError {
        line: op.invoke.line,
        column: op.invoke.column,
        kind,
    }
}

fn function_name(op: &Operation) -> &str {
    match &op.f {
        Value::Keyword(name) | Value::Str(name) | Value::Symbol(name) => name,
        _ => "",
    }
}

/// A register operation; `None` for an `:info` read, which has no effect to check.
#[allow(clippy::type_complexity)] // The shape `decode` takes.
fn register_op(
    op: &Operation,
    with_cas: bool,
    values: &mut Interner,
) -> Result<Option<(RegisterInput, Option<u32>)>, ModelError> {
    let (model, expected) = match with_cas {
        true => ("cas-register", ":read, :write and :cas"),
        false => ("register", ":read and :write"),
    };
    let ok_value = match &op.completion {
        Completion::Ok { value, .. } => Some(value),
        _ => None,
    };
    let input = match function_name(op) {
        "read" => match ok_value {
            Some(read) => return Ok(Some((RegisterInput::Read, Some(values.id(read))))),
            None => return Ok(None),
        },
        "write" => RegisterInput::Write(values.id(&op.value)),
        "cas" if with_cas => match &op.value {
            Value::Vector(pair) if pair.len() == 2 => {
                RegisterInput::Cas(values.id(&pair[0]), values.id(&pair[1]))
            }
            other => {
                return Err(model_error(
                    op,
                    ModelErrorKind::BadValue {
                        f: op.f.clone(),
                        expected: "[old new]",
                        found: other.clone(),
                    },
                ));
            }
        },
        _ => {
            return Err(model_error(
                op,
                ModelErrorKind::UnknownFunction {
                    model,
                    f: op.f.clone(),
                    expected,
                },
            ));
        }
    };
    Ok(Some((input, ok_value.map(|_| 0))))
}

#[allow(clippy::type_complexity)] // The shape `decode` takes.
fn kv_op(op: &Operation) -> Result<Option<(KvInput, Option<Text>)>, ModelError> {
    if op.key.is_none() {
        return Err(model_error(
            op,
            ModelErrorKind::MissingKey { f: op.f.clone() },
        ));
    }
    let ok_value = match &op.completion {
        Completion::Ok { value, .. } => Some(value),
        _ => None,
    };
    let string = |value: &Value, expected| match value {
        Value::Str(s) => Ok(s.clone()),
        Value::Nil => Ok(String::new()),
        other => Err(model_error(
            op,
            ModelErrorKind::BadValue {
                f: op.f.clone(),
                expected,
                found: other.clone(),
            },
        )),
    };
    let input = match function_name(op) {
        "get" => match ok_value {
            Some(read) => {
                let read = Text::new(string(read, "a string or nil result")?);
                return Ok(Some((KvInput::Get, Some(read))));
            }
            None => return Ok(None),
        },
        "put" => KvInput::Put(Text::new(string(&op.value, "a string")?)),
        "append" => KvInput::Append(string(&op.value, "a string")?.into()),
        _ => {
            return Err(model_error(
                op,
                ModelErrorKind::UnknownFunction {
                    model: "kv",
                    f: op.f.clone(),
                    expected: ":get, :put and :append",
                },
            ));
        }
    };
    Ok(Some((input, ok_value.map(|_| Text::new(String::new())))))
}

/// Dense ids for values (0 is `nil`).
#[derive(Default)]
struct Interner {
    ids: HashMap<Value, u32>,
    values: Vec<Value>,
}

impl Interner {
    fn id(&mut self, value: &Value) -> u32 {
        if self.values.is_empty() {
            self.ids.insert(Value::Nil, 0);
            self.values.push(Value::Nil);
        }
        if let Some(id) = self.ids.get(value) {
            return *id;
        }
        let id = self.values.len() as u32;
        self.ids.insert(value.clone(), id);
        self.values.push(value.clone());
        id
    }

    fn value(&self, id: u32) -> Value {
        self.values.get(id as usize).cloned().unwrap_or(Value::Nil)
    }

    fn len(&self) -> usize {
        self.values.len().max(1)
    }
}

/// An input on one key.
struct Keyed<I> {
    key: u32,
    input: I,
}

/// The sequential object behind one key.
trait Cell: Sync {
    type State: Clone + Eq + Hash + Send;
    type Input: Sync;
    type Output: Sync;
    fn init(&self) -> Self::State;
    fn step(
        &self,
        state: &Self::State,
        input: &Self::Input,
        output: Option<&Self::Output>,
    ) -> Option<Self::State>;
}

/// One cell per partition (key).
struct ByKey<C>(C);

impl<C: Cell> Model for ByKey<C> {
    type State = C::State;
    type Input = Keyed<C::Input>;
    type Output = C::Output;

    fn init(&self) -> C::State {
        self.0.init()
    }

    fn step(
        &self,
        state: &C::State,
        input: &Keyed<C::Input>,
        output: Option<&C::Output>,
    ) -> Option<C::State> {
        self.0.step(state, &input.input, output)
    }

    fn partition(&self, input: &Keyed<C::Input>) -> u64 {
        u64::from(input.key)
    }
}

/// All keys' cells in one state.
struct Whole<C> {
    cell: C,
    keys: usize,
}

impl<C: Cell> Model for Whole<C> {
    type State = Box<[C::State]>;
    type Input = Keyed<C::Input>;
    type Output = C::Output;

    fn init(&self) -> Self::State {
        vec![self.cell.init(); self.keys].into_boxed_slice()
    }

    fn step(
        &self,
        state: &Self::State,
        input: &Keyed<C::Input>,
        output: Option<&C::Output>,
    ) -> Option<Self::State> {
        let key = input.key as usize;
        let after = self.cell.step(state.get(key)?, &input.input, output)?;
        let mut next = state.clone();
        next[key] = after;
        Some(next)
    }
}

#[derive(Clone, Copy)]
enum RegisterInput {
    Read,
    Write(u32),
    Cas(u32, u32),
}

/// A register holding an interned value.
struct RegisterCell {
    initial: u32,
}

impl Cell for RegisterCell {
    type State = u32;
    type Input = RegisterInput;
    /// The value a read returned.
    type Output = u32;

    fn init(&self) -> u32 {
        self.initial
    }

    fn step(&self, state: &u32, input: &RegisterInput, output: Option<&u32>) -> Option<u32> {
        match *input {
            RegisterInput::Read => output.is_none_or(|read| read == state).then_some(*state),
            RegisterInput::Write(value) => Some(value),
            RegisterInput::Cas(old, new) => (*state == old).then_some(new),
        }
    }
}

enum KvInput {
    Get,
    Put(Text),
    Append(Box<str>),
}

/// A key holding a string.
struct KvCell;

impl Cell for KvCell {
    type State = Text;
    type Input = KvInput;
    /// The string a get returned.
    type Output = Text;

    fn init(&self) -> Text {
        Text::new(String::new())
    }

    fn step(&self, state: &Text, input: &KvInput, output: Option<&Text>) -> Option<Text> {
        match input {
            KvInput::Get => output
                .is_none_or(|read| read == state)
                .then(|| state.clone()),
            KvInput::Put(value) => Some(value.clone()),
            KvInput::Append(suffix) => {
                let mut s = String::with_capacity(state.as_str().len() + suffix.len());
                s.push_str(state.as_str());
                s.push_str(suffix);
                Some(Text::new(s))
            }
        }
    }
}

/// A shared string with its hash computed once, so states hash and compare cheaply.
#[derive(Clone)]
struct Text(Arc<(u64, Box<str>)>);

impl Text {
    fn new(s: String) -> Text {
        let hash = foldhash::fast::FixedState::with_seed(7).hash_one(s.as_str());
        Text(Arc::new((hash, s.into_boxed_str())))
    }

    fn as_str(&self) -> &str {
        &self.0.1
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || (self.0.0 == other.0.0 && self.0.1 == other.0.1)
    }
}

impl Eq for Text {}

impl Hash for Text {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.0.0);
    }
}

use std::hash::BuildHasher as _;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Format;

    #[track_caller]
    fn check(model: ModelKind, partitioning: Partitioning, history: &str, expected: &str) {
        let settings = Settings {
            model,
            partitioning,
            options: Options::default(),
        };
        let got = match History::parse(history.as_bytes(), Format::Edn) {
            Err(e) => format!("parse error: {e}"),
            Ok(h) => match check_history(&h, &settings) {
                Err(e) => format!("model error: {e}"),
                Ok(report) => match report.verdict {
                    Verdict::Linearizable => format!("ok ({} partitions)", report.partitions),
                    Verdict::Unknown(why) => format!("unknown {why:?}"),
                    Verdict::NotLinearizable(w) => format!(
                        "bad: key {} op {} prefix {} linearized {:?} states {}",
                        w.key.map_or("-".into(), |k| k.to_string()),
                        w.op.index,
                        w.prefix_events,
                        w.linearized,
                        w.states
                            .iter()
                            .map(Value::to_string)
                            .collect::<Vec<_>>()
                            .join(" | ")
                    ),
                },
            },
        };
        assert_eq!(got, expected);
    }

    const REG: ModelKind = ModelKind::Register {
        initial: Value::Nil,
    };
    const CAS: ModelKind = ModelKind::CasRegister {
        initial: Value::Nil,
    };
    use Partitioning::{ByKey as BY_KEY, Whole as WHOLE};

    #[track_caller]
    fn minimal(model: ModelKind, partitioning: Partitioning, history: &str) -> Vec<usize> {
        let settings = Settings {
            model,
            partitioning,
            options: Options::default(),
        };
        let h = History::parse(history.as_bytes(), Format::Edn).unwrap();
        let Verdict::NotLinearizable(w) = check_history(&h, &settings).unwrap().verdict else {
            panic!("linearizable: {history}");
        };
        minimal_failing(&h, &settings, &w).unwrap()
    }

    #[test]
    fn minimal_failing_keeps_what_a_read_depends_on() {
        // The read of 1 after the CAS from 1 to 2 needs the write of 1, and so does the CAS.
        let history = "{:process 0 :type :invoke :f :write :value 1}
            {:process 0 :type :ok :f :write :value 1}
            {:process 1 :type :invoke :f :cas :value [1 2]}
            {:process 1 :type :ok :f :cas :value [1 2]}
            {:process 2 :type :invoke :f :read :value nil}
            {:process 2 :type :ok :f :read :value 1}";
        assert_eq!(minimal(CAS, BY_KEY, history), [0, 1, 2]);
        assert_eq!(minimal(CAS, WHOLE, history), [0, 1, 2]);
        // Other keys and unrelated operations are left out.
        let keyed = "{:process 0 :type :invoke :f :put :key :a :value \"x\"}
            {:process 0 :type :ok :f :put :key :a :value \"x\"}
            {:process 1 :type :invoke :f :put :key :b :value \"y\"}
            {:process 1 :type :ok :f :put :key :b :value \"y\"}
            {:process 2 :type :invoke :f :append :key :a :value \"z\"}
            {:process 2 :type :ok :f :append :key :a :value \"z\"}
            {:process 1 :type :invoke :f :get :key :a :value nil}
            {:process 1 :type :ok :f :get :key :a :value \"x\"}";
        assert_eq!(minimal(ModelKind::Kv, BY_KEY, keyed), [0, 2, 3]);
        assert_eq!(minimal(ModelKind::Kv, WHOLE, keyed), [0, 2, 3]);
        // A read of a value nothing wrote is the answer on its own.
        let unwritten = "{:process 0 :type :invoke :f :write :value 1}
            {:process 0 :type :ok :f :write :value 1}
            {:process 1 :type :invoke :f :read :value nil}
            {:process 1 :type :ok :f :read :value 3}
            {:process 0 :type :invoke :f :read :value nil}
            {:process 0 :type :ok :f :read :value 1}";
        assert_eq!(minimal(REG, BY_KEY, unwritten), [1]);
    }

    #[test]
    fn register_semantics() {
        // A read that overlaps a write may see either value.
        check(
            REG,
            BY_KEY,
            "{:process 0 :type :invoke :f :write :value 1}
            {:process 1 :type :invoke :f :read}
            {:process 1 :type :ok :f :read :value 1}
            {:process 0 :type :ok :f :write :value 1}",
            "ok (1 partitions)",
        );
        // A stale read after the write completed.
        check(
            REG,
            BY_KEY,
            "{:process 0 :type :invoke :f :write :value 1}
            {:process 0 :type :ok :f :write :value 1}
            {:process 1 :type :invoke :f :read}
            {:process 1 :type :ok :f :read :value nil}",
            "bad: key - op 1 prefix 3 linearized [0] states 1",
        );
        // A failed write did not happen.
        check(
            REG,
            BY_KEY,
            "{:process 0 :type :invoke :f :write :value 1}
            {:process 0 :type :fail :f :write :value 1}
            {:process 1 :type :invoke :f :read}
            {:process 1 :type :ok :f :read :value 1}",
            "bad: key - op 1 prefix 3 linearized [] states nil",
        );
        // An :info write may take effect later, after its process moved on...
        check(
            REG,
            BY_KEY,
            "{:process 0 :type :invoke :f :write :value 1}
            {:process 0 :type :info :f :write :value :timed-out}
            {:process 0 :type :invoke :f :read}
            {:process 0 :type :ok :f :read :value nil}
            {:process 1 :type :invoke :f :read}
            {:process 1 :type :ok :f :read :value 1}",
            "ok (1 partitions)",
        );
        // ...or never.
        check(
            REG,
            BY_KEY,
            "{:process 0 :type :invoke :f :write :value 1}
            {:process 1 :type :invoke :f :read}
            {:process 1 :type :ok :f :read :value nil}",
            "ok (1 partitions)",
        );
        // --initial.
        check(
            ModelKind::Register {
                initial: Value::Int(0),
            },
            BY_KEY,
            "{:process 1 :type :invoke :f :read}
            {:process 1 :type :ok :f :read :value 0}",
            "ok (1 partitions)",
        );
        check(
            REG,
            BY_KEY,
            "{:process 0 :type :invoke :f :cas :value [1 2]}",
            "model error: line 1, column 1: the register model has no function :cas, only :read and :write",
        );
    }

    #[test]
    fn cas_semantics() {
        check(
            CAS,
            BY_KEY,
            "{:process 0 :type :invoke :f :cas :value [nil 2]}
            {:process 0 :type :ok :f :cas :value [nil 2]}
            {:process 0 :type :invoke :f :cas :value [2 3]}
            {:process 0 :type :info :f :cas}
            {:process 1 :type :invoke :f :read}
            {:process 1 :type :ok :f :read :value 2}
            {:process 1 :type :invoke :f :read}
            {:process 1 :type :ok :f :read :value 3}",
            "ok (1 partitions)",
        );
        // A CAS that succeeded from a value the register never held.
        check(
            CAS,
            BY_KEY,
            "{:process 0 :type :invoke :f :write :value 1}
            {:process 0 :type :ok :f :write :value 1}
            {:process 0 :type :invoke :f :cas :value [5 2]}
            {:process 0 :type :ok :f :cas :value [5 2]}",
            "bad: key - op 1 prefix 3 linearized [0] states 1",
        );
        check(
            CAS,
            BY_KEY,
            "{:process 0 :type :invoke :f :cas :value 5}",
            "model error: line 1, column 1: :cas takes [old new], found 5",
        );
    }

    #[test]
    fn kv_partitions_by_key_or_not() {
        let history = "{:process 0 :type :invoke :f :append :key \"a\" :value \"x\"}
            {:process 0 :type :ok :f :append :key \"a\" :value \"x\"}
            {:process 0 :type :invoke :f :put :key \"b\" :value \"y\"}
            {:process 0 :type :ok :f :put :key \"b\" :value \"y\"}
            {:process 1 :type :invoke :f :get :key \"a\"}
            {:process 1 :type :ok :f :get :key \"a\" :value \"\"}";
        check(
            ModelKind::Kv,
            BY_KEY,
            history,
            "bad: key \"a\" op 2 prefix 5 linearized [0] states \"x\"",
        );
        check(
            ModelKind::Kv,
            WHOLE,
            history,
            "bad: key - op 2 prefix 5 linearized [0, 1] states {\"a\" \"x\", \"b\" \"y\"}",
        );
        check(
            ModelKind::Kv,
            BY_KEY,
            "{:process 0 :type :invoke :f :append :key \"a\" :value \"x\"}
            {:process 0 :type :ok :f :append :key \"a\" :value \"x\"}
            {:process 0 :type :invoke :f :append :key \"a\" :value \"y\"}
            {:process 0 :type :ok :f :append :key \"a\" :value \"y\"}
            {:process 1 :type :invoke :f :get :key \"a\"}
            {:process 1 :type :ok :f :get :key \"a\" :value \"xy\"}
            {:process 1 :type :invoke :f :get :key \"b\"}
            {:process 1 :type :ok :f :get :key \"b\" :value nil}",
            "ok (2 partitions)",
        );
        check(
            ModelKind::Kv,
            BY_KEY,
            "{:process 0 :type :invoke :f :get}",
            "model error: line 1, column 1: :get has no :key",
        );
        check(
            ModelKind::Kv,
            BY_KEY,
            "{:process 0 :type :invoke :f :put :key 1 :value 3}",
            "model error: line 1, column 1: :put takes a string, found 3",
        );
    }
}
