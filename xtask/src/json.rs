//! Just enough JSON to read `underhood sim list --json`, since xtask has no serde.
//! It parses the whole grammar strictly and keeps numbers as their source text.

use anyhow::{Result, bail};

/// A parsed JSON value.
#[derive(Debug, PartialEq)]
pub(crate) enum Value {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, as written.
    Number(String),
    /// A string, unescaped.
    String(String),
    /// An array.
    Array(Vec<Value>),
    /// An object, with its keys in source order.
    Object(Vec<(String, Value)>),
}

impl Value {
    /// The value of `key` if this is an object that has it.
    pub(crate) fn field(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(fields) => fields.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
}

/// Parses one JSON text, with nothing but whitespace after it.
pub(crate) fn parse(text: &str) -> Result<Value> {
    let mut parser = Parser {
        bytes: text.as_bytes(),
        idx: 0,
    };
    let value = parser.value(0)?;
    parser.skip_whitespace();
    if parser.idx != parser.bytes.len() {
        bail!("JSON: unexpected text at byte {}", parser.idx);
    }
    Ok(value)
}

/// The `name` of every object in a JSON array, such as the scenario list.
pub(crate) fn names(text: &str) -> Result<Vec<String>> {
    let Value::Array(items) = parse(text)? else {
        bail!("expected a JSON array");
    };
    items
        .iter()
        .map(|item| match item.field("name") {
            Some(Value::String(name)) => Ok(name.clone()),
            _ => bail!("expected every array element to have a string `name`"),
        })
        .collect()
}

/// Deeper nesting is surely a bug, and recursion must stay bounded.
const MAX_DEPTH: usize = 64;

struct Parser<'a> {
    bytes: &'a [u8],
    idx: usize,
}

