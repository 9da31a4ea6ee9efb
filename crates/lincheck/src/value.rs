//! The values a Jepsen history carries: the subset of EDN that Jepsen writes, also reachable
//! from JSON.

use std::fmt;
use std::hash::{Hash, Hasher};

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

/// One EDN value: `nil`, a boolean, an integer, a float, a string, a keyword, a symbol, a vector
/// (lists and sets read as vectors) or a map.
///
/// It prints back as EDN (`Display`) and serializes to JSON as `null`, a boolean, a number, a
/// string (keywords keep their leading `:`), an array, or an object whose keys are strings or,
/// for other keys, their EDN text.
#[derive(Clone, Debug)]
pub enum Value {
    /// `nil`, or JSON `null`.
    Nil,
    /// `true` or `false`.
    Bool(bool),
    /// An integer that fits in 64 bits.
    Int(i64),
    /// A floating-point number; two floats are equal when their bits are.
    Float(f64),
    /// A string.
    Str(String),
    /// A keyword, without its leading `:` (`:ok` is `Keyword("ok")`).
    Keyword(String),
    /// A symbol other than `nil`, `true` and `false`.
    Symbol(String),
    /// A vector, list or set, in the order written.
    Vector(Vec<Value>),
    /// A map, in the order written.
    Map(Vec<(Value, Value)>),
}

impl Value {
    /// The value under keyword `key` if this is a map.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Map(entries) => entries
                .iter()
                .find(|(k, _)| matches!(k, Value::Keyword(name) if name == key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// What kind of value this is, for error messages: `nil`, `integer`, `string`, ….
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Nil => "nil",
            Value::Bool(_) => "boolean",
            Value::Int(_) => "integer",
            Value::Float(_) => "float",
            Value::Str(_) => "string",
            Value::Keyword(_) => "keyword",
            Value::Symbol(_) => "symbol",
            Value::Vector(_) => "vector",
            Value::Map(_) => "map",
        }
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Value::Nil, Value::Nil) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Float(a), Value::Float(b)) => a.to_bits() == b.to_bits(),
            (Value::Str(a), Value::Str(b)) => a == b,
            (Value::Keyword(a), Value::Keyword(b)) => a == b,
            (Value::Symbol(a), Value::Symbol(b)) => a == b,
            (Value::Vector(a), Value::Vector(b)) => a == b,
            (Value::Map(a), Value::Map(b)) => a == b,
            _ => false,
        }
    }
}

impl Eq for Value {}

impl Hash for Value {
    fn hash<H: Hasher>(&self, state: &mut H) {
        std::mem::discriminant(self).hash(state);
        match self {
            Value::Nil => {}
            Value::Bool(b) => b.hash(state),
            Value::Int(i) => i.hash(state),
            Value::Float(f) => f.to_bits().hash(state),
            Value::Str(s) | Value::Keyword(s) | Value::Symbol(s) => s.hash(state),
            Value::Vector(items) => items.hash(state),
            Value::Map(entries) => entries.hash(state),
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Nil => f.write_str("nil"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => write!(f, "{x:?}"),
            Value::Str(s) => {
                f.write_str("\"")?;
                for c in s.chars() {
                    match c {
                        '"' => f.write_str("\\\"")?,
                        '\\' => f.write_str("\\\\")?,
                        '\n' => f.write_str("\\n")?,
                        '\t' => f.write_str("\\t")?,
                        '\r' => f.write_str("\\r")?,
                        c if c.is_control() => write!(f, "\\u{:04x}", u32::from(c))?,
                        c => write!(f, "{c}")?,
                    }
                }
                f.write_str("\"")
            }
            Value::Keyword(k) => write!(f, ":{k}"),
            Value::Symbol(s) => f.write_str(s),
            Value::Vector(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
            Value::Map(entries) => {
                f.write_str("{")?;
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k} {v}")?;
                }
                f.write_str("}")
            }
        }
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Nil => serializer.serialize_unit(),
            Value::Bool(b) => serializer.serialize_bool(*b),
            Value::Int(i) => serializer.serialize_i64(*i),
            Value::Float(x) => serializer.serialize_f64(*x),
            Value::Str(s) | Value::Symbol(s) => serializer.serialize_str(s),
            Value::Keyword(k) => serializer.serialize_str(&format!(":{k}")),
            Value::Vector(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Value::Map(entries) => {
                let mut map = serializer.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    match k {
                        Value::Str(s) => map.serialize_entry(s, v)?,
                        other => map.serialize_entry(&other.to_string(), v)?,
                    }
                }
                map.end()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_as_edn_and_serializes_as_json() {
        let v = Value::Map(vec![
            (Value::Keyword("f".into()), Value::Keyword("cas".into())),
            (
                Value::Keyword("value".into()),
                Value::Vector(vec![Value::Int(1), Value::Nil, Value::Str("a\"b".into())]),
            ),
        ]);
        assert_eq!(v.to_string(), r#"{:f :cas, :value [1 nil "a\"b"]}"#);
        assert_eq!(
            serde_json::to_string(&v).unwrap(),
            r#"{":f":":cas",":value":[1,null,"a\"b"]}"#
        );
        assert_eq!(v.get("f"), Some(&Value::Keyword("cas".into())));
        assert_eq!(v.get("g"), None);
    }
}
