//! A history as operations: each client invocation paired with its completion, plus where
//! both sit in the file, and the per-process lanes a viewer draws.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::error::{ParseError, ParseErrorKind};
use crate::format::{self, Format};
use crate::value::Value;

/// A parsed history: client operations in invocation order.
///
/// Events of non-client processes (Jepsen's `:nemesis`) are skipped.
/// An invocation never completed counts as `:info`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct History {
    operations: Vec<Operation>,
    events: usize,
}

/// One client operation: an invocation and what became of it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Operation {
    /// Its index in [`History::operations`].
    pub index: usize,
    /// The client process.
    pub process: i64,
    /// The function (`:read`, `:write`, `:cas`, `:get`, …).
    pub f: Value,
    /// The key, if the operation names one.
    pub key: Option<Value>,
    /// The invocation's value (a write's value, a CAS's `[old new]`).
    pub value: Value,
    /// Where the invocation is.
    pub invoke: Position,
    /// What became of it.
    pub completion: Completion,
}

/// What became of an invocation.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Completion {
    /// `:ok`: it happened, and returned `value`.
    Ok {
        /// The completion's value (a read's result).
        value: Value,
        /// Where the completion is.
        at: Position,
    },
    /// `:fail`: it definitely did not happen.
    Fail {
        /// Where the completion is.
        at: Position,
    },
    /// `:info`, or no completion at all: it may or may not have happened, at any time after its
    /// invocation, and its result is unknown.
    Info {
        /// Where the `:info` completion is, or `None` if the history ends first.
        at: Option<Position>,
    },
}

/// Where an event is: its index among the history's client events, and its line and column in
/// the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Position {
    /// 0-based index among client events.
    pub event: usize,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
}

/// The operations of one process, in order: one lane of a space-time drawing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Lane {
    /// The process.
    pub process: i64,
    /// Indices into [`History::operations`].
    pub operations: Vec<usize>,
}

impl History {
    /// Parses a history file in `format` ([`Format::Auto`] guesses from the content).
    ///
    /// ```
    /// use underhood_lincheck::{Format, History};
    ///
    /// let text = "{:process 0, :type :invoke, :f :write, :value 1}\n\
    ///             {:process 0, :type :ok, :f :write, :value 1}\n";
    /// let history = History::parse(text.as_bytes(), Format::Auto)?;
    /// assert_eq!(history.operations().len(), 1);
    /// # Ok::<(), underhood_lincheck::ParseError>(())
    /// ```
    pub fn parse(bytes: &[u8], format: Format) -> Result<History, ParseError> {
        let text = match std::str::from_utf8(bytes) {
            Ok(text) => text,
            Err(err) => {
                let valid = &bytes[..err.valid_up_to()];
                // Valid by construction: `valid_up_to` ends on a character boundary.
                let valid = std::str::from_utf8(valid).unwrap_or_default();
                let line = valid.matches('\n').count() + 1;
                let column = valid.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
                return Err(ParseError {
                    line,
                    column,
                    kind: ParseErrorKind::NotUtf8,
                });
            }
        };
        let events = format::events(text, format)?;
        History::from_events(events)
    }

    /// The operations, in invocation order.
    pub fn operations(&self) -> &[Operation] {
        &self.operations
    }

    /// How many client events (invocations and completions) the history has.
    pub fn events(&self) -> usize {
        self.events
    }

    /// One lane per process, in process order, each listing its operations in order.
    pub fn lanes(&self) -> Vec<Lane> {
        let mut lanes: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
        for op in &self.operations {
            lanes.entry(op.process).or_default().push(op.index);
        }
        lanes
            .into_iter()
            .map(|(process, operations)| Lane {
                process,
                operations,
            })
            .collect()
    }

