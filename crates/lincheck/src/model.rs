//! The sequential specification a history is checked against, and the operations it is given.

use std::hash::Hash;

/// A sequential object: where it starts, and which operations it accepts in which state.
///
/// The checker calls [`Model::step`] with `output: None` for an operation whose result is
/// unknown (Jepsen's `:info`); such an operation need never take effect, so a model may refuse
/// it in states where it could not have happened.
///
/// ```
/// use underhood_lincheck::{Model, Op, Options, Return, Verdict, check};
///
/// /// A counter that only goes up by one.
/// struct Counter;
///
/// impl Model for Counter {
///     type State = u64;
///     type Input = ();
///     type Output = u64;
///     fn init(&self) -> u64 {
///         0
///     }
///     fn step(&self, state: &u64, _: &(), output: Option<&u64>) -> Option<u64> {
///         // The output is the new value.
///         output.is_none_or(|out| *out == state + 1).then_some(state + 1)
///     }
/// }
///
/// // Two concurrent increments that both returned 1: impossible.
/// let ops = [
///     Op { input: (), call: 0, ret: Return::At { time: 2, output: 1 } },
///     Op { input: (), call: 1, ret: Return::At { time: 3, output: 1 } },
/// ];
/// let checked = check(&Counter, &ops, &Options::default());
/// assert!(matches!(checked.verdict, Verdict::NotLinearizable(_)));
/// ```
pub trait Model {
    /// The object's state; visited (operations, state) pairs are remembered, so it must hash.
    type State: Clone + Eq + Hash;
    /// What an operation asks for.
    type Input;
    /// What an operation returned.
    type Output;

    /// The state before any operation.
    fn init(&self) -> Self::State;

    /// The state after `input` returning `output` (`None`: unknown) in `state`, or `None` if
    /// the object cannot do that in `state`.
    fn step(
        &self,
        state: &Self::State,
        input: &Self::Input,
        output: Option<&Self::Output>,
    ) -> Option<Self::State>;

    /// The partition an operation belongs to: operations in different partitions touch
    /// independent parts of the object (P-compositionality), so each partition is checked alone.
    /// By default everything is one partition.
    fn partition(&self, input: &Self::Input) -> u64 {
        let _ = input;
        0
    }
}

/// One operation of a history given to [`check`](crate::check): its input, when it was called,
/// and when and what it returned.
///
/// Times only order events; an operation takes effect at one instant between its call and its
/// return. Equal times count as overlapping.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Op<I, O> {
    /// What it asked for.
    pub input: I,
    /// When it was called.
    pub call: u64,
    /// When and what it returned.
    pub ret: Return<O>,
}

/// When and what an operation returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Return<O> {
    /// It returned `output` at `time` (after its call).
    At {
        /// When it returned.
        time: u64,
        /// What it returned.
        output: O,
    },
    /// Its result is unknown: it may take effect at any time after its call, or never.
    Unknown,
}

impl<I, O> Op<I, O> {
    /// The output, if known.
    pub fn output(&self) -> Option<&O> {
        match &self.ret {
            Return::At { output, .. } => Some(output),
            Return::Unknown => None,
        }
    }
}
