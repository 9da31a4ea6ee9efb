//! Vault's ACL policy language: `path "…" { capabilities = [...] }` rules, merged into an [`Acl`].
//!
//! A path ending in `*` matches every path with that prefix; a `+` segment matches any one
//! segment. When several rules match, the most specific wins (Vault's priority order, see
//! [`Pattern`]'s `Ord`); rules for the same path in different policies are merged, and `deny`
//! in a merged rule overrides every other capability. A path no rule matches is denied.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;

/// One capability a rule grants (or, for `deny`, takes away).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Capability {
    /// Refuses everything on the path, whatever other rules grant.
    Deny,
    /// Write to a path that does not exist yet.
    Create,
    /// Read.
    Read,
    /// Write to a path that exists.
    Update,
    /// Partial update.
    Patch,
    /// Delete.
    Delete,
    /// List the keys under a path.
    List,
    /// Root-protected endpoints.
    Sudo,
}

impl Capability {
    /// Every capability, in Vault's order.
    pub const ALL: [Capability; 8] = [
        Capability::Deny,
        Capability::Create,
        Capability::Read,
        Capability::Update,
        Capability::Patch,
        Capability::Delete,
        Capability::List,
        Capability::Sudo,
    ];

    /// Vault's name for it, such as `read`.
    pub fn name(self) -> &'static str {
        match self {
            Capability::Deny => "deny",
            Capability::Create => "create",
            Capability::Read => "read",
            Capability::Update => "update",
            Capability::Patch => "patch",
            Capability::Delete => "delete",
            Capability::List => "list",
            Capability::Sudo => "sudo",
        }
    }

    fn parse(name: &str) -> Option<Capability> {
        Capability::ALL.into_iter().find(|c| c.name() == name)
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// A set of capabilities.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Capabilities(u8);

impl Capabilities {
    /// No capability.
    pub const NONE: Capabilities = Capabilities(0);
    /// Every capability but `deny` (what the root policy grants everywhere).
    pub const ROOT: Capabilities = Capabilities(!1);

    /// Whether `capability` is in the set. A set holding `deny` holds nothing else.
    pub fn contains(self, capability: Capability) -> bool {
        self.0 & capability.bit() != 0
    }

    /// Whether the set allows `capability`: it holds it and no `deny`.
    pub fn allows(self, capability: Capability) -> bool {
        !self.contains(Capability::Deny) && self.contains(capability)
    }

    /// The union, where `deny` wins: a union holding `deny` is just `deny`.
    pub fn union(self, other: Capabilities) -> Capabilities {
        let all = Capabilities(self.0 | other.0);
        if all.contains(Capability::Deny) {
            Capabilities(Capability::Deny.bit())
        } else {
            all
        }
    }

    /// The capabilities in the set, in Vault's order.
    pub fn iter(self) -> impl Iterator<Item = Capability> {
        Capability::ALL
            .into_iter()
            .filter(move |c| self.contains(*c))
    }

    fn with(self, capability: Capability) -> Capabilities {
        self.union(Capabilities(capability.bit()))
    }
}

impl FromIterator<Capability> for Capabilities {
    fn from_iter<I: IntoIterator<Item = Capability>>(iter: I) -> Self {
        iter.into_iter()
            .fold(Capabilities::NONE, |set, c| set.with(c))
    }
}

/// A policy path: literal segments, `+` segments, and an optional trailing `*`.
///
/// Patterns order by Vault's priority, greatest first wins: a later first wildcard, then no
/// trailing `*`, then fewer `+` segments, then a longer pattern, then the lexicographically
/// greater one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Pattern {
    text: String,
}

