//! A reader for the EDN that Jepsen writes: `nil`, booleans, integers, floats, strings,
//! keywords, symbols, vectors, lists, sets, maps, `;` comments, `#_` discards and tagged
//! literals (`#inst "…"`, `#jepsen.history.Op{…}`), whose tag is dropped.

use crate::error::{ParseError, ParseErrorKind};
use crate::value::Value;

/// How deep brackets may nest; deeper input is an error, not a stack overflow.
pub(crate) const MAX_DEPTH: usize = 256;

/// A cursor over EDN text that reports errors with line and column.
pub(crate) struct Reader<'a> {
    text: &'a str,
    pos: usize,
    lines: &'a Lines,
}

impl<'a> Reader<'a> {
    /// A reader starting at byte `pos` of `text`.
    pub(crate) fn new(text: &'a str, pos: usize, lines: &'a Lines) -> Self {
        Reader { text, pos, lines }
    }

    /// The byte offset of the next character.
    pub(crate) fn offset(&self) -> usize {
        self.pos
    }

    /// Skips whitespace, commas, comments and `#_` discarded forms; `false` at the end.
    pub(crate) fn skip_space(&mut self) -> Result<bool, ParseError> {
        loop {
            let Some(c) = self.peek() else {
                return Ok(false);
            };
            if c.is_whitespace() || c == ',' {
                self.pos += c.len_utf8();
            } else if c == ';' {
                match self.text[self.pos..].find('\n') {
                    Some(n) => self.pos += n + 1,
                    None => self.pos = self.text.len(),
                }
            } else if self.text[self.pos..].starts_with("#_") {
                self.pos += 2;
                self.read(0)?;
            } else {
                return Ok(true);
            }
        }
    }

    /// Reads one form after optional space; `depth` is the current nesting.
    pub(crate) fn read(&mut self, depth: usize) -> Result<Value, ParseError> {
        if depth > MAX_DEPTH {
            return Err(self.error(ParseErrorKind::TooDeep { limit: MAX_DEPTH }));
        }
        if !self.skip_space()? {
            return Err(self.error(ParseErrorKind::UnexpectedEnd {
                expected: "a value",
            }));
        }
        let start = self.pos;
        let c = self.bump().ok_or_else(|| self.end("a value"))?;
        match c {
            '[' => Ok(Value::Vector(self.read_seq(']', depth)?)),
            '(' => Ok(Value::Vector(self.read_seq(')', depth)?)),
            '{' => self.read_map(depth),
            '"' => self.read_string().map(Value::Str),
            ':' => {
                let name = self.symbol_text();
                if name.is_empty() {
                    return Err(self.unexpected("a keyword name"));
                }
                Ok(Value::Keyword(name.to_owned()))
            }
            '#' => match self.peek() {
                Some('{') => {
                    self.pos += 1;
                    Ok(Value::Vector(self.read_seq('}', depth)?))
                }
                Some(c) if is_symbol_start(c) => {
                    // A tagged literal: the tag is dropped and the form kept.
                    self.symbol_text();
                    self.read(depth + 1)
                }
                _ => Err(self.unexpected("a tag, `{` or `_` after `#`")),
            },
            c if c.is_ascii_digit() => {
                self.pos = start;
                self.read_number()
            }
            '+' | '-' if self.peek().is_some_and(|d| d.is_ascii_digit()) => {
                self.pos = start;
                self.read_number()
            }
            c if is_symbol_start(c) => {
                self.pos = start;
                let name = self.symbol_text();
                Ok(match name {
                    "nil" => Value::Nil,
                    "true" => Value::Bool(true),
                    "false" => Value::Bool(false),
                    other => Value::Symbol(other.to_owned()),
                })
            }
            other => {
                self.pos = start;
                Err(self.error(ParseErrorKind::UnexpectedChar {
                    found: other,
                    expected: "a value",
                }))
            }
        }
    }

    /// An error at the current position.
    pub(crate) fn error(&self, kind: ParseErrorKind) -> ParseError {
        let (line, column) = self.lines.position(self.text, self.pos);
        ParseError { line, column, kind }
    }

    fn read_seq(&mut self, close: char, depth: usize) -> Result<Vec<Value>, ParseError> {
        let mut items = Vec::new();
        loop {
            if !self.skip_space()? {
                return Err(self.end(closing(close)));
            }
            if self.peek() == Some(close) {
                self.pos += 1;
                return Ok(items);
            }
            if matches!(self.peek(), Some(']' | ')' | '}')) {
                return Err(self.unexpected(closing(close)));
            }
            items.push(self.read(depth + 1)?);
        }
    }

    fn read_map(&mut self, depth: usize) -> Result<Value, ParseError> {
        let items = self.read_seq('}', depth)?;
        if items.len() % 2 == 1 {
            self.pos -= 1;
            return Err(self.error(ParseErrorKind::OddMap));
        }
        let mut entries = Vec::with_capacity(items.len() / 2);
        let mut items = items.into_iter();
        while let (Some(k), Some(v)) = (items.next(), items.next()) {
            entries.push((k, v));
        }
        Ok(Value::Map(entries))
    }

