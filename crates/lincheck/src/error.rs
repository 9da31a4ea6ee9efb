//! Typed errors: where a history file is malformed, and why a history does not fit a model.

use crate::Value;

/// A history that could not be read: the 1-based line and column, and what was wrong there.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("line {line}, column {column}: {kind}")]
pub struct ParseError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// What was wrong.
    pub kind: ParseErrorKind,
}

/// What was wrong with a history file.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// The bytes are not UTF-8.
    #[error("not UTF-8")]
    NotUtf8,
    /// The text ended inside a value.
    #[error("unexpected end of input, expected {expected}")]
    UnexpectedEnd {
        /// What could have come next.
        expected: &'static str,
    },
    /// A character that cannot start or continue what is being read.
    #[error("unexpected {found:?}, expected {expected}")]
    UnexpectedChar {
        /// The character found.
        found: char,
        /// What could have come there.
        expected: &'static str,
    },
    /// A string escape EDN does not define.
    #[error("unknown escape \\{found}")]
    BadEscape {
        /// The character after the backslash.
        found: char,
    },
    /// A number that does not parse or does not fit in 64 bits.
    #[error("bad number {text:?}")]
    BadNumber {
        /// The number as written.
        text: String,
    },
    /// A map with a key and no value.
    #[error("map literal with an odd number of forms")]
    OddMap,
    /// Brackets nested deeper than the parser follows.
    #[error("nested deeper than {limit} levels")]
    TooDeep {
        /// The nesting limit.
        limit: usize,
    },
    /// A form where an operation map was expected.
    #[error("expected an operation map, found a {found}")]
    NotAnOperation {
        /// The kind of value found.
        found: &'static str,
    },
    /// An operation without a field it needs.
    #[error("operation has no {field}")]
    MissingField {
        /// The field, as Jepsen names it (`:process`).
        field: &'static str,
    },
    /// A field holding a value of the wrong kind.
    #[error("{field} must be {expected}, found {found}")]
    BadField {
        /// The field.
        field: &'static str,
        /// What it must be.
        expected: &'static str,
        /// What it was.
        found: Value,
    },
    /// A `:type` other than `:invoke`, `:ok`, `:fail` and `:info`.
    #[error("unknown :type {found}, expected :invoke, :ok, :fail or :info")]
    UnknownType {
        /// The type found.
        found: Value,
    },
    /// A line of a JSON-lines file that is not valid JSON.
    #[error("invalid JSON: {reason}")]
    InvalidJson {
        /// serde_json's description of the problem.
        reason: String,
    },
    /// A `jepsen.util` log line without the process, type and function after the logger name.
    #[error("malformed jepsen.util line, expected {expected}")]
    MalformedLogLine {
        /// The field that is missing or malformed.
        expected: &'static str,
    },
    /// A process invoked an operation while its previous one was still open.
    #[error("process {process} invokes while its operation from line {open_line} is still open")]
    DoubleInvoke {
        /// The process.
        process: i64,
        /// The line of the open invocation.
        open_line: usize,
    },
    /// A completion for a process with no open invocation.
    #[error("process {process} completes an operation it never invoked")]
    CompletionWithoutInvoke {
        /// The process.
        process: i64,
    },
    /// A completion whose `:f` differs from its invocation's.
    #[error("process {process} invoked {invoked} but completed {completed}")]
    MismatchedCompletion {
        /// The process.
        process: i64,
        /// The invocation's function.
        invoked: Value,
        /// The completion's function.
        completed: Value,
    },
}

/// A history that does not fit the chosen model: an unknown function or a value of the wrong
/// shape, with the operation's position.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("line {line}, column {column}: {kind}")]
pub struct ModelError {
    /// 1-based line of the offending event.
    pub line: usize,
    /// 1-based column of the offending event.
    pub column: usize,
    /// What does not fit.
    pub kind: ModelErrorKind,
}

/// What does not fit a model.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ModelErrorKind {
    /// A function the model does not have.
    #[error("the {model} model has no function {f}, only {expected}")]
    UnknownFunction {
        /// The model's name.
        model: &'static str,
        /// The function found.
        f: Value,
        /// The functions it has.
        expected: &'static str,
    },
    /// A value of the wrong shape for its function.
    #[error("{f} takes {expected}, found {found}")]
    BadValue {
        /// The function.
        f: Value,
        /// What it takes.
        expected: &'static str,
        /// What was found.
        found: Value,
    },
    /// A key-value operation without `:key`.
    #[error("{f} has no :key")]
    MissingKey {
        /// The function.
        f: Value,
    },
}