impl Pattern {
    /// A pattern from a policy path (a leading `/` is dropped, as Vault does).
    pub fn new(text: &str) -> Pattern {
        Pattern {
            text: text.strip_prefix('/').unwrap_or(text).to_owned(),
        }
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    fn is_glob(&self) -> bool {
        self.text.ends_with('*')
    }

    /// Whether `path` (without `/v1/`) matches.
    pub fn matches(&self, path: &str) -> bool {
        let mut path_segments = path.split('/');
        match self.text.strip_suffix('*') {
            None => {
                let mut pattern_segments = self.text.split('/');
                loop {
                    match (pattern_segments.next(), path_segments.next()) {
                        (None, None) => return true,
                        (Some(p), Some(s)) if p == "+" || p == s => {}
                        _ => return false,
                    }
                }
            }
            Some(prefix) => {
                let pattern_segments: Vec<&str> = prefix.split('/').collect();
                let last = pattern_segments.len() - 1;
                for (idx, p) in pattern_segments.iter().enumerate() {
                    let Some(s) = path_segments.next() else {
                        return false;
                    };
                    let ok = if *p == "+" {
                        true
                    } else if idx == last {
                        s.starts_with(p)
                    } else {
                        *p == s
                    };
                    if !ok {
                        return false;
                    }
                }
                true
            }
        }
    }

    /// The byte position of the first `+` segment or the trailing `*` (the length if none).
    fn first_wildcard(&self) -> usize {
        let mut offset = 0;
        for segment in self.text.split('/') {
            if segment == "+" {
                return offset;
            }
            offset += segment.len() + 1;
        }
        if self.is_glob() {
            self.text.len() - 1
        } else {
            self.text.len()
        }
    }

    fn plus_segments(&self) -> usize {
        self.text.split('/').filter(|s| *s == "+").count()
    }
}

impl Ord for Pattern {
    fn cmp(&self, other: &Self) -> Ordering {
        self.first_wildcard()
            .cmp(&other.first_wildcard())
            .then_with(|| other.is_glob().cmp(&self.is_glob()))
            .then_with(|| other.plus_segments().cmp(&self.plus_segments()))
            .then_with(|| self.text.len().cmp(&other.text.len()))
            .then_with(|| self.text.cmp(&other.text))
    }
}

impl PartialOrd for Pattern {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// A parsed policy: its rules, each path once (repeated paths are merged).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    rules: BTreeMap<String, (Pattern, Capabilities)>,
}

/// Why a policy did not parse. Positions are 1-based lines and columns of the policy text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// A character or token the grammar does not allow here.
    #[error("line {line}, column {column}: expected {expected}")]
    Syntax {
        /// The line.
        line: usize,
        /// The column.
        column: usize,
        /// What the parser wanted.
        expected: &'static str,
    },
    /// A capability Vault does not know.
    #[error("line {line}: unknown capability {name:?}")]
    UnknownCapability {
        /// The line.
        line: usize,
        /// The name given.
        name: String,
    },
    /// A legacy `policy = "…"` value other than deny, read, write or sudo.
    #[error("line {line}: unknown policy value {name:?} (expected deny, read, write or sudo)")]
    UnknownPolicyValue {
        /// The line.
        line: usize,
        /// The value given.
        name: String,
    },
    /// A rule attribute this server does not implement (refused rather than ignored, since
    /// ignoring `allowed_parameters` and friends would grant more than the policy says).
    #[error("line {line}: {name:?} is not supported by this server")]
    Unsupported {
        /// The line.
        line: usize,
        /// The attribute.
        name: String,
    },
    /// A JSON policy that is not `{"path": {"…": {"capabilities": [...]}}}`.
    #[error("invalid JSON policy: {reason}")]
    Json {
        /// What is wrong.
        reason: &'static str,
    },
}