    fn read_string(&mut self) -> Result<String, ParseError> {
        let mut out = String::new();
        loop {
            let rest = &self.text[self.pos..];
            let Some(stop) = rest.find(['"', '\\']) else {
                self.pos = self.text.len();
                return Err(self.end("`\"` closing the string"));
            };
            out.push_str(&rest[..stop]);
            self.pos += stop;
            if self.bump() == Some('"') {
                return Ok(out);
            }
            // The backslash just consumed is one byte.
            let escape_at = self.pos - 1;
            let c = self
                .bump()
                .ok_or_else(|| self.end("an escaped character"))?;
            match c {
                '"' => out.push('"'),
                '\\' => out.push('\\'),
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                'b' => out.push('\u{8}'),
                'f' => out.push('\u{c}'),
                'u' => {
                    let hex = self.text.get(self.pos..self.pos + 4);
                    let decoded = hex
                        .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
                        .and_then(|h| u32::from_str_radix(h, 16).ok())
                        .and_then(char::from_u32);
                    match decoded {
                        Some(ch) => {
                            out.push(ch);
                            self.pos += 4;
                        }
                        None => {
                            self.pos = escape_at;
                            return Err(self.error(ParseErrorKind::BadEscape { found: 'u' }));
                        }
                    }
                }
                other => {
                    self.pos = escape_at;
                    return Err(self.error(ParseErrorKind::BadEscape { found: other }));
                }
            }
        }
    }

    fn read_number(&mut self) -> Result<Value, ParseError> {
        let start = self.pos;
        let text = self.symbol_text();
        let (digits, is_big) = match text.strip_suffix('N').or_else(|| text.strip_suffix('M')) {
            Some(d) => (d, true),
            None => (text, false),
        };
        if let Ok(i) = digits.parse::<i64>() {
            return Ok(Value::Int(i));
        }
        let looks_float = digits.contains(['.', 'e', 'E']) && !digits.contains(['x', 'X']);
        let float = digits.parse::<f64>().ok().filter(|f| f.is_finite());
        if let (true, false, Some(f)) = (looks_float, is_big && text.ends_with('N'), float) {
            return Ok(Value::Float(f));
        }
        self.pos = start;
        Err(self.error(ParseErrorKind::BadNumber {
            text: text.to_owned(),
        }))
    }

    /// Consumes and returns the longest run of symbol characters.
    fn symbol_text(&mut self) -> &'a str {
        let rest = &self.text[self.pos..];
        let len = rest
            .find(|c: char| !is_symbol_char(c))
            .unwrap_or(rest.len());
        self.pos += len;
        &rest[..len]
    }

    fn peek(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn end(&self, expected: &'static str) -> ParseError {
        self.error(ParseErrorKind::UnexpectedEnd { expected })
    }

    fn unexpected(&self, expected: &'static str) -> ParseError {
        match self.peek() {
            Some(found) => self.error(ParseErrorKind::UnexpectedChar { found, expected }),
            None => self.end(expected),
        }
    }
}

/// Line starts of a text, to turn byte offsets into 1-based lines and columns.
pub(crate) struct Lines {
    starts: Vec<usize>,
}

impl Lines {
    /// Indexes the line starts of `text`.
    pub(crate) fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Lines { starts }
    }

    /// The 1-based line and column (in characters) of byte `offset`.
    pub(crate) fn position(&self, text: &str, offset: usize) -> (usize, usize) {
        let line = self.starts.partition_point(|s| *s <= offset);
        let start = self.starts[line.saturating_sub(1)];
        let column = text
            .get(start..offset)
            .map_or(1, |prefix| prefix.chars().count() + 1);
        (line.max(1), column)
    }
}

fn closing(close: char) -> &'static str {
    match close {
        ']' => "`]`",
        ')' => "`)`",
        _ => "`}`",
    }
}

fn is_symbol_start(c: char) -> bool {
    c.is_alphabetic() || "*+!-_?<>=/.&%$'".contains(c)
}

fn is_symbol_char(c: char) -> bool {
    c.is_alphanumeric() || "*+!-_?<>=/.&%$':#".contains(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(input: &str, expected: &str) {
        let lines = Lines::new(input);
        let mut reader = Reader::new(input, 0, &lines);
        let got = match reader.read(0) {
            Ok(v) => v.to_string(),
            Err(e) => format!("error: {e}"),
        };
        assert_eq!(got, expected);
    }

    #[test]
    fn reads_jepsen_values() {
        check("nil", "nil");
        check(" ; comment\n -12", "-12");
        check("[1 4]", "[1 4]");
        check("(1, 2)", "[1 2]");
        check("#{:a}", "[:a]");
        check(
            r#"{:process 3, :type :ok, :value "x\ty"}"#,
            r#"{:process 3, :type :ok, :value "x\ty"}"#,
        );
        check("#jepsen.history.Op{:f :read}", "{:f :read}");
        check("#inst \"2020\"", "\"2020\"");
        check("[#_ 1 2]", "[2]");
        check("2.5", "2.5");
        check("12N", "12");
        check(":jepsen/foo", ":jepsen/foo");
        check("\"\\u00e9\"", "\"é\"");
    }

    #[test]
    fn errors_name_line_and_column() {
        check(
            "[1\n 2",
            "error: line 2, column 3: unexpected end of input, expected `]`",
        );
        check(
            "{:a}",
            "error: line 1, column 4: map literal with an odd number of forms",
        );
        check(
            "[1 }",
            "error: line 1, column 4: unexpected '}', expected `]`",
        );
        check(
            "99999999999999999999",
            "error: line 1, column 1: bad number \"99999999999999999999\"",
        );
        check("\"a\\q\"", "error: line 1, column 3: unknown escape \\q");
        check("\"é\\q\"", "error: line 1, column 3: unknown escape \\q");
        check(
            "@",
            "error: line 1, column 1: unexpected '@', expected a value",
        );
        check(
            &"[".repeat(300),
            "error: line 1, column 258: nested deeper than 256 levels",
        );
    }
}
