//! The three history formats (Jepsen EDN, `jepsen.util` log lines, JSON lines) read into one
//! list of events, and the guess [`Format::Auto`] makes between them.

use serde::Serialize;

use crate::edn::{Lines, Reader};
use crate::error::{ParseError, ParseErrorKind};
use crate::history::Event;
use crate::value::Value;

/// A history file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// Guess from the content: JSON lines if the first line is a JSON object, `jepsen.util`
    /// log lines if a line has that logger and the first line is not EDN, EDN otherwise.
    Auto,
    /// Jepsen's EDN: a vector or list of operation maps, or the maps one after another
    /// (`history.edn`), with `:process :type :f :value` and optional `:key`.
    Edn,
    /// Lines logged by `jepsen.util` (`INFO  jepsen.util - 3`, then tab-separated `:invoke :cas [1 4]`); other lines
    /// are skipped, and anything after the value (`:timed-out`) is ignored.
    JepsenLog,
    /// One JSON object per line: `{"process": 3, "type": "invoke", "f": "cas", "value": [1, 4]}`
    /// with optional `"key"`; `type` and `f` may carry a leading `:`.
    JsonLines,
}

impl Format {
    /// The format [`Format::Auto`] picks for `text`; any other format is returned as is.
    pub fn resolve(self, text: &str) -> Format {
        if self != Format::Auto {
            return self;
        }
        let first = text
            .lines()
            .map(str::trim_start)
            .find(|line| !line.is_empty() && !line.starts_with(';'));
        let Some(first) = first else {
            return Format::Edn;
        };
        if first.starts_with('{')
            && serde_json::from_str::<serde_json::Value>(first).is_ok_and(|v| v.is_object())
        {
            return Format::JsonLines;
        }
        if first.starts_with(['{', '[', '(', '#']) {
            return Format::Edn;
        }
        if text.lines().any(|line| log_fields_start(line).is_some()) {
            return Format::JepsenLog;
        }
        Format::Edn
    }
}

/// Reads the events of `text` in `format`.
pub(crate) fn events(text: &str, format: Format) -> Result<Vec<Event>, ParseError> {
    match format.resolve(text) {
        Format::Auto | Format::Edn => edn_events(text),
        Format::JepsenLog => log_events(text),
        Format::JsonLines => json_events(text),
    }
}

fn edn_events(text: &str) -> Result<Vec<Event>, ParseError> {
    let lines = Lines::new(text);
    let mut reader = Reader::new(text, 0, &lines);
    let mut events = Vec::new();
    if !reader.skip_space()? {
        return Ok(events);
    }
    let rest = &text[reader.offset()..];
    let close = if rest.starts_with('[') {
        Some(']')
    } else if rest.starts_with('(') {
        Some(')')
    } else {
        None
    };
    if let Some(close) = close {
        // One vector or list of operations.
        reader = Reader::new(text, reader.offset() + 1, &lines);
        loop {
            if !reader.skip_space()? {
                return Err(reader.error(ParseErrorKind::UnexpectedEnd {
                    expected: "the end of the history vector",
                }));
            }
            if text[reader.offset()..].starts_with(close) {
                reader = Reader::new(text, reader.offset() + 1, &lines);
                break;
            }
            events.push(edn_event(&mut reader, text, &lines)?);
        }
        if reader.skip_space()? {
            return Err(reader.error(ParseErrorKind::UnexpectedChar {
                found: text[reader.offset()..].chars().next().unwrap_or(' '),
                expected: "the end of the file after the history vector",
            }));
        }
        return Ok(events);
    }
    // Operation maps one after another.
    while reader.skip_space()? {
        events.push(edn_event(&mut reader, text, &lines)?);
    }
    Ok(events)
}

fn edn_event(reader: &mut Reader<'_>, text: &str, lines: &Lines) -> Result<Event, ParseError> {
    let (line, column) = lines.position(text, reader.offset());
    let form = reader.read(1)?;
    event_from_map(form, line, column)
}

/// Takes the fields of an operation map.
fn event_from_map(form: Value, line: usize, column: usize) -> Result<Event, ParseError> {
    let error = |kind| ParseError { line, column, kind };
    if !matches!(form, Value::Map(_)) {
        return Err(error(ParseErrorKind::NotAnOperation { found: form.kind() }));
    }
    let field = |name: &'static str| form.get(&name[1..]).cloned();
    let process =
        field(":process").ok_or(error(ParseErrorKind::MissingField { field: ":process" }))?;
    let kind = field(":type").ok_or(error(ParseErrorKind::MissingField { field: ":type" }))?;
    let f = field(":f").ok_or(error(ParseErrorKind::MissingField { field: ":f" }))?;
    Ok(Event {
        process,
        kind,
        f,
        value: field(":value").unwrap_or(Value::Nil),
        key: field(":key"),
        line,
        column,
    })
}