impl Policy {
    /// Parses a policy in HCL (`path "…" { capabilities = [...] }`, `#`, `//` and `/* */`
    /// comments, the legacy `policy = "read"`) or in Vault's JSON form.
    ///
    /// ```
    /// use underhood_secret_server::{Capability, Policy};
    ///
    /// let policy = Policy::parse(r#"path "secret/data/app/*" { capabilities = ["read"] }"#)?;
    /// let acl = underhood_secret_server::Acl::new([&policy]);
    /// assert!(acl.capabilities("secret/data/app/db").allows(Capability::Read));
    /// assert!(!acl.capabilities("secret/data/other").allows(Capability::Read));
    /// # Ok::<(), underhood_secret_server::PolicyError>(())
    /// ```
    pub fn parse(text: &str) -> Result<Policy, PolicyError> {
        if text.trim_start().starts_with('{') {
            return parse_json(text);
        }
        let mut parser = Parser::new(text);
        let mut policy = Policy {
            rules: BTreeMap::new(),
        };
        loop {
            parser.skip_space();
            if parser.at_end() {
                return Ok(policy);
            }
            let word = parser.identifier("`path`")?;
            if word != "path" {
                return Err(parser.error_at_word(word.len(), "`path`"));
            }
            let path = parser.string("a quoted path")?;
            parser.expect('{', "`{`")?;
            let mut capabilities = Capabilities::NONE;
            loop {
                parser.skip_space();
                if parser.eat('}') {
                    break;
                }
                let line = parser.line;
                let name = parser.identifier("an attribute or `}`")?;
                parser.expect('=', "`=`")?;
                match name.as_str() {
                    "capabilities" => {
                        for (line, cap) in parser.string_list()? {
                            let cap = Capability::parse(&cap)
                                .ok_or(PolicyError::UnknownCapability { line, name: cap })?;
                            capabilities = capabilities.with(cap);
                        }
                    }
                    "policy" => {
                        let value = parser.string("a quoted policy value")?;
                        capabilities = capabilities.union(legacy(&value, line)?);
                    }
                    _ => return Err(PolicyError::Unsupported { line, name }),
                }
                parser.skip_space();
                parser.eat(',');
            }
            policy.add(&path, capabilities);
        }
    }

    /// The rules: each path pattern with its capabilities, sorted by path.
    pub fn rules(&self) -> impl Iterator<Item = (&Pattern, Capabilities)> {
        self.rules.values().map(|(p, c)| (p, *c))
    }

    fn add(&mut self, path: &str, capabilities: Capabilities) {
        let pattern = Pattern::new(path);
        let entry = self
            .rules
            .entry(pattern.text.clone())
            .or_insert((pattern, Capabilities::NONE));
        entry.1 = entry.1.union(capabilities);
    }
}

/// The merged rules of a token's policies, most specific first.
#[derive(Debug, Clone, Default)]
pub struct Acl {
    rules: Vec<(Pattern, Capabilities)>,
}

impl Acl {
    /// Merges policies: rules for the same path are united (`deny` wins).
    pub fn new<'a>(policies: impl IntoIterator<Item = &'a Policy>) -> Acl {
        let mut merged: BTreeMap<&str, (Pattern, Capabilities)> = BTreeMap::new();
        for policy in policies {
            for (text, (pattern, caps)) in &policy.rules {
                let entry = merged
                    .entry(text)
                    .or_insert((pattern.clone(), Capabilities::NONE));
                entry.1 = entry.1.union(*caps);
            }
        }
        let mut rules: Vec<_> = merged.into_values().collect();
        rules.sort_by(|a, b| b.0.cmp(&a.0));
        Acl { rules }
    }

    /// What the most specific matching rule grants on `path`; nothing if none matches.
    pub fn capabilities(&self, path: &str) -> Capabilities {
        self.rules
            .iter()
            .find(|(pattern, _)| pattern.matches(path))
            .map_or(Capabilities::NONE, |(_, caps)| *caps)
    }
}

impl fmt::Display for Capabilities {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.iter().map(Capability::name).collect();
        write!(f, "[{}]", names.join(", "))
    }
}

fn legacy(value: &str, line: usize) -> Result<Capabilities, PolicyError> {
    use Capability::*;
    let caps: &[Capability] = match value {
        "deny" => &[Deny],
        "read" => &[Read, List],
        "write" => &[Create, Read, Update, Delete, List],
        "sudo" => &[Create, Read, Update, Delete, List, Sudo],
        _ => {
            return Err(PolicyError::UnknownPolicyValue {
                line,
                name: value.to_owned(),
            });
        }
    };
    Ok(caps.iter().copied().collect())
}

