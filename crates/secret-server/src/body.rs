//! Request bodies: a JSON object read field by field, with errors that name the field and the
//! expected type but never repeat the value (it may be a secret).

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Map, Value};
use zeroize::Zeroizing;

use crate::error::ApiError;
use crate::timefmt::parse_duration;

/// A request body: a JSON object (an empty body is an empty object).
#[derive(Debug, Default)]
pub(crate) struct Body(Map<String, Value>);

impl Body {
    /// Parses a body; the error names the position, not the content.
    pub(crate) fn parse(bytes: &[u8]) -> Result<Body, ApiError> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Body::default());
        }
        match serde_json::from_slice::<Value>(bytes) {
            Ok(Value::Object(map)) => Ok(Body(map)),
            Ok(_) => Err(ApiError::bad(
                "failed to parse JSON input: not a JSON object",
            )),
            Err(e) => Err(ApiError::bad(format!(
                "failed to parse JSON input: invalid JSON at line {}, column {}",
                e.line(),
                e.column()
            ))),
        }
    }

    pub(crate) fn from_map(map: Map<String, Value>) -> Body {
        Body(map)
    }

    /// The field's raw value; `null` counts as absent.
    pub(crate) fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name).filter(|v| !v.is_null())
    }

    pub(crate) fn str(&self, name: &'static str) -> Result<Option<&str>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(type_error(name, "a string")),
        }
    }

    pub(crate) fn u64(&self, name: &'static str) -> Result<Option<u64>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Number(n)) => n
                .as_u64()
                .map(Some)
                .ok_or_else(|| type_error(name, "a non-negative integer")),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => s
                .parse()
                .map(Some)
                .map_err(|_| type_error(name, "a non-negative integer")),
            Some(_) => Err(type_error(name, "a non-negative integer")),
        }
    }

    pub(crate) fn bool(&self, name: &'static str) -> Result<Option<bool>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::String(s)) if s == "true" || s == "1" => Ok(Some(true)),
            Some(Value::String(s)) if s == "false" || s == "0" || s.is_empty() => Ok(Some(false)),
            Some(_) => Err(type_error(name, "a boolean")),
        }
    }

    pub(crate) fn duration(&self, name: &'static str) -> Result<Option<Duration>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(value) => parse_duration(value)
                .map(Some)
                .map_err(|_| type_error(name, "a duration such as 30s, 5m or 1h30m")),
        }
    }

    /// A list of strings, or one comma-separated string, as Vault takes policy lists.
    pub(crate) fn strings(&self, name: &'static str) -> Result<Vec<String>, ApiError> {
        match self.get(name) {
            None => Ok(Vec::new()),
            Some(Value::String(s)) => Ok(s
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| {
                    item.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| type_error(name, "a list of strings"))
                })
                .collect(),
            Some(_) => Err(type_error(name, "a list of strings")),
        }
    }

    pub(crate) fn u64_list(&self, name: &'static str) -> Result<Vec<u64>, ApiError> {
        let bad = || type_error(name, "a list of non-negative integers");
        match self.get(name) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| match item {
                    Value::Number(n) => n.as_u64().ok_or_else(bad),
                    Value::String(s) => s.trim().parse().map_err(|_| bad()),
                    _ => Err(bad()),
                })
                .collect(),
            Some(Value::String(s)) => s
                .split(',')
                .filter(|s| !s.trim().is_empty())
                .map(|s| s.trim().parse().map_err(|_| bad()))
                .collect(),
            Some(Value::Number(n)) => Ok(vec![n.as_u64().ok_or_else(bad)?]),
            Some(_) => Err(bad()),
        }
    }

    /// A standard-base64 field, decoded; empty counts as absent.
    pub(crate) fn base64(
        &self,
        name: &'static str,
    ) -> Result<Option<Zeroizing<Vec<u8>>>, ApiError> {
        match self.str(name)? {
            None | Some("") => Ok(None),
            Some(text) => BASE64
                .decode(text)
                .map(|bytes| Some(Zeroizing::new(bytes)))
                .map_err(|_| ApiError::bad(format!("{name} must be base64-encoded"))),
        }
    }
}

fn type_error(name: &str, expected: &str) -> ApiError {
    ApiError::bad(format!("{name} must be {expected}"))
}

/// Seconds as Go prints a `time.Duration`: `0s`, `45s`, `5m0s`, `1h30m0s`.
pub(crate) fn go_duration(secs: u64) -> String {
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    if h > 0 {
        format!("{h}h{m}m{s}s")
    } else if m > 0 {
        format!("{m}m{s}s")
    } else {
        format!("{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_errors_name_the_field_but_not_the_value() {
        let body = Body::parse(br#"{"ttl": "hunter2", "n": "hunter2", "p": "!!hunter2"}"#).unwrap();
        for error in [
            body.duration("ttl").unwrap_err(),
            body.u64("n").unwrap_err(),
            body.base64("p").unwrap_err(),
        ] {
            let ApiError::BadRequest(message) = error else {
                panic!("{error:?}")
            };
            assert!(!message.contains("hunter2"), "{message}");
        }
        let ApiError::BadRequest(message) = Body::parse(b"{\"a\": hunter2}").unwrap_err() else {
            panic!()
        };
        assert_eq!(
            message,
            "failed to parse JSON input: invalid JSON at line 1, column 7"
        );
        assert_eq!(go_duration(5400), "1h30m0s");
        assert_eq!(go_duration(0), "0s");
    }
}