fn log_events(text: &str) -> Result<Vec<Event>, ParseError> {
    let mut events = Vec::new();
    for (idx, line) in text.lines().enumerate() {
        let Some(start) = log_fields_start(line) else {
            continue;
        };
        let line_no = idx + 1;
        let mut event = log_event(line, start).map_err(|mut err| {
            err.line = line_no;
            err
        })?;
        event.line = line_no;
        events.push(event);
    }
    Ok(events)
}

/// Reads `PROCESS TYPE F [VALUE …]` from one `jepsen.util` line (errors carry line 1).
fn log_event(line: &str, start: usize) -> Result<Event, ParseError> {
    let lines = Lines::new(line);
    let mut reader = Reader::new(line, start, &lines);
    let mut field = |expected| {
        if !reader.skip_space()? {
            return Err(reader.error(ParseErrorKind::MalformedLogLine { expected }));
        }
        reader.read(1)
    };
    let process = field("a process")?;
    let kind = field("a type such as :invoke")?;
    let f = field("a function such as :read")?;
    let value = match reader.skip_space()? {
        false => Value::Nil,
        true => match reader.read(1) {
            Ok(value) => value,
            // An :info or :fail line may end in an arbitrary message instead of a value.
            Err(_) if !matches!(&kind, Value::Keyword(k) if k == "invoke" || k == "ok") => {
                Value::Nil
            }
            Err(err) => return Err(err),
        },
    };
    let (_, column) = lines.position(line, start);
    Ok(Event {
        process,
        kind,
        f,
        value,
        key: None,
        line: 1,
        column,
    })
}

/// The byte offset just after `jepsen.util - ` (or Jepsen's newer `jepsen.util: `) in a line.
fn log_fields_start(line: &str) -> Option<usize> {
    const LOGGER: &str = "jepsen.util";
    let at = line.find(LOGGER)? + LOGGER.len();
    let rest = &line[at..];
    let after_spaces = rest.trim_start_matches([' ', '\t']);
    let separator = after_spaces.strip_prefix(['-', ':'])?;
    if !separator.starts_with([' ', '\t']) {
        return None;
    }
    Some(line.len() - separator.trim_start_matches([' ', '\t']).len())
}

fn json_events(text: &str) -> Result<Vec<Event>, ParseError> {
    let mut events = Vec::new();
    for (idx, line) in text.lines().enumerate() {
        let line_no = idx + 1;
        let trimmed = line.trim_start();
        if trimmed.trim_end().is_empty() {
            continue;
        }
        let column = line.len() - trimmed.len() + 1;
        let json: serde_json::Value = serde_json::from_str(line).map_err(|err| {
            let reason = err.to_string();
            let reason = match reason.find(" at line ") {
                Some(cut) => reason[..cut].to_owned(),
                None => reason,
            };
            ParseError {
                line: line_no,
                column: line
                    .get(..err.column().saturating_sub(1))
                    .map_or(err.column(), |prefix| prefix.chars().count() + 1),
                kind: ParseErrorKind::InvalidJson { reason },
            }
        })?;
        let error = |kind| ParseError {
            line: line_no,
            column,
            kind,
        };
        let serde_json::Value::Object(object) = json else {
            return Err(error(ParseErrorKind::NotAnOperation {
                found: json_kind(&json),
            }));
        };
        let mut map = Vec::with_capacity(object.len());
        for (name, value) in object {
            let value = match name.as_str() {
                "type" | "f" => match value {
                    serde_json::Value::String(s) => {
                        Value::Keyword(s.strip_prefix(':').unwrap_or(&s).to_owned())
                    }
                    other => from_json(other).map_err(error)?,
                },
                _ => from_json(value).map_err(error)?,
            };
            map.push((Value::Keyword(name), value));
        }
        events.push(event_from_map(Value::Map(map), line_no, column)?);
    }
    Ok(events)
}

fn from_json(json: serde_json::Value) -> Result<Value, ParseErrorKind> {
    Ok(match json {
        serde_json::Value::Null => Value::Nil,
        serde_json::Value::Bool(b) => Value::Bool(b),
        serde_json::Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => Value::Int(i),
            (None, Some(f)) if n.is_f64() => Value::Float(f),
            _ => {
                return Err(ParseErrorKind::BadNumber {
                    text: n.to_string(),
                });
            }
        },
        serde_json::Value::String(s) => Value::Str(s),
        serde_json::Value::Array(items) => {
            Value::Vector(items.into_iter().map(from_json).collect::<Result<_, _>>()?)
        }
        serde_json::Value::Object(object) => Value::Map(
            object
                .into_iter()
                .map(|(k, v)| Ok((Value::Str(k), from_json(v)?)))
                .collect::<Result<_, _>>()?,
        ),
    })
}