fn parse_json(text: &str) -> Result<Policy, PolicyError> {
    let bad = |reason| PolicyError::Json { reason };
    let value: serde_json::Value = serde_json::from_str(text).map_err(|_| bad("not valid JSON"))?;
    let mut policy = Policy {
        rules: BTreeMap::new(),
    };
    let Some(paths) = value.get("path") else {
        return Ok(policy);
    };
    let paths = paths
        .as_object()
        .ok_or(bad("`path` must be an object of paths"))?;
    for (path, rule) in paths {
        let rule = rule.as_object().ok_or(bad("each path must be an object"))?;
        let mut capabilities = Capabilities::NONE;
        for (name, value) in rule {
            match name.as_str() {
                "capabilities" => {
                    let list = value
                        .as_array()
                        .ok_or(bad("`capabilities` must be a list"))?;
                    for cap in list {
                        let name = cap.as_str().ok_or(bad("capabilities are strings"))?;
                        let cap =
                            Capability::parse(name).ok_or(PolicyError::UnknownCapability {
                                line: 1,
                                name: name.to_owned(),
                            })?;
                        capabilities = capabilities.with(cap);
                    }
                }
                "policy" => {
                    let name = value.as_str().ok_or(bad("`policy` must be a string"))?;
                    capabilities = capabilities.union(legacy(name, 1)?);
                }
                _ => {
                    return Err(PolicyError::Unsupported {
                        line: 1,
                        name: name.clone(),
                    });
                }
            }
        }
        policy.add(path, capabilities);
    }
    Ok(policy)
}

struct Parser<'a> {
    rest: &'a str,
    line: usize,
    column: usize,
}

impl<'a> Parser<'a> {
    fn new(text: &'a str) -> Self {
        Parser {
            rest: text,
            line: 1,
            column: 1,
        }
    }

    fn at_end(&self) -> bool {
        self.rest.is_empty()
    }

    fn bump(&mut self, n: usize) {
        for c in self.rest[..n].chars() {
            if c == '\n' {
                self.line += 1;
                self.column = 1;
            } else {
                self.column += 1;
            }
        }
        self.rest = &self.rest[n..];
    }

    fn error(&self, expected: &'static str) -> PolicyError {
        PolicyError::Syntax {
            line: self.line,
            column: self.column,
            expected,
        }
    }

    fn error_at_word(&self, len: usize, expected: &'static str) -> PolicyError {
        PolicyError::Syntax {
            line: self.line,
            column: self.column.saturating_sub(len),
            expected,
        }
    }

    /// Skips whitespace and comments; an unterminated `/*` is left for the next token to fail on.
    fn skip_space(&mut self) {
        loop {
            let trimmed = self.rest.trim_start();
            self.bump(self.rest.len() - trimmed.len());
            if self.rest.starts_with('#') || self.rest.starts_with("//") {
                let end = self.rest.find('\n').unwrap_or(self.rest.len());
                self.bump(end);
            } else if self.rest.starts_with("/*") {
                match self.rest[2..].find("*/") {
                    Some(end) => self.bump(end + 4),
                    None => return,
                }
            } else {
                return;
            }
        }
    }