impl Parser<'_> {
    fn value(&mut self, depth: usize) -> Result<Value> {
        if depth > MAX_DEPTH {
            bail!("JSON: nested deeper than {MAX_DEPTH}");
        }
        self.skip_whitespace();
        match self.peek() {
            Some(b'n') => self.literal("null", Value::Null),
            Some(b't') => self.literal("true", Value::Bool(true)),
            Some(b'f') => self.literal("false", Value::Bool(false)),
            Some(b'"') => self.string().map(Value::String),
            Some(b'[') => {
                self.idx += 1;
                let mut items = Vec::new();
                self.skip_whitespace();
                if self.eat(b']') {
                    return Ok(Value::Array(items));
                }
                loop {
                    items.push(self.value(depth + 1)?);
                    self.skip_whitespace();
                    if self.eat(b']') {
                        return Ok(Value::Array(items));
                    }
                    self.expect(b',')?;
                }
            }
            Some(b'{') => {
                self.idx += 1;
                let mut fields = Vec::new();
                self.skip_whitespace();
                if self.eat(b'}') {
                    return Ok(Value::Object(fields));
                }
                loop {
                    self.skip_whitespace();
                    let key = self.string()?;
                    self.expect(b':')?;
                    fields.push((key, self.value(depth + 1)?));
                    self.skip_whitespace();
                    if self.eat(b'}') {
                        return Ok(Value::Object(fields));
                    }
                    self.expect(b',')?;
                }
            }
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => bail!("JSON: expected a value at byte {}", self.idx),
        }
    }

    fn literal(&mut self, word: &str, value: Value) -> Result<Value> {
        if !self.bytes[self.idx..].starts_with(word.as_bytes()) {
            bail!("JSON: expected `{word}` at byte {}", self.idx);
        }
        self.idx += word.len();
        Ok(value)
    }

    fn number(&mut self) -> Result<Value> {
        let start = self.idx;
        self.eat(b'-');
        if !self.eat(b'0') && self.digits() == 0 {
            bail!("JSON: bad number at byte {start}");
        }
        if self.eat(b'.') && self.digits() == 0 {
            bail!("JSON: bad fraction at byte {start}");
        }
        if self.eat(b'e') || self.eat(b'E') {
            let _ = self.eat(b'+') || self.eat(b'-');
            if self.digits() == 0 {
                bail!("JSON: bad exponent at byte {start}");
            }
        }
        // The slice holds only ASCII digits and signs.
        let text = std::str::from_utf8(&self.bytes[start..self.idx])?;
        Ok(Value::Number(text.to_string()))
    }

    fn digits(&mut self) -> usize {
        let start = self.idx;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.idx += 1;
        }
        self.idx - start
    }

    fn string(&mut self) -> Result<String> {
        self.expect(b'"')?;
        let mut out = Vec::new();
        loop {
            let Some(byte) = self.next() else {
                bail!("JSON: unterminated string");
            };
            match byte {
                b'"' => break,
                b'\\' => {
                    let escaped = match self.next() {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => self.unicode_escape()?,
                        _ => bail!("JSON: bad escape at byte {}", self.idx),
                    };
                    let mut buffer = [0; 4];
                    out.extend_from_slice(escaped.encode_utf8(&mut buffer).as_bytes());
                }
                0..=0x1f => bail!("JSON: control character in string at byte {}", self.idx),
                _ => out.push(byte),
            }
        }
        Ok(String::from_utf8(out)?)
    }

    /// The character after `\u`, joining a surrogate pair.
    fn unicode_escape(&mut self) -> Result<char> {
        let high = self.hex4()?;
        let code = if (0xd800..0xdc00).contains(&high) {
            if !(self.eat(b'\\') && self.eat(b'u')) {
                bail!("JSON: lone surrogate at byte {}", self.idx);
            }
            let low = self.hex4()?;
            if !(0xdc00..0xe000).contains(&low) {
                bail!("JSON: bad low surrogate at byte {}", self.idx);
            }
            0x10000 + ((high - 0xd800) << 10) + (low - 0xdc00)
        } else {
            high
        };
        match char::from_u32(code) {
            Some(c) => Ok(c),
            None => bail!("JSON: bad \\u escape at byte {}", self.idx),
        }
    }

    fn hex4(&mut self) -> Result<u32> {
        let Some(hex) = self.bytes.get(self.idx..self.idx + 4) else {
            bail!("JSON: short \\u escape");
        };
        if !hex.iter().all(u8::is_ascii_hexdigit) {
            bail!("JSON: bad \\u escape at byte {}", self.idx);
        }
        self.idx += 4;
        // Four ASCII hex digits always parse.
        Ok(u32::from_str_radix(std::str::from_utf8(hex)?, 16)?)
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.idx += 1;
        }
    }

    fn expect(&mut self, byte: u8) -> Result<()> {
        self.skip_whitespace();
        if !self.eat(byte) {
            bail!("JSON: expected `{}` at byte {}", byte as char, self.idx);
        }
        Ok(())
    }

    /// Consumes `byte` if it comes next.
    fn eat(&mut self, byte: u8) -> bool {
        if self.peek() == Some(byte) {
            self.idx += 1;
            true
        } else {
            false
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.idx).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let byte = self.peek()?;
        self.idx += 1;
        Some(byte)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(text: &str, expected: Option<&[&str]>) {
        let expected = expected.map(|names| names.iter().map(|n| n.to_string()).collect());
        assert_eq!(names(text).ok(), expected);
    }

    #[test]
    fn scenario_names() {
        check("[]", Some(&[]));
        check(" [ ] \n", Some(&[]));
        check(
            r#"[{"name":"2pc-happy","description":"all vote \"commit\"","protocol":"2pc","variant":null},
               {"description":"x","name":"2pc-coordinator-crash","tags":[1,-2.5e3,true,{}]}]"#,
            Some(&["2pc-happy", "2pc-coordinator-crash"]),
        );
        check(
            r#"[{"name":"caf\u00e9 \ud83d\ude00 \n"}]"#,
            Some(&["caf\u{e9} \u{1f600} \n"]),
        );
        check(r#"[{"name":"ünï"}]"#, Some(&["ünï"]));

        check("", None);
        check("{}", None);
        check(r#"[{"name":1}]"#, None);
        check(r#"[{"nam":"x"}]"#, None);
        check(r#"[{"name":"x"}"#, None);
        check(r#"[{"name":"x"},]"#, None);
        check(r#"[{"name":"x"}] trailing"#, None);
        check(r#"[{"name":"\ud83d"}]"#, None);
        check(r#"[{"name":"\q"}]"#, None);
        check("[{\"name\":\"a\nb\"}]", None);
        check("[01]", None);
        check("[1.]", None);
        check(&"[".repeat(100), None);
    }

    #[test]
    fn values() {
        assert_eq!(
            parse(r#"{"a":[null,false,0,-1.5E+2],"b":"\/"}"#).ok(),
            Some(Value::Object(vec![
                (
                    "a".to_string(),
                    Value::Array(vec![
                        Value::Null,
                        Value::Bool(false),
                        Value::Number("0".to_string()),
                        Value::Number("-1.5E+2".to_string()),
                    ])
                ),
                ("b".to_string(), Value::String("/".to_string())),
            ]))
        );
    }
}