fn json_kind(json: &serde_json::Value) -> &'static str {
    match json {
        serde_json::Value::Null => "nil",
        serde_json::Value::Bool(_) => "boolean",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "vector",
        serde_json::Value::Object(_) => "map",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(input: &str, format: Format, expected: &str) {
        let got = match events(input, format) {
            Ok(events) => events
                .iter()
                .map(|e| {
                    let key = e
                        .key
                        .as_ref()
                        .map(|k| format!(" key {k}"))
                        .unwrap_or_default();
                    format!(
                        "{}:{} {} {} {} {}{key}",
                        e.line, e.column, e.process, e.kind, e.f, e.value
                    )
                })
                .collect::<Vec<_>>()
                .join("; "),
            Err(e) => format!("error: {e}"),
        };
        assert_eq!(got, expected);
    }

    #[test]
    fn reads_edn() {
        check(
            "; a history\n[{:process 0, :type :invoke, :f :read, :value nil}\n {:process 0, :type :ok, :f :read, :value 3, :time 12}]",
            Format::Auto,
            "2:2 0 :invoke :read nil; 3:2 0 :ok :read 3",
        );
        check(
            "{:process 1, :type :invoke, :f :get, :key \"4\", :value nil}\n",
            Format::Auto,
            "1:1 1 :invoke :get nil key \"4\"",
        );
        check("", Format::Auto, "");
        check(
            "[{:process 0 :type :invoke :f :read}",
            Format::Edn,
            "error: line 1, column 37: unexpected end of input, expected the end of the history vector",
        );
        check(
            "[] 3",
            Format::Edn,
            "error: line 1, column 4: unexpected '3', expected the end of the file after the history vector",
        );
        check(
            "[1]",
            Format::Edn,
            "error: line 1, column 2: expected an operation map, found a integer",
        );
        check(
            "{:type :ok :f :read}",
            Format::Edn,
            "error: line 1, column 1: operation has no :process",
        );
    }

    #[test]
    fn reads_jepsen_logs() {
        check(
            "2017 INFO jepsen.core - starting\nINFO  jepsen.util - 3\t:invoke\t:cas\t[1 4]\nINFO  jepsen.util - 3\t:info\t:cas\t:timed-out\nINFO  jepsen.util - 0\t:fail\t:read\tindeterminate: Read timed out\nINFO [w 2] jepsen.util: :nemesis\t:info\t:start\tnil",
            Format::Auto,
            "2:21 3 :invoke :cas [1 4]; 3:21 3 :info :cas :timed-out; 4:21 0 :fail :read indeterminate:; 5:25 :nemesis :info :start nil",
        );
        check(
            "INFO  jepsen.util - 3\t:invoke",
            Format::JepsenLog,
            "error: line 1, column 30: malformed jepsen.util line, expected a function such as :read",
        );
        check(
            "x\nINFO  jepsen.util - 3\t:ok\t:read\t[1",
            Format::JepsenLog,
            "error: line 2, column 35: unexpected end of input, expected `]`",
        );
    }

    #[test]
    fn reads_json_lines() {
        check(
            "{\"process\": 0, \"type\": \"invoke\", \"f\": \":cas\", \"value\": [1, 2], \"key\": \"a\"}\n\n{\"process\": 0, \"type\": \"ok\", \"f\": \"cas\", \"value\": [1, 2.5]}",
            Format::Auto,
            "1:1 0 :invoke :cas [1 2] key \"a\"; 3:1 0 :ok :cas [1 2.5]",
        );
        check(
            "{\"process\": 0,\n\"type\": \"ok\" x}",
            Format::JsonLines,
            "error: line 1, column 14: invalid JSON: EOF while parsing a value",
        );
        check(
            "{\"process\": 0}\n {\"process\": 0, \"type\": \"ok\" x}",
            Format::JsonLines,
            "error: line 1, column 1: operation has no :type",
        );
        check(
            "{\"process\": 0, \"type\": \"ok\", \"f\": \"read\"}\n  {\"process\": 0, \"type\": \"ok\" x}",
            Format::JsonLines,
            "error: line 2, column 31: invalid JSON: expected `,` or `}`",
        );
        check(
            "[1]",
            Format::JsonLines,
            "error: line 1, column 1: expected an operation map, found a vector",
        );
    }
}