    fn from_events(events: Vec<Event>) -> Result<History, ParseError> {
        let mut operations: Vec<Operation> = Vec::new();
        let mut open: BTreeMap<i64, usize> = BTreeMap::new();
        let mut count = 0;
        for event in events {
            let error = |kind| ParseError {
                line: event.line,
                column: event.column,
                kind,
            };
            let process = match &event.process {
                Value::Int(p) => *p,
                Value::Keyword(_) | Value::Str(_) | Value::Symbol(_) => continue,
                other => {
                    return Err(error(ParseErrorKind::BadField {
                        field: ":process",
                        expected: "an integer or a keyword",
                        found: other.clone(),
                    }));
                }
            };
            let at = Position {
                event: count,
                line: event.line,
                column: event.column,
            };
            let kind = match &event.kind {
                Value::Keyword(k) => k.as_str(),
                other => {
                    return Err(error(ParseErrorKind::UnknownType {
                        found: other.clone(),
                    }));
                }
            };
            match kind {
                "invoke" => {
                    if let Some(&previous) = open.get(&process) {
                        return Err(error(ParseErrorKind::DoubleInvoke {
                            process,
                            open_line: operations[previous].invoke.line,
                        }));
                    }
                    let index = operations.len();
                    open.insert(process, index);
                    operations.push(Operation {
                        index,
                        process,
                        f: event.f,
                        key: event.key,
                        value: event.value,
                        invoke: at,
                        completion: Completion::Info { at: None },
                    });
                }
                "ok" | "fail" | "info" => {
                    let Some(index) = open.remove(&process) else {
                        return Err(error(ParseErrorKind::CompletionWithoutInvoke { process }));
                    };
                    let op = &mut operations[index];
                    if op.f != event.f {
                        return Err(error(ParseErrorKind::MismatchedCompletion {
                            process,
                            invoked: op.f.clone(),
                            completed: event.f,
                        }));
                    }
                    op.completion = match kind {
                        "ok" => Completion::Ok {
                            value: event.value,
                            at,
                        },
                        "fail" => Completion::Fail { at },
                        _ => Completion::Info { at: Some(at) },
                    };
                }
                _ => {
                    return Err(error(ParseErrorKind::UnknownType {
                        found: event.kind.clone(),
                    }));
                }
            }
            count += 1;
        }
        Ok(History {
            operations,
            events: count,
        })
    }
}

/// One line or map of a history file, before invocations meet their completions.
#[derive(Debug)]
pub(crate) struct Event {
    pub(crate) process: Value,
    pub(crate) kind: Value,
    pub(crate) f: Value,
    pub(crate) value: Value,
    pub(crate) key: Option<Value>,
    pub(crate) line: usize,
    pub(crate) column: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(input: &str, expected: &str) {
        let got = match History::parse(input.as_bytes(), Format::Edn) {
            Ok(h) => h
                .operations()
                .iter()
                .map(|op| {
                    let end = match &op.completion {
                        Completion::Ok { value, .. } => format!("ok {value}"),
                        Completion::Fail { .. } => "fail".to_owned(),
                        Completion::Info { at: Some(_) } => "info".to_owned(),
                        Completion::Info { at: None } => "pending".to_owned(),
                    };
                    format!("p{} {} {} -> {end}", op.process, op.f, op.value)
                })
                .collect::<Vec<_>>()
                .join("; "),
            Err(e) => format!("error: {e}"),
        };
        assert_eq!(got, expected);
    }

    #[test]
    fn pairs_invocations_with_completions() {
        check(
            "[{:process 0 :type :invoke :f :read}
              {:process :nemesis :type :info :f :start}
              {:process 1 :type :invoke :f :write :value 3}
              {:process 0 :type :ok :f :read :value 3}
              {:process 1 :type :info :f :write :value :timed-out}
              {:process 1 :type :invoke :f :cas :value [3 4]}
              {:process 0 :type :invoke :f :cas :value [1 2]}
              {:process 0 :type :fail :f :cas :value [1 2]}]",
            "p0 :read nil -> ok 3; p1 :write 3 -> info; p1 :cas [3 4] -> pending; p0 :cas [1 2] -> fail",
        );
    }

    #[test]
    fn rejects_broken_pairings() {
        check(
            "{:process 0 :type :invoke :f :read}\n{:process 0 :type :invoke :f :read}",
            "error: line 2, column 1: process 0 invokes while its operation from line 1 is still open",
        );
        check(
            "{:process 0 :type :ok :f :read}",
            "error: line 1, column 1: process 0 completes an operation it never invoked",
        );
        check(
            "{:process 0 :type :invoke :f :read}\n  {:process 0 :type :ok :f :write}",
            "error: line 2, column 3: process 0 invoked :read but completed :write",
        );
        check(
            "{:process 0 :type :done :f :read}",
            "error: line 1, column 1: unknown :type :done, expected :invoke, :ok, :fail or :info",
        );
        check(
            "{:process [0] :type :ok :f :read}",
            "error: line 1, column 1: :process must be an integer or a keyword, found [0]",
        );
    }

    #[test]
    fn lanes_group_by_process() {
        let h = History::parse(
            b"{:process 2 :type :invoke :f :read}\n{:process 1 :type :invoke :f :read}\n{:process 2 :type :ok :f :read}\n{:process 2 :type :invoke :f :read}",
            Format::Edn,
        )
        .unwrap();
        let lanes = h.lanes();
        assert_eq!(lanes.len(), 2);
        assert_eq!(
            (lanes[0].process, lanes[0].operations.clone()),
            (1, vec![1])
        );
        assert_eq!(
            (lanes[1].process, lanes[1].operations.clone()),
            (2, vec![0, 2])
        );
        assert_eq!(h.events(), 4);
    }

    #[test]
    fn invalid_utf8_is_located() {
        let err = History::parse(b"[{:process 0\n :f \"\xff\"}]", Format::Edn).unwrap_err();
        assert_eq!(
            (err.line, err.column, err.kind),
            (2, 6, ParseErrorKind::NotUtf8)
        );
    }
}
