//! A linearizability checker for histories of concurrent operations, such as those Jepsen
//! records against real databases: Wing & Gong's search with Lowe's memoization, one key at a
//! time (P-compositionality), with a budget after which the answer is "unknown".
//! It reads Jepsen's EDN, `jepsen.util` log lines and JSON lines, checks them against a
//! register, a compare-and-set register, a key-value store or any [`Model`], and explains a
//! failure with the longest linearizable prefix and the operation that cannot be placed.
//!
//! ```
//! use underhood_lincheck::{
//!     Format, History, ModelKind, Options, Partitioning, Settings, Value, Verdict, check_history,
//! };
//!
//! let history = History::parse(
//!     br#"[{:process 0, :type :invoke, :f :write, :value 1}
//!         {:process 1, :type :invoke, :f :read, :value nil}
//!         {:process 0, :type :ok, :f :write, :value 1}
//!         {:process 1, :type :ok, :f :read, :value 1}]"#,
//!     Format::Edn,
//! )?;
//! let settings = Settings {
//!     model: ModelKind::Register { initial: Value::Nil },
//!     partitioning: Partitioning::ByKey,
//!     options: Options::default(),
//! };
//! let report = check_history(&history, &settings)?;
//! assert_eq!(report.verdict, Verdict::Linearizable);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The crate reads no files and prints nothing; it reads the clock only when given a deadline.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

// The README's Rust examples run as doc tests, so they cannot go stale.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

mod edn;
mod error;
pub use error::{ModelError, ModelErrorKind, ParseError, ParseErrorKind};
mod format;
pub use format::Format;
mod history;
pub use history::{Completion, History, Lane, Operation, Position};
mod jepsen;
pub use jepsen::{
    HistoryWitness, ModelKind, Partitioning, Report, Settings, check_history, minimal_failing,
};
mod model;
pub use model::{Model, Op, Return};
mod search;
pub use search::{
    Budget, Checked, Exhausted, MAX_WITNESS_STATES, Options, Verdict, Witness, check, minimize,
};
mod value;
pub use value::Value;

/// Parses one EDN value, as `--initial` takes it.
///
/// ```
/// use underhood_lincheck::{Value, parse_value};
///
/// assert_eq!(parse_value("[1 :a]")?, Value::Vector(vec![Value::Int(1), Value::Keyword("a".into())]));
/// # Ok::<(), underhood_lincheck::ParseError>(())
/// ```
pub fn parse_value(text: &str) -> Result<Value, ParseError> {
    let lines = edn::Lines::new(text);
    let mut reader = edn::Reader::new(text, 0, &lines);
    let value = reader.read(0)?;
    if reader.skip_space()? {
        return Err(reader.error(ParseErrorKind::UnexpectedChar {
            found: text[reader.offset()..].chars().next().unwrap_or(' '),
            expected: "the end of the value",
        }));
    }
    Ok(value)
}