    fn eat(&mut self, c: char) -> bool {
        if self.rest.starts_with(c) {
            self.bump(c.len_utf8());
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: char, expected: &'static str) -> Result<(), PolicyError> {
        self.skip_space();
        if self.eat(c) {
            Ok(())
        } else {
            Err(self.error(expected))
        }
    }

    fn identifier(&mut self, expected: &'static str) -> Result<String, PolicyError> {
        self.skip_space();
        let len = self
            .rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .unwrap_or(self.rest.len());
        if len == 0
            || !self
                .rest
                .starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        {
            return Err(self.error(expected));
        }
        let word = self.rest[..len].to_owned();
        self.bump(len);
        Ok(word)
    }

    fn string(&mut self, expected: &'static str) -> Result<String, PolicyError> {
        self.skip_space();
        if !self.eat('"') {
            return Err(self.error(expected));
        }
        let mut out = String::new();
        loop {
            let Some(c) = self.rest.chars().next() else {
                return Err(self.error("a closing `\"`"));
            };
            match c {
                '"' => {
                    self.bump(1);
                    return Ok(out);
                }
                '\n' => return Err(self.error("a closing `\"` before the end of the line")),
                '\\' => {
                    self.bump(1);
                    let escaped = match self.rest.chars().next() {
                        Some('"') => '"',
                        Some('\\') => '\\',
                        Some('n') => '\n',
                        Some('t') => '\t',
                        _ => return Err(self.error("an escape: \\\" \\\\ \\n or \\t")),
                    };
                    self.bump(1);
                    out.push(escaped);
                }
                c => {
                    self.bump(c.len_utf8());
                    out.push(c);
                }
            }
        }
    }

    fn string_list(&mut self) -> Result<Vec<(usize, String)>, PolicyError> {
        self.expect('[', "`[`")?;
        let mut items = Vec::new();
        loop {
            self.skip_space();
            if self.eat(']') {
                return Ok(items);
            }
            let line = self.line;
            items.push((line, self.string("a quoted capability or `]`")?));
            self.skip_space();
            if !self.eat(',') {
                self.skip_space();
                if self.eat(']') {
                    return Ok(items);
                }
                return Err(self.error("`,` or `]`"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(policy: &str, path: &str, expected: &[Capability]) {
        let policy = Policy::parse(policy).unwrap();
        let got: Vec<Capability> = Acl::new([&policy]).capabilities(path).iter().collect();
        assert_eq!(got, expected, "{path}");
    }

    const SAMPLE: &str = r#"
        # Vault's documentation example, priority section
        path "secret/*" { capabilities = ["create"] }
        path "secret/foo" { capabilities = ["read"] }   // exact beats glob
        path "secret/+/bar" { capabilities = ["update"] }
        path "secret/+/*" { capabilities = ["list"] }
        /* a block
           comment */
        path "secret/deny/*" { capabilities = ["deny", "read"] }
        path "sys/legacy" { policy = "write" }
    "#;

    #[test]
    fn the_most_specific_rule_wins_and_deny_overrides() {
        use Capability::*;
        check(SAMPLE, "secret/foo", &[Read]);
        check(SAMPLE, "secret/foobar", &[Create]);
        check(SAMPLE, "secret/x/bar", &[Update]);
        // Same first wildcard, both globs: fewer `+` segments wins.
        check(SAMPLE, "secret/x/baz", &[Create]);
        check(SAMPLE, "secretx/y", &[]);
        check(SAMPLE, "secret/deny/x", &[Deny]);
        check(SAMPLE, "other", &[]);
        check(SAMPLE, "sys/legacy", &[Create, Read, Update, Delete, List]);
        check(r#"path "a/+" { capabilities = ["read"] }"#, "a/b/c", &[]);
        check(r#"path "a/+" { capabilities = ["read"] }"#, "a/b", &[Read]);
        check(
            r#"path "/a/b*" { capabilities = ["read"] }"#,
            "a/bc/d",
            &[Read],
        );
        check(
            r#"path "a/+/c*" { capabilities = ["read"] }"#,
            "a/x/cd/e",
            &[Read],
        );
        check(r#"path "a/+/c*" { capabilities = ["read"] }"#, "a/x", &[]);
    }

    #[test]
    fn json_policies_parse_like_hcl() {
        let json = r#"{"path": {"secret/*": {"capabilities": ["read", "list"]}}}"#;
        check(json, "secret/a", &[Capability::Read, Capability::List]);
    }

    #[track_caller]
    fn refused(policy: &str, expected: &str) {
        let error = Policy::parse(policy).unwrap_err().to_string();
        assert_eq!(error, expected);
    }

    #[test]
    fn bad_policies_are_refused_with_a_position() {
        refused(
            r#"path "a" { capabilities = ["reed"] }"#,
            r#"line 1: unknown capability "reed""#,
        );
        refused(
            "path \"a\" {\n capabilities = [\"read\" \"list\"] }",
            "line 2, column 25: expected `,` or `]`",
        );
        refused(r#"path a { }"#, "line 1, column 6: expected a quoted path");
        refused(r#"paths "a" { }"#, "line 1, column 1: expected `path`");
        refused(
            r#"path "a" { allowed_parameters = [] }"#,
            r#"line 1: "allowed_parameters" is not supported by this server"#,
        );
        refused(
            r#"path "a" { capabilities = ["read"]"#,
            "line 1, column 35: expected an attribute or `}`",
        );
        refused("path \"a", "line 1, column 8: expected a closing `\"`");
        refused(
            r#"{"path": []}"#,
            "invalid JSON policy: `path` must be an object of paths",
        );
    }
}
