//! Reading JSON that may hold secrets: an error says where and what kind of problem, never the
//! text found there (serde's own messages quote values: `invalid type: string "…"`).

use serde::de::DeserializeOwned;
use serde_json::error::Category;
use serde_path_to_error::Segment;

/// Why a JSON document (a key file, a keyring, a seal configuration) did not deserialize.
///
/// It names the field and the position, never the value found there.
///
/// ```
/// use underhood_secret_crypto::transit::TransitKey;
/// let err = TransitKey::from_json(r#"{"name":"k","keys":"c2VjcmV0LWtleS1tYXRlcmlhbA=="}"#)
///     .err()
///     .unwrap();
/// assert!(!err.to_string().contains("c2VjcmV0"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{kind} at {path} (line {line}, column {column})")]
pub struct JsonProblem {
    /// The field, as a path from the document's root (`keys.2`; `.` is the root). Map keys that
    /// do not look like field names or numbers print as `<key>`.
    pub path: String,
    /// What is wrong there.
    pub kind: JsonProblemKind,
    /// The line of the problem, from 1.
    pub line: usize,
    /// The column of the problem, from 1.
    pub column: usize,
}

/// What kind of problem a [`JsonProblem`] is.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JsonProblemKind {
    /// Not JSON: a syntax error, or text after the document.
    #[error("not JSON")]
    Syntax,
    /// The text ends inside the document.
    #[error("truncated JSON")]
    Truncated,
    /// A required field is absent.
    #[error("missing field `{field}`")]
    MissingField {
        /// The field's name, as this crate's types spell it.
        field: String,
    },
    /// A value of the wrong type, or out of range (not quoted).
    #[error("wrong type or value")]
    WrongValue,
}

/// Deserializes `bytes`, turning any error into a [`JsonProblem`].
pub(crate) fn from_slice<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, JsonProblem> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
        let path = render(err.path());
        problem(path, err.inner())
    })?;
    deserializer
        .end()
        .map_err(|err| problem(".".to_owned(), &err))?;
    Ok(value)
}

fn problem(path: String, err: &serde_json::Error) -> JsonProblem {
    let kind = match err.classify() {
        Category::Syntax | Category::Io => JsonProblemKind::Syntax,
        Category::Eof => JsonProblemKind::Truncated,
        Category::Data => missing_field(&err.to_string())
            .map_or(JsonProblemKind::WrongValue, |field| {
                JsonProblemKind::MissingField { field }
            }),
    };
    JsonProblem {
        path,
        kind,
        line: err.line(),
        column: err.column(),
    }
}

/// The field of serde's "missing field `name`", which comes from our types, not the input.
fn missing_field(message: &str) -> Option<String> {
    let rest = message.strip_prefix("missing field `")?;
    let field = &rest[..rest.find('`')?];
    field_like(field).then(|| field.to_owned())
}

/// A path such as `keys.2`, with map keys that could be data shown as `<key>`.
fn render(path: &serde_path_to_error::Path) -> String {
    let parts: Vec<String> = path
        .iter()
        .map(|segment| match segment {
            Segment::Seq { index } => index.to_string(),
            Segment::Map { key } if field_like(key) => key.clone(),
            Segment::Enum { variant } if field_like(variant) => variant.clone(),
            Segment::Unknown => "?".to_owned(),
            _ => "<key>".to_owned(),
        })
        .collect();
    if parts.is_empty() {
        ".".to_owned()
    } else {
        parts.join(".")
    }
}

/// Short lower-case words with `_` (field names) or decimal numbers (versions, terms).
fn field_like(text: &str) -> bool {
    let word = text.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
    let number = text.bytes().all(|b| b.is_ascii_digit());
    !text.is_empty() && text.len() <= 32 && (word || number)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)] // Only deserialized.
    struct Doc {
        name: String,
        keys: BTreeMap<String, Vec<u8>>,
    }

    #[track_caller]
    fn check(json: &str, expected: &str) {
        let err = from_slice::<Doc>(json.as_bytes()).unwrap_err();
        assert_eq!(err.to_string(), expected);
    }

    #[test]
    fn problems_name_the_field_and_never_the_value() {
        check(
            r#"{"name":"k","keys":"SECRETVALUE"}"#,
            "wrong type or value at keys (line 1, column 32)",
        );
        check(
            r#"{"name":"k","keys":{"1":"SECRETVALUE"}}"#,
            "wrong type or value at keys.1 (line 1, column 37)",
        );
        check(
            r#"{"name":"k","keys":{"SecretKey9":7}}"#,
            "wrong type or value at keys.<key> (line 1, column 34)",
        );
        check(
            r#"{"name":"k"}"#,
            "missing field `keys` at . (line 1, column 12)",
        );
        check(r#"{"name":"k","#, "truncated JSON at ? (line 1, column 12)");
        check(r#"SECRET"#, "not JSON at . (line 1, column 1)");
        check(
            r#"{"name":"k","keys":{}} SECRET"#,
            "not JSON at . (line 1, column 24)",
        );
    }
}
